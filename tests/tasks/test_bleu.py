"""Corpus BLEU through sacrebleu, checked against hand computations."""
import math

import pytest

pytest.importorskip("sacrebleu")

from graphrnn.tasks.bleu import bleu_1_to_4, corpus_bleu  # noqa: E402


def test_identical_corpus_scores_one():
    score = corpus_bleu(["the cat sat on the mat"], [["the cat sat on the mat"]])
    assert score.score == pytest.approx(1.0)
    assert score.precisions == pytest.approx([1.0] * 4)
    assert "tok:13a" in score.sacrebleu_signature


def test_clipped_precisions_and_brevity_penalty_by_hand():
    # unigrams: the x2 (ref has 2), cat x2 (ref has 1) -> 3/4; bigrams: "the cat" x2 (ref 1),
    # "cat the" (ref 0) -> 1/3; c = 4, r = 6 -> BP = exp(1 - 6/4)
    score = corpus_bleu(["the cat the cat"], [["the cat sat on the mat"]], max_order=2)
    assert score.precisions == pytest.approx([3 / 4, 1 / 3])
    assert score.brevity_penalty == pytest.approx(math.exp(-0.5))
    assert score.score == pytest.approx(math.exp(-0.5) * math.sqrt(3 / 4 * 1 / 3))


def test_any_number_of_references_closest_length_counts():
    # r takes the reference closest in length to each hypothesis: 4 (not 1) and 3: BP exp(1-7/6)
    scores = bleu_1_to_4(["a b c d", "e f"], [["a b c d", "x"], ["e f g"]], tokenize="none")
    for n in range(1, 5):
        assert scores[f"bleu{n}"] == pytest.approx(math.exp(1 - 7 / 6))


def test_chinese_tokenizer_splits_characters():
    # with "zh" each CJK character is a token: 3 of 4 characters right, no bigram of 4 wrong
    score = corpus_bleu(["我爱你们"], [["我爱你的"]], max_order=1, tokenize="zh")
    assert score.score == pytest.approx(3 / 4)


def test_bad_references_are_named():
    with pytest.raises(ValueError, match="2 hypotheses but 1"):
        corpus_bleu(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match=r"references\[0\]"):
        corpus_bleu(["a"], ["a"])
