"""Benchmark: forward+backward of :class:`graphrnn.nn.GraphNetwork` against PyG's ``MetaLayer``.

Both run the *same* three MLPs (same module objects, so same weights) on the same batch of fully
connected particle systems; ``MetaLayer``'s sub-models concatenate their inputs and gather node
features onto edges before the first Linear, as its documentation shows; ours splits the first
Linear by input and projects node features before gathering. The two are timed alternately in one
process, and the outputs are checked to agree before timing.

Run it with ``python -m graphrnn.bench.graph --repeats 20`` (or ``graphrnn bench graph``).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch
from torch import nn
from torch_geometric.nn import MetaLayer
from torch_geometric.utils import scatter

from ..nn.graph_network import GraphNetwork
from ..nn.mlp import mlp
from .common import time_interleaved


def fully_connected_batch(num_graphs: int, num_particles: int, node_features: int,
                          edge_features: int, global_features: int, seed: int = 0):
    """Random features on ``num_graphs`` fully connected graphs of ``num_particles`` nodes (no
    self-loops). Returns ``x [N, F_v], edge_index [2, E], edge_attr [E, F_e], u [B, F_u],
    batch``."""
    g = torch.Generator().manual_seed(seed)
    n = num_particles
    src, dst = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    keep = src != dst
    one = torch.stack([src[keep], dst[keep]])                         # [2, n(n-1)]
    offsets = (torch.arange(num_graphs) * n).repeat_interleave(one.size(1))
    edge_index = one.repeat(1, num_graphs) + offsets                  # [2, B n(n-1)]
    x = torch.randn(num_graphs * n, node_features, generator=g)
    edge_attr = torch.randn(edge_index.size(1), edge_features, generator=g)
    u = torch.randn(num_graphs, global_features, generator=g)
    batch = torch.arange(num_graphs).repeat_interleave(n)
    return x, edge_index, edge_attr, u, batch


class _MetaEdge(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, src, dst, edge_attr, u, batch):
        return self.net(torch.cat([edge_attr, src, dst, u[batch]], dim=1))


class _MetaNode(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, edge_index, edge_attr, u, batch):
        agg = scatter(edge_attr, edge_index[1], dim=0, dim_size=x.size(0), reduce="sum")
        return self.net(torch.cat([x, agg, u[batch]], dim=1))


class _MetaGlobal(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x, edge_index, edge_attr, u, batch):
        e = scatter(edge_attr, batch[edge_index[0]], dim=0, dim_size=u.size(0), reduce="sum")
        v = scatter(x, batch, dim=0, dim_size=u.size(0), reduce="sum")
        return self.net(torch.cat([u, e, v], dim=1))


def build(features: int, hidden: int, num_layers: int = 2, seed: int = 0):
    """The shared MLPs, our block and a ``MetaLayer`` around the same MLPs."""
    torch.manual_seed(seed)
    f = features
    edge = mlp(4 * f, hidden, f, num_layers)      # [e, v_s, v_r, u]
    node = mlp(3 * f, hidden, f, num_layers)      # [v, sum e', u]
    glob = mlp(3 * f, hidden, f, num_layers)      # [u, sum e', sum v']
    ours = GraphNetwork(edge, node, glob)
    theirs = MetaLayer(_MetaEdge(edge), _MetaNode(node), _MetaGlobal(glob))
    return ours, theirs


def _step(model, inputs) -> None:
    model.zero_grad(set_to_none=True)
    x, e, u = model(*inputs)[:3]
    (x.sum() + e.sum() + u.sum()).backward()


def run(argv: Sequence[str] | None = None) -> list[dict]:
    """Parse ``argv``, run the benchmark, print a table and return its rows."""
    parser = argparse.ArgumentParser(prog="graphrnn bench graph",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10,
                        help="timed runs per model (the fastest is reported)")
    parser.add_argument("--batch", type=int, default=512, help="graphs per batch")
    parser.add_argument("--particles", type=int, nargs="+", default=[5, 10],
                        help="particles per fully connected system")
    parser.add_argument("--features", type=int, default=128, help="node/edge/global width")
    parser.add_argument("--hidden", type=int, default=128, help="MLP hidden width")
    parser.add_argument("--layers", type=int, default=2, help="Linears per MLP")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: leave as is)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    ours, theirs = build(args.features, args.hidden, args.layers)
    rows = []
    print(f"GN block vs MetaLayer, same MLPs, forward+backward, batch={args.batch}, "
          f"features={args.features}, hidden={args.hidden}, layers={args.layers}, "
          f"threads={torch.get_num_threads()}, fastest of {args.repeats}")
    print(f"{'particles':>9} {'nodes':>7} {'edges':>8} {'ours ms':>9} {'MetaLayer ms':>13} "
          f"{'ratio':>6}")
    for n in args.particles:
        inputs = fully_connected_batch(args.batch, n, args.features, args.features, args.features)
        with torch.no_grad():
            a, b = ours(*inputs), theirs(*inputs)
            diff = max(float((p - q).abs().max()) for p, q in zip(a, b))
        if diff > 1e-3:
            raise RuntimeError(f"outputs differ by {diff}: the comparison would be meaningless")
        times = time_interleaved({"ours": lambda: _step(ours, inputs),
                                  "theirs": lambda: _step(theirs, inputs)}, repeats=args.repeats)
        t_ours, t_theirs = times["ours"], times["theirs"]
        row = dict(particles=n, nodes=inputs[0].size(0), edges=inputs[1].size(1),
                   ours_ms=1e3 * t_ours, metalayer_ms=1e3 * t_theirs, ratio=t_ours / t_theirs)
        rows.append(row)
        print(f"{n:>9} {row['nodes']:>7} {row['edges']:>8} {row['ours_ms']:>9.2f} "
              f"{row['metalayer_ms']:>13.2f} {row['ratio']:>6.2f}")
    return rows


if __name__ == "__main__":
    run()
