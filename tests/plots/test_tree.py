"""Smoke test of the parse-tree renderer, and its layout."""
import pytest
import torch
from nltk import Tree

from graphrnn.plots.tree import plot_tree, tree_layout
from graphrnn.structures import tree_graph

TEXT = "(3 (2 It) (4 (2 is) (4 (3 very) (4 good))))"


def test_layout_puts_leaves_in_order_and_parents_over_children():
    data = tree_graph(Tree.fromstring(TEXT))          # pre-order: 3, It, 4, is, 4, very, good
    x, depth = tree_layout(data)
    assert depth.tolist() == [0, 1, 1, 2, 2, 3, 3]
    assert [x[v].item() for v in (1, 3, 5, 6)] == [0.0, 1.0, 2.0, 3.0]
    assert x[4].item() == 2.5 and x[2].item() == 1.75 and x[0].item() == 0.875


def test_plot_tree_writes_a_png(tmp_path):
    data = tree_graph(Tree.fromstring(TEXT), label_fn=int)
    pred = torch.tensor([3, 2, 4, 2, 3, 3, 4])
    path = tmp_path / "plots" / "tree.png"
    fig = plot_tree(data, pred, gold=data.y, path=path, title="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"It", "is", "very", "good", "++", "+", "0"} <= texts
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["--", "-", "0", "+", "++", "differs from gold"]


def test_plot_tree_checks_predictions():
    data = tree_graph(Tree.fromstring(TEXT))
    with pytest.raises(ValueError, match="predictions has 3 entries, expected one per node"):
        plot_tree(data, [0, 1, 2])
    with pytest.raises(ValueError, match=r"classes in \[0, 5\)"):
        plot_tree(data, [0, 1, 2, 3, 4, 5, 1])
    fig = plot_tree(Tree.fromstring("(1 (0 bad) (1 (1 plot)))"), [0, 0, 1, 1])  # binary
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["-", "+"]
