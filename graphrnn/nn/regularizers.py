r"""Dropout variants for recurrent language models that are not ``torch.nn.Dropout``.

* :class:`LockedDropout` (variational dropout; Gal & Ghahramani 2016, "A Theoretically Grounded
  Application of Dropout in Recurrent Neural Networks", arXiv:1512.05287; "locked" in Merity et
  al. 2018, "Regularizing and Optimizing LSTM Language Models", arXiv:1708.02182): one Bernoulli
  mask per sequence and feature, the same at every time step::

      y[b, t, d] = x[b, t, d] * m[b, d] / (1 - p),      m[b, d] ~ Bernoulli(1 - p)

* :func:`embedding_dropout` (Gal & Ghahramani 2016, sec. 4.2; Merity et al. 2018, sec. 4.3):
  drops whole word *types*: row ``w`` of the embedding matrix is zeroed with probability ``p``
  (the others scaled by ``1 / (1 - p)``), so every occurrence of a dropped word in the batch reads
  a zero vector. Computed on the looked-up rows (``E[x] * m[x]``), not on a copy of the matrix.

DropConnect on the recurrent matrices (the weight-dropped LSTM) is the ``weight_dropout`` argument
of :class:`graphrnn.nn.LSTM` / ``GRU`` / ``RNN``. All three are the identity in evaluation mode.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["LockedDropout", "embedding_dropout"]


def _check_p(p: float, who: str) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{who}: p must be a number in [0, 1), got {p!r}")
    return float(p)


class LockedDropout(nn.Module):
    r"""Dropout with one mask per sequence, shared by all its time steps.

    Args:
        p (float): probability of zeroing a feature of a sequence. (default: ``0.5``)
        batch_first (bool): inputs are ``(B, T, D)``; else ``(T, B, D)``. (default: ``True``)

    Shape:
        - input: ``(B, T, D)`` (``(T, B, D)`` when not batch first), or ``(N, D)`` rows with
          ``batch`` (``(N,)`` sequence index of each row, as in a PyG batch of chains).
        - output: same as input.
    """

    def __init__(self, p: float = 0.5, batch_first: bool = True):
        super().__init__()
        self.p, self.batch_first = _check_p(p, "LockedDropout"), batch_first

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = 1 - self.p
        if batch is not None:  # rows of several sequences: a mask per sequence, picked per row
            if x.dim() != 2 or batch.shape != x.shape[:1]:
                raise ValueError(f"LockedDropout: rows x (N, D) need batch (N,), got "
                                 f"{tuple(x.shape)} and {tuple(batch.shape)}")
            num = int(batch.max()) + 1 if batch.numel() else 0
            mask = x.new_empty(num, x.size(1)).bernoulli_(keep).div_(keep)
            return x * mask.index_select(0, batch)
        if x.dim() != 3:
            raise ValueError(f"LockedDropout: input must be 3-D "
                             f"({'(B, T, D)' if self.batch_first else '(T, B, D)'}) or rows with "
                             f"batch, got {tuple(x.shape)}")
        shape = (x.size(0), 1, x.size(2)) if self.batch_first else (1, x.size(1), x.size(2))
        return x * x.new_empty(shape).bernoulli_(keep).div_(keep)

    def extra_repr(self) -> str:
        return f"p={self.p}" + ("" if self.batch_first else ", batch_first=False")


def embedding_dropout(embedding: nn.Embedding, ids: Tensor, p: float,
                      training: bool = True) -> Tensor:
    """``embedding(ids)`` with whole rows (word types) dropped with probability ``p``.

    Args:
        embedding: the lookup table, ``(V, D)``.
        ids: long token ids of any shape ``(*)``.
        p: probability of dropping a word type. (``0`` or ``training=False``: plain lookup)
        training: whether to drop.

    Returns:
        ``(*, D)``: ``E[ids] * m[ids] / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` drawn once per row
        of ``E`` (so the same word is dropped everywhere in the batch).
    """
    _check_p(p, "embedding_dropout")
    out = F.embedding(ids, embedding.weight, embedding.padding_idx, embedding.max_norm,
                      embedding.norm_type, embedding.scale_grad_by_freq, embedding.sparse)
    if not training or p == 0:
        return out
    keep = 1 - p
    mask = out.new_empty(embedding.num_embeddings).bernoulli_(keep).div_(keep)
    return out * mask[ids].unsqueeze(-1)
