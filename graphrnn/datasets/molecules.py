"""Molecule data sets as lists of PyG graphs, and random / scaffold splits.

Every data set here is a :class:`MoleculeDataset`: ``len(ds)``, ``ds[i]`` a
:class:`~torch_geometric.data.Data` from :func:`graphrnn.structures.molecule.from_smiles` with
``y`` of shape ``[1, num_targets]`` (so a PyG ``DataLoader`` batch has ``y [B, num_targets]``), and
``ds.smiles`` the SMILES of every kept molecule. Molecules are featurised once, when the data set is
built (about a second per thousand molecules); nothing is cached on disk.

Rows whose SMILES rdkit cannot parse are never kept: ``on_invalid="skip"`` (the default) drops them,
lists them in ``ds.skipped`` as :class:`SkippedRow` ``(line, smiles, reason)`` with ``line`` the
line number in the file (the header is line 1), and warns once naming them;
``on_invalid="raise"`` raises :class:`~graphrnn.structures.molecule.InvalidSmilesError` naming the
row.

Molecule-level RDKit descriptors are opt-in: ``descriptors=True`` (the curated 90 of
:mod:`graphrnn.structures.descriptors`) or a list of ``rdkit.Chem.Descriptors`` names gives every
graph ``descriptors [1, D]`` (a batch: ``[B, D]``; NaN or infinite values become 0) and the data set
``descriptor_names``; computing the 90 adds about 3 s per thousand molecules.

* :class:`TPSA` -- the 4,999 NCI molecules with topological polar surface area that rdkit ships
  (``rdkit/Data/NCI/first_5k.tpsa.csv``; no download); rdkit 2026.09 parses 4,991 of them.
* :class:`MoleculeCSV` -- any CSV with a SMILES column and numeric target columns.
* :class:`ESOL`, :class:`FreeSolv`, :class:`Lipophilicity`, :class:`BBBP` -- MoleculeNet sets, read
  from ``root`` (downloaded there from DeepChem's bucket, md5-checked, if missing).
"""
from __future__ import annotations

import csv
import math
import os
import random
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Sequence

import torch
from torch.utils.data import Dataset, Subset
from torch_geometric.data import Data

from graphrnn.datasets.download import download_url
from graphrnn.structures.descriptors import resolve_descriptors
from graphrnn.structures.molecule import InvalidSmilesError, from_smiles, parse_smiles


class SkippedRow(NamedTuple):
    """A row left out of a data set: its line in the file, its SMILES and why."""
    line: int
    smiles: str
    reason: str


class MoleculeDataset(Dataset):
    """A list of molecule graphs with targets, built from ``(line, smiles, targets)`` records.

    Args:
        records: iterable of ``(line, smiles, targets)`` with ``targets`` a sequence of floats.
        target_names: the name of each target column.
        on_invalid: ``"skip"`` or ``"raise"`` for unparsable SMILES (default ``"skip"``).
        transform: applied to each ``Data`` on access (default ``None``).
        source: what the records were read from, for messages (default ``"records"``).
        descriptors: ``True`` for the curated RDKit descriptors on every graph
            (``data.descriptors [1, 90]``), a sequence of ``rdkit.Chem.Descriptors`` names for
            those, ``False`` for none (default ``False``); the names used are in
            ``descriptor_names`` (``None`` without).
    """

    def __init__(self, records, target_names: Sequence[str], on_invalid: str = "skip",
                 transform: Optional[Callable[[Data], Data]] = None, source: str = "records",
                 descriptors: bool | Sequence[str] = False):
        if on_invalid not in ("skip", "raise"):
            raise ValueError(f"on_invalid={on_invalid!r} is not supported; expected 'skip' or "
                             "'raise'")
        self.target_names = list(target_names)
        self.transform = transform
        self.on_invalid = on_invalid
        self.descriptor_names = resolve_descriptors(descriptors)
        self.data_list: list[Data] = []
        self.smiles: list[str] = []
        self.skipped: list[SkippedRow] = []
        for line, smiles, targets in records:
            try:
                data = from_smiles(smiles, descriptors=self.descriptor_names or False)
            except InvalidSmilesError as err:
                if on_invalid == "raise":
                    raise InvalidSmilesError(smiles, f"{err.reason} (line {line} of "
                                                     f"{source})") from None
                self.skipped.append(SkippedRow(line, smiles, err.reason))
                continue
            data.y = torch.tensor([list(targets)], dtype=torch.float)   # [1, num_targets]
            self.data_list.append(data)
            self.smiles.append(smiles)
        if self.skipped:
            shown = ", ".join(f"line {s.line} {s.smiles!r}" for s in self.skipped[:5])
            more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
            warnings.warn(f"{source}: skipped {len(self.skipped)} row(s) with invalid SMILES: "
                          f"{shown}{more} (see .skipped)", stacklevel=3)

    def __len__(self) -> int:
        return len(self.data_list)

    def __getitem__(self, idx: int) -> Data:
        data = self.data_list[idx]
        return self.transform(data) if self.transform is not None else data

    @property
    def num_targets(self) -> int:
        return len(self.target_names)

    @property
    def num_node_features(self) -> int:
        return self.data_list[0].x.size(1) if self.data_list else 0

    @property
    def num_edge_features(self) -> int:
        return self.data_list[0].edge_attr.size(1) if self.data_list else 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)}, targets={self.target_names})"


def _float(value: str, line: int, column: str, source: str) -> float:
    """A CSV cell as a float; an empty cell is NaN (a missing label)."""
    value = value.strip()
    if value == "":
        return math.nan
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{source}, line {line}: column {column!r} holds {value!r}, expected a "
                         "number") from None


def _read_csv(path: Path, smiles_col: str, target_cols: Sequence[str]):
    """``(line, smiles, targets)`` for every data row of a CSV with a header."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in [smiles_col, *target_cols] if c not in header]
        if missing:
            raise KeyError(f"{path}: no column(s) {missing}; the header has {header}")
        for row in reader:
            line = reader.line_num
            smiles = (row[smiles_col] or "").strip()
            yield line, smiles, [_float(row[c] or "", line, c, str(path)) for c in target_cols]


class MoleculeCSV(MoleculeDataset):
    """Molecules from a CSV file with a header.

    Args:
        path: the CSV file.
        smiles_col: name of the SMILES column (surrounding spaces are stripped).
        target_cols: name(s) of the numeric target columns; empty cells become NaN.
        on_invalid: ``"skip"`` (list in ``.skipped`` and warn) or ``"raise"`` (default ``"skip"``).
        transform: applied to each ``Data`` on access (default ``None``).
        descriptors: ``True``, a list of RDKit descriptor names, or ``False`` (the default), as
            in :class:`MoleculeDataset`.
    """

    def __init__(self, path: str | os.PathLike, smiles_col: str = "smiles",
                 target_cols: str | Sequence[str] = (), on_invalid: str = "skip",
                 transform: Optional[Callable[[Data], Data]] = None,
                 descriptors: bool | Sequence[str] = False):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no CSV file at {path}")
        target_cols = [target_cols] if isinstance(target_cols, str) else list(target_cols)
        self.path = path
        super().__init__(_read_csv(path, smiles_col, target_cols), target_cols, on_invalid,
                         transform, source=str(path), descriptors=descriptors)


def _tpsa_path() -> Path:
    from rdkit import RDConfig
    return Path(RDConfig.RDDataDir) / "NCI" / "first_5k.tpsa.csv"


class TPSA(MoleculeDataset):
    """4,999 NCI molecules with their topological polar surface area (Ertl et al. 2000), in square
    angstroms, as shipped by rdkit in ``RDConfig.RDDataDir/NCI/first_5k.tpsa.csv`` (computed with
    Daylight tools and Ertl's program, per the file's header). ``y`` is ``[1, 1]``. rdkit 2026.09
    rejects 8 of the SMILES (valence errors), which are skipped and listed in ``.skipped``.

    Args:
        root: unused, kept for the PyG signature (the file comes with rdkit) (default ``None``).
        on_invalid: ``"skip"`` or ``"raise"`` (default ``"skip"``).
        transform: applied to each ``Data`` on access (default ``None``).
        descriptors: as in :class:`MoleculeDataset` (default ``False``).
    """

    def __init__(self, root: Optional[str] = None, on_invalid: str = "skip",
                 transform: Optional[Callable[[Data], Data]] = None,
                 descriptors: bool | Sequence[str] = False):
        path = _tpsa_path()
        if not path.is_file():
            raise FileNotFoundError(f"rdkit's TPSA file is not at {path}; is rdkit fully "
                                    "installed (its Data folder)?")
        self.path = path
        super().__init__(self._records(path), ["tpsa"], on_invalid, transform, source=str(path),
                         descriptors=descriptors)

    @staticmethod
    def _records(path: Path):
        with open(path, encoding="utf-8") as f:
            for line, text in enumerate(f, start=1):
                text = text.strip()
                if not text or text.startswith("#"):
                    continue
                smiles, _, value = text.rpartition(",")
                yield line, smiles, [_float(value, line, "tpsa", str(path))]


class _MoleculeNet(MoleculeCSV):
    """A MoleculeNet CSV kept in ``root``; downloaded there (md5-checked) if missing."""

    url: str
    md5: str
    smiles_col: str
    target_cols: Sequence[str]

    def __init__(self, root: str | os.PathLike, download: bool = True, on_invalid: str = "skip",
                 transform: Optional[Callable[[Data], Data]] = None,
                 descriptors: bool | Sequence[str] = False):
        root = Path(root)
        filename = self.url.rsplit("/", 1)[-1]
        path = root / filename
        if not path.exists():
            if not download:
                raise FileNotFoundError(f"{type(self).__name__}: {path} is missing and "
                                        f"download=False; fetch it from {self.url}")
        # download_url reuses a present file after checking its md5, so a wrong local copy fails.
        path = download_url(self.url, root, filename, md5=self.md5)
        super().__init__(path, self.smiles_col, self.target_cols, on_invalid, transform,
                         descriptors)


_DEEPCHEM = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/"


class ESOL(_MoleculeNet):
    """ESOL (Delaney 2004): 1,128 molecules with measured log solubility in mol/L, via MoleculeNet.

    Args:
        root: folder holding (or to receive) ``delaney-processed.csv``.
        download: fetch the file into ``root`` if it is missing (default ``True``).
        on_invalid, transform, descriptors: as in :class:`MoleculeCSV`.
    """
    url = _DEEPCHEM + "delaney-processed.csv"
    md5 = "0c90a51668d446b9e3ab77e67662bd1c"
    smiles_col = "smiles"
    target_cols = ("measured log solubility in mols per litre",)


class FreeSolv(_MoleculeNet):
    """FreeSolv (Mobley & Guthrie 2014): 642 molecules with experimental hydration free energy in
    kcal/mol (column ``expt`` of ``SAMPL.csv``), via MoleculeNet. Arguments as :class:`ESOL`."""
    url = _DEEPCHEM + "SAMPL.csv"
    md5 = "e47fa32674f670b4cdd3935c704a85d2"
    smiles_col = "smiles"
    target_cols = ("expt",)


class Lipophilicity(_MoleculeNet):
    """Lipophilicity (ChEMBL, AstraZeneca): 4,200 molecules with octanol/water logD at pH 7.4, via
    MoleculeNet. Arguments as :class:`ESOL`."""
    url = _DEEPCHEM + "Lipophilicity.csv"
    md5 = "85a0e1cb8b38b0dfc3f96ff47a57f0ab"
    smiles_col = "smiles"
    target_cols = ("exp",)


class BBBP(_MoleculeNet):
    """BBBP (Martins et al. 2012): 2,050 molecules labelled 1 if they penetrate the blood-brain
    barrier (column ``p_np``), via MoleculeNet. A few SMILES do not parse in rdkit and are skipped
    (see ``.skipped``). Arguments as :class:`ESOL`."""
    url = _DEEPCHEM + "BBBP.csv"
    md5 = "66286cb9e6b148bd75d80c870df580fb"
    smiles_col = "smiles"
    target_cols = ("p_np",)


# ----------------------------------------------------------------------------------------------
# splits

def _sizes(n: int, fractions: Sequence[float]) -> list[int]:
    if not fractions or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {list(fractions)}")
    sizes = [int(math.floor(f * n)) for f in fractions]
    sizes[0] += n - sum(sizes)      # rounding leftovers go to the first (training) part
    return sizes


def random_split(dataset, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                 seed: int = 0) -> list[Subset]:
    """Shuffle ``dataset``'s indices with ``seed`` and cut them into parts of the given fractions
    (which must sum to 1; rounding leftovers go to the first part). Returns one ``Subset`` each."""
    n = len(dataset)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    parts, start = [], 0
    for size in _sizes(n, fractions):
        parts.append(Subset(dataset, order[start:start + size]))
        start += size
    return parts


def murcko_scaffold(smiles: str, include_chirality: bool = False) -> str:
    """Bemis-Murcko scaffold SMILES of a molecule ("" for acyclic molecules)."""
    from rdkit.Chem.Scaffolds import MurckoScaffold
    mol = parse_smiles(smiles)
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=include_chirality)


def _smiles_of(dataset) -> list[str]:
    if hasattr(dataset, "smiles") and len(dataset.smiles) == len(dataset):
        return list(dataset.smiles)
    out = []
    for i in range(len(dataset)):
        smiles = getattr(dataset[i], "smiles", None)
        if smiles is None:
            raise ValueError(f"scaffold_split needs a SMILES per graph; item {i} has no "
                             "'smiles' attribute")
        out.append(smiles)
    return out


def scaffold_split(dataset, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                   include_chirality: bool = False) -> list[Subset]:
    """Deterministic Bemis-Murcko scaffold split (Bemis & Murcko 1996), as MoleculeNet does it.

    Molecules are grouped by scaffold; groups are sorted largest first (ties: the group whose first
    molecule comes first), and each group goes whole to the first part it fits in without passing
    that part's cumulative cut (``fractions[0] * n``, then ``(fractions[0] + fractions[1]) * n``),
    else to the last part; a later, smaller group may still fit an earlier part. No scaffold is
    shared between parts, so later parts hold rarer scaffolds than training -- a harder, more honest
    test than a random split.

    Args:
        dataset: a sized data set whose items (or its ``.smiles`` list) carry SMILES.
        fractions: sizes of the parts, summing to 1 (default ``(0.8, 0.1, 0.1)``).
        include_chirality: keep stereo in scaffolds (default ``False``).

    Returns: one ``Subset`` per fraction, indices in increasing order within each group.
    """
    n = len(dataset)
    _sizes(n, fractions)                                  # validates fractions
    groups: dict[str, list[int]] = defaultdict(list)
    for i, smiles in enumerate(_smiles_of(dataset)):
        groups[murcko_scaffold(smiles, include_chirality)].append(i)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    cuts = [sum(fractions[:k + 1]) * n for k in range(len(fractions) - 1)]
    parts: list[list[int]] = [[] for _ in fractions]
    for group in ordered:
        # The first part that can take the whole group without passing its cumulative cut;
        # otherwise the last part. A later, smaller group may still fit an earlier part.
        k = 0
        while k < len(cuts) and sum(map(len, parts[:k + 1])) + len(group) > cuts[k]:
            k += 1
        parts[k].extend(group)
    return [Subset(dataset, p) for p in parts]
