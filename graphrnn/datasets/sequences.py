r"""Generated sequence data sets, deterministic from a seed: addition expressions for an
encoder-decoder, the first-symbol task of long-range memory, and unaligned digit frames for CTC.

Each is a torch ``Dataset`` with a ``collate`` for ``DataLoader(..., collate_fn=...)`` where the
default one does not fit:

* :class:`AdditionExpressions`: ``"123+456"`` -> ``"579"`` as character ids (asynchronous sequence
  to sequence; train, validation and test pairs disjoint as unordered pairs); batches are
  :class:`Seq2SeqBatch` (:func:`collate_seq2seq`).
* :class:`FirstSymbol`: T random one-hot symbols with a marker on the first; the target is the
  first symbol, read after the last step (chance ``1 / num_symbols``). Default collate.
* :class:`DigitFrames`: utterances of 3-7 digits as noisy frames, 2-5 per digit, with silences;
  only the digit sequence is the target (:class:`Utterances`, :func:`collate_utterances`).
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from .text import Vocab, pad_sequences

__all__ = ["Seq2SeqBatch", "collate_seq2seq", "addition_pairs", "AdditionExpressions",
           "first_symbol_data", "FirstSymbol", "Utterances", "digit_prototypes",
           "make_utterances", "collate_utterances", "DigitFrames"]


# ------------------------------------------------------------------------------------------------
# sequence to sequence: addition expressions

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


def collate_seq2seq(items: Sequence[tuple[Sequence[int], Sequence[int]]], pad: int = 0
                    ) -> Seq2SeqBatch:
    """``[(source ids, target ids), ...]`` -> a padded :class:`Seq2SeqBatch`."""
    src, lengths = pad_sequences([s for s, _ in items], pad)
    tgt, _ = pad_sequences([t for _, t in items], pad)
    return Seq2SeqBatch(src, lengths, tgt)


def addition_pairs(n_train: int, n_val: int, n_test: int, digits: int, seed: int):
    """Disjoint lists of operand pairs drawn uniformly from ``[0, 10**digits)`` (an unordered pair
    appears in one split only): ``(train, val, test)``."""
    rng = random.Random(seed)
    high = 10 ** digits
    total = n_train + n_val + n_test
    if total > high * (high + 1) // 2:
        raise ValueError(f"addition_pairs: {total} distinct pairs requested but only "
                         f"{high * (high + 1) // 2} exist with digits={digits}")
    seen, pairs = set(), []
    while len(pairs) < total:
        a, b = rng.randrange(high), rng.randrange(high)
        key = (min(a, b), max(a, b))
        if key not in seen:
            seen.add(key)
            pairs.append((a, b))
    return pairs[:n_train], pairs[n_train:n_train + n_val], pairs[n_train + n_val:]


class AdditionExpressions(torch.utils.data.Dataset):
    """One split of the character-level addition task: item ``i`` is ``(source ids, target
    ids)``, the source ``"a+b"``, the target ``<bos> digits of a + b <eos>``.

    All three splits are drawn together from ``seed`` (so they are disjoint); the validation split
    has ``max(test_size // 5, 100)`` pairs.

    Args:
        split (str): ``"train"``, ``"val"`` or ``"test"``. (default: ``"train"``)
        digits (int): operands are below ``10 ** digits``. (default: ``3``)
        train_size (int): training pairs. (default: ``50_000``)
        test_size (int): test pairs. (default: ``5_000``)
        seed (int): the seed of the draw. (default: ``0``)

    Attributes:
        pairs: the operand pairs of the split. vocab: :class:`~graphrnn.datasets.text.Vocab` of
        the characters ``0-9 +`` after the default specials (pad 0, unk 1, bos 2, eos 3).
    """

    TOKENS = tuple("0123456789+")
    SPLITS = ("train", "val", "test")

    def __init__(self, split: str = "train", digits: int = 3, train_size: int = 50_000,
                 test_size: int = 5_000, seed: int = 0):
        if split not in self.SPLITS:
            raise ValueError(f"AdditionExpressions: split must be one of {self.SPLITS}, got "
                             f"{split!r}")
        self.split, self.digits, self.vocab = split, digits, Vocab(list(self.TOKENS))
        draws = addition_pairs(train_size, max(test_size // 5, 100), test_size, digits, seed)
        self.pairs = draws[self.SPLITS.index(split)]
        self.items = [self.encode(a, b) for a, b in self.pairs]

    def encode(self, a: int, b: int) -> tuple[list[int], list[int]]:
        """``(ids of "a+b", ids of <bos> a+b <eos>)``."""
        return (self.vocab.encode(f"{a}+{b}"),
                self.vocab.encode(str(a + b), add_bos=True, add_eos=True))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[list[int], list[int]]:
        return self.items[index]

    def __repr__(self) -> str:
        return f"AdditionExpressions(split={self.split!r}, digits={self.digits}, size={len(self)})"


# ------------------------------------------------------------------------------------------------
# long range: remember the first symbol

def first_symbol_data(n: int, length: int, num_symbols: int = 4, seed: int = 0
                      ) -> tuple[Tensor, Tensor]:
    """``n`` sequences of ``length`` random symbols; the target is the first one.

    Returns:
        ``x`` (length, n, num_symbols + 1): one-hot symbols, last channel 1 on the first step
        only; ``y`` (n,): the first symbol.
    """
    if length < 1 or num_symbols < 2:
        raise ValueError(f"first_symbol_data: need length >= 1 and num_symbols >= 2, got "
                         f"{length} and {num_symbols}")
    g = torch.Generator().manual_seed(seed)
    symbols = torch.randint(num_symbols, (length, n), generator=g)
    x = F.one_hot(symbols, num_symbols + 1).float()
    x[0, :, num_symbols] = 1.0
    return x, symbols[0]


class FirstSymbol(torch.utils.data.Dataset):
    """:func:`first_symbol_data` as a data set: item ``i`` is ``(x_i (T, num_symbols + 1),
    y_i)``, so the default collate gives batch-first ``(B, T, I)`` sequences.

    Args:
        size (int): sequences. length (int): T. num_symbols (int): classes. (default: ``4``)
        seed (int): the draw. (default: ``0``)

    Attributes:
        x: (T, size, num_symbols + 1) all sequences, time first. y: (size,) targets.
    """

    def __init__(self, size: int, length: int, num_symbols: int = 4, seed: int = 0):
        self.length, self.num_symbols = length, num_symbols
        self.x, self.y = first_symbol_data(size, length, num_symbols, seed)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.x[:, index], self.y[index]

    def __repr__(self) -> str:
        return f"FirstSymbol(size={len(self)}, length={self.length}, symbols={self.num_symbols})"


# ------------------------------------------------------------------------------------------------
# CTC: unaligned digit frames

class Utterances(NamedTuple):
    """A padded batch: frames (B, T, F), frame_lengths (B,), labels (B, S) (digit d is label
    d + 1; 0 is the CTC blank and the padding), label_lengths (B,)."""
    frames: Tensor
    frame_lengths: Tensor
    labels: Tensor
    label_lengths: Tensor


def digit_prototypes(dim: int, seed: int = 1234) -> Tensor:
    """(10, dim) digit prototypes, the same for every split: random directions, all of norm
    sqrt(dim) (every digit equally loud; unscaled Gaussian draws made one digit's prototype so
    short that, at low gain, its frames were hard to tell from silence)."""
    p = torch.randn(10, dim, generator=torch.Generator().manual_seed(seed))
    return p * (dim ** 0.5 / p.norm(dim=1, keepdim=True))


def make_utterances(n: int, seed: int, dim: int = 16, noise: float = 0.8, min_digits: int = 3,
                    max_digits: int = 7) -> list[tuple[Tensor, list[int]]]:
    """``n`` pairs ``(frames (T, dim), digits)``.

    An utterance of ``min_digits..max_digits`` digits: every digit lasts 2-5 frames of its
    prototype times a gain in [0.7, 1.3]; silence (zero mean) pads the ends (0-3 frames),
    separates repeated digits and, at random, other neighbours (1-2 frames); Gaussian noise of
    std ``noise`` is added to every frame.
    """
    g = torch.Generator().manual_seed(seed)
    protos = digit_prototypes(dim)

    def randint(lo, hi):  # inclusive
        return int(torch.randint(lo, hi + 1, (1,), generator=g))

    out = []
    for _ in range(n):
        digits = [randint(0, 9) for _ in range(randint(min_digits, max_digits))]
        means = [torch.zeros(dim)] * randint(0, 3)
        for i, d in enumerate(digits):
            if i and (d == digits[i - 1] or randint(0, 1)):
                means += [torch.zeros(dim)] * randint(1, 2)
            gain = 0.7 + 0.6 * float(torch.rand(1, generator=g))
            means += [protos[d] * gain] * randint(2, 5)
        means += [torch.zeros(dim)] * randint(0, 3)
        frames = torch.stack(means) + noise * torch.randn(len(means), dim, generator=g)
        out.append((frames, digits))
    return out


def collate_utterances(items: Sequence[tuple[Tensor, list[int]]]) -> Utterances:
    """``[(frames (T_i, F), digits), ...]`` -> padded :class:`Utterances`."""
    frames = pad_sequence([f for f, _ in items], batch_first=True)
    labels = pad_sequence([torch.tensor(d) + 1 for _, d in items], batch_first=True)
    return Utterances(frames, torch.tensor([len(f) for f, _ in items]), labels,
                      torch.tensor([len(d) for _, d in items]))


class DigitFrames(torch.utils.data.Dataset):
    """:func:`make_utterances` as a data set: item ``i`` is ``(frames (T_i, dim), digits)``.

    Args:
        size (int): utterances. seed (int): the draw. dim (int): frame size. (default: ``16``)
        noise (float): noise std. (default: ``0.8``)
        min_digits, max_digits (int): utterance lengths in digits. (default: ``3``, ``7``)
    """

    collate = staticmethod(collate_utterances)

    def __init__(self, size: int, seed: int = 0, dim: int = 16, noise: float = 0.8,
                 min_digits: int = 3, max_digits: int = 7):
        self.dim, self.noise = dim, noise
        self.items = make_utterances(size, seed, dim, noise, min_digits, max_digits)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[Tensor, list[int]]:
        return self.items[index]

    def __repr__(self) -> str:
        return f"DigitFrames(size={len(self)}, dim={self.dim}, noise={self.noise})"
