"""Tests of graphrnn.nn.message_passing: PyG equality, a hand-written loop, equivariance,
gradcheck."""
import pytest
import torch
from torch import nn
from torch_geometric.nn import GatedGraphConv

from graphrnn.nn.message_passing import EdgeNetwork, GatedMessagePassing, LinearMessage

torch.set_num_threads(1)


def tiny_graph(n=5, e=9, f=3, fe=2, seed=0, dtype=torch.float):
    g = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, n, (2, e), generator=g)
    x = torch.randn(n, f, generator=g, dtype=dtype)
    edge_attr = torch.randn(e, fe, generator=g, dtype=dtype)
    return x, edge_index, edge_attr


def test_equals_pyg_gated_graph_conv_with_copied_weights():
    torch.manual_seed(0)
    x, ei, _ = tiny_graph()
    ref = GatedGraphConv(out_channels=6, num_layers=3)
    ours = GatedMessagePassing(3, 6, num_steps=3, message="linear", share_weights=False)
    with torch.no_grad():
        for t in range(3):
            ours.message[t].weight[0].copy_(ref.weight[t])
    ours.cell.load_state_dict(ref.rnn.state_dict())
    torch.testing.assert_close(ours(x, ei), ref(x, ei), atol=1e-5, rtol=1e-5)


def test_edge_network_equals_hand_written_loop():
    torch.manual_seed(1)
    x, ei, ea = tiny_graph()
    model = GatedMessagePassing(3, 4, num_steps=2, message="edge_network", edge_dim=2)
    f = model.message[0]
    h = torch.cat([x, torch.zeros(x.size(0), 1)], 1)
    for _ in range(2):
        m = torch.zeros_like(h)
        for k in range(ei.size(1)):                      # one edge at a time, u -> v
            u, v = int(ei[0, k]), int(ei[1, k])
            a = f.net(ea[k]).view(4, 4)
            m[v] = m[v] + a @ h[u] + f.bias
        h = model.cell(m, h)
    torch.testing.assert_close(model(x, ei, ea), h, atol=1e-5, rtol=1e-5)


def test_typed_linear_messages_match_per_type_matrices():
    torch.manual_seed(2)
    x, ei, _ = tiny_graph(f=4)
    types = torch.tensor([0, 1, 2, 1, 0, 2, 2, 1, 0])
    f = LinearMessage(4, num_edge_types=3, bias=True)
    nn.init.normal_(f.bias)
    out = f.messages(x, ei, types)
    ref = torch.stack([x[ei[0, k]] @ f.weight[types[k]] + f.bias[types[k]] for k in range(9)])
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(f(x[ei[1]], x[ei[0]], types), ref)
    with pytest.raises(ValueError, match="edge_attr holding each edge's type"):
        f.messages(x, ei, None)


@pytest.mark.parametrize("message,cell", [("linear", "gru"), ("edge_network", "lstm")])
def test_node_permutation_equivariance(message, cell):
    torch.manual_seed(3)
    x, ei, ea = tiny_graph()
    model = GatedMessagePassing(3, 5, num_steps=3, message=message, edge_dim=2, cell=cell)
    perm = torch.randperm(x.size(0))
    inv = torch.argsort(perm)                          # new index of old node i is inv[i]
    out = model(x, ei, ea)
    out_p = model(x[perm], inv[ei], ea)
    torch.testing.assert_close(out_p, out[perm], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("message,cell,aggr", [("edge_network", "gru", "sum"),
                                               ("linear", "lstm", "mean")])
def test_gradcheck_float64(message, cell, aggr):
    torch.manual_seed(4)
    x, ei, ea = tiny_graph(n=4, e=6, f=2, fe=2, dtype=torch.double)
    model = GatedMessagePassing(2, 3, num_steps=2, message=message, edge_dim=2, cell=cell,
                                aggr=aggr).double()
    x.requires_grad_()
    ea.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: model(a, ei, b), (x, ea))


def test_custom_message_module_gets_receiver_sender_edge():
    class Diff(nn.Module):
        def forward(self, h_receiver, h_sender, edge_attr):
            return h_sender - h_receiver

    x, ei, ea = tiny_graph(f=3)
    model = GatedMessagePassing(3, 3, num_steps=1, message=Diff())
    m = torch.zeros(5, 3).index_add_(0, ei[1], x[ei[0]] - x[ei[1]])
    torch.testing.assert_close(model(x, ei, ea), model.cell(m, x))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="in_channels=8 is larger than hidden_channels=4"):
        GatedMessagePassing(8, 4)
    with pytest.raises(ValueError, match="needs edge_dim"):
        GatedMessagePassing(2, 4, message="edge_network")
    with pytest.raises(ValueError, match="cell='rnn'"):
        GatedMessagePassing(2, 4, cell="rnn")
    model = GatedMessagePassing(2, 4)
    with pytest.raises(ValueError, match=r"x must have shape \[N, 2\], got \[5, 3\]"):
        model(torch.zeros(5, 3), torch.zeros(2, 1, dtype=torch.long))
    assert "num_steps=3" in repr(model) and "EdgeNetwork" not in repr(model)
    assert "edge_dim=2" in repr(EdgeNetwork(4, 2))
