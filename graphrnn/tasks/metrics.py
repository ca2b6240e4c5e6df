"""Evaluation metrics: token accuracy, exact match, edit distance and character error rate,
regression (RMSE, R^2, Spearman) and ranking (ROC-AUC, PR-AUC) scores. Chunk F1 as conlleval
computes it is in :mod:`graphrnn.tasks.conlleval`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["accuracy", "exact_match", "roc_auc", "sequence_exact_match", "rmse", "r2",
           "spearman", "pr_auc", "edit_distance", "character_error_rate"]


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
    ranks = _average_ranks(scores)
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
