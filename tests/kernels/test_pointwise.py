"""tanh through the sigmoid agrees with torch.tanh to float32 rounding."""
import torch

from graphrnn.kernels.pointwise import sigmoid_to_tanh_, tanh_via_sigmoid


def test_tanh_via_sigmoid_matches_torch_tanh():
    x = torch.cat([torch.linspace(-30, 30, 10001), torch.tensor([0.0, 1e-8, -1e-8])])
    out = torch.empty_like(x)
    got = tanh_via_sigmoid(x, out=out)
    assert got is out
    assert (got - torch.tanh(x)).abs().max() < 2.5e-7
    assert got.abs().max() <= 1.0


def test_sigmoid_to_tanh_in_place_on_a_column_slice():
    a = torch.randn(5, 8)
    want = torch.tanh(a[:, 4:])
    s = torch.sigmoid(2 * a)
    sigmoid_to_tanh_(s[:, 4:])
    torch.testing.assert_close(s[:, 4:], want)
    torch.testing.assert_close(s[:, :4], torch.sigmoid(2 * a[:, :4]))
