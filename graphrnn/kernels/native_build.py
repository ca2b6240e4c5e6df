"""Building and caching the compiled gate steps of :mod:`.native`: the C source, the compiler and
its flags, the cache directory, and a library loaded only when it matches its recorded checksum.

The C file needs no PyTorch or Python headers: it is compiled by the system's C compiler
(``$CC``, else ``cc``; ~0.2 s) with ``-O3 -march=native -ffast-math`` (the vectorised
``expf``/``tanhf`` of the C library need the last; without ``-march=native`` where a compiler
refuses it), into a cache directory (``$GRAPHRNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/graphrnn``,
else ``~/.cache/graphrnn``) under a name that hashes the source, the compiler, its flags and the
CPU's feature flags, so that a home directory shared between machines never loads another CPU's
build. A built library is written under a temporary name and renamed into place (a library a
process has mapped is never rewritten), with its SHA-256 recorded beside it.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("csrc") / "recurrent_steps.c"
# the first that builds is used: -march=native can be unknown to a compiler (or a CPU)
FLAGS = (("-O3", "-march=native", "-ffast-math", "-fopenmp-simd"), ("-O3", "-ffast-math"))
SUFFIX = {torch.float32: "f32", torch.float64: "f64"}
# argument kinds of each exported function ("p" pointer, "l" long, "i" int), per dtype suffix
SIGNATURES = {"graphrnn_lstm_forward": "p" * 8 + "lli", "graphrnn_lstm_backward": "p" * 11 + "lli",
              "graphrnn_gru_forward": "p" * 5 + "ll", "graphrnn_gru_backward": "p" * 5 + "ll",
              "graphrnn_srn_forward": "pl", "graphrnn_srn_backward": "pppl"}
_C_TYPES = {"p": ctypes.c_void_p, "l": ctypes.c_long, "i": ctypes.c_int}


def cache_dir() -> Path:
    """Where built libraries are kept: ``$GRAPHRNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/graphrnn``,
    else ``~/.cache/graphrnn`` (the temporary directory's ``graphrnn-cache`` with no home)."""
    if os.environ.get("GRAPHRNN_CACHE_DIR"):
        return Path(os.environ["GRAPHRNN_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "graphrnn"
    try:
        return Path.home() / ".cache" / "graphrnn"
    except RuntimeError:   # no home directory can be determined
        return Path(tempfile.gettempdir()) / "graphrnn-cache"


def _cpu_flags() -> str:
    """The CPU's feature flags (Linux), else what the platform module says of the processor."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor() + platform.machine()


def compiler() -> str | None:
    """The C compiler's path: ``$CC``, else ``cc``, if found."""
    return shutil.which(os.environ.get("CC") or "cc")


def library_path(compiler: str, flags: tuple[str, ...]) -> Path:
    """Where the build of SOURCE by ``compiler`` with ``flags`` for this CPU is kept."""
    key = hashlib.sha256()
    for part in (SOURCE.read_bytes(), compiler.encode(), " ".join(flags).encode(),
                 _cpu_flags().encode(), platform.machine().encode()):
        key.update(part)
        key.update(b"\0")
    return cache_dir() / "native" / f"recurrent_steps-{key.hexdigest()[:16]}.so"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(compiler: str, flags: tuple[str, ...], target: Path) -> str | None:
    """Compile SOURCE to ``target`` (a temporary file renamed into place, with its checksum
    beside it): ``None`` when built, else why not."""
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
        os.close(fd)
        done = subprocess.run([compiler, *flags, "-shared", "-fPIC", str(SOURCE), "-o", tmp,
                               "-lm"], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return f"{compiler} {' '.join(flags)} failed: {last}"
        digest = _digest(Path(tmp))
        os.replace(tmp, target)
        Path(str(target) + ".sha256").write_text(digest + "\n")
        return None
    except (OSError, subprocess.SubprocessError) as err:
        return f"could not build into {target.parent} ({err}); set GRAPHRNN_CACHE_DIR"
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def open_library(path: Path) -> ctypes.CDLL | None:
    """The library at ``path`` if its recorded checksum matches and it exports every function of
    :data:`SIGNATURES`, with their argument types set; else ``None``."""
    try:
        if Path(str(path) + ".sha256").read_text().strip() != _digest(path):
            return None
        lib = ctypes.CDLL(str(path))
        for name, kinds in SIGNATURES.items():
            for suffix in SUFFIX.values():
                fn = getattr(lib, f"{name}_{suffix}")
                fn.argtypes, fn.restype = [_C_TYPES[k] for k in kinds], None
    except (OSError, AttributeError):
        return None
    return lib


__all__ = ["FLAGS", "SIGNATURES", "SOURCE", "SUFFIX", "build", "cache_dir", "compiler",
           "library_path", "open_library"]
