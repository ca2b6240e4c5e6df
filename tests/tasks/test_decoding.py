"""Greedy and beam search over a step function, checked against brute force."""
import itertools
import math

import pytest
import torch

from graphrnn.tasks.decoding import beam_search, gnmt_length_penalty, greedy_search, strip_eos
from graphrnn.tasks.metrics import sequence_exact_match

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


def test_length_penalty_prefers_longer_hypotheses_as_alpha_grows():
    assert gnmt_length_penalty(torch.tensor([1.0]), 0.0).item() == 1.0
    assert gnmt_length_penalty(torch.tensor([7.0]), 1.0).item() == pytest.approx(2.0)
    step = markov_step(TABLE)
    # dividing by lp(|y|) > 1 shrinks long hypotheses' (negative) scores more: never shorter
    short, _ = beam_search(step, (), 1, BOS, EOS, 4, beam_width=5, length_penalty=0.0)
    long, _ = beam_search(step, (), 1, BOS, EOS, 4, beam_width=5, length_penalty=3.0)
    assert len(long[0]) >= len(short[0])
