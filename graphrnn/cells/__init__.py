"""Cells: one recurrent step for a whole level of nodes at once."""
from .base import AGGREGATIONS, RecurrentCell, State
from .gru import GRUCell, gru_project, gru_step
from .lstm import LSTMCell, lstm_num_gates, lstm_project, lstm_step, peephole_names
from .srn import NONLINEARITIES, SRNCell, srn_project, srn_step
from .tree import (ChildSumTreeLSTMCell, NaryTreeLSTMCell, RecursiveNetCell, TreeCell, TreeGRUCell,
                   dense_children)

__all__ = ["RecurrentCell", "SRNCell", "LSTMCell", "GRUCell", "State", "AGGREGATIONS",
           "NONLINEARITIES", "srn_project", "srn_step", "lstm_project", "lstm_step",
           "lstm_num_gates", "peephole_names", "gru_project", "gru_step", "TreeCell",
           "RecursiveNetCell", "ChildSumTreeLSTMCell", "NaryTreeLSTMCell", "TreeGRUCell",
           "dense_children"]
