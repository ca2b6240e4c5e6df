"""Learn2Carry: adding two integers digit by digit, the second RNN exercise of nndl (chapter 6).

Both operands and the sum are written least-significant digit first and padded with zeros to
``T = max_digits + 1`` positions, so the sum fits: position ``t`` of the output is digit ``t`` of
``a + b``, which depends only on digits ``<= t`` of the operands (through the carry). A synchronous
chain RNN reads ``(a_t, b_t)`` and writes ``s_t``::

    a = 987  ->  [7, 8, 9, 0]
    b =  45  ->  [5, 4, 0, 0]
    s = 1032 ->  [2, 3, 0, 1]

The splits of the exercise: training operands below 555,555,555; a test set of 2,000 pairs with
both operands in [555,555,555, 999,999,999]; and, to show that the carry rule was learned rather
than the range, test sets whose operands have exactly 20 and 30 digits. Everything is deterministic
from one seed, and no test pair (in either order) is ever a training pair: the default ranges are
disjoint, and every training draw is also checked against the test pairs and redrawn if it hits one
(which matters only for user-chosen overlapping ranges).
"""
from __future__ import annotations

import random
from typing import Iterator, NamedTuple, Sequence

import torch

__all__ = ["AdditionBatch", "to_digits", "from_digits", "make_addition", "Learn2Carry", "TrainingDraws"]


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
    out = torch.zeros(len(numbers), width, dtype=torch.long)
    for i, n in enumerate(numbers):
        if n < 0:
            raise ValueError(f"to_digits: numbers[{i}] = {n} is negative")
        s = str(int(n))[::-1]
        if len(s) > width:
            raise ValueError(f"to_digits: numbers[{i}] = {n} has {len(s)} digits, more than "
                             f"width={width}")
        out[i, :len(s)] = torch.tensor([int(c) for c in s], dtype=torch.long)
    return out


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


class Learn2Carry:
    """The Learn2Carry splits, deterministic from ``seed``.

    Args:
        seed: the seed of every draw (default 0).
        train_high: training operands are drawn uniformly from ``[0, train_high)``
            (default 555,555,555).
        test_range: both operands of the in-distribution-length test are drawn from this inclusive
            range (default ``(555_555_555, 999_999_999)``).
        test_size: number of test pairs (default 2,000).
        long_digits: operand lengths of the long test sets (default 20 and 30): operands are drawn
            uniformly among the numbers with exactly that many digits.
        long_size: pairs in each long test set (default 2,000).

    Attributes:
        max_digits: digits of the largest training or test operand (9 by default), so train and
            test tensors have ``T = max_digits + 1``; long test sets have ``T = digits + 1``.
        test: the :class:`AdditionBatch` of the test pairs.
        long_tests: ``{digits: AdditionBatch}``.
        test_pairs: the test pairs of every test set, in both orders, which training never draws.
    """

    def __init__(self, seed: int = 0, train_high: int = 555_555_555,
                 test_range: tuple[int, int] = (555_555_555, 999_999_999), test_size: int = 2000,
                 long_digits: Sequence[int] = (20, 30), long_size: int = 2000):
        lo, hi = test_range
        if not (0 <= lo <= hi) or train_high < 1:
            raise ValueError(f"Learn2Carry: need 0 <= test_range[0] <= test_range[1] and "
                             f"train_high >= 1, got test_range={test_range}, "
                             f"train_high={train_high}")
        self.seed, self.train_high, self.test_range = seed, train_high, (lo, hi)
        self.max_digits = max(len(str(train_high - 1)), len(str(hi)))
        rng = random.Random(f"learn2carry/{seed}/test")
        test = self._draw(rng, test_size, lo, hi + 1, frozenset(), "test")
        self.long_tests: dict[int, AdditionBatch] = {}
        long_pairs = []
        for d in long_digits:
            r = random.Random(f"learn2carry/{seed}/long{d}")
            pairs = self._draw(r, long_size, 10 ** (d - 1), 10 ** d, frozenset(), f"{d}-digit test")
            long_pairs += pairs
            self.long_tests[d] = make_addition(pairs, d)
        self.test = make_addition(test, self.max_digits)
        self.test_pairs = frozenset(test + long_pairs + [(b, a) for a, b in test + long_pairs])

    @staticmethod
    def _draw(rng: random.Random, n: int, low: int, high: int, exclude: frozenset,
              what: str) -> list[tuple[int, int]]:
        """``n`` pairs with operands uniform in ``[low, high)``, none in ``exclude``."""
        out = []
        tries = 0
        while len(out) < n:
            pair = (rng.randrange(low, high), rng.randrange(low, high))
            if pair in exclude:
                tries += 1
                if tries > 100 * n + 1000:
                    raise RuntimeError(f"Learn2Carry: cannot draw {what} pairs from "
                                       f"[{low}, {high}) that avoid the test pairs: the ranges "
                                       f"overlap too much")
                continue
            out.append(pair)
        return out

    def train_set(self, size: int, offset: int = 0) -> AdditionBatch:
        """A fixed training set of ``size`` pairs; ``offset`` selects another deterministic draw."""
        rng = random.Random(f"learn2carry/{self.seed}/train/{offset}")
        pairs = self._draw(rng, size, 0, self.train_high, self.test_pairs, "training")
        return make_addition(pairs, self.max_digits)

    def train_batches(self, batch_size: int, num_batches: int | None = None
                      ) -> Iterator[AdditionBatch]:
        """Fresh training batches (as the exercise samples them each step), deterministic from the
        seed; endless when ``num_batches`` is ``None``."""
        rng = random.Random(f"learn2carry/{self.seed}/stream")
        i = 0
        while num_batches is None or i < num_batches:
            yield make_addition(self._draw(rng, batch_size, 0, self.train_high, self.test_pairs,
                                           "training"), self.max_digits)
            i += 1

    def __repr__(self) -> str:
        return (f"Learn2Carry(seed={self.seed}, train_high={self.train_high}, test_range="
                f"{self.test_range}, test={len(self.test.a)}, long={sorted(self.long_tests)})")


class TrainingDraws:
    """Training batches for the one training loop: ``num_batches`` new batches of ``batch_size``
    pairs every epoch, a fixed draw per epoch (``data.train_set(..., offset=1 + epoch)``), so a
    resumed run sees the same batches; never a test pair. Offset 0 is left for validation.

    Args:
        data (Learn2Carry): the splits.
        batch_size (int): pairs per batch.
        num_batches (int): batches per epoch.
        epoch (int): the epoch the next iteration draws (the trainer's, after a resume).
    """

    def __init__(self, data: Learn2Carry, batch_size: int, num_batches: int, epoch: int = 0):
        self.data, self.batch_size, self.num_batches, self.epoch = data, batch_size, num_batches, epoch

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[AdditionBatch]:
        block = self.data.train_set(self.batch_size * self.num_batches, offset=1 + self.epoch)
        self.epoch += 1
        for i in range(self.num_batches):
            rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield AdditionBatch(block.a[rows], block.b[rows], block.sum[rows])
