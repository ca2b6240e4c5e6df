import torch

from graphrnn.plots.gradient_flow import plot_gradient_flow, plot_sweep
from graphrnn.plots.series import plot_series


def test_figures_are_written(tmp_path):
    curves = {c: torch.rand(7) for c in ("SRN", "LSTM")}
    plot_gradient_flow(curves, tmp_path / "flow.png")
    plot_gradient_flow({}, tmp_path / "panels.png", panels={"a": curves, "b": curves})
    rows = [{"cell": "srn", "T": t, "test_acc": a, "skipped": s}
            for t, a, s in ((10, 0.9, False), (20, 0.3, False), (40, float("nan"), True))]
    plot_sweep(rows, tmp_path / "sweep.png", 0.9, 0.25)
    plot_series({"plant": torch.randn(50), "model": torch.randn(50, 1)}, tmp_path / "s.png", "t")
    for name in ("flow.png", "panels.png", "sweep.png", "s.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / name).stat().st_size > 1000
