"""The LSTM family run along chains with a hand-written backward: the generic engine's fast lane.

On a CPU a chain LSTM is bound by per-step overhead, not arithmetic: with autograd recording
every gate op, a step costs ~20 small kernels forward and backward plus the bookkeeping of as many
graph nodes. Here one autograd node covers the whole chain:

* forward: per step, one ``addmm`` for the recurrent matmul and six in-place pointwise kernels
  writing into preallocated buffers (gates are reordered once to ``[i, f, o, g]`` so that one
  sigmoid and one tanh cover them);
* backward: per step, the pointwise chain rule into a preallocated ``dgates`` buffer and one
  matmul for the gradient flowing to ``h_{t-1}``; the gradients of ``weight_hh`` and of the
  projected inputs come out of single large matmuls over all steps after the loop.

It handles every variant of :mod:`graphrnn.cells.lstm` except ``proj_size`` (which goes through
the autograd loop), variable lengths in ``PackedSequence`` layout, and both directions.
Numbers equal those of :func:`graphrnn.engine.run_chain` with ``lstm_step`` (a test checks it).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


def gate_order(num_gates: int, hidden_size: int, device=None) -> Tensor:
    """Column permutation from torch's gate order (i, f, g, o | i, g, o) to (i, f, o, g | i, o, g)."""
    blocks = [0, 1, 3, 2] if num_gates == 4 else [0, 2, 1]
    return torch.cat([torch.arange(b * hidden_size, (b + 1) * hidden_size, device=device)
                      for b in blocks])


def _rows(batch_sizes: Sequence[int]) -> list[tuple[int, int]]:
    out, start = [], 0
    for b in batch_sizes:
        out.append((start, start + b))
        start += b
    return out


class _LSTMChain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, xw, weight_hh, h0, c0, weight_ci, weight_cf, weight_co, batch_sizes, reverse,
                variant):
        forget_gate, coupled = variant
        peephole = weight_ci is not None
        H = c0.size(1)
        four = forget_gate and not coupled
        sig = (3 if four else 2) * H             # sigmoid columns: i, f, o (or i, o)
        o_at = 2 * H if four else H
        rows = _rows(batch_sizes)
        total, B = xw.size(0), h0.size(0)
        act = torch.empty_like(xw)               # gate activations, [i, f, o, g]
        c_all = xw.new_empty(total, H)
        tc_all = xw.new_empty(total, H)          # tanh(c)
        h_all = xw.new_empty(total, H)
        h_prev_all = xw.new_empty(total, H)      # the h each row's step read (for dW_hh)
        c_prev_all = xw.new_empty(total, H)
        h_n, c_n = h0.new_empty(B, H), c0.new_empty(B, H)
        w_t = weight_hh.t()
        order = range(len(rows) - 1, -1, -1) if reverse else range(len(rows))
        h, c, prev = h0, c0, None
        for t in order:
            a, b = rows[t]
            n = b - a
            if prev is not None:
                pa, pb = rows[prev]
                have = pb - pa
                if n <= have:
                    h, c = h_all[pa:pa + n], c_all[pa:pa + n]
                else:  # reverse direction: chains whose last step is t join with their initial state
                    h = torch.cat([h_all[pa:pb], h0[have:n]])
                    c = torch.cat([c_all[pa:pb], c0[have:n]])
            else:
                h, c = h0[:n], c0[:n]
            h_prev_all[a:b].copy_(h)
            c_prev_all[a:b].copy_(c)
            gates = act[a:b]
            torch.addmm(xw[a:b], h, w_t, out=gates)
            if peephole:
                gates[:, :H].addcmul_(c, weight_ci)
                if four:
                    gates[:, H:2 * H].addcmul_(c, weight_cf)
                gates[:, :o_at].sigmoid_()
            else:
                gates[:, :sig].sigmoid_()
            g = gates[:, sig:].tanh_()
            i = gates[:, :H]
            c_new = c_all[a:b]
            if four:
                torch.mul(gates[:, H:2 * H], c, out=c_new).addcmul_(i, g)
            elif coupled:  # c' = (1 - i) c + i g = c + i (g - c)
                torch.sub(g, c, out=c_new).mul_(i).add_(c)
            else:          # no forget gate: c' = c + i g
                torch.addcmul(c, i, g, out=c_new)
            if peephole:
                o = gates[:, o_at:sig].addcmul_(c_new, weight_co).sigmoid_()
            else:
                o = gates[:, o_at:sig]
            torch.mul(o, torch.tanh(c_new, out=tc_all[a:b]), out=h_all[a:b])
            if not reverse:  # rows of chains that end here
                nxt = batch_sizes[t + 1] if t + 1 < len(rows) else 0
                if nxt < n:
                    h_n[nxt:n], c_n[nxt:n] = h_all[a + nxt:b], c_new[nxt:]
            prev = t
        if reverse and rows:
            a, b = rows[0]
            h_n.copy_(h_all[a:b])
            c_n.copy_(c_all[a:b])
        if not rows:
            h_n.copy_(h0)
            c_n.copy_(c0)
        ctx.save_for_backward(act, c_all, tc_all, h_prev_all, c_prev_all, weight_hh, weight_ci,
                              weight_cf, weight_co)
        ctx.batch_sizes, ctx.reverse, ctx.variant, ctx.B = list(batch_sizes), reverse, variant, B
        return h_all, h_n, c_n

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_hn, d_cn):
        act, c_all, tc_all, h_prev_all, c_prev_all, weight_hh, w_ci, w_cf, w_co = ctx.saved_tensors
        forget_gate, coupled = ctx.variant
        four = forget_gate and not coupled
        peephole = w_ci is not None
        batch_sizes, reverse, B = ctx.batch_sizes, ctx.reverse, ctx.B
        H = c_all.size(1)
        sig = (3 if four else 2) * H
        o_at = 2 * H if four else H
        rows = _rows(batch_sizes)
        d_pre = torch.empty_like(act)
        # Per-chain gradient w.r.t. the state a step produced; rows not active at a step keep
        # what they hold (the final-state gradient of a chain that ends later in this loop).
        dh = d_hn.clone() if d_hn is not None else act.new_zeros(B, H)
        dc = d_cn.clone() if d_cn is not None else act.new_zeros(B, H)
        if d_out is None:
            d_out = act.new_zeros(c_all.shape)
        tmp = act.new_empty(B, H)
        order = range(len(rows)) if reverse else range(len(rows) - 1, -1, -1)
        for t in order:
            a, b = rows[t]
            n = b - a
            s = act[a:b]
            i, o, g = s[:, :H], s[:, o_at:sig], s[:, sig:]
            tc, c_prev = tc_all[a:b], c_prev_all[a:b]
            dh_t, dc_t = dh[:n], dc[:n]
            dh_t.add_(d_out[a:b])
            dp = d_pre[a:b]
            # output gate, and the path h -> tanh(c) -> c
            torch.mul(dh_t, tc, out=dp[:, o_at:sig])
            k = torch.addcmul(torch.ones_like(tc), tc, tc, value=-1, out=tmp[:n]).mul_(o)
            dc_t.addcmul_(dh_t, k)
            dp[:, o_at:sig].mul_(o).mul_(1 - o)
            if peephole:
                dc_t.addcmul_(dp[:, o_at:sig], w_co)
            # input, forget and cell gates
            if coupled:
                torch.sub(g, c_prev, out=dp[:, :H]).mul_(dc_t)
            else:
                torch.mul(dc_t, g, out=dp[:, :H])
            if four:
                torch.mul(dc_t, c_prev, out=dp[:, H:2 * H])
            torch.mul(dc_t, i, out=dp[:, sig:]).mul_(torch.addcmul(torch.ones_like(g), g, g, value=-1))
            sgm = dp[:, :o_at]
            sgm.mul_(s[:, :o_at]).mul_(1 - s[:, :o_at])
            # gradient to c_{t-1}
            if four:
                dc_t.mul_(s[:, H:2 * H])
            elif coupled:
                dc_t.mul_(1 - i)
            if peephole:
                dc_t.addcmul_(dp[:, :H], w_ci)
                if four:
                    dc_t.addcmul_(dp[:, H:2 * H], w_cf)
            torch.mm(dp, weight_hh, out=dh_t)
        d_w_hh = d_pre.t().mm(h_prev_all)
        d_ci = d_cf = d_co = None
        if peephole:
            d_ci = (d_pre[:, :H] * c_prev_all).sum(0)
            d_cf = (d_pre[:, H:2 * H] * c_prev_all).sum(0) if four else None
            d_co = (d_pre[:, o_at:sig] * c_all).sum(0)
        return d_pre, d_w_hh, dh, dc, d_ci, d_cf, d_co, None, None, None


def run_lstm_chain(w, x: Tensor, batch_sizes: Sequence[int], state: tuple[Tensor, Tensor],
                   reverse: bool = False) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """:func:`graphrnn.engine.run_chain` for the LSTM family, one autograd node per chain run.

    Args:
        w: the cell's weights and options (an ``LSTMCell``, or ``RNNBase.cell_weights(...)``);
            ``w.weight_hr`` must be ``None``.
        x: (sum(batch_sizes), I) inputs, step-major as ``PackedSequence.data``. The input
            projection is applied here, with its rows already in the kernel's gate order.
        batch_sizes, state, reverse: as :func:`graphrnn.engine.run_chain`.

    Returns:
        ``(output (sum(batch_sizes), H), (h_n, c_n))``.
    """
    if w.weight_hr is not None:
        raise ValueError("run_lstm_chain does not handle proj_size; use graphrnn.engine.run_chain")
    perm = gate_order(w.num_gates, w.hidden_size, x.device)
    bias = (w.bias_ih + w.bias_hh).index_select(0, perm) if w.bias_ih is not None else None
    xw = torch.nn.functional.linear(x, w.weight_ih.index_select(0, perm), bias)
    h0, c0 = state
    out, h_n, c_n = _LSTMChain.apply(
        xw, w.weight_hh.index_select(0, perm), h0, c0,
        w.weight_ci if w.peephole else None,
        w.weight_cf if w.peephole and w.num_gates == 4 else None,
        w.weight_co if w.peephole else None,
        [int(b) for b in batch_sizes], reverse, (w.forget_gate, w.coupled))
    return out, (h_n, c_n)
