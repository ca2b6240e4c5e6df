"""DigitStrings: the source-image split, the reader and the line generator on tiny files, errors."""
import numpy as np
import pytest
import torch

from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.digit_strings import (
    DigitStrings,
    collate_lines,
    read_digit_images,
    split_sources,
)


def _write_digits(path, n_per_class=3):
    """A tiny digits.csv: image k of class c has every pixel in row c // 2 set to k + 1 and
    pixel (7, 7) set to c + 1, so images differ and each one can be recognised after rendering."""
    rows, images = [], []
    for c in range(10):
        for k in range(n_per_class):
            image = np.zeros((8, 8), dtype=np.uint8)
            image[c // 2, :] = k + 1
            image[7, 7] = c + 1
            images.append(image)
            rows.append(",".join(map(str, image.reshape(-1).tolist() + [c])))
    path.write_text("\n".join(rows) + "\n")
    return np.stack(images)


def test_the_split_of_the_real_digits_shares_no_source_image():
    pytest.importorskip("sklearn")
    sets = {s: DigitStrings(s, 300, seed=1) for s in ("train", "val", "test")}
    idx = {s: set(d.source_indices.tolist()) for s, d in sets.items()}
    assert not idx["train"] & idx["test"] and not idx["train"] & idx["val"] \
        and not idx["val"] & idx["test"]
    assert len(idx["train"] | idx["val"] | idx["test"]) == 1797
    assert [len(idx[s]) for s in ("train", "val", "test")] == [1078, 359, 360]
    # every test line is made of test images only, and the digits are those images' classes
    test = sets["test"]
    used = {k for line in test.line_sources for k in line}
    assert used <= idx["test"] and len(used) > 250
    for line, digits in zip(test.line_sources, test.digits):
        assert [int(test.labels[k]) for k in line] == digits
        assert 3 <= len(digits) <= 8


def test_split_sources_is_stratified_disjoint_and_seeded():
    labels = np.repeat(np.arange(10), 10)
    parts = split_sources(labels, seed=3)
    for s, share in zip(("train", "val", "test"), (6, 2, 2)):
        assert np.bincount(labels[parts[s]], minlength=10).tolist() == [share] * 10
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(100))
    assert split_sources(labels, seed=3)["test"].tolist() == parts["test"].tolist()
    assert split_sources(labels, seed=4)["test"].tolist() != parts["test"].tolist()
    with pytest.raises(ValueError, match="summing to 1"):
        split_sources(labels, fractions=(0.5, 0.2, 0.2))


def test_reader_and_lines_on_a_tiny_file(tmp_path):
    images = _write_digits(tmp_path / "digits.csv")
    read, labels = read_digit_images(tmp_path / "digits.csv")
    assert read.shape == (30, 8, 8) and np.array_equal(read, images)
    assert labels.tolist() == [c for c in range(10) for _ in range(3)]
    # no gap, no margin, no jitter: the line is its images side by side, scaled to [0, 1]
    ds = DigitStrings("train", 5, seed=0, min_len=2, max_len=4, height=8, gap=(0, 0), margin=0,
                      root=tmp_path, fractions=(0.4, 0.3, 0.3))
    for i in range(len(ds)):
        image, digits = ds[i]
        expected = np.concatenate([images[k] for k in ds.line_sources[i]], axis=1) / 16.0
        assert image.shape == (1, 8, 8 * len(digits))
        assert torch.allclose(image[0], torch.from_numpy(expected).float())
        assert ds.text(i) == "".join(map(str, digits))
    # with jitter and gaps that never overlap: each image's pixels land whole on the canvas
    ds = DigitStrings("test", 20, seed=0, height=12, gap=(0, 3), root=tmp_path,
                      fractions=(0.4, 0.3, 0.3))
    for i in range(len(ds)):
        image, digits = ds[i]
        assert image.shape[1] == 12 and 0 <= float(image.min()) and float(image.max()) <= 1
        assert len(digits) * 8 <= image.shape[2] <= len(digits) * 11 - 3 + 8
        total = sum(int(images[k].sum()) for k in ds.line_sources[i])
        assert round(float(image.sum()) * 16) == total
    again = DigitStrings("test", 20, seed=0, height=12, gap=(0, 3), root=tmp_path,
                         fractions=(0.4, 0.3, 0.3))
    assert all(torch.equal(ds[i][0], again[i][0]) for i in range(20))
    other = DigitStrings("test", 20, seed=1, height=12, root=tmp_path, fractions=(0.4, 0.3, 0.3))
    assert ds.digits != other.digits


def test_collate_pads_widths_and_shifts_labels():
    items = [(torch.ones(1, 4, 3), [0, 9]), (torch.full((1, 4, 5), 0.5), [5, 5, 1])]
    batch = collate_lines(items)
    assert batch.images.shape == (2, 1, 4, 5)
    assert batch.widths.tolist() == [3, 5] and batch.label_lengths.tolist() == [2, 3]
    assert batch.labels.tolist() == [[1, 10, 0], [6, 6, 2]]
    assert float(batch.images[0, ..., 3:].abs().sum()) == 0  # padding is blank paper
    with pytest.raises(ValueError, match="share channels and height"):
        collate_lines([(torch.ones(1, 4, 3), [1]), (torch.ones(1, 5, 3), [2])])


def test_bad_files_are_named_with_the_line(tmp_path):
    path = tmp_path / "digits.csv"
    _write_digits(path)
    lines = path.read_text().splitlines()
    cases = {
        "expected 65 comma-separated integers": lines[0].rsplit(",", 2)[0],
        "pixel value 17 is outside 0-16": "17," + lines[0].split(",", 1)[1],
        "class 12 is not a digit": lines[0].rsplit(",", 1)[0] + ",12",
        "expected integers": "x," + lines[0].split(",", 1)[1],
    }
    for message, bad in cases.items():
        path.write_text("\n".join(lines[:2] + [bad] + lines[3:]) + "\n")
        with pytest.raises(ValueError, match=f"digits.csv:3: {message}"):
            read_digit_images(path)
    with pytest.raises(DataNotFoundError, match="no digits.csv.gz or digits.csv in"):
        DigitStrings("train", 2, root=tmp_path / "nowhere")


def test_bad_arguments_name_what_was_wrong(tmp_path):
    _write_digits(tmp_path / "digits.csv", n_per_class=1)
    with pytest.raises(ValueError, match="split must be one of train, val, test, got 'dev'"):
        DigitStrings("dev", 2, root=tmp_path)
    with pytest.raises(ValueError, match="min_len=5, max_len=3"):
        DigitStrings("train", 2, min_len=5, max_len=3, root=tmp_path)
    with pytest.raises(ValueError, match="height must be >= 8"):
        DigitStrings("train", 2, height=6, root=tmp_path)
    # one image per class: round(0.2 * 1) = 0 go to val, so the val split is empty
    with pytest.raises(ValueError, match="the val split of the 10 source images is empty"):
        DigitStrings("val", 2, root=tmp_path)


def test_augmented_lines_resize_each_digit_and_stay_deterministic(tmp_path):
    _write_digits(tmp_path / "digits.csv")
    kwargs = dict(seed=2, height=9, gap=(0, 0), margin=0, root=tmp_path,
                  fractions=(0.4, 0.3, 0.3), augment=True)
    ds = DigitStrings("train", 30, **kwargs)
    seen = set()
    for i in range(len(ds)):
        image, digits = ds[i]
        sizes, gains = ds._layouts[i][4:]
        assert len(sizes) == len(gains) == len(digits)
        # no gaps or margins: the line is exactly as wide as its resized digits
        assert image.shape == (1, 9, sum(w for _, w in sizes))
        assert all(7 <= h <= 9 and 6 <= w <= 10 for h, w in sizes)
        assert all(0.6 <= g <= 1 for g in gains) and float(image.max()) <= 1
        seen |= set(sizes)
        # every digit's block of columns holds ink, at most its gain
        x = 0
        for (_, w), g in zip(sizes, gains):
            block = image[0, :, x:x + w]
            assert 0 < float(block.max()) <= g + 1e-6
            x += w
    assert len(seen) > 5
    again = DigitStrings("train", 30, **kwargs)
    assert all(torch.equal(ds[i][0], again[i][0]) for i in range(30))
    with pytest.raises(ValueError, match="height must be >= 9"):
        DigitStrings("train", 2, height=8, augment=True, root=tmp_path)
