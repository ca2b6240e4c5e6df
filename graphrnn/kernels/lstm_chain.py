"""The LSTM family run along chains with a hand-written backward: the generic engine's fast lane.

On a CPU a chain LSTM is bound by per-step overhead, not arithmetic: with autograd recording
every gate op, a step costs ~20 small kernels forward and backward plus the bookkeeping of as many
graph nodes. Here one autograd node covers the whole chain:

* forward: per step, one product for the recurrent matmul and five to seven in-place pointwise
  kernels writing into preallocated buffers (gates are reordered once to ``[o, i, f, g]`` so
  that the sigmoid gates, and i, f, g, are contiguous; where it measures faster, g's
  pre-activation is scaled by -2 and goes under the same sigmoid, tanh(a) = 1 - 2 sigmoid(-2a),
  and g is kept as that sigmoid s: with a forget gate c' = (i + f c) - 2 i s, two kernels);
* backward: the local derivatives of every gate (``s - s^2`` of a sigmoid, ``1 - g^2``, and
  the factors they meet in the chain rule: ``tanh(c)``, ``g``, ``c_{t-1}``, ``i``,
  ``o (1 - tanh(c)^2)``, and the peepholes' terms, folded into what carries dc to
  ``c_{t-1}`` and what carries dh to dc) do not depend on the recursion, so they are computed
  for all steps at once before the loop, in a few large kernels (into reused scratch buffers,
  :mod:`.workspace`); per step then remain four pointwise kernels (the gradients of o, of c, of
  i/f/g in one broadcast product, of ``c_{t-1}``) and one matmul for the gradient flowing to
  ``h_{t-1}``, whatever the variant; the gradients of the inputs and of ``weight_ih`` and
  ``weight_hh`` come out of large products over all steps after the loop (the two weights' in
  one, :func:`grads_by_input_and_previous`).

Where a C compiler is at hand, each step's gate arithmetic (forward, and backward without the
precomputed factors) is instead one pass of a compiled step (:mod:`.native`), with tanh as such:
at batch 8 that is ~7 us a step against ~38 for the kernels above.

It handles every variant of :mod:`graphrnn.cells.lstm` except ``proj_size`` (which goes through
the autograd loop), variable lengths in ``PackedSequence`` layout, and both directions.
Numbers equal those of :func:`graphrnn.engine.run_chain` with ``lstm_step`` (a test checks it).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from .chain_rows import (
    block_rows,
    final_states,
    grads_by_input_and_previous,
    previous_blocks,
    previous_state,
)
from .native import lstm_gates
from .pointwise import output_via_sigmoid, tanh_through_sigmoid
from .products import PreparedWeight
from .workspace import scratch


def gate_order(num_gates: int, hidden_size: int, device=None) -> Tensor:
    """Row permutation from torch's gate order (i, f, g, o | i, g, o) to the kernel's
    (o, i, f, g | o, i, g): the sigmoid gates first, and i, f, g contiguous."""
    return block_rows([3, 0, 1, 2] if num_gates == 4 else [2, 0, 1], hidden_size, device)


_orders: dict[tuple, tuple[Tensor, Tensor]] = {}


def _gate_orders(num_gates: int, hidden_size: int, device) -> tuple[Tensor, Tensor]:
    """:func:`gate_order` and its inverse (kernel order back to torch's), made once per shape
    and device."""
    key = (num_gates, hidden_size, str(device))
    orders = _orders.get(key)
    if orders is None:
        perm = gate_order(num_gates, hidden_size, device)
        orders = _orders[key] = (perm, torch.argsort(perm))
    return orders


def _mode(forget_gate: bool, coupled: bool) -> str:
    """The variant as :class:`~graphrnn.kernels.native.LSTMGates` names it."""
    return "coupled" if coupled else ("forget" if forget_gate else "no_forget")


def _carry_to_previous(act: Tensor, d_pre: Tensor, size: int, four: bool, coupled: bool,
                       w_ci: Tensor | None, w_cf: Tensor | None) -> Tensor | None:
    """What the gradient of each step's c is multiplied by to reach c_{t-1}, every row at once
    (N, H), or ``None`` when that is 1 (no forget gate, no peepholes): ``f``; coupled
    (c = c_prev + i (g - c_prev)): ``1 - i``; no forget gate: 1; plus, with peepholes,
    ``L_i w_ci (+ L_f w_cf)``, where ``L`` are the local factors of i's and f's pre-activations
    (``d_pre`` before the loop), since dc_{t-1} also gathers di w_ci and df w_cf."""
    i, f = act[:, size:2 * size], act[:, 2 * size:3 * size]
    if w_ci is None:
        return f if four else (1 - i if coupled else None)
    carry = scratch("lstm_chain.carry", i.shape, act)
    if four:
        torch.addcmul(f, d_pre[:, 2 * size:3 * size], w_cf, out=carry)
    elif coupled:
        torch.sub(1, i, out=carry)
    else:
        carry.fill_(1)
    return carry.addcmul_(d_pre[:, size:2 * size], w_ci)


def _gate_views(t: Tensor, size: int, four: bool, batch_sizes: Sequence[int],
                wanted: Sequence[bool]):
    """Per-step views of the gate blocks of ``t`` (rows in packed layout, columns
    ``[o, i, f, g]`` or ``[o, i, g]``): ``(o, i, f, g, o..f, i..f, i..g)``, each a tuple over
    steps, made where ``wanted`` (seven flags) says so (a split into T views costs ~35 us), else
    ``None`` (``f`` is ``None`` without a forget gate)."""
    g_at = (3 if four else 2) * size
    cols = [(0, size), (size, 2 * size), (2 * size, 3 * size) if four else None,
            (g_at, g_at + size), (0, g_at), (size, g_at), (size, g_at + size)]
    return tuple(None if c is None or not want else t[:, c[0]:c[1]].split(batch_sizes)
                 for c, want in zip(cols, wanted))


def _local_factors(act: Tensor, tc_all: Tensor, prev_c, H: int, four: bool, coupled: bool,
                   g_sig: bool, c_sig: bool, w_ci: Tensor | None, w_cf: Tensor | None,
                   w_co: Tensor | None) -> tuple[Tensor, Tensor, Tensor | None]:
    """What the PyTorch backward loop multiplies by, every step at once: ``(d_pre, through_c,
    carries)``, see below (``prev_c``: :func:`previous_blocks` of the cell states)."""
    g_at = (3 if four else 2) * H
    # d_pre starts as the local factor of each gate's pre-activation gradient, for all steps:
    #   o: tanh(c) o(1-o);  i: g i(1-i) (coupled: (g - c_prev) i(1-i));  f: c_prev f(1-f);
    #   g: i (1 - g^2)
    # so that per step it only meets dh (for o) or dc (for i, f, g). dc itself gathers
    # dh * o (1 - tanh(c)^2), the factor kept in `through_c`. Both are scratch buffers
    # (workspace.py: reused across calls, no page faults), never returned.
    d_pre = scratch("lstm_chain.d_pre", act.shape, act)
    s_all, i_all, g_all = act[:, :g_at], act[:, H:2 * H], act[:, g_at:]
    if g_sig:   # the forward kept s = sigmoid(-2a) for g: tanh(a) = 1 - 2 s
        g_all = torch.mul(g_all, -2, out=scratch("lstm_chain.g", g_all.shape, act)).add_(1)
    if c_sig:   # and u = sigmoid(-2c) for the cell: tanh(c) = 1 - 2 u
        tc_all = torch.mul(tc_all, -2, out=scratch("lstm_chain.tc", tc_all.shape, act)).add_(1)
    one = act.new_ones(())
    torch.addcmul(s_all, s_all, s_all, value=-1, out=d_pre[:, :g_at])
    torch.addcmul(one, g_all, g_all, value=-1, out=d_pre[:, g_at:]).mul_(i_all)
    d_pre[:, :H].mul_(tc_all)
    if coupled:
        for rows, c_prev in prev_c:
            d_pre[rows, H:2 * H].mul_(g_all[rows] - c_prev)
    else:
        d_pre[:, H:2 * H].mul_(g_all)
    if four:
        for rows, c_prev in prev_c:
            d_pre[rows, 2 * H:3 * H].mul_(c_prev)
    through_c = torch.addcmul(one, tc_all, tc_all, value=-1,
                              out=scratch("lstm_chain.through_c", tc_all.shape, tc_all))
    through_c.mul_(act[:, :H])
    if w_co is not None:   # c_t reaches o's pre-activation too: dc += dh L_o w_co, L_o: d_pre's o
        through_c.addcmul_(d_pre[:, :H], w_co)
    return d_pre, through_c, _carry_to_previous(act, d_pre, H, four, coupled, w_ci, w_cf)


class _LSTMChain(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight_ih, bias_ih, bias_hh, weight_hh, h0, c0, weight_ci, weight_cf,
                weight_co, batch_sizes, reverse, variant):
        forget_gate, coupled = variant
        peephole = weight_ci is not None
        H = c0.size(1)
        four = forget_gate and not coupled
        steps = len(batch_sizes)
        rows = batch_sizes[0] if steps else 0
        gates = weight_hh.size(0) // H
        # the compiled step where it runs (native.py): one pass over a step's rows, tanh as such
        native_gates = lstm_gates(x.dtype, x.device, H, _mode(forget_gate, coupled), weight_ci,
                                  weight_cf, weight_co)
        g_sig, c_sig = (False, False) if native_gates is not None else \
            tanh_through_sigmoid(rows, H, gates, x.dtype, x.device)
        if native_gates is not None:
            c0 = c0.contiguous()
        # the weights in the kernel's gate order (permuted here, not by autograd ops around the
        # call: the backward returns gradients in torch's order with one gather)
        perm, _ = _gate_orders(gates, H, x.device)
        w_ih, w_hh = weight_ih.index_select(0, perm), weight_hh.index_select(0, perm)
        b = torch.add(bias_ih, bias_hh).index_select(0, perm) if bias_ih is not None else None
        if g_sig:   # g's pre-activation times -2: one sigmoid, tanh(a) = 1 - 2 sigmoid(-2a)
            for t in (w_ih, w_hh, b):
                if t is not None:
                    t[-H:] *= -2
        # The input projection of every step, in one matmul; each step then adds its recurrent
        # matmul in place, and the buffer ends up holding the gate activations [o, i, (f,) g].
        proj = PreparedWeight(w_ih, x.size(0))
        act = proj.addmm(b, x)
        c_all = act.new_empty(act.size(0), H)
        tc_all = act.new_empty(act.size(0), H)   # tanh(c), or u = sigmoid(-2c) with c_sig
        h_all = act.new_empty(act.size(0), H)
        acts, cs, tcs, hs = (t.split(batch_sizes) for t in (act, c_all, tc_all, h_all))
        # per-step views of the gate blocks, made in one call each (not a slice per step)
        # the views this variant's loop reads: o, i, f, g always; o..f when the sigmoid stops
        # before g; i..f with peepholes (and a forget gate); i..g with peepholes and g_sig
        go, gi, gf, gg, gsig, gif, gifg = _gate_views(
            act, H, four, batch_sizes, (False,) * 7 if native_gates is not None else
            (True, True, True, True, not g_sig and not peephole, peephole and (four or not g_sig),
             peephole and g_sig))
        w_step = PreparedWeight(w_hh, rows, in_place=True)
        if peephole and four:   # i's and f's peepholes, (2, H): one broadcast product per step
            w_if = torch.stack([weight_ci, weight_cf])
        # With g under the sigmoid, g stays in the buffer as s = sigmoid(-2a), tanh(a) = 1 - 2s:
        # the cell updates below take i g = i - 2 i s (no conversion kernels), and the backward
        # makes tanh(a) from s.
        # equal lengths: a step reads the previous step's states as they are (no prefix rows)
        ragged = steps > 0 and batch_sizes[0] != batch_sizes[-1]
        order = range(steps - 1, -1, -1) if reverse else range(steps)

        def torch_gates(t: int, c: Tensor) -> None:
            """Step t's gate arithmetic by PyTorch's kernels, after its recurrent product."""
            if peephole:   # c reaches i and f before their sigmoid (o's waits for c')
                if four:   # (n, 2, H) += (n, 1, H) * (2, H)
                    gif[t].view(-1, 2, H).addcmul_(c.unsqueeze(1), w_if)
                else:
                    gi[t].addcmul_(c, weight_ci)
                if g_sig:   # i, f and g under one sigmoid
                    gifg[t].sigmoid_()
                else:
                    gif[t].sigmoid_()
                    gg[t].tanh_()
            elif g_sig:
                acts[t].sigmoid_()
            else:
                gsig[t].sigmoid_()
                gg[t].tanh_()
            g, i, c_new = gg[t], gi[t], cs[t]
            if g_sig:      # g is s: i g = i - 2 i s
                if four:       # c' = f c + i g = (i + f c) - 2 i s
                    torch.addcmul(i, gf[t], c, out=c_new).addcmul_(i, g, value=-2)
                elif coupled:  # c' = (1 - i) c + i g = (i - i c + c) - 2 i s
                    torch.addcmul(i, i, c, value=-1, out=c_new).add_(c).addcmul_(i, g, value=-2)
                else:          # no forget gate: c' = c + i g = (c + i) - 2 i s
                    torch.add(c, i, out=c_new).addcmul_(i, g, value=-2)
            elif four:
                torch.mul(gf[t], c, out=c_new).addcmul_(i, g)
            elif coupled:  # c' = (1 - i) c + i g = c + i (g - c)
                torch.sub(g, c, out=c_new).mul_(i).add_(c)
            else:          # no forget gate: c' = c + i g
                torch.addcmul(c, i, g, out=c_new)
            o = go[t]
            if peephole:
                o.addcmul_(c_new, weight_co).sigmoid_()
            if c_sig:   # tcs keeps u = sigmoid(-2c), tanh(c) = 1 - 2u (the backward converts)
                output_via_sigmoid(o, c_new, out=hs[t], u=tcs[t])
            else:
                torch.mul(o, torch.tanh(c_new, out=tcs[t]), out=hs[t])

        prev, h, c = None, h0, c0
        for t in order:
            if ragged:
                h = previous_state(t, prev, batch_sizes, hs, h0)
                c = previous_state(t, prev, batch_sizes, cs, c0)
            w_step.addmm_(acts[t], h)
            if native_gates is not None:
                native_gates.forward(acts[t], c, cs[t], tcs[t], hs[t])
            else:
                torch_gates(t, c)
            if ragged:
                prev = t
            else:
                h, c = hs[t], cs[t]
        if steps:  # each chain's final state: its row at its last step (the first, reversed)
            h_n, c_n = (final_states(t, batch_sizes, reverse) for t in (h_all, c_all))
        else:
            h_n, c_n = h0.clone(), c0.clone()
        ctx.save_for_backward(x, weight_ih, act, c_all, tc_all, h_all, h0, c0, weight_hh, weight_ci,
                              weight_cf, weight_co)
        ctx.has_bias = bias_ih is not None
        ctx.batch_sizes, ctx.reverse, ctx.variant = list(batch_sizes), reverse, variant
        ctx.g_sig, ctx.c_sig, ctx.native_gates = g_sig, c_sig, native_gates
        return h_all, h_n, c_n

    @staticmethod
    @once_differentiable
    def backward(ctx, d_out, d_hn, d_cn):
        x, weight_ih, act, c_all, tc_all, h_all, h0, c0, weight_hh, w_ci, w_cf, w_co = \
            ctx.saved_tensors
        forget_gate, coupled = ctx.variant
        four = forget_gate and not coupled
        peephole = w_ci is not None
        batch_sizes, reverse = ctx.batch_sizes, ctx.reverse
        B, H, steps = h0.size(0), c_all.size(1), len(batch_sizes)
        perm, inverse = _gate_orders(weight_hh.size(0) // H, H, act.device)
        native_gates = ctx.native_gates
        if native_gates is not None:   # filled step by step by the compiled backward
            d_pre = scratch("lstm_chain.d_pre", act.shape, act)
            acts, cs, tcs = (t.split(batch_sizes) for t in (act, c_all, tc_all))
            # the peepholes' gradients, summed over every row in the same pass (in double)
            grad_peep = act.new_zeros(3, H, dtype=torch.float64) if peephole else None
        else:
            prev_c = previous_blocks(c0, c_all, batch_sizes, reverse)
            d_pre, through_c, carries = _local_factors(
                act, tc_all, prev_c, H, four, coupled, ctx.g_sig, ctx.c_sig, w_ci, w_cf, w_co)
            throughs = through_c.split(batch_sizes)
            carries = carries.split(batch_sizes) if carries is not None else None
            do = d_pre[:, :H].split(batch_sizes)
            # i, (f,) g of each step as (n, gates, H), for one broadcast product with dc (n, 1, H)
            difg = d_pre.view(d_pre.size(0), -1, H)[:, 1:].split(batch_sizes)
        # Per-chain gradient w.r.t. the state a step produced; rows not active at a step keep
        # what they hold (the final-state gradient of a chain that ends later in this loop).
        dh = d_hn.clone() if d_hn is not None else act.new_zeros(B, H)
        dc = d_cn.clone() if d_cn is not None else act.new_zeros(B, H)
        if d_out is None:
            d_out = act.new_zeros(c_all.shape)
        # dh_{t-1} = d_pre_t W_hh
        w_step = PreparedWeight(weight_hh.index_select(0, perm).t(), B, in_place=True)
        d_pres, d_outs = d_pre.split(batch_sizes), d_out.split(batch_sizes)
        prefixes = {}   # n -> the first n rows of dh and dc
        order = list(range(steps) if reverse else range(steps - 1, -1, -1))
        out_added = False   # whether the previous step's matmul already added d_out[t]
        for k, t in enumerate(order):
            n = batch_sizes[t]
            if n not in prefixes:
                prefixes[n] = (dh[:n], dc[:n], dc[:n].unsqueeze(1))
            dh_t, dc_t, dc_gates = prefixes[n]
            if not out_added:
                dh_t.add_(d_outs[t])
            nxt = order[k + 1] if k + 1 < steps else None   # the step that ran before t
            if native_gates is not None:   # with c_{t-1}, the state t read
                native_gates.backward(acts[t], previous_state(t, nxt, batch_sizes, cs, c0), cs[t],
                                      tcs[t], dh_t, dc_t, d_pres[t], grad_peep)
            else:
                do[t].mul_(dh_t)
                dc_t.addcmul_(dh_t, throughs[t])
                difg[t].mul_(dc_gates)
                if carries is not None:   # gradient to c_{t-1}
                    dc_t.mul_(carries[t])
            # gradient to h_{t-1}, with the next step's output gradient added in the same call
            # when that step has as many rows
            out_added = nxt is not None and batch_sizes[nxt] == n
            if out_added:
                w_step.addmm(d_outs[nxt], d_pres[t], out=dh_t)
            else:
                w_step.mm(d_pres[t], out=dh_t)
        w_step = None   # the reordered copy goes before the products below (peak memory)
        d_ci = d_cf = d_co = None
        if peephole and native_gates is not None:
            d_ci, d_cf, d_co = grad_peep.to(act.dtype).unbind()
            d_cf = d_cf if four else None
        elif peephole:
            # i's and f's together, (n, gates, H) * (n, 1, H) summed over rows; the products in
            # a scratch buffer (a fresh one of this size faults in its pages on every call)
            gates = 2 if four else 1
            d_cif = act.new_zeros(gates, H)
            for rows, c_prev in prev_c:
                d_gates = d_pre[rows, H:(1 + gates) * H].view(-1, gates, H)
                d_cif += torch.mul(d_gates, c_prev.unsqueeze(1), out=scratch(
                    "lstm_chain.peephole", d_gates.shape, act)).sum(0)
            d_ci, d_cf = d_cif[0].clone(), d_cif[1].clone() if four else None
            d_co = torch.mul(d_pre[:, :H], c_all,
                             out=scratch("lstm_chain.peephole", c_all.shape, act)).sum(0)
        d_x = PreparedWeight(weight_ih.index_select(0, perm).t(), d_pre.size(0)).mm(d_pre) \
            if ctx.needs_input_grad[0] else None
        # the biases' gradient (both met the same sum) from the weights' product where it runs;
        # no cap on its copies (copy_bytes): this kernel holds ~0.65x what torch.nn.LSTM peaks
        # at (B=8 and 64, T=100), and blocks smaller than the default cost B=8 ~3% of its time
        sums = d_pre.new_zeros(d_pre.size(1)) if ctx.has_bias else None
        d_w_ih, d_w_hh = (None if g is None else g.index_select(0, inverse)   # torch's order
                          for g in grads_by_input_and_previous(
                              d_pre, x, h0, h_all, batch_sizes, reverse, "lstm_chain.inputs",
                              (ctx.needs_input_grad[1], ctx.needs_input_grad[4]),
                              copy_bytes=None, bias_out=sums))
        d_b_ih = d_b_hh = None
        if sums is not None:   # each bias gets its own tensor
            d_b_ih = sums.index_select(0, inverse)
            d_b_hh = d_b_ih.clone()
        return (d_x, d_w_ih, d_b_ih, d_b_hh, d_w_hh, dh, dc, d_ci, d_cf, d_co, None, None, None)


def run_lstm_chain(w, x: Tensor, batch_sizes: Sequence[int], state: tuple[Tensor, Tensor],
                   reverse: bool = False) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """:func:`graphrnn.engine.run_chain` for the LSTM family, one autograd node per chain run.

    Args:
        w: the cell's weights and options (an ``LSTMCell``, or ``RNNBase.cell_weights(...)``);
            ``w.weight_hr`` must be ``None``.
        x: (sum(batch_sizes), I) inputs, step-major as ``PackedSequence.data``. The input
            projection is applied inside the kernel (one matmul for all steps).
        batch_sizes, state, reverse: as :func:`graphrnn.engine.run_chain`.

    Returns:
        ``(output (sum(batch_sizes), H), (h_n, c_n))``.
    """
    if w.weight_hr is not None:
        raise ValueError("run_lstm_chain does not handle proj_size; use graphrnn.engine.run_chain")
    h0, c0 = state
    out, h_n, c_n = _LSTMChain.apply(
        x, w.weight_ih, w.bias_ih, w.bias_hh, w.weight_hh, h0, c0,
        w.weight_ci if w.peephole else None,
        w.weight_cf if w.peephole and w.num_gates == 4 else None,
        w.weight_co if w.peephole else None,
        [int(b) for b in batch_sizes], reverse, (w.forget_gate, w.coupled))
    return out, (h_n, c_n)
