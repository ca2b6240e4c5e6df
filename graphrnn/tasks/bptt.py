"""Truncated back-propagation through time with carried, detached state.

A sequence too long to back-propagate through whole (a corpus read as one stream, a long signal)
is cut into windows of ``k`` steps. The recurrent state at the end of one window is the initial
state of the next (the forward pass sees the whole history), but it is *detached*, so the gradient
of a window's loss stops at the window's start: BPTT(k, k) in the notation of Williams & Peng
(1990, "An efficient gradient-based algorithm for on-line training of recurrent network
trajectories", Neural Computation 2(4)). Cost per update is O(k) instead of O(T).

Pieces, to be used from a :class:`~graphrnn.train.Trainer` step:

* :func:`batchify` lays one long stream out as B parallel streams (T // B, B, ...);
* :class:`TBPTTWindows` iterates the windows in order, flagging the first window of each pass;
* :class:`CarriedState` hands the previous window's detached state to the next one, and a fresh
  (``None``, i.e. zero) state at the first window; it keeps training and evaluation apart;
* :func:`tbptt_step` builds the Trainer step from ``forward(model, x, state)`` and a loss.

Example::

    windows = TBPTTWindows(x_streams, y_streams, window=35)
    step = tbptt_step(lambda m, x, s: m(x, s), lambda out, y: F.mse_loss(out, y))
    Trainer(model, opt, step, clip_grad_norm=0.25).fit(windows)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import Tensor

__all__ = ["batchify", "detach_state", "TBPTTBatch", "TBPTTWindows", "CarriedState", "tbptt_step"]


def detach_state(state: Any) -> Any:
    """``state`` with every tensor detached (tensors, tuples/lists of them, ``None``)."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor, a tuple/list of them or None, got "
                    f"{type(state).__name__}")


def batchify(stream: Tensor, num_streams: int) -> Tensor:
    """One long stream (N, ...) as ``num_streams`` parallel ones, time-major: (N // B, B, ...).
    Column ``b`` is the contiguous piece ``stream[b * L:(b + 1) * L]``; the remainder is dropped."""
    if num_streams < 1:
        raise ValueError(f"batchify: num_streams must be >= 1, got {num_streams}")
    length = stream.size(0) // num_streams
    if length == 0:
        raise ValueError(f"batchify: a stream of {stream.size(0)} steps cannot fill "
                         f"{num_streams} streams")
    trimmed = stream[:length * num_streams]
    return trimmed.reshape(num_streams, length, *stream.shape[1:]).transpose(0, 1).contiguous()


class TBPTTBatch(NamedTuple):
    """One window: ``x`` (k, B, ...) inputs, ``y`` (k, B, ...) targets, and ``first``: whether
    it starts the streams (so the state must be reset)."""
    x: Tensor
    y: Tensor
    first: bool


class TBPTTWindows:
    """Consecutive windows of ``window`` steps over time-major streams, in order (never
    shuffled: the state carried from one window is the history of the next).

    Args:
        x: (T, B, ...) inputs, e.g. from :func:`batchify`.
        y: (T, B, ...) targets aligned with ``x``.
        window: k, steps per window; the last window may be shorter.
    """

    def __init__(self, x: Tensor, y: Tensor, window: int):
        if x.size(0) != y.size(0):
            raise ValueError(f"TBPTTWindows: x has {x.size(0)} steps but y has {y.size(0)}")
        if x.dim() < 2 or y.dim() < 2 or x.size(1) != y.size(1):
            raise ValueError(f"TBPTTWindows: x and y must be time-major (T, B, ...) with the "
                             f"same B, got {tuple(x.shape)} and {tuple(y.shape)}")
        if window < 1:
            raise ValueError(f"TBPTTWindows: window must be >= 1, got {window}")
        self.x, self.y, self.window = x, y, window

    def __len__(self) -> int:
        return -(-self.x.size(0) // self.window)

    def __iter__(self):
        for i, start in enumerate(range(0, self.x.size(0), self.window)):
            stop = start + self.window
            yield TBPTTBatch(self.x[start:stop], self.y[start:stop], i == 0)


class CarriedState:
    """The recurrent state carried from one window to the next, detached.

    ``take(first)`` returns ``None`` (a zero state for ``graphrnn.nn`` and ``torch.nn`` modules)
    when ``first`` is true or nothing is held, else the state kept last; ``keep(state)`` stores
    ``state`` detached from the graph of the window that produced it. Training and evaluation
    (``model.training``) have separate slots, so a validation pass does not disturb the training
    streams.
    """

    def __init__(self):
        self._slots: dict[bool, Any] = {}

    def take(self, first: bool, training: bool = True) -> Any:
        if first:
            self._slots.pop(training, None)
        return self._slots.get(training)

    def keep(self, state: Any, training: bool = True) -> None:
        self._slots[training] = detach_state(state)

    def reset(self) -> None:
        self._slots.clear()


def tbptt_step(forward: Callable[[torch.nn.Module, Tensor, Any], tuple[Tensor, Any]],
               loss_fn: Callable[[Tensor, Tensor], Tensor | tuple[Tensor, dict]],
               carrier: CarriedState | None = None):
    """A Trainer step for truncated BPTT over :class:`TBPTTBatch` windows.

    Args:
        forward: ``forward(model, x, state) -> (output, new_state)``, e.g.
            ``lambda m, x, s: m(x, s)`` for a module returning ``(output, h_n)``.
        loss_fn: ``loss_fn(output, y) -> loss`` or ``(loss, metrics)``.
        carrier: holds the state between calls (default: a new :class:`CarriedState`, available
            as ``step.carrier``).

    Returns:
        ``step(model, batch) -> loss or (loss, metrics)``.
    """
    carrier = CarriedState() if carrier is None else carrier

    def step(model, batch: TBPTTBatch):
        state = carrier.take(batch.first, model.training)
        output, state = forward(model, batch.x, state)
        carrier.keep(state, model.training)
        return loss_fn(output, batch.y)

    step.carrier = carrier
    return step
