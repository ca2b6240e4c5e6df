"""Tree cells against torch.nn on chains and against Tai et al.'s equations written out per node."""
import pytest
import torch
from nltk import Tree

from graphrnn.cells import (
    ChildSumTreeLSTMCell,
    GRUCell,
    NaryTreeLSTMCell,
    RecursiveNetCell,
    TreeGRUCell,
    dense_children,
)
from graphrnn.engine import propagate
from graphrnn.schedule import topological_schedule
from graphrnn.structures import tree_graph

sig, tanh = torch.sigmoid, torch.tanh


@pytest.fixture
def single_thread():
    """Tiny float64 GEMMs with 2 BLAS threads on a busy machine can take ~10 ms each (threads
    spin-waiting for a core); gradcheck makes thousands of them."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def schedule(data):
    return topological_schedule(data.edge_index, data.num_nodes)


def children_of(data):
    kids = {v: [] for v in range(data.num_nodes)}
    for c, p in data.edge_index.t().tolist():
        kids[p].append(c)
    return kids


# A chain as a tree: every node has one child; node 0 is the root, node 4 the deepest.
CHAIN = "(a (b (c (d (e w)))))"
# Degrees 0, 1, 2 and 3 mixed inside levels, internal nodes with and without words.
MIXED = "(S (A (x p) (y q) (z r)) (B (C s)) (D (E t) (F (G u) (H v))))"


# -- one-child trees are chains -----------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: ChildSumTreeLSTMCell(3, 5),
                                  lambda: NaryTreeLSTMCell(3, 5, arity=1)])
def test_tree_lstm_on_a_one_child_tree_equals_torch_lstm(make):
    torch.manual_seed(0)
    data = tree_graph(Tree.fromstring(CHAIN))
    cell = make()
    lstm = torch.nn.LSTM(3, 5)
    # Same parameter layout (gate order i, f, g, o): the mapping is the identity on names + _l0.
    lstm.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(data.num_nodes, 3)
    h, c = propagate(cell, x, schedule(data))
    out, (h_n, c_n) = lstm(x.flip(0).unsqueeze(1))          # deepest node first
    torch.testing.assert_close(h.flip(0), out[:, 0], atol=1e-5, rtol=0)
    torch.testing.assert_close(c[0], c_n[0, 0], atol=1e-5, rtol=0)


def test_tree_gru_on_a_one_child_tree_equals_cho_gru():
    torch.manual_seed(1)
    data = tree_graph(Tree.fromstring(CHAIN))
    cell = TreeGRUCell(3, 5)
    gru = GRUCell(3, 5, reset_after=False)
    gru.load_state_dict(cell.state_dict())
    x = torch.randn(data.num_nodes, 3)
    h = propagate(cell, x, schedule(data))[0]
    state = torch.zeros(1, 5)
    for v in reversed(range(data.num_nodes)):
        state = gru(x[v:v + 1], state)
        torch.testing.assert_close(h[v:v + 1], state, atol=1e-6, rtol=0)


def test_recursive_net_with_arity_one_equals_torch_rnn():
    torch.manual_seed(2)
    data = tree_graph(Tree.fromstring(CHAIN))
    cell = RecursiveNetCell(3, 5, arity=1)
    rnn = torch.nn.RNN(3, 5)
    rnn.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(data.num_nodes, 3)
    h = propagate(cell, x, schedule(data))[0]
    out, _ = rnn(x.flip(0).unsqueeze(1))
    torch.testing.assert_close(h.flip(0), out[:, 0], atol=1e-6, rtol=0)


# -- Tai et al. 2015 written out, node by node ----------------------------------------------------

def tai_child_sum(cell, x, kids, v, memo):
    """Eqs. 2-8 of Tai et al. with a Python loop over children (independent of the cell code)."""
    if v in memo:
        return memo[v]
    H = cell.hidden_size
    Wi, Wf, Wu, Wo = cell.weight_ih.split(H)
    Ui, Uf, Uu, Uo = cell.weight_hh.split(H)
    bi, bf, bu, bo = (cell.bias_ih + cell.bias_hh).split(H)
    states = [tai_child_sum(cell, x, kids, k, memo) for k in kids[v]]
    h_tilde = sum((h for h, _ in states), torch.zeros(H, dtype=x.dtype))
    xj = x[v]
    i = sig(Wi @ xj + Ui @ h_tilde + bi)
    o = sig(Wo @ xj + Uo @ h_tilde + bo)
    u = tanh(Wu @ xj + Uu @ h_tilde + bu)
    c = i * u
    for h_k, c_k in states:
        f_jk = sig(Wf @ xj + Uf @ h_k + bf)        # W^(f) x_j in every forget gate
        c = c + f_jk * c_k
    memo[v] = (o * tanh(c), c)
    return memo[v]


def tai_nary(cell, x, kids, v, memo):
    """Eqs. 9-14 of Tai et al.; missing children are zero vectors."""
    if v in memo:
        return memo[v]
    H, N = cell.hidden_size, cell.arity
    Wi, Wf, Wu, Wo = cell.weight_ih.split(H)
    bi, bf, bu, bo = (cell.bias_ih + cell.bias_hh).split(H)
    U = cell.weight_hh
    block = lambda row, l: U[row * H:(row + 1) * H, l * H:(l + 1) * H]  # noqa: E731
    states = [tai_nary(cell, x, kids, k, memo) for k in kids[v]]
    states += [(torch.zeros(H, dtype=x.dtype), torch.zeros(H, dtype=x.dtype))] * (N - len(states))
    xj = x[v]
    i = sig(Wi @ xj + sum(block(0, l) @ states[l][0] for l in range(N)) + bi)
    u = tanh(Wu @ xj + sum(block(1 + N, l) @ states[l][0] for l in range(N)) + bu)
    o = sig(Wo @ xj + sum(block(2 + N, l) @ states[l][0] for l in range(N)) + bo)
    c = i * u
    for k in range(N):
        f_jk = sig(Wf @ xj + sum(block(1 + k, l) @ states[l][0] for l in range(N)) + bf)
        c = c + f_jk * states[k][1]
    memo[v] = (o * tanh(c), c)
    return memo[v]


def test_child_sum_equals_tai_equations_on_a_three_node_tree():
    torch.manual_seed(3)
    data = tree_graph(Tree.fromstring("(S (L good) (R movie))"))   # root 0, leaves 1 and 2
    cell = ChildSumTreeLSTMCell(4, 3).double()
    x = torch.randn(3, 4, dtype=torch.double)
    x[0] = 0.0                                    # the root has no word
    h, c = propagate(cell, x, schedule(data))
    memo = {}
    for v in range(3):
        hv, cv = tai_child_sum(cell, x, children_of(data), v, memo)
        torch.testing.assert_close(h[v], hv)
        torch.testing.assert_close(c[v], cv)
    # the root's forget gates must see W^(f) x_j: with a word at the root the result changes
    x2 = x.clone()
    x2[0] = torch.randn(4, dtype=torch.double)
    h2, _ = propagate(cell, x2, schedule(data))
    torch.testing.assert_close(h2[0], tai_child_sum(cell, x2, children_of(data), 0, {})[0])


def test_nary_equals_tai_equations_on_a_three_node_tree():
    torch.manual_seed(4)
    data = tree_graph(Tree.fromstring("(S (L good) (R movie))"))
    cell = NaryTreeLSTMCell(4, 3, arity=2).double()
    x = torch.randn(3, 4, dtype=torch.double)
    h, c = propagate(cell, x, schedule(data))
    memo = {}
    for v in range(3):
        hv, cv = tai_nary(cell, x, children_of(data), v, memo)
        torch.testing.assert_close(h[v], hv)
        torch.testing.assert_close(c[v], cv)
    # child order matters for the N-ary cell (per-position weights), not for child-sum
    swapped = torch.tensor([[2, 1], [0, 0]])
    h_sw, _ = propagate(cell, x, topological_schedule(swapped, 3))
    assert not torch.allclose(h_sw[0], h[0])


@pytest.mark.parametrize("kind", ["child_sum", "nary"])
def test_mixed_degrees_match_tai_equations(kind):
    """Levels mixing 1, 2 and 3 children take the scatter/index_copy path, not the view."""
    torch.manual_seed(5)
    data = tree_graph(Tree.fromstring(MIXED))
    cell = (ChildSumTreeLSTMCell(4, 3) if kind == "child_sum"
            else NaryTreeLSTMCell(4, 3, 3)).double()
    ref = tai_child_sum if kind == "child_sum" else tai_nary
    x = torch.randn(data.num_nodes, 4, dtype=torch.double)
    h, c = propagate(cell, x, schedule(data))
    memo = {}
    for v in range(data.num_nodes):
        hv, cv = ref(cell, x, children_of(data), v, memo)
        torch.testing.assert_close(h[v], hv)
        torch.testing.assert_close(c[v], cv)


def test_nary_missing_children_are_zero_states():
    torch.manual_seed(6)
    # node B has one child of two, node A two: one level holds both
    data = tree_graph(Tree.fromstring("(S (A (x p) (y q)) (B (z r)))"))
    cell = NaryTreeLSTMCell(2, 3, arity=2)
    x = torch.randn(data.num_nodes, 2)
    h, c = propagate(cell, x, schedule(data))
    b = 4                                          # pre-order: S A x y B z
    assert data.words[b] is None and children_of(data)[b] == [5]
    zero = torch.zeros(1, 1, 3)
    want = cell(x[b:b + 1], (torch.stack([h[5:6], zero[0]], 1), torch.stack([c[5:6], zero[0]], 1)))
    torch.testing.assert_close(h[b:b + 1], want[0])
    one_child = cell(x[b:b + 1], (h[5:6].unsqueeze(1), c[5:6].unsqueeze(1)))   # K=1 < N is padded
    torch.testing.assert_close(h[b:b + 1], one_child[0])


def test_nary_rejects_more_children_than_arity():
    data = tree_graph(Tree.fromstring("(S (a x) (b y) (c z))"))
    cell = NaryTreeLSTMCell(2, 3, arity=2)
    with pytest.raises(ValueError, match=r"arity=2\): a node has 3 children, expected at most 2"):
        propagate(cell, torch.randn(4, 2), schedule(data))
    with pytest.raises(ValueError, match="got 3 children per node, expected at most arity=2"):
        cell(torch.randn(1, 2), (torch.zeros(1, 3, 3), torch.zeros(1, 3, 3)))
    with pytest.raises(ValueError, match=r"children must have shape \(n, K, 3\)"):
        cell(torch.randn(2, 2), (torch.zeros(1, 2, 3), torch.zeros(1, 2, 3)))
    with pytest.raises(ValueError, match="expected input of shape"):
        cell(torch.randn(2, 5))


def test_recursive_net_composition_is_socher():
    torch.manual_seed(7)
    cell = RecursiveNetCell(2, 3)
    data = tree_graph(Tree.fromstring("(S (L a) (R b))"))
    x = torch.randn(3, 2)
    x[0] = 0.0
    h = propagate(cell, x, schedule(data))[0]
    b = cell.bias_ih + cell.bias_hh
    leaves = [tanh(cell.weight_ih @ x[v] + b) for v in (1, 2)]
    root = tanh(cell.weight_hh @ torch.cat(leaves) + b)     # p = f(W [c1; c2] + b)
    torch.testing.assert_close(h[0], root)
    torch.testing.assert_close(h[1], leaves[0])


def test_tree_gru_equations_with_two_children():
    torch.manual_seed(8)
    cell = TreeGRUCell(2, 3)
    data = tree_graph(Tree.fromstring("(S (L a) (R b))"))
    x = torch.randn(3, 2)
    h = propagate(cell, x, schedule(data))[0]
    H = 3
    Wr, Wz, Wn = cell.weight_ih.split(H)
    Ur, Uz, Un = cell.weight_hh.split(H)
    br, bz, bn = (cell.bias_ih + cell.bias_hh).split(H)
    kids = [h[1], h[2]]
    r = [sig(Wr @ x[0] + Ur @ k + br) for k in kids]
    z = sig(Wz @ x[0] + Uz @ (kids[0] + kids[1]) + bz)
    n = tanh(Wn @ x[0] + Un @ (r[0] * kids[0] + r[1] * kids[1]) + bn)
    torch.testing.assert_close(h[0], (1 - z) * n + z * (kids[0] + kids[1]))


@pytest.mark.parametrize("make", [lambda: ChildSumTreeLSTMCell(2, 3),
                                  lambda: NaryTreeLSTMCell(2, 3, 3),
                                  lambda: TreeGRUCell(2, 3), lambda: RecursiveNetCell(2, 3, 3)])
def test_gradcheck_float64(make, single_thread):
    torch.manual_seed(9)
    cell = make().double()
    data = tree_graph(Tree.fromstring("(S (A (x p) (y q) (z r)) (B (C s)) (t u))"))
    sched = schedule(data)
    x = torch.randn(data.num_nodes, 2, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, *p: propagate(cell, x, sched),
                                    (x, *cell.parameters()))


def test_dense_children_layout():
    states = torch.arange(6.0).view(3, 2)            # edges: node 0 slots 0,1; node 1 slot 0
    out = dense_children(states, torch.tensor([0, 0, 1]), torch.tensor([0, 1, 0]), 2, 3)
    want = torch.zeros(2, 3, 2)
    want[0, 0], want[0, 1], want[1, 0] = states[0], states[1], states[2]
    torch.testing.assert_close(out, want)
    full = dense_children(states[:2], torch.tensor([0, 0]), torch.tensor([0, 1]), 1, 2)
    assert full.data_ptr() == states.data_ptr()    # a view, no copy


def test_extra_repr():
    assert repr(NaryTreeLSTMCell(3, 4, arity=3)) == "NaryTreeLSTMCell(3, 4, arity=3)"
    assert repr(ChildSumTreeLSTMCell(3, 4, bias=False)) == "ChildSumTreeLSTMCell(3, 4, bias=False)"
    assert repr(RecursiveNetCell(3, 4, nonlinearity="relu")) == \
        "RecursiveNetCell(3, 4, arity=2, nonlinearity='relu')"
