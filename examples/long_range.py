"""Long-range dependencies: at which sequence length does each cell stop remembering?

Task: T one-hot symbols (4 kinds, random), a marker on the first; classify the *first* symbol
from the final state (chance 25%). For every cell (SRN, LSTM, GRU, hidden 32, same training
budget, Adam, gradient clipping by norm, early stopping on validation accuracy) and every T of the
sweep, train on 3,000 sequences and score 1,000 fresh ones; a run succeeds at >= 90% accuracy.
The gated cells start from chrono initialisation (Tallec & Ollivier 2018; ``--gate-init``), the
SRN from torch.nn's (it has no gate to initialise).

The gradient-flow figure shows why: ||dL_T/dh_k|| for every k on the same sequence, for the
freshly initialised cells and for the cells trained on the longest T all three attempted; the
SRN's signal decays geometrically with T - k. Files in OUT: ``long_range_sweep.json``,
``long_range.png`` (accuracy against T), ``gradient_flow.png``, ``models.pt``::

    graphrnn train long_range --lengths 10 20 40 80 160 --epochs 20
    graphrnn evaluate long_range --checkpoint runs/long_range/models.pt
"""
from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from graphrnn.tasks.gradient_flow import (CELLS, LongRangeClassifier, first_symbol_data,
                                          gradient_flow, long_range_sweep, plot_gradient_flow)
from graphrnn.train import (apply_threads, example_parser, load_for_evaluation, save_checkpoint,
                            write_results)

DESCRIPTION = "remember the first symbol over T steps: where SRN, LSTM, GRU fail (+ gradient flow)"
SYMBOLS = 4


def _parser(action: str):
    parser = example_parser("long_range", __doc__, epochs=20)
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 20, 40, 80, 160])
    parser.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--train-size", type=int, default=3000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--gate-init", choices=LongRangeClassifier.GATE_INITS, default="chrono",
                        help="bias initialisation of the LSTM and GRU gates (default: chrono)")
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--flow-length", type=int, default=None,
                        help="T of the gradient-flow figure (default: longest T all cells tried)")
    if action == "evaluate":
        parser.add_argument("--checkpoint", default=None, help="default: OUT/models.pt")
    return parser


def flow_curves(models: dict[str, nn.Module], length: int, seed: int = 7
                ) -> dict[str, torch.Tensor]:
    """||dL_T/dh_k|| of each model's recurrent layer on one shared batch of sequences, computed in
    float64 (the SRN's deltas fall below float32's range within a few dozen steps)."""
    x, y = first_symbol_data(32, length, SYMBOLS, seed=seed)
    x = x.double()
    curves = {}
    for name, model in models.items():
        model = copy.deepcopy(model).double()
        curves[name] = gradient_flow(model.rnn, x,
                                     lambda h, m=model: F.cross_entropy(m.head(h), y))
    return curves


def draw_flow(trained: dict[str, nn.Module], trained_T: int | None, flow_T: int, cells, hidden: int,
              gate_init: str, seed: int, path: Path) -> dict:
    """The two-panel gradient-flow figure: fresh cells, and the cells trained on ``trained_T``,
    all on the same sequences of ``flow_T`` steps. Returns the panels' curves."""
    torch.manual_seed(seed)
    fresh = {c.upper(): LongRangeClassifier(c, SYMBOLS + 1, hidden, SYMBOLS, gate_init=gate_init,
                                            max_length=flow_T) for c in cells}
    panels = {f"fresh cells, T = {flow_T}": flow_curves(fresh, flow_T)}
    if trained:
        panels[f"trained on T = {trained_T}, evaluated at T = {flow_T}"] = \
            flow_curves(trained, flow_T)
    plot_gradient_flow({}, path, panels=panels)
    return panels


def srn_fails_others_succeed(table, lengths, cells) -> list[int]:
    """The T at which the SRN failed while the LSTM and GRU (those swept) succeeded."""
    def ok(cell, T):
        return any(r["cell"] == cell and r["T"] == T and r["success"] for r in table)
    return [T for T in lengths if any(r["cell"] == "srn" and r["T"] == T and not r["success"]
                                      and not r["skipped"] for r in table)
            and all(ok(c, T) for c in ("lstm", "gru") if c in cells)]


def plot_sweep(rows, path: Path, threshold: float) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for cell in dict.fromkeys(r["cell"] for r in rows):
        pts = [(r["T"], r["test_acc"]) for r in rows if r["cell"] == cell and not r["skipped"]]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=cell.upper())
    ax.axhline(threshold, color="gray", ls="--", lw=0.8, label=f"success ({threshold:.0%})")
    ax.axhline(1 / SYMBOLS, color="gray", ls=":", lw=0.8, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("T (steps between the symbol and the answer)")
    ax.set_ylabel("test accuracy")
    ax.set_title("remember the first symbol")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train(argv=None) -> int:
    args = _parser("train").parse_args(argv)
    apply_threads(args.threads)
    if args.quick:
        args.lengths, args.hidden, args.train_size, args.test_size = [5, 10], 16, 400, 200
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows = long_range_sweep(args.lengths, args.cells, threshold=args.threshold,
                            hidden_size=args.hidden, num_symbols=SYMBOLS,
                            train_size=args.train_size, test_size=args.test_size,
                            max_epochs=args.epochs, lr=args.lr, patience=args.patience,
                            seed=args.seed, gate_init=args.gate_init)
    table = [{k: v for k, v in r.items() if k != "model"} for r in rows]
    srn_fail = srn_fails_others_succeed(table, args.lengths, args.cells)
    tried = [T for T in args.lengths
             if all(any(r["T"] == T and r["cell"] == c and not r["skipped"] for r in rows)
                    for c in args.cells)]
    # the trained panel shows the longest T where the SRN failed and the gated cells did not
    trained_T = max(srn_fail) if srn_fail else (max(tried) if tried else None)
    flow_T = args.flow_length or trained_T or max(args.lengths)
    trained = {r["cell"].upper(): r["model"] for r in rows
               if r["T"] == trained_T and "model" in r}
    panels = draw_flow(trained, trained_T, flow_T, args.cells, args.hidden, args.gate_init,
                       args.seed, out / "gradient_flow.png")
    plot_sweep(rows, out / "long_range.png", args.threshold)
    models = nn.ModuleDict({f"{r['cell']}_T{r['T']}": r["model"] for r in rows if "model" in r})
    config = {"hidden": args.hidden, "symbols": SYMBOLS, "test_size": args.test_size,
              "seed": args.seed, "gate_init": args.gate_init, "cells": args.cells,
              "lengths": args.lengths, "runs": [{k: (None if isinstance(v, float) and math.isnan(v)
                                               else v) for k, v in r.items()} for r in table]}
    save_checkpoint(out / "models.pt", models, config=config)
    elapsed = time.perf_counter() - start
    print(f"long_range sweep in {elapsed:.0f} s (test accuracy; * = success >= "
          f"{args.threshold:.0%}, - = not tried after two failures):")
    print("   T  " + "  ".join(f"{c.upper():>6}" for c in args.cells))
    for T in args.lengths:
        cells = []
        for c in args.cells:
            r = next(r for r in table if r["cell"] == c and r["T"] == T)
            cells.append("     -" if r["skipped"] else
                         f"{r['test_acc']:.3f}{'*' if r['success'] else ' '}")
        print(f"{T:>4}  " + "  ".join(cells))
    if "srn" in args.cells and srn_fail:
        print(f"SRN fails while LSTM and GRU succeed at T = {srn_fail}")
    norms = {name: {c: [float(curve[0]), float(curve[-1])] for c, curve in group.items()}
             for name, group in panels.items()}
    write_results(out, "long_range_sweep.json",
        {"seconds": elapsed, "runs": config["runs"], "srn_fails_others_succeed": srn_fail,
         "gradient_norm_first_last": norms})
    print(f"figures: {out / 'gradient_flow.png'}, {out / 'long_range.png'}")
    return 0


def evaluate(argv=None) -> int:
    args = _parser("evaluate").parse_args(argv)
    _, ckpt, path = load_for_evaluation(args, "models.pt")
    config = ckpt["config"]
    models = {}
    keys = sorted({k.split(".")[0] for k in ckpt["model"]}, key=lambda k: (k.split("_T")[0],
                                                                           int(k.split("_T")[1])))
    for key in keys:
        cell, T = key.split("_T")
        # rebuilt from the state dict: the gate initialisation only set starting values
        model = LongRangeClassifier(cell, config["symbols"] + 1, config["hidden"],
                                    config["symbols"])
        model.load_state_dict({k[len(key) + 1:]: v for k, v in ckpt["model"].items()
                               if k.startswith(key + ".")})
        model.eval()
        x, y = first_symbol_data(config["test_size"], int(T), config["symbols"],
                                 seed=3000 + config["seed"])
        with torch.no_grad():
            acc = float((model(x).argmax(-1) == y).float().mean())
        print(f"{cell:>4} T={T:<4} test accuracy {acc:.3f}")
        models[key] = model
    if args.flow_length or "runs" in config:
        runs = [dict(r, test_acc=r["test_acc"] if r["test_acc"] is not None else math.nan)
                for r in config["runs"]]
        cells = config.get("cells", list(CELLS))
        srn_fail = srn_fails_others_succeed(runs, sorted({r["T"] for r in runs}), cells)
        trained_T = max(srn_fail) if srn_fail else None
        flow_T = args.flow_length or trained_T
        if flow_T:
            trained = {c.upper(): models[f"{c}_T{trained_T}"] for c in cells
                       if f"{c}_T{trained_T}" in models}
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            draw_flow(trained, trained_T, flow_T, cells, config["hidden"],
                      config.get("gate_init", "chrono"), config["seed"], out / "gradient_flow.png")
            print(f"figure: {out / 'gradient_flow.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
