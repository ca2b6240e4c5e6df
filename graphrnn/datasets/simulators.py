r"""Particle simulators, deterministic from a seed, each with its energy function.

Every simulator integrates Newton's equations with leapfrog (kick-drift-kick, i.e. velocity Verlet)
at step ``dt``, keeps every ``sample_every``-th state, and runs many independent systems at once
(arrays ``[S, n, d]`` for ``S`` simulations of ``n`` particles in ``d`` dimensions), in float64
NumPy. ``simulate(num_simulations, num_frames, seed)`` returns a :class:`Trajectories` and
``energy(traj)`` its total energy per frame, ``[S, T]``.

* :class:`SpringSystem` -- Kipf et al. 2018 (NRI, `arXiv:1802.04687
  <https://arxiv.org/abs/1802.04687>`_): 5 balls in a box ``[-5, 5]^2`` with elastic walls, a spring
  on each pair with probability 0.5, :math:`F_i = -k \sum_j A_{ij}(x_i - x_j)`, ``k = 0.1``.
* :class:`ChargedSystem` -- Kipf et al. 2018: charges :math:`\pm 1` with probability 0.5,
  :math:`F_i = k \sum_j q_i q_j (x_i - x_j) / |x_i - x_j|^3` (like charges repel), ``k = 1``.
* :class:`GravitySystem` -- Newtonian gravity with Plummer softening :math:`\epsilon`:
  :math:`F_i = G m_i \sum_j m_j (x_j - x_i) / (|x_j - x_i|^2 + \epsilon^2)^{3/2}`.
* :class:`StringSystem` -- the mass-spring string of DeepMind's graph_nets physics demo: masses on a
  line joined by springs (rest length = their initial spacing), both ends pinned, under gravity.

Initial states follow Kipf et al.: positions ``N(0, loc_std^2)``, velocities with random direction
and norm ``vel_norm`` per particle. With walls, a particle passing ``+-box_size`` is reflected
(position mirrored, that velocity component negated), which conserves kinetic energy.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Trajectories", "ParticleSystem", "SpringSystem", "ChargedSystem", "GravitySystem",
           "StringSystem"]


class Trajectories(NamedTuple):
    """Simulated systems. ``pos``, ``vel``: ``[S, T, n, d]``; ``interaction``: ``[S, n, n]``, the
    pairwise coupling (spring present 0/1, charge product, ``G m_i m_j`` or string spring 0/1; zero
    diagonal); ``node_attr``: ``[S, n, k]`` per-particle constants (charge, mass, pinned flag);
    ``frame_dt``: time between kept frames."""
    pos: np.ndarray
    vel: np.ndarray
    interaction: np.ndarray
    node_attr: np.ndarray
    frame_dt: float


def _pairwise(pos: np.ndarray):
    """``diff[s, i, j] = x_i - x_j`` ``[S, n, n, d]`` and squared distances ``[S, n, n]``."""
    diff = pos[:, :, None, :] - pos[:, None, :, :]
    return diff, np.einsum("sijd,sijd->sij", diff, diff)


class ParticleSystem:
    """Shared leapfrog driver. Subclasses define ``_init(rng, S)`` -> ``(pos, vel, interaction,
    node_attr)``, ``acceleration(pos, interaction, node_attr)`` and ``potential(pos, interaction,
    node_attr)``; masses are 1 unless ``_masses`` is overridden."""

    def __init__(self, num_particles: int = 5, dim: int = 2, dt: float = 0.001,
                 sample_every: int = 100, box_size: float | None = None,
                 loc_std: float = 0.5, vel_norm: float = 0.5):
        if num_particles < 2:
            raise ValueError(f"num_particles must be at least 2, got {num_particles}")
        if dt <= 0 or sample_every < 1:
            raise ValueError(f"need dt > 0 and sample_every >= 1, got dt={dt}, "
                             f"sample_every={sample_every}")
        self.num_particles, self.dim, self.dt = num_particles, dim, dt
        self.sample_every, self.box_size = sample_every, box_size
        self.loc_std, self.vel_norm = loc_std, vel_norm

    # -- to override ------------------------------------------------------------------------
    def _init(self, rng: np.random.Generator, num_simulations: int):
        raise NotImplementedError

    def acceleration(self, pos, interaction, node_attr) -> np.ndarray:
        raise NotImplementedError

    def potential(self, pos, interaction, node_attr) -> np.ndarray:
        """Potential energy ``[...]`` of positions ``[..., n, d]``."""
        raise NotImplementedError

    def _masses(self, node_attr) -> np.ndarray:
        return np.ones(node_attr.shape[:-1])

    def _constrain(self, pos, vel, node_attr):
        """Hook for pinned particles (the string); default: nothing."""
        return pos, vel

    # -- shared -----------------------------------------------------------------------------
    def _random_state(self, rng, num_simulations):
        shape = (num_simulations, self.num_particles, self.dim)
        pos = rng.standard_normal(shape) * self.loc_std
        vel = rng.standard_normal(shape)
        vel *= self.vel_norm / np.linalg.norm(vel, axis=-1, keepdims=True)
        return pos, vel

    def _walls(self, pos, vel):
        if self.box_size is None:
            return pos, vel
        b = self.box_size
        over, under = pos > b, pos < -b
        pos = np.where(over, 2 * b - pos, np.where(under, -2 * b - pos, pos))
        vel = np.where(over | under, -vel, vel)
        return pos, vel

    def simulate(self, num_simulations: int, num_frames: int = 50, seed: int = 0) -> Trajectories:
        """Run ``num_simulations`` systems for ``(num_frames - 1) * sample_every`` steps and keep
        ``num_frames`` states, the initial one first. The same seed gives the same arrays."""
        if num_simulations < 1 or num_frames < 1:
            raise ValueError(f"need num_simulations >= 1 and num_frames >= 1, got "
                             f"{num_simulations}, {num_frames}")
        rng = np.random.default_rng(seed)
        pos, vel, interaction, node_attr = self._init(rng, num_simulations)
        if self.box_size is not None:
            # Fold initial positions drawn outside a small box back into it, by reflection.
            while np.abs(pos).max() > self.box_size:
                pos, vel = self._walls(pos, vel)
        pos, vel = self._constrain(pos, vel, node_attr)
        out_pos = np.empty((num_simulations, num_frames) + pos.shape[1:])
        out_vel = np.empty_like(out_pos)
        out_pos[:, 0], out_vel[:, 0] = pos, vel
        dt = self.dt
        acc = self.acceleration(pos, interaction, node_attr)
        for frame in range(1, num_frames):
            for _ in range(self.sample_every):
                vel = vel + 0.5 * dt * acc                     # kick
                pos = pos + dt * vel                           # drift
                pos, vel = self._walls(pos, vel)
                pos, vel = self._constrain(pos, vel, node_attr)
                acc = self.acceleration(pos, interaction, node_attr)
                vel = vel + 0.5 * dt * acc                     # kick
                pos, vel = self._constrain(pos, vel, node_attr)
            out_pos[:, frame], out_vel[:, frame] = pos, vel
        return Trajectories(out_pos, out_vel, interaction, node_attr, dt * self.sample_every)

    def energy(self, traj: Trajectories) -> np.ndarray:
        """Total energy (kinetic + potential) of every kept frame, ``[S, T]``."""
        m = self._masses(traj.node_attr)[:, None, :]                    # [S, 1, n]
        kinetic = 0.5 * (m * (traj.vel ** 2).sum(-1)).sum(-1)           # [S, T]
        potential = np.stack([self.potential(traj.pos[:, t], traj.interaction, traj.node_attr)
                              for t in range(traj.pos.shape[1])], axis=1)
        return kinetic + potential

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_particles={self.num_particles}, dim={self.dim}, "
                f"dt={self.dt}, sample_every={self.sample_every}, box_size={self.box_size})")


def _symmetric_coin(rng, num_simulations, n, p):
    """``[S, n, n]`` symmetric 0/1 matrices, each off-diagonal pair 1 with probability ``p``."""
    upper = np.triu(rng.random((num_simulations, n, n)) < p, k=1)
    return (upper | upper.transpose(0, 2, 1)).astype(np.float64)


class SpringSystem(ParticleSystem):
    r"""Balls joined by springs (Kipf et al. 2018): :math:`a_i = -k \sum_j A_{ij} (x_i - x_j)`,
    energy :math:`\frac12 \sum_i |v_i|^2 + \frac{k}{2} \sum_{i<j} A_{ij} |x_i - x_j|^2`.

    Args:
        num_particles: balls (default 5).
        spring_prob: probability of a spring on each pair (default 0.5).
        spring_constant: :math:`k` (default 0.1).
        box_size: walls at ``+-box_size``; ``None`` for none (default 5.0).
        dim, dt, sample_every, loc_std, vel_norm: see :class:`ParticleSystem`
            (defaults 2, 0.001, 100, 0.5, 0.5).
    """

    def __init__(self, num_particles: int = 5, spring_prob: float = 0.5,
                 spring_constant: float = 0.1, box_size: float | None = 5.0, **kwargs):
        super().__init__(num_particles, box_size=box_size, **kwargs)
        self.spring_prob, self.spring_constant = spring_prob, spring_constant

    def _init(self, rng, num_simulations):
        springs = _symmetric_coin(rng, num_simulations, self.num_particles, self.spring_prob)
        pos, vel = self._random_state(rng, num_simulations)
        return pos, vel, springs, np.zeros((num_simulations, self.num_particles, 1))

    def acceleration(self, pos, interaction, node_attr):
        diff, _ = _pairwise(pos)
        return -self.spring_constant * np.einsum("sij,sijd->sid", interaction, diff)

    def potential(self, pos, interaction, node_attr):
        _, d2 = _pairwise(pos)
        return 0.25 * self.spring_constant * (interaction * d2).sum((-1, -2))  # pairs counted twice


class ChargedSystem(ParticleSystem):
    r"""Charged particles (Kipf et al. 2018): :math:`a_i = k \sum_j q_i q_j (x_i - x_j) /
    |x_i - x_j|^3`, energy :math:`\frac12 \sum_i |v_i|^2 + k \sum_{i<j} q_i q_j / |x_i - x_j|`.

    Args:
        num_particles: particles (default 5).
        charge_prob: probability of charge +1 (else -1) (default 0.5).
        charge_constant: :math:`k` (default 1.0).
        softening: Plummer softening :math:`\epsilon`, distances become
            :math:`\sqrt{r^2 + \epsilon^2}` in force and energy (default 0.0, as Kipf et al.).
        max_force: clip each acceleration component to ``+-max_force``; Kipf et al. clip at
            ``0.1 / dt`` (the default, ``"kipf"``) to survive close encounters of opposite charges,
            which breaks energy conservation during them; ``None`` switches clipping off.
        box_size: walls at ``+-box_size``; ``None`` for none (default 5.0).
        dim, dt, sample_every, loc_std, vel_norm: as :class:`SpringSystem`.
    """

    def __init__(self, num_particles: int = 5, charge_prob: float = 0.5,
                 charge_constant: float = 1.0, softening: float = 0.0,
                 max_force: float | None | str = "kipf",
                 box_size: float | None = 5.0, **kwargs):
        super().__init__(num_particles, box_size=box_size, **kwargs)
        self.charge_prob, self.charge_constant = charge_prob, charge_constant
        self.softening = softening
        self.max_force = 0.1 / self.dt if max_force == "kipf" else max_force

    def _init(self, rng, num_simulations):
        q = np.where(rng.random((num_simulations, self.num_particles)) < self.charge_prob,
                     1.0, -1.0)
        product = q[:, :, None] * q[:, None, :]
        product[:, np.arange(self.num_particles), np.arange(self.num_particles)] = 0.0
        pos, vel = self._random_state(rng, num_simulations)
        return pos, vel, product, q[:, :, None]

    def acceleration(self, pos, interaction, node_attr):
        diff, d2 = _pairwise(pos)
        n = pos.shape[-2]
        d2 = d2 + self.softening ** 2 + np.eye(n)              # eye: avoid 0/0 on the diagonal
        inv3 = interaction / d2 ** 1.5                         # diagonal is 0 already
        acc = self.charge_constant * np.einsum("sij,sijd->sid", inv3, diff)
        if self.max_force is not None:
            acc = np.clip(acc, -self.max_force, self.max_force)
        return acc

    def potential(self, pos, interaction, node_attr):
        _, d2 = _pairwise(pos)
        n = pos.shape[-2]
        r = np.sqrt(d2 + self.softening ** 2 + np.eye(n))
        return 0.5 * self.charge_constant * (interaction / r).sum((-1, -2))


class GravitySystem(ParticleSystem):
    r"""Newtonian n-body with Plummer softening: :math:`a_i = G \sum_j m_j (x_j - x_i) /
    (|x_j - x_i|^2 + \epsilon^2)^{3/2}`, energy :math:`\frac12 \sum_i m_i |v_i|^2
    - G \sum_{i<j} m_i m_j / \sqrt{|x_i - x_j|^2 + \epsilon^2}`.

    Masses are drawn uniformly from ``mass_range``; the centre-of-mass velocity is removed so the
    system does not drift away. No walls by default.

    Args:
        num_particles: bodies (default 5).
        gravity_constant: :math:`G` (default 1.0).
        softening: :math:`\epsilon` (default 0.1).
        mass_range: ``(low, high)`` of the masses (default ``(0.5, 1.5)``).
        box_size: walls at ``+-box_size``, or ``None`` (default ``None``).
        dim, dt, sample_every, loc_std, vel_norm: as :class:`SpringSystem` (``loc_std`` default
            1.0 here, ``vel_norm`` 0.5).
    """

    def __init__(self, num_particles: int = 5, gravity_constant: float = 1.0,
                 softening: float = 0.1, mass_range: tuple[float, float] = (0.5, 1.5),
                 box_size: float | None = None, loc_std: float = 1.0, **kwargs):
        super().__init__(num_particles, box_size=box_size, loc_std=loc_std, **kwargs)
        self.gravity_constant, self.softening, self.mass_range = (gravity_constant, softening,
                                                                  tuple(mass_range))

    def _masses(self, node_attr):
        return node_attr[..., 0]

    def _init(self, rng, num_simulations):
        n = self.num_particles
        m = rng.uniform(*self.mass_range, size=(num_simulations, n))
        pos, vel = self._random_state(rng, num_simulations)
        com_vel = (m[..., None] * vel).sum(1, keepdims=True) / m.sum(1)[:, None, None]
        vel = vel - com_vel
        coupling = self.gravity_constant * m[:, :, None] * m[:, None, :] * (1 - np.eye(n))
        return pos, vel, coupling, m[..., None]

    def acceleration(self, pos, interaction, node_attr):
        diff, d2 = _pairwise(pos)                                  # diff = x_i - x_j
        m = node_attr[..., 0]
        # a_i = sum_j G m_i m_j (x_j - x_i) / r^3 / m_i
        w = interaction / (d2 + self.softening ** 2) ** 1.5 / m[:, :, None]
        return -np.einsum("sij,sijd->sid", w, diff)

    def potential(self, pos, interaction, node_attr):
        _, d2 = _pairwise(pos)
        return -0.5 * (interaction / np.sqrt(d2 + self.softening ** 2)).sum((-1, -2))


class StringSystem(ParticleSystem):
    r"""The mass-spring string of the graph_nets physics demo: ``n`` unit masses start evenly spaced
    on the x axis (spacing ``rest_length``), neighbours joined by springs of constant ``k`` and rest
    length ``rest_length``, the first and last mass pinned, gravity ``g`` pulling along ``-y``.
    Energy :math:`\frac12 \sum_i |v_i|^2 + \frac{k}{2} \sum_{i} (|x_{i+1} - x_i| - L)^2
    + g \sum_i y_i`.

    Initial velocities of the free masses are random with norm ``vel_norm`` (default 0, the demo's
    string released at rest); ``node_attr`` is the pinned flag.

    Args:
        num_particles: masses (default 10).
        spring_constant: :math:`k` (default 50.0).
        rest_length: :math:`L` (default 1.0; the string starts unstretched).
        gravity: :math:`g` (default 10.0).
        dt, sample_every, vel_norm: as :class:`ParticleSystem` (defaults 0.001, 100, 0.0).
    """

    def __init__(self, num_particles: int = 10, spring_constant: float = 50.0,
                 rest_length: float = 1.0, gravity: float = 10.0, vel_norm: float = 0.0,
                 **kwargs):
        kwargs.setdefault("dim", 2)
        if kwargs["dim"] != 2:
            raise ValueError(f"StringSystem is two-dimensional, got dim={kwargs['dim']}")
        super().__init__(num_particles, vel_norm=vel_norm, box_size=None, **kwargs)
        self.spring_constant, self.rest_length, self.gravity = (spring_constant, rest_length,
                                                                gravity)

    def _init(self, rng, num_simulations):
        n = self.num_particles
        pos = np.zeros((num_simulations, n, 2))
        pos[..., 0] = self.rest_length * (np.arange(n) - (n - 1) / 2)
        vel = rng.standard_normal((num_simulations, n, 2))
        norm = np.linalg.norm(vel, axis=-1, keepdims=True)
        vel = vel * (self.vel_norm / norm)
        chain = np.zeros((n, n))
        chain[np.arange(n - 1), np.arange(1, n)] = 1.0
        chain = np.broadcast_to(chain + chain.T, (num_simulations, n, n)).copy()
        pinned = np.zeros((num_simulations, n, 1))
        pinned[:, [0, -1]] = 1.0
        return pos, vel, chain, pinned

    def _constrain(self, pos, vel, node_attr):
        free = 1.0 - node_attr                                  # [S, n, 1]
        return pos, vel * free

    def acceleration(self, pos, interaction, node_attr):
        diff, d2 = _pairwise(pos)                               # x_i - x_j
        dist = np.sqrt(d2 + np.eye(pos.shape[-2]))              # diagonal: 1, masked below
        # Hooke: a_i = -k sum_j A_ij (|d| - L) d / |d|
        w = interaction * (dist - self.rest_length) / dist
        acc = -self.spring_constant * np.einsum("sij,sijd->sid", w, diff)
        acc[..., 1] -= self.gravity
        return acc * (1.0 - node_attr)                         # pinned masses do not move

    def potential(self, pos, interaction, node_attr):
        _, d2 = _pairwise(pos)
        stretch = np.sqrt(d2) - self.rest_length
        springs = 0.25 * self.spring_constant * (interaction * stretch ** 2).sum((-1, -2))
        return springs + self.gravity * pos[..., 1].sum(-1)
