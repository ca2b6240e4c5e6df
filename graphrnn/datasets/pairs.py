"""Text pairs for encoder-decoders: any tab-separated file of (source, target) columns, a seeded
split that keeps related pairs together, tokenisers, vocabularies and the id pairs a
:class:`~graphrnn.models.Seq2Seq` trains on.

File format (``datasets/pairs.md``): UTF-8, one pair a line, fields separated by one tab; the
source in column ``src_col`` and the target in ``tgt_col`` (default 0 and 1), any other columns
kept as :attr:`Pair.extra` (e.g. an attribution). Blank lines are skipped. A line with too few
columns or an empty source or target field is an error naming file and line; bytes that are not
UTF-8 are an error naming file, line and column (:func:`graphrnn.io.read_lines`).

Split (:func:`split_pairs`): pairs sharing a key (by default the source text: every reply to
one context; for translation both sides: every translation of one sentence) form one group, the
groups are shuffled by ``seed`` and the test and validation splits filled with whole groups, so
no source of the test split was seen in training.

Tokens (:class:`Tokenizer`): ``"word"`` (punctuation split from words,
:func:`~graphrnn.datasets.text_corpus.split_punctuation`, then whitespace), ``"char"``
(:func:`~graphrnn.datasets.text_corpus.char_tokenize`, for Chinese) or ``"jieba"`` (Chinese words
by the ``jieba`` segmenter, extra ``translation``); optionally lowercased.
"""
from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import torch

from ..io import read_lines
from .sequences import collate_seq2seq
from .text import Vocab
from .text_corpus import char_tokenize, split_punctuation

__all__ = ["Pair", "read_pairs", "split_pairs", "Tokenizer", "TextPairs", "pair_batches",
           "PAIR_SPLITS"]

PAIR_SPLITS = ("train", "valid", "test")
LEVELS = ("word", "char", "jieba")


class Pair(NamedTuple):
    """One line of a pairs file: source and target text, the line number (from 1) and the
    other columns."""
    source: str
    target: str
    line: int
    extra: tuple[str, ...] = ()


def read_pairs(path: str | os.PathLike, src_col: int = 0, tgt_col: int = 1) -> list[Pair]:
    """The (source, target) pairs of a tab-separated file (see the module notes)."""
    if src_col < 0 or tgt_col < 0 or src_col == tgt_col:
        raise ValueError(f"read_pairs: src_col and tgt_col must be two different column numbers "
                         f">= 0, got {src_col} and {tgt_col}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a tab-separated file of "
                                f"source and target columns, see datasets/pairs.md)")
    need = max(src_col, tgt_col) + 1
    pairs = []
    for number, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < need:
            raise ValueError(f"{path}:{number}: {len(fields)} tab-separated column(s), expected "
                             f"at least {need} (source in column {src_col}, target in column "
                             f"{tgt_col}, counting from 0)")
        source, target = fields[src_col].strip(), fields[tgt_col].strip()
        for name, col, text in (("source", src_col, source), ("target", tgt_col, target)):
            if not text:
                raise ValueError(f"{path}:{number}: empty {name} (column {col}); expected text")
        extra = tuple(f for i, f in enumerate(fields) if i not in (src_col, tgt_col))
        pairs.append(Pair(source, target, number, extra))
    if not pairs:
        raise ValueError(f"{path}: no pairs (every line is blank); expected lines of "
                         f"tab-separated source and target")
    return pairs


def split_pairs(pairs: Sequence[Pair], valid: float = 0.05, test: float = 0.05, seed: int = 0,
                keys: Sequence[Callable[[Pair], str]] = (lambda p: p.source,)
                ) -> dict[str, list[Pair]]:
    """Train / valid / test lists of ``pairs``: pairs sharing any key value (``keys``: functions
    of a pair; default the source text) are one group (connected components), groups are shuffled
    by ``random.Random(seed)``, then test and valid take whole groups until they hold ``test`` and
    ``valid`` pairs (a count when >= 1, else a fraction of all pairs); train keeps the rest. Within
    a split, pairs keep the file's order."""
    n = len(pairs)
    want = {k: int(v) if v >= 1 else round(v * n) for k, v in (("test", test), ("valid", valid))}
    if want["test"] + want["valid"] >= n:
        raise ValueError(f"split_pairs: {want['test']} test and {want['valid']} valid pairs "
                         f"leave none of {n} for training")
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for key in keys:
        first: dict[str, int] = {}
        for i, p in enumerate(pairs):
            j = first.setdefault(key(p), i)
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    order = list(groups.values())  # first-occurrence order, then a seeded shuffle
    random.Random(seed).shuffle(order)
    chosen: dict[str, list[int]] = {"test": [], "valid": [], "train": []}
    for group in order:
        split = next((k for k in ("test", "valid") if len(chosen[k]) < want[k]), "train")
        chosen[split].extend(group)
    return {k: [pairs[i] for i in sorted(chosen[k])] for k in PAIR_SPLITS}


class Tokenizer:
    """Text -> tokens and back, by ``level`` (``"word"``, ``"char"``, ``"jieba"``; see the module
    notes), lowercasing first when ``lowercase``. ``detokenize`` joins words with spaces and
    characters / Chinese words with nothing (what sacrebleu's tokenisers then read)."""

    def __init__(self, level: str = "word", lowercase: bool = False):
        if level not in LEVELS:
            raise ValueError(f"Tokenizer: level must be one of {LEVELS}, got {level!r}")
        self.level, self.lowercase = level, lowercase
        if level == "jieba":
            try:
                import jieba
            except ImportError as error:  # pragma: no cover - depends on the environment
                raise ImportError('Chinese words need jieba: pip install "graphrnn[translation]"'
                                  ) from error
            jieba.setLogLevel(60)  # no start-up chatter on stderr
            self._jieba = jieba

    def normalize(self, text: str) -> str:
        """The text as the references of a BLEU score are read (lowercased when asked)."""
        return text.lower() if self.lowercase else text

    def __call__(self, text: str) -> list[str]:
        text = self.normalize(text)
        if self.level == "word":
            return split_punctuation(text).split()
        if self.level == "char":
            return char_tokenize(text)
        return [w for w in self._jieba.lcut(text) if w.strip()]

    def detokenize(self, tokens: Sequence[str]) -> str:
        return (" " if self.level == "word" else "").join(tokens)

    def __repr__(self) -> str:
        return f"Tokenizer(level={self.level!r}, lowercase={self.lowercase})"


class TextPairs:
    """Split pairs, tokenised, with vocabularies built on train.

    Args:
        splits: ``{"train": [Pair, ...], "valid": [...], "test": [...]}`` (:func:`split_pairs`).
        source, target: the :class:`Tokenizer` of each side.
        min_freq: vocabulary: tokens seen at least this often in train. (default: 1)
        max_vocab: vocabulary: at most this many tokens per side (the most frequent).
            (default: all)
        max_len: training pairs with a side longer than this many tokens are left out (valid and
            test keep every pair). (default: no limit)

    Attributes:
        src_vocab, tgt_vocab: :class:`~graphrnn.datasets.text.Vocab` of each side.
    """

    def __init__(self, splits: dict[str, list[Pair]], source: Tokenizer, target: Tokenizer,
                 min_freq: int = 1, max_vocab: int | None = None, max_len: int | None = None):
        for k in PAIR_SPLITS:
            if not splits.get(k):
                raise ValueError(f"TextPairs: the {k} split has no pairs")
        self.splits, self.source, self.target, self.max_len = splits, source, target, max_len
        self._tokens = {k: [(source(p.source), target(p.target)) for p in v]
                        for k, v in splits.items()}
        train = self._tokens["train"]
        self.src_vocab = Vocab.build((s for s, _ in train), min_freq=min_freq, max_size=max_vocab)
        self.tgt_vocab = Vocab.build((t for _, t in train), min_freq=min_freq, max_size=max_vocab)

    def items(self, split: str) -> list[tuple[list[int], list[int]]]:
        """``(source ids, <bos> target ids <eos>)`` of every pair of ``split`` (train: those within
        ``max_len``)."""
        out = []
        for s, t in self._tokens[split]:
            if split == "train" and self.max_len and max(len(s), len(t)) > self.max_len:
                continue
            out.append((self.src_vocab.encode(s), self.tgt_vocab.encode(t, True, True)))
        return out

    def grouped(self, split: str) -> tuple[list[list[int]], list[list[str]], list[list[Pair]]]:
        """The distinct sources of ``split`` with all their references: ``(source ids per
        source, reference texts per source, the pairs per source)``, in first-occurrence
        order (what a corpus BLEU is computed on: one hypothesis per distinct source)."""
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(self.splits[split]):
            groups.setdefault(p.source, []).append(i)
        pairs, tokens = self.splits[split], self._tokens[split]
        ids = [self.src_vocab.encode(tokens[idx[0]][0]) for idx in groups.values()]
        refs = [[self.target.normalize(pairs[i].target) for i in idx] for idx in groups.values()]
        return ids, refs, [[pairs[i] for i in idx] for idx in groups.values()]

    def encode_source(self, text: str) -> list[int]:
        return self.src_vocab.encode(self.source(text))

    def decode_target(self, ids: Sequence[int]) -> str:
        return self.target.detokenize(self.tgt_vocab.decode(ids))

    def summary(self) -> dict[str, dict]:
        """Per split: pairs, distinct sources, source and target tokens; the vocabulary sizes."""
        out = {}
        for k in PAIR_SPLITS:
            toks = self._tokens[k]
            out[k] = {"pairs": len(toks), "sources": len({p.source for p in self.splits[k]}),
                      "source_tokens": sum(len(s) for s, _ in toks),
                      "target_tokens": sum(len(t) for _, t in toks)}
        out["vocab"] = {"source": len(self.src_vocab), "target": len(self.tgt_vocab)}
        return out


def pair_batches(items, batch_size: int, shuffle: bool = False, seed: int = 0, pad: int = 0):
    """A ``DataLoader`` of :class:`~graphrnn.datasets.sequences.Seq2SeqBatch` over id pairs."""
    from torch.utils.data import DataLoader

    gen = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(items, batch_size=batch_size, shuffle=shuffle, generator=gen,
                      collate_fn=lambda b: collate_seq2seq(b, pad))
