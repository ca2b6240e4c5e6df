"""Draw a parse tree with a class (e.g. predicted sentiment) on every node, to PNG.

Uses matplotlib's Agg canvas directly (no ``pyplot``, no global backend change), so it works on
machines without a display and inside other programs' figures alike::

    fig = plot_tree(data, pred, gold=data.y, path="tree.png", title="dev sentence 0")

Layout: leaves left to right in sentence order, one unit apart; an internal node centred over its
children; depth downwards. Nodes are coloured by class on a red (negative) to green (positive)
scale; a node whose gold label differs from the prediction gets a thick black ring, and nodes
without a gold label (y = -1) are drawn as usual.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from torch import Tensor

SST_CLASSES = ("--", "-", "0", "+", "++")
BINARY_CLASSES = ("-", "+")


def _structure(data) -> tuple[list[int], list[list[int]]]:
    """Parent and children lists of a ``tree_graph`` Data (edges child -> parent)."""
    n = int(data.num_nodes)
    parent = [-1] * n
    children: list[list[int]] = [[] for _ in range(n)]
    for c, p in data.edge_index.t().tolist():
        if parent[c] != -1:
            raise ValueError(f"plot_tree: node {c} has two parents; expected a tree (edges "
                             f"child -> parent)")
        parent[c] = p
        children[p].append(c)
    return parent, children


def tree_layout(data) -> tuple[Tensor, Tensor]:
    """``(x, depth)`` of every node of a tree graph: leaves at 0, 1, 2, ... left to right,
    internal nodes at the mean of their children, depth 0 at the root."""
    parent, children = _structure(data)
    n = len(parent)
    roots = [v for v in range(n) if parent[v] == -1]
    x = [0.0] * n
    depth = [0] * n
    order: list[int] = []                     # pre-order, children left to right
    stack = list(reversed(roots))
    while stack:
        v = stack.pop()
        order.append(v)
        for c in reversed(children[v]):
            depth[c] = depth[v] + 1
            stack.append(c)
    next_leaf = 0
    for v in order:
        if not children[v]:
            x[v] = float(next_leaf)
            next_leaf += 1
    for v in reversed(order):                 # children before parents
        if children[v]:
            x[v] = sum(x[c] for c in children[v]) / len(children[v])
    return torch.tensor(x), torch.tensor(depth)


def plot_tree(data, predictions: Tensor | Sequence[int], gold: Tensor | Sequence[int] | None = None,
              path: str | os.PathLike | None = None, class_names: Sequence[str] | None = None,
              title: str | None = None, dpi: int = 120):
    """Render ``data`` (a tree from :func:`graphrnn.structures.tree_graph`, or an ``nltk.Tree``)
    with ``predictions[v]`` on node v.

    Args:
        data: the tree; ``data.words`` gives the words under the leaves.
        predictions: (N,) class per node, in node order.
        gold: optional (N,) true class per node (-1: none); mismatches get a black ring.
        path: where to write the PNG (folders are created). Default: not written.
        class_names: shown in the legend; default: SST's 5 classes, or 2 when
            ``max(predictions) <= 1`` and no gold label exceeds 1.
        title: optional figure title.
        dpi: resolution of the PNG. Default: 120.

    Returns:
        the ``matplotlib.figure.Figure``.
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not hasattr(data, "edge_index"):
        from ..structures.tree import tree_graph
        data = tree_graph(data)
    n = int(data.num_nodes)
    pred = torch.as_tensor(predictions).flatten().tolist()
    if len(pred) != n:
        raise ValueError(f"plot_tree: predictions has {len(pred)} entries, expected one per node "
                         f"({n})")
    gold_list = None if gold is None else torch.as_tensor(gold).flatten().tolist()
    if gold_list is not None and len(gold_list) != n:
        raise ValueError(f"plot_tree: gold has {len(gold_list)} entries, expected one per node "
                         f"({n})")
    if class_names is None:
        most = max(pred + ([g for g in gold_list if g >= 0] if gold_list else []))
        class_names = BINARY_CLASSES if most <= 1 else SST_CLASSES
    k = len(class_names)
    if min(pred) < 0 or max(pred) >= k:
        raise ValueError(f"plot_tree: predictions must be classes in [0, {k}), got values from "
                         f"{min(pred)} to {max(pred)}")
    x, depth = tree_layout(data)
    parent, _ = _structure(data)
    words = getattr(data, "words", None) or [None] * n
    leaves = int(sum(1 for v in range(n) if v not in set(parent)))
    height = int(depth.max()) + 1 if n else 1

    fig = Figure(figsize=(max(4.0, 0.55 * leaves + 1.5), max(3.0, 0.45 * height + 1.8)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cmap = colormaps["RdYlGn"]
    colour = [cmap(c / (k - 1) if k > 1 else 0.5) for c in range(k)]
    for v in range(n):
        if parent[v] >= 0:
            p = parent[v]
            ax.plot([x[v], x[p]], [-depth[v], -depth[p]], color="0.6", lw=0.8, zorder=1)
    for v in range(n):
        wrong = gold_list is not None and gold_list[v] >= 0 and gold_list[v] != pred[v]
        ax.scatter([x[v]], [-depth[v]], s=190, color=colour[pred[v]], zorder=2,
                   edgecolors="black" if wrong else "0.3", linewidths=2.2 if wrong else 0.6)
        dark = k > 2 and pred[v] in (0, k - 1)          # the saturated ends of the scale
        ax.text(x[v], -depth[v], class_names[pred[v]], ha="center", va="center", fontsize=7,
                color="white" if dark else "black", zorder=3)
        if words[v] is not None:
            ax.text(x[v], -depth[v] - 0.45, words[v], ha="center", va="top", fontsize=8,
                    rotation=45 if len(words[v]) > 4 else 0, rotation_mode="anchor")
    for c in range(k):
        ax.scatter([], [], s=60, color=colour[c], edgecolors="0.3", label=class_names[c])
    if gold_list is not None:
        ax.scatter([], [], s=60, color="white", edgecolors="black", linewidths=2.2,
                   label="differs from gold")
    ax.legend(loc="upper right", fontsize=7, frameon=False, ncol=1)
    ax.set_axis_off()
    ax.set_ylim(-height - 0.8, 0.6)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, dpi=dpi)
    return fig


__all__ = ["plot_tree", "tree_layout", "SST_CLASSES", "BINARY_CLASSES"]
