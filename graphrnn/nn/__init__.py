"""User-facing modules."""
from .crf import CRF
from .directed_message_passing import DirectedMessagePassing, reverse_edges
from .graph_network import GNMemory, GraphNetwork
from .graph_network_configs import (
    DeepSets,
    EncodeProcessDecode,
    GNBlock,
    GraphIndependent,
    InteractionNetwork,
)
from .image_encoder import ConvEncoder, grid_to_columns, grid_to_regions
from .message_passing import EdgeNetwork, GatedMessagePassing, LinearMessage
from .mlp import mlp
from .readout import AttentionReadout, MeanReadout, Set2Set, SumReadout, readout
from .regularizers import LockedDropout, embedding_dropout
from .rnn import GRU, LSTM, RNN, RNNBase
from .tree import RecursiveNet, TreeGRU, TreeLSTM, TreeRNNBase, tree_roots

__all__ = ["RNN", "LSTM", "GRU", "RNNBase", "CRF", "GraphNetwork", "GNBlock", "GNMemory",
           "InteractionNetwork", "DeepSets", "GraphIndependent", "EncodeProcessDecode", "mlp",
           "GatedMessagePassing", "LinearMessage", "EdgeNetwork", "DirectedMessagePassing",
           "reverse_edges", "readout", "SumReadout",
           "MeanReadout", "AttentionReadout", "Set2Set", "TreeLSTM", "TreeGRU", "RecursiveNet",
           "TreeRNNBase", "tree_roots", "LockedDropout", "embedding_dropout", "ConvEncoder",
           "grid_to_regions", "grid_to_columns"]
