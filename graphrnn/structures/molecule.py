"""Molecules as PyG graphs: atoms are nodes, each bond is two directed edges.

``from_smiles("CCO")`` or ``from_mol(mol)`` returns a :class:`torch_geometric.data.Data` with

* ``x`` ``[N, ATOM_FEATURE_DIM]`` float: one-hot and binary atom features, layout below;
* ``edge_index`` ``[2, 2B]``: bond ``k`` between atoms ``a`` and ``b`` gives edges ``2k = (a, b)``
  and ``2k + 1 = (b, a)``;
* ``edge_attr`` ``[2B, BOND_FEATURE_DIM]`` float, the same row for both directions;
* ``z`` ``[N]`` atomic numbers, and ``smiles`` (the input SMILES, or rdkit's for a ``Mol``);
* with ``descriptors=True`` (or a list of names), ``descriptors`` ``[1, D]`` float: molecule-level
  RDKit descriptors (:mod:`graphrnn.structures.descriptors`; the curated 90 by default), so a PyG
  batch of ``B`` molecules has ``descriptors [B, D]``. Off by default.

Atom feature layout (``atom_feature_names()`` lists every column by name), in order:

====================  =====================================================  =======
block                 values (one-hot unless marked)                          columns
====================  =====================================================  =======
element               ``ELEMENTS`` then "other"                               25
degree                0, 1, 2, 3, 4, 5, then "other" (6 or more)             7
formal charge         -2, -1, 0, +1, +2, then "other"                         6
total hydrogens       0, 1, 2, 3, 4, then "other"                             6
aromatic              binary                                                  1
hybridisation         S, SP, SP2, SP3, SP3D, SP3D2, then "other"              7
in ring               binary                                                  1
====================  =====================================================  =======

Bond feature layout (``bond_feature_names()``): type one-hot (single, double, triple, aromatic;
4), conjugated (1), in ring (1), stereo one-hot (none, any, Z, E, cis, trans; 6) -- 12 columns.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from rdkit import Chem
from torch_geometric.data import Data

# SMILES parsing lives in .descriptors (the lower module), so the import goes one way only
# InvalidSmilesError is re-exported: it is raised from here, and users catch it from here
from .descriptors import InvalidSmilesError as InvalidSmilesError
from .descriptors import molecule_descriptors, parse_smiles, resolve_descriptors

#: Elements with their own one-hot column (organic subset first, then common salts and metals);
#: any other element sets the "other" column.
ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "B", "Si", "Se", "H",
            "Na", "K", "Li", "Mg", "Ca", "Fe", "Zn", "Cu", "Al", "Sn", "As")
DEGREES = (0, 1, 2, 3, 4, 5)
FORMAL_CHARGES = (-2, -1, 0, 1, 2)
NUM_HYDROGENS = (0, 1, 2, 3, 4)
HYBRIDISATIONS = (Chem.HybridizationType.S, Chem.HybridizationType.SP,
                  Chem.HybridizationType.SP2, Chem.HybridizationType.SP3,
                  Chem.HybridizationType.SP3D, Chem.HybridizationType.SP3D2)
BOND_TYPES = (Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE,
              Chem.BondType.AROMATIC)
BOND_STEREO = (Chem.BondStereo.STEREONONE, Chem.BondStereo.STEREOANY,
               Chem.BondStereo.STEREOZ, Chem.BondStereo.STEREOE,
               Chem.BondStereo.STEREOCIS, Chem.BondStereo.STEREOTRANS)

# value -> column within its block, for O(1) lookups (rdkit enums hash by value)
_LOOKUPS = [{v: i for i, v in enumerate(values)}
            for values in (ELEMENTS, DEGREES, FORMAL_CHARGES, NUM_HYDROGENS, HYBRIDISATIONS)]
_BOND_TYPE_INDEX = {t: i for i, t in enumerate(BOND_TYPES)}
_BOND_STEREO_INDEX = {s: i for i, s in enumerate(BOND_STEREO)}


def _one_hot_names(prefix: str, values) -> list[str]:
    return [f"{prefix}={v}" for v in values] + [f"{prefix}=other"]


def atom_feature_names() -> list[str]:
    """Name of every atom feature column, in order (``len == ATOM_FEATURE_DIM``)."""
    return (_one_hot_names("element", ELEMENTS) + _one_hot_names("degree", DEGREES)
            + _one_hot_names("formal_charge", FORMAL_CHARGES)
            + _one_hot_names("num_hs", NUM_HYDROGENS) + ["aromatic"]
            + _one_hot_names("hybridisation", [str(h) for h in HYBRIDISATIONS]) + ["in_ring"])


def bond_feature_names() -> list[str]:
    """Name of every bond feature column, in order (``len == BOND_FEATURE_DIM``)."""
    return ([f"bond_type={t}" for t in BOND_TYPES] + ["conjugated", "in_ring"]
            + [f"stereo={s}" for s in BOND_STEREO])


ATOM_FEATURE_DIM = len(atom_feature_names())   # 53
BOND_FEATURE_DIM = len(bond_feature_names())   # 12


def atom_features(atom: Chem.Atom) -> list[float]:
    """The ``ATOM_FEATURE_DIM`` features of one rdkit atom (layout in the module docstring)."""
    row = [0.0] * ATOM_FEATURE_DIM
    e, d, c, h, hyb = _LOOKUPS
    offset = 0
    for lookup, v in ((e, atom.GetSymbol()), (d, atom.GetDegree()),
                      (c, atom.GetFormalCharge()), (h, atom.GetTotalNumHs())):
        row[offset + lookup.get(v, len(lookup))] = 1.0      # len(lookup): the "other" column
        offset += len(lookup) + 1
    row[offset] = float(atom.GetIsAromatic())
    offset += 1
    row[offset + hyb.get(atom.GetHybridization(), len(hyb))] = 1.0
    offset += len(hyb) + 1
    row[offset] = float(atom.IsInRing())
    return row


def bond_features(bond: Chem.Bond) -> list[float]:
    """The ``BOND_FEATURE_DIM`` features of one rdkit bond. A bond type outside ``BOND_TYPES``
    (dative, ...) leaves the type block all zero."""
    row = [0.0] * BOND_FEATURE_DIM
    t = _BOND_TYPE_INDEX.get(bond.GetBondType())
    if t is not None:
        row[t] = 1.0
    row[4] = float(bond.GetIsConjugated())
    row[5] = float(bond.IsInRing())
    s = _BOND_STEREO_INDEX.get(bond.GetStereo())
    if s is not None:
        row[6 + s] = 1.0
    return row


def from_mol(mol: Chem.Mol, smiles: str | None = None,
             descriptors: bool | Sequence[str] = False) -> Data:
    """PyG ``Data`` for an rdkit ``Mol`` (see the module docstring for the fields).

    ``descriptors``: ``True`` adds ``data.descriptors [1, 90]`` (the curated
    ``DESCRIPTOR_NAMES``), a sequence of ``rdkit.Chem.Descriptors`` names adds those; NaN or
    infinite values become 0 (:func:`~graphrnn.structures.descriptors.molecule_descriptors`).
    Default ``False``: none."""
    if not isinstance(mol, Chem.Mol):
        raise TypeError(f"mol must be an rdkit Chem.Mol, got {type(mol).__name__}")
    atoms = [mol.GetAtomWithIdx(i) for i in range(mol.GetNumAtoms())]
    x = torch.tensor([atom_features(a) for a in atoms],
                     dtype=torch.float).view(-1, ATOM_FEATURE_DIM)
    z = torch.tensor([a.GetAtomicNum() for a in atoms], dtype=torch.long)
    pairs, feats = [], []
    for bond in (mol.GetBondWithIdx(i) for i in range(mol.GetNumBonds())):
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        f = bond_features(bond)
        pairs += [(a, b), (b, a)]
        feats += [f, f]
    edge_index = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t().contiguous()
    edge_attr = torch.tensor(feats, dtype=torch.float).view(-1, BOND_FEATURE_DIM)
    data = Data(x=x, edge_index=edge_index, edge_attr=edge_attr, z=z,
                smiles=smiles if smiles is not None else Chem.MolToSmiles(mol),
                num_nodes=x.size(0))
    names = resolve_descriptors(descriptors)
    if names is not None:
        data.descriptors = molecule_descriptors(mol, names)            # [1, D]
    return data


def from_smiles(smiles: str | Chem.Mol,
                descriptors: bool | Sequence[str] = False) -> Data:
    """PyG ``Data`` for a SMILES string (or an rdkit ``Mol``); ``descriptors`` as in
    :func:`from_mol`.

    Raises:
        InvalidSmilesError: rdkit cannot parse ``smiles``, or it has no atoms.
    """
    if isinstance(smiles, Chem.Mol):
        return from_mol(smiles, descriptors=descriptors)
    return from_mol(parse_smiles(smiles), smiles=smiles, descriptors=descriptors)
