"""``graphrnn train|evaluate ctc_digits`` through the registry."""
from __future__ import annotations

import torch

from graphrnn import apps

torch.set_num_threads(1)


def test_train_then_evaluate_the_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    results = apps.call("ctc_digits", "train", ["--quick", "--epochs", "1", "--train-size", "200",
                                                "--beam", "3", "--out", str(out)])
    assert set(results) == {"epochs", "seconds", "greedy_seq_acc", "beam3_seq_acc"}
    for name in ("best.pt", "last.pt", "metrics.csv", "results.json"):
        assert (out / name).is_file(), name
    again = apps.call("ctc_digits", "evaluate", ["--checkpoint", str(out / "best.pt"),
                                                 "--beam", "3"])
    assert again == {k: results[k] for k in again}
    assert "sequence accuracy greedy" in capsys.readouterr().out
