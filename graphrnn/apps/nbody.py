"""Learn particle dynamics with an interaction network and roll it out (Battaglia et al. 2016;
Sanchez-Gonzalez et al. 2020).

Simulates NBody systems (Kipf et al.'s springs by default: 5 balls in a box, springs on random
pairs; cached under --root), trains a graph network one frame at a time on the fully connected
graph with relative positions and the known couplings, then rolls it out on held-out systems -- of
5 particles and, without retraining, of 10 -- and reports the position MSE after 1, 10 and 20
frames next to the constant-velocity baseline (results["n5"]["ratio@10"]: how many times lower the
model's error is). Writes OUT/trajectories_n5.png and _n10.png.

    graphrnn train nbody --system springs --threads 1
    graphrnn train nbody --system charged --noise 0.0003
    graphrnn evaluate nbody --checkpoint runs/nbody/best.pt
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import EvaluateConfig, TrainConfig, option

APP = "nbody"
HORIZONS = (1, 10, 20)
STARTS = (0, 10, 20, 29)          # rollout start frames (50-frame trajectories)
FRAMES = 50


@dataclass
class Config(TrainConfig):
    root: str | None = option("data", "folder for the simulation cache (ROOT/nbody/)")
    epochs: int = option(12, "training epochs", min=1)
    system: str = option("springs", "the simulated system",
                         choices=("springs", "charged", "gravity", "string"))
    particles: int = option(5, "particles when training", min=2)
    test_particles: list[int] = option([5, 10], "particle counts to roll out on", min=2)
    train_sims: int = option(1000, "training simulations (49 transitions each)", min=1)
    test_sims: int = option(100, "held-out simulations per particle count", min=1)
    hidden: int = option(128, "latent width of every MLP", min=1)
    message_steps: int = option(1, "interaction-network rounds", min=1)
    batch_size: int = option(128, "transitions per batch", min=1)
    lr: float = option(1e-3, "Adam learning rate (cosine to lr / 100)", positive=True)
    noise: float = option(0.0, "std of Gaussian noise on the input state while training", min=0)
    node_decoder: bool = option(False, "decode accelerations from node latents only, not as a "
                                "sum of per-edge terms (generalises worse to more particles)")


def _data(config: Config, num_particles: int, num_sims: int, seed: int):
    from ..datasets.nbody import NBody

    return NBody(config.root, config.system, num_particles, num_simulations=num_sims,
                 num_steps=FRAMES, seed=seed)


def _model(config: Config, simulations):
    from ..models.dynamics import ParticleDynamicsModel

    sample = simulations[0]
    return ParticleDynamicsModel(dim=sample.pos.size(-1), node_attr_dim=sample.node_attr.size(-1),
                                 edge_attr_dim=sample.edge_attr.size(-1), hidden=config.hidden,
                                 num_steps=config.message_steps,
                                 decode_edges=not config.node_decoder, dt=simulations.frame_dt)


def _report(model, config: Config, device, out: Path) -> dict:
    """Rollout errors on held-out systems of each ``test_particles`` count, and their plots."""
    from torch_geometric.loader import DataLoader

    from ..models.dynamics import constant_velocity_rollout, rollout, rollout_errors
    from ..plots.trajectories import plot_trajectories

    results = {}
    steps = 5 if config.quick else max(HORIZONS)
    horizons = tuple(h for h in HORIZONS if h <= steps)
    starts = (0,) if config.quick else STARTS
    for n in config.test_particles:
        # test seeds differ from the training (seed) and validation (seed + 1) ones
        test = _data(config, n, config.test_sims, seed=1000 + config.seed + n)
        errors = rollout_errors(model, DataLoader(test, batch_size=64), horizons, starts,
                                device=device)
        results[f"n{n}"] = errors
        print(f"{n} particles: " + "  ".join(
            f"@{k}: model {errors[f'mse@{k}']:.3g} const-vel {errors[f'baseline_mse@{k}']:.3g} "
            f"({errors[f'ratio@{k}']:.0f}x)" for k in horizons))
        batch = next(iter(DataLoader(test, batch_size=4))).to(device)
        pred, _ = rollout(model, batch, steps)
        base = constant_velocity_rollout(batch, steps, model.dt)
        plot_trajectories(batch.pos[:, :steps + 1], pred, out / f"trajectories_n{n}.png", base,
                          num_particles=n,
                          title=f"{config.system}, {n} particles: true (solid), model (dashed), "
                                f"constant velocity (dotted), {steps} frames")
    return results


def train(config: Config) -> dict:
    import torch
    from torch_geometric.loader import DataLoader

    from ..datasets.nbody import Transitions
    from ..models.dynamics import fit_normalization, make_dynamics_step
    from ..train import Trainer, seed_everything
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    if config.quick:
        config.train_sims, config.test_sims, config.hidden = 40, 10, 32
        config.test_particles = config.test_particles[:2]
    seed_everything(config.seed)
    timer = Timer()
    simulations = _data(config, config.particles, config.train_sims, config.seed)
    train_set = Transitions(simulations)
    val_set = Transitions(_data(config, config.particles, max(10, config.train_sims // 10),
                                config.seed + 1))
    print(f"{config.system}: {len(train_set)} training / {len(val_set)} validation transitions "
          f"({timer.seconds:.1f}s to simulate or load)")
    model = _model(config, simulations)
    fit_normalization(model, train_set, seed=config.seed)
    train_loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(config.seed))
    val_loader = DataLoader(val_set, batch_size=1024)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs,
                                                           eta_min=config.lr / 100)
    trainer = Trainer(model, optimizer, make_dynamics_step(config.noise), scheduler=scheduler,
                      restore_best=True, **trainer_options(APP, config, device))
    history = trainer.fit(train_loader, val_loader)
    per_epoch = sum(r["time"] for r in history) / max(len(history), 1)
    print(f"mean time per epoch: {per_epoch:.1f}s")
    return {**_report(trainer.model, config, device, Path(config.out)),
            "best_epoch": trainer.best_epoch, "seconds_per_epoch": per_epoch,
            "train_seconds": timer.seconds}


@dataclass
class Evaluate(EvaluateConfig):
    root: str | None = option(None, "folder for the simulation cache (default: the training "
                              "run's)")


def evaluate(config: Evaluate) -> dict:
    """Roll the checkpoint's model out on the held-out systems it was trained for."""
    from .runtime import open_trained

    device, _, ckpt, trained = open_trained(config, APP, Config)
    if config.root is not None:
        trained.root = config.root
    n = trained.test_particles[0]                       # the first test set, loaded again below
    model = _model(trained, _data(trained, n, trained.test_sims, 1000 + trained.seed + n))
    model.load_state_dict(ckpt["model"])
    return _report(model.to(device), trained, device, Path(config.out))


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
