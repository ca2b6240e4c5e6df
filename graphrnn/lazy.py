"""Package exports imported on first use.

``graphrnn.models``, ``graphrnn.tasks`` and ``graphrnn.plots`` export their modules' names at the
package level; importing every module up front would make ``import graphrnn.models.addition``
import rdkit, PyG's loaders and matplotlib too. :func:`lazy_exports` gives a package the module
``__getattr__`` / ``__dir__`` (PEP 562) that import a name's module when the name is first read.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` exporting ``{name: submodule}``."""
    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(f".{exports[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
