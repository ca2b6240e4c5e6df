"""Smoke tests of the issue-4 examples: each ``train`` runs with ``--quick --epochs 1`` and leaves
its checkpoint, metrics and results; ``evaluate`` reloads the checkpoint."""
import json
from pathlib import Path

import pytest

from graphrnn.cli import load_example
from graphrnn.tasks.molecules import default_molecule_root

MOLECULES = Path(default_molecule_root())
needs_molecules = pytest.mark.skipif(not (MOLECULES / "delaney-processed.csv").is_file(),
                                     reason=f"no local MoleculeNet copy in {MOLECULES}")
QUICK = ["--quick", "--epochs", "1", "--threads", "1", "--device", "cpu"]


def run(name, tmp_path, *extra, action="train"):
    example = load_example(name)
    assert isinstance(example.DESCRIPTION, str) and example.DESCRIPTION
    return getattr(example, action)([*QUICK, "--out", str(tmp_path), *extra])


def test_tpsa(tmp_path):
    assert run("tpsa", tmp_path) == 0
    result = json.loads((tmp_path / "test_metrics.json").read_text())
    assert result["dataset"] == "tpsa" and result["test_mae"] >= 0
    assert (tmp_path / "best.pt").is_file() and (tmp_path / "metrics.csv").is_file()
    assert run("tpsa", tmp_path, action="evaluate") == 0


@needs_molecules
@pytest.mark.parametrize("extra", [["--dataset", "esol", "--split", "scaffold"],
                                   ["--dataset", "esol", "--core", "dmpnn"],
                                   ["--dataset", "bbbp"]])
def test_esol_and_other_moleculenet_sets(tmp_path, extra):
    assert run("esol", tmp_path, "--root", str(MOLECULES), *extra) == 0
    result = json.loads((tmp_path / "test_metrics.json").read_text())
    assert result["dataset"] == extra[1]
    assert ("test_roc_auc" if extra[1] == "bbbp" else "test_rmse") in result
    assert run("esol", tmp_path, "--root", str(MOLECULES), action="evaluate") == 0


@needs_molecules
def test_descriptors_scaled_on_training_split_and_evaluate(tmp_path):
    import torch
    from graphrnn.structures.molecule import from_smiles
    from graphrnn.tasks.molecules import descriptor_stats, load_molecule_dataset, split_dataset
    from graphrnn.train import load_checkpoint
    assert run("freesolv", tmp_path, "--root", str(MOLECULES), "--descriptors",
               "--ensemble", "1") == 0
    result = json.loads((tmp_path / "test_metrics.json").read_text())
    assert result["descriptors"] == 90
    ckpt = load_checkpoint(tmp_path / "best.pt")
    assert ckpt["config"]["model"]["descriptor_size"] == 90
    assert len(ckpt["config"]["descriptors"]) == 90
    # the statistics are those of the training split (--quick: the first 300 molecules)
    dataset, _ = load_molecule_dataset("freesolv", str(MOLECULES))
    train, _, _ = split_dataset(torch.utils.data.Subset(dataset, range(300)), "random", seed=0)
    mean, _ = descriptor_stats([from_smiles(dataset.smiles[i], descriptors=True)
                                for i in train.indices])
    torch.testing.assert_close(ckpt["model"]["descriptor_mean"], mean)
    # evaluate rebuilds the descriptors from the checkpoint's config
    assert run("freesolv", tmp_path, "--root", str(MOLECULES), action="evaluate") == 0


def test_named_dataset_brings_its_defaults():
    example = load_example("esol")
    for argv, (core, hidden, epochs) in ((["--dataset", "freesolv"], ("mpnn", 64, 100)),
                                         ([], ("dmpnn", 128, 80)),
                                         (["--dataset", "esol", "--core", "gn"], ("gn", 128, 80))):
        args = example.parser("esol", example._named_dataset(argv, "esol")).parse_args(argv)
        assert (args.core, args.hidden, args.epochs) == (core, hidden, epochs), argv


@needs_molecules
def test_freesolv_alias(tmp_path):
    assert run("freesolv", tmp_path, "--root", str(MOLECULES)) == 0
    assert json.loads((tmp_path / "test_metrics.json").read_text())["dataset"] == "freesolv"


def test_nbody(tmp_path):
    assert run("nbody", tmp_path, "--root", str(tmp_path / "data"), "--system", "springs") == 0
    results = json.loads((tmp_path / "rollout.json").read_text())
    assert set(results) == {"n5", "n10"}
    assert {"mse@1", "baseline_mse@1", "ratio@1"} <= set(results["n5"])
    for n in (5, 10):
        assert (tmp_path / f"trajectories_n{n}.png").read_bytes()[:4] == b"\x89PNG"
    assert run("nbody", tmp_path, "--root", str(tmp_path / "data"), action="evaluate") == 0
