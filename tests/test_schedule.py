import pytest
import torch
from torch.nn.utils.rnn import pack_sequence
from torch_geometric.data import Batch, Data

from graphrnn.schedule import (
    AddLevels,
    CycleError,
    chain_layout,
    schedule_of,
    topological_levels,
    topological_schedule,
)


def path(n, offset=0):
    return torch.stack([torch.arange(n - 1), torch.arange(1, n)]) + offset


def brute_levels(edge_index, n):
    level = [0] * n
    for _ in range(n):
        for u, v in edge_index.t().tolist():
            level[v] = max(level[v], level[u] + 1)
    return level


def test_chain_levels_are_positions_and_reverse_runs_backwards():
    ei = path(6)
    assert topological_levels(ei, 6).tolist() == [0, 1, 2, 3, 4, 5]
    assert topological_levels(ei, 6, reverse=True).tolist() == [5, 4, 3, 2, 1, 0]


def test_tree_levels_are_heights_leaves_first():
    # 0 <- 1, 0 <- 2, 2 <- 3, 2 <- 4, 4 <- 5   (child -> parent)
    ei = torch.tensor([[1, 2, 3, 4, 5], [0, 0, 2, 2, 4]])
    assert topological_levels(ei, 6).tolist() == [3, 0, 2, 0, 1, 0]
    assert topological_levels(ei, 6, reverse=True).tolist() == [0, 1, 1, 2, 2, 3]


def test_dag_levels_are_longest_paths():
    ei = torch.tensor([[0, 0, 1, 2, 3, 0], [1, 2, 3, 3, 4, 4]])
    assert topological_levels(ei, 5).tolist() == brute_levels(ei, 5) == [0, 1, 1, 2, 3]


def test_random_dags_match_brute_force():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        n = int(torch.randint(1, 30, (1,), generator=g))
        perm = torch.randperm(n, generator=g)
        pairs = torch.randint(0, n, (2, 3 * n), generator=g)
        lo, hi = pairs.min(0).values, pairs.max(0).values
        keep = lo != hi
        ei = torch.stack([perm[lo[keep]], perm[hi[keep]]])  # edges go up a hidden order: acyclic
        assert topological_levels(ei, n).tolist() == brute_levels(ei, n)


def test_disconnected_single_and_empty_graphs():
    ei = torch.cat([path(3), path(2, offset=3)], 1)
    assert topological_levels(ei, 6).tolist() == [0, 1, 2, 0, 1, 0]  # node 5 isolated
    empty = torch.zeros(2, 0, dtype=torch.long)
    assert topological_levels(empty, 1).tolist() == [0]
    assert topological_levels(empty, 0).tolist() == []
    s = topological_schedule(empty, 0)
    assert s.num_levels == 0 and s.num_nodes == 0


@pytest.mark.parametrize("edges,on_cycle", [
    ([[0, 1, 2, 3], [1, 2, 3, 1]], {1, 2, 3}),          # 0 -> (1 -> 2 -> 3 -> 1)
    ([[0, 1, 2, 3, 0], [1, 2, 3, 1, 3]], {1, 2, 3}),    # in-degree 2 into the cycle
    ([[4, 4], [4, 0]], {4}),                            # self-loop
    ([[0, 1], [1, 0]], {0, 1}),
])
def test_cycle_error_names_a_node_on_the_cycle(edges, on_cycle):
    with pytest.raises(CycleError) as info:
        topological_levels(torch.tensor(edges), 5)
    assert info.value.node in on_cycle
    assert set(info.value.cycle) == on_cycle
    assert f"node {info.value.node}" in str(info.value)


def test_bad_edge_index_errors_say_what_was_expected():
    with pytest.raises(TypeError, match="torch.long node indices"):
        topological_levels(torch.tensor([[0.0], [1.0]]), 2)
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        topological_levels(torch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match=r"node index 7.*\[0, 3\)"):
        topological_levels(torch.tensor([[0], [7]]), 3)
    with pytest.raises(ValueError, match="node index -1"):
        topological_levels(torch.tensor([[0], [-1]]), 3)


def test_schedule_groups_nodes_and_edges_by_level():
    ei = torch.tensor([[1, 2, 3, 4, 5], [0, 0, 2, 2, 4]])
    s = topological_schedule(ei, 6)
    level = topological_levels(ei, 6)
    assert s.level_sizes == (3, 1, 1, 1)
    assert level[s.order].tolist() == sorted(level.tolist())
    assert torch.equal(s.order[s.rank], torch.arange(6))
    for lvl, (a, b) in enumerate(zip(s.edge_ptr[:-1].tolist(), s.edge_ptr[1:].tolist())):
        dst_nodes = s.order[s.edge_dst[a:b]]
        assert (level[dst_nodes] == lvl).all()
    # every original edge appears once, with its endpoints
    src, dst = s.order[s.edge_src], s.order[s.edge_dst]
    assert torch.equal(torch.stack([src, dst]), ei[:, s.edge_perm])
    # child slots count 0, 1, ... in original edge order for each destination
    assert s.edge_slot[s.edge_dst == s.rank[0]].tolist() == [0, 1]


def test_add_levels_batches_like_the_direct_schedule_and_schedule_of_caches():
    graphs = [Data(edge_index=path(n), num_nodes=n) for n in (3, 5, 1)]
    batch = Batch.from_data_list([AddLevels(reverse=True)(g) for g in graphs])
    direct = topological_levels(batch.edge_index, batch.num_nodes)
    assert torch.equal(batch.level, direct)
    first = schedule_of(batch)
    assert schedule_of(batch) is first
    assert torch.equal(schedule_of(batch, reverse=True).order,
                       topological_schedule(batch.edge_index, batch.num_nodes, reverse=True).order)
    batch.edge_index[0, 0] = batch.edge_index[0, 0]  # an in-place edit invalidates the cache
    assert schedule_of(batch) is not first


def test_chain_layout_matches_pack_sequence():
    lengths = [3, 6, 1, 4]
    seqs = [torch.arange(n) for n in lengths]
    offsets = torch.tensor([0] + lengths).cumsum(0)
    ei = torch.cat([path(n, int(o)) for n, o in zip(lengths, offsets)], 1)
    layout = chain_layout(ei, sum(lengths))
    packed = pack_sequence([s + int(o) for s, o in zip(seqs, offsets)], enforce_sorted=False)
    assert torch.equal(layout.order, packed.data)
    assert torch.equal(layout.batch_sizes, packed.batch_sizes)
    assert torch.equal(layout.sorted_indices, packed.sorted_indices)
    assert torch.equal(layout.first_node, offsets[:-1])


def test_chain_layout_rejects_branching_and_cycles():
    with pytest.raises(ValueError, match="node 2 has 2 predecessors"):
        chain_layout(torch.tensor([[0, 1], [2, 2]]), 3)
    with pytest.raises(CycleError):
        chain_layout(torch.tensor([[0, 1, 2], [1, 2, 0]]), 3)


@pytest.mark.parametrize("edge_index, num_nodes, error, message", [
    (torch.tensor([[0], [1]], dtype=torch.int32), 2, TypeError, "edge_index must hold torch.long"),
    (torch.tensor([[0], [1]]), -3, ValueError, "num_nodes must be >= 0, got -3"),
    (torch.tensor([[0], [1]]), 2.5, TypeError, "num_nodes must be an int, got 2.5"),
    (torch.tensor([[0], [1]]), True, TypeError, "num_nodes must be an int"),
    (torch.tensor([[0], [1]]), torch.tensor([2, 3]), TypeError, "num_nodes must be an int"),
    (torch.tensor([[0], [5]]), 2, ValueError, r"node index 5, expected indices in \[0, 2\)"),
])
def test_every_schedule_entry_point_validates_edge_index_and_num_nodes(edge_index, num_nodes,
                                                                       error, message):
    for entry in (topological_levels, topological_schedule, chain_layout):
        with pytest.raises(error, match=message):
            entry(edge_index, num_nodes)


def test_num_nodes_may_be_a_numpy_or_tensor_integer():
    import numpy as np

    edge_index = torch.tensor([[0], [1]])
    assert topological_levels(edge_index, np.int64(2)).tolist() == [0, 1]
    assert topological_levels(edge_index, torch.tensor(2)).tolist() == [0, 1]
