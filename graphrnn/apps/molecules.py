"""Predict molecular properties with a message-passing network over atoms and bonds (Gilmer et
al. 2017's MPNN: edge-network messages, GRU updates), read out per molecule; ``--core dmpnn`` is
the directed MPNN of Yang et al. 2019 (chemprop's: states on directed bonds, no message straight
back along a bond), ``--core gn`` residual graph-network blocks.

Data: MoleculeNet's ESOL (log solubility), FreeSolv (hydration free energy), Lipophilicity (logD)
and BBBP (blood-brain barrier penetration, classification), read from --root (default: the local
copy in ../shared/data/molecules, else downloaded to data/molecules); TPSA, which rdkit ships; or
your own CSV of SMILES and values (``graphrnn train molecules --csv FILE --smiles-col S
--target-col T [T2 ...] [--task regression|classification]``; empty cells are missing labels).
Each data set brings its own settings (``--dataset freesolv`` takes FreeSolv's). Random 80/10/10
split with --seed, or Bemis-Murcko scaffold split. Regression targets are scaled with the training
split's mean and standard deviation; the best epoch on validation (RMSE, or ROC-AUC) is kept and
scored once on the test split. ``--ensemble K`` (3 for ESOL and FreeSolv) trains K models on the
same split from seeds SEED + 1000 k (OUT/member<k>/best.pt) and scores the mean of their
predictions (OUT/best.pt holds the ensemble). ``--descriptors`` concatenates 90 RDKit 2-D
descriptors per molecule (graphrnn.structures.descriptors), standardised on the training split, to
the readout, as chemprop's ``rdkit_2d_normalized``; ``evaluate`` recomputes them and restores the
scaling from the checkpoint.

    graphrnn train esol --threads 1
    graphrnn train esol --descriptors --split scaffold
    graphrnn train esol --dataset freesolv --split scaffold --seed 1
    graphrnn train tpsa                                   # rdkit's 5k NCI molecules, ~1 min
    graphrnn train molecules --csv mine.csv --smiles-col smiles --target-col logS
    graphrnn evaluate esol --checkpoint runs/esol/best.pt
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import EvaluateConfig, TrainConfig, option

DATASETS = ("esol", "freesolv", "lipophilicity", "bbbp", "tpsa")
#: The registry names that share this module; each reads the others' checkpoints.
NAMES = ("molecules", *DATASETS)


@dataclass
class Config(TrainConfig):
    dataset: str | None = option(None, "a named data set (its settings come with it)",
                                 choices=DATASETS)
    csv: str | None = option(None, "your CSV file with a header (instead of --dataset)",
                             path="in_file")
    smiles_col: str = option("smiles", "--csv: the SMILES column")
    target_col: list[str] | None = option(None, "--csv: the target column(s), one or more")
    task: str | None = option(None, "regression or classification (binary 0/1 labels); "
                              "default: the data set's, regression for --csv",
                              choices=("regression", "classification"))
    split: str = option("random", "random (with --seed) or Bemis-Murcko scaffold",
                        choices=("random", "scaffold"))
    core: str = option("mpnn", "message passing: MPNN, directed MPNN or graph-network blocks",
                       choices=("mpnn", "dmpnn", "gn"))
    readout: str = option("sum", "per-molecule readout; additive sums per-atom outputs",
                          choices=("sum", "mean", "attention", "set2set", "additive"))
    hidden: int = option(64, "state width", min=1)
    message_steps: int = option(3, "message-passing rounds", min=1)
    epochs: int = option(40, "training epochs", min=1)
    batch_size: int = option(32, "molecules per batch", min=1)
    lr: float = option(1e-3, "AdamW learning rate (cosine to lr / 50)", positive=True)
    dropout: float = option(0.1, "dropout before each head layer", min=0, max=1)
    clip_grad_norm: float | None = option(None, "clip the gradient norm", positive=True)
    weight_decay: float = option(0.0, "AdamW weight decay", min=0)
    ensemble: int = option(1, "models trained from seeds SEED + 1000 k, predictions averaged",
                           min=1)
    descriptors: bool = option(False, "add 90 RDKit 2-D descriptors, scaled on the training "
                               "split, to the readout")


# Per data set: sum readouts keep the molecule's size, which solubility depends on; TPSA is exactly
# a sum of contributions of atoms given their bonds: one round and the additive readout. The small
# regression sets (ESOL ~0.9k, FreeSolv ~0.5k training molecules) overfit a single model; the mean
# of 3 models lowered ESOL's validation RMSE on seeds 0-2 (weight decay, more dropout, a smaller
# width or fewer rounds did not). On ESOL the directed MPNN at width 128 had the lowest mean
# validation RMSE over seeds 0-2, with descriptors and without (the README's study).
PRESETS = {
    "molecules": {},
    "tpsa": dict(dataset="tpsa", core="mpnn", hidden=64, readout="additive", message_steps=1,
                 epochs=20, batch_size=32, dropout=0.0, clip_grad_norm=1.0, ensemble=1),
    "esol": dict(dataset="esol", core="dmpnn", hidden=128, readout="sum", message_steps=3,
                 epochs=80, batch_size=32, dropout=0.1, clip_grad_norm=None, ensemble=3),
    "freesolv": dict(dataset="freesolv", core="mpnn", hidden=64, readout="sum", message_steps=3,
                     epochs=100, batch_size=32, dropout=0.1, clip_grad_norm=None, ensemble=3),
    "lipophilicity": dict(dataset="lipophilicity", core="mpnn", hidden=64, readout="set2set",
                          message_steps=3, epochs=40, batch_size=64, dropout=0.1,
                          clip_grad_norm=None, ensemble=1),
    "bbbp": dict(dataset="bbbp", core="mpnn", hidden=64, readout="set2set", message_steps=3,
                 epochs=40, batch_size=32, dropout=0.1, clip_grad_norm=None, ensemble=1),
}
PRESET_FLAG = "--dataset"


@dataclass
class Evaluate(EvaluateConfig):
    dataset: str | None = option(None, "the registry name evaluating (set by the preset)",
                                 choices=DATASETS, hidden=True)


def _app(config) -> str:
    """The application name a run is recorded under: its data set's, or ``molecules``."""
    return "molecules" if getattr(config, "csv", None) else (config.dataset or "molecules")


def _check(config: Config) -> None:
    from .config import ConfigError

    if config.csv is None and config.dataset is None:
        raise ConfigError("give --csv FILE (with --smiles-col and --target-col) or --dataset "
                          f"one of {', '.join(DATASETS)}")
    if config.csv is not None and not config.target_col:
        raise ConfigError(f"--csv {config.csv}: name the target column(s) with --target-col; "
                          "without them there is nothing to learn")
    if config.descriptors and config.readout == "additive":
        raise ConfigError("--descriptors needs a per-molecule readout, not --readout additive")


def _splits(config: Config):
    """``([train, val, test], task, descriptor names or None, name)`` of the configured data."""
    import warnings

    import torch

    from ..datasets.molecule_splits import split_dataset
    from ..datasets.molecules import MoleculeCSV, load_molecule_dataset

    if config.csv is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")        # invalid rows are listed in .skipped
            dataset = MoleculeCSV(config.csv, config.smiles_col, config.target_col,
                                  descriptors=config.descriptors)
        task, name = "regression", str(config.csv)
        if dataset.skipped:
            print(f"{config.csv}: skipped {len(dataset.skipped)} row(s) whose SMILES rdkit "
                  f"cannot parse (first: line {dataset.skipped[0].line})")
    else:
        dataset, task = load_molecule_dataset(config.dataset, config.root, config.descriptors)
        name = config.dataset
    names = dataset.descriptor_names
    if config.quick:      # a few hundred molecules, for smoke tests and the tour
        smiles = dataset.smiles
        dataset = torch.utils.data.Subset(dataset, range(min(len(dataset), 300)))
        dataset.smiles = [smiles[i] for i in dataset.indices]
    if len(dataset) < 10:
        raise ValueError(f"{name}: {len(dataset)} molecules; need at least 10 to split "
                         "80/10/10")
    return split_dataset(dataset, config.split, seed=config.seed), config.task or task, names, name


def _model(config: Config, num_targets: int, task: str, descriptor_size: int):
    from ..models.molecule import MoleculeModel

    return MoleculeModel(num_targets, hidden=config.hidden, num_steps=config.message_steps,
                         core=config.core, readout=config.readout, task=task,
                         dropout=config.dropout, descriptor_size=descriptor_size)


def _monitor(task: str) -> tuple[str, str]:
    return ("val_rmse", "min") if task == "regression" else ("val_roc_auc", "max")


def _test_report(model, test_set, device) -> dict:
    from torch_geometric.loader import DataLoader

    from ..models.molecule import evaluate_molecules

    test = evaluate_molecules(model, DataLoader(test_set, batch_size=256), device)
    print(f"{len(test_set)} test molecules: " + ", ".join(f"{k} {v:.4g}" for k, v in test.items()))
    return {f"test_{k}": v for k, v in test.items()}


def train(config: Config) -> dict:
    from pathlib import Path

    import torch
    from torch_geometric.loader import DataLoader

    from ..datasets.molecule_splits import descriptor_stats, target_stats
    from ..models.molecule import MoleculeEnsemble, evaluate_molecules, molecule_step
    from ..train import Trainer, save_checkpoint, seed_everything
    from .runtime import Timer, checkpoint_record, setup, trainer_options

    _check(config)
    device = setup(config)
    if config.quick:
        config.hidden = min(config.hidden, 32)
    seed_everything(config.seed)
    timer = Timer()
    (train_set, val_set, test_set), task, names, name = _splits(config)
    print(f"{name} ({task}, {config.split} split): {len(train_set)} / {len(val_set)} / "
          f"{len(test_set)} molecules" + (f", {len(names)} descriptors" if names else "")
          + f" ({timer.seconds:.1f}s to featurise)")
    config.task = task
    desc_stats = descriptor_stats(train_set) if names else None   # the training split's only
    num_targets = train_set[0].y.size(-1)
    val_loader = DataLoader(val_set, batch_size=256)
    monitor, mode = _monitor(task)
    out = Path(config.out)
    members, history, per_member = [], [], []
    for k in range(config.ensemble):
        # member k: its own initialisation and batch order (seed + 1000 k) on the same split;
        # member 0 is the single model of --ensemble 1
        member_seed = config.seed + 1000 * k
        seed_everything(member_seed)
        model = _model(config, num_targets, task, len(names) if names else 0)
        if task == "regression":
            model.set_target_stats(*target_stats(train_set))
        if names:
            model.set_descriptor_stats(*desc_stats)
        train_loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True,
                                  generator=torch.Generator().manual_seed(member_seed))
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                      weight_decay=config.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs,
                                                               eta_min=config.lr / 50)
        trainer = Trainer(model, optimizer, molecule_step, scheduler=scheduler,
                          evaluate_fn=lambda m, loader: evaluate_molecules(m, loader, device),
                          clip_grad_norm=config.clip_grad_norm, monitor=monitor, mode=mode,
                          restore_best=True,
                          **trainer_options(_app(config), config, device, seed=member_seed,
                                            out_dir=out if config.ensemble == 1
                                            else out / f"member{k}"))
        history += trainer.fit(train_loader, val_loader)
        members.append(trainer.model)
        per_member.append({"seed": member_seed, "best_epoch": trainer.best_epoch,
                           "best_" + monitor: trainer.best_score})
    model = members[0] if len(members) == 1 else MoleculeEnsemble(members)
    if len(members) > 1:
        save_checkpoint(out / "best.pt", model, config=checkpoint_record(_app(config), config))
    score = evaluate_molecules(model, val_loader, device)[monitor[len("val_"):]]
    best = per_member[0]["best_epoch"] if len(members) == 1 else \
        [r["best_epoch"] for r in per_member]
    per_epoch = sum(r["time"] for r in history) / max(len(history), 1)
    print(f"best epoch {best} ({monitor} {score:.4g}), {per_epoch:.1f}s per epoch")
    return {"dataset": name, "task": task, "split": config.split, "seed": config.seed,
            "descriptors": len(names) if names else 0, "best_epoch": best,
            "best_" + monitor: score, "epochs": len(history), "seconds_per_epoch": per_epoch,
            "ensemble": config.ensemble, **({"members": per_member} if len(members) > 1 else {}),
            **_test_report(model, test_set, device), "train_seconds": timer.seconds}


def evaluate(config: Evaluate) -> dict:
    """Rebuild the model (or ensemble) of a checkpoint and score it on the test split of the data
    it was trained on (descriptors recomputed, scaling restored from the checkpoint)."""
    from ..models.molecule import MoleculeEnsemble
    from .runtime import open_trained

    device, path, ckpt, trained = open_trained(config, _app(config), Config, NAMES)
    if config.root is not None:
        trained.root = config.root
    (_, _, test_set), task, names, name = _splits(trained)
    num_targets = test_set[0].y.size(-1)
    size = len(names) if names else 0
    state = ckpt["model"]
    if any(key.startswith("members.") for key in state):
        model = MoleculeEnsemble([_model(trained, num_targets, task, size)
                                  for _ in range(trained.ensemble)])
    else:                                   # one model (or one member of an ensemble)
        model = _model(trained, num_targets, task, size)
    model.load_state_dict(state)
    print(f"{path}: {name} ({trained.split} split, seed {trained.seed})")
    return {"checkpoint": str(path), "dataset": name, "split": trained.split,
            "seed": trained.seed, **_test_report(model.to(device), test_set, device)}


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
