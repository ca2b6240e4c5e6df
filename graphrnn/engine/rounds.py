r"""``propagate_rounds``: T synchronous rounds over a graph that may have cycles.

.. math::
    s^{t+1} = \mathrm{round}_t(x_w, s^t, G), \qquad t = 0, \dots, T - 1

Every state is read from round ``t`` and written to round ``t + 1`` (no node sees a neighbour's
new state within a round), so the order of the nodes does not matter and no schedule is needed.

What the graph models share is this driver, not one fixed update: a recurrent cell on nodes
(:meth:`RecurrentCell.round`, the default: aggregate the in-neighbours' states, then ``combine``),
gated message passing (messages along edges, aggregated, then a GRU or LSTM cell step), the
directed MPNN (states on directed edges) and a graph-network block with recurrent updates (its
state is ``(x, edge_attr, u)``). Each of them is a *round cell*: any object with

* ``round(xw, state, graph, t) -> state``: one synchronous round, ``t`` counting from 0 (a model
  with one set of weights per round picks them by ``t``);
* for ``projected=False``, ``project(x)``: the inputs that stay the same every round, computed
  once before the loop (a cell's input projection; the edge-network matrices of an MPNN);
* for ``state=None``, ``initial_state(n, like)``: zero states by default.

The driver hoists what does not change between rounds out of the loop (the projection, the graph's
in-edge order, :class:`RoundGraph`), checks the arguments once, and runs the loop.
"""
from __future__ import annotations

from typing import Any

from torch import Tensor

from ..cells.base import State
from ..schedule import check_edge_index, in_edge_slots


class RoundGraph:
    """The graph every round reads, prepared once per forward.

    Args:
        edge_index: (2, E) ``torch.long`` edges ``u -> v``, in the caller's order.
        num_nodes: N, a whole number >= 0 (an empty graph, N = 0 and E = 0, is allowed).
        edge_attr: optional per-edge data (E, ...), in the order of ``edge_index``.
        batch: optional (N,) graph of each node, for models with per-graph state.

    The graph is checked once here, by :func:`graphrnn.schedule.check_edge_index`: an
    ``edge_index`` that is not a (2, E) long tensor, a node index outside [0, N), a negative or
    fractional ``num_nodes``, or an ``edge_attr``/``batch`` with the wrong number of rows is a
    ``TypeError``/``ValueError`` naming the argument. Every entry point that builds a
    ``RoundGraph`` (the message-passing and graph-network modules) gets the same messages.

    ``in_edges`` gives the edges sorted by destination with each edge's rank among its
    destination's (``slot``), what :meth:`RecurrentCell.combine` reads; it is computed on first
    use and kept, so T rounds sort the edges once.
    """

    def __init__(self, edge_index: Tensor, num_nodes: int, edge_attr: Tensor | None = None,
                 batch: Tensor | None = None):
        self.num_nodes = check_edge_index(edge_index, num_nodes)
        num_edges = edge_index.size(1)
        if isinstance(edge_attr, Tensor) and (edge_attr.dim() == 0
                                              or edge_attr.size(0) != num_edges):
            raise ValueError(f"edge_attr must have one row per edge ({num_edges}), got shape "
                             f"{tuple(edge_attr.shape)}")
        if isinstance(batch, Tensor) and tuple(batch.shape) != (self.num_nodes,):
            raise ValueError(f"batch must have shape ({self.num_nodes},), one graph id per node, "
                             f"got {tuple(batch.shape)}")
        self.edge_index = edge_index
        self.edge_attr, self.batch = edge_attr, batch
        self._in_edges: tuple[Tensor, Tensor, Tensor] | None = None

    @property
    def in_edges(self) -> tuple[Tensor, Tensor, Tensor]:
        """``(src, dst, slot)``, each (E,), sorted by ``dst`` (ties in ``edge_index`` order)."""
        if self._in_edges is None:
            perm, slot = in_edge_slots(self.edge_index[1], self.num_nodes)
            self._in_edges = (self.edge_index[0, perm], self.edge_index[1, perm], slot)
        return self._in_edges


def propagate_rounds(cell: Any, x: Any, edge_index: Tensor | RoundGraph, num_rounds: int,
                     state: State | None = None, projected: bool = False) -> State:
    r"""T synchronous rounds of a round cell (module docstring) over a graph that may have cycles.

    For a :class:`~graphrnn.cells.RecurrentCell`,
    ``state^{t+1}_v = cell.combine(xw_v, {state^t_u : u -> v})``.

    Args:
        cell: a round cell: a :class:`~graphrnn.cells.RecurrentCell`, or any object with
            ``round(xw, state, graph, t)`` (and ``project``/``initial_state`` where used).
        x: (N, I) node features, or what the cell's ``round`` reads as ``xw`` if ``projected``
            (a cell's (N, G) projections, or a model's hoisted per-forward inputs).
        edge_index: (2, E) ``torch.long`` edges ``u -> v`` (N is then ``x.size(0)``), checked as
            :class:`RoundGraph` checks it, or a :class:`RoundGraph`.
        num_rounds: T, an int >= 0 (T = 0 returns the initial state); a bool, float or negative
            T is a ``TypeError``/``ValueError`` naming ``num_rounds``.
        state: initial state per component; ``cell.initial_state(N, xw)`` (zeros) by default.
        projected: ``x`` is already the cell's hoisted input.

    Returns:
        The state after T rounds, per component (for a cell on nodes, (N, size) each).
    """
    if isinstance(num_rounds, bool) or not hasattr(num_rounds, "__index__"):
        raise TypeError(f"num_rounds must be an int, got {num_rounds!r}")
    num_rounds = num_rounds.__index__()
    if num_rounds < 0:
        raise ValueError(f"num_rounds must be >= 0, got {num_rounds}")
    if isinstance(edge_index, RoundGraph):   # an input type: the graph already checked
        graph = edge_index
    else:
        if not hasattr(x, "size"):
            raise TypeError(f"x must be a Tensor (N, ...) when edge_index is a tensor (N is read "
                            f"from x); pass a RoundGraph for other inputs, got {type(x).__name__}")
        graph = RoundGraph(edge_index, x.size(0))
    xw = x if projected else cell.project(x)
    state = cell.initial_state(graph.num_nodes, xw) if state is None else tuple(state)
    for t in range(num_rounds):
        state = cell.round(xw, state, graph, t)
    return state


__all__ = ["propagate_rounds", "RoundGraph"]
