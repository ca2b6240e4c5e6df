"""Random malformed inputs at the readers and builders: only the documented errors come out.

Documented errors are ``ValueError`` (with its subclasses ``CycleError``, ``InvalidSmilesError``,
the readers' format errors) and ``TypeError`` for wrong argument types; a checkpoint that cannot
be read raises ``CheckpointError``. Anything else (IndexError, RuntimeError from deep inside torch,
a crash, or silently accepting garbage where that is an error) fails the test.
"""
import random
import string

import pytest
import torch
from rdkit import RDLogger
from torch_geometric.data import Data

import graphrnn.nn as gnn
from graphrnn.datasets.conll import read_conll
from graphrnn.datasets.poems import read_blank_line, read_chinese_poetry, read_title_content
from graphrnn.datasets.text import Vocab
from graphrnn.schedule import topological_schedule
from graphrnn.structures import chains_from_padded, from_smiles
from graphrnn.train import CheckpointError, load_checkpoint

DOCUMENTED = (ValueError, TypeError)
RNG = random.Random(1234)


def random_text(n: int) -> str:
    alphabet = string.printable + "()[]=#@+-\\/%，。：日月"
    return "".join(RNG.choice(alphabet) for _ in range(n))


def random_edge_index():
    kind = RNG.random()
    n = RNG.randint(0, 6)
    if kind < 0.15:
        return torch.randn(2, RNG.randint(0, 4)), n                      # float indices
    if kind < 0.3:
        return torch.randint(-3, 9, (RNG.choice([1, 3]), RNG.randint(0, 4))), n  # wrong shape
    if kind < 0.4:
        return [[0, 1], [1, 2]], n                                        # not a tensor
    return torch.randint(-1, n + 2, (2, RNG.randint(0, 8))), n           # maybe out of range/cyclic


def test_schedule_fuzz():
    for _ in range(1500):
        edge_index, n = random_edge_index()
        try:
            sched = topological_schedule(edge_index, n)
        except DOCUMENTED:
            continue
        # accepted input: a valid schedule of a DAG over n nodes
        assert sorted(sched.order.tolist()) == list(range(n))
        src, dst = sched.rank[edge_index[0]], sched.rank[edge_index[1]]
        level_of = torch.repeat_interleave(torch.arange(sched.num_levels),
                                           torch.tensor(sched.level_sizes, dtype=torch.long))
        assert (level_of[src] < level_of[dst]).all()


def test_smiles_fuzz():
    RDLogger.DisableLog("rdApp.*")
    for _ in range(500):
        text = random_text(RNG.randint(0, 12)) if RNG.random() < 0.8 else RNG.choice(
            ["C1CC", "c1ccccc1(", "[Xx]", "", "C" * 5, "N#N", "CC(=O)O"])
        try:
            data = from_smiles(text)
        except DOCUMENTED:
            continue
        assert data.num_nodes > 0 and data.x.size(0) == data.num_nodes


@pytest.mark.parametrize("reader,make", [
    (read_conll, lambda: "\n".join(
        " ".join(random_text(RNG.randint(0, 5)).split()[:RNG.randint(0, 4)])
        for _ in range(RNG.randint(1, 6)))),
    (read_title_content, lambda: "\n".join(random_text(RNG.randint(0, 20)) for _ in range(3))),
    (read_blank_line, lambda: "\n".join(random_text(RNG.randint(0, 20)) for _ in range(3))),
    (read_chinese_poetry, lambda: RNG.choice(['[{"paragraphs": ["a"], "title": 1}]', "[1, 2]",
                                              "{}", "[", '[{"paragraphs": "x"}]'])
                                  + random_text(2)),
])
def test_reader_fuzz(tmp_path, reader, make):
    path = tmp_path / "input.txt"
    for _ in range(150):
        path.write_text(make(), encoding="utf-8")
        try:
            reader(path)
        except DOCUMENTED:
            pass


def test_vocab_and_checkpoint_fuzz(tmp_path):
    path = tmp_path / "junk"
    for _ in range(150):
        path.write_bytes(random_text(RNG.randint(0, 40)).encode())
        with pytest.raises(DOCUMENTED):
            Vocab.load(path)
        with pytest.raises(CheckpointError):
            load_checkpoint(path)


def test_rnn_input_fuzz():
    lstm = gnn.LSTM(3, 4, num_layers=2)
    for _ in range(300):
        shape = [RNG.randint(1, 4) for _ in range(RNG.randint(1, 4))]
        x = torch.randn(*shape)
        hx = None if RNG.random() < 0.5 else tuple(
            torch.randn(*[RNG.randint(1, 4) for _ in range(3)]) for _ in range(2))
        try:
            out, (h, c) = lstm(x, hx)
        except DOCUMENTED:
            continue
        assert x.size(-1) == 3 and out.size(-1) == 4
    for _ in range(200):
        n = RNG.randint(1, 5)
        edge_index, _ = random_edge_index()
        try:
            lstm(Data(x=torch.randn(n, 3), edge_index=edge_index))
        except DOCUMENTED:
            pass


def test_chain_builder_fuzz():
    for _ in range(300):
        padded = torch.randn(RNG.randint(1, 4), RNG.randint(1, 3), 2)
        lengths = [RNG.randint(-1, 5) for _ in range(RNG.randint(0, 4))]
        try:
            batch = chains_from_padded(padded, lengths)
        except DOCUMENTED:
            continue
        assert batch.num_nodes == sum(lengths)
