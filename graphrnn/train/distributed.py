"""Multi-process data-parallel training with :mod:`torch.distributed`.

Launch any training script with ``torchrun --nproc_per_node=N script.py``: torchrun sets ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``, and :func:`init_distributed`
reads them. Run without torchrun, the same script trains on one process and nothing here does
anything. The backend is ``nccl`` when CUDA is available and ``gloo`` otherwise.

Each process sees ``1/N`` of every epoch through a :class:`~torch.utils.data.DistributedSampler`;
:class:`~torch.nn.parallel.DistributedDataParallel` averages gradients across processes during
``backward()``, so N processes with per-process batch ``B`` take the same step as one process with
batch ``N * B`` (for a loss that is a mean over the batch).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler


@dataclass(frozen=True)
class DistInfo:
    """This process: ``rank`` of ``world_size``, ``local_rank`` on its node, its ``device``."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from None


def init_distributed(backend: str | None = None,
                     device: str | torch.device | None = None) -> DistInfo:
    """Join the process group that ``torchrun`` described in the environment, if any.

    With ``WORLD_SIZE`` unset or ``1`` no group is created. Calling it again once the group exists
    just reports it.

    Args:
        backend (str, optional): ``"gloo"`` or ``"nccl"``; default ``nccl`` if CUDA is available,
            else ``gloo``.
        device (str or torch.device, optional): default ``cuda:LOCAL_RANK`` when CUDA is
            available, else ``cpu``.
    """
    world_size = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    if device is None:
        device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size > 1 and not dist.is_initialized():
        backend = backend or ("nccl" if device.type == "cuda" else "gloo")
        if backend == "nccl" and device.type != "cuda":
            raise ValueError(f"backend 'nccl' needs a CUDA device, got device={device}")
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    if dist.is_initialized():
        rank, world_size = dist.get_rank(), dist.get_world_size()
    return DistInfo(rank=rank, world_size=world_size, local_rank=local_rank, device=device)


def get_rank() -> int:
    """This process's rank, 0 when not distributed."""
    return dist.get_rank() if dist.is_initialized() else 0


def get_world_size() -> int:
    """Number of processes, 1 when not distributed."""
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main_process() -> bool:
    """True on rank 0: the only process that writes files and shows progress."""
    return get_rank() == 0


def barrier() -> None:
    """Wait for every process (no-op when not distributed)."""
    if get_world_size() > 1:
        dist.barrier()


def cleanup() -> None:
    """Leave the process group if one was joined."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Wrap ``model`` in :class:`DistributedDataParallel` when more than one process runs.

    A model already wrapped is returned unchanged (wrap it yourself to pass options such as
    ``find_unused_parameters=True``). Wrapping broadcasts rank 0's parameters to every process.
    """
    if get_world_size() == 1 or isinstance(model, DistributedDataParallel):
        return model
    device_ids = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def unwrap_model(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside ``DistributedDataParallel`` / ``torch.compile`` wrappers (or ``model``)."""
    while True:
        if isinstance(model, DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):  # torch.compile's OptimizedModule
            model = model._orig_mod
        else:
            return model


def distribute_loader(loader, name: str = "loader", shuffle: bool | None = None, seed: int = 0):
    """Return ``loader`` rebuilt to draw only this process's share of each epoch.

    Works for ``torch.utils.data.DataLoader`` and PyG's ``DataLoader`` (a subclass whose
    ``collate_fn`` is kept). With one process, or a loader whose sampler already is a
    :class:`DistributedSampler`, ``loader`` is returned unchanged. Anything else that is not a
    ``DataLoader`` (a plain list of batches, say) is returned unchanged too: you shard it.

    Args:
        loader: the loader to shard.
        name (str): used in error messages. (default: ``"loader"``)
        shuffle (bool, optional): default: shuffle iff ``loader`` used a ``RandomSampler``.
        seed (int): seed of the sampler's shuffling, identical on every process. (default: ``0``)

    Note:
        :class:`DistributedSampler` pads the dataset by repeating samples so that every process
        gets the same number of batches; evaluation on a sharded loader therefore counts a few
        samples twice when ``len(dataset)`` is not a multiple of the world size.
    """
    world_size = get_world_size()
    if world_size == 1 or not isinstance(loader, DataLoader):
        return loader
    if isinstance(loader.sampler, DistributedSampler):
        return loader
    if not isinstance(loader.sampler, (RandomSampler, SequentialSampler)):
        raise ValueError(f"{name} uses a {type(loader.sampler).__name__}; cannot shard it "
                         "automatically: expected a RandomSampler or SequentialSampler, or build "
                         "the loader with a DistributedSampler yourself")
    if loader.batch_size is None:
        raise ValueError(f"{name} uses a custom batch_sampler; cannot shard it automatically: "
                         "build it with batch_size=... or shard it yourself")
    if shuffle is None:
        shuffle = isinstance(loader.sampler, RandomSampler)
    sampler = DistributedSampler(loader.dataset, num_replicas=world_size, rank=get_rank(),
                                 shuffle=shuffle, seed=seed)
    return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=sampler,
                      num_workers=loader.num_workers, collate_fn=loader.collate_fn,
                      pin_memory=loader.pin_memory, drop_last=loader.drop_last,
                      timeout=loader.timeout, worker_init_fn=loader.worker_init_fn,
                      persistent_workers=loader.persistent_workers)


def collective_device() -> torch.device:
    """Where tensors sent between processes must live: the current GPU for nccl, else CPU."""
    if dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum ``tensor`` over all processes in place and return it (no-op with one process)."""
    if get_world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_gather_objects(obj) -> list:
    """List of ``obj`` from every process, indexed by rank (``[obj]`` with one process)."""
    if get_world_size() == 1:
        return [obj]
    out = [None] * get_world_size()
    dist.all_gather_object(out, obj)
    return out
