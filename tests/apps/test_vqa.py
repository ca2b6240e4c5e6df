"""``graphrnn train|evaluate|generate vqa`` through the registry, on a small easy-VQA-shaped
folder drawn here (16x16 pictures of a red or blue circle or square)."""
from __future__ import annotations

import json

import pytest
import torch

from graphrnn import apps, cli

PIL = pytest.importorskip("PIL.Image")
from PIL import ImageDraw  # noqa: E402

torch.set_num_threads(1)
ANSWERS = ["yes", "no", "circle", "rectangle", "red", "blue"]
TINY = ["--channels", "4", "8", "--embedding-dim", "8", "--hidden", "8", "--fusion", "16",
        "--batch-images", "4", "--threads", "1"]


def draw(path, shape: str, colour: str) -> None:
    im = PIL.new("RGB", (16, 16), "white")
    box = (3, 3, 12, 12)
    getattr(ImageDraw.Draw(im), "ellipse" if shape == "circle" else "rectangle")(box, colour)
    im.save(path)


def write_root(root, pictures: int = 12):
    root.mkdir(parents=True, exist_ok=True)
    (root / "answers.txt").write_text("\n".join(ANSWERS) + "\n")
    for split, n in (("train", pictures), ("test", pictures // 2)):
        (root / split / "images").mkdir(parents=True)
        questions = []
        for i in range(n):
            shape, colour = ("circle", "rectangle")[i % 2], ("red", "blue")[i // 2 % 2]
            draw(root / split / "images" / f"{i}.png", shape, colour)
            questions += [["what shape is present?", shape, i],
                          ["what color is the shape?", colour, i],
                          ["is there a circle?", "yes" if shape == "circle" else "no", i]]
        (root / split / "questions.json").write_text(json.dumps(questions))
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = write_root(tmp_path_factory.mktemp("easy_vqa"))
    out = tmp_path_factory.mktemp("run")
    results = apps.call("vqa", "train", ["--root", str(root), "--epochs", "2", "--quick",
                                         "--gallery", "3", "--out", str(out), *TINY])
    return root, out, results


def test_train_writes_checkpoints_results_and_gallery(trained):
    _, out, results = trained
    for name in ("best.pt", "last.pt", "metrics.csv", "results.json", "vqa_gallery.png"):
        assert (out / name).is_file(), name
    assert results["inputs"] == "both" and results["epochs"] == 2
    test = results["test"]
    assert test["questions"] == 18  # 6 test pictures, 3 questions each
    assert set(test) == {"acc", "acc_shape", "acc_color", "acc_yes_no", "questions"}
    assert abs(test["acc"] - (test["acc_shape"] + test["acc_color"] + test["acc_yes_no"]) / 3) \
        < 1e-6  # one question of each kind per picture
    assert json.loads((out / "results.json").read_text())["test"] == test


def test_evaluate_rebuilds_the_model_from_the_checkpoint(trained, tmp_path):
    root, out, results = trained
    again = apps.call("vqa", "evaluate", ["--checkpoint", str(out / "best.pt"), "--gallery", "0",
                                          "--out", str(tmp_path)])
    assert again == pytest.approx(results["test"])
    # the gallery's per-question answers agree with the evaluation's accuracy
    from graphrnn.apps.config import parse_config
    from graphrnn.apps.vqa import Evaluate, _load, _predictions
    from graphrnn.datasets import EasyVQA

    model, vocab, _, _, device = _load(parse_config(Evaluate, ["--checkpoint",
                                                               str(out / "best.pt")], "t"))
    test = EasyVQA(root, "test")
    right = (_predictions(model, test, vocab, device) == test.targets).float().mean()
    assert float(right) == pytest.approx(again["acc"])


def test_generate_answers_with_the_top_probabilities(trained, tmp_path, capsys):
    _, out, _ = trained
    picture = tmp_path / "blue_square.png"
    draw(picture, "rectangle", "blue")
    result = apps.call("vqa", "generate", ["--checkpoint", str(out / "best.pt"), "--image",
                                           str(picture), "--question",
                                           "What colour is the purple shape?"])
    ranked = result["answers"]
    assert len(ranked) == 3 and {a for a, _ in ranked} <= set(ANSWERS)
    probs = [p for _, p in ranked]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    assert result["unknown_words"] == ["colour", "purple"]
    printed = capsys.readouterr().out
    assert "read as <unk>: colour, purple" in printed and ranked[0][0] in printed


def test_user_errors_are_one_line(trained, tmp_path, capsys):
    root, out, _ = trained
    assert cli.main(["generate", "vqa", "--checkpoint", str(out / "best.pt")]) == 1
    assert "--image is required" in capsys.readouterr().err
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    assert cli.main(["generate", "vqa", "--checkpoint", str(out / "best.pt"),
                     "--image", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"--image {bad}: cannot be read as an image" in err and "Traceback" not in err
    assert cli.main(["train", "vqa", "--root", str(tmp_path / "nothing"), "--out",
                     str(tmp_path / "o")]) == 1
    assert "answers.txt" in capsys.readouterr().err


def test_compare_trains_the_three_models(tmp_path, capsys):
    root = write_root(tmp_path / "data", pictures=8)
    results = apps.call("vqa", "train", ["--root", str(root), "--epochs", "1", "--quick",
                                         "--compare", "--gallery", "0", "--out",
                                         str(tmp_path / "cmp"), *TINY])
    assert list(results) == ["both", "question", "image"]
    for inputs in results:
        assert (tmp_path / "cmp" / inputs / "best.pt").is_file()
        assert results[inputs]["inputs"] == inputs
    table = capsys.readouterr().out
    assert "question + image" in table and "question only" in table and "image only" in table
