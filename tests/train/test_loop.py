import os
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graphrnn.train.checkpoint import load_checkpoint
from graphrnn.train.history import read_csv
from graphrnn.train.loop import Trainer

torch.set_num_threads(1)
CONFIG = {"hidden": 8, "dropout": 0.2}
VOCAB = ["<pad>", "a", "b"]


def dataset(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return TensorDataset(x, x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]))


def loaders(generator=False):
    """40 samples in batches of 8 -> 5 steps per epoch, shuffled with torch's global generator or
    with a generator of the loader's own."""
    gen = torch.Generator().manual_seed(3) if generator else None
    return (DataLoader(dataset(40, 0), batch_size=8, shuffle=True, generator=gen),
            DataLoader(dataset(20, 1), batch_size=16))


def noisy_step(model, batch):
    """An MSE step that also draws from Python's and NumPy's generators, and uses dropout."""
    x, y = batch
    out = model(x)
    scale = 1 + 0.1 * random.random() + 0.1 * float(np.random.rand())
    return F.mse_loss(out, y) * scale, {"mae": (out - y).abs().mean()}


def make_trainer(out_dir, model_seed=0, step=noisy_step, **kw):
    torch.manual_seed(model_seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Tanh(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=5e-2)
    kw.setdefault("scheduler", torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5))
    kw.setdefault("max_epochs", 5)
    return Trainer(model, opt, step, seed=0, out_dir=out_dir, progress=False, tensorboard=False,
                   config=CONFIG, vocab=VOCAB, **kw)


def failing_after(n_calls, exc):
    """noisy_step that raises ``exc`` on training step ``n_calls + 1`` (validation not counted)."""
    calls = [0]

    def step(model, batch):
        calls[0] += model.training
        if calls[0] > n_calls:
            raise exc("stop here")
        return noisy_step(model, batch)
    return step


def without_time(history):
    return [{k: v for k, v in row.items() if k != "time"} for row in history]


def test_training_reduces_loss_and_writes_files(tmp_path):
    trainer = make_trainer(tmp_path, max_epochs=6)
    history = trainer.fit(*loaders())
    assert [r["epoch"] for r in history] == [1, 2, 3, 4, 5, 6]
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 2
    assert {"train_mae", "val_loss", "val_mae", "lr"} <= set(history[0])
    assert sorted(os.listdir(tmp_path)) == ["best.pt", "curves.png", "last.pt", "metrics.csv"]
    assert without_time(read_csv(tmp_path / "metrics.csv")) == without_time(history)
    ck = load_checkpoint(tmp_path / "last.pt")
    assert ck["epoch"] == 6 and ck["config"] == CONFIG and ck["vocab"] == VOCAB
    best = min(history, key=lambda r: r["val_loss"])
    assert load_checkpoint(tmp_path / "best.pt")["epoch"] == best["epoch"] == trainer.best_epoch
    assert [r["lr"] for r in history] == pytest.approx([0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125])


@pytest.mark.parametrize("generator", [False, True])
def test_resume_after_interruption_matches_uninterrupted_run_bitwise(tmp_path, generator):
    full = make_trainer(tmp_path / "full")
    full_history = full.fit(*loaders(generator))

    # cut in the middle of epoch 3 (5 steps per epoch); the resumed model starts from other weights
    cut = make_trainer(tmp_path / "cut", step=failing_after(12, RuntimeError))
    with pytest.raises(RuntimeError, match="stop here"):
        cut.fit(*loaders(generator))
    assert load_checkpoint(tmp_path / "cut" / "last.pt")["epoch"] == 2
    torch.manual_seed(1234), random.seed(5), np.random.seed(5)  # disturb every generator
    resumed = make_trainer(tmp_path / "cut", model_seed=99, resume=True)
    history = resumed.fit(*loaders(generator))

    for a, b in zip(full.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    sa, sb = full.optimizer.state_dict()["state"], resumed.optimizer.state_dict()["state"]
    assert all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)
    assert resumed.scheduler.last_epoch == full.scheduler.last_epoch == 5
    assert without_time(history) == without_time(full_history)
    assert [r["epoch"] for r in read_csv(tmp_path / "cut" / "metrics.csv")] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_crash_mid_epoch_leaves_last_good_checkpoint(tmp_path, exc):
    trainer = make_trainer(tmp_path, step=failing_after(12, exc))
    with pytest.raises(exc):
        trainer.fit(*loaders())
    ck = load_checkpoint(tmp_path / "last.pt")
    assert ck["epoch"] == 2 and len(ck["trainer"]["history"]) == 2
    assert load_checkpoint(tmp_path / "best.pt")["epoch"] in (1, 2)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert len(read_csv(tmp_path / "metrics.csv")) == 2
    # the weights saved are those after epoch 2, not the partly trained ones in memory
    assert not all(torch.equal(ck["model"][k], v) for k, v in trainer.model.state_dict().items())


def scripted(scores):
    """An evaluate_fn returning the next score of ``scores`` each epoch."""
    it = iter(scores)
    return lambda model, loader: {"score": next(it)}


def test_early_stopping_counts_epochs_without_improvement(tmp_path):
    trainer = make_trainer(None, evaluate_fn=scripted([5, 4, 4.5, 3.95, 4.1, 1, 1]), max_epochs=7,
                           monitor="val_score", patience=3, min_delta=0.1)
    history = trainer.fit(*loaders())
    # 3.95 beats 4 by less than min_delta: epochs 3, 4, 5 do not improve -> stop after epoch 5
    assert len(history) == 5 and trainer.stopped
    assert trainer.best_epoch == 2 and trainer.best_score == 4

    trainer = make_trainer(None, evaluate_fn=scripted([0.1, 0.2, 0.3, 0.3, 0.3]), mode="max",
                           monitor="val_score", patience=3)
    assert len(trainer.fit(*loaders())) == 5 and not trainer.stopped and trainer.best_epoch == 3


def test_resume_keeps_early_stopping_counter_and_stopped_flag(tmp_path):
    scores = [5, 4, 4.5, 4.6, 4.7, 4.8, 0]

    def run(step=noisy_step, start=0, **kw):
        return make_trainer(tmp_path, step=step, evaluate_fn=scripted(scores[start:]), max_epochs=7,
                            monitor="val_score", patience=3, **kw)

    with pytest.raises(RuntimeError):
        run(step=failing_after(5 * 4 + 1, RuntimeError)).fit(*loaders())  # dies in epoch 5
    assert load_checkpoint(tmp_path / "last.pt")["trainer"]["bad_epochs"] == 2
    trainer = run(start=4, resume=True)
    history = trainer.fit(*loaders())
    assert len(history) == 5 and trainer.stopped and trainer.best_epoch == 2

    calls = []
    again = run(step=lambda m, b: calls.append(1), resume=True)
    assert len(again.fit(*loaders())) == 5 and calls == []  # a finished run does not train on


def test_reduce_on_plateau_and_per_step_schedules():
    trainer = make_trainer(None, evaluate_fn=scripted([1.0] * 4), monitor="val_score",
                           max_epochs=4, scheduler=None)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(trainer.optimizer, factor=0.5, patience=0)
    trainer.scheduler, trainer._plateau = plateau, True
    # the first epoch sets the plateau's best; each later one fails to beat it -> halve
    assert [r["lr"] for r in trainer.fit(*loaders())] == pytest.approx([0.05, 0.05, 0.025, 0.0125])

    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1 / (1 + s))
    trainer = Trainer(model, opt, noisy_step, scheduler=sched, scheduler_interval="step",
                      max_epochs=2, progress=False)
    assert [r["lr"] for r in trainer.fit(*loaders())] == pytest.approx([1.0, 1 / 6])


@pytest.mark.parametrize("kind", ["norm", "value"])
def test_gradient_clipping_bounds_the_update(kind):
    x = 100 * torch.randn(8, 4)
    loader = [(x, 1000 * torch.ones(8, 1))]

    def update(**clip):
        torch.manual_seed(0)
        model = nn.Linear(4, 1, bias=False)
        w0 = model.weight.detach().clone()
        Trainer(model, torch.optim.SGD(model.parameters(), lr=1.0), noisy_step, max_epochs=1,
                progress=False, **clip).fit(loader)
        return model.weight.detach() - w0  # = -grad with lr=1

    free = update()
    if kind == "norm":
        step = update(clip_grad_norm=0.5)
        assert free.norm() > 1 and step.norm() == pytest.approx(0.5, rel=1e-5)
        assert torch.allclose(step / step.norm(), free / free.norm(), atol=1e-6)  # same direction
    else:
        step = update(clip_grad_value=0.01)
        assert free.abs().max() > 1 and step.abs().max() == pytest.approx(0.01)
        assert torch.equal(step.sign(), free.sign())


def test_restore_best_loads_best_weights(tmp_path):
    trainer = make_trainer(tmp_path, evaluate_fn=scripted([3, 1, 2, 2]), monitor="val_score",
                           max_epochs=4, restore_best=True)
    trainer.fit(*loaders())
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] == 2
    state = trainer.model.state_dict()
    assert all(torch.equal(best["model"][k], state[k]) for k in state)


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(KeyError, match="monitor='val_acc' is not among"):
        make_trainer(None, monitor="val_acc").fit(*loaders())

    def nan_step(model, batch):
        return model(batch[0]).sum() * float("nan")
    with pytest.raises(FloatingPointError, match="epoch 1, batch 0"):
        make_trainer(None, step=nan_step).fit(*loaders())
    with pytest.raises(ValueError, match="train_loader yielded no batches"):
        make_trainer(None).fit([])
    with pytest.raises(ValueError, match="resume=True needs out_dir"):
        make_trainer(None, resume=True)
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        make_trainer(None, resume=tmp_path / "nowhere.pt").fit(*loaders())
    with pytest.raises(TypeError, match="config must be JSON"):
        Trainer(nn.Linear(1, 1), None, noisy_step, config={"f": print})
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        make_trainer(None, mode="best")
    make_trainer(tmp_path, max_epochs=1).fit(*loaders())
    with pytest.raises(ValueError, match="tracked monitor='val_loss'"):
        make_trainer(tmp_path, monitor="train_loss", resume=True).fit(*loaders())


def test_progress_shows_epoch_lines_on_stdout(capsys):
    trainer = make_trainer(None, max_epochs=2)
    trainer.progress = True
    trainer.fit(*loaders())
    out = capsys.readouterr()
    lines = [ln for ln in out.out.splitlines() if ln.startswith("epoch ")]
    assert len(lines) == 2 and "train_loss=" in lines[0] and "val_mae=" in lines[1]
    assert "batch" in out.err and "mae=" in out.err  # the tqdm bar with running metrics


def test_resume_with_changed_settings_is_refused_naming_them(tmp_path):
    make_trainer(tmp_path, max_epochs=2).fit(*loaders())
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Tanh(), nn.Linear(8, 1))
    changed = Trainer(model, torch.optim.Adam(model.parameters()), noisy_step, out_dir=tmp_path,
                      resume=True, progress=False, tensorboard=False, max_epochs=3,
                      config={"hidden": 16, "dropout": 0.2, "device": "cuda"})
    with pytest.raises(ValueError, match=r"settings differ .*: hidden 16 \(was 8\); resume"):
        changed.fit(*loaders())
    same = make_trainer(tmp_path, max_epochs=3, resume=True)  # same settings: continues
    assert [r["epoch"] for r in same.fit(*loaders())] == [1, 2, 3]


def test_ctrl_c_keeps_checkpoints_and_writes_the_curves_of_finished_epochs(tmp_path):
    trainer = make_trainer(tmp_path, step=failing_after(7, KeyboardInterrupt), max_epochs=4)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(*loaders())
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
