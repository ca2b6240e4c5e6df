"""tanh through the sigmoid agrees with torch.tanh to float32 rounding."""
import torch

from graphrnn.kernels.pointwise import output_via_sigmoid, sigmoid_to_tanh_, tanh_via_sigmoid


def test_tanh_via_sigmoid_matches_torch_tanh():
    x = torch.cat([torch.linspace(-30, 30, 10001), torch.tensor([0.0, 1e-8, -1e-8])])
    out = torch.empty_like(x)
    got = tanh_via_sigmoid(x, out=out)
    assert got is out
    assert (got - torch.tanh(x)).abs().max() < 2.5e-7
    assert got.abs().max() <= 1.0


def test_output_via_sigmoid_is_o_tanh_c_and_keeps_u():
    c = torch.cat([torch.linspace(-30, 30, 10001), torch.tensor([0.0, 1e-8, -1e-8])])
    o = torch.rand_like(c)
    out, u = torch.empty_like(c), torch.empty_like(c)
    assert output_via_sigmoid(o, c, out=out, u=u) is out
    assert (out - o * torch.tanh(c)).abs().max() < 2.5e-7
    assert (1 - 2 * u - torch.tanh(c)).abs().max() < 2.5e-7


def test_sigmoid_to_tanh_in_place_on_a_column_slice():
    a = torch.randn(5, 8)
    want = torch.tanh(a[:, 4:])
    s = torch.sigmoid(2 * a)
    sigmoid_to_tanh_(s[:, 4:])
    torch.testing.assert_close(s[:, 4:], want)
    torch.testing.assert_close(s[:, :4], torch.sigmoid(2 * a[:, :4]))


def test_tanh_choice_is_measured_once_and_never_taken_on_cuda(monkeypatch):
    from graphrnn.kernels import pointwise
    calls = []
    real = pointwise.measure_tanh
    monkeypatch.setattr(pointwise, "measure_tanh",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    monkeypatch.setattr(pointwise, "_choices", {})
    cpu = torch.device("cpu")
    first = pointwise.tanh_through_sigmoid(5, 8, 4, torch.float32, cpu)
    assert pointwise.tanh_through_sigmoid(7, 8, 4, torch.float32, cpu) == first
    assert len(calls) == 1 and calls[0][:2] == (8, 8)     # rows bucketed to 8
    assert all(isinstance(flag, bool) for flag in first)
    assert pointwise.tanh_through_sigmoid(5, 8, 4, torch.float32, torch.device("cuda")) == \
        (False, False)


def test_measure_tanh_times_the_four_routes():
    from graphrnn.kernels.pointwise import measure_tanh
    times = measure_tanh(4, 8, 3, repeats=1)
    assert set(times) == {"gate_tanh", "gate_sigmoid", "cell_tanh", "cell_sigmoid"}
    assert all(t > 0 for t in times.values())
