"""The Stanford Sentiment Treebank (Socher et al. 2013) as PyG trees with a label on every node.

SST holds 11,855 movie-review sentences (8,544 train, 1,101 dev, 2,210 test), each a binarised
parse tree whose every node (phrase) carries a sentiment label 0 (very negative) to 4 (very
positive)::

    (3 (2 It) (4 (4 (2 's) (4 (3 (2 a) (4 (3 lovely) (2 film))))) (2 .)))

See ``datasets/sst.md`` for the source, licence and checksums.

Socher, Perelygin, Wu, Chuang, Manning, Ng & Potts, "Recursive Deep Models for Semantic
Compositionality Over a Sentiment Treebank", EMNLP 2013, https://nlp.stanford.edu/sentiment/.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch_geometric.data import Data

from ..io import atomic_write_bytes
from .base import FileDataset
from .download import ChecksumError, download_url
from .ptb import add_levels, read_trees, tree_vocab, trees_to_graphs
from .text import Vocab

__all__ = ["SST", "sst_label_fn"]

URL = "https://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip"
#: md5 of the official archive. The build machine has no network, so it could not be computed and
#: the archive itself is not checked; every file extracted from it is checked against ``MD5``.
ARCHIVE_MD5: str | None = None
#: md5 of the extracted ``trees/{split}.txt`` (as listed in ../shared/data/SOURCES.md).
MD5 = {"train": "b12d531b1b913a3bb49719ba5cc1f67a", "dev": "c405f1d724964e6f72314b5a51fea691",
       "test": "97b75f6ca1ae58b4d52fbf9381dc6f8c"}
SPLITS = ("train", "dev", "test")
LABEL_MODES = ("all", "root")

_VOCABS: dict[tuple, Vocab] = {}


def sst_label_fn(fine_grained: bool = True) -> Callable[[str], int]:
    """Node label (``"0"``-``"4"``) -> class: itself (fine-grained) or, binary, 0-1 -> 0,
    3-4 -> 1 and neutral 2 -> -1 (ignored, as ``ignore_index=-1`` in the loss)."""
    def fine(label: str) -> int:
        value = int(label)
        if not 0 <= value <= 4:
            raise ValueError(f"SST labels are 0-4, got {label!r}")
        return value

    def binary(label: str) -> int:
        value = fine(label)
        return -1 if value == 2 else int(value > 2)

    return fine if fine_grained else binary


class SST(FileDataset):
    r"""SST sentences as trees (:func:`graphrnn.structures.tree_graph`): edges ``child -> parent``,
    the root is node 0, preterminals ``(label word)`` are the leaves.

    Each item is a ``Data`` with ``edge_index`` (2, E), ``token`` (N,) (vocabulary index, -1 on
    nodes without a word), ``y`` (N,) (class per node, -1 where there is none), ``is_leaf`` (N,),
    ``level`` (N,) (node heights, as :class:`~graphrnn.schedule.AddLevels` gives, so a batch is
    scheduled without a level loop), ``root_index`` (1,) (the root; PyG offsets it when batching, so
    ``batch.root_index`` lists every root) and ``words``/``labels`` (lists, for display).

    The files ``{split}.txt`` are read from ``root`` (or ``file``). When they are missing and
    ``download`` is true, the official archive ``trainDevTestTrees_PTB.zip`` is fetched from
    https://nlp.stanford.edu/sentiment/ into ``root`` and the three files extracted from it; every
    extracted file must have the md5 in :data:`MD5` (the archive's own md5 is not known here, see
    :data:`ARCHIVE_MD5`). Missing files that cannot be fetched are a
    :class:`~graphrnn.datasets.base.DataNotFoundError` naming them, the folder and the source.

    Args:
        root: the folder with (or for) ``train.txt``, ``dev.txt``, ``test.txt``.
        split: ``"train"``, ``"dev"`` or ``"test"``. Default: ``"train"``.
        fine_grained: 5 classes (default), or binary as in Socher et al. 2013: sentences with a
            neutral root are dropped, labels 0-1 -> 0 and 3-4 -> 1, neutral phrases get y = -1.
        labels: ``"all"`` (a label on every phrase, default) or ``"root"`` (only the root's; the
            other nodes get y = -1).
        vocab: a :class:`~graphrnn.datasets.Vocab` (see :func:`~graphrnn.datasets.ptb.tree_vocab`);
            default: built on the training split
            of ``root`` (all its sentences, after ``lowercase``), words seen ``min_freq`` times.
        lowercase: lowercase the words. Default: ``False``.
        min_freq: for the default vocabulary. Default: 1.
        transform: applied to each ``Data`` on access. Default: ``None``.
        download: fetch the archive when a file is missing. Default: ``True``.
        check_md5: check the files against :data:`MD5` (turn off for other copies or hand-made
            fixtures). Default: ``True``.
        file: read the sentences from this file instead of ``root/{split}.txt``: your own trees in
            the same format (one PTB-bracketed tree a line, labels 0-4 on every node); not
            md5-checked, never downloaded. Default: ``None``.

    Sizes: fine-grained 8,544 / 1,101 / 2,210 sentences; binary 6,920 / 872 / 1,821.
    """

    url, archive_md5 = URL, ARCHIVE_MD5
    source = f"{URL} (trees/{{train,dev,test}}.txt of the archive)"
    card = "datasets/sst.md"

    def __init__(self, root: str | os.PathLike, split: str = "train", fine_grained: bool = True,
                 labels: str = "all", vocab: Vocab | None = None, lowercase: bool = False,
                 min_freq: int = 1, transform: Callable[[Data], Data] | None = None,
                 download: bool = True, check_md5: bool = True,
                 file: str | os.PathLike | None = None):
        if split not in SPLITS:
            raise ValueError(f"SST: split must be one of {SPLITS}, got {split!r}")
        if labels not in LABEL_MODES:
            raise ValueError(f"SST: labels must be one of {LABEL_MODES}, got {labels!r}")
        self.split, self.fine_grained, self.labels = split, fine_grained, labels
        self.lowercase, self.min_freq, self.vocab = lowercase, min_freq, vocab
        self.file = None if file is None else Path(file)
        super().__init__(root, transform, download=download and file is None,
                         check_md5=check_md5 and file is None)
        self.trees, self.lines, self.graphs = self.items

    # -- files ----------------------------------------------------------------------------------
    def _needs_train(self) -> bool:
        """Whether the default vocabulary must be built from ``root/train.txt``."""
        return self.vocab is None and self.split != "train"

    @property
    def raw_file_names(self) -> tuple[str, ...]:
        own = (self.file.name,) if self.file is not None else (f"{self.split}.txt",)
        return own + (("train.txt",) if self._needs_train() else ())

    @property
    def raw_paths(self) -> list[Path]:
        if self.file is None:
            return super().raw_paths
        return [self.file] + ([self.root / "train.txt"] if self._needs_train() else [])

    @property
    def md5(self) -> dict[str, str]:
        return {f"{s}.txt": MD5[s] for s in SPLITS}

    def path(self, split: str) -> Path:
        if self.file is not None and split == self.split:
            return self.file
        return self.root / f"{split}.txt"

    def download(self) -> None:
        """Fetch the official archive into ``root`` and extract ``{train,dev,test}.txt``, each
        checked against :data:`MD5` before it is written."""
        archive = download_url(URL, self.root, md5=ARCHIVE_MD5)
        with zipfile.ZipFile(archive) as z:
            names = {Path(n).name: n for n in z.namelist() if n.endswith(".txt")}
            for split in SPLITS:
                if f"{split}.txt" not in names:
                    raise FileNotFoundError(f"SST: {archive} has no {split}.txt (members: "
                                            f"{sorted(names)})")
                data = z.read(names[f"{split}.txt"])
                if self.check_md5:
                    got = hashlib.md5(data).hexdigest()
                    if got != MD5[split]:
                        raise ChecksumError(f"{archive}:{names[split + '.txt']}: md5 is {got}, "
                                            f"expected {MD5[split]}")
                atomic_write_bytes(self.path(split), data)

    def _train_vocab(self, trees) -> Vocab:
        if self.split == "train":
            return tree_vocab(trees, self.min_freq)
        path = self.path("train").resolve()
        key = (str(path), path.stat().st_mtime_ns, self.lowercase, self.min_freq)
        if key not in _VOCABS:
            _VOCABS[key] = tree_vocab(read_trees(path, lowercase=self.lowercase), self.min_freq)
        return _VOCABS[key]

    # -- trees to graphs ------------------------------------------------------------------------
    def process(self) -> tuple[list, list[int], list[Data]]:
        """Read the split, drop neutral sentences (binary), build the graphs, label them, add
        levels. Returns the kept trees, their line numbers in the file and their graphs."""
        path = self.path(self.split)
        trees, lines = read_trees(path, lowercase=self.lowercase, return_lines=True)
        if self.vocab is None:
            self.vocab = self._train_vocab(trees)
        if not self.fine_grained:
            kept = [(t, n) for t, n in zip(trees, lines) if t.label() != "2"]
            trees, lines = [t for t, _ in kept], [n for _, n in kept]
        graphs = trees_to_graphs(trees, self.vocab, sst_label_fn(self.fine_grained),
                                 source=str(path), lines=lines)
        add_levels(graphs)
        for data in graphs:
            if self.labels == "root":
                data.y[1:] = -1
            data.root_index = torch.zeros(1, dtype=torch.long)
        return trees, lines, graphs

    def subset(self, indices) -> SST:
        """Keep only the sentences ``indices`` (in place; returns ``self``)."""
        indices = list(indices)
        self.trees = [self.trees[i] for i in indices]
        self.lines = [self.lines[i] for i in indices]
        self.graphs = [self.graphs[i] for i in indices]
        self.items = (self.trees, self.lines, self.graphs)
        return self

    # -- dataset --------------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return 5 if self.fine_grained else 2

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, index: int) -> Data:
        data = self.graphs[index]
        return self.transform(data) if self.transform is not None else data

    def __repr__(self) -> str:
        mode = "fine_grained" if self.fine_grained else "binary"
        return f"SST({len(self)}, split={self.split!r}, {mode}, labels={self.labels!r})"
