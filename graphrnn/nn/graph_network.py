r"""Graph-network blocks (Battaglia et al. 2018, `arXiv:1806.01261 <https://arxiv.org/abs/1806.01261>`_).

A GN block maps a graph ``(x, edge_attr, u)`` to a graph of the same shape with three updates, run
in this order on a (batched) PyG graph with ``edge_index[0]`` the senders and ``edge_index[1]`` the
receivers:

.. math::
    e'_k &= \phi^e(e_k, v_{s_k}, v_{r_k}, u)                 && \text{for every edge } k \\
    \bar e'_i &= \rho^{e \to v}(\{e'_k : r_k = i\})           && \text{incoming edges of node } i \\
    v'_i &= \phi^v(v_i, \bar e'_i, u)                          && \text{for every node } i \\
    \bar e' &= \rho^{e \to u}(E'), \quad \bar v' = \rho^{v \to u}(V') && \text{per graph} \\
    u' &= \phi^u(u, \bar e', \bar v')

Every input of every update can be switched off, and any update may be ``None`` (its field passes
through unchanged). The inputs of an update are, in this fixed order (the order of the columns of a
concatenation, when one is made):

* edge update: ``[edge_attr, x[sender], x[receiver], u[graph of edge]]``
* node update: ``[x, aggregated incoming edge_attr', u[graph of node]]``
* global update: ``[u, aggregated edge_attr' per graph, aggregated x' per graph]``

How an update is applied depends on what it is:

* an ``nn.Linear``, or an ``nn.Sequential`` whose first module is an ``nn.Linear`` (an ordinary
  MLP): the first Linear is *split by input*. Its weight is cut into column blocks, one per input,
  and each input is projected on its own, node and global features *before* they are gathered onto
  edges, so no ``[E, F_e + 2 F_v + F_u]`` concatenation is ever built. This is the same function as
  the MLP applied to the concatenation, and it is how :class:`GNBlock` builds its MLPs. On fully
  connected particle systems this measured about 2x faster than PyG's ``MetaLayer`` with the same
  MLPs (see :mod:`graphrnn.bench.graph`).
* a recurrent cell ``nn.GRUCell``, ``nn.LSTMCell`` or ``nn.RNNCell`` (or a graphrnn cell): the
  field's previous value is the cell's hidden state and the *other* enabled inputs are its input;
  run the block again and the state is carried across rounds. The input projection ``weight_ih``
  is split by input in the same way, and the step is graphrnn's (:mod:`graphrnn.cells`, same
  parameters, ``torch.nn``'s numbers up to rounding). An LSTM cell also keeps a memory cell, which
  the block takes and returns (see :meth:`GraphNetwork.forward`).
* anything else callable: it is called on the concatenation of the enabled inputs.

How each update is applied is chosen once, when it is set (:mod:`.graph_network_updates`). A block
run for T rounds on its own output is a round cell of :func:`graphrnn.engine.propagate_rounds`
(:meth:`GraphNetwork.round`). The named configurations (GN block with its own MLPs, interaction
network, deep sets, graph-independent, encode-process-decode) are in
:mod:`.graph_network_configs`.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from ..engine.rounds import RoundGraph
from ..schedule import check_edge_index
from .aggregate import AGGREGATIONS, aggregate
from .graph_network_updates import update_for

_UPDATES = ("edge_model", "node_model", "global_model")


class GNMemory(NamedTuple):
    """Memory cells of the LSTM-cell updates of a block: ``[E, H]``, ``[N, H]``, ``[B, H]``
    (``None`` for an update that is not an LSTM cell, or to start from zeros)."""
    edge: Tensor | None = None
    node: Tensor | None = None
    globals: Tensor | None = None


class GraphNetwork(nn.Module):
    r"""A full graph-network block (Battaglia et al. 2018, Algorithm 1).

    .. math::
        e' = \phi^e(e, v_s, v_r, u), \quad v' = \phi^v(v, \rho^{e\to v}(e'), u), \quad
        u' = \phi^u(u, \rho^{e\to u}(e'), \rho^{v\to u}(v'))

    See the module docstring for the input order of each update and for how an update is applied
    (split first Linear, recurrent cell, or any callable on the concatenation).

    Args:
        edge_model: :math:`\phi^e`, or ``None`` to leave ``edge_attr`` unchanged (default ``None``).
        node_model: :math:`\phi^v`, or ``None`` (default ``None``).
        global_model: :math:`\phi^u`, or ``None`` (default ``None``).
        use_edges: :math:`\phi^e` reads ``edge_attr`` (default ``True``).
        use_sender_nodes: :math:`\phi^e` reads ``x[sender]`` (default ``True``).
        use_receiver_nodes: :math:`\phi^e` reads ``x[receiver]`` (default ``True``).
        use_globals: :math:`\phi^e` reads ``u`` (default ``True``).
        node_use_nodes: :math:`\phi^v` reads ``x`` (default ``True``).
        node_use_edges: :math:`\phi^v` reads the aggregated incoming edges (default ``True``).
        node_use_globals: :math:`\phi^v` reads ``u`` (default ``True``).
        global_use_globals: :math:`\phi^u` reads ``u`` (default ``True``).
        global_use_edges: :math:`\phi^u` reads the per-graph aggregated edges (default ``True``).
        global_use_nodes: :math:`\phi^u` reads the per-graph aggregated nodes (default ``True``).
        edge_aggr: :math:`\rho^{e\to v}`, ``"sum"``, ``"mean"`` or ``"max"`` (default ``"sum"``).
        global_edge_aggr: :math:`\rho^{e\to u}` (default ``"sum"``).
        global_node_aggr: :math:`\rho^{v\to u}` (default ``"sum"``).
        split_first_linear: split the first Linear of an MLP update (the ``weight_ih`` of a GRU
            or LSTM cell) by input (default ``True``); ``False`` always concatenates, which is
            slower and gives the same numbers up to rounding.

    For a recurrent-cell update, the switch for the field's own input (``use_edges``,
    ``node_use_nodes``, ``global_use_globals``) is ignored: that field is the cell's state.
    Edges must join nodes of the same graph (as in every PyG batch); an edge belongs to its
    sender's graph.

    Shapes:
        - x: :math:`[N, F_v]`, edge_index: :math:`[2, E]`, edge_attr: :math:`[E, F_e]`,
          u: :math:`[B, F_u]`, batch: :math:`[N]` with entries in ``0..B-1`` (``None``: one graph).
        - output: ``(x', edge_attr', u')`` with the updated widths; with an ``nn.LSTMCell``
          update also a :class:`GNMemory` as a fourth element.
    """

    def __init__(self, edge_model=None, node_model=None, global_model=None, *,
                 use_edges: bool = True, use_sender_nodes: bool = True,
                 use_receiver_nodes: bool = True, use_globals: bool = True,
                 node_use_nodes: bool = True, node_use_edges: bool = True,
                 node_use_globals: bool = True, global_use_globals: bool = True,
                 global_use_edges: bool = True, global_use_nodes: bool = True,
                 edge_aggr: str = "sum", global_edge_aggr: str = "sum",
                 global_node_aggr: str = "sum", split_first_linear: bool = True):
        super().__init__()
        for name, value in (("edge_aggr", edge_aggr), ("global_edge_aggr", global_edge_aggr),
                            ("global_node_aggr", global_node_aggr)):
            if value not in AGGREGATIONS:
                raise ValueError(f"{name}={value!r} is not supported; expected one of "
                                 f"{AGGREGATIONS}")
        for name, model in (("edge_model", edge_model), ("node_model", node_model),
                            ("global_model", global_model)):
            if model is not None and not callable(model):
                raise TypeError(f"{name} must be a module, a callable or None, got "
                                f"{type(model).__name__}")
        self.edge_model, self.node_model, self.global_model = edge_model, node_model, global_model
        self.use_edges, self.use_sender_nodes = use_edges, use_sender_nodes
        self.use_receiver_nodes, self.use_globals = use_receiver_nodes, use_globals
        self.node_use_nodes, self.node_use_edges = node_use_nodes, node_use_edges
        self.node_use_globals = node_use_globals
        self.global_use_globals, self.global_use_edges = global_use_globals, global_use_edges
        self.global_use_nodes = global_use_nodes
        self.edge_aggr, self.global_edge_aggr = edge_aggr, global_edge_aggr
        self.global_node_aggr = global_node_aggr
        self.split_first_linear = split_first_linear

    def __setattr__(self, name: str, value) -> None:
        super().__setattr__(name, value)
        if name in _UPDATES:       # choose how to apply the update once, not on every call
            self.__dict__.setdefault("_updates", {})[name] = update_for(value)

    @property
    def has_memory(self) -> bool:
        """Whether some update is an LSTM cell (``forward`` then also returns a memory)."""
        return any(u is not None and u.has_memory for u in self._updates.values())

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None,
                u: Tensor | None = None, batch: Tensor | None = None,
                memory: GNMemory | None = None):
        """Run the block once. ``memory`` is the :class:`GNMemory` a previous call returned
        (only for blocks with an ``nn.LSTMCell`` update; ``None`` starts from zeros)."""
        num_nodes = check_edge_index(edge_index, x.size(0))
        if batch is None:
            batch = torch.zeros(num_nodes, dtype=torch.long, device=x.device)
            num_graphs = 1 if u is None else u.size(0)
        else:
            if batch.shape != (num_nodes,):
                raise ValueError(f"batch must have shape [N] = [{num_nodes}], got "
                                 f"{list(batch.shape)}")
            num_graphs = u.size(0) if u is not None else (int(batch.max()) + 1 if num_nodes else 0)
        if u is not None and u.dim() != 2:
            raise ValueError(f"u must have shape [B, F_u], got {list(u.shape)}")
        senders, receivers = edge_index[0], edge_index[1]
        memory = memory if memory is not None else GNMemory()
        split = self.split_first_linear
        node_edge_sum = None
        mem_e = mem_v = mem_u = None

        if self.edge_model is not None:
            inputs, widths = [], []
            update = self._updates["edge_model"]
            recurrent = update.recurrent
            if self.use_edges and not recurrent:
                _need(edge_attr, "edge_attr", "use_edges=True")
                inputs.append((edge_attr, None))
                widths.append(edge_attr.size(-1))
            if self.use_sender_nodes:
                inputs.append((x, senders))
                widths.append(x.size(-1))
            if self.use_receiver_nodes:
                inputs.append((x, receivers))
                widths.append(x.size(-1))
            if self.use_globals:
                _need(u, "u", "use_globals=True for the edge update")
                # u[batch[sender]]: two gathers, so the split path can add u's projection to the
                # sender nodes' (N rows) before the one gather onto edges.
                inputs.append((u, (batch, senders)))
                widths.append(u.size(-1))
            edge_attr, mem_e = update(inputs, widths, split, edge_attr, memory.edge, "edge")

        if self.node_model is not None:
            inputs, widths = [], []
            update = self._updates["node_model"]
            recurrent = update.recurrent
            if self.node_use_nodes and not recurrent:
                inputs.append((x, None))
                widths.append(x.size(-1))
            if self.node_use_edges:
                _need(edge_attr, "edge_attr", "node_use_edges=True")
                agg = node_edge_sum = aggregate(edge_attr, receivers, num_nodes, self.edge_aggr)
                inputs.append((agg, None))
                widths.append(agg.size(-1))
            if self.node_use_globals:
                _need(u, "u", "node_use_globals=True")
                inputs.append((u, batch))
                widths.append(u.size(-1))
            x, mem_v = update(inputs, widths, split, x, memory.node, "node")

        if self.global_model is not None:
            inputs, widths = [], []
            update = self._updates["global_model"]
            recurrent = update.recurrent
            if self.global_use_globals and not recurrent:
                _need(u, "u", "global_use_globals=True")
                inputs.append((u, None))
                widths.append(u.size(-1))
            if self.global_use_edges:
                _need(edge_attr, "edge_attr", "global_use_edges=True")
                if (node_edge_sum is not None and self.edge_aggr == "sum"
                        and self.global_edge_aggr == "sum"):
                    # The sum over a graph's edges is the sum over its nodes of their incoming
                    # sums, already computed: N rows to reduce instead of E.
                    agg = aggregate(node_edge_sum, batch, num_graphs, "sum")
                else:
                    edge_batch = batch.index_select(0, senders)
                    agg = aggregate(edge_attr, edge_batch, num_graphs, self.global_edge_aggr)
                inputs.append((agg, None))
                widths.append(agg.size(-1))
            if self.global_use_nodes:
                agg = aggregate(x, batch, num_graphs, self.global_node_aggr)
                inputs.append((agg, None))
                widths.append(agg.size(-1))
            u, mem_u = update(inputs, widths, split, u, memory.globals, "global")

        if self.has_memory:
            return x, edge_attr, u, GNMemory(mem_e, mem_v, mem_u)
        return x, edge_attr, u

    def round(self, xw, state: tuple, graph: RoundGraph, t: int) -> tuple:
        """One round of :func:`graphrnn.engine.propagate_rounds`: the block applied to its own
        output. ``state`` is ``(x, edge_attr, u)``, followed by the :class:`GNMemory` fields
        ``(edge, node, globals)`` for a block with an LSTM update (zeros when left out);
        ``graph`` gives ``edge_index`` and ``batch``; ``xw`` and ``t`` are unused (no input but
        the state, the same weights every round)::

            graph = RoundGraph(edge_index, x.size(0), batch=batch)
            x, edge_attr, u, *memory = propagate_rounds(block, None, graph, T,
                                                        state=(x, edge_attr, u), projected=True)
        """
        x, edge_attr, u, *memory = state
        out = self.forward(x, graph.edge_index, edge_attr, u, graph.batch,
                           GNMemory(*memory) if memory else None)
        return (*out[:3], *out[3]) if self.has_memory else tuple(out)

    def extra_repr(self) -> str:
        defaults = dict(use_edges=True, use_sender_nodes=True, use_receiver_nodes=True,
                        use_globals=True, node_use_nodes=True, node_use_edges=True,
                        node_use_globals=True, global_use_globals=True, global_use_edges=True,
                        global_use_nodes=True, edge_aggr="sum", global_edge_aggr="sum",
                        global_node_aggr="sum", split_first_linear=True)
        return ", ".join(f"{k}={getattr(self, k)!r}" for k, v in defaults.items()
                         if getattr(self, k) != v)


def _need(t: Tensor | None, name: str, why: str) -> None:
    if t is None:
        raise ValueError(f"{name} is None, but the block needs it ({why}); pass {name} or switch "
                         "that input off")


__all__ = ["GraphNetwork", "GNMemory", "aggregate", "AGGREGATIONS"]
