"""graphrnn.nn.RNN/LSTM/GRU against torch.nn: forward, final states and gradients."""
import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch_geometric.data import Batch

import graphrnn.nn as gnn
from graphrnn.structures import chain_graph

CONFIGS = [
    (mode, layers, bidirectional, batch_first, packed, proj)
    for mode in ("RNN", "LSTM", "GRU")
    for layers, bidirectional, batch_first, packed, proj in itertools.product(
        (1, 2), (False, True), (False, True), (False, True), (0, 3))
    if not proj or mode == "LSTM"
]


def as_tuple(h):
    return h if isinstance(h, tuple) else (h,)


@pytest.mark.parametrize("engine", ["auto", "generic"])
@pytest.mark.parametrize("mode,layers,bidirectional,batch_first,packed,proj", CONFIGS)
def test_matches_torch(mode, layers, bidirectional, batch_first, packed, proj, engine):
    torch.manual_seed(0)
    kwargs = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    if proj:
        kwargs["proj_size"] = proj
    theirs = getattr(torch.nn, mode)(4, 5, **kwargs)
    ours = getattr(gnn, mode)(4, 5, engine=engine, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(3, 6, 4) if batch_first else torch.randn(6, 3, 4)
    lengths = torch.tensor([6, 2, 4])
    hx = tuple(torch.randn(layers * (1 + bidirectional), 3, s) for s in ours.state_sizes)
    hx = hx if mode == "LSTM" else hx[0]
    inputs = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False) \
        if packed else x
    out_t, h_t = theirs(inputs, hx)
    out_o, h_o = ours(inputs, hx)
    if packed:
        assert torch.equal(out_o.batch_sizes, out_t.batch_sizes)
        assert torch.equal(out_o.unsorted_indices, out_t.unsorted_indices)
        out_t, out_o = out_t.data, out_o.data
    assert out_o.shape == out_t.shape
    torch.testing.assert_close(out_o, out_t, atol=1e-5, rtol=0)
    for a, b in zip(as_tuple(h_o), as_tuple(h_t)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    w = torch.randn_like(out_t)
    loss_t = (out_t * w).sum() + sum(h.sum() for h in as_tuple(h_t))
    loss_o = (out_o * w).sum() + sum(h.sum() for h in as_tuple(h_o))
    for a, b in zip(torch.autograd.grad(loss_o, list(ours.parameters())),
                    torch.autograd.grad(loss_t, list(theirs.parameters()))):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_state_dict_loads_both_ways(mode):
    theirs = getattr(torch.nn, mode)(4, 5, num_layers=2, bidirectional=True)
    ours = getattr(gnn, mode)(4, 5, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n1 == n2 and torch.equal(p1, p2)


@pytest.mark.parametrize("kwargs", [{"peephole": True}, {"coupled": True}, {"forget_gate": False}])
def test_lstm_variants_fast_and_generic_agree_and_differ_from_standard(kwargs):
    torch.manual_seed(1)
    lstm = gnn.LSTM(4, 5, num_layers=2, bidirectional=True, **kwargs)
    assert not lstm.has_fused_kernel
    x = torch.randn(7, 2, 4)
    out, (h, c) = lstm(x)
    # The variant run step by step through its cells (the graph-free reference).
    from graphrnn.cells import LSTMCell
    layer_in = x
    for layer in range(2):
        outs = []
        for d, suffix in enumerate(["", "_reverse"]):
            cell = LSTMCell(layer_in.size(-1), 5, **kwargs)
            cell.load_state_dict({k.replace(f"_l{layer}{suffix}", ""): v
                                  for k, v in lstm.state_dict().items()
                                  if k.endswith(f"_l{layer}{suffix}")})
            state = (torch.zeros(2, 5), torch.zeros(2, 5))
            seq = layer_in.flip(0) if d else layer_in
            steps = []
            for t in range(7):
                state = cell(seq[t], state)
                steps.append(state[0])
            steps = torch.stack(steps)
            outs.append(steps.flip(0) if d else steps)
            torch.testing.assert_close(h[2 * layer + d], state[0])
        layer_in = torch.cat(outs, -1)
    torch.testing.assert_close(out, layer_in)


def test_cho_gru_runs_generic():
    gru = gnn.GRU(4, 5, reset_after=False)
    assert not gru.has_fused_kernel
    with pytest.raises(ValueError, match="no fused PyTorch kernel"):
        gnn.GRU(4, 5, reset_after=False, engine="fused")


@pytest.mark.parametrize("engine", ["auto", "generic"])
def test_chain_graph_batch_gives_one_state_per_node(engine):
    torch.manual_seed(2)
    seqs = [torch.randn(n, 4) for n in (3, 6, 1, 4)]
    batch = Batch.from_data_list([chain_graph(s) for s in seqs])
    theirs = torch.nn.LSTM(4, 5, num_layers=2, bidirectional=True)
    ours = gnn.LSTM(4, 5, num_layers=2, bidirectional=True, engine=engine)
    ours.load_state_dict(theirs.state_dict())
    out, (h, c) = ours(batch)
    assert out.shape == (batch.num_nodes, 10)
    for i, s in enumerate(seqs):
        want, (hw, cw) = theirs(s)
        torch.testing.assert_close(out[batch.ptr[i]:batch.ptr[i + 1]], want, atol=1e-6, rtol=0)
        torch.testing.assert_close(h[:, i], hw, atol=1e-6, rtol=0)
        torch.testing.assert_close(c[:, i], cw, atol=1e-6, rtol=0)
    out.sum().backward()
    assert all(p.grad is not None for p in ours.parameters())


def test_unbatched_input_matches_torch():
    theirs, ours = torch.nn.GRU(4, 5), gnn.GRU(4, 5, engine="generic")
    ours.load_state_dict(theirs.state_dict())
    x, h0 = torch.randn(6, 4), torch.randn(1, 5)
    for a, b in zip(ours(x, h0), theirs(x, h0)):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_dropout_between_layers_only_in_training():
    torch.manual_seed(3)
    lstm = gnn.LSTM(4, 5, num_layers=2, dropout=0.5, engine="generic")
    x = torch.randn(6, 2, 4)
    lstm.eval()
    a, b = lstm(x)[0], lstm(x)[0]
    assert torch.equal(a, b)
    lstm.train()
    assert not torch.equal(lstm(x)[0], lstm(x)[0])


def test_bad_inputs_say_what_was_expected():
    lstm = gnn.LSTM(4, 5, num_layers=2)
    with pytest.raises(ValueError,
                       match="input.size\\(-1\\) must be equal to input_size. Expected 4, got 3"):
        lstm(torch.randn(6, 2, 3))
    with pytest.raises(ValueError, match=r"Expected hx\[0\] of shape \(2, 2, 5\).*got \(1, 2, 5\)"):
        lstm(torch.randn(6, 2, 4), (torch.zeros(1, 2, 5), torch.zeros(2, 2, 5)))
    with pytest.raises(ValueError, match="expected input of shape"):
        lstm(torch.randn(6, 2, 4, 1))
    with pytest.raises(ValueError, match="hx must be a tuple"):
        lstm(torch.randn(6, 2, 4), torch.zeros(2, 2, 5))
    with pytest.raises(ValueError, match="lengths must be in \\[1, 6\\]"):
        from graphrnn.structures import chains_from_padded
        chains_from_padded(torch.randn(6, 2, 4), [7, 2])
    with pytest.raises(ValueError, match="node 2 has 2 predecessors"):
        from torch_geometric.data import Data
        lstm(Data(x=torch.randn(3, 4), edge_index=torch.tensor([[0, 1], [2, 2]])))
    with pytest.raises(TypeError, match="torch.long node indices"):
        from torch_geometric.data import Data
        lstm(Data(x=torch.randn(3, 4), edge_index=torch.tensor([[0.0, 1.0], [1.0, 2.0]])))
    with pytest.raises(ValueError, match="engine must be one of"):
        gnn.LSTM(4, 5, engine="cuda")


def test_extra_repr():
    assert repr(gnn.LSTM(4, 5)) == "LSTM(4, 5)"
    assert (repr(gnn.LSTM(4, 5, num_layers=2, peephole=True))
            == "LSTM(4, 5, num_layers=2, peephole=True)")
