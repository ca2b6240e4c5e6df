"""Truncated back-propagation through time with carried, detached state.

A sequence too long to back-propagate through whole (a corpus read as one stream, a long signal)
is cut into windows of ``k`` steps. The recurrent state at the end of one window is the initial
state of the next (the forward pass sees the whole history), but it is *detached*, so the gradient
of a window's loss stops at the window's start: BPTT(k, k) in the notation of Williams & Peng
(1990, "An efficient gradient-based algorithm for on-line training of recurrent network
trajectories", Neural Computation 2(4)). Cost per update is O(k) instead of O(T).

Pieces, to be used from a :class:`~graphrnn.train.Trainer` step:

* :func:`batchify` lays one long stream out as B parallel streams, ``(T // B, B, ...)`` time-major
  or ``(B, T // B, ...)`` with ``batch_first=True`` (the layout of
  :class:`~graphrnn.models.language_model.LanguageModel` and of ``batch_first`` RNNs);
* :class:`TBPTTWindows` iterates the windows in order, flagging the first window of each pass;
  with ``random_length=True`` the window lengths vary (Merity et al. 2018, "Regularizing and
  Optimizing LSTM Language Models", arXiv:1708.02182, sec. 4.1): ``k`` with probability ``p``
  and ``k / 2`` otherwise, then ``N(that, std)``, at least ``min_length``, so that over the
  epochs every token is scored after every offset and not always at the same window position;
* :class:`LengthScaledLR` scales an optimizer's learning rate by ``length / k`` for each window,
  so that short windows do not weigh as much as long ones (as Merity et al. do);
* :class:`CarriedState` hands the previous window's detached state to the next one, and a fresh
  (``None``, i.e. zero) state at the first window; it keeps training and evaluation apart;
* :func:`tbptt_step` builds the Trainer step from ``forward(model, x, state)`` and a loss.

Every token of the laid-out streams is in exactly one window, in order: concatenating the windows
along time gives the streams back (tested), whatever the window lengths.

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

__all__ = ["batchify", "detach_state", "TBPTTBatch", "TBPTTWindows", "LengthScaledLR",
           "CarriedState", "tbptt_step"]


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


def batchify(stream: Tensor, num_streams: int, batch_first: bool = False) -> Tensor:
    """One long stream (N, ...) as ``num_streams`` parallel ones, time-major: (N // B, B, ...), or
    (B, N // B, ...) with ``batch_first``. Stream ``b`` is the contiguous piece
    ``stream[b * L:(b + 1) * L]``; the remainder (fewer than B items) is dropped."""
    if num_streams < 1:
        raise ValueError(f"batchify: num_streams must be >= 1, got {num_streams}")
    length = stream.size(0) // num_streams
    if length == 0:
        raise ValueError(f"batchify: a stream of {stream.size(0)} steps cannot fill "
                         f"{num_streams} streams")
    streams = stream[:length * num_streams].reshape(num_streams, length, *stream.shape[1:])
    return streams if batch_first else streams.transpose(0, 1).contiguous()


class TBPTTBatch(NamedTuple):
    """One window: ``x`` (k, B, ...) inputs, ``y`` (k, B, ...) targets ((B, k, ...) when batch
    first), ``first``: whether it starts the streams (so the state must be reset), and ``scale``:
    its length over the nominal window (1 for fixed windows but a shorter last one)."""
    x: Tensor
    y: Tensor
    first: bool
    scale: float = 1.0


class TBPTTWindows:
    """Consecutive windows over parallel streams, in order (never shuffled: the state carried
    from one window is the history of the next).

    Args:
        x: (T, B, ...) inputs, e.g. from :func:`batchify`; (B, T, ...) with ``batch_first``.
        y: targets aligned with ``x``, same layout.
        window: k, steps per window; the last window may be shorter.
        batch_first (bool): the streams' layout. (default: ``False``)
        random_length (bool): draw each window's length as Merity et al. (2018): ``k`` with
            probability ``p_full``, else ``k / 2``; then ``int(N(that, std))``, clamped to
            ``[min_length, k + max_extra]``. (default: ``False``: every window is ``k`` long)
        p_full, std, min_length, max_extra: see ``random_length``. (defaults: ``0.95``, ``5.0``,
            ``5``, ``40``)
        generator (torch.Generator, optional): for the lengths; default: torch's global one
            (which the :class:`~graphrnn.train.Trainer` seeds and restores on resume).

    ``len()`` is the number of windows of fixed length ``k`` (with random lengths, about the
    number drawn: it only sizes progress bars).
    """

    def __init__(self, x: Tensor, y: Tensor, window: int, *, batch_first: bool = False,
                 random_length: bool = False, p_full: float = 0.95, std: float = 5.0,
                 min_length: int = 5, max_extra: int = 40,
                 generator: torch.Generator | None = None):
        time_dim = 1 if batch_first else 0
        layout = "(B, T, ...)" if batch_first else "time-major (T, B, ...)"
        if x.dim() < 2 or y.dim() < 2 or x.size(1 - time_dim) != y.size(1 - time_dim):
            raise ValueError(f"TBPTTWindows: x and y must be {layout} with the same B, got "
                             f"{tuple(x.shape)} and {tuple(y.shape)}")
        if x.size(time_dim) != y.size(time_dim):
            raise ValueError(f"TBPTTWindows: x has {x.size(time_dim)} steps but y has "
                             f"{y.size(time_dim)}")
        if not isinstance(window, int) or window < 1:
            raise ValueError(f"TBPTTWindows: window must be an int >= 1, got {window!r}")
        if random_length and not (0 <= p_full <= 1 and std >= 0 and 1 <= min_length
                                  and max_extra >= 0):
            raise ValueError(f"TBPTTWindows: random lengths need 0 <= p_full <= 1, std >= 0, "
                             f"min_length >= 1 and max_extra >= 0, got {p_full}, {std}, "
                             f"{min_length}, {max_extra}")
        self.x, self.y, self.window, self.batch_first = x, y, window, batch_first
        self.time_dim = time_dim
        self.random_length, self.p_full, self.std = random_length, p_full, std
        self.min_length, self.max_extra, self.generator = min_length, max_extra, generator

    def __len__(self) -> int:
        return -(-self.x.size(self.time_dim) // self.window)

    def _length(self) -> int:
        if not self.random_length:
            return self.window
        base = self.window if float(torch.rand((), generator=self.generator)) < self.p_full \
            else self.window / 2
        drawn = int(base + self.std * float(torch.randn((), generator=self.generator)))
        return min(max(self.min_length, drawn), self.window + self.max_extra)

    def __iter__(self):
        steps, start, first = self.x.size(self.time_dim), 0, True
        while start < steps:
            length = self._length()
            stop = min(start + length, steps)
            yield TBPTTBatch(self.x.narrow(self.time_dim, start, stop - start),
                             self.y.narrow(self.time_dim, start, stop - start), first,
                             (stop - start) / self.window)
            start, first = stop, False


class LengthScaledLR:
    """Scale ``optimizer``'s learning rates by the current window's ``scale`` (its length over
    the nominal window) for each step, as Merity et al. (2018) do with random window lengths:
    ``lr_step = lr * length / k``. The rates are restored right after the step, so schedulers
    (decay on plateau, say) and checkpoints only ever see the nominal rates.

    Set :attr:`scale` before ``optimizer.step()`` (:func:`tbptt_step` does, given this object).
    """

    def __init__(self, optimizer: torch.optim.Optimizer):
        self.optimizer, self.scale = optimizer, 1.0
        self._saved: list[float] | None = None
        self._handles = (optimizer.register_step_pre_hook(self._pre),
                         optimizer.register_step_post_hook(self._post))

    def _pre(self, optimizer, args, kwargs) -> None:
        self._saved = [group["lr"] for group in optimizer.param_groups]
        for group in optimizer.param_groups:
            group["lr"] = group["lr"] * self.scale

    def _post(self, optimizer, args, kwargs) -> None:
        for group, lr in zip(optimizer.param_groups, self._saved or []):
            group["lr"] = lr
        self._saved = None

    def remove(self) -> None:
        """Detach from the optimizer."""
        for handle in self._handles:
            handle.remove()


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
               carrier: CarriedState | None = None, lr_scale: LengthScaledLR | None = None):
    """A Trainer step for truncated BPTT over :class:`TBPTTBatch` windows.

    Args:
        forward: ``forward(model, x, state) -> (output, new_state)``, e.g.
            ``lambda m, x, s: m(x, s)`` for a module returning ``(output, h_n)``.
        loss_fn: ``loss_fn(output, y) -> loss`` or ``(loss, metrics)``.
        carrier: holds the state between calls (default: a new :class:`CarriedState`, available
            as ``step.carrier``).
        lr_scale: when given, each training window sets its ``scale`` (see
            :class:`LengthScaledLR`).

    Returns:
        ``step(model, batch) -> loss or (loss, metrics)``.
    """
    carrier = CarriedState() if carrier is None else carrier

    def step(model, batch: TBPTTBatch):
        state = carrier.take(batch.first, model.training)
        output, state = forward(model, batch.x, state)
        carrier.keep(state, model.training)
        if lr_scale is not None and model.training:
            lr_scale.scale = batch.scale
        return loss_fn(output, batch.y)

    step.carrier = carrier
    return step
