"""Tests of the particle simulators and the NBody data set: energy, walls, seeds, caching."""
import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from graphrnn.datasets.nbody import NBody, fully_connected_edge_index
from graphrnn.datasets.simulators import ChargedSystem, GravitySystem, SpringSystem, StringSystem


def relative_drift(system, traj):
    """max_t |E_t - E_0| over the system's energy scale (kinetic + |potential|, time-averaged)."""
    e = system.energy(traj)
    m = system._masses(traj.node_attr)[:, None, :]
    kinetic = 0.5 * (m * (traj.vel ** 2).sum(-1)).sum(-1)
    scale = (kinetic + np.abs(e - kinetic)).mean(1)
    return (np.abs(e - e[:, :1]).max(1) / scale).max()


@pytest.mark.parametrize("system,tol", [
    (SpringSystem(box_size=None), 1e-6),
    (SpringSystem(box_size=1.0), 1e-3),            # small box: many bounces, still elastic
    (ChargedSystem(box_size=None, softening=0.3, max_force=None), 1e-4),
    (GravitySystem(), 1e-3),
    (StringSystem(vel_norm=1.0), 1e-4),
])
def test_energy_is_conserved(system, tol):
    traj = system.simulate(4, 20, seed=0)
    assert np.isfinite(traj.pos).all()
    assert relative_drift(system, traj) < tol


def test_energy_function_detects_a_wrong_trajectory():
    system = SpringSystem(box_size=None)
    traj = system.simulate(2, 10, seed=0)
    broken = traj._replace(vel=traj.vel * np.linspace(1, 1.5, 10)[None, :, None, None])
    assert relative_drift(system, broken) > 0.1


def test_forces_are_minus_the_energy_gradient():
    # the acceleration must be minus the gradient of the potential (unit masses)
    pos = np.random.default_rng(0).standard_normal((1, 4, 2))
    for cls_sys in (SpringSystem(num_particles=4), ChargedSystem(num_particles=4, max_force=None),
                    GravitySystem(num_particles=4)):
        _, _, coupling, attr = cls_sys._init(np.random.default_rng(1), 1)
        acc = cls_sys.acceleration(pos, coupling, attr)
        grad = np.zeros_like(pos)
        for i in range(4):
            for d in range(2):
                step = np.zeros_like(pos)
                step[0, i, d] = 1e-6
                grad[0, i, d] = (cls_sys.potential(pos + step, coupling, attr)
                                 - cls_sys.potential(pos - step, coupling, attr))[0] / 2e-6
        mass = cls_sys._masses(attr)[..., None]
        np.testing.assert_allclose(acc * mass, -grad, rtol=1e-5, atol=1e-7)


def test_walls_keep_particles_in_the_box():
    traj = SpringSystem(box_size=0.6, vel_norm=2.0).simulate(3, 30, seed=1)
    assert np.abs(traj.pos).max() <= 0.6 + 1e-12


def test_kipf_defaults_and_structure():
    s = SpringSystem()
    assert (s.num_particles, s.box_size, s.spring_prob, s.spring_constant, s.dt,
            s.sample_every) == (5, 5.0, 0.5, 0.1, 0.001, 100)
    traj = s.simulate(200, 2, seed=0)
    a = traj.interaction
    assert np.array_equal(a, a.transpose(0, 2, 1)) and np.all(np.diagonal(a, 0, 1, 2) == 0)
    assert 0.4 < a.sum() / (200 * 20) < 0.6                    # each pair with p = 0.5
    q = ChargedSystem().simulate(100, 1, seed=0).node_attr
    assert set(np.unique(q)) == {-1.0, 1.0}
    assert ChargedSystem().max_force == pytest.approx(100.0)
    assert traj.frame_dt == pytest.approx(0.1)


def test_string_ends_are_pinned():
    traj = StringSystem(num_particles=6, vel_norm=1.0).simulate(2, 10, seed=0)
    assert np.all(traj.pos[:, :, [0, -1]] == traj.pos[:, :1, [0, -1]])
    assert traj.pos[:, -1, 1:-1, 1].mean() < 0                 # gravity pulls the middle down


def test_simulation_is_deterministic_from_seed():
    a = ChargedSystem().simulate(3, 5, seed=7)
    b = ChargedSystem().simulate(3, 5, seed=7)
    c = ChargedSystem().simulate(3, 5, seed=8)
    assert np.array_equal(a.pos, b.pos) and np.array_equal(a.interaction, b.interaction)
    assert not np.array_equal(a.pos, c.pos)


def test_nbody_generates_once_and_caches(tmp_path):
    ds = NBody(tmp_path, "springs", num_particles=4, num_simulations=6, num_steps=5, seed=2)
    assert ds.generated and ds.cache_path.is_file()
    assert [p.name for p in ds.cache_path.parent.iterdir()] == [ds.cache_path.name]  # no temp
    again = NBody(tmp_path, "springs", num_particles=4, num_simulations=6, num_steps=5, seed=2)
    assert not again.generated
    assert torch.equal(again[3].pos, ds[3].pos)
    other = NBody(tmp_path, "springs", num_particles=4, num_simulations=6, num_steps=5, seed=3)
    assert other.generated and other.cache_path != ds.cache_path
    assert not torch.equal(other[3].pos, ds[3].pos)
    wider = NBody(tmp_path, "springs", num_particles=4, num_simulations=6, num_steps=5, seed=2,
                  box_size=1.0)
    assert wider.cache_path != ds.cache_path
    assert NBody(tmp_path, "springs", num_particles=4, num_simulations=6, num_steps=5, seed=2,
                 force_reload=True).generated


def test_nbody_items_and_batching(tmp_path):
    ds = NBody(tmp_path, "charged", num_particles=5, num_simulations=3, num_steps=4, seed=0,
               softening=0.3)
    d = ds[1]
    assert d.pos.shape == (5, 4, 2) and d.vel.shape == (5, 4, 2) and d.x.shape == (5, 4)
    assert torch.equal(d.edge_index, fully_connected_edge_index(5))
    assert d.edge_index.size(1) == 20 and d.edge_attr.shape == (20, 1)
    q = d.node_attr[:, 0]
    torch.testing.assert_close(d.edge_attr[:, 0], q[d.edge_index[0]] * q[d.edge_index[1]])
    assert d.true_edge_index.size(1) == 20                      # every pair interacts
    springs = NBody(tmp_path, "springs", num_particles=5, num_simulations=3, num_steps=4)
    s = springs[0]
    assert s.true_edge_index.size(1) == int(s.edge_attr.sum())
    batch = next(iter(DataLoader(springs, batch_size=3)))
    assert batch.pos.shape == (15, 4, 2)
    assert batch.true_edge_index.max() >= 10                    # offset by previous graphs
    e = springs.energy(0)
    assert e.shape == (4,) and np.ptp(e) < 1e-4 * abs(e).max()
    with pytest.raises(ValueError, match="system='planets'"):
        NBody(tmp_path, "planets")
