"""Rows of packed chains: predecessor states, final states, and the weight gradients summed over
every step's rows."""
import pytest
import torch

from graphrnn.kernels import chain_rows, products


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("batch_sizes", [[3, 1], [2, 2, 2], [4, 3, 3, 1]])
def test_final_states_are_each_chains_last_row(reverse, batch_sizes):
    # chain j's rows: column j of every step it lasts; the last of them (the first, reversed)
    t = torch.arange(sum(batch_sizes), dtype=torch.float).unsqueeze(1)
    starts = [sum(batch_sizes[:s]) for s in range(len(batch_sizes))]
    want = []
    for j in range(batch_sizes[0]):
        steps = [s for s, n in enumerate(batch_sizes) if n > j]
        want.append(starts[steps[0] if reverse else steps[-1]] + j)
    got = chain_rows.final_states(t, batch_sizes, reverse)
    assert got.squeeze(1).tolist() == want
    assert got.data_ptr() != t.data_ptr()   # a new tensor, not a view of the outputs


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("batch_sizes", [[3, 3, 3, 3], [4, 3, 3, 1]])
@pytest.mark.parametrize("copy_bytes, products_made", [(None, 1), (560, 3), (1, None)])
def test_weight_gradients_side_by_side_in_blocks(reverse, batch_sizes, copy_bytes,
                                                 products_made, monkeypatch):
    # d.T @ [x | h_prev] with every row's predecessor state, in one block, in blocks of 4 rows
    # (560 bytes: 240 for the result and its copy, 64 a row for the copies; a gathered block
    # per product), and with no room for blocks (two separate products of the views)
    monkeypatch.setattr(products, "MIN_WEIGHT_GRAD_BLOCK", 4)
    calls = []
    monkeypatch.setattr(chain_rows, "weight_grad",
                        lambda *args: calls.append(1) or products.weight_grad(*args))
    torch.manual_seed(0)
    N, B = sum(batch_sizes), batch_sizes[0]
    d, x = torch.randn(N, 6), torch.randn(N, 2)
    h0, h_all = torch.randn(B, 3), torch.randn(N, 3)
    rows = chain_rows.predecessor_rows(batch_sizes, reverse, "cpu")
    h_prev = torch.cat([h0, h_all])[rows]
    sums = torch.zeros(6)
    got = chain_rows.grads_by_input_and_previous(d, x, h0, h_all, batch_sizes, reverse,
                                                 "test.inputs", copy_bytes=copy_bytes,
                                                 bias_out=sums)
    torch.testing.assert_close(torch.cat(got, 1), d.t() @ torch.cat([x, h_prev], 1))
    torch.testing.assert_close(sums, d.sum(0))
    # separately: x's product and one per block of predecessor states (two with equal lengths)
    assert len(calls) == (products_made if copy_bytes != 1 else
                          1 + len(chain_rows.previous_blocks(h0, h_all, batch_sizes, reverse)))
    # only one of the two asked for: that product alone, None for the other
    only_x = chain_rows.grads_by_input_and_previous(d, x, h0, h_all, batch_sizes, reverse,
                                                    "test.inputs", need=(True, False))
    torch.testing.assert_close(only_x[0], d.t() @ x)
    assert only_x[1] is None
