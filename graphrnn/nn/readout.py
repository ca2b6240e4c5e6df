r"""Graph readouts: one vector per graph of a PyG batch, invariant to the order of its nodes.

All take node states ``x [N, F]`` and the ``batch`` vector ``[N]`` (graph of each node, ``None``
for a single graph) and return ``[B, F_out]``; ``num_graphs`` sets ``B`` when trailing graphs may
be empty (default ``batch.max() + 1``).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import softmax

from .aggregate import AGGREGATIONS, aggregate


def _prepare(x: Tensor, batch: Tensor | None, num_graphs: int | None):
    if x.dim() != 2:
        raise ValueError(f"x must have shape [N, F], got {list(x.shape)}")
    if batch is None:
        batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        num_graphs = 1 if num_graphs is None else num_graphs
    elif batch.shape != (x.size(0),):
        raise ValueError(f"batch must have shape [N] = [{x.size(0)}], got {list(batch.shape)}")
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if batch.numel() else 0
    return batch, num_graphs


def readout(x: Tensor, batch: Tensor | None = None, reduce: str = "sum",
            num_graphs: int | None = None) -> Tensor:
    r""":math:`r_g = \mathrm{reduce}_{i \in g}\, x_i` for every graph ``g``; ``reduce`` is
    ``"sum"``, ``"mean"`` or ``"max"``; empty graphs read out zeros. Returns ``[B, F]``."""
    if reduce not in AGGREGATIONS:
        raise ValueError(f"reduce={reduce!r} is not supported; expected one of {AGGREGATIONS}")
    batch, num_graphs = _prepare(x, batch, num_graphs)
    return aggregate(x, batch, num_graphs, reduce)


class SumReadout(nn.Module):
    r""":math:`r_g = \sum_{i \in g} x_i`."""

    def forward(self, x: Tensor, batch: Tensor | None = None,
                num_graphs: int | None = None) -> Tensor:
        return readout(x, batch, "sum", num_graphs)


class MeanReadout(nn.Module):
    r""":math:`r_g = \frac{1}{|g|} \sum_{i \in g} x_i`."""

    def forward(self, x: Tensor, batch: Tensor | None = None,
                num_graphs: int | None = None) -> Tensor:
        return readout(x, batch, "mean", num_graphs)


class AttentionReadout(nn.Module):
    r"""Gated (attention) readout.

    With ``gate="sigmoid"`` this is GGNN's graph output (Li et al. 2016, eq. 7,
    `arXiv:1511.05493 <https://arxiv.org/abs/1511.05493>`_):

    .. math:: r_g = \sum_{i \in g} \sigma(a(x_i)) \odot b(x_i)

    and with ``gate="softmax"`` the weights are normalised over each graph's nodes
    (soft attention, as PyG's ``AttentionalAggregation``):

    .. math:: r_g = \sum_{i \in g} \mathrm{softmax}_{j \in g}(a(x_j))_i \, b(x_i)

    Args:
        in_channels: node width :math:`F`.
        out_channels: output width (default ``in_channels``).
        gate: ``"softmax"`` or ``"sigmoid"`` (default ``"softmax"``).
        gate_nn: :math:`a`, mapping ``[N, F] -> [N, 1]`` (one weight per node) or
            ``[N, out_channels]`` (one per channel) (default ``nn.Linear(F, 1)``).
        nn: :math:`b`, mapping ``[N, F] -> [N, out_channels]`` (default ``nn.Linear(F, out)``).
    """

    def __init__(self, in_channels: int, out_channels: int | None = None,
                 gate: str = "softmax", gate_nn: nn.Module | None = None,
                 nn: nn.Module | None = None):  # noqa: A002 (PyG's name for it)
        super().__init__()
        import torch.nn as tnn
        if gate not in ("softmax", "sigmoid"):
            raise ValueError(f"gate={gate!r} is not supported; expected 'softmax' or 'sigmoid'")
        out_channels = out_channels or in_channels
        self.in_channels, self.out_channels, self.gate = in_channels, out_channels, gate
        self.gate_nn = gate_nn if gate_nn is not None else tnn.Linear(in_channels, 1)
        self.nn = nn if nn is not None else tnn.Linear(in_channels, out_channels)

    def forward(self, x: Tensor, batch: Tensor | None = None,
                num_graphs: int | None = None) -> Tensor:
        batch, num_graphs = _prepare(x, batch, num_graphs)
        score = self.gate_nn(x)                                        # [N, 1] or [N, out]
        weight = (torch.sigmoid(score) if self.gate == "sigmoid"
                  else softmax(score, batch, num_nodes=num_graphs, dim=0))
        return aggregate(weight * self.nn(x), batch, num_graphs, "sum")

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, gate={self.gate!r}"


class Set2Set(nn.Module):
    r"""Set2Set readout (Vinyals et al. 2016, `arXiv:1511.06391 <https://arxiv.org/abs/1511.06391>`_),
    ``processing_steps`` rounds of content attention driven by an LSTM:

    .. math::
        q_t = \mathrm{LSTM}(q^*_{t-1}), \quad a_{i,t} = \mathrm{softmax}_{i \in g}(x_i \cdot q_t),
        \quad r_t = \sum_{i \in g} a_{i,t} x_i, \quad q^*_t = [q_t, r_t]

    with :math:`q^*_0 = 0`; the output is :math:`q^*_T`, of width ``2 * in_channels``.

    Args:
        in_channels: node width :math:`F`.
        processing_steps: rounds :math:`T` (default 3).
        num_layers: LSTM layers (default 1).
    """

    def __init__(self, in_channels: int, processing_steps: int = 3, num_layers: int = 1):
        super().__init__()
        if processing_steps < 1:
            raise ValueError(f"processing_steps must be at least 1, got {processing_steps}")
        self.in_channels, self.out_channels = in_channels, 2 * in_channels
        self.processing_steps, self.num_layers = processing_steps, num_layers
        self.lstm = nn.LSTM(2 * in_channels, in_channels, num_layers)

    def forward(self, x: Tensor, batch: Tensor | None = None,
                num_graphs: int | None = None) -> Tensor:
        batch, num_graphs = _prepare(x, batch, num_graphs)
        shape = (self.num_layers, num_graphs, self.in_channels)
        state = (x.new_zeros(shape), x.new_zeros(shape))
        q_star = x.new_zeros(num_graphs, 2 * self.in_channels)
        for _ in range(self.processing_steps):
            q, state = self.lstm(q_star.unsqueeze(0), state)           # q: [1, B, F]
            q = q.squeeze(0)
            score = (x * q.index_select(0, batch)).sum(-1, keepdim=True)   # [N, 1]
            a = softmax(score, batch, num_nodes=num_graphs, dim=0)
            r = aggregate(a * x, batch, num_graphs, "sum")             # [B, F]
            q_star = torch.cat([q, r], dim=-1)
        return q_star

    def extra_repr(self) -> str:
        return f"{self.in_channels}, processing_steps={self.processing_steps}"
