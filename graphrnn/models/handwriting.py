r"""Online handwriting models on pen trajectories (:class:`graphrnn.datasets.PenDigits`: 8 points
a digit): a recurrent classifier and a class-conditional mixture-density RNN that draws digits.

Both read a trajectory as a chain graph ``t -> t+1`` over its points; with a fixed 8 points every
chain has the same length, so the chain's layout is a padded (B, 8, F) tensor and the recurrence
is :class:`graphrnn.nn.LSTM` / :class:`graphrnn.nn.GRU` on it.

Recogniser (:class:`StrokeClassifier`): input per point the pen offset
:math:`d_t = p_t - p_{t-1}` (:math:`p_0 = 0`) and, optionally, the position :math:`p_t`, both
divided by 100 (the grid); a (bidirectional) recurrence; the final states of both directions
(or the mean over points) -> a linear layer -> 10 class scores.

Generator (:class:`MixtureDensityRNN`), Graves 2013 section 4 (https://arxiv.org/abs/1308.0850)
conditioned on the class:

.. math::

    h_t = \mathrm{LSTM}([d_{t-1}/s;\ \mathrm{onehot}(c)],\ h_{t-1}),\quad d_0 = 0

    p(d_t \mid d_{<t}, c) = \sum_k \pi_{tk}\, \mathcal N(d_t \mid \mu_{tk}, \sigma_{tk}, \rho_{tk})

with the mixture read from :math:`h_t` (:mod:`graphrnn.tasks.mixture_density`) and :math:`s`
the scale of the offsets (100: the grid). End of sequence: every digit is exactly 8 points (the
resampled trajectory of all strokes), so no end-of-stroke Bernoulli is modelled; a digit ends
after its 8th point. Densities are over offsets in grid units; as offsets are a unit-Jacobian
map of positions, the NLL per point is also that of the positions.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..datasets.pendigits import offsets
from ..nn.rnn import GRU, LSTM
from ..tasks.heads import SequenceClassifier
from ..tasks.mixture_density import MixtureDensityHead, mixture_nll, sample_mixture

__all__ = ["pen_features", "StrokeClassifier", "classifier_step",
           "MixtureDensityRNN", "mdn_step", "CELLS"]

CELLS = {"lstm": LSTM, "gru": GRU}
GRID = 100.0


def pen_features(points: Tensor, positions: bool = True) -> Tensor:
    """(B, T, 2) positions on the 0-100 grid -> (B, T, F) recogniser inputs: offsets / 100, then
    (``positions``) positions / 100 - 0.5; F = 4 or 2."""
    feats = [offsets(points) / GRID]
    if positions:
        feats.append(points / GRID - 0.5)
    return torch.cat(feats, -1)


def _check_points(name: str, points: Tensor) -> None:
    if points.dim() != 3 or points.size(-1) != 2:
        raise ValueError(f"{name}: points must be (B, T, 2), got {tuple(points.shape)}")


class StrokeClassifier(nn.Module):
    """A recurrent classifier of pen trajectories.

    Args:
        hidden_size (int): H per direction. (default: ``128``)
        num_layers (int): stacked layers. (default: ``2``)
        cell (str): ``"lstm"`` or ``"gru"``. (default: ``"lstm"``)
        bidirectional (bool): read the chain both ways. (default: ``True``)
        positions (bool): feed absolute positions besides the offsets. (default: ``True``)
        pooling (str): ``"last"`` (final states) or ``"mean"`` over points. (default: ``"last"``)
        dropout (float): between layers and before the output layer. (default: ``0.0``)
        num_classes (int): C. (default: ``10``)

    Shape:
        - points: (B, T, 2) positions on the 0-100 grid.
        - output: (B, C) class scores.
    """

    def __init__(self, hidden_size: int = 128, num_layers: int = 2, cell: str = "lstm",
                 bidirectional: bool = True, positions: bool = True, pooling: str = "last",
                 dropout: float = 0.0, num_classes: int = 10):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"StrokeClassifier: cell must be one of {tuple(CELLS)}, got {cell!r}")
        self.cell, self.positions = cell, positions
        self.rnn = CELLS[cell](4 if positions else 2, hidden_size, num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0,
                               bidirectional=bidirectional)
        width = hidden_size * (2 if bidirectional else 1)
        self.head = SequenceClassifier(width, num_classes, pooling, dropout=dropout,
                                       bidirectional=bidirectional)

    def forward(self, points: Tensor) -> Tensor:
        _check_points("StrokeClassifier", points)
        out, _ = self.rnn(pen_features(points, self.positions))                 # (B, T, D*H)
        return self.head(out, batch_first=True)

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, positions={self.positions}"


def classifier_step(model: StrokeClassifier, batch):
    """Trainer step on ``(points (B, T, 2), labels (B,))``: ``(cross-entropy, {"acc": ...})``."""
    points, labels = batch
    logits = model(points)
    acc = (logits.argmax(-1) == labels).float().mean()
    return F.cross_entropy(logits, labels), {"acc": acc}


class MixtureDensityRNN(nn.Module):
    """Class-conditional recurrent mixture density network over pen offsets (see the module).

    Args:
        hidden_size (int): H. (default: ``256``)
        num_layers (int): stacked layers. (default: ``2``)
        num_components (int): M Gaussians per step; 1 is the single-Gaussian baseline.
            (default: ``20``)
        cell (str): ``"lstm"`` or ``"gru"``. (default: ``"lstm"``)
        num_classes (int): C. (default: ``10``)
        dropout (float): between layers. (default: ``0.0``)
        scale (float): s, offsets are divided by it at the input and the mixture is over
            offsets / s (the NLL is reported in the units of the offsets given). (default: ``100``)

    Shape:
        - forward: points (B, T, 2) positions (continuous), labels (B,) ->
          a :class:`~graphrnn.tasks.mixture_density.Mixture` over the T offsets / s,
          leading shape (B, T).
    """

    def __init__(self, hidden_size: int = 256, num_layers: int = 2, num_components: int = 20,
                 cell: str = "lstm", num_classes: int = 10, dropout: float = 0.0,
                 scale: float = GRID):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"MixtureDensityRNN: cell must be one of {tuple(CELLS)}, got "
                             f"{cell!r}")
        self.num_classes, self.scale, self.cell = num_classes, float(scale), cell
        self.rnn = CELLS[cell](2 + num_classes, hidden_size, num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.head = MixtureDensityHead(hidden_size, num_components)

    def _inputs(self, previous: Tensor, labels: Tensor) -> Tensor:
        onehot = F.one_hot(labels, self.num_classes).to(previous.dtype)          # (B, C)
        return torch.cat([previous, onehot.unsqueeze(1).expand(-1, previous.size(1), -1)], -1)

    def forward(self, points: Tensor, labels: Tensor, bias: float = 0.0):
        _check_points("MixtureDensityRNN", points)
        d = offsets(points) / self.scale                                          # (B, T, 2)
        previous = torch.cat([torch.zeros_like(d[:, :1]), d[:, :-1]], 1)          # d_{t-1}
        out, _ = self.rnn(self._inputs(previous, labels))                         # (B, T, H)
        return self.head(out, bias)

    def nll(self, points: Tensor, labels: Tensor) -> Tensor:
        """Mean NLL per point (nats) of the offsets in the units of ``points``."""
        mixture = self(points, labels)
        d = offsets(points) / self.scale
        # density of d/s -> density of d: each of the 2 coordinates adds log s
        return mixture_nll(mixture, d) + 2 * math.log(self.scale)

    @torch.no_grad()
    def sample(self, labels: Tensor, steps: int = 8, bias: float = 0.0,
               generator: torch.Generator | None = None) -> Tensor:
        """Draw one trajectory per label: (B, steps, 2) positions (the cumulative sum of the
        sampled offsets, in the units of the training points)."""
        device = next(self.parameters()).device
        labels = labels.to(device)
        previous = torch.zeros(labels.size(0), 1, 2, device=device)
        state, drawn = None, []
        for _ in range(steps):
            out, state = self.rnn(self._inputs(previous, labels), state)          # (B, 1, H)
            previous = sample_mixture(self.head(out, bias), generator)            # (B, 1, 2)
            drawn.append(previous)
        return torch.cat(drawn, 1).cumsum(1) * self.scale

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, num_classes={self.num_classes}, scale={self.scale:g}"


def mdn_step(model: MixtureDensityRNN, batch):
    """Trainer step on ``(points (B, T, 2), labels (B,))``: the NLL per point (nats, grid
    units)."""
    points, labels = batch
    return model.nll(points, labels)
