import random

import pytest
import torch

from graphrnn.datasets.expressions import (
    TOKENS,
    ExpressionTrees,
    expression_graph,
    random_expression,
)


def evaluate_tree(tree):
    if len(tree) == 1 and isinstance(tree[0], str):
        return int(tree[0])
    a, b = (evaluate_tree(child) for child in tree)
    return {"+": a + b, "-": a - b, "*": a * b}[tree.operator] % 10


def test_labels_are_the_values_of_the_subtrees():
    rng = random.Random(0)
    for _ in range(50):
        tree = random_expression(rng, rng.randint(1, 7))
        assert int(tree.label()) == evaluate_tree(tree)
        for sub in tree.subtrees():
            assert int(sub.label()) == evaluate_tree(sub)


def test_graph_features_and_determinism():
    a, b = ExpressionTrees(20, seed=3), ExpressionTrees(20, seed=3)
    assert all(torch.equal(x.y, y.y) and torch.equal(x.edge_index, y.edge_index)
               for x, y in zip(a, b))
    data = expression_graph(random_expression(random.Random(1), 3))
    assert data.x.shape == (5, len(TOKENS)) and data.x.sum(1).eq(1).all()
    leaves = data.is_leaf
    assert (data.x[leaves].argmax(1) < 10).all() and (data.x[~leaves].argmax(1) >= 10).all()
    assert a[0].level.max() >= 1 and a[0].level[0] == a[0].level.max()  # root last
    with pytest.raises(ValueError, match="min_leaves"):
        ExpressionTrees(1, min_leaves=3, max_leaves=2)
