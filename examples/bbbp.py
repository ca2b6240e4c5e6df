"""MPNN on MoleculeNet's BBBP blood-brain barrier penetration (classification): an alias of examples/esol.py with ``--dataset bbbp``
(same options: ``--split random|scaffold``, ``--seed``, ...)."""
from graphrnn.cli import load_example

DESCRIPTION = "MPNN on MoleculeNet BBBP blood-brain barrier penetration (classification) (alias of esol --dataset bbbp)"


def train(argv=None) -> int:
    return load_example("esol").train(argv, name="bbbp", dataset="bbbp")


def evaluate(argv=None) -> int:
    return load_example("esol").evaluate(argv, name="bbbp", dataset="bbbp")


if __name__ == "__main__":
    raise SystemExit(train())
