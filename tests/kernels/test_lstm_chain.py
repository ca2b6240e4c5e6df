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
def test_kernel_equals_autograd_loop_and_passes_gradcheck(kwargs, reverse, batch_sizes):
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
    # float32, where the oneDNN path runs; both tanh routes (the measured choice) forced in turn
    import graphrnn.kernels.lstm_chain as module
    monkeypatch.setattr(module, "tanh_through_sigmoid", lambda *args: tanh_choice)
    kernel_matches_loop(run_lstm_chain, LSTMCell(5, 8, **kwargs), batch_sizes)


@pytest.mark.parametrize("kwargs", [{}, {"peephole": True}, {"coupled": True}])
@pytest.mark.parametrize("batch_sizes", [[3, 3, 2], [2, 2, 2]])
def test_a_frozen_weight_leaves_the_other_gradients_right(kwargs, batch_sizes,
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


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("batch_sizes", [[3, 3, 3, 3], [4, 3, 3, 1]])
@pytest.mark.parametrize("copy_bytes, products_made", [(None, 1), (560, 3), (1, None)])
def test_weight_gradients_side_by_side_in_blocks(reverse, batch_sizes, copy_bytes,
                                                 products_made, monkeypatch):
    # d.T @ [x | h_prev] with every row's predecessor state, in one block, in blocks of 4 rows
    # (560 bytes: 240 for the result and its copy, 64 a row for the copies; a gathered block
    # per product), and with no room for blocks (two separate products of the views)
    from graphrnn.kernels import lstm_chain, products
    monkeypatch.setattr(products, "MIN_WEIGHT_GRAD_BLOCK", 4)
    calls = []
    monkeypatch.setattr(lstm_chain, "weight_grad",
                        lambda *args: calls.append(1) or products.weight_grad(*args))
    torch.manual_seed(0)
    N, B = sum(batch_sizes), batch_sizes[0]
    d, x = torch.randn(N, 6), torch.randn(N, 2)
    h0, h_all = torch.randn(B, 3), torch.randn(N, 3)
    rows = lstm_chain._predecessor_rows(batch_sizes, reverse, "cpu")
    h_prev = torch.cat([h0, h_all])[rows]
    got = lstm_chain.grads_by_input_and_previous(d, x, h0, h_all, batch_sizes, reverse,
                                                 "test.inputs", copy_bytes)
    torch.testing.assert_close(got, d.t() @ torch.cat([x, h_prev], 1))
    # separately: x's product and one per block of predecessor states (two with equal lengths)
    assert len(calls) == (products_made if copy_bytes != 1 else
                          1 + len(lstm_chain._previous_blocks(h0, h_all, batch_sizes, reverse)))
