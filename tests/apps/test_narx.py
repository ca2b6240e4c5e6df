"""``graphrnn train|evaluate narx`` through the registry."""
from __future__ import annotations

import pytest
import torch

from graphrnn import apps

torch.set_num_threads(1)


def test_plant_train_then_evaluate(tmp_path):
    out = tmp_path / "run"
    results = apps.call("narx", "train", ["--quick", "--epochs", "2", "--out", str(out)])
    for key in ("narx_one_step", "narx_free_run", "linear_one_step", "linear_free_run",
                "tdnn_one_step"):
        assert results[key] > 0
    assert (out / "narx_test.png").stat().st_size > 1000
    again = apps.call("narx", "evaluate", ["--checkpoint", str(out / "best.pt")])
    assert again == pytest.approx({k: results[k] for k in again})


def test_users_csv_series_is_identified_and_beats_nothing_worse_than_arx(tmp_path):
    # a small nonlinear system written to CSV: y_t = 0.6 y_{t-1} + tanh(u_{t-1}) + 0.01 noise
    g = torch.Generator().manual_seed(0)
    u = torch.rand(400, generator=g) * 4 - 2
    y = torch.zeros(400)
    for t in range(1, 400):
        y[t] = 0.6 * y[t - 1] + torch.tanh(u[t - 1]) + 0.01 * torch.randn(1, generator=g)
    path = tmp_path / "plant.csv"
    path.write_text("time,u,y\n" + "".join(f"{t},{float(u[t])},{float(y[t])}\n"
                                          for t in range(400)))
    out = tmp_path / "csv"
    results = apps.call("narx", "train", ["--csv", str(path), "--input-col", "u",
                                          "--output-col", "y", "--epochs", "60", "--out",
                                          str(out)])
    # the linear ARX fit gets the linear part: its free run is far better than predicting 0
    assert results["linear_free_run"] < 0.5 * float(y[340:].std())
    assert results["narx_free_run"] < float(y[340:].std())
    assert (out / "narx_test.png").is_file()
    again = apps.call("narx", "evaluate", ["--checkpoint", str(out / "best.pt")])
    assert again == pytest.approx({k: results[k] for k in again})


def test_csv_needs_its_columns(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("u,y\n" + "".join(f"{t},{t}\n" for t in range(50)))
    with pytest.raises(Exception, match="--input-col and --output-col"):
        apps.call("narx", "train", ["--csv", str(path), "--out", str(tmp_path / "o")])
    with pytest.raises(ValueError, match="no column 'v'"):
        apps.call("narx", "train", ["--csv", str(path), "--input-col", "v", "--output-col", "y",
                                    "--out", str(tmp_path / "o")])
