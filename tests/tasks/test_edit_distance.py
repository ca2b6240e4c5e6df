"""Levenshtein distance and character error rate against hand-counted cases."""
import pytest

from graphrnn.tasks.metrics import character_error_rate, edit_distance


@pytest.mark.parametrize("a, b, d", [
    ("", "", 0),
    ("abc", "", 3),            # three deletions
    ("", "ab", 2),             # two insertions
    ("kitten", "sitting", 3),  # k->s, e->i, +g
    ("flaw", "lawn", 2),       # -f, +n
    ("abc", "abc", 0),
    ("ab", "ba", 2),           # a swap is two edits, not one
    ([1, 2, 3, 4], [1, 3, 4], 1),
])
def test_edit_distance_hand_cases(a, b, d):
    assert edit_distance(a, b) == d
    assert edit_distance(b, a) == d


def test_character_error_rate_sums_edits_over_reference_lengths():
    # 1 substitution in 4 + 2 deletions in 2 (empty prediction) + 0 in 3 = 3 / 9
    pred = [[1, 2, 9, 4], [], [5, 6, 7]]
    gold = [[1, 2, 3, 4], [8, 8], [5, 6, 7]]
    assert character_error_rate(pred, gold) == pytest.approx(3 / 9)
    assert character_error_rate(["abcd"], ["ab"]) == 1.0  # two insertions over two characters


def test_character_error_rate_errors_name_the_problem():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        character_error_rate([[1], [2]], [[1]])
    with pytest.raises(ValueError, match="no characters"):
        character_error_rate([[1]], [[]])
