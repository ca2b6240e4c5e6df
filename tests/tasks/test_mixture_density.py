"""Mixture of bivariate Gaussians: log-likelihood against a hand computation and against
torch.distributions, the raw-output layout and bias, sampling shapes and statistics."""
from __future__ import annotations

import math

import pytest
import torch

from graphrnn.tasks.mixture_density import (
    Mixture,
    MixtureDensityHead,
    mixture_log_prob,
    mixture_nll,
    sample_mixture,
    split_mixture,
)


def _mixture(log_pi, mu, sigma, rho) -> Mixture:
    return Mixture(torch.tensor(log_pi), torch.tensor(mu), torch.tensor(sigma).log(),
                   torch.tensor(rho))


def test_one_component_log_prob_by_hand():
    # mu = (1, 2), sigma = (0.5, 2), rho = 0.3, x = (1.5, 1)
    m = _mixture([[0.0]], [[[1.0, 2.0]]], [[[0.5, 2.0]]], [[0.3]])
    z1, z2, rho = (1.5 - 1) / 0.5, (1 - 2) / 2, 0.3
    big_z = z1 ** 2 + z2 ** 2 - 2 * rho * z1 * z2
    by_hand = (-big_z / (2 * (1 - rho ** 2))
               - math.log(2 * math.pi * 0.5 * 2 * math.sqrt(1 - rho ** 2)))
    got = mixture_log_prob(m, torch.tensor([[1.5, 1.0]]))
    assert got.shape == (1,)
    assert got.item() == pytest.approx(by_hand, abs=1e-5)
    assert mixture_nll(m, torch.tensor([[1.5, 1.0]])).item() == pytest.approx(-by_hand, abs=1e-5)


def test_mixture_log_prob_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    raw = torch.randn(4, 3, 6 * 5, generator=g)
    m = split_mixture(raw)
    x = torch.randn(4, 3, 2, generator=g)
    sigma = m.log_sigma.exp()
    cov = torch.stack([torch.stack([sigma[..., 0] ** 2, m.rho * sigma[..., 0] * sigma[..., 1]],
                                   -1),
                       torch.stack([m.rho * sigma[..., 0] * sigma[..., 1], sigma[..., 1] ** 2],
                                   -1)], -2)
    mvn = torch.distributions.MultivariateNormal(m.mu, covariance_matrix=cov)
    expected = torch.logsumexp(m.log_pi + mvn.log_prob(x.unsqueeze(-2)), -1)
    assert torch.allclose(mixture_log_prob(m, x), expected, atol=1e-4)
    mask = torch.zeros(4, 3, dtype=torch.bool)
    mask[0, 1] = True
    assert mixture_nll(m, x, mask).item() == pytest.approx(-expected[0, 1].item(), abs=1e-4)


def test_split_layout_and_bias():
    m_comp = 2
    raw = torch.zeros(6 * m_comp)
    raw[:2] = torch.tensor([0.0, 1.0])                 # pi_hat
    raw[2:6] = torch.tensor([1.0, 2.0, 3.0, 4.0])      # mu: (x, y) of each component
    raw[6:10] = torch.tensor([0.0, 0.5, 1.0, 1.5])     # sigma_hat
    raw[10:] = torch.tensor([0.2, -0.4])               # rho_hat
    m = split_mixture(raw)
    assert m.mu.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert torch.allclose(m.log_sigma, torch.tensor([[0.0, 0.5], [1.0, 1.5]]))
    assert torch.allclose(m.rho, torch.tanh(torch.tensor([0.2, -0.4])))
    assert torch.allclose(m.log_pi.exp(), torch.softmax(torch.tensor([0.0, 1.0]), 0))
    biased = split_mixture(raw, bias=2.0)
    assert torch.allclose(biased.log_sigma, m.log_sigma - 2)
    assert torch.allclose(biased.log_pi.exp(), torch.softmax(torch.tensor([0.0, 3.0]), 0))
    with pytest.raises(ValueError, match="6 numbers per component"):
        split_mixture(torch.zeros(7))
    with pytest.raises(ValueError, match="bias must be >= 0"):
        split_mixture(raw, bias=-1)
    with pytest.raises(ValueError, match=r"x must be \(2,\)"):
        mixture_log_prob(m, torch.zeros(3))


def test_sampling_shapes_and_statistics():
    head = MixtureDensityHead(8, num_components=3)
    drawn = sample_mixture(head(torch.randn(5, 7, 8)))
    assert drawn.shape == (5, 7, 2)
    # one correlated Gaussian: sample mean and covariance
    n = 20000
    m = Mixture(torch.zeros(n, 1), torch.tensor([[2.0, -1.0]]).expand(n, 1, 2),
                torch.tensor([[0.5, 2.0]]).log().expand(n, 1, 2), torch.full((n, 1), 0.6))
    x = sample_mixture(m, torch.Generator().manual_seed(1))
    assert torch.allclose(x.mean(0), torch.tensor([2.0, -1.0]), atol=0.05)
    cov = torch.cov(x.T)
    assert torch.allclose(cov, torch.tensor([[0.25, 0.6], [0.6, 4.0]]), atol=0.1)
    # two far-apart components weighted 0.2 / 0.8
    two = Mixture(torch.tensor([0.2, 0.8]).log().expand(n, 2),
                  torch.tensor([[-10.0, 0.0], [10.0, 0.0]]).expand(n, 2, 2),
                  torch.zeros(n, 2, 2), torch.zeros(n, 2))
    share = (sample_mixture(two, torch.Generator().manual_seed(2))[:, 0] > 0).float().mean()
    assert share.item() == pytest.approx(0.8, abs=0.02)


def test_head_repr_and_arguments():
    assert "num_components=4" in repr(MixtureDensityHead(3, 4))
    with pytest.raises(ValueError, match="num_components must be >= 1"):
        MixtureDensityHead(3, 0)
