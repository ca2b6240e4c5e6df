"""The package as users get it: built into a wheel, installed (not editable) into a fresh virtual
environment, and run from a folder outside the checkout."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A virtual environment with graphrnn's wheel installed; torch and the other dependencies
    come from this interpreter's site-packages (``--system-site-packages``: no download)."""
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("needs the source checkout")
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "src"  # a clean copy: no build/ or egg-info of the checkout leaks in
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", "runs", "build", "*.egg-info", "__pycache__", "tests", "data"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp / "dist"), str(source)], check=True)
    wheel = next((tmp / "dist").glob("graphrnn-*.whl"))
    env_dir = tmp / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True)
    return env_dir


def run_outside(env_dir: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRAPHRNN_DATA")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_wheel_runs_applications_from_outside_the_checkout(installed, tmp_path):
    where = run_outside(installed, tmp_path, "python", "-c",
                        "import graphrnn, sys; print(graphrnn.__file__)")
    assert where.returncode == 0, where.stderr
    assert str(installed) in where.stdout, f"not the wheel's copy: {where.stdout}"
    listing = run_outside(installed, tmp_path, "graphrnn", "list")
    assert listing.returncode == 0 and "addition" in listing.stdout and "tpsa" in listing.stdout
    trained = run_outside(installed, tmp_path, "graphrnn", "train", "addition", "--quick",
                          "--epochs", "1", "--test-size", "50")
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert (tmp_path / "runs" / "addition" / "results.json").is_file()
    assert (tmp_path / "runs" / "addition" / "best.pt").is_file()


def test_wheel_carries_the_compiled_steps_source_and_builds_it(installed, tmp_path):
    env = {"GRAPHRNN_CACHE_DIR": str(tmp_path / "cache")}
    probe = run_outside(installed, tmp_path, "env", *(f"{k}={v}" for k, v in env.items()),
                        "python", "-c", "from graphrnn.kernels import native; "
                        "print(native.SOURCE.is_file(), native.library() is not None)")
    assert probe.returncode == 0, probe.stderr
    source, built = probe.stdout.split()
    assert source == "True"
    if shutil.which(os.environ.get("CC") or "cc"):   # with a C compiler it builds and loads
        assert built == "True", probe.stderr
