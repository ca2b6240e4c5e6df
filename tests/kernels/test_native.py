"""The compiled gate steps (LSTM, GRU): built once into the cache, loaded only when the checksum
and the numbers check out, and out of the way (None, the PyTorch path) wherever they cannot be."""
import os
import subprocess
import warnings

import pytest
import torch

from graphrnn.cells import LSTMCell
from graphrnn.engine import run_chain
from graphrnn.kernels import lstm_chain, native, native_build

needs_compiler = pytest.mark.skipif(native.compiler() is None, reason="no C compiler here")


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty cache directory and no library loaded yet; the process's state restored after."""
    monkeypatch.setenv("GRAPHRNN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("GRAPHRNN_NATIVE", raising=False)
    native.set_native(None)
    native.reset()
    yield tmp_path / "native"
    native.reset()


def _built(folder):
    return sorted(p.name for p in folder.glob("recurrent_steps-*.so"))


@needs_compiler
def test_built_once_with_its_checksum_and_loaded_from_the_cache(fresh_cache, monkeypatch):
    assert native.library() is not None
    (lib,) = _built(fresh_cache)
    assert (fresh_cache / f"{lib}.sha256").is_file()
    native.reset()

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again")
    monkeypatch.setattr(subprocess, "run", no_compiling)
    assert native.library() is not None     # the cached build, verified, no compiler run


@needs_compiler
def test_a_library_that_does_not_match_its_checksum_is_built_again(fresh_cache):
    compiler, flags = native.compiler(), native_build.FLAGS[0]
    path = native_build.library_path(compiler, flags)
    why = native_build.build(compiler, flags, path)
    if why is not None:
        pytest.skip(why)
    broken = path.with_suffix(".part")   # a truncated copy put in its place (a new file: the
    broken.write_bytes(path.read_bytes()[:4096])   # old one may be mapped by this process)
    os.replace(broken, path)
    assert native.library() is not None
    assert path.stat().st_size > 4096 and _built(fresh_cache) == [path.name]


@needs_compiler
def test_a_build_whose_numbers_are_wrong_is_refused(fresh_cache, tmp_path, monkeypatch):
    wrong = tmp_path / "lstm_step.c"
    wrong.write_text(native.SOURCE.read_text().replace("(T)1 / ((T)1 + EXP(-x))",
                                                       "(T)1 / ((T)2 + EXP(-x))"))
    monkeypatch.setattr(native_build, "SOURCE", wrong)
    with pytest.warns(RuntimeWarning, match="PyTorch path"):
        assert native.library() is None
    assert native.lstm_gates(torch.float32, torch.device("cpu"), 4, "forget") is None


def test_without_a_compiler_the_kernel_runs_its_pytorch_path(fresh_cache, monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with pytest.warns(RuntimeWarning, match="no C compiler"):
        assert native.library() is None
    torch.manual_seed(0)
    cell = LSTMCell(3, 4, peephole=True).double()
    x = torch.randn(6, 3, dtype=torch.double, requires_grad=True)
    state = (torch.zeros(2, 4, dtype=torch.double), torch.zeros(2, 4, dtype=torch.double))
    got = lstm_chain.run_lstm_chain(cell, x, [2, 2, 2], state)[0]
    torch.testing.assert_close(got, run_chain(cell.step, cell.project(x), [2, 2, 2], state)[0])


@needs_compiler
def test_a_cache_that_cannot_be_written_leaves_the_pytorch_path_and_says_where(fresh_cache,
                                                                              tmp_path,
                                                                              monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("GRAPHRNN_CACHE_DIR", str(blocker / "cache"))
    with pytest.warns(RuntimeWarning, match="GRAPHRNN_CACHE_DIR"):
        assert native.library() is None


def test_turned_off_by_the_environment_or_by_call(fresh_cache, monkeypatch):
    monkeypatch.setenv("GRAPHRNN_NATIVE", "0")
    assert not native.native_enabled() and native.library() is None
    monkeypatch.setenv("GRAPHRNN_NATIVE", "1")
    native.set_native(False)
    assert native.library() is None
    native.set_native(None)
    assert native.native_enabled()


def test_only_cpu_float32_and_float64_are_offered(fresh_cache):
    cpu = torch.device("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert native.lstm_gates(torch.float16, cpu, 4, "forget") is None
        assert native.lstm_gates(torch.float32, torch.device("cuda"), 4, "forget") is None


def test_the_cache_name_follows_the_cpu(monkeypatch):
    monkeypatch.setattr(native_build, "_cpu_flags", lambda: "flags: avx2")
    one = native_build.library_path("/usr/bin/cc", ("-O3",))
    monkeypatch.setattr(native_build, "_cpu_flags", lambda: "flags: avx2 avx512f")
    assert native_build.library_path("/usr/bin/cc", ("-O3",)) != one
    assert native_build.library_path("/usr/bin/cc", ("-O2",)) != native_build.library_path(
        "/usr/bin/cc", ("-O3",))


@needs_compiler
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mode", ["forget", "coupled", "no_forget"])
@pytest.mark.parametrize("peephole", [False, True])
def test_one_step_equals_pytorch_forward_and_backward(fresh_cache, dtype, mode, peephole):
    gen = torch.Generator().manual_seed(1)
    G, n, H = (4 if mode == "forget" else 3), 4, 6
    a, c_prev, dh, dc = (torch.randn(n, w, generator=gen, dtype=dtype) for w in (G * H, H, H, H))
    peep = tuple(torch.randn(H, generator=gen, dtype=dtype)
                 if peephole and (k != 1 or mode == "forget") else None for k in range(3))
    gates = native.lstm_gates(dtype, torch.device("cpu"), H, mode, *peep)
    c, tc, h, d_a = (torch.empty_like(t) for t in (c_prev, c_prev, c_prev, a))
    got_a, got_dc = a.clone(), dc.clone()
    grad_peep = torch.full((3, H), 0.5, dtype=torch.float64)   # accumulated onto
    gates.forward(got_a, c_prev, c, tc, h)
    gates.backward(got_a, c_prev, c, tc, dh, got_dc, d_a, grad_peep if peephole else None)
    want = native._reference(a, c_prev, dh, dc, mode, peep)
    for got, expected in zip((got_a, c, tc, h, d_a, got_dc), want):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    if peephole:   # w_cf's row stays as it was without a forget gate
        torch.testing.assert_close(grad_peep, want[-1] + 0.5, rtol=1e-4, atol=1e-5)


@needs_compiler
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_gru_step_equals_pytorch_forward_and_backward(fresh_cache, dtype):
    gen = torch.Generator().manual_seed(2)
    n, H = 4, 6
    a, gh = (torch.randn(n, 3 * H, generator=gen, dtype=dtype) for _ in range(2))
    h_prev, dh = (torch.randn(n, H, generator=gen, dtype=dtype) for _ in range(2))
    gates = native.gru_gates(dtype, torch.device("cpu"), H)
    got_a, got_dh, d = a.clone(), dh.clone(), a.new_empty(n, 4 * H)
    gh_n, h = torch.empty_like(h_prev), torch.empty_like(h_prev)
    gates.forward(got_a, gh, h_prev, gh_n, h)
    gates.backward(got_a, gh_n, h_prev, got_dh, d)
    assert torch.equal(gh_n, gh[:, 2 * H:])
    for got, expected in zip((got_a, h, d, got_dh), native._gru_reference(a, gh, h_prev, dh)):
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


@needs_compiler
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_srn_tanh_and_its_derivative_equal_pytorch(fresh_cache, dtype):
    gen = torch.Generator().manual_seed(3)
    pre, dh = (torch.randn(4, 7, generator=gen, dtype=dtype) * 3 for _ in range(2))
    step, h, d_pre = native.srn_tanh(dtype, torch.device("cpu")), pre.clone(), torch.empty_like(pre)
    step.forward(h)
    step.backward(h, dh, d_pre)
    torch.testing.assert_close(h, pre.tanh(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(d_pre, dh * (1 - pre.tanh().square()), rtol=1e-4, atol=1e-5)


def test_the_cache_directory_by_environment_and_without_a_home(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHRNN_CACHE_DIR", str(tmp_path / "mine"))
    assert native_build.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("GRAPHRNN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert native_build.cache_dir() == tmp_path / "xdg" / "graphrnn"
    monkeypatch.delenv("XDG_CACHE_HOME")

    def no_home():
        raise RuntimeError("Could not determine home directory.")
    monkeypatch.setattr(native_build.Path, "home", staticmethod(no_home))
    assert native_build.cache_dir().name == "graphrnn-cache"
