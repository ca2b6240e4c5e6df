r"""Gated message passing: GGNN (Li et al. 2016) and MPNN (Gilmer et al. 2017).

``T`` synchronous rounds over a graph whose edges ``u -> v`` are ``edge_index[:, k] = (u, v)``:

.. math::
    m_v^{t+1} = \sum_{u \to v} f(h_v^t, h_u^t, e_{uv}), \qquad
    h_v^{t+1} = \mathrm{GRU}(m_v^{t+1}, h_v^t)

(or an LSTM cell, whose memory starts at zero), with :math:`h_v^0` the node features zero-padded to
the hidden width as in both papers. The message function :math:`f` is one of

* :class:`LinearMessage` -- GGNN: :math:`f = W_{\tau(uv)} h_u`, one matrix per edge type
  (`arXiv:1511.05493 <https://arxiv.org/abs/1511.05493>`_);
* :class:`EdgeNetwork` -- MPNN's edge network: :math:`f = A(e_{uv})\, h_u` with :math:`A` an MLP
  from the edge features to an :math:`H \times H` matrix (`arXiv:1704.01212
  <https://arxiv.org/abs/1704.01212>`_; NNConv-style);
* any module ``f(h_receiver [E, H], h_sender [E, H], edge_attr [E, F_e] or None) -> [E, H]``.

The rounds run on :func:`graphrnn.engine.propagate_rounds` with :class:`GatedMessagePassing` as the
round cell; what does not change between rounds is hoisted out of the loop: a message module may
offer ``message_kernel(edge_index, edge_attr)``, a function ``h [N, H] -> messages [E, H]`` with
the edge-dependent work done once (the edge network's matrices); the built-in messages do.
The node update is a graphrnn :class:`~graphrnn.cells.GRUCell` or
:class:`~graphrnn.cells.LSTMCell` (``torch.nn``'s parameter names and numbers).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cells import GRUCell, LSTMCell
from ..engine.rounds import RoundGraph, propagate_rounds
from .aggregate import AGGREGATIONS, aggregate


class LinearMessage(nn.Module):
    r"""GGNN message :math:`f(h_v, h_u, e_{uv}) = W_{\tau(uv)} h_u` (Li et al. 2016).

    The node states are projected once per round (``[N, H] -> [N, T H]``) and the projection is
    gathered onto edges, so no per-edge matmul is done.

    Args:
        channels: hidden width :math:`H`.
        num_edge_types: number of edge types :math:`T`; with ``T > 1`` ``edge_attr`` holds each
            edge's type, an integer tensor ``[E]`` (or ``[E, 1]``) with values ``0..T-1``
            (default 1: ``edge_attr`` is ignored).
        bias: add a learned bias per edge type (default ``False``).

    :class:`GatedMessagePassing` calls :meth:`messages` (project the nodes, then gather);
    ``forward`` gives the same messages from per-edge states, like any message module.
    """

    def __init__(self, channels: int, num_edge_types: int = 1, bias: bool = False):
        super().__init__()
        if num_edge_types < 1:
            raise ValueError(f"num_edge_types must be at least 1, got {num_edge_types}")
        self.channels, self.num_edge_types = channels, num_edge_types
        # weight[t] maps h_u to the message along an edge of type t (x @ weight[t], [H_in, H_out]).
        self.weight = nn.Parameter(torch.empty(num_edge_types, channels, channels))
        self.bias = nn.Parameter(torch.zeros(num_edge_types, channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.channels)
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def messages(self, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> Tensor:
        """Messages ``[E, H]`` along every edge, from node states ``h [N, H]``."""
        n, hdim = h.shape
        senders = edge_index[0]
        if self.num_edge_types == 1:
            return F.linear(h, self.weight[0].t(),
                            None if self.bias is None else self.bias[0]).index_select(0, senders)
        types = self._types(edge_attr, senders.numel())
        # [N, T*H] -> [N*T, H]: row u*T + t is W_t h_u.
        proj = (h @ self.weight.permute(1, 0, 2).reshape(hdim, -1)).view(n * self.num_edge_types,
                                                                           hdim)
        out = proj.index_select(0, senders * self.num_edge_types + types)
        if self.bias is not None:
            out = out + self.bias.index_select(0, types)
        return out

    def message_kernel(self, edge_index: Tensor, edge_attr: Tensor | None):
        """``h -> messages`` along ``edge_index`` (:meth:`messages`), for the rounds."""
        return lambda h: self.messages(h, edge_index, edge_attr)

    def _types(self, edge_attr: Tensor | None, num_edges: int) -> Tensor:
        if edge_attr is None:
            raise ValueError(f"LinearMessage with num_edge_types={self.num_edge_types} needs "
                             "edge_attr holding each edge's type, got None")
        types = edge_attr.reshape(-1).long()
        if types.numel() != num_edges:
            raise ValueError(f"edge types must have shape [E] = [{num_edges}], got "
                             f"{list(edge_attr.shape)}")
        return types

    def forward(self, h_receiver: Tensor, h_sender: Tensor,
                edge_attr: Tensor | None = None) -> Tensor:
        """Messages ``[E, H]`` from per-edge sender states ``[E, H]`` (``h_receiver`` unused)."""
        if self.num_edge_types == 1:
            out = h_sender @ self.weight[0]
            return out if self.bias is None else out + self.bias[0]
        types = self._types(edge_attr, h_sender.size(0))
        out = torch.bmm(h_sender.unsqueeze(1), self.weight.index_select(0, types)).squeeze(1)
        return out if self.bias is None else out + self.bias.index_select(0, types)

    def extra_repr(self) -> str:
        return (f"{self.channels}, num_edge_types={self.num_edge_types}, "
                f"bias={self.bias is not None}")


class EdgeNetwork(nn.Module):
    r"""MPNN edge network (Gilmer et al. 2017): :math:`f(h_v, h_u, e_{uv}) = A(e_{uv})\, h_u + b`,
    where :math:`A` is an MLP ``edge_dim -> hidden -> H*H`` reshaped to ``[H, H]``.

    The matrices depend on the edges only, so :class:`GatedMessagePassing` computes them once per
    forward (``[E, H, H]``) and reuses them every round.

    Args:
        channels: hidden width :math:`H`.
        edge_dim: edge feature width :math:`F_e`.
        hidden_channels: hidden width of :math:`A` (default 128).
        bias: add a learned bias to every message (default ``True``).
    """

    def __init__(self, channels: int, edge_dim: int, hidden_channels: int = 128, bias: bool = True):
        super().__init__()
        self.channels, self.edge_dim = channels, edge_dim
        self.net = nn.Sequential(nn.Linear(edge_dim, hidden_channels), nn.ReLU(),
                                 nn.Linear(hidden_channels, channels * channels))
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None

    def matrices(self, edge_attr: Tensor | None) -> Tensor:
        """``A(e)`` for every edge: ``[E, H, H]`` (row ``i`` of ``A`` gives message channel
        ``i``)."""
        if edge_attr is None:
            raise ValueError("EdgeNetwork needs edge_attr [E, edge_dim], got None")
        if edge_attr.dim() != 2 or edge_attr.size(1) != self.edge_dim:
            raise ValueError(f"edge_attr must have shape [E, {self.edge_dim}], got "
                             f"{list(edge_attr.shape)}")
        return self.net(edge_attr).view(-1, self.channels, self.channels)

    def messages(self, matrices: Tensor, h: Tensor, edge_index: Tensor) -> Tensor:
        """Messages ``[E, H]`` from precomputed ``matrices [E, H, H]`` and node states ``h``."""
        hs = h.index_select(0, edge_index[0]).unsqueeze(-1)            # [E, H, 1]
        out = torch.bmm(matrices, hs).squeeze(-1)                      # [E, H]
        return out if self.bias is None else out + self.bias

    def message_kernel(self, edge_index: Tensor, edge_attr: Tensor | None):
        """``h -> messages`` along ``edge_index``, with the matrices computed once here and
        reused every round (:meth:`matrices`, :meth:`messages`)."""
        matrices = self.matrices(edge_attr)
        return lambda h: self.messages(matrices, h, edge_index)

    def forward(self, h_receiver: Tensor, h_sender: Tensor, edge_attr: Tensor) -> Tensor:
        """The message for each edge given its end states ``[E, H]`` (``h_receiver`` unused)."""
        out = torch.bmm(self.matrices(edge_attr), h_sender.unsqueeze(-1)).squeeze(-1)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.channels}, edge_dim={self.edge_dim}, bias={self.bias is not None}"


class GatedMessagePassing(nn.Module):
    r"""``num_steps`` rounds of gated message passing (GGNN / MPNN, see the module docstring).

    .. math::
        h^0_v = [x_v, 0], \qquad m_v^{t+1} = \mathrm{AGG}_{u \to v}\, f_t(h_v^t, h_u^t, e_{uv}),
        \qquad h_v^{t+1} = \mathrm{cell}(m_v^{t+1}, h_v^t)

    Args:
        in_channels: node feature width :math:`F` (at most ``hidden_channels``; zero-padded).
        hidden_channels: state width :math:`H`.
        num_steps: rounds :math:`T` (default 3).
        message: ``"linear"`` (:class:`LinearMessage`), ``"edge_network"`` (:class:`EdgeNetwork`,
            needs ``edge_dim``) or a module ``f(h_receiver, h_sender, edge_attr) -> [E, H]``
            (default ``"linear"``).
        edge_dim: edge feature width, for ``message="edge_network"`` (default ``None``).
        num_edge_types: edge types for ``message="linear"`` (default 1).
        cell: ``"gru"`` (:class:`~graphrnn.cells.GRUCell`) or ``"lstm"``
            (:class:`~graphrnn.cells.LSTMCell`, memory starts at zero) (default ``"gru"``).
        aggr: ``"sum"``, ``"mean"`` or ``"max"`` over incoming messages (default ``"sum"``).
        share_weights: one message function for all rounds, as in both papers (default ``True``);
            ``False`` gives each round its own (built-in messages only).

    Shapes:
        - x: :math:`[N, F]`, edge_index: :math:`[2, E]`, edge_attr: :math:`[E, F_e]` (or edge types
          ``[E]``).
        - output: :math:`h^T` of shape :math:`[N, H]`.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_steps: int = 3,
                 message: str | nn.Module = "linear", edge_dim: int | None = None,
                 num_edge_types: int = 1, cell: str = "gru", aggr: str = "sum",
                 share_weights: bool = True):
        super().__init__()
        if in_channels > hidden_channels:
            raise ValueError(f"in_channels={in_channels} is larger than hidden_channels="
                             f"{hidden_channels}; node features are zero-padded to the hidden "
                             "width, so project them first or widen the state")
        if num_steps < 1:
            raise ValueError(f"num_steps must be at least 1, got {num_steps}")
        if aggr not in AGGREGATIONS:
            raise ValueError(f"aggr={aggr!r} is not supported; expected one of {AGGREGATIONS}")
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.num_steps, self.aggr, self.share_weights = num_steps, aggr, share_weights
        copies = 1 if share_weights else num_steps
        if isinstance(message, nn.Module):
            if not share_weights:
                raise ValueError("share_weights=False works with the built-in messages ('linear', "
                                 f"'edge_network') only, got a {type(message).__name__}")
            self.message = nn.ModuleList([message])
        elif message == "linear":
            self.message = nn.ModuleList([LinearMessage(hidden_channels, num_edge_types)
                                          for _ in range(copies)])
        elif message == "edge_network":
            if edge_dim is None:
                raise ValueError("message='edge_network' needs edge_dim (the edge feature width)")
            self.message = nn.ModuleList([EdgeNetwork(hidden_channels, edge_dim)
                                          for _ in range(copies)])
        else:
            raise ValueError(f"message={message!r} is not supported; expected 'linear', "
                             "'edge_network' or an nn.Module")
        if cell == "gru":
            self.cell = GRUCell(hidden_channels, hidden_channels)
        elif cell == "lstm":
            self.cell = LSTMCell(hidden_channels, hidden_channels)
        else:
            raise ValueError(f"cell={cell!r} is not supported; expected 'gru' or 'lstm'")
        self.cell_type = cell

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f"x must have shape [N, {self.in_channels}], got {list(x.shape)}")
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must have shape [2, E], got {list(edge_index.shape)}")
        h = F.pad(x, (0, self.hidden_channels - self.in_channels))     # [N, H], Li et al. padding
        state = (h,) if len(self.cell.state_sizes) == 1 else (h, torch.zeros_like(h))
        # What every round reads, once per forward: each message function as h -> [E, H].
        kernels = [self._message_kernel(f, edge_index, edge_attr) for f in self.message]
        graph = RoundGraph(edge_index, x.size(0), edge_attr)
        return propagate_rounds(self, kernels, graph, self.num_steps, state=state,
                                projected=True)[0]

    @staticmethod
    def _message_kernel(f: nn.Module, edge_index: Tensor, edge_attr: Tensor | None):
        offer = getattr(f, "message_kernel", None)
        if offer is not None:
            return offer(edge_index, edge_attr)
        senders, receivers = edge_index
        return lambda h: f(h.index_select(0, receivers), h.index_select(0, senders), edge_attr)

    def round(self, kernels, state: tuple[Tensor, ...], graph: RoundGraph,
              t: int) -> tuple[Tensor, ...]:
        r"""One round of :func:`graphrnn.engine.propagate_rounds`:
        :math:`m^{t+1} = \mathrm{AGG}\, f_t(h^t)`, then the cell's step from ``(h, [c])``."""
        msg = kernels[0 if self.share_weights else t](state[0])        # [E, H]
        m = aggregate(msg, graph.edge_index[1], graph.num_nodes, self.aggr)  # [N, H]
        return self.cell.step(self.cell.project(m), state)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.hidden_channels}, num_steps={self.num_steps}"
        if self.cell_type != "gru":
            s += f", cell={self.cell_type!r}"
        if self.aggr != "sum":
            s += f", aggr={self.aggr!r}"
        if not self.share_weights:
            s += ", share_weights=False"
        return s
