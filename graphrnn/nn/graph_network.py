r"""Graph-network blocks (Battaglia et al. 2018, `arXiv:1806.01261 <https://arxiv.org/abs/1806.01261>`_).

A GN block maps a graph ``(x, edge_attr, u)`` to a graph of the same shape with three updates, run in
this order on a (batched) PyG graph with ``edge_index[0]`` the senders and ``edge_index[1]`` the
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

* an ``nn.Linear``, or an ``nn.Sequential`` whose first module is an ``nn.Linear`` (an ordinary MLP):
  the first Linear is *split by input*. Its weight is cut into column blocks, one per input, and each
  input is projected on its own, node and global features *before* they are gathered onto edges, so
  no ``[E, F_e + 2 F_v + F_u]`` concatenation is ever built. This is the same function as the MLP
  applied to the concatenation, and it is how :class:`GNBlock` builds its MLPs. On fully connected
  particle systems this measured about 2x faster than PyG's ``MetaLayer`` with the same MLPs (see
  :mod:`graphrnn.bench.graph`).
* a recurrent cell ``nn.GRUCell``, ``nn.LSTMCell`` or ``nn.RNNCell``: the field's previous value is
  the cell's hidden state and the *other* enabled inputs are its input; run the block again and the
  state is carried across rounds. For GRU and LSTM cells the input projection ``weight_ih`` is split
  by input in the same way, and the gate arithmetic of ``torch.nn`` follows (same parameters, same
  numbers up to rounding). An ``nn.LSTMCell`` also keeps a memory cell, which the block takes and
  returns (see :meth:`GraphNetwork.forward`).
* anything else callable: it is called on the concatenation of the enabled inputs.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter

AGGREGATIONS = ("sum", "mean", "max")
_RECURRENT = (nn.GRUCell, nn.RNNCell, nn.LSTMCell)


def aggregate(src: Tensor, index: Tensor, dim_size: int, reduce: str) -> Tensor:
    r"""Reduce the rows of ``src`` [M, F] into ``dim_size`` groups given by ``index`` [M].

    Empty groups give zeros for every reduction (``sum``, ``mean``, ``max``). Sum and mean use
    ``index_add`` (its backward is a cheap ``index_select``), max uses ``scatter_reduce``.
    """
    if reduce not in AGGREGATIONS:
        raise ValueError(f"aggregation {reduce!r} is not supported; expected one of {AGGREGATIONS}")
    if reduce == "max":
        return scatter(src, index, dim=0, dim_size=dim_size, reduce="max")
    out = src.new_zeros((dim_size,) + src.shape[1:]).index_add_(0, index, src)
    if reduce == "mean":
        count = torch.bincount(index, minlength=dim_size).clamp_(min=1).to(src.dtype)
        out = out / count.view((-1,) + (1,) * (src.dim() - 1))
    return out


def mlp(in_features: int, hidden_features: int, out_features: int, num_layers: int = 2,
        activation: Callable[[], nn.Module] = nn.ReLU, layer_norm: bool = False) -> nn.Sequential:
    r"""An ordinary MLP ``Linear -> act -> ... -> Linear`` (``num_layers`` Linears), optionally
    followed by ``LayerNorm(out_features)``.

    Its first module is an ``nn.Linear``, so a :class:`GraphNetwork` given it splits that layer by
    input.
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    sizes = [in_features] + [hidden_features] * (num_layers - 1) + [out_features]
    layers: list[nn.Module] = []
    for i in range(num_layers):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < num_layers - 1:
            layers.append(activation())
    if layer_norm:
        layers.append(nn.LayerNorm(out_features))
    return nn.Sequential(*layers)


class GNMemory(NamedTuple):
    """Memory cells of the ``nn.LSTMCell`` updates of a block: ``[E, H]``, ``[N, H]``, ``[B, H]``
    (``None`` for an update that is not an LSTM cell, or to start from zeros)."""
    edge: Optional[Tensor] = None
    node: Optional[Tensor] = None
    globals: Optional[Tensor] = None


def _first_linear(model) -> Optional[nn.Linear]:
    if isinstance(model, nn.Linear):
        return model
    if isinstance(model, nn.Sequential) and len(model) > 0 and isinstance(model[0], nn.Linear):
        return model[0]
    return None


def _apply(model, inputs: list[tuple[Tensor, Optional[Tensor]]], widths: list[int], split: bool,
           hidden=None):
    """Apply one update function to a list of ``(t, idx)`` inputs.

    Each input is ``(t, idx)``: the row-wise input is ``t[idx]`` (or ``t`` when ``idx`` is None). On
    the split path each ``t`` is projected first and the projection is gathered, which is where the
    saving comes from (``t`` has N or B rows, ``t[idx]`` has E or N).
    """
    if isinstance(model, (nn.GRUCell, nn.LSTMCell)) and split:
        _check_width(model, model.input_size, widths)
        gi = _split_projection(inputs, widths, model.weight_ih, model.bias_ih)   # [rows, k H]
        return _gru_step(model, gi, hidden) if isinstance(model, nn.GRUCell) else \
            _lstm_step(model, gi, hidden)
    if isinstance(model, _RECURRENT):
        return model(_concat([_gather(t, i) for t, i in inputs]), hidden)
    lin = _first_linear(model) if split else None
    if lin is None:
        return model(_concat([_gather(t, i) for t, i in inputs]))
    _check_width(model, lin.in_features, widths)
    out = _split_projection(inputs, widths, lin.weight, lin.bias)
    if isinstance(model, nn.Sequential):
        for layer in list(model)[1:]:
            out = layer(out)
    return out


def _check_width(model, in_features: int, widths: list[int]) -> None:
    if in_features != sum(widths):
        raise ValueError(f"{type(model).__name__} takes {in_features} input features, but the "
                         f"enabled inputs have {' + '.join(map(str, widths))} = {sum(widths)}")


def _gru_step(cell: nn.GRUCell, gi: Tensor, h: Tensor) -> Tensor:
    """``nn.GRUCell`` from a precomputed input projection ``gi = W_ih x + b_ih`` ``[rows, 3H]``
    (gate order r, z, n as in torch.nn)."""
    gh = F.linear(h, cell.weight_hh, cell.bias_hh)
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return n + z * (h - n)                                  # (1 - z) n + z h


def _lstm_step(cell: nn.LSTMCell, gi: Tensor, state: tuple[Tensor, Tensor]):
    """``nn.LSTMCell`` from a precomputed input projection ``[rows, 4H]`` (gates i, f, g, o)."""
    h, c = state
    gates = gi + F.linear(h, cell.weight_hh, cell.bias_hh)
    i, f, g, o = gates.chunk(4, 1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _split_projection(inputs: list[tuple[Tensor, Optional[Tensor]]], widths: list[int],
                      weight: Tensor, bias: Optional[Tensor]) -> Tensor:
    """``cat([t[idx] for t, idx in inputs]) @ weight.T + bias`` without building the concatenation
    or gathering the raw features."""
    # Project every input on its own rows (N or B of them for gathered inputs, not E), then gather.
    # Inputs that end in the same gather (x[sender] and u[batch[sender]]) are summed on the N rows
    # first, so each edge gathers one H-wide row per index instead of one per input. In-place adds
    # are safe: no op here saves its output for backward.
    groups: dict[int, tuple[Tensor, Tensor]] = {}
    out = None
    start = 0
    for (t, idx), w in zip(inputs, widths):
        block = weight[:, start:start + w]
        start += w
        if idx is None:
            if out is None and bias is not None:
                out = torch.addmm(bias, t, block.t())                # [rows, H]
            elif out is None:
                out = F.linear(t, block)
            else:
                out = out.add_(F.linear(t, block))
            continue
        p = F.linear(t, block)                                        # [rows of t, H]
        *inner, last = idx if isinstance(idx, tuple) else (idx,)
        for i in inner:
            p = p.index_select(0, i)
        if id(last) in groups:
            groups[id(last)] = (last, groups[id(last)][1] + p)
        else:
            groups[id(last)] = (last, p)
    for last, p in groups.values():
        g = p.index_select(0, last)                                   # [rows, H]
        out = g if out is None else out.add_(g)
    if bias is not None and all(i is not None for _, i in inputs):
        out = out.add_(bias)
    return out


def _gather(t: Tensor, idx) -> Tensor:
    """``t[idx]``; a tuple ``idx`` means successive gathers ``t[idx[0]][idx[1]]...``."""
    if idx is None:
        return t
    for i in idx if isinstance(idx, tuple) else (idx,):
        t = t.index_select(0, i)
    return t


def _concat(tensors: list[Tensor]) -> Tensor:
    return tensors[0] if len(tensors) == 1 else torch.cat(tensors, dim=-1)


def _run(model, split: bool, inputs, widths, prev: Optional[Tensor], memory: Optional[Tensor],
         name: str):
    """Run ``update``; for recurrent cells ``prev`` is the hidden state. Returns (value, memory)."""
    if isinstance(model, _RECURRENT):
        if prev is None:
            raise ValueError(f"the {name} update is a recurrent cell, but the graph has no {name} "
                             "features to use as its state")
        if not inputs:
            raise ValueError(f"the {name} update is a recurrent cell, but no input other than its "
                             "own state is enabled")
        if isinstance(model, nn.LSTMCell):
            c = memory if memory is not None else torch.zeros_like(prev)
            h, c = _apply(model, inputs, widths, split, (prev, c))
            return h, c
        return _apply(model, inputs, widths, split, prev), None
    if not inputs:
        raise ValueError(f"the {name} update has no enabled input")
    return _apply(model, inputs, widths, split), None


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

    @property
    def has_memory(self) -> bool:
        """Whether some update is an ``nn.LSTMCell`` (``forward`` then also returns a memory)."""
        return any(isinstance(m, nn.LSTMCell)
                   for m in (self.edge_model, self.node_model, self.global_model))

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                u: Optional[Tensor] = None, batch: Optional[Tensor] = None,
                memory: Optional[GNMemory] = None):
        """Run the block once. ``memory`` is the :class:`GNMemory` a previous call returned
        (only for blocks with an ``nn.LSTMCell`` update; ``None`` starts from zeros)."""
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must have shape [2, E], got {list(edge_index.shape)}")
        num_nodes = x.size(0)
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
            recurrent = isinstance(self.edge_model, _RECURRENT)
            if self.use_edges and not recurrent:
                _need(edge_attr, "edge_attr", "use_edges=True")
                inputs.append((edge_attr, None)); widths.append(edge_attr.size(-1))
            if self.use_sender_nodes:
                inputs.append((x, senders)); widths.append(x.size(-1))
            if self.use_receiver_nodes:
                inputs.append((x, receivers)); widths.append(x.size(-1))
            if self.use_globals:
                _need(u, "u", "use_globals=True for the edge update")
                # u[batch[sender]]: two gathers, so the split path can add u's projection to the
                # sender nodes' (N rows) before the one gather onto edges.
                inputs.append((u, (batch, senders))); widths.append(u.size(-1))
            edge_attr, mem_e = _run(self.edge_model, split, inputs, widths, edge_attr,
                                    memory.edge, "edge")

        if self.node_model is not None:
            inputs, widths = [], []
            recurrent = isinstance(self.node_model, _RECURRENT)
            if self.node_use_nodes and not recurrent:
                inputs.append((x, None)); widths.append(x.size(-1))
            if self.node_use_edges:
                _need(edge_attr, "edge_attr", "node_use_edges=True")
                agg = node_edge_sum = aggregate(edge_attr, receivers, num_nodes, self.edge_aggr)
                inputs.append((agg, None)); widths.append(agg.size(-1))
            if self.node_use_globals:
                _need(u, "u", "node_use_globals=True")
                inputs.append((u, batch)); widths.append(u.size(-1))
            x, mem_v = _run(self.node_model, split, inputs, widths, x, memory.node, "node")

        if self.global_model is not None:
            inputs, widths = [], []
            recurrent = isinstance(self.global_model, _RECURRENT)
            if self.global_use_globals and not recurrent:
                _need(u, "u", "global_use_globals=True")
                inputs.append((u, None)); widths.append(u.size(-1))
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
                inputs.append((agg, None)); widths.append(agg.size(-1))
            if self.global_use_nodes:
                agg = aggregate(x, batch, num_graphs, self.global_node_aggr)
                inputs.append((agg, None)); widths.append(agg.size(-1))
            u, mem_u = _run(self.global_model, split, inputs, widths, u, memory.globals,
                            "global")

        if self.has_memory:
            return x, edge_attr, u, GNMemory(mem_e, mem_v, mem_u)
        return x, edge_attr, u

    def extra_repr(self) -> str:
        defaults = dict(use_edges=True, use_sender_nodes=True, use_receiver_nodes=True,
                        use_globals=True, node_use_nodes=True, node_use_edges=True,
                        node_use_globals=True, global_use_globals=True, global_use_edges=True,
                        global_use_nodes=True, edge_aggr="sum", global_edge_aggr="sum",
                        global_node_aggr="sum", split_first_linear=True)
        return ", ".join(f"{k}={getattr(self, k)!r}" for k, v in defaults.items()
                         if getattr(self, k) != v)


def _need(t: Optional[Tensor], name: str, why: str) -> None:
    if t is None:
        raise ValueError(f"{name} is None, but the block needs it ({why}); pass {name} or switch "
                         "that input off")


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
                 node_out: Optional[int] = None, edge_out: Optional[int] = None,
                 global_out: Optional[int] = None, hidden_features: int = 128,
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

    def forward(self, x: Tensor, batch: Optional[Tensor] = None, u: Optional[Tensor] = None):
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

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Optional[Tensor] = None,
                u: Optional[Tensor] = None, batch: Optional[Tensor] = None,
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


def _cat_opt(a: Optional[Tensor], b: Optional[Tensor]) -> Optional[Tensor]:
    if a is None or b is None:
        return b
    return torch.cat([a, b], dim=-1)
