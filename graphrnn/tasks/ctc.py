"""Connectionist temporal classification (Graves et al. 2006,
https://www.cs.toronto.edu/~graves/icml_2006.pdf): a head and loss for any chain model, and greedy
and prefix beam-search decoding.

A CTC model emits, at every frame ``t``, a distribution over ``C`` classes, one of which is the
*blank*. A frame path ``pi`` maps to a label sequence by ``B(pi)``: merge repeated classes, then
drop blanks (``a a - a b b -`` -> ``a a b``). The probability of a labelling ``l`` sums over its
paths::

    p(l | x) = sum_{pi : B(pi) = l} prod_t y_t[pi_t]

Best-path (greedy) decoding takes the most probable *path* and maps it; prefix beam search keeps the
``beam_width`` most probable label *prefixes*, each with the probability of the paths that end in a
blank and of those that end in its last label, so it scores labellings by their summed probability
and can find one that no single best path shows.

Shapes follow :class:`torch.nn.CTCLoss`: log-probabilities ``(T, B, C)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ctc_greedy_decode", "ctc_beam_search", "CTCHead"]

_NEG_INF = -math.inf


def _logaddexp(*xs: float) -> float:
    m = max(xs)
    if m == _NEG_INF:
        return _NEG_INF
    return m + math.log(sum(math.exp(x - m) for x in xs))


def _check(log_probs: torch.Tensor, input_lengths, blank: int, name: str):
    if log_probs.dim() == 2:
        log_probs = log_probs.unsqueeze(1)
    if log_probs.dim() != 3:
        raise ValueError(f"{name}: log_probs must be (T, B, C) (or (T, C)), got shape "
                         f"{tuple(log_probs.shape)}")
    T, B, C = log_probs.shape
    if not 0 <= blank < C:
        raise ValueError(f"{name}: blank={blank} is not a class index for C={C}")
    if input_lengths is None:
        lengths = [T] * B
    else:
        lengths = [int(n) for n in torch.as_tensor(input_lengths).reshape(-1)]
        if len(lengths) != B or any(not 0 <= n <= T for n in lengths):
            raise ValueError(f"{name}: input_lengths must be B={B} values in [0, T={T}], got "
                             f"{lengths}")
    return log_probs, lengths


def ctc_greedy_decode(log_probs: torch.Tensor, input_lengths=None, blank: int = 0
                      ) -> list[list[int]]:
    """Best-path decoding: the argmax class of each frame, repeats merged, blanks removed.

    Args:
        log_probs: ``(T, B, C)`` (or ``(T, C)``) scores; only their argmax matters.
        input_lengths: ``(B,)`` valid frames per sequence (default: all ``T``).
        blank: the blank class (default 0).

    Returns:
        ``B`` label lists.
    """
    log_probs, lengths = _check(log_probs, input_lengths, blank, "ctc_greedy_decode")
    best = log_probs.argmax(-1).t().tolist()  # (B, T)
    out = []
    for path, n in zip(best, lengths):
        labels, prev = [], None
        for c in path[:n]:
            if c != prev and c != blank:
                labels.append(c)
            prev = c
        out.append(labels)
    return out


def ctc_beam_search(log_probs: torch.Tensor, input_lengths=None, blank: int = 0,
                    beam_width: int = 8, top_paths: int = 1, prune: float | None = None,
                    return_scores: bool = False):
    """Prefix beam search (Graves 2012, "Supervised Sequence Labelling", sec. 7.5; Hannun et al.
    2014, https://arxiv.org/abs/1408.2873) without a language model.

    For every prefix ``l`` it tracks ``log p_b(l)`` and ``log p_nb(l)``, the summed probability of
    the frame paths so far that map to ``l`` and end in a blank / in ``l``'s last label. At each
    frame, a blank keeps ``l`` (``p_b += (p_b + p_nb) y_blank``), the last label repeated keeps it
    (``p_nb += p_nb y_c``), and a label ``c`` extends it to ``l + c`` (from ``p_b + p_nb``, or from
    ``p_b`` alone when ``c`` equals the last label, since a repeat needs a blank between). The
    ``beam_width`` prefixes of highest ``p_b + p_nb`` survive. With a beam as large as the number of
    prefixes the result is exact.

    Args:
        log_probs: ``(T, B, C)`` (or ``(T, C)``) log-probabilities (rows should log-sum to 0).
        input_lengths: ``(B,)`` valid frames per sequence (default: all ``T``).
        blank: the blank class (default 0).
        beam_width: prefixes kept per frame (default 8).
        top_paths: labellings returned per sequence (default 1).
        prune: consider only classes with ``log_prob >= prune`` at a frame (default: all), a
            speed-up for large ``C``.
        return_scores: also return the log-probabilities of the labellings.

    Returns:
        with ``top_paths=1``: ``B`` label lists; otherwise ``B`` lists of ``top_paths`` label lists,
        best first. With ``return_scores``: ``(labels, scores)`` of matching structure.
    """
    if beam_width < 1 or top_paths < 1:
        raise ValueError(f"ctc_beam_search: beam_width and top_paths must be >= 1, got "
                         f"{beam_width} and {top_paths}")
    log_probs, lengths = _check(log_probs, input_lengths, blank, "ctc_beam_search")
    lp = log_probs.detach().double().permute(1, 0, 2).tolist()  # (B, T, C)
    C = log_probs.shape[-1]
    all_labels, all_scores = [], []
    for b, n in enumerate(lengths):
        beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, _NEG_INF)}
        for t in range(n):
            frame = lp[b][t]
            classes = range(C) if prune is None else \
                [c for c in range(C) if frame[c] >= prune or c == blank]
            nxt: dict[tuple[int, ...], list[float]] = {}

            def slot(prefix):
                s = nxt.get(prefix)
                if s is None:
                    s = nxt[prefix] = [_NEG_INF, _NEG_INF]
                return s

            for prefix, (pb, pnb) in beams.items():
                last = prefix[-1] if prefix else None
                for c in classes:
                    p = frame[c]
                    if c == blank:
                        s = slot(prefix)
                        s[0] = _logaddexp(s[0], pb + p, pnb + p)
                        continue
                    ext = slot(prefix + (c,))
                    if c == last:
                        ext[1] = _logaddexp(ext[1], pb + p)     # a a -> needs a blank between
                        s = slot(prefix)
                        s[1] = _logaddexp(s[1], pnb + p)        # repeat merges into the prefix
                    else:
                        ext[1] = _logaddexp(ext[1], pb + p, pnb + p)
            ranked = sorted(nxt.items(), key=lambda kv: -_logaddexp(*kv[1]))[:beam_width]
            beams = {k: (v[0], v[1]) for k, v in ranked}
        ranked = sorted(((list(k), _logaddexp(*v)) for k, v in beams.items()),
                        key=lambda kv: -kv[1])[:top_paths]
        labels = [r[0] for r in ranked]
        scores = [r[1] for r in ranked]
        all_labels.append(labels[0] if top_paths == 1 else labels)
        all_scores.append(scores[0] if top_paths == 1 else scores)
    return (all_labels, all_scores) if return_scores else all_labels


class CTCHead(nn.Module):
    """Linear layer + log-softmax over ``num_classes`` (blank included), with CTC loss and decoding.

    Put it on the per-step outputs of any chain model: ``(T, B, in_features) -> (T, B,
    num_classes)`` (any leading shape works; the classes are the last dimension).

    Args:
        in_features: size of each input state.
        num_classes: output classes, blank included.
        blank: the blank class (default 0).
        reduction: passed to :class:`torch.nn.CTCLoss` (default ``"mean"``: each sequence's loss
            divided by its target length, then averaged over the batch).
        zero_infinity: passed to :class:`torch.nn.CTCLoss` (default False): zero the loss of
            sequences too short for their targets instead of returning inf.
    """

    def __init__(self, in_features: int, num_classes: int, blank: int = 0,
                 reduction: str = "mean", zero_infinity: bool = False):
        super().__init__()
        if not 0 <= blank < num_classes:
            raise ValueError(f"CTCHead: blank={blank} must be in [0, num_classes={num_classes})")
        self.in_features, self.num_classes, self.blank = in_features, num_classes, blank
        self.proj = nn.Linear(in_features, num_classes)
        self.ctc = nn.CTCLoss(blank=blank, reduction=reduction, zero_infinity=zero_infinity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in_features)`` states -> ``(..., num_classes)`` log-probabilities."""
        if x.shape[-1] != self.in_features:
            raise ValueError(f"CTCHead: expected input of size {self.in_features} in the last "
                             f"dimension, got shape {tuple(x.shape)}")
        return torch.log_softmax(self.proj(x), dim=-1)

    def loss(self, log_probs: torch.Tensor, targets: torch.Tensor, input_lengths: torch.Tensor,
             target_lengths: torch.Tensor) -> torch.Tensor:
        """CTC loss through :class:`torch.nn.CTCLoss`.

        Args:
            log_probs: ``(T, B, C)`` from :meth:`forward`.
            targets: ``(B, S)`` padded label indices (never the blank), or the concatenation of
                all targets ``(sum(target_lengths),)``.
            input_lengths: ``(B,)`` frames per sequence.
            target_lengths: ``(B,)`` labels per sequence.
        """
        if log_probs.dim() != 3 or log_probs.shape[-1] != self.num_classes:
            raise ValueError(f"CTCHead.loss: log_probs must be (T, B, {self.num_classes}), got "
                             f"{tuple(log_probs.shape)}")
        return self.ctc(log_probs, targets, input_lengths, target_lengths)

    def decode(self, log_probs: torch.Tensor, input_lengths=None, beam_width: int = 1
               ) -> list[list[int]]:
        """Label sequences: greedy when ``beam_width == 1``, prefix beam search otherwise."""
        if beam_width == 1:
            return ctc_greedy_decode(log_probs, input_lengths, self.blank)
        return ctc_beam_search(log_probs, input_lengths, self.blank, beam_width)

    def extra_repr(self) -> str:
        extra = "" if self.blank == 0 else f", blank={self.blank}"
        return f"in_features={self.in_features}, num_classes={self.num_classes}{extra}"
