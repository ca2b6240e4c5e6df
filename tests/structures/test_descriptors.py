"""Tests of graphrnn.structures.descriptors: rdkit's own values, NaN handling, Data and batch
shapes."""
import math

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import Descriptors
from torch_geometric.loader import DataLoader

from graphrnn.structures import descriptors as desc
from graphrnn.structures.descriptors import (
    DESCRIPTOR_DIM,
    DESCRIPTOR_GROUPS,
    DESCRIPTOR_NAMES,
    molecule_descriptors,
    resolve_descriptors,
)
from graphrnn.structures.molecule import from_smiles


def test_curated_list_is_fixed_unique_and_known_to_rdkit():
    known = {name for name, _ in Descriptors.descList}
    assert DESCRIPTOR_DIM == len(DESCRIPTOR_NAMES) == 90
    assert len(set(DESCRIPTOR_NAMES)) == DESCRIPTOR_DIM
    assert set(DESCRIPTOR_NAMES) <= known
    assert DESCRIPTOR_NAMES == tuple(n for g in DESCRIPTOR_GROUPS.values() for n in g)
    # left out on purpose: Ipc reaches 1e30, Kappa3 blows up on small branched molecules
    assert "Ipc" not in DESCRIPTOR_NAMES and "Kappa3" not in DESCRIPTOR_NAMES


@pytest.mark.parametrize("smiles", ["CC(=O)Oc1ccccc1C(=O)O", "c1ccccc1O", "CCN(CC)CC"])
def test_values_equal_rdkits_own(smiles):
    mol = Chem.MolFromSmiles(smiles)
    d = molecule_descriptors(mol)
    assert d.shape == (1, DESCRIPTOR_DIM) and d.dtype == torch.float32
    for name in ("MolLogP", "TPSA", "MolWt", "NumHDonors", "RingCount", "qed"):
        expected = getattr(Descriptors, name)(mol)
        assert d[0, DESCRIPTOR_NAMES.index(name)].item() == pytest.approx(expected, rel=1e-6)
    # a SMILES string gives the same values
    assert torch.equal(molecule_descriptors(smiles), d)


@pytest.mark.parametrize("smiles", ["CC(=O)Oc1ccccc1C(=O)O", "C[N+](C)(C)CC(=O)[O-]", "C[Li]"])
def test_shared_computations_give_rdkits_own_values(smiles):
    # E-state extremes and Crippen logP/MR are computed once per molecule, not once per name
    mol = Chem.MolFromSmiles(smiles)
    names = DESCRIPTOR_GROUPS["estate"] + DESCRIPTOR_GROUPS["lipophilicity"]
    assert set(desc._shared_values(mol, names)) == set(names)
    expected = [float(getattr(Descriptors, n)(mol)) for n in names]
    assert molecule_descriptors(mol, names)[0].tolist() == torch.tensor(expected).tolist()
    # one name of a group alone takes rdkit's own function
    assert desc._shared_values(mol, ["MolLogP", "TPSA"]) == {}


def test_chosen_names_in_order():
    mol = Chem.MolFromSmiles("CCO")
    d = molecule_descriptors(mol, ["TPSA", "MolLogP"])
    assert d.shape == (1, 2)
    assert d[0, 0].item() == pytest.approx(Descriptors.TPSA(mol))
    assert d[0, 1].item() == pytest.approx(Descriptors.MolLogP(mol), rel=1e-6)
    with pytest.raises(KeyError, match="NotADescriptor"):
        molecule_descriptors(mol, ["TPSA", "NotADescriptor"])
    with pytest.raises(TypeError):
        molecule_descriptors(mol, "TPSA")


def test_nan_inf_and_raising_descriptors_become_zero(monkeypatch):
    # rdkit's Gasteiger charges are NaN for a lithium-carbon bond
    mol = Chem.MolFromSmiles("C[Li]")
    assert math.isnan(Descriptors.MaxPartialCharge(mol))
    d = molecule_descriptors(mol)
    assert torch.isfinite(d).all()
    assert d[0, DESCRIPTOR_NAMES.index("MaxPartialCharge")] == 0
    assert d[0, DESCRIPTOR_NAMES.index("MolWt")].item() == pytest.approx(Descriptors.MolWt(mol))

    def boom(m):
        raise RuntimeError("no")
    monkeypatch.setitem(desc._FUNCTIONS, "MolWt", lambda m: math.inf)
    monkeypatch.setitem(desc._FUNCTIONS, "TPSA", boom)
    assert molecule_descriptors(mol, ["MolWt", "TPSA"]).tolist() == [[0.0, 0.0]]


def test_data_and_batch_shapes():
    assert "descriptors" not in from_smiles("CCO")                  # opt-in
    graphs = [from_smiles(s, descriptors=True) for s in ("CCO", "c1ccccc1", "CC(=O)N")]
    assert graphs[0].descriptors.shape == (1, DESCRIPTOR_DIM)
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    assert batch.descriptors.shape == (3, DESCRIPTOR_DIM)
    assert torch.equal(batch.descriptors[1], graphs[1].descriptors[0])
    assert from_smiles("CCO", descriptors=["TPSA"]).descriptors.shape == (1, 1)
    assert from_smiles(Chem.MolFromSmiles("CCO"), descriptors=True).descriptors.shape == \
        (1, DESCRIPTOR_DIM)


def test_resolve_descriptors():
    assert resolve_descriptors(False) is None and resolve_descriptors(None) is None
    assert resolve_descriptors(True) == DESCRIPTOR_NAMES
    assert resolve_descriptors(["TPSA"]) == ("TPSA",)
    with pytest.raises(ValueError):
        resolve_descriptors([])
