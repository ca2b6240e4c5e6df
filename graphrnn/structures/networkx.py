"""Any ``networkx`` graph as PyG ``Data``."""
from __future__ import annotations

import networkx as nx
import torch
from torch_geometric.data import Data
from torch_geometric.utils import from_networkx


def graph_from_networkx(graph: nx.Graph, node_attrs: list[str] | None = None,
                        edge_attrs: list[str] | None = None) -> Data:
    """A ``networkx`` ``DiGraph`` keeps its edge directions; a ``Graph`` gets both directions of
    every edge. Nodes are numbered in ``graph.nodes`` order; ``data.node_ids`` keeps the original
    names. ``node_attrs``/``edge_attrs`` name numeric attributes to stack into ``x``/``edge_attr``.
    """
    if not isinstance(graph, nx.Graph):
        raise TypeError(f"graph must be a networkx Graph or DiGraph, got {type(graph).__name__}")
    if graph.is_multigraph():
        raise TypeError("graph is a multigraph; "
                        "convert it with nx.DiGraph(graph) or nx.Graph(graph)")
    names = list(graph.nodes)
    relabeled = nx.convert_node_labels_to_integers(graph, ordering="default")
    if relabeled.number_of_nodes() == 0:
        data = Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=0)
    else:
        data = from_networkx(relabeled, group_node_attrs=node_attrs, group_edge_attrs=edge_attrs)
        data.num_nodes = relabeled.number_of_nodes()
    data.node_ids = names
    return data
