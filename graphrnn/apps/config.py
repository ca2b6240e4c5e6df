"""Command-line options as dataclasses: every application's settings are one config object.

An application declares its settings as a dataclass deriving from :class:`TrainConfig` (or
:class:`EvaluateConfig`, :class:`GenerateConfig`); :func:`parse_config` turns the fields into
``argparse`` options (``batch_size`` -> ``--batch-size``), parses, and checks every value before
any work starts. The shared flags (``--root --out --device --epochs --seed --threads --resume
--quick``) are written once, here. The same object is stored in every checkpoint
(:func:`dataclasses.asdict`), so ``evaluate`` rebuilds exactly the model that was trained.

A field's options go in :func:`option`::

    @dataclass
    class Config(TrainConfig):
        hidden: int = option(32, "hidden units", min=1)
        cell: str = option("gru", "recurrent cell", choices=("rnn", "lstm", "gru"))

This module imports nothing heavy (no torch): ``graphrnn train NAME --help`` answers at once.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["option", "TrainConfig", "EvaluateConfig", "GenerateConfig", "parse_config",
           "build_parser", "config_from_dict", "ConfigError"]

DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


class ConfigError(ValueError):
    """A command-line value that cannot be used; the message names the flag."""


def option(default: Any = dataclasses.MISSING, help: str = "", *, choices: Sequence | None = None,
           min: float | None = None, max: float | None = None, positive: bool = False,
           path: str | None = None, flag: str | None = None, hidden: bool = False) -> Any:
    """A dataclass field that is also a command-line option.

    Args:
        default: the default value (lists are copied per instance).
        help (str): the ``--help`` text.
        choices (sequence, optional): the values allowed.
        min, max (float, optional): inclusive bounds, checked at parse time.
        positive (bool): the value must be > 0 (and finite, for floats).
        path (str, optional): ``"out_dir"`` (a folder to be written), ``"out_file"`` (a file to be
            written), ``"in_file"`` / ``"in_dir"`` (must exist): checked before any work starts.
        flag (str, optional): the flag's name when it is not ``--field-name``.
        hidden (bool): keep the option out of ``--help``.
    """
    meta = {"help": help, "choices": choices, "min": min, "max": max, "positive": positive,
            "path": path, "flag": flag, "hidden": hidden}
    if isinstance(default, list):
        return field(default_factory=lambda d=default: list(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class RunConfig:
    """Flags every action shares."""
    device: str = option("cpu", "'cpu', 'cuda', 'cuda:1', or 'auto' (cuda when available)")
    threads: int = option(1, "torch threads; small models run fastest on one (default: 1)",
                          min=1)
    out: str | None = option(None, "folder for checkpoints, results.json, metrics.csv and plots "
                             "(default: runs/NAME)", path="out_dir")


@dataclass
class TrainConfig(RunConfig):
    """Flags of every ``graphrnn train NAME``."""
    root: str | None = option(None, "folder with the data set's files (default: the data set's "
                              "own default, see its card)")
    epochs: int = option(10, "training epochs", min=1)
    seed: int = option(0, "seeds initialisation, data order and splits")
    resume: bool = option(False, "continue from OUT/last.pt")
    quick: bool = option(False, "a small, fast run (smoke tests and the tour)")


@dataclass
class EvaluateConfig(RunConfig):
    """Flags of every ``graphrnn evaluate NAME``."""
    checkpoint: str | None = option(None, "checkpoint to evaluate (default: OUT/best.pt)",
                                    path="in_file")
    root: str | None = option(None, "folder with the data set's files")


@dataclass
class GenerateConfig(RunConfig):
    """Flags of every ``graphrnn generate NAME``."""
    checkpoint: str | None = option(None, "checkpoint to generate from (default: OUT/best.pt)",
                                    path="in_file")
    seed: int = option(0, "seeds the sampler")


def _flag(f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _base_type(hint: Any) -> tuple[type, bool, bool]:
    """``(element type, optional, is_list)`` of a field's annotation."""
    optional = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        hint = args[0]
        origin = typing.get_origin(hint)
    if origin in (list, tuple, Sequence):
        return typing.get_args(hint)[0], optional, True
    return hint, optional, False


def _parse_value(kind: type, name: str):
    def parse(text: str):
        if kind is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise argparse.ArgumentTypeError(f"{name} takes true or false, got {text!r}")
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} takes "
                f"{'an integer' if kind is int else 'a number' if kind is float else kind.__name__}"
                f", got {text!r}") from None
        return value
    return parse


class _ListOnce(argparse.Action):
    """A list option given once (``--target-col a b``): a second ``--target-col`` is an error
    rather than silently replacing the first."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = getattr(namespace, "_lists_given", set())
        if self.dest in seen:
            parser.error(f"{option_string} was given twice; list every value after one "
                         f"{option_string}")
        namespace._lists_given = seen | {self.dest}
        setattr(namespace, self.dest, values)


def build_parser(cls: type, prog: str, description: str | None = None,
                 defaults: Mapping[str, Any] | None = None) -> argparse.ArgumentParser:
    """An ``argparse`` parser with one option per field of the dataclass ``cls``; ``defaults``
    replaces field defaults (a data set's own settings)."""
    parser = argparse.ArgumentParser(prog=prog, description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    hints = typing.get_type_hints(cls)
    defaults = dict(defaults or {})
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        kind, optional, many = _base_type(hints[f.name])
        default = defaults[f.name] if f.name in defaults else (
            f.default if f.default is not dataclasses.MISSING else f.default_factory())
        meta = f.metadata
        help_text = meta.get("help", "")
        if "default:" not in help_text:  # a help text may say its default in its own words
            help_text = f"{help_text} (default: {default})".strip()
        if meta.get("hidden"):
            help_text = argparse.SUPPRESS
        flag = _flag(f)
        if kind is bool and not many:
            parser.add_argument(flag, dest=f.name, default=default, help=help_text,
                                action=argparse.BooleanOptionalAction if default else "store_true")
            continue
        kwargs: dict[str, Any] = {"dest": f.name, "default": default, "help": help_text,
                                  "type": _parse_value(kind, flag), "metavar": f.name.upper()}
        if meta.get("choices") is not None:
            kwargs["choices"] = list(meta["choices"])
            kwargs.pop("metavar")
        if many:
            kwargs["nargs"] = "*" if optional else "+"
            kwargs["action"] = _ListOnce
        parser.add_argument(flag, **kwargs)
    return parser


def _check_number(f: dataclasses.Field, flag: str, value: Any) -> None:
    meta = f.metadata
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{flag} must be a finite number, got {value}")
    if meta.get("positive") and not value > 0:
        raise ConfigError(f"{flag} must be > 0, got {value}")
    if meta.get("min") is not None and value < meta["min"]:
        raise ConfigError(f"{flag} must be >= {meta['min']:g}, got {value}")
    if meta.get("max") is not None and value > meta["max"]:
        raise ConfigError(f"{flag} must be <= {meta['max']:g}, got {value}")


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_path(flag: str, kind: str, value: str) -> None:
    path = Path(value)
    if kind == "in_file":
        if path.is_dir():
            raise ConfigError(f"{flag} {value}: is a folder; give the file itself "
                              f"(e.g. {path / 'best.pt'})")
        if not path.is_file():
            raise ConfigError(f"{flag} {value}: no such file")
    elif kind == "in_dir":
        if not path.is_dir():
            raise ConfigError(f"{flag} {value}: no such folder")
    elif kind in ("out_dir", "out_file"):
        if kind == "out_dir" and path.exists() and not path.is_dir():
            raise ConfigError(f"{flag} {value}: exists and is not a folder")
        if kind == "out_file" and path.is_dir():
            raise ConfigError(f"{flag} {value}: is a folder, expected a file name")
        anchor = _nearest_existing(path if kind == "out_dir" else path.parent)
        if not anchor.is_dir():
            raise ConfigError(f"{flag} {value}: {anchor} is not a folder")
        if not os.access(anchor, os.W_OK | os.X_OK):
            raise ConfigError(f"{flag} {value}: cannot write in {anchor} (permission denied)")


def check_config(config: Any) -> None:
    """Check every field's bounds, choices and paths; :class:`ConfigError` names the flag."""
    for f in dataclasses.fields(config):
        value, flag, meta = getattr(config, f.name), _flag(f), f.metadata
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                _check_number(f, flag, v)
            if meta.get("choices") is not None and v not in meta["choices"]:
                raise ConfigError(f"{flag} must be one of {', '.join(map(str, meta['choices']))}, "
                                  f"got {v!r}")
            if meta.get("path") and isinstance(v, str):
                _check_path(flag, meta["path"], v)
    device = getattr(config, "device", None)
    if device is not None and not DEVICE_PATTERN.match(device):
        raise ConfigError(f"--device must be 'cpu', 'cuda', 'cuda:N', 'mps' or 'auto', "
                          f"got {device!r}")


def parse_config(cls: type, argv: Sequence[str] | None, prog: str, description: str | None = None,
                 defaults: Mapping[str, Any] | None = None, check: bool = True):
    """Parse ``argv`` into an instance of the dataclass ``cls`` and check it (see
    :func:`check_config`). Bad values exit with status 2 and one line naming the flag, as argparse
    does."""
    parser = build_parser(cls, prog, description, defaults)
    args = vars(parser.parse_args(argv))
    args.pop("_lists_given", None)
    config = cls(**args)
    if check:
        try:
            check_config(config)
        except ConfigError as err:
            parser.error(str(err))
    return config


def config_from_dict(cls: type, values: Mapping[str, Any], source: str = "checkpoint"):
    """Rebuild a config stored by :func:`dataclasses.asdict`; unknown keys are an error naming
    them (the file was written by another version or application), missing keys take defaults."""
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"{source}: settings {', '.join(unknown)} are not settings of "
                          f"{cls.__module__}.{cls.__qualname__}")
    return cls(**{k: v for k, v in values.items() if k in names})
