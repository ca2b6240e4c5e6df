import math

import pytest
import torch

from graphrnn.datasets.sequences import Seq2SeqBatch
from graphrnn.models.seq2seq import seq2seq_step
from graphrnn.models.transformer_seq2seq import TransformerSeq2Seq, sinusoidal_positions

torch.set_num_threads(1)
BOS, EOS = 2, 3


def batch():
    # copy task: the target is the source
    src = torch.tensor([[4, 5, 6], [7, 4, 0], [6, 6, 5], [5, 0, 0]])
    lengths = torch.tensor([3, 2, 3, 1])
    tgt = torch.tensor([[BOS, 4, 5, 6, EOS], [BOS, 7, 4, EOS, 0], [BOS, 6, 6, 5, EOS],
                        [BOS, 5, EOS, 0, 0]])
    return Seq2SeqBatch(src, lengths, tgt)


def small(**kwargs):
    return TransformerSeq2Seq(8, 8, d_model=16, nhead=2, num_encoder_layers=1,
                              num_decoder_layers=1, dim_feedforward=32, **kwargs)


def test_sinusoidal_positions():
    table = sinusoidal_positions(5, 6)
    assert table.shape == (5, 6)
    assert table[3, 0].item() == pytest.approx(math.sin(3))
    assert table[3, 1].item() == pytest.approx(math.cos(3))
    assert table[2, 4].item() == pytest.approx(math.sin(2 / 10000 ** (4 / 6)), rel=1e-5)


def test_stepwise_decoding_equals_the_parallel_forward():
    torch.manual_seed(0)
    model = small(dropout=0.0).eval()
    b = batch()
    logits = model(b.src, b.src_lengths, b.tgt)
    assert logits.shape == (4, 4, 8)
    state = model.encode(b.src, b.src_lengths)
    for t in range(b.tgt.size(1) - 1):
        log_probs, state = model.decode_step(b.tgt[:, t], state)
        real = b.tgt[:, t + 1] != 0  # rows whose prefix holds no padding yet
        assert torch.allclose(log_probs[real], torch.log_softmax(logits[real, t], -1), atol=1e-5)
    src2 = b.src.clone()
    src2[1, 2] = 7  # padding content does not matter
    assert torch.allclose(model(src2, b.src_lengths, b.tgt)[1], logits[1], atol=1e-5)
    with pytest.raises(ValueError, match="tgt"):
        model(b.src, b.src_lengths, b.tgt[:, :1])
    with pytest.raises(ValueError, match="src_lengths"):
        model.encode(b.src, b.src_lengths[:2])


def test_overfits_a_handful_of_pairs_and_beam_of_one_is_greedy():
    torch.manual_seed(0)
    model = small(dropout=0.0)
    b = batch()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):
        loss, _ = seq2seq_step(model, b, label_smoothing=0.05)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    gold = [[4, 5, 6], [7, 4], [6, 6, 5], [5]]
    greedy = model.generate(b.src, b.src_lengths, 6)
    assert greedy == gold
    assert model.generate(b.src, b.src_lengths, 6, beam_width=1) == greedy
    assert model.generate(b.src, b.src_lengths, 6, beam_width=3, length_penalty=0.6) == gold
    _, metrics = seq2seq_step(model, b)
    assert metrics["greedy_exact"] == 1.0
