import pytest
import torch

from graphrnn.datasets.addition import Learn2Carry, from_digits, make_addition, to_digits


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
    data = Learn2Carry(seed=3, test_size=500, long_size=100)
    assert data.max_digits == 9
    test = data.test.pairs
    assert len(test) == 500 and data.test.a.shape == (500, 10)
    assert all(555_555_555 <= x <= 999_999_999 for p in test for x in p)
    for d, batch in data.long_tests.items():
        assert batch.a.shape == (100, d + 1)
        assert all(len(str(x)) == d for p in batch.pairs for x in p)
    sums = from_digits(data.test.sum)
    assert sums == [a + b for a, b in test]
    train = data.train_set(2000)
    assert train.a.shape == (2000, 10)
    assert all(0 <= x < 555_555_555 for p in train.pairs for x in p)
    assert from_digits(train.sum) == [a + b for a, b in train.pairs]


def test_deterministic_from_seed():
    a, b = Learn2Carry(seed=1, test_size=50, long_size=5), Learn2Carry(seed=1, test_size=50,
                                                                        long_size=5)
    assert torch.equal(a.test.a, b.test.a) and torch.equal(a.long_tests[30].b, b.long_tests[30].b)
    assert torch.equal(a.train_set(64).a, b.train_set(64).a)
    first = [x.a.tolist() for x in a.train_batches(8, 3)]
    assert len(first) == 3 and first == [x.a.tolist() for x in b.train_batches(8, 3)]
    c = Learn2Carry(seed=2, test_size=50, long_size=5)
    assert not torch.equal(a.test.a, c.test.a)
    assert not torch.equal(a.train_set(64).a, a.train_set(64, offset=1).a)


def test_no_test_pair_leaks_into_training_even_with_overlapping_ranges():
    # with tiny overlapping ranges, many training draws hit test pairs and must be redrawn
    data = Learn2Carry(seed=0, train_high=10, test_range=(0, 9), test_size=30, long_digits=(),
                       long_size=0)
    test = set(data.test.pairs)
    forbidden = test | {(b, a) for a, b in test}
    assert data.test_pairs == forbidden
    train = data.train_set(500).pairs + [p for batch in data.train_batches(50, 10)
                                         for p in batch.pairs]
    assert len(train) == 1000 and not set(train) & forbidden
    # and the default ranges are disjoint, so no check can ever fire there
    default = Learn2Carry(seed=0, test_size=200, long_size=20)
    assert not set(default.train_set(1000).pairs) & default.test_pairs


def test_impossible_split_is_an_error():
    data = Learn2Carry(seed=0, train_high=2, test_range=(0, 1), test_size=40, long_digits=(),
                       long_size=0)
    with pytest.raises(RuntimeError, match="overlap"):
        data.train_set(5)
