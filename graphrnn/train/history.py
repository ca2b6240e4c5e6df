"""Per-epoch metrics on disk: a CSV file, TensorBoard events when installed, and a PNG of curves.

The history is a list of rows, one per epoch, e.g.
``{"epoch": 3, "train_loss": 0.41, "val_loss": 0.52, "val_acc": 0.88, "lr": 1e-3, "time": 1.2}``.
It is kept in the checkpoint and the CSV is rewritten from it (atomically) after every epoch, so
after a resume the file holds each epoch exactly once.
"""
from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path

from ..io import atomic_write


def columns(history: list[dict]) -> list[str]:
    """Keys of all rows in order of first appearance."""
    cols: dict[str, None] = {}
    for row in history:
        cols.update(dict.fromkeys(row))
    return list(cols)


def write_csv(history: list[dict], path: str | os.PathLike) -> Path:
    """Write ``history`` as CSV (a header row, then one row per epoch; missing cells empty)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns(history), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return atomic_write(path, lambda f: f.write(buf.getvalue().encode()))


def read_csv(path: str | os.PathLike) -> list[dict[str, float]]:
    """Read a file written by :func:`write_csv`; empty cells are left out of their row."""
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]




class TensorBoardLogger:
    """Writes each row's numbers as scalars ``<split>/<metric>`` at step ``epoch``.

    Does nothing (a debug-level log note says why) when ``torch.utils.tensorboard`` cannot be
    imported.

    Args:
        log_dir (str or PathLike): event folder.
        purge_step (int, optional): events at or after this epoch written by an earlier,
            interrupted run are dropped (pass the epoch a resume starts from).
    """

    def __init__(self, log_dir: str | os.PathLike, purge_step: int | None = None):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:  # tensorboard is optional: a debug note, not a warning per run
            logging.getLogger(__name__).debug("TensorBoard logging is off: %s", e)
            self.writer = None
            return
        self.writer = SummaryWriter(str(log_dir), purge_step=purge_step)

    def log(self, row: dict) -> None:
        if self.writer is None:
            return
        epoch = int(row["epoch"])
        for key, value in row.items():
            if key == "epoch":
                continue
            split, _, name = key.partition("_")
            tag = f"{split}/{name}" if split in ("train", "val") and name else key
            self.writer.add_scalar(tag, value, epoch)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def curve_groups(history: list[dict]) -> dict[str, list[str]]:
    """Group columns into one panel per metric.

    Example: ``{"loss": ["train_loss", "val_loss"], "acc": ["val_acc"], "lr": ["lr"]}``.

    ``epoch`` and ``time`` get no panel.
    """
    groups: dict[str, list[str]] = {}
    for key in columns(history):
        if key in ("epoch", "time"):
            continue
        split, _, name = key.partition("_")
        metric = name if split in ("train", "val") and name else key
        groups.setdefault(metric, []).append(key)
    return groups


def plot_history(history: list[dict], path: str | os.PathLike) -> Path:
    """Draw one panel per metric (train and validation curves against epoch) to a PNG file.

    Uses matplotlib's object API with the Agg canvas: no display needed, pyplot state untouched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    groups = curve_groups(history)
    if not groups:
        raise ValueError("plot_history: history has no metric columns to plot")
    ncols = min(3, len(groups))
    nrows = -(-len(groups) // ncols)
    fig = Figure(figsize=(4 * ncols, 3 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    for i, (metric, keys) in enumerate(groups.items()):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for key in keys:
            pts = [(row["epoch"], row[key]) for row in history if key in row]
            ax.plot(*zip(*pts), marker="o" if len(pts) < 30 else None, markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        if metric == "lr" and all(y > 0 for _, y in pts):
            ax.set_yscale("log")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100))
