r"""Figures of the long-range study: :math:`\|\partial L_T / \partial h_k\|` against k
(:func:`plot_gradient_flow`, from :func:`graphrnn.tasks.gradient_flow.gradient_flow`) and test
accuracy against sequence length per cell (:func:`plot_sweep`). matplotlib, Agg backend, PNG."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import torch

__all__ = ["plot_gradient_flow", "plot_sweep"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_gradient_flow(curves: Mapping[str, torch.Tensor], path: str | os.PathLike,
                       title: str = "gradient flow",
                       panels: Mapping[str, Mapping[str, torch.Tensor]] | None = None) -> None:
    r"""Plot :math:`\|\delta_{T,k}\|` against k on a log scale to ``path``.

    Args:
        curves: name -> (T,) norms (one panel).
        path: the PNG file.
        title: the panel's title. (default: ``"gradient flow"``)
        panels: instead of ``curves``/``title``, several panels: title -> {name -> norms}.
    """
    plt = _pyplot()
    panels = panels or {title: curves}
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (name, group) in zip(axes[0], panels.items()):
        for label, norms in group.items():
            norms = torch.as_tensor(norms).double().clamp_min(1e-45)
            ax.semilogy(range(1, norms.numel() + 1), norms.tolist(), label=label)
        ax.set_xlabel("k (step whose state receives the gradient)")
        ax.set_ylabel(r"$\|\partial L_T / \partial h_k\|$")
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_sweep(rows: Sequence[Mapping], path: str | os.PathLike, threshold: float,
               chance: float) -> None:
    """Test accuracy against T (log scale) for each cell of a long-range sweep.

    Args:
        rows: dicts with ``cell``, ``T``, ``test_acc`` and ``skipped``.
        path: the PNG file.
        threshold: the success line. chance: the chance line.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for cell in dict.fromkeys(r["cell"] for r in rows):
        pts = [(r["T"], r["test_acc"]) for r in rows if r["cell"] == cell and not r["skipped"]]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=cell.upper())
    ax.axhline(threshold, color="gray", ls="--", lw=0.8, label=f"success ({threshold:.0%})")
    ax.axhline(chance, color="gray", ls=":", lw=0.8, label="chance")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("T (steps between the symbol and the answer)")
    ax.set_ylabel("test accuracy")
    ax.set_title("remember the first symbol")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
