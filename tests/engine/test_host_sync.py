"""No host synchronisation inside a level loop, on any engine path.

On a GPU, ``.item()``, ``.tolist()``, ``int(t)``, ``bool(t)``, ``nonzero``, ``unique`` or a boolean
mask index each wait for the device: one per level (or per step, or per round) would serialise
the loop. Here every call that would sync is counted on CPU tensors while a model runs forward
and backward, with the schedule built beforehand (once per batch, as the data pipeline or the
cache on the batch does); a path is sync-free inside its loop when the count does not grow with
the number of levels, steps or rounds.
"""
import pytest
import torch
from torch.utils._pytree import tree_flatten
from torch_geometric.data import Batch, Data

from graphrnn import nn as gnn
from graphrnn.schedule import schedule_of
from graphrnn.structures import chain_graph

TENSOR_METHODS = ("item", "tolist", "__int__", "__bool__", "__float__", "__index__", "nonzero",
                  "unique", "masked_select", "cpu", "numpy", "repeat_interleave")
TORCH_FUNCTIONS = ("nonzero", "unique", "masked_select", "repeat_interleave", "equal",
                   "allclose")


class SyncCounter:
    """Counts, by name, the tensor calls that copy device memory to the host, in forward and in
    backward (the autograd engine runs custom backwards outside any ``TorchFunctionMode``, so the
    methods and functions themselves are wrapped while the counter is active)."""

    def __init__(self):
        self.calls: list[str] = []
        self._saved: list[tuple[object, str, object]] = []

    def _replace(self, owner, name: str, new) -> None:
        # remember whether the name was the owner's own or inherited, to restore exactly
        self._saved.append((owner, name, owner.__dict__.get(name)))
        setattr(owner, name, new)

    def _wrap(self, owner, name: str, label: str):
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            self.calls.append(label)
            return original(*args, **kwargs)
        self._replace(owner, name, counted)

    def __enter__(self):
        for name in TENSOR_METHODS:
            self._wrap(torch.Tensor, name, name)
        for name in TORCH_FUNCTIONS:
            self._wrap(torch, name, f"torch.{name}")
        for name in ("__getitem__", "__setitem__"):
            original = getattr(torch.Tensor, name)

            def indexed(t, index, *rest, _original=original, _name=name):
                if any(isinstance(i, torch.Tensor) and i.dtype == torch.bool
                       for i in tree_flatten(index)[0]):
                    self.calls.append(f"{_name}[bool]")
                return _original(t, index, *rest)
            self._replace(torch.Tensor, name, indexed)
        return self

    def __exit__(self, *exc):
        for owner, name, own in reversed(self._saved):
            if own is None:
                delattr(owner, name)
            else:
                setattr(owner, name, own)
        self._saved.clear()


def syncs(run) -> list[str]:
    run()                                    # first call: one-time choices and caches
    with SyncCounter() as counter:
        run()
    return counter.calls


def fwd_bwd(module, *inputs):
    def run():
        module.zero_grad()
        out = module(*inputs)
        out = out[0] if isinstance(out, tuple) else out
        out = out.data if hasattr(out, "batch_sizes") else out
        out.square().sum().backward()
    return run


class _SyncsInBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        grad.sum().item()
        return grad * 2


def test_the_counter_sees_what_syncs_in_forward_and_backward():
    t = torch.tensor([1, 2, 3])
    with SyncCounter() as counter:
        t.sum().item()
        int(t[0])
        t[t > 1]
        t.tolist()
        torch.equal(t, t)
    assert counter.calls == ["item", "__int__", "__getitem__[bool]", "tolist", "torch.equal"]
    x = torch.randn(3, requires_grad=True)
    with SyncCounter() as counter:
        _SyncsInBackward.apply(x).sum().backward()
    assert counter.calls == ["item"]
    # restored exactly: inherited methods are inherited again
    assert "item" not in torch.Tensor.__dict__ and "__getitem__" not in torch.Tensor.__dict__


@pytest.mark.parametrize("mode,kwargs", [("LSTM", {}), ("LSTM", {"peephole": True}),
                                         ("LSTM", {"coupled": True}), ("GRU", {}),
                                         ("GRU", {"reset_after": False}), ("RNN", {}),
                                         ("LSTM", {"proj_size": 3})])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_chains_padded_and_packed_sync_a_fixed_number_of_times(mode, kwargs, bidirectional):
    torch.manual_seed(0)
    module = getattr(gnn, mode)(4, 6, num_layers=2, bidirectional=bidirectional,
                                engine="generic", **kwargs)
    counts = []
    for steps in (3, 12):
        padded = torch.randn(steps, 3, 4)
        packed = torch.nn.utils.rnn.pack_padded_sequence(torch.randn(steps, 3, 4),
                                                         [steps, steps - 1, 2])
        counts.append((len(syncs(fwd_bwd(module, padded))), len(syncs(fwd_bwd(module, packed)))))
    assert counts[0] == counts[1], f"host syncs grow with the chain length: {counts}"


def test_chain_graph_batches_sync_a_fixed_number_of_times():
    torch.manual_seed(0)
    module = gnn.LSTM(4, 6, engine="generic")
    counts = []
    for length in (3, 12):
        batch = Batch.from_data_list([chain_graph(torch.randn(n, 4)) for n in (length, 2, 5)])
        counts.append(len(syncs(fwd_bwd(module, batch))))
    assert counts[0] == counts[1], counts


def _comb(depth: int) -> Data:
    """A left-branching binary tree with ``depth`` internal nodes 0..depth-1 (edges child ->
    parent): node k has children k + 1 (node ``depth`` is the deepest leaf) and leaf
    ``depth + 1 + k``; ``depth + 1`` levels in all."""
    src, dst = [], []
    for k in range(depth):
        src += [k + 1, depth + 1 + k]
        dst += [k, k]
    return Data(edge_index=torch.tensor([src, dst]), num_nodes=2 * depth + 1)


@pytest.mark.parametrize("tree_module", [
    lambda: gnn.TreeLSTM(4, 5, variant="nary", arity=2),        # the fused level kernel
    lambda: gnn.TreeLSTM(4, 5, variant="child_sum"),            # propagate's generic loop
    lambda: gnn.TreeGRU(4, 5),
    lambda: gnn.RecursiveNet(4, 5, arity=2)])
def test_tree_levels_sync_a_fixed_number_of_times(tree_module):
    torch.manual_seed(0)
    module = tree_module()
    counts = []
    for depth in (2, 9):
        batch = Batch.from_data_list([_comb(depth), _comb(3)])
        schedule_of(batch)                        # built once per batch, before the loop
        x = torch.randn(batch.num_nodes, 4)
        counts.append(len(syncs(fwd_bwd(module, batch, x))))
    assert counts[0] == counts[1], f"host syncs grow with the number of levels: {counts}"


@pytest.mark.parametrize("make", [
    lambda steps: gnn.GatedMessagePassing(3, 5, num_steps=steps),
    lambda steps: gnn.GatedMessagePassing(3, 5, num_steps=steps, cell="lstm"),
    lambda steps: gnn.DirectedMessagePassing(3, 2, 5, num_steps=steps)])
def test_message_passing_rounds_sync_a_fixed_number_of_times(make):
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 2, 3, 1, 2], [1, 2, 3, 0, 3, 1]])
    x, edge_attr = torch.randn(4, 3), torch.randn(6, 2)
    counts = []
    for steps in (2, 7):
        module = make(steps)
        inputs = (x, edge_index, edge_attr) if isinstance(module, gnn.DirectedMessagePassing) \
            else (x, edge_index)
        counts.append(len(syncs(fwd_bwd(module, *inputs))))
    assert counts[0] == counts[1], f"host syncs grow with the number of rounds: {counts}"
