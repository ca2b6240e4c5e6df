"""``graphrnn bench chain``: chain RNNs against ``torch.nn``, side by side in one process.

For each batch size B and length T: forward + backward time of ``graphrnn.nn.LSTM/GRU/RNN`` with
the fused fast path (``engine="auto"``) and with the generic engine forced (``engine="generic"``),
each against the same ``torch.nn`` module with the same weights, and a peephole LSTM (which
``torch.nn`` lacks) against ``torch.nn.LSTM`` as the yardstick. Ratios are ours / torch (lower is
better); memory is the peak allocated during one forward + backward.
"""
from __future__ import annotations

import argparse

import torch

from .. import nn as gnn
from .common import format_table, machine_line, peak_memory, time_interleaved


def _fwd_bwd(module, x):
    def run():
        out, _ = module(x)
        out.sum().backward()
    return run


def measure(batch: int, steps: int, input_size: int, hidden_size: int, repeats: int,
            modes=("LSTM", "GRU", "RNN"), memory: bool = True) -> list[dict]:
    """Rows of measurements for one (B, T); see the module docstring."""
    torch.manual_seed(0)
    x = torch.randn(steps, batch, input_size)
    rows = []
    for mode in modes:
        ref = getattr(torch.nn, mode)(input_size, hidden_size)
        variants = {"fused": getattr(gnn, mode)(input_size, hidden_size),
                    "generic": getattr(gnn, mode)(input_size, hidden_size, engine="generic")}
        if mode == "LSTM":
            variants["peephole"] = gnn.LSTM(input_size, hidden_size, peephole=True)
        for name, module in variants.items():
            module.load_state_dict(ref.state_dict(), strict=name != "peephole")
        fns = {"torch": _fwd_bwd(ref, x), **{k: _fwd_bwd(m, x) for k, m in variants.items()}}
        times = time_interleaved(fns, repeats=repeats)
        mems = {k: peak_memory(fn) for k, fn in fns.items()} if memory else {}
        for name in variants:
            rows.append({"cell": mode if name != "peephole" else "LSTM peephole", "path": name,
                         "B": batch, "T": steps, "torch_ms": 1e3 * times["torch"],
                         "ours_ms": 1e3 * times[name], "ratio": times[name] / times["torch"],
                         "mem_ratio": (mems[name] / mems["torch"] if memory and mems["torch"]
                                       else None),
                         "ours_mb": mems.get(name, 0) / 2**20,
                         "torch_mb": mems.get("torch", 0) / 2**20})
    return rows


def run(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="graphrnn bench chain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 8])
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--input-size", type=int, default=128)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--cells", nargs="+", default=["LSTM", "GRU", "RNN"],
                        choices=["LSTM", "GRU", "RNN"])
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's setting)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--quick", action="store_true",
                        help="a small smoke run: B=8, T=20, input 16, hidden 32, 2 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.steps, args.input_size, args.hidden_size, args.repeats = (
            [8], [20], 16, 32, 2)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"graphrnn bench chain: forward+backward, float32, CPU; {machine_line()}")
    rows = []
    for batch in args.batch:
        for steps in args.steps:
            rows += measure(batch, steps, args.input_size, args.hidden_size, args.repeats,
                            args.cells, memory=not args.no_memory)
    table = [[r["cell"], r["path"], r["B"], r["T"], f"{r['torch_ms']:.1f}", f"{r['ours_ms']:.1f}",
              f"{r['ratio']:.2f}", "-" if r["mem_ratio"] is None else f"{r['mem_ratio']:.2f}"]
             for r in rows]
    print(format_table(["cell", "path", "B", "T", "torch ms", "ours ms", "time ratio", "mem ratio"],
                       table))
    return rows
