r"""Classify a sequence from its last recurrent state: the model of the long-range study.

:class:`LongRangeClassifier` reads T steps with a one-layer SRN, LSTM or GRU
(:mod:`graphrnn.nn`) and classifies the final state :math:`h_T`; on the first-symbol task
(:class:`graphrnn.datasets.sequences.FirstSymbol`) it must carry the first input across T - 1
distractors, which is where the SRN's vanishing gradient shows (Bengio, Simard & Frasconi 1994).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.rnn import GRU, LSTM, RNN

__all__ = ["CELLS", "LongRangeClassifier", "long_range_step", "accuracy_on"]

CELLS = ("srn", "lstm", "gru")


class LongRangeClassifier(nn.Module):
    r"""A one-layer recurrent network read out from its last state: (T, B, I) -> (B, C).

    Args:
        cell: ``"srn"``, ``"lstm"`` or ``"gru"`` (graphrnn.nn.RNN / LSTM / GRU).
        input_size, hidden_size, num_classes: sizes.
        gate_init: how the gated cells' biases start (the SRN has no gate; it keeps torch.nn's
            initialisation whatever this says):

            * ``"default"``: torch.nn's uniform initialisation;
            * ``"forget1"``: LSTM forget-gate bias + 1 (Gers, Schmidhuber & Cummins 2000;
              Jozefowicz, Zaremba & Sutskever 2015); GRU unchanged;
            * ``"chrono"`` (default): chrono initialisation (Tallec & Ollivier 2018, "Can recurrent
              neural networks warp time?", https://arxiv.org/abs/1804.11188): LSTM forget bias
              :math:`b_f = \log u`, input bias :math:`-b_f`, :math:`u \sim U(1, T_{max} - 1)`, so
              units keep their memory for up to :math:`T_{max}` steps at the start; for the GRU
              the update gate (whose 1 keeps the state) gets :math:`b_z = \log u`.
        max_length: T_max for ``"chrono"`` (default 100).
    """

    GATE_INITS = ("default", "forget1", "chrono")

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_classes: int,
                 gate_init: str = "chrono", max_length: int = 100):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"LongRangeClassifier: cell must be one of {CELLS}, got {cell!r}")
        if gate_init not in self.GATE_INITS:
            raise ValueError(f"LongRangeClassifier: gate_init must be one of {self.GATE_INITS}, "
                             f"got {gate_init!r}")
        self.cell, self.gate_init = cell, gate_init
        self.rnn = {"srn": RNN, "lstm": LSTM, "gru": GRU}[cell](input_size, hidden_size)
        H = hidden_size
        with torch.no_grad():
            if cell == "lstm" and gate_init == "forget1":
                self.rnn.bias_ih_l0[H:2 * H] += 1.0
            elif gate_init == "chrono" and cell != "srn":
                b = torch.log(torch.empty(H).uniform_(1.0, max(max_length - 1.0, 1.0 + 1e-3)))
                gate = slice(H, 2 * H)  # LSTM gates i, f, g, o; GRU gates r, z, n
                self.rnn.bias_ih_l0[gate] = b
                self.rnn.bias_hh_l0[gate] = 0.0
                if cell == "lstm":
                    self.rnn.bias_ih_l0[:H] = -b
                    self.rnn.bias_hh_l0[:H] = 0.0
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        _, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h
        return self.head(h[-1])


def long_range_step(model: LongRangeClassifier, batch):
    """Trainer step on a batch ``(x (B, T, I), y (B,))``: ``(cross-entropy, {"acc"})``."""
    x, y = batch
    logits = model(x.transpose(0, 1))  # the loader stacks along dim 0: (B, T, I) -> (T, B, I)
    return F.cross_entropy(logits, y), {"acc": (logits.argmax(-1) == y).float().mean()}


@torch.no_grad()
def accuracy_on(model: LongRangeClassifier, x: Tensor, y: Tensor) -> float:
    """Accuracy of ``model`` (put in eval mode) on time-first ``x`` (T, N, I) and ``y`` (N,)."""
    model.eval()
    return float((model(x).argmax(-1) == y).float().mean())
