"""Image captioning: a CNN grid of regions read by an LSTM decoder with soft attention.

Xu, Ba, Kiros, Cho, Courville, Salakhutdinov, Zemel & Bengio 2015, "Show, Attend and Tell: Neural
Image Caption Generation with Visual Attention", https://arxiv.org/abs/1502.03044 (soft,
deterministic attention). The encoder (:class:`graphrnn.nn.ConvEncoder`) turns an image into a
grid of ``L = H' * W'`` region vectors ``a_1 .. a_L`` (here each with its region's centre
``(x, y)`` in [-1, 1] appended, so the decoder can tell where it looks). The decoder, one word at a
time::

    h_0 = tanh(W_h mean_i a_i),   c_0 = tanh(W_c mean_i a_i)
    alpha_t = softmax_i v^T tanh(W_k a_i + W_q h_{t-1})          (additive attention)
    z_t = sigmoid(W_b h_{t-1}) * sum_i alpha_t[i] a_i              (the gating scalar beta_t)
    h_t, c_t = LSTMCell([E y_{t-1}; z_t], (h_{t-1}, c_{t-1}))
    p(y_t | y_<t, image) = softmax(L_o dropout(E y_{t-1} + L_h h_t + L_z z_t))   (deep output)

Training is teacher forcing with the "doubly stochastic" regulariser as an option,
``lambda * sum_i (1 - sum_t alpha_t[i])^2``, which pushes the decoder to look at every region at
some point of the caption (the paper's eq. 14). Without attention (``attention=False``) the
context is the mean of the regions at every step, ``z_t = sigmoid(W_b h_{t-1}) * mean_i a_i``:
the same decoder reading a mean-pooled image feature, the baseline the paper compares with.
Decoding is greedy or beam search over :meth:`Captioner.decode_step`
(:mod:`graphrnn.tasks.decoding`).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cells import LSTMCell
from ..nn.attention import Attention
from ..nn.image_encoder import ConvEncoder, grid_to_regions
from ..tasks.decoding import beam_search, greedy_search, strip_eos

__all__ = ["Captioner", "CaptionBatch", "caption_step", "region_coordinates"]

State = tuple[Tensor, ...]


class CaptionBatch(NamedTuple):
    """Images and their padded captions.

    Attributes:
        images: (B, C, H, W) float.
        captions: (B, T) ids ``bos y_1 .. y_n eos`` then ``pad``.
    """
    images: Tensor
    captions: Tensor


def region_coordinates(height: int, width: int, device=None) -> Tensor:
    """(H * W, 2) centres ``(x, y)`` in [-1, 1] of a row-major grid's regions."""
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height * 2 - 1
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width * 2 - 1
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([grid_x.flatten(), grid_y.flatten()], -1)


class Captioner(nn.Module):
    """Show, Attend and Tell (see the module docstring).

    Args:
        vocab_size (int): V.
        embedding_dim (int): word embedding size E. (default: 64)
        hidden_size (int): LSTM units H (also the attention's width). (default: 256)
        attention (bool): soft attention over the regions; ``False`` reads their mean at every
            step. (default: ``True``)
        channels (sequence of int): the encoder's stages. (default: ``(32, 64, 128)``)
        pool (int or sequence): the encoder's pooling, per stage or one for all. (default: 2)
        in_channels (int): image channels. (default: 3)
        coordinates (bool): append each region's centre ``(x, y)`` to its features.
            (default: ``True``)
        dropout (float): before the output layer. (default: 0.0)
        pad, bos, eos (int): special ids. (default: 0, 2, 3)

    Shapes: ``images`` (B, C, H, W), ``captions`` (B, T) -> ``logits`` (B, T - 1, V) predicting
    ``captions[:, 1:]`` and ``alphas`` (B, T - 1, L) attention weights over the ``L`` regions.
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 64, hidden_size: int = 256,
                 attention: bool = True, channels: Sequence[int] = (32, 64, 128),
                 pool: int | Sequence[int] = 2, in_channels: int = 3, coordinates: bool = True,
                 dropout: float = 0.0, pad: int = 0, bos: int = 2, eos: int = 3):
        super().__init__()
        self.vocab_size, self.embedding_dim, self.hidden_size = vocab_size, embedding_dim, \
            hidden_size
        self.use_attention, self.coordinates = attention, coordinates
        self.pad, self.bos, self.eos = pad, bos, eos
        self.encoder = ConvEncoder(in_channels, channels, pool=pool)
        feature = self.encoder.out_channels + (2 if coordinates else 0)
        self.feature_size = feature
        self.init_h = nn.Linear(feature, hidden_size)
        self.init_c = nn.Linear(feature, hidden_size)
        self.attention = Attention(hidden_size, feature, "additive") if attention else None
        self.gate = nn.Linear(hidden_size, 1)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad)
        self.decoder = LSTMCell(embedding_dim + feature, hidden_size)
        self.out_h = nn.Linear(hidden_size, embedding_dim)
        self.out_z = nn.Linear(feature, embedding_dim, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(embedding_dim, vocab_size)

    # -- encoder ----------------------------------------------------------------------------------
    def grid_size(self, height: int, width: int) -> tuple[int, int]:
        """``(H', W')``: the region grid of an image of ``height`` x ``width``."""
        return self.encoder.output_size(height, width)

    def encode(self, images: Tensor) -> State:
        """The decoder's initial state ``(h, c, regions, keys, mask)``, every tensor with B rows
        (so beam search can reorder it); ``regions`` (B, L, F)."""
        if images.dim() != 4:
            raise ValueError(f"Captioner: images must be (B, C, H, W), got {tuple(images.shape)}")
        grid = self.encoder(images)                                    # (B, C, H', W')
        regions = grid_to_regions(grid)                                # (B, L, C)
        if self.coordinates:
            xy = region_coordinates(grid.size(2), grid.size(3), grid.device)
            regions = torch.cat([regions, xy.expand(regions.size(0), -1, -1)], -1)
        mean = regions.mean(1)
        h, c = torch.tanh(self.init_h(mean)), torch.tanh(self.init_c(mean))
        mask = torch.ones(regions.shape[:2], dtype=torch.bool, device=regions.device)
        keys = self.attention.keys(regions) if self.attention is not None else mean.unsqueeze(1)
        return h, c, regions, keys, mask

    # -- decoder ----------------------------------------------------------------------------------
    def _step(self, prev: Tensor, state: State) -> tuple[Tensor, State, Tensor]:
        h, c, regions, keys, mask = state
        if self.attention is not None:
            context, alpha = self.attention(h, keys, regions, mask)    # (N, F), (N, L)
        else:  # keys hold the mean region (N, 1, F)
            context = keys.squeeze(1)
            alpha = mask.float() / mask.size(1)
        z = torch.sigmoid(self.gate(h)) * context
        emb = self.embedding(prev)
        h, c = self.decoder(torch.cat([emb, z], -1), (h, c))
        logits = self.out(self.dropout(emb + self.out_h(h) + self.out_z(z)))
        return logits, (h, c, regions, keys, mask), alpha

    def decode_step(self, prev: Tensor, state: State) -> tuple[Tensor, State]:
        """One word: previous ids (N,) -> log-probabilities (N, V) and the new state."""
        logits, state, _ = self._step(prev, state)
        return torch.log_softmax(logits, -1), state

    def forward(self, images: Tensor, captions: Tensor) -> tuple[Tensor, Tensor]:
        """Teacher forcing: ``(logits (B, T - 1, V), alphas (B, T - 1, L))`` of
        ``captions[:, 1:]`` given ``captions[:, :-1]``."""
        if captions.dim() != 2 or captions.size(1) < 2:
            raise ValueError(f"Captioner: captions must be (B, T) with T >= 2 (bos ... eos), got "
                             f"{tuple(captions.shape)}")
        if captions.size(0) != images.size(0):
            raise ValueError(f"Captioner: {images.size(0)} images but {captions.size(0)} "
                             "captions")
        state = self.encode(images)
        logits, alphas = [], []
        for prev in captions[:, :-1].unbind(1):
            out, state, alpha = self._step(prev, state)
            logits.append(out)
            alphas.append(alpha)
        return torch.stack(logits, 1), torch.stack(alphas, 1)

    def loss(self, batch: CaptionBatch, doubly_stochastic: float = 0.0
             ) -> tuple[Tensor, Tensor, Tensor]:
        """``(loss, logits, alphas)``: mean cross-entropy per word (padding ignored) plus
        ``doubly_stochastic * mean_b sum_i (1 - sum_t alpha_t[i])^2`` over the real steps."""
        logits, alphas = self(batch.images, batch.captions)
        gold = batch.captions[:, 1:]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), gold.reshape(-1),
                               ignore_index=self.pad)
        if doubly_stochastic and self.attention is not None:
            real = (gold != self.pad).unsqueeze(-1).float()           # (B, T - 1, 1)
            coverage = (alphas * real).sum(1)                          # (B, L)
            loss = loss + doubly_stochastic * ((1.0 - coverage) ** 2).sum(1).mean()
        return loss, logits, alphas

    @torch.no_grad()
    def generate(self, images: Tensor, max_len: int, beam_width: int = 1,
                 length_penalty: float = 0.0) -> list[list[int]]:
        """Decoded ids (without ``bos``/``eos``) of every image: greedy when
        ``beam_width == 1``, else beam search."""
        state = self.encode(images)
        if beam_width == 1:
            out = greedy_search(self.decode_step, state, images.size(0), self.bos, self.eos,
                                max_len, device=images.device)
            return [strip_eos(row, self.eos) for row in out]
        seqs, _ = beam_search(self.decode_step, state, images.size(0), self.bos, self.eos,
                              max_len, beam_width, length_penalty, device=images.device)
        return seqs

    @torch.no_grad()
    def attend(self, images: Tensor, max_len: int) -> list[tuple[list[int], Tensor]]:
        """Greedy captions with the attention behind each word: per image ``(ids, alphas
        (len(ids), L))`` (the step that emitted ``eos`` is not included)."""
        alphas: list[Tensor] = []

        def step(prev: Tensor, state: State) -> tuple[Tensor, State]:
            logits, state, alpha = self._step(prev, state)
            alphas.append(alpha)
            return torch.log_softmax(logits, -1), state

        out = greedy_search(step, self.encode(images), images.size(0), self.bos, self.eos,
                            max_len, device=images.device)
        weights = torch.stack(alphas, 1)                               # (B, steps, L)
        result = []
        for row, w in zip(out, weights):
            ids = strip_eos(row, self.eos)
            result.append((ids, w[:len(ids)]))
        return result

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, embedding_dim={self.embedding_dim}, "
                f"hidden_size={self.hidden_size}, attention={self.use_attention}, "
                f"coordinates={self.coordinates}")


def caption_step(model: Captioner, batch: CaptionBatch, doubly_stochastic: float = 0.0):
    """A :class:`~graphrnn.train.Trainer` step: ``(loss, {"acc": word accuracy under teacher
    forcing})``."""
    loss, logits, _ = model.loss(batch, doubly_stochastic)
    with torch.no_grad():
        gold = batch.captions[:, 1:]
        mask = gold != model.pad
        acc = ((logits.argmax(-1) == gold) & mask).sum().float() / mask.sum()
    return loss, {"acc": acc}
