"""Figures of particle trajectories: true, learned (a rollout of
:class:`graphrnn.models.dynamics.ParticleDynamicsModel`) and the constant-velocity baseline."""
from __future__ import annotations

import os
from pathlib import Path

from torch import Tensor

__all__ = ["plot_trajectories"]


def plot_trajectories(true_pos: Tensor, pred_pos: Tensor, path: str | os.PathLike,
                      baseline_pos: Tensor | None = None, num_particles: int | None = None,
                      num_systems: int = 4, title: str = "") -> Path:
    """Save a PNG with, per system, the true trajectories (solid), the model's (dashed) and
    optionally the constant-velocity baseline's (dotted); a dot marks each start.

    Args:
        true_pos, pred_pos, baseline_pos: ``[N, T, 2]`` (a batch of systems, particles
            concatenated) or ``[n, T, 2]`` for one system.
        path: the PNG file (its folder is created).
        num_particles: particles per system, to split a batch (default: all in one system).
        num_systems: systems to draw, side by side (default 4).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if true_pos.shape != pred_pos.shape or true_pos.dim() != 3 or true_pos.size(-1) != 2:
        raise ValueError(f"true_pos and pred_pos must both be [N, T, 2], got "
                         f"{list(true_pos.shape)} and {list(pred_pos.shape)}")
    n = num_particles or true_pos.size(0)
    systems = min(num_systems, true_pos.size(0) // n)
    fig, axes = plt.subplots(1, systems, figsize=(4 * systems, 4), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, ax in enumerate(axes[0]):
        for i in range(j * n, (j + 1) * n):
            c = colours[(i - j * n) % len(colours)]
            t, p = true_pos[i].cpu(), pred_pos[i].cpu()
            ax.plot(t[:, 0], t[:, 1], "-", color=c, lw=1.5,
                    label="true" if i == j * n else None)
            ax.plot(p[:, 0], p[:, 1], "--", color=c, lw=1.5,
                    label="model" if i == j * n else None)
            if baseline_pos is not None:
                b = baseline_pos[i].cpu()
                ax.plot(b[:, 0], b[:, 1], ":", color=c, lw=1,
                        label="constant velocity" if i == j * n else None)
            ax.plot(t[0, 0], t[0, 1], "o", color=c, ms=4)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(f"system {j}")
        if j == 0:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
