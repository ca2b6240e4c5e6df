"""Sequence (or tree, or graph) to class: pool the states of a recurrence into one vector per
sequence, then classify it.

Two poolings, for every input layout the recurrent modules produce:

* ``"last"``: the state after the recurrence has read everything. On a chain that is the state of
  its last step; on a DAG it is the state of the *sink* nodes (no outgoing edge, e.g. a tree's
  root for child -> parent edges; the mean of them if a graph has several).
* ``"mean"``: the mean of the states of all steps (nodes) of the sequence (graph).

Layouts:

* padded ``(T, B, H)`` (``(B, T, H)`` with ``batch_first``), with optional ``lengths`` (B,);
* a ``PackedSequence``;
* node states ``(N, H)`` with the PyG ``Data``/``Batch`` they belong to (``edge_index`` and
  ``batch``): chains, trees and any DAG alike.

For a bidirectional chain model (output ``[forward; backward]``) ``"last"`` with
``bidirectional=True`` takes the forward half at the last step and the backward half at the
first step, which is where each direction has read the whole sequence.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence
from torch_geometric.utils import scatter

__all__ = ["POOLINGS", "pool_states", "SequenceClassifier"]

POOLINGS = ("last", "mean")


def _split_directions(x: Tensor) -> tuple[Tensor, Tensor]:
    if x.size(-1) % 2:
        raise ValueError(f"pool_states: bidirectional=True needs an even feature size "
                         f"[forward; backward], got {x.size(-1)}")
    return x.chunk(2, -1)


def pool_states(output, pooling: str = "last", *, lengths: Tensor | None = None,
                batch_first: bool = False, graph=None, bidirectional: bool = False,
                reverse: bool = False) -> Tensor:
    """One vector per sequence (or graph) from the states of every step (node).

    Args:
        output: padded (T, B, H) / (B, T, H), a ``PackedSequence``, or node states (N, H) (then
            ``graph`` is required).
        pooling: ``"last"`` or ``"mean"``.
        lengths: (B,) true lengths of a padded ``output`` (default: all T).
        batch_first: padded ``output`` is (B, T, H).
        graph: the PyG ``Data``/``Batch`` whose nodes ``output`` holds: ``edge_index`` gives the
            sinks for ``"last"``, ``batch`` (absent: one graph) the graph of each node.
        bidirectional: ``output`` is ``[forward; backward]``; for ``"last"`` on chains the
            backward half is read at the first step (on a graph: at the sources).
        reverse: the recurrence ran along reversed edges (sources are then the "last" nodes).

    Returns:
        (B, H) pooled states (B = sequences or graphs).
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pool_states: pooling must be one of {POOLINGS}, got {pooling!r}")
    if isinstance(output, PackedSequence):
        padded, lengths = pad_packed_sequence(output, batch_first=True)
        return pool_states(padded, pooling, lengths=lengths, batch_first=True,
                           bidirectional=bidirectional)
    if not isinstance(output, Tensor):
        raise TypeError(f"pool_states: output must be a Tensor or PackedSequence, got "
                        f"{type(output).__name__}")
    if graph is not None:
        return _pool_graph(output, graph, pooling, bidirectional, reverse)
    if output.dim() != 3:
        raise ValueError(f"pool_states: padded output must be (T, B, H) or (B, T, H), got shape "
                         f"{tuple(output.shape)}; pass graph= for node states (N, H)")
    x = output if batch_first else output.transpose(0, 1)           # (B, T, H)
    B, T, _ = x.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long)
    lengths = torch.as_tensor(lengths, dtype=torch.long).to(x.device)
    if lengths.shape != (B,):
        raise ValueError(f"pool_states: lengths must have shape ({B},), got "
                         f"{tuple(lengths.shape)}")
    if bool(((lengths < 1) | (lengths > T)).any()):
        raise ValueError(f"pool_states: lengths must be in [1, {T}], got {lengths.tolist()}")
    if pooling == "mean":
        mask = (torch.arange(T, device=x.device)[None] < lengths[:, None]).unsqueeze(-1)
        return (x * mask).sum(1) / lengths.unsqueeze(-1).to(x.dtype)
    rows = torch.arange(B, device=x.device)
    last = x[rows, lengths - 1]
    if not bidirectional:
        return last
    forward, _ = _split_directions(last)
    _, backward = _split_directions(x[:, 0])
    return torch.cat([forward, backward], -1)


def _pool_graph(x: Tensor, graph, pooling: str, bidirectional: bool, reverse: bool) -> Tensor:
    if x.dim() != 2:
        raise ValueError(f"pool_states: node states must be (N, H), got {tuple(x.shape)}")
    edge_index = getattr(graph, "edge_index", None)
    if edge_index is None:
        raise ValueError("pool_states: graph has no edge_index")
    n = x.size(0)
    if graph.num_nodes != n:
        raise ValueError(f"pool_states: output has {n} rows but graph has {graph.num_nodes} nodes")
    batch = getattr(graph, "batch", None)
    if batch is None:
        batch = torch.zeros(n, dtype=torch.long, device=x.device)
    num_graphs = int(getattr(graph, "num_graphs", int(batch.max()) + 1 if n else 0))
    if pooling == "mean":
        return scatter(x, batch, 0, dim_size=num_graphs, reduce="mean")

    def ends(sinks: bool) -> Tensor:
        # sinks: nodes without an outgoing edge in the direction the recurrence ran
        side = edge_index[0] if sinks != reverse else edge_index[1]
        has = torch.zeros(n, dtype=torch.bool, device=x.device)
        has[side] = True
        return ~has

    def mean_over(rows: Tensor, values: Tensor) -> Tensor:
        out = scatter(values[rows], batch[rows], 0, dim_size=num_graphs, reduce="mean")
        count = torch.bincount(batch[rows], minlength=num_graphs)
        if bool((count == 0).any()):
            g = int((count == 0).nonzero()[0])
            raise ValueError(f"pool_states: graph {g} has no node without an outgoing edge (a "
                             f"cycle?); 'last' needs a DAG")
        return out

    if not bidirectional:
        return mean_over(ends(True), x)
    forward, backward = _split_directions(x)
    return torch.cat([mean_over(ends(True), forward), mean_over(ends(False), backward)], -1)


class SequenceClassifier(nn.Module):
    """Pool a recurrent model's states (:func:`pool_states`), then ``Linear`` (after an optional
    hidden layer) to class scores.

    Args:
        in_features: H, the state width.
        num_classes: C.
        pooling: ``"last"`` (default) or ``"mean"``.
        hidden: width of a tanh hidden layer before the output (default: none).
        dropout: on the pooled vector (default 0).
        bidirectional: the states are ``[forward; backward]`` (see :func:`pool_states`).

    ``forward(output, lengths=None, batch_first=False, graph=None)`` -> logits (B, C).
    """

    def __init__(self, in_features: int, num_classes: int, pooling: str = "last",
                 hidden: int | None = None, dropout: float = 0.0, bidirectional: bool = False):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"SequenceClassifier: pooling must be one of {POOLINGS}, got "
                             f"{pooling!r}")
        self.in_features, self.num_classes = in_features, num_classes
        self.pooling, self.bidirectional = pooling, bidirectional
        layers: list[nn.Module] = [nn.Dropout(dropout)]
        if hidden:
            layers += [nn.Linear(in_features, hidden), nn.Tanh()]
        layers.append(nn.Linear(hidden or in_features, num_classes))
        self.mlp = nn.Sequential(*layers)

    def forward(self, output, lengths: Tensor | None = None, batch_first: bool = False,
                graph=None, reverse: bool = False) -> Tensor:
        pooled = pool_states(output, self.pooling, lengths=lengths, batch_first=batch_first,
                             graph=graph, bidirectional=self.bidirectional, reverse=reverse)
        if pooled.size(-1) != self.in_features:
            raise ValueError(f"SequenceClassifier: states have {pooled.size(-1)} features, "
                             f"expected in_features={self.in_features}")
        return self.mlp(pooled)

    def extra_repr(self) -> str:
        s = (f"in_features={self.in_features}, num_classes={self.num_classes}, "
             f"pooling={self.pooling!r}")
        return s + (", bidirectional=True" if self.bidirectional else "")
