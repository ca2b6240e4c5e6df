"""House style, held by the ecosystem's tools: ruff (lint and import order, configured in
pyproject.toml) is clean on the whole tree, and no package module or example grows past its size
without saying why."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean_on_the_whole_tree():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]' installs it)")
    result = subprocess.run([ruff, "check", "graphrnn", "tests", "examples"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-1000:]


def test_package_modules_and_examples_stay_small():
    """A package module over 400 lines says why in its docstring (a line starting "Size:"); an
    example over 80 lines is not a thin script."""
    too_long = []
    for path in sorted((ROOT / "graphrnn").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 400 and "\nSize:" not in text.split('"""')[1]:
            too_long.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    for path in sorted((ROOT / "examples").glob("*.py")):
        if path.read_text(encoding="utf-8").count("\n") > 80:
            too_long.append(f"{path.relative_to(ROOT)} (an example)")
    assert not too_long, "\n".join(too_long)


def test_one_import_style_inside_the_package():
    """Relative imports inside the package: ``from graphrnn...`` would be a second style."""
    absolute = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "graphrnn").rglob("*.py"))
                for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                if line.lstrip().startswith(("from graphrnn", "import graphrnn"))]
    assert not absolute, "absolute imports inside the package:\n" + "\n".join(absolute)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
