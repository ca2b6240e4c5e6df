"""Fetching and verifying data files.

Files are downloaded to a temporary name beside the target (:func:`graphrnn.io.atomic_write`),
their checksum is verified, and only then renamed into place: a broken or interrupted download
never leaves a file that looks complete.
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

from ..io import atomic_write

__all__ = ["ChecksumError", "file_hash", "check_file", "download_url"]


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

    def fetch(out) -> None:
        digest = hashlib.md5()
        with urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if md5 is not None and digest.hexdigest() != md5.lower():
            raise ChecksumError(f"{url}: md5 is {digest.hexdigest()}, expected {md5.lower()}; "
                                f"nothing was kept")

    return atomic_write(path, fetch)
