r"""A line reader for offline handwriting: a CNN over the line image, a BiLSTM over its columns,
CTC on top.

The CRNN of Shi, Bai & Yao 2015, "An End-to-End Trainable Neural Network for Image-based Sequence
Recognition and Its Application to Scene Text Recognition", https://arxiv.org/abs/1507.05717::

    G = ConvEncoder(x)                                   (B, C, H', W')  x: (B, 1, H, W)
    f_t = G[:, :, :, t] stacked over rows                (B, W', C H')   one frame per column
    log p_t = CTCReader(f_1..f_W')                       (W', B, classes) BiLSTM + CTC head

The convolutional front end is :class:`graphrnn.nn.ConvEncoder` read by
:func:`graphrnn.nn.image_encoder.grid_to_columns`; the recurrent part and the CTC head are
:class:`graphrnn.models.ctc.CTCReader`, so :func:`~graphrnn.models.ctc.ctc_step` trains it and
:func:`~graphrnn.models.ctc.ctc_scores` scores it. Batches are
:class:`graphrnn.datasets.digit_strings.LineBatch` ``(images, widths, labels, label_lengths)``.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..nn.image_encoder import ConvEncoder, grid_to_columns
from ..tasks.ctc import CTCHead
from .ctc import CTCReader

__all__ = ["LineReader"]

# height halved by every stage, width by the first only (where the convolutions are cheapest): an
# 8-pixel digit keeps 4 columns, enough for CTC to emit a digit and the blank that separates it
# from a repeat of itself
DEFAULT_POOL = ((2, 2), (2, 1), (2, 1))


class LineReader(nn.Module):
    """:class:`~graphrnn.nn.ConvEncoder` -> image columns ->
    :class:`~graphrnn.models.ctc.CTCReader`.

    Args:
        height (int): H, the height of every line image.
        in_channels (int): channels of the images. (default: ``1``)
        channels (sequence of int): output channels of the encoder's stages.
            (default: ``(32, 64, 96)``)
        pool (pool or sequence of pools): the encoder's pooling per stage, see
            :class:`~graphrnn.nn.ConvEncoder`. (default: ``((2, 2), (2, 1), (2, 1))``)
        hidden_size (int): LSTM units per direction. (default: ``128``)
        num_layers (int): stacked BiLSTM layers. (default: ``1``)
        num_classes (int): classes, the blank included. (default: ``11``: blank + 10 digits)
        dropout (float): 2-D dropout after each encoder stage. (default: ``0.0``)
        blank (int): the blank class. (default: ``0``)

    Shape:
        - images: (B, in_channels, H, W), padded to the widest; widths: (B,) pixels per line.
        - output: (W', B, num_classes) log-probabilities, ``W' = W // prod(pool widths)``; frame
          counts per line from :meth:`output_lengths`.
    """

    def __init__(self, height: int, in_channels: int = 1, channels: Sequence[int] = (32, 64, 96),
                 pool=DEFAULT_POOL, hidden_size: int = 128, num_layers: int = 1,
                 num_classes: int = 11, dropout: float = 0.0, blank: int = 0):
        super().__init__()
        self.encoder = ConvEncoder(in_channels, channels, pool=pool, dropout=dropout)
        rows, _ = self.encoder.output_size(height, 10 ** 6)
        if rows < 1:
            raise ValueError(f"LineReader: images {height} pixels high pool away to nothing "
                             f"through pools {self.encoder.pools}")
        self.height = height
        self.reader = CTCReader(self.encoder.out_channels * rows, hidden_size, num_layers,
                                num_classes, blank)

    @property
    def head(self) -> CTCHead:
        return self.reader.head

    def output_lengths(self, widths: Tensor) -> Tensor:
        """(B,) columns of the encoder's grid per line width (the CTC frame counts)."""
        return torch.tensor([self.encoder.output_size(self.height, int(w))[1] for w in widths],
                            dtype=torch.long)

    def forward(self, images: Tensor, widths: Tensor) -> Tensor:
        if images.dim() != 4 or images.size(2) != self.height or widths.shape != (images.size(0),):
            raise ValueError(f"LineReader: images must be (B, C, {self.height}, W) and widths "
                             f"(B,), got {tuple(images.shape)} and {tuple(widths.shape)}")
        if int(widths.max()) > images.size(3) or int(widths.min()) < 1:
            raise ValueError(f"LineReader: widths must be in [1, W={images.size(3)}], got "
                             f"{widths.tolist()}")
        columns = grid_to_columns(self.encoder(images))  # (W', B, C H')
        lengths = self.output_lengths(widths)
        if int(lengths.min()) < 1:
            raise ValueError(f"LineReader: a line {int(widths.min())} pixels wide has no column "
                             f"left after pools {self.encoder.pools}")
        return self.reader(columns.transpose(0, 1), lengths)

    def extra_repr(self) -> str:
        return f"height={self.height}"
