"""Predict molecular properties with a message-passing network (Gilmer et al. 2017's MPNN: edge
network messages, GRU updates; sum readout for ESOL, FreeSolv and TPSA, Set2Set for the others).

Data sets: MoleculeNet's ESOL (log solubility, the default), FreeSolv (hydration free energy),
Lipophilicity (logD) and BBBP (blood-brain barrier penetration, classification), read from
``--root`` (default: the local copy in ../shared/data/molecules, else downloaded to
data/molecules); and TPSA, which rdkit ships (``graphrnn train tpsa``). Random 80/10/10 split with
``--seed`` or Bemis-Murcko scaffold split. The best epoch on the validation split is kept and scored
once on the test split; OUT/test_metrics.json holds the result.

    graphrnn train esol --threads 1
    graphrnn train esol --dataset freesolv --split scaffold --seed 1
    graphrnn evaluate esol --checkpoint runs/esol/best.pt
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
from torch_geometric.loader import DataLoader

from graphrnn.tasks.molecules import (MoleculeModel, evaluate_molecules, load_molecule_dataset,
                                      molecule_step, split_dataset, target_stats)
from graphrnn.train import (Trainer, apply_threads, example_parser, load_checkpoint,
                            resolve_device, seed_everything, write_results)

DESCRIPTION = "MPNN on MoleculeNet (ESOL, FreeSolv, Lipophilicity, BBBP), random/scaffold split"

DATASETS = ("esol", "freesolv", "lipophilicity", "bbbp", "tpsa")
# per data set: readout, message-passing rounds, epochs, batch size, dropout, gradient clipping.
# Sum readouts keep the molecule's size, which solubility depends on; TPSA is exactly a sum of
# contributions of atoms given their bonds: one round and the additive readout.
DEFAULTS = {"tpsa": ("additive", 1, 20, 32, 0.0, 1.0), "esol": ("sum", 3, 80, 32, 0.1, None),
            "freesolv": ("sum", 3, 100, 32, 0.1, None),
            "lipophilicity": ("set2set", 3, 40, 64, 0.1, None),
            "bbbp": ("set2set", 3, 40, 32, 0.1, None)}


def parser(name: str = "esol", dataset: str = "esol", evaluate: bool = False):
    readout, steps, epochs, batch_size, dropout, clip = DEFAULTS[dataset]
    p = example_parser(name, __doc__, epochs=epochs)
    p.add_argument("--dataset", default=dataset, choices=DATASETS)
    p.add_argument("--split", default="random", choices=["random", "scaffold"])
    p.add_argument("--core", default="mpnn", choices=["mpnn", "gn"])
    p.add_argument("--readout", default=readout,
                   choices=["sum", "mean", "attention", "set2set", "additive"])
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--message-steps", type=int, default=steps, help="default: %(default)s")
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--dropout", type=float, default=dropout, help="default: %(default)s")
    p.add_argument("--clip-grad-norm", type=float, default=clip, help="default: %(default)s")
    p.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay")
    if evaluate:
        p.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    return p


def _splits(args):
    dataset, task = load_molecule_dataset(args.dataset, args.root)
    if args.quick:      # a few hundred molecules, for smoke tests and the tour
        dataset = torch.utils.data.Subset(dataset, range(min(len(dataset), 300)))
        dataset.smiles = [dataset.dataset.smiles[i] for i in dataset.indices]
    return split_dataset(dataset, args.split, seed=args.seed), task


def _monitor(task: str):
    return ("val_rmse", "min") if task == "regression" else ("val_roc_auc", "max")


def train(argv=None, name: str = "esol", dataset: str = "esol") -> int:
    args = parser(name, dataset).parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    out = Path(args.out)
    if args.quick:
        args.hidden = min(args.hidden, 32)
    seed_everything(args.seed)
    t0 = time.perf_counter()
    (train_set, val_set, test_set), task = _splits(args)
    print(f"{args.dataset} ({task}, {args.split} split): {len(train_set)} / {len(val_set)} / "
          f"{len(test_set)} molecules ({time.perf_counter() - t0:.1f}s to featurise)")
    num_targets = train_set[0].y.size(-1)
    model = MoleculeModel(num_targets, hidden=args.hidden, num_steps=args.message_steps,
                          core=args.core, readout=args.readout, task=task, dropout=args.dropout)
    if task == "regression":
        model.set_target_stats(*target_stats(train_set))
    gen = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=gen)
    val_loader = DataLoader(val_set, batch_size=256)
    test_loader = DataLoader(test_set, batch_size=256)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs,
                                                           eta_min=args.lr / 50)
    monitor, mode = _monitor(task)
    config = {"model": model.config, "dataset": args.dataset, "split": args.split,
              "seed": args.seed, "quick": args.quick}
    trainer = Trainer(model, optimizer, molecule_step, scheduler=scheduler,
                      evaluate_fn=lambda m, loader: evaluate_molecules(m, loader, device),
                      clip_grad_norm=args.clip_grad_norm, max_epochs=args.epochs,
                      monitor=monitor, mode=mode, seed=args.seed,
                      device=device, out_dir=out, resume=args.resume, config=config,
                      restore_best=True, progress=not args.quick, tensorboard=False)
    history = trainer.fit(train_loader, val_loader)
    per_epoch = sum(r["time"] for r in history) / max(len(history), 1)
    test = evaluate_molecules(trainer.model, test_loader, device)
    best = trainer.best_epoch
    result = {"dataset": args.dataset, "split": args.split, "seed": args.seed, "best_epoch": best,
              "best_" + monitor: trainer.best_score, "epochs": len(history),
              "seconds_per_epoch": per_epoch,
              **{f"test_{k}": v for k, v in test.items()}}
    print(f"best epoch {best} ({monitor} {trainer.best_score:.4g}), {per_epoch:.1f}s per epoch; "
          "test: " + ", ".join(f"{k} {v:.4g}" for k, v in test.items()))
    write_results(out, "test_metrics.json", result)
    return 0


def evaluate(argv=None, name: str = "esol", dataset: str = "esol") -> int:
    args = parser(name, dataset, evaluate=True).parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    ckpt = load_checkpoint(args.checkpoint or Path(args.out) / "best.pt", map_location=device)
    config = ckpt["config"]
    args.dataset, args.split = config["dataset"], config["split"]
    args.seed, args.quick = config["seed"], config.get("quick", False)
    model = MoleculeModel(**config["model"]).to(device)
    model.load_state_dict(ckpt["model"])
    (_, _, test_set), _ = _splits(args)
    test = evaluate_molecules(model, DataLoader(test_set, batch_size=256), device)
    print(f"{args.dataset} ({args.split} split, seed {args.seed}), {len(test_set)} test "
          "molecules: " + ", ".join(f"{k} {v:.4g}" for k, v in test.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
