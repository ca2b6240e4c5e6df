"""Fetching and verifying data files.

Files are downloaded to a temporary name beside the target, their checksum is verified, and only
then renamed into place: a broken or interrupted download never leaves a file that looks complete.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path


class ChecksumError(RuntimeError):
    """A file's checksum differs from the one expected."""


def file_hash(path: str | os.PathLike, algorithm: str = "md5", chunk_size: int = 1 << 20) -> str:
    """Hex digest of the file at ``path`` (``algorithm`` is any name :mod:`hashlib` knows)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: str | os.PathLike, md5: str | None) -> None:
    """Raise :class:`ChecksumError` naming ``path`` if its md5 is not ``md5`` (``None`` skips)."""
    if md5 is None:
        return
    got = file_hash(path, "md5")
    if got != md5.lower():
        raise ChecksumError(f"{path}: md5 is {got}, expected {md5.lower()}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def download_url(url: str, folder: str | os.PathLike, filename: str | None = None,
                 md5: str | None = None, timeout: float = 30.0) -> Path:
    """Download ``url`` into ``folder`` and return the path of the file.

    An existing file with the right checksum is reused. The download goes to a ``.part`` file that
    is checked against ``md5`` and renamed into place only when it matches, so an interrupted or
    corrupted download never replaces a good file.

    Args:
        url: the address to fetch.
        folder: where the file is kept (created if missing).
        filename: its name there (default: the last part of the URL).
        md5: the expected md5 hex digest, or ``None`` to skip the check.
        timeout: seconds to wait for the server.

    Raises:
        ChecksumError: the downloaded bytes do not have the expected md5 (nothing is kept).
        OSError: the network or the disk failed (``urllib.error.URLError`` among them).
    """
    folder = Path(folder)
    path = folder / (filename or url.rstrip("/").rsplit("/", 1)[-1])
    if path.exists():
        check_file(path, md5)
        return path
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)
        check_file(tmp, md5)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
