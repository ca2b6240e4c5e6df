"""Tests of the learned particle simulator: exact rollouts of a perfect model, the
constant-velocity baseline, the target/update identity, and a short training run."""
import numpy as np
import pytest
import torch
from torch import nn
from torch_geometric.loader import DataLoader

from graphrnn.datasets import NBody, SpringSystem
from graphrnn.datasets.nbody import Transitions
from graphrnn.models.dynamics import (
    ParticleDynamicsModel,
    constant_velocity_rollout,
    fit_normalization,
    make_dynamics_step,
    rollout,
    rollout_errors,
)
from graphrnn.plots.trajectories import plot_trajectories
from graphrnn.train import Trainer

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def springs(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbody")
    return NBody(root, "springs", 5, num_simulations=24, num_steps=25, seed=0, box_size=None)


class Oracle(nn.Module):
    """A perfect model: runs the simulator's own leapfrog between frames (float64)."""

    def __init__(self, system: SpringSystem):
        super().__init__()
        self.system, self.dt = system, system.dt * system.sample_every

    def step_state(self, pos, vel, edge_index, edge_attr, node_attr):
        n = pos.size(0)
        a = np.zeros((1, n, n))
        a[0, edge_index[0].numpy(), edge_index[1].numpy()] = edge_attr[:, 0].numpy()
        x, v = pos.double().numpy()[None], vel.double().numpy()[None]
        dt = self.system.dt
        acc = self.system.acceleration(x, a, None)
        for _ in range(self.system.sample_every):
            v = v + 0.5 * dt * acc
            x = x + dt * v
            acc = self.system.acceleration(x, a, None)
            v = v + 0.5 * dt * acc
        return torch.from_numpy(x[0]).float(), torch.from_numpy(v[0]).float()


def test_rollout_of_a_perfect_model_equals_the_simulator(springs):
    oracle = Oracle(springs.simulator)
    data = springs[3]
    pos, vel = rollout(oracle, data, steps=20, start=2)
    assert pos.shape == vel.shape == (5, 21, 2)
    torch.testing.assert_close(pos, data.pos[:, 2:23], atol=1e-4, rtol=0)
    torch.testing.assert_close(vel, data.vel[:, 2:23], atol=1e-4, rtol=0)
    errors = rollout_errors(oracle, [data], horizons=(1, 10), starts=(0,))
    assert errors["mse@10"] < 1e-8 < errors["baseline_mse@10"]


def test_constant_velocity_baseline_formula(springs):
    data = springs[0]
    base = constant_velocity_rollout(data, steps=4, dt=0.1, start=1)
    for k in range(5):
        torch.testing.assert_close(base[:, k], data.pos[:, 1] + k * 0.1 * data.vel[:, 1])


def test_a_model_predicting_zero_acceleration_is_the_constant_velocity_baseline(springs):
    model = ParticleDynamicsModel(hidden=16, dt=springs.frame_dt)
    for decoder in (model.decoder, model.edge_decoder):
        nn.init.zeros_(decoder[-1].weight), nn.init.zeros_(decoder[-1].bias)
    data = springs[1]
    pos, _ = rollout(model, data, steps=6)
    torch.testing.assert_close(pos, constant_velocity_rollout(data, 6, springs.frame_dt))


def test_targets_and_update_reproduce_the_next_frame(springs):
    model = ParticleDynamicsModel(dt=springs.frame_dt)
    tr = Transitions(springs)
    b = next(iter(DataLoader(tr, batch_size=10)))
    a = model.targets(b.pos, b.vel, b.next_pos, b.next_vel)
    a_x, a_v = a[:, :2], a[:, 2:]
    dt = model.dt
    torch.testing.assert_close(b.pos + dt * b.vel + dt ** 2 * a_x, b.next_pos)
    torch.testing.assert_close(b.vel + dt * a_v, b.next_vel)


def test_transitions_are_graphs_that_pyg_batches(springs):
    tr = Transitions(springs)
    assert len(tr) == 24 * 24
    item = tr[24 + 5]                                   # simulation 1, frames 5 -> 6
    torch.testing.assert_close(item.pos, springs[1].pos[:, 5])
    torch.testing.assert_close(item.next_vel, springs[1].vel[:, 6])
    assert torch.equal(item.edge_attr, springs[1].edge_attr)
    batch = next(iter(DataLoader([tr[0], tr[24], tr[48]], batch_size=3)))
    assert batch.pos.shape == (15, 2) and batch.edge_index.shape == (2, 60)
    # the second graph's edges join its own particles 5..9, sender-major as in NBody
    assert batch.edge_index[:, 20:40].min() == 5 and batch.edge_index[:, 20:40].max() == 9
    assert torch.equal(batch.edge_index[:, 20:40] - 5, springs[0].edge_index)
    assert (batch.edge_index[0] != batch.edge_index[1]).all()
    with pytest.raises(IndexError, match="out of range"):
        tr[len(tr)]


def test_model_is_equivariant_to_particle_order(springs):
    torch.manual_seed(0)
    model = ParticleDynamicsModel(hidden=16, dt=springs.frame_dt)
    data = springs[2]
    perm = torch.tensor([3, 0, 4, 1, 2])
    inv = torch.argsort(perm)
    coupling = torch.zeros(5, 5)
    coupling[data.edge_index[0], data.edge_index[1]] = data.edge_attr[:, 0]
    coupling_p = coupling[perm][:, perm]
    ei = data.edge_index
    out = model(data.pos[:, 0], data.vel[:, 0], ei, data.edge_attr, data.node_attr)
    out_p = model(data.pos[perm, 0], data.vel[perm, 0], ei,
                  coupling_p[ei[0], ei[1]].unsqueeze(-1), data.node_attr[perm])
    torch.testing.assert_close(out_p[inv], out, atol=1e-5, rtol=1e-4)


def test_errors_name_the_input(springs):
    model = ParticleDynamicsModel()
    data = springs[0]
    with pytest.raises(ValueError, match="pos must have shape"):
        model(data.pos, data.vel, data.edge_index)
    with pytest.raises(ValueError, match="edge_attr must have shape"):
        model(data.pos[:, 0], data.vel[:, 0], data.edge_index, data.edge_attr[:3])
    with pytest.raises(ValueError, match="frames"):
        rollout_errors(model, [data], horizons=(30,))
    with pytest.raises(ValueError, match=r"no \['next_pos', 'next_vel'\]"):
        make_dynamics_step()(model, data)


def test_short_training_beats_constant_velocity(springs, tmp_path):
    torch.manual_seed(0)
    train = Transitions(springs)
    model = ParticleDynamicsModel(hidden=32, dt=springs.frame_dt)
    fit_normalization(model, train)
    loader = DataLoader(train, batch_size=64, shuffle=True)
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=3e-3),
                      make_dynamics_step(noise_std=1e-4), max_epochs=8, seed=0, progress=False,
                      tensorboard=False)
    history = trainer.fit(loader)
    assert history[-1]["train_loss"] < 0.2 * history[0]["train_loss"]
    errors = rollout_errors(model, DataLoader([springs[i] for i in range(8)], batch_size=4),
                            horizons=(1, 5), starts=(0, 10))
    assert errors["ratio@1"] > 3 and errors["ratio@5"] > 3
    batch = next(iter(DataLoader([springs[i] for i in range(2)], batch_size=2)))
    pred, _ = rollout(model, batch, 10)
    png = plot_trajectories(batch.pos[:, :11], pred, tmp_path / "traj.png",
                            constant_velocity_rollout(batch, 10, model.dt), num_particles=5)
    assert png.read_bytes()[:4] == b"\x89PNG"
