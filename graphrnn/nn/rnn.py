"""Drop-in replacements for ``torch.nn.RNN``, ``LSTM`` and ``GRU`` that also read chain graphs.

Same constructor arguments, parameter names (``weight_ih_l0``, ``weight_hh_l0_reverse``, ...),
``forward(input, hx=None)`` for padded tensors and ``PackedSequence`` and the same return
structures, so ``ours.load_state_dict(theirs.state_dict())`` works both ways. In addition:

* a PyG ``Data``/``Batch`` of chain graphs (node features ``x``, edges ``t -> t+1``) gives one
  output row per node, in node order, and the final state of each chain;
* the LSTM variants (``forget_gate``, ``coupled``, ``peephole``) and Cho et al.'s GRU
  (``reset_after=False``), which ``torch.nn`` lacks, run on graphrnn's own engine;
* ``weight_dropout=p``: DropConnect on the recurrent matrices ``weight_hh_l{k}`` (Wan et al.
  2013; the weight-dropped LSTM of Merity et al. 2018, arXiv:1708.02182): one mask per forward
  call, used at every time step, on either engine (the dropped matrix goes where the parameter
  would, no copy of the module); evaluation uses the full weights.

``engine="auto"`` hands standard cells to PyTorch's fused kernels (the same call ``torch.nn``
makes) and everything else to :func:`graphrnn.engine.run_chain`; ``engine="generic"`` forces the
latter, which gives the same numbers.

Size: over 400 lines because the drop-in contract is one piece: the argument checks, the
padded / packed / graph inputs, the state shapes and the fused and generic paths of all three
modules share one base class, as in ``torch.nn.modules.rnn``.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from ..cells import (
    gru_chain_kernel,
    gru_project,
    gru_step,
    lstm_chain_kernel,
    lstm_num_gates,
    lstm_project,
    lstm_step,
    peephole_names,
    srn_chain_kernel,
    srn_project,
    srn_step,
)
from ..engine import run_chain
from ..schedule import ChainLayout, chain_layout, check_edge_index

ENGINES = ("auto", "fused", "generic")


class EmptySequenceError(ValueError, RuntimeError):
    """A padded input with no time step (T = 0). ``torch.nn`` raises a ``RuntimeError`` there
    ("Expected sequence length to be larger than 0"); this is both a ``ValueError`` (graphrnn's
    kind for a bad argument) and a ``RuntimeError``, so code written for either catches it."""

_FUSED = {"RNN_TANH": _VF.rnn_tanh, "RNN_RELU": _VF.rnn_relu, "LSTM": _VF.lstm, "GRU": _VF.gru}
# per mode: the cell's projection, its step, and what offers a fused chain kernel (or None)
_STEPS = {"RNN": (srn_project, srn_step, srn_chain_kernel),
          "LSTM": (lstm_project, lstm_step, lstm_chain_kernel),
          "GRU": (gru_project, gru_step, gru_chain_kernel)}


def _is_graph(input) -> bool:
    return hasattr(input, "edge_index") and hasattr(input, "x") and not isinstance(input, Tensor)


def layout_of(data) -> ChainLayout:
    """The :class:`~graphrnn.schedule.ChainLayout` of a chain-graph batch, cached on the object."""
    edge_index = data.edge_index
    check_edge_index(edge_index, data.num_nodes)
    key = (edge_index.device, id(edge_index), edge_index._version, data.num_nodes)
    cached = data.__dict__.get("_graphrnn_chain_layout")
    if cached is None or cached[0] != key:
        cached = (key, chain_layout(edge_index, data.num_nodes))
        data.__dict__["_graphrnn_chain_layout"] = cached
    return cached[1]


class RNNBase(nn.Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU` (see those)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None,
                 engine: str = "auto", nonlinearity: str = "tanh", forget_gate: bool = True,
                 coupled: bool = False, peephole: bool = False, reset_after: bool = True,
                 weight_dropout: float = 0.0):
        super().__init__()
        name = type(self).__name__
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive int, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if (not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if (not isinstance(weight_dropout, (int, float)) or isinstance(weight_dropout, bool)
                or not 0 <= weight_dropout < 1):
            raise ValueError(f"{name}: weight_dropout must be a number in [0, 1), got "
                             f"{weight_dropout!r}")
        if proj_size < 0 or (proj_size and proj_size >= hidden_size):
            raise ValueError(f"{name}: proj_size must be 0 or in [1, hidden_size), got {proj_size}")
        if engine not in ENGINES:
            raise ValueError(f"{name}: engine must be one of {ENGINES}, got {engine!r}")
        if coupled and not forget_gate:
            raise ValueError(f"{name}: coupled=True sets f = 1 - i; it needs forget_gate=True")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{name}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        self.engine, self.nonlinearity, self.reset_after = engine, nonlinearity, reset_after
        self.forget_gate, self.coupled, self.peephole = forget_gate, coupled, peephole
        self.weight_dropout = float(weight_dropout)
        self.num_gates = {"RNN": 1, "GRU": 3, "LSTM": lstm_num_gates(forget_gate, coupled)}[mode]
        if self.engine == "fused" and not self.has_fused_kernel:
            raise ValueError(f"{name}: engine='fused' needs a standard cell; "
                             f"{self._variant_repr()} has no fused PyTorch kernel")

        factory = {"device": device, "dtype": dtype}
        directions = 2 if bidirectional else 1
        out_size = proj_size or hidden_size
        gate_size = self.num_gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for suffix in self._suffixes():
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                if mode == "LSTM" and peephole:
                    shapes += [(n, (hidden_size,)) for n in peephole_names(forget_gate, coupled)]
                for base, shape in shapes:
                    self.register_parameter(f"{base}_l{layer}{suffix}",
                                            nn.Parameter(torch.empty(shape, **factory)))
        self.reset_parameters()

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self) -> None:
        """U(-1/sqrt(H), 1/sqrt(H)) for every parameter, as ``torch.nn`` does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    @property
    def has_fused_kernel(self) -> bool:
        """Whether PyTorch has a fused kernel for this cell (no graphrnn-only variant)."""
        if self.mode == "LSTM":
            return self.forget_gate and not self.coupled and not self.peephole
        return self.mode != "GRU" or self.reset_after

    def _variant_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)}" for k, d in
                         (("forget_gate", True), ("coupled", False), ("peephole", False),
                          ("reset_after", True)) if getattr(self, k) != d) or "this cell"

    @property
    def state_sizes(self) -> tuple[int, ...]:
        out = self.proj_size or self.hidden_size
        return (out, self.hidden_size) if self.mode == "LSTM" else (out,)

    def _recurrent_weight(self, weight: Tensor) -> Tensor:
        """``weight_hh`` as this forward call uses it: DropConnect'ed when training with
        ``weight_dropout`` (called once per layer and direction per forward)."""
        if self.weight_dropout and self.training:
            return F.dropout(weight, self.weight_dropout, training=True)
        return weight

    def cell_weights(self, layer: int, reverse: bool = False) -> SimpleNamespace:
        """The weights of one layer and direction under the names the cell functions read
        (``weight_hh`` with its DropConnect mask drawn, in training with ``weight_dropout``)."""
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        get = lambda base: getattr(self, base + suffix, None)  # noqa: E731
        return SimpleNamespace(
            weight_ih=get("weight_ih"), weight_hh=self._recurrent_weight(get("weight_hh")),
            bias_ih=get("bias_ih"),
            bias_hh=get("bias_hh"), weight_hr=get("weight_hr"), weight_ci=get("weight_ci"),
            weight_cf=get("weight_cf"), weight_co=get("weight_co"), hidden_size=self.hidden_size,
            num_gates=self.num_gates, forget_gate=self.forget_gate, coupled=self.coupled,
            peephole=self.peephole, reset_after=self.reset_after, nonlinearity=self.nonlinearity)

    @property
    def _flat_weights(self) -> list[Tensor]:
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else []) + \
                (["weight_hr"] if self.proj_size else [])
        return [getattr(self, f"{n}_l{layer}{s}") for layer in range(self.num_layers)
                for s in self._suffixes() for n in names]

    # -- forward --------------------------------------------------------------------------------
    def forward(self, input, hx=None):
        """Run the network.

        Args:
            input: (T, B, I) (``(B, T, I)`` if ``batch_first``), unbatched (T, I), a
                ``PackedSequence``, or a PyG ``Data``/``Batch`` of chain graphs with ``x`` (N, I).
            hx: initial state, zeros if ``None``: (L*D, B, H_out) for RNN/GRU, a tuple
                ``(h_0 (L*D, B, H_out), c_0 (L*D, B, H))`` for LSTM; for graphs B is the number of
                chains, numbered by first node id.

        Returns:
            ``(output, h_n)`` or ``(output, (h_n, c_n))`` as ``torch.nn``: output (T, B, D*H_out),
            or a ``PackedSequence``, or (N, D*H_out) one row per node for graphs.

        Edge cases, as ``torch.nn`` on every engine and cell variant: B = 0 gives output
        (T, 0, D*H_out) and states (L*D, 0, H_out); T = 0 (padded or unbatched) raises
        :class:`EmptySequenceError` (a ``ValueError`` and ``RuntimeError``) naming ``input``; a
        graph batch with no node gives output (0, D*H_out) and states (L*D, 0, H_out). ``input``
        (and ``hx``) must have the parameters' floating dtype (``.double()`` modules take float64
        input); another dtype, integers included, is a ``ValueError`` naming both dtypes.
        """
        name = type(self).__name__
        if _is_graph(input):
            layout = layout_of(input)
            x = input.x
            if x is None or not isinstance(x, Tensor) or x.dim() != 2:
                raise ValueError(f"{name}: graph input needs node features x of shape (N, "
                                 f"{self.input_size}), got {None if x is None else tuple(x.shape)}")
            packed = PackedSequence(x.index_select(0, layout.order), layout.batch_sizes,
                                    layout.sorted_indices, layout.unsorted_indices)
            out, hidden = self.forward(packed, hx)
            return _unpermute(out.data, layout.order), hidden

        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            is_batched, batch = True, int(batch_sizes[0]) if batch_sizes.numel() else 0
            self._check_input(data, 2)
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: input must be a Tensor, a PackedSequence or a PyG graph "
                                f"batch, got {type(input).__name__}")
            self._check_input(input, 3)
            is_batched = input.dim() == 3
            if not is_batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            batch = input.size(0 if self.batch_first else 1)
            if input.size(1 if self.batch_first else 0) == 0:
                raise EmptySequenceError(
                    f"{name}: input has no time step (shape {tuple(input.shape)}, T = 0 along dim "
                    f"{1 if self.batch_first else 0}); torch.nn's RNNs need sequence length > 0")
            batch_sizes = sorted_indices = unsorted_indices = None
        hx = self._initial_state(hx, batch, is_batched, input if batch_sizes is None else data)
        if sorted_indices is not None:
            hx = tuple(h.index_select(1, sorted_indices) for h in hx)

        if batch_sizes is not None and batch == 0:
            # no row at all (a graph batch without nodes): PyTorch's fused kernels crash on an
            # empty PackedSequence, and there is nothing to run
            width = (self.proj_size or self.hidden_size) * (2 if self.bidirectional else 1)
            output, hidden = data.new_zeros(0, width), hx
        elif self.engine != "generic" and self.has_fused_kernel:
            output, hidden = self._run_fused(input if batch_sizes is None else data,
                                             batch_sizes, hx)
        else:
            output, hidden = self._run_generic(input if batch_sizes is None else data,
                                               batch_sizes, hx)

        if unsorted_indices is not None:
            hidden = tuple(h.index_select(1, unsorted_indices) for h in hidden)
        if batch_sizes is not None:
            output = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
        elif not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            hidden = tuple(h.squeeze(1) for h in hidden)
        return output, (hidden if self.mode == "LSTM" else hidden[0])

    def _check_input(self, input: Tensor, max_dim: int) -> None:
        name = type(self).__name__
        if input.dim() not in (max_dim - 1, max_dim) or (max_dim == 2 and input.dim() != 2):
            raise ValueError(f"{name}: expected input of shape (T, B, {self.input_size}), "
                             f"(B, T, {self.input_size}) with batch_first, "
                             f"or (T, {self.input_size}),"
                             f" got {tuple(input.shape)}")
        if input.size(-1) != self.input_size:
            raise ValueError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                             f"{self.input_size}, got {input.size(-1)}")
        self._check_dtype(input, "input")

    def _check_dtype(self, tensor: Tensor, what: str) -> None:
        # torch.nn raises a ValueError here too; ours names the tensor and, for integers, does not
        # suggest converting the module to an integer dtype.
        expected = self.weight_ih_l0.dtype
        if tensor.dtype != expected:
            fix = (f"convert it with {what}.to({expected})" if not tensor.is_floating_point()
                   else f"convert it with {what}.to({expected}) or the module with "
                        f".to({tensor.dtype})")
            raise ValueError(f"{type(self).__name__}: {what} has dtype {tensor.dtype}, expected "
                             f"the floating dtype of the module's parameters, {expected}; {fix}")

    def _initial_state(self, hx, batch: int, is_batched: bool, like: Tensor) -> tuple[Tensor, ...]:
        name = type(self).__name__
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shapes = [(layers, batch, size) for size in self.state_sizes]
        if hx is None:
            return tuple(like.new_zeros(shape) for shape in shapes)
        parts = (hx,) if isinstance(hx, Tensor) else tuple(hx)
        if len(parts) != len(shapes) or not all(isinstance(p, Tensor) for p in parts):
            raise ValueError(f"{name}: hx must be "
                             + ("a tuple (h_0, c_0)" if self.mode == "LSTM" else "a Tensor")
                             + f", got {type(hx).__name__}")
        if not is_batched:
            if any(p.dim() != 2 for p in parts):
                raise ValueError(f"{name}: for unbatched 2-D input hx must be 2-D, got "
                                 f"{[p.dim() for p in parts]}-D")
            parts = tuple(p.unsqueeze(1) for p in parts)
        for k, (p, shape) in enumerate(zip(parts, shapes)):
            which = f"hx[{k}]" if len(shapes) > 1 else "hx"
            if tuple(p.shape) != shape:
                raise ValueError(f"{name}: Expected {which} of shape {shape} (num_layers * "
                                 f"num_directions, batch, size), got {tuple(p.shape)}")
            self._check_dtype(p, which)
        return parts

    def _run_fused(self, input: Tensor, batch_sizes, hx) -> tuple[Tensor, tuple[Tensor, ...]]:
        kernel = _FUSED[f"RNN_{self.nonlinearity.upper()}" if self.mode == "RNN" else self.mode]
        state = hx if self.mode == "LSTM" else hx[0]
        weights = self._flat_weights
        if self.weight_dropout and self.training:  # weight_hh is second of each layer's group
            group = len(weights) // (self.num_layers * (2 if self.bidirectional else 1))
            weights = [self._recurrent_weight(w) if i % group == 1 else w
                       for i, w in enumerate(weights)]
        args = (weights, self.bias, self.num_layers, self.dropout, self.training,
                self.bidirectional)
        if batch_sizes is None:
            result = kernel(input, state, *args, self.batch_first)
        else:
            result = kernel(input, batch_sizes, state, *args)
        return result[0], tuple(result[1:])

    def _run_generic(self, input: Tensor, batch_sizes, hx) -> tuple[Tensor, tuple[Tensor, ...]]:
        if batch_sizes is None:  # padded: rows of step t are t*B .. t*B + B - 1
            if self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.size(0), input.size(1)
            # explicit width: reshape(0, -1) cannot infer it when B = 0
            data, sizes = input.reshape(steps * batch, input.size(2)), [batch] * steps
        else:
            data, sizes = input, batch_sizes.tolist()
        project, step, chain_kernel = _STEPS[self.mode]
        directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in hx]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                weights = self.cell_weights(layer, reverse=direction == 1)
                index = layer * directions + direction
                state = tuple(h[index] for h in hx)
                kernel = chain_kernel(weights) if chain_kernel is not None else None
                if kernel is not None:                   # one autograd node per run
                    out, final = kernel(data, sizes, state, direction == 1)
                else:
                    out, final = run_chain(lambda x, s, w=weights: step(w, x, s),
                                           project(weights, data), sizes, state,
                                           reverse=direction == 1)
                outputs.append(out)
                for k, f in enumerate(final):
                    finals[k].append(f)
            data = outputs[0] if directions == 1 else torch.cat(outputs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                data = F.dropout(data, self.dropout, training=True)
        hidden = tuple(torch.stack(f) for f in finals)
        if batch_sizes is None:
            data = data.view(len(sizes), sizes[0], data.size(-1))
            if self.batch_first:
                data = data.transpose(0, 1)
        return data, hidden

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("proj_size", 0), ("num_layers", 1), ("bias", True),
                              ("batch_first", False), ("dropout", 0.0), ("bidirectional", False),
                              ("engine", "auto"), ("weight_dropout", 0.0)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        if self.mode == "RNN" and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        if self.mode == "LSTM":
            for name, default in (("forget_gate", True), ("coupled", False), ("peephole", False)):
                if getattr(self, name) != default:
                    s += f", {name}={getattr(self, name)}"
        if self.mode == "GRU" and not self.reset_after:
            s += ", reset_after=False"
        return s


def _unpermute(rows: Tensor, order: Tensor) -> Tensor:
    """Rows in packed order -> node order (``out[order[r]] = rows[r]``), differentiable."""
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel(), device=order.device)
    return rows.index_select(0, inverse)


class RNN(RNNBase):
    r"""Elman RNN, a drop-in for ``torch.nn.RNN``:
    :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})` (or relu), per layer.

    Args:
        input_size: I. hidden_size: H. num_layers: default 1.
        nonlinearity: ``"tanh"`` (default) or ``"relu"``. bias: default ``True``.
        batch_first: input/output as (B, T, feature). Default: ``False``.
        dropout: dropout on the outputs of every layer but the last. Default: 0.
        bidirectional: default ``False``.
        engine: ``"auto"`` (fused kernel when possible), ``"fused"`` or ``"generic"``.
        weight_dropout: DropConnect on ``weight_hh_l{k}``, one mask per forward. Default: 0.

    Also reads a PyG batch of chain graphs; see :class:`RNNBase.forward`.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None, dtype=None,
                 engine: str = "auto", weight_dropout: float = 0.0):
        super().__init__("RNN", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, engine, nonlinearity=nonlinearity,
                         weight_dropout=weight_dropout)


class LSTM(RNNBase):
    r"""LSTM, a drop-in for ``torch.nn.LSTM``, with the variants ``torch.nn`` lacks.

    Per layer, gates i, f, g, o (see :mod:`graphrnn.cells.lstm` for the equations):
    :math:`c_t = f_t \odot c_{t-1} + i_t \odot g_t`, :math:`h_t = o_t \odot \tanh(c_t)`.

    Args:
        input_size: I. hidden_size: H. num_layers: default 1. bias: default ``True``.
        batch_first, dropout, bidirectional: as ``torch.nn.LSTM``.
        proj_size: LSTM with projections (``weight_hr_l{k}``). Default: 0.
        engine: ``"auto"`` (fused kernel when possible), ``"fused"`` or ``"generic"``.
        forget_gate: ``False`` gives the 1997 LSTM, c_t = c_{t-1} + i * g. Default: ``True``.
        coupled: f = 1 - i. Default: ``False``.
        peephole: gates see the cell (``weight_ci_l{k}``, ``weight_cf_l{k}``, ``weight_co_l{k}``).
            Default: ``False``.
        weight_dropout: DropConnect on ``weight_hh_l{k}``, one mask per forward (the
            weight-dropped LSTM). Default: 0.

    Returns ``output, (h_n, c_n)`` as ``torch.nn.LSTM``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None, engine: str = "auto",
                 forget_gate: bool = True, coupled: bool = False, peephole: bool = False,
                 weight_dropout: float = 0.0):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, device, dtype, engine, forget_gate=forget_gate,
                         coupled=coupled, peephole=peephole, weight_dropout=weight_dropout)


class GRU(RNNBase):
    r"""GRU, a drop-in for ``torch.nn.GRU``; ``reset_after=False`` gives Cho et al.'s formulation
    (the reset gate applied to :math:`h_{t-1}` before its matmul), which ``torch.nn`` lacks.

    Args:
        input_size: I. hidden_size: H. num_layers: default 1. bias: default ``True``.
        batch_first, dropout, bidirectional: as ``torch.nn.GRU``.
        engine: ``"auto"`` (fused kernel when possible), ``"fused"`` or ``"generic"``.
        reset_after: default ``True`` (PyTorch's formulation).
        weight_dropout: DropConnect on ``weight_hh_l{k}``, one mask per forward. Default: 0.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, engine: str = "auto", reset_after: bool = True,
                 weight_dropout: float = 0.0):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, engine, reset_after=reset_after,
                         weight_dropout=weight_dropout)
