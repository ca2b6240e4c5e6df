r"""Lines of real handwritten digits for offline handwriting recognition with CTC.

The source is UCI optdigits as shipped by scikit-learn (:func:`sklearn.datasets.load_digits`):
1,797 images of 8x8 pixels, values 0-16 (UCI's test part, by 13 writers). The *source images* are
split first, per class, 60 / 20 / 20 into train / val / test with a fixed seed
(:func:`split_sources`); a line of a split is then drawn from that split's images only, so no test
line holds a training image.

A line of ``min_len..max_len`` digits is the digit images side by side on a canvas ``height``
pixels high: each digit at its own random height (``0..height - 8`` pixels from the top, the
vertical jitter), neighbours ``gap`` pixels apart (a negative gap overlaps them; overlapping
pixels take the darker, i.e. larger, value), a random margin at both ends. Pixels are scaled to
``[0, 1]``. Line widths vary (``8 * n`` plus gaps and margins); a batch pads them to the widest
and carries the widths (:class:`LineBatch`).

Everything is deterministic: the source split from ``split_seed``, the lines from ``seed`` and the
split's name.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

__all__ = ["DIGIT_SIZE", "LineBatch", "collate_lines", "read_digit_images", "load_digit_images",
           "split_sources", "render_line", "DigitStrings"]

DIGIT_SIZE = 8  # optdigits images are 8x8
SPLITS = ("train", "val", "test")
# augment=True: each digit's (inclusive) height and width ranges in pixels and its least ink gain
AUGMENT_HEIGHTS, AUGMENT_WIDTHS, AUGMENT_GAIN = (7, 9), (6, 10), 0.6
FILE_NAMES = ("digits.csv.gz", "digits.csv")


class LineBatch(NamedTuple):
    """A padded batch of line images (the CTC batch layout: inputs, input lengths, labels, label
    lengths).

    Attributes:
        images: (B, 1, H, W) line images, zero (blank paper) past each width.
        widths: (B,) width in pixels of each line (long).
        labels: (B, S) digit ``d`` as label ``d + 1`` (0 is the CTC blank and the padding).
        label_lengths: (B,) digits per line (long).
    """
    images: Tensor
    widths: Tensor
    labels: Tensor
    label_lengths: Tensor


def collate_lines(items: Sequence[tuple[Tensor, Sequence[int]]]) -> LineBatch:
    """``[(image (1, H, W_i), digits), ...]`` -> a :class:`LineBatch` padded to the widest line."""
    if not items:
        raise ValueError("collate_lines: no lines to collate")
    heights = {tuple(image.shape[:2]) for image, _ in items}
    if len(heights) != 1:
        raise ValueError(f"collate_lines: lines must share channels and height, got (C, H) "
                         f"{sorted(heights)}")
    widths = [image.shape[-1] for image, _ in items]
    images = items[0][0].new_zeros(len(items), *items[0][0].shape[:2], max(widths))
    for row, (image, _) in zip(images, items):
        row[..., :image.shape[-1]] = image
    lengths = [len(d) for _, d in items]
    labels = torch.zeros(len(items), max(lengths), dtype=torch.long)
    for row, (_, digits) in zip(labels, items):
        row[:len(digits)] = torch.as_tensor(list(digits), dtype=torch.long) + 1
    return LineBatch(images, torch.tensor(widths), labels, torch.tensor(lengths))


# ------------------------------------------------------------------------------------------------
# the source images

def read_digit_images(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read digit images in scikit-learn's ``digits.csv.gz`` layout (UCI optdigits' too): one image
    a line, 64 comma-separated integers 0-16 (the 8x8 pixels, row by row), then the class 0-9.

    Returns:
        ``images`` (N, 8, 8) uint8 and ``labels`` (N,) int64.

    Raises:
        ValueError: naming the file, the line and what was wrong with it.
    """
    from ..io import read_text

    path = Path(path)
    rows, labels = [], []
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != DIGIT_SIZE ** 2 + 1:
            raise ValueError(f"{path}:{number}: expected 65 comma-separated integers (64 pixels "
                             f"0-16, then the class 0-9), got {len(fields)} fields")
        try:
            floats = [float(f) for f in fields]
            if not all(v.is_integer() for v in floats):
                raise ValueError
            values = [int(v) for v in floats]
        except ValueError:
            raise ValueError(f"{path}:{number}: expected integers (64 pixels 0-16, then the class "
                             f"0-9), got {line.strip()[:60]!r}") from None
        pixels, label = values[:-1], values[-1]
        if not all(0 <= v <= 16 for v in pixels):
            bad = next(v for v in pixels if not 0 <= v <= 16)
            raise ValueError(f"{path}:{number}: pixel value {bad} is outside 0-16")
        if not 0 <= label <= 9:
            raise ValueError(f"{path}:{number}: class {label} is not a digit 0-9")
        rows.append(pixels)
        labels.append(label)
    if not rows:
        raise ValueError(f"{path}: no digit images in the file (expected lines of 64 pixels and "
                         f"a class)")
    images = np.asarray(rows, dtype=np.uint8).reshape(-1, DIGIT_SIZE, DIGIT_SIZE)
    return images, np.asarray(labels, dtype=np.int64)


def load_digit_images(root: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The source images: ``root/digits.csv.gz`` (or ``root/digits.csv``) when ``root`` is given,
    else scikit-learn's embedded copy (``pip install "graphrnn[sklearn]"``).

    Returns:
        ``images`` (N, 8, 8) uint8, values 0-16, and ``labels`` (N,) int64.
    """
    if root is not None:
        root = Path(root)
        for name in FILE_NAMES:
            if (root / name).is_file():
                return read_digit_images(root / name)
        from .base import DataNotFoundError

        raise DataNotFoundError(f"DigitStrings: no {' or '.join(FILE_NAMES)} in {root}; expected "
                                f"lines of 64 pixels 0-16 and a class (scikit-learn's "
                                f"digits.csv.gz layout), see datasets/digit_strings.md")
    return _sklearn_digits()


@functools.lru_cache(maxsize=1)
def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError('DigitStrings reads the handwritten digits shipped with scikit-learn; '
                          'install it with: pip install "graphrnn[sklearn]" (or pass root= a '
                          'folder with digits.csv.gz)') from None
    digits = load_digits()
    images, labels = digits.images.astype(np.uint8), digits.target.astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False  # shared by every split (cached)
    return images, labels


def split_sources(labels: Sequence[int] | np.ndarray, seed: int = 0,
                  fractions: Sequence[float] = (0.6, 0.2, 0.2)) -> dict[str, np.ndarray]:
    """Split image indices into train / val / test, per class: each class's indices shuffled with
    ``seed``, the first ``round(fractions[0] * n_c)`` to train, the next ``round(fractions[1] *
    n_c)`` to val, the rest to test. Returns ``{split: sorted indices}``, disjoint, covering all.
    """
    labels = np.asarray(labels)
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"split_sources: fractions must be three non-negative numbers summing to "
                         f"1 (train, val, test), got {tuple(fractions)}")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_train = int(round(fractions[0] * len(idx)))
        n_val = int(round(fractions[1] * len(idx)))
        for split, chunk in zip(SPLITS, np.split(idx, [n_train, n_train + n_val])):
            parts[split].append(chunk)
    return {s: np.sort(np.concatenate(p)) for s, p in parts.items()}


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(8, 8) -> ``size`` by bilinear interpolation (antialiased when shrinking), values kept in
    0-16."""
    if tuple(size) == image.shape:
        return image.astype(np.float32)
    x = torch.from_numpy(image.astype(np.float32))[None, None]
    out = torch.nn.functional.interpolate(x, size=tuple(size), mode="bilinear",
                                          align_corners=False, antialias=True)
    return out[0, 0].clamp_(0, 16).numpy()


def render_line(images: Sequence[np.ndarray], offsets: Sequence[int], xs: Sequence[int],
                height: int, width: int) -> np.ndarray:
    """Paste ``images`` (each (h, w), values 0-16) on a ``(height, width)`` canvas, image ``k`` with
    its top-left corner at row ``offsets[k]``, column ``xs[k]``; overlaps keep the larger value.
    Returns float32 values in [0, 1]."""
    canvas = np.zeros((height, width), dtype=np.float32)
    for image, y, x in zip(images, offsets, xs):
        h, w = image.shape
        patch = canvas[y:y + h, x:x + w]
        np.maximum(patch, image / np.float32(16), out=patch)
    return canvas


# ------------------------------------------------------------------------------------------------
# the data set

class DigitStrings(torch.utils.data.Dataset):
    r"""Lines of 3-8 real handwritten digits (optdigits) for CTC, one split.

    Item ``i`` is ``(image (1, height, W_i) float in [0, 1], digits list[int])``; batch them with
    :attr:`collate` (:class:`LineBatch`). The source images are split per class 60/20/20 with
    ``split_seed`` (:func:`split_sources`); this split's lines use this split's images only
    (:attr:`source_indices`), drawn with replacement.

    Args:
        split (str): ``"train"``, ``"val"`` or ``"test"``. (default: ``"train"``)
        size (int): lines. (default: ``10_000``)
        seed (int): the draw of the lines (each split draws its own from it). (default: ``0``)
        min_len, max_len (int): digits per line, uniform. (default: ``3``, ``8``)
        height (int): line height in pixels, >= 8; the vertical jitter is ``height - 8``.
            (default: ``16``)
        gap (tuple[int, int]): inclusive range of the space between neighbours in pixels (negative
            overlaps them). (default: ``(-1, 4)``)
        margin (int): at most this many blank columns at each end. (default: ``4``)
        root (str or PathLike, optional): a folder with ``digits.csv.gz`` or ``digits.csv``
            (64 pixels 0-16 and a class per line); default: scikit-learn's copy.
        split_seed (int): the seed of the source-image split. (default: ``0``)
        fractions (tuple of 3 floats): train / val / test shares of the source images.
            (default: ``(0.6, 0.2, 0.2)``)
        augment (bool): vary each digit's size and ink (for training lines): every digit image
            resized (bilinear) to 7-9 pixels high and 6-10 wide, its values scaled by a gain in
            [0.6, 1]. (default: ``False``)

    Attributes:
        source_indices: (n,) indices of the source images this split may use.
        line_sources: per line, the source-image index of each of its digits.
        digits: per line, its digits.
    """

    collate = staticmethod(collate_lines)

    def __init__(self, split: str = "train", size: int = 10_000, seed: int = 0, min_len: int = 3,
                 max_len: int = 8, height: int = 16, gap: tuple[int, int] = (-1, 4),
                 margin: int = 4, root: str | os.PathLike | None = None, split_seed: int = 0,
                 fractions: Sequence[float] = (0.6, 0.2, 0.2), augment: bool = False):
        if split not in SPLITS:
            raise ValueError(f"DigitStrings: split must be one of {', '.join(SPLITS)}, got "
                             f"{split!r}")
        if size < 1:
            raise ValueError(f"DigitStrings: size must be >= 1 line, got {size}")
        if not 1 <= min_len <= max_len:
            raise ValueError(f"DigitStrings: need 1 <= min_len <= max_len, got min_len={min_len}, "
                             f"max_len={max_len}")
        if height < (AUGMENT_HEIGHTS[1] if augment else DIGIT_SIZE):
            raise ValueError(f"DigitStrings: height must be >= "
                             f"{AUGMENT_HEIGHTS[1] if augment else DIGIT_SIZE} (the digit "
                             f"images' height{', resized' if augment else ''}), got {height}")
        gap = tuple(gap)
        if len(gap) != 2 or gap[0] > gap[1] or gap[0] <= -DIGIT_SIZE:
            raise ValueError(f"DigitStrings: gap must be (low, high) with -{DIGIT_SIZE} < low <= "
                             f"high, got {gap}")
        if margin < 0:
            raise ValueError(f"DigitStrings: margin must be >= 0, got {margin}")
        self.split, self.size, self.seed = split, size, seed
        self.min_len, self.max_len, self.height = min_len, max_len, height
        self.gap, self.margin, self.augment = gap, margin, augment
        self.images, self.labels = load_digit_images(root)
        self.source_indices = split_sources(self.labels, split_seed, fractions)[split]
        if len(self.source_indices) == 0:
            raise ValueError(f"DigitStrings: the {split} split of the {len(self.labels)} source "
                             f"images is empty (fractions {tuple(fractions)}); give more images "
                             f"or a larger {split} fraction")
        self._layouts = self._draw()
        self._cache: dict[tuple[int, tuple[int, int]], np.ndarray] = {}
        self.line_sources = [layout[0] for layout in self._layouts]
        self.digits = [[int(self.labels[k]) for k in srcs] for srcs in self.line_sources]

    def _draw(self) -> list[tuple]:
        """Per line: (source indices, row offsets, column positions, width, digit sizes (h, w)
        and ink gains, the last two ``None`` without ``augment``)."""
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split)])
        layouts = []
        for _ in range(self.size):
            n = int(rng.integers(self.min_len, self.max_len + 1))
            srcs = rng.choice(self.source_indices, size=n).tolist()
            if self.augment:
                hs = rng.integers(AUGMENT_HEIGHTS[0], AUGMENT_HEIGHTS[1] + 1, size=n)
                ws = rng.integers(AUGMENT_WIDTHS[0], AUGMENT_WIDTHS[1] + 1, size=n)
                gains = rng.uniform(AUGMENT_GAIN, 1.0, size=n).tolist()
                sizes = list(zip(hs.tolist(), ws.tolist()))
            else:
                hs = ws = np.full(n, DIGIT_SIZE)
                sizes = gains = None
            offsets = rng.integers(0, self.height - hs + 1).tolist()
            gaps = rng.integers(self.gap[0], self.gap[1] + 1, size=n - 1)
            left, right = rng.integers(0, self.margin + 1, size=2)
            xs = (left + np.concatenate([[0], np.cumsum(ws[:-1] + gaps)])).tolist()
            layouts.append((srcs, offsets, xs, int(xs[-1] + ws[-1] + right), sizes, gains))
        return layouts

    def _resized(self, k: int, size: tuple[int, int]) -> np.ndarray:
        """Source image ``k`` resized to ``size``, cached (1,078 images x 15 sizes at most)."""
        key = (k, size)
        if key not in self._cache:
            self._cache[key] = _resize(self.images[k], size)
        return self._cache[key]

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Tensor, list[int]]:
        srcs, offsets, xs, width, sizes, gains = self._layouts[index]
        images = [self.images[k] for k in srcs]
        if sizes is not None:
            images = [self._resized(k, size) * gain for k, size, gain in zip(srcs, sizes, gains)]
        canvas = render_line(images, offsets, xs, self.height, width)
        return torch.from_numpy(canvas).unsqueeze(0), list(self.digits[index])

    def text(self, index: int) -> str:
        """Line ``index``'s digits as a string, e.g. ``"40721"``."""
        return "".join(map(str, self.digits[index]))

    def __repr__(self) -> str:
        return (f"DigitStrings(split={self.split!r}, size={self.size}, "
                f"digits={self.min_len}-{self.max_len}, height={self.height}, "
                f"source_images={len(self.source_indices)})")
