"""Benchmark: Tree-LSTM forward+backward on real SST trees, batched level schedule against per-node
recursion one tree at a time.

* **schedule**: a batch of B trees (a PyG ``Batch``), its schedule computed from the stored levels
  (inside the timing), the input projection hoisted out of the loop and applied once to each
  distinct word of the batch (``TreeLSTM(..., input_index=token)`` over the word-vector table),
  then one level loop (leaves first) for the whole batch: for the N-ary cell the fast lane of
  :mod:`graphrnn.kernels.tree_lstm`, for the child-sum cell
  :func:`graphrnn.engine.propagate`.
* **recursion**: the faithful reference: Python recursion over each ``nltk.Tree``, calling the
  *same* cell once per node (a leaf: ``cell.leaf(cell.project(x_word))``; an internal node:
  ``cell.step(bias, stacked children)``), one tree at a time, ``backward`` per tree; the sentence's
  word vectors are looked up in one call per tree. Its throughput does not depend on B, so one
  figure is shown beside every B. (Its leaves project all four gates, where the schedule's N-ary
  fast lane projects the three a leaf uses; per node that matmul is a small part of the
  recursion's time, which is Python and kernel-launch overhead.)

Both compute ``sum of h over every node`` and its gradient with respect to the cell's parameters
and the word vectors (not the vectors with ``--freeze-embeddings``); they are checked to agree
before timing. Every row processes the same ``--trees`` trees (the recursion one at a time, the
schedule in batches of B), timed in interleaved rounds in a shuffled order, so all see the same
load on a shared machine; the fastest round of each is reported (:mod:`graphrnn.bench.common`).
Peak memory is the largest net amount of CPU memory allocated during one forward+backward step
(one batch, or one tree for the recursion), from the allocation events that
``torch.profiler.profile(profile_memory=True)`` records (tensors that exist before the step, such
as the parameters, are not counted).

Run it with ``python -m graphrnn.bench.tree`` (or ``graphrnn bench tree``).
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Batch

from ..datasets.ptb import add_levels, read_trees, tree_vocab, trees_to_graphs
from ..datasets.text import Vocab
from ..io import shared_data
from ..nn.tree import TreeLSTM
from .common import peak_memory, time_interleaved

_CACHE = "_graphrnn_schedule_cache"


def load_trees(root: str, split: str, count: int):
    """The first ``count`` trees of ``root/{split}.txt``, their graphs (with levels) and a vocab."""
    path = os.path.join(root, f"{split}.txt")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} is missing; pass --root, the folder with the SST files "
                                f"(train.txt, dev.txt, test.txt)")
    trees = read_trees(path)[:count]
    vocab = tree_vocab(trees)
    graphs = add_levels(trees_to_graphs(trees, vocab))
    return trees, graphs, vocab


# -- the two implementations ----------------------------------------------------------------------

def recursive_forward(cell, tree, words: list[Tensor], bias: Tensor, out: list):
    """State of ``tree``'s root by recursion, appending every node's h to ``out``; ``words`` are
    the sentence's word vectors (1, I), consumed left to right."""
    if len(tree) == 1 and isinstance(tree[0], str):              # a preterminal: one word
        state = cell.leaf(cell.project(words.pop(0)))
    else:
        kids = [recursive_forward(cell, child, words, bias, out) for child in tree]
        children = tuple(torch.stack([k[i] for k in kids], 1) for i in range(len(kids[0])))
        state = cell.step(bias, children)                        # no word: W x = 0
    out.append(state[0])
    return state


def recursion_forward(cell, tree, embedding: Tensor, vocab: Vocab) -> list[Tensor]:
    """Every node's h (1, H), in post-order. The sentence's word vectors are looked up in one
    call per tree, as tree-recursive implementations usually do."""
    tokens = torch.tensor([vocab[w] for w in tree.leaves()])
    words = list(embedding.index_select(0, tokens).split(1))
    bias = cell.project(embedding.new_zeros(1, embedding.size(1)))
    hs: list[Tensor] = []
    recursive_forward(cell, tree, words, bias, hs)
    return hs


def recursion_step(cell, trees, embedding, vocab) -> None:
    """Forward+backward of ``trees`` one at a time."""
    for tree in trees:
        torch.cat(recursion_forward(cell, tree, embedding, vocab)).sum().backward()


def schedule_step(model, batch, embedding) -> None:
    """Forward+backward of one batch with the level schedule (schedule computed inside)."""
    batch.__dict__.pop(_CACHE, None)
    out, _ = model(batch, embedding, input_index=batch.token)   # each distinct word once
    out.sum().backward()


# -- measuring ------------------------------------------------------------------------------------

def check_agreement(model, trees, graphs, embedding, vocab, count: int = 8) -> float:
    """Largest difference between the two implementations' node states on ``count`` trees."""
    worst = 0.0
    with torch.no_grad():
        for tree, data in zip(trees[:count], graphs[:count]):
            batch = Batch.from_data_list([data])
            got, _ = model(batch, embedding, input_index=batch.token)
            hs = recursion_forward(model.cell, tree, embedding, vocab)
            post = _post_order(data)           # recursion appends in post-order
            worst = max(worst, float((torch.cat(hs) - got[post]).abs().max()))
    return worst


def _post_order(data) -> Tensor:
    children: dict[int, list[int]] = {}
    for c, p in data.edge_index.t().tolist():
        children.setdefault(p, []).append(c)
    order, stack = [], [(0, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
            continue
        stack.append((v, True))
        stack.extend((c, False) for c in reversed(children.get(v, [])))
    return torch.tensor(order)


def run(argv: Sequence[str] | None = None) -> list[dict]:
    """Parse ``argv``, run the benchmark, print a table and return its rows."""
    parser = argparse.ArgumentParser(prog="graphrnn bench tree",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(shared_data("sst")), help="folder with the SST files")
    parser.add_argument("--split", default="train", help="which file's trees to use")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32, 256])
    parser.add_argument("--variant", choices=["child_sum", "nary"], default="nary")
    parser.add_argument("--input-size", type=int, default=300)
    parser.add_argument("--hidden-size", type=int, default=150)
    parser.add_argument("--trees", type=int, default=256,
                        help="trees every row processes (the largest batch size at least)")
    parser.add_argument("--repeats", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: leave as is)")
    parser.add_argument("--no-memory", action="store_true", help="skip the profiler memory runs")
    parser.add_argument("--freeze-embeddings", action="store_true",
                        help="no gradient for the word vectors (drops one of the six big GEMMs)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    count = max(max(args.batch_sizes), args.trees)
    trees, graphs, vocab = load_trees(args.root, args.split, count)
    count = len(trees)
    model = TreeLSTM(args.input_size, args.hidden_size, variant=args.variant)
    embedding = torch.randn(len(vocab), args.input_size).requires_grad_(not args.freeze_embeddings)
    diff = check_agreement(model, trees, graphs, embedding, vocab)
    if diff > 1e-4:
        raise RuntimeError(f"schedule and recursion differ by {diff}: the comparison is void")

    sizes = list(args.batch_sizes)
    batches = {b: [Batch.from_data_list(graphs[i:i + b]) for i in range(0, count, b)]
               for b in sizes}
    fns = {"recursion": lambda: recursion_step(model.cell, trees, embedding, vocab)}
    for b in sizes:
        fns[b] = lambda b=b: [schedule_step(model, batch, embedding) for batch in batches[b]]
    seconds = time_interleaved(fns, repeats=args.repeats, warmup=1)
    ref_rate = count / seconds["recursion"]
    ref_mem = None if args.no_memory else max(
        peak_memory(lambda t=t: recursion_step(model.cell, [t], embedding, vocab))
        for t in trees[:8])

    nodes = sum(g.num_nodes for g in graphs) / len(graphs)
    print(f"Tree-LSTM ({args.variant}) forward+backward on {count} SST {args.split} trees "
          f"({nodes:.1f} nodes/tree on average), input {args.input_size}, hidden "
          f"{args.hidden_size}, threads={torch.get_num_threads()}, fastest of {args.repeats} "
          f"interleaved rounds, max |diff| {diff:.1e}")
    print(f"{'batch':>6} {'schedule trees/s':>17} {'recursion trees/s':>18} {'speed-up':>9} "
          f"{'schedule peak MB':>17} {'recursion peak MB':>18}")
    rows = []
    for size in sizes:
        rate = count / seconds[size]
        speedup = rate / ref_rate
        mem = None if args.no_memory else peak_memory(
            lambda: schedule_step(model, batches[size][0], embedding))
        row = dict(batch=size, schedule_trees_per_s=rate, recursion_trees_per_s=ref_rate,
                   speedup=speedup, schedule_peak_mb=None if mem is None else mem / 2**20,
                   recursion_peak_mb=None if ref_mem is None else ref_mem / 2**20)
        rows.append(row)
        fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        print(f"{size:>6} {rate:>17.1f} {ref_rate:>18.1f} {speedup:>8.1f}x "
              f"{fmt(row['schedule_peak_mb']):>17} {fmt(row['recursion_peak_mb']):>18}")
    return rows


if __name__ == "__main__":
    run()
