"""The quick in-process measurement behind the kernels' choices of route (products, tanh).

Candidates are timed in rounds, each round calling every candidate once in turn, and each keeps
its fastest call: a burst of other work on a shared machine then slows every candidate of a
round alike instead of condemning whichever happened to run during it.
"""
from __future__ import annotations

import time
from collections.abc import Callable


def fastest(fns: dict[str, Callable[[], object]], repeats: int = 5,
            budget: float = 0.2) -> dict[str, float]:
    """Fastest seconds of one call of each function: one warm-up call each, then up to
    ``repeats`` interleaved rounds, fewer once ``budget`` seconds have gone (large shapes)."""
    for fn in fns.values():
        fn()
    best = {name: float("inf") for name in fns}
    start = time.perf_counter()
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
        if time.perf_counter() - start > budget:
            break
    return best


def row_bucket(rows: int) -> int:
    """``rows`` rounded up to a power of two: the key a measured choice is kept under, so that
    batches of varying size do not measure again."""
    return 1 << max(int(rows) - 1, 0).bit_length()


__all__ = ["fastest", "row_bucket"]
