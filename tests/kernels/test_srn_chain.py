"""The Elman SRN chain kernel (hand-written backward, tanh and relu) against the autograd engine
loop and ``torch.nn.RNN``."""
import pytest
import torch
from torch.nn.utils.rnn import pack_sequence

from graphrnn.cells import SRNCell
from graphrnn.engine import run_cell_chain, run_chain
from graphrnn.kernels.srn_chain import run_srn_chain


def grads(out, weight, params):
    loss = (out[0] * weight).sum() + 2 * out[1][0].sum()
    return torch.autograd.grad(loss, params)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("batch_sizes", [[4, 3, 3, 1], [2, 2, 2], [1]])
def test_kernel_equals_autograd_loop(nonlinearity, bias, reverse, batch_sizes, gate_path):
    torch.manual_seed(0)
    cell = SRNCell(3, 4, bias=bias, nonlinearity=nonlinearity).double()
    x = torch.randn(sum(batch_sizes), 3, dtype=torch.double, requires_grad=True)
    h0 = torch.randn(batch_sizes[0], 4, dtype=torch.double, requires_grad=True)
    want = run_chain(cell.step, cell.project(x), batch_sizes, (h0,), reverse=reverse)
    got = run_srn_chain(cell, x, batch_sizes, (h0,), reverse=reverse)
    torch.testing.assert_close(got[0], want[0])
    torch.testing.assert_close(got[1][0], want[1][0])
    w = torch.randn_like(want[0])
    params = [x, h0, *cell.parameters()]
    assert len(params) == (6 if bias else 4)
    for a, b in zip(grads(got, w, params), grads(want, w, params)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck(nonlinearity, reverse, gate_path):
    torch.manual_seed(2)
    batch_sizes = [3, 2, 1]
    cell = SRNCell(2, 3, nonlinearity=nonlinearity).double()
    x = torch.randn(sum(batch_sizes), 2, dtype=torch.double, requires_grad=True)
    h0 = torch.randn(3, 3, dtype=torch.double, requires_grad=True)

    def run(x, h0, *_):
        out, (h,) = run_srn_chain(cell, x, batch_sizes, (h0,), reverse=reverse)
        return out, h

    assert torch.autograd.gradcheck(run, (x, h0, *cell.parameters()))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_cell_equals_torch_rnn_both_directions_packed(nonlinearity):
    torch.manual_seed(1)
    lengths = [5, 3, 3, 1]
    seqs = [torch.randn(n, 3, dtype=torch.double) for n in lengths]
    packed = pack_sequence(seqs)
    x = packed.data.clone().requires_grad_()
    sizes = packed.batch_sizes.tolist()
    ref = torch.nn.RNN(3, 4, nonlinearity=nonlinearity, bidirectional=True).double()
    cells = [SRNCell(3, 4, nonlinearity=nonlinearity).double() for _ in range(2)]
    for cell, suffix in zip(cells, ("_l0", "_l0_reverse")):
        for name, p in cell.named_parameters():
            p.data.copy_(getattr(ref, name + suffix))
    h0 = torch.randn(2, 4, 4, dtype=torch.double, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out_ref, h_ref = ref(torch.nn.utils.rnn.PackedSequence(x_ref, packed.batch_sizes), h0)
    runs = [run_srn_chain(c, x, sizes, (h0[k],), reverse=k == 1) for k, c in enumerate(cells)]
    out = torch.cat([r[0] for r in runs], 1)
    h_n = torch.stack([r[1][0] for r in runs])
    torch.testing.assert_close(out, out_ref.data)
    torch.testing.assert_close(h_n, h_ref)
    w = torch.randn_like(out)
    loss, loss_ref = (out * w).sum() + h_n.sum(), (out_ref.data * w).sum() + h_ref.sum()
    ours = torch.autograd.grad(loss, [x, h0, *cells[0].parameters(), *cells[1].parameters()])
    theirs = torch.autograd.grad(loss_ref, [x_ref, h0, *ref.parameters()])
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("tanh_choice", [(False, False), (True, True)])
def test_every_product_path_and_tanh_choice_gives_the_loop_numbers(product_path, tanh_choice,
                                                                   nonlinearity, monkeypatch,
                                                                   kernel_matches_loop):
    # float32, where the oneDNN path runs; both routes of the tanh (the measured choice) forced,
    # on the PyTorch path (the compiled step computes tanh as such)
    import graphrnn.kernels.srn_chain as module
    monkeypatch.setattr(module, "tanh_through_sigmoid", lambda *args: tanh_choice)
    monkeypatch.setattr(module, "srn_tanh", lambda *args: None)
    kernel_matches_loop(run_srn_chain, SRNCell(5, 8, nonlinearity=nonlinearity), [6, 6, 4, 1])


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batch_sizes", [[], [0, 0, 0]])
def test_no_row_or_no_step_gives_empty_output_and_the_initial_state(nonlinearity, batch_sizes):
    cell = SRNCell(3, 4, nonlinearity=nonlinearity)
    x = torch.randn(0, 3, requires_grad=True)
    h0 = torch.randn(0, 4, requires_grad=True)
    for reverse in (False, True):
        out, (h_n,) = run_srn_chain(cell, x, batch_sizes, (h0,), reverse=reverse)
        assert out.shape == (0, 4) and h_n.shape == (0, 4)
        d_x, d_h0, d_w = torch.autograd.grad(out.sum() + h_n.sum(), [x, h0, cell.weight_hh])
        assert d_x.shape == (0, 3) and d_h0.shape == (0, 4)
        assert torch.equal(d_w, torch.zeros(4, 4))
    # no step at all with a batch: the final state is the initial one, and its gradient flows
    h0 = torch.randn(2, 4, requires_grad=True)
    out, (h_n,) = run_srn_chain(cell, x, [], (h0,))
    assert out.shape == (0, 4)
    torch.testing.assert_close(h_n, h0)
    assert torch.equal(torch.autograd.grad(3 * h_n.sum(), h0)[0], torch.full((2, 4), 3.0))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_srn_cell_offers_the_kernel_a_step_override_does_not(nonlinearity):
    class SameStep(SRNCell):
        def step(self, xw, state):
            return super().step(xw, state)

    torch.manual_seed(3)
    cell = SRNCell(3, 4, nonlinearity=nonlinearity)
    plain = SameStep(3, 4, nonlinearity=nonlinearity)
    plain.load_state_dict(cell.state_dict())
    assert cell.chain_kernel() is not None and plain.chain_kernel() is None
    batch_sizes = [3, 3, 2, 1]
    x, h0 = torch.randn(sum(batch_sizes), 3), torch.randn(3, 4)
    fused = run_cell_chain(cell, x, batch_sizes, (h0,))
    generic = run_cell_chain(plain, x, batch_sizes, (h0,))
    assert "SRNChain" in fused[0].grad_fn.name() and "SRNChain" not in generic[0].grad_fn.name()
    torch.testing.assert_close(fused[0], generic[0], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(fused[1][0], generic[1][0], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("batch_sizes", [[3, 3, 2], [2, 2, 2]])
def test_a_frozen_weight_leaves_the_other_gradients_right(batch_sizes,
                                                          frozen_weights_keep_gradients):
    frozen_weights_keep_gradients(run_srn_chain, SRNCell(3, 4).double(), batch_sizes)


@pytest.mark.parametrize("batch_sizes", [[6, 6, 4, 1], [3, 3, 3]])
def test_compiled_tanh_gives_the_loop_numbers_in_float32(batch_sizes, gate_path,
                                                        kernel_matches_loop):
    kernel_matches_loop(run_srn_chain, SRNCell(5, 8), batch_sizes)
