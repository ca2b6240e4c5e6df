"""A small convolutional image encoder, and the two ways a recurrent model reads its grid.

An image becomes a grid of feature vectors (B, C, H', W'). A captioner's attention reads the grid
as ``H' * W'`` regions (Xu et al. 2015, "Show, Attend and Tell", https://arxiv.org/abs/1502.03044);
a line reader with CTC reads it as a sequence of ``W'`` columns (Shi, Bai & Yao 2015, "An
End-to-End Trainable Neural Network for Image-based Sequence Recognition" (CRNN),
https://arxiv.org/abs/1507.05717); a question-answering model pools it to one vector. No
pretrained weights: the stages are plain ``torch.nn`` layers trained with the rest of the model.
"""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

__all__ = ["ConvEncoder", "grid_to_regions", "grid_to_columns"]

Pool = int | tuple[int, int]


def _pair(value: Pool, who: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, int) or v < 1 for v in pair):
        raise ValueError(f"ConvEncoder: {who} must be a positive int or an (h, w) pair of them, "
                         f"got {value!r}")
    return pair


class ConvEncoder(nn.Module):
    r"""Stages of ``Conv2d(k, padding=k // 2) -> BatchNorm2d -> ReLU -> MaxPool2d(pool)``.

    Args:
        in_channels (int): channels of the input images (3 for RGB). (default: 3)
        channels (sequence of int): output channels of each stage. (default: ``(32, 64, 128)``)
        kernel_size (int): an odd convolution size; padding keeps the size before pooling.
            (default: 3)
        pool (int, (h, w) pair, or a sequence of those, one per stage): max-pooling window and
            stride after each stage; 1 means none. A tuple of two ints is one (h, w) pair for
            every stage; give per-stage pools as a list. (default: 2)
        batch_norm (bool): batch normalisation after each convolution (which then has no bias).
            (default: ``True``)
        dropout (float): 2-D dropout after each stage. (default: 0.0)

    Shape:
        - input: (B, in_channels, H, W)
        - output: (B, channels[-1], H', W') with ``H' = H // prod(pool heights)`` (likewise W'),
          see :meth:`output_size`.
    """

    def __init__(self, in_channels: int = 3, channels: Sequence[int] = (32, 64, 128),
                 kernel_size: int = 3, pool: Pool | Sequence[Pool] = 2, batch_norm: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        channels = tuple(channels)
        if in_channels < 1 or not channels or any(c < 1 for c in channels):
            raise ValueError(f"ConvEncoder: in_channels and channels must be positive, got "
                             f"{in_channels} and {channels}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"ConvEncoder: kernel_size must be odd (padding keeps the size), got "
                             f"{kernel_size}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"ConvEncoder: dropout must be in [0, 1), got {dropout}")
        pools = [pool] * len(channels) if isinstance(pool, int) or (
            isinstance(pool, tuple) and len(pool) == 2 and all(isinstance(p, int) for p in pool)
        ) else list(pool)
        if len(pools) != len(channels):
            raise ValueError(f"ConvEncoder: pool gives {len(pools)} stages but channels "
                             f"{len(channels)}")
        self.in_channels, self.channels, self.kernel_size = in_channels, channels, kernel_size
        self.pools = [_pair(p, "pool") for p in pools]
        self.batch_norm, self.dropout = batch_norm, dropout
        layers: list[nn.Module] = []
        previous = in_channels
        for width, (ph, pw) in zip(channels, self.pools):
            layers.append(nn.Conv2d(previous, width, kernel_size, padding=kernel_size // 2,
                                    bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.ReLU(inplace=True))
            if (ph, pw) != (1, 1):
                layers.append(nn.MaxPool2d((ph, pw)))
            if dropout:
                layers.append(nn.Dropout2d(dropout))
            previous = width
        self.layers = nn.Sequential(*layers)

    @property
    def out_channels(self) -> int:
        return self.channels[-1]

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """``(H', W')`` of the grid for an input of ``height`` x ``width``."""
        for ph, pw in self.pools:
            height, width = height // ph, width // pw
        return height, width

    def forward(self, images: Tensor) -> Tensor:
        if images.dim() != 4 or images.size(1) != self.in_channels:
            raise ValueError(f"ConvEncoder: images must be (B, {self.in_channels}, H, W), got "
                             f"{tuple(images.shape)}")
        if min(self.output_size(images.size(2), images.size(3))) < 1:
            raise ValueError(f"ConvEncoder: images of {images.size(2)}x{images.size(3)} pool "
                             f"away to nothing through pools {self.pools}")
        return self.layers(images)

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, channels={self.channels}, "
                f"kernel_size={self.kernel_size}, pools={self.pools}")


def grid_to_regions(grid: Tensor) -> Tensor:
    """(B, C, H', W') -> (B, H' * W', C): one feature vector per region, row-major (region
    ``i * W' + j`` is row ``i``, column ``j``), the memory an attention decoder reads."""
    if grid.dim() != 4:
        raise ValueError(f"grid_to_regions: grid must be (B, C, H, W), got {tuple(grid.shape)}")
    return grid.flatten(2).transpose(1, 2)


def grid_to_columns(grid: Tensor) -> Tensor:
    """(B, C, H', W') -> (W', B, C * H'): the grid as a left-to-right sequence of columns
    (time-major, as ``graphrnn.nn.LSTM`` and ``torch.nn.CTCLoss`` take it); column ``t`` stacks
    the ``C`` features of its ``H'`` rows, channel-major."""
    if grid.dim() != 4:
        raise ValueError(f"grid_to_columns: grid must be (B, C, H, W), got {tuple(grid.shape)}")
    b, c, h, w = grid.shape
    return grid.permute(3, 0, 1, 2).reshape(w, b, c * h)
