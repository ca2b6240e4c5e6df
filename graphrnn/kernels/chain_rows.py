"""Rows of chains in packed layout, shared by the chain kernels (:mod:`.lstm_chain`,
:mod:`.gru_chain`, :mod:`.srn_chain`) and the tree kernel's gate blocks.

Rows are step-major as ``PackedSequence.data``: the ``batch_sizes[t]`` rows of step t follow
those of step t-1, and a chain keeps its column while it lasts. Here: the state each row read
(its predecessor's, or the initial state), each chain's final state, and the weight gradients
that sum over every step's rows, ``d.T @ h_prev`` and ``d.T @ x`` beside it, through
:func:`~graphrnn.kernels.products.weight_grad`.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .products import weight_grad, weight_grad_block
from .workspace import scratch


def block_rows(blocks: Sequence[int], size: int, device=None) -> Tensor:
    """Row indices of the ``size``-row blocks ``blocks`` of a stacked gate matrix, in that order
    (e.g. a reordering of the gates of ``weight_ih``)."""
    return torch.cat([torch.arange(b * size, (b + 1) * size, device=device) for b in blocks])


def predecessor_rows(batch_sizes: Sequence[int], reverse: bool, device) -> Tensor:
    """For each packed row, the row of ``cat([state0, outputs])`` holding the state it reads.

    Forward, row j of step t reads row j of step t-1 (or of ``state0`` at t = 0); reverse, row j of
    step t reads row j of step t+1 when that step still has the chain, else ``state0`` row j.
    """
    sizes = torch.tensor(batch_sizes, dtype=torch.long, device=device)
    steps = sizes.numel()
    starts = torch.cumsum(sizes, 0) - sizes
    step = torch.repeat_interleave(torch.arange(steps, device=device), sizes)
    j = torch.arange(int(sizes.sum()), device=device) - starts[step]
    prev = step + (1 if reverse else -1)
    ok = (prev >= 0) & (prev < steps)
    prev = prev.clamp(0, max(steps - 1, 0))
    ok &= j < sizes[prev]
    return torch.where(ok, sizes[0] + starts[prev] + j, j) if steps else j


def previous_blocks(h0: Tensor, h_all: Tensor, batch_sizes: Sequence[int],
                     reverse: bool) -> list[tuple[slice, Tensor]]:
    """The state every packed row read, as ``[(rows, states)]`` blocks covering the rows: with
    equal lengths two views, ``h0`` and ``h_all`` shifted by one step (no copy); else one block,
    the (N, H) predecessor rows gathered."""
    B, N = h0.size(0), h_all.size(0)
    if not batch_sizes:
        return []
    if batch_sizes[0] != batch_sizes[-1]:
        rows = predecessor_rows(batch_sizes, reverse, h_all.device)
        return [(slice(0, N), torch.cat([h0, h_all]).index_select(0, rows))]
    if reverse:
        return [(slice(N - B, N), h0), (slice(0, N - B), h_all[B:])]
    return [(slice(0, B), h0), (slice(B, N), h_all[:-B])]


def grad_by_previous(d: Tensor, h0: Tensor, h_all: Tensor, batch_sizes: Sequence[int],
                     reverse: bool, copy_bytes: int | None = None) -> Tensor:
    """``d.T @ h_prev`` (G, H): the gradient of a weight (G, H) whose product with each row's
    predecessor state gave the pre-activations whose gradients are ``d`` (N, G), one
    :func:`~graphrnn.kernels.products.weight_grad` (its copies within ``copy_bytes``) per block
    of :func:`previous_blocks`."""
    out = None
    for rows, prev in previous_blocks(h0, h_all, batch_sizes, reverse):
        if prev.size(0):
            g = weight_grad(d[rows], prev, copy_bytes)
            out = g if out is None else out.add_(g)
    return d.new_zeros(d.size(1), h0.size(1)) if out is None else out


def grads_by_input_and_previous(d: Tensor, x: Tensor, h0: Tensor, h_all: Tensor,
                                batch_sizes: Sequence[int], reverse: bool, name: str,
                                need: tuple[bool, bool] = (True, True),
                                copy_bytes: int | None = None,
                                bias_out: Tensor | None = None
                                ) -> tuple[Tensor | None, Tensor | None]:
    """``(d.T @ x, d.T @ h_prev)``: the gradients of ``weight_ih`` (G, I) and ``weight_hh``
    (G, H) when both met the same pre-activation gradients ``d`` (N, G); those ``need`` asks
    for, ``None`` for the other. With both, one product of ``[x | h_prev]`` per block of rows (one
    call where two would pass over ``d`` twice), the block's inputs and the states its rows read
    gathered into the scratch buffer ``name``; blocks of
    :func:`~graphrnn.kernels.products.weight_grad_block` rows, so that the gathered block and
    the copies oneDNN's route makes of it stay within ``copy_bytes``; with no room for even
    those, or with one of the two, products of the operands as they lie. ``bias_out``: as for
    :func:`~graphrnn.kernels.products.weight_grad` (``d.sum(0)`` added to it)."""
    width, N = x.size(1), x.size(0)
    K = width + h0.size(1)
    # the gathered block counts with the route's copies
    block = weight_grad_block((d.size(1) + 2 * K) * d.element_size(), copy_bytes,
                              2 * d.size(1) * K * d.element_size()) if all(need) else 0
    if not block:
        if bias_out is not None:
            bias_out += d.sum(0)
        return (weight_grad(d, x, copy_bytes) if need[0] else None,
                grad_by_previous(d, h0, h_all, batch_sizes, reverse, copy_bytes)
                if need[1] else None)
    previous = previous_blocks(h0, h_all, batch_sizes, reverse)
    out = None
    for start in range(0, N, block):
        stop = min(start + block, N)
        inputs = scratch(name, (stop - start, K), x)
        inputs[:, :width].copy_(x[start:stop])
        for rows, prev in previous:   # the rows of [start, stop) each block of states covers
            lo, hi = max(rows.start, start), min(rows.stop, stop)
            if lo < hi:
                inputs[lo - start:hi - start, width:].copy_(
                    prev[lo - rows.start:hi - rows.start])
        g = weight_grad(d[start:stop], inputs, copy_bytes, bias_out)
        out = g if out is None else out.add_(g)
    if out is None:
        out = d.new_zeros(d.size(1), K)
    return out[:, :width], out[:, width:]


def final_states(t: Tensor, batch_sizes: Sequence[int], reverse: bool) -> Tensor:
    """Each chain's row of ``t`` (rows in packed layout) at its last step (its first, run in
    reverse), a new tensor: with equal lengths the first or last ``batch_sizes[0]`` rows."""
    B = batch_sizes[0]
    if batch_sizes[-1] == B:
        return (t[:B] if reverse else t[t.size(0) - B:]).clone()
    return t.index_select(0, final_rows(batch_sizes, reverse, t.device))


def final_rows(batch_sizes: Sequence[int], reverse: bool, device) -> Tensor:
    """Packed row of each chain's last step (its first step when run in reverse)."""
    sizes = torch.tensor(batch_sizes, dtype=torch.long, device=device)
    columns = torch.arange(batch_sizes[0], device=device)
    if reverse:
        return columns
    starts = torch.cumsum(sizes, 0) - sizes
    length = (sizes.unsqueeze(1) > columns).sum(0)
    return starts[length - 1] + columns


def previous_state(t: int, prev: int | None, batch_sizes: Sequence[int], hs, h0: Tensor) -> Tensor:
    """The state step ``t`` reads: ``h0``, the previous step's (a row prefix of it), or, in
    reverse, the previous step's followed by the initial states of the chains that join at t."""
    n = batch_sizes[t]
    if prev is None:
        return h0[:n]
    have = batch_sizes[prev]
    if n == have:
        return hs[prev]
    if n < have:
        return hs[prev][:n]
    return torch.cat([hs[prev], h0[have:n]])


__all__ = ["block_rows", "final_rows", "final_states", "grad_by_previous",
           "grads_by_input_and_previous", "predecessor_rows", "previous_blocks", "previous_state"]
