"""The ordinary MLP the graph-network blocks build their updates from."""
from __future__ import annotations

from collections.abc import Callable

from torch import nn


def mlp(in_features: int, hidden_features: int, out_features: int, num_layers: int = 2,
        activation: Callable[[], nn.Module] = nn.ReLU, layer_norm: bool = False) -> nn.Sequential:
    r"""An ordinary MLP ``Linear -> act -> ... -> Linear`` (``num_layers`` Linears), optionally
    followed by ``LayerNorm(out_features)``.

    Returns an ``nn.Sequential`` whose first element is an ``nn.Linear`` (in_features,
    hidden_features) (or (in_features, out_features) for one layer), so a
    :class:`~graphrnn.nn.GraphNetwork` given it splits that layer by input
    (:func:`graphrnn.nn.graph_network_updates.first_linear`). Input (*, in_features), output
    (*, out_features). ``num_layers < 1`` is a ``ValueError``.
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
