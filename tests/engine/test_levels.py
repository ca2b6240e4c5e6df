import pytest
import torch
from nltk import Tree

from graphrnn.cells import GRUCell, LSTMCell, SRNCell
from graphrnn.engine import propagate, propagate_rounds, run_chain
from graphrnn.schedule import topological_schedule
from graphrnn.structures import tree_graph


def loop_reference(cell, x_steps, state):
    outs = []
    for x in x_steps:
        state = cell.step(cell.project(x), state)
        outs.append(state[0])
    return outs, state


@pytest.mark.parametrize("reverse", [False, True])
def test_run_chain_with_variable_lengths_matches_per_sequence_loops(reverse):
    torch.manual_seed(0)
    cell = LSTMCell(3, 4, peephole=True)
    lengths = [5, 3, 3, 1]  # sorted decreasing, as packed
    seqs = [torch.randn(n, 3) for n in lengths]
    batch_sizes = [sum(n > t for n in lengths) for t in range(max(lengths))]
    data = torch.cat([torch.stack([s[t] for s in seqs if len(s) > t]) for t in range(max(lengths))])
    h0 = tuple(torch.randn(len(seqs), k) for k in cell.state_sizes)
    out, final = run_chain(cell.step, cell.project(data), batch_sizes, h0, reverse=reverse)
    row = 0
    for t in range(max(lengths)):
        for b, s in enumerate(seqs):
            if len(s) <= t:
                continue
            steps = s.flip(0) if reverse else s
            outs, _ = loop_reference(cell, steps.unsqueeze(1), tuple(h[b:b + 1] for h in h0))
            want = outs[len(s) - 1 - t] if reverse else outs[t]
            torch.testing.assert_close(out[row], want[0])
            row += 1
    for b, s in enumerate(seqs):
        steps = s.flip(0) if reverse else s
        _, last = loop_reference(cell, steps.unsqueeze(1), tuple(h[b:b + 1] for h in h0))
        for got, want in zip(final, last):
            torch.testing.assert_close(got[b], want[0])


def tree_reference(cell, xw, children_of, node):
    kids = [tree_reference(cell, xw, children_of, c) for c in children_of.get(node, [])]
    agg = tuple(sum(k[i] for k in kids) if kids else torch.zeros(1, s, dtype=xw.dtype)
                for i, s in enumerate(cell.state_sizes))
    return cell.step(xw[node:node + 1], agg)


@pytest.mark.parametrize("make", [lambda: SRNCell(3, 4), lambda: LSTMCell(3, 4),
                                  lambda: GRUCell(3, 4, reset_after=False)])
def test_propagate_matches_recursion_forward_and_gradients(make):
    torch.manual_seed(1)
    cell = make()
    tree = Tree.fromstring("(0 (1 a) (2 (3 b) (4 (5 c) (6 d) (7 e))))")
    data = tree_graph(tree)
    x = torch.randn(data.num_nodes, 3, requires_grad=True)
    states = propagate(cell, x, topological_schedule(data.edge_index, data.num_nodes))
    children = {}
    for c, p in data.edge_index.t().tolist():
        children.setdefault(p, []).append(c)
    xw = cell.project(x)
    ref = [tree_reference(cell, xw, children, v) for v in range(data.num_nodes)]
    for k in range(len(cell.state_sizes)):
        torch.testing.assert_close(states[k], torch.cat([r[k] for r in ref]))
    weights = torch.randn_like(states[0])
    params = [x, *cell.parameters()]
    got = torch.autograd.grad((states[0] * weights).sum(), params)
    want = torch.autograd.grad((torch.cat([r[0] for r in ref]) * weights).sum(), params)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)


def test_propagate_gradcheck_on_a_dag():
    torch.manual_seed(2)
    cell = LSTMCell(2, 3, aggr="mean").double()
    ei = torch.tensor([[0, 0, 1, 2, 3, 0], [1, 2, 3, 3, 4, 4]])
    sched = topological_schedule(ei, 5)
    x = torch.randn(5, 2, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, *p: propagate(cell, x, sched),
                                    (x, *cell.parameters()))


def test_propagate_without_grad_gives_the_same_states():
    cell = GRUCell(3, 4)
    ei = torch.tensor([[0, 1, 2], [2, 2, 3]])
    sched = topological_schedule(ei, 4)
    x = torch.randn(4, 3)
    with_grad = propagate(cell, x, sched)
    with torch.no_grad():
        without = propagate(cell, x, sched)
    torch.testing.assert_close(with_grad[0].detach(), without[0])


def test_recursive_net_on_a_one_child_tree_equals_the_srn():
    """A tree whose every node has one child is a chain: same numbers as torch.nn.RNN."""
    torch.manual_seed(3)
    tree = Tree.fromstring("(top (mid (low (bottom word))))")
    data = tree_graph(tree)  # nodes in pre-order: top=0 ... bottom=3; edges child -> parent
    cell = SRNCell(3, 5)
    rnn = torch.nn.RNN(3, 5)
    rnn.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(data.num_nodes, 3)
    states = propagate(cell, x, topological_schedule(data.edge_index, data.num_nodes))[0]
    out, _ = rnn(x.flip(0).unsqueeze(1))  # the sequence leaf first
    torch.testing.assert_close(states.flip(0), out[:, 0], atol=1e-6, rtol=1e-5)


def test_propagate_rounds_on_a_cycle_matches_a_hand_loop():
    torch.manual_seed(4)
    cell = GRUCell(2, 3)
    ei = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]])  # a cycle 0 -> 1 -> 2 -> 0 and 2 -> 1
    x = torch.randn(3, 2)
    got = propagate_rounds(cell, x, ei, num_rounds=3)[0]
    h = torch.zeros(3, 3)
    for _ in range(3):
        agg = torch.stack([h[2], h[0] + h[2], h[1]])
        h = cell(x, agg)
    torch.testing.assert_close(got, h)
    with pytest.raises(ValueError, match="num_rounds must be >= 0"):
        propagate_rounds(cell, x, ei, num_rounds=-1)


def test_propagate_checks_the_number_of_rows():
    cell = SRNCell(2, 3)
    sched = topological_schedule(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match="x has 3 rows, expected one per node of the schedule"):
        propagate(cell, torch.randn(3, 2), sched)


def test_permute_rows_equals_index_select_with_a_gathering_backward():
    from graphrnn.engine import permute_rows
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(0))
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(7)
    x = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    y = permute_rows(x, perm, inverse)
    torch.testing.assert_close(y, x.index_select(0, perm))
    w = torch.randn(7, 3, dtype=torch.float64)
    (g,) = torch.autograd.grad((y * w).sum(), x)
    (want,) = torch.autograd.grad((x.index_select(0, perm) * w).sum(), x)
    torch.testing.assert_close(g, want)
    assert torch.autograd.gradgradcheck(lambda t: permute_rows(t, perm, inverse) ** 2, (x,))
