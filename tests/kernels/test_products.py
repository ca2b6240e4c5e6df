"""Products through the measured path: every path computes x @ W.t(); choices are cached."""
import pytest
import torch

from graphrnn.kernels import products
from graphrnn.kernels.products import PreparedWeight


@pytest.fixture(autouse=True)
def _measure_again():
    products.set_product_path(None)
    yield
    products.set_product_path(None)


def _paths(dtype=torch.float32):
    return products.candidate_paths(dtype, torch.device("cpu"))


@pytest.mark.parametrize("path", products.PATHS)
def test_every_path_computes_the_product(path):
    if path not in _paths():
        pytest.skip(f"{path} is not available in this build")
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(12, 5, generator=gen)
    prepared = PreparedWeight(w, rows=8, path=path)
    assert prepared.path == path
    for rows in (8, 3, 1):   # fewer rows than prepared for work too
        x = torch.randn(rows, 5, generator=gen)
        want = x @ w.t()
        torch.testing.assert_close(prepared.mm(x), want)
        out = torch.empty(rows, 12)
        assert prepared.mm(x, out=out) is out
        torch.testing.assert_close(out, want)
        acc = torch.randn(rows, 12, generator=gen)
        expected = acc + want
        torch.testing.assert_close(prepared.addmm_(acc, x), expected)
        torch.testing.assert_close(acc, expected)
        bias = torch.randn(12, generator=gen)          # broadcast as torch.addmm does
        torch.testing.assert_close(prepared.addmm(bias, x), bias + want)
        base = torch.randn(rows, 12, generator=gen)
        torch.testing.assert_close(prepared.addmm(base, x, out=out), base + want)
        torch.testing.assert_close(out, base + want)


def test_the_prepared_copy_is_taken_when_made():
    # a kernel call prepares the weight as it is then; a later change is seen by the next one
    w = torch.ones(3, 2)
    for path in _paths():
        before = PreparedWeight(w, 2, path=path)
        w2 = w * 2
        after = PreparedWeight(w2, 2, path=path)
        x = torch.ones(2, 2)
        assert before.mm(x).eq(2).all() and after.mm(x).eq(4).all()


def _count_calls(monkeypatch, name: str) -> list:
    """The positional arguments of every call of ``products.<name>`` from now on."""
    calls, real = [], getattr(products, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(products, name, counting)
    return calls


def test_choice_is_measured_once_per_shape_bucket_and_cached(monkeypatch):
    calls = _count_calls(monkeypatch, "measure_paths")
    first = products.product_path(60, 16, 32, torch.float32)
    again = products.product_path(33, 16, 32, torch.float32)     # same power-of-two bucket (64)
    assert first == again and first in _paths()
    assert len(calls) == 1 and calls[0][0] == 64
    products.product_path(65, 16, 32, torch.float32)              # the next bucket measures
    assert len(calls) == 2
    assert set(products.chosen_paths().values()) <= set(_paths())


def test_products_into_existing_tensors_are_measured_apart(monkeypatch):
    # a recurrent step writes into a buffer, a projection makes a new tensor: each route is
    # measured the way it will run, and each kept under its own key
    modes = []
    real = products.measure_paths
    monkeypatch.setattr(products, "measure_paths",
                        lambda *a, **k: modes.append(k["in_place"]) or real(*a, **k))
    products.product_path(60, 16, 32, torch.float32, in_place=True)
    products.product_path(60, 16, 32, torch.float32)
    products.product_path(50, 16, 32, torch.float32, in_place=True)   # cached
    assert modes == [True, False]
    assert {key[3] for key in products.chosen_paths()} == {True, False}
    times = products.measure_paths(8, 16, 32, repeats=1, in_place=False)
    assert set(times) == set(_paths()) and all(t > 0 for t in times.values())
    assert products.PreparedWeight(torch.ones(4, 3), 5, in_place=True).path in _paths()


def test_forcing_a_path_by_call_and_by_environment(monkeypatch):
    products.set_product_path("blas_nn")
    assert products.product_path(8, 4, 4, torch.float32) == "blas_nn"
    products.set_product_path(None)
    monkeypatch.setenv("GRAPHRNN_PRODUCT_PATH", "blas")
    assert PreparedWeight(torch.ones(4, 4), 8).path == "blas"
    monkeypatch.setenv("GRAPHRNN_PRODUCT_PATH", "fastest")
    with pytest.raises(ValueError, match="GRAPHRNN_PRODUCT_PATH='fastest'"):
        products.product_path(8, 4, 4, torch.float32)
    with pytest.raises(ValueError, match="one of"):
        products.set_product_path("mkl")


def test_onednn_is_not_offered_for_float64_or_cuda():
    assert "onednn" not in products.candidate_paths(torch.float64, torch.device("cpu"))
    assert products.candidate_paths(torch.float32, torch.device("cuda")) == ("blas",)
    products.set_product_path("onednn")      # forced, but float64 cannot take it
    assert products.product_path(8, 4, 4, torch.float64) == "blas"


def test_measure_paths_reports_seconds_for_every_available_path():
    times = products.measure_paths(4, 8, 16, repeats=1)
    assert set(times) == set(_paths()) and all(t > 0 for t in times.values())


def test_pick_keeps_plain_blas_unless_another_path_is_clearly_faster():
    from graphrnn.kernels.products import pick
    assert pick({"blas": 1.0, "blas_nn": 0.97, "onednn": 0.99}) == "blas"     # within noise
    assert pick({"blas": 1.0, "blas_nn": 0.9, "onednn": 0.5}) == "onednn"
    assert pick({"blas": 1.0, "blas_nn": 0.9, "onednn": 0.88}) == "blas_nn"  # 0.88 vs 0.9: noise
    assert pick({"blas_nn": 1.0, "onednn": 2.0}) == "blas_nn"


@pytest.mark.parametrize("path", products.PATHS)
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_equals_f_linear_values_and_gradients(path, with_bias):
    if path not in _paths():
        pytest.skip(f"{path} is not available in this build")
    products.set_product_path(path)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(7, 5, generator=gen, requires_grad=True)
    w = torch.randn(3, 5, generator=gen, requires_grad=True)
    b = torch.randn(3, generator=gen, requires_grad=True) if with_bias else None
    got = products.linear(x, w, b)
    want = torch.nn.functional.linear(x, w, b)
    torch.testing.assert_close(got, want)
    params = [x, w] + ([b] if with_bias else [])
    for g, e in zip(torch.autograd.grad(got.square().sum(), params),
                    torch.autograd.grad(want.square().sum(), params)):
        torch.testing.assert_close(g, e)
    with torch.no_grad():                                # no graph: the plain product
        torch.testing.assert_close(products.linear(x, w, b), want)
    x3 = torch.randn(2, 7, 5, generator=gen)            # other shapes: F.linear itself
    torch.testing.assert_close(products.linear(x3, w, b), torch.nn.functional.linear(x3, w, b))


def test_addmm_without_a_base_is_the_plain_product():
    w, x = torch.randn(4, 3), torch.randn(5, 3)
    for path in _paths():
        prepared = PreparedWeight(w, 5, path=path)
        torch.testing.assert_close(prepared.addmm(None, x), x @ w.t())
        out = torch.empty(5, 4)
        assert prepared.addmm(None, x, out=out) is out
        torch.testing.assert_close(out, x @ w.t())


@pytest.mark.parametrize("path", products.PATHS)
def test_weight_grad_is_grad_transposed_times_inputs_on_every_path(path, monkeypatch):
    if path not in _paths():
        pytest.skip(f"{path} is not available in this build")
    products.set_product_path(path)
    gen = torch.Generator().manual_seed(0)
    grad, inputs = torch.randn(40, 24, generator=gen), torch.randn(40, 7, generator=gen)
    torch.testing.assert_close(products.weight_grad(grad, inputs), grad.t() @ inputs)
    # strided views, as the kernels pass (a block of gate columns, states shifted by a step)
    wide = torch.randn(41, 48, generator=gen)
    g, x = wide[1:, 8:32], wide[:-1, :7]
    torch.testing.assert_close(products.weight_grad(g, x), g.t() @ x)
    assert products.weight_grad(grad[:0], inputs[:0]).eq(0).all()
    # rows in several blocks (oneDNN's route sums blocks of WEIGHT_GRAD_BLOCK rows), the last
    # one short
    monkeypatch.setattr(products, "WEIGHT_GRAD_BLOCK", 16)
    torch.testing.assert_close(products.weight_grad(grad, inputs), grad.t() @ inputs)
    torch.testing.assert_close(products.weight_grad(g, x), g.t() @ x)


def test_weight_grad_path_is_measured_once_per_bucket(monkeypatch):
    calls = _count_calls(monkeypatch, "measure_weight_grad_paths")
    first = products.weight_grad_path(100, 32, 16, torch.float32)
    again = products.weight_grad_path(70, 32, 16, torch.float32)    # same bucket (128)
    assert first == again and first in ("blas", "onednn")
    assert len(calls) == 1 and calls[0][:3] == (128, 32, 16)
    assert set(products.chosen_weight_grad_paths().values()) <= {"blas", "onednn"}
    # forced: blas_nn has no transposed-product variant and means blas here
    products.set_product_path("blas_nn")
    assert products.weight_grad_path(100, 32, 16, torch.float32) == "blas"
    assert products.weight_grad_path(100, 32, 16, torch.float64) == "blas"


def test_weight_grad_refuses_mismatched_rows():
    with pytest.raises(ValueError, match=r"grad \(R, N\) and inputs \(R, K\).*\(5, 3\).*\(4, 2\)"):
        products.weight_grad(torch.ones(5, 3), torch.ones(4, 2))


def test_weight_grad_block_fits_the_copies_into_the_budget():
    # no budget: the default block; a budget: the largest power of two whose copies fit after
    # the fixed part; none when not even the smallest block fits
    assert products.weight_grad_block(4096) == products.WEIGHT_GRAD_BLOCK
    assert products.weight_grad_block(1000, 300_000) == 256
    assert products.weight_grad_block(1000, 300_000, fixed_bytes=100_000) == 128
    assert products.weight_grad_block(1000, 10**9) == products.WEIGHT_GRAD_BLOCK
    assert products.weight_grad_block(1000, 100_000) == 0
    assert products.copy_budget(torch.ones(10, 10), torch.ones(5), share=0.5) == 210


def test_weight_grad_takes_blas_when_the_onednn_route_would_not_fit(monkeypatch):
    taken = []
    real = products._weight_grad_by
    monkeypatch.setattr(products, "_weight_grad_by",
                        lambda path, *args, **kw: taken.append(path) or real(path, *args, **kw))
    products.set_product_path("onednn")
    grad, inputs = torch.randn(300, 24), torch.randn(300, 7)
    torch.testing.assert_close(products.weight_grad(grad, inputs, copy_bytes=1000),
                               grad.t() @ inputs)
    assert taken == ["blas"]
    if "onednn" in products._weight_grad_paths(torch.float32, torch.device("cpu")):
        products.weight_grad(grad, inputs, copy_bytes=10**8)
        assert taken[-1] == "onednn"


@pytest.mark.parametrize("path", ["blas", "onednn"])
def test_weight_grad_adds_the_bias_gradient_when_asked(path, monkeypatch):
    if path not in products._weight_grad_paths(torch.float32, torch.device("cpu")):
        pytest.skip(f"{path} is not available in this build")
    products.set_product_path(path)
    monkeypatch.setattr(products, "WEIGHT_GRAD_BLOCK", 16)   # several blocks, the last short
    grad, inputs = torch.randn(40, 24), torch.randn(40, 7)
    sums = torch.ones(24)
    torch.testing.assert_close(products.weight_grad(grad, inputs, bias_out=sums),
                               grad.t() @ inputs)
    torch.testing.assert_close(sums, 1 + grad.sum(0))
