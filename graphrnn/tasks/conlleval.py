"""Chunk-level precision / recall / F1 computed the way the CoNLL shared-task script ``conlleval``
(Tjong Kim Sang, version 2004-01-26) does.

Chunks in conlleval
-------------------
A tag is ``PREFIX-TYPE`` (``B-NP``) or a bare prefix (``O``). Between two consecutive tokens a chunk
*ends* and one *starts* according to the prefixes and types (the script's ``endOfChunk`` /
``startOfChunk``):

* a chunk ends after ``B`` or ``I`` when the next tag is ``B``, ``S`` or ``O``; after ``E`` or ``S``
  whatever follows; and after any tag but ``O`` and ``.`` when the type changes;
* a chunk starts at ``S``; at ``B`` after ``B``, ``I``, ``O``, ``E`` or ``S``; at ``I`` or ``E``
  after ``O``, ``E`` or ``S``; and at any tag but ``O`` and ``.`` whose type differs from the
  previous one. So ``I-NP`` after ``O`` starts a chunk (IOB1), and ``B-NP I-VP`` is two chunks;
* the bracket representation's ``[`` and ``]`` each start and end a one-token chunk.

A predicted chunk is correct when it starts and ends at the same tokens as a gold chunk, with the
same type. Sentence boundaries count as ``O``. Precision = correct / predicted chunks, recall =
correct / gold chunks, F1 their harmonic mean; accuracy counts tokens whose full tags agree.

On IOB1, IOB2, IOE1 and IOE2 tags the rules above are exactly the perl script's. The script has no
rule for ``S`` and none for ``E`` followed by ``B`` (it would merge ``S-NP S-NP`` into one chunk);
the rules added for them here make IOBES come out as intended (every ``S`` a chunk, ``E`` closing
one).
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from io import StringIO

from ..io import read_text

__all__ = ["split_tag", "chunk_end", "chunk_start", "get_chunks", "ChunkScore", "conlleval",
           "read_conlleval_file"]



def split_tag(tag: str) -> tuple[str, str]:
    """``"B-NP"`` -> ``("B", "NP")``; ``"O"`` -> ``("O", "")``. Split at the first hyphen, so types
    may hold hyphens (``"I-ADVP-TMP"`` -> ``("I", "ADVP-TMP")``), as in conlleval since 2004."""
    prefix, sep, kind = tag.partition("-")
    return (prefix, kind) if sep else (tag, "")


def chunk_end(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether a chunk ended between the previous token and this one (conlleval's ``endOfChunk``,
    with the IOBES rules added)."""
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    if prev_tag in ("E", "S") and tag in ("B", "I", "E", "S", "O"):
        return True
    if prev_tag not in ("O", ".") and prev_type != type_:
        return True
    return prev_tag in ("[", "]")


def chunk_start(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    """Whether a chunk started between the previous token and this one (conlleval's
    ``startOfChunk``, with the IOBES rules added)."""
    if tag == "S":
        return True
    if tag == "B" and prev_tag in ("B", "I", "O", "E", "S"):
        return True
    if tag in ("I", "E") and prev_tag in ("O", "E", "S"):
        return True
    if tag not in ("O", ".") and prev_type != type_:
        return True
    return tag in ("[", "]")


def get_chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The chunks of one tagged sentence as ``(type, start, end)`` with ``end`` exclusive."""
    chunks = []
    prev_tag, prev_type = "O", ""
    start = None
    for i, t in enumerate(list(tags) + ["O"]):
        tag, type_ = split_tag(t)
        if start is not None and chunk_end(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, start, i))
            start = None
        if i < len(tags) and chunk_start(prev_tag, tag, prev_type, type_):
            start = i
        prev_tag, prev_type = tag, type_
    return chunks


@dataclass
class ChunkScore:
    """conlleval's counts and the scores derived from them (fractions in [0, 1]; conlleval prints
    them times 100).

    Attributes:
        tokens: tokens processed; correct_tags: tokens whose full tags agree.
        found_correct: gold chunks; found_guessed: predicted chunks; correct_chunks: both.
        per_type: ``{type: (found_correct, found_guessed, correct_chunks)}``.
    """
    tokens: int = 0
    correct_tags: int = 0
    found_correct: int = 0
    found_guessed: int = 0
    correct_chunks: int = 0
    per_type: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    @staticmethod
    def _prf(found_correct: int, found_guessed: int, correct: int) -> tuple[float, float, float]:
        p = correct / found_guessed if found_guessed else 0.0
        r = correct / found_correct if found_correct else 0.0
        f = 2 * p * r / (p + r) if p + r > 0 else 0.0
        return p, r, f

    @property
    def precision(self) -> float:
        return self._prf(self.found_correct, self.found_guessed, self.correct_chunks)[0]

    @property
    def recall(self) -> float:
        return self._prf(self.found_correct, self.found_guessed, self.correct_chunks)[1]

    @property
    def f1(self) -> float:
        return self._prf(self.found_correct, self.found_guessed, self.correct_chunks)[2]

    @property
    def accuracy(self) -> float:
        return self.correct_tags / self.tokens if self.tokens else 0.0

    def type_scores(self) -> dict[str, tuple[float, float, float]]:
        """``{type: (precision, recall, f1)}``."""
        return {t: self._prf(*counts) for t, counts in sorted(self.per_type.items())}

    def report(self) -> str:
        """The summary in conlleval's own words and layout."""
        lines = [f"processed {self.tokens} tokens with {self.found_correct} phrases; found: "
                 f"{self.found_guessed} phrases; correct: {self.correct_chunks}."]
        if self.tokens:
            lines.append(f"accuracy: {100 * self.accuracy:6.2f}%; precision: "
                         f"{100 * self.precision:6.2f}%; recall: {100 * self.recall:6.2f}%; "
                         f"FB1: {100 * self.f1:6.2f}")
        for t, (p, r, f) in self.type_scores().items():
            lines.append(f"{t:>17}: precision: {100 * p:6.2f}%; recall: {100 * r:6.2f}%; "
                         f"FB1: {100 * f:6.2f}  {self.per_type[t][1]}")
        return "\n".join(lines)


def conlleval(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> ChunkScore:
    """Chunk precision / recall / F1 and tag accuracy of ``pred`` against ``gold``, as conlleval.

    Args:
        gold, pred: sentences of tags (``[["B-NP", "I-NP", "O"], ...]``), parallel.

    Returns:
        a :class:`ChunkScore`.
    """
    score = ChunkScore()
    counts: dict[str, list[int]] = {}

    def bump(kind: str, slot: int):
        counts.setdefault(kind, [0, 0, 0])[slot] += 1

    last_c, last_g, last_ct, last_gt = "O", "O", "", ""
    in_correct = False
    gold, pred = list(gold), list(pred)
    if len(gold) != len(pred):
        raise ValueError(f"conlleval: {len(gold)} gold sentences but {len(pred)} predicted")
    for s, (gs, ps) in enumerate(zip(gold, pred)):
        if len(gs) != len(ps):
            raise ValueError(f"conlleval: sentence {s} has {len(gs)} gold tags but {len(ps)} "
                             f"predicted")
        # a sentence boundary is an "O" token that is not counted (conlleval's boundary line)
        for k, (gt, pt) in enumerate(list(zip(gs, ps)) + [("O", "O")]):
            c, ct = split_tag(gt)
            g, gtp = split_tag(pt)
            end_c = chunk_end(last_c, c, last_ct, ct)
            end_g = chunk_end(last_g, g, last_gt, gtp)
            if in_correct:
                if end_c and end_g and last_gt == last_ct:
                    in_correct = False
                    score.correct_chunks += 1
                    bump(last_ct, 2)
                elif end_c != end_g or gtp != ct:
                    in_correct = False
            start_c = chunk_start(last_c, c, last_ct, ct)
            start_g = chunk_start(last_g, g, last_gt, gtp)
            if start_c and start_g and gtp == ct:
                in_correct = True
            if start_c:
                score.found_correct += 1
                bump(ct, 0)
            if start_g:
                score.found_guessed += 1
                bump(gtp, 1)
            if k < len(gs):
                score.tokens += 1
                score.correct_tags += int(c == g and ct == gtp)
            last_c, last_g, last_ct, last_gt = c, g, ct, gtp
    if in_correct:
        score.correct_chunks += 1
        bump(last_ct, 2)
    score.per_type = {t: tuple(v) for t, v in counts.items() if t != ""}
    return score


def read_conlleval_file(path: str | os.PathLike, delimiter: str | None = None
                        ) -> tuple[list[list[str]], list[list[str]]]:
    """Read conlleval's input: one token a line, gold tag second to last and predicted tag last,
    blank lines between sentences. Returns ``(gold_sentences, pred_sentences)``; a line with fewer
    than two fields, or a different number of fields than the first line, is an error naming the
    file and line."""
    gold: list[list[str]] = []
    pred: list[list[str]] = []
    g: list[str] = []
    p: list[str] = []
    n_fields = None
    with StringIO(read_text(path)) as f:  # bad bytes named by line (io.read_text)
        for lineno, line in enumerate(f, 1):
            fields = line.split(delimiter) if delimiter else line.split()
            if not fields or fields[0] == "-X-":
                if g:
                    gold.append(g)
                    pred.append(p)
                    g, p = [], []
                continue
            if n_fields is None:
                n_fields = len(fields)
            if len(fields) < 2 or len(fields) != n_fields:
                raise ValueError(f"{path}:{lineno}: expected {max(n_fields, 2)} fields (..., gold "
                                 f"tag, predicted tag), got {len(fields)}")
            g.append(fields[-2])
            p.append(fields[-1])
    if g:
        gold.append(g)
        pred.append(p)
    return gold, pred
