"""Applications: the registry that ``graphrnn train|evaluate|generate NAME`` and the tour read.

One module per application under ``graphrnn/apps``. A module declares, for each action it offers,
a config dataclass and a function, in ``COMMANDS``::

    COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}

``train(config)`` returns a JSON-serialisable dict of results, which :func:`call` also writes to
``OUT/results.json`` (``evaluation.json`` for ``evaluate``). Settings shared by every app (``--root
--out --device --epochs --seed --threads --resume --quick``) come from the base configs of
:mod:`graphrnn.apps.config`; thread and device set-up, checkpoint naming and the record stored in
checkpoints from :mod:`graphrnn.apps.runtime`.

An app module imports torch, models and data sets inside its functions, not at the top: ``--help``
and ``graphrnn list`` then answer without importing torch, PyG or rdkit.

A registry entry may name a *preset*: the app module's ``PRESETS[preset]`` (a dict of field names
to values) replaces the config's defaults, so ``graphrnn train esol`` and ``graphrnn train tpsa``
are one module with each data set's own settings.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import parse_config

__all__ = ["APPS", "ALIASES", "AppEntry", "available", "load", "call", "resolve_name"]


@dataclass(frozen=True)
class AppEntry:
    """Where an application lives and what it is, one line."""
    module: str
    description: str
    preset: str | None = None


APPS: dict[str, AppEntry] = {
    "addition": AppEntry("graphrnn.apps.addition",
                         "Learn2Carry: an RNN adds integers digit by digit (tested on 20/30-digit "
                         "operands)"),
    "seq2seq_addition": AppEntry("graphrnn.apps.seq2seq_addition",
                                 "encoder-decoder with attention: '123+456' -> '579'"),
    "ctc_digits": AppEntry("graphrnn.apps.ctc_digits",
                           "CTC on noisy, unaligned frames of digit sequences"),
    "long_range": AppEntry("graphrnn.apps.long_range",
                           "remember the first symbol over T steps: SRN vs LSTM vs GRU, gradient "
                           "flow"),
    "narx": AppEntry("graphrnn.apps.narx",
                     "TDNN / NARX on delay-chain graphs identify a nonlinear plant (or your CSV "
                     "series), vs linear ARX"),
    "poems": AppEntry("graphrnn.apps.poems",
                      "Tang-poem character LSTM vs Kneser-Ney N-grams; form-constrained verse"),
    "lm": AppEntry("graphrnn.apps.lm",
                   "language model on your text (word or char) vs the best Kneser-Ney N-gram, "
                   "same tokens"),
    "sst": AppEntry("graphrnn.apps.sst",
                    "Tree-LSTM sentiment on the Stanford Sentiment Treebank (or your PTB trees)"),
    "conll_chunking": AppEntry("graphrnn.apps.tagging",
                               "BiLSTM(-CRF) chunking, POS tagging, word segmentation on "
                               "CoNLL-2000 (or your CoNLL columns)"),
    "molecules": AppEntry("graphrnn.apps.molecules",
                          "message passing on your CSV of SMILES and values (--csv)", "molecules"),
    "esol": AppEntry("graphrnn.apps.molecules",
                     "directed MPNN on MoleculeNet ESOL (log solubility)", "esol"),
    "freesolv": AppEntry("graphrnn.apps.molecules",
                         "MPNN on MoleculeNet FreeSolv (hydration free energy)", "freesolv"),
    "lipophilicity": AppEntry("graphrnn.apps.molecules",
                              "MPNN on MoleculeNet Lipophilicity (logD)", "lipophilicity"),
    "bbbp": AppEntry("graphrnn.apps.molecules",
                     "MPNN on MoleculeNet BBBP (blood-brain barrier penetration)", "bbbp"),
    "tpsa": AppEntry("graphrnn.apps.molecules",
                     "MPNN predicting TPSA of rdkit's 5k NCI molecules (embedded, no download)",
                     "tpsa"),
    "nbody": AppEntry("graphrnn.apps.nbody",
                      "interaction network learns particle dynamics, rolled out 20 steps"),
    "vqa": AppEntry("graphrnn.apps.vqa",
                    "visual question answering on easy-VQA: CNN image encoder + LSTM question "
                    "encoder"),
    "captioning": AppEntry("graphrnn.apps.captioning",
                           "image captioning with soft attention (Show, Attend and Tell) on "
                           "generated scenes, COCO or Flickr8k"),
    "pendigits": AppEntry("graphrnn.apps.pendigits",
                          "online handwriting: pen-trajectory digits recognised by a BiLSTM, drawn "
                          "by a mixture-density RNN"),
    "digit_strings": AppEntry("graphrnn.apps.digit_strings",
                              "offline handwriting: lines of real handwritten digits read by a "
                              "CNN-BiLSTM with CTC"),
    "translation": AppEntry("graphrnn.apps.translation",
                            "English-Chinese translation with attention (Tatoeba), sacrebleu BLEU "
                            "vs a Transformer"),
    "seq2seq": AppEntry("graphrnn.apps.seq2seq",
                        "encoder-decoder with attention on your tab-separated pairs (--pairs), "
                        "e.g. dialogue"),
}
#: Other names people use for an application.
ALIASES = {"sst_sentiment": "sst", "chunking": "conll_chunking", "tagging": "conll_chunking",
           "moleculenet": "esol",
           "dialogue": "seq2seq", "handwriting": "pendigits"}
RESULT_FILES = {"train": "results.json", "evaluate": "evaluation.json"}


def resolve_name(name: str) -> str:
    """The registry name of ``name`` (aliases resolved); ``KeyError`` naming the known ones."""
    name = ALIASES.get(name, name)
    if name not in APPS:
        raise KeyError(f"no application named {name!r}; known: {', '.join(APPS)}")
    return name


def available() -> dict[str, str]:
    """Application name -> one-line description (nothing imported)."""
    return {name: entry.description for name, entry in APPS.items()}


def load(name: str):
    """The module of application ``name``."""
    return importlib.import_module(APPS[resolve_name(name)].module)


def commands(name: str) -> dict:
    """``{action: (config class, function)}`` of application ``name``."""
    return load(name).COMMANDS


def _preset(module, entry: AppEntry, argv: Sequence[str]) -> dict[str, Any]:
    """The defaults of the entry's preset, or of the preset ``argv`` names with the module's
    ``PRESET_FLAG`` (``graphrnn train esol --dataset freesolv`` takes FreeSolv's settings)."""
    presets = getattr(module, "PRESETS", {})
    name = entry.preset
    flag = getattr(module, "PRESET_FLAG", None)
    if flag:
        for i, arg in enumerate(argv):
            if arg == flag and i + 1 < len(argv) and argv[i + 1] in presets:
                name = argv[i + 1]
            elif arg.startswith(flag + "=") and arg.split("=", 1)[1] in presets:
                name = arg.split("=", 1)[1]
    return dict(presets.get(name, {})) if name else {}


def parse(name: str, action: str, argv: Sequence[str] | None = None):
    """``(config, function)`` for ``graphrnn ACTION NAME ARGV``; bad options exit with status 2."""
    name = resolve_name(name)
    entry, module = APPS[name], load(name)
    if action not in module.COMMANDS:
        raise KeyError(f"application {name!r} has no {action!r}; it offers: "
                       f"{', '.join(module.COMMANDS)}")
    cls, fn = module.COMMANDS[action]
    argv = list(argv or [])
    defaults = _preset(module, entry, argv)
    if "out" in {f.name for f in dataclasses.fields(cls)} and defaults.get("out") is None:
        defaults["out"] = f"runs/{name}"
    doc = (module.__doc__ or entry.description).strip()
    config = parse_config(cls, argv, f"graphrnn {action} {name}", doc, defaults)
    return config, fn


def call(name: str, action: str, argv: Sequence[str] | None = None) -> Any:
    """Run ``graphrnn ACTION NAME ARGV`` in this process and return what the app returned; a dict
    is also written to ``OUT/results.json`` (``evaluation.json`` for ``evaluate``)."""
    config, fn = parse(name, action, argv)
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 alone reports
        with contextlib.redirect_stdout(io.StringIO()):
            return fn(config)
    result = fn(config)
    if isinstance(result, dict) and action in RESULT_FILES and getattr(config, "out", None):
        from ..io import atomic_write_bytes

        text = json.dumps(result, indent=1, ensure_ascii=False, default=float) + "\n"
        atomic_write_bytes(Path(config.out) / RESULT_FILES[action], text.encode())
    return result
