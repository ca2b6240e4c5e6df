"""Structures: sequences, trees, molecules and graphs as PyG ``Data``; batching is PyG's."""
from .chain import (
    chain_edges,
    chain_graph,
    chains_from_list,
    chains_from_packed,
    chains_from_padded,
    delay_chain_graph,
    reverse_graph,
)
from .descriptors import DESCRIPTOR_NAMES, molecule_descriptors
from .fingerprints import morgan_fingerprint, morgan_fingerprints
from .molecule import (
    ATOM_FEATURE_DIM,
    BOND_FEATURE_DIM,
    InvalidSmilesError,
    atom_feature_names,
    bond_feature_names,
    from_mol,
    from_smiles,
)
from .networkx import graph_from_networkx
from .tree import graph_to_tree, tree_graph

__all__ = ["chain_edges", "chain_graph", "delay_chain_graph", "chains_from_list",
           "chains_from_padded", "chains_from_packed", "reverse_graph", "tree_graph",
           "graph_to_tree", "graph_from_networkx", "from_smiles", "from_mol", "InvalidSmilesError",
           "ATOM_FEATURE_DIM", "BOND_FEATURE_DIM", "atom_feature_names", "bond_feature_names",
           "molecule_descriptors", "DESCRIPTOR_NAMES", "morgan_fingerprint",
           "morgan_fingerprints"]
