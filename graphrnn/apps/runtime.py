"""What every application does around its model, written once: threads and device, the options
of the one training loop, the record stored in checkpoints, and loading a checkpoint back into
the config that trained it.

A checkpoint written by an app holds ``config = {"app": NAME, "version": graphrnn's version,
"settings": asdict(train config)}``; :func:`load_app_checkpoint` refuses a checkpoint of another
app by name and rebuilds the settings.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..train import CheckpointError, load_checkpoint
from .config import ConfigError, config_from_dict

__all__ = ["setup", "trainer_options", "checkpoint_record", "load_app_checkpoint", "open_trained",
           "checkpoint_path", "Timer"]


def setup(config) -> torch.device:
    """Apply ``--threads`` and resolve ``--device`` (``'auto'``: cuda when available)."""
    torch.set_num_threads(config.threads)
    if config.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {config.device}: CUDA is not available on this machine")
    if device.type == "cuda" and device.index is not None \
            and device.index >= torch.cuda.device_count():
        raise ConfigError(f"--device {config.device}: this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s)")
    return device


def checkpoint_record(app: str, config) -> dict:
    """The JSON record stored in every checkpoint of ``app``: which app and version wrote it and
    the settings that trained it."""
    return {"app": app, "version": __version__, "settings": dataclasses.asdict(config)}


def trainer_options(app: str, config, device: torch.device, **overrides: Any) -> dict:
    """Keyword arguments of :class:`graphrnn.train.Trainer` from the shared flags: epochs, seed,
    device, ``OUT`` as the checkpoint folder, ``--resume``, the checkpoint record, progress bars
    off for ``--quick`` runs. ``overrides`` win."""
    options = {"max_epochs": config.epochs, "seed": config.seed, "device": device,
               "out_dir": config.out, "resume": config.resume,
               "config": checkpoint_record(app, config), "progress": not config.quick,
               "tensorboard": False}
    options.update(overrides)
    return options


def load_app_checkpoint(path: str | Path, app: str, config_cls: type, apps: tuple[str, ...] = ()):
    """Load a checkpoint written by ``app`` (or one of ``apps``, which share a model) and rebuild
    its training settings. Returns ``(checkpoint dict, config)``; a checkpoint of another app is a
    :class:`~graphrnn.train.CheckpointError` naming both."""
    ckpt = load_checkpoint(path)
    record = ckpt.get("config") or {}
    written_by = record.get("app")
    if written_by is None:
        raise CheckpointError(f"checkpoint {path} records no application; it was not written by "
                              f"'graphrnn train {app}' (or by a version before 0.1.0)")
    if written_by != app and written_by not in apps:
        raise CheckpointError(f"checkpoint {path} was written by 'graphrnn train {written_by}', "
                              f"not by 'graphrnn train {app}'")
    try:
        config = config_from_dict(config_cls, record.get("settings", {}), f"checkpoint {path}")
    except ConfigError as err:
        raise CheckpointError(str(err)) from None
    return ckpt, config


def open_trained(config, app: str, config_cls: type, apps: tuple[str, ...] = (),
                 default: str = "best.pt"):
    """What every ``evaluate`` and ``generate`` starts with: apply ``--threads`` and ``--device``
    and load ``--checkpoint`` (default ``OUT/<default>``) of ``app``. Returns ``(device, path,
    checkpoint dict, the config that trained it)``."""
    device = setup(config)
    path = checkpoint_path(config, default)
    ckpt, trained = load_app_checkpoint(path, app, config_cls, apps)
    return device, path, ckpt, trained


def checkpoint_path(config, default: str = "best.pt") -> Path:
    """``--checkpoint``, else ``OUT/best.pt``."""
    return Path(config.checkpoint or Path(config.out) / default)


class Timer:
    """Wall-clock seconds since construction (``seconds`` property)."""

    def __init__(self):
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start
