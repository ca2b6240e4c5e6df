"""Tests of graphrnn.datasets.easy_vqa: the reader on a 3-picture easy-VQA-shaped folder, its
errors (file and line), the held-out validation pictures and batches grouped by picture."""
import json
import sys

import pytest
import torch

from graphrnn.datasets import EasyVQA
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.easy_vqa import (
    VQACollate,
    answer_kind,
    question_tokens,
    read_answers,
    read_questions,
)
from graphrnn.datasets.text import Vocab

PIL = pytest.importorskip("PIL.Image")

ANSWERS = ["yes", "no", "circle", "triangle", "red", "blue"]
COLOURS = {0: (255, 0, 0), 1: (0, 0, 255), 2: (255, 0, 0)}
QUESTIONS = [["what color is the shape?", "red", 0],
             ["is there a circle?", "yes", 0],
             ["what shape is present?", "triangle", 1],
             ["what color is the shape?", "blue", 1],
             ["is there not a blue shape?", "no", 2],
             ["what shape is present?", "circle", 2]]


def write_folder(root, questions=QUESTIONS, answers=ANSWERS, split="train", colours=COLOURS):
    """An easy-VQA-shaped folder: answers.txt, SPLIT/questions.json (one entry a line) and one
    solid 8x8 PNG per picture."""
    (root / split / "images").mkdir(parents=True, exist_ok=True)
    (root / "answers.txt").write_text("\n".join(answers) + "\n")
    lines = ",\n".join(json.dumps(q) for q in questions)
    (root / split / "questions.json").write_text(f"[\n{lines}\n]\n")
    for i, colour in colours.items():
        PIL.new("RGB", (8, 8), colour).save(root / split / "images" / f"{i}.png")
    return root


def test_reads_questions_pictures_answers_and_kinds(tmp_path):
    ds = EasyVQA(write_folder(tmp_path), "train", val_fraction=0)
    assert len(ds) == 6 and ds.answers == ANSWERS and ds.image_ids == [0, 1, 2]
    assert ds.images.dtype == torch.uint8 and ds.images.shape == (3, 3, 8, 8)
    assert ds.images[1, :, 4, 4].tolist() == [0, 0, 255]  # picture 1 is blue
    ex = ds[3]
    assert ex.question == "what color is the shape?" and ds.answers[ex.answer] == "blue"
    assert ex.kind == "color" and ex.image_id == 1 and torch.equal(ex.image, ds.images[1])
    assert ds.kinds == ["color", "yes/no", "shape", "color", "yes/no", "shape"]
    assert ds.image_index.tolist() == [0, 0, 1, 1, 2, 2]
    assert ds.targets.tolist() == [4, 0, 3, 5, 1, 2]


def test_question_tokens_and_kinds():
    assert question_tokens("Is there NOT a red shape?") == ["is", "there", "not", "a", "red",
                                                             "shape", "?"]
    assert [answer_kind(a) for a in ("no", "rectangle", "teal")] == ["yes/no", "shape", "color"]


def test_validation_holds_out_whole_pictures(tmp_path):
    root = write_folder(tmp_path)
    train = EasyVQA(root, "train", val_fraction=0.34)
    val = EasyVQA(root, "val", val_fraction=0.34)
    assert len(val.image_ids) == 1 and len(train.image_ids) == 2
    assert not set(train.image_ids) & set(val.image_ids)
    assert sorted(train.questions + val.questions) == sorted(q for q, _, _ in QUESTIONS)
    again = EasyVQA(root, "val", val_fraction=0.34, split_seed=0)
    assert again.image_ids == val.image_ids  # seeded


def test_collate_groups_questions_by_picture(tmp_path):
    ds = EasyVQA(write_folder(tmp_path), "train", val_fraction=0)
    vocab = Vocab.build(question_tokens(q) for q in ds.questions)
    batch = VQACollate(ds, vocab)([2, 0])
    assert batch.images.shape == (2, 3, 8, 8) and torch.equal(batch.images[0], ds.images[2])
    assert batch.image_index.tolist() == [0, 0, 1, 1]  # picture 2's questions, then picture 0's
    assert batch.answers.tolist() == [1, 2, 4, 0]
    assert batch.lengths.tolist() == [7, 5, 6, 5] and batch.questions.shape == (4, 7)
    assert vocab.decode(batch.questions[1]) == question_tokens("what shape is present?")
    assert batch.kinds.tolist() == [2, 0, 1, 2]  # KINDS = shape, color, yes/no


@pytest.mark.parametrize("entry, message", [
    (["is it red?", "purple", 0], r"questions.json:3: entry 1: answer 'purple' is not one of"),
    (["is it red?", "yes"], r"questions.json:3: entry 1 is .*expected \[question, answer, "
                            r"image id\]"),
    (["", "yes", 0], r"questions.json:3: entry 1: question '' is not a non-empty string"),
    (["is it red?", "yes", -4], r"questions.json:3: entry 1: image id -4 is not an integer"),
    (["is it red?", "yes", "0"], r"questions.json:3: entry 1: image id '0' is not an integer"),
])
def test_a_malformed_question_names_file_line_and_entry(tmp_path, entry, message):
    root = write_folder(tmp_path, [QUESTIONS[0], entry, QUESTIONS[2]])
    with pytest.raises(ValueError, match=message):
        EasyVQA(root, "train")


def test_broken_json_names_the_line(tmp_path):
    root = write_folder(tmp_path)
    path = root / "train" / "questions.json"
    path.write_text(path.read_text().replace('"red", 0]', '"red" 0]'))
    with pytest.raises(ValueError, match=r"questions.json:2: not valid JSON .* entry 0"):
        EasyVQA(root, "train")
    path.write_text('{"q": 1}')
    with pytest.raises(ValueError, match=r"questions.json:1: expected a JSON array"):
        EasyVQA(root, "train")


@pytest.mark.parametrize("answers, message", [
    (["yes", "", "no"], r"answers.txt:2: empty line"),
    (["yes", "no", "red", "no"], r"answers.txt:4: answer 'no' repeats line 2"),
])
def test_a_malformed_answers_file_names_the_line(tmp_path, answers, message):
    root = write_folder(tmp_path)
    (root / "answers.txt").write_text("\n".join(answers) + "\n")
    with pytest.raises(ValueError, match=message):
        read_answers(root / "answers.txt")


def test_missing_corrupt_or_odd_sized_pictures_are_named(tmp_path):
    root = write_folder(tmp_path)
    (root / "train" / "images" / "2.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"images/2.png: no such image"):
        EasyVQA(root, "train")
    (root / "train" / "images" / "2.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"images/2.png: cannot be read as an image"):
        EasyVQA(root, "train")
    PIL.new("RGB", (9, 8)).save(root / "train" / "images" / "2.png")
    with pytest.raises(ValueError, match=r"images/2.png: is 9x8 pixels; expected 8x8"):
        EasyVQA(root, "train")


def test_missing_files_and_bad_arguments(tmp_path):
    write_folder(tmp_path)
    with pytest.raises(DataNotFoundError, match=r"questions.json"):
        EasyVQA(tmp_path, "test")
    with pytest.raises(ValueError, match=r"split must be 'train', 'val' or 'test'"):
        EasyVQA(tmp_path, "dev")


def test_without_the_package_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "easy_vqa", None)  # import easy_vqa now fails
    with pytest.raises(ImportError, match=r'pip install "graphrnn\[vision\]"'):
        EasyVQA(split="test")


def test_the_package_data_reads_whole():
    easy_vqa = pytest.importorskip("easy_vqa")
    from pathlib import Path

    data = Path(easy_vqa.__file__).parent / "data"
    answers = read_answers(data / "answers.txt")
    train = read_questions(data / "train" / "questions.json", answers)
    test = read_questions(data / "test" / "questions.json", answers)
    assert (len(answers), len(train), len(test)) == (13, 38_575, 9_673)
    assert sum(answers[a] in ("yes", "no") for _, a, _ in test) == 7_136  # the package's README
    assert len({i for _, _, i in train}) == 4_000 and len({i for _, _, i in test}) == 1_000
