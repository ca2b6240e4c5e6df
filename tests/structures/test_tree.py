import pytest
from nltk import Tree
from torch_geometric.data import Batch

from graphrnn.schedule import topological_levels
from graphrnn.structures import graph_to_tree, tree_graph

SST_LINE = "(3 (2 It) (4 (4 (2 's) (4 (3 (2 a) (4 lovely)) (2 film))) (2 .)))"


def test_tree_round_trips_through_nltk():
    tree = Tree.fromstring(SST_LINE)
    data = tree_graph(tree)
    assert graph_to_tree(data) == tree
    words = [w for w in data.words if w is not None]
    assert words == tree.leaves()


def test_edges_go_child_to_parent_with_children_in_order():
    data = tree_graph(Tree.fromstring("(S (A x) (B (C y) (D z)) (E w))"))
    # pre-order: S=0, A=1, B=2, C=3, D=4, E=5
    assert data.edge_index.tolist() == [[1, 2, 5, 3, 4], [0, 0, 0, 2, 2]]
    assert data.is_leaf.tolist() == [False, True, False, True, True, True]
    assert topological_levels(data.edge_index, data.num_nodes).tolist() == [2, 0, 1, 0, 0, 0]


def test_labels_tokens_and_words_as_nodes():
    vocab = {"It": 0, "'s": 1, "a": 2, "lovely": 3, "film": 4, ".": 5}
    data = tree_graph(Tree.fromstring(SST_LINE), vocab=vocab, label_fn=int)
    assert data.y.tolist()[:3] == [3, 2, 4]
    assert (data.token >= 0).sum() == 6 and (data.token[~data.is_leaf] == -1).all()
    spelled = tree_graph(Tree.fromstring("(S (A x) (B y))"), words_as_nodes=True)
    assert spelled.num_nodes == 5 and spelled.words == [None, None, "x", None, "y"]


def test_bad_labels_and_inputs():
    with pytest.raises(ValueError, match="could not map node label 'S'"):
        tree_graph(Tree.fromstring("(S (1 x))"), label_fn=int)
    with pytest.raises(TypeError, match="must be an nltk.Tree"):
        tree_graph("(S x)")


def test_trees_batch_with_pyg():
    graphs = [tree_graph(Tree.fromstring(s)) for s in ("(S (A x) (B y))", SST_LINE)]
    batch = Batch.from_data_list(graphs)
    assert batch.num_nodes == graphs[0].num_nodes + graphs[1].num_nodes
    assert batch.edge_index[:, 2:].min() == graphs[0].num_nodes
