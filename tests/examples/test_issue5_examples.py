"""Smoke tests of the issue-5 examples (poems): train --quick, evaluate, generate."""
import json

import pytest
import torch

from graphrnn.cli import load_example, main
from graphrnn.datasets.poems import check_form
from graphrnn.train import load_checkpoint
from graphrnn.io import shared_data

torch.set_num_threads(1)
POEM_ROOT = shared_data("tang_poems")


@pytest.mark.skipif(not (POEM_ROOT / "chinese_poetry_quantangshi").is_dir(),
                    reason="needs ../shared/data/tang_poems")
def test_poems_example(tmp_path, capsys):
    example = load_example("poems")
    out = str(tmp_path)
    assert example.train(["--quick", "--epochs", "1", "--out", out, "--threads", "1",
                          "--root", str(POEM_ROOT)]) == 0
    printed = capsys.readouterr().out
    assert "Kneser-Ney 2-gram" in printed and "RNN (LSTM" in printed
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["model"] for r in results["table"]][:2] == ["Kneser-Ney 2-gram", "Kneser-Ney 3-gram"]
    assert (tmp_path / "curves.png").is_file()
    ckpt = load_checkpoint(tmp_path / "best.pt")
    assert ckpt["vocab"][:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]

    assert main(["generate", "poems", "--out", out, "--begin", "日", "月", "--form", "7x4",
                 "--num", "3", "--check", "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "all: 6/6 = 100.0%" in printed
    poems = [line.split(": ", 1)[1] for line in printed.splitlines()
             if line.startswith(("日: ", "月: ")) and "well formed" not in line]
    assert len(poems) == 6 and all(check_form(p, 7, 4) for p in poems)
    assert main(["generate", "poems", "--out", out, "--begin", "日", "--seed", "1"]) == 0
    again = capsys.readouterr().out
    assert main(["generate", "poems", "--out", out, "--begin", "日", "--seed", "1"]) == 0
    assert capsys.readouterr().out == again  # seeded: reproducible
    assert main(["evaluate", "poems", "--out", out, "--orders", "2"]) == 0
    assert "Kneser-Ney 2-gram" in capsys.readouterr().out
    # a warm restart from the trained weights
    again_dir = tmp_path / "again"
    assert example.train(["--quick", "--epochs", "1", "--out", str(again_dir), "--orders",
                          "--init-from", str(tmp_path / "best.pt"), "--root", str(POEM_ROOT)]) == 0
    assert load_checkpoint(again_dir / "best.pt")["config"]["init_from"] == str(tmp_path / "best.pt")
