r"""How far back does the gradient reach? The BPTT deltas of SRN, LSTM and GRU.

Gradient flow
-------------
For a loss :math:`L_T` computed from the final state :math:`h_T`, back-propagation through time
gives the error signal at every earlier step,

.. math::

    \delta_{T,k} = \frac{\partial L_T}{\partial h_k}
                 = \Big(\prod_{t=k+1}^{T} \frac{\partial h_t}{\partial h_{t-1}}\Big)^{\!\top}
                   \frac{\partial L_T}{\partial h_T},

and for an SRN :math:`\partial h_t / \partial h_{t-1} = \mathrm{diag}(1 - h_t^2) W_{hh}` (tanh),
whose product shrinks (or grows) geometrically in :math:`T - k` (Hochreiter 1991; Bengio, Simard &
Frasconi 1994, "Learning long-term dependencies with gradient descent is difficult"). The LSTM's
additive cell path :math:`c_t = f_t c_{t-1} + i_t g_t` (Hochreiter & Schmidhuber 1997) and the GRU's
interpolation :math:`h_t = (1 - z_t) n_t + z_t h_{t-1}` (Cho et al. 2014) let it pass with gates
near one. :func:`gradient_flow` returns :math:`\|\delta_{T,k}\|` for every k (for the LSTM,
:math:`h_k` is the output state; the path through :math:`c_k` is part of the derivative of later
states, not of :math:`h_k`); :func:`graphrnn.plots.gradient_flow.plot_gradient_flow` draws them on
a log scale. The long-range task that needs such memory is ``graphrnn train long_range``
(:mod:`graphrnn.models.long_range`, :class:`graphrnn.datasets.sequences.FirstSymbol`).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..cells import (
    RecurrentCell,
    gru_project,
    gru_step,
    lstm_project,
    lstm_step,
    srn_project,
    srn_step,
)
from ..nn.rnn import RNNBase

__all__ = ["gradient_flow"]
_STEPS = {"RNN": (srn_project, srn_step), "LSTM": (lstm_project, lstm_step),
          "GRU": (gru_project, gru_step)}


def _project_and_step(model) -> tuple[Callable, Callable, int]:
    """(project, step, number of state components) of a cell or a one-layer recurrent module."""
    if isinstance(model, RecurrentCell):
        return model.project, model.step, len(model.state_sizes)
    if isinstance(model, RNNBase):
        if model.num_layers != 1 or model.bidirectional:
            raise ValueError(f"gradient_flow: {type(model).__name__} must have one layer and one "
                             f"direction, got num_layers={model.num_layers}, bidirectional="
                             f"{model.bidirectional}")
        w = model.cell_weights(0)
        project, step = _STEPS[model.mode]
        return (lambda x: project(w, x)), (lambda xw, s: step(w, xw, s)), len(model.state_sizes)
    raise TypeError(f"gradient_flow: model must be a graphrnn cell (SRNCell, LSTMCell, GRUCell) "
                    f"or a one-layer graphrnn.nn.RNN/LSTM/GRU, got {type(model).__name__}")


def gradient_flow(model, x: Tensor, loss_fn: Callable[[Tensor], Tensor],
                  state: tuple[Tensor, ...] | None = None) -> Tensor:
    r"""The norms :math:`\|\partial L_T / \partial h_k\|` for k = 1..T.

    Args:
        model: a cell (:class:`~graphrnn.cells.SRNCell`, ``LSTMCell``, ``GRUCell``) or a one-layer
            unidirectional :class:`graphrnn.nn.RNN` / ``LSTM`` / ``GRU``.
        x: (T, I) one sequence or (T, B, I) a batch (norms are over batch and features).
        loss_fn: ``h_T (B, H) -> scalar loss``.
        state: initial state per component (B, size); zeros by default.

    Returns:
        (T,) tensor; entry ``k - 1`` is the norm of :math:`\delta_{T,k}` (entry ``T - 1`` is that
        of :math:`\partial L_T / \partial h_T`).
    """
    project, step, components = _project_and_step(model)
    if x.dim() == 2:
        x = x.unsqueeze(1)
    if x.dim() != 3:
        raise ValueError(f"gradient_flow: x must be (T, I) or (T, B, I), got {tuple(x.shape)}")
    T, B = x.shape[:2]
    if T == 0:
        raise ValueError("gradient_flow: x has no time step")
    xw = project(x.reshape(T * B, -1)).view(T, B, -1)
    if state is None:
        sizes = model.state_sizes
        state = tuple(x.new_zeros(B, s) for s in sizes)
    with torch.enable_grad():
        hs = []
        for t in range(T):
            state = step(xw[t], tuple(state))
            hs.append(state[0])
        loss = loss_fn(hs[-1])
        if loss.numel() != 1:
            raise ValueError(f"gradient_flow: loss_fn must return a scalar, got shape "
                             f"{tuple(loss.shape)}")
        grads = torch.autograd.grad(loss, hs, allow_unused=True)
    return torch.stack([g.norm() if g is not None else x.new_zeros(()) for g in grads]).detach()
