"""propagate_rounds drives the general-graph models: gated message passing, the directed MPNN and
a graph-network block with recurrent updates give the results of their former hand-written
loops (written out here with torch.nn's own cells)."""
import pytest
import torch
from torch import nn

from graphrnn.cells import GRUCell
from graphrnn.engine import RoundGraph, propagate_rounds
from graphrnn.nn import DirectedMessagePassing, GatedMessagePassing, GraphNetwork, reverse_edges
from graphrnn.nn.aggregate import aggregate


def graph(n=7, e=16, f=3, fe=2, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, f, generator=g, dtype=dtype), torch.randint(0, n, (2, e), generator=g),
            torch.randn(e, fe, generator=g, dtype=dtype))


@pytest.mark.parametrize("message,cell,aggr,share", [("linear", "gru", "sum", False),
                                                     ("edge_network", "lstm", "mean", True)])
def test_gated_message_passing_equals_the_former_loop(message, cell, aggr, share):
    torch.manual_seed(0)
    x, ei, ea = graph()
    model = GatedMessagePassing(3, 5, num_steps=3, message=message, edge_dim=2, cell=cell,
                                aggr=aggr, share_weights=share).double()
    ref_cell = (nn.GRUCell if cell == "gru" else nn.LSTMCell)(5, 5).double()
    ref_cell.load_state_dict(model.cell.state_dict())
    # the former forward: messages per round, aggregated, then torch.nn's cell
    h = torch.cat([x, x.new_zeros(x.size(0), 2)], 1)
    c = torch.zeros_like(h)
    for t in range(3):
        f = model.message[0 if share else t]
        if message == "linear":
            msg = h[ei[0]] @ f.weight[0]
        else:
            msg = torch.bmm(f.net(ea).view(-1, 5, 5), h[ei[0]].unsqueeze(-1)).squeeze(-1) + f.bias
        m = aggregate(msg, ei[1], x.size(0), aggr)
        if cell == "gru":
            h = ref_cell(m, h)
        else:
            h, c = ref_cell(m, (h, c))
    torch.testing.assert_close(model(x, ei, ea), h)


def test_gated_message_passing_is_a_round_cell():
    torch.manual_seed(1)
    x, ei, ea = graph(dtype=torch.float32)
    model = GatedMessagePassing(3, 4, num_steps=2, message="edge_network", edge_dim=2)
    kernels = [f.message_kernel(ei, ea) for f in model.message]
    h0 = torch.cat([x, x.new_zeros(x.size(0), 1)], 1)
    graph_ = RoundGraph(ei, x.size(0), ea)
    one = propagate_rounds(model, kernels, graph_, 1, state=(h0,), projected=True)
    two = propagate_rounds(model, kernels, graph_, 1, state=one, projected=True)
    torch.testing.assert_close(two[0], model(x, ei, ea))


def test_directed_message_passing_equals_the_former_loop():
    torch.manual_seed(2)
    x, ei, ea = graph()
    model = DirectedMessagePassing(3, 2, 6, num_steps=3, bias=True).double()
    senders, receivers = ei
    e, n = ei.size(1), x.size(0)
    reverse = reverse_edges(ei, n)
    rev = torch.where(reverse < 0, torch.full_like(reverse, e), reverse)
    h0 = model.lin_input(torch.cat([x[senders], ea], 1))
    h = torch.relu(h0)
    for _ in range(3):
        into = h.new_zeros(n, 6).index_add_(0, receivers, h)
        m = into[senders] - torch.cat([h, h.new_zeros(1, 6)])[rev]
        h = torch.relu(h0 + model.lin_message(m))
    incoming = h.new_zeros(n, 6).index_add_(0, receivers, h)
    want = torch.relu(model.lin_output(torch.cat([x, incoming], 1)))
    torch.testing.assert_close(model(x, ei, ea), want)


@pytest.mark.parametrize("split", [True, False])
def test_recurrent_graph_network_rounds_equal_the_former_loop(split):
    torch.manual_seed(3)
    x = torch.randn(7, 6, dtype=torch.float64)
    ei = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 1], [1, 2, 3, 0, 5, 6, 4, 3]])
    ea, u = torch.randn(8, 4, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    edge, node, glob = nn.GRUCell(15, 4), nn.LSTMCell(7, 6), nn.RNNCell(10, 3)
    block = GraphNetwork(edge, node, glob, split_first_linear=split).double()
    # the former block: torch.nn's cells on the concatenated inputs, state carried over rounds
    xr, er, ur, cr = x, ea, u, torch.zeros_like(x)
    for _ in range(3):
        er = edge(torch.cat([xr[ei[0]], xr[ei[1]], ur[batch[ei[0]]]], 1), er)
        xr, cr = node(torch.cat([aggregate(er, ei[1], 7, "sum"), ur[batch]], 1), (xr, cr))
        ur = glob(torch.cat([aggregate(er, batch[ei[0]], 2, "sum"),
                             aggregate(xr, batch, 2, "sum")], 1), ur)
    got = propagate_rounds(block, None, RoundGraph(ei, 7, batch=batch), 3, state=(x, ea, u),
                           projected=True)
    assert len(got) == 6                           # x, edge_attr, u and the memory fields
    for g, w in zip(got[:4], (xr, er, ur)):
        torch.testing.assert_close(g, w)
    torch.testing.assert_close(got[4], cr)
    assert got[3] is None and got[5] is None       # only the node update has a memory


def test_round_graph_in_edges_and_argument_checks():
    ei = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])
    src, dst, slot = RoundGraph(ei, 3).in_edges
    assert dst.tolist() == [0, 1, 1, 2] and src.tolist() == [2, 0, 2, 1]
    assert slot.tolist() == [0, 0, 1, 0]
    with pytest.raises(ValueError, match=r"edge_index must have shape \(2, E\), got \(4,\)"):
        RoundGraph(ei[0], 3)     # the schedule's one check (check_edge_index) and its message
    cell = GRUCell(2, 3)
    x = torch.randn(3, 2)
    assert propagate_rounds(cell, x, ei, 0)[0].abs().sum() == 0   # zero rounds: the zero state


BAD_EDGES = [(lambda ei: ei.float(), TypeError, "torch.long node indices.*float32"),
             (lambda ei: ei.int(), TypeError, "torch.long node indices.*int32"),
             (lambda ei: torch.cat([ei, torch.tensor([[0], [9]])], 1), ValueError,
              r"edge_index holds node index 9, expected indices in \[0, 4\)"),
             (lambda ei: torch.cat([ei, torch.tensor([[-1], [0]])], 1), ValueError,
              "edge_index holds node index -1")]


@pytest.mark.parametrize("bad,error,message", BAD_EDGES)
def test_bad_graph_inputs_at_propagate_rounds_name_the_argument(bad, error, message):
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    x = torch.randn(4, 2)
    with pytest.raises(error, match=message):
        propagate_rounds(GRUCell(2, 3), x, bad(ei), 2)
    with pytest.raises(error, match=message):
        RoundGraph(bad(ei), 4)
    # the entry points that build a RoundGraph first give the same message
    with pytest.raises(error, match=message):
        GatedMessagePassing(2, 3)(x, bad(ei))
    with pytest.raises(error, match=message):
        edges = bad(ei)
        GatedMessagePassing(2, 3, message="edge_network", edge_dim=2)(x, edges,
                                                                      torch.randn(edges.size(1), 2))


def test_bad_num_nodes_num_rounds_and_companions_name_the_argument():
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    x = torch.randn(4, 2)
    with pytest.raises(ValueError, match="num_nodes must be >= 0, got -1"):
        RoundGraph(torch.zeros(2, 0, dtype=torch.long), -1)
    with pytest.raises(TypeError, match="num_nodes must be an int, got 2.5"):
        RoundGraph(ei, 2.5)
    assert RoundGraph(ei, torch.tensor(4)).num_nodes == 4
    assert RoundGraph(torch.zeros(2, 0, dtype=torch.long), 0).in_edges[0].numel() == 0
    with pytest.raises(ValueError, match=r"num_rounds must be >= 0, got -1"):
        propagate_rounds(GRUCell(2, 3), x, ei, -1)
    for bad in (1.5, True, None):
        with pytest.raises(TypeError, match="num_rounds must be an int"):
            propagate_rounds(GRUCell(2, 3), x, ei, bad)
    with pytest.raises(ValueError, match=r"edge_attr must have one row per edge \(3\)"):
        RoundGraph(ei, 4, edge_attr=torch.randn(5, 2))
    with pytest.raises(ValueError, match=r"batch must have shape \(4,\)"):
        RoundGraph(ei, 4, batch=torch.zeros(3, dtype=torch.long))
