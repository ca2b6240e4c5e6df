"""Molecule-level RDKit 2-D descriptors, as optional global inputs of a molecule model.

``molecule_descriptors(mol)`` returns the ``len(DESCRIPTOR_NAMES)`` (90) values of the curated list
below, in that order, as a float32 tensor ``[1, D]`` -- the shape ``Data.descriptors`` has, so that
a PyG batch of ``B`` molecules holds ``descriptors [B, D]``. Each name is the name of a function in
``rdkit.Chem.Descriptors`` (its ``descList``); any other list of such names may be passed instead.

A descriptor rdkit cannot compute for a molecule is **replaced by 0**: a value that is NaN or
infinite (Gasteiger partial charges and BCUT2D of a few charged or metal-bearing molecules), or one
whose function raises. Values are raw (counts, square angstroms, ...): a model should standardise
them with statistics of its training molecules (``MoleculeModel.set_descriptor_stats``).

The curated list (``DESCRIPTOR_GROUPS`` holds it by group):

=========================  ==============================================================  ===
group                      descriptors                                                     D
=========================  ==============================================================  ===
size and composition       MolWt, HeavyAtomMolWt, HeavyAtomCount, NumValenceElectrons,     7
                           NumHeteroatoms, NOCount, NHOHCount
lipophilicity (Crippen)    MolLogP, MolMR                                                  2
polar and total surface    TPSA, LabuteASA                                                 2
hydrogen bonding           NumHDonors, NumHAcceptors                                       2
flexibility, saturation    NumRotatableBonds, FractionCSP3, NumAmideBonds                  3
rings                      RingCount, NumAromaticRings, NumAliphaticRings,                 11
                           NumSaturatedRings, NumHeterocycles, NumAromaticCarbocycles,
                           NumAromaticHeterocycles, NumAliphaticCarbocycles,
                           NumAliphaticHeterocycles, NumSaturatedCarbocycles,
                           NumSaturatedHeterocycles
special atoms              NumAtomStereoCenters, NumSpiroAtoms, NumBridgeheadAtoms         3
partial charges            Max/Min/MaxAbs/MinAbs PartialCharge (Gasteiger)                 4
E-state                    Max/Min/MaxAbs/MinAbs EStateIndex                               4
topological indices        BalabanJ, BertzCT, AvgIpc, HallKierAlpha, Kappa1, Kappa2, Phi,  15
                           Chi0, Chi1, Chi0v, Chi1v, Chi2v, Chi3v, Chi4v, Chi0n
surface-area bins          SlogP_VSA1-12, SMR_VSA1-10, PEOE_VSA1-14 (Labute's VSA split    36
                           by atom logP, molar refractivity, Gasteiger charge)
drug-likeness              qed                                                             1
=========================  ==============================================================  ===

Left out of rdkit's ~217: ``Ipc`` (reaches 1e30 on drug-sized molecules; ``AvgIpc`` kept),
``Kappa3`` (ill-defined for small branched molecules without paths of length 3: 1,129 for
isopropanol, 9,508 for tert-butanol, where ethanol has 1.96), the 85
``fr_*`` functional-group counts (the atom and bond features already see those groups), BCUT2D
(NaN on some molecules), the Morgan fingerprint densities and near-duplicates (``ExactMolWt``, the
other ``Chi*n``). Computing the 90 takes about 3 ms per molecule (ESOL, one CPU core); the
E-state extremes and Crippen's logP and MR come from one rdkit call per molecule each, not one
per name.

SMILES parsing (:func:`parse_smiles`, :class:`InvalidSmilesError`) lives here too, so that
:mod:`graphrnn.structures.molecule` imports this module and nothing imports back.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, rdMolDescriptors
from rdkit.Chem.EState import EState

__all__ = ["DESCRIPTOR_GROUPS", "DESCRIPTOR_NAMES", "DESCRIPTOR_DIM", "molecule_descriptors",
           "check_descriptor_names", "resolve_descriptors", "parse_smiles", "InvalidSmilesError"]

#: The curated descriptors by group (module docstring); names of ``rdkit.Chem.Descriptors``.
DESCRIPTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "size": ("MolWt", "HeavyAtomMolWt", "HeavyAtomCount", "NumValenceElectrons",
             "NumHeteroatoms", "NOCount", "NHOHCount"),
    "lipophilicity": ("MolLogP", "MolMR"),
    "surface": ("TPSA", "LabuteASA"),
    "hydrogen_bonds": ("NumHDonors", "NumHAcceptors"),
    "flexibility": ("NumRotatableBonds", "FractionCSP3", "NumAmideBonds"),
    "rings": ("RingCount", "NumAromaticRings", "NumAliphaticRings", "NumSaturatedRings",
              "NumHeterocycles", "NumAromaticCarbocycles", "NumAromaticHeterocycles",
              "NumAliphaticCarbocycles", "NumAliphaticHeterocycles", "NumSaturatedCarbocycles",
              "NumSaturatedHeterocycles"),
    "special_atoms": ("NumAtomStereoCenters", "NumSpiroAtoms", "NumBridgeheadAtoms"),
    "partial_charges": ("MaxPartialCharge", "MinPartialCharge", "MaxAbsPartialCharge",
                        "MinAbsPartialCharge"),
    "estate": ("MaxEStateIndex", "MinEStateIndex", "MaxAbsEStateIndex", "MinAbsEStateIndex"),
    "topology": ("BalabanJ", "BertzCT", "AvgIpc", "HallKierAlpha", "Kappa1", "Kappa2", "Phi",
                 "Chi0", "Chi1", "Chi0v", "Chi1v", "Chi2v", "Chi3v", "Chi4v", "Chi0n"),
    "vsa_bins": (tuple(f"SlogP_VSA{i}" for i in range(1, 13))
                 + tuple(f"SMR_VSA{i}" for i in range(1, 11))
                 + tuple(f"PEOE_VSA{i}" for i in range(1, 15))),
    "drug_likeness": ("qed",),
}

#: The curated list, in order: the columns of ``Data.descriptors``.
DESCRIPTOR_NAMES: tuple[str, ...] = tuple(n for group in DESCRIPTOR_GROUPS.values() for n in group)
DESCRIPTOR_DIM = len(DESCRIPTOR_NAMES)          # 90

_FUNCTIONS = dict(Descriptors.descList)


class InvalidSmilesError(ValueError):
    """A SMILES string that rdkit cannot parse (or that has no atoms)."""

    def __init__(self, smiles: str, reason: str = "rdkit could not parse it"):
        self.smiles, self.reason = smiles, reason
        super().__init__(f"invalid SMILES {smiles!r}: {reason}")


def parse_smiles(smiles: str) -> Chem.Mol:
    """rdkit ``Mol`` for ``smiles``; raises :class:`InvalidSmilesError` naming it if rdkit cannot
    parse it or it has no atoms. rdkit's own error log is silenced while parsing."""
    if not isinstance(smiles, str):
        raise TypeError(f"smiles must be a str, got {type(smiles).__name__}")
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise InvalidSmilesError(smiles)
    if mol.GetNumAtoms() == 0:
        raise InvalidSmilesError(smiles, "it has no atoms")
    return mol


def check_descriptor_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple, after checking each is a descriptor of this rdkit (``KeyError``
    naming the unknown ones otherwise)."""
    if isinstance(names, str):
        raise TypeError(f"names must be a sequence of descriptor names, got the str {names!r}")
    names = tuple(names)
    unknown = [n for n in names if n not in _FUNCTIONS]
    if unknown:
        from rdkit import __version__
        raise KeyError(f"rdkit {__version__} has no descriptor(s) {unknown}; see "
                       "rdkit.Chem.Descriptors.descList")
    if not names:
        raise ValueError("names must hold at least one descriptor")
    return names


def resolve_descriptors(descriptors: bool | Sequence[str] | None) -> tuple[str, ...] | None:
    """The descriptor names an opt-in ``descriptors`` argument asks for: ``None`` for ``False``
    or ``None``, ``DESCRIPTOR_NAMES`` for ``True``, else the checked names given."""
    if descriptors is True:
        return DESCRIPTOR_NAMES
    if descriptors is False or descriptors is None:
        return None
    return check_descriptor_names(descriptors)


def _finite(v: float) -> float:
    return v if math.isfinite(v) else 0.0


def _value(fn, mol: Chem.Mol) -> float:
    try:
        v = float(fn(mol))
    except Exception:                   # rdkit raises for a few exotic molecules: treat as missing
        return 0.0
    return _finite(v)


def _estate(indices):
    return {"MaxEStateIndex": max(indices), "MinEStateIndex": min(indices),
            "MaxAbsEStateIndex": max(abs(v) for v in indices),
            "MinAbsEStateIndex": min(abs(v) for v in indices)}


# Descriptors rdkit computes from one shared quantity, which its functions recompute per call:
# the four E-state extremes from one EStateIndices (what each of them calls), Crippen's logP and
# MR from one CalcCrippenDescriptors (what MolLogP and MolMR each call). Computed once here, with
# rdkit's own definitions, so the values are the same (a test checks it).
_SHARED = (
    (frozenset(DESCRIPTOR_GROUPS["estate"]), lambda mol: _estate(EState.EStateIndices(mol))),
    (frozenset(("MolLogP", "MolMR")),
     lambda mol: dict(zip(("MolLogP", "MolMR"), rdMolDescriptors.CalcCrippenDescriptors(mol)))),
)


def _shared_values(mol: Chem.Mol, names: Sequence[str]) -> dict[str, float]:
    values = {}
    for group, compute in _SHARED:
        if len(group.intersection(names)) > 1:
            try:
                values.update(compute(mol))
            except Exception:   # left to the per-name functions, which treat it as missing
                pass
    return values


def molecule_descriptors(mol: Chem.Mol, names: Sequence[str] = DESCRIPTOR_NAMES) -> torch.Tensor:
    """The RDKit descriptors ``names`` (default: the curated ``DESCRIPTOR_NAMES``) of ``mol``.

    Args:
        mol: an rdkit ``Mol`` (or a SMILES string, parsed with
            :func:`parse_smiles`).
        names: names of functions in ``rdkit.Chem.Descriptors.descList``.

    Returns:
        float32 tensor ``[1, len(names)]``. NaN or infinite values, and descriptors whose rdkit
        function raises, are replaced by 0. rdkit's log is silenced meanwhile.
    """
    if isinstance(mol, str):
        mol = parse_smiles(mol)
    if not isinstance(mol, Chem.Mol):
        raise TypeError(f"mol must be an rdkit Chem.Mol or a SMILES str, got {type(mol).__name__}")
    names = check_descriptor_names(names)
    with rdBase.BlockLogs():
        shared = _shared_values(mol, names)
        values = [_finite(float(shared[n])) if n in shared else _value(_FUNCTIONS[n], mol)
                  for n in names]
    return torch.tensor(values, dtype=torch.float).view(1, -1)
