"""MPNN on MoleculeNet's FreeSolv hydration free energy: an alias of examples/esol.py with ``--dataset freesolv``
(same options: ``--split random|scaffold``, ``--seed``, ...)."""
from graphrnn.cli import load_example

DESCRIPTION = "MPNN on MoleculeNet FreeSolv hydration free energy (alias of esol --dataset freesolv)"


def train(argv=None) -> int:
    return load_example("esol").train(argv, name="freesolv", dataset="freesolv")


def evaluate(argv=None) -> int:
    return load_example("esol").evaluate(argv, name="freesolv", dataset="freesolv")


if __name__ == "__main__":
    raise SystemExit(train())
