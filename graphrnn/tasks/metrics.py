"""Evaluation metrics: token accuracy, exact match, and chunk-level precision / recall / F1 computed
the way the CoNLL shared-task script ``conlleval`` (Tjong Kim Sang, version 2004-01-26) does.

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

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from io import StringIO

import torch

from ..io import read_text

__all__ = ["accuracy", "exact_match", "split_tag", "chunk_end", "chunk_start", "get_chunks",
           "ChunkScore", "conlleval", "read_conlleval_file", "roc_auc",
           "sequence_exact_match", "rmse", "r2", "spearman", "pr_auc", "edit_distance",
           "character_error_rate"]


# ------------------------------------------------------------------------------------------------
# token-level metrics

def _as_tensors(pred, target, mask):
    pred = torch.as_tensor(pred)
    target = torch.as_tensor(target)
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ in "
                         f"shape")
    mask = torch.ones_like(target, dtype=torch.bool) if mask is None else \
        torch.as_tensor(mask, dtype=torch.bool)
    if mask.shape != target.shape:
        raise ValueError(f"mask {tuple(mask.shape)} must have the shape of target "
                         f"{tuple(target.shape)}")
    return pred, target, mask


def accuracy(pred, target, mask=None) -> float:
    """Fraction of positions where ``pred == target``, over positions where ``mask`` is true.

    Args:
        pred, target: same-shape tensors (or nested lists) of labels, e.g. ``(B, T)``.
        mask: bool tensor of that shape (default: all positions), e.g. ``targets != pad``.
    """
    pred, target, mask = _as_tensors(pred, target, mask)
    n = int(mask.sum())
    if n == 0:
        raise ValueError("accuracy: the mask selects no position")
    return float(((pred == target) & mask).sum()) / n


def exact_match(pred, target, mask=None) -> float:
    """Fraction of sequences (rows of ``(B, T)`` tensors) whose every unmasked position is right."""
    pred, target, mask = _as_tensors(pred, target, mask)
    if pred.dim() < 2:
        raise ValueError(f"exact_match: expected (B, T, ...) tensors, got shape "
                         f"{tuple(pred.shape)}")
    wrong = ((pred != target) & mask).flatten(1).any(1)
    return 1.0 - float(wrong.float().mean())


def sequence_exact_match(pred: Sequence[Sequence[int]], target: Sequence[Sequence[int]]) -> float:
    """Fraction of sequences predicted exactly (same tokens, same length), for label lists of
    varying lengths (decoder or CTC outputs)."""
    if len(pred) != len(target):
        raise ValueError(f"sequence_exact_match: {len(pred)} predictions but {len(target)} targets")
    if not target:
        raise ValueError("sequence_exact_match: no sequences")
    return sum(int(list(p) == list(t)) for p, t in zip(pred, target)) / len(target)


def edit_distance(a: Sequence, b: Sequence) -> int:
    r"""Levenshtein distance: the fewest insertions, deletions and substitutions of single items
    that turn ``a`` into ``b`` (Levenshtein 1966; Wagner & Fischer 1974,
    https://doi.org/10.1145/321796.321811), by the row-by-row dynamic programme::

        d[i][j] = min(d[i-1][j] + 1, d[i][j-1] + 1, d[i-1][j-1] + [a_i != b_j])

    Args:
        a, b: sequences of comparable items (label lists, strings).
    """
    a, b = list(a), list(b)
    previous = list(range(len(b) + 1))  # d[i-1][.]
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def character_error_rate(pred: Sequence[Sequence], target: Sequence[Sequence]) -> float:
    r"""Character error rate: summed :func:`edit_distance` of each prediction to its reference,
    over the summed reference lengths, :math:`\sum_i d(p_i, t_i) / \sum_i |t_i|` (can exceed 1
    when predictions are longer than their references).

    Args:
        pred, target: equally many label sequences (or strings); the targets not all empty.
    """
    if len(pred) != len(target):
        raise ValueError(f"character_error_rate: {len(pred)} predictions but {len(target)} "
                         f"references")
    total = sum(len(t) for t in target)
    if total == 0:
        raise ValueError("character_error_rate: the references hold no characters")
    return sum(edit_distance(p, t) for p, t in zip(pred, target)) / total


def rmse(pred, target) -> float:
    r"""Root mean squared error :math:`\sqrt{\frac1n \sum_i (p_i - t_i)^2}` over all entries of
    same-size ``pred`` and ``target`` (gradients are not tracked)."""
    pred, target = torch.as_tensor(pred).detach(), torch.as_tensor(target).detach()
    if pred.numel() != target.numel():
        raise ValueError(f"rmse: pred has {pred.numel()} values but target {target.numel()}")
    return float((pred.reshape(-1).double() - target.reshape(-1).double()).pow(2).mean().sqrt())


def _pair(name: str, pred, target) -> tuple[torch.Tensor, torch.Tensor]:
    """``pred``, ``target`` flattened to float64 with NaN targets (missing labels) dropped."""
    pred = torch.as_tensor(pred).detach().reshape(-1).double()
    target = torch.as_tensor(target).detach().reshape(-1).double()
    if pred.numel() != target.numel():
        raise ValueError(f"{name}: pred has {pred.numel()} values but target {target.numel()}")
    keep = ~torch.isnan(target)
    return pred[keep], target[keep]


def r2(pred, target) -> float:
    r"""Coefficient of determination :math:`R^2 = 1 - \sum_i (t_i - p_i)^2 / \sum_i (t_i -
    \bar t)^2` of ``pred`` for ``target`` (same size; NaN targets dropped): 1 for a perfect fit,
    0 for predicting the mean, negative when worse. ``nan`` when ``target`` is constant."""
    pred, target = _pair("r2", pred, target)
    total = (target - target.mean()).pow(2).sum()
    if target.numel() < 2 or total == 0:
        return math.nan
    return float(1 - (target - pred).pow(2).sum() / total)


def _average_ranks(x: torch.Tensor) -> torch.Tensor:
    """Ranks 1..n of ``x`` (1-D), ties given their average rank."""
    order = torch.argsort(x)
    positions = torch.arange(1, x.numel() + 1, dtype=torch.float64)
    _, inverse, counts = torch.unique_consecutive(x[order], return_inverse=True,
                                                  return_counts=True)
    sums = torch.zeros(counts.numel(), dtype=torch.float64).index_add_(0, inverse, positions)
    ranks = torch.empty_like(x, dtype=torch.float64)
    ranks[order] = (sums / counts)[inverse]
    return ranks


def spearman(pred, target) -> float:
    r"""Spearman's rank correlation of ``pred`` and ``target`` (same size; NaN targets dropped):
    the Pearson correlation of their ranks, ties given average ranks (Spearman 1904). ``nan``
    when either is constant."""
    pred, target = _pair("spearman", pred, target)
    if pred.numel() < 2:
        return math.nan
    a, b = _average_ranks(pred), _average_ranks(target)
    a, b = a - a.mean(), b - b.mean()
    denom = (a.pow(2).sum() * b.pow(2).sum()).sqrt()
    return float((a * b).sum() / denom) if denom > 0 else math.nan


# ------------------------------------------------------------------------------------------------
# conlleval chunks

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


# ------------------------------------------------------------------------------------------------
# ranking

def roc_auc(scores, labels) -> float:
    r"""Area under the ROC curve of ``scores`` for binary ``labels`` (1-D, NaN labels dropped):
    the Mann-Whitney statistic :math:`P(s_+ > s_-) + \frac12 P(s_+ = s_-)`, ties given their
    average rank. ``nan`` when only one class is present.

    Args:
        scores: ``(M,)`` real scores (logits or probabilities), larger meaning "positive".
        labels: ``(M,)`` 0/1 labels (NaN for missing).
    """
    scores = torch.as_tensor(scores).reshape(-1).double()
    labels = torch.as_tensor(labels).reshape(-1).double()
    if scores.shape != labels.shape:
        raise ValueError(f"roc_auc: scores and labels differ in size: {scores.numel()} vs "
                         f"{labels.numel()}")
    keep = ~torch.isnan(labels)
    scores, labels = scores[keep], labels[keep] > 0.5
    n_pos = int(labels.sum())
    n_neg = labels.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = torch.argsort(scores)
    positions = torch.arange(1, scores.numel() + 1, dtype=torch.float64)
    # average the ranks of tied scores
    _, inverse, counts = torch.unique_consecutive(scores[order], return_inverse=True,
                                                  return_counts=True)
    sums = torch.zeros(counts.numel(), dtype=torch.float64).index_add_(0, inverse, positions)
    ranks = torch.empty_like(scores)
    ranks[order] = (sums / counts)[inverse]
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pr_auc(scores, labels) -> float:
    r"""Area under the precision-recall curve as average precision,
    :math:`\sum_k (R_k - R_{k-1}) P_k` over the distinct score thresholds from high to low (tied
    scores enter together), as scikit-learn's ``average_precision_score``. ``nan`` without
    positives. Same arguments as :func:`roc_auc`; a random scorer scores the positive rate."""
    scores = torch.as_tensor(scores).reshape(-1).double()
    labels = torch.as_tensor(labels).reshape(-1).double()
    if scores.shape != labels.shape:
        raise ValueError(f"pr_auc: scores and labels differ in size: {scores.numel()} vs "
                         f"{labels.numel()}")
    keep = ~torch.isnan(labels)
    scores, labels = scores[keep], (labels[keep] > 0.5).double()
    n_pos = float(labels.sum())
    if n_pos == 0:
        return math.nan
    order = torch.argsort(scores, descending=True)
    scores, labels = scores[order], labels[order]
    tp, seen = torch.cumsum(labels, 0), torch.arange(1, labels.numel() + 1, dtype=torch.float64)
    # the last position of each run of tied scores is where that threshold's counts stand
    last = torch.ones_like(scores, dtype=torch.bool)
    last[:-1] = scores[1:] != scores[:-1]
    tp, seen = tp[last], seen[last]
    recall = tp / n_pos
    precision = tp / seen
    gain = torch.diff(recall, prepend=torch.zeros(1, dtype=torch.float64))
    return float((gain * precision).sum())
