"""The GRU run along chains with a hand-written backward, in both formulations.

``torch.nn.GRU`` has no fused CPU kernel: a forward and backward at T = 100 costs ~10,000 ATen
calls. Here one autograd node covers the whole chain (as :mod:`.lstm_chain` does for the LSTM),
gate order r, z, n as ``torch.nn.GRU``:

* ``reset_after=True`` (PyTorch, cuDNN): per step one product ``gh = W_hh h + [0, 0, b_hn]``
  (3H columns) into a preallocated buffer, then r, z = sigma(gx_rz + gh_rz),
  n = tanh(gx_n + r * gh_n), h' = n + z (h - n) (``torch.lerp``), five or so pointwise kernels
  in place;
* ``reset_after=False`` (Cho et al. 2014): the reset gate acts before the product,
  n = tanh(gx_n + W_hn (r * h)), so a step takes two products, ``[r, z]`` rows on h and n rows on
  r * h.

``gx = W_ih x + b`` for every step comes from one product before the loop, with every bias that
is additive folded in (b_ih, b_hr, b_hz; and b_hn too when ``reset_after=False``). Backward, per
step: the pointwise chain rule into a preallocated gate-gradient buffer and one product (two for
``reset_after=False``) for the gradient reaching ``h_{t-1}``; the gradients of the weights, the
biases and x come out of large products over all steps after the loop. n's tanh may go through
the sigmoid (:func:`.pointwise.tanh_through_sigmoid`, measured per machine): its pre-activation
is doubled in the weights and tanh(a) = 2 sigmoid(2a) - 1.

Where a C compiler is at hand, a ``reset_after`` step's gate arithmetic is one compiled pass
instead (:mod:`.native`): forward after the product, and backward all of the chain rule but the
product (about a dozen kernels a step fewer).

Variable lengths in ``PackedSequence`` layout and both directions as :mod:`.lstm_chain`.
Numbers equal :func:`graphrnn.engine.run_chain` with ``gru_step`` (tests check it).

Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine
Translation", EMNLP 2014.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from .chain_rows import final_states, grad_by_previous, previous_state
from .native import gru_gates
from .pointwise import double_last_rows, sigmoid_to_tanh_, tanh_through_sigmoid
from .products import PreparedWeight, copy_budget, weight_grad
from .workspace import scratch


def _folded_bias(bias_ih: Tensor | None, bias_hh: Tensor | None, reset_after: bool):
    """``(b_x (3H,), b_n (3H,))``: what the input projection adds, and what each step's product
    adds (``[0, 0, b_hn]`` with ``reset_after``, where b_hn sits inside ``r * (...)``; else
    ``None``: every bias folds)."""
    if bias_ih is None:
        return None, None
    if not reset_after:
        return bias_ih + bias_hh, None
    size = bias_hh.size(0) // 3
    b_rz = torch.cat([bias_hh[:2 * size], bias_hh.new_zeros(size)])
    return bias_ih + b_rz, torch.cat([bias_hh.new_zeros(2 * size), bias_hh[2 * size:]])


class _GRUChain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight_ih, bias_ih, weight_hh, bias_hh, h0, batch_sizes, reverse,
                reset_after):
        H = h0.size(1)
        steps = len(batch_sizes)
        rows = batch_sizes[0] if steps else 0
        # the compiled step where it runs (native.py): one pass over a step's rows after its
        # product, tanh as such; torch.nn.GRU's formulation only
        native_gates = gru_gates(x.dtype, x.device, H) if reset_after else None
        if native_gates is not None:
            h0 = h0.contiguous()
        n_sig = native_gates is None and tanh_through_sigmoid(rows, H, 3, x.dtype, x.device)[0]
        b_x, b_n = _folded_bias(bias_ih, bias_hh, reset_after)
        w_ih, w_hh = weight_ih, weight_hh
        if n_sig:   # n's pre-activation doubled: sigmoid, then tanh(a) = 2 sigmoid(2a) - 1
            w_ih, w_hh = double_last_rows(weight_ih, H), double_last_rows(weight_hh, H)
            b_x, b_n = double_last_rows(b_x, H), double_last_rows(b_n, H)
        # gx for every step in one product; each step adds its recurrent part in place and the
        # buffer (N, 3H) ends up holding the gate activations [r, z, n]
        proj = PreparedWeight(w_ih, x.size(0))
        act = proj.addmm(b_x, x)
        h_all = act.new_empty(act.size(0), H)
        hs, acts = h_all.split(batch_sizes), act.split(batch_sizes)
        # per-step views of the gate blocks, made once (not a slice per step)
        a_rz, a_r, a_z, a_n = (act[:, c].split(batch_sizes) for c in
                               (slice(0, 2 * H), slice(0, H), slice(H, 2 * H), slice(2 * H, None)))
        if reset_after:   # gh = W_hh h + [0, 0, b_hn] (n, 3H) per step in one workspace; only
            # gh_n is kept (N, H), for the backward
            work = act.new_empty(rows, 3 * H)
            extra = act.new_empty(act.size(0), H)
            gh_n = extra.split(batch_sizes)
            w_step = PreparedWeight(w_hh, rows, in_place=True)
        else:             # r * h (N, H), the input of the n rows' product
            extra = act.new_empty(act.size(0), H)
            rhs = extra.split(batch_sizes)
            w_rz = PreparedWeight(w_hh[:2 * H], rows, in_place=True)
            w_n = PreparedWeight(w_hh[2 * H:], rows, in_place=True)
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        prev = None
        for t in order:
            h = previous_state(t, prev, batch_sizes, hs, h0)
            prev = t
            if reset_after:
                gh = work[:h.size(0)]
                w_step.addmm(b_n, h, out=gh)
                if native_gates is not None:
                    native_gates.forward(acts[t], gh, h, gh_n[t], hs[t])
                    continue
            r, z, n = a_r[t], a_z[t], a_n[t]
            if reset_after:
                a_rz[t].add_(gh[:, :2 * H]).sigmoid_()
                n.addcmul_(r, gh_n[t].copy_(gh[:, 2 * H:]))
            else:
                w_rz.addmm_(a_rz[t], h)
                a_rz[t].sigmoid_()
                w_n.addmm_(n, torch.mul(r, h, out=rhs[t]))
            if n_sig:
                sigmoid_to_tanh_(n.sigmoid_())
            else:
                n.tanh_()
            torch.lerp(n, h, z, out=hs[t])   # h' = n + z (h - n)
        if reset_after and n_sig:   # backward reads gh_n itself, not doubled
            extra.mul_(0.5)
        if steps:  # each chain's final state: its row at its last step (the first, reversed)
            h_n = final_states(h_all, batch_sizes, reverse)
        else:
            h_n = h0.clone()
        ctx.save_for_backward(x, weight_ih, weight_hh, act, extra, h_all, h0)
        ctx.has_bias = bias_ih is not None
        ctx.batch_sizes, ctx.reverse, ctx.reset_after = list(batch_sizes), reverse, reset_after
        ctx.native_gates = native_gates
        return h_all, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_hn):
        x, weight_ih, weight_hh, act, extra, h_all, h0 = ctx.saved_tensors
        batch_sizes, reverse, reset_after = ctx.batch_sizes, ctx.reverse, ctx.reset_after
        B, H, steps = h0.size(0), h0.size(1), len(batch_sizes)
        # Pre-activation gradients in one buffer, laid out so that both products' inputs are
        # column ranges of it (no copy after the loop): with reset_after (N, 4H) columns
        # [dgh_n, dr, dz, dn], where [dgh_n, dr, dz] multiplies W_hh with its rows taken in the
        # order [n, r, z] and [dr, dz, dn] = d gx; Cho et al. (N, 3H) [dr, dz, dn] = d gx.
        # (a scratch buffer, workspace.py: reused across calls, never returned)
        d_all = scratch("gru_chain.d_all", (act.size(0), (4 if reset_after else 3) * H), act)
        o = H if reset_after else 0          # where [dr, dz, dn] start
        d_r, d_z, d_n, d_rzs = (d_all[:, c].split(batch_sizes) for c in (
            slice(o, o + H), slice(o + H, o + 2 * H), slice(o + 2 * H, o + 3 * H),
            slice(o, o + 2 * H)))
        # Per-chain gradient w.r.t. the state a step produced; rows not active at a step keep
        # what they hold (the final-state gradient of a chain that ends later in this loop).
        dh = d_hn.clone() if d_hn is not None else act.new_zeros(B, H)
        if d_out is None:
            d_out = act.new_zeros(h_all.shape)
        ones = act.new_ones(B, H)
        d_outs, hs = d_out.split(batch_sizes), h_all.split(batch_sizes)
        s_rz, s_r, s_z, s_n = (act[:, c].split(batch_sizes) for c in
                               (slice(0, 2 * H), slice(0, H), slice(H, 2 * H), slice(2 * H, None)))
        native_gates = ctx.native_gates
        if native_gates is not None:   # the compiled step writes d_all's rows of a step
            acts, d_rows = act.split(batch_sizes), d_all.split(batch_sizes)
        if reset_after:
            gh_n = extra.split(batch_sizes)
            d_ghn, d_steps = d_all[:, :H].split(batch_sizes), d_all[:, :3 * H].split(batch_sizes)
            # dh_{t-1} += d_gh_t @ W_hh, its rows taken as [n, r, z] (the reordered copy only
            # is kept)
            w_back = PreparedWeight(torch.cat([weight_hh[2 * H:], weight_hh[:2 * H]]).t(), B,
                                    in_place=True)
        else:
            rh_grad = act.new_empty(B, H)                     # d(r * h) of one step
            w_back_rz = PreparedWeight(weight_hh[:2 * H].t(), B, in_place=True)
            w_back_n = PreparedWeight(weight_hh[2 * H:].t(), B, in_place=True)
        prefixes = {}   # n -> the first n rows of dh, ones and rh_grad
        order = list(range(steps) if reverse else range(steps - 1, -1, -1))
        out_added = False   # whether the previous step already added d_out[t]
        for k, t in enumerate(order):
            rows = batch_sizes[t]
            if rows not in prefixes:
                prefixes[rows] = (dh[:rows], ones[:rows],
                                  None if reset_after else rh_grad[:rows])
            dh_t, ones_t, drh_t = prefixes[rows]
            if not out_added:
                dh_t.add_(d_outs[t])
            # the step that ran before t (after it here), and the state t read
            nxt = order[k + 1] if k + 1 < steps else None
            h_prev = previous_state(t, nxt, batch_sizes, hs, h0)
            out_added = nxt is not None and batch_sizes[nxt] == rows
            if native_gates is not None:   # d_all's row block, and dh_t becomes dh z
                native_gates.backward(acts[t], gh_n[t], h_prev, dh_t, d_rows[t])
                if out_added:
                    dh_t.add_(d_outs[nxt])
                w_back.addmm_(dh_t, d_steps[t])
                continue
            r, z, n, dn, d_rz = s_r[t], s_z[t], s_n[t], d_n[t], d_rzs[t]
            # dn = dh (1 - z) (1 - n^2)
            torch.addcmul(dh_t, dh_t, z, value=-1, out=dn).mul_(
                torch.addcmul(ones_t, n, n, value=-1))
            if reset_after:
                torch.mul(dn, r, out=d_ghn[t])                  # d gh_n = dn r
                torch.mul(dn, gh_n[t], out=d_r[t])              # dr = dn gh_n
            else:
                w_back_n.mm(dn, out=drh_t)                      # d(r h) = dn W_hn
                torch.mul(drh_t, h_prev, out=d_r[t])            # dr = d(r h) h
            torch.sub(h_prev, n, out=d_z[t]).mul_(dh_t)         # dz = dh (h - n)
            s = s_rz[t]                                          # sigmoid' = s - s^2
            d_rz.mul_(torch.addcmul(s, s, s, value=-1))
            # dh_{t-1} = dh z (+ d(r h) r) + products, with the next step's output gradient
            # added here when that step has as many rows
            if out_added:
                torch.addcmul(d_outs[nxt], dh_t, z, out=dh_t)
            else:
                dh_t.mul_(z)
            if reset_after:
                w_back.addmm_(dh_t, d_steps[t])
            else:
                dh_t.addcmul_(drh_t, r)
                w_back_rz.addmm_(dh_t, d_rz)
        w_back = w_back_rz = w_back_n = None   # the reordered copies go (peak memory)
        d_gx = d_all[:, o:]
        sums = d_all.sum(0) if ctx.has_bias else None
        d_b_ih = d_b_hh = None
        # a quarter: this kernel already holds about what torch.nn.GRU peaks at (B=8, T=100:
        # 8.6 MB each), and copies of half of it took the peak to 1.45x torch's
        budget = copy_budget(act, extra, h_all, d_all, share=0.25)
        if reset_after:   # rows [n, r, z] back to [r, z, n]
            g = grad_by_previous(d_all[:, :3 * H], h0, h_all, batch_sizes, reverse, budget)
            d_w_hh = torch.cat([g[H:], g[:H]])
            del g   # before the products below allocate (peak memory)
            if sums is not None:
                d_b_ih, d_b_hh = sums[H:], torch.cat([sums[H:3 * H], sums[:H]])
        else:             # rows [r, z] multiply h, rows n multiply r * h
            d_w_hh = torch.cat([grad_by_previous(d_all[:, :2 * H], h0, h_all, batch_sizes,
                                                  reverse, budget),
                                weight_grad(d_all[:, 2 * H:], extra, budget)])
            if sums is not None:
                d_b_ih, d_b_hh = sums, sums.clone()   # every bias folded into gx
        d_x = PreparedWeight(weight_ih.t(), d_gx.size(0)).mm(d_gx) \
            if ctx.needs_input_grad[0] else None
        d_w_ih = weight_grad(d_gx, x, budget)
        return d_x, d_w_ih, d_b_ih, d_w_hh, d_b_hh, dh, None, None, None


def run_gru_chain(w, x: Tensor, batch_sizes: Sequence[int], state: tuple[Tensor],
                  reverse: bool = False) -> tuple[Tensor, tuple[Tensor]]:
    """:func:`graphrnn.engine.run_chain` for the GRU, one autograd node per chain run.

    Args:
        w: the cell's weights and options (a ``GRUCell``, or ``RNNBase.cell_weights(...)``):
            ``weight_ih`` (3H, I), ``weight_hh`` (3H, H), ``bias_ih``, ``bias_hh`` (3H,) or
            ``None``, ``reset_after``.
        x: (sum(batch_sizes), I) inputs, step-major as ``PackedSequence.data``. The input
            projection is applied inside the kernel (one product for all steps).
        batch_sizes, state, reverse: as :func:`graphrnn.engine.run_chain`; ``state = (h0,)``
            with h0 (batch_sizes[0], H).

    Returns:
        ``(output (sum(batch_sizes), H), (h_n,))``.
    """
    (h0,) = state
    out, h_n = _GRUChain.apply(x, w.weight_ih, w.bias_ih, w.weight_hh, w.bias_hh, h0,
                               [int(b) for b in batch_sizes], reverse, w.reset_after)
    return out, (h_n,)


__all__ = ["run_gru_chain"]
