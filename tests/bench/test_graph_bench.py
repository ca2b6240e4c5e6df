"""Smoke run of the GN-block vs MetaLayer benchmark on tiny inputs."""
import torch

from graphrnn.bench.graph import build, fully_connected_batch, run


def test_benchmark_runs_and_reports_both(capsys):
    rows = run(["--repeats", "1", "--batch", "4", "--particles", "3", "4", "--features", "8",
                "--hidden", "8", "--threads", "1"])
    assert [r["particles"] for r in rows] == [3, 4]
    assert rows[0]["edges"] == 4 * 6 and rows[1]["nodes"] == 16
    assert all(r["ours_ms"] > 0 and r["metalayer_ms"] > 0 for r in rows)
    out = capsys.readouterr().out
    assert "MetaLayer ms" in out and "ratio" in out


def test_compared_models_compute_the_same_function():
    ours, theirs = build(6, 8)
    inputs = fully_connected_batch(3, 4, 6, 6, 6)
    for a, b in zip(ours(*inputs), theirs(*inputs)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
