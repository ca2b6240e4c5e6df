"""Files written whole or not at all.

Every file graphrnn writes (checkpoints, metrics, caches, downloads) goes through
:func:`atomic_write`: the bytes go to a temporary file in the same folder, are flushed to disk, and
the file is renamed over the target with :func:`os.replace`. A crash, Ctrl-C or failed check
while writing leaves the previous file intact and no temporary file behind.
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# mkstemp creates files readable by their owner only; give written files the usual umask mode.
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None]) -> Path:
    """Call ``write(f)`` on a temporary binary file beside ``path``, then rename it to ``path``.

    The folder is created if needed. If ``write`` raises (``KeyboardInterrupt`` included) the
    temporary file is removed, the error propagates and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda f: f.write(data))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def shared_data(*parts: str) -> Path:
    """Where this project's machines keep the real data sets: ``../shared/data`` beside the source
    checkout, or ``$GRAPHRNN_DATA`` when set. Loaders take it as their default local copy."""
    base = os.environ.get("GRAPHRNN_DATA")
    root = Path(base) if base else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root.joinpath(*parts)


def read_json(path: str | os.PathLike):
    """Parse the JSON file at ``path``; malformed JSON raises ``ValueError`` naming the file and
    the line."""
    with open(path, encoding="utf-8-sig") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from e


def read_text(path: str | os.PathLike, encoding: str = "utf-8-sig") -> str:
    """The text of the file at ``path`` (a ``.gz`` file is decompressed). Bytes that are not
    ``encoding`` raise ``ValueError`` naming the file, the line and the column, as every other
    data error does, instead of a bare ``UnicodeDecodeError``."""
    path = Path(path)
    if path.suffix == ".gz":
        import gzip

        with gzip.open(path, "rb") as f:
            data = f.read()
    else:
        data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise ValueError(f"{path}:{line}: byte {data[e.start]:#04x} at column {column} is not "
                         f"{encoding.removesuffix('-sig').upper()} text; save the file as "
                         f"{encoding.removesuffix('-sig').upper()}") from None


def read_lines(path: str | os.PathLike, encoding: str = "utf-8-sig") -> list[str]:
    """The lines of :func:`read_text` without their line ends."""
    return read_text(path, encoding).splitlines()
