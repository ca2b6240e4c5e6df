"""Cells against torch.nn's and against the equations written out independently."""
import pytest
import torch

from graphrnn.cells import GRUCell, LSTMCell, SRNCell


@pytest.mark.parametrize("ours,theirs,kwargs", [
    (SRNCell, torch.nn.RNNCell, {}),
    (SRNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    (SRNCell, torch.nn.RNNCell, {"bias": False}),
    (LSTMCell, torch.nn.LSTMCell, {}),
    (LSTMCell, torch.nn.LSTMCell, {"bias": False}),
    (GRUCell, torch.nn.GRUCell, {}),
])
def test_standard_cells_match_torch(ours, theirs, kwargs):
    torch.manual_seed(0)
    a, b = ours(5, 7, **kwargs), theirs(5, 7, **kwargs)
    assert a.load_state_dict(b.state_dict()) is not None  # same names and shapes
    x = torch.randn(3, 5)
    hx = tuple(torch.randn(3, 7) for _ in a.state_sizes)
    hx = hx[0] if len(hx) == 1 else hx
    ya, yb = a(x, hx), b(x, hx)
    ya, yb = (ya, yb) if isinstance(ya, tuple) else ((ya,), (yb,))
    for p, q in zip(ya, yb):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)
    ga = torch.autograd.grad(sum((p * p).sum() for p in ya), list(a.parameters()))
    gb = torch.autograd.grad(sum((q * q).sum() for q in yb), list(b.parameters()))
    for p, q in zip(ga, gb):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-5)


def reference_lstm(cell, x, h, c):
    """The variants' equations, written gate by gate."""
    H = cell.hidden_size
    gates = x @ cell.weight_ih.t() + cell.bias_ih + h @ cell.weight_hh.t() + cell.bias_hh
    if cell.num_gates == 4:
        zi, zf, zg, zo = gates.split(H, 1)
    else:
        zi, zg, zo = gates.split(H, 1)
    if cell.peephole:
        zi = zi + cell.weight_ci * c
    i = torch.sigmoid(zi)
    if cell.coupled:
        f = 1 - i
    elif not cell.forget_gate:
        f = torch.ones_like(i)
    else:
        f = torch.sigmoid(zf + (cell.weight_cf * c if cell.peephole else 0))
    c_new = f * c + i * torch.tanh(zg)
    o = torch.sigmoid(zo + (cell.weight_co * c_new if cell.peephole else 0))
    return o * torch.tanh(c_new), c_new


@pytest.mark.parametrize("kwargs", [
    {"peephole": True}, {"coupled": True}, {"forget_gate": False},
    {"coupled": True, "peephole": True}, {"forget_gate": False, "peephole": True},
])
def test_lstm_variants_follow_their_equations(kwargs):
    torch.manual_seed(1)
    cell = LSTMCell(4, 6, **kwargs)
    x, h, c = torch.randn(3, 4), torch.randn(3, 6), torch.randn(3, 6)
    got = cell(x, (h, c))
    want = reference_lstm(cell, x, h, c)
    for p, q in zip(got, want):
        torch.testing.assert_close(p, q)
    gates = 4 if kwargs.get("forget_gate", True) and not kwargs.get("coupled") else 3
    assert cell.weight_ih.shape == (gates * 6, 4)


def test_lstm_projection_shapes():
    cell = LSTMCell(4, 6, proj_size=2)
    h, c = cell(torch.randn(3, 4))
    assert h.shape == (3, 2) and c.shape == (3, 6)
    assert cell.weight_hh.shape == (24, 2) and cell.weight_hr.shape == (2, 6)


def test_cho_gru_applies_reset_before_the_matmul():
    torch.manual_seed(2)
    cell = GRUCell(4, 5, reset_after=False)
    x, h = torch.randn(3, 4), torch.randn(3, 5)
    W_ir, W_iz, W_in = cell.weight_ih.split(5)
    W_hr, W_hz, W_hn = cell.weight_hh.split(5)
    b_ir, b_iz, b_in = cell.bias_ih.split(5)
    b_hr, b_hz, b_hn = cell.bias_hh.split(5)
    r = torch.sigmoid(x @ W_ir.t() + b_ir + h @ W_hr.t() + b_hr)
    z = torch.sigmoid(x @ W_iz.t() + b_iz + h @ W_hz.t() + b_hz)
    n = torch.tanh(x @ W_in.t() + b_in + (r * h) @ W_hn.t() + b_hn)
    torch.testing.assert_close(cell(x, h), (1 - z) * n + z * h)


def test_the_two_gru_formulations_differ():
    torch.manual_seed(3)
    a, b = GRUCell(4, 5), GRUCell(4, 5, reset_after=False)
    b.load_state_dict(a.state_dict())
    x, h = torch.randn(3, 4), torch.randn(3, 5)
    assert (a(x, h) - b(x, h)).abs().max() > 1e-3


@pytest.mark.parametrize("make", [
    lambda: SRNCell(3, 4), lambda: SRNCell(3, 4, nonlinearity="relu"), lambda: LSTMCell(3, 4),
    lambda: LSTMCell(3, 4, peephole=True), lambda: LSTMCell(3, 4, coupled=True),
    lambda: LSTMCell(3, 4, forget_gate=False), lambda: LSTMCell(3, 4, proj_size=2),
    lambda: GRUCell(3, 4), lambda: GRUCell(3, 4, reset_after=False),
])
def test_gradcheck_float64(make):
    torch.manual_seed(4)
    cell = make().double()
    x = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
    state = tuple(torch.randn(2, s, dtype=torch.double, requires_grad=True)
                  for s in cell.state_sizes)

    def run(x, *rest):
        out = cell.step(cell.project(x), rest[:len(state)])
        return out

    assert torch.autograd.gradcheck(run, (x, *state, *cell.parameters()))


def test_unbatched_input_and_errors():
    cell = LSTMCell(3, 4)
    h, c = cell(torch.randn(3))
    assert h.shape == (4,) and c.shape == (4,)
    with pytest.raises(ValueError, match="input has 5 features, expected input_size=3"):
        cell(torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"hx component has shape \(2, 3\), expected \(2, 4\)"):
        cell(torch.randn(2, 3), (torch.zeros(2, 3), torch.zeros(2, 4)))
    with pytest.raises(ValueError, match="needs forget_gate=True"):
        LSTMCell(3, 4, coupled=True, forget_gate=False)
    with pytest.raises(ValueError, match="aggr must be one of"):
        SRNCell(3, 4, aggr="median")


def test_extra_repr_shows_only_non_defaults():
    assert repr(LSTMCell(3, 4)) == "LSTMCell(3, 4)"
    assert repr(LSTMCell(3, 4, peephole=True)) == "LSTMCell(3, 4, peephole=True)"
    assert repr(GRUCell(3, 4, reset_after=False)) == "GRUCell(3, 4, reset_after=False)"
