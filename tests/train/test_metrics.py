import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from graphrnn.train.metrics import MetricAverager, batch_size_of, call_step, evaluate, move_to


def test_evaluate_weights_batches_by_size():
    # batches of 3 and 1: the mean over samples is 1.5, the mean of batch means would be 2.0
    x = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    loader = DataLoader(TensorDataset(x), batch_size=3)
    out = evaluate(torch.nn.Identity(), loader, lambda m, b: (m(b[0]).mean(), {"max": b[0].max()}))
    assert out["loss"] == pytest.approx(1.5)
    assert out["max"] == pytest.approx((2.0 * 3 + 3.0 * 1) / 4)


def test_evaluate_counts_pyg_graphs_not_nodes():
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader as PygLoader

    # graph i has i+1 nodes and label i; per-graph mean label over 3 graphs is 1.0
    graphs = [Data(x=torch.ones(i + 1, 1), y=torch.tensor([float(i)])) for i in range(3)]
    loader = PygLoader(graphs, batch_size=2)
    seen = []

    def step(model, batch):
        seen.append(batch_size_of(batch))
        return batch.y.mean()

    assert evaluate(torch.nn.Linear(1, 1), loader, step)["loss"] == pytest.approx(1.0)
    assert seen == [2, 1]


def test_evaluate_is_eval_mode_without_grad_and_restores_mode():
    model = torch.nn.Dropout(0.5)
    model.train()
    modes = []

    def step(m, b):
        modes.append((m.training, torch.is_grad_enabled()))
        return m(b[0]).sum()

    evaluate(model, [(torch.ones(2),)], step)
    assert modes == [(False, False)] and model.training
    model.eval()
    evaluate(model, [(torch.ones(2),)], step)
    assert not model.training


def test_evaluate_empty_loader_is_an_error():
    with pytest.raises(ValueError, match="no batches"):
        evaluate(torch.nn.Identity(), [], lambda m, b: b.sum())


def test_batch_size_of_shapes():
    assert batch_size_of(torch.zeros(5, 2)) == 5
    assert batch_size_of((torch.zeros(4, 1), torch.zeros(4))) == 4
    assert batch_size_of({"x": torch.zeros(6, 3)}) == 6
    with pytest.raises(TypeError, match="batch size of a str"):
        batch_size_of("abc")


def test_call_step_checks_its_result():
    m = torch.nn.Identity()
    loss, metrics = call_step(lambda m, b: torch.tensor(2.0), m, None)
    assert loss.item() == 2.0 and metrics == {}
    with pytest.raises(TypeError, match=r"shape \(3,\)"):
        call_step(lambda m, b: torch.zeros(3), m, None)
    with pytest.raises(TypeError, match="metrics a dict, got list"):
        call_step(lambda m, b: (torch.tensor(1.0), [1]), m, None)
    with pytest.raises(TypeError, match="got tuple of length 3"):
        call_step(lambda m, b: (torch.tensor(1.0), {}, 3), m, None)
    with pytest.raises(ValueError, match="must not contain 'loss'"):
        call_step(lambda m, b: (torch.tensor(1.0), {"loss": 1.0}), m, None)


def test_metric_averager_and_move_to():
    avg = MetricAverager()
    avg.update({"a": 1.0}, 1)
    avg.update({"a": torch.tensor(4.0)}, 3)
    assert avg.compute() == {"a": pytest.approx(13 / 4)}
    assert avg.all_reduce().compute() == {"a": pytest.approx(13 / 4)}  # one process: unchanged
    with pytest.raises(ValueError, match="positive"):
        avg.update({"a": 1.0}, 0)
    with pytest.raises(ValueError, match=r"metric 'acc' has shape \(2,\)"):
        avg.update({"acc": torch.ones(2)}, 2)
    moved = move_to({"x": [torch.zeros(1, dtype=torch.float64)], "n": 3}, torch.device("cpu"))
    assert moved["n"] == 3 and moved["x"][0].device.type == "cpu"
