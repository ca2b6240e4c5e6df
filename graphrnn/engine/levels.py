"""``propagate``: any cell over a DAG, level by level, in the order a schedule gives.

Predecessor states are gathered from one state buffer per component, written once per level; a
custom autograd function runs the backward level by level in reverse, so both directions cost
O(N + E) tensor work plus one Python pass per level. (Keeping the buffer inside autograd with
``index_copy`` makes every level copy the whole buffer in backward: O(N * L).)

A cell may offer a fused kernel for the whole level loop (:meth:`RecurrentCell.level_kernel`,
e.g. the N-ary Tree-LSTM's, :mod:`graphrnn.kernels.tree_lstm`); :func:`propagate` asks
the cell and never looks at its class.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..cells.base import RecurrentCell, State
from ..schedule import Schedule


class _LevelRecurrence(torch.autograd.Function):
    """Forward: the level loop over no-grad state buffers, keeping each level's small graph.
    Backward: the same levels in reverse, one ``autograd.grad`` per level, child gradients
    scattered into per-node gradient buffers. The level graphs live as long as this node of the
    outer graph (``retain_graph`` on the outer backward keeps working)."""

    @staticmethod
    def forward(ctx, cell: RecurrentCell, schedule: Schedule, xw: Tensor, *params: Tensor):
        # Every node belongs to exactly one level, which writes its rows: no zero fill needed.
        buffers = [xw.new_empty(schedule.num_nodes, size) for size in cell.state_sizes]
        levels = []
        with torch.enable_grad():
            for start, stop, e_start, e_stop, width in _level_bounds(schedule):
                x_l = xw[start:stop].detach().requires_grad_(xw.requires_grad)
                src = schedule.edge_src[e_start:e_stop]
                children = tuple(b.index_select(0, src).requires_grad_() for b in buffers)
                out = cell.combine(x_l, children, schedule.edge_dst[e_start:e_stop] - start,
                                   schedule.edge_slot[e_start:e_stop], stop - start,
                                   **_width(width))
                for b, o in zip(buffers, out):
                    b[start:stop] = o.detach()
                levels.append((x_l, children, out, src))
        ctx.levels, ctx.params, ctx.schedule = levels, params, schedule
        return tuple(buffers)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grad_states):
        levels, params, schedule = ctx.levels, ctx.params, ctx.schedule
        # (N, size) gradient of each node's state; children add into it before their level runs.
        grads = [g.clone() for g in grad_states]
        grad_xw_levels = []  # per level, last level first; concatenated once at the end
        grad_params = [None] * len(params)
        trainable = [i for i, p in enumerate(params) if p.requires_grad]
        for (x_l, children, out, src), (start, stop, *_) in zip(reversed(levels),
                                                                  reversed(list(_level_bounds(schedule)))):
            pairs = [(o, g[start:stop]) for o, g in zip(out, grads) if o.requires_grad]
            found = torch.autograd.grad(
                [o for o, _ in pairs], (x_l, *children, *(params[i] for i in trainable)),
                [g for _, g in pairs], allow_unused=True, retain_graph=True) if pairs else ()
            g_x = found[0] if found else None
            grad_xw_levels.append(g_x if g_x is not None else x_l.new_zeros(x_l.shape))
            for k, g_child in enumerate(found[1:1 + len(children)]):
                if g_child is not None and g_child.numel():
                    grads[k].index_add_(0, src, g_child)
            for i, g_param in zip(trainable, found[1 + len(children):]):
                if g_param is None:
                    continue
                if grad_params[i] is None:
                    grad_params[i] = g_param  # a fresh tensor from autograd.grad: ours to add into
                else:
                    grad_params[i].add_(g_param)
        grad_xw = torch.cat(grad_xw_levels[::-1]) if grad_xw_levels else None
        return (None, None, grad_xw, *grad_params)


class _PermuteRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, perm: Tensor, inverse: Tensor) -> Tensor:
        ctx.save_for_backward(perm, inverse)
        return x.index_select(0, perm)

    @staticmethod
    def backward(ctx, grad: Tensor):
        perm, inverse = ctx.saved_tensors
        return permute_rows(grad, inverse, perm), None, None


def permute_rows(x: Tensor, perm: Tensor, inverse: Tensor) -> Tensor:
    """``x[perm]`` for a permutation ``perm`` of the rows, given its ``inverse``
    (``perm[inverse] = arange``): the backward gathers ``grad[inverse]``, where ``index_select``
    would zero-fill a buffer and scatter into it (several times slower on a CPU). Between node
    order and schedule order: ``permute_rows(x, schedule.order, schedule.rank)`` and back."""
    return _PermuteRows.apply(x, perm, inverse)


def _width(width: int | None) -> dict:
    # passed only when known, so a cell written against the older five-argument combine works
    return {} if width is None else {"width": width}


def _level_bounds(schedule: Schedule):
    """(node start, node stop, edge start, edge stop, width) of each level, as Python ints
    (width: the most edges into a node of the level, ``None`` if the schedule lacks it)."""
    start = e_start = 0
    widths = schedule.level_widths or (None,) * schedule.num_levels
    for n, e, w in zip(schedule.level_sizes, schedule.edge_sizes, widths):
        yield start, start + n, e_start, e_start + e, w
        start, e_start = start + n, e_start + e


def propagate(cell: RecurrentCell, x: Tensor, schedule: Schedule, projected: bool = False) -> State:
    """Run ``cell`` over a DAG in the order of ``schedule``:
    ``state_v = cell.combine(xw_v, {state_u : u -> v})``, sources starting from zero states.

    Args:
        cell: a :class:`~graphrnn.cells.RecurrentCell`.
        x: (N, I) node features in node-id order, or (N, G) projections if ``projected``.
        schedule: from :func:`graphrnn.schedule.topological_schedule` or ``schedule_of(data)``.
        projected: ``x`` is already ``cell.project(features)``.

    Returns:
        The state of every node, per component (N, size), in node-id order.

    Differentiable once (like activation checkpointing, there is no double backward).
    """
    if x.size(0) != schedule.num_nodes:
        raise ValueError(f"x has {x.size(0)} rows, expected one per node of the schedule "
                         f"({schedule.num_nodes})")
    xw = x if projected else cell.project(x)
    if schedule.order.device != xw.device:
        schedule = schedule.to(xw.device)
    xw = permute_rows(xw, schedule.order, schedule.rank)
    kernel = cell.level_kernel()
    if kernel is not None:                              # the cell's own loop over the levels
        states = kernel(xw, schedule)
        return tuple(permute_rows(s, schedule.rank, schedule.order) for s in states)
    params = tuple(cell.parameters())
    if torch.is_grad_enabled() and (xw.requires_grad or any(p.requires_grad for p in params)):
        states = _LevelRecurrence.apply(cell, schedule, xw, *params)
    else:
        states = _levels_no_grad(cell, schedule, xw)
    return tuple(permute_rows(s, schedule.rank, schedule.order) for s in states)


def _levels_no_grad(cell: RecurrentCell, schedule: Schedule, xw: Tensor) -> State:
    buffers = [xw.new_zeros(schedule.num_nodes, size) for size in cell.state_sizes]
    for start, stop, e_start, e_stop, width in _level_bounds(schedule):
        src = schedule.edge_src[e_start:e_stop]
        out = cell.combine(xw[start:stop], tuple(b.index_select(0, src) for b in buffers),
                           schedule.edge_dst[e_start:e_stop] - start,
                           schedule.edge_slot[e_start:e_stop], stop - start, **_width(width))
        for b, o in zip(buffers, out):
            b[start:stop] = o
    return tuple(buffers)
