"""The cell contract shared by every recurrent cell.

A cell computes one step for a whole level of nodes at once. Its input projection is split off
(:meth:`RecurrentCell.project`) so the engine can apply it to every node in one matmul before the
loop, and the step proper (:meth:`RecurrentCell.step`) sees only the projected inputs and the
predecessors' states:

    xw = project(x)                       # (N, G), once for all nodes
    state_v = step(xw_v, AGG{state_u})    # per level

A state is a tuple of tensors, one per component: ``(h,)`` for SRN and GRU, ``(h, c)`` for LSTM.

A cell may *offer* a fused kernel for a whole loop of the engine (:meth:`RecurrentCell.level_kernel`
over DAG levels, :meth:`RecurrentCell.chain_kernel` along chains); the drivers ask the cell and
never test its class. A kernel is written for one class's arithmetic, so a cell offers it only
when its class keeps that class's definitions (:meth:`RecurrentCell._keeps`): a subclass that
overrides ``step`` gets the generic loop over its own ``step``, not its parent's kernel.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

if TYPE_CHECKING:                      # the engine sits above the cells: types only
    from ..engine.rounds import RoundGraph
    from ..schedule import Schedule

State = tuple[Tensor, ...]

ChainKernel = Callable[[Tensor, Sequence[int], State, bool], tuple[Tensor, State]]
"""``kernel(x, batch_sizes, state, reverse) -> (output, final)``: :func:`graphrnn.engine.run_chain`
for one cell, from the *raw* inputs x (sum(batch_sizes), I) (the kernel projects them itself)."""


class LevelKernel(NamedTuple):
    """A fused loop over every level of a schedule, offered by :meth:`RecurrentCell.level_kernel`.

    Sources (level 0, nodes without predecessors) often read only part of their projection (a
    Tree-LSTM leaf has no forget gate), so the kernel takes them apart:

    * ``run(source_xw, other_xw, schedule) -> state``: source_xw (N0, G0) the sources' part of the
      projection, other_xw (N - N0, G) the other nodes' projections, or (1, G) shared by all of
      them (nodes without input: the biases); both in schedule order. Returns every node's state,
      per component (N, size), in schedule order.
    * ``project_sources(x)``: (n, I) -> (n, G0), the sources' part of ``project(x)`` computed
      directly (a smaller matmul).
    * ``source_part(xw)``: (n, G) -> (n, G0), the same taken out of a full projection.

    Calling the kernel, ``kernel(xw, schedule)``, runs it from the full projections (N, G) of
    every node in schedule order, as :func:`graphrnn.engine.propagate` does.
    """
    run: Callable[[Tensor, Tensor, Schedule], State]
    project_sources: Callable[[Tensor], Tensor]
    source_part: Callable[[Tensor], Tensor]

    def __call__(self, xw: Tensor, schedule: Schedule) -> State:
        first = schedule.level_sizes[0] if schedule.level_sizes else 0
        return self.run(self.source_part(xw[:first]), xw[first:], schedule)

AGGREGATIONS = ("sum", "mean", "max")


class RecurrentCell(nn.Module):
    """Base class: ``project``, ``step``, ``combine`` and a ``torch.nn``-style ``forward``.

    Subclasses define ``state_sizes``, :meth:`project` and :meth:`step`; they may override
    :meth:`combine` when a node needs its predecessors one by one (Tree-LSTM forget gates).

    Args:
        input_size: features per node, I.
        hidden_size: width of the hidden state, H.
        bias: whether the cell has ``bias_ih`` and ``bias_hh``. Default: ``True``.
        aggr: how the states of several predecessors combine in graph mode: ``"sum"``, ``"mean"``
            or ``"max"``. Default: ``"sum"``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, aggr: str = "sum"):
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"input_size and hidden_size must be positive, got {input_size} and "
                             f"{hidden_size}")
        if aggr not in AGGREGATIONS:
            raise ValueError(f"aggr must be one of {AGGREGATIONS}, got {aggr!r}")
        self.input_size, self.hidden_size, self.bias, self.aggr = (input_size, hidden_size, bias,
                                                                   aggr)

    # -- to be defined by subclasses ------------------------------------------------------------
    @property
    def state_sizes(self) -> tuple[int, ...]:
        raise NotImplementedError

    def project(self, x: Tensor) -> Tensor:
        """Input projection of all nodes: (N, I) -> (N, G)."""
        raise NotImplementedError

    def step(self, xw: Tensor, state: State) -> State:
        """One step for n nodes: projected inputs (n, G) and predecessor states -> new states."""
        raise NotImplementedError

    # -- what a cell may offer -------------------------------------------------------------------
    def level_kernel(self) -> LevelKernel | None:
        """A fused kernel for the whole level loop of :func:`graphrnn.engine.propagate`, or
        ``None`` (the default: the engine runs :meth:`combine` level by level). It must give the
        numbers the generic loop gives, values and gradients."""
        return None

    def chain_kernel(self) -> ChainKernel | None:
        """A fused kernel for a whole chain (:data:`ChainKernel`), or ``None`` (the default: the
        engine runs :meth:`step` step by step, :func:`graphrnn.engine.run_chain`)."""
        return None

    def input_linear(self) -> tuple[Tensor, Tensor | None]:
        """``(weight (G, I), bias (G,) or None)`` with ``project(x) = x @ weight.T + bias``: lets
        a caller project the parts of a concatenated input separately (a graph-network update)."""
        raise NotImplementedError(f"{type(self).__name__} does not expose its projection as one "
                                  "affine map")

    def _keeps(self, owner: type, *names: str) -> bool:
        """Whether this cell's class uses ``owner``'s definitions of ``names``: a fused kernel
        written for ``owner``'s arithmetic is offered only then."""
        return all(getattr(type(self), name) is getattr(owner, name) for name in names)

    # -- shared ---------------------------------------------------------------------------------
    def _register_weights(self, ih_rows: int, hh_shape: tuple[int, int],
                          bias_rows: int | None = None) -> None:
        """``weight_ih`` (ih_rows, I), ``weight_hh`` (hh_shape) and, when the cell has biases,
        ``bias_ih`` and ``bias_hh`` (bias_rows, default ih_rows): the names ``torch.nn`` uses."""
        rows = ih_rows if bias_rows is None else bias_rows
        self.weight_ih = nn.Parameter(torch.empty(ih_rows, self.input_size))
        self.weight_hh = nn.Parameter(torch.empty(*hh_shape))
        for name in ("bias_ih", "bias_hh"):
            self.register_parameter(name, nn.Parameter(torch.empty(rows)) if self.bias else None)

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H), 1/sqrt(H)) for every parameter, as ``torch.nn`` does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def initial_state(self, n: int, like: Tensor) -> State:
        return tuple(like.new_zeros(n, size) for size in self.state_sizes)

    def combine(self, xw: Tensor, children: State, index: Tensor, slot: Tensor,
                num_nodes: int, width: int | None = None) -> State:
        """Graph-mode step: states arrive one per incoming edge.

        Args:
            xw: (n, G) projected inputs of the level's nodes.
            children: per component, (e, size) states of the edges' sources.
            index: (e,) destination of each edge, in ``[0, n)``.
            slot: (e,) rank of each edge among the edges into its destination (child order).
            num_nodes: n.
            width: when the caller knows it without reading the device (a schedule's
                ``level_widths``), the most edges into one node; the edges are then listed
                destination-major in slot order, as a schedule sorts them. ``None``: unknown.
        """
        aggregated = tuple(scatter(s, index, 0, dim_size=num_nodes, reduce=self.aggr)
                           for s in children)
        return self.step(xw, aggregated)

    def round(self, xw: Tensor, state: State, graph: RoundGraph, t: int) -> State:
        """One synchronous round of :func:`graphrnn.engine.propagate_rounds`: every node's
        predecessors' states of the previous round, combined with the node's (N, G) projection.
        ``t`` (the round) is unused: the same weights every round."""
        src, dst, slot = graph.in_edges
        return self.combine(xw, tuple(s.index_select(0, src) for s in state), dst, slot,
                            graph.num_nodes)

    def forward(self, input: Tensor, hx=None):
        """One step, as the ``torch.nn`` cells: input (B, I) or (I,), ``hx`` as the cell's state."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: expected input of shape "
                             f"(B, {self.input_size}) or ({self.input_size},), "
                             f"got {tuple(input.shape)}")
        if input.size(-1) != self.input_size:
            raise ValueError(f"{type(self).__name__}: input has {input.size(-1)} features, "
                             f"expected input_size={self.input_size}")
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            state = self.initial_state(x.size(0), x)
        else:
            state = (hx,) if isinstance(hx, Tensor) else tuple(hx)
            if len(state) != len(self.state_sizes):
                raise ValueError(f"{type(self).__name__}: hx must have {len(self.state_sizes)} "
                                 f"component(s), got {len(state)}")
            state = tuple(s.unsqueeze(0) if unbatched else s for s in state)
            for s, size in zip(state, self.state_sizes):
                if tuple(s.shape) != (x.size(0), size):
                    raise ValueError(f"{type(self).__name__}: hx component has shape "
                                     f"{tuple(s.shape)}, expected {(x.size(0), size)}")
        out = self.step(self.project(x), state)
        if unbatched:
            out = tuple(s.squeeze(0) for s in out)
        return out[0] if len(out) == 1 else out

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.aggr != "sum":
            s += f", aggr={self.aggr!r}"
        return s
