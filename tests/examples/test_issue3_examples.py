"""The SST example end to end on a few sentences (needs ../shared/data/sst)."""
import json

import pytest

from graphrnn.cli import main
from graphrnn.io import shared_data

SST = shared_data("sst")


@pytest.mark.skipif(not (SST / "train.txt").exists(), reason="needs ../shared/data/sst")
def test_sst_quick_trains_evaluates_and_draws(tmp_path, capsys):
    out = tmp_path / "sst"
    assert main(["train", "sst", "--quick", "--epochs", "1", "--root", str(SST), "--out", str(out),
                 "--threads", "1"]) == 0
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert 0.0 <= metrics["test_root_acc"] <= 1.0 and metrics["epochs"] == 1
    assert (out / "dev_tree.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["evaluate", "sst", "--checkpoint", str(out / "best.pt"), "--root", str(SST),
                 "--quick"]) == 0
    single = capsys.readouterr().out.strip().splitlines()[-1]
    # an ensemble of one model twice averages equal probabilities: the same scores
    assert main(["evaluate", "sst", "--checkpoint", str(out / "best.pt"), str(out / "best.pt"),
                 "--root", str(SST), "--quick"]) == 0
    double = capsys.readouterr().out.strip().splitlines()[-1]
    assert "ensemble of 2" in double
    assert single.split("): ")[1] == double.split("): ")[1]
