"""Generated arithmetic expression trees: a tree task that needs the structure to be read.

Each tree is a random binary expression over the digits 0-9 with ``+``, ``-`` and ``*`` taken
modulo 10, e.g. ``(3 + (4 * 7))``; every node is labelled with the value of its subtree mod 10,
so a model must combine its children in the right order (``-`` is not symmetric) to be right at
the root. Deterministic from a seed; nothing to download.
"""
from __future__ import annotations

import random

import torch
from nltk import Tree
from torch_geometric.data import Data

from ..schedule import AddLevels
from ..structures.tree import tree_graph

DIGITS = [str(d) for d in range(10)]
OPERATORS = ["+", "-", "*"]
TOKENS = DIGITS + OPERATORS
_APPLY = {"+": lambda a, b: (a + b) % 10, "-": lambda a, b: (a - b) % 10,
          "*": lambda a, b: (a * b) % 10}


__all__ = ["TOKENS", "random_expression", "expression_graph", "ExpressionTrees"]


def random_expression(rng: random.Random, num_leaves: int) -> Tree:
    """A random binary expression with ``num_leaves`` digits; labels are subtree values mod 10."""
    if num_leaves == 1:
        d = rng.randrange(10)
        return Tree(str(d), [str(d)])
    left = rng.randint(1, num_leaves - 1)
    a, b = random_expression(rng, left), random_expression(rng, num_leaves - left)
    return _node(rng.choice(OPERATORS), a, b)


def _node(op: str, a: Tree, b: Tree) -> Tree:
    value = _APPLY[op](int(a.label()), int(b.label()))
    tree = Tree(str(value), [a, b])
    tree.operator = op  # kept on the node; the graph stores it as the node's token
    return tree


def expression_graph(tree: Tree) -> Data:
    """The tree as ``Data``: ``x`` one-hot over :data:`TOKENS` (a digit at a leaf, the operator
    at an internal node), ``y`` the value of every node mod 10, edges child -> parent."""
    data = tree_graph(tree, label_fn=int)
    tokens = []
    for node in tree.subtrees():  # pre-order, the same numbering as tree_graph
        tokens.append(TOKENS.index(node.operator) if hasattr(node, "operator")
                      else TOKENS.index(node[0]))
    data.x = torch.nn.functional.one_hot(torch.tensor(tokens), len(TOKENS)).float()
    del data.words, data.labels
    return data


class ExpressionTrees(torch.utils.data.Dataset):
    """``num_trees`` random expressions with ``min_leaves`` to ``max_leaves`` digits.

    Items are PyG ``Data`` with ``x`` (N, 13), ``y`` (N,), ``edge_index`` child -> parent and
    ``level`` (topological levels, so batches are scheduled without a level loop).
    """

    def __init__(self, num_trees: int = 1000, min_leaves: int = 2, max_leaves: int = 8,
                 seed: int = 0):
        if not 1 <= min_leaves <= max_leaves:
            raise ValueError(f"need 1 <= min_leaves <= max_leaves, got {min_leaves}, {max_leaves}")
        rng = random.Random(seed)
        add_levels = AddLevels()
        self.trees = [random_expression(rng, rng.randint(min_leaves, max_leaves))
                      for _ in range(num_trees)]
        self.graphs = [add_levels(expression_graph(t)) for t in self.trees]

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, index: int) -> Data:
        return self.graphs[index]
