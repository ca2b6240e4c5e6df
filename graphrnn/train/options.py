"""The command-line options every example shares, so ``graphrnn train NAME --help`` reads alike.

An example builds its parser with :func:`example_parser` and adds its own options::

    parser = example_parser("tpsa", __doc__, epochs=30)
    parser.add_argument("--hidden", type=int, default=128)
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
"""
from __future__ import annotations

import argparse

import torch


def example_parser(name: str, description: str | None = None, *, epochs: int = 10,
                   root: str | None = None, out: str | None = None) -> argparse.ArgumentParser:
    """An ``argparse`` parser with ``--root``, ``--out``, ``--device``, ``--epochs``, ``--seed``,
    ``--threads``, ``--resume`` and ``--quick`` (a small run for smoke tests and the tour)."""
    parser = argparse.ArgumentParser(prog=f"graphrnn train {name}", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=root, help=f"data folder (default: {root})")
    parser.add_argument("--out", default=out or f"runs/{name}",
                        help="folder for checkpoints, metrics.csv and plots (default: %(default)s)")
    parser.add_argument("--device", default="auto",
                        help="'auto' (cuda if available), 'cpu', 'cuda', 'cuda:1', ...")
    parser.add_argument("--epochs", type=int, default=epochs, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=0, help="default: %(default)s")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    return parser


def resolve_device(name: str) -> torch.device:
    """``'auto'`` -> cuda when available, else cpu; anything else as ``torch.device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: CUDA is not available on this machine")
    return device


def apply_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)


def write_results(out_dir, filename: str, results: dict):
    """Write ``results`` as indented JSON to ``out_dir/filename`` (atomically; folder created)."""
    import json
    from pathlib import Path

    from ..io import atomic_write_bytes

    path = Path(out_dir) / filename
    atomic_write_bytes(path, (json.dumps(results, indent=1, ensure_ascii=False) + "\n").encode())
    return path


def load_for_evaluation(args, default: str = "best.pt"):
    """What every ``evaluate`` starts with: apply ``--threads``, resolve ``--device`` and load
    ``--checkpoint`` (default ``OUT/best.pt``). Returns ``(device, checkpoint dict, path)``."""
    from pathlib import Path

    from .checkpoint import load_checkpoint

    apply_threads(args.threads)
    device = resolve_device(args.device)
    path = Path(args.checkpoint or Path(args.out) / default)
    return device, load_checkpoint(path), path
