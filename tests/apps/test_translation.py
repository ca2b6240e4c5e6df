"""``graphrnn train|evaluate|generate translation`` on a tiny hand-made cmn.txt, the data set on a
fixture, and the real file when it is there."""
from __future__ import annotations

import json

import pytest
import torch

from graphrnn import apps
from graphrnn.cli import main
from graphrnn.datasets.translation import attribution, cmn_eng_pairs
from graphrnn.io import shared_data
from graphrnn.train import CheckpointError, load_checkpoint

torch.set_num_threads(1)
ANIMALS = [("cat", "猫"), ("dog", "狗"), ("bird", "鸟"), ("fish", "鱼"), ("horse", "马")]


def cmn_fixture(path, extra_lines=()):
    """40 pairs in cmn.txt's layout; "Hi." has two translations (they must share a split)."""
    lines = ["Hi.\t嗨。\tCC-BY 2.0 (France) Attribution: tatoeba.org #1 (a) & #2 (b)",
             "Hi.\t你好。\tCC-BY 2.0 (France) Attribution: tatoeba.org #1 (a) & #3 (c)"]
    for n in range(1, 9):
        for en, zh in ANIMALS[:5 if n < 8 else 4]:
            lines.append(f"I see {n} {en}s.\t我看见{n}只{zh}。\tCC-BY 2.0 (France) Attribution: x")
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


def test_cmn_eng_pairs_split_and_directions(tmp_path):
    f = cmn_fixture(tmp_path / "cmn.txt")
    data = cmn_eng_pairs(f, valid=4, test=4, min_freq=1)
    side = {p.target: k for k, v in data.splits.items() for p in v}
    assert side["嗨。"] == side["你好。"]  # every translation of "Hi." on one side
    assert sum(len(v) for v in data.splits.values()) == 41
    assert data.source("I see 3 cats.") == ["i", "see", "3", "cats", "."]
    assert data.target("我看见3只猫。") == list("我看见3只猫。")
    assert attribution(data.splits["train"][0]).startswith("CC-BY 2.0 (France)")
    back = cmn_eng_pairs(f, direction="zh-en", valid=4, test=4, min_freq=1)
    assert [(p.target, p.source) for p in back.splits["test"]] == \
        [(p.source, p.target) for p in data.splits["test"]]  # the same split, reversed
    with pytest.raises(ValueError, match="direction"):
        cmn_eng_pairs(f, direction="en-fr")
    bad = cmn_fixture(tmp_path / "bad.txt", ["Broken line without a tab"])
    with pytest.raises(ValueError, match=r"bad\.txt:42: 1 tab-separated column"):
        cmn_eng_pairs(bad)


def test_train_generate_evaluate_on_a_fixture(tmp_path, capsys):
    root = cmn_fixture(tmp_path / "cmn.txt")
    out = tmp_path / "run"
    results = apps.call("translation", "train", ["--quick", "--root", str(root), "--beam", "2",
                                                 "--out", str(out)])
    assert results["epochs"] == 1 and results["direction"] == "en-zh"  # --quick: one epoch
    for key in ("test_bleu_greedy", "test_bleu_beam2"):
        assert 0 <= results[key] <= 100
    assert "tok:zh" in results["bleu_signature"]
    for name in ("best.pt", "last.pt", "metrics.csv", "curves.png", "attention.png",
                 "results.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "results.json").read_text())["parameters"] == results["parameters"]
    ckpt = load_checkpoint(out / "best.pt")
    assert ckpt["config"]["vocabs"]["target"][:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    capsys.readouterr()
    png = tmp_path / "heat.png"
    gen = apps.call("translation", "generate", ["--checkpoint", str(out / "best.pt"), "--text",
                                                "I see 2 dogs.", "--beam", "1", "--png", str(png)])
    assert png.is_file() and gen["attention_png"] == str(png)
    printed = capsys.readouterr().out
    assert gen["translation"] in printed and "attention heat map" in printed
    again = apps.call("translation", "evaluate", ["--checkpoint", str(out / "best.pt"),
                                                  "--beam", "2"])
    assert again["test_bleu_greedy"] == pytest.approx(results["test_bleu_greedy"])
    with pytest.raises(CheckpointError, match="translation"):
        apps.call("seq2seq", "generate", ["--checkpoint", str(out / "best.pt"), "--text", "hi"])


def test_a_malformed_file_is_one_line_at_the_command_line(tmp_path, capsys):
    bad = cmn_fixture(tmp_path / "bad.txt", ["Hello.\t\tno Chinese"])
    code = main(["train", "translation", "--quick", "--root", str(bad), "--out",
                 str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 1 and "bad.txt:42: empty target (column 1)" in err
    assert "Traceback" not in err


def test_the_real_file_splits_as_the_card_says():
    path = shared_data("translation", "cmn-eng", "cmn.txt")
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    data = cmn_eng_pairs()
    sizes = {k: len(v) for k, v in data.splits.items()}
    assert sum(sizes.values()) == 29155
    assert sizes["test"] - 1500 < 10 and sizes["valid"] - 1500 < 10  # whole groups
    train_sources = {p.source for p in data.splits["train"]}
    assert not train_sources & {p.source for p in data.splits["test"]}
