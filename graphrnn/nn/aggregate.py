"""Reduce rows into groups: the aggregation every graph module shares (incoming edges into their
node, nodes or edges into their graph)."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import scatter

AGGREGATIONS = ("sum", "mean", "max")


def aggregate(src: Tensor, index: Tensor, dim_size: int, reduce: str) -> Tensor:
    r"""Reduce the rows of ``src`` [M, F] into ``dim_size`` groups given by ``index`` [M].

    Empty groups give zeros for every reduction (``sum``, ``mean``, ``max``). Sum and mean use
    ``index_add`` (its backward is a cheap ``index_select``), max uses ``scatter_reduce``.
    """
    if reduce not in AGGREGATIONS:
        raise ValueError(f"aggregation {reduce!r} is not supported; expected one of {AGGREGATIONS}")
    if reduce == "max":
        return scatter(src, index, dim=0, dim_size=dim_size, reduce="max")
    out = src.new_zeros((dim_size,) + src.shape[1:]).index_add_(0, index, src)
    if reduce == "mean":
        count = torch.bincount(index, minlength=dim_size).clamp_(min=1).to(src.dtype)
        out = out / count.view((-1,) + (1,) * (src.dim() - 1))
    return out


__all__ = ["AGGREGATIONS", "aggregate"]
