import itertools
import math

import pytest
import torch

from graphrnn.tasks.seq2seq import (Attention, Seq2Seq, Seq2SeqBatch, beam_search, greedy_search,
                                    seq2seq_step, sequence_exact_match, strip_eos)

torch.set_num_threads(1)
BOS, EOS = 2, 3


def markov_step(table):
    """A hand-made 'decoder': next-token log-probs depend only on the previous token."""
    lp = torch.tensor(table, dtype=torch.float64).log()

    def step(prev, state):
        return lp[prev], state
    return step


# tokens 0..4 (2 = bos, 3 = eos). From bos: token 0 (p .5) or 1 (p .4). After 0 the model is
# unsure (eos .3, else spread); after 1, eos is almost certain. Greedy takes 0 then eos
# (.5 * .3 = .15); the best sequence is 1 eos (.4 * .9 = .36).
TABLE = [
    [0.2, 0.2, 0.05, 0.3, 0.25],   # after 0
    [0.02, 0.02, 0.02, 0.9, 0.04],  # after 1
    [0.5, 0.4, 0.0, 0.05, 0.05],   # after bos
    [0.0, 0.0, 0.0, 1.0, 0.0],     # after eos (unused: finished beams are frozen)
    [0.1, 0.1, 0.1, 0.6, 0.1],     # after 4
]


def brute_force(table, max_len):
    lp = torch.tensor(table, dtype=torch.float64).log()
    best, best_score = None, -math.inf
    for n in range(1, max_len + 1):
        for seq in itertools.product(range(5), repeat=n):
            if seq[-1] != EOS or EOS in seq[:-1] or BOS in seq:
                continue
            prev, score = BOS, 0.0
            for tok in seq:
                score += float(lp[prev, tok])
                prev = tok
            if score > best_score:
                best, best_score = list(seq[:-1]), score
    return best, best_score


def test_greedy_and_beam_on_a_hand_made_model():
    step = markov_step(TABLE)
    greedy = greedy_search(step, (), 1, BOS, EOS, 4)
    assert greedy.tolist() == [[0, 3]]
    seqs, scores = beam_search(step, (), 2, BOS, EOS, 4, beam_width=5)
    best, best_score = brute_force(TABLE, 4)
    assert seqs == [best, best] == [[1], [1]]
    assert scores[0].item() == pytest.approx(best_score) == pytest.approx(math.log(0.36))
    seqs1, _ = beam_search(step, (), 1, BOS, EOS, 4, beam_width=1)
    assert seqs1 == [strip_eos(greedy[0], EOS)]
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(step, (), 1, BOS, EOS, 4, beam_width=0)


def test_strip_eos_and_exact_match():
    assert strip_eos([5, 6, 3, 7], 3) == [5, 6] and strip_eos(torch.tensor([5]), 3) == [5]
    assert sequence_exact_match([[1, 2], [3]], [[1, 2], [3, 4]]) == 0.5


def test_attention_ignores_padding():
    att = Attention(4, 6, "additive")
    memory = torch.randn(2, 5, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    query = torch.randn(2, 4)
    ctx, w = att(query, att.keys(memory), memory, mask)
    assert w[0, 3:].abs().max() == 0 and torch.allclose(w.sum(1), torch.ones(2))
    memory2 = memory.clone()
    memory2[0, 3:] = 100.0  # padding content does not matter
    ctx2, _ = att(query, att.keys(memory2), memory2, mask)
    assert torch.allclose(ctx[0], ctx2[0], atol=1e-6)
    with pytest.raises(ValueError, match="score"):
        Attention(4, 6, "dot")


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
