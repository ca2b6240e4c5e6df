"""User-facing modules."""
from .rnn import GRU, LSTM, RNN, RNNBase

__all__ = ["RNN", "LSTM", "GRU", "RNNBase"]
