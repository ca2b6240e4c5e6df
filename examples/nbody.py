"""Learn particle dynamics with an interaction network and roll it out (Battaglia et al. 2016;
Sanchez-Gonzalez et al. 2020).

Simulates NBody systems (Kipf et al.'s springs by default: 5 balls in a box, springs on random
pairs), trains a graph network one frame at a time on the fully connected graph with relative
positions and the known couplings, then rolls it out on held-out systems -- of 5 particles and,
without retraining, of 10 -- and reports the position MSE after 1, 10 and 20 frames next to the
constant-velocity baseline. Writes OUT/rollout.json and OUT/trajectories_n5.png / _n10.png.

    graphrnn train nbody --system springs --threads 1
    graphrnn evaluate nbody --checkpoint runs/nbody/best.pt
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
from torch_geometric.loader import DataLoader

from graphrnn.datasets import NBody
from graphrnn.tasks.dynamics import (ParticleDynamicsModel, Transitions, constant_velocity_rollout,
                                     fit_normalization, make_dynamics_step, plot_trajectories,
                                     rollout, rollout_errors)
from graphrnn.train import (Trainer, apply_threads, example_parser, load_checkpoint,
                            resolve_device, seed_everything, write_results)

DESCRIPTION = "graph network learning n-body dynamics (springs), rolled out vs constant velocity"

HORIZONS = (1, 10, 20)
STARTS = (0, 10, 20, 29)          # rollout start frames (50-frame trajectories)


def _parser(evaluate: bool = False):
    parser = example_parser("nbody", __doc__, epochs=12, root="data")
    parser.add_argument("--system", default="springs",
                        choices=["springs", "charged", "gravity", "string"])
    parser.add_argument("--particles", type=int, default=5, help="particles when training")
    parser.add_argument("--test-particles", type=int, nargs="+", default=[5, 10],
                        help="particle counts to evaluate rollouts on (default: 5 10)")
    parser.add_argument("--train-sims", type=int, default=1000)
    parser.add_argument("--test-sims", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--message-steps", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--noise", type=float, default=0.0,
                        help="std of Gaussian input noise while training (default: 0)")
    parser.add_argument("--node-decoder", action="store_true",
                        help="decode accelerations from node latents only, not as a sum of "
                             "per-edge terms (generalises worse to more particles)")
    if evaluate:
        parser.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    return parser


def _data(args, num_particles: int, num_sims: int, seed: int) -> NBody:
    return NBody(args.root, args.system, num_particles, num_simulations=num_sims, num_steps=50,
                 seed=seed)


def _report(model, args, device, out: Path) -> dict:
    results = {}
    steps = 5 if args.quick else max(HORIZONS)
    horizons = tuple(h for h in HORIZONS if h <= steps)
    starts = (0,) if args.quick else STARTS
    for n in args.test_particles:
        # test seeds differ from the training (seed) and validation (seed + 1) ones
        test = _data(args, n, 10 if args.quick else args.test_sims, seed=1000 + args.seed + n)
        loader = DataLoader(test, batch_size=64)
        errors = rollout_errors(model, loader, horizons, starts, device=device)
        results[f"n{n}"] = errors
        print(f"{n} particles: " + "  ".join(
            f"@{k}: model {errors[f'mse@{k}']:.3g} const-vel {errors[f'baseline_mse@{k}']:.3g} "
            f"({errors[f'ratio@{k}']:.0f}x)" for k in horizons))
        batch = next(iter(DataLoader(test, batch_size=4))).to(device)
        pred, _ = rollout(model, batch, steps)
        base = constant_velocity_rollout(batch, steps, model.dt)
        plot_trajectories(batch.pos[:, :steps + 1], pred, out / f"trajectories_n{n}.png", base,
                          num_particles=n,
                          title=f"{args.system}, {n} particles: true (solid), model (dashed), "
                                f"constant velocity (dotted), {steps} frames")
    write_results(out, "rollout.json", results)
    return results


def train(argv=None) -> int:
    args = _parser().parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    out = Path(args.out)
    if args.quick:
        args.train_sims, args.test_sims, args.hidden = 40, 10, 32
        args.test_particles = args.test_particles[:2]
    seed_everything(args.seed)
    t0 = time.perf_counter()
    simulations = _data(args, args.particles, args.train_sims, args.seed)
    train_set = Transitions(simulations)
    val_set = Transitions(_data(args, args.particles, max(10, args.train_sims // 10),
                                args.seed + 1))
    print(f"{args.system}: {len(train_set)} training / {len(val_set)} validation transitions "
          f"({time.perf_counter() - t0:.1f}s to simulate or load)")
    sample = train_set[0]
    model = ParticleDynamicsModel(dim=sample["pos"].size(-1),
                                  node_attr_dim=sample["node_attr"].size(-1),
                                  edge_attr_dim=sample["edge_attr"].size(-1), hidden=args.hidden,
                                  num_steps=args.message_steps,
                                  decode_edges=not args.node_decoder,
                                  dt=simulations.frame_dt)
    fit_normalization(model, train_set, seed=args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size,
                                               shuffle=True, generator=gen)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=1024)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    epochs = args.epochs
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs,
                                                           eta_min=args.lr / 100)
    config = {"model": model.config, "system": args.system, "particles": args.particles,
              "seed": args.seed, "test_sims": args.test_sims}
    trainer = Trainer(model, optimizer, make_dynamics_step(args.noise), scheduler=scheduler,
                      max_epochs=epochs, seed=args.seed, device=device, out_dir=out,
                      resume=args.resume, config=config, restore_best=True,
                      progress=not args.quick, tensorboard=False)
    history = trainer.fit(train_loader, val_loader)
    if history:
        print(f"mean time per epoch: {sum(r['time'] for r in history) / len(history):.1f}s")
    _report(trainer.model, args, device, out)
    return 0


def evaluate(argv=None) -> int:
    args = _parser(evaluate=True).parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    out = Path(args.out)
    ckpt = load_checkpoint(args.checkpoint or out / "best.pt", map_location=device)
    config = ckpt["config"]
    model = ParticleDynamicsModel(**config["model"]).to(device)
    model.load_state_dict(ckpt["model"])
    args.system, args.seed = config["system"], config["seed"]
    args.test_sims = config.get("test_sims", args.test_sims)
    _report(model, args, device, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
