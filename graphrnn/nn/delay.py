r"""Delay networks on delay-chain graphs: TDNN, AR and NARX.

A delay-chain graph (:func:`graphrnn.structures.delay_chain_graph`) joins step ``t - k`` to step
``t`` for every delay k = 1..K and stores k on the edge (``edge_delay``). Models that came before
and beside the SRN are computations on it:

* **TDNN** (time-delay neural network; Waibel, Hanazawa, Hinton, Shikano & Lang 1989, "Phoneme
  recognition using time-delay neural networks"): a layer sees the window ``t-K..t`` of its input,
  :math:`z_t = \phi(W_0 x_t + \sum_{k=1}^{K} W_k x_{t-k} + b)`. Its inputs travel along the delay
  edges, each weighted by the matrix of its delay; nothing is recurrent. Layers stack.
* **NARX** (nonlinear autoregressive with exogenous input; Leontaritis & Billings 1985; as a
  network, Narendra & Parthasarathy 1990, "Identification and control of dynamical systems using
  neural networks", IEEE Trans. Neural Networks 1(1)):
  :math:`y_t = F(x_t, .., x_{t-K_x}, y_{t-1}, .., y_{t-K_y})` with F a one-hidden-layer network
  (or affine: the linear ARX model).
* **AR**: NARX without the exogenous input, :math:`y_t = F(y_{t-1}, .., y_{t-K})`.

NARX and AR run in two modes (Narendra & Parthasarathy's terms):

* *series-parallel* (teacher forcing, one-step-ahead prediction): the lags are the measured
  outputs, gathered along the delay edges for all steps at once; this is how they are trained;
* *parallel* (free-run simulation): the lags are the model's own past outputs. That is a recurrence
  over the delay-chain DAG, run by graphrnn's engine (:func:`graphrnn.engine.propagate`) with
  :class:`DelayFeedbackCell`, whose ``combine`` places each predecessor's state in the slot of its
  edge's delay and applies that delay's weights.

Lags reaching before the start of a sequence are zero in both modes. :func:`fit_least_squares`
fits the linear ARX baseline in closed form; the benchmark plant of Narendra & Parthasarathy's
Example 2 and a reader of users' own series are in :mod:`graphrnn.datasets.series`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..cells.base import RecurrentCell, State
from ..engine import propagate
from ..schedule import topological_schedule

__all__ = ["delay_taps", "TDNN", "DelayFeedbackCell", "NARX", "AR", "fit_least_squares"]

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
               "identity": lambda x: x}


def _graph_parts(data, name: str) -> tuple[Tensor, Tensor, int]:
    edge_index = getattr(data, "edge_index", None)
    delay = getattr(data, "edge_delay", None)
    if edge_index is None or delay is None:
        missing = "edge_index" if edge_index is None else "edge_delay"
        raise ValueError(f"{name}: the graph has no {missing}; build it with "
                         f"graphrnn.structures.delay_chain_graph")
    if delay.shape != (edge_index.size(1),):
        raise ValueError(f"{name}: edge_delay must have one entry per edge ({edge_index.size(1)}), "
                         f"got shape {tuple(delay.shape)}")
    return edge_index, delay, int(data.num_nodes)


def delay_taps(x: Tensor, edge_index: Tensor, edge_delay: Tensor, num_delays: int,
               include_current: bool = True) -> Tensor:
    """The tapped delay line of every node, gathered along the delay edges.

    Row t is ``[x_t; x_{t-1}; ..; x_{t-K}]`` (without ``x_t`` if not ``include_current``), with
    zeros for delays that reach before the sequence's start. Edges with a delay above
    ``num_delays`` are ignored.

    Args:
        x: (N, F) node features.
        edge_index: (2, E) delay edges ``t - k -> t``. edge_delay: (E,) their k.
        num_delays: K >= 0.

    Returns:
        (N, (K + 1) F) or (N, K F).
    """
    if x.dim() != 2:
        raise ValueError(f"delay_taps: x must be (N, F), got {tuple(x.shape)}")
    N, Fdim = x.shape
    first = 0 if include_current else 1
    slots = num_delays + 1 - first
    out = x.new_zeros(N, slots, Fdim)
    if include_current:
        out[:, 0] = x
    keep = (edge_delay >= 1) & (edge_delay <= num_delays)
    src, dst, k = edge_index[0, keep], edge_index[1, keep], edge_delay[keep]
    out = out.index_put((dst, k - first), x[src])  # out-of-place: differentiable in x
    return out.reshape(N, slots * Fdim)


class TDNN(nn.Module):
    r"""One time-delay layer: :math:`z_t = \phi(\sum_{k=0}^{K} W_k x_{t-k} + b)`.

    Args:
        in_features: F. out_features: H.
        delays: K, the layer sees ``t-K..t``.
        activation: ``"tanh"`` (default), ``"relu"``, ``"sigmoid"`` or ``"identity"``.

    ``forward(x, data)``: x (N, F) node features of the delay-chain graph ``data`` (its
    ``edge_index`` and ``edge_delay``; built with at least K delays) -> (N, H).
    ``weight`` is (H, (K + 1) F): columns ``k F .. (k + 1) F`` are :math:`W_k`.
    """

    def __init__(self, in_features: int, out_features: int, delays: int,
                 activation: str = "tanh"):
        super().__init__()
        if delays < 0:
            raise ValueError(f"TDNN: delays must be >= 0, got {delays}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"TDNN: activation must be one of {tuple(ACTIVATIONS)}, got "
                             f"{activation!r}")
        self.in_features, self.out_features = in_features, out_features
        self.delays, self.activation = delays, activation
        self.linear = nn.Linear((delays + 1) * in_features, out_features)

    def forward(self, x: Tensor, data) -> Tensor:
        edge_index, delay, n = _graph_parts(data, "TDNN")
        if x.dim() != 2 or x.size(0) != n or x.size(1) != self.in_features:
            raise ValueError(f"TDNN: x must be ({n}, {self.in_features}), got {tuple(x.shape)}")
        taps = delay_taps(x, edge_index, delay, self.delays)
        return ACTIVATIONS[self.activation](self.linear(taps))

    def extra_repr(self) -> str:
        return (f"{self.in_features}, {self.out_features}, delays={self.delays}, "
                f"activation={self.activation!r}")


class DelayFeedbackCell(RecurrentCell):
    r"""The output-feedback step of a NARX / AR model, as a cell for the engine.

    State: :math:`y_t` (size d). Given the projected exogenous input :math:`a_t` (size G, computed
    for all nodes before the recurrence) and the lags :math:`l_t = [y_{t-1}; ..; y_{t-K}]`:

    .. math::

        y_t = V \tanh(a_t + W_y l_t) + c \quad\text{(hidden layer, G = hidden size)}, \qquad
        y_t = a_t + W_y l_t \quad\text{(linear, G = d)}.

    On a delay-chain graph :meth:`combine` receives one predecessor state per edge and the edge's
    slot among the edges into its node, which for the graphs :func:`delay_chain_graph` builds is
    ``delay - 1`` (edges are listed by increasing delay); it scatters each state into its delay's
    block of :math:`l_t`, so block k is multiplied by the weights of delay k.
    :meth:`step` takes the stacked lags directly (state ``(l_t,)``, (n, K d)).

    Args:
        output_size: d. delays: K. hidden_size: G, or ``None`` for the linear model.
    """

    def __init__(self, output_size: int, delays: int, hidden_size: int | None = None):
        super().__init__(1, output_size)  # input_size is unused: inputs arrive projected
        if delays < 1:
            raise ValueError(f"DelayFeedbackCell: delays must be >= 1, got {delays}")
        self.output_size, self.delays, self.hidden = output_size, delays, hidden_size
        width = hidden_size or output_size
        self.weight_hh = nn.Parameter(torch.empty(width, delays * output_size))
        if hidden_size:
            self.readout = nn.Linear(hidden_size, output_size)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.delays * self.output_size)
        nn.init.uniform_(self.weight_hh, -bound, bound)
        if self.hidden:
            self.readout.reset_parameters()

    @property
    def state_sizes(self) -> tuple[int, ...]:
        return (self.output_size,)

    def project(self, x: Tensor) -> Tensor:
        raise TypeError("DelayFeedbackCell: the exogenous projection needs the graph; compute it "
                        "with NARX.exogenous and call propagate(..., projected=True)")

    def output(self, xw: Tensor, lags: Tensor) -> Tensor:
        """:math:`y` from projected inputs (n, G) and stacked lags (n, K d)."""
        a = torch.addmm(xw, lags, self.weight_hh.t())
        return self.readout(torch.tanh(a)) if self.hidden else a

    def step(self, xw: Tensor, state: State) -> State:
        return (self.output(xw, state[0]),)

    def combine(self, xw: Tensor, children: State, index: Tensor, slot: Tensor,
                num_nodes: int, width: int | None = None) -> State:
        d, K = self.output_size, self.delays
        keep = slot < K
        lags = xw.new_zeros(num_nodes, K, d).index_put((index[keep], slot[keep]),
                                                       children[0][keep])
        return (self.output(xw, lags.view(num_nodes, K * d)),)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, delays={self.delays}, "
                f"hidden_size={self.hidden}")


class NARX(nn.Module):
    r"""NARX model :math:`y_t = F(x_t, .., x_{t-K_x}, y_{t-1}, .., y_{t-K_y})` on delay-chain
    graphs (see the module docstring).

    Args:
        input_size: I, exogenous inputs per step (0: an AR model, no ``x`` needed).
        output_size: d.
        input_delays: K_x >= 0 (the model sees ``x_{t-K_x}..x_t``).
        output_delays: K_y >= 1.
        hidden_size: units of the tanh hidden layer, or ``None`` for the linear ARX / AR model.

    The graph ``data`` (one series, or a PyG ``Batch`` of several) must have delay edges up to
    ``max(K_x, K_y)`` (``delay_chain_graph(x, max(K_x, K_y), y=y)``), node inputs ``data.x``
    (N, I) and, for teacher forcing, targets ``data.y`` (N, d).
    """

    def __init__(self, input_size: int, output_size: int, input_delays: int, output_delays: int,
                 hidden_size: int | None = 16):
        super().__init__()
        if input_size < 0 or output_size < 1:
            raise ValueError(f"NARX: need input_size >= 0 and output_size >= 1, got {input_size} "
                             f"and {output_size}")
        if input_delays < 0:
            raise ValueError(f"NARX: input_delays must be >= 0, got {input_delays}")
        self.input_size, self.output_size = input_size, output_size
        self.input_delays, self.output_delays = input_delays, output_delays
        width = hidden_size or output_size
        self.input_weight = nn.Linear((input_delays + 1) * input_size, width) if input_size \
            else None
        self.bias = nn.Parameter(torch.zeros(width)) if not input_size else None
        self.cell = DelayFeedbackCell(output_size, output_delays, hidden_size)

    @property
    def max_delay(self) -> int:
        return max(self.input_delays if self.input_size else 0, self.output_delays)

    def exogenous(self, data) -> Tensor:
        """The projected exogenous term :math:`a_t` of every node, (N, G)."""
        edge_index, delay, n = _graph_parts(data, type(self).__name__)
        if self.input_weight is None:
            return self.bias.expand(n, -1)
        x = getattr(data, "x", None)
        if x is None or x.dim() != 2 or x.size(1) != self.input_size:
            raise ValueError(f"{type(self).__name__}: data.x must be (N, {self.input_size}), got "
                             f"{None if x is None else tuple(x.shape)}")
        return self.input_weight(delay_taps(x, edge_index, delay, self.input_delays))

    def lags(self, y: Tensor, data) -> Tensor:
        """Measured lags :math:`[y_{t-1}; ..; y_{t-K_y}]` of every node, (N, K_y d)."""
        edge_index, delay, _ = _graph_parts(data, type(self).__name__)
        return delay_taps(y, edge_index, delay, self.output_delays, include_current=False)

    def _targets(self, data) -> Tensor:
        y = getattr(data, "y", None)
        if y is None:
            raise ValueError(f"{type(self).__name__}: teacher forcing needs the measured outputs "
                             f"data.y")
        return y.view(-1, self.output_size)

    def forward(self, data, mode: str = "series-parallel") -> Tensor:
        """Outputs (N, d) of every node.

        Args:
            mode: ``"series-parallel"`` (lags are the measured ``data.y``: one-step-ahead
                prediction, vectorised over all nodes) or ``"parallel"`` (lags are the model's
                own outputs: free-run simulation by :func:`graphrnn.engine.propagate` over the
                delay-chain DAG).
        """
        a = self.exogenous(data)
        if mode == "series-parallel":
            return self.cell.output(a, self.lags(self._targets(data), data))
        if mode == "parallel":
            return propagate(self.cell, a, self._schedule(data), projected=True)[0]
        raise ValueError(f"{type(self).__name__}: mode must be 'series-parallel' or 'parallel', "
                         f"got {mode!r}")

    def _schedule(self, data):
        edge_index, delay, n = _graph_parts(data, type(self).__name__)
        keep = delay <= self.output_delays
        sched = topological_schedule(edge_index[:, keep], n)
        # the cell reads each edge's delay from its slot: check they agree
        if not torch.equal(sched.edge_slot, delay[keep][sched.edge_perm] - 1):
            raise ValueError(f"{type(self).__name__}: the edges into a node must be listed by "
                             f"increasing delay, as delay_chain_graph builds them")
        return sched

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, output_size={self.output_size}, "
                f"input_delays={self.input_delays}, output_delays={self.output_delays}")


class AR(NARX):
    r"""Autoregressive model :math:`y_t = F(y_{t-1}, .., y_{t-K})` (a NARX without input).

    Args:
        output_size: d. delays: K. hidden_size: tanh hidden units, or ``None`` (default) for the
            linear AR(K) model :math:`y_t = c + \sum_k A_k y_{t-k}`.
    """

    def __init__(self, output_size: int, delays: int, hidden_size: int | None = None):
        super().__init__(0, output_size, 0, delays, hidden_size)


@torch.no_grad()
def fit_least_squares(model: NARX, data, ridge: float = 0.0) -> Tensor:
    r"""Fit a *linear* NARX / AR model (``hidden_size=None``) to ``data.y`` in closed form:
    :math:`\min_\theta \|\Phi \theta - y\|^2 + \lambda \|\theta\|^2` with regressors
    :math:`\Phi_t = [x_t; ..; x_{t-K_x}; y_{t-1}; ..; y_{t-K_y}; 1]` (series-parallel, the
    equation-error fit of system identification). The weights are written into ``model``.

    Returns:
        the training residual RMSE (scalar tensor).
    """
    if model.cell.hidden:
        raise ValueError("fit_least_squares: the model has a hidden layer; least squares fits the "
                         "linear model (hidden_size=None)")
    y = model._targets(data).double()
    edge_index, delay, n = _graph_parts(data, "fit_least_squares")
    parts = []
    if model.input_size:
        parts.append(delay_taps(data.x.double(), edge_index, delay, model.input_delays))
    parts.append(model.lags(y, data))
    parts.append(y.new_ones(n, 1))
    phi = torch.cat(parts, 1)
    gram = phi.t() @ phi + ridge * torch.eye(phi.size(1), dtype=phi.dtype)
    theta = torch.linalg.solve(gram, phi.t() @ y)                     # (P, d)
    cols = 0
    if model.input_size:
        w = model.input_weight.in_features
        model.input_weight.weight.copy_(theta[:w].t())
        cols = w
    lag_cols = model.output_delays * model.output_size
    model.cell.weight_hh.copy_(theta[cols:cols + lag_cols].t())
    bias = theta[-1]
    if model.input_size:
        model.input_weight.bias.copy_(bias)
    else:
        model.bias.copy_(bias)
    return ((phi @ theta - y) ** 2).mean().sqrt()
