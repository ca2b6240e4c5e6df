import pytest
import torch

from graphrnn.datasets.sequences import AdditionExpressions, Seq2SeqBatch
from graphrnn.models.seq2seq import Seq2Seq, generate_exact_match, seq2seq_step

torch.set_num_threads(1)
BOS, EOS = 2, 3


def batch():
    # copy task: source tokens 4..7, target = the same tokens
    src = torch.tensor([[4, 5, 6], [7, 4, 0], [6, 6, 5], [5, 0, 0]])
    lengths = torch.tensor([3, 2, 3, 1])
    tgt = torch.tensor([[BOS, 4, 5, 6, EOS], [BOS, 7, 4, EOS, 0], [BOS, 6, 6, 5, EOS],
                        [BOS, 5, EOS, 0, 0]])
    return Seq2SeqBatch(src, lengths, tgt)


@pytest.mark.parametrize("score", ["general", "additive"])
def test_seq2seq_learns_to_copy(score):
    torch.manual_seed(0)
    model = Seq2Seq(8, 8, embedding_dim=16, hidden_size=32, score=score)
    b = batch()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss, _ = seq2seq_step(model, b)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    _, metrics = seq2seq_step(model, b)
    assert metrics["greedy_exact"] == 1.0
    gold = [[4, 5, 6], [7, 4], [6, 6, 5], [5]]
    assert model.generate(b.src, b.src_lengths, 6) == gold
    assert model.generate(b.src, b.src_lengths, 6, beam_width=3) == gold


def test_teacher_forcing_equals_stepwise_decoding():
    torch.manual_seed(0)
    model = Seq2Seq(8, 8, embedding_dim=8, hidden_size=8).eval()
    b = batch()
    logits = model(b.src, b.src_lengths, b.tgt)
    state = model.encode(b.src, b.src_lengths)
    for t in range(b.tgt.size(1) - 1):
        lp, state = model.decode_step(b.tgt[:, t], state)
        assert torch.allclose(lp, torch.log_softmax(logits[:, t], -1), atol=1e-6)
    with pytest.raises(ValueError, match="tgt"):
        model(b.src, b.src_lengths, b.tgt[:, :1])
    with pytest.raises(ValueError, match="src_lengths"):
        model.encode(b.src, b.src_lengths[:2])


def test_generate_exact_match_scores_decoded_items():
    torch.manual_seed(0)
    data = AdditionExpressions("test", digits=2, train_size=10, test_size=5)
    model = Seq2Seq(len(data.vocab), len(data.vocab), embedding_dim=4, hidden_size=4)
    pred = model.generate(*_src(data), max_len=5)
    gold = [data.vocab.encode(str(a + b)) for a, b in data.pairs]
    expected = sum(p == g for p, g in zip(pred, gold)) / len(gold)
    assert generate_exact_match(model, data, batch_size=2) == pytest.approx(expected)


def _src(data):
    from graphrnn.datasets.sequences import collate_seq2seq
    batch = collate_seq2seq(list(data))
    return batch.src, batch.src_lengths
