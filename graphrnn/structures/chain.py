"""Sequences as chain graphs: node t is step t, edges ``t-1 -> t`` (or ``t-k -> t`` with delays).

Each builder returns PyG ``Data`` (one sequence) or ``Batch`` (several); batches are PyG's, with no
padding: node features ``x`` are stacked and ``batch`` says which sequence a node belongs to.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, unpack_sequence
from torch_geometric.data import Batch, Data


def _check_features(x: Tensor, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 1:
        raise ValueError(f"{name} must have a time dimension, got a scalar")
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        bad = torch.nonzero(~torch.isfinite(x))[0].tolist()
        raise ValueError(f"{name} holds a non-finite value ({x[tuple(bad)].item()}) at index "
                         f"{tuple(bad)}; expected finite features")


def chain_edges(length: int, delays: Iterable[int] = (1,), reverse: bool = False,
                device=None) -> tuple[Tensor, Tensor]:
    """Edges of one chain of ``length`` nodes: ``t - k -> t`` for every k in ``delays``.

    Returns ``(edge_index (2, E), delay (E,))``; edges are ordered by delay, then by t.
    ``reverse=True`` flips them (``t + k -> t``), the graph of the backward direction.
    A chain shorter than a delay k has no edge of that delay; ``length=0`` gives (2, 0) and (0,).
    """
    delays = [int(k) for k in delays]
    if any(k <= 0 for k in delays):
        raise ValueError(f"delays must be positive integers, got {delays}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"length must be an int >= 0, got {length!r}")
    sources, targets, kinds = [], [], []
    for k in delays:
        t = torch.arange(min(k, length), length, device=device)  # empty when length <= k
        sources.append(t - k)
        targets.append(t)
        kinds.append(torch.full_like(t, k))
    src = torch.cat(sources) if sources else torch.zeros(0, dtype=torch.long, device=device)
    dst = torch.cat(targets) if targets else torch.zeros(0, dtype=torch.long, device=device)
    edge_index = torch.stack([dst, src] if reverse else [src, dst])
    return edge_index, (torch.cat(kinds) if kinds
                        else torch.zeros(0, dtype=torch.long, device=device))


def chain_graph(x: Tensor, reverse: bool = False, **attrs) -> Data:
    """One sequence ``x`` (T, F) as a chain ``0 -> 1 -> ... -> T-1`` (reversed:
    ``T-1 -> ... -> 0``).

    Returns ``Data`` with ``x`` (T, F), ``edge_index`` (2, T-1) and ``num_nodes`` T.
    Extra keyword arguments (e.g. per-node targets ``y``) are stored on the ``Data``.

    An empty sequence (T = 0) is a valid, empty graph: 0 nodes and a (2, 0) ``edge_index``, as
    PyG allows; batched with others it adds no node, so it has no row in a node-wise output and,
    having no first node, no final state in an RNN's ``h_n`` (chains are numbered by first node).
    """
    _check_features(x, "x")
    edge_index, _ = chain_edges(x.size(0), reverse=reverse, device=x.device)
    return Data(x=x, edge_index=edge_index, num_nodes=x.size(0), **attrs)


def delay_chain_graph(x: Tensor, delays: int | Sequence[int] = 1, **attrs) -> Data:
    """One sequence ``x`` (T, F) with delay edges ``t - k -> t`` for k in ``delays``
    (only those with ``t - k >= 0``; T = 0 gives an empty graph, as :func:`chain_graph`).

    ``delays=K`` (an int) means k = 1..K: the graph of a TDNN layer, an AR(K) or NARX model.
    ``edge_delay`` (E,) holds k for each edge, so a cell can weight each delay separately.
    """
    _check_features(x, "x")
    ks = range(1, delays + 1) if isinstance(delays, int) else delays
    edge_index, kind = chain_edges(x.size(0), ks, device=x.device)
    return Data(x=x, edge_index=edge_index, edge_delay=kind, num_nodes=x.size(0), **attrs)


def chains_from_list(sequences: Sequence[Tensor], reverse: bool = False) -> Batch:
    """A batch of chains from a list of (T_i, F) tensors (lengths may differ, none padded).

    A sequence with T_i = 0 is an empty graph in the batch (see :func:`chain_graph`); an empty
    list is a ``ValueError``: PyG's ``Batch`` cannot be built from no graph, and no feature
    width could be known.
    """
    if len(sequences) == 0:
        raise ValueError("sequences is empty: a batch needs at least one sequence")
    for i, s in enumerate(sequences):
        _check_features(s, f"sequences[{i}]")
    return Batch.from_data_list([chain_graph(s, reverse=reverse) for s in sequences])


def chains_from_padded(padded: Tensor, lengths: Tensor | Sequence[int] | None = None,
                       batch_first: bool = False, reverse: bool = False) -> Batch:
    """A batch of chains from a padded tensor (T, B, F) (``(B, T, F)`` if ``batch_first``).

    Args:
        lengths: the true length of each sequence, in [1, T] as for ``pack_padded_sequence``
            (default: all T). Padding beyond it is dropped.

    A ``padded`` with no sequence (B = 0) or no time step (T = 0) is a ``ValueError`` naming it,
    as ``pack_padded_sequence`` rejects them; build empty chains with :func:`chain_graph`.
    """
    _check_features(padded, "padded")
    if padded.dim() < 2:
        raise ValueError(f"padded must have shape (T, B, *) or (B, T, *), "
                         f"got {tuple(padded.shape)}")
    seqs = padded if batch_first else padded.transpose(0, 1)
    steps = seqs.size(1)
    if seqs.size(0) == 0 or steps == 0:
        what = "no sequence (B = 0)" if seqs.size(0) == 0 else "no time step (T = 0)"
        raise ValueError(f"padded of shape {tuple(padded.shape)} (batch_first={batch_first}) holds "
                         f"{what}; a batch of chains needs at least one sequence of length >= 1")
    if lengths is None:
        lengths = [steps] * seqs.size(0)
    lengths = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    if len(lengths) != seqs.size(0):
        raise ValueError(f"lengths has {len(lengths)} entries, expected one per sequence "
                         f"({seqs.size(0)})")
    bad = [n for n in lengths if not 0 < n <= steps]
    if bad:
        raise ValueError(f"lengths must be in [1, {steps}] (the padded length), got {bad[0]}")
    return chains_from_list([s[:n] for s, n in zip(seqs, lengths)], reverse=reverse)


def chains_from_packed(packed: PackedSequence, reverse: bool = False) -> Batch:
    """A batch of chains from a ``PackedSequence``, in the original (unsorted) batch order.

    A ``PackedSequence`` holding no step (empty ``batch_sizes``) is a ``ValueError`` naming it.
    """
    if not isinstance(packed, PackedSequence):
        raise TypeError(f"packed must be a PackedSequence, got {type(packed).__name__}")
    if packed.batch_sizes.numel() == 0 or packed.data.size(0) == 0:
        raise ValueError(f"packed holds no sequence (data of shape {tuple(packed.data.shape)}); a "
                         "batch of chains needs at least one sequence of length >= 1")
    return chains_from_list(unpack_sequence(packed), reverse=reverse)


def reverse_graph(data: Data) -> Data:
    """A copy of ``data`` with every edge flipped (``u -> v`` becomes ``v -> u``)."""
    out = data.clone()
    out.edge_index = data.edge_index.flip(0)
    return out
