"""Long short-term memory cell and its classic variants.

Standard (Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000), gate order
i, f, g, o as in ``torch.nn.LSTM``:

    i = sigma(W_ii x + b_ii + W_hi h + b_hi)      f = sigma(W_if x + b_if + W_hf h + b_hf)
    g = tanh (W_ig x + b_ig + W_hg h + b_hg)      o = sigma(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g                            h' = o * tanh(c')    (h' = W_hr h' with proj_size)

Variants (Greff et al., "LSTM: A Search Space Odyssey", 2017):

* ``forget_gate=False``: no forget gate, c' = c + i * g (the 1997 LSTM); gates i, g, o.
* ``coupled=True``: coupled input and forget gate, f = 1 - i; gates i, g, o.
* ``peephole=True`` (Gers & Schmidhuber 2000): i and f also see c, o sees c':
  i = sigma(... + w_ci * c), f = sigma(... + w_cf * c), o = sigma(... + w_co * c'),
  with diagonal peephole weights ``weight_ci``, ``weight_cf``, ``weight_co`` of shape (H,).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..kernels.lstm_chain import run_lstm_chain
from .base import ChainKernel, RecurrentCell, State


def lstm_num_gates(forget_gate: bool = True, coupled: bool = False) -> int:
    return 4 if forget_gate and not coupled else 3


def lstm_input(w) -> tuple[Tensor, Tensor | None]:
    """``(W_ih, b_ih + b_hh)``: both biases are additive, so both fold into the projection."""
    return w.weight_ih, (w.bias_ih + w.bias_hh if w.bias_ih is not None else None)


def lstm_project(w, x: Tensor) -> Tensor:
    return F.linear(x, *lstm_input(w))


def lstm_chain_kernel(w) -> ChainKernel | None:
    """The LSTM family's fused chain kernel (:mod:`graphrnn.kernels.lstm_chain`) for the
    weights ``w`` (an :class:`LSTMCell` or ``RNNBase.cell_weights(...)``), or ``None`` with
    ``proj_size``, which it does not handle."""
    if w.weight_hr is not None:
        return None

    def kernel(x: Tensor, batch_sizes, state: State, reverse: bool = False):
        return run_lstm_chain(w, x, batch_sizes, state, reverse=reverse)
    return kernel


def lstm_step(w, xw: Tensor, state: State) -> State:
    h, c = state
    gates = torch.addmm(xw, h, w.weight_hh.t())
    if w.forget_gate and not w.coupled and not w.peephole:
        # The common case in as few kernels as possible: one sigmoid over all four gates.
        i, f, _, o = gates.sigmoid().chunk(4, 1)
        g = gates[:, 2 * w.hidden_size:3 * w.hidden_size].tanh()
        c = torch.addcmul(f * c, i, g)
        h = o * c.tanh()
    else:
        if w.num_gates == 4:
            i, f, g, o = gates.chunk(4, 1)
        else:
            i, g, o = gates.chunk(3, 1)
        if w.peephole:
            i = i + w.weight_ci * c
            if w.num_gates == 4:
                f = f + w.weight_cf * c
        i, g = i.sigmoid(), g.tanh()
        if w.coupled:
            c = torch.addcmul(c - i * c, i, g)          # f = 1 - i
        elif w.forget_gate:
            c = torch.addcmul(f.sigmoid() * c, i, g)
        else:
            c = torch.addcmul(c, i, g)                   # f = 1
        if w.peephole:
            o = o + w.weight_co * c
        h = o.sigmoid() * c.tanh()
    if w.weight_hr is not None:
        h = h @ w.weight_hr.t()
    return h, c


class LSTMCell(RecurrentCell):
    """LSTM cell; with the default arguments a drop-in for ``torch.nn.LSTMCell``.

    Args:
        input_size: I. hidden_size: H. bias: default ``True``.
        proj_size: if > 0, h' is projected to this size by ``weight_hr`` (P, H). Default: 0.
        forget_gate: keep the forget gate. Default: ``True``.
        coupled: f = 1 - i (no forget-gate weights). Default: ``False``.
        peephole: gates see the cell state through ``weight_ci``, ``weight_cf``, ``weight_co``.
            Default: ``False``.
        aggr: combination of several predecessors in graph mode (default ``"sum"``).

    Parameters: ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, P or H), ``bias_ih``/``bias_hh`` (G*H),
    with G = 4 gates (i, f, g, o) or 3 (i, g, o) without a free forget gate.

    Shapes: input (B, I) or (I,), hx = (h (B, P or H), c (B, H)) -> (h', c').
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, proj_size: int = 0,
                 forget_gate: bool = True, coupled: bool = False, peephole: bool = False,
                 aggr: str = "sum"):
        super().__init__(input_size, hidden_size, bias, aggr)
        if proj_size < 0 or proj_size >= hidden_size and proj_size != 0:
            raise ValueError(f"proj_size must be 0 or in [1, hidden_size), got {proj_size}")
        if coupled and not forget_gate:
            raise ValueError("coupled=True defines the forget gate as 1 - i; "
                             "it needs forget_gate=True")
        self.proj_size, self.forget_gate, self.coupled, self.peephole = (
            proj_size, forget_gate, coupled, peephole)
        self.num_gates = lstm_num_gates(forget_gate, coupled)
        gates, out = self.num_gates * hidden_size, proj_size or hidden_size
        self._register_weights(gates, (gates, out))
        for name in peephole_names(forget_gate, coupled) if peephole else ():
            self.register_parameter(name, nn.Parameter(torch.empty(hidden_size)))
        for name in ("weight_ci", "weight_cf", "weight_co"):
            if not hasattr(self, name):
                self.register_parameter(name, None)
        self.register_parameter("weight_hr", nn.Parameter(torch.empty(proj_size, hidden_size))
                                if proj_size else None)
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    project = lstm_project
    step = lstm_step
    input_linear = lstm_input

    def chain_kernel(self) -> ChainKernel | None:
        # the kernel does this class's arithmetic: not for a subclass with its own project/step
        return lstm_chain_kernel(self) if self._keeps(LSTMCell, "project", "step") else None

    def extra_repr(self) -> str:
        s = super().extra_repr()
        for name, default in (("proj_size", 0), ("forget_gate", True), ("coupled", False),
                              ("peephole", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


def peephole_names(forget_gate: bool = True, coupled: bool = False) -> tuple[str, ...]:
    """Names of the peephole weights a variant has (no ``weight_cf`` without a free forget gate)."""
    return ("weight_ci", "weight_cf", "weight_co") if lstm_num_gates(forget_gate, coupled) == 4 \
        else ("weight_ci", "weight_co")
