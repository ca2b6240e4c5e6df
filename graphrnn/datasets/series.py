r"""Time series for system identification, as delay-chain graphs (:mod:`graphrnn.nn.delay`).

* :class:`NarendraParthasarathy`: the benchmark plant of Narendra & Parthasarathy (1990),
  "Identification and control of dynamical systems using neural networks", IEEE Trans. Neural
  Networks 1(1), Example 2: training series driven by i.i.d. uniform inputs on [-2, 2], the test
  series by their sinusoid :math:`u(t) = \sin(2 \pi t / 25)`.
* :class:`SeriesCSV`: the user's own input/output series, columns of a CSV file with a header row,
  split in time (first 70% train, next 15% validation, last 15% test) and standardised with the
  training part's mean and std.

Each item is a PyG ``Data`` with ``x`` (T, I) inputs, ``y`` (T, d) outputs and delay edges
``t - k -> t`` (``edge_index``, ``edge_delay``) for k = 1..``delays``.
"""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from io import StringIO
from pathlib import Path

import torch
from torch import Tensor
from torch_geometric.data import Batch

from ..io import read_text
from ..structures.chain import delay_chain_graph
from .base import FileDataset

__all__ = ["narendra_parthasarathy", "np_series", "NarendraParthasarathy", "read_series_csv",
           "SeriesCSV"]


# ------------------------------------------------------------------------------------------------
# the benchmark plant

def narendra_parthasarathy(u: Tensor, y0: tuple[float, float] = (0.0, 0.0)) -> Tensor:
    r"""Example 2 of Narendra & Parthasarathy (1990), a second-order nonlinear plant:

    .. math::

        y(t+1) = \frac{y(t)\, y(t-1)\, (y(t) + 2.5)}{1 + y(t)^2 + y(t-1)^2} + u(t).

    Args:
        u: (T,) input sequence.
        y0: the two outputs before the first one, ``(y[-2], y[-1])``; default zeros.

    Returns:
        (T,) outputs, ``y[t]`` the plant output at time t (``y[0] = f(y0) + 0``: u enters with a
        delay of one step, ``y[t] = f(y[t-1], y[t-2]) + u[t-1]``).
    """
    if u.dim() != 1:
        raise ValueError(f"narendra_parthasarathy: u must be (T,), got {tuple(u.shape)}")
    y_prev2, y_prev = float(y0[0]), float(y0[1])
    out, u_list = [], u.double().tolist()
    for t in range(len(u_list)):
        u_prev = u_list[t - 1] if t > 0 else 0.0
        y = y_prev * y_prev2 * (y_prev + 2.5) / (1.0 + y_prev ** 2 + y_prev2 ** 2) + u_prev
        out.append(y)
        y_prev2, y_prev = y_prev, y
    return torch.tensor(out, dtype=u.dtype)


def np_series(length: int, kind: str = "random", seed: int = 0, delays: int = 2,
              noise: float = 0.0):
    """One series of the Narendra-Parthasarathy plant as a delay-chain graph.

    Args:
        length: T.
        kind: ``"random"`` (``u`` i.i.d. uniform on [-2, 2], for training) or ``"sine"``
            (``u(t) = sin(2 pi t / 25)``, their test input).
        delays: delay edges per node (``max(K_x, K_y)`` of the model).
        noise: std of Gaussian measurement noise added to ``y`` (default 0).

    Returns:
        ``Data`` with ``x`` (T, 1) = u, ``y`` (T, 1), ``edge_index``, ``edge_delay``.
    """
    g = torch.Generator().manual_seed(seed)
    if kind == "random":
        u = torch.rand(length, generator=g) * 4 - 2
    elif kind == "sine":
        u = torch.sin(2 * math.pi * torch.arange(length) / 25)
    else:
        raise ValueError(f"np_series: kind must be 'random' or 'sine', got {kind!r}")
    y = narendra_parthasarathy(u)
    if noise:
        y = y + noise * torch.randn(length, generator=g)
    return delay_chain_graph(u.unsqueeze(1), delays, y=y.unsqueeze(1))


class NarendraParthasarathy(torch.utils.data.Dataset):
    """Series of the Narendra-Parthasarathy plant (:func:`np_series`), one split.

    Splits: ``"train"``, ``series`` random-input series of ``length`` steps (seeds ``seed ..
    seed + series - 1``); ``"val"``, one random-input series (seed ``seed + 500``); ``"test"``,
    the sine-input series of ``length`` steps, noise free.

    Args:
        split (str): ``"train"``, ``"val"`` or ``"test"``. (default: ``"train"``)
        length (int): steps per series. (default: ``500``)
        series (int): training series. (default: ``8``)
        delays (int): delay edges per node. (default: ``2``)
        noise (float): measurement noise std of the random-input series. (default: ``0``)
        seed (int): (default: ``0``)

    ``ds.batch`` is the split as one PyG ``Batch`` (full-batch training).
    """

    SPLITS = ("train", "val", "test")

    def __init__(self, split: str = "train", length: int = 500, series: int = 8, delays: int = 2,
                 noise: float = 0.0, seed: int = 0):
        if split not in self.SPLITS:
            raise ValueError(f"NarendraParthasarathy: split must be one of {self.SPLITS}, got "
                             f"{split!r}")
        self.split = split
        if split == "train":
            self.items = [np_series(length, "random", seed=seed + s, delays=delays, noise=noise)
                          for s in range(series)]
        elif split == "val":
            self.items = [np_series(length, "random", seed=seed + 500, delays=delays, noise=noise)]
        else:
            self.items = [np_series(length, "sine", delays=delays)]

    @property
    def batch(self):
        return Batch.from_data_list(self.items) if len(self.items) > 1 else self.items[0]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        return self.items[index]


# ------------------------------------------------------------------------------------------------
# the user's own series

def read_series_csv(path: str | os.PathLike, input_cols: Sequence[str],
                    output_cols: Sequence[str]) -> tuple[Tensor, Tensor]:
    """The columns ``input_cols`` and ``output_cols`` of a CSV file with a header row, as float
    tensors ``(u (T, I), y (T, d))`` in file order. Errors name the file, the row and the column."""
    path = Path(path)
    with StringIO(read_text(path), newline="") as f:  # bad bytes named by line (io.read_text)
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in [*input_cols, *output_cols] if c not in header]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(map(repr, missing))}; the header has "
                             f"{', '.join(map(repr, header))}")
        rows = []
        for line, row in enumerate(reader, start=2):
            values = []
            for col in [*input_cols, *output_cols]:
                try:
                    value = float(row[col])
                except (TypeError, ValueError):
                    raise ValueError(f"{path}, line {line}, column {col!r}: expected a number, "
                                     f"got {row[col]!r}") from None
                if not math.isfinite(value):
                    raise ValueError(f"{path}, line {line}, column {col!r}: {value} is not finite")
                values.append(value)
            rows.append(values)
    data = torch.tensor(rows, dtype=torch.float32).reshape(len(rows), -1)
    return data[:, :len(input_cols)], data[:, len(input_cols):]


class SeriesCSV(FileDataset):
    """One split of the user's input/output series in a CSV file, as a delay-chain graph.

    The rows are split in time: the first ``fractions[0]`` train, the next ``fractions[1]``
    validate, the rest test. Inputs and outputs are standardised with the *training* rows' mean and
    std (:attr:`mean_y`, :attr:`std_y` undo it for outputs: :meth:`denormalize`). Each split is its
    own series: lags reaching before its first row are zero (the training mean).

    Args:
        path: the CSV file (a header row, then one row per time step).
        input_cols, output_cols (sequence of str): the column names of u and y.
        split (str): ``"train"``, ``"val"`` or ``"test"``. (default: ``"train"``)
        delays (int): delay edges per node. (default: ``2``)
        fractions (tuple): train and validation fractions. (default: ``(0.7, 0.15)``)
    """

    SPLITS = ("train", "val", "test")

    def __init__(self, path: str | os.PathLike, input_cols: Sequence[str],
                 output_cols: Sequence[str], split: str = "train", delays: int = 2,
                 fractions: tuple[float, float] = (0.7, 0.15)):
        if split not in self.SPLITS:
            raise ValueError(f"SeriesCSV: split must be one of {self.SPLITS}, got {split!r}")
        if not input_cols or not output_cols:
            raise ValueError(f"SeriesCSV: name at least one input and one output column, got "
                             f"input_cols={list(input_cols)}, output_cols={list(output_cols)}")
        path = Path(path)
        self.path, self.split, self.delays, self.fractions = path, split, delays, fractions
        self.input_cols, self.output_cols = list(input_cols), list(output_cols)
        self.raw_file_names = (path.name,)
        super().__init__(path.parent, download=False)

    def process(self) -> list:
        u, y = read_series_csv(self.path, self.input_cols, self.output_cols)
        T = len(u)
        a = int(round(self.fractions[0] * T))
        b = a + int(round(self.fractions[1] * T))
        if min(a, b - a, T - b) < self.delays + 2:
            raise ValueError(f"SeriesCSV {self.path}: {T} rows are too few to split "
                             f"{self.fractions[0]:.0%}/{self.fractions[1]:.0%}/rest with "
                             f"{self.delays} delays (each part needs >= {self.delays + 2} rows)")
        self.mean_u, self.std_u = u[:a].mean(0), u[:a].std(0).clamp_min(1e-12)
        self.mean_y, self.std_y = y[:a].mean(0), y[:a].std(0).clamp_min(1e-12)
        rows = {"train": slice(0, a), "val": slice(a, b), "test": slice(b, T)}[self.split]
        u = (u[rows] - self.mean_u) / self.std_u
        y = (y[rows] - self.mean_y) / self.std_y
        return [delay_chain_graph(u, self.delays, y=y)]

    def denormalize(self, y: Tensor) -> Tensor:
        """Standardised outputs (T, d) back in the file's units."""
        return y * self.std_y + self.mean_y

    @property
    def batch(self):
        return self.items[0]
