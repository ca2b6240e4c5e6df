"""Time series figures: several curves of one series against t (a plant and its models)."""
from __future__ import annotations

import os
from collections.abc import Mapping

import torch

__all__ = ["plot_series"]


def plot_series(curves: Mapping[str, torch.Tensor], path: str | os.PathLike, title: str = "",
                show: int = 200, ylabel: str = "y(t)") -> None:
    """Plot the first ``show`` steps of each (T,) curve to the PNG ``path`` (matplotlib, Agg);
    the first curve (the measured one) solid black, the others dashed or dotted."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.5))
    styles = ("k-", "C0--", "C2:", "C3-.", "C1--", "C4:")
    for i, (label, y) in enumerate(curves.items()):
        ax.plot(torch.as_tensor(y).reshape(-1)[:show].tolist(), styles[i % len(styles)],
                label=label, lw=1.2)
    ax.set_xlabel("t")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
