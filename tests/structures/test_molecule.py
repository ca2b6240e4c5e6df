"""Tests of graphrnn.structures.molecule: feature layout, both bond directions, invalid SMILES."""
import pytest
import torch
from rdkit import Chem

from graphrnn.structures.molecule import (
    ATOM_FEATURE_DIM,
    BOND_FEATURE_DIM,
    ELEMENTS,
    InvalidSmilesError,
    atom_feature_names,
    bond_feature_names,
    from_mol,
    from_smiles,
)

NAMES = atom_feature_names()
BOND_NAMES = bond_feature_names()


def col(name):
    return NAMES.index(name)


def test_layout_is_documented_and_consistent():
    assert len(NAMES) == ATOM_FEATURE_DIM == len(ELEMENTS) + 1 + 7 + 6 + 6 + 1 + 7 + 1
    assert len(BOND_NAMES) == BOND_FEATURE_DIM == 12
    assert len(set(NAMES)) == len(NAMES)
    d = from_smiles("CCO")
    assert d.x.shape == (3, ATOM_FEATURE_DIM) and d.edge_attr.shape == (4, BOND_FEATURE_DIM)
    # every atom sets exactly one column in each of the 5 one-hot blocks, plus 2 binary flags
    assert torch.all(d.x.sum(1) == 5)


def test_phenol_atom_features():
    d = from_smiles("c1ccccc1O")
    o = 6
    assert d.x[o, col("element=O")] == 1 and d.x[o, col("num_hs=1")] == 1
    assert d.x[o, col("degree=1")] == 1 and d.x[o, col("aromatic")] == 0
    assert d.x[o, col("in_ring")] == 0
    assert torch.all(d.x[:6, col("aromatic")] == 1) and torch.all(d.x[:6, col("in_ring")] == 1)
    assert d.x[0, col("hybridisation=SP2")] == 1
    assert d.z.tolist() == [6] * 6 + [8]


def test_charges_and_other_element():
    d = from_smiles("[NH4+].[Cl-]")
    assert d.x[0, col("formal_charge=1")] == 1 and d.x[0, col("num_hs=4")] == 1
    assert d.x[1, col("formal_charge=-1")] == 1
    assert d.edge_index.shape == (2, 0) and d.edge_attr.shape == (0, BOND_FEATURE_DIM)
    assert from_smiles("[Pt]").x[0, col("element=other")] == 1


def test_each_bond_is_two_directed_edges_with_same_features():
    d = from_smiles("C=CC#N")
    assert d.edge_index.tolist() == [[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]]
    assert torch.equal(d.edge_attr[0::2], d.edge_attr[1::2])
    types = d.edge_attr[0::2, :4].argmax(1).tolist()
    assert types == [1, 0, 2]                          # double, single, triple
    assert d.edge_attr[0, BOND_NAMES.index("conjugated")] == 1


def test_aromatic_ring_and_stereo_bonds():
    d = from_smiles("c1ccncc1")
    assert torch.all(d.edge_attr[:, BOND_NAMES.index("bond_type=AROMATIC")] == 1)
    assert torch.all(d.edge_attr[:, BOND_NAMES.index("in_ring")] == 1)
    e = from_smiles("F/C=C/F")
    double = e.edge_attr[:, BOND_NAMES.index("bond_type=DOUBLE")] == 1
    assert torch.all(e.edge_attr[double, BOND_NAMES.index("stereo=STEREOE")] == 1)


def test_mol_input_equals_smiles_input():
    mol = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    a, b = from_mol(mol), from_smiles(mol)
    c = from_smiles("CC(=O)Oc1ccccc1C(=O)O")
    assert torch.equal(a.x, c.x) and torch.equal(b.edge_index, c.edge_index)
    assert a.smiles == Chem.MolToSmiles(mol) and c.smiles == "CC(=O)Oc1ccccc1C(=O)O"


@pytest.mark.parametrize("bad", ["C1CC", "not a molecule", "C(C", ""])
def test_invalid_smiles_raises_naming_it(bad):
    with pytest.raises(InvalidSmilesError) as info:
        from_smiles(bad)
    assert repr(bad) in str(info.value) and isinstance(info.value, ValueError)
    assert info.value.smiles == bad


def test_wrong_types():
    with pytest.raises(TypeError, match="smiles must be a str"):
        from_smiles(42)
    with pytest.raises(TypeError, match="Chem.Mol"):
        from_mol("CCO")
