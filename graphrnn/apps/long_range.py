"""Long-range dependencies: at which sequence length does each cell stop remembering?

Task (graphrnn.datasets.sequences.FirstSymbol): T one-hot symbols (4 kinds, random), a marker on
the first; classify the *first* symbol from the final state (chance 25%). For every cell (SRN,
LSTM, GRU, hidden 32, same training budget, Adam, gradient clipping by norm, early stopping on
validation accuracy) and every T of the sweep, train on 3,000 sequences and score 1,000 fresh
ones; a run succeeds at >= 90% accuracy, and a cell that failed at two lengths in a row is not
tried on longer ones. The gated cells start from chrono initialisation (Tallec & Ollivier 2018;
--gate-init), the SRN from torch.nn's (it has no gate to initialise).

The gradient-flow figure shows why: ||dL_T/dh_k|| for every k on the same sequences, for freshly
initialised cells and for the cells trained at the longest T where the SRN failed and the gated
cells did not; the SRN's signal decays geometrically with T - k. Files in OUT: results.json,
long_range.png (accuracy against T), gradient_flow.png, models.pt.

    graphrnn train long_range                 # at T = 80 the SRN is at chance, LSTM/GRU 100%
    graphrnn evaluate long_range --checkpoint runs/long_range/models.pt
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .config import EvaluateConfig, TrainConfig, option

CELLS = ("srn", "lstm", "gru")
SYMBOLS = 4


@dataclass
class Config(TrainConfig):
    epochs: int = option(20, "most training epochs per run (early stopping)", min=1)
    lengths: list[int] = option([10, 20, 40, 80, 160], "sequence lengths T of the sweep", min=1)
    cells: list[str] = option(list(CELLS), "cells to sweep", choices=CELLS)
    hidden: int = option(32, "hidden units", min=1)
    train_size: int = option(3000, "training sequences per run", min=1)
    test_size: int = option(1000, "test sequences per run (validation: half as many)", min=2)
    batch_size: int = option(50, "sequences per batch", min=1)
    lr: float = option(1e-2, "Adam learning rate", positive=True)
    patience: int = option(5, "epochs without validation gain before stopping", min=1)
    gate_init: str = option("chrono", "bias initialisation of the LSTM and GRU gates",
                            choices=("default", "forget1", "chrono"))
    threshold: float = option(0.9, "test accuracy counted as success", min=0, max=1)
    flow_length: int | None = option(None, "T of the gradient-flow figure (default: the T of "
                                     "its trained panel)", min=1)


@dataclass
class Evaluate(EvaluateConfig):
    flow_length: int | None = option(None, "redraw the gradient-flow figure at this T", min=1)


def train_run(config: Config, cell: str, length: int) -> dict:
    """Train one classifier on the first-symbol task of ``length`` steps with the one training
    loop and score it on fresh test sequences: ``{"cell", "T", "test_acc", "epochs", "seconds",
    "model"}``."""
    import torch
    from torch.utils.data import DataLoader

    from ..datasets.sequences import FirstSymbol
    from ..models.long_range import LongRangeClassifier, accuracy_on, long_range_step
    from ..train import Trainer
    from .runtime import Timer

    seed = config.seed
    torch.manual_seed(seed)
    train = FirstSymbol(config.train_size, length, SYMBOLS, seed=1000 + seed)
    val = FirstSymbol(config.test_size // 2, length, SYMBOLS, seed=2000 + seed)
    test = FirstSymbol(config.test_size, length, SYMBOLS, seed=3000 + seed)
    model = LongRangeClassifier(cell, SYMBOLS + 1, config.hidden, SYMBOLS,
                                gate_init=config.gate_init, max_length=length)
    gen = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=config.batch_size, shuffle=True, generator=gen)
    timer = Timer()
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=config.lr), long_range_step,
                      max_epochs=config.epochs, monitor="val_acc", mode="max",
                      patience=config.patience, min_delta=1e-3, clip_grad_norm=1.0, seed=seed,
                      progress=False, restore_best=True, tensorboard=False)
    history = trainer.fit(train_loader, DataLoader(val, batch_size=500))
    return {"cell": cell, "T": length, "test_acc": accuracy_on(model, test.x, test.y),
            "epochs": len(history), "seconds": timer.seconds, "model": model}


def sweep(config: Config, log=print) -> list[dict]:
    """:func:`train_run` for every cell and T; after two failures in a row a cell's longer T are
    recorded as ``skipped`` (``test_acc`` nan)."""
    rows = []
    for cell in config.cells:
        failures = 0
        for length in config.lengths:
            if failures >= 2:
                rows.append({"cell": cell, "T": length, "test_acc": math.nan, "success": False,
                             "epochs": 0, "seconds": 0.0, "skipped": True})
                continue
            row = train_run(config, cell, length)
            row["success"], row["skipped"] = row["test_acc"] >= config.threshold, False
            failures = 0 if row["success"] else failures + 1
            rows.append(row)
            if log is not None:
                log(f"{cell:>4} T={length:<4} test acc {row['test_acc']:.3f} "
                    f"({'ok' if row['success'] else 'FAIL'}, {row['epochs']} epochs, "
                    f"{row['seconds']:.0f} s)")
    return rows


def srn_fails_others_succeed(table, lengths, cells) -> list[int]:
    """The T at which the SRN failed while the LSTM and GRU (those swept) succeeded."""
    def ok(cell, T):
        return any(r["cell"] == cell and r["T"] == T and r["success"] for r in table)
    return [T for T in lengths if any(r["cell"] == "srn" and r["T"] == T and not r["success"]
                                      and not r["skipped"] for r in table)
            and all(ok(c, T) for c in ("lstm", "gru") if c in cells)]


def flow_curves(models: dict, length: int, seed: int = 7) -> dict:
    """||dL_T/dh_k|| of each model's recurrent layer on one shared batch of sequences, in float64
    (the SRN's deltas fall below float32's range within a few dozen steps)."""
    import copy

    import torch.nn.functional as F

    from ..datasets.sequences import first_symbol_data
    from ..tasks.gradient_flow import gradient_flow

    x, y = first_symbol_data(32, length, SYMBOLS, seed=seed)
    x = x.double()
    curves = {}
    for name, model in models.items():
        model = copy.deepcopy(model).double()
        curves[name] = gradient_flow(model.rnn, x,
                                     lambda h, m=model: F.cross_entropy(m.head(h), y))
    return curves


def draw_flow(trained: dict, trained_T: int | None, flow_T: int, cells, hidden: int,
              gate_init: str, seed: int, path: Path) -> dict:
    """The two-panel gradient-flow figure: fresh cells, and the cells trained on ``trained_T``,
    all on the same sequences of ``flow_T`` steps. Returns the panels' curves."""
    import torch

    from ..models.long_range import LongRangeClassifier
    from ..plots.gradient_flow import plot_gradient_flow

    torch.manual_seed(seed)
    fresh = {c.upper(): LongRangeClassifier(c, SYMBOLS + 1, hidden, SYMBOLS, gate_init=gate_init,
                                            max_length=flow_T) for c in cells}
    panels = {f"fresh cells, T = {flow_T}": flow_curves(fresh, flow_T)}
    if trained:
        panels[f"trained on T = {trained_T}, evaluated at T = {flow_T}"] = \
            flow_curves(trained, flow_T)
    plot_gradient_flow({}, path, panels=panels)
    return panels


def _print_table(table, config: Config) -> None:
    print("   T  " + "  ".join(f"{c.upper():>6}" for c in config.cells))
    for T in config.lengths:
        cells = []
        for c in config.cells:
            r = next(r for r in table if r["cell"] == c and r["T"] == T)
            cells.append("     -" if r["skipped"] else
                         f"{r['test_acc']:.3f}{'*' if r['success'] else ' '}")
        print(f"{T:>4}  " + "  ".join(cells))


def train(config: Config) -> dict:
    from torch import nn

    from ..plots.gradient_flow import plot_sweep
    from ..train import save_checkpoint
    from .runtime import Timer, checkpoint_record, setup

    setup(config)
    if config.quick:
        config.lengths, config.hidden, config.train_size, config.test_size = [5, 10], 16, 400, 200
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    timer = Timer()
    rows = sweep(config)
    table = [{k: (None if isinstance(v, float) and math.isnan(v) else v)
              for k, v in r.items() if k != "model"} for r in rows]
    srn_fail = srn_fails_others_succeed(rows, config.lengths, config.cells)
    tried = [T for T in config.lengths
             if all(any(r["T"] == T and r["cell"] == c and not r["skipped"] for r in rows)
                    for c in config.cells)]
    # the trained panel shows the longest T where the SRN failed and the gated cells did not
    trained_T = max(srn_fail) if srn_fail else (max(tried) if tried else None)
    flow_T = config.flow_length or trained_T or max(config.lengths)
    trained = {r["cell"].upper(): r["model"] for r in rows if r["T"] == trained_T and "model" in r}
    panels = draw_flow(trained, trained_T, flow_T, config.cells, config.hidden, config.gate_init,
                       config.seed, out / "gradient_flow.png")
    plot_sweep(rows, out / "long_range.png", config.threshold, 1 / SYMBOLS)
    models = nn.ModuleDict({f"{r['cell']}_T{r['T']}": r["model"] for r in rows if "model" in r})
    save_checkpoint(out / "models.pt", models,
                    config={**checkpoint_record("long_range", config), "runs": table})
    print(f"long_range sweep in {timer.seconds:.0f} s (test accuracy; * = success >= "
          f"{config.threshold:.0%}, - = not tried after two failures):")
    _print_table(rows, config)
    if "srn" in config.cells and srn_fail:
        print(f"SRN fails while LSTM and GRU succeed at T = {srn_fail}")
    print(f"figures: {out / 'gradient_flow.png'}, {out / 'long_range.png'}")
    norms = {name: {c: [float(curve[0]), float(curve[-1])] for c, curve in group.items()}
             for name, group in panels.items()}
    return {"seconds": timer.seconds, "runs": table, "srn_fails_others_succeed": srn_fail,
            "gradient_norm_first_last": norms}


def evaluate(config: Evaluate) -> dict:
    from ..datasets.sequences import FirstSymbol
    from ..models.long_range import LongRangeClassifier, accuracy_on
    from .runtime import open_trained

    _, _, ckpt, trained = open_trained(config, "long_range", Config, default="models.pt")
    models, result = {}, {}
    for key in sorted({k.split(".")[0] for k in ckpt["model"]},
                      key=lambda k: (k.split("_T")[0], int(k.split("_T")[1]))):
        cell, T = key.split("_T")
        # rebuilt from the state dict: the gate initialisation only set starting values
        model = LongRangeClassifier(cell, SYMBOLS + 1, trained.hidden, SYMBOLS)
        model.load_state_dict({k[len(key) + 1:]: v for k, v in ckpt["model"].items()
                               if k.startswith(key + ".")})
        test = FirstSymbol(trained.test_size, int(T), SYMBOLS, seed=3000 + trained.seed)
        result[key] = accuracy_on(model, test.x, test.y)
        print(f"{cell:>4} T={T:<4} test accuracy {result[key]:.3f}")
        models[key] = model
    runs = [dict(r, test_acc=math.nan if r["test_acc"] is None else r["test_acc"])
            for r in ckpt["config"].get("runs", [])]
    srn_fail = srn_fails_others_succeed(runs, trained.lengths, trained.cells)
    trained_T = max(srn_fail) if srn_fail else None
    flow_T = config.flow_length or trained_T
    if flow_T:
        nets = {c.upper(): models[f"{c}_T{trained_T}"] for c in trained.cells
                if f"{c}_T{trained_T}" in models}
        out = Path(config.out)
        out.mkdir(parents=True, exist_ok=True)
        draw_flow(nets, trained_T, flow_T, trained.cells, trained.hidden, trained.gate_init,
                  trained.seed, out / "gradient_flow.png")
        print(f"figure: {out / 'gradient_flow.png'}")
    return {"test_acc": result}


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
