"""``graphrnn bench chain``: chain RNNs against ``torch.nn``, side by side in one process.

For each batch size B and length T: forward + backward time of ``graphrnn.nn.LSTM/GRU/RNN`` with
the fused fast path (``engine="auto"``) and with the generic engine forced (``engine="generic"``),
each against the same ``torch.nn`` module with the same weights, and the LSTM variants
``torch.nn`` lacks (peephole, coupled input/forget gate, no forget gate) against
``torch.nn.LSTM`` as the yardstick and against the generic LSTM; where the compiled gate steps of
:mod:`graphrnn.kernels.native` are built, each generic cell once more with them turned off
(``generic, PyTorch gates``), to show what they gain. Ratios are ours / torch (lower is
better): the ratio of the fastest runs, and the median and range of the ratios taken round by
round (each round runs every implementation once, in a shuffled order), which shows how far a
busy machine moved the figure. Memory is the peak allocated during one forward + backward.

Every table starts with the machine: CPU model, the ISA torch dispatches to, the BLAS and oneDNN
versions, and whether the compiled gate steps run. A micro-benchmark table follows: the per-step
recurrent product of the LSTM (B x H by H x 4H, and back) by each path
:mod:`graphrnn.kernels.products` can take, with the one it chose, the gradient of
``[W_ih | W_hh]`` summed over the first ``--steps`` value's steps (the product after the loop,
:func:`~graphrnn.kernels.products.weight_grad`), and the tanh routes
:mod:`graphrnn.kernels.pointwise` chooses between for the PyTorch gate path (the g gate's, and
the output ``h = o tanh(c)``); a table from another machine explains itself with them.
"""
from __future__ import annotations

import argparse
import statistics

import torch

from .. import nn as gnn
from ..kernels import native, pointwise, products
from .common import format_table, machine_line, peak_memory, time_rounds

LSTM_VARIANTS = {"peephole": {"peephole": True}, "coupled": {"coupled": True},
                 "no forget": {"forget_gate": False}}
TORCH_GATES = "generic, PyTorch gates"   # a generic cell with the compiled step turned off


def _fwd_bwd(module, x, compiled_gates: bool | None = None):
    """One forward + backward; ``compiled_gates=False``: with the chain kernels' gate arithmetic
    on PyTorch's kernels (the compiled steps of :mod:`graphrnn.kernels.native` turned off)."""
    def run():
        native.set_native(compiled_gates)
        try:
            out, _ = module(x)
            out.sum().backward()
        finally:
            native.set_native(None)
    return run


def compiled_step_line() -> str:
    """Whether the generic LSTM's, GRU's and SRN's gate arithmetic runs compiled here (built on
    the first call)."""
    if native.library() is None:
        return "compiled gate steps: unavailable (PyTorch gate kernels)"
    return f"compiled gate steps (LSTM, GRU, SRN): built by {native.compiler()}"


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
            variants.update({name: gnn.LSTM(input_size, hidden_size, **kwargs)
                             for name, kwargs in LSTM_VARIANTS.items()})
        for name, module in variants.items():
            if name in ("fused", "generic", "peephole"):   # 3-gate variants keep their own
                module.load_state_dict(ref.state_dict(), strict=name != "peephole")
        fns = {"torch": _fwd_bwd(ref, x), **{k: _fwd_bwd(m, x) for k, m in variants.items()}}
        if native.library() is not None:   # what the compiled step gains
            fns[TORCH_GATES] = _fwd_bwd(variants["generic"], x, compiled_gates=False)
        samples = time_rounds(fns, repeats=repeats)
        best = {k: min(v) for k, v in samples.items()}
        mems = {k: peak_memory(fn) for k, fn in fns.items()} if memory else {}
        for name in [n for n in fns if n != "torch"]:
            per_round = [a / b for a, b in zip(samples[name], samples["torch"])]
            rows.append({"cell": mode if name in ("fused", "generic", TORCH_GATES)
                         else f"LSTM {name}",
                         "path": name if name in ("fused", "generic", TORCH_GATES)
                         else "generic",
                         "B": batch, "T": steps, "torch_ms": 1e3 * best["torch"],
                         "ours_ms": 1e3 * best[name], "ratio": best[name] / best["torch"],
                         "ratio_median": statistics.median(per_round),
                         "ratio_min": min(per_round), "ratio_max": max(per_round),
                         "vs_generic": (best[name] / best["generic"]
                                        if name not in ("fused", "generic") else None),
                         "mem_ratio": (mems[name] / mems["torch"] if memory and mems["torch"]
                                       else None),
                         "ours_mb": mems.get(name, 0) / 2**20,
                         "torch_mb": mems.get("torch", 0) / 2**20})
    return rows


def micro_rows(batch: int, hidden_size: int, repeats: int = 20, steps: int = 100,
               input_size: int = 128) -> list[dict]:
    """The per-step products and pointwise routes of the LSTM chain kernel at batch ``batch``,
    and the gradient of ``[W_ih | W_hh]`` summed over ``steps`` steps after the loop (one call:
    the kernel's one product of the gate gradients with ``[x | h_prev]``)."""
    rows = []

    def add_products(what: str, times: dict, chosen: str, flops: int) -> None:
        rows.extend({"kind": "product", "what": what, "route": path, "us": 1e6 * seconds,
                     "gflops": flops / seconds / 1e9, "chosen": path == chosen}
                    for path, seconds in times.items())

    for what, k, n in (("h W_hh^T (forward)", hidden_size, 4 * hidden_size),
                       ("d W_hh (backward)", 4 * hidden_size, hidden_size)):
        add_products(f"{what} B={batch}",
                     products.measure_paths(batch, k, n, repeats=repeats, in_place=True),
                     products.product_path(batch, k, n, torch.float32, in_place=True),
                     2 * batch * k * n)
    gates, summed, width = 4 * hidden_size, batch * steps, input_size + hidden_size
    add_products(f"d [W_ih | W_hh], {steps} steps B={batch}",
                 products.measure_weight_grad_paths(summed, gates, width,
                                                    repeats=max(3, repeats // 4)),
                 products.weight_grad_path(summed, gates, width, torch.float32),
                 2 * summed * gates * width)
    times = pointwise.measure_tanh(batch, hidden_size, 4, repeats=repeats)
    gate, cell = pointwise.tanh_through_sigmoid(batch, hidden_size, 4, torch.float32,
                                                torch.device("cpu"))
    for route, seconds in times.items():
        part, how = route.split("_")
        chosen = (gate if part == "gate" else cell) == (how == "sigmoid")
        what = "gate tanh" if part == "gate" else "h = o tanh(c)"
        rows.append({"kind": "pointwise", "what": f"{what} B={batch}",
                     "route": "through sigmoid" if how == "sigmoid" else "torch.tanh",
                     "us": 1e6 * seconds, "gflops": None, "chosen": chosen})
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
    parser.add_argument("--no-micro", action="store_true",
                        help="skip the per-step product and pointwise micro-benchmarks")
    parser.add_argument("--quick", action="store_true",
                        help="a small smoke run: B=8, T=20, input 16, hidden 32, 2 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch, args.steps, args.input_size, args.hidden_size, args.repeats = (
            [8], [20], 16, 32, 2)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"graphrnn bench chain: forward+backward, float32, CPU; {machine_line()}; "
          f"{compiled_step_line()}")
    rows = []
    for batch in args.batch:
        for steps in args.steps:
            rows += measure(batch, steps, args.input_size, args.hidden_size, args.repeats,
                            args.cells, memory=not args.no_memory)
    table = [[r["cell"], r["path"], r["B"], r["T"], f"{r['torch_ms']:.1f}", f"{r['ours_ms']:.1f}",
              f"{r['ratio']:.2f}",
              f"{r['ratio_median']:.2f} [{r['ratio_min']:.2f}-{r['ratio_max']:.2f}]",
              "-" if r["vs_generic"] is None else f"{r['vs_generic']:.2f}",
              "-" if r["mem_ratio"] is None else f"{r['mem_ratio']:.2f}"]
             for r in rows]
    print(format_table(["cell", "path", "B", "T", "torch ms", "ours ms", "time ratio",
                        "per round: median [range]", "vs generic", "mem ratio"], table))
    if not args.no_micro:
        micro = [r for batch in args.batch for r in micro_rows(batch, args.hidden_size,
                                                                 max(args.repeats, 5),
                                                                 args.steps[0], args.input_size)]
        print(f"\nper-step kernels and the summed weight gradient (one call each, "
              f"H={args.hidden_size}; * = the route taken):")
        print(format_table(
            ["kernel", "route", "us", "GFLOP/s", ""],
            [[r["what"], r["route"], f"{r['us']:.1f}",
              "-" if r["gflops"] is None else f"{r['gflops']:.0f}", "*" if r["chosen"] else ""]
             for r in micro]))
        rows += micro
    return rows
