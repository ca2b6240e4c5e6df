"""The chain benchmark runs end to end on a tiny configuration and explains its machine."""
import torch

from graphrnn.bench.chain import run
from graphrnn.bench.common import machine_line, time_rounds
from graphrnn.kernels import native


def test_rows_ratios_spread_and_micro_benchmarks(capsys):
    rows = run(["--quick", "--no-memory", "--cells", "LSTM", "RNN", "--repeats", "3"])
    timed = [r for r in rows if "ratio" in r]
    cells = [(r["cell"], r["path"]) for r in timed]
    compiled = native.library() is not None   # then the generic LSTM runs once without it
    assert cells == [("LSTM", "fused"), ("LSTM", "generic"), ("LSTM peephole", "generic"),
                     ("LSTM coupled", "generic"), ("LSTM no forget", "generic"),
                     *([("LSTM", "generic, PyTorch gates")] if compiled else []),
                     ("RNN", "fused"), ("RNN", "generic"),
                     *([("RNN", "generic, PyTorch gates")] if compiled else [])]
    for r in timed:
        assert abs(r["ratio"] - r["ours_ms"] / r["torch_ms"]) < 1e-9
        assert r["ratio_min"] <= r["ratio_median"] <= r["ratio_max"]
    assert all(r["vs_generic"] > 0 for r in timed if r["cell"].startswith("LSTM "))
    micro = [r for r in rows if r.get("kind") in ("product", "pointwise")]
    # each kernel lists every route it measured, and exactly one of them is marked as taken
    for what in {r["what"] for r in micro}:
        routes = [r for r in micro if r["what"] == what]
        assert len(routes) >= 2 and sum(r["chosen"] for r in routes) == 1
    out = capsys.readouterr().out
    assert machine_line() in out and "ISA " in out and "per-step kernels" in out
    assert ("compiled gate steps (LSTM, GRU, SRN): built by" if compiled
            else "compiled gate steps: unavailable") in out


def test_time_rounds_gives_one_sample_per_round_for_each_function():
    calls = []
    samples = time_rounds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                          repeats=4, warmup=1)
    assert {k: len(v) for k, v in samples.items()} == {"a": 4, "b": 4}
    assert calls.count("a") == calls.count("b") == 5


def test_machine_line_names_the_cpu_isa_and_math_libraries():
    line = machine_line()
    assert f"{torch.get_num_threads()} threads" in line
    assert f"ISA {torch.backends.cpu.get_cpu_capability()}" in line
    assert "MKL" in line or "BLAS" in line
