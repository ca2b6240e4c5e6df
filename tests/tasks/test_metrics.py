import math
import os

import pytest
import torch

from graphrnn.io import shared_data
from graphrnn.tasks.conlleval import conlleval, get_chunks, read_conlleval_file, split_tag
from graphrnn.tasks.metrics import accuracy, exact_match

# word, gold, predicted; the comments say what each line tests
HAND_FILE = """\
He PRP B-NP B-NP
reckons VBZ B-VP B-VP
the DT B-NP B-NP
current JJ I-NP I-NP
account NN I-NP B-NP
deficit NN I-NP I-NP
will MD B-VP B-VP
narrow VB I-VP I-VP
to TO B-PP B-PP
only RB B-NP O

Rockwell NNP B-NP I-NP
said VBD B-VP B-VP
the DT B-NP B-NP
agreement NN I-NP I-VP
calls VBZ B-VP B-VP
"""
# Hand count.  Gold chunks: NP He | VP reckons | NP the current account deficit | VP will narrow |
# PP to | NP only || NP Rockwell | VP said | NP the agreement | VP calls  -> 10 (NP 5 VP 4 PP 1)
# Predicted: NP He | VP reckons | NP the current | NP account deficit | VP will narrow | PP to ||
# NP Rockwell (I- after the sentence break starts a chunk) | VP said | NP the |
# VP agreement (type change starts a chunk) | VP calls                    -> 11 (NP 5 VP 5 PP 1)
# Correct: He, reckons, will narrow, to, Rockwell, said, calls            -> 7 (NP 2 VP 4 PP 1)
# Tags equal on 11 of 15 tokens (not: account, only, Rockwell, agreement).


def test_conlleval_on_hand_made_file(tmp_path):
    f = tmp_path / "output.txt"
    f.write_text(HAND_FILE)
    gold, pred = read_conlleval_file(f)
    assert len(gold) == 2 and len(gold[0]) == 10
    s = conlleval(gold, pred)
    assert (s.tokens, s.correct_tags) == (15, 11)
    assert (s.found_correct, s.found_guessed, s.correct_chunks) == (10, 11, 7)
    assert s.precision == pytest.approx(7 / 11) and s.recall == pytest.approx(7 / 10)
    assert s.f1 == pytest.approx(2 * 7 / (10 + 11)) and s.accuracy == pytest.approx(11 / 15)
    assert s.per_type == {"NP": (5, 5, 2), "VP": (4, 5, 4), "PP": (1, 1, 1)}
    assert s.type_scores()["VP"] == pytest.approx((4 / 5, 1.0, 2 * 0.8 / 1.8))
    report = s.report()
    assert "processed 15 tokens with 10 phrases; found: 11 phrases; correct: 7." in report
    assert "accuracy:  73.33%; precision:  63.64%; recall:  70.00%; FB1:  66.67" in report


def test_read_conlleval_file_errors(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("a NN B-NP B-NP\nb NN B-NP\n")
    with pytest.raises(ValueError, match="bad.txt:2"):
        read_conlleval_file(f)


def test_split_tag():
    assert split_tag("B-NP") == ("B", "NP")
    assert split_tag("O") == ("O", "")
    assert split_tag("I-ADVP-TMP") == ("I", "ADVP-TMP")


@pytest.mark.parametrize("tags,chunks", [
    # IOB2
    (["B-NP", "I-NP", "B-NP", "O", "B-VP"], [("NP", 0, 2), ("NP", 2, 3), ("VP", 4, 5)]),
    # IOB1: I after O starts a chunk, B only between two chunks of one type
    (["I-NP", "I-NP", "B-NP", "O", "I-VP"], [("NP", 0, 2), ("NP", 2, 3), ("VP", 4, 5)]),
    # a type change inside I- tags ends one chunk and starts another
    (["I-NP", "I-VP", "I-VP"], [("NP", 0, 1), ("VP", 1, 3)]),
    # IOBES: every S is a chunk, E closes one
    (["S-NP", "S-NP", "B-VP", "E-VP", "O", "B-NP", "I-NP", "E-NP"],
     [("NP", 0, 1), ("NP", 1, 2), ("VP", 2, 4), ("NP", 5, 8)]),
    # IOE1: E ends a chunk when the next of the same type follows
    (["I-NP", "E-NP", "I-NP", "O"], [("NP", 0, 2), ("NP", 2, 3)]),
    ([], []),
])
def test_get_chunks(tags, chunks):
    assert get_chunks(tags) == chunks


def test_iobes_perfect_prediction_counts_every_chunk():
    gold = [["S-NP", "S-NP", "B-VP", "E-VP"], ["B-NP", "E-NP", "S-PP"]]
    s = conlleval(gold, gold)
    assert (s.found_correct, s.found_guessed, s.correct_chunks) == (5, 5, 5)
    assert s.f1 == 1.0
    # merging two S chunks into one B-E chunk is a boundary error, not a match
    s2 = conlleval(gold, [["B-NP", "E-NP", "B-VP", "E-VP"], gold[1]])
    assert (s2.found_correct, s2.found_guessed, s2.correct_chunks) == (5, 4, 3)


def test_conlleval_shape_errors():
    with pytest.raises(ValueError, match="sentence 0"):
        conlleval([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="gold sentences"):
        conlleval([["O"]], [])


def test_accuracy_and_exact_match():
    pred = torch.tensor([[1, 2, 3, 0], [1, 2, 2, 0]])
    target = torch.tensor([[1, 2, 3, 0], [1, 2, 3, 9]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 0]], dtype=torch.bool)
    assert accuracy(pred, target) == pytest.approx(6 / 8)
    assert accuracy(pred, target, mask) == pytest.approx(5 / 6)
    assert exact_match(pred, target) == 0.5
    assert exact_match(pred, target, mask) == 0.5
    assert exact_match(pred[:1], target[:1]) == 1.0
    with pytest.raises(ValueError, match="shape"):
        accuracy(pred, target[:, :3])


CONLL = str(shared_data("tagging", "conll2000"))


@pytest.mark.skipif(not os.path.exists(f"{CONLL}/test.txt"),
                    reason="shared CoNLL-2000 not present")
def test_reproduces_the_official_conll2000_baseline():
    # the shared task's baseline (chunk tag most often seen with the POS tag in training) is
    # published as precision 72.58%, recall 82.14%, F 77.07 on the test set
    from collections import Counter, defaultdict

    from graphrnn.datasets.conll import CoNLL2000
    counts = defaultdict(Counter)
    for s in CoNLL2000(CONLL, "train", download=False):
        for pos, chunk in zip(s.pos, s.chunks):
            counts[pos][chunk] += 1
    best = {pos: c.most_common(1)[0][0] for pos, c in counts.items()}
    test = CoNLL2000(CONLL, "test", download=False)
    s = conlleval([x.chunks for x in test], [[best.get(p, "O") for p in x.pos] for x in test])
    assert round(100 * s.precision, 2) == 72.58
    assert round(100 * s.recall, 2) == 82.14
    assert round(100 * s.f1, 2) == 77.07


# ------------------------------------------------------------------------------------------------
# regression and ranking metrics of the molecule applications

def test_r2_is_one_for_a_perfect_fit_zero_for_the_mean_and_drops_missing_targets():
    from graphrnn.tasks.metrics import r2

    t = torch.tensor([1.0, 2.0, 3.0, 4.0, float("nan")])
    assert r2(t, t) == pytest.approx(1.0)
    assert r2(torch.full((5,), 2.5), t) == pytest.approx(0.0)
    # residuals 1, -1, 0, 0 over a total of 5: 1 - 2/5
    assert r2(torch.tensor([2.0, 1.0, 3.0, 4.0, 9.0]), t) == pytest.approx(0.6)
    assert math.isnan(r2(torch.ones(3), torch.ones(3)))


def test_spearman_ranks_with_ties():
    from graphrnn.tasks.metrics import spearman

    assert spearman([1.0, 2.0, 3.0], [10.0, 20.0, 90.0]) == pytest.approx(1.0)
    assert spearman([3.0, 2.0, 1.0], [10.0, 20.0, 90.0]) == pytest.approx(-1.0)
    # ranks (1.5, 1.5, 3) against (1, 2, 3): Pearson of those, worked by hand = sqrt(3)/2
    assert spearman([5.0, 5.0, 7.0], [1.0, 2.0, 3.0]) == pytest.approx(math.sqrt(3) / 2)


def test_pr_auc_is_average_precision():
    from graphrnn.tasks.metrics import pr_auc

    assert pr_auc([0.9, 0.8, 0.1], [1, 1, 0]) == pytest.approx(1.0)
    # ranked 1, 0, 1: precision 1 at recall 1/2, 2/3 at recall 1 -> (1 + 2/3) / 2
    assert pr_auc([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx(5 / 6)
    # one tie of a positive and a negative at the top enters together: precision 1/2, then 2/3
    assert pr_auc([0.9, 0.9, 0.7, 0.1], [1, 0, 1, 0]) == pytest.approx((0.5 + 2 / 3) / 2)
    assert math.isnan(pr_auc([0.1, 0.2], [0, 0]))
