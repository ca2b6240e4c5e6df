import pytest
import torch

from graphrnn.datasets.base import DataNotFoundError
from graphrnn.datasets.series import (
    NarendraParthasarathy,
    SeriesCSV,
    narendra_parthasarathy,
    np_series,
    read_series_csv,
)


def test_narendra_parthasarathy_plant():
    u = torch.tensor([1.0, -0.5, 0.25, 2.0])
    y = narendra_parthasarathy(u).tolist()
    f = lambda a, b: a * b * (a + 2.5) / (1 + a * a + b * b)  # noqa: E731
    expected = [0.0, 1.0]
    expected.append(f(expected[1], expected[0]) - 0.5)
    expected.append(f(expected[2], expected[1]) + 0.25)
    assert y == pytest.approx(expected)
    data = np_series(50, "sine", delays=2)
    assert data.x.shape == data.y.shape == (50, 1) and int(data.edge_delay.max()) == 2


def test_plant_splits():
    train = NarendraParthasarathy("train", length=30, series=3, delays=4, noise=0.1)
    assert (len(train) == 3 and train.batch.num_nodes == 90
            and int(train.batch.edge_delay.max()) == 4)
    # series s is seeded with seed + s; the validation series with seed + 500
    assert torch.equal(train[1].x, np_series(30, "random", seed=1, delays=4).x)
    val = NarendraParthasarathy("val", length=30, seed=2)
    assert torch.equal(val.batch.x, np_series(30, "random", seed=502).x)
    test = NarendraParthasarathy("test", length=40)
    assert torch.allclose(test.batch.x[:, 0], torch.sin(2 * torch.pi * torch.arange(40) / 25))
    with pytest.raises(ValueError, match="split"):
        NarendraParthasarathy("dev")


def write_csv(path, rows=100):
    lines = ["t,u,y"] + [f"{t},{(t % 7) - 3},{0.5 * t}" for t in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_series_csv_splits_in_time_and_standardises_with_training_statistics(tmp_path):
    path = write_csv(tmp_path / "s.csv")
    u, y = read_series_csv(path, ["u"], ["y"])
    assert u.shape == y.shape == (100, 1) and float(y[10, 0]) == 5.0
    parts = {s: SeriesCSV(path, ["u"], ["y"], s, delays=2) for s in ("train", "val", "test")}
    assert [p.batch.num_nodes for p in parts.values()] == [70, 15, 15]
    train, test = parts["train"], parts["test"]
    assert torch.allclose(train.batch.y.mean(0), torch.zeros(1), atol=1e-5)
    assert torch.allclose(test.denormalize(test.batch.y), y[85:], atol=1e-4)
    assert torch.allclose(train.std_y, y[:70].std(0))
    assert int(test.batch.edge_delay.max()) == 2


def test_series_csv_errors_name_the_problem(tmp_path):
    path = write_csv(tmp_path / "s.csv")
    with pytest.raises(ValueError, match="no column 'v'.*'t', 'u', 'y'"):
        SeriesCSV(path, ["v"], ["y"])
    with pytest.raises(DataNotFoundError, match="missing.csv"):
        SeriesCSV(tmp_path / "missing.csv", ["u"], ["y"])
    bad = tmp_path / "bad.csv"
    bad.write_text("u,y\n1,2\n3,x\n")
    with pytest.raises(ValueError, match="line 3, column 'y': expected a number"):
        read_series_csv(bad, ["u"], ["y"])
    with pytest.raises(ValueError, match="too few"):
        SeriesCSV(write_csv(tmp_path / "short.csv", rows=12), ["u"], ["y"])
