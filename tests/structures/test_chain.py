import pytest
import torch
from torch.nn.utils.rnn import pack_sequence
from torch_geometric.loader import DataLoader

from graphrnn.structures import (
    chain_edges,
    chain_graph,
    chains_from_list,
    chains_from_packed,
    chains_from_padded,
    delay_chain_graph,
    reverse_graph,
)


def test_chain_graph_edges_forward_and_reversed():
    x = torch.randn(4, 2)
    assert chain_graph(x).edge_index.tolist() == [[0, 1, 2], [1, 2, 3]]
    assert chain_graph(x, reverse=True).edge_index.tolist() == [[1, 2, 3], [0, 1, 2]]
    assert torch.equal(reverse_graph(chain_graph(x)).edge_index,
                       chain_graph(x, reverse=True).edge_index)


def test_delay_chain_has_exactly_the_delay_edges():
    data = delay_chain_graph(torch.randn(5, 1), delays=3)
    edges = set(map(tuple, data.edge_index.t().tolist()))
    assert edges == {(t - k, t) for k in (1, 2, 3) for t in range(k, 5)}
    for (u, v), k in zip(data.edge_index.t().tolist(), data.edge_delay.tolist()):
        assert v - u == k
    only = delay_chain_graph(torch.randn(5, 1), delays=[2])
    assert only.edge_index.tolist() == [[0, 1, 2], [2, 3, 4]]
    with pytest.raises(ValueError, match="delays must be positive"):
        chain_edges(4, [0, 1])


def test_padded_packed_and_list_give_the_same_batch():
    seqs = [torch.randn(n, 3) for n in (4, 2, 3)]
    padded = torch.nn.utils.rnn.pad_sequence(seqs)  # (T, B, F)
    a = chains_from_list(seqs)
    b = chains_from_padded(padded, [4, 2, 3])
    c = chains_from_padded(padded.transpose(0, 1), torch.tensor([4, 2, 3]), batch_first=True)
    d = chains_from_packed(pack_sequence(seqs, enforce_sorted=False))
    for other in (b, c, d):
        assert torch.equal(other.x, a.x) and torch.equal(other.edge_index, a.edge_index)
        assert torch.equal(other.batch, a.batch)
    assert a.num_nodes == 9 and a.edge_index.size(1) == 6  # no padding nodes


def test_chains_batch_with_pyg_dataloader_without_padding():
    graphs = [chain_graph(torch.randn(n, 2)) for n in (1, 5, 3)]
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.num_nodes == 9
    assert batch.edge_index.tolist() == [[1, 2, 3, 4, 6, 7], [2, 3, 4, 5, 7, 8]]


def test_bad_inputs():
    with pytest.raises(ValueError, match="sequences is empty"):
        chains_from_list([])
    with pytest.raises(ValueError, match="lengths has 1 entries, expected one per sequence"):
        chains_from_padded(torch.randn(3, 2, 1), [3])
    with pytest.raises(TypeError, match="must be a PackedSequence"):
        chains_from_packed(torch.randn(3, 2))
    bad = torch.randn(4, 2)
    bad[2, 1] = float("nan")
    with pytest.raises(ValueError,
                       match=r"sequences\[1\] holds a non-finite value \(nan\) at index \(2, 1\)"):
        chains_from_list([torch.randn(3, 2), bad])


@pytest.mark.parametrize("reverse", [False, True])
def test_empty_sequence_is_an_empty_chain(reverse):
    data = chain_graph(torch.randn(0, 128), reverse=reverse)
    assert data.num_nodes == 0 and data.x.shape == (0, 128)
    assert data.edge_index.shape == (2, 0) and data.edge_index.dtype == torch.long
    delayed = delay_chain_graph(torch.randn(0, 2), delays=3)
    assert delayed.edge_index.shape == (2, 0) and delayed.edge_delay.shape == (0,)
    # a chain shorter than a delay has no edge of that delay
    assert delay_chain_graph(torch.randn(2, 1), delays=3).edge_index.tolist() == [[0], [1]]
    with pytest.raises(ValueError, match="length must be an int >= 0"):
        chain_edges(-1)


def test_batch_constructors_on_empty_input_name_it():
    batch = chains_from_list([torch.randn(0, 2), torch.randn(3, 2)])
    assert batch.num_nodes == 3 and batch.edge_index.tolist() == [[0, 1], [1, 2]]
    with pytest.raises(ValueError, match="sequences is empty"):
        chains_from_list([])
    with pytest.raises(ValueError, match=r"padded of shape \(0, 2, 3\).*no time step"):
        chains_from_padded(torch.randn(0, 2, 3))
    with pytest.raises(ValueError, match=r"padded of shape \(0, 4, 3\).*no sequence"):
        chains_from_padded(torch.randn(0, 4, 3), batch_first=True)
    from torch.nn.utils.rnn import PackedSequence
    with pytest.raises(ValueError, match="packed holds no sequence"):
        chains_from_packed(PackedSequence(torch.randn(0, 3), torch.zeros(0, dtype=torch.long)))
