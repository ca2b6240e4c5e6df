import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphrnn.nn import LSTM
from graphrnn.tasks.bptt import CarriedState, TBPTTWindows, batchify, detach_state, tbptt_step
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
