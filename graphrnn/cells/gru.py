"""Gated recurrent unit, in both formulations.

PyTorch's (``reset_after=True``, as cuDNN), gate order r, z, n as in ``torch.nn.GRU``:

    r = sigma(W_ir x + b_ir + W_hr h + b_hr)      z = sigma(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) h' = (1 - z) * n + z * h

Cho et al. 2014 (``reset_after=False``): the reset gate is applied to h before its matmul,

    n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).

Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine
Translation", EMNLP 2014.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..kernels.gru_chain import run_gru_chain
from .base import ChainKernel, RecurrentCell, State


def gru_input(w) -> tuple[Tensor, Tensor | None]:
    """``(W_ih, b_ih)``: ``b_hn`` sits inside ``r * (W_hn h + b_hn)``, so only ``b_ih`` folds."""
    return w.weight_ih, w.bias_ih


def gru_project(w, x: Tensor) -> Tensor:
    return F.linear(x, *gru_input(w))


def gru_chain_kernel(w) -> ChainKernel:
    """The GRU's fused chain kernel (:mod:`graphrnn.kernels.gru_chain`, both formulations) for
    the weights ``w`` (a :class:`GRUCell` or ``RNNBase.cell_weights(...)``)."""
    def kernel(x: Tensor, batch_sizes, state: State, reverse: bool = False):
        return run_gru_chain(w, x, batch_sizes, state, reverse=reverse)
    return kernel


def gru_step(w, xw: Tensor, state: State) -> State:
    h = state[0]
    size = w.hidden_size
    if w.reset_after:
        gh = F.linear(h, w.weight_hh, w.bias_hh)
        rz = torch.sigmoid(xw[:, :2 * size] + gh[:, :2 * size])
        r, z = rz.chunk(2, 1)
        n = torch.tanh(torch.addcmul(xw[:, 2 * size:], r, gh[:, 2 * size:]))
    else:
        b_rz, b_n = ((w.bias_hh[:2 * size], w.bias_hh[2 * size:]) if w.bias_hh is not None
                     else (None, None))
        rz = torch.sigmoid(xw[:, :2 * size] + F.linear(h, w.weight_hh[:2 * size], b_rz))
        r, z = rz.chunk(2, 1)
        n = torch.tanh(xw[:, 2 * size:] + F.linear(r * h, w.weight_hh[2 * size:], b_n))
    return (torch.addcmul(n, z, h - n),)


class GRUCell(RecurrentCell):
    """GRU cell; with ``reset_after=True`` (default) a drop-in for ``torch.nn.GRUCell``.

    Args:
        input_size: I. hidden_size: H. bias: default ``True``.
        reset_after: apply the reset gate after the hidden matmul (PyTorch, cuDNN) or before it
            (Cho et al. 2014). Default: ``True``.
        aggr: combination of several predecessors in graph mode (default ``"sum"``).

    Parameters as ``torch.nn.GRUCell``: ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), ``bias_ih``,
    ``bias_hh`` (3H). Shapes: input (B, I) or (I,), hx (B, H) -> h' (B, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 reset_after: bool = True, aggr: str = "sum"):
        super().__init__(input_size, hidden_size, bias, aggr)
        self.reset_after = reset_after
        self._register_weights(3 * hidden_size, (3 * hidden_size, hidden_size))
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size,)

    project = gru_project
    step = gru_step
    input_linear = gru_input

    def chain_kernel(self) -> ChainKernel | None:
        # the kernel does this class's arithmetic: not for a subclass with its own project/step
        return gru_chain_kernel(self) if self._keeps(GRUCell, "project", "step") else None

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (", reset_after=False" if not self.reset_after else "")
