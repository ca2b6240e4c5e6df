"""English-Chinese sentence pairs of Tatoeba (``cmn.txt`` of manythings.org/anki), for
``graphrnn train translation``.

``cmn.txt`` is ``English<TAB>Chinese<TAB>attribution`` per line, CC-BY 2.0 (France), each line
carrying its own attribution (tatoeba sentence ids and user names), kept here as
:attr:`Pair.extra` and given back by :func:`attribution`. The file is read by the package's one
pairs reader (:func:`graphrnn.datasets.pairs.read_pairs`: errors name file and line) and split by
:func:`~graphrnn.datasets.pairs.split_pairs` with *both* sides as keys: every translation of one
English sentence, and every English sentence of one Chinese translation, land in the same split
(connected groups), shuffled by ``seed``; 1,500 test and 1,500 valid pairs (whole groups), the
rest (~26,150) train. The split does not depend on the direction, so ``en-zh`` and ``zh-en`` are
trained and tested on the same pairs. English is lowercased with punctuation split from words
(:func:`~graphrnn.datasets.text_corpus.split_punctuation`, as the language-model preset reads the
same file); Chinese is read by characters (or by ``jieba`` words). See
``datasets/cmn_eng_translation.md``.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..io import shared_data
from .base import DataNotFoundError
from .download import check_file
from .pairs import Pair, TextPairs, Tokenizer, read_pairs, split_pairs

__all__ = ["CMN_ENG_MD5", "DIRECTIONS", "cmn_eng_pairs", "cmn_eng_path", "attribution"]

CMN_ENG_MD5 = "4d8b3c185dcf486db82ec9a606d9a27c"
DIRECTIONS = ("en-zh", "zh-en")


def cmn_eng_path(path: str | os.PathLike | None = None, check_md5: bool = True) -> Path:
    """``path``, or the shared copy ``translation/cmn-eng/cmn.txt``; the shared copy is
    md5-checked."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise DataNotFoundError(f"{path}: no such file (expected cmn.txt of "
                                    f"manythings.org/anki, see datasets/cmn_eng_translation.md)")
        return path
    path = shared_data("translation", "cmn-eng", "cmn.txt")
    if not path.is_file():
        raise DataNotFoundError(f"{path}: not found; download cmn-eng.zip from "
                                f"https://www.manythings.org/anki/ and give --root the folder of "
                                f"its cmn.txt (see datasets/cmn_eng_translation.md)")
    if check_md5:
        check_file(path, CMN_ENG_MD5)
    return path


def cmn_eng_pairs(path: str | os.PathLike | None = None, direction: str = "en-zh",
                  chinese: str = "char", seed: int = 0, valid: float = 1500, test: float = 1500,
                  min_freq: int = 2, max_vocab: int | None = None, max_len: int | None = 30
                  ) -> TextPairs:
    """The Tatoeba pairs as a :class:`~graphrnn.datasets.pairs.TextPairs` in ``direction``.

    Args:
        path: ``cmn.txt`` (default: the shared copy, md5-checked).
        direction: ``"en-zh"`` (English source) or ``"zh-en"``. (default: ``"en-zh"``)
        chinese: ``"char"`` or ``"jieba"`` (words). (default: ``"char"``)
        seed: seeds the split. (default: 0)
        valid, test: pairs in those splits (counts, or fractions when < 1). (default: 1500)
        min_freq: vocabulary: tokens seen at least this often in train (rarer ones become
            ``<unk>``). (default: 2)
        max_vocab: at most this many tokens per side. (default: all)
        max_len: training pairs with a side longer than this many tokens are left out.
            (default: 30)
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"cmn_eng_pairs: direction must be one of {DIRECTIONS}, got "
                         f"{direction!r}")
    pairs = read_pairs(cmn_eng_path(path), 0, 1)
    splits = split_pairs(pairs, valid, test, seed,
                         keys=(lambda p: p.source, lambda p: p.target))
    english, chinese_tok = Tokenizer("word", lowercase=True), Tokenizer(chinese)
    if direction == "zh-en":
        splits = {k: [Pair(p.target, p.source, p.line, p.extra) for p in v]
                  for k, v in splits.items()}
        source, target = chinese_tok, english
    else:
        source, target = english, chinese_tok
    return TextPairs(splits, source, target, min_freq=min_freq, max_vocab=max_vocab,
                     max_len=max_len)


def attribution(pair: Pair) -> str:
    """The CC-BY attribution of a pair read from ``cmn.txt`` (its third column)."""
    return pair.extra[0] if pair.extra else ""
