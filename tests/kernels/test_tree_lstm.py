"""The N-ary Tree-LSTM fast lane equals the generic level engine, values and gradients."""
import pytest
import torch
from nltk import Tree
from torch_geometric.data import Batch, Data

from graphrnn.cells.tree_lstm import NaryTreeLSTMCell
from graphrnn.engine import propagate
from graphrnn.kernels.tree_lstm import child_table, nary_tree_lstm_projected
from graphrnn.nn.tree import TreeLSTM
from graphrnn.schedule import topological_schedule
from graphrnn.structures import tree_graph


class GenericNary(NaryTreeLSTMCell):
    """The same cell without its fused kernel: the engine takes its generic path."""

    def level_kernel(self):
        return None


def random_tree(rng: torch.Generator, arity: int, size: int) -> Data:
    """A random tree of ``size`` nodes, edges child -> parent, at most ``arity`` children each
    (node 0 the root; child slots follow node ids, so some nodes miss trailing children)."""
    parents, children = [], [0] * size
    for v in range(1, size):
        while True:
            p = int(torch.randint(0, v, (1,), generator=rng))
            if children[p] < arity:
                break
        children[p] += 1
        parents.append(p)
    edge_index = torch.tensor([list(range(1, size)), parents], dtype=torch.long)
    return Data(edge_index=edge_index.view(2, -1), num_nodes=size)


def generic_twin(cell: NaryTreeLSTMCell) -> GenericNary:
    twin = GenericNary(cell.input_size, cell.hidden_size, cell.arity).to(cell.weight_ih.dtype)
    twin.load_state_dict(cell.state_dict())
    return twin


@pytest.mark.parametrize("arity", [1, 2, 3])
def test_fast_lane_equals_generic_engine_values_and_gradients(arity):
    rng = torch.Generator().manual_seed(arity)
    torch.manual_seed(arity)
    batch = Batch.from_data_list([random_tree(rng, arity, n) for n in (1, 2, 7, 12, 20)])
    model = TreeLSTM(5, 4, variant="nary", arity=arity).double()
    twin = generic_twin(model.cell)
    x = torch.randn(batch.num_nodes, 5, dtype=torch.float64, requires_grad=True)
    has_input = torch.rand(batch.num_nodes, generator=rng) < 0.6
    (h, c) = model.states(batch, x, has_input)
    assert "NaryTreeLSTMLevels" in h.grad_fn.next_functions[0][0].name()   # the fast lane ran
    x_ref = x.detach().clone().requires_grad_()
    xw = twin.project(x_ref * has_input.unsqueeze(1))
    h_ref, c_ref = propagate(twin, xw, topological_schedule(batch.edge_index, batch.num_nodes),
                             projected=True)
    torch.testing.assert_close(h, h_ref)
    torch.testing.assert_close(c, c_ref)
    wh, wc = torch.randn_like(h), torch.randn_like(c)
    got = torch.autograd.grad((h * wh).sum() + (c * wc).sum(), [x, *model.parameters()])
    want = torch.autograd.grad((h_ref * wh).sum() + (c_ref * wc).sum(),
                               [x_ref, *twin.parameters()])
    # rows without input get no gradient on the fast lane; the zeroed twin's are zero too
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)


def test_propagate_dispatches_to_the_fast_lane_on_a_dag_with_shared_children():
    # node 0 feeds nodes 2 and 3 (two parents): the children's gradients must add up
    edge_index = torch.tensor([[0, 1, 0, 2, 3], [2, 2, 3, 4, 4]])
    torch.manual_seed(0)
    cell = NaryTreeLSTMCell(3, 4, arity=2).double()
    twin = generic_twin(cell)
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    sched = topological_schedule(edge_index, 5)
    got = propagate(cell, x, sched)
    want = propagate(twin, x, sched)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)
    weights = torch.randn(5, 4, dtype=torch.float64)
    grads = torch.autograd.grad((got[0] * weights).sum() + got[1].sum(), [x, *cell.parameters()])
    grads_ref = torch.autograd.grad((want[0] * weights).sum() + want[1].sum(),
                                    [x, *twin.parameters()])
    for g, w in zip(grads, grads_ref):
        torch.testing.assert_close(g, w)


def test_gradcheck_float64():
    data = tree_graph(Tree.fromstring("(S (A (a x) (b y)) (c z))"))
    sched = topological_schedule(data.edge_index, data.num_nodes)
    cell = NaryTreeLSTMCell(2, 3).double()
    xw = torch.randn(data.num_nodes, 12, dtype=torch.float64, requires_grad=True)
    weight = cell.weight_hh.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, w: nary_tree_lstm_projected(a, w, sched, 2), (xw, weight))


def test_no_grad_forward_equals_generic_and_keeps_no_graph():
    data = tree_graph(Tree.fromstring("(S (A (a x) (b y)) (c z))"))
    sched = topological_schedule(data.edge_index, data.num_nodes)
    cell = NaryTreeLSTMCell(2, 3)
    x = torch.randn(data.num_nodes, 2)
    with torch.no_grad():
        got = propagate(cell, x, sched)
        want = propagate(generic_twin(cell), x, sched)
    assert not got[0].requires_grad
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)


def test_child_table_marks_missing_children():
    # node 3 has children 0 and 1; node 4 has children 2 and 3 -> leaves 0, 1, 2 first
    edge_index = torch.tensor([[0, 1, 2, 3], [3, 3, 4, 4]])
    sched = topological_schedule(edge_index, 5)
    table = child_table(sched, 3)
    assert table.shape == (2, 3)
    pos = sched.rank
    assert table.tolist() == [[int(pos[0]), int(pos[1]), 5], [int(pos[2]), int(pos[3]), 5]]
    with pytest.raises(ValueError, match=r"arity=1\): a node has 2 children, expected at most 1"):
        child_table(sched, 1)


def test_wrong_row_counts_are_named():
    from graphrnn.kernels.tree_lstm import nary_tree_lstm_levels
    sched = topological_schedule(torch.tensor([[0, 1], [2, 2]]), 3)
    with pytest.raises(ValueError, match="expected 2 leaf rows and 1 internal rows, got 3 and 0"):
        nary_tree_lstm_levels(torch.zeros(3, 6), torch.zeros(0, 8), torch.zeros(8, 4), sched, 2)


def test_one_shared_internal_row_equals_it_repeated():
    from graphrnn.kernels.tree_lstm import nary_tree_lstm_levels
    data = tree_graph(Tree.fromstring("(S (A (a x) (b y)) (B (c z) (d w)))"))
    sched = topological_schedule(data.edge_index, data.num_nodes)
    first = sched.level_sizes[0]
    m = data.num_nodes - first
    torch.manual_seed(0)
    leaf = torch.randn(first, 9, dtype=torch.float64, requires_grad=True)
    row = torch.randn(1, 12, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(15, 6, dtype=torch.float64, requires_grad=True)
    shared = nary_tree_lstm_levels(leaf, row, weight, sched, 2)
    repeated = nary_tree_lstm_levels(leaf, row.expand(m, 12), weight, sched, 2)
    for a, b in zip(shared, repeated):
        torch.testing.assert_close(a, b)
    w = torch.randn_like(shared[0])
    g1 = torch.autograd.grad((shared[0] * w).sum() + shared[1].sum(), [leaf, row, weight])
    g2 = torch.autograd.grad((repeated[0] * w).sum() + repeated[1].sum(), [leaf, row, weight])
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("path", ["blas", "blas_nn", "onednn"])
def test_fast_lane_equals_generic_engine_on_every_product_path(path):
    # float32, where the oneDNN path runs (float64 always takes BLAS)
    from graphrnn.kernels import products
    if path not in products.candidate_paths(torch.float32, torch.device("cpu")):
        pytest.skip(f"{path} is not available in this build")
    rng = torch.Generator().manual_seed(5)
    torch.manual_seed(5)
    batch = Batch.from_data_list([random_tree(rng, 2, n) for n in (3, 9, 16)])
    cell = NaryTreeLSTMCell(5, 8, arity=2)
    twin = generic_twin(cell)
    x = torch.randn(batch.num_nodes, 5, requires_grad=True)
    sched = topological_schedule(batch.edge_index, batch.num_nodes)
    products.set_product_path(path)
    try:
        got = propagate(cell, x, sched)
        grads = torch.autograd.grad(got[0].square().sum() + got[1].sum(), [x, *cell.parameters()])
    finally:
        products.set_product_path(None)
    want = propagate(twin, x, sched)
    expected = torch.autograd.grad(want[0].square().sum() + want[1].sum(),
                                   [x, *twin.parameters()])
    for g, w in zip((*got, *grads), (*want, *expected)):
        torch.testing.assert_close(g, w, atol=1e-5, rtol=1e-4)
