import pytest
import torch
from torch.utils.data import DataLoader

from graphrnn.datasets.sequences import (
    AdditionExpressions,
    DigitFrames,
    FirstSymbol,
    Seq2SeqBatch,
    Utterances,
    addition_pairs,
    collate_seq2seq,
    digit_prototypes,
    first_symbol_data,
)


def test_addition_pairs_are_disjoint_and_expressions_encode_them():
    train, val, test = addition_pairs(300, 50, 100, 2, seed=0)
    keys = [{(min(a, b), max(a, b)) for a, b in split} for split in (train, val, test)]
    assert [len(k) for k in keys] == [300, 50, 100]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    with pytest.raises(ValueError, match="distinct pairs"):
        addition_pairs(50, 10, 10, 1, seed=0)
    data = AdditionExpressions("val", digits=2, train_size=300, test_size=100)
    assert data.pairs == addition_pairs(300, 100, 100, 2, seed=0)[1]
    (a, b), (src, tgt) = data.pairs[0], data[0]
    v = data.vocab
    assert "".join(v.decode(src)) == f"{a}+{b}" and tgt[0] == v.bos_index and tgt[-1] == v.eos_index
    assert "".join(v.decode(tgt[1:-1])) == str(a + b)
    batch = collate_seq2seq([data[0], data[1]])
    assert isinstance(batch, Seq2SeqBatch) and batch.src_lengths.tolist() == [len(data[0][0]),
                                                                               len(data[1][0])]


def test_first_symbol_data():
    x, y = first_symbol_data(5, 7, num_symbols=3, seed=0)
    assert x.shape == (7, 5, 4) and torch.equal(x[0, :, :3].argmax(-1), y)
    assert x[0, :, 3].eq(1).all() and x[1:, :, 3].eq(0).all()
    ds = FirstSymbol(5, 7, num_symbols=3, seed=0)
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert torch.equal(xb, x.transpose(0, 1)) and torch.equal(yb, y)
    with pytest.raises(ValueError, match="num_symbols"):
        first_symbol_data(2, 3, num_symbols=1)


def test_digit_frames_follow_their_digits():
    protos = digit_prototypes(16)
    assert torch.allclose(protos.norm(dim=1), torch.full((10,), 4.0))
    data = DigitFrames(20, seed=1, noise=0.0)
    for frames, digits in data:
        assert 3 <= len(digits) <= 7 and frames.shape[1] == 16
        # noise free: non-silent frames are gains of the prototypes, in the digits' order
        loud = frames[frames.norm(dim=1) > 0]
        seen = (loud @ protos.t() / (loud.norm(dim=1, keepdim=True) * 4)).argmax(1).tolist()
        merged = [d for i, d in enumerate(seen) if i == 0 or d != seen[i - 1]]
        assert [d for i, d in enumerate(digits) if i == 0 or d != digits[i - 1]] == merged
    batch = data.collate([data[0], data[1]])
    assert isinstance(batch, Utterances) and batch.frames.shape[0] == 2
    assert batch.labels[0, :len(data[0][1])].tolist() == [d + 1 for d in data[0][1]]
    again = DigitFrames(20, seed=1, noise=0.0)
    assert torch.equal(again[3][0], data[3][0])
