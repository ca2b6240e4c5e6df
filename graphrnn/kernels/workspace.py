"""Scratch buffers the kernels' backward passes reuse from one call to the next.

PyTorch's CPU allocator caches nothing: every tensor is a fresh ``malloc``, and glibc serves a
block above its mmap threshold (at most 32 MB by default) with new pages from the kernel, each of
which faults on first touch. A backward over a long chain needs several such blocks at once (the
gate gradients of every step: at T=400, B=64, H=256 the LSTM's are 105 MB), so on every training
step it paid tens of thousands of page faults: measured on the 2-core AMD EPYC VM, 64,000 faults
and ~85 ms of a 350 ms GRU forward + backward. CUDA's caching allocator already does what this
module does for the CPU.

:func:`scratch` hands out a tensor of the requested shape backed by a buffer kept per thread,
name and dtype, grown when a call needs more. Only pure temporaries of one backward go
here, never a tensor that outlives the call (a saved tensor, an output, a returned gradient), so
two kernels never see each other's data; different names within one call never alias. The
buffers hold the largest size met until :func:`release` frees them. On other devices
:func:`scratch` is a plain ``torch.empty`` (their allocators cache already).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence

import torch
from torch import Tensor

_local = threading.local()


def _buffers() -> dict:
    found = getattr(_local, "buffers", None)
    if found is None:
        found = _local.buffers = {}
    return found


def scratch(name: str, shape: Sequence[int], like: Tensor) -> Tensor:
    """An uninitialised contiguous tensor of ``shape`` with ``like``'s dtype and device, reusing
    this thread's buffer ``name`` on the CPU (see the module docstring). Valid until the next
    call with the same name on this thread."""
    count = 1
    for size in shape:
        count *= int(size)
    if like.device.type != "cpu":
        return like.new_empty(shape)
    key = (name, like.dtype)
    buffers = _buffers()
    buf = buffers.get(key)
    if buf is None or buf.numel() < count:
        buffers.pop(key, None)          # let the old block go before the new one is made
        buf = buffers[key] = torch.empty(count, dtype=like.dtype)
    return buf[:count].view(tuple(shape))


def held_bytes() -> int:
    """Bytes this thread's scratch buffers hold now (the bench adds them to a peak it reports)."""
    return sum(b.numel() * b.element_size() for b in _buffers().values())


def release() -> None:
    """Free this thread's scratch buffers (they are made again, at the size needed, on use)."""
    _buffers().clear()


__all__ = ["held_bytes", "release", "scratch"]
