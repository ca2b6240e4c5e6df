"""The tree benchmark runs end to end on a few hand-written SST-format trees."""
from graphrnn.bench.tree import run

TREES = ["(3 (2 It) (4 (2 's) (4 good)))",
         "(1 (2 (2 not) (2 so)) (1 bad))",
         "(2 (2 A) (2 (2 plain) (2 film)))",
         "(4 (3 (3 very) (4 fun)) (2 .))"]


def test_rows_for_every_batch_size_and_speedup_is_the_rate_ratio(tmp_path, capsys):
    (tmp_path / "train.txt").write_text("\n".join(TREES) + "\n")
    rows = run(["--root", str(tmp_path), "--batch-sizes", "1", "4", "--trees", "4",
                "--repeats", "1", "--input-size", "6", "--hidden-size", "5", "--no-memory"])
    assert [r["batch"] for r in rows] == [1, 4]
    for r in rows:
        assert r["schedule_trees_per_s"] > 0 and r["recursion_trees_per_s"] > 0
        assert abs(r["speedup"] - r["schedule_trees_per_s"] / r["recursion_trees_per_s"]) < 1e-9
    out = capsys.readouterr().out
    assert "on 4 SST train trees" in out and "fastest of 1 interleaved rounds" in out
