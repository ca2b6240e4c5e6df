"""Tests of graphrnn.nn.directed_message_passing: a per-edge loop, reverse edges, invariance,
gradcheck and bad input."""
import pytest
import torch

from graphrnn.nn.directed_message_passing import DirectedMessagePassing, reverse_edges

torch.set_num_threads(1)


def undirected_graph(n=6, seed=0, f=3, fe=2, dtype=torch.float):
    """A random graph with every edge in both directions, in shuffled order, plus one one-way
    edge (the last node's ``0 -> n-1`` without its reverse)."""
    g = torch.Generator().manual_seed(seed)
    pairs = [(u, v) for u in range(n - 1) for v in range(u + 1, n - 1)
             if torch.rand(1, generator=g).item() < 0.5]
    edges = [(u, v) for u, v in pairs] + [(v, u) for u, v in pairs] + [(0, n - 1)]
    perm = torch.randperm(len(edges), generator=g)
    edge_index = torch.tensor(edges).t()[:, perm]
    x = torch.randn(n, f, generator=g, dtype=dtype)
    edge_attr = torch.randn(edge_index.size(1), fe, generator=g, dtype=dtype)
    return x, edge_index, edge_attr


def loop_reference(model, x, ei, ea):
    """D-MPNN one directed edge at a time: m_uv sums h_ku over k -> u with k != v."""
    num_edges = ei.size(1)
    h0 = model.lin_input(torch.cat([x[ei[0]], ea], 1))
    h = torch.relu(h0)
    for _ in range(model.num_steps):
        new = []
        for k in range(num_edges):
            u, v = ei[0, k].item(), ei[1, k].item()
            m = sum((h[j] for j in range(num_edges) if ei[1, j] == u and ei[0, j] != v),
                    torch.zeros_like(h[0]))
            new.append(torch.relu(h0[k] + model.lin_message(m)))
        h = torch.stack(new)
    incoming = torch.stack([sum((h[j] for j in range(num_edges) if ei[1, j] == v),
                                torch.zeros_like(h[0])) for v in range(x.size(0))])
    return torch.relu(model.lin_output(torch.cat([x, incoming], 1)))


@pytest.mark.parametrize("num_steps", [0, 1, 3])
def test_equals_per_edge_loop(num_steps):
    torch.manual_seed(num_steps)
    x, ei, ea = undirected_graph(seed=num_steps)
    model = DirectedMessagePassing(3, 2, 5, num_steps=num_steps, bias=True)
    torch.testing.assert_close(model(x, ei, ea), loop_reference(model, x, ei, ea),
                               atol=1e-5, rtol=1e-5)


def test_reverse_edges_any_order_and_one_way_edges():
    _, ei, _ = undirected_graph(n=7, seed=3)
    rev = reverse_edges(ei)
    for k in range(ei.size(1)):
        u, v = ei[:, k].tolist()
        if rev[k] < 0:
            assert not ((ei[0] == v) & (ei[1] == u)).any()
        else:
            assert ei[:, rev[k]].tolist() == [v, u]
    assert (rev < 0).sum() == 1                          # the one-way edge 0 -> n-1
    assert reverse_edges(torch.empty(2, 0, dtype=torch.long)).numel() == 0


def test_node_relabelling_permutes_output():
    torch.manual_seed(0)
    x, ei, ea = undirected_graph(n=6, seed=1)
    model = DirectedMessagePassing(3, 2, 4, num_steps=2)
    perm = torch.randperm(6)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(6)
    out = model(x, ei, ea)
    out_perm = model(x[perm], inv[ei], ea)               # node i of the new graph is perm[i]
    torch.testing.assert_close(out_perm, out[perm], atol=1e-5, rtol=1e-5)


def test_no_tottering_on_a_single_bond():
    # on one bond a -> b, b -> a, the message into a -> b excludes b -> a: it is zero, so the edge
    # states never change from h0 whatever the rounds
    torch.manual_seed(0)
    x = torch.randn(2, 3)
    ei = torch.tensor([[0, 1], [1, 0]])
    ea = torch.randn(2, 2)
    a = DirectedMessagePassing(3, 2, 4, num_steps=0)
    b = DirectedMessagePassing(3, 2, 4, num_steps=4)
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(a(x, ei, ea), b(x, ei, ea))


def test_gradcheck_float64():
    torch.manual_seed(0)
    x, ei, ea = undirected_graph(n=5, seed=2, dtype=torch.double)
    model = DirectedMessagePassing(3, 2, 3, num_steps=2, bias=True).double()
    x.requires_grad_(True)
    ea.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: model(a, ei, b), (x, ea))


def test_bad_input_names_the_argument():
    model = DirectedMessagePassing(3, 2, 4)
    x, ei, ea = undirected_graph()
    with pytest.raises(ValueError, match="x must have shape"):
        model(x[:, :2], ei, ea)
    with pytest.raises(ValueError, match="edge_attr must have shape"):
        model(x, ei, ea[:-1])
    with pytest.raises(ValueError, match="edge_index must have shape"):
        model(x, ei[0], ea)
    with pytest.raises(ValueError, match="reverse must have shape"):
        model(x, ei, ea, reverse=torch.zeros(1, dtype=torch.long))
    with pytest.raises(ValueError, match="num_steps"):
        DirectedMessagePassing(3, 2, 4, num_steps=-1)
    assert "num_steps=2" in repr(model)


@pytest.mark.parametrize("edge_index, error, message", [
    (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), TypeError, "edge_index must hold torch.long"),
    (torch.tensor([[0, 1], [1, 7]]), ValueError, "node index 7, expected indices in"),
    (torch.tensor([[0, -1], [1, 0]]), ValueError, "node index -1"),
])
def test_bad_edge_index_is_named_at_the_entry_point(edge_index, error, message):
    from graphrnn.nn import DirectedMessagePassing, GNBlock

    x, edge_attr = torch.randn(2, 3), torch.randn(2, 4)
    with pytest.raises(error, match=message):
        DirectedMessagePassing(3, 4, 8)(x, edge_index, edge_attr)
    with pytest.raises(error, match=message):
        GNBlock(3, 4, hidden_features=8)(x, edge_index, edge_attr)
