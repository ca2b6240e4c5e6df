"""torch.nn's cells read as graphrnn cells (as_cell): torch's numbers, the module's own
parameters read live, and graph-network blocks that keep working when copied or changed."""
import copy
import pickle

import pytest
import torch
from torch import nn

from graphrnn.cells import GRUCell, as_cell
from graphrnn.nn import GraphNetwork


@pytest.mark.parametrize("make", [lambda: nn.GRUCell(3, 4), lambda: nn.LSTMCell(3, 4),
                                  lambda: nn.RNNCell(3, 4, nonlinearity="relu"),
                                  lambda: nn.GRUCell(3, 4, bias=False)])
def test_torch_cells_step_as_torch_does(make):
    torch.manual_seed(0)
    module = make().double()
    cell = as_cell(module)
    x = torch.randn(5, 3, dtype=torch.float64)
    state = tuple(torch.randn(5, 4, dtype=torch.float64) for _ in cell.state_sizes)
    want = module(x, state if len(state) > 1 else state[0])
    want = want if isinstance(want, tuple) else (want,)
    got = cell.step(cell.project(x), state)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)
    weight, bias = cell.input_linear()
    torch.testing.assert_close(x @ weight.t() + (0 if bias is None else bias), cell.project(x))


def test_graphrnn_cells_pass_through_and_other_modules_are_not_cells():
    cell = GRUCell(3, 4)
    assert as_cell(cell) is cell
    assert as_cell(nn.Linear(3, 4)) is None and as_cell(None) is None


def test_parameters_are_read_from_the_module_at_every_call():
    module = nn.GRUCell(2, 3)
    cell = as_cell(module)
    module.weight_ih = nn.Parameter(torch.zeros(9, 2))       # reassigned, not copied into
    assert cell.project(torch.ones(1, 2)).abs().sum() == module.bias_ih.abs().sum()


def test_graph_network_updates_follow_reassignment_copy_and_pickle():
    torch.manual_seed(1)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    ea = torch.randn(4, 5)
    block = GraphNetwork(nn.Linear(3 + 3 + 5, 5), use_globals=False)
    assert not block._updates["edge_model"].recurrent
    block.edge_model = nn.GRUCell(6, 5)                      # the way to apply it is chosen anew
    assert block._updates["edge_model"].recurrent
    out = block(x, ei, ea)[1]
    for twin in (copy.deepcopy(block), pickle.loads(pickle.dumps(block))):
        torch.testing.assert_close(twin(x, ei, ea)[1], out)
        with torch.no_grad():
            twin.edge_model.weight_hh.zero_()                # the copy reads its own module
        assert not torch.allclose(twin(x, ei, ea)[1], out)
    torch.testing.assert_close(block(x, ei, ea)[1], out)
