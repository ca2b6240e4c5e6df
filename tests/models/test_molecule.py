"""Tests of graphrnn.models.molecule: the model, its step and evaluation, ROC-AUC, the statistics
it is scaled with, and overfitting a few molecules."""
import itertools
import math

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import Descriptors
from torch_geometric.loader import DataLoader

from graphrnn.datasets.molecule_splits import descriptor_stats, split_dataset, target_stats
from graphrnn.models.molecule import (
    MoleculeEnsemble,
    MoleculeModel,
    UniqueEdgeNetwork,
    evaluate_molecules,
    molecule_step,
    predict_molecules,
    score_predictions,
)
from graphrnn.nn.message_passing import EdgeNetwork
from graphrnn.structures.descriptors import DESCRIPTOR_DIM
from graphrnn.structures.molecule import from_smiles
from graphrnn.tasks.metrics import roc_auc

torch.set_num_threads(1)

SMILES = ["CCO", "c1ccccc1O", "CC(=O)N", "CCN(CC)CC", "OC(=O)c1ccccc1", "C1CCCCC1",
          "NC(=O)c1ccncc1", "CS(=O)(=O)C", "O=[N+]([O-])c1ccccc1", "C#N"]


def molecules(smiles=SMILES, target=Descriptors.TPSA):
    out = []
    for s in smiles:
        data = from_smiles(s)
        data.y = torch.tensor([[target(Chem.MolFromSmiles(s))]], dtype=torch.float)
        out.append(data)
    return out


def test_unique_edge_network_equals_edge_network_with_gradients():
    torch.manual_seed(0)
    ref, fast = EdgeNetwork(8, 12, hidden_channels=16), UniqueEdgeNetwork(8, 12, hidden_channels=16)
    fast.load_state_dict(ref.state_dict())
    kinds = (torch.rand(6, 12) > 0.5).float()
    attr = kinds[torch.randint(0, 6, (40,))]
    h = torch.randn(10, 8, requires_grad=True)
    ei = torch.randint(0, 10, (2, 40))
    a = ref.messages(ref.matrices(attr), h, ei)
    b = fast.messages(fast.matrices(attr), h, ei)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    ga = torch.autograd.grad(a.square().sum(), [h, *ref.parameters()])
    gb = torch.autograd.grad(b.square().sum(), [h, *fast.parameters()])
    for x, y in zip(ga, gb):
        torch.testing.assert_close(x, y, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("core,readout", [("mpnn", "set2set"), ("mpnn", "sum"),
                                          ("gn", "attention"), ("gn", "mean"),
                                          ("mpnn", "additive"), ("dmpnn", "sum"),
                                          ("dmpnn", "set2set")])
def test_model_shapes_and_atom_order_invariance(core, readout):
    torch.manual_seed(0)
    model = MoleculeModel(2, hidden=16, core=core, readout=readout).eval()
    mol = Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")
    order = list(range(mol.GetNumAtoms()))[::-1]
    batch = next(iter(DataLoader([from_smiles(mol), from_smiles(Chem.RenumberAtoms(mol, order)),
                                  from_smiles("CCO")], batch_size=3)))
    out = model(batch)
    assert out.shape == (3, 2)
    torch.testing.assert_close(out[0], out[1], atol=1e-5, rtol=1e-4)


def test_step_standardises_targets_and_masks_missing_labels():
    model = MoleculeModel(2, hidden=8)
    model.set_target_stats(torch.tensor([10.0, -1.0]), torch.tensor([5.0, 0.5]))
    data = molecules()[:3]
    for d, y in zip(data, ([1.0, float("nan")], [2.0, 0.0], [float("nan"), 1.0])):
        d.y = torch.tensor([y])
    batch = next(iter(DataLoader(data, batch_size=3)))
    loss, metrics = molecule_step(model, batch)
    pred = model(batch).detach()
    y = batch.y
    mask = ~torch.isnan(y)
    expected = (((pred - y) / torch.tensor([5.0, 0.5])) ** 2)[mask].mean()
    torch.testing.assert_close(loss.detach(), expected)
    torch.testing.assert_close(metrics["mae"], (pred - y)[mask].abs().mean())
    ev = evaluate_molecules(model, DataLoader(data, batch_size=2))
    col = [((pred[:, j] - y[:, j])[mask[:, j]]) for j in range(2)]
    torch.testing.assert_close(torch.tensor(ev["rmse"]),
                               torch.stack([c.pow(2).mean().sqrt() for c in col]).mean())


def test_target_stats_ignore_nan():
    data = molecules()[:4]
    for d, v in zip(data, (1.0, 3.0, float("nan"), 5.0)):
        d.y = torch.tensor([[v]])
    mean, std = target_stats(data)
    torch.testing.assert_close(mean, torch.tensor([3.0]))
    torch.testing.assert_close(std, torch.tensor([math.sqrt(8 / 3)]))


def test_roc_auc_matches_pairwise_definition_with_ties():
    g = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 5, (40,), generator=g).float()
    labels = (torch.rand(40, generator=g) > 0.4).float()
    labels[3] = float("nan")
    keep = ~torch.isnan(labels)
    s, y = scores[keep], labels[keep]
    pos, neg = s[y == 1], s[y == 0]
    pairs = [(1.0 if p > n else 0.5 if p == n else 0.0) for p, n in itertools.product(pos, neg)]
    assert roc_auc(scores, labels) == pytest.approx(sum(pairs) / len(pairs))
    assert roc_auc(torch.tensor([0.1, 0.9]), torch.tensor([0.0, 1.0])) == 1.0
    assert math.isnan(roc_auc(torch.tensor([0.1, 0.9]), torch.tensor([1.0, 1.0])))


def test_tiny_model_overfits_a_few_molecules():
    torch.manual_seed(0)
    data = molecules()
    model = MoleculeModel(1, hidden=32, readout="additive")
    model.set_target_stats(*target_stats(data))
    batch = next(iter(DataLoader(data, batch_size=len(data))))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        loss, _ = molecule_step(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    ev = evaluate_molecules(model, [batch])
    assert ev["mae"] < 1.0, ev          # TPSA spans 0-60 square angstroms here


def test_classification_step_and_metrics():
    torch.manual_seed(0)
    data = molecules(target=lambda m: float(m.GetNumAtoms() > 6))
    model = MoleculeModel(1, hidden=16, task="classification")
    loss, metrics = molecule_step(model, next(iter(DataLoader(data, batch_size=5))))
    assert loss.item() > 0 and 0 <= metrics["accuracy"].item() <= 1
    ev = evaluate_molecules(model, DataLoader(data, batch_size=4))
    assert set(ev) == {"loss", "accuracy", "roc_auc", "pr_auc"} and 0 <= ev["roc_auc"] <= 1


def test_errors_name_the_input():
    with pytest.raises(ValueError, match="readout"):
        MoleculeModel(readout="max-pool")
    model = MoleculeModel(hidden=8)
    bad = from_smiles("CCO")
    bad.x = bad.x[:, :10]
    with pytest.raises(ValueError, match="data.x must have shape"):
        model(bad)
    with pytest.raises(ValueError, match="split"):
        split_dataset(molecules(), "temporal")


def test_ensemble_averages_member_predictions():
    torch.manual_seed(0)
    members = [MoleculeModel(hidden=16, readout="sum") for _ in range(3)]
    for m in members:
        m.set_target_stats(torch.tensor([50.0]), torch.tensor([20.0]))
    ensemble = MoleculeEnsemble(members).eval()
    batch = next(iter(DataLoader(molecules(), batch_size=10)))
    with torch.no_grad():
        expected = torch.stack([m.eval()(batch) for m in members]).mean(0)
        torch.testing.assert_close(ensemble(batch), expected)
    metrics = evaluate_molecules(ensemble, [batch])
    assert set(metrics) == {"loss", "mae", "rmse", "r2", "spearman"} and metrics["rmse"] >= 0
    with pytest.raises(ValueError, match="at least one"):
        MoleculeEnsemble([])
    with pytest.raises(ValueError, match="task"):
        MoleculeEnsemble([members[0], MoleculeModel(hidden=16, task="classification")])


def described(smiles=SMILES):
    data = molecules(smiles)
    for d, s in zip(data, smiles):
        d.descriptors = from_smiles(s, descriptors=True).descriptors
    return data


def test_forward_with_descriptors_concatenates_them_standardised():
    torch.manual_seed(0)
    data = described()
    model = MoleculeModel(hidden=16, readout="sum", descriptor_size=DESCRIPTOR_DIM).eval()
    assert "descriptor_size=90" in repr(model) and model.config["descriptor_size"] == 90
    mean, std = descriptor_stats(data)
    model.set_descriptor_stats(mean, std)
    batch = next(iter(DataLoader(data, batch_size=4)))
    assert batch.descriptors.shape == (4, DESCRIPTOR_DIM)
    emb = model.embed(batch)
    assert emb.shape == (4, 16 + DESCRIPTOR_DIM) and model(batch).shape == (4, 1)
    safe = torch.where(std > 1e-6, std, torch.ones_like(std))   # a constant column is centred only
    torch.testing.assert_close(emb[:, 16:], (batch.descriptors - mean) / safe)
    # the descriptors reach the output
    other = batch.clone()
    other.descriptors = other.descriptors + 1.0
    assert not torch.allclose(model(batch), model(other))
    # a checkpoint carries the statistics; one without descriptors has no such buffers
    copy = MoleculeModel(**model.config)
    copy.load_state_dict(model.state_dict())
    torch.testing.assert_close(copy.descriptor_mean, mean)
    assert "descriptor_mean" not in MoleculeModel(hidden=16).state_dict()


def test_descriptor_stats_come_from_the_training_split_only():
    data = described()
    train, val, test = split_dataset(data, "random", seed=0, fractions=(0.6, 0.2, 0.2))
    mean, std = descriptor_stats(train)
    rows = torch.cat([data[i].descriptors for i in train.indices]).double()
    torch.testing.assert_close(mean, rows.mean(0).float())
    torch.testing.assert_close(std, rows.std(0, unbiased=False).float())
    everything = torch.cat([d.descriptors for d in data]).double().mean(0).float()
    assert not torch.allclose(mean, everything)
    with pytest.raises(ValueError, match="descriptors"):
        descriptor_stats(molecules()[:2])


def test_descriptor_errors_name_the_input():
    model = MoleculeModel(hidden=8, readout="sum", descriptor_size=DESCRIPTOR_DIM)
    batch = next(iter(DataLoader(molecules()[:3], batch_size=3)))
    with pytest.raises(ValueError, match=r"no 'descriptors'.*data.descriptors of shape \[B, 90\]"):
        model(batch)
    bad = next(iter(DataLoader(described()[:3], batch_size=3)))
    bad.descriptors = bad.descriptors[:, :10]
    with pytest.raises(ValueError, match=r"data.descriptors must have shape \[3, 90\].*\[3, 10\]"):
        model(bad)
    with pytest.raises(ValueError, match="90 entries"):
        model.set_descriptor_stats(torch.zeros(5), torch.ones(5))
    with pytest.raises(ValueError, match="descriptor_size=0"):
        MoleculeModel(hidden=8).set_descriptor_stats(torch.zeros(1), torch.ones(1))
    with pytest.raises(ValueError, match="additive"):
        MoleculeModel(hidden=8, readout="additive", descriptor_size=4)
    # a model without descriptors ignores them
    assert MoleculeModel(hidden=8, readout="sum")(bad).shape == (3, 1)


def test_defaults_are_the_documented_configuration():
    model = MoleculeModel()
    assert (model.core_type, model.hidden, model.readout_type) == ("dmpnn", 128, "sum")


def test_a_regression_model_without_target_statistics_refuses_to_train():
    data = molecules()
    batch = next(iter(DataLoader(data, batch_size=5)))
    model = MoleculeModel(1, hidden=8)
    with pytest.raises(ValueError, match="fit_scaling"):
        molecule_step(model, batch)
    model.fit_scaling(data)                          # the training molecules' mean and std
    mean, std = target_stats(data)
    torch.testing.assert_close(model.target_mean, mean)
    torch.testing.assert_close(model.target_std, std)
    molecule_step(model, batch)
    # a model loaded from a trained state is scaled; classification needs no statistics
    fresh = MoleculeModel(1, hidden=8)
    fresh.load_state_dict(model.state_dict())
    assert fresh.target_stats_set
    molecule_step(MoleculeModel(1, hidden=8, task="classification"), batch)


def test_fit_scaling_also_takes_the_descriptor_statistics():
    data = [from_smiles(s, descriptors=True) for s in SMILES]
    for d in data:
        d.y = torch.tensor([[1.0 * d.num_nodes]])
    model = MoleculeModel(1, hidden=8, descriptor_size=DESCRIPTOR_DIM).fit_scaling(data)
    mean, _ = descriptor_stats(data)
    torch.testing.assert_close(model.descriptor_mean, mean)


def test_predict_gives_the_ensemble_mean_and_the_members_spread():
    torch.manual_seed(0)
    data = molecules()
    members = [MoleculeModel(1, hidden=8).fit_scaling(data) for _ in range(3)]
    loader = DataLoader(data, batch_size=4)
    pred, spread, y = predict_molecules(MoleculeEnsemble(members), loader)
    outs = torch.stack([predict_molecules(m, loader)[0] for m in members])      # [3, N, 1]
    torch.testing.assert_close(pred, outs.mean(0))
    torch.testing.assert_close(spread, outs.std(0, unbiased=False))
    assert y.shape == (len(data), 1) and predict_molecules(members[0], loader)[1] is None


def test_score_predictions_by_hand():
    y = torch.tensor([[1.0], [2.0], [3.0], [float("nan")]])
    pred = torch.tensor([[1.0], [2.0], [5.0], [100.0]])              # the NaN row is left out
    out = score_predictions(pred, y, "regression")
    assert out["mae"] == pytest.approx(2 / 3) and out["rmse"] == pytest.approx(math.sqrt(4 / 3))
    assert out["r2"] == pytest.approx(1 - 4 / 2) and out["spearman"] == pytest.approx(1.0)
    logits = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]])
    labels = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    out = score_predictions(logits, labels, "classification")
    assert out == pytest.approx({"accuracy": 0.75, "roc_auc": 1.0, "pr_auc": 1.0})
