"""``graphrnn train|evaluate captioning`` through the registry, and its scores."""
from __future__ import annotations

import json

import pytest
import torch

from graphrnn import apps
from graphrnn.apps import captioning
from graphrnn.cli import main

torch.set_num_threads(1)


def test_train_then_evaluate_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    results = apps.call("captioning", "train", ["--quick", "--epochs", "1", "--beam", "2",
                                                "--out", str(out)])
    for key in ("greedy_bleu4", "greedy_f1", "greedy_3to4_bleu4", "greedy_3to4_f1",
                "beam2_bleu1", "beam2_3to4_recall", "reference_3to4_bleu4"):
        assert 0.0 <= results[key] <= 1.0, key
    # any reference scores well against the others: the grammar's paraphrases are shared
    assert results["reference_3to4_bleu4"] > 0.5
    for name in ("best.pt", "last.pt", "metrics.csv", "results.json", "attention_0.png"):
        assert (out / name).is_file(), name
    assert results["pictures"] == [str(out / "attention_0.png")]
    again = apps.call("captioning", "evaluate", ["--checkpoint", str(out / "best.pt"), "--beam",
                                                 "2", "--out", str(tmp_path / "eval")])
    assert again["greedy_bleu4"] == pytest.approx(results["greedy_bleu4"])
    assert again["beam2_3to4_f1"] == pytest.approx(results["beam2_3to4_f1"])
    assert "3-4 objects BLEU-4" in capsys.readouterr().out


def test_no_attention_trains_the_mean_region_decoder_and_draws_nothing(tmp_path):
    out = tmp_path / "mean"
    results = apps.call("captioning", "train", ["--quick", "--epochs", "1", "--no-attention",
                                                "--examples", "2", "--out", str(out)])
    assert results["attention"] is False and results["pictures"] == []
    ckpt = torch.load(out / "best.pt", weights_only=False)
    assert not any(k.startswith("attention.") for k in ckpt["model"])


def test_trains_on_a_coco_folder(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    root = tmp_path / "coco"
    for split, colours in (("train", ("red", "blue")), ("val", ("blue", "red"))):
        data = {"images": [], "annotations": []}
        for i, colour in enumerate(colours):
            name = f"{split}_{i}.jpg"
            (root / f"{split}2014").mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (40, 30), colour).save(root / f"{split}2014" / name)
            data["images"].append({"id": i, "file_name": name})
            data["annotations"] += [{"image_id": i, "caption": f"A {colour} picture."},
                                    {"image_id": i, "caption": f"All {colour}"}]
        (root / "annotations").mkdir(exist_ok=True)
        (root / "annotations" / f"captions_{split}2014.json").write_text(json.dumps(data))
    results = apps.call("captioning", "train", [
        "--quick", "--epochs", "1", "--dataset", "coco", "--root", str(root), "--min-freq", "1",
        "--image-size", "32", "--out", str(tmp_path / "run")])
    assert 0.0 <= results["greedy_bleu4"] <= 1.0 and "greedy_f1" not in results
    assert (tmp_path / "run" / "attention_0.png").is_file()


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "captioning", "--dataset", "coco", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "--dataset coco needs --root" in err and "Traceback" not in err
    assert main(["train", "captioning", "--root", str(tmp_path), "--out", str(tmp_path)]) == 1
    assert "the shapes are generated" in capsys.readouterr().err


class _Refs:
    """A stand-in data set: items ``(image, references)``."""

    def __init__(self, refs):
        self.items = [(None, r) for r in refs]

    def __len__(self):
        return len(self.items)


def test_bleu_of_hand_computed_cases():
    # p1 = 3/3, p2 = 1/2 ("a red" yes, "red square" no), c = r = 3: BLEU-2 = sqrt(1/2)
    got = captioning._score(["a red square"], _Refs([["a red circle", "a blue square"]]))
    assert got["bleu1"] == pytest.approx(1.0) and got["bleu2"] == pytest.approx(0.5 ** 0.5)
    # p1 = p2 = 1, c = 2, r = 4 (the reference lower-cased, its full stop a word): brevity
    # penalty exp(1 - 4/2)
    got = captioning._score(["a red"], _Refs([["A red circle."]]))
    assert got["bleu2"] == pytest.approx(2.718281828 ** -1, rel=1e-6)
    # two segments: counts pooled over the corpus, p1 = (2 + 1) / (2 + 2) = 3/4, r = 2 + 2 = c
    got = captioning._score(["red circle", "blue box"], _Refs([["red circle"], ["blue square"]]))
    assert got["bleu1"] == pytest.approx(0.75)
    # a hypothesis equal to any one reference scores 1
    caption = "a small red circle left of a large blue square"
    got = captioning._score([caption], _Refs([["a big one", caption]]))
    assert got["bleu4"] == pytest.approx(1.0)
