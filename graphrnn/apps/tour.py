"""``graphrnn tour``: one small model of each family, trained on embedded or generated data.

Every row trains with the one training loop (:class:`graphrnn.train.Trainer`), mostly by running
an application of :mod:`graphrnn.apps` with smaller settings, and is evaluated once on held-out
data it never trained on; the table says what each reached against the level the row states.
Nothing is downloaded: addition and expression trees are generated, TPSA molecules ship with
rdkit, spring systems come from the simulator. Plots and checkpoints go to ``--out``.

Every row runs on ``--threads`` threads (default 1): these models are small, and a second thread
gains little on an idle machine but loses many times over when another job shares the cores.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from . import call
from .config import option, parse_config


@dataclass
class Row:
    family: str
    task: str
    model: str
    metric: str
    value: float
    level: float
    higher_is_better: bool
    seconds: float
    plot: str

    @property
    def reached(self) -> bool:
        return self.value >= self.level if self.higher_is_better else self.value <= self.level


def tree_row(config: TourConfig) -> Row:
    """Trees: values of random arithmetic expressions (mod 10) at every node, N-ary Tree-LSTM."""
    out, quick = Path(config.out), config.quick
    import torch
    from torch_geometric.loader import DataLoader

    from ..datasets.expressions import TOKENS, ExpressionTrees
    from ..models.tree_classifier import TreeClassifier, tree_step
    from ..train import Trainer, evaluate, seed_everything

    start = time.perf_counter()
    seed_everything(0)
    train = ExpressionTrees(1000 if quick else 10000, 2, 6, seed=1)
    valid = ExpressionTrees(300, 2, 6, seed=2)
    test = ExpressionTrees(1000, 2, 6, seed=3)
    model = TreeClassifier(len(TOKENS), 10, 96, 96, "nary", dropout=0.0, inputs="features")
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=3e-3), tree_step,
                      max_epochs=1 if quick else 8, monitor="val_root_acc", mode="max",
                      seed=0, out_dir=out / "trees", progress=not quick, restore_best=True,
                      tensorboard=False)
    trainer.fit(DataLoader(train, batch_size=128, shuffle=True), DataLoader(valid, batch_size=300))
    result = evaluate(model, DataLoader(test, batch_size=500), tree_step)
    return Row("trees", "expression values (mod 10), 2-6 digits", "N-ary Tree-LSTM (Tai et al.)",
               "test root accuracy", result["root_acc"], 0.0 if quick else 0.95, True,
               time.perf_counter() - start, str(out / "trees" / "curves.png"))


def _app(name: str, config: TourConfig, argv: list[str]) -> tuple[dict, float]:
    """Run ``graphrnn train NAME`` with ``argv`` into ``OUT/NAME`` on the tour's device and
    threads; its results and seconds."""
    start = time.perf_counter()
    results = call(name, "train", [*argv, "--out", str(Path(config.out) / name),
                                   "--device", config.device, "--threads", str(config.threads)])
    return results, time.perf_counter() - start


def addition_rows(config: TourConfig) -> list[Row]:
    """Chains: Learn2Carry, digits least-significant first, trained below 555,555,555."""
    out, quick = Path(config.out), config.quick
    argv = ["--quick", "--epochs", "1"] if quick else ["--epochs", "12", "--test-size", "2000"]
    results, seconds = _app("addition", config, argv)
    plot = str(out / "addition" / "curves.png")
    return [Row("chains", "addition, operands in [555,555,555, 999,999,999]", "GRU (graphrnn.nn)",
                "test exact match", results["in_range_test"]["exact_match"],
                0.0 if quick else 1.0, True, seconds, plot),
            Row("chains", "addition, 30-digit operands (trained on <= 9)", "same model",
                "test exact match", results["30_digits"]["exact_match"], 0.0 if quick else 0.99,
                True, 0.0, plot)]


def tpsa_row(config: TourConfig) -> Row:
    """Molecules: topological polar surface area of the NCI molecules rdkit ships."""
    out, quick = Path(config.out), config.quick
    argv = ["--quick", "--epochs", "1"] if quick else ["--epochs", "12"]
    results, seconds = _app("tpsa", config, argv)
    return Row("molecules", "TPSA of 4,991 NCI molecules (rdkit)", "gated MPNN, additive readout",
               "test MAE (A^2)", results["test_mae"], float("inf") if quick else 1.0, False,
               seconds, str(out / "tpsa" / "curves.png"))


def springs_row(config: TourConfig) -> Row:
    """Particles: 5 balls on random springs (Kipf et al. 2018), 10-step rollouts."""
    out, quick = Path(config.out), config.quick
    argv = ["--quick", "--epochs", "1"] if quick else [
        "--train-sims", "200", "--test-sims", "20", "--hidden", "64", "--epochs", "6"]
    results, seconds = _app("nbody", config, [*argv, "--root", str(out / "nbody-data")])
    return Row("particles", "springs, 5 balls: 10-step rollout vs constant velocity",
               "interaction network", "baseline MSE / model MSE",
               results["n5"]["ratio@1" if quick else "ratio@10"],  # quick rolls out 5 steps
               0.0 if quick else 100.0, True, seconds, str(out / "nbody" / "trajectories_n5.png"))


ROWS = {"addition": addition_rows, "trees": tree_row, "tpsa": tpsa_row, "springs": springs_row}


@dataclass
class TourConfig:
    out: str = option("runs/tour", "folder for plots and checkpoints", path="out_dir")
    only: list[str] | None = option(None, "run only these rows", choices=tuple(ROWS))
    quick: bool = option(False, "a smoke run of a few seconds a row; the levels are not meant to "
                         "be met")
    threads: int = option(1, "torch threads for every row", min=1)
    device: str = option("cpu", "device for the applications' rows: 'cpu', 'cuda', 'auto'")


def run(argv=None) -> int:
    args = parse_config(TourConfig, argv, "graphrnn tour", __doc__)
    import torch

    from ..bench.common import format_table

    torch.set_num_threads(args.threads)
    rows = []
    for name, fn in ROWS.items():
        if args.only and name not in args.only:
            continue
        print(f"graphrnn tour: {name} ...", flush=True)
        made = fn(args)
        made = made if isinstance(made, list) else [made]
        rows.extend(made)
        print(f"graphrnn tour: {name} done in {sum(r.seconds for r in made):.0f} s", flush=True)
    table = [[r.family, r.task, r.model, r.metric, f"{r.value:.4g}",
              (">= " if r.higher_is_better else "<= ") + f"{r.level:g}",
              "yes" if r.reached else "NO", f"{r.seconds:.0f}"] for r in rows]
    print(format_table(["family", "task", "model", "metric", "reached", "level", "ok", "s"], table))
    total = sum(r.seconds for r in rows)
    print(f"total {total:.0f} s on {torch.get_num_threads()} thread(s); plots:")
    for plot in dict.fromkeys(r.plot for r in rows):
        print(f"  {plot}")
    return 0 if all(r.reached for r in rows) else 1
