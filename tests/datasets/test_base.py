"""The data-set contract: raw files under root, md5 checks, and missing files named clearly."""
from __future__ import annotations

import hashlib

import pytest

from graphrnn.datasets.base import DataNotFoundError, FileDataset
from graphrnn.datasets.download import ChecksumError


class Lines(FileDataset):
    raw_file_names = ("a.txt", "b.txt")
    source = "https://example.org/lines.zip"
    card = "datasets/lines.md"

    def process(self):
        return [line for p in self.raw_paths for line in p.read_text().splitlines()]


class Fetching(Lines):
    def download(self):
        raise OSError("Name or service not known")


def write(root, a="x\ny\n", b="z\n"):
    root.mkdir(exist_ok=True)
    (root / "a.txt").write_text(a)
    (root / "b.txt").write_text(b)


def test_reads_raw_files_and_applies_the_transform(tmp_path):
    write(tmp_path)
    ds = Lines(tmp_path, transform=str.upper)
    assert len(ds) == 3 and ds[2] == "Z" and ds.raw_paths[0] == tmp_path / "a.txt"


def test_missing_folder_names_files_source_and_card_and_creates_nothing(tmp_path):
    root = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError) as err:
        Lines(root)
    text = str(err.value)
    for part in ("a.txt, b.txt", f"{root} does not exist", "https://example.org/lines.zip",
                 "--root", "datasets/lines.md"):
        assert part in text
    assert not root.exists()


def test_a_failed_download_is_the_same_clear_error(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(DataNotFoundError, match=r"b.txt not in .*the download failed \(Name or "):
        Fetching(tmp_path)


def test_md5_checked(tmp_path):
    write(tmp_path)
    good = hashlib.md5(b"x\ny\n").hexdigest()
    Lines.md5 = {"a.txt": good}
    try:
        assert len(Lines(tmp_path)) == 3
        (tmp_path / "a.txt").write_text("tampered\n")
        with pytest.raises(ChecksumError, match="a.txt"):
            Lines(tmp_path)
        assert len(Lines(tmp_path, check_md5=False)) == 2
    finally:
        Lines.md5 = {}
