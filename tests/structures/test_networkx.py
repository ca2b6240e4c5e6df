import networkx as nx
import pytest
import torch

from graphrnn.structures import graph_from_networkx


def test_undirected_graph_gets_both_directions():
    data = graph_from_networkx(nx.path_graph(3))
    assert sorted(map(tuple, data.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]


def test_digraph_keeps_directions_and_names_and_attributes():
    g = nx.DiGraph()
    g.add_node("a", f=1.0)
    g.add_node("b", f=2.0)
    g.add_node("c", f=3.0)
    g.add_edge("a", "b")
    g.add_edge("c", "b")
    data = graph_from_networkx(g, node_attrs=["f"])
    assert data.node_ids == ["a", "b", "c"]
    assert sorted(map(tuple, data.edge_index.t().tolist())) == [(0, 1), (2, 1)]
    assert data.x.view(-1).tolist() == [1.0, 2.0, 3.0]


def test_empty_graph_and_multigraph():
    assert graph_from_networkx(nx.DiGraph()).num_nodes == 0
    with pytest.raises(TypeError, match="multigraph"):
        graph_from_networkx(nx.MultiDiGraph([(0, 1)]))
    with pytest.raises(TypeError, match="networkx Graph or DiGraph"):
        graph_from_networkx(torch.zeros(2))
