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

from ..kernels.workspace import release as release_scratch


def time_interleaved(fns: dict[str, Callable[[], None]], repeats: int = 5,
                     warmup: int = 2) -> dict[str, float]:
    """Fastest seconds per call of each function, measured in rounds (shuffled order)."""
    return {name: min(s) for name, s in time_rounds(fns, repeats, warmup).items()}


def time_rounds(fns: dict[str, Callable[[], None]], repeats: int = 5,
                warmup: int = 2) -> dict[str, list[float]]:
    """Seconds per call of each function in each of ``repeats`` rounds (shuffled order per
    round), so that ratios can be taken round by round: the spread of those ratios is what a
    table from a busy machine should show beside the ratio of the fastest runs."""
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
    return samples


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
    call does not count; the kernels' scratch buffers (:mod:`graphrnn.kernels.workspace`), which
    outlive a call, are freed first so that the run makes and counts them."""
    from torch.profiler import ProfilerActivity, profile

    fn()  # warm caches so one-time allocations do not count
    release_scratch()   # but the kernels' reused scratch buffers do: made again inside the run
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


def cpu_model() -> str:
    """The CPU's model name with its family and model numbers (from ``/proc/cpuinfo`` on Linux;
    ``platform.processor()`` elsewhere)."""
    import platform
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in fields:
                    fields[key] = value.strip()
                if not line.strip() and fields:
                    break
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return name


def math_libraries() -> str:
    """The ISA torch's CPU kernels dispatch to and the BLAS / oneDNN versions of this build."""
    import re
    config = torch.__config__.show()
    parts = [f"ISA {torch.backends.cpu.get_cpu_capability()}"]
    mkl = re.search(r"Math Kernel Library Version ([\w.]+)", config)
    if mkl:
        parts.append(f"MKL {mkl.group(1)}")
    else:
        blas = re.search(r"BLAS_INFO=(\w+)", config)
        parts.append(f"BLAS {blas.group(1) if blas else 'unknown'}")
    dnn = re.search(r"MKL-DNN v([\w.]+)", config)
    parts.append(f"oneDNN {dnn.group(1)}" if dnn and torch.backends.mkldnn.is_available()
                 else "no oneDNN")
    return ", ".join(parts)


def machine_line() -> str:
    """One line naming everything a timing depends on: torch, threads, CPU, ISA, BLAS, oneDNN."""
    return (f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"{os.cpu_count()} cpus, {cpu_model()}; {math_libraries()}")
