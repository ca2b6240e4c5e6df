"""Tests of graphrnn.datasets.molecules: CSV reading, invalid rows, named sets, splits."""
import math
import shutil

import pytest
from torch_geometric.loader import DataLoader

from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.download import ChecksumError
from graphrnn.datasets.molecule_splits import murcko_scaffold, random_split, scaffold_split
from graphrnn.datasets.molecules import BBBP, ESOL, TPSA, FreeSolv, Lipophilicity, MoleculeCSV
from graphrnn.io import shared_data
from graphrnn.structures.descriptors import DESCRIPTOR_NAMES
from graphrnn.structures.molecule import InvalidSmilesError

DATA = shared_data("molecules")
needs_data = pytest.mark.skipif(not (DATA / "delaney-processed.csv").is_file(),
                                reason=f"MoleculeNet copies not found in {DATA}")

CSV = """name,smiles,a,b
ethanol,CCO,1.5,2
bad,C1CC,3.0,4
benzene, c1ccccc1 ,-0.5,
worse,xyz,1,1
"""


@pytest.fixture
def csv_path(tmp_path):
    p = tmp_path / "mols.csv"
    p.write_text(CSV)
    return p


def test_csv_skips_invalid_rows_with_line_numbers(csv_path):
    with pytest.warns(UserWarning, match=r"skipped 2 row\(s\).*line 3 'C1CC'.*line 5 'xyz'"):
        ds = MoleculeCSV(csv_path, "smiles", ["a", "b"])
    assert len(ds) == 2 and ds.smiles == ["CCO", "c1ccccc1"]
    assert [(s.line, s.smiles) for s in ds.skipped] == [(3, "C1CC"), (5, "xyz")]
    assert ds[0].y.tolist() == [[1.5, 2.0]]
    assert ds[1].y[0, 0] == -0.5 and math.isnan(ds[1].y[0, 1])      # empty cell -> NaN label
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch.y.shape == (2, 2) and batch.num_graphs == 2


def test_limit_keeps_the_first_valid_molecules_and_reads_no_further(csv_path):
    # the first valid molecule only: line 3's invalid SMILES is never reached, so nothing skipped
    ds = MoleculeCSV(csv_path, "smiles", ["a"], limit=1)
    assert ds.smiles == ["CCO"] and ds.skipped == []
    with pytest.warns(UserWarning, match="line 3"):
        two = MoleculeCSV(csv_path, "smiles", ["a"], limit=2)
    assert two.smiles == ["CCO", "c1ccccc1"] and [s.line for s in two.skipped] == [3]
    with pytest.raises(ValueError, match="limit=0"):
        MoleculeCSV(csv_path, "smiles", ["a"], limit=0)


def test_csv_descriptors_are_opt_in(csv_path, recwarn):
    plain = MoleculeCSV(csv_path, "smiles", ["a", "b"])
    assert plain.descriptor_names is None and "descriptors" not in plain[0]
    ds = MoleculeCSV(csv_path, "smiles", ["a", "b"], descriptors=True)
    assert ds.descriptor_names == DESCRIPTOR_NAMES
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch.descriptors.shape == (2, len(DESCRIPTOR_NAMES))
    tpsa = MoleculeCSV(csv_path, "smiles", "a", descriptors=["TPSA"])
    assert tpsa.descriptor_names == ("TPSA",)
    assert tpsa[0].descriptors.item() == pytest.approx(20.23)          # ethanol's TPSA
    with pytest.raises(KeyError, match="Nope"):
        MoleculeCSV(csv_path, "smiles", "a", descriptors=["Nope"])


def test_csv_raise_mode_names_row(csv_path):
    with pytest.raises(InvalidSmilesError, match=r"'C1CC'.*line 3"):
        MoleculeCSV(csv_path, "smiles", "a", on_invalid="raise")


def test_csv_bad_columns_and_values(csv_path, tmp_path):
    with pytest.raises(KeyError, match="'logP'"):
        MoleculeCSV(csv_path, "smiles", ["logP"])
    p = tmp_path / "bad.csv"
    p.write_text("smiles,y\nCCO,high\n")
    with pytest.raises(ValueError, match="line 2: column 'y' holds 'high'"):
        MoleculeCSV(p, "smiles", "y")
    with pytest.raises(ValueError, match="on_invalid='keep'"):
        MoleculeCSV(csv_path, "smiles", "a", on_invalid="keep")


def test_tpsa_is_read_from_rdkit():
    with pytest.warns(UserWarning, match="first_5k.tpsa.csv: skipped"):
        ds = TPSA()
    assert ds.path.name == "first_5k.tpsa.csv"
    assert len(ds) + len(ds.skipped) == 4999 and len(ds) > 4900
    assert ds.smiles[0] == "CC1=CC(=O)C=CC1=O"
    assert ds[0].y.item() == pytest.approx(34.14)
    assert all(s.line > 1 for s in ds.skipped)


@needs_data
@pytest.mark.parametrize("cls,n,skipped,first", [
    (ESOL, 1128, 0, -0.77), (FreeSolv, 642, 0, -11.01), (Lipophilicity, 4200, 0, 3.54),
    (BBBP, 2039, 11, 1.0)])
def test_moleculenet_sets_from_local_copy(cls, n, skipped, first, recwarn):
    ds = cls(DATA, download=False)
    assert len(ds) == n and len(ds.skipped) == skipped
    assert ds[0].y.item() == pytest.approx(first, abs=1e-4)
    assert ds.num_node_features == 53 and ds.num_edge_features == 12


@needs_data
def test_wrong_checksum_is_refused(tmp_path):
    shutil.copy(DATA / "SAMPL.csv", tmp_path / "SAMPL.csv")
    with open(tmp_path / "SAMPL.csv", "a") as f:
        f.write("x,C,0,0\n")
    with pytest.raises(ChecksumError, match="SAMPL.csv"):
        FreeSolv(tmp_path, download=False)


def test_missing_file_without_download(tmp_path):
    with pytest.raises(DataNotFoundError, match="delaney-processed.csv.*download=False.*"
                                                "deepchemdata.*moleculenet.md"):
        ESOL(tmp_path, download=False)


def test_failed_download_names_file_folder_and_source_and_creates_nothing(tmp_path, monkeypatch):
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    root = tmp_path / "a" / "b"
    with pytest.raises(DataNotFoundError) as err:
        ESOL(root)
    message = str(err.value)
    assert "delaney-processed.csv" in message and str(root) in message
    assert "the download failed" in message and "--root" in message and "\n" not in message
    assert not (tmp_path / "a").exists()


def test_csv_needs_target_columns_and_an_existing_file(csv_path, tmp_path):
    with pytest.raises(ValueError, match="no target columns"):
        MoleculeCSV(csv_path, "smiles")
    with pytest.raises(DataNotFoundError, match="nothere.csv"):
        MoleculeCSV(tmp_path / "nothere.csv", "smiles", "a")
    assert not (tmp_path / "nothere.csv").exists()


def test_tpsa_from_a_folder_of_your_own(tmp_path, recwarn):
    (tmp_path / "first_5k.tpsa.csv").write_text("# header\nCCO,20.23\nc1ccccc1O,20.23\n")
    ds = TPSA(tmp_path)
    assert len(ds) == 2 and ds.smiles == ["CCO", "c1ccccc1O"]
    assert ds[0].y.item() == pytest.approx(20.23)
    with pytest.raises(DataNotFoundError, match="first_5k.tpsa.csv.*tpsa.md"):
        TPSA(tmp_path / "empty")


SMILES = ["c1ccccc1C", "c1ccccc1CC", "c1ccccc1O", "c1ccccc1N", "C1CCCCC1C", "C1CCCCC1O",
          "CCO", "CCN", "c1ccncc1", "O=C1CCCN1", "c1ccc2ccccc2c1"]


@pytest.fixture
def small(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("smiles,y\n" + "".join(f"{s},{i}\n" for i, s in enumerate(SMILES)))
    return MoleculeCSV(p, "smiles", "y")


def test_random_split_is_deterministic_partition(small):
    parts = random_split(small, (0.6, 0.2, 0.2), seed=3)
    idx = [list(p.indices) for p in parts]
    assert sorted(sum(idx, [])) == list(range(len(small)))
    assert [len(i) for i in idx] == [7, 2, 2]
    assert idx == [list(p.indices) for p in random_split(small, (0.6, 0.2, 0.2), seed=3)]
    assert idx != [list(p.indices) for p in random_split(small, (0.6, 0.2, 0.2), seed=4)]
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(small, (0.5, 0.2))


def test_scaffold_split_keeps_scaffolds_apart(small):
    train, valid, test = scaffold_split(small, (0.6, 0.2, 0.2))
    scaffolds = [{murcko_scaffold(SMILES[i]) for i in p.indices} for p in (train, valid, test)]
    assert not (scaffolds[0] & scaffolds[1] or scaffolds[0] & scaffolds[2]
                or scaffolds[1] & scaffolds[2])
    assert sorted(list(train.indices) + list(valid.indices) + list(test.indices)) == \
        list(range(len(SMILES)))
    # largest groups first: benzene (4 molecules) then acyclic "" (2) and cyclohexane (2) to train
    assert set(train.indices) >= {0, 1, 2, 3}
    assert len(train) <= 0.6 * len(SMILES) + 1e-9
    again = scaffold_split(small, (0.6, 0.2, 0.2))
    assert [list(p.indices) for p in again] == [list(p.indices) for p in (train, valid, test)]


def test_balanced_scaffold_split_shuffles_whole_groups_with_the_seed(small):
    from graphrnn.datasets.molecule_splits import balanced_scaffold_split, split_dataset

    splits = {seed: balanced_scaffold_split(small, (0.6, 0.2, 0.2), seed=seed)
              for seed in range(6)}
    for parts in splits.values():
        scaffolds = [{murcko_scaffold(SMILES[i]) for i in p.indices} for p in parts]
        assert not (scaffolds[0] & scaffolds[1] or scaffolds[0] & scaffolds[2]
                    or scaffolds[1] & scaffolds[2])
        assert sorted(sum((list(p.indices) for p in parts), [])) == list(range(len(SMILES)))
        assert [len(p) for p in parts][0] <= 0.6 * len(SMILES) + 1e-9
    tests = {tuple(parts[2].indices) for parts in splits.values()}
    assert len(tests) > 1                                   # the seed moves the small groups
    again = split_dataset(small, "scaffold_balanced", seed=3, fractions=(0.6, 0.2, 0.2))
    assert [list(p.indices) for p in again] == [list(p.indices) for p in splits[3]]
    with pytest.raises(ValueError, match="scaffold_balanced"):
        split_dataset(small, "cluster")
