"""Asynchronous sequence to sequence: an encoder chain, a decoder chain with attention.

The encoder is a bidirectional :class:`graphrnn.nn.LSTM` (or :class:`graphrnn.nn.GRU`) over the
source tokens; its outputs ``m_1 .. m_S`` (``2H`` wide) are the memory. The decoder is a
:class:`graphrnn.cells.LSTMCell` (or ``GRUCell``) run one target position at a time with global
attention and input feeding (Luong, Pham & Manning 2015, "Effective Approaches to
Attention-based Neural Machine Translation", https://arxiv.org/abs/1508.04025)::

    h_t, c_t = LSTMCell([emb(y_{t-1}); h~_{t-1}], (h_{t-1}, c_{t-1}))
    a_t = softmax_s score(h_t, m_s)                       (padding positions masked out)
    ctx_t = sum_s a_t[s] m_s
    h~_t = tanh(W_c [ctx_t; h_t])
    p(y_t | y_<t, x) = softmax(W_o h~_t)

with ``score`` Luong's ``"general"`` (``h^T W_a m``), Luong's ``"dot"`` (``h^T m``; the memory
is then the *sum* of the two directions, ``H`` wide, so the sizes match) or Bahdanau's additive
score (``"additive"``: ``v^T tanh(W_q h + W_k m)``; Bahdanau, Cho & Bengio 2015,
https://arxiv.org/abs/1409.0473). ``"none"`` is the encoder-decoder without attention (Cho et
al. 2014, https://arxiv.org/abs/1406.1078; Sutskever et al. 2014): the context is the same
fixed vector at every step, the encoder's final states ``[h_fwd; h_bwd]`` (a memory of one
slot). The decoder starts from ``h_0 = tanh(W_b [h_fwd; h_bwd])`` of the encoder's final states,
``c_0 = 0``.

Training uses teacher forcing (the true ``y_{t-1}`` is fed; with ``teacher_forcing < 1`` the
model's own greedy prediction is fed instead with probability ``1 - teacher_forcing``, scheduled
sampling style) and, optionally, label smoothing (Szegedy et al. 2016,
https://arxiv.org/abs/1512.00567) in :func:`seq2seq_step`. Decoding is greedy or beam search
(:mod:`graphrnn.tasks.decoding`, usable with any step function; :func:`decode` serves every
model with ``encode``/``decode_step``, e.g.
:class:`~graphrnn.models.transformer_seq2seq.TransformerSeq2Seq`). Token ids follow
:class:`graphrnn.datasets.text.Vocab`'s default specials (``pad=0``, ``unk=1``, ``bos=2``,
``eos=3``) unless given.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..cells import GRUCell, LSTMCell
from ..datasets.sequences import Seq2SeqBatch, collate_seq2seq
from ..nn.attention import Attention
from ..nn.rnn import GRU, LSTM
from ..tasks.decoding import beam_search, greedy_search, strip_eos
from ..tasks.metrics import sequence_exact_match

__all__ = ["Seq2Seq", "Seq2SeqBatch", "seq2seq_step", "decode", "generate_exact_match"]

State = tuple[Tensor, ...]
CELLS = {"lstm": (LSTM, LSTMCell), "gru": (GRU, GRUCell)}
SCORES = ("none", "dot", "general", "additive")


class Seq2Seq(nn.Module):
    """Encoder-decoder with attention (see the module docstring).

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes.
        embedding_dim: token embedding size (default 64).
        hidden_size: H, per encoder direction and of the decoder (default 128).
        num_layers: encoder layers (default 1).
        score: attention score, ``"general"`` (default), ``"dot"``, ``"additive"`` or ``"none"``
            (no attention: the encoder's final states are the context at every step).
        dropout: on embeddings and attentional states (default 0).
        pad, bos, eos: special ids (default 0, 2, 3).
        cell: ``"lstm"`` (default) or ``"gru"``, for the encoder and the decoder.

    Shapes: ``src`` (B, S), ``src_lengths`` (B,), ``tgt`` (B, T) -> logits (B, T - 1, V) for
    predicting ``tgt[:, 1:]``.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embedding_dim: int = 64,
                 hidden_size: int = 128, num_layers: int = 1, score: str = "general",
                 dropout: float = 0.0, pad: int = 0, bos: int = 2, eos: int = 3,
                 cell: str = "lstm"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"Seq2Seq: cell must be one of {tuple(CELLS)}, got {cell!r}")
        if score not in SCORES:
            raise ValueError(f"Seq2Seq: score must be one of {SCORES}, got {score!r}")
        self.pad, self.bos, self.eos, self.hidden_size = pad, bos, eos, hidden_size
        self.cell, self.score = cell, score
        rnn, step_cell = CELLS[cell]
        self.src_embedding = nn.Embedding(src_vocab_size, embedding_dim, padding_idx=pad)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, embedding_dim, padding_idx=pad)
        self.encoder = rnn(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                           bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
        self.bridge = nn.Linear(2 * hidden_size, hidden_size)
        self.decoder = step_cell(embedding_dim + hidden_size, hidden_size)
        memory_size = hidden_size if score == "dot" else 2 * hidden_size
        self.attention = None if score == "none" else Attention(hidden_size, memory_size, score)
        self.combine = nn.Linear(memory_size + hidden_size, hidden_size, bias=False)
        self.out = nn.Linear(hidden_size, tgt_vocab_size)
        self.dropout = nn.Dropout(dropout)

    # -- encoder ----------------------------------------------------------------------------------
    def encode(self, src: Tensor, src_lengths: Tensor) -> State:
        """The decoder's initial state ``(h, c, h~, memory, keys, mask)``, every tensor with B
        rows (so beam search can reorder it); ``c`` is (B, 0) for a GRU."""
        if src.dim() != 2:
            raise ValueError(f"Seq2Seq: src must be (B, S), got {tuple(src.shape)}")
        if src_lengths.shape != (src.size(0),):
            raise ValueError(f"Seq2Seq: src_lengths must be ({src.size(0)},), got "
                             f"{tuple(src_lengths.shape)}")
        x = self.dropout(self.src_embedding(src))
        packed = pack_padded_sequence(x, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h_n = self.encoder(packed)
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n        # LSTM: (h_n, c_n)
        final = torch.cat([h_n[-2], h_n[-1]], -1)              # (B, 2H) last layer's two ends
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=src.size(1))
        mask = torch.arange(src.size(1), device=src.device)[None] < \
            src_lengths.to(src.device)[:, None]
        if self.score == "none":  # one slot: the fixed summary
            memory, mask = final.unsqueeze(1), mask[:, :1]
        elif self.score == "dot":  # forward + backward halves: H wide, as the query
            memory = memory[..., :self.hidden_size] + memory[..., self.hidden_size:]
        h = torch.tanh(self.bridge(final))
        c = torch.zeros_like(h) if self.cell == "lstm" else h[:, :0]
        feed = torch.zeros_like(h)
        keys = memory if self.attention is None else self.attention.keys(memory)
        return h, c, feed, memory, keys, mask

    # -- decoder ----------------------------------------------------------------------------------
    def decode_step(self, prev: Tensor, state: State) -> tuple[Tensor, State]:
        """One target position: previous tokens (N,) -> log-probabilities (N, V) and new state."""
        logits, state, _ = self._step(prev, state)
        return torch.log_softmax(logits, -1), state

    def _step(self, prev: Tensor, state: State):
        h, c, feed, memory, keys, mask = state
        x = torch.cat([self.dropout(self.tgt_embedding(prev)), feed], -1)
        if self.cell == "lstm":
            h, c = self.decoder(x, (h, c))
        else:
            h = self.decoder(x, h)
        if self.attention is None:
            context, weights = memory[:, 0], mask.float()
        else:
            context, weights = self.attention(h, keys, memory, mask)
        feed = torch.tanh(self.combine(torch.cat([context, h], -1)))
        logits = self.out(self.dropout(feed))
        return logits, (h, c, feed, memory, keys, mask), weights

    def forward(self, src: Tensor, src_lengths: Tensor, tgt: Tensor,
                teacher_forcing: float = 1.0) -> Tensor:
        """Logits (B, T - 1, V) of ``tgt[:, 1:]`` given ``tgt[:, :-1]`` (teacher forcing); with
        ``teacher_forcing < 1`` each position is fed the model's own previous argmax instead of
        the true token with probability ``1 - teacher_forcing``."""
        return self._run(src, src_lengths, tgt, teacher_forcing)[0]

    def attention_weights(self, src: Tensor, src_lengths: Tensor, tgt: Tensor) -> Tensor:
        """The attention (B, T - 1, S) of each position predicting ``tgt[:, 1:]`` over the source
        (rows sum to 1 over the real source positions; for ``score="none"``, S = 1)."""
        return self._run(src, src_lengths, tgt, 1.0)[1]

    def _run(self, src, src_lengths, tgt, teacher_forcing):
        if tgt.dim() != 2 or tgt.size(1) < 2:
            raise ValueError(f"Seq2Seq: tgt must be (B, T) with T >= 2 (bos ... eos), got "
                             f"{tuple(tgt.shape)}")
        state = self.encode(src, src_lengths)
        prev = tgt[:, 0]
        outputs, weights = [], []
        for t in range(1, tgt.size(1)):
            logits, state, w = self._step(prev, state)
            outputs.append(logits)
            weights.append(w)
            prev = tgt[:, t]
            if teacher_forcing < 1.0:
                own = torch.rand(prev.shape, device=prev.device) >= teacher_forcing
                prev = torch.where(own, logits.argmax(-1), prev)
        return torch.stack(outputs, 1), torch.stack(weights, 1)

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
        ``beam_width == 1``, else beam search (see :func:`decode`)."""
        return decode(self, src, src_lengths, max_len, beam_width, length_penalty)

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, score={self.score!r}"


@torch.no_grad()
def decode(model: nn.Module, src: Tensor, src_lengths: Tensor, max_len: int,
           beam_width: int = 1, length_penalty: float = 0.0) -> list[list[int]]:
    """Decode any encoder-decoder offering ``encode(src, src_lengths) -> state``,
    ``decode_step(prev, state)`` and ``bos``/``eos`` attributes: per source the target ids
    without ``bos``/``eos``; greedy when ``beam_width == 1`` (beam search of width 1 gives the
    same), else beam search ranked by ``log p / lp(|y|)`` with GNMT's ``lp`` of exponent
    ``length_penalty``."""
    state = model.encode(src, src_lengths)
    if beam_width == 1:
        out = greedy_search(model.decode_step, state, src.size(0), model.bos, model.eos, max_len,
                            device=src.device)
        return [strip_eos(row, model.eos) for row in out]
    seqs, _ = beam_search(model.decode_step, state, src.size(0), model.bos, model.eos, max_len,
                          beam_width, length_penalty, device=src.device)
    return seqs


def seq2seq_step(model: nn.Module, batch: Seq2SeqBatch, teacher_forcing: float = 1.0,
                 label_smoothing: float = 0.0, greedy: bool = True):
    """A :class:`~graphrnn.train.Trainer` step for any encoder-decoder with the
    :class:`Seq2Seq` interface: ``(loss, {"acc": token accuracy under teacher forcing, "exact":
    fraction of targets entirely right under teacher forcing})``; in eval mode also
    ``"greedy_exact"``, the exact match of greedy decoding (when ``greedy``).

    The loss is the mean cross-entropy per target token with ``label_smoothing`` epsilon
    (``F.cross_entropy(label_smoothing=)``: the target is ``(1 - eps) one_hot + eps / V``); with
    ``eps > 0`` the metrics also hold ``"nll"``, the plain cross-entropy (the perplexity's log).
    """
    logits = model(batch.src, batch.src_lengths, batch.tgt,
                   teacher_forcing if model.training else 1.0)
    gold = batch.tgt[:, 1:]
    flat, flat_gold = logits.reshape(-1, logits.size(-1)), gold.reshape(-1)
    loss = F.cross_entropy(flat, flat_gold, ignore_index=model.pad,
                           label_smoothing=label_smoothing)
    with torch.no_grad():
        mask = gold != model.pad
        right = (logits.argmax(-1) == gold) | ~mask
        metrics = {"acc": (right & mask).sum().float() / mask.sum(),
                   "exact": right.all(1).float().mean()}
        if label_smoothing > 0:
            metrics["nll"] = F.cross_entropy(flat, flat_gold, ignore_index=model.pad)
        if greedy and not model.training:
            pred = model.generate(batch.src, batch.src_lengths, max_len=gold.size(1))
            target = [strip_eos(row, model.eos) for row in gold]
            metrics["greedy_exact"] = sequence_exact_match(pred, target)
    return loss, metrics


@torch.no_grad()
def generate_exact_match(model: Seq2Seq, items: Sequence[tuple[Sequence[int], Sequence[int]]],
                         beam_width: int = 1, device=None, batch_size: int = 500) -> float:
    """Exact match of decoding: the fraction of ``(source ids, target ids)`` items (target
    ``bos .. eos``, e.g. an :class:`~graphrnn.datasets.sequences.AdditionExpressions` split)
    whose decoded target is entirely right; greedy when ``beam_width == 1``, else beam search."""
    model.eval()
    hits = 0.0
    for i in range(0, len(items), batch_size):
        batch = collate_seq2seq([items[j] for j in range(i, min(i + batch_size, len(items)))],
                                model.pad)
        pred = model.generate(batch.src.to(device), batch.src_lengths.to(device),
                              max_len=batch.tgt.size(1), beam_width=beam_width)
        target = [strip_eos(row[1:], model.eos) for row in batch.tgt]
        hits += sequence_exact_match(pred, target) * len(target)
    return hits / len(items)
