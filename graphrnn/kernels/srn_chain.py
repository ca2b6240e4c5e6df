"""The Elman SRN run along chains with a hand-written backward.

    h' = act(W_ih x + b_ih + W_hh h + b_hh),   act = tanh or relu

``torch.nn.RNN`` has no fused CPU kernel (a forward and backward at T = 100 is thousands of ATen
calls). Here one autograd node covers the whole chain, as :mod:`.lstm_chain` does for the LSTM:

* forward: ``W_ih x + b_ih + b_hh`` for every step in one product, into the (N, H) buffer that
  becomes the output; per step one ``addmm_`` of ``W_hh h`` into that step's rows and the
  activation in place. tanh may go through the sigmoid (:func:`.pointwise.tanh_through_sigmoid`,
  measured per machine): the weights are doubled once and tanh(a) = 2 sigmoid(2a) - 1;
* backward: per step the activation's derivative (``1 - h^2``, or ``h > 0``) into a preallocated
  buffer and one product for the gradient reaching ``h_{t-1}``; the gradients of the weights, the
  biases and x from large products after the loop.

Where a C compiler is at hand, tanh and its derivative are one compiled pass a step instead
(:mod:`.native`: one call for the one to three kernels above, forward and backward).

Variable lengths in ``PackedSequence`` layout and both directions as :mod:`.lstm_chain`.
Numbers equal :func:`graphrnn.engine.run_chain` with ``srn_step`` (tests check it).

Elman, "Finding structure in time", Cognitive Science 14 (1990).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from .chain_rows import (
    final_states,
    grads_by_input_and_previous,
    previous_state,
)
from .native import srn_tanh
from .pointwise import sigmoid_to_tanh_, tanh_through_sigmoid
from .products import PreparedWeight, copy_budget
from .workspace import scratch

NONLINEARITIES = ("tanh", "relu")


class _SRNChain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight_ih, bias, weight_hh, h0, batch_sizes, reverse, relu):
        H = h0.size(1)
        steps = len(batch_sizes)
        rows = batch_sizes[0] if steps else 0
        # tanh compiled where it runs (native.py), else one gate, so the "gate" measurement is
        # this step's: tanh_ against sigmoid_ + 2 kernels
        native_tanh = None if relu else srn_tanh(x.dtype, x.device)
        t_sig = not relu and native_tanh is None and \
            tanh_through_sigmoid(rows, H, 1, x.dtype, x.device)[0]
        w_ih, w_hh, b = weight_ih, weight_hh, bias
        if t_sig:   # pre-activation doubled: sigmoid, then tanh(a) = 2 sigmoid(2a) - 1
            w_ih, w_hh, b = 2 * weight_ih, 2 * weight_hh, None if bias is None else 2 * bias
        # every step's input projection in one product; each step adds W_hh h in place and
        # applies the activation, so the buffer (N, H) ends up holding the output
        proj = PreparedWeight(w_ih, x.size(0))
        h_all = proj.addmm(b, x)
        hs = h_all.split(batch_sizes)
        w_step = PreparedWeight(w_hh, rows, in_place=True)
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        prev = None
        for t in order:
            h_t = hs[t]
            w_step.addmm_(h_t, previous_state(t, prev, batch_sizes, hs, h0))
            if relu:
                h_t.relu_()
            elif native_tanh is not None:
                native_tanh.forward(h_t)
            elif t_sig:
                sigmoid_to_tanh_(h_t.sigmoid_())
            else:
                h_t.tanh_()
            prev = t
        if steps:  # each chain's final state: its row at its last step (the first, reversed)
            h_n = final_states(h_all, batch_sizes, reverse)
        else:
            h_n = h0.clone()
        ctx.save_for_backward(x, weight_ih, weight_hh, h_all, h0)
        ctx.has_bias = bias is not None
        ctx.batch_sizes, ctx.reverse, ctx.relu = list(batch_sizes), reverse, relu
        ctx.native_tanh = native_tanh
        return h_all, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_hn):
        x, weight_ih, weight_hh, h_all, h0 = ctx.saved_tensors
        batch_sizes, reverse, relu = ctx.batch_sizes, ctx.reverse, ctx.relu
        B, H, steps = h0.size(0), h0.size(1), len(batch_sizes)
        # gradient of each row's pre-activation (N, H), a scratch buffer (workspace.py)
        d_pre = scratch("srn_chain.d_pre", h_all.shape, h_all)
        # Per-chain gradient w.r.t. the state a step produced; rows not active at a step keep
        # what they hold (the final-state gradient of a chain that ends later in this loop).
        dh = d_hn.clone() if d_hn is not None else h_all.new_zeros(B, H)
        if d_out is None:
            d_out = h_all.new_zeros(h_all.shape)
        ones = h_all.new_ones(B, H)
        w_back = PreparedWeight(weight_hh.t(), B, in_place=True)   # dh_{t-1} = d_pre_t @ W_hh
        hs, d_pres, d_outs = (t.split(batch_sizes) for t in (h_all, d_pre, d_out))
        prefixes = {}   # n -> the first n rows of dh and ones
        order = list(range(steps) if reverse else range(steps - 1, -1, -1))
        out_added = False   # whether the previous step's product already added d_out[t]
        for k, t in enumerate(order):
            n = batch_sizes[t]
            if n not in prefixes:
                prefixes[n] = (dh[:n], ones[:n])
            dh_t, ones_t = prefixes[n]
            if not out_added:
                dh_t.add_(d_outs[t])
            h, dp = hs[t], d_pres[t]
            if relu:   # relu' from the output: h > 0
                torch.ops.aten.threshold_backward.grad_input(dh_t, h, 0, grad_input=dp)
            elif ctx.native_tanh is not None:
                ctx.native_tanh.backward(h, dh_t, dp)
            else:      # tanh' = 1 - h^2
                torch.addcmul(ones_t, h, h, value=-1, out=dp).mul_(dh_t)
            # gradient to h_{t-1}, with the next step's output gradient added in the same call
            # when that step has as many rows
            nxt = order[k + 1] if k + 1 < steps else None
            out_added = nxt is not None and batch_sizes[nxt] == n
            if out_added:
                w_back.addmm(d_outs[nxt], dp, out=dh_t)
            else:
                w_back.mm(dp, out=dh_t)
        w_back = None   # the reordered copy goes before the products below (peak memory)
        d_x = PreparedWeight(weight_ih.t(), d_pre.size(0)).mm(d_pre) \
            if ctx.needs_input_grad[0] else None
        # a quarter: torch.nn.RNN's peak is little more than its outputs (B=8, T=100: 2.35 MB),
        # and with half of this kernel's 1.6 MB the copies took it to 1.37x on one thread
        budget = copy_budget(h_all, d_pre, share=0.25)
        d_bias = d_pre.new_zeros(H) if ctx.has_bias else None   # from the product where it runs
        d_w_ih, d_w_hh = grads_by_input_and_previous(
            d_pre, x, h0, h_all, batch_sizes, reverse, "srn_chain.inputs",
            (ctx.needs_input_grad[1], ctx.needs_input_grad[3]), budget, d_bias)
        return d_x, d_w_ih, d_bias, d_w_hh, dh, None, None, None


def run_srn_chain(w, x: Tensor, batch_sizes: Sequence[int], state: tuple[Tensor],
                  reverse: bool = False) -> tuple[Tensor, tuple[Tensor]]:
    """:func:`graphrnn.engine.run_chain` for the Elman SRN, one autograd node per chain run.

    Args:
        w: the cell's weights and options (an ``SRNCell``, or ``RNNBase.cell_weights(...)``):
            ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H,) or ``None``,
            ``nonlinearity`` (``"tanh"`` or ``"relu"``).
        x: (sum(batch_sizes), I) inputs, step-major as ``PackedSequence.data``. The input
            projection is applied inside the kernel (one product for all steps).
        batch_sizes, state, reverse: as :func:`graphrnn.engine.run_chain`; ``state = (h0,)``
            with h0 (batch_sizes[0], H).

    Returns:
        ``(output (sum(batch_sizes), H), (h_n,))``.
    """
    if w.nonlinearity not in NONLINEARITIES:
        raise ValueError(f"run_srn_chain: nonlinearity must be one of {NONLINEARITIES}, got "
                         f"{w.nonlinearity!r}")
    (h0,) = state
    # both biases are additive: they fold into the projection (and get the same gradient)
    bias = w.bias_ih + w.bias_hh if w.bias_ih is not None else None
    out, h_n = _SRNChain.apply(x, w.weight_ih, bias, w.weight_hh, h0,
                               [int(b) for b in batch_sizes], reverse, w.nonlinearity == "relu")
    return out, (h_n,)


__all__ = ["run_srn_chain"]
