import math

import pytest
import torch

from graphrnn.datasets.text import BOS, EOS, Vocab
from graphrnn.tasks.ngram import NGramLM, lm_batch, perplexity_from_nll, token_nll

TRAIN = [list("abcab"), list("abba"), list("cab"), list("bbc"), list("a")]
TEST = [list("acb"), list("abd"), list("b")]  # "d" is unseen


@pytest.mark.parametrize("order", [2, 3, 4])
def test_matches_nltk_kneser_ney_without_floor(order):
    from nltk.lm import KneserNeyInterpolated
    lm = NGramLM(order, discount=0.1, uniform_floor=False).fit(TRAIN)
    ref = KneserNeyInterpolated(order, discount=0.1, vocabulary=lm.model.vocab,
                                counter=lm.model.counts)
    events = [e for s in TRAIN + TEST for e in lm._events(lm._map(s))]
    assert len(events) > 20
    for ctx, w in events:
        assert lm.model.unmasked_score(w, ctx) == pytest.approx(ref.unmasked_score(w, ctx),
                                                                abs=1e-12)


def test_hand_computed_bigram():
    # corpus [["a"]]: events <bos>->a, a-><eos>; outcomes {a, <unk>, <eos>}; d = 0.75
    # unigram (continuation) level: N1+(. a) = N1+(. <eos>) = 1, total 2, 2 types:
    #   p1(a) = (1 - .75 + .75 * 2/3) / 2 = 0.375 ;  p1(<unk>) = (.75 * 2/3) / 2 = 0.25
    # bigram: p(a | <bos>) = (1 - .75)/1 + .75 * 1/1 * p1(a) = 0.53125, and p(<eos> | a) the same
    lm = NGramLM(2, discount=0.75).fit([["a"]])
    assert lm.prob("a", [BOS]) == pytest.approx(0.53125)
    assert lm.prob("zzz", [BOS]) == pytest.approx(0.75 * 0.25)  # unseen -> <unk>
    assert lm.sequence_nll(["a"]) == pytest.approx([-math.log(0.53125)] * 2)
    assert lm.perplexity([["a"]]) == pytest.approx(1 / 0.53125)


@pytest.mark.parametrize("order", [2, 3, 5])
def test_distributions_sum_to_one_and_floor(order):
    lm = NGramLM(order).fit(TRAIN)
    contexts = [(BOS,) * (order - 1), tuple("ab")[-(order - 1):], tuple("zz")[-(order - 1):]]
    for ctx in contexts:
        total = sum(lm.prob(w, ctx) for w in lm.outcomes)
        assert total == pytest.approx(1.0, abs=1e-9)
    assert math.isfinite(lm.perplexity(TEST))
    # nltk's own recursion gives the never-seen <unk> probability 0: infinite perplexity
    assert NGramLM(order, uniform_floor=False).fit(TRAIN).perplexity(TEST) == math.inf


def test_counts_the_same_tokens_as_lm_batch():
    vocab = Vocab.build(TRAIN)
    lm = NGramLM(3).fit(TRAIN, vocab)
    _, count = lm.nll(TEST)
    inputs, targets, lengths = lm_batch(TEST, vocab)
    assert count == sum(len(s) + 1 for s in TEST) == int((targets != vocab.pad_index).sum())
    assert inputs[:, 0].tolist() == [vocab.bos_index] * 3
    assert targets[0].tolist() == vocab.encode("acb") + [vocab.eos_index]
    assert targets[1].tolist() == [vocab["a"], vocab["b"], vocab.unk_index, vocab.eos_index]
    assert lengths.tolist() == [4, 4, 2]
    assert inputs[2].tolist() == [vocab.bos_index, vocab["b"], 0, 0]
    inputs_t, targets_t, _ = lm_batch(TEST, vocab, batch_first=False)
    assert torch.equal(inputs_t, inputs.t()) and torch.equal(targets_t, targets.t())


def test_rnn_with_the_ngram_distribution_gets_the_same_perplexity():
    # a "recurrent model" whose output at each step is the bigram's conditional distribution given
    # the current input must report exactly the N-gram perplexity through lm_batch + token_nll
    vocab = Vocab.build(TRAIN)
    lm = NGramLM(2).fit(TRAIN, vocab)
    inputs, targets, _ = lm_batch(TEST, vocab)
    B, T = inputs.shape
    logits = torch.full((B, T, len(vocab)), -math.inf, dtype=torch.float64)
    for b in range(B):
        for t in range(T):
            prev = vocab.lookup_token(int(inputs[b, t]))
            for w in lm.outcomes:
                logits[b, t, vocab[w]] = math.log(lm.prob(w, [prev]))
    nll = token_nll(logits, targets, vocab.pad_index)
    assert nll.shape == (B, T) and float(nll[2, 2:].abs().sum()) == 0.0
    rnn_ppl = perplexity_from_nll(nll.sum(), (targets != vocab.pad_index).sum())
    assert rnn_ppl == pytest.approx(lm.perplexity(TEST), rel=1e-9)
    # and a genuinely different model gives a different number
    assert perplexity_from_nll(token_nll(torch.zeros_like(logits), targets).sum(), 11) != \
        pytest.approx(rnn_ppl)


def test_errors():
    with pytest.raises(ValueError, match="order"):
        NGramLM(1)
    with pytest.raises(RuntimeError, match="fit"):
        NGramLM(2).perplexity(TEST)
    lm = NGramLM(2).fit(TRAIN)
    with pytest.raises(TypeError, match="str"):
        lm.perplexity(["abc"])
    with pytest.raises(ValueError, match=EOS):
        lm.perplexity([["a", EOS]])
    with pytest.raises(ValueError, match="logits"):
        token_nll(torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))


def test_scoring_reads_tables_instead_of_scanning():
    # nltk's own KneserNey scans every higher-order n-gram for each probability: measured ~6 ms per
    # token on this corpus (~59k distinct 4-grams), ~25 s for these 4,000 tokens. The table lookups
    # take a few hundredths of a second; 5 s leaves room for a loaded machine.
    import random
    import time
    rng = random.Random(0)
    words = [f"w{i}" for i in range(60)]
    train = [[rng.choice(words) for _ in range(20)] for _ in range(3000)]
    test = [[rng.choice(words) for _ in range(19)] for _ in range(200)]
    lm = NGramLM(4).fit(train)
    start = time.perf_counter()
    total, count = lm.nll(test)
    elapsed = time.perf_counter() - start
    assert count == 4000 and math.isfinite(total)
    assert elapsed < 5.0
