"""Smoke run of ``graphrnn bench lm`` (graphrnn's language model against plain torch.nn)."""
import torch

from graphrnn.bench.lm import build, run
from graphrnn.cli import main


def test_benchmark_runs_and_reports_the_ratio(capsys):
    r = run(["--quick", "--threads", "1"])
    assert r["ours_tok_s"] > 0 and r["torch_tok_s"] > 0
    assert abs(r["ratio"] - r["ours_tok_s"] / r["torch_tok_s"]) < 1e-9
    out = capsys.readouterr().out
    assert "graphrnn tok/s" in out and "torch.nn tok/s" in out and "ratio" in out
    assert main(["bench", "lm", "--quick", "--threads", "1"]) == 0


def test_compared_models_compute_the_same_function():
    ours, plain = build(50, 8, 12, 2)
    x = torch.randint(0, 50, (3, 7))
    torch.testing.assert_close(ours(x)[0], plain(x)[0])
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in plain.parameters())
