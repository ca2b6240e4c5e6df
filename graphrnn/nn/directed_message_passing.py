r"""Directed message passing: states live on directed edges, not on nodes (D-MPNN; Yang et al.
2019, "Analyzing Learned Molecular Representations for Property Prediction", J. Chem. Inf. Model.,
`arXiv:1904.01561 <https://arxiv.org/abs/1904.01561>`_, the model of chemprop).

Each directed edge ``u -> v`` carries a state :math:`h_{uv}`. A message into ``u -> v`` sums the
states of the edges entering ``u`` *except the one coming back from* ``v``, so information does
not flow straight back along the edge it came from (the "totters" of node-centred passing):

.. math::
    h^0_{uv} = \sigma(W_i [x_u ; e_{uv}]), \qquad
    m^{t+1}_{uv} = \sum_{k \to u,\ k \neq v} h^t_{ku} = M^t_u - h^t_{vu}, \quad
    M^t_u = \sum_{k \to u} h^t_{ku},

.. math::
    h^{t+1}_{uv} = \sigma(h^0_{uv} + W_m m^{t+1}_{uv}), \qquad
    h_v = \sigma\Big(W_a \Big[x_v ; \sum_{u \to v} h^T_{uv}\Big]\Big)

with :math:`\sigma` the ReLU. Computing :math:`M_u` once per round and subtracting the reverse edge
makes a round cost :math:`O(E)`, not :math:`O(\sum_u \deg(u)^2)`. An edge without a reverse in the
graph (a one-way edge) subtracts nothing.

The rounds run on :func:`graphrnn.engine.propagate_rounds` with :class:`DirectedMessagePassing`
as the round cell: its state is the edge states :math:`h_{uv}`, and :math:`h^0_{uv}` (with the
reverse-edge index) is the input hoisted out of the loop.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..engine.rounds import RoundGraph, propagate_rounds
from ..schedule import check_edge_index


def reverse_edges(edge_index: Tensor, num_nodes: int | None = None) -> Tensor:
    r"""For every edge ``k = (u, v)`` of ``edge_index [2, E]``, the index of an edge ``(v, u)``,
    or ``-1`` where the graph has none. ``[E]`` long.

    Works for any edge order (a sort of the ``E`` keys ``u N + v``, then a binary search); with
    parallel edges one of the reverse edges is chosen.
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {list(edge_index.shape)}")
    num_edges = edge_index.size(1)
    if num_edges == 0:
        return edge_index.new_empty(0)
    n = int(num_nodes) if num_nodes is not None else int(edge_index.max()) + 1
    u, v = edge_index
    key = u * n + v
    sorted_key, order = torch.sort(key)
    want = v * n + u
    pos = torch.searchsorted(sorted_key, want).clamp_(max=num_edges - 1)
    found = sorted_key[pos] == want
    return torch.where(found, order[pos], torch.full_like(pos, -1))


class DirectedMessagePassing(nn.Module):
    r"""D-MPNN (Yang et al. 2019, module docstring): ``num_steps`` rounds over directed-edge
    states, then one node state per node.

    Args:
        in_channels: node feature width :math:`F`.
        edge_dim: edge feature width :math:`F_e`.
        hidden_channels: state width :math:`H`.
        num_steps: message-passing rounds :math:`T` (default 2; chemprop's ``depth`` is
            ``T + 1``, counting the input layer).
        bias: biases in :math:`W_i, W_m` (default ``False``, as chemprop); :math:`W_a` always has
            one.
        dropout: dropout on the edge states after each round and on the node output (default 0).

    Shapes:
        - x: :math:`[N, F]`, edge_index: :math:`[2, E]` (a bond is two directed edges),
          edge_attr: :math:`[E, F_e]`.
        - output: node states :math:`[N, H]`.
    """

    def __init__(self, in_channels: int, edge_dim: int, hidden_channels: int, num_steps: int = 2,
                 bias: bool = False, dropout: float = 0.0):
        super().__init__()
        if min(in_channels, edge_dim, hidden_channels) < 1:
            raise ValueError(f"in_channels, edge_dim and hidden_channels must be positive, got "
                             f"{in_channels}, {edge_dim}, {hidden_channels}")
        if num_steps < 0:
            raise ValueError(f"num_steps must be 0 or positive, got {num_steps}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.in_channels, self.edge_dim = in_channels, edge_dim
        self.hidden_channels = hidden_channels
        self.num_steps = num_steps
        self.lin_input = nn.Linear(in_channels + edge_dim, hidden_channels, bias=bias)    # W_i
        self.lin_message = nn.Linear(hidden_channels, hidden_channels, bias=bias)         # W_m
        self.lin_output = nn.Linear(in_channels + hidden_channels, hidden_channels)       # W_a
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor,
                reverse: Tensor | None = None) -> Tensor:
        r"""Node states ``[N, H]``. ``reverse`` (``[E]``, from :func:`reverse_edges`) may be given
        to skip recomputing it; by default it is computed from ``edge_index``."""
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f"x must have shape [N, {self.in_channels}], got {list(x.shape)}")
        check_edge_index(edge_index, x.size(0))
        num_edges = edge_index.size(1)
        if edge_attr is None or edge_attr.shape != (num_edges, self.edge_dim):
            raise ValueError(f"edge_attr must have shape [E, {self.edge_dim}] = [{num_edges}, "
                             f"{self.edge_dim}], got "
                             f"{None if edge_attr is None else list(edge_attr.shape)}")
        n = x.size(0)
        if reverse is None:
            reverse = reverse_edges(edge_index, n)
        elif reverse.shape != (num_edges,):
            raise ValueError(f"reverse must have shape [E] = [{num_edges}], got "
                             f"{list(reverse.shape)}")
        senders, receivers = edge_index
        # a one-way edge points at row E, a zero row appended to the edge states
        rev = torch.where(reverse < 0, torch.full_like(reverse, num_edges), reverse)
        h0 = self.lin_input(torch.cat([x.index_select(0, senders), edge_attr], dim=1))  # [E, H]
        (h,) = propagate_rounds(self, (h0, rev), RoundGraph(edge_index, n), self.num_steps,
                                state=(torch.relu(h0),), projected=True)
        incoming = h.new_zeros(n, self.hidden_channels).index_add_(0, receivers, h)     # [N, H]
        return self.dropout(torch.relu(self.lin_output(torch.cat([x, incoming], dim=1))))

    def round(self, xw: tuple[Tensor, Tensor], state: tuple[Tensor], graph: RoundGraph,
              t: int) -> tuple[Tensor]:
        r"""One round of :func:`graphrnn.engine.propagate_rounds` on the edge states:
        :math:`h^{t+1}_{uv} = \sigma(h^0_{uv} + W_m (M^t_u - h^t_{vu}))`. ``xw`` is
        ``(h0 [E, H], reverse edge or E [E])``."""
        h0, rev = xw
        (h,) = state
        senders, receivers = graph.edge_index
        into = h.new_zeros(graph.num_nodes, self.hidden_channels).index_add_(0, receivers, h)
        m = into.index_select(0, senders) - torch.cat([h, h.new_zeros(1, h.size(1))]).index_select(
            0, rev)                                                                     # [E, H]
        return (self.dropout(torch.relu(h0 + self.lin_message(m))),)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, edge_dim={self.edge_dim}, "
                f"num_steps={self.num_steps}")
