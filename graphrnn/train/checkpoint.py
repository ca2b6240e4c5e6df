"""Checkpoints that are written atomically and loaded without unpickling arbitrary objects.

A checkpoint is a ``dict`` of tensors, numbers, strings, lists and dicts, so that
``torch.load(path, weights_only=True)`` reads it: loading a file from elsewhere cannot run code.
It carries the JSON-serialisable ``config`` and the ``vocab`` needed to rebuild and use the model.

Files are written to a temporary file in the same folder, flushed to disk, then renamed over the
target with :func:`os.replace`; a crash or Ctrl-C while writing leaves the previous file intact.

A file that loads is a file that was verified: every member of the zip archive ``torch.save``
writes must pass its CRC-32, and every tensor must match the BLAKE2b digest stored beside it
(``digests``: ``"model/encoder.weight" -> hex``), so a flipped byte in the weights or in the
optimizer state is refused with the part it hit named, never silently loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..io import atomic_write
from .distributed import unwrap_model

FORMAT = "graphrnn.checkpoint"
VERSION = 1

class CheckpointError(RuntimeError):
    """A checkpoint file cannot be read: missing fields, truncated, corrupt, or unsafe to load."""


def _digest(t: torch.Tensor) -> str:
    data = t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
    return hashlib.blake2b(data.tobytes(), digest_size=16).hexdigest()


def tensor_digests(obj: Any, prefix: str = "") -> dict[str, str]:
    """``{path: digest}`` of every tensor in nested dicts and lists
    (``"optimizer/state/0/exp_avg"``)."""
    if isinstance(obj, torch.Tensor):
        return {prefix: _digest(obj)}
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) \
        if isinstance(obj, (list, tuple)) else ()
    found: dict[str, str] = {}
    for key, value in items:
        found.update(tensor_digests(value, f"{prefix}/{key}" if prefix else str(key)))
    return found


def _digests_of(ckpt: dict) -> dict[str, str]:
    """The digests of the parts holding tensors, as stored at save and checked at load."""
    return tensor_digests({k: ckpt[k] for k in ("model", "optimizer", "scheduler", "rng")})


def _bad_zip_member(path: Path) -> str | None:
    """The first member of the archive whose CRC-32 fails, or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return f"the archive itself ({err})"


def _part(path_in_checkpoint: str) -> str:
    head, _, rest = path_in_checkpoint.partition("/")
    return f"{head} ({rest})" if rest else head


def check_config(config: Any) -> None:
    """Raise ``TypeError`` unless ``config`` is a JSON-serialisable dict (``None`` passes)."""
    if config is None:
        return
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    try:
        json.dumps(config, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise TypeError(f"config must be JSON-serialisable (dicts, lists, str, numbers, bool, "
                        f"None): {e}") from None


def check_vocab(vocab: Any) -> None:
    """Raise ``TypeError`` unless ``vocab`` is a list or tuple of ``str`` (``None`` passes)."""
    if vocab is None:
        return
    if not isinstance(vocab, (list, tuple)) or not all(isinstance(t, str) for t in vocab):
        raise TypeError(f"vocab must be a list of str tokens, got {type(vocab).__name__}"
                        + ("" if not isinstance(vocab, (list, tuple)) else
                           f" containing {sorted({type(t).__name__ for t in vocab} - {'str'})}"))


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module,
                    optimizer: torch.optim.Optimizer | None = None, scheduler: Any = None, *,
                    epoch: int = 0, config: dict | None = None, vocab: list[str] | None = None,
                    trainer: dict | None = None, rng: list | None = None) -> Path:
    """Write a checkpoint atomically.

    Args:
        path (str or PathLike): target file (its folder is created).
        model (torch.nn.Module): its ``state_dict()`` is saved, unwrapped from DDP /
            ``torch.compile`` so keys carry no ``module.`` prefix.
        optimizer (Optimizer, optional): its ``state_dict()``.
        scheduler (LRScheduler or ReduceLROnPlateau, optional): its ``state_dict()``.
        epoch (int): number of completed epochs. (default: ``0``)
        config (dict, optional): JSON-serialisable settings needed to rebuild the model.
        vocab (list[str], optional): tokens, index ``i`` is token id ``i``.
        trainer (dict, optional): loop state (best score, early-stopping counter, history).
        rng (list[dict], optional): generator states per process, from
            :func:`graphrnn.train.rng.get_rng_state`.

    Returns:
        Path: ``path``.
    """
    check_config(config)
    check_vocab(vocab)
    config = {} if config is None else config
    ckpt = {
        "format": FORMAT,
        "version": VERSION,
        "epoch": int(epoch),
        "model": unwrap_model(model).state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "config": config,
        "vocab": None if vocab is None else list(vocab),
        "trainer": trainer or {},
        "rng": rng or [],
        "torch_version": str(torch.__version__),  # TorchVersion would need unpickling
    }
    ckpt["digests"] = _digests_of(ckpt)
    return atomic_write(path, lambda f: torch.save(ckpt, f))


REQUIRED = ("format", "version", "epoch", "model", "config")


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`, with ``weights_only=True``.

    Args:
        path (str or PathLike): the file.
        map_location: as in :func:`torch.load`. (default: ``"cpu"``)

    Returns:
        dict: keys ``epoch``, ``model``, ``optimizer``, ``scheduler``, ``config``, ``vocab``,
        ``trainer``, ``rng``, ``format``, ``version``, ``torch_version``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: the file is truncated or corrupt, holds objects other than tensors and
            plain containers, or lacks the fields of a graphrnn checkpoint; the message names it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    if not zipfile.is_zipfile(path):  # torch.save writes zip archives; anything else is not ours
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt: not a zip archive as "
                              "written by torch.save")
    bad_member = _bad_zip_member(path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        # name the offending global only: torch's message goes on to advise turning safety off
        found = re.search(r"GLOBAL ([\w.]+)", str(e))
        why = f"it names {found.group(1)}" if found else "it uses pickle operations beyond those"
        raise CheckpointError(f"checkpoint {path} holds objects that are not tensors or plain "
                              f"containers ({why}); refusing to load it") from None
    except Exception as e:  # noqa: BLE001 - any failure to parse untrusted bytes means "corrupt"
        where = f" ({bad_member} fails its CRC check)" if bad_member else ""
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt{where}: "
                              f"{type(e).__name__}") from None
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(ckpt).__name__}, expected a dict "
                              "written by graphrnn.train.save_checkpoint")
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}; expected a file written by "
                              "graphrnn.train.save_checkpoint")
    if ckpt["format"] != FORMAT or ckpt["version"] > VERSION:
        raise CheckpointError(f"checkpoint {path} has format {ckpt['format']!r} version "
                              f"{ckpt['version']}, expected {FORMAT!r} version <= {VERSION}")
    for key, default in (("optimizer", None), ("scheduler", None), ("vocab", None),
                         ("trainer", {}), ("rng", []), ("torch_version", None)):
        ckpt.setdefault(key, default)
    _verify(path, ckpt, bad_member)
    return ckpt


def _verify(path: Path, ckpt: dict, bad_member: str | None) -> None:
    """Refuse a checkpoint whose tensors differ from their stored digests, or whose archive
    fails a CRC check; the message names the part (``model (encoder.weight)``)."""
    stored = ckpt.get("digests")
    if isinstance(stored, dict):
        actual = _digests_of(ckpt)
        damaged = sorted(k for k in set(stored) | set(actual) if stored.get(k) != actual.get(k))
        if damaged:
            parts = ", ".join(_part(k) for k in damaged[:3]) + (
                f" and {len(damaged) - 3} more" if len(damaged) > 3 else "")
            raise CheckpointError(f"checkpoint {path} is damaged: {parts} no longer match the "
                                  "digests stored when it was written; refusing to use it")
    if bad_member:
        raise CheckpointError(f"checkpoint {path} is damaged: {bad_member} fails its CRC check; "
                              "refusing to use it")
