import pytest
import torch

from graphrnn.datasets.sequences import AdditionExpressions, Seq2SeqBatch
from graphrnn.models.seq2seq import Seq2Seq, decode, generate_exact_match, seq2seq_step
from graphrnn.tasks.decoding import beam_search

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


def _overfit(model, b, steps, **step_kwargs):
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss, _ = seq2seq_step(model, b, **step_kwargs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("cell, score", [("gru", "dot"), ("lstm", "none"), ("gru", "general")])
def test_cells_and_scores_overfit_a_handful_of_pairs(cell, score):
    torch.manual_seed(0)
    model = _overfit(Seq2Seq(8, 8, embedding_dim=16, hidden_size=32, score=score, cell=cell),
                     batch(), 200, label_smoothing=0.1)
    gold = [[4, 5, 6], [7, 4], [6, 6, 5], [5]]
    assert model.generate(batch().src, batch().src_lengths, 6) == gold
    assert f"cell={cell!r}" in repr(model) and f"score={score!r}" in repr(model)


@pytest.mark.parametrize("score", ["none", "dot", "general", "additive"])
def test_attention_weights_sum_to_one_over_the_real_source(score):
    torch.manual_seed(0)
    model = Seq2Seq(8, 8, embedding_dim=8, hidden_size=8, score=score).eval()
    b = batch()
    w = model.attention_weights(b.src, b.src_lengths, b.tgt)
    assert w.shape == (4, 4, 1 if score == "none" else 3)
    assert torch.allclose(w.sum(-1), torch.ones(4, 4), atol=1e-6)
    if score != "none":
        assert (w[1, :, 2] == 0).all() and (w[3, :, 1:] == 0).all()  # padding gets no weight


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_beam_of_one_equals_greedy_and_decode_matches_forward(cell):
    torch.manual_seed(1)
    model = Seq2Seq(9, 9, embedding_dim=8, hidden_size=8, cell=cell).eval()
    src = torch.randint(4, 9, (5, 4))
    lengths = torch.tensor([4, 3, 2, 4, 1])
    greedy = model.generate(src, lengths, 7)
    assert model.generate(src, lengths, 7, beam_width=1) == greedy
    assert decode(model, src, lengths, 7, beam_width=1) == greedy
    seqs, _ = beam_search(model.decode_step, model.encode(src, lengths), 5, BOS, EOS, 7, 1)
    assert seqs == greedy


def test_label_smoothing_is_the_smoothed_cross_entropy():
    torch.manual_seed(0)
    model = Seq2Seq(8, 8, embedding_dim=8, hidden_size=8).eval()
    b = batch()
    logits = model(b.src, b.src_lengths, b.tgt)
    gold = b.tgt[:, 1:]
    logp = torch.log_softmax(logits, -1)
    mask = gold != 0
    nll = -logp.gather(-1, gold.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    smooth = -logp.mean(-1)  # eps spread uniformly over the V classes
    eps = 0.2
    expected = (((1 - eps) * nll + eps * smooth) * mask).sum() / mask.sum()
    loss, metrics = seq2seq_step(model, b, label_smoothing=eps, greedy=False)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert metrics["nll"].item() == pytest.approx(((nll * mask).sum() / mask.sum()).item(),
                                                  rel=1e-5)
    assert "greedy_exact" not in metrics
    with pytest.raises(ValueError, match="cell"):
        Seq2Seq(8, 8, cell="rnn")
    with pytest.raises(ValueError, match="score"):
        Seq2Seq(8, 8, score="cosine")
