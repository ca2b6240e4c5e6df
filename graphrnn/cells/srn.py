"""Simple recurrent network (Elman 1990) cell.

    h' = act(W_ih x + b_ih + W_hh h + b_hh),   act = tanh or relu

Parameters as ``torch.nn.RNNCell``: ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih`` (H),
``bias_hh`` (H). Elman, "Finding structure in time", Cognitive Science 14 (1990).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..kernels.srn_chain import run_srn_chain
from .base import ChainKernel, RecurrentCell, State

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


def srn_input(w) -> tuple[Tensor, Tensor | None]:
    """``(W_ih, b_ih + b_hh)``: both biases fold into the hoisted projection, one add per node
    instead of one per step."""
    return w.weight_ih, (w.bias_ih + w.bias_hh if w.bias_ih is not None else None)


def srn_project(w, x: Tensor) -> Tensor:
    return F.linear(x, *srn_input(w))


def srn_chain_kernel(w) -> ChainKernel:
    """The SRN's fused chain kernel (:mod:`graphrnn.kernels.srn_chain`, tanh or relu) for the
    weights ``w`` (an :class:`SRNCell` or ``RNNBase.cell_weights(...)``)."""
    def kernel(x: Tensor, batch_sizes, state: State, reverse: bool = False):
        return run_srn_chain(w, x, batch_sizes, state, reverse=reverse)
    return kernel


def srn_step(w, xw: Tensor, state: State) -> State:
    return (NONLINEARITIES[w.nonlinearity](torch.addmm(xw, state[0], w.weight_hh.t())),)


class SRNCell(RecurrentCell):
    """Elman cell; drop-in for ``torch.nn.RNNCell``.

    Args:
        input_size: I. hidden_size: H. bias: default ``True``.
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.
        aggr: combination of several predecessors in graph mode (default ``"sum"``).

    Shapes: input (B, I) or (I,), hx (B, H) -> h' (B, H).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", aggr: str = "sum"):
        super().__init__(input_size, hidden_size, bias, aggr)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self._register_weights(hidden_size, (hidden_size, hidden_size))
        self.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size,)

    project = srn_project
    step = srn_step
    input_linear = srn_input

    def chain_kernel(self) -> ChainKernel | None:
        # the kernel does this class's arithmetic: not for a subclass with its own project/step
        return srn_chain_kernel(self) if self._keeps(SRNCell, "project", "step") else None

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")
