import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch_geometric.data import Batch, Data

from graphrnn.cells import SRNCell
from graphrnn.engine import propagate
from graphrnn.nn import LSTM
from graphrnn.schedule import schedule_of
from graphrnn.structures.chain import chains_from_padded
from graphrnn.tasks.heads import SequenceClassifier, pool_states

torch.set_num_threads(1)


def padded_case():
    torch.manual_seed(0)
    x = torch.randn(5, 3, 4)             # (T, B, I)
    lengths = torch.tensor([5, 2, 3])
    return x, lengths


def test_padded_last_and_mean_against_loops():
    out, lengths = padded_case()
    last = pool_states(out, "last", lengths=lengths)
    mean = pool_states(out, "mean", lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        assert torch.equal(last[b], out[n - 1, b])
        assert torch.allclose(mean[b], out[:n, b].mean(0))
    bf = pool_states(out.transpose(0, 1), "mean", lengths=lengths, batch_first=True)
    assert torch.allclose(bf, mean)
    assert torch.equal(pool_states(out, "last"), out[-1])


def test_packed_equals_padded():
    out, lengths = padded_case()
    packed = pack_padded_sequence(out, lengths, enforce_sorted=False)
    for how in ("last", "mean"):
        assert torch.allclose(pool_states(packed, how), pool_states(out, how, lengths=lengths))


def test_bidirectional_last_is_h_n():
    x, lengths = padded_case()
    lstm = LSTM(4, 6, bidirectional=True)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    out, (h_n, _) = lstm(packed)
    pooled = pool_states(out, "last", bidirectional=True)
    assert torch.allclose(pooled, torch.cat([h_n[0], h_n[1]], -1), atol=1e-6)


def test_chain_graph_batch_matches_padded():
    x, lengths = padded_case()
    lstm = LSTM(4, 6)
    graphs = chains_from_padded(x, lengths)
    node_states, (h_n, _) = lstm(graphs)
    out, _ = lstm(x)
    assert torch.allclose(pool_states(node_states, "last", graph=graphs), h_n[0], atol=1e-6)
    assert torch.allclose(pool_states(node_states, "mean", graph=graphs),
                          pool_states(out, "mean", lengths=lengths), atol=1e-6)
    # bidirectional on graphs: forward half at the sink, backward half at the source
    bi = LSTM(4, 6, bidirectional=True)
    states, (h_n, _) = bi(graphs)
    assert torch.allclose(pool_states(states, "last", graph=graphs, bidirectional=True),
                          torch.cat([h_n[0], h_n[1]], -1), atol=1e-6)


def test_trees_read_out_their_root():
    # two trees, edges child -> parent: 0,1 -> 2 ; 3 -> 4 -> 5 and 6 -> 5
    t1 = Data(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [2, 2]]), num_nodes=3)
    t2 = Data(x=torch.randn(4, 2), edge_index=torch.tensor([[0, 1, 3], [1, 2, 2]]), num_nodes=4)
    batch = Batch.from_data_list([t1, t2])
    cell = SRNCell(2, 5)
    h, = propagate(cell, batch.x, schedule_of(batch))
    last = pool_states(h, "last", graph=batch)
    assert torch.equal(last[0], h[2]) and torch.equal(last[1], h[5])
    assert torch.allclose(pool_states(h, "mean", graph=batch)[1], h[3:].mean(0))
    head = SequenceClassifier(5, 3, pooling="last", hidden=4)
    assert head(h, graph=batch).shape == (2, 3)


def test_errors_name_the_input():
    out, lengths = padded_case()
    with pytest.raises(ValueError, match="pooling"):
        pool_states(out, "max")
    with pytest.raises(ValueError, match="lengths"):
        pool_states(out, "last", lengths=torch.tensor([6, 1, 1]))
    with pytest.raises(ValueError, match="graph="):
        pool_states(out[0], "last")
    with pytest.raises(ValueError, match="in_features"):
        SequenceClassifier(7, 2)(out)
    cyc = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
    with pytest.raises(ValueError, match="cycle"):
        pool_states(torch.randn(2, 3), "last", graph=cyc)
