"""Cells: one recurrent step for a whole level of nodes at once."""
from .base import AGGREGATIONS, ChainKernel, LevelKernel, RecurrentCell, State
from .gru import GRUCell, gru_chain_kernel, gru_input, gru_project, gru_step
from .lstm import (
    LSTMCell,
    lstm_chain_kernel,
    lstm_input,
    lstm_num_gates,
    lstm_project,
    lstm_step,
    peephole_names,
)
from .srn import NONLINEARITIES, SRNCell, srn_chain_kernel, srn_input, srn_project, srn_step
from .torch_cells import TorchCell, as_cell
from .tree import RecursiveNetCell, TreeCell, TreeGRUCell, dense_children
from .tree_lstm import ChildSumTreeLSTMCell, NaryTreeLSTMCell

__all__ = ["RecurrentCell", "SRNCell", "LSTMCell", "GRUCell", "State", "AGGREGATIONS",
           "NONLINEARITIES", "srn_project", "srn_step", "srn_input", "lstm_project", "lstm_step",
           "lstm_input", "lstm_chain_kernel", "lstm_num_gates", "peephole_names", "gru_project",
           "gru_step", "gru_input", "gru_chain_kernel", "srn_chain_kernel", "LevelKernel",
           "ChainKernel", "as_cell", "TorchCell",
           "TreeCell", "RecursiveNetCell", "ChildSumTreeLSTMCell", "NaryTreeLSTMCell",
           "TreeGRUCell", "dense_children"]
