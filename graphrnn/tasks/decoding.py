"""Decoding a step function: greedy search and batched beam search with a length penalty.

A *step function* is any decoder seen one position at a time::

    step(prev_tokens (N,), state) -> (log_probs (N, V), state)

with every state tensor holding N rows (so beams can be reordered with ``index_select``). The
encoder-decoder of :mod:`graphrnn.models.seq2seq` offers one (``Seq2Seq.decode_step``); so does any
language model that keeps its state in tensors. CTC decoding is in :mod:`graphrnn.tasks.ctc`.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["greedy_search", "beam_search", "gnmt_length_penalty", "strip_eos"]

State = tuple[Tensor, ...]
StepFn = Callable[[Tensor, State], tuple[Tensor, State]]


def greedy_search(step: StepFn, state: State, batch_size: int, bos: int, eos: int,
                  max_len: int, device=None) -> Tensor:
    """Feed back the most probable token until every sequence has emitted ``eos`` or ``max_len``
    tokens were produced.

    Args:
        step: ``(prev_tokens (N,), state) -> (log_probs (N, V), state)``; every state tensor has N
            rows.
        state: the initial state (rows = ``batch_size``).
        bos, eos: start and end ids.

    Returns:
        (B, L) token ids (``eos`` repeated after a sequence's end), ``L <= max_len``.
    """
    prev = torch.full((batch_size,), bos, dtype=torch.long, device=device)
    done = torch.zeros(batch_size, dtype=torch.bool, device=device)
    out = []
    for _ in range(max_len):
        log_probs, state = step(prev, state)
        prev = log_probs.argmax(-1).masked_fill(done, eos)
        out.append(prev)
        done |= prev == eos
        if bool(done.all()):
            break
    return torch.stack(out, 1) if out else torch.zeros(batch_size, 0, dtype=torch.long)


def beam_search(step: StepFn, state: State, batch_size: int, bos: int, eos: int, max_len: int,
                beam_width: int = 4, length_penalty: float = 0.0, device=None
                ) -> tuple[list[list[int]], Tensor]:
    """Beam search over ``step``, batched: each of the ``batch_size`` inputs keeps
    ``beam_width`` hypotheses; at every position all ``beam_width * V`` extensions are scored and
    the best ``beam_width`` survive. A hypothesis that emitted ``eos`` is finished: it is kept
    with its score unchanged (extended only by ``eos`` at no cost) and competes with the others.
    Hypotheses are ranked by ``log p(y) / lp(|y|)`` with ``lp(n) = ((5 + n) / 6) ** alpha`` (Wu
    et al. 2016, https://arxiv.org/abs/1609.08144); ``alpha = length_penalty`` (0: raw log-prob).

    Args:
        step, state, bos, eos, max_len: as :func:`greedy_search` (state rows = ``batch_size``;
            they are repeated ``beam_width`` times and reordered with ``index_select``).
        beam_width: K >= 1 (K = 1 is greedy search).
        length_penalty: alpha >= 0.

    Returns:
        ``(sequences, scores)``: per input the best token list (without ``eos``), and the (B,)
        log-probabilities of those sequences (``eos`` included).
    """
    if beam_width < 1:
        raise ValueError(f"beam_search: beam_width must be >= 1, got {beam_width}")
    B, K = batch_size, beam_width
    rows = torch.arange(B, device=device).repeat_interleave(K)
    state = tuple(s.index_select(0, rows) for s in state)
    prev = torch.full((B * K,), bos, dtype=torch.long, device=device)
    # only beam 0 is live at the start, so the K copies do not fill the beam with one hypothesis
    score = torch.full((B, K), -math.inf, device=device)
    score[:, 0] = 0.0
    done = torch.zeros(B, K, dtype=torch.bool, device=device)
    length = torch.zeros(B, K, device=device)
    history: list[Tensor] = []  # (B, K) tokens per position
    parents: list[Tensor] = []  # (B, K) beam each hypothesis came from
    for _ in range(max_len):
        log_probs, state = step(prev, state)
        V = log_probs.size(-1)
        log_probs = log_probs.view(B, K, V)
        # finished hypotheses: only eos, at no cost
        frozen = torch.full((V,), -math.inf, device=log_probs.device)
        frozen[eos] = 0.0
        log_probs = torch.where(done.unsqueeze(-1), frozen, log_probs)
        total = (score.unsqueeze(-1) + log_probs).view(B, K * V)
        new_len = (length + (~done).float()).unsqueeze(-1).expand(B, K, V).reshape(B, K * V)
        ranked = total / gnmt_length_penalty(new_len, length_penalty)
        top = ranked.topk(K, dim=1).indices                                    # (B, K)
        beam, token = top // V, top % V
        score = total.gather(1, top)
        length = new_len.gather(1, top)
        done = done.gather(1, beam) | (token == eos)
        history.append(token)
        parents.append(beam)
        flat = (beam + torch.arange(B, device=device).unsqueeze(1) * K).view(-1)
        state = tuple(s.index_select(0, flat) for s in state)
        prev = token.view(-1)
        if bool(done.all()):
            break
    final = score / gnmt_length_penalty(length, length_penalty)
    best = final.argmax(1)                                                     # (B,)
    sequences = []
    for b in range(B):
        k, tokens = int(best[b]), []
        for t in range(len(history) - 1, -1, -1):
            tokens.append(int(history[t][b, k]))
            k = int(parents[t][b, k])
        sequences.append(strip_eos(tokens[::-1], eos))
    return sequences, score.gather(1, best.unsqueeze(1)).squeeze(1)


def gnmt_length_penalty(length: Tensor, alpha: float) -> Tensor:
    r"""GNMT's length normaliser :math:`lp(n) = ((5 + n) / 6)^\alpha` (Wu et al. 2016); ones when
    ``alpha == 0``."""
    return ((5.0 + length) / 6.0) ** alpha if alpha else torch.ones_like(length)


def strip_eos(tokens, eos: int) -> list[int]:
    """The tokens before the first ``eos`` (a list or 1-D tensor)."""
    tokens = tokens.tolist() if isinstance(tokens, Tensor) else list(tokens)
    return tokens[:tokens.index(eos)] if eos in tokens else tokens
