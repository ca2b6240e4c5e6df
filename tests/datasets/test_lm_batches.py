"""Language-model batches: bos inputs, eos targets; the collate function; length buckets."""
import pytest
import torch

from graphrnn.datasets.lm_batches import BucketBatches, LMCollate, lm_batch
from graphrnn.datasets.text import Vocab


def test_lm_collate_is_lm_batch_bos_inputs_eos_targets():
    vocab = Vocab.build([list("abc")])
    inputs, targets, lengths = LMCollate(vocab)([list("ab"), list("c")])
    assert inputs.tolist() == [[2, vocab["a"], vocab["b"]], [2, vocab["c"], 0]]
    assert targets.tolist() == [[vocab["a"], vocab["b"], 3], [vocab["c"], 3, 0]]
    assert lengths.tolist() == [3, 2]
    assert all(torch.equal(x, y) for x, y in zip(lm_batch([list("ab"), list("c")], vocab),
                                                 (inputs, targets, lengths)))


def test_bucket_batches_cover_every_sequence_once_with_similar_lengths_per_batch():
    lengths = [(i * 37) % 101 for i in range(1000)]
    sampler = BucketBatches(lengths, batch_size=10, seed=3)
    first = list(sampler)
    assert len(first) == len(sampler) == 100
    assert sorted(i for batch in first for i in batch) == list(range(1000))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in first) / 100
    assert spread < 10                              # random batches of 10 spread ~80
    second = list(sampler)                          # the next epoch: another order
    assert second != first
    replay = BucketBatches(lengths, batch_size=10, seed=3)
    assert list(replay) == first                    # seeded: epoch 0 again
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        BucketBatches(lengths, 0)
