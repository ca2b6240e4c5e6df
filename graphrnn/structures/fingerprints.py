"""Morgan (extended-connectivity) fingerprints of molecules: the input of the fingerprint
baselines (:mod:`graphrnn.models.fingerprint_baselines`) and an optional molecule-level input of
:class:`~graphrnn.models.molecule.MoleculeModel`.

A Morgan fingerprint of radius :math:`r` (Rogers & Hahn 2010, ECFP,
https://doi.org/10.1021/ci100050t) hashes every atom's circular neighbourhood up to :math:`r` bonds
(identifiers refined :math:`r` times from the atom's invariants and its neighbours') into one of
``n_bits`` bits. ``radius=2, n_bits=2048`` (ECFP4) is the QSAR baselines' standard. ``counts=True``
gives how often each bit is hit instead of 0/1.

:func:`morgan_fingerprint` returns ``[1, n_bits]`` float32 (the shape a ``Data`` field needs, so a
PyG batch holds ``[B, n_bits]``); :func:`morgan_fingerprints` stacks many molecules into a
``numpy`` array ``[N, n_bits]`` for scikit-learn. rdkit's ``rdFingerprintGenerator`` computes them
(about 0.1 ms per molecule).
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from .descriptors import parse_smiles

__all__ = ["MORGAN_RADIUS", "MORGAN_BITS", "morgan_fingerprint", "morgan_fingerprints"]

MORGAN_RADIUS = 2
MORGAN_BITS = 2048


@lru_cache(maxsize=8)
def _generator(radius: int, n_bits: int):
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


def _check(radius: int, n_bits: int) -> None:
    if radius < 0 or n_bits < 1:
        raise ValueError(f"radius must be >= 0 and n_bits >= 1, got {radius} and {n_bits}")


def _array(mol: Chem.Mol, radius: int, n_bits: int, counts: bool) -> np.ndarray:
    gen = _generator(radius, n_bits)
    fp = gen.GetCountFingerprintAsNumPy(mol) if counts else gen.GetFingerprintAsNumPy(mol)
    return fp.astype(np.float32)


def morgan_fingerprint(mol: Chem.Mol | str, radius: int = MORGAN_RADIUS, n_bits: int = MORGAN_BITS,
                       counts: bool = False) -> torch.Tensor:
    """The Morgan fingerprint of one molecule.

    Args:
        mol: an rdkit ``Mol`` or a SMILES string.
        radius: neighbourhood radius in bonds (default 2: ECFP4).
        n_bits: fingerprint length (default 2048).
        counts: bit counts instead of 0/1 (default ``False``).

    Returns: float32 tensor ``[1, n_bits]``.
    """
    _check(radius, n_bits)
    if isinstance(mol, str):
        mol = parse_smiles(mol)
    if not isinstance(mol, Chem.Mol):
        raise TypeError(f"mol must be an rdkit Chem.Mol or a SMILES str, got {type(mol).__name__}")
    return torch.from_numpy(_array(mol, radius, n_bits, counts)).view(1, -1)


def morgan_fingerprints(smiles: Sequence[str], radius: int = MORGAN_RADIUS,
                        n_bits: int = MORGAN_BITS, counts: bool = False) -> np.ndarray:
    """Morgan fingerprints of many SMILES, ``[N, n_bits]`` float32 (arguments as
    :func:`morgan_fingerprint`); an unparsable SMILES raises
    :class:`~graphrnn.structures.descriptors.InvalidSmilesError` naming it."""
    _check(radius, n_bits)
    if isinstance(smiles, str):
        raise TypeError("smiles must be a sequence of SMILES strings, got one str")
    rows = [_array(parse_smiles(s), radius, n_bits, counts) for s in smiles]
    return np.stack(rows) if rows else np.zeros((0, n_bits), dtype=np.float32)
