"""Learn2Carry: adding two integers digit by digit, the second RNN exercise of nndl (chapter 6).

Both operands and the sum are written least-significant digit first and padded with zeros to
``T = max_digits + 1`` positions, so the sum fits: position ``t`` of the output is digit ``t`` of
``a + b``, which depends only on digits ``<= t`` of the operands (through the carry). A synchronous
chain RNN reads ``(a_t, b_t)`` and writes ``s_t``::

    a = 987  ->  [7, 8, 9, 0]
    b =  45  ->  [5, 4, 0, 0]
    s = 1032 ->  [2, 3, 0, 1]

The splits of the exercise (:class:`Learn2Carry`, a torch ``Dataset`` per split): training
operands below 555,555,555, drawn afresh every epoch; a test set of 2,000 pairs with both operands
in [555,555,555, 999,999,999]; and, to show that the carry rule was learned rather than the range,
test sets whose operands have exactly 20 and 30 digits. Everything is deterministic from one seed,
and no test pair (in either order) is ever a training pair: the default ranges are disjoint, and
every training draw is also checked against the test pairs and redrawn if it hits one (which
matters only for user-chosen overlapping ranges)::

    train = TrainingDraws(batch_size=64, num_batches=200, seed=0)   # one draw per epoch
    val = Learn2Carry("val", seed=0)
    tests = Learn2Carry.test_sets(seed=0)    # {"in_range_test": ..., "20_digits": ..., ...}
"""
from __future__ import annotations

import functools
import random
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch

__all__ = ["AdditionBatch", "to_digits", "from_digits", "make_addition", "Learn2Carry",
           "TrainingDraws"]


class AdditionBatch(NamedTuple):
    """Operands and sums as digit tensors, least-significant digit first.

    Attributes:
        a, b: ``(B, T)`` long tensors of digits 0-9 of the operands.
        sum: ``(B, T)`` long tensor of the digits of ``a + b``.
    """
    a: torch.Tensor
    b: torch.Tensor
    sum: torch.Tensor

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The operand pairs as Python integers."""
        return list(zip(from_digits(self.a), from_digits(self.b)))


def to_digits(numbers: Sequence[int], width: int) -> torch.Tensor:
    """``(len(numbers), width)`` long tensor of the decimal digits of ``numbers``, least significant
    first, zero padded. Python integers of any size are accepted; a negative number or one with more
    than ``width`` digits is an error naming it."""
    rows = []
    for i, n in enumerate(numbers):
        if n < 0:
            raise ValueError(f"to_digits: numbers[{i}] = {n} is negative")
        s = str(int(n))[::-1]
        if len(s) > width:
            raise ValueError(f"to_digits: numbers[{i}] = {n} has {len(s)} digits, more than "
                             f"width={width}")
        rows.append(s.ljust(width, "0"))
    if not rows or width == 0:
        return torch.zeros(len(rows), width, dtype=torch.long)
    # one buffer of ASCII digits -> (B, width) in one step (Python ints of any size)
    text = bytearray("".join(rows).encode("ascii"))
    return (torch.frombuffer(text, dtype=torch.uint8).long() - ord("0")).view(len(rows), width)


def from_digits(digits: torch.Tensor) -> list[int]:
    """Inverse of :func:`to_digits`: ``(B, T)`` digits, least significant first -> ``B`` ints."""
    if digits.dim() != 2:
        raise ValueError(f"from_digits: expected (B, T) digits, got shape {tuple(digits.shape)}")
    return [int("".join(str(int(d)) for d in reversed(row.tolist())) or "0") for row in digits]


def make_addition(pairs: Sequence[tuple[int, int]], max_digits: int) -> AdditionBatch:
    """Digit tensors of ``pairs`` with ``T = max_digits + 1`` positions."""
    width = max_digits + 1
    a = to_digits([p[0] for p in pairs], width)
    b = to_digits([p[1] for p in pairs], width)
    s = to_digits([p[0] + p[1] for p in pairs], width)
    return AdditionBatch(a, b, s)


class Learn2Carry(torch.utils.data.Dataset):
    """The Learn2Carry pairs of one split, as a torch ``Dataset`` deterministic from ``seed``.

    ``ds[i]`` is an :class:`AdditionBatch` of 1-D digit tensors (a slice gives 2-D ones), so a
    ``DataLoader`` with the default collate stacks items into an ``AdditionBatch``; ``ds.batch``
    holds the whole split at once.

    Splits:

    * ``"train"``: ``size`` pairs (default 12,800) with operands uniform in ``[0, train_high)``,
      a fresh draw for every ``epoch`` (the exercise samples new pairs each step; a resumed run
      sees the same draws). :class:`TrainingDraws` batches one per epoch for the training loop.
    * ``"val"``: ``size`` pairs (default 1,000) from the training range, a draw of its own.
    * ``"test"``: ``test_size`` pairs with both operands in the inclusive ``test_range``.
    * ``"long"``: ``long_size`` pairs of operands with exactly ``digits`` digits (one of
      ``long_digits``).

    The test sets (``"test"`` and every ``"long"``) are drawn from ``seed``, ``test_size``,
    ``long_digits`` and ``long_size`` whatever the split, and no training or validation draw is
    ever one of their pairs, in either order (:attr:`test_pairs`).

    Args:
        split (str): ``"train"``, ``"val"``, ``"test"`` or ``"long"``. (default: ``"train"``)
        seed (int): the seed of every draw. (default: ``0``)
        size (int, optional): pairs of a ``"train"`` or ``"val"`` split.
        epoch (int): which training draw. (default: ``0``)
        digits (int, optional): operand length of a ``"long"`` split.
        train_high (int): training operands are below it. (default: ``555_555_555``)
        test_range (tuple): inclusive operand range of the test split.
            (default: ``(555_555_555, 999_999_999)``)
        test_size (int): pairs in the test split. (default: ``2000``)
        long_digits (sequence of int): operand lengths of the long test sets. (default:
            ``(20, 30)``)
        long_size (int): pairs in each long test set. (default: ``2000``)

    Attributes:
        batch (AdditionBatch): the split's ``(a, b, sum)``, each ``(len, T)``.
        max_digits: digits of the largest training or test operand (9 by default); train, val and
            test tensors have ``T = max_digits + 1``, a long split ``T = digits + 1``.
        test_pairs (frozenset): the pairs of every test set, in both orders.
    """

    SPLITS = ("train", "val", "test", "long")

    def __init__(self, split: str = "train", seed: int = 0, size: int | None = None,
                 epoch: int = 0, digits: int | None = None, train_high: int = 555_555_555,
                 test_range: tuple[int, int] = (555_555_555, 999_999_999), test_size: int = 2000,
                 long_digits: Sequence[int] = (20, 30), long_size: int = 2000):
        if split not in self.SPLITS:
            raise ValueError(f"Learn2Carry: split must be one of {self.SPLITS}, got {split!r}")
        lo, hi = test_range
        if not (0 <= lo <= hi) or train_high < 1:
            raise ValueError(f"Learn2Carry: need 0 <= test_range[0] <= test_range[1] and "
                             f"train_high >= 1, got test_range={tuple(test_range)}, "
                             f"train_high={train_high}")
        if split in ("test", "long") and size is not None:
            raise ValueError(f"Learn2Carry: the {split!r} split's size is "
                             f"{'test_size' if split == 'test' else 'long_size'}, got size={size}")
        if split == "long" and digits not in tuple(long_digits):
            raise ValueError(f"Learn2Carry: a 'long' split needs digits in long_digits="
                             f"{tuple(long_digits)}, got digits={digits}")
        self.split, self.seed, self.epoch, self.digits = split, seed, epoch, digits
        self.train_high, self.test_range = train_high, (lo, hi)
        self.max_digits = max(len(str(train_high - 1)), len(str(hi)))
        test, long = _test_sets(seed, lo, hi, test_size, tuple(long_digits), long_size)
        every = test + [p for pairs in long.values() for p in pairs]
        self.test_pairs = frozenset(every + [(b, a) for a, b in every])
        if split == "test":
            pairs, width = test, self.max_digits
        elif split == "long":
            pairs, width = long[digits], digits
        else:
            size = (12_800 if split == "train" else 1000) if size is None else size
            offset = 1 + epoch if split == "train" else 0
            rng = random.Random(f"learn2carry/{seed}/train/{offset}")
            pairs = _draw(rng, size, 0, train_high, self.test_pairs, "training")
            width = self.max_digits
        self.batch = make_addition(pairs, width)

    @classmethod
    def test_sets(cls, **kwargs) -> dict[str, Learn2Carry]:
        """``{"in_range_test": test split, "20_digits": long split, ...}`` for the settings
        ``kwargs`` (any argument but ``split``, ``size``, ``digits``)."""
        out = {"in_range_test": cls("test", **kwargs)}
        for d in kwargs.get("long_digits", (20, 30)):
            out[f"{d}_digits"] = cls("long", digits=d, **kwargs)
        return out

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """The split's operand pairs as Python integers."""
        return self.batch.pairs

    def __len__(self) -> int:
        return len(self.batch.a)

    def __getitem__(self, index) -> AdditionBatch:
        return AdditionBatch(*(t[index] for t in self.batch))

    def __repr__(self) -> str:
        extra = f", epoch={self.epoch}" if self.split == "train" else \
            f", digits={self.digits}" if self.split == "long" else ""
        return f"Learn2Carry(split={self.split!r}, seed={self.seed}{extra}, size={len(self)})"


def _draw(rng: random.Random, n: int, low: int, high: int, exclude: frozenset,
          what: str) -> list[tuple[int, int]]:
    """``n`` pairs with operands uniform in ``[low, high)``, none in ``exclude``."""
    out, tries = [], 0
    while len(out) < n:
        pair = (rng.randrange(low, high), rng.randrange(low, high))
        if pair in exclude:
            tries += 1
            if tries > 100 * n + 1000:
                raise RuntimeError(f"Learn2Carry: cannot draw {what} pairs from [{low}, {high}) "
                                   f"that avoid the test pairs: the ranges overlap too much")
            continue
        out.append(pair)
    return out


@functools.lru_cache(maxsize=8)
def _test_sets(seed: int, lo: int, hi: int, test_size: int, long_digits: tuple[int, ...],
               long_size: int) -> tuple[list, dict[int, list]]:
    """The test pairs and ``{digits: long test pairs}`` (cached: every split needs them)."""
    test = _draw(random.Random(f"learn2carry/{seed}/test"), test_size, lo, hi + 1, frozenset(),
                 "test")
    long = {d: _draw(random.Random(f"learn2carry/{seed}/long{d}"), long_size, 10 ** (d - 1),
                     10 ** d, frozenset(), f"{d}-digit test") for d in long_digits}
    return test, long


class TrainingDraws:
    """Training batches for the one training loop: each pass (epoch) iterates the ``"train"``
    split of the next epoch, ``num_batches`` batches of ``batch_size`` pairs in draw order.

    Args:
        batch_size (int): pairs per batch.
        num_batches (int): batches per epoch.
        epoch (int): the epoch the next pass draws (the trainer's, after a resume). (default: 0)
        **task: the :class:`Learn2Carry` settings (``seed``, ranges, test sizes).
    """

    def __init__(self, batch_size: int, num_batches: int, epoch: int = 0, **task):
        self.batch_size, self.num_batches, self.epoch, self.task = (batch_size, num_batches, epoch,
                                                                    task)

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[AdditionBatch]:
        data = Learn2Carry("train", size=self.batch_size * self.num_batches, epoch=self.epoch,
                           **self.task)
        self.epoch += 1
        for i in range(self.num_batches):
            yield data[i * self.batch_size:(i + 1) * self.batch_size]
