import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphrnn.nn import LSTM
from graphrnn.tasks.bptt import (
    CarriedState,
    LengthScaledLR,
    TBPTTWindows,
    batchify,
    detach_state,
    tbptt_step,
)
from graphrnn.train import Trainer

torch.set_num_threads(1)


def test_batchify_layout():
    s = torch.arange(11)
    b = batchify(s, 3)
    assert b.shape == (3, 3)
    assert b[:, 0].tolist() == [0, 1, 2] and b[:, 2].tolist() == [6, 7, 8]
    with pytest.raises(ValueError, match="num_streams"):
        batchify(s, 0)


def test_windows_cover_the_streams_in_order():
    x = torch.arange(10).view(10, 1).float()
    w = list(TBPTTWindows(x, x, 4))
    assert len(w) == len(TBPTTWindows(x, x, 4)) == 3
    assert [b.first for b in w] == [True, False, False]
    assert torch.equal(torch.cat([b.x for b in w]), x)
    with pytest.raises(ValueError, match="window"):
        TBPTTWindows(x, x, 0)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = LSTM(2, 5)
        self.out = nn.Linear(5, 1)

    def forward(self, x, state=None):
        h, state = self.rnn(x, state)
        return self.out(h), state


def test_truncated_bptt_carries_state_and_detaches_it():
    torch.manual_seed(0)
    model = Model()
    x = torch.randn(12, 3, 2, requires_grad=True)
    full, _ = model(x)
    carrier = CarriedState()
    outs = []
    windows = list(TBPTTWindows(x, torch.zeros(12, 3, 1), 4))
    for batch in windows:
        state = carrier.take(batch.first)
        if batch.first:
            assert state is None
        else:
            assert all(not s.requires_grad for s in state)  # detached
        out, state = model(batch.x, state)
        assert all(s.requires_grad for s in state)
        carrier.keep(state)
        outs.append(out)
    # carrying the state: the windows together compute the same outputs as the whole sequence
    assert torch.allclose(torch.cat(outs), full, atol=1e-6)
    # detaching: the last window's loss sends no gradient into earlier windows' inputs
    outs[-1].sum().backward()
    assert x.grad[:8].abs().max() == 0 and x.grad[8:].abs().max() > 0
    # a new pass starts from zero again
    assert carrier.take(True) is None


def test_detach_state_structures():
    a = torch.ones(2, requires_grad=True) * 2
    out = detach_state((a, [a]))
    assert not out[0].requires_grad and not out[1][0].requires_grad
    assert detach_state(None) is None
    with pytest.raises(TypeError, match="detach_state"):
        detach_state("h")


def test_tbptt_step_in_the_trainer_learns_a_delayed_echo():
    # y_t = x_{t-3}: the dependency crosses window boundaries, so the carried state matters
    torch.manual_seed(0)
    stream = torch.randn(3000, 1).sign()
    target = torch.cat([torch.zeros(3, 1), stream[:-3]])
    x, y = batchify(torch.cat([stream, torch.zeros(3000, 1)], 1), 10), batchify(target, 10)
    windows = TBPTTWindows(x, y, 5)
    model = Model()
    step = tbptt_step(lambda m, xb, s: m(xb, s), lambda out, yb: F.mse_loss(out, yb))
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), step, max_epochs=6,
                      clip_grad_norm=1.0, clip_grad_value=0.5, progress=False, seed=0,
                      tensorboard=False)
    history = trainer.fit(windows, windows)
    assert history[-1]["val_loss"] < 0.1 < history[0]["train_loss"]
    assert set(step.carrier._slots) == {True, False}  # training and evaluation kept apart


def test_batchify_batch_first_is_the_transpose():
    s = torch.arange(23)
    bf = batchify(s, 4, batch_first=True)
    assert bf.shape == (4, 5)
    assert torch.equal(bf, batchify(s, 4).t())
    assert bf[1].tolist() == list(range(5, 10))  # stream b is a contiguous piece


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("random_length", [False, True])
def test_windows_lose_and_repeat_no_token(batch_first, random_length):
    """Predicting stream[1:] from stream[:-1]: every target appears in exactly one window, right
    after its input, in order, whatever the window lengths; each window starts where the last
    one stopped."""
    torch.manual_seed(0)
    stream = torch.arange(5000)
    x = batchify(stream[:-1], 7, batch_first)
    y = batchify(stream[1:], 7, batch_first)
    windows = list(TBPTTWindows(x, y, 35, batch_first=batch_first, random_length=random_length))
    dim = 1 if batch_first else 0
    assert [w.first for w in windows] == [True] + [False] * (len(windows) - 1)
    assert torch.equal(torch.cat([w.x for w in windows], dim), x)
    assert torch.equal(torch.cat([w.y for w in windows], dim), y)
    assert all(torch.equal(w.y, w.x + 1) for w in windows)  # target = the next token
    targets = torch.cat([w.y.transpose(0, dim).reshape(-1) for w in windows])
    assert targets.unique().numel() == targets.numel() == 7 * (4999 // 7)  # none repeated
    assert sorted(targets.tolist()) == list(range(1, 1 + 7 * (4999 // 7)))  # none lost
    lengths = [w.x.size(dim) for w in windows]
    assert [w.scale for w in windows] == [n / 35 for n in lengths]
    if random_length:
        assert len(set(lengths[:-1])) > 3 and min(lengths[:-1]) >= 5 and max(lengths) <= 75
    else:
        assert set(lengths[:-1]) == {35}


def test_random_lengths_follow_the_recipe_and_the_generator():
    x = torch.zeros(1, 200_000)
    g = torch.Generator().manual_seed(3)
    lengths = [w.x.size(1) for w in TBPTTWindows(x, x, 70, batch_first=True, random_length=True,
                                                 generator=g)][:-1]
    short = [n for n in lengths if n < 52]  # the k/2 = 35 mode (N(35, 5)), 5% of windows
    assert 0.03 < len(short) / len(lengths) < 0.07
    long = torch.tensor([n for n in lengths if n >= 52], dtype=torch.float)
    assert abs(long.mean().item() - 69.5) < 0.5 and abs(long.std().item() - 5) < 0.5
    g.manual_seed(3)
    again = [w.x.size(1) for w in TBPTTWindows(x, x, 70, batch_first=True, random_length=True,
                                               generator=g)][:-1]
    assert again == lengths


def test_length_scaled_lr_scales_one_step_and_restores():
    w = nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w], lr=1.0)
    scaled = LengthScaledLR(opt)
    w.grad = torch.ones(3)
    scaled.scale = 0.5
    opt.step()
    assert torch.allclose(w, torch.full((3,), -0.5)) and opt.param_groups[0]["lr"] == 1.0
    scaled.scale = 2.0
    opt.step()
    assert torch.allclose(w, torch.full((3,), -2.5)) and opt.param_groups[0]["lr"] == 1.0
    scaled.remove()
    opt.step()
    assert torch.allclose(w, torch.full((3,), -3.5))


def test_tbptt_step_sets_the_window_scale_in_training_only():
    model = Model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaled = LengthScaledLR(opt)
    step = tbptt_step(lambda m, xb, s: m(xb, s), lambda out, yb: F.mse_loss(out, yb),
                      lr_scale=scaled)
    x = torch.randn(10, 2, 2)
    w = list(TBPTTWindows(x, torch.zeros(10, 2, 1), 4))
    step(model, w[-1])
    assert scaled.scale == 0.5  # the last window holds 2 of 4 steps
    model.eval()
    step(model, w[0])
    assert scaled.scale == 0.5
