"""The pen-trajectory recogniser and the class-conditional mixture-density RNN."""
from __future__ import annotations

import math

import pytest
import torch

from graphrnn.models.handwriting import (
    MixtureDensityRNN,
    StrokeClassifier,
    classifier_step,
    mdn_step,
    pen_features,
)
from graphrnn.tasks.mixture_density import mixture_log_prob

torch.set_num_threads(1)


def _points(b: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.rand(b, 8, 2, generator=torch.Generator().manual_seed(seed)) * 100


def test_features_are_offsets_then_positions():
    p = _points()
    f = pen_features(p)
    assert f.shape == (6, 8, 4)
    assert torch.allclose(f[..., :2].cumsum(1) * 100, p, atol=1e-3)
    assert torch.allclose(f[..., 2:], p / 100 - 0.5)
    assert pen_features(p, positions=False).shape == (6, 8, 2)


@pytest.mark.parametrize("kw", [{}, {"cell": "gru", "bidirectional": False},
                                {"positions": False, "pooling": "mean", "num_layers": 1}])
def test_classifier_shapes_and_it_learns_a_batch(kw):
    torch.manual_seed(0)
    model = StrokeClassifier(hidden_size=16, **kw)
    p, y = _points(20), torch.arange(20) % 10
    assert model(p).shape == (20, 10)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = classifier_step(model, (p, y))[0].item()
    for _ in range(80):
        loss, metrics = classifier_step(model, (p, y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.6 * first and metrics["acc"] > 0.4
    with pytest.raises(ValueError, match=r"points must be \(B, T, 2\)"):
        model(torch.zeros(3, 8))
    with pytest.raises(ValueError, match="cell must be one of"):
        StrokeClassifier(cell="rnn")


def test_mdn_is_causal_and_class_conditional():
    torch.manual_seed(0)
    model = MixtureDensityRNN(hidden_size=16, num_layers=1, num_components=3).eval()
    p, y = _points(4), torch.tensor([0, 1, 2, 3])
    m = model(p, y)
    assert m.log_pi.shape == (4, 8, 3) and m.mu.shape == (4, 8, 3, 2)
    # the mixture of step t reads only the offsets before t
    q = p.clone()
    q[:, 5:] += 7.0
    m2 = model(q, y)
    assert torch.allclose(m2.mu[:, :6], m.mu[:, :6]) and not torch.allclose(m2.mu[:, 6], m.mu[:, 6])
    m3 = model(p, torch.tensor([9, 9, 9, 9]))
    assert not torch.allclose(m3.mu[:, 0], m.mu[:, 0])


def test_mdn_nll_is_per_point_in_the_units_of_the_points():
    torch.manual_seed(0)
    model = MixtureDensityRNN(hidden_size=8, num_layers=1, num_components=2, scale=50.0)
    p, y = _points(3), torch.tensor([1, 2, 3])
    d = torch.diff(p, dim=1, prepend=torch.zeros(3, 1, 2)) / 50
    expected = -mixture_log_prob(model(p, y), d).mean() + 2 * math.log(50)
    assert mdn_step(model, (p, y)).item() == pytest.approx(expected.item(), abs=1e-5)


def test_mdn_sampling_shapes_seed_and_bias():
    torch.manual_seed(0)
    model = MixtureDensityRNN(hidden_size=8, num_layers=1, num_components=1)
    y = torch.tensor([7, 7, 3])
    a = model.sample(y, 8, generator=torch.Generator().manual_seed(3))
    b = model.sample(y, 8, generator=torch.Generator().manual_seed(3))
    assert a.shape == (3, 8, 2) and torch.equal(a, b)
    # a large bias shrinks every sigma by exp(-b): two seeds then draw nearly the same digit
    c = model.sample(y, 8, bias=12.0, generator=torch.Generator().manual_seed(4))
    d = model.sample(y, 8, bias=12.0, generator=torch.Generator().manual_seed(5))
    assert (c - d).abs().max() < 0.1 < (a - model.sample(y, 8)).abs().max()
