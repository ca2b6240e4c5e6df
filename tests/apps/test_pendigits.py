"""``graphrnn train|evaluate|generate pendigits`` through the registry (quick runs on the real
file; skipped without it)."""
from __future__ import annotations

import pytest
import torch

from graphrnn import apps
from graphrnn.apps.config import ConfigError
from graphrnn.io import shared_data
from graphrnn.train import CheckpointError

torch.set_num_threads(1)
pytestmark = pytest.mark.skipif(
    not shared_data("handwriting", "pendigits", "pendigits.csv").is_file(),
    reason="the real pendigits.csv is not here")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("pendigits")
    recogniser = apps.call("pendigits", "train", ["--quick", "--out", str(out)])
    generator = apps.call("pendigits", "train", ["--quick", "--model", "mdn", "--out", str(out)])
    return out, recogniser, generator


def test_recogniser_trains_and_its_checkpoint_evaluates(run, tmp_path, capsys):
    out, results, _ = run
    assert results["model"] == "classifier" and 0 <= results["test_acc"] <= 1
    assert sum(map(sum, results["confusion"])) == 200   # the quick run's 200 test digits
    for name in ("best.pt", "last.pt", "metrics.csv", "curves.png", "confusion.png"):
        assert (out / "recognizer" / name).is_file(), name
    again = apps.call("pendigits", "evaluate", ["--out", str(out), "--checkpoint",
                                                str(out / "recognizer" / "best.pt")])
    matrix = torch.tensor(again["confusion"])
    assert matrix.sum() == 3498 and matrix.sum(1).tolist()[:3] == [363, 364, 364]
    assert again["test_acc"] == pytest.approx(float(matrix.diag().sum()) / 3498)
    assert "test accuracy" in capsys.readouterr().out


def test_mdn_and_its_baseline_train_and_samples_are_scored(run, capsys):
    out, _, results = run
    assert results["mdn"]["components"] == 20 and results["mdn1"]["components"] == 1
    for name in ("mdn", "mdn1"):
        assert (out / name / "best.pt").is_file()
        assert results[name]["test_nll"] == results[name]["test_nll"]  # not NaN
    assert (out / "mdn" / "samples.png").is_file()
    assert 0 <= results["samples_recognized"] <= 1
    assert len(results["samples_recognized_per_digit"]) == 10
    nll = apps.call("pendigits", "evaluate", ["--out", str(out), "--model", "mdn"])
    assert nll["components"] == 20 and nll["test_nll"] == nll["test_nll"]


def test_generate_draws_the_grid_and_reads_it_back(run, capsys):
    out, _, _ = run
    result = apps.call("pendigits", "generate", ["--out", str(out), "--digit", "7", "--num", "4",
                                                 "--bias", "1.5"])
    assert result["digits"] == [7, 7, 7, 7] and (out / "digit7.png").is_file()
    assert 0 <= result["recognized"] <= 1
    assert "as the digit asked for" in capsys.readouterr().out
    every = apps.call("pendigits", "generate", ["--out", str(out), "--all", "--num", "2",
                                                "--image", str(out / "all.png")])
    assert every["digits"] == [d for d in range(10) for _ in range(2)]
    assert (out / "all.png").is_file()


def test_wrong_checkpoints_and_flags_are_errors(run):
    out, _, _ = run
    with pytest.raises(CheckpointError, match="holds a 'classifier' model; expected a 'mdn'"):
        apps.call("pendigits", "generate", ["--out", str(out), "--checkpoint",
                                            str(out / "recognizer" / "best.pt")])
    with pytest.raises(ConfigError, match="--recognizer .* needs --model mdn"):
        apps.call("pendigits", "train", ["--quick", "--out", str(out / "x"), "--recognizer",
                                         str(out / "recognizer" / "best.pt")])
