"""``graphrnn train|evaluate`` of the molecule applications (tpsa, esol, freesolv, bbbp, and
``molecules --csv`` on a user's file) through the registry, on --quick runs of 1 epoch."""
from __future__ import annotations

import json
import urllib.request

import pytest
import torch

from graphrnn import apps
from graphrnn.apps.config import ConfigError
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.io import shared_data

MOLECULES = shared_data("molecules")
needs_molecules = pytest.mark.skipif(not (MOLECULES / "delaney-processed.csv").is_file(),
                                     reason=f"no local MoleculeNet copy in {MOLECULES}")
QUICK = ["--quick", "--epochs", "1", "--threads", "1"]


def train(name, out, *extra):
    return apps.call(name, "train", [*QUICK, "--out", str(out), *extra])


def test_tpsa_trains_writes_its_files_and_evaluate_rebuilds_the_model(tmp_path):
    results = train("tpsa", tmp_path)
    assert results["dataset"] == "tpsa" and results["ensemble"] == 1
    assert results["test_mae"] >= 0 and results["best_epoch"] == 1
    for name in ("best.pt", "metrics.csv", "results.json", "curves.png"):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "results.json").read_text())["test_mae"] == results["test_mae"]
    again = apps.call("tpsa", "evaluate", ["--checkpoint", str(tmp_path / "best.pt")])
    assert again["test_mae"] == results["test_mae"]      # same split, model and scaling
    from graphrnn.train import load_checkpoint
    assert load_checkpoint(tmp_path / "best.pt")["config"]["app"] == "tpsa"
    # the molecule applications read each other's checkpoints (one model, one module)
    assert apps.call("esol", "evaluate", ["--out", str(tmp_path)])["dataset"] == "tpsa"


@pytest.mark.parametrize("argv,expected", [
    (["--dataset", "freesolv"], dict(core="mpnn", hidden=64, epochs=100, ensemble=3)),
    ([], dict(core="dmpnn", hidden=128, epochs=80, ensemble=3, readout="sum")),
    (["--dataset", "esol", "--core", "gn"], dict(core="gn", hidden=128, epochs=80)),
    (["--dataset=tpsa"], dict(readout="additive", message_steps=1, clip_grad_norm=1.0)),
    (["--dataset", "bbbp"], dict(core="dmpnn", readout="sum", epochs=30, ensemble=1))])
def test_named_dataset_brings_its_settings(argv, expected):
    config, _ = apps.parse("esol", "train", argv)
    assert {k: getattr(config, k) for k in expected} == expected


def test_your_csv_gets_the_documented_configuration_by_default():
    config, _ = apps.parse("molecules", "train", [])
    assert (config.core, config.hidden, config.readout, config.descriptors, config.ensemble,
            config.baselines) == ("dmpnn", 128, "sum", True, 3, True)


@needs_molecules
@pytest.mark.parametrize("extra,metric", [(["--split", "scaffold", "--ensemble", "1"], "rmse"),
                                          (["--dataset", "bbbp"], "roc_auc")])
def test_moleculenet_sets_and_evaluate(tmp_path, extra, metric):
    results = train("esol", tmp_path, "--root", str(MOLECULES), *extra)
    assert results["dataset"] == ("bbbp" if "bbbp" in extra else "esol")
    assert results["task"] == ("classification" if metric == "roc_auc" else "regression")
    again = apps.call("esol", "evaluate", ["--out", str(tmp_path)])
    assert again[f"test_{metric}"] == pytest.approx(results[f"test_{metric}"])


@needs_molecules
def test_esol_ensemble_keeps_each_member_and_evaluates_their_mean(tmp_path):
    results = train("esol", tmp_path, "--root", str(MOLECULES))
    assert results["ensemble"] == 3 and [m["seed"] for m in results["members"]] == [0, 1000, 2000]
    for k in range(3):
        assert (tmp_path / f"member{k}" / "best.pt").is_file()
    again = apps.call("esol", "evaluate", ["--checkpoint", str(tmp_path / "best.pt")])
    assert again["test_rmse"] == pytest.approx(results["test_rmse"])
    one = apps.call("esol", "evaluate", ["--checkpoint", str(tmp_path / "member1" / "best.pt")])
    assert one["test_rmse"] != pytest.approx(results["test_rmse"])       # a member alone


@needs_molecules
def test_descriptors_are_scaled_on_the_training_split_and_restored(tmp_path):
    from graphrnn.datasets.molecule_splits import descriptor_stats, split_dataset
    from graphrnn.datasets.molecules import load_molecule_dataset
    from graphrnn.structures.molecule import from_smiles
    from graphrnn.train import load_checkpoint

    results = train("freesolv", tmp_path, "--root", str(MOLECULES), "--descriptors",
                    "--ensemble", "1")
    assert results["descriptors"] == 90
    ckpt = load_checkpoint(tmp_path / "best.pt")
    assert ckpt["config"]["settings"]["descriptors"] is True
    # the statistics are those of the training split (--quick: the first 300 molecules)
    dataset, _ = load_molecule_dataset("freesolv", str(MOLECULES))
    train_split, _, _ = split_dataset(torch.utils.data.Subset(dataset, range(300)), "random",
                                      seed=0)
    mean, _ = descriptor_stats([from_smiles(dataset.smiles[i], descriptors=True)
                                for i in train_split.indices])
    torch.testing.assert_close(ckpt["model"]["descriptor_mean"], mean)
    again = apps.call("freesolv", "evaluate", ["--out", str(tmp_path)])
    assert again["test_rmse"] == pytest.approx(results["test_rmse"])


SMILES = ["CCO", "c1ccccc1O", "CC(=O)N", "CCN(CC)CC", "OC(=O)c1ccccc1", "C1CCCCC1", "CCCl",
          "NC(=O)c1ccncc1", "CS(=O)(=O)C", "C#N", "CCOC(=O)C", "c1ccncc1", "CC(C)O", "OCCO",
          "CCCCCC", "c1ccc2ccccc2c1", "CC(=O)O", "CN", "COC", "CCBr"]


@pytest.fixture
def user_csv(tmp_path):
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    path = tmp_path / "mine.csv"
    rows = []
    for i, s in enumerate(SMILES):
        mol = Chem.MolFromSmiles(s)
        rows.append(f"{s},{Descriptors.TPSA(mol):.3f},{Descriptors.MolLogP(mol):.3f},{i % 2}")
    path.write_text("SMILES,tpsa,logp,label\n" + "\n".join(rows) + "\nnot-a-smiles,1,2,0\n")
    return path


def test_user_csv_with_two_targets_and_evaluate(user_csv, tmp_path):
    out = tmp_path / "run"
    results = train("molecules", out, "--csv", str(user_csv), "--smiles-col", "SMILES",
                    "--target-col", "tpsa", "logp", "--ensemble", "1")
    assert results["dataset"] == str(user_csv) and results["task"] == "regression"
    assert results["test_rmse"] > 0
    ckpt = torch.load(out / "best.pt", weights_only=False)
    assert ckpt["config"]["app"] == "molecules"
    assert ckpt["model"]["target_mean"].shape == (2,)          # one scale per target
    again = apps.call("molecules", "evaluate", ["--out", str(out)])
    assert again["test_rmse"] == pytest.approx(results["test_rmse"])


def test_user_csv_classification(user_csv, tmp_path):
    results = train("molecules", tmp_path, "--csv", str(user_csv), "--smiles-col", "SMILES",
                    "--target-col", "label", "--task", "classification")
    assert results["task"] == "classification" and "test_roc_auc" in results
    assert "test_rmse" not in results


def test_user_csv_needs_target_columns(user_csv, tmp_path):
    with pytest.raises(ConfigError, match="--target-col"):
        train("molecules", tmp_path / "run", "--csv", str(user_csv))
    with pytest.raises(ConfigError, match="--csv"):
        train("molecules", tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_missing_moleculenet_file_is_one_line_naming_file_folder_and_source(tmp_path,
                                                                            monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    root = tmp_path / "nonexistent"
    with pytest.raises(DataNotFoundError) as err:
        train("esol", tmp_path / "run", "--root", str(root))
    message = str(err.value)
    assert "\n" not in message
    assert "delaney-processed.csv" in message and str(root) in message
    assert "deepchemdata" in message and "datasets/moleculenet.md" in message
    assert not root.exists()



def test_csv_run_writes_baselines_predictions_parity_and_predict_reads_the_checkpoint(
        user_csv, tmp_path, capsys):
    import csv

    out = tmp_path / "run"
    results = train("molecules", out, "--csv", str(user_csv), "--smiles-col", "SMILES",
                    "--target-col", "logp", "--ensemble", "2")
    assert [b["method"] for b in results["baselines"]] == ["mean", "ridge", "random forest"]
    assert {"test_r2", "test_spearman", "test_mae"} <= set(results)
    table = capsys.readouterr().out
    assert table.index("random forest") < table.index("network ")     # baselines come first
    assert (out / "parity.png").stat().st_size > 0
    rows = list(csv.DictReader((out / "test_predictions.csv").open()))
    assert len(rows) == 2 and set(rows[0]) == {"smiles", "logp", "logp_pred", "logp_std",
                                               "logp_forest", "logp_network_forest"}
    blended = results["network_forest"]
    assert blended["weight"] in (0.0, 0.25, 0.5, 0.75, 1.0) and "test_rmse" in blended
    assert table.index("network + forest") > table.index("network ")
    from graphrnn.train import load_checkpoint
    record = load_checkpoint(out / "best.pt")["config"]
    assert record["model"]["descriptor_size"] == 90 and record["ensemble"] == 2
    assert record["targets"] == ["logp"]
    # new molecules, one invalid: one row each, in order, the invalid one empty
    smiles = tmp_path / "new.csv"
    smiles.write_text("smiles,name\nCCO,ethanol\nC1CC(,broken\n" + rows[0]["smiles"] + ",x\n")
    answer = apps.call("molecules", "predict", ["--checkpoint", str(out / "best.pt"),
                                                "--smiles", str(smiles),
                                                "--out", str(tmp_path / "p.csv")])
    assert answer["molecules"] == 2 and answer["invalid"] == 1
    got = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert [r["smiles"] for r in got] == ["CCO", "C1CC(", rows[0]["smiles"]]
    assert got[1]["logp_pred"] == "" and float(got[0]["logp_std"]) >= 0
    # the same molecule gets the same prediction as in the test split's file
    assert float(got[2]["logp_pred"]) == pytest.approx(float(rows[0]["logp_pred"]), rel=1e-4)


def test_predict_needs_smiles_and_names_a_missing_column(user_csv, tmp_path):
    with pytest.raises(ConfigError, match="--smiles"):
        apps.call("molecules", "predict", ["--out", str(tmp_path / "p.csv")])
    out = tmp_path / "run"
    train("molecules", out, "--csv", str(user_csv), "--smiles-col", "SMILES",
          "--target-col", "label", "--task", "classification", "--ensemble", "1",
          "--no-baselines", "--no-descriptors")
    with pytest.raises(KeyError, match="smiles"):
        apps.call("molecules", "predict", ["--checkpoint", str(out / "best.pt"),
                                           "--smiles", str(user_csv), "--out", str(out)])
    answer = apps.call("molecules", "predict", ["--checkpoint", str(out / "best.pt"),
                                                "--smiles", str(user_csv), "--smiles-col",
                                                "SMILES", "--out", str(out)])
    assert answer["predictions"] == str(out / "predictions.csv")
    probs = [float(r["label_pred"]) for r in csv_rows(out / "predictions.csv") if r["label_pred"]]
    assert len(probs) == len(SMILES) and all(0 < p < 1 for p in probs)   # probabilities


def csv_rows(path):
    import csv
    return list(csv.DictReader(path.open()))


def test_a_one_class_validation_or_test_part_is_named(capsys):
    from types import SimpleNamespace

    from graphrnn.apps.molecules import _warn_one_class

    part = [SimpleNamespace(y=torch.tensor([[1.0]])) for _ in range(3)]
    mixed = part + [SimpleNamespace(y=torch.tensor([[0.0]]))]
    _warn_one_class(SimpleNamespace(split="scaffold"), {"validation": mixed, "test": part},
                    ["p_np"])
    out = capsys.readouterr().out
    assert "test part of the scaffold split holds only p_np = 1 (3 molecules)" in out
    assert "validation" not in out and "scaffold_balanced" in out
