import itertools

import pytest
import torch

from graphrnn.nn.crf import CRF


def _score(crf, em, tags):
    """s(y) for one sequence, straight from the definition. em: (n, K)."""
    s = crf.start_transitions[tags[0]] + em[0, tags[0]]
    for t in range(1, len(tags)):
        s = s + crf.transitions[tags[t - 1], tags[t]] + em[t, tags[t]]
    return s + crf.end_transitions[tags[-1]]


def _setup(K=3, T=4, B=3, seed=0):
    torch.manual_seed(seed)
    crf = CRF(K).double()
    for p in crf.parameters():
        torch.nn.init.normal_(p)
    em = torch.randn(T, B, K, dtype=torch.float64)
    lengths = [T, 2, 1][:B]
    mask = torch.tensor([[t < n for n in lengths] for t in range(T)])
    tags = torch.randint(K, (T, B))
    return crf, em, tags, mask, lengths


@torch.no_grad()
def test_nll_equals_brute_force():
    crf, em, tags, mask, lengths = _setup()
    nll = crf.nll(em, tags, mask, reduction="none")
    K = crf.num_tags
    for b, n in enumerate(lengths):
        scores = torch.stack([_score(crf, em[:n, b], y)
                              for y in itertools.product(range(K), repeat=n)])
        expected = torch.logsumexp(scores, 0) - _score(crf, em[:n, b], tags[:n, b].tolist())
        assert float(nll[b]) == pytest.approx(float(expected), abs=1e-10)
    assert float(crf.nll(em, tags, mask)) == pytest.approx(float(nll.mean()))
    assert float(crf.nll(em, tags, mask, "sum")) == pytest.approx(float(nll.sum()))
    assert float(crf.nll(em, tags, mask, "token_mean")) == pytest.approx(float(nll.sum()) / 7)


def test_padding_does_not_change_the_result():
    crf, em, tags, mask, lengths = _setup()
    em2, tags2 = em.clone(), tags.clone()
    em2[~mask] = 1e3   # garbage where masked
    tags2[~mask] = 0
    assert torch.allclose(crf.nll(em, tags, mask, "none"), crf.nll(em2, tags2, mask, "none"))
    assert crf.decode(em, mask) == crf.decode(em2, mask)


@torch.no_grad()
def test_viterbi_equals_brute_force_argmax():
    for seed in range(5):
        crf, em, _, mask, lengths = _setup(seed=seed)
        paths, scores = crf.decode(em, mask, return_scores=True)
        for b, n in enumerate(lengths):
            best = max(itertools.product(range(crf.num_tags), repeat=n),
                       key=lambda y: float(_score(crf, em[:n, b], y)))
            assert paths[b] == list(best)
            assert float(scores[b]) == pytest.approx(float(_score(crf, em[:n, b], best)))


def test_batch_first_matches():
    crf, em, tags, mask, _ = _setup()
    bf = CRF(crf.num_tags, batch_first=True).double()
    bf.load_state_dict(crf.state_dict())
    assert torch.allclose(bf.nll(em.transpose(0, 1), tags.t(), mask.t(), "none"),
                          crf.nll(em, tags, mask, "none"))
    assert bf.decode(em.transpose(0, 1), mask.t()) == crf.decode(em, mask)
    assert "batch_first=True" in repr(bf)


def test_gradcheck():
    crf, em, tags, mask, _ = _setup(K=3, T=3, B=2)
    names = ("transitions", "start_transitions", "end_transitions")
    inputs = (em.clone().requires_grad_(),
              *[getattr(crf, n).detach().clone().requires_grad_() for n in names])

    def nll(e, *params):  # the CRF's NLL as a function of emissions and parameters
        return torch.func.functional_call(crf, dict(zip(names, params)), (e, tags, mask),
                                          {"reduction": "none"})
    assert torch.autograd.gradcheck(nll, inputs)
    # the gradient of log Z w.r.t. the emissions is the tag marginals: rows sum to 1
    e = em.detach().requires_grad_()
    crf.log_partition(e, mask).sum().backward()
    assert torch.allclose(e.grad.sum(-1), mask.double())


def test_input_errors():
    crf = CRF(3)
    with pytest.raises(ValueError, match=r"emissions must be \(T, B, 3\)"):
        crf.nll(torch.randn(4, 2, 5), torch.zeros(4, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="tags must be"):
        crf.nll(torch.randn(4, 2, 3), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="first step"):
        crf.decode(torch.randn(2, 1, 3), torch.tensor([[False], [True]]))
    with pytest.raises(ValueError, match="prefix"):
        crf.decode(torch.randn(3, 1, 3), torch.tensor([[True], [False], [True]]))
    with pytest.raises(ValueError, match="reduction"):
        crf.nll(torch.randn(2, 1, 3), torch.zeros(2, 1, dtype=torch.long), reduction="avg")
