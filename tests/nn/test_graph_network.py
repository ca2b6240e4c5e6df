"""Tests of graphrnn.nn.graph_network: equality to PyG's MetaLayer, switches, recurrent updates."""
import pytest
import torch
from torch import nn
from torch_geometric.nn import MetaLayer
from torch_geometric.utils import scatter

from graphrnn.nn import (
    DeepSets,
    EncodeProcessDecode,
    GNBlock,
    GNMemory,
    GraphIndependent,
    GraphNetwork,
    InteractionNetwork,
    mlp,
)
from graphrnn.nn.aggregate import aggregate

torch.set_num_threads(1)


def batched_graphs(sizes=(3, 4, 2), fv=3, fe=2, fu=4, seed=0, dtype=torch.float):
    """Random directed graphs (edges stay inside their graph) batched PyG-style."""
    g = torch.Generator().manual_seed(seed)
    edges, batch, offset = [], [], 0
    for b, n in enumerate(sizes):
        e = torch.randint(0, n, (2, 3 * n), generator=g) + offset
        edges.append(e)
        batch += [b] * n
        offset += n
    edge_index = torch.cat(edges, 1)
    x = torch.randn(offset, fv, generator=g, dtype=dtype)
    edge_attr = torch.randn(edge_index.size(1), fe, generator=g, dtype=dtype)
    u = torch.randn(len(sizes), fu, generator=g, dtype=dtype)
    return x, edge_index, edge_attr, u, torch.tensor(batch)


class MetaEdge(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, src, dst, edge_attr, u, batch):
        return self.net(torch.cat([edge_attr, src, dst, u[batch]], 1))


class MetaNode(nn.Module):
    def __init__(self, net, aggr):
        super().__init__()
        self.net, self.aggr = net, aggr

    def forward(self, x, edge_index, edge_attr, u, batch):
        agg = scatter(edge_attr, edge_index[1], 0, dim_size=x.size(0), reduce=self.aggr)
        return self.net(torch.cat([x, agg, u[batch]], 1))


class MetaGlobal(nn.Module):
    def __init__(self, net, aggr):
        super().__init__()
        self.net, self.aggr = net, aggr

    def forward(self, x, edge_index, edge_attr, u, batch):
        e = scatter(edge_attr, batch[edge_index[0]], 0, dim_size=u.size(0), reduce=self.aggr)
        v = scatter(x, batch, 0, dim_size=u.size(0), reduce=self.aggr)
        return self.net(torch.cat([u, e, v], 1))


@pytest.mark.parametrize("aggr", ["sum", "mean", "max"])
@pytest.mark.parametrize("split", [True, False])
def test_equals_metalayer_with_same_modules(aggr, split):
    torch.manual_seed(1)
    x, ei, ea, u, batch = batched_graphs()
    em, nm, gm = mlp(2 + 3 + 3 + 4, 16, 5), mlp(3 + 5 + 4, 16, 6), mlp(4 + 5 + 6, 16, 7)
    ours = GraphNetwork(em, nm, gm, edge_aggr=aggr, global_edge_aggr=aggr,
                        global_node_aggr=aggr, split_first_linear=split)
    theirs = MetaLayer(MetaEdge(em), MetaNode(nm, aggr), MetaGlobal(gm, aggr))
    for a, b in zip(ours(x, ei, ea, u, batch), theirs(x, ei, ea, u, batch)):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_split_path_gradients_equal_concat_path():
    torch.manual_seed(2)
    x, ei, ea, u, batch = batched_graphs()
    block = GNBlock(3, 2, 4, hidden_features=8, node_out=5, edge_out=6, global_out=3)
    grads = []
    for split in (True, False):
        block.split_first_linear = split
        block.zero_grad()
        xs = x.clone().requires_grad_()
        out = block(xs, ei, ea, u, batch)
        sum((o ** 2).sum() for o in out).backward()
        grads.append([xs.grad] + [p.grad.clone() for p in block.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_switched_off_input_is_not_read():
    x, ei, ea, u, batch = batched_graphs()
    # Edge update reads only the receiver: its output must not change when senders' features do,
    # apart from through the receiver itself.
    block = GraphNetwork(nn.Linear(3, 4), use_edges=False, use_sender_nodes=False,
                         use_globals=False)
    _, e1, _ = block(x, ei, ea, u, batch)
    expected = block.edge_model(x[ei[1]])
    torch.testing.assert_close(e1, expected)
    assert block(x, ei, None, None, batch)[1].shape == (ei.size(1), 4)


def test_width_mismatch_names_the_inputs():
    x, ei, ea, u, batch = batched_graphs()
    block = GraphNetwork(nn.Linear(5, 4))              # enabled inputs are 2 + 3 + 3 + 4 = 12
    with pytest.raises(ValueError, match="2 \\+ 3 \\+ 3 \\+ 4 = 12"):
        block(x, ei, ea, u, batch)


def test_missing_field_is_named():
    x, ei, ea, u, batch = batched_graphs()
    block = GraphNetwork(mlp(12, 8, 4))
    with pytest.raises(ValueError, match="^u is None"):
        block(x, ei, ea, None, batch)
    with pytest.raises(ValueError, match="^edge_attr is None"):
        block(x, ei, None, u, batch)


def test_none_updates_pass_fields_through():
    x, ei, ea, u, batch = batched_graphs()
    block = GraphNetwork(None, mlp(3 + 2 + 4, 8, 5), None)
    x2, e2, u2 = block(x, ei, ea, u, batch)
    assert e2 is ea and u2 is u and x2.shape == (x.size(0), 5)


def test_gru_node_update_carries_state_across_rounds():
    torch.manual_seed(3)
    x, ei, ea, u, batch = batched_graphs(fv=6)
    cell = nn.GRUCell(2 + 4, 6)                        # input: [sum of incoming e, u]; state: x
    block = GraphNetwork(None, cell, None)
    h = x
    for _ in range(3):
        h = block(h, ei, ea, u, batch)[0]
    ref = x
    for _ in range(3):
        agg = torch.zeros(x.size(0), 2).index_add_(0, ei[1], ea)
        ref = cell(torch.cat([agg, u[batch]], 1), ref)
    torch.testing.assert_close(h, ref)


def test_lstm_edge_update_returns_memory():
    torch.manual_seed(4)
    x, ei, ea, u, batch = batched_graphs(fe=5)
    cell = nn.LSTMCell(3 + 3, 5)                       # input [x_s, x_r], state: edge_attr
    block = GraphNetwork(cell, use_globals=False)
    assert block.has_memory
    x1, e1, u1, mem = block(x, ei, ea, u, batch)
    x2, e2, u2, mem2 = block(x1, ei, e1, u1, batch, memory=mem)
    h, c = cell(torch.cat([x[ei[0]], x[ei[1]]], 1), (ea, torch.zeros_like(ea)))
    h, c = cell(torch.cat([x[ei[0]], x[ei[1]]], 1), (h, c))
    assert isinstance(mem2, GNMemory) and mem2.node is None
    torch.testing.assert_close(e2, h)
    torch.testing.assert_close(mem2.edge, c)


def test_interaction_network_formula():
    torch.manual_seed(5)
    x, ei, ea, _, batch = batched_graphs()
    phi_e, phi_v = mlp(2 + 3 + 3, 8, 4), mlp(3 + 4, 8, 3)
    x2, e2, u2 = InteractionNetwork(phi_e, phi_v)(x, ei, ea)
    assert u2 is None
    e_ref = phi_e(torch.cat([ea, x[ei[0]], x[ei[1]]], 1))
    x_ref = phi_v(torch.cat([x, torch.zeros(x.size(0), 4).index_add_(0, ei[1], e_ref)], 1))
    torch.testing.assert_close(e2, e_ref)
    torch.testing.assert_close(x2, x_ref)


def test_deep_sets_is_permutation_invariant():
    torch.manual_seed(6)
    x = torch.randn(9, 3)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 1])
    ds = DeepSets(mlp(3, 8, 4), mlp(4, 8, 2))
    x1, u1 = ds(x, batch)
    perm = torch.cat([torch.randperm(4), 4 + torch.randperm(5)])
    x2, u2 = ds(x[perm], batch[perm])
    torch.testing.assert_close(u1, u2)
    torch.testing.assert_close(x1[perm], x2)
    assert u1.shape == (2, 2)


def test_graph_independent_and_encode_process_decode():
    torch.manual_seed(7)
    x, ei, ea, u, batch = batched_graphs()
    enc = GraphIndependent(nn.Linear(2, 8), nn.Linear(3, 8), nn.Linear(4, 8))
    x0, e0, u0 = enc(x, ei, ea, u, batch)
    torch.testing.assert_close(x0, enc.node_model(x))
    torch.testing.assert_close(e0, enc.edge_model(ea))
    core = GNBlock(16, 16, 16, hidden_features=8, node_out=8, edge_out=8, global_out=8)
    dec = GraphIndependent(None, nn.Linear(8, 1), None)
    model = EncodeProcessDecode(enc, core, dec, num_steps=2)
    outs = model(x, ei, ea, u, batch, return_all_steps=True)
    assert len(outs) == 2 and outs[-1][0].shape == (x.size(0), 1)
    # Two rounds by hand: the core sees [encoded, latent] each time.
    lx, le, lu = x0, e0, u0
    for _ in range(2):
        lx, le, lu = core(torch.cat([x0, lx], 1), ei, torch.cat([e0, le], 1),
                          torch.cat([u0, lu], 1), batch)
    torch.testing.assert_close(model(x, ei, ea, u, batch)[0], dec.node_model(lx))


def test_aggregate_rejects_unknown_and_handles_empty_groups():
    src = torch.tensor([[1.0], [-2.0]])
    idx = torch.tensor([0, 0])
    assert aggregate(src, idx, 3, "max").tolist() == [[1.0], [0.0], [0.0]]
    assert aggregate(src, idx, 2, "mean").tolist() == [[-0.5], [0.0]]
    with pytest.raises(ValueError, match="'median'"):
        aggregate(src, idx, 2, "median")
    with pytest.raises(ValueError, match="edge_aggr='prod'"):
        GraphNetwork(edge_aggr="prod")


def test_extra_repr_shows_non_defaults():
    block = GraphNetwork(nn.Linear(3, 3), use_globals=False, edge_aggr="mean")
    assert "use_globals=False" in repr(block) and "edge_aggr='mean'" in repr(block)
    assert "use_edges" not in repr(block)


@pytest.mark.parametrize("cell_cls", [nn.GRUCell, nn.LSTMCell])
def test_recurrent_edge_update_split_equals_concat(cell_cls):
    torch.manual_seed(8)
    x, ei, ea, u, batch = batched_graphs(fe=5)
    cell = cell_cls(3 + 3 + 4, 5)                      # input [x_s, x_r, u]; state: edge_attr
    split, concat = GraphNetwork(cell), GraphNetwork(cell, split_first_linear=False)
    a, b = split(x, ei, ea, u, batch), concat(x, ei, ea, u, batch)
    torch.testing.assert_close(a[1], b[1], atol=1e-6, rtol=1e-5)
    ref = cell(torch.cat([x[ei[0]], x[ei[1]], u[batch[ei[0]]]], 1),
               ea if cell_cls is nn.GRUCell else (ea, torch.zeros_like(ea)))
    ref = ref if cell_cls is nn.GRUCell else ref[0]
    torch.testing.assert_close(a[1], ref, atol=1e-6, rtol=1e-5)


def test_gnblock_without_globals_and_recurrent_without_state():
    x, ei, ea, _, batch = batched_graphs()
    block = GNBlock(3, 2, hidden_features=8, node_out=4, edge_out=5)
    assert block.global_model is None and not block.use_globals
    x2, e2, u2 = block(x, ei, ea, None, batch)
    assert x2.shape == (x.size(0), 4) and e2.shape == (ei.size(1), 5) and u2 is None
    with pytest.raises(ValueError, match="no edge features to use as its state"):
        GraphNetwork(nn.GRUCell(6, 4), use_globals=False)(x, ei, None, None, batch)


class _LinearLike(nn.Module):
    """Not an nn.Linear subclass, but exposes what the split needs: weight (out, in), bias,
    in_features and out_features."""

    def __init__(self, in_features, out_features):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.randn(out_features))

    def forward(self, x):
        return x @ self.weight.t() + self.bias


class _Residual(nn.Module):
    """Its first child is a Linear, but its forward is not 'children in order'."""

    def __init__(self, features):
        super().__init__()
        self.lin = nn.Linear(features, features)

    def forward(self, x):
        return x + self.lin(x)


def test_first_linear_is_found_by_what_a_layer_exposes_not_its_class():
    from graphrnn.nn.graph_network_updates import first_linear, update_for
    lin, like = nn.Linear(3, 2), _LinearLike(3, 2)
    assert first_linear(lin) is lin and first_linear(like) is like
    seq = nn.Sequential(like, nn.ReLU())
    assert first_linear(seq) is like
    net = mlp(3, 4, 2)
    assert first_linear(net) is net[0]
    for model in (nn.Sequential(), nn.Sequential(nn.ReLU(), nn.Linear(3, 2)), nn.Embedding(5, 3),
                  nn.LazyLinear(2), nn.Bilinear(2, 2, 2), _Residual(3), torch.tanh,
                  nn.ModuleDict({"a": nn.Linear(3, 2)})):
        assert first_linear(model) is None, type(model).__name__
    assert update_for(seq).rest[0].__class__ is nn.ReLU


@pytest.mark.parametrize("make", [lambda n: nn.Sequential(_LinearLike(n, 5), nn.Tanh()),
                                  lambda n: _LinearLike(n, 5), lambda n: _Residual(n)])
def test_duck_typed_and_plain_updates_give_the_same_result_split_or_not(make):
    torch.manual_seed(3)
    x, ei, ea, u, batch = batched_graphs()
    width = 2 + 3 + 3 + 4
    block = GraphNetwork(edge_model=make(width), node_model=None, global_model=None)
    keys = list(block.state_dict())
    split = block(x, ei, ea, u, batch)[1]
    block.split_first_linear = False
    whole = block(x, ei, ea, u, batch)[1]
    torch.testing.assert_close(split, whole, atol=1e-5, rtol=1e-5)
    assert list(block.state_dict()) == keys
