import pytest

from graphrnn.cli import BENCHMARKS, available_examples, main


def test_list_names_every_benchmark(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in BENCHMARKS:
        assert name in out


def test_bench_chain_quick_prints_ratios(capsys):
    assert main(["bench", "chain", "--quick", "--cells", "LSTM", "--no-memory"]) == 0
    out = capsys.readouterr().out
    assert "time ratio" in out and "generic" in out and "peephole" in out


def test_bench_schedule_small(capsys):
    assert main(["bench", "schedule", "--nodes", "2000", "--repeats", "1"]) == 0
    assert "trees: levels + grouping" in capsys.readouterr().out


def test_unknown_example_names_the_known_ones():
    with pytest.raises(SystemExit, match="no example named 'nope'"):
        main(["train", "nope"])


def test_examples_have_descriptions():
    for name, description in available_examples().items():
        assert description, f"examples/{name}.py has no DESCRIPTION line"


def test_bench_without_a_suite_lists_the_suites(capsys):
    assert main(["bench", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in BENCHMARKS)
    assert main(["bench"]) == 2
