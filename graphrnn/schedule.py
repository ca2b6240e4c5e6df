"""Schedules: the order in which a recurrence visits the nodes of a graph.

A recurrence ``h_v = cell(x_v, AGG{h_u : u -> v})`` over a directed acyclic graph can update every
node of one *topological level* at once, where

    level(v) = 0                                   if v has no predecessor,
    level(v) = 1 + max{level(u) : u -> v}          otherwise,

so a chain's levels are its positions and a tree's (child -> parent) levels are node heights,
leaves first. Everything here is a pure, vectorised function of ``edge_index``: the Python loop runs
once per *level* (never per node) and each pass touches only the edges leaving that level, so the
cost is linear in nodes + edges. Levels are intrinsic to each graph, so they can be computed once in
the data pipeline (:class:`AddLevels`) and batched by PyG like any node attribute.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


class CycleError(ValueError):
    """A graph given to a DAG schedule has a directed cycle; ``node`` lies on it."""

    def __init__(self, node: int, cycle: list[int]):
        self.node = node
        self.cycle = cycle
        path = " -> ".join(str(v) for v in cycle[:10]) + (" -> ..." if len(cycle) > 10 else "")
        super().__init__(
            f"edge_index has a directed cycle through node {node} ({path} -> {cycle[0]}); a "
            f"topological schedule needs a DAG. Use synchronous rounds (graphrnn.engine."
            f"propagate_rounds) for graphs with cycles.")


def check_num_nodes(num_nodes, name: str = "num_nodes") -> int:
    """``num_nodes`` as an ``int``; a ``TypeError``/``ValueError`` naming ``name`` unless it is a
    non-negative whole number (a Python or NumPy int, or a 0-d integer tensor)."""
    if isinstance(num_nodes, Tensor):
        if num_nodes.dim() != 0 or num_nodes.is_floating_point() or num_nodes.dtype == torch.bool:
            raise TypeError(f"{name} must be an int, got a tensor of dtype {num_nodes.dtype} and "
                            f"shape {tuple(num_nodes.shape)}")
    elif isinstance(num_nodes, bool) or not hasattr(num_nodes, "__index__"):
        raise TypeError(f"{name} must be an int, got {num_nodes!r}")
    num_nodes = int(num_nodes)  # Python, NumPy and 0-d tensor integers alike
    if num_nodes < 0:
        raise ValueError(f"{name} must be >= 0, got {num_nodes}")
    return num_nodes


def check_edge_index(edge_index: Tensor, num_nodes: int, name: str = "edge_index") -> int:
    """The one check of a graph's ``edge_index`` and ``num_nodes`` that every entry point runs:
    a (2, E) ``torch.long`` tensor of indices in ``[0, num_nodes)``. Raises a ``TypeError`` or
    ``ValueError`` naming ``name``; returns ``num_nodes`` as an ``int``."""
    num_nodes = check_num_nodes(num_nodes)
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (2, E), got "
                        f"{type(edge_index).__name__}")
    if edge_index.dtype != torch.long:
        raise TypeError(f"{name} must hold torch.long node indices (as PyG's), got dtype "
                        f"{edge_index.dtype}; convert it with .long()")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{name} must have shape (2, E), got {tuple(edge_index.shape)}")
    if edge_index.numel():
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(f"{name} holds node index {lo if lo < 0 else hi}, expected indices in "
                             f"[0, {num_nodes}) for num_nodes={num_nodes}")
    return num_nodes


def _csr(src: Tensor, dst: Tensor, num_nodes: int) -> tuple[Tensor, Tensor, Tensor]:
    """Out-edges grouped by source: (ptr (N+1,), targets (E,), out-degree (N,))."""
    order = torch.argsort(src, stable=True)
    deg = torch.bincount(src, minlength=num_nodes)
    ptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=src.device)
    torch.cumsum(deg, 0, out=ptr[1:])
    return ptr, dst[order], deg


def _expand_ranges(starts: Tensor, counts: Tensor) -> Tensor:
    """Concatenation of ``arange(s, s + c)`` for each (s, c), without a Python loop."""
    total = int(counts.sum())
    offsets = torch.cumsum(counts, 0) - counts
    return torch.repeat_interleave(starts - offsets, counts, output_size=total) + torch.arange(
        total, device=starts.device)


def _roots_and_depths(src: Tensor, dst: Tensor, num_nodes: int) -> tuple[Tensor, Tensor] | None:
    """Root and depth of every node of a forest where each node has at most one predecessor.

    Pointer jumping: O(log depth) vectorised passes. Returns ``None`` when the graph has a cycle
    (some pointer never reaches a root).
    """
    ids = torch.arange(num_nodes, device=src.device)
    pred = ids.clone()
    pred[dst] = src
    has_pred = pred != ids
    depth = has_pred.long()
    for _ in range(math.ceil(math.log2(max(num_nodes, 2))) + 1):
        nxt = pred[pred]
        if torch.equal(nxt, pred):
            break
        depth = depth + depth[pred]
        pred = nxt
    # On a cycle the pointers never settle on a true root (a node without a predecessor).
    if not torch.equal(pred[pred], pred) or bool(has_pred[pred].any()):
        return None
    return pred, depth


def _find_cycle(src: Tensor, dst: Tensor, remaining: Tensor) -> tuple[int, list[int]]:
    """A node on a directed cycle among ``remaining`` nodes (each has a remaining predecessor)."""
    num_nodes = remaining.numel()
    keep = remaining[src] & remaining[dst]
    pred = torch.arange(num_nodes, device=src.device)
    pred[dst[keep]] = src[keep]
    # After >= num_nodes steps back along predecessors every walk is inside a cycle.
    jump = pred.clone()
    for _ in range(math.ceil(math.log2(max(num_nodes, 2))) + 1):
        jump = jump[jump]
    start = int(torch.nonzero(remaining)[0])
    node = int(jump[start])
    cycle, v = [node], int(pred[node])
    while v != node and len(cycle) <= num_nodes:
        cycle.append(v)
        v = int(pred[v])
    cycle.reverse()  # follow edge direction: u -> v
    return node, cycle


def topological_levels(edge_index: Tensor, num_nodes: int, reverse: bool = False) -> Tensor:
    """Topological level of every node of a DAG.

    Args:
        edge_index: (2, E) long tensor of edges ``src -> dst``.
        num_nodes: N, the number of nodes (isolated nodes get level 0).
        reverse: schedule the reversed graph (``dst -> src``): sinks first. A chain's reversed
            levels run from its end to its start; a child->parent tree's run root first.

    Returns:
        (N,) long tensor of levels.

    Raises:
        CycleError: the graph has a directed cycle; the error names a node on it.
    """
    num_nodes = check_edge_index(edge_index, num_nodes)
    src, dst = (edge_index[1], edge_index[0]) if reverse else (edge_index[0], edge_index[1])
    device = edge_index.device
    if num_nodes == 0:
        return torch.zeros(0, dtype=torch.long, device=device)
    indeg = torch.bincount(dst, minlength=num_nodes)
    if src.numel() == 0:
        return torch.zeros(num_nodes, dtype=torch.long, device=device)
    loops = src == dst
    if bool(loops.any()):
        node = int(src[loops][0])
        raise CycleError(node, [node])
    if int(indeg.max()) <= 1:
        found = _roots_and_depths(src, dst, num_nodes)
        if found is not None:
            return found[1]
    # Kahn's algorithm, one frontier (= one level) per pass.
    ptr, targets, outdeg = _csr(src, dst, num_nodes)
    indeg = indeg.clone()
    level = torch.full((num_nodes,), -1, dtype=torch.long, device=device)
    frontier = torch.nonzero(indeg == 0).flatten()
    depth, done = 0, 0
    while frontier.numel():
        level[frontier] = depth
        done += frontier.numel()
        hit = targets[_expand_ranges(ptr[frontier], outdeg[frontier])]
        if hit.numel() == 0:
            break
        indeg.index_add_(0, hit, torch.full_like(hit, -1))
        hit = hit[indeg[hit] == 0]
        frontier = torch.unique(hit)
        depth += 1
    if done < num_nodes:
        node, cycle = _find_cycle(src, dst, level < 0)
        raise CycleError(node, cycle)
    return level


@dataclass(frozen=True)
class Schedule:
    """Nodes grouped by level, with the edges into each level, ready for the engine.

    Positions below are positions in ``order`` (level-major). Level ``l`` holds the nodes
    ``order[level_ptr[l]:level_ptr[l+1]]`` and receives the edges ``edge_ptr[l]:edge_ptr[l+1]``
    (edges sorted by destination position, then by their original order).

    Attributes:
        order: (N,) node ids sorted by level (stable in node id).
        rank: (N,) position of each node id in ``order``.
        level_ptr: (L+1,) boundaries of the levels in ``order``.
        edge_src: (E,) source position of each sorted edge.
        edge_dst: (E,) destination position of each sorted edge.
        edge_slot: (E,) rank of the edge among the edges into the same node (child order).
        edge_ptr: (L+1,) boundaries of the edges into each level.
        edge_perm: (E,) original edge id of each sorted edge.
        level_sizes, edge_sizes: the same boundaries as Python lists (no device sync in loops).
        reverse: whether the graph was scheduled reversed (edges read ``dst -> src``).
        level_widths: per level, the most edges into one node (its largest ``edge_slot`` + 1; 0
            for a level without edges), as Python ints: a cell that lays children out densely
            needs it, and reading it from the device at every level would sync.
    """

    order: Tensor
    rank: Tensor
    level_ptr: Tensor
    edge_src: Tensor
    edge_dst: Tensor
    edge_slot: Tensor
    edge_ptr: Tensor
    edge_perm: Tensor
    level_sizes: tuple[int, ...]
    edge_sizes: tuple[int, ...]
    reverse: bool = False
    level_widths: tuple[int, ...] = ()

    @property
    def num_nodes(self) -> int:
        return self.order.numel()

    @property
    def num_levels(self) -> int:
        return len(self.level_sizes)

    def to(self, device) -> Schedule:
        fields = {k: (v.to(device) if isinstance(v, Tensor) else v)
                  for k, v in self.__dict__.items()}
        return Schedule(**fields)

    def __repr__(self) -> str:
        return (f"Schedule(num_nodes={self.num_nodes}, num_edges={self.edge_src.numel()}, "
                f"num_levels={self.num_levels}, reverse={self.reverse})")


def in_edge_slots(dst: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """Edges sorted by destination (stable): the permutation, and each sorted edge's rank among
    the edges into the same node (its child slot, in original edge order)."""
    perm = torch.argsort(dst, stable=True)
    count = torch.bincount(dst, minlength=num_nodes)
    start = torch.cumsum(count, 0) - count
    return perm, torch.arange(dst.numel(), device=dst.device) - start[dst[perm]]


def schedule_from_levels(edge_index: Tensor, level: Tensor, reverse: bool = False) -> Schedule:
    """Group nodes and edges by precomputed levels (see :func:`topological_levels`).

    Cost: two stable sorts, O((N + E) log(N + E)), no loop over levels.
    """
    num_nodes = level.numel()
    device = level.device
    order = torch.argsort(level, stable=True)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(num_nodes, device=device)
    num_levels = int(level.max()) + 1 if num_nodes else 0
    level_count = torch.bincount(level, minlength=num_levels)
    level_ptr = torch.zeros(num_levels + 1, dtype=torch.long, device=device)
    torch.cumsum(level_count, 0, out=level_ptr[1:])

    src, dst = (edge_index[1], edge_index[0]) if reverse else (edge_index[0], edge_index[1])
    dst_pos = rank[dst]
    edge_perm, edge_slot = in_edge_slots(dst_pos, num_nodes)
    edge_dst = dst_pos[edge_perm]
    edge_src = rank[src][edge_perm]
    edge_count = torch.bincount(level[dst], minlength=num_levels) if dst.numel() else torch.zeros(
        num_levels, dtype=torch.long, device=device)
    edge_ptr = torch.zeros(num_levels + 1, dtype=torch.long, device=device)
    torch.cumsum(edge_count, 0, out=edge_ptr[1:])
    widths = torch.zeros(num_levels, dtype=torch.long, device=device)
    if dst.numel():
        widths.scatter_reduce_(0, level[dst][edge_perm], edge_slot + 1, "amax")
    # one transfer for every per-level number the loops read
    sizes = torch.cat([level_count, edge_count, widths]).tolist()
    return Schedule(order, rank, level_ptr, edge_src, edge_dst, edge_slot, edge_ptr, edge_perm,
                    tuple(sizes[:num_levels]), tuple(sizes[num_levels:2 * num_levels]), reverse,
                    tuple(sizes[2 * num_levels:]))


def topological_schedule(edge_index: Tensor, num_nodes: int, reverse: bool = False,
                         level: Tensor | None = None) -> Schedule:
    """The :class:`Schedule` of a DAG (levels computed unless ``level`` is given)."""
    if level is None:
        level = topological_levels(edge_index, num_nodes, reverse=reverse)
    else:
        num_nodes = check_edge_index(edge_index, num_nodes)
        if level.numel() != num_nodes:
            raise ValueError(f"level has {level.numel()} entries, expected one per node "
                             f"({num_nodes})")
    return schedule_from_levels(edge_index, level, reverse=reverse)


_CACHE_ATTR = "_graphrnn_schedule_cache"


def schedule_of(data, reverse: bool = False) -> Schedule:
    """The schedule of a PyG ``Data``/``Batch``, computed once and cached on the object.

    Uses ``data.level`` (or ``data.level_reverse``) when :class:`AddLevels` stored it in the data
    pipeline, so a batch needs only the grouping sorts. The cache is keyed on the edge tensor's
    identity and version, so editing ``edge_index`` in place invalidates it.
    """
    edge_index = data.edge_index
    check_edge_index(edge_index, data.num_nodes)
    key = (bool(reverse), edge_index.device, id(edge_index), edge_index._version, data.num_nodes)
    cache = data.__dict__.setdefault(_CACHE_ATTR, {})
    if key not in cache:
        level = getattr(data, "level_reverse" if reverse else "level", None)
        cache.clear()
        cache[key] = topological_schedule(edge_index, data.num_nodes, reverse=reverse, level=level)
    return cache[key]


class AddLevels:
    """PyG transform storing topological levels as node attributes ``level`` (and
    ``level_reverse`` when ``reverse=True``), so batches are scheduled without a level loop.

    Use it as a ``pre_transform`` or ``transform`` of a dataset.
    """

    def __init__(self, forward: bool = True, reverse: bool = False):
        self.forward, self.reverse = forward, reverse

    def __call__(self, data):
        if self.forward:
            data.level = topological_levels(data.edge_index, data.num_nodes)
        if self.reverse:
            data.level_reverse = topological_levels(data.edge_index, data.num_nodes, reverse=True)
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(forward={self.forward}, reverse={self.reverse})"


@dataclass(frozen=True)
class ChainLayout:
    """A forest of chains laid out as a ``PackedSequence`` lays out a batch of sequences.

    Packed row ``r`` holds node ``order[r]``; step ``t`` holds ``batch_sizes[t]`` rows, one per
    chain longer than ``t``, chains sorted by decreasing length (so the chains still running at step
    ``t`` are a prefix of those running at ``t - 1``, exactly as in ``torch.nn.utils.rnn``).

    Attributes:
        order: (N,) node ids in packed order.
        batch_sizes: (T,) long tensor on the CPU, as in ``PackedSequence``.
        sorted_indices: (C,) chain id of each packed column; chains are numbered by first node id.
        unsorted_indices: (C,) packed column of each chain.
        first_node: (C,) first node id of each chain.
    """

    order: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor
    unsorted_indices: Tensor
    first_node: Tensor

    @property
    def num_chains(self) -> int:
        return self.first_node.numel()


def chain_layout(edge_index: Tensor, num_nodes: int) -> ChainLayout:
    """Lay out a graph made of disjoint chains (every node with at most one predecessor and one
    successor, no cycle) in ``PackedSequence`` order. A lone node is a chain of length 1.

    Raises:
        ValueError: the graph is not a forest of chains; the message names an offending node.
    """
    num_nodes = check_edge_index(edge_index, num_nodes)
    src, dst = edge_index[0], edge_index[1]
    device = edge_index.device
    for name, ends in (("predecessors", dst), ("successors", src)):
        deg = torch.bincount(ends, minlength=num_nodes)
        if deg.numel() and int(deg.max()) > 1:
            node = int(torch.argmax(deg))
            raise ValueError(f"edge_index is not a set of chains: node {node} has {int(deg[node])} "
                             f"{name}, expected at most 1. Use graphrnn.engine.propagate for DAGs.")
    found = _roots_and_depths(src, dst, num_nodes)
    if found is None:
        topological_levels(edge_index, num_nodes)  # raises CycleError naming a node
    root, depth = found
    ids = torch.arange(num_nodes, device=device)
    first_node = ids[root == ids]
    chain_of_root = torch.empty(num_nodes, dtype=torch.long, device=device)
    chain_of_root[first_node] = torch.arange(first_node.numel(), device=device)
    chain = chain_of_root[root]
    length = torch.bincount(chain, minlength=first_node.numel())
    sorted_indices = torch.argsort(-length, stable=True)
    unsorted_indices = torch.empty_like(sorted_indices)
    unsorted_indices[sorted_indices] = torch.arange(sorted_indices.numel(), device=device)
    key = depth * max(first_node.numel(), 1) + unsorted_indices[chain]
    order = torch.argsort(key)
    batch_sizes = torch.bincount(depth).cpu() if num_nodes else torch.zeros(0, dtype=torch.long)
    return ChainLayout(order, batch_sizes, sorted_indices, unsorted_indices, first_node)
