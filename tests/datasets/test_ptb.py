"""PTB bracketed trees: parsing, round trips, normalisation, vocabularies and errors."""
import pytest
import torch
from nltk import Tree

from graphrnn.datasets.ptb import (
    TreeFormatError,
    add_levels,
    iter_tree_strings,
    normalize_tree,
    parse_tree,
    read_trees,
    tree_vocab,
    trees_to_graphs,
)
from graphrnn.schedule import topological_levels
from graphrnn.structures import graph_to_tree, tree_graph

SST_LINES = """(3 (2 It) (4 (4 (2 's) (4 (3 (2 a) (4 (3 lovely) (2 film))))) (2 .)))
(1 (2 The) (1 (1 plot) (2 (2 is) (1 thin))))

(2 (2 8 1\\/2) (2 Fellini))
"""

WSJ = """( (S
    (NP-SBJ (NNP Pierre) (NNP Vinken) )
    (VP (MD will)
      (VP (VB join) (NP (DT the) (NN board) )))
    (. .) ))
( (S (NP (PRP It)) (VP (VBZ works)) (. .)) )
"""


def test_a_tree_round_trips_through_nltk():
    text = "(3 (2 It) (4 (4 (2 's) (4 (3 (2 a) (4 (3 lovely) (2 film))))) (2 .)))"
    tree = parse_tree(text)
    assert tree == Tree.fromstring(text)
    data = tree_graph(tree)
    assert graph_to_tree(data) == tree
    assert str(graph_to_tree(data)).replace("\n", " ") == " ".join(text.split())
    assert data.labels[0] == "3" and data.words[1] == "It"     # every node keeps its label


def test_read_trees_one_a_line_keeps_labels_and_lines(tmp_path):
    f = tmp_path / "train.txt"
    f.write_text(SST_LINES, encoding="utf-8")
    trees, lines = read_trees(f, return_lines=True)
    assert lines == [1, 2, 4]
    assert [t.label() for t in trees] == ["3", "1", "2"]
    assert trees[1].leaves() == ["The", "plot", "is", "thin"]
    assert trees[2].leaves() == ["8 1\\/2", "Fellini"]          # a multi-word preterminal
    assert [str(t) for t in trees[:2]] == [str(Tree.fromstring(s))
                                           for s in SST_LINES.split("\n")[:2]]


def test_read_multiline_wsj_trees(tmp_path):
    f = tmp_path / "wsj_0001.mrg"
    f.write_text(WSJ)
    trees, lines = read_trees(f, multiline=True, return_lines=True)
    assert lines == [1, 6]
    assert trees[0].label() == "S"                               # the unlabelled wrapper is gone
    assert trees[0].leaves() == ["Pierre", "Vinken", "will", "join", "the", "board", "."]
    assert trees[1] == Tree.fromstring("(S (NP (PRP It)) (VP (VBZ works)) (. .))")
    with pytest.raises(TreeFormatError, match=r"wsj_0001.mrg:1: 2 unclosed '\('"):
        read_trees(f)                                            # one a line expected by default


@pytest.mark.parametrize("text, line, message", [
    ("(2 (2 a) (2 b))\n(3 (2 c) (2 d)))\n(2 e)\n", 2, r"unbalanced '\)'"),
    ("(2 (2 a) (2 b))\n(2 x)\n(3 (2 c) (2 d)\n(2 e)\n", 3,
     r"1 unclosed '\(' at the end of the line"),
    ("(2 (2 a) (2 b))\n\nhello (2 a)\n", 3, "expected a tree starting with '\\('"),
    ("(2 (2 a) (2 b))\n(2 (2 a) ())\n", 2, "has no children"),
])
def test_malformed_input_names_file_and_line(tmp_path, text, line, message):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(TreeFormatError, match=message) as err:
        read_trees(f)
    assert err.value.line == line and err.value.path == str(f)
    assert str(err.value).startswith(f"{f}:{line}: ")


def test_multiline_error_at_end_of_file_names_the_start_line(tmp_path):
    f = tmp_path / "cut.mrg"
    f.write_text("( (S (NP a)))\n\n( (S\n (NP b)\n")
    with pytest.raises(TreeFormatError, match=r"cut.mrg:3: the tree starting here has 2 unclosed"):
        read_trees(f, multiline=True)


def test_reading_never_stops_silently():
    """A corpus with a bad tree in the middle raises; the good trees before it are not returned
    as if the file had ended."""
    lines = ["(2 a)", "(2 b)", "(2 (2 c)", "(2 d)"]
    got = []
    with pytest.raises(TreeFormatError):
        for _, text in iter_tree_strings(lines, "mem"):
            got.append(text)
    assert got == ["(2 a)", "(2 b)"]


def test_normalize_binarize_collapse_lowercase():
    tree = Tree.fromstring("(S (NP (NNP John)) "
                           "(VP (V Saw) (NP (D the) (N Dog)) (PP (P in) (NP (N Rome)))))")
    out = normalize_tree(tree, binarize=True, collapse_unary=True, lowercase=True)
    assert tree.leaves()[0] == "John"                            # the input is untouched
    assert out.leaves() == ["john", "saw", "the", "dog", "in", "rome"]
    for sub in out.subtrees():
        assert len(sub) <= 2
    labels = [sub.label() for sub in out.subtrees()]
    assert "NP+NNP" not in labels                                 # preterminals are kept
    assert any(lab.startswith("VP|<") for lab in labels)         # binarised
    chain = Tree.fromstring("(S (X (A (B (C x) (D y)))) (E z))")
    assert normalize_tree(chain, collapse_unary=True) == \
        Tree.fromstring("(S (X+A+B (C x) (D y)) (E z))")


def test_vocab_built_on_training_trees_maps_unknown_words():
    train = [parse_tree("(2 (2 the) (2 (2 film) (2 the)))"), parse_tree("(3 (2 a) (3 film))")]
    vocab = tree_vocab(train)
    assert vocab.to_list() == ["<unk>", "film", "the", "a"]     # by count, ties by spelling
    assert vocab["film"] == 1 and vocab["zebra"] == 0 and len(vocab) == 4
    assert tree_vocab(train, min_freq=2).to_list() == ["<unk>", "film", "the"]
    graphs = trees_to_graphs(train, vocab, label_fn=int)
    assert graphs[1].token.tolist() == [-1, 3, 1]
    assert graphs[1].y.tolist() == [3, 2, 3]


def test_unmappable_labels_name_the_line():
    trees = [parse_tree("(2 (2 a) (2 b))"), parse_tree("(2 (X a) (2 b))")]
    with pytest.raises(TreeFormatError, match=r"f.txt:7: label_fn could not map node label 'X'"):
        trees_to_graphs(trees, label_fn=int, source="f.txt", lines=[3, 7])


def test_add_levels_equals_per_graph_levels():
    graphs = [tree_graph(parse_tree(s))
              for s in ["(2 a)", "(2 (2 a) (2 (2 b) (2 c)))", "(1 (2 x))"]]
    add_levels(graphs)
    for g in graphs:
        assert torch.equal(g.level, topological_levels(g.edge_index, g.num_nodes))
    assert graphs[1].level.tolist() == [2, 0, 1, 0, 0]
