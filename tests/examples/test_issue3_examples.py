"""The SST example end to end on a few sentences (needs ../shared/data/sst)."""
import json

import pytest

from graphrnn.cli import main
from graphrnn.io import shared_data

SST = shared_data("sst")


@pytest.mark.skipif(not (SST / "train.txt").exists(), reason="needs ../shared/data/sst")
def test_sst_quick_trains_evaluates_and_draws(tmp_path):
    out = tmp_path / "sst"
    assert main(["train", "sst", "--quick", "--epochs", "1", "--root", str(SST), "--out", str(out),
                 "--threads", "1"]) == 0
    metrics = json.loads((out / "test_metrics.json").read_text())
    assert 0.0 <= metrics["test_root_acc"] <= 1.0 and metrics["epochs"] == 1
    assert (out / "dev_tree.png").stat().st_size > 1000
    assert main(["evaluate", "sst", "--checkpoint", str(out / "best.pt"), "--root", str(SST),
                 "--quick"]) == 0
