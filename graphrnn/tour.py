"""``graphrnn tour``: one small model of each family, trained on embedded or generated data.

Every row trains with the one training loop (:class:`graphrnn.train.Trainer`) and is evaluated
once on held-out data it never trained on; the table says what each reached against the level the
row states. Nothing is downloaded. Plots (``curves.png``) and checkpoints go to ``--out``.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch_geometric.loader import DataLoader

from .train import Trainer, evaluate, seed_everything
from .bench.common import format_table


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


def tree_row(out: Path, quick: bool) -> Row:
    """Trees: values of random arithmetic expressions (mod 10) at every node, N-ary Tree-LSTM."""
    from .datasets.expressions import TOKENS, ExpressionTrees
    from .tasks.tree_classification import TreeNodeClassifier, tree_node_step

    start = time.perf_counter()
    seed_everything(0)
    train = ExpressionTrees(1000 if quick else 10000, 2, 6, seed=1)
    valid = ExpressionTrees(300, 2, 6, seed=2)
    test = ExpressionTrees(1000, 2, 6, seed=3)
    model = TreeNodeClassifier(len(TOKENS), 96, 10, variant="nary")
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=3e-3), tree_node_step,
                      max_epochs=1 if quick else 8, monitor="val_root_acc", mode="max",
                      seed=0, out_dir=out / "trees", progress=False, restore_best=True,
                      tensorboard=False)
    trainer.fit(DataLoader(train, batch_size=128, shuffle=True), DataLoader(valid, batch_size=300))
    result = evaluate(model, DataLoader(test, batch_size=500), tree_node_step)
    return Row("trees", "expression values (mod 10), 2-6 digits", "N-ary Tree-LSTM (Tai et al.)",
               "test root accuracy", result["root_acc"], 0.0 if quick else 0.95, True,
               time.perf_counter() - start, str(out / "trees" / "curves.png"))


ROWS = {"trees": tree_row}


def run(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="graphrnn tour", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/tour", help="default: %(default)s")
    parser.add_argument("--only", nargs="+", choices=sorted(ROWS), help="run only these rows")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run of a few seconds a row; the levels are not meant to be met")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    rows = []
    for name, fn in ROWS.items():
        if args.only and name not in args.only:
            continue
        print(f"graphrnn tour: {name} ...", flush=True)
        rows.append(fn(out, args.quick))
    table = [[r.family, r.task, r.model, r.metric, f"{r.value:.4g}",
              (">= " if r.higher_is_better else "<= ") + f"{r.level:g}", "yes" if r.reached else "NO", f"{r.seconds:.0f}"] for r in rows]
    print(format_table(["family", "task", "model", "metric", "reached", "level", "ok", "s"], table))
    for r in rows:
        print(f"  {r.family}: curves in {r.plot}")
    return 0 if all(r.reached for r in rows) else 1
