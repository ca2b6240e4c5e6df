"""The ``graphrnn`` command: the registry, help without heavy imports, one-line errors."""
from __future__ import annotations

import subprocess
import sys

import pytest

from graphrnn import apps
from graphrnn.cli import ACTIONS, BENCHMARKS, main


def test_list_names_every_application_and_benchmark(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in [*BENCHMARKS, *apps.APPS]:
        assert f"  {name} " in out


def test_every_registered_application_offers_train_with_a_config():
    for name in apps.APPS:
        commands = apps.commands(name)
        assert "train" in commands, name
        for action, (_, fn) in commands.items():
            assert action in ACTIONS and callable(fn), (name, action)
            if action != "predict":  # predict needs its input file; the others run on defaults
                apps.parse(name, action, [])  # defaults (and presets) pass their own checks


def test_help_imports_no_torch():
    code = ("import sys\nfrom graphrnn.cli import main\n"
            "for name in %r:\n"
            "    try:\n        main(['train', name, '--help'])\n"
            "    except SystemExit:\n        pass\n"
            "print('torch' in sys.modules, 'rdkit' in sys.modules)") % (list(apps.APPS),)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_unknown_application_names_the_known_ones():
    with pytest.raises(SystemExit, match="no application named 'nope'; known: addition"):
        main(["train", "nope"])


def test_aliases_resolve():
    assert apps.resolve_name("sst_sentiment") == "sst"
    assert apps.resolve_name("chunking") == "conll_chunking"


def test_a_failure_is_one_line_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GRAPHRNN_DEBUG", raising=False)
    bad = tmp_path / "best.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["evaluate", "addition", "--checkpoint", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "graphrnn evaluate addition: error:" in err and str(bad) in err
    assert "Traceback" not in err


def test_bench_chain_quick_prints_ratios(capsys):
    assert main(["bench", "chain", "--quick", "--cells", "LSTM", "--no-memory"]) == 0
    out = capsys.readouterr().out
    assert "time ratio" in out and "generic" in out and "peephole" in out


def test_bench_schedule_small(capsys):
    assert main(["bench", "schedule", "--nodes", "2000", "--repeats", "1"]) == 0
    assert "trees: levels + grouping" in capsys.readouterr().out


def test_bench_without_a_suite_lists_the_suites(capsys):
    assert main(["bench", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in BENCHMARKS)
    assert main(["bench"]) == 2
