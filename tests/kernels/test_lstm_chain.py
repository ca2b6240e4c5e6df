"""The LSTM chain kernel (hand-written backward) against the autograd engine loop."""
import pytest
import torch

from graphrnn.cells import LSTMCell
from graphrnn.engine import run_chain
from graphrnn.kernels.lstm_chain import run_lstm_chain

VARIANTS = [{}, {"peephole": True}, {"coupled": True}, {"forget_gate": False},
            {"coupled": True, "peephole": True}, {"forget_gate": False, "peephole": True}]


@pytest.mark.parametrize("kwargs", VARIANTS)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("batch_sizes", [[4, 3, 3, 1], [2, 2, 2], [1]])
def test_kernel_equals_autograd_loop_and_passes_gradcheck(kwargs, reverse, batch_sizes,
                                                          gate_path):
    torch.manual_seed(0)
    cell = LSTMCell(3, 4, **kwargs).double()
    B = batch_sizes[0]
    x = torch.randn(sum(batch_sizes), 3, dtype=torch.double, requires_grad=True)
    h0 = torch.randn(B, 4, dtype=torch.double, requires_grad=True)
    c0 = torch.randn(B, 4, dtype=torch.double, requires_grad=True)
    want = run_chain(cell.step, cell.project(x), batch_sizes, (h0, c0), reverse=reverse)
    got = run_lstm_chain(cell, x, batch_sizes, (h0, c0), reverse=reverse)
    torch.testing.assert_close(got[0], want[0])
    for a, b in zip(got[1], want[1]):
        torch.testing.assert_close(a, b)
    w = torch.randn_like(want[0])
    params = [x, h0, c0, *cell.parameters()]
    loss = lambda out: (out[0] * w).sum() + 2 * out[1][0].sum() + 3 * out[1][1].sum()  # noqa: E731
    for a, b in zip(torch.autograd.grad(loss(got), params),
                    torch.autograd.grad(loss(want), params)):
        torch.testing.assert_close(a, b)

    def run(x, h0, c0, *_):
        out, (h, c) = run_lstm_chain(cell, x, batch_sizes, (h0, c0), reverse=reverse)
        return out, h, c

    assert torch.autograd.gradcheck(run, (x, h0, c0, *cell.parameters()))


def test_projection_is_refused():
    cell = LSTMCell(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size"):
        run_lstm_chain(cell, torch.randn(2, 3), [1, 1], (torch.zeros(1, 2), torch.zeros(1, 4)))


@pytest.mark.parametrize("kwargs", [{}, {"peephole": True}, {"coupled": True},
                                    {"forget_gate": False, "peephole": True},
                                    {"coupled": True, "peephole": True}])
@pytest.mark.parametrize("tanh_choice", [(False, False), (True, True), (True, False)])
@pytest.mark.parametrize("batch_sizes", [[6, 6, 4, 1], [3, 3, 3]])   # ragged; equal lengths
def test_every_product_path_and_tanh_choice_gives_the_loop_numbers(product_path, tanh_choice,
                                                                   kwargs, batch_sizes,
                                                                   monkeypatch,
                                                                   kernel_matches_loop):
    # float32, where the oneDNN path runs; both tanh routes (the measured choice) forced in turn,
    # on the PyTorch gate path (the compiled step computes tanh as such)
    import graphrnn.kernels.lstm_chain as module
    monkeypatch.setattr(module, "lstm_gates", lambda *args: None)
    monkeypatch.setattr(module, "tanh_through_sigmoid", lambda *args: tanh_choice)
    kernel_matches_loop(run_lstm_chain, LSTMCell(5, 8, **kwargs), batch_sizes)


@pytest.mark.parametrize("kwargs", [{}, {"peephole": True}, {"coupled": True}])
@pytest.mark.parametrize("batch_sizes", [[3, 3, 2], [2, 2, 2]])
def test_a_frozen_weight_leaves_the_other_gradients_right(kwargs, batch_sizes, gate_path,
                                                          frozen_weights_keep_gradients):
    frozen_weights_keep_gradients(run_lstm_chain, LSTMCell(3, 4, **kwargs).double(), batch_sizes)


def test_both_biases_get_the_gradient_in_torch_gate_order_as_separate_tensors():
    torch.manual_seed(0)
    cell = LSTMCell(3, 4).double()
    x = torch.randn(6, 3, dtype=torch.double)
    state = (torch.zeros(2, 4, dtype=torch.double), torch.zeros(2, 4, dtype=torch.double))
    run_lstm_chain(cell, x, [2, 2, 2], state)[0].square().sum().backward()
    want = torch.autograd.grad(run_chain(cell.step, cell.project(x), [2, 2, 2], state)[0]
                               .square().sum(), cell.bias_ih)[0]
    torch.testing.assert_close(cell.bias_ih.grad, want)
    torch.testing.assert_close(cell.bias_hh.grad, want)
    assert cell.bias_ih.grad.data_ptr() != cell.bias_hh.grad.data_ptr()


@pytest.mark.parametrize("kwargs", [{}, {"peephole": True}, {"coupled": True},
                                    {"forget_gate": False, "peephole": True},
                                    {"coupled": True, "peephole": True}])
@pytest.mark.parametrize("batch_sizes", [[6, 6, 4, 1], [3, 3, 3]])
def test_compiled_gates_give_the_loop_numbers_in_float32(kwargs, batch_sizes, gate_path,
                                                         kernel_matches_loop):
    kernel_matches_loop(run_lstm_chain, LSTMCell(5, 8, **kwargs), batch_sizes)
