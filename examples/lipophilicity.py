"""MPNN on MoleculeNet's Lipophilicity logD: an alias of examples/esol.py with ``--dataset lipophilicity``
(same options: ``--split random|scaffold``, ``--seed``, ...)."""
from graphrnn.cli import load_example

DESCRIPTION = "MPNN on MoleculeNet Lipophilicity logD (alias of esol --dataset lipophilicity)"


def train(argv=None) -> int:
    return load_example("esol").train(argv, name="lipophilicity", dataset="lipophilicity")


def evaluate(argv=None) -> int:
    return load_example("esol").evaluate(argv, name="lipophilicity", dataset="lipophilicity")


if __name__ == "__main__":
    raise SystemExit(train())
