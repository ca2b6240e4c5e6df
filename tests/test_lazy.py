"""Package-level exports of models, tasks and plots: every name resolves, and reading one imports
only its own module."""
from __future__ import annotations

import subprocess
import sys

import pytest

import graphrnn.datasets
import graphrnn.models
import graphrnn.plots
import graphrnn.tasks


@pytest.mark.parametrize("package", [graphrnn.models, graphrnn.tasks, graphrnn.plots,
                                     graphrnn.datasets])
def test_every_export_resolves(package):
    assert package.__all__ and dir(package) == sorted(package.__all__)
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        package.nope  # noqa: B018


def test_reading_one_model_imports_only_its_module():
    code = ("import sys, graphrnn.models as m\nm.AdditionRNN\n"
            "print('graphrnn.models.molecule' in sys.modules, 'rdkit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
