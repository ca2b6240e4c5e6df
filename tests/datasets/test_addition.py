import pytest
import torch
from torch.utils.data import DataLoader

from graphrnn.datasets.addition import (
    AdditionBatch,
    Learn2Carry,
    TrainingDraws,
    from_digits,
    make_addition,
    to_digits,
)


def test_digits_least_significant_first():
    d = to_digits([987, 45, 0], 4)
    assert d.tolist() == [[7, 8, 9, 0], [5, 4, 0, 0], [0, 0, 0, 0]]
    assert from_digits(d) == [987, 45, 0]
    big = 10 ** 29 + 123
    assert from_digits(to_digits([big], 31)) == [big]
    with pytest.raises(ValueError, match=r"numbers\[0\] = 12345 has 5 digits"):
        to_digits([12345], 4)
    with pytest.raises(ValueError, match="negative"):
        to_digits([-1], 4)


def test_make_addition_carries():
    batch = make_addition([(987, 45), (999, 1)], max_digits=3)
    assert batch.sum.tolist() == [[2, 3, 0, 1], [0, 0, 0, 1]]
    assert batch.a.shape == batch.b.shape == batch.sum.shape == (2, 4)
    assert batch.pairs == [(987, 45), (999, 1)]


def test_learn2carry_splits_and_ranges():
    kw = {"seed": 3, "test_size": 500, "long_size": 100}
    test = Learn2Carry("test", **kw)
    assert test.max_digits == 9 and len(test) == 500 and test.batch.a.shape == (500, 10)
    assert all(555_555_555 <= x <= 999_999_999 for p in test.pairs for x in p)
    assert from_digits(test.batch.sum) == [a + b for a, b in test.pairs]
    tests = Learn2Carry.test_sets(**kw)
    assert list(tests) == ["in_range_test", "20_digits", "30_digits"]
    assert tests["in_range_test"].pairs == test.pairs
    for d in (20, 30):
        long = tests[f"{d}_digits"]
        assert long.batch.a.shape == (100, d + 1)
        assert all(len(str(x)) == d for p in long.pairs for x in p)
    train = Learn2Carry("train", size=2000, **kw)
    assert train.batch.a.shape == (2000, 10)
    assert all(0 <= x < 555_555_555 for p in train.pairs for x in p)
    assert from_digits(train.batch.sum) == [a + b for a, b in train.pairs]
    assert len(Learn2Carry("val", **kw)) == 1000 and len(Learn2Carry("train", **kw)) == 12_800


def test_learn2carry_is_a_torch_dataset():
    data = Learn2Carry("test", seed=0, test_size=10, long_size=2)
    item = data[3]
    assert isinstance(item, AdditionBatch) and item.a.shape == (10,)
    assert torch.equal(item.sum, data.batch.sum[3])
    batch = next(iter(DataLoader(data, batch_size=4)))
    assert isinstance(batch, AdditionBatch) and torch.equal(batch.a, data.batch.a[:4])
    assert torch.equal(data[2:5].b, data.batch.b[2:5])


def test_deterministic_from_seed():
    kw = {"test_size": 50, "long_size": 5}
    a, b = Learn2Carry.test_sets(seed=1, **kw), Learn2Carry.test_sets(seed=1, **kw)
    assert a["in_range_test"].pairs == b["in_range_test"].pairs
    assert torch.equal(a["30_digits"].batch.b, b["30_digits"].batch.b)
    assert Learn2Carry("train", 1, 64, **kw).pairs == Learn2Carry("train", 1, 64, **kw).pairs
    c = Learn2Carry("test", seed=2, **kw)
    assert c.pairs != a["in_range_test"].pairs
    # every epoch a new draw, and the validation draw is none of them
    epochs = [Learn2Carry("train", 1, 64, epoch=e, **kw).pairs for e in range(3)]
    assert epochs[0] != epochs[1] != epochs[2]
    assert Learn2Carry("val", 1, 64, **kw).pairs not in epochs


def test_training_draws_iterate_one_epoch_draw_per_pass():
    draws = TrainingDraws(8, 3, seed=1, test_size=20, long_size=2)
    first, second = list(draws), list(draws)
    assert len(first) == len(draws) == 3 and first[0].a.shape == (8, 10)
    assert [p for batch in first for p in batch.pairs] == \
        Learn2Carry("train", 1, 24, epoch=0, test_size=20, long_size=2).pairs
    assert [p for batch in second for p in batch.pairs] == \
        Learn2Carry("train", 1, 24, epoch=1, test_size=20, long_size=2).pairs
    resumed = TrainingDraws(8, 3, epoch=1, seed=1, test_size=20, long_size=2)
    assert [b.a.tolist() for b in resumed] == [b.a.tolist() for b in second]


def test_no_test_pair_leaks_into_training_even_with_overlapping_ranges():
    # with tiny overlapping ranges, many training draws hit test pairs and must be redrawn
    kw = {"seed": 0, "train_high": 10, "test_range": (0, 9), "test_size": 30, "long_digits": (),
          "long_size": 0}
    test = set(Learn2Carry("test", **kw).pairs)
    forbidden = test | {(b, a) for a, b in test}
    assert Learn2Carry("val", **kw).test_pairs == forbidden
    train = Learn2Carry("train", size=500, **kw).pairs + \
        [p for batch in TrainingDraws(50, 10, **kw) for p in batch.pairs]
    assert len(train) == 1000 and not set(train) & forbidden
    # and the default ranges are disjoint, so no check can ever fire there
    default = Learn2Carry("train", size=1000, seed=0, test_size=200, long_size=20)
    assert not set(default.pairs) & default.test_pairs


def test_bad_splits_are_errors_naming_the_argument():
    with pytest.raises(RuntimeError, match="overlap"):
        Learn2Carry("train", size=5, seed=0, train_high=2, test_range=(0, 1), test_size=40,
                    long_digits=(), long_size=0)
    with pytest.raises(ValueError, match="split must be one of"):
        Learn2Carry("dev")
    with pytest.raises(ValueError, match="digits in long_digits"):
        Learn2Carry("long", digits=12)
    with pytest.raises(ValueError, match="test_size"):
        Learn2Carry("test", size=10)
