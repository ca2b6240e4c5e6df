"""Trees as graphs: one node per constituent, edges ``child -> parent`` with children in order.

Nodes are numbered in pre-order (the root is node 0). Run leaves first, the level schedule of this
graph visits nodes by height, which is what a recursive network or Tree-LSTM needs.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch_geometric.data import Data

try:  # nltk is a declared dependency; the import is guarded only to give a clear message.
    from nltk import Tree
except ImportError:  # pragma: no cover
    Tree = None


def _label(node) -> str:
    return node.label() if hasattr(node, "label") else str(node)


def tree_graph(tree, vocab: Mapping[str, int] | Callable[[str], int] | None = None,
               label_fn: Callable[[str], int] | None = None, words_as_nodes: bool = False) -> Data:
    """An ``nltk.Tree`` as a PyG ``Data`` with edges ``child -> parent``.

    Args:
        tree: an ``nltk.Tree``.
        vocab: maps a word to an index (a dict, or a callable); unknown words raise ``KeyError``
            with a dict, so pass a ``defaultdict`` or a callable to map them. Default: no indices.
        label_fn: maps a node label to an int stored in ``y`` (e.g. ``int`` for SST's 0-4); labels
            it cannot map raise ``ValueError`` naming the label. Default: no ``y``.
        words_as_nodes: make every word a leaf node of its own. By default a preterminal (a node
            whose only child is a word, like SST's ``(3 good)``) is one leaf node holding its word.

    Returns:
        ``Data`` with ``edge_index`` (2, E) child -> parent, children of a node in order,
        ``num_nodes``, ``words`` (list, ``None`` for nodes without a word), ``labels`` (list of
        node labels), ``is_leaf`` (N,) bool, and ``token`` (N,) long (-1 without a word) when
        ``vocab`` is given, ``y`` (N,) long when ``label_fn`` is given.
    """
    if Tree is not None and not isinstance(tree, Tree):
        raise TypeError(f"tree must be an nltk.Tree, got {type(tree).__name__}")
    words: list[str | None] = []
    labels: list[str] = []
    src: list[int] = []
    dst: list[int] = []
    stack = [(tree, -1)]
    while stack:  # pre-order walk; children pushed in reverse so they pop in order
        node, parent = stack.pop()
        index = len(words)
        if parent >= 0:
            src.append(index)
            dst.append(parent)
        if isinstance(node, str):
            words.append(node)
            labels.append(node)
            continue
        children = list(node)
        if not words_as_nodes and len(children) == 1 and isinstance(children[0], str):
            words.append(children[0])
            labels.append(_label(node))
            continue
        words.append(None)
        labels.append(_label(node))
        stack.extend((child, index) for child in reversed(children))
    # Pre-order with a stack gives parents before children but siblings' edges interleaved with
    # their subtrees; sort edges by (parent, child) so each node's children appear in order.
    edge_index = torch.tensor([src, dst], dtype=torch.long).view(2, -1)
    if edge_index.numel():
        key = edge_index[1] * len(words) + edge_index[0]
        edge_index = edge_index[:, torch.argsort(key)]
    is_leaf = torch.ones(len(words), dtype=torch.bool)
    is_leaf[edge_index[1]] = False
    data = Data(edge_index=edge_index, num_nodes=len(words), is_leaf=is_leaf)
    data.words, data.labels = words, labels
    if vocab is not None:
        lookup = vocab if callable(vocab) else vocab.__getitem__
        data.token = torch.tensor([lookup(w) if w is not None else -1 for w in words],
                                  dtype=torch.long)
    if label_fn is not None:
        ys = []
        for lab in labels:
            try:
                ys.append(label_fn(lab))
            except (ValueError, TypeError, KeyError) as err:
                raise ValueError(f"label_fn could not map node label {lab!r}: {err}") from err
        data.y = torch.tensor(ys, dtype=torch.long)
    return data


def graph_to_tree(data: Data, node: int = 0):
    """The ``nltk.Tree`` of the subtree rooted at ``node`` of a graph made by :func:`tree_graph`."""
    children: dict[int, list[int]] = {}
    for c, p in data.edge_index.t().tolist():
        children.setdefault(p, []).append(c)

    def build(v: int):
        kids = children.get(v, [])
        if not kids:
            word = data.words[v]
            return word if data.labels[v] == word else Tree(data.labels[v], [word])
        return Tree(data.labels[v], [build(c) for c in kids])

    return build(node)
