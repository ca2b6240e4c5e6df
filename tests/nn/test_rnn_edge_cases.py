"""Edge cases of the drop-in RNN modules against torch.nn: empty batches (B = 0), empty
sequences (T = 0), empty chain graphs, float64 modules and inputs of the wrong dtype."""
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

import graphrnn.nn as gnn
from graphrnn.nn.rnn import EmptySequenceError
from graphrnn.structures import chain_graph, chains_from_padded

torch.set_num_threads(1)

STANDARD = ["RNN", "LSTM", "GRU"]
# variants torch.nn lacks, each with the standard cell whose shapes it must give
VARIANTS = [("LSTM", {"peephole": True}), ("LSTM", {"coupled": True}),
            ("LSTM", {"forget_gate": False}), ("LSTM", {"proj_size": 3, "engine": "generic"}),
            ("GRU", {"reset_after": False})]


def pair(mode, dtype=torch.float32, **kwargs):
    """torch.nn's module and ours with the same weights."""
    torch.manual_seed(0)
    engine = kwargs.pop("engine", "auto")
    theirs = getattr(nn, mode)(5, 4, **kwargs).to(dtype)
    ours = getattr(gnn, mode)(5, 4, engine=engine, **kwargs).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def shapes(result):
    out, hidden = result
    hidden = hidden if isinstance(hidden, tuple) else (hidden,)
    return tuple(out.shape), [tuple(h.shape) for h in hidden]


def empty_batch(batch_first, steps=3):
    return torch.randn(0, steps, 5) if batch_first else torch.randn(steps, 0, 5)


@pytest.mark.parametrize("mode", STANDARD)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("engine", ["auto", "generic"])
def test_empty_batch_matches_torch(mode, batch_first, bidirectional, engine):
    theirs, ours = pair(mode, num_layers=2, batch_first=batch_first, bidirectional=bidirectional,
                        engine=engine)
    x = empty_batch(batch_first)
    want, got = theirs(x), ours(x)
    assert shapes(got) == shapes(want)
    hx = want[1]
    again = ours(x, hx)                              # an explicit (L*D, 0, H) state is accepted
    assert shapes(again) == shapes(want)


@pytest.mark.parametrize("mode,kwargs", VARIANTS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_empty_batch_of_a_variant_has_the_standard_shapes(mode, kwargs, batch_first, bidirectional):
    common = {"num_layers": 2, "batch_first": batch_first, "bidirectional": bidirectional}
    standard = {"proj_size": kwargs["proj_size"]} if "proj_size" in kwargs else {}
    reference = getattr(nn, mode)(5, 4, **common, **standard)
    variant = getattr(gnn, mode)(5, 4, **common, **kwargs)
    x = empty_batch(batch_first)
    assert shapes(variant(x)) == shapes(reference(x))


@pytest.mark.parametrize("mode,kwargs", [(m, {}) for m in STANDARD] + [(m, {"engine": "generic"})
                                                                      for m in STANDARD] + VARIANTS)
@pytest.mark.parametrize("batch_first", [False, True])
def test_zero_length_sequence_is_an_error_as_in_torch(mode, kwargs, batch_first):
    model = getattr(gnn, mode)(5, 4, batch_first=batch_first, **kwargs)
    reference = getattr(nn, mode)(5, 4, batch_first=batch_first)
    for x in (torch.randn(2, 0, 5) if batch_first else torch.randn(0, 2, 5), torch.randn(0, 5)):
        with pytest.raises(RuntimeError, match="sequence length"):
            reference(x)
        # both kinds: torch.nn's RuntimeError and graphrnn's ValueError for a bad argument
        with pytest.raises(EmptySequenceError, match=r"input has no time step \(shape"):
            model(x)
    assert issubclass(EmptySequenceError, ValueError)
    assert issubclass(EmptySequenceError, RuntimeError)


@pytest.mark.parametrize("mode,kwargs", [(m, {}) for m in STANDARD] + [(m, {"engine": "generic"})
                                                                      for m in STANDARD] + VARIANTS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_empty_chain_graph_gives_no_row_and_no_final_state(mode, kwargs, bidirectional):
    model = getattr(gnn, mode)(5, 4, num_layers=2, bidirectional=bidirectional, **kwargs)
    out, hidden = model(chain_graph(torch.randn(0, 5)))
    width = kwargs.get("proj_size", 4)
    d = 2 if bidirectional else 1
    assert out.shape == (0, d * width)
    for h, size in zip(hidden if isinstance(hidden, tuple) else (hidden,), (width, 4)):
        assert h.shape == (2 * d, 0, size)


@pytest.mark.parametrize("mode", STANDARD)
@pytest.mark.parametrize("engine", ["auto", "generic"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_float64_matches_torch_to_1e_10(mode, engine, bidirectional, batch_first):
    theirs, ours = pair(mode, torch.float64, num_layers=2, bidirectional=bidirectional,
                        batch_first=batch_first, engine=engine)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 3, 5, generator=g, dtype=torch.float64)
    states = lambda h: h if isinstance(h, tuple) else (h,)  # noqa: E731
    (a, ha), (b, hb) = theirs(x), ours(x)
    assert b.dtype == torch.float64
    torch.testing.assert_close(b, a, atol=1e-10, rtol=0)
    for p, q in zip(states(ha), states(hb)):
        torch.testing.assert_close(q, p, atol=1e-10, rtol=0)
    # packed, unsorted lengths: x is (T=6, B=3) or (B=6, T=3) with batch_first
    lengths = [2, 3, 1, 3, 2, 1] if batch_first else [6, 3, 2]
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first,
                                  enforce_sorted=False)
    (a, ha), (b, hb) = theirs(packed), ours(packed)
    torch.testing.assert_close(b.data, a.data, atol=1e-10, rtol=0)
    for p, q in zip(states(ha), states(hb)):
        torch.testing.assert_close(q, p, atol=1e-10, rtol=0)


@pytest.mark.parametrize("mode,kwargs", VARIANTS + [("LSTM", {"engine": "generic"})])
def test_float64_variants_run_in_float64_on_padded_packed_and_graphs(mode, kwargs):
    model = getattr(gnn, mode)(5, 4, bidirectional=True, **kwargs).double()
    x = torch.randn(6, 3, 5, dtype=torch.float64)
    out, _ = model(x)
    assert out.dtype == torch.float64
    packed = pack_padded_sequence(x, [6, 4, 2])
    assert model(packed)[0].data.dtype == torch.float64
    graph_out, _ = model(chains_from_padded(x, [6, 4, 2]))
    assert graph_out.dtype == torch.float64 and graph_out.shape == (12, out.size(-1))


@pytest.mark.parametrize("mode,kwargs", [(m, {}) for m in STANDARD] + [(m, {"engine": "generic"})
                                                                      for m in STANDARD] + VARIANTS)
def test_integer_input_names_input_and_the_expected_dtype(mode, kwargs):
    model = getattr(gnn, mode)(5, 4, **kwargs)
    x = torch.ones(3, 2, 5, dtype=torch.long)
    with pytest.raises(ValueError, match="dtype"):             # torch.nn's kind of error too
        getattr(nn, mode)(5, 4)(x)
    with pytest.raises(ValueError, match=r"input has dtype torch.int64, expected the floating "
                                         r"dtype of the module's parameters, torch.float32"):
        model(x)
    with pytest.raises(ValueError, match="input has dtype torch.int64"):
        model(chain_graph(torch.ones(3, 5, dtype=torch.long)))


@pytest.mark.parametrize("mode,kwargs", [(m, {}) for m in STANDARD] + [(m, {"engine": "generic"})
                                                                      for m in STANDARD] + VARIANTS)
def test_float32_input_to_a_float64_module_says_what_is_expected(mode, kwargs):
    model = getattr(gnn, mode)(5, 4, **kwargs).double()
    with pytest.raises(ValueError, match="dtype"):
        getattr(nn, mode)(5, 4).double()(torch.randn(3, 2, 5))
    with pytest.raises(ValueError, match=r"input has dtype torch.float32, expected .* "
                                         r"torch.float64; convert it with "
                                         r"input.to\(torch.float64\)"):
        model(torch.randn(3, 2, 5))
    h0 = torch.zeros(1, 2, kwargs.get("proj_size", 4))
    c0 = torch.zeros(1, 2, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"hx(\[0\])? has dtype torch.float32"):
        model(torch.randn(3, 2, 5, dtype=torch.float64), (h0, c0) if mode == "LSTM" else h0)
