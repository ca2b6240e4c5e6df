"""Plain-text language-model corpora: train / valid / test files (or one file and a seeded split),
whitespace words or characters, a vocabulary from the training split, and the ``<eos>`` stream an
RNN language model trains on.

Tokens
------
* ``level="word"``: :func:`whitespace_tokenize` (``str.split``). Pre-tokenised text stays exactly as
  written: ``<unk>`` is one token (it maps to the vocabulary's ``<unk>`` index), ``500-stock`` is
  one token, punctuation attached to a word stays attached. This is the convention of the Penn
  Treebank language-model files (Mikolov et al. 2010) and of every published perplexity on them;
  :func:`graphrnn.datasets.text.tokenize` (which splits ``<unk>`` into ``<``, ``unk``, ``>``) is for
  raw prose and is not used here. Raw prose can be prepared with ``preprocess=`` (e.g.
  :func:`split_punctuation`, which the cmn-eng preset uses).
* ``level="char"``: :func:`char_tokenize`, every character of the line with runs of whitespace
  collapsed to one ``" "`` token and the ends stripped, so English text can be regenerated from the
  tokens (``"".join``). Chinese text has no spaces, hence no space tokens.

The stream
----------
``stream(split)`` is ``[<eos>] + ids(line_1) + [<eos>] + ids(line_2) + [<eos>] + ...``:
predicting ``stream[1:]`` from ``stream[:-1]`` scores every token of every line and each line's
end, exactly the ``len + 1`` events per sentence that :class:`graphrnn.tasks.ngram.NGramLM`
scores, so ``num_predicted(split) == sum(len(s) + 1 for s in sentences(split))`` and the two
perplexities compare (the RNN reads the previous line's ``<eos>`` where the N-gram reads
``<bos>`` padding).

Readers (``reader=``): ``"lines"`` (one sentence a line, blank lines skipped), ``"conll"`` (first
column of a whitespace-separated token-per-line file, a blank line ends a sentence, ``-DOCSTART-``
lines skipped), ``"tsv:K"`` (column ``K`` of a tab-separated file). A line with a different number
of columns than the file's first line is an error naming file and line; bytes that are not UTF-8 are
an error naming file, line and column (:func:`graphrnn.io.read_lines`).

See ``datasets/text_corpus.md`` for the three measured corpora and their splits.
"""
from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from ..io import read_lines, shared_data
from .base import DataNotFoundError
from .text import BOS, EOS, PAD, Vocab

__all__ = ["whitespace_tokenize", "char_tokenize", "split_punctuation", "TextCorpus"]

SPLITS = ("train", "valid", "test")
# file names looked for under root=, in this order
FILE_NAMES = {"train": ("train.txt", "ptb.train.txt", "train.txt.gz"),
              "valid": ("valid.txt", "dev.txt", "ptb.valid.txt", "valid.txt.gz", "dev.txt.gz"),
              "test": ("test.txt", "ptb.test.txt", "test.txt.gz")}
_RESERVED = frozenset((PAD, BOS, EOS))


def whitespace_tokenize(line: str) -> list[str]:
    """The whitespace-separated tokens of ``line``, as written (``"a <unk> 500-stock ."`` ->
    ``["a", "<unk>", "500-stock", "."]``)."""
    return line.split()


def char_tokenize(line: str) -> list[str]:
    """The characters of ``line`` with whitespace runs collapsed to one ``" "`` and the ends
    stripped (``"ab  c\\t"`` -> ``["a", "b", " ", "c"]``)."""
    return list(" ".join(line.split()))


_PUNCT_RE = re.compile(r"\d+(?:[.,:]\d+)+"             # 3.5, 1,000, 12:30
                       r"|\w+(?:['\u2019-]\w+)*"       # words, don't, tom's, well-known
                       r"|\S")                         # any other symbol alone


def split_punctuation(line: str) -> str:
    """Put spaces around punctuation: ``"Tom's here, isn't he?"`` -> ``"Tom's here , isn't he ?"``.

    Words keep inner apostrophes and hyphens (``don't``, ``o'clock``, ``well-known``) and numbers
    their separators (``3.5``, ``1,000``); every other non-space symbol becomes a token of its own.
    """
    return " ".join(_PUNCT_RE.findall(line))


def _read_split(path: Path, reader: str, level: str, lowercase: bool,
                preprocess: Callable[[str], str] | None) -> list[list[str]]:
    """The token lists of one file (see the module notes for the readers)."""
    if not path.is_file():
        raise DataNotFoundError(f"TextCorpus: {path} does not exist")
    lines = read_lines(path)
    tokenize = whitespace_tokenize if level == "word" else char_tokenize
    column = None
    if reader.startswith("tsv:"):
        column = int(reader[4:])
    out: list[list[str]] = []
    width = None
    current: list[str] = []
    for number, line in enumerate(lines, 1):
        if reader == "conll":
            fields = line.split()
            if not fields:
                if current:
                    out.append(current if level == "word" else char_tokenize(" ".join(current)))
                current = []
                continue
            if fields[0] == "-DOCSTART-":
                continue
            width = width or len(fields)
            if len(fields) != width:
                raise ValueError(f"{path}:{number}: {len(fields)} columns, the file's first line "
                                 f"has {width} (CoNLL: one token a line, columns separated by "
                                 f"spaces, a blank line between sentences)")
            current.append(fields[0].lower() if lowercase else fields[0])
            continue
        if column is not None:
            if not line.strip():
                continue
            fields = line.split("\t")
            width = width or len(fields)
            if len(fields) != width or column >= width:
                raise ValueError(f"{path}:{number}: {len(fields)} tab-separated columns, expected "
                                 f"{width} (as the file's first line) with column {column} in "
                                 f"them")
            line = fields[column]
        if preprocess is not None:
            line = preprocess(line)
        if lowercase:
            line = line.lower()
        tokens = tokenize(line)
        if tokens:
            out.append(tokens)
    if current:
        out.append(current if level == "word" else char_tokenize(" ".join(current)))
    for number, tokens in enumerate(out, 1):
        bad = _RESERVED.intersection(tokens)
        if bad:
            raise ValueError(f"{path}: sentence {number} contains the reserved token "
                             f"{sorted(bad)[0]!r} (the corpus adds {EOS} itself; remove it from "
                             f"the text)")
    return out


class TextCorpus:
    r"""A language-model corpus: token lists per split, a training vocabulary and the ``<eos>``
    stream (see the module notes for tokens, readers and the stream).

    Give exactly one source:

    * ``root``: a folder with ``train.txt``, ``valid.txt`` (or ``dev.txt``), ``test.txt`` (the
      Penn Treebank names ``ptb.train.txt`` ... also work; ``.gz`` is read too);
    * ``train=``, ``valid=``, ``test=``: three files;
    * ``text=``: one file, split by a seeded shuffle of its *distinct* sentences (a sentence that
      occurs twice lands in one split only; ``dedupe=True`` keeps one copy of it).

    Args:
        level: ``"word"`` (whitespace tokens) or ``"char"``. (default: ``"word"``)
        split: train/valid/test fractions of a ``text=`` split. (default: ``(0.9, 0.05, 0.05)``)
        seed: seed of that shuffle (``random.Random(seed).shuffle``). (default: 0)
        max_size: keep at most this many regular tokens in the vocabulary (the most frequent
            in train). (default: all)
        min_freq: keep tokens seen at least this often in train. (default: 1)
        lowercase: lowercase the text before tokenising. (default: False)
        reader: ``"lines"``, ``"conll"`` or ``"tsv:K"``. (default: ``"lines"``)
        preprocess: a function applied to each line's text before lowercasing and tokenising
            (e.g. :func:`split_punctuation`). (default: None)
        dedupe: for ``text=``, keep one copy of repeated sentences. (default: True)

    Attributes:
        vocab: a :class:`~graphrnn.datasets.text.Vocab` built on train (specials ``<pad>``,
            ``<unk>``, ``<bos>``, ``<eos>`` first); a literal ``<unk>`` in the text maps to its
            ``<unk>`` index.
        sources: split -> where it came from (path, or path and fraction).

    Presets: :meth:`conll2000`, :meth:`cmn_eng`, :meth:`tang_poems`.
    """

    def __init__(self, root: str | os.PathLike | None = None, *, train=None, valid=None,
                 test=None, text=None, level: str = "word",
                 split: Sequence[float] = (0.9, 0.05, 0.05), seed: int = 0,
                 max_size: int | None = None, min_freq: int = 1, lowercase: bool = False,
                 reader: str = "lines", preprocess: Callable[[str], str] | None = None,
                 dedupe: bool = True):
        if level not in ("word", "char"):
            raise ValueError(f"TextCorpus: level must be 'word' or 'char', got {level!r}")
        if not (reader in ("lines", "conll") or re.fullmatch(r"tsv:\d+", reader)):
            raise ValueError(f"TextCorpus: reader must be 'lines', 'conll' or 'tsv:K' (K a column "
                             f"number from 0), got {reader!r}")
        files = {"train": train, "valid": valid, "test": test}
        given = [root is not None, any(f is not None for f in files.values()), text is not None]
        if sum(given) != 1:
            raise ValueError("TextCorpus: give exactly one of root=, train=/valid=/test= or text=")
        read = lambda p: _read_split(Path(p), reader, level, lowercase, preprocess)  # noqa: E731
        if text is not None:
            splits, sources = self._split_text(read(text), split, seed, dedupe, str(text))
        else:
            paths = self._find(Path(root)) if root is not None else files
            missing = [k for k, p in paths.items() if p is None]
            if missing:
                raise ValueError(f"TextCorpus: no file given for the {', '.join(missing)} split(s)")
            splits = {k: read(p) for k, p in paths.items()}
            sources = {k: str(p) for k, p in paths.items()}
        self._setup(splits, sources, level, max_size, min_freq)

    # --- construction --------------------------------------------------------------------------
    @staticmethod
    def _find(root: Path) -> dict[str, Path]:
        if not root.is_dir():
            raise DataNotFoundError(f"TextCorpus: the folder {root} does not exist (see "
                                    f"datasets/text_corpus.md for the layouts read)")
        paths, missing = {}, []
        for k, names in FILE_NAMES.items():
            found = [root / n for n in names if (root / n).is_file()]
            if found:
                paths[k] = found[0]
            else:
                missing.append(f"{k} ({' or '.join(names)})")
        if missing:
            raise DataNotFoundError(f"TextCorpus: no file for {'; '.join(missing)} in {root} (see "
                                    f"datasets/text_corpus.md)")
        return paths

    @staticmethod
    def _split_text(sentences, fractions, seed, dedupe, name):
        if len(fractions) != 3 or any(f < 0 for f in fractions) or \
                abs(sum(fractions) - 1) > 1e-9:
            raise ValueError(f"TextCorpus: split must be 3 non-negative fractions summing to 1, "
                             f"got {tuple(fractions)}")
        groups: dict[tuple[str, ...], list[list[str]]] = {}
        for s in sentences:
            groups.setdefault(tuple(s), []).append(s)
        distinct = list(groups)  # first-occurrence order, then a seeded shuffle
        random.Random(seed).shuffle(distinct)
        n = len(distinct)
        n_train, n_valid = round(fractions[0] * n), round(fractions[1] * n)
        cuts = {"train": distinct[:n_train], "valid": distinct[n_train:n_train + n_valid],
                "test": distinct[n_train + n_valid:]}
        splits = {k: [list(s) for s in v] if dedupe else [x for s in v for x in groups[s]]
                  for k, v in cuts.items()}
        sources = {k: f"{name} ({fractions[i]:g} of {n} distinct sentences, seed {seed})"
                   for i, k in enumerate(SPLITS)}
        return splits, sources

    @classmethod
    def from_sentences(cls, splits: dict[str, list[list[str]]], *, level: str = "word",
                       max_size: int | None = None, min_freq: int = 1,
                       sources: dict[str, str] | None = None) -> TextCorpus:
        """A corpus from token lists ``{"train": [...], "valid": [...], "test": [...]}``."""
        self = cls.__new__(cls)
        self._setup({k: [list(s) for s in splits.get(k, [])] for k in SPLITS},
                    sources or {k: "given sentences" for k in SPLITS}, level, max_size, min_freq)
        return self

    def _setup(self, splits, sources, level, max_size, min_freq):
        for k in SPLITS:
            if not splits.get(k):
                raise ValueError(f"TextCorpus: the {k} split ({sources[k]}) has no sentences")
        self.level, self.sources = level, dict(sources)
        self._sentences = splits
        self.vocab = Vocab.build(splits["train"], min_freq=min_freq, max_size=max_size)
        self._streams: dict[str, torch.Tensor] = {}

    # --- presets -------------------------------------------------------------------------------
    @classmethod
    def conll2000(cls, root: str | os.PathLike | None = None, **kwargs) -> TextCorpus:
        """The words of CoNLL-2000 (WSJ sections 15-18 / UKPLab's dev / section 20): ``train.txt``,
        ``dev.txt``, ``test.txt`` under ``root`` (default ``shared/data/tagging/conll2000``) as
        train / valid / test, first column, case kept, a blank line ending a sentence;
        vocabulary of the words seen twice in train (``min_freq=2``: train's singletons become
        ``<unk>``, so the models learn it)."""
        root = Path(root) if root is not None else shared_data("tagging", "conll2000")
        kwargs.setdefault("reader", "conll")
        kwargs.setdefault("min_freq", 2)
        return cls(root, **kwargs)

    @classmethod
    def cmn_eng(cls, path: str | os.PathLike | None = None, **kwargs) -> TextCorpus:
        """The English side of the Tatoeba English-Chinese pairs (``cmn.txt``, column 0; default
        ``shared/data/translation/cmn-eng/cmn.txt``), lowercased, punctuation split from words
        (:func:`split_punctuation`), the distinct sentences split 90/5/5 by ``seed`` 0;
        vocabulary of the words seen twice in train (``min_freq=2``)."""
        path = Path(path) if path is not None else \
            shared_data("translation", "cmn-eng", "cmn.txt")
        for key, value in (("reader", "tsv:0"), ("lowercase", True),
                           ("preprocess", split_punctuation), ("min_freq", 2)):
            kwargs.setdefault(key, value)
        return cls(text=path, **kwargs)

    @classmethod
    def tang_poems(cls, root: str | os.PathLike | None = None, *, simplified: bool = False,
                   max_len: int | None = 200, min_freq: int = 2, seed: int = 0,
                   max_size: int | None = None) -> TextCorpus:
        """Tang poems by character, as ``graphrnn train poems`` reads them: the chinese-poetry
        files under ``root`` (default ``shared/data/tang_poems``) through
        :class:`~graphrnn.datasets.TangPoems` (filtered, deduplicated, at most ``max_len``
        characters), split 90/5/5 by the md5 of each poem (:func:`split_of`), one poem a
        sentence, vocabulary of characters seen ``min_freq`` (2) times in train."""
        from .tang_poems import TangPoems, split_of

        root = Path(root) if root is not None else shared_data("tang_poems")
        poems = TangPoems(root, split="all", simplified=simplified, max_len=max_len,
                          download=False)
        splits: dict[str, list[list[str]]] = {k: [] for k in SPLITS}
        for p in poems:
            splits[split_of(p.text, seed=seed)].append(char_tokenize(p.text))
        sources = {k: f"{root} (TangPoems, md5 split {k}, seed {seed})" for k in SPLITS}
        return cls.from_sentences(splits, level="char", max_size=max_size, min_freq=min_freq,
                                  sources=sources)

    # --- access --------------------------------------------------------------------------------
    def _check(self, split: str) -> None:
        if split not in SPLITS:
            raise ValueError(f"TextCorpus: split must be one of {SPLITS}, got {split!r}")

    def sentences(self, split: str) -> list[list[str]]:
        """The raw token lists of ``split`` (unknown tokens not yet mapped: the vocabulary does
        that)."""
        self._check(split)
        return self._sentences[split]

    def stream(self, split: str) -> torch.Tensor:
        """``(N,)`` long: ``[<eos>] + ids(s_1) + [<eos>] + ... + ids(s_n) + [<eos>]``."""
        self._check(split)
        if split not in self._streams:
            stoi, unk, eos = self.vocab._stoi, self.vocab.unk_index, self.vocab.eos_index
            ids = [eos]
            for s in self._sentences[split]:
                ids.extend([stoi.get(t, unk) for t in s])
                ids.append(eos)
            self._streams[split] = torch.tensor(ids, dtype=torch.long)
        return self._streams[split]

    def num_predicted(self, split: str) -> int:
        """Tokens scored on ``split``: ``len(stream) - 1 == sum(len(s) + 1)``."""
        return len(self.stream(split)) - 1

    def num_tokens(self, split: str) -> int:
        """Tokens of ``split`` without the ``<eos>``."""
        return sum(len(s) for s in self.sentences(split))

    def oov_rate(self, split: str) -> float:
        """Fraction of the tokens of ``split`` (``<eos>`` excluded) that map to ``<unk>``."""
        unk = self.vocab.unk_index
        stream = self.stream(split)
        return float((stream == unk).sum()) / max(self.num_tokens(split), 1)

    def columns(self, split: str, batch_size: int) -> torch.Tensor:
        """The stream cut into ``batch_size`` parallel columns, ``(T, batch_size)`` with
        ``T = len(stream) // batch_size`` (the last ``len % batch_size`` tokens are dropped):
        column ``b`` is ``stream[b*T:(b+1)*T]``, the layout of truncated-BPTT training."""
        if batch_size < 1:
            raise ValueError(f"TextCorpus.columns: batch_size must be >= 1, got {batch_size}")
        stream = self.stream(split)
        T = len(stream) // batch_size
        if T < 2:
            raise ValueError(f"TextCorpus.columns: the {split} stream has {len(stream)} tokens, "
                             f"too few for {batch_size} columns of at least 2")
        return stream[:T * batch_size].view(batch_size, T).t().contiguous()

    def summary(self) -> dict[str, dict]:
        """Per split: sentences, tokens, predicted tokens (with ``<eos>``) and OOV rate."""
        return {k: {"sentences": len(self._sentences[k]), "tokens": self.num_tokens(k),
                    "predicted": self.num_predicted(k), "oov": round(self.oov_rate(k), 5)}
                for k in SPLITS}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(self._sentences[k])}" for k in SPLITS)
        return f"TextCorpus(level={self.level!r}, vocab={len(self.vocab)}, sentences: {sizes})"
