"""The Tang poems as a data set: the chinese-poetry JSON files (or another layout, or your own
files), filtered, deduplicated and split deterministically by a hash of each poem's text.

See :mod:`graphrnn.datasets.poems` for the layouts, filters and the regulated-verse check, and
``datasets/tang_poems.md`` for the sources, licences and checksums.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from .base import FileDataset
from .download import download_url
from .poems import (
    _CONVERTER_HELP,
    LAYOUTS,
    UNWANTED_SYMBOLS,
    Poem,
    filter_poems,
    read_poems,
    simplified_converter,
)

__all__ = ["TangPoems", "split_of", "SPLITS"]

_CP_COMMIT = "99ebbef7e1345c0985c44b9fd96a3f9e776f117b"
_CP_URL = ("https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/" + _CP_COMMIT +
           "/%E5%85%A8%E5%94%90%E8%AF%97/poet.tang.{}.json")  # the folder is 全唐诗
_CP_MD5 = {
    0: "f457cf0334e903c0d08d1e1fcbd1030c", 1000: "4d2f286ea326667bc08e32971c90a11c",
    2000: "821a70dd95b436614c6b0ae5cf9449d6", 3000: "c2b72b6e1a9dc4f02ef8f70f29e93199",
    4000: "4112a429624619e71c9d1f965de16f5f", 5000: "2b8aa5b988232171c611c46137adfee0",
    6000: "35f0ce9926b437d26d5f12872ffd42c5", 7000: "bd6c50e5c892ef3e013c773d1147e80b",
    8000: "ed7244bdf675af4a3d44d9e84eed9930", 9000: "c8704256bb530c6e3629e2106b93b6f4",
}
_TANGSHI_URL = ("https://raw.githubusercontent.com/nndl/exercise/"
                "6fe84b5490f6dce789eba2c1b9b7128fe2f5bda4/chap6_RNN/tangshi.txt")
_TANGSHI_MD5 = "d126df207447b292a0988c6ecba3d675"

SPLITS = ("train", "valid", "test")


def split_of(text: str, fractions: Sequence[float] = (0.9, 0.05, 0.05), seed: int = 0) -> str:
    """The split (``"train"``, ``"valid"`` or ``"test"``) a text belongs to.

    Decided by the md5 of ``seed`` and the text, mapped to ``[0, 1)`` and cut at the cumulative
    ``fractions``: deterministic across runs and machines, independent of file order and of which
    other poems are kept, and a text repeated in the corpus always lands in one split (no leak from
    duplicates). Fractions hold in expectation, not exactly.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"split_of: fractions must be 3 non-negative numbers summing to 1, got "
                         f"{tuple(fractions)}")
    h = hashlib.md5(f"{seed}\x00{text}".encode("utf-8")).digest()
    u = int.from_bytes(h[:8], "big") / 2.0 ** 64
    if u < fractions[0]:
        return "train"
    return "valid" if u < fractions[0] + fractions[1] else "test"


class TangPoems(FileDataset):
    r"""Tang poems in one layout, filtered and split deterministically.

    Files are looked up under ``root``; missing ones are downloaded from their canonical source
    (checked against a known md5) when ``download`` is true:

    * ``chinese_poetry``: ``root/chinese_poetry_quantangshi/poet.tang.{0,1000,...,9000}.json``
      (10,008 poems, traditional characters) from the chinese-poetry repository at commit
      ``99ebbef``; pass ``files=`` for others (e.g. ``[f"poet.tang.{k}.json" for k in range(0,
      58000, 1000)]``; files beyond the first ten download without an md5 check).
    * ``blank_line``: ``root/tangshi.txt`` (168 poems, simplified) from nndl/exercise.
    * ``title_content``: ``root/poems.txt``; it has no verified public source, so it must be put
      there by hand.

    Files that are missing and cannot be fetched are a
    :class:`~graphrnn.datasets.base.DataNotFoundError` naming them, the folder and the source.
    The items are :class:`Poem` objects; ``dataset.texts`` lists their texts.

    Args:
        root: the folder holding the files (``../shared/data/tang_poems`` has the first two).
        layout: ``"chinese_poetry"`` (default), ``"blank_line"`` or ``"title_content"``; with
            ``files=``, also ``"auto"`` (each file's layout detected, see :func:`read_poems`).
        split: ``"train"``, ``"valid"``, ``"test"`` or ``"all"``.
        files: file names (relative to the layout's folder, or absolute: your own files in the
            layout) overriding the defaults.
        download: fetch missing files (default True).
        check_md5: check files that have a known md5 (default True).
        simplified: convert to simplified characters (needs a converter, see
            :func:`to_simplified`), before filtering and splitting.
        min_len, max_len, unwanted, strict, regulated_only, line_lengths, num_lines: passed to
            :func:`filter_poems` (defaults: at least 5 characters, no unwanted symbols).
        dedupe: keep one copy of poems with identical text (default True).
        fractions: train/valid/test fractions (default 0.9/0.05/0.05), see :func:`split_of`.
        seed: salt of the split hash (default 0).
    """

    source = ("https://github.com/chinese-poetry/chinese-poetry (全唐诗/poet.tang.*.json) and "
              "https://github.com/nndl/exercise (chap6_RNN/tangshi.txt)")
    card = "datasets/tang_poems.md"

    def __init__(self, root: str | os.PathLike, layout: str = "chinese_poetry",
                 split: str = "train", *, files: Sequence[str] | None = None, download: bool = True,
                 check_md5: bool = True, simplified: bool = False, min_len: int | None = 5,
                 max_len: int | None = None, unwanted: Iterable[str] | None = UNWANTED_SYMBOLS,
                 strict: bool = False, regulated_only: bool = False,
                 line_lengths: Sequence[int] = (5, 7), num_lines: Sequence[int] = (4, 8),
                 dedupe: bool = True, fractions: Sequence[float] = (0.9, 0.05, 0.05),
                 seed: int = 0):
        if layout not in LAYOUTS + ("auto",) or (layout == "auto" and files is None):
            raise ValueError(f"TangPoems: layout must be one of {LAYOUTS} (or 'auto' with files=),"
                             f" got {layout!r}")
        if split not in SPLITS + ("all",):
            raise ValueError(f"TangPoems: split must be one of {SPLITS + ('all',)}, got {split!r}")
        self.layout, self.split = layout, split
        self._files = list(files) if files is not None else None
        super().__init__(root, download=download, check_md5=check_md5)
        poems = self.items
        if simplified:
            convert = simplified_converter()
            if convert is None:
                raise ImportError(f"TangPoems(simplified=True): {_CONVERTER_HELP}")
            poems = [Poem(convert(p.text), convert(p.title), convert(p.author), p.id, p.source)
                     for p in poems]
        poems = filter_poems(poems, min_len, max_len, unwanted, strict, regulated_only,
                             line_lengths, num_lines)
        if dedupe:
            seen: set[str] = set()
            poems = [p for p in poems if not (p.text in seen or seen.add(p.text))]
        if split != "all":
            poems = [p for p in poems if split_of(p.text, fractions, seed) == split]
        self.poems: list[Poem] = poems
        self.items = poems

    # --- the FileDataset contract ----------------------------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return self.root / "chinese_poetry_quantangshi" if self.layout == "chinese_poetry" \
            else self.root

    @property
    def raw_file_names(self) -> list[str]:
        if self._files is not None:
            return self._files
        if self.layout == "chinese_poetry":
            return [f"poet.tang.{k}.json" for k in sorted(_CP_MD5)]
        return ["tangshi.txt"] if self.layout == "blank_line" else ["poems.txt"]

    @property
    def md5(self) -> dict[str, str]:
        known = {f"poet.tang.{k}.json": m for k, m in _CP_MD5.items()} \
            if self.layout == "chinese_poetry" else \
            {"tangshi.txt": _TANGSHI_MD5} if self.layout == "blank_line" else {}
        return {name: known[name] for name in self.raw_file_names if name in known}

    def _source(self, name: str) -> tuple[str, str | None]:
        """(url, md5) of a raw file, or a FileNotFoundError explaining why there is none."""
        m = re.fullmatch(r"poet\.tang\.(\d+)\.json", name)
        if self.layout == "chinese_poetry" and m:
            k = int(m.group(1))
            return _CP_URL.format(k), _CP_MD5.get(k)
        if self.layout == "blank_line" and name == "tangshi.txt":
            return _TANGSHI_URL, _TANGSHI_MD5
        raise FileNotFoundError(f"{name} has no canonical download; put the file there by hand")

    def download(self) -> None:
        """Fetch every missing raw file into :attr:`raw_dir`."""
        for name, path in zip(self.raw_file_names, self.raw_paths):
            if not path.exists():
                url, md5 = self._source(name)
                download_url(url, path.parent, path.name, md5=md5)

    def process(self) -> list[Poem]:
        """Every poem of the raw files, in file order (before filtering and splitting)."""
        poems: list[Poem] = []
        for path in self.raw_paths:
            poems.extend(read_poems(path, self.layout))
        return poems

    # --- Dataset -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.poems)

    def __getitem__(self, index: int) -> Poem:
        return self.poems[index]

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.poems]

    def __repr__(self) -> str:
        return f"TangPoems({len(self)}, layout={self.layout!r}, split={self.split!r})"
