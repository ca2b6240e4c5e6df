"""The figures the applications draw (matplotlib, written as PNG files)."""
from __future__ import annotations

from ..lazy import lazy_exports

# name -> the submodule defining it, imported when the name is first read (graphrnn.lazy)
_EXPORTS = {
    "plot_gradient_flow": "gradient_flow",
    "plot_sweep": "gradient_flow",
    "plot_series": "series",
    "plot_trajectories": "trajectories",
    "plot_tree": "tree",
    "tree_layout": "tree",
    "SST_CLASSES": "tree",
    "BINARY_CLASSES": "tree",
}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
