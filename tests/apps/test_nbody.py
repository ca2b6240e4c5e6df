"""``graphrnn train|evaluate nbody`` through the registry, on a --quick run of 1 epoch."""
from __future__ import annotations

import json

from graphrnn import apps


def test_train_rolls_out_on_5_and_10_particles_and_evaluate_rebuilds_the_model(tmp_path):
    out, root = tmp_path / "run", tmp_path / "data"
    results = apps.call("nbody", "train", ["--quick", "--epochs", "1", "--threads", "1",
                                           "--root", str(root), "--out", str(out)])
    assert {"n5", "n10"} <= set(results)
    for n in ("n5", "n10"):
        assert set(results[n]) == {"mse@1", "baseline_mse@1", "ratio@1"}   # quick: 5 frames
        assert results[n]["ratio@1"] == results[n]["baseline_mse@1"] / results[n]["mse@1"]
    for n in (5, 10):
        assert (out / f"trajectories_n{n}.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "results.json").read_text())["n5"] == results["n5"]
    assert any(root.glob("nbody/springs_n5_s40_*.pt"))          # the simulation cache
    again = apps.call("nbody", "evaluate", ["--out", str(out)])
    assert again["n5"] == results["n5"] and again["n10"] == results["n10"]
