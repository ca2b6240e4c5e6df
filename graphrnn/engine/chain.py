"""``run_chain``: a step function along chains laid out as a ``PackedSequence``.

Step ``t`` holds a prefix of the rows of step ``t - 1`` (chains sorted by length, longest first),
so a node's predecessor state is a row slice of the previous step's: no gather, plain autograd.
Input projections are hoisted: the caller passes ``xw = project(x)`` for every row at once.

A cell of the LSTM family offers a fused chain kernel instead
(:meth:`~graphrnn.cells.RecurrentCell.chain_kernel`, :mod:`graphrnn.kernels.lstm_chain`)
with the same arguments and results.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from ..cells.base import RecurrentCell, State

Step = Callable[[Tensor, State], State]


def run_chain(step: Step, xw: Tensor, batch_sizes: Sequence[int], state: State,
              reverse: bool = False) -> tuple[Tensor, State]:
    """Run ``step`` along chains in ``PackedSequence`` layout.

    Args:
        step: ``(xw_t (b_t, G), state (b_t, ...)) -> state``, e.g. ``cell.step``.
        xw: (sum(batch_sizes), G) projected inputs, step-major as ``PackedSequence.data``.
        batch_sizes: rows per step, non-increasing.
        state: initial state per component, (B, size) with B = batch_sizes[0].
        reverse: run from the last step to the first (the backward direction of a BiRNN).

    Returns:
        ``(output, final)``: output (sum(batch_sizes), size_0) is the first state component of every
        row; ``final`` per component (B, size) is each chain's state after its last step.
    """
    batch_sizes = [int(b) for b in batch_sizes]
    steps = xw.split(batch_sizes)
    outputs: list[Tensor] = [None] * len(steps)  # type: ignore[list-item]
    if not reverse:
        finished: list[State] = []
        for t, x_t in enumerate(steps):
            b = batch_sizes[t]
            if b < state[0].size(0):  # chains that ended at t - 1 leave the batch
                finished.append(tuple(s[b:] for s in state))
                state = tuple(s[:b] for s in state)
            state = step(x_t, state)
            outputs[t] = state[0]
        if finished:
            state = tuple(torch.cat([s, *(f[k] for f in reversed(finished))])
                          for k, s in enumerate(state))
        return torch.cat(outputs), state
    initial, current = state, tuple(s[:batch_sizes[-1]] for s in state) if steps else state
    for t in range(len(steps) - 1, -1, -1):
        b, have = batch_sizes[t], current[0].size(0)
        if b > have:  # chains whose last step is t join with their initial state
            current = tuple(torch.cat([s, s0[have:b]]) for s, s0 in zip(current, initial))
        current = step(steps[t], current)
        outputs[t] = current[0]
    return torch.cat(outputs) if steps else xw.new_zeros(0, state[0].size(1)), current


def run_cell_chain(cell: RecurrentCell, x: Tensor, batch_sizes: Sequence[int], state: State,
                   reverse: bool = False) -> tuple[Tensor, State]:
    """:func:`run_chain` of a cell from its raw inputs x (sum(batch_sizes), I): through the fused
    kernel the cell offers (:meth:`~graphrnn.cells.RecurrentCell.chain_kernel`), else the step
    loop over ``cell.project(x)``. Same arguments and results as :func:`run_chain`."""
    kernel = cell.chain_kernel()
    if kernel is not None:
        return kernel(x, batch_sizes, state, reverse)
    return run_chain(cell.step, cell.project(x), batch_sizes, state, reverse=reverse)


__all__ = ["run_chain", "run_cell_chain", "Step"]
