"""The engine: the drivers that run a cell over a graph in the order a schedule gives, and the
fused kernels cells offer for them.

* :func:`run_chain`, :func:`run_cell_chain` (:mod:`.chain`): chains laid out as a
  ``PackedSequence``;
* :func:`propagate` (:mod:`.levels`): any DAG, level by level, with a level-wise backward;
* :func:`propagate_rounds` (:mod:`.rounds`): T synchronous rounds on graphs with cycles.

Input projections are hoisted: ``cell.project`` runs once over all nodes before any loop. A cell
may offer a fused kernel for a whole loop (``cell.level_kernel()``, ``cell.chain_kernel()``);
the kernels live in :mod:`graphrnn.kernels` and the drivers ask the cell, never its class.
"""
from .chain import Step, run_cell_chain, run_chain
from .levels import permute_rows, propagate
from .rounds import RoundGraph, propagate_rounds

__all__ = ["run_chain", "run_cell_chain", "propagate", "propagate_rounds", "permute_rows",
           "RoundGraph", "Step"]
