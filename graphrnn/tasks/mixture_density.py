r"""Mixture density outputs over 2-D pen offsets: a mixture of bivariate Gaussians with
correlation per step, its negative log-likelihood and (biased) sampling.

Graves 2013, "Generating Sequences With Recurrent Neural Networks", section 4,
https://arxiv.org/abs/1308.0850. The network's output :math:`\hat y` (6M numbers per step) gives,
for M components,

.. math::

    \pi_k = \mathrm{softmax}(\hat\pi)_k, \quad \mu_k = \hat\mu_k, \quad
    \sigma_k = \exp(\hat\sigma_k), \quad \rho_k = \tanh(\hat\rho_k)

    p(x) = \sum_k \pi_k \, \mathcal N(x \mid \mu_k, \sigma_k, \rho_k), \qquad
    \mathcal N = \frac{1}{2\pi\sigma_1\sigma_2\sqrt{1-\rho^2}}
    \exp\Big(-\frac{Z}{2(1-\rho^2)}\Big),

    Z = z_1^2 + z_2^2 - 2\rho z_1 z_2, \quad z_i = (x_i - \mu_i)/\sigma_i.

Graves' end-of-stroke Bernoulli is not here: the caller decides how sequences end (fixed-length
pen digits need none). Biased sampling (Graves section 5.4, eqs. 61-62) sharpens the
distribution with a bias :math:`b \ge 0`: :math:`\sigma_k = \exp(\hat\sigma_k - b)`,
:math:`\pi = \mathrm{softmax}(\hat\pi (1 + b))`; :math:`b = 0` samples the model itself.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

__all__ = ["Mixture", "MixtureDensityHead", "split_mixture", "mixture_log_prob", "mixture_nll",
           "sample_mixture"]

#: keeps 1 - rho^2 away from 0 (rho = tanh(.) reaches +-1 in float32 for large inputs)
RHO_EPS = 1e-6


class Mixture(NamedTuple):
    """Parameters of a mixture of M bivariate Gaussians, for any leading shape ``*``.

    ``log_pi`` (*, M) log mixture weights, ``mu`` (*, M, 2) means, ``log_sigma`` (*, M, 2) log
    standard deviations, ``rho`` (*, M) correlations in (-1, 1).
    """
    log_pi: Tensor
    mu: Tensor
    log_sigma: Tensor
    rho: Tensor


def split_mixture(raw: Tensor, bias: float = 0.0) -> Mixture:
    r"""Raw outputs (*, 6M), laid out ``[pi_hat (M), mu (2M: x, y of each component),
    sigma_hat (2M), rho_hat (M)]``, to a :class:`Mixture`; ``bias`` as in Graves' eqs. 61-62
    (:math:`\sigma = \exp(\hat\sigma - b)`, :math:`\pi = \mathrm{softmax}((1+b)\hat\pi)`)."""
    if raw.size(-1) % 6:
        raise ValueError(f"split_mixture: the last dimension holds 6 numbers per component, got "
                         f"{raw.size(-1)}")
    if bias < 0:
        raise ValueError(f"split_mixture: bias must be >= 0, got {bias}")
    m = raw.size(-1) // 6
    pi_hat, mu, sigma_hat, rho_hat = raw.split([m, 2 * m, 2 * m, m], -1)
    shape = raw.shape[:-1] + (m, 2)
    return Mixture(torch.log_softmax(pi_hat * (1 + bias), -1), mu.reshape(shape),
                   sigma_hat.reshape(shape) - bias, torch.tanh(rho_hat))


def mixture_log_prob(mixture: Mixture, x: Tensor) -> Tensor:
    """:math:`\\log p(x)` of points ``x`` (*, 2) under ``mixture`` (leading shape *); returns
    (*)."""
    if x.shape[:-1] != mixture.log_pi.shape[:-1] or x.size(-1) != 2:
        raise ValueError(f"mixture_log_prob: x must be {tuple(mixture.log_pi.shape[:-1]) + (2,)} "
                         f"for this mixture, got {tuple(x.shape)}")
    z = (x.unsqueeze(-2) - mixture.mu) * torch.exp(-mixture.log_sigma)        # (*, M, 2)
    rho = mixture.rho
    one_minus = (1 - rho * rho).clamp_min(RHO_EPS)                             # (*, M)
    big_z = z.pow(2).sum(-1) - 2 * rho * z[..., 0] * z[..., 1]
    log_normal = (-math.log(2 * math.pi) - mixture.log_sigma.sum(-1) - 0.5 * torch.log(one_minus)
                  - big_z / (2 * one_minus))
    return torch.logsumexp(mixture.log_pi + log_normal, -1)


def mixture_nll(mixture: Mixture, x: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean negative log-likelihood (nats per point) of ``x`` (*, 2), over the points where
    ``mask`` (*) is true (default: all)."""
    nll = -mixture_log_prob(mixture, x)
    if mask is None:
        return nll.mean()
    return nll[mask].mean()


def sample_mixture(mixture: Mixture, generator: torch.Generator | None = None) -> Tensor:
    """One point per mixture: (*, 2). Picks a component by ``pi``, then draws
    :math:`x = \\mu + (\\sigma_1 e_1, \\sigma_2(\\rho e_1 + \\sqrt{1-\\rho^2} e_2))`."""
    lead, m = mixture.log_pi.shape[:-1], mixture.log_pi.size(-1)
    probs = mixture.log_pi.exp().reshape(-1, m)
    k = torch.multinomial(probs, 1, generator=generator).view(lead + (1,))     # (*, 1)
    mu = mixture.mu.gather(-2, k.unsqueeze(-1).expand(lead + (1, 2))).squeeze(-2)
    sigma = mixture.log_sigma.gather(-2, k.unsqueeze(-1).expand(lead + (1, 2))).squeeze(-2).exp()
    rho = mixture.rho.gather(-1, k).squeeze(-1)
    e = torch.randn(lead + (2,), generator=generator, device=mu.device, dtype=mu.dtype)
    second = rho * e[..., 0] + torch.sqrt((1 - rho * rho).clamp_min(0)) * e[..., 1]
    return mu + sigma * torch.stack([e[..., 0], second], -1)


class MixtureDensityHead(nn.Module):
    """``Linear(in_features, 6 * num_components)`` read as a :class:`Mixture` (see
    :func:`split_mixture`).

    Args:
        in_features (int): H, the width of the states read.
        num_components (int): M, Gaussians in the mixture (1: a single Gaussian). (default: ``20``)

    Shape:
        - input: (*, H); output: a :class:`Mixture` with leading shape *.
    """

    def __init__(self, in_features: int, num_components: int = 20):
        super().__init__()
        if num_components < 1:
            raise ValueError(f"MixtureDensityHead: num_components must be >= 1, got "
                             f"{num_components}")
        self.in_features, self.num_components = in_features, num_components
        self.linear = nn.Linear(in_features, 6 * num_components)

    def forward(self, input: Tensor, bias: float = 0.0) -> Mixture:
        return split_mixture(self.linear(input), bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_components={self.num_components}"
