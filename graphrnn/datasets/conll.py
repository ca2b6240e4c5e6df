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

Size: just over 400 lines: the CoNLL reader and writer, the data set, BMES segmentation and the
encoder that turns sentences into batches are the tagging data's one contract.
"""
from __future__ import annotations

import gzip
import os
import re
from collections.abc import Sequence
from io import StringIO
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from ..io import atomic_write_bytes, read_text
from .base import FileDataset
from .download import download_url
from .text import Vocab, pad_sequences

__all__ = ["Sentence", "read_conll", "write_conll", "CoNLL2000", "words_to_bmes",
           "bmes_to_words", "bmes_to_iobes", "read_segmented", "normalize_word", "TaggedBatch",
           "TaggingEncoder", "IGNORE", "SEG_SAMPLE", "segmentation_sample"]


class Sentence(NamedTuple):
    """One CoNLL-2000 sentence: parallel lists of words, POS tags and chunk tags."""
    words: list[str]
    pos: list[str]
    chunks: list[str]


def _open_text(path: str | os.PathLike) -> StringIO:
    """The file's text (``.gz`` too) as a stream of lines; bytes that are not UTF-8 are a
    ``ValueError`` naming the file and line (:func:`graphrnn.io.read_text`)."""
    return StringIO(read_text(path))


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


class CoNLL2000(FileDataset):
    """CoNLL-2000 chunking sentences, read from ``root/{split}.txt`` (or ``file``).

    Items are :class:`Sentence` objects. A missing ``train``/``test`` file is downloaded from the
    official site (``{split}.txt.gz``, decompressed into ``root/{split}.txt``) when ``download`` is
    true; ``dev`` is not part of the official release (a copy of it is in
    ``../shared/data/tagging/conll2000``) and must be present. Missing files that cannot be
    fetched are a :class:`~graphrnn.datasets.base.DataNotFoundError` naming them, the folder and
    the source.

    Args:
        root: the folder (``../shared/data/tagging/conll2000`` has all three splits).
        split: ``"train"`` (8,936 sentences, 211,727 tokens), ``"dev"`` or ``"test"`` (2,012,
            47,377).
        download: fetch a missing official split (default True).
        check_md5: check the files against :data:`LOCAL_MD5` (default False: the official files
            and other copies differ from the shared one in line endings).
        file: read this column file instead of ``root/{split}.txt`` (your own data, ``word POS
            chunk`` a line); never downloaded. (default: ``None``)
    """

    SPLITS = ("train", "dev", "test")
    source = ("https://www.clips.uantwerpen.be/conll2000/chunking/ (train.txt.gz, test.txt.gz; "
              "dev.txt is not in the official release: UKPLab's copy, see the card)")
    card = "datasets/conll2000.md"

    def __init__(self, root: str | os.PathLike, split: str = "train", download: bool = True,
                 check_md5: bool = False, file: str | os.PathLike | None = None):
        if split not in self.SPLITS:
            raise ValueError(f"CoNLL2000: split must be one of {self.SPLITS}, got {split!r}")
        self.split, self.file = split, None if file is None else Path(file)
        super().__init__(root, download=download and file is None,
                         check_md5=check_md5 and file is None)
        self.path = self.raw_paths[0]
        self.sentences = self.items

    @property
    def raw_file_names(self) -> tuple[str, ...]:
        return (self.file.name,) if self.file is not None else (f"{self.split}.txt",)

    @property
    def raw_paths(self) -> list[Path]:
        return [self.file] if self.file is not None else super().raw_paths

    @property
    def md5(self) -> dict[str, str]:
        return {f"{s}.txt": m for s, m in LOCAL_MD5.items()}

    def download(self) -> None:
        """Fetch ``{split}.txt.gz`` from the official site and decompress it to ``{split}.txt``."""
        if self.split == "dev":
            raise FileNotFoundError("the dev split is not in the official release, so it cannot "
                                    "be downloaded")
        gz = download_url(_CONLL_URL.format(self.split), self.root, md5=None)
        with gzip.open(gz, "rb") as f:
            atomic_write_bytes(self.raw_paths[0], f.read())

    def process(self) -> list[Sentence]:
        return read_conll(self.raw_paths[0])

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


#: A tiny hand-segmented sample (everyday sentences, words separated by spaces): enough to show a
#: tagger learning word boundaries, not a benchmark. :func:`segmentation_sample` reads it.
SEG_SAMPLE = """\
我们 爱 北京 天安门
今天 天气 很 好
我 喜欢 学习 中文
他 在 大学 学习 计算机 科学
我们 明天 去 公园 散步
这 是 一 本 很 有意思 的 书
她 每天 早上 喝 咖啡
学生 们 在 教室 里 看书
我 的 朋友 住 在 上海
中国 是 一个 历史 悠久 的 国家
他们 正在 讨论 这个 问题
老师 给 我们 讲 了 一个 故事
我们 一起 去 吃饭 吧
这个 城市 的 交通 很 方便
他 昨天 买 了 一 台 电脑
北京 的 秋天 非常 美丽
我 想 学习 机器 学习
妈妈 在 厨房 做饭
孩子 们 在 公园 里 玩
这 家 饭馆 的 菜 很 好吃
我们 的 学校 有 很多 学生
他 喜欢 在 晚上 看 电影
天气 预报 说 明天 会 下雨
我 每天 坐 地铁 上班
朋友 们 在 一起 聊天
图书馆 里 有 很多 书
他 是 一个 很 好 的 老师
我们 明天 一起 学习 中文
她 喜欢 喝 茶
上海 是 一个 大 城市
"""


def segmentation_sample() -> list[list[str]]:
    """The 30 sentences of :data:`SEG_SAMPLE` as word lists (as :func:`read_segmented` gives)."""
    return [line.split() for line in SEG_SAMPLE.strip().splitlines()]


# ----------------------------------------------------------------------------------------------
# sentences as padded batches of ids

_DIGITS = re.compile(r"\d")


def normalize_word(word: str) -> str:
    """Lower-case and map every digit to ``0`` (the word-embedding key; case and digits remain
    visible to the character features)."""
    return _DIGITS.sub("0", word.lower())


def bmes_to_iobes(tags: Sequence[str], kind: str = "W") -> list[str]:
    """BMES segmentation tags as IOBES chunk tags of one type (``B M E S`` -> ``B-W I-W E-W
    S-W``), so that :func:`~graphrnn.tasks.conlleval` scores words: its chunk F1 is word F1."""
    table = {"B": "B", "M": "I", "E": "E", "S": "S"}
    out = []
    for i, t in enumerate(tags):
        if t not in table:
            raise ValueError(f"bmes_to_iobes: tag {i} is {t!r}, expected one of B M E S")
        out.append(f"{table[t]}-{kind}")
    return out


class TaggedBatch(NamedTuple):
    """A padded batch of tagged sentences (batch first).

    Attributes:
        words: (B, T) word ids (``pad`` past each length).
        tags: (B, T) tag ids (``-100``, ignored by the loss, past each length).
        lengths: (B,) tokens per sentence (CPU, long).
        chars: (U, L) character ids of the batch's U distinct tokens, or ``None`` (character
            features are computed once per distinct token, not per padded position).
        char_index: (B, T) row of ``chars`` of each token (0 past each length), or ``None``.
        features: (B, T) ids of an extra discrete feature (e.g. POS), or ``None``.
    """
    words: Tensor
    tags: Tensor
    lengths: Tensor
    chars: Tensor | None = None
    char_index: Tensor | None = None
    features: Tensor | None = None

    @property
    def mask(self) -> Tensor:
        """(B, T) bool, true on real tokens."""
        T = self.words.size(1)
        return torch.arange(T, device=self.words.device)[None, :] < \
            self.lengths.to(self.words.device)[:, None]


IGNORE = -100


class TaggingEncoder:
    """Vocabularies of words, characters, tags and an optional feature; turns sentences into
    :class:`TaggedBatch` objects (use :meth:`collate` as a ``DataLoader`` ``collate_fn``).

    Args:
        tokens: token lists of the training sentences.
        tags: their tag lists.
        features: their feature lists (e.g. POS tags), or ``None``.
        chars: build a character vocabulary too (default ``True``).
        min_freq: keep words seen at least this often (default 1).
        normalize: map a token to its embedding key (default :func:`normalize_word`; ``str`` keeps
            it as is, e.g. for Chinese characters).
        max_word_len: characters kept per word for the character features (default 20).
        tag_set: every tag of the annotation scheme, added to those seen in ``tags`` (a gold tag
            of the test data that training never shows, such as CoNLL-2000's ``I-LST``, must still
            be encodable to be scored).
    """

    def __init__(self, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]],
                 features: Sequence[Sequence[str]] | None = None, chars: bool = True,
                 min_freq: int = 1, normalize=normalize_word, max_word_len: int = 20,
                 tag_set: Sequence[str] = ()):
        self.normalize, self.max_word_len = normalize, max_word_len
        self.words = Vocab.build(([normalize(w) for w in s] for s in tokens), min_freq=min_freq,
                                 specials=("<pad>", "<unk>"))
        self.tags = Vocab.build([*tags, list(tag_set)], specials=())
        self.chars = Vocab.build(([c for w in s for c in w] for s in tokens),
                                 specials=("<pad>", "<unk>")) if chars else None
        self.features = Vocab.build(features, specials=("<pad>", "<unk>")) \
            if features is not None else None

    def state_dict(self) -> dict:
        """Tokens of every vocabulary (JSON-serialisable, for a checkpoint's ``config``)."""
        return {"words": self.words.to_list(), "tags": self.tags.to_list(),
                "chars": None if self.chars is None else self.chars.to_list(),
                "features": None if self.features is None else self.features.to_list(),
                "max_word_len": self.max_word_len}

    @classmethod
    def from_state_dict(cls, state: dict, normalize=normalize_word) -> TaggingEncoder:
        enc = cls.__new__(cls)
        enc.normalize, enc.max_word_len = normalize, state["max_word_len"]
        specials = ("<pad>", "<unk>")
        enc.words = Vocab.from_list(state["words"], specials)
        enc.tags = Vocab.from_list(state["tags"], ())
        enc.chars = None if state["chars"] is None else Vocab.from_list(state["chars"], specials)
        enc.features = None if state["features"] is None else \
            Vocab.from_list(state["features"], specials)
        return enc

    def encode(self, tokens: Sequence[str], tags: Sequence[str] | None = None,
               features: Sequence[str] | None = None) -> dict:
        """One sentence as id lists (``tags``/``features`` may be ``None``)."""
        if tags is not None and len(tags) != len(tokens):
            raise ValueError(f"TaggingEncoder.encode: {len(tokens)} tokens but {len(tags)} tags")
        item = {"words": self.words.encode([self.normalize(w) for w in tokens]),
                "tags": None if tags is None else [self.tags[t] for t in tags]}
        if self.chars is not None:
            item["chars"] = [self.chars.encode(list(w[:self.max_word_len])) for w in tokens]
        if self.features is not None:
            if features is None:
                raise ValueError("TaggingEncoder.encode: this encoder has a feature vocabulary; "
                                 "pass features=")
            item["features"] = self.features.encode(features)
        return item

    def collate(self, items: Sequence[dict]) -> TaggedBatch:
        """Pad encoded sentences into a :class:`TaggedBatch`."""
        words, lengths = pad_sequences([it["words"] for it in items], 0)
        tags = torch.full_like(words, IGNORE)
        for i, it in enumerate(items):
            if it["tags"] is not None:
                tags[i, :len(it["tags"])] = torch.tensor(it["tags"])
        chars = char_index = features = None
        if self.chars is not None:
            rows: dict[tuple[int, ...], int] = {}
            char_index = torch.zeros_like(words)
            for i, it in enumerate(items):
                char_index[i, :len(it["chars"])] = torch.tensor(
                    [rows.setdefault(tuple(c), len(rows)) for c in it["chars"]])
            L = max((len(c) for c in rows), default=1)
            chars = torch.zeros(max(len(rows), 1), max(L, 1), dtype=torch.long)
            for c, r in rows.items():
                chars[r, :len(c)] = torch.tensor(c, dtype=torch.long)
        if self.features is not None:
            features, _ = pad_sequences([it["features"] for it in items], 0)
        return TaggedBatch(words, tags, lengths, chars, char_index, features)
