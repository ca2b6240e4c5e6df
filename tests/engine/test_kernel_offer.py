"""Cells offer fused kernels; the engine asks the cell, and a subclass that changes the arithmetic
gets the generic loop over its own methods, not its parent's kernel."""
import pytest
import torch
from nltk import Tree

from graphrnn.cells import (
    ChildSumTreeLSTMCell,
    GRUCell,
    LevelKernel,
    LSTMCell,
    NaryTreeLSTMCell,
    RecursiveNetCell,
    SRNCell,
    TreeGRUCell,
)
from graphrnn.engine import propagate, run_cell_chain, run_chain
from graphrnn.nn.tree import TreeLSTM, TreeRNNBase
from graphrnn.schedule import topological_schedule
from graphrnn.structures import tree_graph


class SameStep(NaryTreeLSTMCell):
    """Overrides ``step`` with the same arithmetic: no fused kernel, the same numbers."""

    def step(self, xw, children):
        return super().step(xw, children)


class HalfH(NaryTreeLSTMCell):
    """Overrides ``step`` with different arithmetic: the parent's kernel would be wrong."""

    def step(self, xw, children):
        h, c = super().step(xw, children)
        return 0.5 * h, c


class Plain(NaryTreeLSTMCell):
    """Overrides nothing: the parent's kernel is exactly right for it."""


def tree_schedule():
    data = tree_graph(Tree.fromstring("(S (A (a x) (b y)) (c z))"))
    return data, topological_schedule(data.edge_index, data.num_nodes)


def ran_fused(state) -> bool:
    fn, seen = state.grad_fn, []
    stack = [fn]
    while stack:                                   # any node of the graph: the kernel's or not
        f = stack.pop()
        if f is None or f in seen:
            continue
        seen.append(f)
        if "NaryTreeLSTMLevels" in f.name():
            return True
        stack.extend(g for g, _ in f.next_functions)
    return False


def test_the_nary_cell_offers_its_level_kernel_and_the_others_none():
    assert isinstance(NaryTreeLSTMCell(3, 4).level_kernel(), LevelKernel)
    assert isinstance(Plain(3, 4).level_kernel(), LevelKernel)
    for cell in (SameStep(3, 4), HalfH(3, 4), ChildSumTreeLSTMCell(3, 4), TreeGRUCell(3, 4),
                 RecursiveNetCell(3, 4), GRUCell(3, 4), SRNCell(3, 4), LSTMCell(3, 4)):
        assert cell.level_kernel() is None, type(cell).__name__


def test_a_subclass_overriding_step_runs_the_generic_loop_with_the_same_numbers():
    data, sched = tree_schedule()
    torch.manual_seed(0)
    fused = NaryTreeLSTMCell(2, 3).double()
    generic = SameStep(2, 3).double()
    generic.load_state_dict(fused.state_dict())
    x = torch.randn(data.num_nodes, 2, dtype=torch.float64, requires_grad=True)
    got, want = propagate(generic, x, sched), propagate(fused, x, sched)
    assert ran_fused(want[0]) and not ran_fused(got[0])
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)
    grads = torch.autograd.grad(got[0].sum() + got[1].sum(), [x, *generic.parameters()])
    grads_ref = torch.autograd.grad(want[0].sum() + want[1].sum(), [x, *fused.parameters()])
    for g, w in zip(grads, grads_ref):
        torch.testing.assert_close(g, w)


def test_a_subclass_with_other_arithmetic_gets_its_own_step_not_the_kernel():
    data, sched = tree_schedule()
    torch.manual_seed(1)
    cell = HalfH(2, 3).double()
    x = torch.randn(data.num_nodes, 2, dtype=torch.float64)
    h, c = propagate(cell, x, sched)
    xw = cell.project(x)
    # node 1 = (A (a x) (b y)) with leaves 2, 3: its own step on its children's states
    kids = tuple(torch.stack([s[2], s[3]]).unsqueeze(0) for s in (h, c))
    h1, c1 = NaryTreeLSTMCell.step(cell, xw[1:2], kids)
    torch.testing.assert_close(h[1:2], 0.5 * h1)
    torch.testing.assert_close(c[1:2], c1)


def test_tree_module_asks_the_cell_too():
    data, _ = tree_schedule()
    torch.manual_seed(2)
    model = TreeLSTM(2, 3, variant="nary").double()
    twin = TreeRNNBase(SameStep(2, 3).double())
    twin.cell.load_state_dict(model.cell.state_dict())
    x = torch.randn(data.num_nodes, 2, dtype=torch.float64)
    has_input = torch.tensor([False, False, True, True, True])
    got, want = twin.states(data, x, has_input), model.states(data, x, has_input)
    assert ran_fused(want[0]) and not ran_fused(got[0])
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_cells_offer_the_chain_kernel_a_step_override_does_not(reverse):
    class SameLSTMStep(LSTMCell):
        def step(self, xw, state):
            return super().step(xw, state)

    torch.manual_seed(3)
    cell, plain = LSTMCell(3, 4, peephole=True), SameLSTMStep(3, 4, peephole=True)
    plain.load_state_dict(cell.state_dict())
    assert cell.chain_kernel() is not None and plain.chain_kernel() is None
    assert LSTMCell(3, 4, proj_size=2).chain_kernel() is None   # the kernel has no projection
    assert GRUCell(3, 4).chain_kernel() is not None and SRNCell(3, 4).chain_kernel() is not None
    batch_sizes = [3, 3, 2, 1]
    x = torch.randn(sum(batch_sizes), 3)
    state = (torch.randn(3, 4), torch.randn(3, 4))
    fused = run_cell_chain(cell, x, batch_sizes, state, reverse=reverse)
    generic = run_cell_chain(plain, x, batch_sizes, state, reverse=reverse)
    loop = run_chain(cell.step, cell.project(x), batch_sizes, state, reverse=reverse)
    assert "LSTMChain" in fused[0].grad_fn.name() and "LSTMChain" not in generic[0].grad_fn.name()
    for a, b in ((fused, loop), (generic, loop)):
        torch.testing.assert_close(a[0], b[0], atol=1e-6, rtol=1e-5)
        for s, t in zip(a[1], b[1]):
            torch.testing.assert_close(s, t, atol=1e-6, rtol=1e-5)
