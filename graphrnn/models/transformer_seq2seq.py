"""A Transformer encoder-decoder with the :class:`~graphrnn.models.Seq2Seq` interface: the baseline
the recurrent translation model is measured against.

A thin model around :class:`torch.nn.Transformer` (Vaswani et al. 2017, "Attention Is All You
Need", https://arxiv.org/abs/1706.03762): token embeddings scaled by ``sqrt(d_model)`` plus the
fixed sinusoidal positions::

    PE[p, 2i] = sin(p / 10000^(2i / d)),   PE[p, 2i + 1] = cos(p / 10000^(2i / d))

pre-norm layers (``norm_first=True``, which train without warm-up at this size), a causal mask on
the target, the padding masked as keys everywhere, and a linear output layer. It offers the same
``forward(src, src_lengths, tgt) -> logits (B, T - 1, V)``, ``encode`` / ``decode_step`` and
``generate`` as :class:`~graphrnn.models.Seq2Seq`, so :func:`~graphrnn.models.seq2seq.seq2seq_step`,
greedy and beam search and the BLEU code are shared. The decoder state of a step function is the
memory, its padding mask and the target prefix decoded so far (each with N rows, so beam search
can reorder them); each step re-runs the decoder over the prefix (no key/value cache: the
sentences here are short).
"""
from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor, nn

from .seq2seq import decode

__all__ = ["TransformerSeq2Seq", "sinusoidal_positions"]

State = tuple[Tensor, ...]


def sinusoidal_positions(length: int, d_model: int) -> Tensor:
    """The (length, d_model) sinusoidal position table of Vaswani et al. 2017."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32)
                     * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[:d_model // 2])
    return table


class TransformerSeq2Seq(nn.Module):
    """:class:`torch.nn.Transformer` with embeddings, sinusoidal positions and an output layer.

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes.
        d_model: model width (default 256).
        nhead: attention heads (default 4).
        num_encoder_layers, num_decoder_layers: layers (default 2, 2).
        dim_feedforward: inner width of the feed-forward blocks (default 512).
        dropout: dropout of the layers and of the embeddings (default 0.1).
        max_len: longest sequence the position table covers (default 256).
        pad, bos, eos: special ids (default 0, 2, 3).

    Shapes: ``src`` (B, S), ``src_lengths`` (B,), ``tgt`` (B, T) -> logits (B, T - 1, V).
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, d_model: int = 256,
                 nhead: int = 4, num_encoder_layers: int = 2, num_decoder_layers: int = 2,
                 dim_feedforward: int = 512, dropout: float = 0.1, max_len: int = 256,
                 pad: int = 0, bos: int = 2, eos: int = 3):
        super().__init__()
        self.pad, self.bos, self.eos, self.d_model, self.max_len = pad, bos, eos, d_model, max_len
        self.src_embedding = nn.Embedding(src_vocab_size, d_model, padding_idx=pad)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, d_model, padding_idx=pad)
        self.register_buffer("positions", sinusoidal_positions(max_len, d_model),
                             persistent=False)
        with warnings.catch_warnings():  # pre-norm layers cannot use nested tensors: known
            warnings.filterwarnings("ignore", message="enable_nested_tensor")
            self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers,
                                              num_decoder_layers, dim_feedforward, dropout,
                                              batch_first=True, norm_first=True)
        self.out = nn.Linear(d_model, tgt_vocab_size)
        self.dropout = nn.Dropout(dropout)

    def _embed(self, embedding: nn.Embedding, ids: Tensor) -> Tensor:
        if ids.size(1) > self.max_len:
            raise ValueError(f"TransformerSeq2Seq: sequence of {ids.size(1)} tokens, longer than "
                             f"max_len={self.max_len}")
        x = embedding(ids) * math.sqrt(self.d_model) + self.positions[:ids.size(1)]
        return self.dropout(x)

    def encode(self, src: Tensor, src_lengths: Tensor) -> State:
        """``(memory (B, S, d), padding mask (B, S) true on padding, empty prefix (B, 0))``."""
        if src.dim() != 2:
            raise ValueError(f"TransformerSeq2Seq: src must be (B, S), got {tuple(src.shape)}")
        if src_lengths.shape != (src.size(0),):
            raise ValueError(f"TransformerSeq2Seq: src_lengths must be ({src.size(0)},), got "
                             f"{tuple(src_lengths.shape)}")
        padding = torch.arange(src.size(1), device=src.device)[None] >= \
            src_lengths.to(src.device)[:, None]
        memory = self.transformer.encoder(self._embed(self.src_embedding, src),
                                          src_key_padding_mask=padding)
        prefix = src.new_zeros(src.size(0), 0)
        return memory, padding, prefix

    def _decode(self, tgt_in: Tensor, memory: Tensor, padding: Tensor) -> Tensor:
        T = tgt_in.size(1)  # boolean like the padding masks: true = may not attend
        causal = torch.ones(T, T, dtype=torch.bool, device=tgt_in.device).triu(1)
        h = self.transformer.decoder(self._embed(self.tgt_embedding, tgt_in), memory,
                                     tgt_mask=causal, tgt_is_causal=True,
                                     tgt_key_padding_mask=tgt_in == self.pad,
                                     memory_key_padding_mask=padding)
        return self.out(h)

    def forward(self, src: Tensor, src_lengths: Tensor, tgt: Tensor,
                teacher_forcing: float = 1.0) -> Tensor:
        """Logits (B, T - 1, V) of ``tgt[:, 1:]`` given ``tgt[:, :-1]``; ``teacher_forcing`` must
        be 1 (a Transformer trains all positions at once)."""
        if teacher_forcing != 1.0:
            raise ValueError("TransformerSeq2Seq: teacher_forcing must be 1")
        if tgt.dim() != 2 or tgt.size(1) < 2:
            raise ValueError(f"TransformerSeq2Seq: tgt must be (B, T) with T >= 2 (bos ... eos), "
                             f"got {tuple(tgt.shape)}")
        memory, padding, _ = self.encode(src, src_lengths)
        return self._decode(tgt[:, :-1], memory, padding)

    def decode_step(self, prev: Tensor, state: State) -> tuple[Tensor, State]:
        """One target position: previous tokens (N,) -> log-probabilities (N, V) and new state."""
        memory, padding, prefix = state
        prefix = torch.cat([prefix, prev.unsqueeze(1)], 1)
        logits = self._decode(prefix, memory, padding)[:, -1]
        return torch.log_softmax(logits, -1), (memory, padding, prefix)

    @torch.no_grad()
    def generate(self, src: Tensor, src_lengths: Tensor, max_len: int, beam_width: int = 1,
                 length_penalty: float = 0.0) -> list[list[int]]:
        """Decoded target ids (without ``bos``/``eos``), greedy or beam search
        (:func:`graphrnn.models.seq2seq.decode`)."""
        return decode(self, src, src_lengths, min(max_len, self.max_len - 1), beam_width,
                      length_penalty)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"
