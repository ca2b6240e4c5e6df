"""PenDigits: the reader's errors (file and line), the published train/test boundary, the
validation block, offsets and the augmentation."""
from __future__ import annotations

import math

import pytest
import torch

from graphrnn.datasets import DataNotFoundError, PenDigits
from graphrnn.datasets.download import ChecksumError
from graphrnn.datasets.pendigits import (
    TRAIN_ROWS,
    normalize_box,
    offsets,
    random_affine,
    read_pendigits,
)
from graphrnn.io import shared_data

HEADER = ",".join([f"input{i}" for i in range(1, 17)] + ["class"])
REAL = shared_data("handwriting", "pendigits", "pendigits.csv")


def _row(label: int, start: int = 0) -> str:
    return ",".join(f"{(start + 13 * i) % 101:3d}" for i in range(16)) + f",{label:2d}"


def _write(tmp_path, rows, header=HEADER):
    path = tmp_path / "pendigits.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_reads_points_in_writing_order(tmp_path):
    path = _write(tmp_path, [" 47,100, 27, 81, 57, 37, 26,  0,  0, 23, 56, 53,100, 90, 40, 98, 8",
                             _row(3)])
    points, labels = read_pendigits(path)
    assert points.shape == (2, 8, 2) and labels.tolist() == [8, 3]
    assert points[0, 0].tolist() == [47, 100] and points[0, 7].tolist() == [40, 98]


@pytest.mark.parametrize("line, why", [
    (" 47,100, 27, 81, 57, 37, 26,  0,  0, 23, 56, 53,100, 90, 40, 8", "expected 17"),
    (" 47,100, 27, 81, 57, 37, 26,  0,  0, 2x, 56, 53,100, 90, 40, 98, 8", "'2x'"),
    (" 47,101, 27, 81, 57, 37, 26,  0,  0, 23, 56, 53,100, 90, 40, 98, 8", "0-100, got 101"),
    (" 47,100, 27, 81, 57, 37, 26,  0,  0, 23, 56, 53,100, 90, 40, 98, 10", "0-9, got 10"),
])
def test_malformed_lines_name_file_and_line(tmp_path, line, why):
    path = _write(tmp_path, [_row(1), line, _row(2)])
    with pytest.raises(ValueError, match=f"pendigits.csv:3: .*{why}"):
        read_pendigits(path)


def test_bad_header_and_empty_file(tmp_path):
    with pytest.raises(ValueError, match="pendigits.csv:1: expected the header"):
        read_pendigits(_write(tmp_path, [_row(1)], header="x1,y1"))
    with pytest.raises(ValueError, match="no digits after the header"):
        read_pendigits(_write(tmp_path, []))


def test_splits_keep_the_boundary_and_take_validation_from_the_training_rows(tmp_path):
    _write(tmp_path, [_row(i % 10, i) for i in range(10)])
    kw = {"root": tmp_path, "train_rows": 6, "val_rows": 2, "check_md5": False}
    train, val, test = (PenDigits(split=s, **kw) for s in ("train", "val", "test"))
    assert train.rows.tolist() == [1, 2, 3, 4] and val.rows.tolist() == [5, 6]
    assert test.rows.tolist() == [7, 8, 9, 10]
    assert test.labels.tolist() == [6, 7, 8, 9]
    points, label = val[1]
    assert label == 5 and torch.equal(points, read_pendigits(tmp_path / "pendigits.csv")[0][5]
                                      .float())


def test_checksum_missing_file_and_too_few_rows(tmp_path):
    _write(tmp_path, [_row(1), _row(2)])
    with pytest.raises(ChecksumError, match="pendigits.csv: md5 is"):
        PenDigits(tmp_path)
    with pytest.raises(ValueError, match="2 digits, but the test split starts after row 7494"):
        PenDigits(tmp_path, check_md5=False)
    with pytest.raises(DataNotFoundError, match="pendigits.csv .*datasets/pendigits.md"):
        PenDigits(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="split must be one of"):
        PenDigits(tmp_path, split="dev")


def test_offsets_sum_back_to_positions_and_the_box_is_0_to_100():
    points = torch.rand(5, 8, 2) * 100
    assert torch.allclose(offsets(points).cumsum(-2), points, atol=1e-4)
    assert torch.equal(offsets(points)[:, 0], points[:, 0])
    boxed = normalize_box(points * 0.3 + 7)
    assert torch.allclose(boxed.amin(-2), torch.zeros(5, 2), atol=1e-4)
    assert torch.allclose(boxed.amax(-2), torch.full((5, 2), 100.0), atol=1e-4)
    flat = torch.tensor([[[3.0, 10.0], [5.0, 10.0]]])
    assert normalize_box(flat)[0, :, 1].tolist() == [50.0, 50.0]


def test_random_affine_keeps_the_box_and_is_the_identity_at_zero():
    points = normalize_box(torch.rand(6, 8, 2))
    assert torch.allclose(random_affine(points, 0, 0, 0), points, atol=1e-4)
    g = torch.Generator().manual_seed(0)
    moved = random_affine(points, 30, 0.3, 0.3, generator=g)
    assert torch.allclose(moved.amin(-2), torch.zeros(6, 2), atol=1e-4)
    assert torch.allclose(moved.amax(-2), torch.full((6, 2), 100.0), atol=1e-4)
    assert (moved - points).abs().max() > 1
    # a pure rotation of 90 degrees maps (x, y) to (-y, x) before the box is taken again
    square = torch.tensor([[[0.0, 0.0], [100.0, 0.0], [100.0, 100.0]]])
    turned = normalize_box((square - 50) @ torch.tensor([[0.0, 1.0], [-1.0, 0.0]]))
    assert turned[0].tolist() == [[100.0, 0.0], [100.0, 100.0], [0.0, 100.0]]
    assert not math.isnan(float(moved.sum()))


@pytest.mark.skipif(not REAL.is_file(), reason="the real pendigits.csv is not here")
def test_real_split_is_the_published_writer_independent_one():
    """The file holds no writer id: what can be checked is that the test split is exactly the
    published test file (rows 7,495-10,992, whose class counts the UCI documentation lists), that
    the training and validation splits are the training file's rows, and that no row is in two
    splits."""
    train, val, test = (PenDigits(split=s) for s in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (6744, 750, 3498)
    rows = torch.cat([train.rows, val.rows, test.rows])
    assert torch.equal(rows, torch.arange(1, 10993))
    assert int(test.rows.min()) == TRAIN_ROWS + 1 and int(val.rows.max()) == TRAIN_ROWS
    published_train = [780, 779, 780, 719, 780, 720, 720, 778, 719, 719]
    published_test = [363, 364, 364, 336, 364, 335, 336, 364, 336, 336]
    got_train = torch.bincount(torch.cat([train.labels, val.labels]), minlength=10).tolist()
    assert got_train == published_train
    assert torch.bincount(test.labels, minlength=10).tolist() == published_test
