"""Predict the topological polar surface area (Ertl et al. 2000) of the ~5,000 NCI molecules that
rdkit ships, with a message-passing network whose per-atom outputs are summed (TPSA is a
sum of atom contributions). A thin configuration of examples/esol.py (``--dataset tpsa``).

    graphrnn train tpsa --threads 1
    graphrnn evaluate tpsa --checkpoint runs/tpsa/best.pt
"""
from graphrnn.cli import load_example

DESCRIPTION = "MPNN predicting TPSA of rdkit's 5k NCI molecules (embedded data, no download)"


def train(argv=None) -> int:
    return load_example("esol").train(argv, name="tpsa", dataset="tpsa")


def evaluate(argv=None) -> int:
    return load_example("esol").evaluate(argv, name="tpsa", dataset="tpsa")


if __name__ == "__main__":
    raise SystemExit(train())
