import math
from collections import Counter

import numpy as np
import pytest
import torch

from graphrnn.datasets.text import BOS, EOS, UNK, Vocab
from graphrnn.tasks.ngram import (
    NGramLM,
    lm_batch,
    mkn_discounts,
    perplexity_from_nll,
    select_ngram,
    token_nll,
)

TRAIN = [list("abcab"), list("abba"), list("cab"), list("bbc"), list("a")]
TEST = [list("acb"), list("abd"), list("b")]  # "d" is unseen


def _events(seq, order, known):
    """(context, word) of each of the len + 1 predictions, unknown tokens as <unk>."""
    padded = [BOS] * (order - 1) + [t if t in known else UNK for t in seq] + [EOS]
    return [(tuple(padded[t - order + 1:t]), padded[t]) for t in range(order - 1, len(padded))]


@pytest.mark.parametrize("order", [2, 3, 4])
def test_kn_matches_nltk_without_floor(order):
    from nltk.lm import KneserNeyInterpolated, Vocabulary
    lm = NGramLM(order, discount=0.1, uniform_floor=False).fit(TRAIN)
    known = set("abc")
    ref = KneserNeyInterpolated(order, discount=0.1,
                                vocabulary=Vocabulary(unk_label=UNK, unk_cutoff=1))
    ref.vocab.update(lm.outcomes + [BOS])
    ref.counts.update([ctx[len(ctx) - k:] + (w,) for ctx, w in _events(s, order, known)
                       for k in range(order)] for s in TRAIN)
    events = [e for s in TRAIN + TEST for e in _events(s, order, known)]
    assert len(events) > 20
    for ctx, w in events:
        assert lm.prob(w, ctx) == pytest.approx(ref.unmasked_score(w, ctx), abs=1e-12)
    # nltk's own recursion gives the never-seen <unk> probability 0: infinite perplexity
    assert lm.prob(UNK, ctx) == 0 and lm.perplexity(TEST) == math.inf


def _reference(train, order, smoothing, discount, outcomes):
    """The formulas of the module notes, one dict per order, written for clarity not speed."""
    counts = Counter()
    for s in train:
        padded = [BOS] * (order - 1) + s + [EOS]
        for t in range(order - 1, len(padded)):
            counts[tuple(padded[t - order + 1:t + 1])] += 1
    a = {order: counts}
    for k in range(order - 1, 0, -1):  # continuation: distinct (k+1)-grams ending in the k-gram
        a[k] = Counter(g[1:] for g in a[k + 1])
    disc = {}
    for k in range(1, order + 1):
        if smoothing == "kn":
            disc[k] = (discount,) * 3
            continue
        n1, n2, n3, n4 = (sum(v == j for v in a[k].values()) for j in (1, 2, 3, 4))
        if min(n1, n2, n3) == 0:
            disc[k] = (0.5, 1.0, 1.5)
        else:
            y = n1 / (n1 + 2 * n2)
            disc[k] = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, min(3 - 4 * y * n4 / n3, 3))

    def prob(w, ctx):
        p = 1 / len(outcomes)
        for k in range(1, order + 1):
            c = ctx[len(ctx) - (k - 1):] if k > 1 else ()
            seen = {g[-1]: v for g, v in a[k].items() if g[:-1] == c}
            if not seen:
                continue
            D = disc[k]
            gamma = sum(D[min(v, 3) - 1] for v in seen.values())
            v = seen.get(w, 0)
            p = (max(v - (D[min(v, 3) - 1] if v else 0), 0) + gamma * p) / sum(seen.values())
        return p
    return prob, disc


@pytest.mark.parametrize("smoothing,discount", [("kn", 0.75), ("kn", 0.3), ("mkn", None)])
@pytest.mark.parametrize("order", [2, 3, 4, 5])
def test_matches_the_written_out_formulas(order, smoothing, discount):
    import random
    rng = random.Random(0)  # 215 tokens; mkn discounts estimated at orders 2-5 (some fall back)
    train = [[rng.choice("aabbbcde") for _ in range(rng.randint(0, 8))] for _ in range(60)]
    test = TEST + [list("azbq"), []]
    kw = {} if discount is None else {"discount": discount}
    lm = NGramLM(order, smoothing=smoothing, **kw).fit(train)
    prob, disc = _reference(train, order, smoothing, discount, lm.outcomes)
    assert lm.discounts == pytest.approx(np.array([disc[k] for k in range(1, order + 1)]))
    if smoothing == "mkn":
        assert lm.discounts[1].tolist() != [0.5, 1.0, 1.5]
    events = [e for s in train + test for e in _events(s, order, set("abcde"))]
    expected = [prob(w, ctx) for ctx, w in events]
    got = [p for s in train + test for p in np.exp(-np.array(lm.sequence_nll(s)))]
    assert got == pytest.approx(expected, rel=1e-12)
    total, count = lm.nll(train + test)
    assert total == pytest.approx(-sum(map(math.log, expected)), rel=1e-12)
    assert count == len(events) == sum(len(s) + 1 for s in train + test)


def test_mkn_discounts_formula():
    # n = (10, 4, 2, 1): Y = 10/18 = 5/9; D1 = 1 - 2(5/9)(4/10) = 5/9; D2 = 2 - 3(5/9)(2/4) = 7/6;
    # D3+ = 3 - 4(5/9)(1/2) = 17/9
    assert mkn_discounts((10, 4, 2, 1)) == pytest.approx((5 / 9, 7 / 6, 17 / 9))
    assert mkn_discounts((3, 0, 1, 1)) == (0.5, 1.0, 1.5)  # n2 = 0: undefined, KenLM's fallback
    assert mkn_discounts((1, 1, 1, 9)) == pytest.approx((1 / 3, 1.0, 0.0))  # 3 - 4/3 * 9 < 0


def test_hand_computed_modified_kneser_ney_bigram():
    # corpus: 3 x "a b", 2 x "b", 1 x "a"; outcomes a, b, <unk>, <eos> (V = 4)
    # bigram counts: (<bos> a) 4, (a b) 3, (b <eos>) 5, (<bos> b) 2, (a <eos>) 1
    #   n1..n4 = 1, 1, 1, 1: Y = 1/3, D1 = 1 - 2/3 = 1/3, D2 = 2 - 1 = 1, D3+ = 3 - 4/3 = 5/3
    # continuation counts: a {<bos>} 1, b {<bos>, a} 2, <eos> {a, b} 2, total 5;
    #   n1, n2, n3 = 1, 2, 0: undefined, fallback D = 0.5, 1, 1.5; gamma = .5*1 + 1*2 = 2.5
    #   p1(a) = (1 - .5 + 2.5/4)/5 = .225, p1(b) = p1(<eos>) = (2 - 1 + 2.5/4)/5 = .325,
    #   p1(<unk>) = (2.5/4)/5 = .125                                          (sum 1)
    # context a: total 4, N1 = 1 (<eos>), N3+ = 1 (b): gamma = 1/3 + 5/3 = 2
    #   p(b|a) = (3 - 5/3 + 2 * .325)/4 = 0.4958333.., p(<eos>|a) = (1 - 1/3 + 2 * .325)/4
    #   p(a|a) = 2 * .225/4 = .1125
    # context <bos>: total 6, N2 = 1, N3+ = 1: gamma = 1 + 5/3 = 8/3
    #   p(a|<bos>) = (4 - 5/3 + 8/3 * .225)/6 = 0.4888..
    # context b: total 5, N3+ = 1: p(<eos>|b) = (5 - 5/3 + 5/3 * .325)/5 = .775
    corpus = [["a", "b"]] * 3 + [["b"]] * 2 + [["a"]]
    lm = NGramLM(2, smoothing="mkn").fit(corpus)
    assert lm.discounts == pytest.approx(np.array([[0.5, 1.0, 1.5], [1 / 3, 1.0, 5 / 3]]))
    assert lm.distribution(["a"]).tolist() == pytest.approx(
        [0.1125, (3 - 5 / 3 + 0.65) / 4, 2 * 0.125 / 4, (1 - 1 / 3 + 0.65) / 4])  # a b <unk> <eos>
    assert lm.prob("zzz", [BOS]) == pytest.approx(8 / 3 * 0.125 / 6)
    p_a, p_b, p_eos = (4 - 5 / 3 + 8 / 3 * 0.225) / 6, (3 - 5 / 3 + 0.65) / 4, 0.775
    assert lm.sequence_nll(["a", "b"]) == pytest.approx([-math.log(p) for p in (p_a, p_b, p_eos)])
    assert lm.prob("a", []) == pytest.approx(p_a)  # a short context is a sequence start


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


@pytest.mark.parametrize("smoothing", ["kn", "mkn"])
@pytest.mark.parametrize("order", [2, 3, 5])
def test_distributions_sum_to_one_and_floor(order, smoothing):
    train = TRAIN * 2 + [list("abcabcab"), list("ccc")]
    vocab = Vocab.build(train + [list("xy")])  # x, y: in the vocabulary, never in training
    lm = NGramLM(order, smoothing=smoothing).fit(train, vocab)
    assert lm.outcomes == vocab.to_list()[4:] + [UNK, EOS]
    contexts = [(), (BOS,) * (order - 1), tuple("ab"), tuple("zz"), tuple("cx"), (EOS, "a")]
    for ctx in contexts:
        dist = lm.distribution(ctx)
        assert dist.sum() == pytest.approx(1.0, abs=1e-12) and dist.min() > 0
        assert sum(lm.prob(w, ctx) for w in lm.outcomes) == pytest.approx(1.0, abs=1e-12)
    assert math.isfinite(lm.perplexity(TEST))
    assert NGramLM(order, uniform_floor=False, smoothing=smoothing).fit(train).perplexity(TEST) \
        == math.inf


def test_select_ngram_and_with_discount():
    import random
    rng = random.Random(1)
    words = [f"w{i}" for i in range(30)]
    # a second-order Markov chain: a trigram should win over a bigram
    table = {(a, b): rng.sample(words, 3) for a in words for b in words}

    def sentence():
        s = rng.sample(words, 2)
        while len(s) < 12:
            s.append(rng.choice(table[s[-2], s[-1]]))
        return s
    train, valid = [sentence() for _ in range(600)], [sentence() for _ in range(60)]
    best, rows = select_ngram(train, valid, orders=(2, 3), smoothing="both",
                              discounts=(0.5, 0.9))
    assert [(r["order"], r["smoothing"], r["discount"]) for r in rows] == [
        (2, "kn", 0.5), (2, "kn", 0.9), (2, "mkn", None),
        (3, "kn", 0.5), (3, "kn", 0.9), (3, "mkn", None)]
    ppl = {(r["order"], r["smoothing"], r["discount"]): r["valid_ppl"] for r in rows}
    assert best.perplexity(valid) == pytest.approx(min(ppl.values()), rel=1e-12)
    assert best.order == 3 and ppl[3, "kn", 0.9] < ppl[2, "kn", 0.9]
    kn = NGramLM(3, discount=0.9).fit(train)
    assert kn.perplexity(valid) == pytest.approx(ppl[3, "kn", 0.9], rel=1e-12)
    other = kn.with_discount(0.5)
    assert other.perplexity(valid) == pytest.approx(ppl[3, "kn", 0.5], rel=1e-12)
    assert kn.discount == 0.9 and kn.perplexity(valid) != other.perplexity(valid)
    with pytest.raises(ValueError, match="smoothing"):
        select_ngram(train, valid, smoothing="witten-bell")


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
    with pytest.raises(ValueError, match="smoothing"):
        NGramLM(3, smoothing="mod")
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
