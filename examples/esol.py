"""Predict molecular properties with a message-passing network (Gilmer et al. 2017's MPNN: edge
network messages, GRU updates; sum readout for ESOL, FreeSolv and TPSA, Set2Set for the others).
``--core dmpnn`` uses the directed MPNN of Yang et al. 2019 (chemprop's: states on directed bonds,
no message straight back along a bond) and ``--core gn`` residual graph-network blocks.

Data sets: MoleculeNet's ESOL (log solubility, the default), FreeSolv (hydration free energy),
Lipophilicity (logD) and BBBP (blood-brain barrier penetration, classification), read from
``--root`` (default: the local copy in ../shared/data/molecules, else downloaded to
data/molecules); and TPSA, which rdkit ships (``graphrnn train tpsa``). Random 80/10/10 split with
``--seed`` or Bemis-Murcko scaffold split. The best epoch on the validation split is kept and scored
once on the test split; OUT/test_metrics.json holds the result. ``--ensemble K`` (default 3 for
ESOL and FreeSolv, else 1) trains K models on the same split, from seeds SEED + 1000 k, each kept
at its best validation epoch (OUT/member<k>/best.pt), and scores the mean of their predictions.
``--descriptors`` (off by default) gives the model 90 molecule-level RDKit 2-D descriptors
(graphrnn.structures.descriptors: logP, molar refractivity, TPSA, counts, topological indices, ...),
standardised with the training split's mean and standard deviation and concatenated to the readout
before the head, as chemprop's ``--features_generator rdkit_2d_normalized`` does; the checkpoint's
config names them, so ``evaluate`` recomputes the same ones.

    graphrnn train esol --threads 1
    graphrnn train esol --descriptors --split scaffold --threads 1
    graphrnn train esol --core mpnn --hidden 64 --threads 1
    graphrnn train esol --dataset freesolv --split scaffold --seed 1
    graphrnn evaluate esol --checkpoint runs/esol/best.pt
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch_geometric.loader import DataLoader

from graphrnn.tasks.molecules import (MoleculeEnsemble, MoleculeModel, descriptor_stats,
                                      evaluate_molecules, load_molecule_dataset, molecule_step,
                                      split_dataset, target_stats)
from graphrnn.train import (Trainer, apply_threads, example_parser, load_checkpoint,
                            resolve_device, seed_everything, write_results)

DESCRIPTION = "MPNN on MoleculeNet (ESOL, FreeSolv, Lipophilicity, BBBP), random/scaffold split"

DATASETS = ("esol", "freesolv", "lipophilicity", "bbbp", "tpsa")
# per data set: core, hidden width, readout, message-passing rounds, epochs, batch size, dropout,
# gradient clipping, ensemble size. Sum readouts keep the molecule's size, which solubility depends
# on; TPSA is exactly a sum of contributions of atoms given their bonds: one round and the additive
# readout. The small regression sets (ESOL ~0.9k, FreeSolv ~0.5k training molecules) overfit a
# single model; the mean of 3 models from different initialisations lowered ESOL's validation RMSE
# on seeds 0, 1 and 2 (weight decay, more dropout, a smaller width or fewer rounds did not, on
# average). On ESOL the directed MPNN at width 128 had the lowest mean validation RMSE over seeds
# 0-2, with descriptors and without, of the cores and widths in the README's study.
DEFAULTS = {"tpsa": ("mpnn", 64, "additive", 1, 20, 32, 0.0, 1.0, 1),
            "esol": ("dmpnn", 128, "sum", 3, 80, 32, 0.1, None, 3),
            "freesolv": ("mpnn", 64, "sum", 3, 100, 32, 0.1, None, 3),
            "lipophilicity": ("mpnn", 64, "set2set", 3, 40, 64, 0.1, None, 1),
            "bbbp": ("mpnn", 64, "set2set", 3, 40, 32, 0.1, None, 1)}


def _named_dataset(argv, dataset: str) -> str:
    """The ``--dataset`` that ``argv`` names (else ``dataset``), so that its defaults apply:
    ``graphrnn train esol --dataset freesolv`` trains FreeSolv with FreeSolv's settings."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--dataset", default=dataset, choices=DATASETS)
    return pre.parse_known_args(argv)[0].dataset


def parser(name: str = "esol", dataset: str = "esol", evaluate: bool = False):
    core, hidden, readout, steps, epochs, batch_size, dropout, clip, ensemble = DEFAULTS[dataset]
    p = example_parser(name, __doc__, epochs=epochs)
    p.add_argument("--dataset", default=dataset, choices=DATASETS)
    p.add_argument("--split", default="random", choices=["random", "scaffold"])
    p.add_argument("--core", default=core, choices=["mpnn", "dmpnn", "gn"],
                   help="default: %(default)s")
    p.add_argument("--readout", default=readout,
                   choices=["sum", "mean", "attention", "set2set", "additive"])
    p.add_argument("--hidden", type=int, default=hidden, help="default: %(default)s")
    p.add_argument("--message-steps", type=int, default=steps, help="default: %(default)s")
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--dropout", type=float, default=dropout, help="default: %(default)s")
    p.add_argument("--clip-grad-norm", type=float, default=clip, help="default: %(default)s")
    p.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay")
    p.add_argument("--ensemble", type=int, default=ensemble,
                   help="train this many models (seeds SEED + 1000 k) on the split and average "
                        "their predictions (OUT/member<k>/ per model) (default: %(default)s)")
    if not evaluate:
        p.add_argument("--descriptors", action="store_true",
                       help="concatenate 90 RDKit 2-D descriptors of each molecule, standardised "
                            "on the training split, to the readout (default: off)")
    if evaluate:
        p.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    return p


def _splits(args, descriptors=None):
    """``([train, val, test], task, descriptor names or None)``; ``descriptors``: ``True``, the
    names a checkpoint recorded, or ``None`` for none."""
    dataset, task = load_molecule_dataset(args.dataset, args.root, descriptors=descriptors)
    names = dataset.descriptor_names
    if args.quick:      # a few hundred molecules, for smoke tests and the tour
        dataset = torch.utils.data.Subset(dataset, range(min(len(dataset), 300)))
        dataset.smiles = [dataset.dataset.smiles[i] for i in dataset.indices]
    return split_dataset(dataset, args.split, seed=args.seed), task, names


def _build_model(args, num_targets: int, task: str, descriptor_size: int = 0) -> MoleculeModel:
    return MoleculeModel(num_targets, hidden=args.hidden, num_steps=args.message_steps,
                         core=args.core, readout=args.readout, task=task, dropout=args.dropout,
                         descriptor_size=descriptor_size)


def _member_dir(out: Path, k: int, ensemble: int) -> Path:
    return out if ensemble == 1 else out / f"member{k}"


def _monitor(task: str):
    return ("val_rmse", "min") if task == "regression" else ("val_roc_auc", "max")


def train(argv=None, name: str = "esol", dataset: str = "esol") -> int:
    args = parser(name, _named_dataset(argv, dataset)).parse_args(argv)
    if args.ensemble < 1:
        raise SystemExit(f"--ensemble must be at least 1, got {args.ensemble}")
    if args.descriptors and args.readout == "additive":
        raise SystemExit("--descriptors needs a per-molecule readout, not --readout additive")
    apply_threads(args.threads)
    device = resolve_device(args.device)
    out = Path(args.out)
    if args.quick:
        args.hidden = min(args.hidden, 32)
    seed_everything(args.seed)
    t0 = time.perf_counter()
    (train_set, val_set, test_set), task, names = _splits(args, args.descriptors or None)
    print(f"{args.dataset} ({task}, {args.split} split): {len(train_set)} / {len(val_set)} / "
          f"{len(test_set)} molecules" + (f", {len(names)} descriptors" if names else "")
          + f" ({time.perf_counter() - t0:.1f}s to featurise)")
    # descriptors are scaled by the training split's statistics only
    desc_stats = descriptor_stats(train_set) if names else None
    num_targets = train_set[0].y.size(-1)
    val_loader = DataLoader(val_set, batch_size=256)
    test_loader = DataLoader(test_set, batch_size=256)
    monitor, mode = _monitor(task)
    members, history, per_member = [], [], []
    for k in range(args.ensemble):
        # member k: its own initialisation and batch order (seed + 1000 k) on the same split;
        # member 0 is the single model of --ensemble 1
        member_seed = args.seed + 1000 * k
        seed_everything(member_seed)
        model = _build_model(args, num_targets, task, len(names) if names else 0)
        if task == "regression":
            model.set_target_stats(*target_stats(train_set))
        if names:
            model.set_descriptor_stats(*desc_stats)
        gen = torch.Generator().manual_seed(member_seed)
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                  generator=gen)
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr,
                                      weight_decay=args.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs,
                                                               eta_min=args.lr / 50)
        config = {"model": model.config, "dataset": args.dataset, "split": args.split,
                  "seed": args.seed, "member_seed": member_seed, "quick": args.quick,
                  "descriptors": list(names) if names else None}
        trainer = Trainer(model, optimizer, molecule_step, scheduler=scheduler,
                          evaluate_fn=lambda m, loader: evaluate_molecules(m, loader, device),
                          clip_grad_norm=args.clip_grad_norm, max_epochs=args.epochs,
                          monitor=monitor, mode=mode, seed=member_seed, device=device,
                          out_dir=_member_dir(out, k, args.ensemble), resume=args.resume,
                          config=config, restore_best=True, progress=not args.quick,
                          tensorboard=False)
        history += trainer.fit(train_loader, val_loader)
        members.append(trainer.model)
        per_member.append({"seed": member_seed, "best_epoch": trainer.best_epoch,
                           "best_" + monitor: trainer.best_score})
    model = members[0] if len(members) == 1 else MoleculeEnsemble(members)
    val = evaluate_molecules(model, val_loader, device)
    per_epoch = sum(r["time"] for r in history) / max(len(history), 1)
    test = evaluate_molecules(model, test_loader, device)
    best = per_member[0]["best_epoch"] if len(members) == 1 else \
        [r["best_epoch"] for r in per_member]
    score = val[monitor[len("val_"):]]
    result = {"dataset": args.dataset, "split": args.split, "seed": args.seed,
              "descriptors": len(names) if names else 0, "best_epoch": best,
              "best_" + monitor: score, "epochs": len(history),
              "seconds_per_epoch": per_epoch, "ensemble": args.ensemble,
              **({"members": per_member} if len(members) > 1 else {}),
              **{f"test_{k}": v for k, v in test.items()}}
    print(f"best epoch {best} ({monitor} {score:.4g}), {per_epoch:.1f}s per epoch; "
          "test: " + ", ".join(f"{k} {v:.4g}" for k, v in test.items()))
    write_results(out, "test_metrics.json", result)
    return 0


def evaluate(argv=None, name: str = "esol", dataset: str = "esol") -> int:
    args = parser(name, dataset, evaluate=True).parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    out = Path(args.out)
    paths = [Path(args.checkpoint)] if args.checkpoint else \
        sorted(out.glob("member*/best.pt"), key=lambda p: int(p.parent.name[6:])) or \
        [out / "best.pt"]
    members = []
    for path in paths:
        ckpt = load_checkpoint(path, map_location=device)
        config = ckpt["config"]
        member = MoleculeModel(**config["model"]).to(device)
        member.load_state_dict(ckpt["model"])
        members.append(member)
    args.dataset, args.split = config["dataset"], config["split"]
    args.seed, args.quick = config["seed"], config.get("quick", False)
    model = members[0] if len(members) == 1 else MoleculeEnsemble(members)
    # a checkpoint trained with descriptors names them; recompute exactly those
    names = config.get("descriptors")
    (_, _, test_set), _, _ = _splits(args, names or None)
    test = evaluate_molecules(model, DataLoader(test_set, batch_size=256), device)
    print(f"{args.dataset} ({args.split} split, seed {args.seed}), {len(test_set)} test "
          "molecules: " + ", ".join(f"{k} {v:.4g}" for k, v in test.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
