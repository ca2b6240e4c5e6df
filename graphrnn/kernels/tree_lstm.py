"""The N-ary Tree-LSTM run over a level schedule with a hand-written backward: the tree engine's
fast lane (the counterpart of :mod:`graphrnn.kernels.lstm_chain` for chains).

:func:`graphrnn.engine.propagate` runs any cell level by level and differentiates each level with
``autograd.grad``: ~25 small kernels per level forward and backward, and the gradient of
``weight_hh`` as one small matmul per level. For :class:`~graphrnn.cells.tree.NaryTreeLSTMCell`
(the constituency Tree-LSTM of Tai et al. 2015) this module does the same arithmetic with one
autograd node for the whole batch:

* every internal node's children are one row each of a ``(M, N)`` table of child positions
  (a missing child points at a zero row appended to the state buffers), built once;
* forward, per level: two ``index_select`` (children's h and c), one product
  (:mod:`graphrnn.kernels.products`: the path measured fastest here) with the weight
  rows reordered to ``[i, f_1..f_N, o, g]`` and g's doubled, so that one sigmoid covers all
  gates (:mod:`graphrnn.kernels.pointwise`: tanh through the sigmoid), and a few
  pointwise kernels for ``c`` and ``h``;
* backward, per level: two gathers of the gradients the parents sent (in a tree, one parent
  per node; a DAG with shared children adds them with a scatter instead), the chain rule into a
  preallocated gate-gradient buffer, one matmul for the children's ``h`` gradient; the
  gradients of ``weight_hh`` and of the projected inputs come out of one large matmul and one
  ``cat`` after the loop.

Leaves (level 0, no children) use only the ``i``, ``g``, ``o`` gates of their projected input.
The numbers equal those of the generic engine (a test checks values and gradients).
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..schedule import Schedule
from .chain_rows import block_rows
from .pointwise import double_last_rows, sigmoid_to_tanh_, tanh_via_sigmoid
from .products import PreparedWeight, copy_budget, weight_grad


def child_table(schedule: Schedule, arity: int) -> Tensor:
    """``(M, arity)`` schedule positions of the children of the ``M`` non-leaf nodes (levels 1 and
    up, in schedule order); a missing child is ``N`` (a zero row after the ``N`` real states).

    Raises:
        ValueError: a node has more than ``arity`` children.
    """
    n = schedule.num_nodes
    first = schedule.level_sizes[0] if schedule.level_sizes else 0
    slot = schedule.edge_slot
    if slot.numel() and int(slot.max()) >= arity:
        raise ValueError(f"NaryTreeLSTMCell(arity={arity}): a node has {int(slot.max()) + 1} "
                         f"children, expected at most {arity}")
    table = torch.full(((n - first) * arity,), n, dtype=torch.long, device=schedule.edge_src.device)
    table[(schedule.edge_dst - first) * arity + slot] = schedule.edge_src
    return table.view(n - first, arity)


def _gate_perm(arity: int, size: int, device) -> Tensor:
    """Rows of ``weight_hh`` in the order ``[i, f_1..f_N, o, g]`` (its own order is
    ``[i, f_1..f_N, g, o]``)."""
    return block_rows(list(range(1 + arity)) + [2 + arity, 1 + arity], size, device)


class _NaryTreeLSTMLevels(torch.autograd.Function):
    @staticmethod
    def forward(ctx, leaf_xw: Tensor, internal_xw: Tensor, weight_hh: Tensor,
                schedule: Schedule, table: Tensor, arity: int):
        # leaf_xw (N0, 3H): the leaves' projected gates i, o, g; internal_xw (M, 4H): the other
        # nodes', torch's order i, f, g, o; both in schedule order. weight_hh ((3+K)H, K H).
        first, n = leaf_xw.size(0), schedule.num_nodes
        m, size, k = n - first, weight_hh.size(1) // arity, arity
        perm = _gate_perm(k, size, weight_hh.device)
        weight = weight_hh.index_select(0, perm)                  # [i, f_1..f_K, o, g] rows
        sig = (2 + k) * size                                      # where g starts
        # one sigmoid covers all gates: g's pre-activation doubled, tanh(a) = 2 sigmoid(2a) - 1
        weight_fwd = double_last_rows(weight, size)
        h = leaf_xw.new_empty(n + 1, size)                        # row n: the missing child
        c = leaf_xw.new_empty(n + 1, size)
        tanh_c = leaf_xw.new_empty(n, size)                       # kept for the backward
        h[n] = 0
        c[n] = 0
        # leaves: no children, so no forget term
        doubled = leaf_xw.new_ones(3 * size)
        doubled[2 * size:] = 2
        leaf_act = torch.mul(leaf_xw, doubled).sigmoid_()
        sigmoid_to_tanh_(leaf_act[:, 2 * size:])
        li, lo, lg = leaf_act.chunk(3, 1)
        torch.mul(li, lg, out=c[:first])
        torch.mul(lo, tanh_via_sigmoid(c[:first], out=tanh_c[:first]), out=h[:first])
        # internal nodes: the input's gates laid out as the weight rows, f repeated per child;
        # the recurrent matmul is added in place, then the activations overwrite it
        # (one row shared by every internal node when internal_xw has one row: then each level's
        # addmm broadcasts it, and no (M, (3+K)H) copy is made)
        rows_in = internal_xw.size(0)
        gates = internal_xw.view(rows_in, 4, size)
        gates = torch.cat([gates[:, :1], gates[:, 1:2].expand(rows_in, k, size), gates[:, 3:],
                           gates[:, 2:3] * 2], 1).view(rows_in, (3 + k) * size)
        shared = rows_in != m
        act = leaf_xw.new_empty(m, (3 + k) * size) if shared else gates
        children_h = leaf_xw.new_empty(m, k * size)               # kept for d weight_hh
        children_c = leaf_xw.new_empty(m, k * size)               # kept for the forget gates'
        # the level products through the path measured fastest for the widest level
        w_level = PreparedWeight(weight_fwd, max(schedule.level_sizes[1:], default=1),
                                 in_place=True)
        start = first
        for count in schedule.level_sizes[1:]:
            lo_, hi_ = start - first, start - first + count
            rows = table[lo_:hi_].reshape(-1)
            kids_h = children_h[lo_:hi_]
            torch.index_select(h, 0, rows, out=kids_h.view(count * k, size))
            kids_c = children_c[lo_:hi_].view(count, k, size)
            torch.index_select(c, 0, rows, out=kids_c.view(count * k, size))
            a = act[lo_:hi_]
            if shared:
                w_level.addmm(gates, kids_h, out=a).sigmoid_()
            else:
                w_level.addmm_(a, kids_h).sigmoid_()
            sigmoid_to_tanh_(a[:, sig:])
            f = a[:, size:(1 + k) * size].view(count, k, size)
            c_new = c[start:start + count]
            torch.mul(f[:, 0], kids_c[:, 0], out=c_new)
            for j in range(1, k):
                c_new.addcmul_(f[:, j], kids_c[:, j])
            c_new.addcmul_(a[:, :size], a[:, sig:])
            torch.mul(a[:, (1 + k) * size:sig],
                      tanh_via_sigmoid(c_new, out=tanh_c[start:start + count]),
                      out=h[start:start + count])
            start += count
        ctx.save_for_backward(weight_hh, weight, perm, table, c, tanh_c, leaf_act, act, children_h,
                              children_c)
        ctx.arity, ctx.level_sizes, ctx.shared = k, schedule.level_sizes, shared
        return h[:n], c[:n]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h: Tensor | None, grad_c: Tensor | None):
        (weight_hh, weight, perm, table, c, tanh_c, leaf_act, act, children_h,
         children_c) = ctx.saved_tensors
        k, level_sizes = ctx.arity, ctx.level_sizes
        first, m = leaf_act.size(0), act.size(0)
        n, size = first + m, c.size(1)
        sig = (2 + k) * size
        # The gradients a level's nodes send to their children, (M K + 1, H) each, row
        # (parent - N0) K + slot (the last row: zeros, for roots). In a tree a node has one
        # parent, so a level reads its own incoming gradient with one gather; in a DAG with
        # shared children they are also added into (N, H) buffers (a slower scatter).
        kid_dh = c.new_empty(m * k + 1, size)
        kid_dc = c.new_empty(m * k + 1, size)
        kid_dh[m * k] = 0
        kid_dc[m * k] = 0
        dh = c.new_zeros(n, size) if grad_h is None else grad_h
        dc = c.new_zeros(n, size) if grad_c is None else grad_c
        flat = table.view(-1)
        is_child = flat < n
        tree = not flat.numel() or int(torch.bincount(flat[is_child], minlength=n).max()) <= 1
        if tree:
            up = torch.full((n,), m * k, dtype=torch.long, device=c.device)
            up[flat[is_child]] = is_child.nonzero().flatten()
        else:
            dh, dc = dh.clone(), dc.clone()                       # ours to add into

        def incoming(start, stop):
            if not tree:
                return dh[start:stop], dc[start:stop]
            rows = up[start:stop]
            return (torch.index_select(kid_dh, 0, rows).add_(dh[start:stop]),
                    torch.index_select(kid_dc, 0, rows).add_(dc[start:stop]))

        dact = act.new_empty(m, (3 + k) * size)                  # d(pre-activation), weight order
        one = c.new_ones(())
        # d kids_h = da W
        w_level = PreparedWeight(weight.t(), max(level_sizes[1:], default=1), in_place=True)
        stop = n
        for count in reversed(level_sizes[1:]):
            start = stop - count
            lo_, hi_ = start - first, stop - first
            a, da = act[lo_:hi_], dact[lo_:hi_]
            i, o, g = a[:, :size], a[:, (1 + k) * size:sig], a[:, sig:]
            f = a[:, size:(1 + k) * size].view(count, k, size)
            kids_c = children_c[lo_:hi_].view(count, k, size)
            tc = tanh_c[start:stop]
            dh_l, dc_l = incoming(start, stop)
            # total dL/dc = dc + dh * o * (1 - tanh(c)^2)
            dct = torch.addcmul(dc_l, dh_l, torch.addcmul(one, tc, tc, value=-1).mul_(o))
            torch.mul(dct, g, out=da[:, :size])
            torch.mul(dct.unsqueeze(1), kids_c,
                      out=da[:, size:(1 + k) * size].view(count, k, size))
            torch.mul(dh_l, tc, out=da[:, (1 + k) * size:sig])
            s_ = a[:, :sig]
            da[:, :sig].mul_(torch.addcmul(s_, s_, s_, value=-1))             # sigmoid': s - s^2
            torch.mul(dct, i, out=da[:, sig:]).mul_(torch.addcmul(one, g, g, value=-1))  # tanh'
            to_h, to_c = kid_dh[lo_ * k:hi_ * k], kid_dc[lo_ * k:hi_ * k]
            w_level.mm(da, out=to_h.view(count, k * size))
            torch.mul(dct.unsqueeze(1), f, out=to_c.view(count, k, size))
            if not tree:
                rows = table[lo_:hi_].reshape(-1)
                keep = rows < n
                dh.index_add_(0, rows[keep], to_h[keep])
                dc.index_add_(0, rows[keep], to_c[keep])
            stop = start
        grad_leaf = grad_internal = grad_weight = None
        if ctx.needs_input_grad[0]:
            li, lo, lg = leaf_act.chunk(3, 1)
            tc = tanh_c[:first]
            dh0, dc0 = incoming(0, first)
            dct = torch.addcmul(dc0, dh0, torch.addcmul(one, tc, tc, value=-1).mul_(lo))
            grad_leaf = torch.empty_like(leaf_act)
            torch.mul(dct, lg, out=grad_leaf[:, :size])
            torch.mul(dh0, tc, out=grad_leaf[:, size:2 * size])
            torch.mul(dct, li, out=grad_leaf[:, 2 * size:])
            s_ = leaf_act[:, :2 * size]
            grad_leaf[:, :2 * size].mul_(torch.addcmul(s_, s_, s_, value=-1))
            grad_leaf[:, 2 * size:].mul_(torch.addcmul(one, lg, lg, value=-1))
        if ctx.needs_input_grad[1]:
            blocks = dact.view(m, 3 + k, size)
            if ctx.shared:
                blocks = blocks.sum(0, keepdim=True)
            grad_internal = torch.cat([blocks[:, 0], blocks[:, 1:1 + k].sum(1), blocks[:, 2 + k],
                                       blocks[:, 1 + k]], 1)
        if ctx.needs_input_grad[2]:
            grad_weight = torch.empty_like(weight_hh).index_copy_(
                0, perm, weight_grad(dact, children_h, copy_budget(
                    c, tanh_c, leaf_act, act, children_h, children_c, dact)))
        return grad_leaf, grad_internal, grad_weight, None, None, None


LEAF_GATES = (0, 3, 2)
"""Blocks of torch's gate order (i, f, g, o) a leaf uses, in the order the kernel takes them."""


def leaf_gate_rows(size: int, device=None) -> Tensor:
    """Rows of ``weight_ih`` (4H, I) for a leaf's gates ``[i, o, g]``."""
    return block_rows(LEAF_GATES, size, device)


def nary_tree_lstm_levels(leaf_xw: Tensor, internal_xw: Tensor, weight_hh: Tensor,
                          schedule: Schedule, arity: int) -> tuple[Tensor, Tensor]:
    """Run an N-ary Tree-LSTM (:class:`~graphrnn.cells.tree.NaryTreeLSTMCell`) over ``schedule``.

    Args:
        leaf_xw: (N0, 3H) projected inputs of the N0 leaves (level 0), gates ``[i, o, g]`` only
            (a leaf has no forget gate; :func:`leaf_gate_rows` picks them from ``weight_ih``).
        internal_xw: (N - N0, 4H) projected inputs of the other nodes, torch's gate order
            i, f, g, o, or (1, 4H) shared by all of them (nodes without input: the biases).
            Both in schedule order (``schedule.order``), biases included.
        weight_hh: ((3+K)H, K H), the cell's ``weight_hh``.
        schedule: levels of the tree(s), leaves first.
        arity: K.

    Returns:
        ``(h, c)``, each (N, H), in schedule order. Differentiable once with respect to both
        inputs and ``weight_hh``.
    """
    first = schedule.level_sizes[0] if schedule.level_sizes else 0
    if leaf_xw.size(0) != first or internal_xw.size(0) not in (1, schedule.num_nodes - first):
        raise ValueError(f"expected {first} leaf rows and {schedule.num_nodes - first} internal "
                         f"rows, got {leaf_xw.size(0)} and {internal_xw.size(0)}")
    table = child_table(schedule, arity)
    return _NaryTreeLSTMLevels.apply(leaf_xw, internal_xw, weight_hh, schedule, table, arity)


def nary_tree_lstm_projected(xw: Tensor, weight_hh: Tensor, schedule: Schedule,
                             arity: int) -> tuple[Tensor, Tensor]:
    """:func:`nary_tree_lstm_levels` from (N, 4H) projections of every node in schedule order."""
    first = schedule.level_sizes[0] if schedule.level_sizes else 0
    leaf = xw[:first].index_select(1, leaf_gate_rows(weight_hh.size(1) // arity, xw.device))
    return nary_tree_lstm_levels(leaf, xw[first:], weight_hh, schedule, arity)


__all__ = ["nary_tree_lstm_levels", "nary_tree_lstm_projected", "leaf_gate_rows", "child_table"]
