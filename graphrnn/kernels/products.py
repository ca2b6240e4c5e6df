"""Matrix products of the hand-written kernels through the fastest path this machine has.

A recurrent kernel multiplies by the same weight at every step: the state by ``W_hh`` forward,
the gate gradients by ``W_hh`` backward. On a CPU PyTorch reaches that product by more than one
path, and which is fastest depends on the processor, the BLAS build, the thread count and the
shape, not on anything a name table could know. Measured on two 2-core AMD EPYC machines with
torch 2.13: on one (AVX2, family 25) the paths are within ~15% on one thread but MKL's ``addmm``
does not use the second thread at batch 64 where oneDNN's runs 1.5x faster; on the other (AVX-512,
family 26) oneDNN with a prepacked weight runs 210 GFLOP/s against MKL's 90 on one thread. The
paths (all compute ``x @ W.t()``, ``W`` of shape ``(N, K)`` as ``nn.Linear`` holds it):

* ``"blas"``: ``torch.addmm`` with ``W.t()`` as a transposed view (BLAS's "NT" product; MKL on
  the CPU builds, cuBLAS on CUDA);
* ``"blas_nn"``: the same with ``W.t()`` copied contiguous once per run ("NN");
* ``"onednn"``: oneDNN's linear primitive with ``W`` reordered once per run into its blocked
  layout (``torch.ops.mkldnn._reorder_linear_weight``), the path ``torch.nn.LSTM``'s fused CPU
  kernel takes. CPU, float32 only.

:func:`product_path` times every path on random operands of the shape (a few runs each, a few
milliseconds in all) the first time a shape is met in a process, and remembers the winner per
``(rows bucket, K, N, dtype, device, threads)``; rows are bucketed to powers of two so that
batches of varying size do not measure again. ``GRAPHRNN_PRODUCT_PATH=blas|blas_nn|onednn`` (or
:func:`set_product_path`) forces a path, e.g. for bit-for-bit reproducible runs across machines.
The prepared copy is made per kernel call from the weight as it is then, so it is never stale
when an optimiser changes the weight.

The same choice serves the large products after the loop (input projections, the gradient
through ``W_ih``): :class:`PreparedWeight` with the total row count; and :func:`linear`, a
differentiable ``F.linear`` on that footing, serves the graph blocks' split first layers. The
weight gradients summed over all steps (``grad.t() @ inputs``) go through :func:`weight_grad`,
chosen the same way between BLAS's transposed product and oneDNN's inner-product
backward-weights primitive (per block of :data:`WEIGHT_GRAD_BLOCK` rows copied into oneDNN's
tensor type, which the measurement counts).

Size: the two families of routes (products, and the weight gradients summed over every step)
share one measuring and caching machinery (:func:`_choose`, the forced route), kept in one place.
"""
from __future__ import annotations

import os

import torch
from torch import Tensor

from .timing import fastest, row_bucket

PATHS = ("blas", "blas_nn", "onednn")
_ENV = "GRAPHRNN_PRODUCT_PATH"
_chosen: dict[tuple, str] = {}
_grad_chosen: dict[tuple, str] = {}     # the same for weight_grad
_forced: str | None = None
_onednn_ok: bool | None = None


def set_product_path(path: str | None) -> None:
    """Force one path for every product (``None``: measure per shape, the default; the
    environment variable ``GRAPHRNN_PRODUCT_PATH`` is read when nothing is forced here)."""
    global _forced
    if path is not None and path not in PATHS:
        raise ValueError(f"set_product_path: path must be one of {PATHS} or None, got {path!r}")
    _forced = path
    _chosen.clear()
    _grad_chosen.clear()


def _forced_path() -> str | None:
    if _forced is not None:
        return _forced
    path = os.environ.get(_ENV) or None
    if path is not None and path not in PATHS:
        raise ValueError(f"{_ENV}={path!r}: expected one of {PATHS}")
    return path


def _onednn_linear(x: Tensor, packed: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ W.t() (+ bias)`` by oneDNN's linear primitive, ``packed`` being ``W`` as
    ``_reorder_linear_weight`` made it (no fused activation)."""
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


def onednn_available() -> bool:
    """Whether this build has oneDNN's linear primitive with prepacked weights (checked once)."""
    global _onednn_ok
    if _onednn_ok is None:
        try:
            w = torch.ones(4, 3)
            packed = torch.ops.mkldnn._reorder_linear_weight(w, 2)
            out = _onednn_linear(torch.ones(2, 3), packed)
            _onednn_ok = bool(torch.backends.mkldnn.is_available()) and \
                torch.equal(out, torch.full((2, 4), 3.0))
        except (RuntimeError, AttributeError):
            _onednn_ok = False
    return _onednn_ok


def candidate_paths(dtype: torch.dtype, device: torch.device) -> tuple[str, ...]:
    """The paths that can run products of this dtype on this device."""
    if device.type != "cpu":
        return ("blas",)          # cuBLAS picks its own kernel; nothing to choose here
    if dtype == torch.float32 and onednn_available():
        return PATHS
    return ("blas", "blas_nn")


def measure_paths(rows: int, in_features: int, out_features: int,
                  dtype: torch.dtype = torch.float32, repeats: int = 5,
                  in_place: bool = False) -> dict[str, float]:
    """Seconds of one product (x (rows, in), W (out, in)) on the CPU by each available path,
    preparation excluded: the numbers :func:`product_path` compares. ``in_place``: accumulated
    into an existing tensor, ``out += x @ W.t()`` (a recurrent step); else a new tensor with a
    bias, ``b + x @ W.t()`` (a projection of every step: its fresh output's first touch counts,
    ~7 of MKL's 17 ms at 8,192 x 1,024 on the AVX-512 VM, where oneDNN's took 12)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(rows, in_features, generator=gen, dtype=dtype)
    w = torch.randn(out_features, in_features, generator=gen, dtype=dtype)
    out = torch.zeros(rows, out_features, dtype=dtype)
    bias = torch.randn(out_features, generator=gen, dtype=dtype)
    prepared = {path: PreparedWeight(w, rows, path=path)
                for path in candidate_paths(dtype, torch.device("cpu"))}
    if in_place:
        return fastest({path: lambda p=p: p.addmm_(out, x) for path, p in prepared.items()},
                       repeats)
    return fastest({path: lambda p=p: p.addmm(bias, x) for path, p in prepared.items()}, repeats)


def product_path(rows: int, in_features: int, out_features: int, dtype: torch.dtype,
                 device: torch.device | str = "cpu", in_place: bool = False) -> str:
    """The path for products ``x @ W.t()`` with ``x`` of up to ``rows`` rows, written into
    existing tensors (``in_place``) or as new ones: forced, or measured that way once per process
    and shape (see the module docstring)."""
    device = torch.device(device)
    # 25 rounds (fewer past fastest()'s 0.2 s budget): with 7, a bench run once kept a route for
    # the B=8 backward product that its own later micro-benchmark timed 30% slower than another
    return _choose(_chosen, candidate_paths(dtype, device), rows,
                   (in_features, out_features, in_place), dtype, device,
                   lambda bucket: measure_paths(bucket, in_features, out_features, dtype,
                                                repeats=25, in_place=in_place))


def _choose(cache: dict, paths: tuple[str, ...], rows: int, sizes: tuple[int, ...],
            dtype: torch.dtype, device: torch.device, measure) -> str:
    """The route among ``paths``: forced (``"blas"`` when the forced one is not among them), the
    only one, or ``pick(measure(bucket))`` measured once per ``(rows bucket, *sizes, dtype,
    device, threads)`` and kept in ``cache``."""
    forced = _forced_path()
    if forced is not None:
        return forced if forced in paths else "blas"
    if len(paths) == 1:
        return paths[0]
    key = (row_bucket(rows), *sizes, dtype, device.type, torch.get_num_threads())
    path = cache.get(key)
    if path is None:
        # measured at the bucket's size, with the grad mode off (as inside a kernel)
        with torch.no_grad():
            path = cache[key] = pick(measure(key[0]))
    return path


def pick(times: dict[str, float], margin: float = 0.05) -> str:
    """The path to take given measured seconds: the fastest, except that another path displaces
    the plain BLAS product (the first of :data:`PATHS` measured) only when it is faster by more
    than ``margin``, so that a measurement within its noise keeps the default."""
    best = next(p for p in PATHS if p in times)
    for path, seconds in times.items():
        if seconds < times[best] * (1 - margin):
            best = path
    return best


def chosen_paths() -> dict[tuple, str]:
    """What was chosen so far in this process: ``(rows bucket, K, N, in_place, dtype, device,
    threads)`` -> path (for benchmark tables)."""
    return dict(_chosen)


def chosen_weight_grad_paths() -> dict[tuple, str]:
    """What :func:`weight_grad_path` chose so far: ``(rows bucket, N, K, block, dtype, device,
    threads)`` -> path."""
    return dict(_grad_chosen)


class PreparedWeight:
    """A weight ``W`` (N, K) made ready for repeated products ``x @ W.t()`` with ``x`` of up to
    ``rows`` rows (fewer work too), by the path :func:`product_path` picks (or ``path``):
    measured for products into existing tensors with ``in_place`` (``addmm_``, ``out=``: a
    recurrent step), else for products making new tensors (a projection of every step).

    Make one per kernel call, from the weight as it is then; it holds the transposed or reordered
    copy the path needs (``W`` itself for ``"blas"``).
    """

    __slots__ = ("path", "_w")

    def __init__(self, weight: Tensor, rows: int, path: str | None = None,
                 in_place: bool = False):
        if weight.dim() != 2:
            raise ValueError(f"PreparedWeight: weight must be 2-D (N, K), got "
                             f"{tuple(weight.shape)}")
        self.path = path or product_path(rows, weight.size(1), weight.size(0), weight.dtype,
                                         weight.device, in_place)
        if self.path == "onednn":
            self._w = torch.ops.mkldnn._reorder_linear_weight(weight.detach(), max(int(rows), 1))
        elif self.path == "blas_nn":
            self._w = weight.detach().t().contiguous()
        else:
            self._w = weight.detach().t()

    def _onednn(self, x: Tensor) -> Tensor:
        return _onednn_linear(x, self._w)

    def mm(self, x: Tensor, out: Tensor | None = None) -> Tensor:
        """``x @ W.t()`` (into ``out`` when given)."""
        if self.path == "onednn":
            y = self._onednn(x)
            return y if out is None else out.copy_(y)
        return torch.mm(x, self._w) if out is None else torch.mm(x, self._w, out=out)

    def addmm_(self, out: Tensor, x: Tensor) -> Tensor:
        """In place, ``out += x @ W.t()``."""
        if self.path == "onednn":
            return out.add_(self._onednn(x))
        return out.addmm_(x, self._w)

    def addmm(self, base: Tensor | None, x: Tensor, out: Tensor | None = None) -> Tensor:
        """``base + x @ W.t()`` (``base`` broadcast as ``torch.addmm`` does, e.g. a bias;
        ``None``: the plain product; into ``out`` when given)."""
        if base is None:
            return self.mm(x, out=out)
        if self.path == "onednn":
            if out is None and base.dim() == 1 and base.dtype == x.dtype:   # a bias: fused
                return _onednn_linear(x, self._w, base)
            y = self._onednn(x)
            return y.add_(base) if out is None else torch.add(base, y, out=out)
        return torch.addmm(base, x, self._w) if out is None else \
            torch.addmm(base, x, self._w, out=out)


# Rows per call of weight_grad's oneDNN route. Each block of both operands is copied into oneDNN's
# own tensor type first, and a block of 1,024 rows keeps those copies near the cache: on the
# AVX-512 VM (2 threads, N = 1024, K = 384) 1,024-row blocks took 45.9 ms at R = 25,600 against
# 48.1 ms in blocks of 512 and 49.8 ms in blocks of 4,096, and 11.9 ms at R = 6,400.
WEIGHT_GRAD_BLOCK = 1024
MIN_WEIGHT_GRAD_BLOCK = 128


def weight_grad_block(row_bytes: int, copy_bytes: int | None = None,
                      fixed_bytes: int = 0) -> int:
    """Rows per block of weight_grad's oneDNN route when each row's copies take ``row_bytes``
    and each call ``fixed_bytes`` more (its result in oneDNN's type and the dense copy of it:
    measured, a (768, 256) gradient from 128 rows peaked at 2.0 MB against BLAS's 0.75):
    :data:`WEIGHT_GRAD_BLOCK`, or, so that all of it stays within ``copy_bytes``, the largest
    power of two that fits; 0 when not even :data:`MIN_WEIGHT_GRAD_BLOCK` rows fit (the route
    is then not taken)."""
    if copy_bytes is None:
        return WEIGHT_GRAD_BLOCK
    fits = (int(copy_bytes) - int(fixed_bytes)) // max(int(row_bytes), 1)
    if fits < MIN_WEIGHT_GRAD_BLOCK:
        return 0
    return min(WEIGHT_GRAD_BLOCK, 1 << (fits.bit_length() - 1))


def copy_budget(*held: Tensor, share: float = 0.5) -> int:
    """The bytes a kernel lets weight_grad's copies take at a time: ``share`` of what it holds
    for its backward already (``held``), so that the route adds at most that to its peak memory
    (at small sizes, e.g. B=8, full-size copies would be a large part of it: the SRN's peak went
    from 1.24x torch.nn.RNN's to 2.39x)."""
    return int(sum(t.numel() * t.element_size() for t in held) * share)


def _onednn_weight_grad(grad: Tensor, inputs: Tensor, block: int | None = None,
                        bias_out: Tensor | None = None) -> Tensor:
    """``grad.t() @ inputs`` by oneDNN's inner-product backward-weights primitive (the one
    ``nn.Linear`` on oneDNN tensors runs), per block of ``block`` rows (default
    :data:`WEIGHT_GRAD_BLOCK`). The primitive reads the operands as they lie (no transposed
    copy, which runs at ~5 GB/s here): on the AVX-512 VM, R = 800, N = 1024, K = 384, 1.4 ms
    against 2.2 ms for oneDNN's linear on transposed copies and 3.0 ms for MKL."""
    block = block or WEIGHT_GRAD_BLOCK
    like = grad.new_empty(0)   # the primitive takes the weight for its dtype and device only
    out = None
    for start in range(0, grad.size(0), block):
        stop = start + block
        y, b = torch.mkldnn_linear_backward_weights(grad[start:stop].to_mkldnn(),
                                                    inputs[start:stop].to_mkldnn(), like,
                                                    bias_out is not None)
        out = y if out is None else out.add_(y)
        if bias_out is not None:   # the column sums, taken while the block is in the cache
            bias_out.add_(b)
    return out


def _weight_grad_by(path: str, grad: Tensor, inputs: Tensor, block: int | None = None,
                    bias_out: Tensor | None = None) -> Tensor:
    if path == "onednn":
        return _onednn_weight_grad(grad, inputs, block, bias_out)
    if bias_out is not None:
        bias_out.add_(grad.sum(0))
    return grad.t().mm(inputs)


_onednn_weight_grad_ok: bool | None = None


def onednn_weight_grad_available() -> bool:
    """Whether this build has oneDNN's backward-weights primitive for dense inputs (checked
    once)."""
    global _onednn_weight_grad_ok
    if _onednn_weight_grad_ok is None:
        try:
            g, x = torch.ones(2, 4), torch.ones(2, 3)
            _onednn_weight_grad_ok = bool(torch.backends.mkldnn.is_available()) and \
                torch.equal(_onednn_weight_grad(g, x), torch.full((4, 3), 2.0))
        except (RuntimeError, AttributeError, NotImplementedError):
            _onednn_weight_grad_ok = False
    return _onednn_weight_grad_ok


def _weight_grad_paths(dtype: torch.dtype, device: torch.device) -> tuple[str, ...]:
    # "blas_nn" has no transposed-product variant of its own: it would be "blas" again
    if device.type == "cpu" and dtype == torch.float32 and onednn_weight_grad_available():
        return ("blas", "onednn")
    return ("blas",)


def measure_weight_grad_paths(rows: int, out_features: int, in_features: int,
                              dtype: torch.dtype = torch.float32, repeats: int = 5,
                              block: int | None = None) -> dict[str, float]:
    """Seconds of one :func:`weight_grad` (``grad`` (rows, out), ``inputs`` (rows, in)) by each
    path available on the CPU, the copies a path makes included (oneDNN's in blocks of
    ``block`` rows, default :data:`WEIGHT_GRAD_BLOCK`)."""
    gen = torch.Generator().manual_seed(0)
    grad = torch.randn(rows, out_features, generator=gen, dtype=dtype)
    inputs = torch.randn(rows, in_features, generator=gen, dtype=dtype)
    return fastest({p: lambda p=p: _weight_grad_by(p, grad, inputs, block)
                    for p in _weight_grad_paths(dtype, torch.device("cpu"))}, repeats)


def weight_grad_path(rows: int, out_features: int, in_features: int, dtype: torch.dtype,
                     device: torch.device | str = "cpu", block: int | None = None) -> str:
    """The path of :func:`weight_grad` for these sizes (oneDNN's blocks of ``block`` rows):
    ``"blas"`` or ``"onednn"``, forced (as for :func:`product_path`; ``"blas_nn"`` means
    ``"blas"`` here) or measured once per process and shape."""
    device = torch.device(device)
    block = block or WEIGHT_GRAD_BLOCK
    return _choose(_grad_chosen, _weight_grad_paths(dtype, device), rows,
                   (out_features, in_features, block), dtype, device,
                   lambda bucket: measure_weight_grad_paths(bucket, out_features, in_features,
                                                            dtype, block=block))


def weight_grad(grad: Tensor, inputs: Tensor, copy_bytes: int | None = None,
                bias_out: Tensor | None = None) -> Tensor:
    """``grad.t() @ inputs``, (N, K): the gradient of the weight ``W`` (N, K) of ``y = x @ W.t()``
    summed over the R rows of ``grad`` (R, N) and of the inputs ``x`` (R, K) -- the products
    after a kernel's loop, which sum over every step of every chain. On a CPU whose oneDNN beats
    its BLAS (the module docstring) oneDNN's backward-weights primitive computes it in blocks of
    rows, each block copied into oneDNN's tensor type: :data:`WEIGHT_GRAD_BLOCK` rows, or fewer
    so that the memory the route adds stays within ``copy_bytes`` (:func:`weight_grad_block`;
    BLAS where even the smallest block would not); :func:`weight_grad_path` chooses by
    measuring, those copies included.

    ``bias_out`` (N,), when given, gets the bias's gradient, ``grad.sum(0)``, added to it
    (oneDNN's route takes it in the same pass over ``grad``: at R = 6,400, N = 1,024 a separate
    sum read 26 MB for ~1 ms)."""
    if grad.dim() != 2 or inputs.dim() != 2 or grad.size(0) != inputs.size(0):
        raise ValueError(f"weight_grad: expected grad (R, N) and inputs (R, K), got "
                         f"{tuple(grad.shape)} and {tuple(inputs.shape)}")
    if grad.size(0) == 0 or grad.dtype != inputs.dtype:
        return _weight_grad_by("blas", grad, inputs, bias_out=bias_out)
    size = grad.element_size()
    block = weight_grad_block((grad.size(1) + inputs.size(1)) * size, copy_bytes,
                              2 * grad.size(1) * inputs.size(1) * size)
    if not block:   # the oneDNN route's memory would not fit the caller's budget
        return _weight_grad_by("blas", grad, inputs, bias_out=bias_out)
    path = weight_grad_path(grad.size(0), grad.size(1), inputs.size(1), grad.dtype, grad.device,
                            block)
    return _weight_grad_by(path, grad, inputs, block, bias_out)


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return PreparedWeight(weight, x.size(0)).addmm(bias, x)

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:     # dx = dy W: the same kind of product, W^T prepared
            grad_x = PreparedWeight(weight.t(), grad.size(0)).mm(grad)
        if ctx.needs_input_grad[1]:
            grad_w = weight_grad(grad, x)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum(0)
        return grad_x, grad_w, grad_b


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``F.linear`` with, for 2-D ``x`` (rows, K), the products (forward and the input
    gradient) through the path measured fastest here; differentiable once (as the kernels are).
    Other shapes go to ``F.linear``."""
    if x.dim() != 2 or x.size(0) == 0:
        return torch.nn.functional.linear(x, weight, bias)
    if not torch.is_grad_enabled() or not (x.requires_grad or weight.requires_grad or
                                           (bias is not None and bias.requires_grad)):
        return PreparedWeight(weight, x.size(0)).addmm(bias, x)
    return _Linear.apply(x, weight, bias)


__all__ = ["PATHS", "PreparedWeight", "candidate_paths", "chosen_paths",
           "chosen_weight_grad_paths", "copy_budget", "measure_paths",
           "measure_weight_grad_paths", "linear", "onednn_available",
           "onednn_weight_grad_available", "pick", "product_path", "set_product_path",
           "weight_grad", "weight_grad_block", "weight_grad_path"]
