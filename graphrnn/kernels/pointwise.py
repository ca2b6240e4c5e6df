"""Pointwise kernels for the hand-written recurrences (:mod:`graphrnn.kernels.lstm_chain`,
:mod:`graphrnn.kernels.tree_lstm`).

``tanh`` through the sigmoid, :math:`\\tanh x = 2\\sigma(2x) - 1`: on some CPU builds of PyTorch
``torch.tanh`` is several times slower than ``torch.sigmoid`` (2.13, AVX-512: 150,000 floats in
~195 us against ~33 us for the sigmoid and ~75 us for the three kernels of
:func:`tanh_via_sigmoid`; AVX2: 64x256 floats in ~57 us against ~24 us), and ``tanh_`` on a column
slice of a gate buffer is slower again. The two agree to float32 rounding (absolute error
< 2.4e-7). A gate block can also be put under one sigmoid with the others when its
pre-activation is doubled (the weights of that block scaled by 2), and :func:`sigmoid_to_tanh_`
turns the result into the tanh. Whether that pays depends on the build and the shape, so
:func:`tanh_through_sigmoid` measures it once per shape (the chain kernel asks it; the tree
kernel, whose levels are large, always takes the sigmoid).
"""
from __future__ import annotations

import torch
from torch import Tensor

from .timing import fastest, row_bucket

_choices: dict[tuple, tuple[bool, bool]] = {}


def tanh_via_sigmoid(x: Tensor, out: Tensor) -> Tensor:
    """``out = tanh(x)`` computed as ``2 * sigmoid(2 x) - 1``; ``out`` must not alias ``x``
    unless it is ``x`` itself."""
    return torch.mul(x, 2, out=out).sigmoid_().mul_(2).sub_(1)


def output_via_sigmoid(o: Tensor, c: Tensor, out: Tensor, u: Tensor) -> Tensor:
    """``out = o tanh(c)`` in three kernels with no tanh: ``u = sigmoid(-2 c)`` (kept in ``u``),
    then ``o - 2 o u`` (``tanh(c) = 1 - 2 u``); ``u`` and ``out`` must not alias ``o`` or
    ``c``."""
    torch.mul(c, -2, out=u).sigmoid_()
    return torch.addcmul(o, o, u, value=-2, out=out)


def double_last_rows(t: Tensor | None, size: int) -> Tensor | None:
    """A copy of ``t`` (gate blocks stacked along dim 0) with its last ``size`` rows doubled: the
    weights (or bias) of the gate that goes under the sigmoid as ``2 a`` (``None`` stays
    ``None``)."""
    if t is None:
        return None
    doubled = t.clone()
    doubled[-size:] *= 2
    return doubled


def sigmoid_to_tanh_(s: Tensor) -> Tensor:
    """In place, ``s = sigmoid(2 a)`` -> ``tanh(a) = 2 s - 1``."""
    return s.mul_(2).sub_(1)


def measure_tanh(rows: int, hidden: int, gates: int = 4, dtype: torch.dtype = torch.float32,
                 repeats: int = 5) -> dict[str, float]:
    """Seconds per call, on ``(rows, gates * hidden)`` gate buffers and ``(rows, hidden)`` cell
    states, of the two ways each tanh of an LSTM step can go:

    * ``gate_tanh``: sigmoid over the other gates' columns and ``tanh_`` over g's;
      ``gate_sigmoid``: one sigmoid over every column (g's pre-activation doubled) and
      :func:`sigmoid_to_tanh_` on g's;
    * the output ``h = o tanh(c)``: ``cell_tanh``: ``torch.tanh(c)`` and the product;
      ``cell_sigmoid``: :func:`output_via_sigmoid` (three kernels, no tanh).
    """
    gen = torch.Generator().manual_seed(0)
    act = torch.randn(rows, gates * hidden, generator=gen, dtype=dtype)
    c, out = torch.randn(rows, hidden, generator=gen, dtype=dtype), act.new_empty(rows, hidden)
    o, h = torch.rand(rows, hidden, generator=gen, dtype=dtype), act.new_empty(rows, hidden)
    g_at = (gates - 1) * hidden

    def gate_tanh():
        act[:, :g_at].sigmoid_()
        act[:, g_at:].tanh_()

    def gate_sigmoid():
        sigmoid_to_tanh_(act.sigmoid_()[:, g_at:])

    fns = {"gate_tanh": gate_tanh, "gate_sigmoid": gate_sigmoid,
           "cell_tanh": lambda: torch.mul(o, torch.tanh(c, out=out), out=h),
           "cell_sigmoid": lambda: output_via_sigmoid(o, c, out=h, u=out)}
    return fastest(fns, repeats)


def tanh_through_sigmoid(rows: int, hidden: int, gates: int, dtype: torch.dtype,
                         device: torch.device) -> tuple[bool, bool]:
    """``(gate, cell)``: whether an LSTM step should take the g gate's tanh and the cell's tanh
    through the sigmoid, measured once per process, shape (rows bucketed to powers of two), dtype
    and thread count (:func:`measure_tanh`; CUDA: no, its tanh is as fast as its sigmoid)."""
    if device.type != "cpu":
        return False, False
    rows = row_bucket(rows)
    key = (rows, hidden, gates, dtype, torch.get_num_threads())
    choice = _choices.get(key)
    if choice is None:
        with torch.no_grad():
            t = measure_tanh(rows, hidden, gates, dtype, repeats=7)
        choice = _choices[key] = (t["gate_sigmoid"] < t["gate_tanh"],
                                  t["cell_sigmoid"] < t["cell_tanh"])
    return choice


__all__ = ["double_last_rows", "measure_tanh", "output_via_sigmoid", "sigmoid_to_tanh_",
           "tanh_through_sigmoid", "tanh_via_sigmoid"]
