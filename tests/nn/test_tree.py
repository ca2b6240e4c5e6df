"""Tree modules: batches equal one tree at a time, roots, masks, errors."""
import pytest
import torch
from nltk import Tree
from torch_geometric.data import Batch

from graphrnn.nn.tree import RecursiveNet, TreeGRU, TreeLSTM, tree_roots
from graphrnn.schedule import AddLevels
from graphrnn.structures import tree_graph

TREES = ["(3 (2 It) (4 (2 is) (4 (3 very) (4 good))))",
         "(1 (2 bad))",
         "(2 (1 (2 not) (3 (2 so) (3 fun))) (2 .))",
         "(0 (0 awful) (1 (2 plot) (2 (2 and) (1 acting))))"]

MODULES = {
    "child_sum": lambda: TreeLSTM(4, 6),
    "nary": lambda: TreeLSTM(4, 6, variant="nary"),
    "gru": lambda: TreeGRU(4, 6),
    "recursive": lambda: RecursiveNet(4, 6),
}


def graphs():
    return [AddLevels()(tree_graph(Tree.fromstring(s))) for s in TREES]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_batch_equals_trees_one_at_a_time_forward_and_gradients(name):
    torch.manual_seed(0)
    model = MODULES[name]()
    data_list = graphs()
    xs = [torch.randn(d.num_nodes, 4) for d in data_list]
    batch = Batch.from_data_list(data_list)
    x = torch.cat(xs).requires_grad_()
    out, final = model(batch, x)
    h_n = final[0] if isinstance(final, tuple) else final
    assert out.shape == (batch.num_nodes, 6) and h_n.shape == (len(TREES), 6)
    weights = torch.randn_like(out)
    loss = (out * weights).sum() + h_n.square().sum()
    got = torch.autograd.grad(loss, [x, *model.parameters()])

    x_one = [xi.clone().requires_grad_() for xi in xs]
    outs, roots = [], []
    for d, xi in zip(data_list, x_one):
        o, f = model(d, xi)
        outs.append(o)
        roots.append(f[0] if isinstance(f, tuple) else f)
    torch.testing.assert_close(out, torch.cat(outs))
    torch.testing.assert_close(h_n, torch.cat(roots))
    loss_one = (torch.cat(outs) * weights).sum() + torch.cat(roots).square().sum()
    want = torch.autograd.grad(loss_one, [*x_one, *model.parameters()])
    torch.testing.assert_close(got[0], torch.cat(want[:len(xs)]))
    for g, w in zip(got[1:], want[len(xs):]):
        torch.testing.assert_close(g, w)


def test_roots_are_node_zero_of_each_tree_in_graph_order():
    batch = Batch.from_data_list(graphs())
    torch.testing.assert_close(tree_roots(batch.edge_index, batch.num_nodes), batch.ptr[:-1])
    model = TreeLSTM(4, 6)
    x = torch.randn(batch.num_nodes, 4)
    out, (h_n, c_n) = model(batch, x)
    h, c = model.states(batch, x)
    torch.testing.assert_close(h_n, h[batch.ptr[:-1]])
    torch.testing.assert_close(c_n, c[batch.ptr[:-1]])
    torch.testing.assert_close(out, h)


@pytest.mark.parametrize("name", ["child_sum", "nary"])
def test_has_input_equals_zeroed_inputs(name):
    torch.manual_seed(1)
    model = MODULES[name]()
    batch = Batch.from_data_list(graphs())
    x = torch.randn(batch.num_nodes, 4, requires_grad=True)
    mask = batch.is_leaf
    a, _ = model(batch, x * mask.unsqueeze(1))
    b, _ = model(batch, x, has_input=mask)
    torch.testing.assert_close(a, b)
    params = list(model.parameters())
    ga = torch.autograd.grad(a.sum(), [x, *params])
    gb = torch.autograd.grad(b.sum(), [x, *params])
    for u, v in zip(ga, gb):                       # inputs and every parameter, biases included
        torch.testing.assert_close(u, v)
    assert gb[0][~mask].abs().max() == 0


@pytest.mark.parametrize("name", sorted(MODULES))
def test_input_index_into_a_table_equals_gathered_inputs(name):
    # repeated rows (a word occurring twice) and nodes without input (-1)
    torch.manual_seed(2)
    model = MODULES[name]()
    batch = Batch.from_data_list(graphs())
    table = torch.randn(5, 4, requires_grad=True)
    index = torch.randint(0, 5, (batch.num_nodes,))
    index[~batch.is_leaf] = -1
    index[0] = 3
    a, fa = model(batch, table.index_select(0, index.clamp(min=0)), has_input=index >= 0)
    b, fb = model(batch, table, input_index=index)
    torch.testing.assert_close(a, b)
    la = a.square().sum() + (fa[0] if isinstance(fa, tuple) else fa).sum()
    lb = b.square().sum() + (fb[0] if isinstance(fb, tuple) else fb).sum()
    params = list(model.parameters())
    for u, v in zip(torch.autograd.grad(la, [table, *params]),
                    torch.autograd.grad(lb, [table, *params])):
        torch.testing.assert_close(u, v)


def test_input_index_errors_name_the_problem():
    data = tree_graph(Tree.fromstring("(S (a x) (b y))"))
    model = TreeLSTM(4, 6, variant="nary")
    index = torch.tensor([-1, 0, 1])
    with pytest.raises(ValueError, match="pass has_input or input_index, not both"):
        model(data, torch.randn(2, 4), has_input=index >= 0, input_index=index)
    with pytest.raises(ValueError, match=r"input_index must be an integer tensor of shape \(3,\)"):
        model(data, torch.randn(2, 4), input_index=index.float())
    with pytest.raises(ValueError, match=r"x must be a table of shape \(V, 4\), got \(2, 5\)"):
        model(data, torch.randn(2, 5), input_index=index)
    with pytest.raises(ValueError, match="input_index has row 1, but x has 1 rows"):
        model(data, torch.randn(1, 4), input_index=index)


def test_data_x_is_the_default_input():
    model = RecursiveNet(4, 6)
    data = graphs()[0]
    data.x = torch.randn(data.num_nodes, 4)
    torch.testing.assert_close(model(data)[0], model(data, data.x)[0])


def test_errors_name_the_problem():
    data = tree_graph(Tree.fromstring("(S (a x) (b y) (c z))"))
    with pytest.raises(ValueError, match="node 0 has 3 children, expected at most arity=2"):
        TreeLSTM(4, 6, variant="nary")(data, torch.randn(4, 4))
    with pytest.raises(ValueError,
                       match=r"x must have shape \(4, 4\) \(one row per node\), got \(3, 4\)"):
        TreeLSTM(4, 6)(data, torch.randn(3, 4))
    with pytest.raises(ValueError, match="pass x, or give data an 'x' attribute"):
        TreeLSTM(4, 6)(data)
    with pytest.raises(ValueError, match="variant must be one of"):
        TreeLSTM(4, 6, variant="dag")
    with pytest.raises(ValueError, match="has_input must be a bool tensor of shape"):
        TreeLSTM(4, 6)(data, torch.randn(4, 4), has_input=torch.ones(4))


def test_child_sum_takes_any_number_of_children():
    data = tree_graph(Tree.fromstring("(S (a x) (b y) (c z) (d w) (e v))"))
    out, (h_n, _) = TreeLSTM(4, 6)(data, torch.randn(6, 4))
    assert out.shape == (6, 6) and h_n.shape == (1, 6)


def test_extra_repr():
    assert "4, 6, variant='nary', arity=3" in repr(TreeLSTM(4, 6, variant="nary", arity=3))
    assert repr(RecursiveNet(4, 6)).startswith("RecursiveNet(\n  4, 6, arity=2")
