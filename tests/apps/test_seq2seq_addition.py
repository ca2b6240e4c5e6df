"""``graphrnn train|evaluate seq2seq_addition`` through the registry."""
from __future__ import annotations

import json

import pytest
import torch

from graphrnn import apps
from graphrnn.train import CheckpointError, load_checkpoint

torch.set_num_threads(1)


def test_train_then_evaluate_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    results = apps.call("seq2seq_addition", "train", ["--quick", "--epochs", "1", "--train-size",
                                                      "300", "--beam", "2", "--out", str(out)])
    assert set(results) == {"epochs", "seconds", "greedy_exact", "beam2_exact"}
    assert 0 <= results["greedy_exact"] <= 1 and results["epochs"] == 1
    assert json.loads((out / "results.json").read_text())["greedy_exact"] == results["greedy_exact"]
    ckpt = load_checkpoint(out / "best.pt")
    assert ckpt["config"]["settings"]["digits"] == 2  # --quick's settings are recorded
    assert ckpt["vocab"][:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    again = apps.call("seq2seq_addition", "evaluate", ["--checkpoint", str(out / "best.pt"),
                                                       "--beam", "2"])
    assert again == {k: results[k] for k in again}  # the same model and test set rebuilt
    assert "exact match greedy" in capsys.readouterr().out
    with pytest.raises(CheckpointError, match="seq2seq_addition"):
        apps.call("ctc_digits", "evaluate", ["--checkpoint", str(out / "best.pt")])
