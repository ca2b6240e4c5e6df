"""The chain kernels' per-step gate arithmetic compiled from C, where a C compiler is at hand.

Per step, the LSTM kernel's elementwise work (three or four gate nonlinearities, the cell
update, ``tanh(c)``, the output; backward, the gate gradients and the one reaching ``c_{t-1}``)
is five to seven PyTorch kernels, the GRU's a dozen, the tanh SRN's two to five, whose cost at
small batches is dispatch, not arithmetic: at batch 8, hidden 256, the LSTM's took ~38 us a step
forward on the AVX-512 family-25 VM, where one pass of ``csrc/recurrent_steps.c`` over the same
rows took ~7 us (~55 against ~175 us at batch 64). The recurrent matrix products stay with
PyTorch.

The C file is built at first use in a process (:mod:`.native_build`: the system's C compiler,
~0.2 s, into a cache keyed by source, compiler, flags and CPU) and used only when its recorded
checksum matches and a step of each kind on small random rows gives what PyTorch's operations
give; anything else (no compiler, a failed build, an unwritable cache, a mismatch) leaves the
kernels on their PyTorch path, with one warning saying why. ``GRAPHRNN_NATIVE=0`` (or
:func:`set_native`) turns it off.

Calls go through :mod:`ctypes` with the tensors' addresses: every array must be contiguous
(the kernel's own buffers are; it makes the initial state so).
"""
from __future__ import annotations

import ctypes
import os
import threading
import warnings

import torch
from torch import Tensor

from .native_build import (
    FLAGS,
    SOURCE,
    SUFFIX,
    build,
    cache_dir,
    compiler,
    library_path,
    open_library,
)

_ENV = "GRAPHRNN_NATIVE"
_MODES = {"forget": 0, "coupled": 1, "no_forget": 2}

_lock = threading.Lock()
_library: ctypes.CDLL | None = None
_tried = False
_enabled: bool | None = None


def set_native(enabled: bool | None) -> None:
    """Use the compiled steps where they load (``True``), never (``False``), or as the
    environment variable ``GRAPHRNN_NATIVE`` says (``None``, the default: on unless ``0``)."""
    global _enabled
    _enabled = enabled


def reset() -> None:
    """Forget the loaded library and the last attempt, so that the next call looks again (after
    a change of ``$CC`` or of the cache directory; tests)."""
    global _library, _tried
    with _lock:
        _library, _tried = None, False


def native_enabled() -> bool:
    """Whether the compiled steps are to be used (see :func:`set_native`)."""
    if _enabled is not None:
        return _enabled
    return os.environ.get(_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def _load() -> tuple[ctypes.CDLL | None, str]:
    """The verified library, or ``None`` and why."""
    cc = compiler()
    if cc is None:
        return None, f"no C compiler ({os.environ.get('CC') or 'cc'} not found)"
    why = "no build"
    for flags in FLAGS:
        path = library_path(cc, flags)
        lib = open_library(path) if path.exists() else None
        if lib is None:
            why = build(cc, flags, path)
            if why is None:
                lib = open_library(path)
                why = f"{path} did not load"
        if lib is not None:
            if _agrees(lib):
                return lib, ""
            return None, f"{path} does not give PyTorch's numbers"
    return None, why


def library() -> ctypes.CDLL | None:
    """The compiled steps, built and verified at the first call in a process; ``None`` where
    they are turned off or cannot be had (warned once, saying why)."""
    global _library, _tried
    if not native_enabled():
        return None
    if not _tried:
        with _lock:
            if not _tried:
                _library, why = _load()
                _tried = True
                if _library is None:
                    warnings.warn(f"graphrnn: the compiled gate steps are unavailable ({why}); "
                                  f"the LSTM, GRU and SRN chain kernels run their PyTorch path "
                                  f"(GRAPHRNN_NATIVE=0 chooses it without this warning)",
                                  RuntimeWarning, stacklevel=2)
    return _library


class LSTMGates:
    """The compiled forward and backward of one step's gates for one kernel call: the variant
    (``mode``: ``"forget"``, ``"coupled"``, ``"no_forget"``), the hidden size and the peephole
    weights (``None`` without) are fixed here; the per-step arrays come with each call."""

    __slots__ = ("_fwd", "_bwd", "_hidden", "_mode", "_peep", "_keep")

    def __init__(self, lib: ctypes.CDLL, dtype: torch.dtype, hidden: int, mode: str,
                 w_ci: Tensor | None = None, w_cf: Tensor | None = None,
                 w_co: Tensor | None = None):
        suffix = SUFFIX[dtype]
        self._fwd = getattr(lib, f"graphrnn_lstm_forward_{suffix}")
        self._bwd = getattr(lib, f"graphrnn_lstm_backward_{suffix}")
        self._hidden, self._mode = hidden, _MODES[mode]
        self._keep = tuple(w.detach().contiguous() if w is not None else None
                           for w in (w_ci, w_cf, w_co))
        self._peep = tuple(w.data_ptr() if w is not None else None for w in self._keep)

    def forward(self, a: Tensor, c_prev: Tensor, c: Tensor, tc: Tensor, h: Tensor) -> None:
        """In place: ``a`` (n, G*H), gate pre-activations [o, i, (f,) g], becomes the gates'
        activations; ``c``, ``tc``, ``h`` (n, H) receive c_t, tanh(c_t) and h_t."""
        self._fwd(a.data_ptr(), c_prev.data_ptr(), c.data_ptr(), tc.data_ptr(), h.data_ptr(),
                  *self._peep, a.size(0), self._hidden, self._mode)

    def backward(self, a: Tensor, c_prev: Tensor, c: Tensor, tc: Tensor, dh: Tensor,
                 dc: Tensor, d_pre: Tensor, grad_peep: Tensor | None = None) -> None:
        """``d_pre`` (n, G*H) receives the gradients of the gate pre-activations given ``dh``
        and ``dc`` (n, H) reaching h_t and c_t; ``dc`` becomes the one reaching c_{t-1}. With
        peepholes, ``grad_peep`` (3, H) float64 accumulates the gradients of ``w_ci``, ``w_cf``
        and ``w_co`` (rows that do not exist stay 0)."""
        self._bwd(a.data_ptr(), c_prev.data_ptr(), c.data_ptr(), tc.data_ptr(), dh.data_ptr(),
                  dc.data_ptr(), d_pre.data_ptr(), *self._peep,
                  grad_peep.data_ptr() if grad_peep is not None else None, a.size(0),
                  self._hidden, self._mode)


class GRUGates:
    """The compiled forward and backward of one GRU step's gates (reset gate after the product,
    as ``torch.nn.GRU``), gates ``[r, z, n]``, for one kernel call of one dtype and hidden
    size."""

    __slots__ = ("_fwd", "_bwd", "_hidden")

    def __init__(self, lib: ctypes.CDLL, dtype: torch.dtype, hidden: int):
        suffix = SUFFIX[dtype]
        self._fwd = getattr(lib, f"graphrnn_gru_forward_{suffix}")
        self._bwd = getattr(lib, f"graphrnn_gru_backward_{suffix}")
        self._hidden = hidden

    def forward(self, a: Tensor, gh: Tensor, h_prev: Tensor, gh_n: Tensor, h: Tensor) -> None:
        """In place: ``a`` (n, 3H), gx = W_ih x + b, becomes [r, z, n]; given ``gh`` (n, 3H) =
        W_hh h_prev + [0, 0, b_hn], ``gh_n`` (n, H) keeps its n part and ``h`` receives h_t."""
        self._fwd(a.data_ptr(), gh.data_ptr(), h_prev.data_ptr(), gh_n.data_ptr(), h.data_ptr(),
                  a.size(0), self._hidden)

    def backward(self, a: Tensor, gh_n: Tensor, h_prev: Tensor, dh: Tensor, d: Tensor) -> None:
        """``d`` (n, 4H) receives ``[d gh_n, d r, d z, d n]`` given ``dh`` (n, H) reaching h_t,
        which becomes ``dh z`` (the part reaching h_{t-1} without a product)."""
        self._bwd(a.data_ptr(), gh_n.data_ptr(), h_prev.data_ptr(), dh.data_ptr(), d.data_ptr(),
                  a.size(0), self._hidden)


class SRNTanh:
    """The compiled tanh of an Elman step and its derivative, for one dtype."""

    __slots__ = ("_fwd", "_bwd")

    def __init__(self, lib: ctypes.CDLL, dtype: torch.dtype):
        suffix = SUFFIX[dtype]
        self._fwd = getattr(lib, f"graphrnn_srn_forward_{suffix}")
        self._bwd = getattr(lib, f"graphrnn_srn_backward_{suffix}")

    def forward(self, h: Tensor) -> None:
        """In place: the pre-activations ``h`` (contiguous) become tanh of them."""
        self._fwd(h.data_ptr(), h.numel())

    def backward(self, h: Tensor, dh: Tensor, d_pre: Tensor) -> None:
        """``d_pre`` receives ``dh (1 - h^2)`` (all three contiguous, of one shape)."""
        self._bwd(h.data_ptr(), dh.data_ptr(), d_pre.data_ptr(), h.numel())


def srn_tanh(dtype: torch.dtype, device: torch.device) -> SRNTanh | None:
    """:class:`SRNTanh` where the compiled steps run (as :func:`lstm_gates`), else ``None``."""
    if device.type != "cpu" or dtype not in SUFFIX:
        return None
    lib = library()
    return None if lib is None else SRNTanh(lib, dtype)


def gru_gates(dtype: torch.dtype, device: torch.device, hidden: int) -> GRUGates | None:
    """:class:`GRUGates` where the compiled steps run (as :func:`lstm_gates`), else ``None``."""
    if device.type != "cpu" or dtype not in SUFFIX:
        return None
    lib = library()
    return None if lib is None else GRUGates(lib, dtype, hidden)


def lstm_gates(dtype: torch.dtype, device: torch.device, hidden: int, mode: str,
               w_ci: Tensor | None = None, w_cf: Tensor | None = None,
               w_co: Tensor | None = None) -> LSTMGates | None:
    """:class:`LSTMGates` for this call where the compiled steps run (CPU, float32 or
    float64, turned on, built and verified), else ``None``."""
    if device.type != "cpu" or dtype not in SUFFIX:
        return None
    lib = library()
    return None if lib is None else LSTMGates(lib, dtype, hidden, mode, w_ci, w_cf, w_co)


def _reference(a: Tensor, c_prev: Tensor, dh: Tensor, dc: Tensor, mode: str, peep):
    """One step by PyTorch's operations and autograd, for the check of a loaded build:
    the activations, c, tanh(c), h, the gradients of the pre-activations and of c_prev, and
    the peephole weights' gradients as (3, H) (zeros without)."""
    with torch.enable_grad():   # the first call comes from inside a kernel's forward
        peep = tuple(w.clone().requires_grad_() if w is not None else None for w in peep)
        return _reference_step(a.clone().requires_grad_(), c_prev.clone().requires_grad_(),
                               dh, dc, mode, peep)


def _reference_step(a: Tensor, c_prev: Tensor, dh: Tensor, dc: Tensor, mode: str, peep):
    H = c_prev.size(1)
    w_ci, w_cf, w_co = peep
    o, i = a[:, :H], a[:, H:2 * H]
    f, g = (a[:, 2 * H:3 * H], a[:, 3 * H:]) if mode == "forget" else (None, a[:, 2 * H:])
    if w_ci is not None:
        i = i + w_ci * c_prev
        f = f + w_cf * c_prev if f is not None else None
    i, g = i.sigmoid(), g.tanh()
    f = f.sigmoid() if f is not None else (1 - i if mode == "coupled" else 1)
    c = f * c_prev + i * g
    o = (o + w_co * c if w_co is not None else o).sigmoid()
    tc = c.tanh()
    h = o * tc
    acts = torch.cat([o, i] + ([f] if mode == "forget" else []) + [g], 1)
    wanted = [a, c_prev] + [w for w in peep if w is not None]
    grads = list(torch.autograd.grad((h * dh).sum() + (c * dc).sum(), wanted))
    d_a, d_prev, grad_peep = grads[0], grads[1], torch.zeros(3, H, dtype=torch.float64)
    for k, w in enumerate(peep):
        if w is not None:
            grad_peep[k] = grads.pop(2)
    return [t.detach() for t in (acts, c, tc, h, d_a, d_prev, grad_peep)]


def _gru_reference(a: Tensor, gh: Tensor, h_prev: Tensor, dh: Tensor):
    """One GRU step by PyTorch's operations and autograd: the activations [r, z, n], h, and
    ``[d gh_n, d r, d z, d n]`` (pre-activation gradients) and dh z, as the compiled step
    gives them."""
    H = h_prev.size(1)
    with torch.enable_grad():
        a, gh = a.clone().requires_grad_(), gh.clone().requires_grad_()
        r = (a[:, :H] + gh[:, :H]).sigmoid()
        z = (a[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
        n = (a[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
        h = n + z * (h_prev - n)
        d_a, d_gh = torch.autograd.grad((h * dh).sum(), (a, gh))
    return [t.detach() for t in (torch.cat([r, z, n], 1), h,
                                 torch.cat([d_gh[:, 2 * H:], d_a], 1), dh * z)]


def _gru_agrees(lib: ctypes.CDLL, gen: torch.Generator) -> bool:
    for dtype in SUFFIX:
        n, H = 3, 5
        a, gh = (torch.randn(n, 3 * H, generator=gen, dtype=dtype) for _ in range(2))
        h_prev, dh = (torch.randn(n, H, generator=gen, dtype=dtype) for _ in range(2))
        want = _gru_reference(a, gh, h_prev, dh)
        gates = GRUGates(lib, dtype, H)
        got_a, got_dh, d = a.clone(), dh.clone(), a.new_empty(n, 4 * H)
        gh_n, h = torch.empty_like(h_prev), torch.empty_like(h_prev)
        gates.forward(got_a, gh, h_prev, gh_n, h)
        gates.backward(got_a, gh_n, h_prev, got_dh, d)
        if not torch.equal(gh_n, gh[:, 2 * H:]):
            return False
        for x, y in zip((got_a, h, d, got_dh), want):
            if not torch.allclose(x, y, rtol=1e-4, atol=1e-5):
                return False
    return True


def _srn_agrees(lib: ctypes.CDLL, gen: torch.Generator) -> bool:
    for dtype in SUFFIX:
        pre, dh = (torch.randn(3, 5, generator=gen, dtype=dtype) for _ in range(2))
        h, d_pre = pre.clone(), torch.empty_like(pre)
        SRNTanh(lib, dtype).forward(h)
        SRNTanh(lib, dtype).backward(h, dh, d_pre)
        if not (torch.allclose(h, pre.tanh(), rtol=1e-4, atol=1e-5)
                and torch.allclose(d_pre, dh * (1 - pre.tanh() ** 2), rtol=1e-4, atol=1e-5)):
            return False
    return True


def _agrees(lib: ctypes.CDLL) -> bool:
    """Whether a loaded build gives PyTorch's numbers on a few random rows, every variant."""
    gen = torch.Generator().manual_seed(0)
    if not (_gru_agrees(lib, gen) and _srn_agrees(lib, gen)):
        return False
    for dtype in SUFFIX:
        for mode in _MODES:
            for peephole in (False, True):
                G, n, H = (4 if mode == "forget" else 3), 3, 5
                a, c_prev, dh, dc = (torch.randn(n, w, generator=gen, dtype=dtype)
                                     for w in (G * H, H, H, H))
                peep = tuple(torch.randn(H, generator=gen, dtype=dtype)
                             if peephole and (k != 1 or mode == "forget") else None
                             for k in range(3))
                want = _reference(a, c_prev, dh, dc, mode, peep)
                gates = LSTMGates(lib, dtype, H, mode, *peep)
                c, tc, h, d_a = (torch.empty_like(t) for t in (c_prev, c_prev, c_prev, a))
                got_a, got_dc = a.clone(), dc.clone()
                grad_peep = torch.zeros(3, H, dtype=torch.float64)
                gates.forward(got_a, c_prev, c, tc, h)
                gates.backward(got_a, c_prev, c, tc, dh, got_dc, d_a, grad_peep)
                for x, y in zip((got_a, c, tc, h, d_a, got_dc, grad_peep), want):
                    if not torch.allclose(x, y, rtol=1e-4, atol=1e-5):
                        return False
    return True


__all__ = ["GRUGates", "LSTMGates", "SOURCE", "SRNTanh", "cache_dir", "compiler", "gru_gates",
           "library", "lstm_gates", "native_enabled", "reset", "set_native", "srn_tanh"]
