"""Timing and memory measurement shared by the benchmarks.

Times are wall-clock seconds of forward + backward, the fastest of ``repeats`` runs after
``warmup`` runs (as :mod:`timeit` advises: slower runs measure the machine's other work, which on a
shared 2-core VM varies by +-15% from minute to minute, not the code); implementations being
compared are measured interleaved in one process, in a shuffled order each round (B, A, then
A, B, ...), so drift and whatever the previous run left behind hit them alike. Peak memory is
read from PyTorch's own allocator events (``torch.profiler`` with ``profile_memory=True``): the
highest total allocated during one run, minus what was allocated before it.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable

import torch


def time_interleaved(fns: dict[str, Callable[[], None]], repeats: int = 5,
                     warmup: int = 2) -> dict[str, float]:
    """Fastest seconds per call of each function, measured in rounds (shuffled order)."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    order, shuffle = list(fns), random.Random(0).shuffle
    for _ in range(repeats):
        shuffle(order)
        for name in order:
            fn = fns[name]
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: min(s) for name, s in samples.items()}


@contextlib.contextmanager
def _quiet_fds():
    """Silence C++ writes to stdout/stderr (the profiler announces itself there)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def peak_memory(fn: Callable[[], None]) -> int:
    """Peak bytes PyTorch allocates on the CPU while ``fn`` runs: the allocation and free events of
    ``torch.profiler`` (``profile_memory=True``) summed in time order, so memory held before the
    call does not count."""
    from torch.profiler import ProfilerActivity, profile

    fn()  # warm caches so one-time allocations do not count
    with _quiet_fds(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    with tempfile.TemporaryDirectory() as folder:
        trace = os.path.join(folder, "trace.json")
        with _quiet_fds():
            prof.export_chrome_trace(trace)
        with open(trace) as f:
            events = json.load(f)["traceEvents"]
    sizes = sorted((e["ts"], e["args"]["Bytes"]) for e in events
                   if e.get("name") == "[memory]" and e["args"].get("Device Type", 0) == 0)
    total = peak = 0
    for _, nbytes in sizes:
        total += nbytes
        peak = max(peak, total)
    return peak


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).rjust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def machine_line() -> str:
    import platform
    return (f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"{os.cpu_count()} cpus, {platform.processor() or platform.machine()}")
