"""Timing and memory measurement shared by the benchmarks.

Times are wall-clock seconds of forward + backward, the median of ``repeats`` runs after
``warmup`` runs; implementations being compared are measured interleaved (A, B, A, B, ...) in one
process, so drift in machine load hits them alike. Peak memory is read from PyTorch's own
allocator events (``torch.profiler`` with ``profile_memory=True``): the highest total allocated
during one run, minus what was allocated before it.
"""
from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import torch


def time_interleaved(fns: dict[str, Callable[[], None]], repeats: int = 5,
                     warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each function, measured round-robin."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}


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
