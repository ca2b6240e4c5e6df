"""SST: hand-made files, the download path (offline, faked), and the real files when present."""
import hashlib
import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest
import torch
from torch_geometric.loader import DataLoader

from graphrnn.datasets import sst as S
from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.download import ChecksumError
from graphrnn.datasets.ptb import TreeFormatError
from graphrnn.datasets.text import Vocab
from graphrnn.io import shared_data
from graphrnn.schedule import schedule_of, topological_levels

REAL = shared_data("sst")

TRAIN = """(3 (2 It) (4 (2 is) (4 good)))
(1 (2 The) (1 (1 plot) (2 (2 is) (1 thin))))
(2 (2 It) (2 exists))
(4 (4 Great) (2 .))
"""
DEV = """(0 (0 Awful) (2 film))
(2 (2 A) (2 film))
"""
TEST = """(4 (3 (2 a) (4 lovely)) (2 film))
"""


@pytest.fixture
def root(tmp_path):
    for name, text in (("train", TRAIN), ("dev", DEV), ("test", TEST)):
        (tmp_path / f"{name}.txt").write_text(text)
    return tmp_path


def test_fine_grained_graphs_carry_tokens_labels_levels(root):
    ds = S.SST(root, "train", check_md5=False)
    assert len(ds) == 4 and ds.num_classes == 5
    d = ds[0]                                            # (3 (2 It) (4 (2 is) (4 good)))
    assert d.y.tolist() == [3, 2, 4, 2, 4]
    assert d.token.tolist()[0] == -1 and ds.vocab.lookup_token(int(d.token[1])) == "It"
    assert torch.equal(d.level, topological_levels(d.edge_index, d.num_nodes))
    assert d.level.tolist() == [2, 0, 1, 0, 0]
    assert d.root_index.tolist() == [0]


def test_binary_drops_neutral_sentences_and_maps_labels(root):
    ds = S.SST(root, "train", fine_grained=False, check_md5=False)
    assert len(ds) == 3 and ds.num_classes == 2          # "(2 (2 It) (2 exists))" dropped
    assert ds.lines == [1, 2, 4]
    assert ds[0].y.tolist() == [1, -1, 1, -1, 1]         # 3,4 -> 1; 2 -> ignored
    assert ds[1].y.tolist()[:3] == [0, -1, 0]            # 1 -> 0
    dev = S.SST(root, "dev", fine_grained=False, check_md5=False)
    assert len(dev) == 1 and dev[0].y.tolist() == [0, 0, -1]


def test_root_labels_only(root):
    ds = S.SST(root, "train", labels="root", check_md5=False)
    assert ds[1].y.tolist() == [1] + [-1] * (ds[1].num_nodes - 1)


def test_dev_uses_the_training_vocabulary_and_batches_schedule_from_levels(root):
    dev = S.SST(root, "dev", lowercase=True, check_md5=False)
    assert dev.vocab.to_list()[:3] == ["<unk>", "is", "it"]    # 2 each, ties by spelling
    assert dev.vocab["awful"] == dev.vocab.unk_index    # not in the training split
    batch = next(iter(DataLoader(dev, batch_size=2)))
    assert batch.root_index.tolist() == [0, 3]          # offset by PyG per graph
    assert batch.y[batch.root_index].tolist() == [0, 2]
    sched = schedule_of(batch)
    assert sched.level_sizes == (4, 2)


def test_missing_files_name_them_the_folder_and_the_source_creating_nothing(tmp_path):
    where = tmp_path / "absent"
    with pytest.raises(DataNotFoundError) as err:
        S.SST(where, "dev", download=False)
    message = str(err.value)
    assert "dev.txt, train.txt" in message and str(where) in message
    assert S.URL in message and "datasets/sst.md" in message and "\n" not in message
    assert not where.exists()


def test_own_file_is_read_instead_of_the_split_without_md5(root, tmp_path):
    mine = tmp_path / "mine.trees"
    mine.write_text("(4 (4 Great) (2 film))\n(0 (0 Awful) (2 plot))\n")
    train = S.SST(root, "train", check_md5=False)
    ds = S.SST(tmp_path / "absent", "test", vocab=train.vocab, file=mine)
    assert len(ds) == 2 and ds[1].y.tolist() == [0, 0, 2]
    assert ds.vocab.lookup_token(int(ds[0].token[1])) == "Great"
    with pytest.raises(DataNotFoundError, match="nope.txt"):
        S.SST(root, "test", vocab=train.vocab, file=tmp_path / "nope.txt")


def test_bad_arguments_and_labels(root):
    with pytest.raises(ValueError, match="split must be one of"):
        S.SST(root, "validation")
    with pytest.raises(ValueError, match="labels must be one of"):
        S.SST(root, labels="phrases")
    (root / "test.txt").write_text("(4 (3 a) (9 b))\n")
    with pytest.raises(TreeFormatError, match=r"test.txt:1: .*SST labels are 0-4, got '9'"):
        S.SST(root, "test", check_md5=False)
    (root / "test.txt").write_text("(4 (3 a) (2 b))\n(4 (3 a) (2 b)\n")
    with pytest.raises(TreeFormatError, match=r"test.txt:2: 1 unclosed"):
        S.SST(root, "test", check_md5=False)


def test_md5_of_the_local_file_is_checked(root):
    with pytest.raises(ChecksumError, match="dev.txt: md5 is"):
        S.SST(root, "dev", vocab=Vocab(specials=("<unk>",)))


def _zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(f"trees/{name}.txt", text)
    return buf.getvalue()


def test_download_extracts_and_checks_every_file(tmp_path, monkeypatch):
    files = {"train": TRAIN, "dev": DEV, "test": TEST}
    calls = []

    def fake_download(url, folder, filename=None, md5=None, timeout=30.0):
        calls.append((url, md5))
        path = Path(folder) / "trainDevTestTrees_PTB.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_zip(files))
        return path

    monkeypatch.setattr(S, "download_url", fake_download)
    monkeypatch.setattr(S, "MD5", {k: hashlib.md5(v.encode()).hexdigest()
                                   for k, v in files.items()})
    ds = S.SST(tmp_path / "sst", "dev")
    assert calls == [(S.URL, S.ARCHIVE_MD5)] and len(ds) == 2
    assert (tmp_path / "sst" / "train.txt").read_text() == TRAIN
    # a corrupted member is refused and nothing is written for it
    files["test"] = TEST.replace("lovely", "lousy")
    with pytest.raises(ChecksumError, match="test.txt: md5 is"):
        S.SST(tmp_path / "other", "test")
    assert not (tmp_path / "other" / "test.txt").exists()


@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/data/sst")
def test_real_dev_and_test_splits_have_the_published_sizes():
    vocab = Vocab(specials=("<unk>",))                             # skip the training vocabulary
    dev = S.SST(REAL, "dev", vocab=vocab)
    assert len(dev) == 1101
    assert Counter(int(d.y[0]) for d in dev) == {0: 139, 1: 289, 2: 229, 3: 279, 4: 165}
    assert len(S.SST(REAL, "dev", fine_grained=False, vocab=vocab)) == 872
    assert len(S.SST(REAL, "test", fine_grained=False, vocab=vocab)) == 1821
    assert dev.trees[0].leaves()[:3] == ["It", "'s", "a"]
