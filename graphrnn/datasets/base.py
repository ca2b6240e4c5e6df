"""The contract every file-backed data set of graphrnn follows (PyG's, kept in memory).

As in PyG: a data set has a ``root`` folder, ``raw_file_names`` (the files it reads there),
``raw_paths``, ``download()`` (fetch the raw files from the canonical source, md5-checked) and
``process()`` (raw files -> a list of items, graphs or sequences), then ``len(ds)`` / ``ds[i]`` with
an optional ``transform``. Unlike PyG's ``InMemoryDataset`` nothing processed is written back:
the project's data folders are read-only for CI and users keep shared copies, and processing
takes seconds.

When a raw file is missing and cannot be downloaded, :class:`DataNotFoundError` names every file
looked for, the folder, where the files come from and the data set's card; the folder is not
created.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from .download import check_file

__all__ = ["FileDataset", "DataNotFoundError"]


class DataNotFoundError(FileNotFoundError):
    """Raw files of a data set are missing; the message says which, where and how to get them."""


class FileDataset(torch.utils.data.Dataset):
    """Base of the file-backed data sets.

    Subclasses set ``raw_file_names`` (tuple of names under ``root``), optionally ``md5`` (name ->
    md5 of the raw file), ``source`` (where the files come from, one line) and ``card`` (the
    dataset card under ``datasets/``), and implement :meth:`process` returning the items; they
    may implement :meth:`download`.

    Args:
        root (str or PathLike): the folder with the raw files.
        transform (callable, optional): applied to each item on access. (default: ``None``)
        download (bool): fetch missing raw files (:meth:`download`). (default: ``True``)
        check_md5 (bool): check raw files against ``md5`` (turn off for other copies or
            hand-made files). (default: ``True``)
    """

    raw_file_names: Sequence[str] = ()
    md5: dict[str, str] = {}
    source: str = ""
    card: str = ""

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 download: bool = True, check_md5: bool = True):
        self.root, self.transform, self.check_md5 = Path(root), transform, check_md5
        missing = [p for p in self.raw_paths if not p.is_file()]
        if missing:
            if not download or type(self).download is FileDataset.download:
                raise self.not_found(missing)
            try:
                self.download()
            except OSError as err:
                raise self.not_found(missing, f"the download failed ({err})") from None
        if check_md5:
            for name, path in zip(self.raw_file_names, self.raw_paths):
                if name in self.md5:
                    check_file(path, self.md5[name])
        self.items = self.process()

    @property
    def raw_dir(self) -> Path:
        return self.root

    @property
    def raw_paths(self) -> list[Path]:
        return [self.raw_dir / name for name in self.raw_file_names]

    def not_found(self, missing: Sequence[Path], why: str = "") -> DataNotFoundError:
        """The error for missing raw files: which, where, and how to get them."""
        name = type(self).__name__
        folder = Path(missing[0]).parent if missing else self.raw_dir
        where = f"{folder} does not exist" if not folder.exists() else f"not in {folder}"
        lines = [f"{name}: {', '.join(p.name for p in missing)} {where}"
                 + (f"; {why}" if why else "")]
        if self.source:
            lines.append(f"the files come from {self.source}")
        lines.append("give the folder holding them with --root (root=)"
                     + (f"; see the data set card {self.card}" if self.card else ""))
        return DataNotFoundError("; ".join(lines))

    def download(self) -> None:
        """Fetch the raw files into ``root`` (subclasses that can)."""
        raise NotImplementedError

    def process(self) -> list[Any]:
        """Read the raw files; returns the items."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        item = self.items[index]
        return self.transform(item) if self.transform is not None else item

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)})"
