"""Molecule data sets as lists of PyG graphs, their statistics, and random / scaffold splits.

Every data set here holds :class:`~torch_geometric.data.Data` items from
:func:`graphrnn.structures.molecule.from_smiles` with ``y`` of shape ``[1, num_targets]`` (so a
PyG ``DataLoader`` batch has ``y [B, num_targets]``), and ``ds.smiles`` the SMILES of every kept
molecule. Molecules are featurised once, when the data set is built (about a second per thousand
molecules); nothing is written to disk.

The file-backed ones follow the contract of :class:`graphrnn.datasets.base.FileDataset` (``root``,
``raw_file_names``, ``md5``, ``download()``, ``process()``; a missing file is a
:class:`~graphrnn.datasets.base.DataNotFoundError` naming it, the folder and where to get it, and
no folder is created):

* :class:`MoleculeCSV` -- any CSV with a SMILES column and numeric target columns (yours).
* :class:`TPSA` -- the 4,999 NCI molecules with topological polar surface area that rdkit ships
  (``rdkit/Data/NCI/first_5k.tpsa.csv``; no download); rdkit 2026.09 parses 4,991 of them.
* :class:`ESOL`, :class:`FreeSolv`, :class:`Lipophilicity`, :class:`BBBP` -- MoleculeNet sets, read
  from ``root`` (downloaded there from DeepChem's bucket, md5-checked, if missing).

:class:`MoleculeDataset` builds the same items from records in memory. Splits and the statistics
of a training split are in :mod:`graphrnn.datasets.molecule_splits`.

Rows whose SMILES rdkit cannot parse are never kept: ``on_invalid="skip"`` (the default) drops them,
lists them in ``ds.skipped`` as :class:`SkippedRow` ``(line, smiles, reason)`` with ``line`` the
line number in the file (the header is line 1), and warns once naming them;
``on_invalid="raise"`` raises :class:`~graphrnn.structures.molecule.InvalidSmilesError` naming the
row.

Molecule-level RDKit descriptors are opt-in: ``descriptors=True`` (the curated 90 of
:mod:`graphrnn.structures.descriptors`) or a list of ``rdkit.Chem.Descriptors`` names gives every
graph ``descriptors [1, D]`` (a batch: ``[B, D]``; NaN or infinite values become 0) and the data set
``descriptor_names``; computing the 90 adds about 3 s per thousand molecules.
"""
from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from io import StringIO
from pathlib import Path
from typing import NamedTuple

import torch
from torch.utils.data import Dataset
from torch_geometric.data import Data

from ..io import read_text, shared_data
from ..structures.descriptors import InvalidSmilesError, resolve_descriptors
from ..structures.molecule import from_smiles
from .base import FileDataset
from .download import download_url

__all__ = ["SkippedRow", "MoleculeDataset", "MoleculeCSV", "TPSA", "ESOL", "FreeSolv",
           "Lipophilicity", "BBBP", "MOLECULENET", "default_molecule_root",
           "load_molecule_dataset"]


class SkippedRow(NamedTuple):
    """A row left out of a data set: its line in the file, its SMILES and why."""
    line: int
    smiles: str
    reason: str


class _Molecules:
    """What every molecule data set shares: featurising ``(line, smiles, targets)`` records into
    ``items`` (skipping or raising on invalid SMILES), and the item access."""

    items: list[Data]
    transform: Callable[[Data], Data] | None

    def _setup(self, target_names: Sequence[str], on_invalid: str,
               descriptors: bool | Sequence[str], source: str, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit={limit}: expected a positive number of molecules or None")
        self.limit = limit
        if on_invalid not in ("skip", "raise"):
            raise ValueError(f"on_invalid={on_invalid!r} is not supported; expected 'skip' or "
                             "'raise'")
        self.target_names, self.on_invalid, self._where = list(target_names), on_invalid, source
        self.descriptor_names = resolve_descriptors(descriptors)
        self.smiles: list[str] = []
        self.skipped: list[SkippedRow] = []

    def _featurise(self, records: Iterable) -> list[Data]:
        items = []
        for line, smiles, targets in records:
            if self.limit is not None and len(items) == self.limit:   # the first `limit` only
                break
            try:
                data = from_smiles(smiles, descriptors=self.descriptor_names or False)
            except InvalidSmilesError as err:
                if self.on_invalid == "raise":
                    raise InvalidSmilesError(smiles, f"{err.reason} (line {line} of "
                                                     f"{self._where})") from None
                self.skipped.append(SkippedRow(line, smiles, err.reason))
                continue
            data.y = torch.tensor([list(targets)], dtype=torch.float)   # [1, num_targets]
            items.append(data)
            self.smiles.append(smiles)
        if self.skipped:
            shown = ", ".join(f"line {s.line} {s.smiles!r}" for s in self.skipped[:5])
            more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
            warnings.warn(f"{self._where}: skipped {len(self.skipped)} row(s) with invalid "
                          f"SMILES: {shown}{more} (see .skipped)", stacklevel=4)
        return items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, idx: int) -> Data:
        data = self.items[idx]
        return self.transform(data) if self.transform is not None else data

    @property
    def data_list(self) -> list[Data]:
        return self.items

    @property
    def num_targets(self) -> int:
        return len(self.target_names)

    @property
    def num_node_features(self) -> int:
        return self.items[0].x.size(1) if self.items else 0

    @property
    def num_edge_features(self) -> int:
        return self.items[0].edge_attr.size(1) if self.items else 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)}, targets={self.target_names})"


class MoleculeDataset(_Molecules, Dataset):
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
        limit: keep only the first ``limit`` valid molecules, featurising no more (smoke tests;
            default ``None``: all).
    """

    def __init__(self, records, target_names: Sequence[str], on_invalid: str = "skip",
                 transform: Callable[[Data], Data] | None = None, source: str = "records",
                 descriptors: bool | Sequence[str] = False, limit: int | None = None):
        self.transform = transform
        self._setup(target_names, on_invalid, descriptors, source, limit)
        self.items = self._featurise(records)


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
    with StringIO(read_text(path), newline="") as f:  # bad bytes named by line (io.read_text)
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in [smiles_col, *target_cols] if c not in header]
        if missing:
            raise KeyError(f"{path}: no column(s) {missing}; the header has {header}")
        for row in reader:
            line = reader.line_num
            smiles = (row[smiles_col] or "").strip()
            yield line, smiles, [_float(row[c] or "", line, c, str(path)) for c in target_cols]


class MoleculeCSV(_Molecules, FileDataset):
    """Molecules from a CSV file with a header (``root`` is the file's folder).

    Args:
        path: the CSV file.
        smiles_col: name of the SMILES column (surrounding spaces are stripped).
        target_cols: name(s) of the numeric target columns, at least one; empty cells become NaN
            (missing labels).
        on_invalid: ``"skip"`` (list in ``.skipped`` and warn) or ``"raise"`` (default ``"skip"``).
        transform: applied to each ``Data`` on access (default ``None``).
        descriptors: ``True``, a list of RDKit descriptor names, or ``False`` (the default), as
            in :class:`MoleculeDataset`.
        limit: as in :class:`MoleculeDataset`. (default ``None``: all)
    """

    def __init__(self, path: str | os.PathLike, smiles_col: str = "smiles",
                 target_cols: str | Sequence[str] = (), on_invalid: str = "skip",
                 transform: Callable[[Data], Data] | None = None,
                 descriptors: bool | Sequence[str] = False, limit: int | None = None):
        path = Path(path)
        target_cols = [target_cols] if isinstance(target_cols, str) else list(target_cols)
        if not target_cols:
            raise ValueError(f"MoleculeCSV {path}: no target columns given; name the column(s) "
                             "holding the values to learn (target_cols=, --target-col)")
        self.path, self.smiles_col = path, smiles_col
        self.raw_file_names = (path.name,)
        self._setup(target_cols, on_invalid, descriptors, str(path), limit)
        super().__init__(path.parent, transform, download=False)

    def process(self) -> list[Data]:
        return self._featurise(_read_csv(self.path, self.smiles_col, self.target_names))


def _rdkit_nci() -> Path:
    from rdkit import RDConfig
    return Path(RDConfig.RDDataDir) / "NCI"


class TPSA(_Molecules, FileDataset):
    """4,999 NCI molecules with their topological polar surface area (Ertl et al. 2000), in square
    angstroms, as shipped by rdkit in ``RDConfig.RDDataDir/NCI/first_5k.tpsa.csv`` (computed with
    Daylight tools and Ertl's program, per the file's header). ``y`` is ``[1, 1]``. rdkit 2026.09
    rejects 8 of the SMILES (valence errors), which are skipped and listed in ``.skipped``.

    Args:
        root: the folder holding ``first_5k.tpsa.csv`` (default ``None``: rdkit's own copy).
        on_invalid: ``"skip"`` or ``"raise"`` (default ``"skip"``).
        transform: applied to each ``Data`` on access (default ``None``).
        descriptors: as in :class:`MoleculeDataset` (default ``False``).
    """

    raw_file_names = ("first_5k.tpsa.csv",)
    source = "rdkit's Data folder (RDConfig.RDDataDir/NCI); reinstall rdkit if it is missing"
    card = "datasets/tpsa.md"

    def __init__(self, root: str | os.PathLike | None = None, on_invalid: str = "skip",
                 transform: Callable[[Data], Data] | None = None,
                 descriptors: bool | Sequence[str] = False, limit: int | None = None):
        root = Path(root) if root is not None else _rdkit_nci()
        self.path = root / self.raw_file_names[0]
        self._setup(["tpsa"], on_invalid, descriptors, str(self.path), limit)
        super().__init__(root, transform, download=False)

    def process(self) -> list[Data]:
        return self._featurise(self._records(self.path))

    @staticmethod
    def _records(path: Path):
        with StringIO(read_text(path)) as f:
            for line, text in enumerate(f, start=1):
                text = text.strip()
                if not text or text.startswith("#"):
                    continue
                smiles, _, value = text.rpartition(",")
                yield line, smiles, [_float(value, line, "tpsa", str(path))]


_DEEPCHEM = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/"


class _MoleculeNet(MoleculeCSV):
    """A MoleculeNet CSV kept in ``root``; downloaded there (md5-checked) if missing."""

    url: str
    checksum: str
    smiles_col: str
    target_cols: Sequence[str]
    card = "datasets/moleculenet.md"

    def __init__(self, root: str | os.PathLike, download: bool = True, on_invalid: str = "skip",
                 transform: Callable[[Data], Data] | None = None,
                 descriptors: bool | Sequence[str] = False, limit: int | None = None):
        filename = self.url.rsplit("/", 1)[-1]
        self.md5 = {filename: self.checksum}
        self.source = self.url
        self.path, self.raw_file_names = Path(root) / filename, (filename,)
        self._setup(self.target_cols, on_invalid, descriptors, str(self.path), limit)
        FileDataset.__init__(self, root, transform, download=download)

    def not_found(self, missing, why: str = ""):
        return super().not_found(missing, why or "download=False")

    def download(self) -> None:
        """Fetch the CSV into ``root`` (md5-checked); folders made for it are removed again if
        the download fails, so a failed attempt creates nothing."""
        created = [p for p in (self.root, *self.root.parents) if not p.exists()]
        try:
            download_url(self.url, self.root, self.raw_file_names[0], md5=self.checksum)
        except BaseException:
            for folder in created:                          # deepest first
                try:
                    folder.rmdir()
                except OSError:
                    break
            raise


class ESOL(_MoleculeNet):
    """ESOL (Delaney 2004): 1,128 molecules with measured log solubility in mol/L, via MoleculeNet.

    Args:
        root: folder holding (or to receive) ``delaney-processed.csv``.
        download: fetch the file into ``root`` if it is missing (default ``True``).
        on_invalid, transform, descriptors: as in :class:`MoleculeCSV`.
    """
    url = _DEEPCHEM + "delaney-processed.csv"
    checksum = "0c90a51668d446b9e3ab77e67662bd1c"
    smiles_col = "smiles"
    target_cols = ("measured log solubility in mols per litre",)


class FreeSolv(_MoleculeNet):
    """FreeSolv (Mobley & Guthrie 2014): 642 molecules with experimental hydration free energy in
    kcal/mol (column ``expt`` of ``SAMPL.csv``), via MoleculeNet. Arguments as :class:`ESOL`."""
    url = _DEEPCHEM + "SAMPL.csv"
    checksum = "e47fa32674f670b4cdd3935c704a85d2"
    smiles_col = "smiles"
    target_cols = ("expt",)


class Lipophilicity(_MoleculeNet):
    """Lipophilicity (ChEMBL, AstraZeneca): 4,200 molecules with octanol/water logD at pH 7.4, via
    MoleculeNet. Arguments as :class:`ESOL`."""
    url = _DEEPCHEM + "Lipophilicity.csv"
    checksum = "85a0e1cb8b38b0dfc3f96ff47a57f0ab"
    smiles_col = "smiles"
    target_cols = ("exp",)


class BBBP(_MoleculeNet):
    """BBBP (Martins et al. 2012): 2,050 molecules labelled 1 if they penetrate the blood-brain
    barrier (column ``p_np``), via MoleculeNet. A few SMILES do not parse in rdkit and are skipped
    (see ``.skipped``). Arguments as :class:`ESOL`."""
    url = _DEEPCHEM + "BBBP.csv"
    checksum = "66286cb9e6b148bd75d80c870df580fb"
    smiles_col = "smiles"
    target_cols = ("p_np",)


#: The named molecule sets: class and task.
MOLECULENET = {"esol": (ESOL, "regression"), "freesolv": (FreeSolv, "regression"),
               "lipophilicity": (Lipophilicity, "regression"),
               "bbbp": (BBBP, "classification")}


def default_molecule_root() -> str:
    """``../shared/data/molecules`` next to the source checkout if it exists (the local copy),
    else ``data/molecules`` (downloaded there on first use)."""
    local = shared_data("molecules")
    return str(local) if local.is_dir() else "data/molecules"


def load_molecule_dataset(name: str, root: str | None = None,
                          descriptors: bool | Sequence[str] | None = False,
                          limit: int | None = None):
    """``(dataset, task)`` for ``"tpsa"`` or a MoleculeNet name (``MOLECULENET``).

    Args:
        name: the data set, case-insensitive.
        root: its folder (default: rdkit's copy for TPSA, :func:`default_molecule_root` else).
        descriptors: ``True``, a list of RDKit descriptor names, or ``False``/``None``; adds
            ``data.descriptors`` to every graph (:class:`MoleculeDataset`). (default ``False``)
        limit: featurise only the first ``limit`` valid molecules (smoke tests). (default: all)
    """
    name = name.lower()
    if name != "tpsa" and name not in MOLECULENET:
        raise ValueError(f"dataset {name!r} is not known; expected 'tpsa' or one of "
                         f"{sorted(MOLECULENET)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # rdkit rejects a few SMILES; they are in .skipped
        if name == "tpsa":
            return TPSA(root, descriptors=descriptors or False, limit=limit), "regression"
        cls, task = MOLECULENET[name]
        return cls(root or default_molecule_root(), descriptors=descriptors or False,
                   limit=limit), task
