"""Averaging per-batch metrics, and the one evaluation routine.

A *step* is any callable ``step(model, batch) -> loss`` or ``-> (loss, metrics)`` where ``loss`` is
a scalar tensor (a mean over the batch) and ``metrics`` a dict of per-batch means (floats or
scalar tensors). Averages over an epoch are weighted by batch size, so they equal the mean over all
samples whatever the size of the last batch. Under ``torch.distributed`` the sums are added across
processes, so every process gets the same, global averages.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch

from .distributed import all_reduce_sum, collective_device

Step = Callable[[torch.nn.Module, Any], Any]


def batch_size_of(batch: Any) -> int:
    """Number of samples in ``batch``.

    A PyG ``Batch`` counts its graphs (``num_graphs``); a tensor its first dimension; a tuple, list
    or dict the batch size of its first element / value.
    """
    if hasattr(batch, "num_graphs"):
        return int(batch.num_graphs)
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() > 0 else 1
    if isinstance(batch, Mapping) and batch:
        return batch_size_of(next(iter(batch.values())))
    if isinstance(batch, (list, tuple)) and batch:
        return batch_size_of(batch[0])
    raise TypeError(f"cannot tell the batch size of a {type(batch).__name__}; expected a PyG "
                    "Batch, a tensor, or a tuple/list/dict of them; pass batch_size_fn=...")


def move_to(batch: Any, device: torch.device | str | None) -> Any:
    """``batch`` with every tensor (or object with ``.to``, e.g. PyG ``Data``) on ``device``."""
    if device is None:
        return batch
    if isinstance(batch, Mapping):
        return type(batch)({k: move_to(v, device) for k, v in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_to(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_to(v, device) for v in batch)
    if hasattr(batch, "to"):
        return batch.to(device)
    return batch


def call_step(step: Step, model: torch.nn.Module, batch: Any) -> tuple[torch.Tensor, dict]:
    """Run ``step`` and normalise its result to ``(loss, metrics)``, checking the types."""
    out = step(model, batch)
    if isinstance(out, torch.Tensor):
        out = (out, {})
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        size = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        raise TypeError(f"step must return a scalar loss tensor or (loss, metrics), got "
                        f"{type(out).__name__}{size}")
    loss, metrics = out
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = f" with shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else ""
        raise TypeError(f"step must return a scalar loss tensor or (loss, metrics), got loss of "
                        f"type {type(loss).__name__}{shape}")
    if not isinstance(metrics, Mapping):
        raise TypeError(f"step must return (loss, metrics) with metrics a dict, got "
                        f"{type(metrics).__name__}")
    if "loss" in metrics:
        raise ValueError("step's metrics dict must not contain 'loss': the loss is recorded "
                         "already")
    return loss, dict(metrics)


class MetricAverager:
    """Running sums of ``value * batch_size`` per metric name.

    Example::

        avg = MetricAverager()
        avg.update({"loss": 0.5, "acc": 1.0}, n=32)
        avg.compute()  # {"loss": 0.5, "acc": 1.0}
    """

    def __init__(self):
        self.sums: dict[str, float] = {}
        self.count = 0

    def update(self, metrics: Mapping[str, float | torch.Tensor], n: int) -> None:
        """Add per-batch means ``metrics`` of a batch of ``n`` samples."""
        if n <= 0:
            raise ValueError(f"batch size must be positive, got {n}")
        for name, value in metrics.items():
            if isinstance(value, torch.Tensor):
                if value.numel() != 1:
                    raise ValueError(f"metric {name!r} has shape {tuple(value.shape)}; expected a "
                                     "scalar (a mean over the batch)")
                value = value.detach()
            value = float(value)
            self.sums[name] = self.sums.get(name, 0.0) + value * n
        self.count += n

    def compute(self) -> dict[str, float]:
        """Weighted means; ``{}`` if nothing was added."""
        return {k: v / self.count for k, v in self.sums.items()} if self.count else {}

    def all_reduce(self, device: torch.device | str | None = None) -> MetricAverager:
        """Add the sums and counts of every process (every process must hold the same names).

        ``device`` holds the buffer sent; default: the one the process group's backend needs.
        """
        names = sorted(self.sums)
        t = torch.tensor([self.sums[k] for k in names] + [float(self.count)], dtype=torch.float64,
                         device=device or collective_device())
        all_reduce_sum(t)
        self.sums = dict(zip(names, t[:-1].tolist()))
        self.count = int(round(t[-1].item()))
        return self


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: Iterable, step: Step, *,
             device: torch.device | str | None = None,
             batch_size_fn: Callable[[Any], int] = batch_size_of) -> dict[str, float]:
    """Average ``step``'s loss and metrics over ``loader``, weighted by batch size.

    The model is put in ``eval()`` mode for the pass and back to its previous mode after; gradients
    are off. Under ``torch.distributed`` each process evaluates its shard and the results are
    combined, so every process returns the same numbers.

    Args:
        model (torch.nn.Module): the model (DDP-wrapped or not).
        loader (iterable): batches (PyG/torch ``DataLoader`` or any iterable).
        step (callable): ``step(model, batch) -> loss`` or ``(loss, metrics)``.
        device (torch.device, optional): batches are moved there; ``None`` leaves them.
        batch_size_fn (callable): batch -> number of samples. (default: :func:`batch_size_of`)

    Returns:
        dict[str, float]: ``{"loss": ..., **metrics}``.
    """
    was_training = model.training
    model.eval()
    avg = MetricAverager()
    try:
        for batch in loader:
            batch = move_to(batch, device)
            loss, metrics = call_step(step, model, batch)
            avg.update({"loss": loss, **metrics}, batch_size_fn(batch))
    finally:
        model.train(was_training)
    avg.all_reduce()
    if avg.count == 0:
        raise ValueError("evaluate: loader yielded no batches; expected at least one")
    return avg.compute()
