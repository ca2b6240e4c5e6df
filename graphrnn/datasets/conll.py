"""Tagging data: CoNLL-2000 chunking (words, POS tags, IOB2 chunk tags) and BMES word segmentation.

CoNLL-2000 (Tjong Kim Sang & Buchholz 2000, https://www.clips.uantwerpen.be/conll2000/chunking/) is
one token a line, ``word POS chunk`` separated by single spaces, sentences separated by blank
lines::

    Confidence NN B-NP
    in IN B-PP
    the DT B-NP
    pound NN I-NP

Chinese word segmentation is tagged per character with BMES: ``B`` begins a word, ``M`` is inside,
``E`` ends it, ``S`` is a one-character word; e.g. ``["我们", "爱", "北京天安门"]`` ->
``我们爱北京天安门`` with tags ``B E S B M M M E``.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import NamedTuple, Sequence

import torch

from ..io import atomic_write_bytes
from .download import download_url

__all__ = ["Sentence", "read_conll", "write_conll", "CoNLL2000", "words_to_bmes",
           "bmes_to_words", "read_segmented"]


class Sentence(NamedTuple):
    """One CoNLL-2000 sentence: parallel lists of words, POS tags and chunk tags."""
    words: list[str]
    pos: list[str]
    chunks: list[str]


def _open_text(path: str | os.PathLike):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_conll(path: str | os.PathLike, num_fields: int = 3) -> list[Sentence]:
    """Read a ``word POS chunk`` column file (``.gz`` too); blank lines end sentences.

    Fields are separated by runs of whitespace. A line with another number of fields is an error
    naming the file and line. Lines starting with ``-DOCSTART-`` (CoNLL-2003 style) are skipped.

    Args:
        path: the file.
        num_fields: fields per line (3 for CoNLL-2000); the first is the word, the second the POS
            tag and the last the chunk tag.
    """
    sentences: list[Sentence] = []
    words: list[str] = []
    pos: list[str] = []
    chunks: list[str] = []
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                if words:
                    sentences.append(Sentence(words, pos, chunks))
                    words, pos, chunks = [], [], []
                continue
            if fields[0] == "-DOCSTART-":
                continue
            if len(fields) != num_fields:
                raise ValueError(f"{path}:{lineno}: expected {num_fields} fields 'word POS chunk', "
                                 f"got {len(fields)}: {line.rstrip()[:60]!r}")
            words.append(fields[0])
            pos.append(fields[1])
            chunks.append(fields[-1])
    if words:
        sentences.append(Sentence(words, pos, chunks))
    return sentences


def write_conll(path: str | os.PathLike, sentences: Sequence[Sentence]) -> None:
    """Write ``sentences`` in the column format (atomically)."""
    lines = []
    for s in sentences:
        lines += [f"{w} {p} {c}" for w, p, c in zip(s.words, s.pos, s.chunks)]
        lines.append("")
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))


_CONLL_URL = "https://www.clips.uantwerpen.be/conll2000/chunking/{}.txt.gz"
#: md5 of the files in ../shared/data/tagging/conll2000 (UKPLab copy; see datasets/conll2000.md).
#: The official .gz files could not be fetched here, so their md5 is not known: downloads are
#: unchecked.
LOCAL_MD5 = {"train": "d79fd0287370e01269e533beef5240a5", "dev": "8076067bed63390a26289caf24efc172",
             "test": "01a63b4ff43170763baa714426687656"}


class CoNLL2000(torch.utils.data.Dataset):
    """CoNLL-2000 chunking sentences, read from ``root/{split}.txt``.

    Items are :class:`Sentence` objects. A missing ``train``/``test`` file is downloaded from the
    official site (``{split}.txt.gz``, decompressed into ``root/{split}.txt``) when ``download`` is
    true; ``dev`` is not part of the official release (a copy of it is in
    ``../shared/data/tagging/conll2000``) and must be present.

    Args:
        root: the folder (``../shared/data/tagging/conll2000`` has all three splits).
        split: ``"train"`` (8,936 sentences, 211,727 tokens), ``"dev"`` or ``"test"`` (2,012,
            47,377).
        download: fetch a missing official split (default True).
    """

    SPLITS = ("train", "dev", "test")

    def __init__(self, root: str | os.PathLike, split: str = "train", download: bool = True):
        if split not in self.SPLITS:
            raise ValueError(f"CoNLL2000: split must be one of {self.SPLITS}, got {split!r}")
        self.root, self.split = Path(root), split
        self.path = self.root / f"{split}.txt"
        if not self.path.exists():
            if not download:
                raise FileNotFoundError(f"CoNLL2000: {self.path} is missing (download=False)")
            self.download()
        self.sentences = read_conll(self.path)

    def download(self) -> None:
        """Fetch ``{split}.txt.gz`` from the official site and decompress it to ``{split}.txt``."""
        if self.split == "dev":
            raise FileNotFoundError(f"CoNLL2000: {self.path} is missing; the dev split is not in "
                                    f"the official release, so it cannot be downloaded")
        gz = download_url(_CONLL_URL.format(self.split), self.root, md5=None)
        with gzip.open(gz, "rb") as f:
            atomic_write_bytes(self.path, f.read())

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, index: int) -> Sentence:
        return self.sentences[index]

    def __repr__(self) -> str:
        return f"CoNLL2000({len(self)}, split={self.split!r})"


# ----------------------------------------------------------------------------------------------
# BMES word segmentation

def words_to_bmes(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """Characters and their BMES tags for a segmented sentence (empty words are an error)."""
    chars: list[str] = []
    tags: list[str] = []
    for i, w in enumerate(words):
        if not w:
            raise ValueError(f"words_to_bmes: word {i} is empty")
        chars += list(w)
        tags += ["S"] if len(w) == 1 else ["B"] + ["M"] * (len(w) - 2) + ["E"]
    return chars, tags


def bmes_to_words(chars: Sequence[str], tags: Sequence[str]) -> list[str]:
    """Words from characters and BMES tags (the inverse of :func:`words_to_bmes`).

    Predicted tags need not be consistent; the rule is: a word starts at ``B`` or ``S`` and after an
    ``E`` or ``S``; so a stray ``M``/``E`` after ``E``/``S`` starts a word, and a ``B`` or ``S``
    closes an unfinished one.
    """
    if len(chars) != len(tags):
        raise ValueError(f"bmes_to_words: {len(chars)} characters but {len(tags)} tags")
    words: list[str] = []
    current = ""
    for i, (c, t) in enumerate(zip(chars, tags)):
        if t not in ("B", "M", "E", "S"):
            raise ValueError(f"bmes_to_words: tag {i} is {t!r}, expected one of B M E S")
        if t in ("B", "S") and current:
            words.append(current)
            current = ""
        current += c
        if t in ("E", "S"):
            words.append(current)
            current = ""
    if current:
        words.append(current)
    return words


def read_segmented(path: str | os.PathLike) -> list[list[str]]:
    """Read space-separated segmented text (one sentence a line, e.g. the SIGHAN bakeoff files):
    a list of word lists; blank lines are skipped, any whitespace (full-width too) separates."""
    out = []
    with _open_text(path) as f:
        for line in f:
            words = line.split()
            if words:
                out.append(words)
    return out
