"""``graphrnn bench schedule``: time to schedule a large batch, on one core.

Builds a batch of about N nodes (default 1,000,000) as chains (B chains of length T) and as
random trees (random recursive trees, edges child -> parent, about 40 nodes each, like SST
sentences), then times :func:`graphrnn.schedule.topological_schedule` (levels + grouping) and the
chain layout used by the drop-in RNNs. Fastest of ``--repeats`` runs.
"""
from __future__ import annotations

import argparse

import torch

from ..schedule import chain_layout, topological_schedule
from .common import format_table, machine_line, time_interleaved


def chain_batch(num_chains: int, length: int) -> tuple[torch.Tensor, int]:
    ids = torch.arange(num_chains * length).view(num_chains, length)
    return torch.stack([ids[:, :-1].reshape(-1), ids[:, 1:].reshape(-1)]), num_chains * length


def tree_batch(num_trees: int, size: int, seed: int = 0) -> tuple[torch.Tensor, int]:
    """Random recursive trees: node k of a tree hangs under a uniform node among 0..k-1."""
    g = torch.Generator().manual_seed(seed)
    k = torch.arange(1, size).repeat(num_trees, 1)                      # (trees, size-1)
    parent = (torch.rand(num_trees, size - 1, generator=g) * k).long()
    offset = (torch.arange(num_trees) * size).unsqueeze(1)
    return torch.stack([(k + offset).reshape(-1), (parent + offset).reshape(-1)]), num_trees * size


def run(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="graphrnn bench schedule", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--chain-length", type=int, default=100)
    parser.add_argument("--tree-size", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="default: 1 (one core)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    chains, n_chain = chain_batch(args.nodes // args.chain_length, args.chain_length)
    trees, n_tree = tree_batch(args.nodes // args.tree_size, args.tree_size)
    cases = {
        "chains: levels + grouping": lambda: topological_schedule(chains, n_chain),
        "chains: reversed": lambda: topological_schedule(chains, n_chain, reverse=True),
        "chains: packed layout": lambda: chain_layout(chains, n_chain),
        "trees: levels + grouping": lambda: topological_schedule(trees, n_tree),
        "trees: reversed (root first)": lambda: topological_schedule(trees, n_tree, reverse=True),
    }
    times = time_interleaved(cases, repeats=args.repeats, warmup=1)
    levels = topological_schedule(trees, n_tree).num_levels
    print(f"graphrnn bench schedule: {machine_line()}")
    print(f"chains: {n_chain:,} nodes ({args.nodes // args.chain_length:,} x {args.chain_length}); "
          f"trees: {n_tree:,} nodes ({args.nodes // args.tree_size:,} x {args.tree_size}, "
          f"{levels} levels)")
    rows = [{"case": k, "seconds": v, "nodes": n_chain if k.startswith("chains") else n_tree}
            for k, v in times.items()]
    print(format_table(["case", "seconds", "nodes"],
                       [[r["case"], f"{r['seconds']:.3f}", f"{r['nodes']:,}"] for r in rows]))
    return rows
