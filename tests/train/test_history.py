import logging

import matplotlib
import pytest

from graphrnn.train.history import (
    TensorBoardLogger,
    curve_groups,
    plot_history,
    read_csv,
    write_csv,
)

HISTORY = [
    {"epoch": 1, "train_loss": 2.0, "val_loss": 2.5, "val_acc": 0.5, "lr": 0.1, "time": 1.0},
    {"epoch": 2, "train_loss": 1.0, "val_loss": 1.5, "val_acc": 0.75, "lr": 0.05, "time": 1.0},
]


def test_csv_round_trip_and_missing_cells(tmp_path):
    rows = HISTORY + [{"epoch": 3, "train_loss": 0.5, "extra": 7.0}]
    path = write_csv(rows, tmp_path / "m.csv")
    header = path.read_text().splitlines()[0]
    assert header == "epoch,train_loss,val_loss,val_acc,lr,time,extra"
    assert read_csv(path) == rows


def test_curve_groups_pair_train_and_val():
    assert curve_groups(HISTORY) == {"loss": ["train_loss", "val_loss"], "acc": ["val_acc"],
                                     "lr": ["lr"]}


def test_plot_writes_png_without_touching_pyplot_backend(tmp_path):
    backend = matplotlib.get_backend()
    path = plot_history(HISTORY, tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.get_backend() == backend
    with pytest.raises(ValueError, match="no metric columns"):
        plot_history([{"epoch": 1, "time": 0.1}], tmp_path / "d.png")


def test_tensorboard_logger_writes_events_or_says_why_at_debug_level(tmp_path, caplog):
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        with caplog.at_level(logging.DEBUG, logger="graphrnn.train.history"):
            tb = TensorBoardLogger(tmp_path / "tb")
        assert "TensorBoard logging is off" in caplog.text
        tb.log(HISTORY[0])  # a no-op, not an error
        tb.close()
        assert not (tmp_path / "tb").exists()
        return
    tb = TensorBoardLogger(tmp_path / "tb")
    for row in HISTORY:
        tb.log(row)
    tb.close()
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())
