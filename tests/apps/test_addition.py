"""``graphrnn train|evaluate addition`` through the registry."""
from __future__ import annotations

import json

import pytest

from graphrnn import apps
from graphrnn.train import CheckpointError


def test_train_writes_results_and_evaluate_rebuilds_the_model(tmp_path, capsys):
    out = tmp_path / "run"
    results = apps.call("addition", "train", ["--quick", "--epochs", "1", "--hidden", "12",
                                              "--test-size", "50", "--out", str(out)])
    assert set(results) >= {"in_range_test", "20_digits", "30_digits", "train_seconds"}
    assert json.loads((out / "results.json").read_text())["30_digits"] == results["30_digits"]
    again = apps.call("addition", "evaluate", ["--checkpoint", str(out / "best.pt")])
    assert again["30_digits"] == results["30_digits"]  # same settings rebuilt from the checkpoint


def test_evaluate_refuses_another_applications_checkpoint(tmp_path):
    import torch

    from graphrnn.train import save_checkpoint

    path = tmp_path / "best.pt"
    save_checkpoint(path, torch.nn.Linear(2, 2), config={"app": "tpsa", "settings": {}})
    with pytest.raises(CheckpointError, match="written by 'graphrnn train tpsa', not by "
                                              "'graphrnn train addition'"):
        apps.call("addition", "evaluate", ["--checkpoint", str(path)])
