"""Fixtures shared by the kernel tests."""
import pytest
import torch

from graphrnn.engine import run_chain


@pytest.fixture(params=["blas", "blas_nn", "onednn"])
def product_path(request):
    """Every product route of :mod:`graphrnn.kernels.products` in turn (those this build has),
    forced for the test and measured again after it."""
    from graphrnn.kernels import products
    if request.param not in products.candidate_paths(torch.float32, torch.device("cpu")):
        pytest.skip(f"{request.param} is not available in this build")
    products.set_product_path(request.param)
    yield request.param
    products.set_product_path(None)


@pytest.fixture(params=["compiled", "pytorch"])
def gate_path(request):
    """The LSTM, GRU and SRN chain kernels' per-step gate arithmetic by the compiled steps
    (:mod:`graphrnn.kernels.native`, where this machine builds them) and by PyTorch's kernels."""
    from graphrnn.kernels import native
    if request.param == "compiled" and native.library() is None:
        pytest.skip("no C compiler here: the compiled step is not built")
    native.set_native(request.param == "compiled")
    yield request.param
    native.set_native(None)


def _assert_kernel_gives_the_loop_numbers(kernel, cell, batch_sizes, atol=1e-5, grad_atol=1e-4):
    """``kernel(cell, x, batch_sizes, state, reverse)`` against ``run_chain`` over the cell's
    steps, both directions, float32: outputs, final state, and the gradients of x, the initial
    state and every parameter."""
    torch.manual_seed(0)
    x = torch.randn(sum(batch_sizes), cell.input_size, requires_grad=True)
    state = tuple(torch.randn(batch_sizes[0], size, requires_grad=True)
                  for size in cell.state_sizes)
    for reverse in (False, True):
        want = run_chain(cell.step, cell.project(x), batch_sizes, state, reverse=reverse)
        got = kernel(cell, x, batch_sizes, state, reverse=reverse)
        torch.testing.assert_close(got[0], want[0], atol=atol, rtol=1e-4)
        for a, b in zip(got[1], want[1]):
            torch.testing.assert_close(a, b, atol=atol, rtol=1e-4)
        params = [x, *state, *cell.parameters()]
        loss = lambda out: out[0].square().sum() + out[1][-1].sum()  # noqa: E731
        for a, b in zip(torch.autograd.grad(loss(got), params),
                        torch.autograd.grad(loss(want), params)):
            torch.testing.assert_close(a, b, atol=grad_atol, rtol=1e-4)


@pytest.fixture
def kernel_matches_loop():
    """The check of :func:`_assert_kernel_gives_the_loop_numbers`, for the kernel tests."""
    return _assert_kernel_gives_the_loop_numbers


def _assert_frozen_weights_keep_the_other_gradients(kernel, cell, batch_sizes):
    """With ``weight_ih`` and then ``weight_hh`` frozen (``requires_grad=False``), the kernel's
    gradients of everything else still equal the autograd loop's (the kernels compute both weight
    gradients in one product when both are wanted, each alone otherwise)."""
    for frozen in ("weight_ih", "weight_hh"):
        for p in cell.parameters():
            p.requires_grad_(True)
        getattr(cell, frozen).requires_grad_(False)
        torch.manual_seed(1)
        x = torch.randn(sum(batch_sizes), cell.input_size, dtype=torch.double)
        state = tuple(torch.randn(batch_sizes[0], size, dtype=torch.double)
                      for size in cell.state_sizes)
        params = [p for p in cell.parameters() if p.requires_grad]
        got = kernel(cell, x, batch_sizes, state)
        want = run_chain(cell.step, cell.project(x), batch_sizes, state)
        loss = lambda out: out[0].square().sum() + out[1][0].sum()  # noqa: E731
        for a, b in zip(torch.autograd.grad(loss(got), params),
                        torch.autograd.grad(loss(want), params)):
            torch.testing.assert_close(a, b)


@pytest.fixture
def frozen_weights_keep_gradients():
    """The check of :func:`_assert_frozen_weights_keep_the_other_gradients`."""
    return _assert_frozen_weights_keep_the_other_gradients
