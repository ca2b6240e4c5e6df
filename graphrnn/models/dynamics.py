r"""Learning particle dynamics with a graph network, and rolling the learned simulator out.

The model (Battaglia et al. 2016, `arXiv:1612.00222 <https://arxiv.org/abs/1612.00222>`_;
Sanchez-Gonzalez et al. 2020, `arXiv:2002.09405 <https://arxiv.org/abs/2002.09405>`_) reads one
frame of a particle system as a fully connected graph -- nodes carry velocities (and, to feel the
walls, absolute positions) and the per-particle constants; directed edges ``s -> r`` carry the
relative position :math:`x_s - x_r`, its length, the relative velocity and the known coupling of the
pair (spring 0/1, charge product, ...) -- encodes nodes and edges with MLPs, runs ``num_steps``
interaction-network rounds with residual connections, and decodes per particle two
"accelerations" -- by default as a per-particle term plus a sum of per-edge terms,
:math:`a_i = \mathrm{dec}_v(h_i) + \sum_{j} \mathrm{dec}_e(g_{ji})`, the form of a sum of
pairwise forces, so that a model trained on 5 particles stays valid on 10 -- from which the next
frame follows exactly:

.. math::
    v_{t+1} = v_t + \Delta t\, a^v_t, \qquad x_{t+1} = x_t + \Delta t\, v_t + \Delta t^2 a^x_t,

where :math:`\Delta t` is the time between frames. With the true
:math:`a^v = (v_{t+1} - v_t)/\Delta t` and :math:`a^x = (x_{t+1} - x_t - \Delta t\, v_t)/\Delta t^2`
this reproduces the simulator (which takes many small leapfrog steps between frames) exactly, and
:math:`a^x = a^v = 0` is the constant-velocity baseline :math:`x_{t+k} = x_t + k \Delta t\, v_t`.
Inputs and targets are standardised with statistics of the training set, kept as buffers in the
model (so checkpoints carry them).

Training is one-step (:func:`make_dynamics_step`, mean squared error of the standardised targets,
optionally with Gaussian noise on the input state as in Sanchez-Gonzalez et al. 2020); evaluation
rolls the model out on its own predictions (:func:`rollout`) and compares the position MSE at a few
horizons with the constant-velocity baseline (:func:`rollout_errors`).

Training batches are PyG batches of :class:`graphrnn.datasets.nbody.Transitions` items (``pos``,
``vel``, ``next_pos``, ``next_vel`` ``[B n, d]``, ``edge_index`` ``[2, B n (n - 1)]``,
``edge_attr`` ``[B n (n - 1), F_e]``, ``node_attr`` ``[B n, k]``); rollouts take the graphs of
:class:`graphrnn.datasets.NBody` (one, or a PyG batch of them). Figures of rollouts are drawn by
:func:`graphrnn.plots.trajectories.plot_trajectories`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Batch

from ..nn.aggregate import aggregate
from ..nn.graph_network_configs import InteractionNetwork
from ..nn.mlp import mlp

__all__ = ["Standardizer", "ParticleDynamicsModel", "make_dynamics_step", "fit_normalization",
           "rollout", "constant_velocity_rollout", "rollout_errors"]


class Standardizer(nn.Module):
    r"""Feature-wise :math:`(x - \mu) / \sigma`, with :math:`\mu, \sigma` buffers set by
    :meth:`fit` (``std`` floored at ``eps`` so constant features stay finite).

    Args:
        num_features: width of the last dimension.
        eps: smallest standard deviation used (default ``1e-6``).
    """

    def __init__(self, num_features: int, eps: float = 1e-6):
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.register_buffer("mean", torch.zeros(num_features))
        self.register_buffer("std", torch.ones(num_features))

    @torch.no_grad()
    def fit(self, x: Tensor) -> Standardizer:
        """Set mean and std from samples ``x [M, num_features]``."""
        if x.dim() != 2 or x.size(1) != self.num_features:
            raise ValueError(f"Standardizer.fit: x must have shape [M, {self.num_features}], got "
                             f"{list(x.shape)}")
        self.mean.copy_(x.mean(0))
        self.std.copy_(x.std(0, unbiased=False).clamp(min=self.eps))
        return self

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def inverse(self, x: Tensor) -> Tensor:
        return x * self.std + self.mean

    def extra_repr(self) -> str:
        return str(self.num_features)


class ParticleDynamicsModel(nn.Module):
    r"""Encode-process-decode interaction network predicting per-particle accelerations
    :math:`(a^x, a^v)` of one frame (see the module docstring).

    .. math::
        h_i = \mathrm{enc}_v([v_i, x_i, c_i]), \quad
        g_{sr} = \mathrm{enc}_e([x_s - x_r, |x_s - x_r|, v_s - v_r, e_{sr}]), \\
        (h, g) \leftarrow (h, g) + \mathrm{IN}(h, g) \ \ (\texttt{num\_steps} \text{ times}),
        \quad [a^x_i, a^v_i] = \mathrm{dec}_v(h_i) + \textstyle\sum_{j \to i} \mathrm{dec}_e(g_{ji})

    with every input standardised and the output de-standardised. With ``decode_edges=True``
    (default) the last round updates only the edges and :math:`h_i` is the particle's own
    encoding (plus earlier rounds): a particle's acceleration is its own term (walls) plus a sum
    of pairwise terms, as in Newtonian mechanics, which keeps the model valid for more particles
    than it was trained on (a node MLP reading the *sum* of messages sees sums it never saw).
    With ``decode_edges=False`` the decoder reads the final node latents only:
    :math:`[a^x_i, a^v_i] = \mathrm{dec}_v(h_i)`.

    Args:
        dim: space dimension :math:`d` (default 2).
        node_attr_dim: per-particle constants :math:`c_i` (charge, mass, ...) (default 1).
        edge_attr_dim: width of the known pair coupling :math:`e_{sr}` (default 1).
        hidden: latent width of every MLP (default 128).
        num_layers: Linears per MLP (default 2).
        num_steps: interaction-network rounds, each with its own weights (default 1: the
            interactions of the simulated systems are pairwise).
        dt: time :math:`\Delta t` between frames (default 0.1, the NBody default
            ``0.001 * 100``).
        absolute_position: give each node its absolute position, needed to feel box walls
            (default ``True``).
        aggr: aggregation of incoming edges, ``"sum"``, ``"mean"`` or ``"max"`` (default
            ``"sum"``: forces add).
        decode_edges: decode a per-edge term and sum it over incoming edges (see above)
            (default ``True``).

    Shapes:
        - pos, vel: :math:`[N, d]`; edge_index: :math:`[2, E]`; edge_attr: :math:`[E, F_e]`;
          node_attr: :math:`[N, k]`.
        - :meth:`forward`: standardised :math:`[N, 2d]`; :meth:`accelerations`:
          ``(a_x, a_v)`` each :math:`[N, d]`; :meth:`step_state`: next ``(pos, vel)``.
    """

    def __init__(self, dim: int = 2, node_attr_dim: int = 1, edge_attr_dim: int = 1,
                 hidden: int = 128, num_layers: int = 2, num_steps: int = 1, dt: float = 0.1,
                 absolute_position: bool = True, aggr: str = "sum", decode_edges: bool = True):
        super().__init__()
        if num_steps < 1:
            raise ValueError(f"num_steps must be at least 1, got {num_steps}")
        if dt <= 0:
            raise ValueError(f"dt must be positive, got {dt}")
        self.dim, self.node_attr_dim, self.edge_attr_dim = dim, node_attr_dim, edge_attr_dim
        self.hidden, self.num_layers, self.num_steps = hidden, num_layers, num_steps
        self.dt, self.absolute_position, self.aggr = float(dt), absolute_position, aggr
        self.decode_edges = decode_edges
        node_in = dim * (2 if absolute_position else 1) + node_attr_dim
        edge_in = 2 * dim + 1 + edge_attr_dim
        self.node_norm = Standardizer(node_in)
        self.edge_norm = Standardizer(edge_in)
        self.target_norm = Standardizer(2 * dim)
        self.node_encoder = mlp(node_in, hidden, hidden, num_layers, layer_norm=True)
        self.edge_encoder = mlp(edge_in, hidden, hidden, num_layers, layer_norm=True)
        self.processor = nn.ModuleList([
            InteractionNetwork(mlp(3 * hidden, hidden, hidden, num_layers, layer_norm=True),
                               # the last round of an edge-decoded model updates edges only
                               None if decode_edges and t == num_steps - 1 else
                               mlp(2 * hidden, hidden, hidden, num_layers, layer_norm=True),
                               aggr=aggr)
            for t in range(num_steps)])
        self.decoder = mlp(hidden, hidden, 2 * dim, num_layers)
        self.edge_decoder = mlp(hidden, hidden, 2 * dim, num_layers) if decode_edges else None

    @property
    def config(self) -> dict:
        """The constructor arguments, JSON-serialisable (for checkpoints)."""
        return dict(dim=self.dim, node_attr_dim=self.node_attr_dim,
                    edge_attr_dim=self.edge_attr_dim, hidden=self.hidden,
                    num_layers=self.num_layers, num_steps=self.num_steps, dt=self.dt,
                    absolute_position=self.absolute_position, aggr=self.aggr,
                    decode_edges=self.decode_edges)

    def _check(self, pos: Tensor, vel: Tensor, edge_index: Tensor, edge_attr: Tensor | None,
               node_attr: Tensor | None) -> tuple[Tensor, Tensor]:
        n = pos.size(0)
        if pos.dim() != 2 or pos.size(1) != self.dim:
            raise ValueError(f"pos must have shape [N, {self.dim}], got {list(pos.shape)}")
        if vel.shape != pos.shape:
            raise ValueError(f"vel must have the shape of pos {list(pos.shape)}, got "
                             f"{list(vel.shape)}")
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must have shape [2, E], got {list(edge_index.shape)}")
        num_edges = edge_index.size(1)
        if edge_attr is None:
            edge_attr = pos.new_zeros(num_edges, self.edge_attr_dim)
        if edge_attr.shape != (num_edges, self.edge_attr_dim):
            raise ValueError(f"edge_attr must have shape [E, F_e] = [{num_edges}, "
                             f"{self.edge_attr_dim}], got {list(edge_attr.shape)}")
        if node_attr is None:
            node_attr = pos.new_zeros(n, self.node_attr_dim)
        if node_attr.shape != (n, self.node_attr_dim):
            raise ValueError(f"node_attr must have shape [N, k] = [{n}, {self.node_attr_dim}], "
                             f"got {list(node_attr.shape)}")
        return edge_attr, node_attr

    def features(self, pos: Tensor, vel: Tensor, edge_index: Tensor,
                 edge_attr: Tensor | None = None,
                 node_attr: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Raw (not yet standardised) node features ``[N, F_v]`` and edge features ``[E, F_e']``."""
        edge_attr, node_attr = self._check(pos, vel, edge_index, edge_attr, node_attr)
        s, r = edge_index[0], edge_index[1]
        rel = pos.index_select(0, s) - pos.index_select(0, r)                  # x_s - x_r
        dist = rel.norm(dim=-1, keepdim=True)
        rel_vel = vel.index_select(0, s) - vel.index_select(0, r)
        nodes = [vel, pos, node_attr] if self.absolute_position else [vel, node_attr]
        return torch.cat(nodes, -1), torch.cat([rel, dist, rel_vel, edge_attr.to(pos.dtype)], -1)

    def forward(self, pos: Tensor, vel: Tensor, edge_index: Tensor,
                edge_attr: Tensor | None = None, node_attr: Tensor | None = None) -> Tensor:
        """Standardised accelerations ``[N, 2 d]`` (``a_x`` then ``a_v``)."""
        nodes, edges = self.features(pos, vel, edge_index, edge_attr, node_attr)
        h = self.node_encoder(self.node_norm(nodes))
        g = self.edge_encoder(self.edge_norm(edges))
        for block in self.processor:
            dh, dg, _ = block(h, edge_index, g)
            if block.node_model is not None:
                h = h + dh                                                     # residual
            g = g + dg
        out = self.decoder(h)                                                  # [N, 2d]
        if self.edge_decoder is not None:
            out = out + aggregate(self.edge_decoder(g), edge_index[1], h.size(0), "sum")
        return out

    def accelerations(self, pos: Tensor, vel: Tensor, edge_index: Tensor,
                      edge_attr: Tensor | None = None,
                      node_attr: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(a_x, a_v)`` in physical units, each ``[N, d]``."""
        out = self.target_norm.inverse(self(pos, vel, edge_index, edge_attr, node_attr))
        return out[:, :self.dim], out[:, self.dim:]

    def step_state(self, pos: Tensor, vel: Tensor, edge_index: Tensor,
                   edge_attr: Tensor | None = None,
                   node_attr: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The predicted next frame ``(pos, vel)``, one frame (``dt``) later."""
        a_x, a_v = self.accelerations(pos, vel, edge_index, edge_attr, node_attr)
        return pos + self.dt * vel + self.dt ** 2 * a_x, vel + self.dt * a_v

    def targets(self, pos: Tensor, vel: Tensor, next_pos: Tensor, next_vel: Tensor) -> Tensor:
        r"""The true :math:`[a^x, a^v]` ``[N, 2 d]`` (physical units) of a transition."""
        dt = self.dt
        return torch.cat([(next_pos - pos - dt * vel) / dt ** 2, (next_vel - vel) / dt], -1)

    def extra_repr(self) -> str:
        return (f"dt={self.dt}, absolute_position={self.absolute_position}, "
                f"decode_edges={self.decode_edges}")


@torch.no_grad()
def fit_normalization(model: ParticleDynamicsModel, transitions, max_samples: int = 20000,
                      seed: int = 0) -> ParticleDynamicsModel:
    """Set the model's input and target standardisers from (up to ``max_samples``) training
    transitions (:class:`~graphrnn.datasets.nbody.Transitions` items), chosen with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(transitions), generator=g)[:max_samples].tolist()
    batch = Batch.from_data_list([transitions[i] for i in idx])
    nodes, edges = model.features(batch.pos, batch.vel, batch.edge_index, batch.edge_attr,
                                  batch.node_attr)
    model.node_norm.fit(nodes)
    model.edge_norm.fit(edges)
    model.target_norm.fit(model.targets(batch.pos, batch.vel, batch.next_pos, batch.next_vel))
    return model


def make_dynamics_step(noise_std: float = 0.0):
    r"""A :class:`~graphrnn.train.Trainer` step for one-step training on PyG batches of
    :class:`~graphrnn.datasets.nbody.Transitions`: the loss is the MSE of the standardised
    accelerations,

    .. math:: \mathcal L = \frac{1}{2 d N} \sum_i \| \hat a_i - \mathrm{std}(a_i) \|^2 ,

    and the metric ``pos_mse`` the one-step position MSE in physical units.

    Args:
        noise_std: in training mode, add :math:`\mathcal N(0, \sigma^2)` noise to the input
            positions and velocities; the targets still lead to the true next frame, so the model
            learns to correct its own drift (Sanchez-Gonzalez et al. 2020) (default 0).
    """
    if noise_std < 0:
        raise ValueError(f"noise_std must be non-negative, got {noise_std}")

    def dynamics_step(model: ParticleDynamicsModel, batch):
        missing = [k for k in ("pos", "vel", "next_pos", "next_vel", "edge_index", "edge_attr",
                               "node_attr") if getattr(batch, k, None) is None]
        if missing:
            raise ValueError(f"dynamics_step: the batch has no {missing}; expected a PyG batch "
                             "of graphrnn.datasets.nbody.Transitions items")
        pos, vel = batch.pos, batch.vel
        if noise_std > 0 and model.training:
            pos = pos + noise_std * torch.randn_like(pos)
            vel = vel + noise_std * torch.randn_like(vel)
        target = model.target_norm(model.targets(pos, vel, batch.next_pos, batch.next_vel))
        out = model(pos, vel, batch.edge_index, batch.edge_attr, batch.node_attr)
        loss = F.mse_loss(out, target)
        with torch.no_grad():
            a_x = model.target_norm.inverse(out)[:, :model.dim]
            next_pos = pos + model.dt * vel + model.dt ** 2 * a_x
            pos_mse = F.mse_loss(next_pos, batch.next_pos)
        return loss, {"pos_mse": pos_mse}

    return dynamics_step


# ------------------------------------------------------------------------------------------------
# rollouts and evaluation

def _frames(data, start: int, steps: int) -> tuple[Tensor, Tensor]:
    for name in ("pos", "vel"):
        t = getattr(data, name, None)
        if t is None or t.dim() != 3:
            raise ValueError(f"data.{name} must be a trajectory [N, T, d] (an NBody graph), got "
                             f"{None if t is None else list(t.shape)}")
    num_frames = data.pos.size(1)
    if start < 0 or steps < 0 or start >= num_frames:
        raise ValueError(f"start={start}, steps={steps} do not fit a trajectory of "
                         f"{num_frames} frames")
    return data.pos[:, start], data.vel[:, start]


@torch.no_grad()
def rollout(model: nn.Module, data, steps: int, start: int = 0) -> tuple[Tensor, Tensor]:
    r"""Roll ``model`` out for ``steps`` frames from frame ``start`` of ``data``, feeding it its own
    predictions: :math:`s_{t+1} = \mathrm{model.step\_state}(s_t)`.

    Args:
        model: anything with ``step_state(pos, vel, edge_index, edge_attr, node_attr) ->
            (pos, vel)``, e.g. :class:`ParticleDynamicsModel`.
        data: an NBody graph or a PyG batch of them (``pos``, ``vel`` ``[N, T, d]``,
            ``edge_index``, ``edge_attr``, ``node_attr``).
        steps: frames to predict.
        start: frame to start from (default 0).

    Returns:
        ``(pos, vel)``, each ``[N, steps + 1, d]``, frame 0 being the given start frame.
    """
    pos, vel = _frames(data, start, steps)
    was_training = getattr(model, "training", False)
    if isinstance(model, nn.Module):
        model.eval()
    edge_attr = getattr(data, "edge_attr", None)
    node_attr = getattr(data, "node_attr", None)
    out_pos, out_vel = [pos], [vel]
    try:
        for _ in range(steps):
            pos, vel = model.step_state(pos, vel, data.edge_index, edge_attr, node_attr)
            out_pos.append(pos)
            out_vel.append(vel)
    finally:
        if isinstance(model, nn.Module):
            model.train(was_training)
    return torch.stack(out_pos, 1), torch.stack(out_vel, 1)


def constant_velocity_rollout(data, steps: int, dt: float, start: int = 0) -> Tensor:
    r"""The baseline :math:`\hat x_{t_0 + k} = x_{t_0} + k\, \Delta t\, v_{t_0}`, ``[N, steps + 1,
    d]``."""
    pos, vel = _frames(data, start, steps)
    k = torch.arange(steps + 1, dtype=pos.dtype, device=pos.device).view(1, -1, 1)
    return pos.unsqueeze(1) + k * dt * vel.unsqueeze(1)


@torch.no_grad()
def rollout_errors(model: nn.Module, loader: Iterable, horizons: Sequence[int] = (1, 10, 20),
                   starts: Sequence[int] = (0,), device=None) -> dict[str, float]:
    r"""Position MSE of ``model``'s rollouts and of the constant-velocity baseline at each horizon.

    .. math:: \mathrm{MSE}_k = \frac{1}{N d} \sum_i \| \hat x_{i, t_0 + k} - x_{i, t_0 + k} \|^2

    averaged over every graph of ``loader`` (PyG batches of NBody graphs) and every start frame.

    Returns:
        ``{"mse@k", "baseline_mse@k", "ratio@k"}`` for each ``k`` in ``horizons``, ratio being
        baseline over model (how many times better than constant velocity).
    """
    steps = max(horizons)
    sums = {k: [0.0, 0.0] for k in horizons}
    count = 0
    for batch in loader:
        if device is not None:
            batch = batch.to(device)
        for start in starts:
            if start + steps >= batch.pos.size(1):
                raise ValueError(f"a rollout of {steps} steps from frame {start} needs "
                                 f"{start + steps + 1} frames; the trajectories have "
                                 f"{batch.pos.size(1)}")
            pred, _ = rollout(model, batch, steps, start)
            base = constant_velocity_rollout(batch, steps, model.dt, start)
            true = batch.pos[:, start:start + steps + 1]
            for k in horizons:
                sums[k][0] += (pred[:, k] - true[:, k]).pow(2).mean().item() * pred.size(0)
                sums[k][1] += (base[:, k] - true[:, k]).pow(2).mean().item() * pred.size(0)
            count += pred.size(0)
    if count == 0:
        raise ValueError("rollout_errors: loader yielded no graphs")
    out = {}
    for k in horizons:
        model_mse, base_mse = sums[k][0] / count, sums[k][1] / count
        out[f"mse@{k}"] = model_mse
        out[f"baseline_mse@{k}"] = base_mse
        out[f"ratio@{k}"] = base_mse / model_mse if model_mse > 0 else math.inf
    return out
