import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Batch

from graphrnn.nn.delay import AR, NARX, TDNN, delay_taps, fit_least_squares
from graphrnn.structures.chain import delay_chain_graph
from graphrnn.tasks.metrics import rmse

torch.set_num_threads(1)


def test_delay_chain_graph_has_exactly_the_delay_edges():
    T, K = 6, 3
    data = delay_chain_graph(torch.randn(T, 2), K)
    edges = {(int(s), int(d), int(k)) for (s, d), k in zip(data.edge_index.t(), data.edge_delay)}
    expected = {(t - k, t, k) for t in range(T) for k in range(1, K + 1) if t - k >= 0}
    assert edges == expected and data.edge_index.size(1) == len(expected)  # no duplicates
    chosen = delay_chain_graph(torch.randn(T, 1), [1, 4])
    assert {(int(s), int(d)) for s, d in chosen.edge_index.t()} == \
        {(t - k, t) for t in range(T) for k in (1, 4) if t >= k}


def test_delay_taps_is_the_tapped_delay_line():
    x = torch.arange(1.0, 6.0).unsqueeze(1)          # 1..5
    data = delay_chain_graph(x, 2)
    taps = delay_taps(x, data.edge_index, data.edge_delay, 2)
    assert taps.tolist() == [[1, 0, 0], [2, 1, 0], [3, 2, 1], [4, 3, 2], [5, 4, 3]]
    lags = delay_taps(x, data.edge_index, data.edge_delay, 1, include_current=False)
    assert lags.squeeze(1).tolist() == [0, 1, 2, 3, 4]


def test_tdnn_is_a_causal_convolution():
    torch.manual_seed(0)
    layer = TDNN(3, 4, delays=2, activation="identity")
    x = torch.randn(7, 3)
    data = delay_chain_graph(x, 2)
    # conv1d weight (H, F, K+1) reads oldest..newest: tap k of the layer is x_{t-k}
    w = layer.linear.weight.view(4, 3, 3).permute(0, 2, 1).flip(2)
    ref = F.conv1d(F.pad(x.t().unsqueeze(0), (2, 0)), w, layer.linear.bias)[0].t()
    assert torch.allclose(layer(x, data), ref, atol=1e-6)
    with pytest.raises(ValueError, match="edge_delay"):
        layer(x, type("G", (), {"edge_index": data.edge_index, "edge_delay": None,
                                "num_nodes": 7})())


def simulate(model, u, y_measured=None):
    """Reference NARX loop over time in plain Python."""
    T = u.size(0)
    Kx, Ky = model.input_delays, model.output_delays
    ys = []
    for t in range(T):
        taps = torch.stack([u[t - k] if t - k >= 0 else torch.zeros(1) for k in range(Kx + 1)])
        source = ys if y_measured is None else list(y_measured)
        lags = torch.stack([source[t - k] if t - k >= 0 else torch.zeros(1)
                            for k in range(1, Ky + 1)])
        a = model.input_weight(taps.reshape(1, -1))
        ys.append(model.cell.output(a, lags.reshape(1, -1))[0])
    return torch.stack(ys)


@pytest.mark.parametrize("hidden", [None, 5])
def test_narx_modes_match_a_python_loop(hidden):
    torch.manual_seed(0)
    model = NARX(1, 1, input_delays=2, output_delays=3, hidden_size=hidden)
    u, y = torch.randn(9, 1), torch.randn(9, 1)
    data = delay_chain_graph(u, 3, y=y)
    assert torch.allclose(model(data), simulate(model, u, y), atol=1e-6)
    free = model(data, "parallel")
    assert torch.allclose(free, simulate(model, u), atol=1e-6)
    # gradients through the engine's recurrence equal those of the loop
    g1 = torch.autograd.grad(free.pow(2).sum(), list(model.parameters()))
    g2 = torch.autograd.grad(simulate(model, u).pow(2).sum(), list(model.parameters()))
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, atol=1e-5)
    # a batch of series is the series one by one
    other = delay_chain_graph(torch.randn(5, 1), 3, y=torch.randn(5, 1))
    both = Batch.from_data_list([data, other])
    assert torch.allclose(model(both, "parallel"),
                          torch.cat([free, model(other, "parallel")]), atol=1e-6)
    with pytest.raises(ValueError, match="mode"):
        model(data, "closed")


def test_least_squares_recovers_a_linear_arx_system():
    torch.manual_seed(0)
    u = torch.randn(300)
    y = torch.zeros(300)
    for t in range(300):
        y[t] = (0.5 * (y[t - 1] if t >= 1 else 0) - 0.2 * (y[t - 2] if t >= 2 else 0)
                + 0.7 * u[t] + 0.3 * (u[t - 1] if t >= 1 else 0) + 0.1)
    data = delay_chain_graph(u.unsqueeze(1), 2, y=y.unsqueeze(1))
    model = NARX(1, 1, 1, 2, hidden_size=None)
    assert float(fit_least_squares(model, data)) < 1e-5
    assert torch.allclose(model.input_weight.weight, torch.tensor([[0.7, 0.3]]), atol=1e-4)
    assert torch.allclose(model.cell.weight_hh, torch.tensor([[0.5, -0.2]]), atol=1e-4)
    assert rmse(model(data, "parallel"), data.y) < 1e-4
    ar = AR(1, 2)
    fit_least_squares(ar, data)
    assert ar(data).shape == (300, 1)
    with pytest.raises(ValueError, match="hidden"):
        fit_least_squares(NARX(1, 1, 1, 2, hidden_size=3), data)
