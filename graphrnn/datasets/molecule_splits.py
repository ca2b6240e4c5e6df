"""Splits of molecule data sets (random, Bemis-Murcko scaffold) and the statistics of a training
split that a model is scaled with (targets, descriptors)."""
from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils.data import Subset

from ..structures.descriptors import parse_smiles

__all__ = ["target_stats", "descriptor_stats", "random_split", "murcko_scaffold",
           "scaffold_split", "balanced_scaffold_split", "split_dataset", "SPLITS"]

SPLITS = ("random", "scaffold", "scaffold_balanced")


def target_stats(dataset) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation ``[num_targets]`` of the labelled ``y`` of ``dataset`` (a
    data set or ``Subset`` of molecule graphs); NaN labels are ignored."""
    if len(dataset) == 0:
        raise ValueError("target_stats: dataset is empty")
    y = torch.cat([dataset[i].y.view(1, -1) for i in range(len(dataset))]).double()
    mask = ~torch.isnan(y)
    count = mask.sum(0).clamp(min=1)
    y0 = torch.where(mask, y, torch.zeros_like(y))
    mean = y0.sum(0) / count
    var = torch.where(mask, (y0 - mean) ** 2, torch.zeros_like(y)).sum(0) / count
    return mean.float(), var.sqrt().clamp(min=1e-6).float()


def descriptor_stats(dataset) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation ``[D]`` of ``data.descriptors`` over ``dataset`` (pass the
    training split only, so validation and test molecules do not leak into the scaling)."""
    if len(dataset) == 0:
        raise ValueError("descriptor_stats: dataset is empty")
    rows = _field_of_each(dataset, "descriptors", "descriptor_stats",
                          "build the data set with descriptors=True")
    x = torch.cat([d.view(1, -1) for d in rows]).double()
    return x.mean(0).float(), x.std(0, unbiased=False).float()


def _field_of_each(dataset, name: str, who: str, hint: str) -> list:
    """``item.<name>`` of every item; a ``ValueError`` naming the first item without it."""
    out = []
    for i in range(len(dataset)):
        value = getattr(dataset[i], name, None)
        if value is None:
            raise ValueError(f"{who}: item {i} has no {name!r}; {hint}")
        out.append(value)
    return out


# ----------------------------------------------------------------------------------------------
# splits

def _sizes(n: int, fractions: Sequence[float]) -> list[int]:
    if not fractions or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {list(fractions)}")
    sizes = [int(math.floor(f * n)) for f in fractions]
    sizes[0] += n - sum(sizes)      # rounding leftovers go to the first (training) part
    return sizes


def random_split(dataset, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                 seed: int = 0) -> list[Subset]:
    """Shuffle ``dataset``'s indices with ``seed`` and cut them into parts of the given fractions
    (which must sum to 1; rounding leftovers go to the first part). Returns one ``Subset`` each."""
    n = len(dataset)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    parts, start = [], 0
    for size in _sizes(n, fractions):
        parts.append(Subset(dataset, order[start:start + size]))
        start += size
    return parts


def murcko_scaffold(smiles: str, include_chirality: bool = False) -> str:
    """Bemis-Murcko scaffold SMILES of a molecule ("" for acyclic molecules)."""
    from rdkit.Chem.Scaffolds import MurckoScaffold
    mol = parse_smiles(smiles)
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=include_chirality)


def _smiles_of(dataset) -> list[str]:
    if hasattr(dataset, "smiles") and len(dataset.smiles) == len(dataset):
        return list(dataset.smiles)
    return _field_of_each(dataset, "smiles", "scaffold_split",
                          "it needs a SMILES per graph (or dataset.smiles)")


def scaffold_split(dataset, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                   include_chirality: bool = False) -> list[Subset]:
    """Deterministic Bemis-Murcko scaffold split (Bemis & Murcko 1996), as MoleculeNet does it.

    Molecules are grouped by scaffold; groups are sorted largest first (ties: the group whose first
    molecule comes first), and each group goes whole to the first part it fits in without passing
    that part's cumulative cut (``fractions[0] * n``, then ``(fractions[0] + fractions[1]) * n``),
    else to the last part; a later, smaller group may still fit an earlier part. No scaffold is
    shared between parts, so later parts hold rarer scaffolds than training -- a harder, more honest
    test than a random split.

    Args:
        dataset: a sized data set whose items (or its ``.smiles`` list) carry SMILES.
        fractions: sizes of the parts, summing to 1 (default ``(0.8, 0.1, 0.1)``).
        include_chirality: keep stereo in scaffolds (default ``False``).

    Returns: one ``Subset`` per fraction, indices in increasing order within each group.
    """
    n = len(dataset)
    _sizes(n, fractions)                                  # validates fractions
    groups: dict[str, list[int]] = defaultdict(list)
    for i, smiles in enumerate(_smiles_of(dataset)):
        groups[murcko_scaffold(smiles, include_chirality)].append(i)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    cuts = [sum(fractions[:k + 1]) * n for k in range(len(fractions) - 1)]
    parts: list[list[int]] = [[] for _ in fractions]
    for group in ordered:
        # The first part that can take the whole group without passing its cumulative cut;
        # otherwise the last part. A later, smaller group may still fit an earlier part.
        k = 0
        while k < len(cuts) and sum(map(len, parts[:k + 1])) + len(group) > cuts[k]:
            k += 1
        parts[k].extend(group)
    return [Subset(dataset, p) for p in parts]


def balanced_scaffold_split(dataset, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0,
                            include_chirality: bool = False) -> list[Subset]:
    """Bemis-Murcko scaffold split with shuffled groups: chemprop's ``scaffold_balanced`` (Yang et
    al. 2019, https://doi.org/10.1021/acs.jcim.9b00237).

    Scaffold groups larger than half a later part (``fractions[k] * n / 2`` for any ``k > 0``)
    come first, then the others, each list shuffled with ``seed``; each group goes whole to the
    first part it fits in (cumulative cuts as :func:`scaffold_split`), else to the last part. No
    scaffold is shared between parts, as in :func:`scaffold_split`, but the parts do not depend
    on the order of the file: where a file is sorted by label (BBBP ends with 600 positives),
    the deterministic split's validation and test parts hold one class only.

    Args: as :func:`scaffold_split`, and ``seed`` for the shuffles (default 0).
    """
    n = len(dataset)
    _sizes(n, fractions)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, smiles in enumerate(_smiles_of(dataset)):
        groups[murcko_scaffold(smiles, include_chirality)].append(i)
    limit = min(fractions[1:]) * n / 2 if len(fractions) > 1 else n
    big = [g for g in groups.values() if len(g) > limit]
    small = [g for g in groups.values() if len(g) <= limit]
    rng = random.Random(seed)
    rng.shuffle(big)
    rng.shuffle(small)
    cuts = [sum(fractions[:k + 1]) * n for k in range(len(fractions) - 1)]
    parts: list[list[int]] = [[] for _ in fractions]
    for group in big + small:
        k = 0
        while k < len(cuts) and sum(map(len, parts[:k + 1])) + len(group) > cuts[k]:
            k += 1
        parts[k].extend(group)
    return [Subset(dataset, sorted(p)) for p in parts]


def split_dataset(dataset, split: str = "random", seed: int = 0,
                  fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> list[Subset]:
    """``[train, val, test]`` subsets: ``"random"`` (shuffled with ``seed``), ``"scaffold"``
    (Bemis-Murcko, deterministic) or ``"scaffold_balanced"`` (Bemis-Murcko groups shuffled with
    ``seed``, :func:`balanced_scaffold_split`)."""
    if split == "random":
        return random_split(dataset, fractions, seed=seed)
    if split == "scaffold":
        return scaffold_split(dataset, fractions)
    if split == "scaffold_balanced":
        return balanced_scaffold_split(dataset, fractions, seed=seed)
    raise ValueError(f"split={split!r} is not supported; expected one of {SPLITS}")
