"""Asynchronous sequence to sequence: an encoder chain, a decoder chain with attention.

The encoder is a bidirectional :class:`graphrnn.nn.LSTM` over the source tokens; its outputs
``m_1 .. m_S`` (``2H`` wide) are the memory. The decoder is a :class:`graphrnn.cells.LSTMCell`
run one target position at a time with global attention and input feeding (Luong, Pham & Manning
2015, "Effective Approaches to Attention-based Neural Machine Translation",
https://arxiv.org/abs/1508.04025)::

    h_t, c_t = LSTMCell([emb(y_{t-1}); h~_{t-1}], (h_{t-1}, c_{t-1}))
    a_t = softmax_s score(h_t, m_s)                       (padding positions masked out)
    ctx_t = sum_s a_t[s] m_s
    h~_t = tanh(W_c [ctx_t; h_t])
    p(y_t | y_<t, x) = softmax(W_o h~_t)

with ``score`` Luong's ``"general"`` (``h^T W_a m``) or Bahdanau's additive score
(``"additive"``: ``v^T tanh(W_q h + W_k m)``; Bahdanau, Cho & Bengio 2015, https://arxiv.org/abs/1409.0473). The decoder starts from
``h_0 = tanh(W_b [h_fwd; h_bwd])`` of the encoder's final states, ``c_0 = 0``.

Training uses teacher forcing (the true ``y_{t-1}`` is fed; with ``teacher_forcing < 1`` the
model's own greedy prediction is fed instead with probability ``1 - teacher_forcing``, scheduled
sampling style). Decoding is greedy or beam search (:func:`beam_search`, usable with any step
function). Token ids follow :class:`graphrnn.datasets.text.Vocab`'s default specials (``pad=0``,
``unk=1``, ``bos=2``, ``eos=3``) unless given.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..cells import LSTMCell
from ..nn.rnn import LSTM

__all__ = ["Seq2SeqBatch", "Attention", "Seq2Seq", "greedy_search", "beam_search", "seq2seq_step",
           "strip_eos", "sequence_exact_match"]

State = tuple[Tensor, ...]
StepFn = Callable[[Tensor, State], tuple[Tensor, State]]


class Seq2SeqBatch(NamedTuple):
    """Padded source and target ids (batch first).

    Attributes:
        src: (B, S) source ids, ``pad`` past each length.
        src_lengths: (B,) source lengths (long).
        tgt: (B, T) target ids ``bos y_1 .. y_n eos`` then ``pad``.
    """
    src: Tensor
    src_lengths: Tensor
    tgt: Tensor


# ------------------------------------------------------------------------------------------------
# decoding, independent of the model

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
        ranked = total / _length_penalty(new_len, length_penalty)
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
    final = score / _length_penalty(length, length_penalty)
    best = final.argmax(1)                                                     # (B,)
    sequences = []
    for b in range(B):
        k, tokens = int(best[b]), []
        for t in range(len(history) - 1, -1, -1):
            tokens.append(int(history[t][b, k]))
            k = int(parents[t][b, k])
        sequences.append(strip_eos(tokens[::-1], eos))
    return sequences, score.gather(1, best.unsqueeze(1)).squeeze(1)


def _length_penalty(length: Tensor, alpha: float) -> Tensor:
    return ((5.0 + length) / 6.0) ** alpha if alpha else torch.ones_like(length)


def strip_eos(tokens, eos: int) -> list[int]:
    """The tokens before the first ``eos`` (a list or 1-D tensor)."""
    tokens = tokens.tolist() if isinstance(tokens, Tensor) else list(tokens)
    return tokens[:tokens.index(eos)] if eos in tokens else tokens


def sequence_exact_match(pred: list[list[int]], target: list[list[int]]) -> float:
    """Fraction of sequences predicted exactly (same tokens, same length)."""
    if len(pred) != len(target):
        raise ValueError(f"sequence_exact_match: {len(pred)} predictions but {len(target)} targets")
    if not target:
        raise ValueError("sequence_exact_match: no sequences")
    return sum(int(list(p) == list(t)) for p, t in zip(pred, target)) / len(target)


# ------------------------------------------------------------------------------------------------
# the model

class Attention(nn.Module):
    """Global attention of a query ``h`` (B, H) over memory ``m`` (B, S, M).

    Args:
        query_size: H. memory_size: M.
        score: ``"general"`` (Luong et al. 2015) or ``"additive"`` (Bahdanau et al. 2015).
    """

    SCORES = ("general", "additive")

    def __init__(self, query_size: int, memory_size: int, score: str = "general"):
        super().__init__()
        if score not in self.SCORES:
            raise ValueError(f"Attention: score must be one of {self.SCORES}, got {score!r}")
        self.score = score
        self.key = nn.Linear(memory_size, query_size, bias=False)  # W_a m, computed once per source
        if score == "additive":
            self.query = nn.Linear(query_size, query_size, bias=True)
            self.v = nn.Linear(query_size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        """Precompute the memory side once per source: (B, S, M) -> (B, S, H)."""
        return self.key(memory)

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor
                ) -> tuple[Tensor, Tensor]:
        """Returns ``(context (B, M), weights (B, S))``; ``mask`` (B, S) is true on real
        positions."""
        if self.score == "additive":
            e = self.v(torch.tanh(keys + self.query(query).unsqueeze(1))).squeeze(-1)
        else:
            e = torch.bmm(keys, query.unsqueeze(-1)).squeeze(-1)
        weights = torch.softmax(e.masked_fill(~mask, -math.inf), dim=-1)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1), weights


class Seq2Seq(nn.Module):
    """Encoder-decoder with attention (see the module docstring).

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes.
        embedding_dim: token embedding size (default 64).
        hidden_size: H, per encoder direction and of the decoder (default 128).
        num_layers: encoder layers (default 1).
        score: attention score, ``"general"`` (default) or ``"additive"``.
        dropout: on embeddings and attentional states (default 0).
        pad, bos, eos: special ids (default 0, 2, 3).

    Shapes: ``src`` (B, S), ``src_lengths`` (B,), ``tgt`` (B, T) -> logits (B, T - 1, V) for
    predicting ``tgt[:, 1:]``.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embedding_dim: int = 64,
                 hidden_size: int = 128, num_layers: int = 1, score: str = "general",
                 dropout: float = 0.0, pad: int = 0, bos: int = 2, eos: int = 3):
        super().__init__()
        self.pad, self.bos, self.eos, self.hidden_size = pad, bos, eos, hidden_size
        self.src_embedding = nn.Embedding(src_vocab_size, embedding_dim, padding_idx=pad)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embedding_dim, padding_idx=pad)
        self.encoder = LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                            bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
        self.bridge = nn.Linear(2 * hidden_size, hidden_size)
        self.decoder = LSTMCell(embedding_dim + hidden_size, hidden_size)
        self.attention = Attention(hidden_size, 2 * hidden_size, score)
        self.combine = nn.Linear(2 * hidden_size + hidden_size, hidden_size, bias=False)
        self.out = nn.Linear(hidden_size, tgt_vocab_size)
        self.dropout = nn.Dropout(dropout)

    # -- encoder ----------------------------------------------------------------------------------
    def encode(self, src: Tensor, src_lengths: Tensor) -> State:
        """The decoder's initial state ``(h, c, h~, memory, keys, mask)``, every tensor with B
        rows (so beam search can reorder it)."""
        if src.dim() != 2:
            raise ValueError(f"Seq2Seq: src must be (B, S), got {tuple(src.shape)}")
        if src_lengths.shape != (src.size(0),):
            raise ValueError(f"Seq2Seq: src_lengths must be ({src.size(0)},), got "
                             f"{tuple(src_lengths.shape)}")
        x = self.dropout(self.src_embedding(src))
        packed = pack_padded_sequence(x, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, (h_n, _) = self.encoder(packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        mask = torch.arange(src.size(1), device=src.device)[None] < \
            src_lengths.to(src.device)[:, None]
        h = torch.tanh(self.bridge(torch.cat([h_n[-2], h_n[-1]], -1)))
        c = torch.zeros_like(h)
        feed = torch.zeros_like(h)
        return h, c, feed, memory, self.attention.keys(memory), mask

    # -- decoder ----------------------------------------------------------------------------------
    def decode_step(self, prev: Tensor, state: State) -> tuple[Tensor, State]:
        """One target position: previous tokens (N,) -> log-probabilities (N, V) and new state."""
        logits, state, _ = self._step(prev, state)
        return torch.log_softmax(logits, -1), state

    def _step(self, prev: Tensor, state: State):
        h, c, feed, memory, keys, mask = state
        x = torch.cat([self.dropout(self.tgt_embedding(prev)), feed], -1)
        h, c = self.decoder(x, (h, c))
        context, weights = self.attention(h, keys, memory, mask)
        feed = torch.tanh(self.combine(torch.cat([context, h], -1)))
        logits = self.out(self.dropout(feed))
        return logits, (h, c, feed, memory, keys, mask), weights

    def forward(self, src: Tensor, src_lengths: Tensor, tgt: Tensor,
                teacher_forcing: float = 1.0) -> Tensor:
        """Logits (B, T - 1, V) of ``tgt[:, 1:]`` given ``tgt[:, :-1]`` (teacher forcing); with
        ``teacher_forcing < 1`` each position is fed the model's own previous argmax instead of
        the true token with probability ``1 - teacher_forcing``."""
        if tgt.dim() != 2 or tgt.size(1) < 2:
            raise ValueError(f"Seq2Seq: tgt must be (B, T) with T >= 2 (bos ... eos), got "
                             f"{tuple(tgt.shape)}")
        state = self.encode(src, src_lengths)
        prev = tgt[:, 0]
        outputs = []
        for t in range(1, tgt.size(1)):
            logits, state, _ = self._step(prev, state)
            outputs.append(logits)
            prev = tgt[:, t]
            if teacher_forcing < 1.0:
                own = torch.rand(prev.shape, device=prev.device) >= teacher_forcing
                prev = torch.where(own, logits.argmax(-1), prev)
        return torch.stack(outputs, 1)

    def loss(self, batch: Seq2SeqBatch, teacher_forcing: float = 1.0) -> Tensor:
        """Mean cross-entropy per target token (padding ignored)."""
        logits = self(batch.src, batch.src_lengths, batch.tgt, teacher_forcing)
        gold = batch.tgt[:, 1:]
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), gold.reshape(-1),
                               ignore_index=self.pad)

    @torch.no_grad()
    def generate(self, src: Tensor, src_lengths: Tensor, max_len: int, beam_width: int = 1,
                 length_penalty: float = 0.0) -> list[list[int]]:
        """Decoded target ids (without ``bos``/``eos``) of every source: greedy when
        ``beam_width == 1``, else beam search."""
        state = self.encode(src, src_lengths)
        if beam_width == 1:
            out = greedy_search(self.decode_step, state, src.size(0), self.bos, self.eos, max_len,
                                device=src.device)
            return [strip_eos(row, self.eos) for row in out]
        seqs, _ = beam_search(self.decode_step, state, src.size(0), self.bos, self.eos, max_len,
                              beam_width, length_penalty, device=src.device)
        return seqs


def seq2seq_step(model: Seq2Seq, batch: Seq2SeqBatch, teacher_forcing: float = 1.0):
    """A :class:`~graphrnn.train.Trainer` step: ``(loss, {"acc": token accuracy under teacher
    forcing, "exact": fraction of targets entirely right under teacher forcing})``; in eval mode
    also ``"greedy_exact"``, the exact match of greedy decoding."""
    logits = model(batch.src, batch.src_lengths, batch.tgt,
                   teacher_forcing if model.training else 1.0)
    gold = batch.tgt[:, 1:]
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), gold.reshape(-1),
                           ignore_index=model.pad)
    with torch.no_grad():
        mask = gold != model.pad
        right = (logits.argmax(-1) == gold) | ~mask
        metrics = {"acc": (right & mask).sum().float() / mask.sum(),
                   "exact": right.all(1).float().mean()}
        if not model.training:
            pred = model.generate(batch.src, batch.src_lengths, max_len=gold.size(1))
            target = [strip_eos(row, model.eos) for row in gold]
            metrics["greedy_exact"] = sequence_exact_match(pred, target)
    return loss, metrics
