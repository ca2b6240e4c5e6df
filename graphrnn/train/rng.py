"""Seeding and capturing every random number generator a training run touches.

The states are returned as plain tensors, ints and tuples so that a checkpoint holding them loads
with ``torch.load(..., weights_only=True)`` (a NumPy array would need unpickling).
"""
from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's :mod:`random`, NumPy's global generator and torch (CPU and every CUDA device).

    Call it before building the model so that its initial weights are reproducible too.

    Args:
        seed (int): any integer in ``[0, 2**32)``.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an int in [0, 2**32), got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_rng_state() -> dict:
    """Return the states of Python's, NumPy's and torch's global generators.

    Returns:
        dict: ``{"python": tuple, "numpy": dict, "torch": ByteTensor, "cuda": list[ByteTensor]}``,
        loadable with ``weights_only=True``.
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict) -> None:
    """Restore generator states captured by :func:`get_rng_state`.

    CUDA states are restored only when the number of visible devices matches the number saved.
    """
    missing = {"python", "numpy", "torch"} - set(state)
    if missing:
        raise KeyError(f"rng state lacks {sorted(missing)}; expected the dict that "
                       "get_rng_state() returns")
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    keys = n["keys"].cpu().numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
