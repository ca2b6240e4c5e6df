"""The kernels' reused scratch buffers: reuse, growth, isolation, and no leak into results."""
import threading

import pytest
import torch

from graphrnn.cells import GRUCell, LSTMCell, SRNCell
from graphrnn.kernels import workspace
from graphrnn.kernels.gru_chain import run_gru_chain
from graphrnn.kernels.lstm_chain import run_lstm_chain
from graphrnn.kernels.srn_chain import run_srn_chain


@pytest.fixture(autouse=True)
def fresh_buffers():
    workspace.release()
    yield
    workspace.release()


def test_a_name_reuses_its_buffer_and_grows_when_asked_for_more():
    like = torch.zeros(1)
    a = workspace.scratch("t.a", (4, 8), like)
    assert a.shape == (4, 8) and a.dtype == like.dtype and a.is_contiguous()
    smaller = workspace.scratch("t.a", (2, 3), like)
    assert smaller.data_ptr() == a.data_ptr()
    assert workspace.held_bytes() == 32 * 4
    bigger = workspace.scratch("t.a", (10, 10), like)
    assert bigger.shape == (10, 10)
    assert workspace.held_bytes() == 100 * 4


def test_names_and_dtypes_never_alias():
    a = workspace.scratch("t.a", (16,), torch.zeros(1))
    b = workspace.scratch("t.b", (16,), torch.zeros(1))
    c = workspace.scratch("t.a", (16,), torch.zeros(1, dtype=torch.float64))
    assert len({a.data_ptr(), b.data_ptr(), c.data_ptr()}) == 3
    assert c.dtype == torch.float64


def test_release_frees_and_threads_keep_their_own():
    mine = workspace.scratch("t.a", (64,), torch.zeros(1))
    theirs = []
    thread = threading.Thread(
        target=lambda: theirs.append(workspace.scratch("t.a", (64,), torch.zeros(1)).data_ptr()))
    thread.start()
    thread.join()
    assert theirs[0] != mine.data_ptr()
    workspace.release()
    assert workspace.held_bytes() == 0


@pytest.mark.parametrize("make, run", [
    (lambda: LSTMCell(3, 5), run_lstm_chain),
    (lambda: LSTMCell(3, 5, peephole=True, coupled=True), run_lstm_chain),
    (lambda: GRUCell(3, 5), run_gru_chain),
    (lambda: SRNCell(3, 5), run_srn_chain),
])
def test_gradients_do_not_share_the_reused_buffers(make, run):
    """A second backward (fewer rows, so the buffers are larger than it needs) leaves the first
    one's gradients as they were, and both equal a run with fresh buffers."""
    torch.manual_seed(0)
    cell = make()

    def grads(batch_sizes, seed):
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(sum(batch_sizes), 3, generator=gen, requires_grad=True)
        state = tuple(torch.randn(batch_sizes[0], 5, generator=gen)
                      for _ in cell.state_sizes)
        out, _ = run(cell, x, batch_sizes, state)
        return torch.autograd.grad(out.square().sum(), [x, *cell.parameters()])

    first = grads([4, 4, 3, 1], seed=1)
    kept = [g.clone() for g in first]
    second = grads([2, 1], seed=2)
    for a, b in zip(first, kept):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    workspace.release()
    for a, b in zip(second, grads([2, 1], seed=2)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
