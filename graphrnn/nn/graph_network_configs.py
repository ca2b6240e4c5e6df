"""Named configurations of :class:`~graphrnn.nn.GraphNetwork` (Battaglia et al. 2018): thin
subclasses that switch inputs off or build the update MLPs, and encode-process-decode around a
core block."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from .graph_network import GraphNetwork
from .mlp import mlp


class GNBlock(GraphNetwork):
    r"""A :class:`GraphNetwork` built from feature sizes, with its own MLPs (see :func:`mlp`) whose
    first Linear is split by input.

    Args:
        node_in, edge_in, global_in: input widths :math:`F_v, F_e, F_u` (``global_in=0``: the graphs
            have no global features, and the global update is dropped).
        node_out, edge_out, global_out: output widths (default: ``hidden_features``).
        hidden_features: width of the hidden layers (default 128).
        num_layers: Linears per MLP (default 2).
        activation: module class for the hidden activation (default ``nn.ReLU``).
        layer_norm: end each MLP with a LayerNorm (default ``False``).
        **kwargs: the input switches and aggregators of :class:`GraphNetwork`.
    """

    def __init__(self, node_in: int, edge_in: int, global_in: int = 0, *,
                 node_out: int | None = None, edge_out: int | None = None,
                 global_out: int | None = None, hidden_features: int = 128,
                 num_layers: int = 2, activation: Callable[[], nn.Module] = nn.ReLU,
                 layer_norm: bool = False, **kwargs):
        node_out = node_out or hidden_features
        edge_out = edge_out or hidden_features
        global_out = global_out or hidden_features
        has_u = global_in > 0
        if not has_u:
            kwargs.setdefault("use_globals", False)
            kwargs.setdefault("node_use_globals", False)
        g = lambda key: kwargs.get(key, True)  # noqa: E731
        e_in = (edge_in * g("use_edges") + node_in * g("use_sender_nodes")
                + node_in * g("use_receiver_nodes") + global_in * g("use_globals"))
        v_in = node_in * g("node_use_nodes") + edge_out * g("node_use_edges") \
            + global_in * g("node_use_globals")
        u_in = (global_in * g("global_use_globals") + edge_out * g("global_use_edges")
                + node_out * g("global_use_nodes"))
        make = lambda i, o: mlp(i, hidden_features, o, num_layers, activation, layer_norm)  # noqa
        super().__init__(make(e_in, edge_out), make(v_in, node_out),
                         make(u_in, global_out) if has_u else None, **kwargs)


class InteractionNetwork(GraphNetwork):
    r"""Interaction network (Battaglia et al. 2016, `arXiv:1612.00222
    <https://arxiv.org/abs/1612.00222>`_) as a GN block without globals:

    .. math::
        e'_k = \phi^e(e_k, v_{s_k}, v_{r_k}), \qquad v'_i = \phi^v(v_i, \textstyle\sum_{r_k=i} e'_k)

    Args:
        edge_model: :math:`\phi^e` on ``[edge_attr, x[sender], x[receiver]]``.
        node_model: :math:`\phi^v` on ``[x, aggregated edge_attr']``.
        aggr: how incoming edges are aggregated (default ``"sum"``).
        use_edges: whether :math:`\phi^e` reads ``edge_attr`` (default ``True``).

    Called like :class:`GraphNetwork` (so it can be the core of :class:`EncodeProcessDecode`);
    ``u`` passes through unchanged.
    """

    def __init__(self, edge_model, node_model, aggr: str = "sum", use_edges: bool = True):
        super().__init__(edge_model, node_model, None, use_edges=use_edges, use_globals=False,
                         node_use_globals=False, edge_aggr=aggr)



class DeepSets(GraphNetwork):
    r"""Deep sets (Zaheer et al. 2017, `arXiv:1703.06114 <https://arxiv.org/abs/1703.06114>`_) as a
    GN block that ignores edges:

    .. math::
        v'_i = \phi^v(v_i, u), \qquad u' = \phi^u(\rho(\{v'_i\}))

    Args:
        node_model: :math:`\phi^v` on ``[x, u[batch]]`` (or ``[x]`` if ``use_globals=False``).
        global_model: :math:`\phi^u` on the aggregated nodes.
        aggr: :math:`\rho` (default ``"sum"``).
        use_globals: whether :math:`\phi^v` reads ``u`` (default ``False``).
    """

    def __init__(self, node_model, global_model, aggr: str = "sum", use_globals: bool = False):
        super().__init__(None, node_model, global_model, node_use_edges=False,
                         node_use_globals=use_globals, global_use_globals=False,
                         global_use_edges=False, global_node_aggr=aggr)

    def forward(self, x: Tensor, batch: Tensor | None = None, u: Tensor | None = None):
        """Returns ``(x', u')``; ``u'`` has one row per graph of ``batch``. (A set has no edges, so
        unlike :class:`GraphNetwork` this takes no ``edge_index``.)"""
        edge_index = torch.empty(2, 0, dtype=torch.long, device=x.device)
        out = super().forward(x, edge_index, None, u, batch)
        return out[0], out[2]


class GraphIndependent(GraphNetwork):
    r"""Applies each model to its own field only: :math:`e' = \phi^e(e)`, :math:`v' = \phi^v(v)`,
    :math:`u' = \phi^u(u)`; used as the encoder and decoder of :class:`EncodeProcessDecode`."""

    def __init__(self, edge_model=None, node_model=None, global_model=None):
        super().__init__(edge_model, node_model, global_model, use_sender_nodes=False,
                         use_receiver_nodes=False, use_globals=False, node_use_edges=False,
                         node_use_globals=False, global_use_edges=False, global_use_nodes=False)


class EncodeProcessDecode(nn.Module):
    r"""Encode-process-decode (Battaglia et al. 2018, Fig. 6c): an independent encoder, a core GN
    block run ``num_steps`` times on its own output, and an independent decoder.

    .. math::
        G^0 = \text{enc}(G), \quad G^{t} = \text{core}([G^0, G^{t-1}]), \quad
        \hat G^t = \text{dec}(G^t)

    where ``[G^0, G^{t-1}]`` concatenates each field of the encoded input with the latent
    (``concat_encoded=True``, as in Battaglia et al.) or is just ``G^{t-1}`` otherwise.

    Args:
        encoder: a :class:`GraphIndependent` (or any GN block).
        core: a :class:`GraphNetwork`; its inputs are twice the latent widths when
            ``concat_encoded``.
        decoder: a :class:`GraphIndependent`.
        num_steps: core rounds (default 1).
        concat_encoded: feed the encoded graph to every round (default ``True``).

    Returns from ``forward``: the decoded ``(x, edge_attr, u)`` after the last round, or a list of
    them, one per round, if ``return_all_steps=True``.
    """

    def __init__(self, encoder: GraphNetwork, core: GraphNetwork, decoder: GraphNetwork,
                 num_steps: int = 1, concat_encoded: bool = True):
        super().__init__()
        if num_steps < 1:
            raise ValueError(f"num_steps must be at least 1, got {num_steps}")
        self.encoder, self.core, self.decoder = encoder, core, decoder
        self.num_steps, self.concat_encoded = num_steps, concat_encoded

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                u: Tensor | None = None, batch: Tensor | None = None,
                return_all_steps: bool = False):
        x0, e0, u0 = self.encoder(x, edge_index, edge_attr, u, batch)[:3]
        x, e, u = x0, e0, u0
        outputs = []
        for _ in range(self.num_steps):
            if self.concat_encoded:
                cx, ce, cu = (_cat_opt(x0, x), _cat_opt(e0, e), _cat_opt(u0, u))
            else:
                cx, ce, cu = x, e, u
            x, e, u = self.core(cx, edge_index, ce, cu, batch)[:3]
            if return_all_steps:
                outputs.append(self.decoder(x, edge_index, e, u, batch)[:3])
        if return_all_steps:
            return outputs
        return self.decoder(x, edge_index, e, u, batch)[:3]

    def extra_repr(self) -> str:
        return f"num_steps={self.num_steps}, concat_encoded={self.concat_encoded}"


def _cat_opt(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    if a is None or b is None:
        return b
    return torch.cat([a, b], dim=-1)


__all__ = ["GNBlock", "InteractionNetwork", "DeepSets", "GraphIndependent",
           "EncodeProcessDecode"]
