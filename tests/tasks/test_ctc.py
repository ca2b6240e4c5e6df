import itertools
import math

import pytest
import torch

from graphrnn.tasks.ctc import CTCHead, ctc_beam_search, ctc_greedy_decode


def _frames(rows):
    """(T, 1, C) log-probabilities from rows of probabilities."""
    return torch.tensor(rows, dtype=torch.float64).log().unsqueeze(1)


def _collapse(path, blank=0):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return tuple(out)


def _brute_force(lp):
    """{labelling: log p} by summing every frame path of a (T, C) tensor."""
    T, C = lp.shape
    probs = {}
    for path in itertools.product(range(C), repeat=T):
        p = math.exp(sum(float(lp[t, c]) for t, c in enumerate(path)))
        key = _collapse(path)
        probs[key] = probs.get(key, 0.0) + p
    return {k: math.log(v) for k, v in probs.items()}


def test_greedy_on_hand_made_alignment():
    # best path  a a - a b b -  ->  a a b   (blank = 0, a = 1, b = 2)
    path = [1, 1, 0, 1, 2, 2, 0]
    lp = torch.full((7, 2, 3), -5.0)
    for t, c in enumerate(path):
        lp[t, 0, c] = 0.0
        lp[t, 1, [2, 2, 2, 0, 0, 1, 1][t]] = 0.0
    assert ctc_greedy_decode(lp) == [[1, 1, 2], [2, 1]]
    assert ctc_greedy_decode(lp, input_lengths=torch.tensor([3, 4])) == [[1], [2]]
    assert ctc_greedy_decode(lp[:, 0]) == [[1, 1, 2]]  # (T, C) works too


def test_beam_finds_what_greedy_misses():
    # two frames, p(blank) = 0.6, p(a) = 0.4 each: the best path is "- -" (0.36) -> "", but
    # "a" has three paths a a, a -, - a: 0.16 + 0.24 + 0.24 = 0.64
    lp = _frames([[0.6, 0.4], [0.6, 0.4]])
    assert ctc_greedy_decode(lp) == [[]]
    labels, scores = ctc_beam_search(lp, beam_width=4, return_scores=True)
    assert labels == [[1]] and scores[0] == pytest.approx(math.log(0.64))


def test_beam_search_is_exact_with_a_wide_beam():
    torch.manual_seed(0)
    lp = torch.randn(5, 2, 3, dtype=torch.float64).log_softmax(-1)
    labels, scores = ctc_beam_search(lp, beam_width=100, top_paths=3, return_scores=True)
    for b in range(2):
        exact = sorted(_brute_force(lp[:, b]).items(), key=lambda kv: -kv[1])[:3]
        assert [tuple(l) for l in labels[b]] == [k for k, _ in exact]
        assert scores[b] == pytest.approx([v for _, v in exact])


def test_beam_search_respects_lengths_and_prune():
    lp = _frames([[0.1, 0.9, 0.0001], [0.1, 0.0001, 0.9], [0.9, 0.05, 0.05]])
    lp = lp.expand(3, 2, 3).clone()
    assert ctc_beam_search(lp, input_lengths=[3, 1]) == [[1, 2], [1]]
    assert ctc_beam_search(lp, prune=math.log(0.05)) == [[1, 2], [1, 2]]
    with pytest.raises(ValueError, match="input_lengths"):
        ctc_beam_search(lp, input_lengths=[4, 1])
    with pytest.raises(ValueError, match="blank"):
        ctc_greedy_decode(lp, blank=3)


def test_repeated_labels_need_a_blank():
    # "a a" has no path of length 2 without a blank between: only "a" is possible in 2 frames
    lp = _frames([[0.01, 0.99], [0.01, 0.99]])
    assert ctc_beam_search(lp, beam_width=10, top_paths=2)[0][0] == [1]
    lp3 = _frames([[0.01, 0.99], [0.98, 0.02], [0.01, 0.99]])
    assert ctc_beam_search(lp3) == [[1, 1]]


def test_head_shapes_loss_and_decode():
    torch.manual_seed(0)
    head = CTCHead(4, 3, blank=0)
    x = torch.randn(6, 2, 4)
    lp = head(x)
    assert lp.shape == (6, 2, 3)
    assert torch.allclose(lp.exp().sum(-1), torch.ones(6, 2))
    targets = torch.tensor([[1, 2], [2, 0]])
    loss = head.loss(lp, targets, torch.tensor([6, 5]), torch.tensor([2, 1]))
    loss.backward()
    assert head.proj.weight.grad is not None and torch.isfinite(loss)
    assert len(head.decode(lp)) == 2 and len(head.decode(lp, beam_width=4)) == 2
    with pytest.raises(ValueError, match="size 4"):
        head(torch.randn(6, 2, 5))
    assert "num_classes=3" in repr(head)


def test_loss_is_minus_log_of_summed_path_probability():
    torch.manual_seed(1)
    lp = torch.randn(4, 1, 3, dtype=torch.float64).log_softmax(-1)
    head = CTCHead(2, 3, reduction="sum")
    exact = _brute_force(lp[:, 0])
    loss = head.loss(lp, torch.tensor([[1, 2]]), torch.tensor([4]), torch.tensor([2]))
    assert float(loss) == pytest.approx(-exact[(1, 2)], rel=1e-9)
