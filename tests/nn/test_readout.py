"""Tests of graphrnn.nn.readout: per-graph values, permutation invariance, PyG equality,
gradcheck."""
import pytest
import torch
from torch import nn
from torch_geometric.nn.aggr import AttentionalAggregation
from torch_geometric.nn.aggr import Set2Set as PyGSet2Set

from graphrnn.nn.readout import AttentionReadout, MeanReadout, Set2Set, SumReadout, readout

torch.set_num_threads(1)

BATCH = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])


def nodes(f=3, dtype=torch.float, seed=0):
    return torch.randn(BATCH.numel(), f, generator=torch.Generator().manual_seed(seed),
                       dtype=dtype)


def shuffled(x, batch, seed=1):
    perm = torch.randperm(x.size(0), generator=torch.Generator().manual_seed(seed))
    return x[perm], batch[perm]


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_plain_readouts_per_graph(reduce):
    x = nodes()
    out = readout(x, BATCH, reduce)
    for g in range(3):
        rows = x[BATCH == g]
        ref = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0).values}[reduce]
        torch.testing.assert_close(out[g], ref)
    torch.testing.assert_close(readout(*shuffled(x, BATCH), reduce), out)


def test_modules_and_empty_trailing_graph():
    x = nodes()
    torch.testing.assert_close(SumReadout()(x, BATCH), readout(x, BATCH, "sum"))
    out = MeanReadout()(x, BATCH, num_graphs=4)
    assert out.shape == (4, 3) and out[3].abs().sum() == 0
    torch.testing.assert_close(SumReadout()(x), x.sum(0, keepdim=True))


def test_softmax_attention_equals_pyg():
    torch.manual_seed(2)
    x = nodes(4)
    ours = AttentionReadout(4, 5)
    theirs = AttentionalAggregation(ours.gate_nn, ours.nn)
    torch.testing.assert_close(ours(x, BATCH), theirs(x, BATCH), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ours(*shuffled(x, BATCH)), ours(x, BATCH), atol=1e-6, rtol=1e-5)


def test_sigmoid_attention_is_ggnn_readout():
    torch.manual_seed(3)
    x = nodes(4)
    ours = AttentionReadout(4, 2, gate="sigmoid", gate_nn=nn.Linear(4, 2))
    ref = torch.stack([(torch.sigmoid(ours.gate_nn(x[BATCH == g])) * ours.nn(x[BATCH == g])).sum(0)
                       for g in range(3)])
    torch.testing.assert_close(ours(x, BATCH), ref)


def test_set2set_equals_pyg_and_is_invariant():
    torch.manual_seed(4)
    x = nodes(3)
    ours = Set2Set(3, processing_steps=3)
    theirs = PyGSet2Set(3, processing_steps=3)
    theirs.lstm.load_state_dict(ours.lstm.state_dict())
    out = ours(x, BATCH)
    assert out.shape == (3, 6)
    torch.testing.assert_close(out, theirs(x, BATCH), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(ours(*shuffled(x, BATCH)), out, atol=1e-6, rtol=1e-5)


def test_gradcheck_float64():
    torch.manual_seed(5)
    x = nodes(3, torch.double).requires_grad_()
    att = AttentionReadout(3, 2).double()
    s2s = Set2Set(3, processing_steps=2).double()
    assert torch.autograd.gradcheck(lambda a: att(a, BATCH), (x,))
    assert torch.autograd.gradcheck(lambda a: s2s(a, BATCH), (x,))


def test_errors():
    with pytest.raises(ValueError, match="reduce='min'"):
        readout(nodes(), BATCH, "min")
    with pytest.raises(ValueError, match=r"batch must have shape \[N\] = \[9\]"):
        readout(nodes(), BATCH[:3])
    with pytest.raises(ValueError, match="gate='relu'"):
        AttentionReadout(3, gate="relu")
