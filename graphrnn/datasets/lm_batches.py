"""Batches for language models: token lists -> ``<bos>`` inputs and ``<eos>`` targets, the
``collate_fn`` that makes them, and a batch sampler that groups similar lengths.

The convention is :mod:`graphrnn.tasks.ngram`'s: a sequence of ``n`` tokens is ``n + 1``
predictions (``s_1 .. s_n`` and ``<eos>``), so an RNN's perplexity over these batches and an
N-gram model's over the same sequences count the same tokens.
"""
from __future__ import annotations

import math
import random
from collections.abc import Sequence

import torch

from .text import Vocab

__all__ = ["lm_batch", "LMCollate", "BucketBatches"]


def lm_batch(sequences: Sequence[Sequence[str]], vocab: Vocab, batch_first: bool = True
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs and targets for a language model, following the scoring convention of
    :mod:`graphrnn.tasks.ngram` (a sequence of n tokens is n + 1 predictions).

    ``inputs = <bos> s_1 .. s_n`` and ``targets = s_1 .. s_n <eos>``, padded with ``<pad>``.
    ``vocab`` is a :class:`graphrnn.datasets.text.Vocab` (``encode``, ``bos_index``, ``eos_index``,
    ``pad_index`` are used).

    Returns:
        ``(inputs, targets, lengths)``: ``(B, T)`` long tensors (``(T, B)`` if not
        ``batch_first``) with ``T = max(len) + 1``, and ``lengths = len + 1`` of shape ``(B,)``.
    """
    ids = [vocab.encode(s) for s in sequences]
    lengths = torch.tensor([len(x) + 1 for x in ids], dtype=torch.long)
    T = int(lengths.max()) if ids else 0
    inputs = torch.full((len(ids), T), vocab.pad_index, dtype=torch.long)
    targets = torch.full((len(ids), T), vocab.pad_index, dtype=torch.long)
    for i, x in enumerate(ids):
        inputs[i, :len(x) + 1] = torch.tensor([vocab.bos_index] + x, dtype=torch.long)
        targets[i, :len(x) + 1] = torch.tensor(x + [vocab.eos_index], dtype=torch.long)
    if not batch_first:
        inputs, targets = inputs.t().contiguous(), targets.t().contiguous()
    return inputs, targets, lengths


class LMCollate:
    """``collate_fn`` for a ``DataLoader`` over token lists: ``lm_batch(sequences, vocab)`` ->
    ``(inputs (B, T), targets (B, T), lengths (B,))`` (picklable, so worker processes can use
    it)."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab

    def __call__(self, sequences: Sequence[Sequence[str]]):
        return lm_batch(sequences, self.vocab)


class BucketBatches:
    """A ``batch_sampler`` of similar-length sequences (less padding), reshuffled every epoch
    from ``seed``: shuffle, cut into pools of 50 batches, sort each pool by length, cut into
    batches, shuffle the batches. Set ``epoch`` to resume an epoch's order.

    Args:
        lengths: the length of every sequence of the data set.
        batch_size: sequences per batch.
        seed: seeds the order of every epoch. (default: ``0``)
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int = 0):
        if batch_size < 1:
            raise ValueError(f"BucketBatches: batch_size must be >= 1, got {batch_size}")
        self.lengths, self.batch_size, self.seed, self.epoch = list(lengths), batch_size, seed, 0

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        rng = random.Random(f"{self.seed}/{self.epoch}")
        self.epoch += 1
        idx = list(range(len(self.lengths)))
        rng.shuffle(idx)
        pool = self.batch_size * 50
        batches = []
        for s in range(0, len(idx), pool):
            chunk = sorted(idx[s:s + pool], key=self.lengths.__getitem__)
            batches += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        rng.shuffle(batches)
        return iter(batches)
