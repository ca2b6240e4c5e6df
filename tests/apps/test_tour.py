from graphrnn.apps.tour import run


def test_quick_tour_prints_a_row_per_family_and_writes_plots(tmp_path, capsys):
    assert run(["--quick", "--out", str(tmp_path), "--threads", "1"]) == 0
    out = capsys.readouterr().out
    for family in ("chains", "trees", "molecules", "particles"):
        assert f"\n{family}" in out or f" {family} " in out
    for plot in ("addition/curves.png", "trees/curves.png", "tpsa/curves.png",
                 "nbody/trajectories_n5.png"):
        assert (tmp_path / plot).stat().st_size > 1000
