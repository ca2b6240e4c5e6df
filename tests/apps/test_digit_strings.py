"""``graphrnn train|evaluate digit_strings`` through the registry, on a tiny digits file."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from graphrnn import apps
from graphrnn.apps.config import ConfigError

torch.set_num_threads(1)


def _tiny_root(tmp_path):
    """20 hand-made 8x8 'digits' (two per class: a bar in row c // 2, column c % 8 lit)."""
    rows = []
    for c in range(10):
        for k in range(2):
            image = np.zeros((8, 8), dtype=int)
            image[c // 2, :] = 8 + 4 * k
            image[:, c % 8] = 16
            rows.append(",".join(map(str, image.reshape(-1).tolist() + [c])))
    root = tmp_path / "digits"
    root.mkdir()
    (root / "digits.csv").write_text("\n".join(rows) + "\n")
    return root


def test_train_then_evaluate_the_checkpoint(tmp_path, capsys):
    out, root = tmp_path / "run", _tiny_root(tmp_path)
    # two images per class: round(0.2 * 2) = 0 of each go to val, an error naming the split
    args = ["--quick", "--epochs", "1", "--beam", "3", "--root", str(root), "--out", str(out)]
    with pytest.raises(ValueError, match="the val split of the 20 source images is empty"):
        apps.call("digit_strings", "train", args)
    (root / "digits.csv").write_text((root / "digits.csv").read_text() * 3)  # 6 per class
    results = apps.call("digit_strings", "train", args)
    assert set(results) == {"epochs", "seconds", "greedy_line_acc", "greedy_cer",
                            "beam3_line_acc", "beam3_cer", "test_lines", "test_source_images"}
    assert results["test_lines"] == 30 and results["test_source_images"] == 10
    for name in ("best.pt", "last.pt", "metrics.csv", "curves.png", "results.json",
                 "test_lines.png"):
        assert (out / name).is_file(), name
    assert json.loads((out / "results.json").read_text())["greedy_cer"] == results["greedy_cer"]
    assert "val_cer" in (out / "metrics.csv").read_text().splitlines()[0]
    again = apps.call("digit_strings", "evaluate", ["--checkpoint", str(out / "best.pt"),
                                                    "--beam", "3", "--out", str(tmp_path / "ev")])
    assert again == {k: results[k] for k in again}
    assert (tmp_path / "ev" / "test_lines.png").is_file()
    assert "test line accuracy greedy" in capsys.readouterr().out


def test_bad_settings_are_named_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="--min-len 6 is more than --max-len 4"):
        apps.call("digit_strings", "train", ["--quick", "--min-len", "6", "--max-len", "4",
                                             "--out", str(tmp_path)])
    with pytest.raises(ConfigError, match="--channels takes three numbers"):
        apps.call("digit_strings", "train", ["--quick", "--channels", "8", "8",
                                             "--out", str(tmp_path)])
    assert not (tmp_path / "best.pt").exists()
