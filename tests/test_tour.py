from graphrnn.tour import ROWS, run


def test_quick_tour_prints_a_row_per_family(tmp_path, capsys):
    assert run(["--quick", "--out", str(tmp_path), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    for family in ROWS:
        assert family in out
    assert (tmp_path / "trees" / "curves.png").exists()
