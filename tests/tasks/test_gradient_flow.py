import pytest
import torch

from graphrnn.cells import GRUCell, LSTMCell, SRNCell
from graphrnn.nn import GRU, LSTM, RNN
from graphrnn.tasks.gradient_flow import gradient_flow

torch.set_num_threads(1)
T, B, I, H = 6, 2, 3, 4


def loss_fn(h):
    return (h ** 2).sum() * 0.5 + h[:, 0].sum()


def test_srn_deltas_are_products_of_jacobians():
    torch.manual_seed(0)
    cell = SRNCell(I, H).double()
    x = torch.randn(T, I, dtype=torch.float64)
    norms = gradient_flow(cell, x, loss_fn)
    # forward by hand, then delta_k = J_{k+1}^T ... J_T^T dL/dh_T with J_t = diag(1 - h_t^2) W
    h, hs = torch.zeros(H, dtype=torch.float64), []
    with torch.no_grad():
        for t in range(T):
            h = torch.tanh(cell.weight_ih @ x[t] + cell.bias_ih + cell.weight_hh @ h + cell.bias_hh)
            hs.append(h)
        delta = hs[-1] + torch.eye(H, dtype=torch.float64)[0]
        expected = [delta.norm()]
        for t in range(T - 1, 0, -1):
            delta = cell.weight_hh.t() @ ((1 - hs[t] ** 2) * delta)
            expected.append(delta.norm())
    assert torch.allclose(norms, torch.stack(expected[::-1]), atol=1e-10)


@pytest.mark.parametrize("make", [lambda: LSTMCell(I, H), lambda: GRUCell(I, H),
                                  lambda: SRNCell(I, H)])
def test_deltas_match_autograd_from_each_step(make):
    """Rerun the sequence from step k with h_k a leaf (other state components fixed):
    the gradient of L_T w.r.t. that leaf is delta_{T,k}."""
    torch.manual_seed(1)
    cell = make().double()
    x = torch.randn(T, B, I, dtype=torch.float64)
    norms = gradient_flow(cell, x, loss_fn)
    with torch.no_grad():
        states = []
        s = tuple(torch.zeros(B, n, dtype=torch.float64) for n in cell.state_sizes)
        for t in range(T):
            s = cell.step(cell.project(x[t]), s)
            states.append(s)
    for k in range(T):
        leaf = states[k][0].clone().requires_grad_()
        s = (leaf, *states[k][1:])
        for t in range(k + 1, T):
            s = cell.step(cell.project(x[t]), s)
        g, = torch.autograd.grad(loss_fn(s[0]), leaf)
        assert float(norms[k]) == pytest.approx(float(g.norm()), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("cls, cell_cls", [(RNN, SRNCell), (LSTM, LSTMCell), (GRU, GRUCell)])
def test_modules_give_the_same_deltas_as_their_cells(cls, cell_cls):
    torch.manual_seed(2)
    rnn = cls(I, H)
    cell = cell_cls(I, H)
    cell.load_state_dict({k[:-3]: v for k, v in rnn.state_dict().items()})
    x = torch.randn(T, B, I)
    assert torch.allclose(gradient_flow(rnn, x, loss_fn), gradient_flow(cell, x, loss_fn))
    with pytest.raises(ValueError, match="one layer"):
        gradient_flow(cls(I, H, num_layers=2), x, loss_fn)
    with pytest.raises(TypeError, match="graphrnn cell"):
        gradient_flow(torch.nn.Linear(2, 2), x, loss_fn)
