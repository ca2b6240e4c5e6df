"""The ordinary MLP the graph-network blocks build their updates from."""
from __future__ import annotations

from typing import Callable

from torch import nn


def mlp(in_features: int, hidden_features: int, out_features: int, num_layers: int = 2,
        activation: Callable[[], nn.Module] = nn.ReLU, layer_norm: bool = False) -> nn.Sequential:
    r"""An ordinary MLP ``Linear -> act -> ... -> Linear`` (``num_layers`` Linears), optionally
    followed by ``LayerNorm(out_features)``.

    Its first module is an ``nn.Linear``, so a :class:`~graphrnn.nn.GraphNetwork` given it splits
    that layer by input.
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    sizes = [in_features] + [hidden_features] * (num_layers - 1) + [out_features]
    layers: list[nn.Module] = []
    for i in range(num_layers):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < num_layers - 1:
            layers.append(activation())
    if layer_norm:
        layers.append(nn.LayerNorm(out_features))
    return nn.Sequential(*layers)


__all__ = ["mlp"]
