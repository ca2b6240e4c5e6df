import hashlib

import pytest

from graphrnn.datasets.download import ChecksumError, check_file, download_url


def test_download_verifies_the_checksum_and_keeps_nothing_on_mismatch(tmp_path):
    source = tmp_path / "src" / "data.txt"
    source.parent.mkdir()
    source.write_bytes(b"hello graphs\n")
    good = hashlib.md5(b"hello graphs\n").hexdigest()
    target = tmp_path / "dst"
    with pytest.raises(ChecksumError, match="expected 0+"):
        download_url(source.as_uri(), target, md5="0" * 32)
    assert not target.exists() or list(target.iterdir()) == []
    path = download_url(source.as_uri(), target, md5=good)
    assert path.read_bytes() == b"hello graphs\n"
    source.write_bytes(b"changed")  # an existing good file is reused, not fetched again
    assert download_url(source.as_uri(), target, md5=good).read_bytes() == b"hello graphs\n"


def test_check_file_names_the_file(tmp_path):
    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")
    check_file(f, hashlib.md5(b"abc").hexdigest())
    with pytest.raises(ChecksumError, match="x.bin: md5 is"):
        check_file(f, "1" * 32)
