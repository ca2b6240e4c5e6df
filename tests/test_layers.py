"""The package's layers: imports point one way, and no module imports itself back.

Layers, first to last; a module may import modules of its own layer or of earlier ones only
(``graphrnn/__init__.py`` holds the version and imports nothing):

    lazy, io, structures, schedule, kernels, cells, engine, nn, datasets, tasks, models, train,
    plots, bench, apps, cli

Every ``import`` counts, those inside functions too: a lazy import is still a dependency. Imports
under ``if TYPE_CHECKING:`` are left out: they name types for annotations and never run.

The fused kernels sit below the cells, not under the engine: a cell offers its kernel
(``level_kernel()``, ``chain_kernel()``) and so must be able to import it, while the kernels take
tensors and weights only.
"""
from __future__ import annotations

import ast
from pathlib import Path

import graphrnn

LAYERS = ["lazy", "io", "structures", "schedule", "kernels", "cells", "engine", "nn", "datasets",
          "tasks", "models", "train", "plots", "bench", "apps", "cli"]
ENTRY_POINTS = {"__main__": "cli"}
PACKAGE = Path(graphrnn.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """graphrnn modules that ``name`` imports (relative imports resolved; ``from pkg import
    submodule`` counted as the submodule)."""
    is_package = path.name == "__init__.py"
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and "TYPE_CHECKING" in ast.unparse(block.test) for n in ast.walk(block)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "graphrnn")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "graphrnn":
                continue
            subs = {f"{target}.{a.name}" for a in node.names} & known
            found.update(subs or {target})
    return {m for m in found if m in known and m != name}


def layer_of(name: str) -> int | None:
    parts = name.split(".")
    if len(parts) == 1:
        return None  # the root package
    top = ENTRY_POINTS.get(parts[1], parts[1])
    assert top in LAYERS, f"{name}: {top!r} is in no layer; add it to LAYERS in {__file__}"
    return LAYERS.index(top)


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_every_module_belongs_to_a_layer():
    for name in modules():
        layer_of(name)


def test_imports_point_one_way():
    upward = [f"{name} (layer {LAYERS[layer_of(name)]}) imports {dep} (layer "
              f"{LAYERS[layer_of(dep)]})"
              for name, deps in import_graph().items() for dep in sorted(deps)
              if layer_of(name) is not None and layer_of(dep) is not None
              and layer_of(dep) > layer_of(name)]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_root_package_imports_nothing():
    assert import_graph()["graphrnn"] == set()


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of module imports, or None. A package's ``__init__`` importing its own submodules
    is how packages export names and is left out (``pkg -> pkg.sub``)."""
    edges = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (cycle := visit(d)):
                return cycle
        state[m] = 2
        stack.pop()
        return None

    for m in sorted(edges):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checks_catch_what_they_should():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"p": {"p.x"}, "p.x": {"p"}}) is None  # a package exporting its modules
    assert layer_of("graphrnn.nn.rnn") < layer_of("graphrnn.models.addition")
    path = PACKAGE / "models" / "__init__.py"
    assert imports_of("graphrnn.models", path, {"graphrnn.models"}) == set()
