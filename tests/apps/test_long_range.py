"""``graphrnn train|evaluate long_range`` through the registry."""
from __future__ import annotations

import pytest
import torch

from graphrnn import apps

torch.set_num_threads(1)


def test_sweep_skips_after_two_failures_and_evaluate_rescores(tmp_path, capsys):
    out = tmp_path / "run"
    results = apps.call("long_range", "train", [
        "--epochs", "1", "--hidden", "4", "--lengths", "2", "3", "4", "--cells", "srn", "gru",
        "--threshold", "1.0", "--train-size", "40", "--test-size", "20", "--batch-size", "20",
        "--out", str(out)])
    runs = results["runs"]
    assert [(r["cell"], r["T"], r["skipped"]) for r in runs] == [
        ("srn", 2, False), ("srn", 3, False), ("srn", 4, True),
        ("gru", 2, False), ("gru", 3, False), ("gru", 4, True)]
    assert not any(r["success"] for r in runs)
    for name in ("models.pt", "long_range.png", "gradient_flow.png", "results.json"):
        assert (out / name).is_file(), name
    assert set(results["gradient_norm_first_last"]) and results["seconds"] > 0
    again = apps.call("long_range", "evaluate", ["--checkpoint", str(out / "models.pt"),
                                                 "--out", str(out), "--flow-length", "6"])
    trained = {f"{r['cell']}_T{r['T']}": r["test_acc"] for r in runs if not r["skipped"]}
    assert again["test_acc"] == pytest.approx(trained)
    assert "test accuracy" in capsys.readouterr().out
