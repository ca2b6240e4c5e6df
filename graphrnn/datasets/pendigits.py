"""UCI pen-based handwritten digits: 10,992 digits by 44 writers, each 8 (x, y) points along the
pen trajectory.

Alpaydin & Alimoglu, "Pen-Based Recognition of Handwritten Digits", UCI Machine Learning
Repository (CC BY 4.0), https://archive.ics.uci.edu/dataset/81. A digit was written on a tablet,
its trajectory resampled to 8 points equally spaced along the pen's path and each axis scaled to
the integers 0-100 (y grows upward). The file (OpenML's ``pendigits.csv``, see
``datasets/pendigits.md``) is a header ``input1,...,input16,class`` and one digit a line,
``x1,y1,...,x8,y8,class``, values space-padded (`` 47,100, 27, ...``).

Splits. Rows 1-7,494 are the published training file (30 writers), rows 7,495-10,992 the
writer-independent test file (14 other writers). The file holds no writer id, so the only
writer-disjointness that can be kept and checked is that boundary; validation is the last
``val_rows`` rows of the training file, a contiguous block of the training writers' digits
(writer-*dependent*: its accuracy is an optimistic estimate of the test's).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch

from ..io import read_lines, shared_data
from .base import FileDataset

__all__ = ["PenDigits", "read_pendigits", "offsets", "normalize_box", "random_affine", "TRAIN_ROWS",
           "VAL_ROWS", "MD5"]

#: Rows of the published training file (the first rows of ``pendigits.csv``).
TRAIN_ROWS = 7494
#: Default validation block: the last rows of the training file.
VAL_ROWS = 750
MD5 = "66d89d7415a018c1c00e2da150ea95b5"
SPLITS = ("train", "val", "test")
HEADER = [f"input{i}" for i in range(1, 17)] + ["class"]


def read_pendigits(path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Read a pendigits CSV: ``(points (N, 8, 2) long, labels (N,) long)``, row ``i`` from line
    ``i + 2`` of the file (line 1 is the header).

    A line that is not 17 comma-separated integers, a coordinate outside 0-100 or a class outside
    0-9 is a ``ValueError`` naming the file and line, what was found and what was expected.
    """
    path = Path(path)
    lines = read_lines(path)
    if not lines or [c.strip() for c in lines[0].split(",")] != HEADER:
        got = lines[0][:60] if lines else "an empty file"
        raise ValueError(f"{path}:1: expected the header {','.join(HEADER[:2])},...,input16,class"
                         f", got {got!r}")
    rows: list[list[int]] = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != 17:
            raise ValueError(f"{path}:{number}: expected 17 comma-separated values (x1,y1,...,"
                             f"x8,y8,class), got {len(fields)}")
        try:
            values = [int(f) for f in fields]
        except ValueError:
            bad = next(f for f in fields if not f.strip().lstrip("-").isdigit())
            raise ValueError(f"{path}:{number}: expected integers, got {bad.strip()!r}") from None
        coords, label = values[:16], values[16]
        if min(coords) < 0 or max(coords) > 100:
            bad = next(c for c in coords if not 0 <= c <= 100)
            raise ValueError(f"{path}:{number}: coordinates are 0-100, got {bad}")
        if not 0 <= label <= 9:
            raise ValueError(f"{path}:{number}: the class is a digit 0-9, got {label}")
        rows.append(values)
    if not rows:
        raise ValueError(f"{path}: no digits after the header")
    table = torch.tensor(rows, dtype=torch.long)
    return table[:, :16].view(-1, 8, 2), table[:, 16]


class PenDigits(FileDataset):
    r"""The pen-trajectory digits of one split, as chains of 8 points.

    Item ``i`` is ``(points, label)``: ``points`` (8, 2) float, the pen positions (x, y) in the
    file's 0-100 grid, in writing order; ``label`` a long scalar 0-9. The whole split is also
    held as ``points`` (N, 8, 2), ``labels`` (N,) and ``rows`` (N,) (the 1-based data row of the
    file, line = row + 1). :func:`offsets` turns positions into the pen offsets
    :math:`d_t = p_t - p_{t-1}` (:math:`p_0 = 0`) the models read.

    Args:
        root (str or PathLike, optional): folder with ``pendigits.csv``; default
            ``shared_data()/handwriting/pendigits``.
        split (str): ``"train"`` (training file minus the validation block), ``"val"`` (its last
            ``val_rows`` rows) or ``"test"`` (the writer-independent test file). (default:
            ``"train"``)
        val_rows (int): size of the validation block. (default: ``750``)
        train_rows (int): rows of the published training file; change only for your own
            files. (default: ``7494``)
        transform (callable, optional): applied to each item on access.
        check_md5 (bool): check the file's md5 (off for other copies and hand-made files).
            (default: ``True``)

    Sizes with the defaults: train 6,744, val 750, test 3,498.
    """

    raw_file_names = ("pendigits.csv",)
    md5 = {"pendigits.csv": MD5}
    source = ("OpenML data set 32 (UCI pendigits), datasets/openml-datasets "
              "data/pendigits/pendigits.csv")
    card = "datasets/pendigits.md"

    def __init__(self, root: str | os.PathLike | None = None, split: str = "train",
                 val_rows: int = VAL_ROWS, train_rows: int = TRAIN_ROWS,
                 transform: Callable | None = None, check_md5: bool = True):
        if split not in SPLITS:
            raise ValueError(f"PenDigits: split must be one of {SPLITS}, got {split!r}")
        if not 0 < val_rows < train_rows:
            raise ValueError(f"PenDigits: val_rows must be in [1, train_rows={train_rows}), got "
                             f"{val_rows}")
        self.split, self.val_rows, self.train_rows = split, val_rows, train_rows
        root = Path(root) if root is not None else shared_data("handwriting", "pendigits")
        super().__init__(root, transform, download=False, check_md5=check_md5)

    def process(self) -> list:
        path = self.raw_paths[0]
        points, labels = read_pendigits(path)
        if len(labels) <= self.train_rows:
            raise ValueError(f"{path}: {len(labels)} digits, but the test split starts after row "
                             f"{self.train_rows} (train_rows); expected more rows")
        start, stop = {"train": (0, self.train_rows - self.val_rows),
                       "val": (self.train_rows - self.val_rows, self.train_rows),
                       "test": (self.train_rows, len(labels))}[self.split]
        self.points = points[start:stop].float()
        self.labels = labels[start:stop]
        self.rows = torch.arange(start + 1, stop + 1)
        return list(zip(self.points, self.labels))

    def __repr__(self) -> str:
        return f"PenDigits({len(self)}, split={self.split!r})"


def offsets(points: torch.Tensor) -> torch.Tensor:
    """Pen offsets of trajectories: (..., T, 2) positions -> (..., T, 2) with :math:`d_1 = p_1`
    and :math:`d_t = p_t - p_{t-1}`; ``offsets(p).cumsum(-2)`` gives ``p`` back."""
    return torch.diff(points, dim=-2, prepend=torch.zeros_like(points[..., :1, :]))


def normalize_box(points: torch.Tensor) -> torch.Tensor:
    """Scale each axis of each trajectory (B, T, 2) to span 0-100, as the data set's digits are
    (a flat axis is put at 50)."""
    low = points.amin(-2, keepdim=True)
    span = points.amax(-2, keepdim=True) - low
    scaled = (points - low) / span.clamp_min(1e-6) * 100.0
    return torch.where(span > 1e-6, scaled, torch.full_like(points, 100.0 / 2))


def random_affine(points: torch.Tensor, rotate: float = 10.0, shear: float = 0.2,
                  stretch: float = 0.2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Augment trajectories (B, T, 2): a random rotation (uniform in +-``rotate`` degrees), shear
    (+-``shear``) and aspect change (log-uniform in +-``stretch``) per trajectory, then
    :func:`normalize_box` as the data set's own preprocessing did; ``rotate = shear = stretch = 0``
    returns the digits unchanged (they already span 0-100)."""
    b = points.size(0)

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(b, generator=generator) * 2 - 1) * limit

    angle = uniform(rotate) * (torch.pi / 180)
    cos, sin, s, a = angle.cos(), angle.sin(), uniform(shear), uniform(stretch).exp()
    # rows of the (B, 2, 2) matrix: rotation @ shear @ diag(a, 1)
    m = torch.stack([torch.stack([cos * a, cos * s - sin], -1),
                     torch.stack([sin * a, sin * s + cos], -1)], -2).to(points)
    return normalize_box((points - 50) @ m.transpose(-1, -2))
