"""Morgan fingerprints: shape, what the bits count, and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from graphrnn.structures.descriptors import InvalidSmilesError
from graphrnn.structures.fingerprints import morgan_fingerprint, morgan_fingerprints


def test_bits_are_the_circular_environments():
    ethanol = morgan_fingerprint("CCO")
    assert ethanol.shape == (1, 2048) and ethanol.dtype == torch.float32
    assert set(ethanol.unique().tolist()) == {0.0, 1.0}
    assert morgan_fingerprint("CCO", radius=0).sum() == 3          # C(H3), C(H2), O(H)
    # counts: the six CH environments of benzene hash to the same bits, so they count 6
    benzene = morgan_fingerprint("c1ccccc1", counts=True)
    assert benzene.max() == 6 and morgan_fingerprint("c1ccccc1").max() == 1


def test_many_molecules_stack_and_match_one_by_one():
    smiles = ["CCO", "c1ccccc1O", "CC(=O)N"]
    x = morgan_fingerprints(smiles, n_bits=512)
    assert isinstance(x, np.ndarray) and x.shape == (3, 512)
    for row, s in zip(x, smiles):
        np.testing.assert_array_equal(row, morgan_fingerprint(s, n_bits=512).numpy()[0])
    assert not np.array_equal(x[0], x[1])


def test_errors_name_the_input():
    with pytest.raises(InvalidSmilesError, match="C1CC"):
        morgan_fingerprints(["CCO", "C1CC("])
    with pytest.raises(TypeError, match="one str"):
        morgan_fingerprints("CCO")
    with pytest.raises(ValueError, match="n_bits"):
        morgan_fingerprint("CCO", n_bits=0)
