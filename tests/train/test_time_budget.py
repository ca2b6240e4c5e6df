"""``Trainer(time_budget=)``: training stops once the wall-clock budget is spent, inside an epoch,
which is still validated and checkpointed."""
import time

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from graphrnn.train.checkpoint import load_checkpoint
from graphrnn.train.loop import Trainer

torch.set_num_threads(1)


def loaders():
    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    data = TensorDataset(x, x.sum(1, keepdim=True))
    return DataLoader(data, batch_size=4), DataLoader(data, batch_size=32)  # 16 steps an epoch


def test_time_budget_stops_inside_an_epoch_then_validates_and_saves(tmp_path):
    calls = []

    def slow_step(model, batch):
        calls.append(model.training)
        if model.training:
            time.sleep(0.05)
        x, y = batch
        return F.mse_loss(model(x), y)

    model = torch.nn.Linear(3, 1)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), slow_step,
                      max_epochs=50, time_budget=0.3, out_dir=tmp_path, progress=False,
                      tensorboard=False)
    start = time.perf_counter()
    history = trainer.fit(*loaders())
    assert len(history) == 1 and trainer.stopped  # stopped in epoch 1 of 50
    trained = calls.count(True)
    assert 1 <= trained < 16  # fewer than the epoch's 16 batches
    assert calls.count(False) == 2  # the cut epoch is still validated (2 batches)
    assert "val_loss" in history[0]
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
    assert time.perf_counter() - start < 0.3 + 10  # generous: a loaded machine


def test_no_budget_runs_every_epoch_and_bad_budgets_are_errors():
    model = torch.nn.Linear(3, 1)
    step = lambda m, b: F.mse_loss(m(b[0]), b[1])  # noqa: E731
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), step, max_epochs=3,
                      progress=False)
    assert len(trainer.fit(*loaders())) == 3
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="time_budget"):
            Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), step, time_budget=bad)
