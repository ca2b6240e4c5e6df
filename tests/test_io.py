import pytest

from graphrnn.io import atomic_write, atomic_write_bytes


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.bin"
    atomic_write_bytes(path, b"good")

    def broken(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, broken)
    assert path.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_read_text_names_file_line_and_column_of_bytes_that_are_not_utf8(tmp_path):
    from graphrnn.io import read_lines, read_text

    path = tmp_path / "data.txt"
    path.write_bytes("first line\nsecond ".encode() + b"\xe9t\xe9\nthird\n")
    with pytest.raises(ValueError, match=r"data.txt:2: byte 0xe9 at column 8 is not UTF-8 text"):
        read_text(path)
    path.write_bytes("\ufeffa\r\nb\n".encode())  # a byte-order mark and Windows line ends
    assert read_lines(path) == ["a", "b"]


def test_read_text_reads_gzip(tmp_path):
    import gzip

    from graphrnn.io import read_text

    path = tmp_path / "data.txt.gz"
    with gzip.open(path, "wb") as f:
        f.write("日月\n".encode())
    assert read_text(path) == "日月\n"
