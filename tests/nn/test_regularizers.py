"""Locked (variational) dropout, embedding dropout and DropConnect on the recurrent weights: each
does what it says: the same mask at every time step, whole word types dropped, one weight mask per
forward call on both engines, and nothing at all in evaluation mode."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from graphrnn.nn import GRU, LSTM, RNN
from graphrnn.nn.regularizers import LockedDropout, embedding_dropout

torch.set_num_threads(1)


@pytest.mark.parametrize("batch_first", [True, False])
def test_locked_dropout_one_mask_per_sequence_for_every_step(batch_first):
    torch.manual_seed(0)
    drop = LockedDropout(0.5, batch_first=batch_first)
    x = torch.ones(6, 9, 16) if batch_first else torch.ones(9, 6, 16)
    y = drop(x)
    steps = y.unbind(1 if batch_first else 0)
    assert all(torch.equal(s, steps[0]) for s in steps)          # same mask at every step
    assert set(y.unique().tolist()) == {0.0, 2.0}                 # kept ones scaled by 1/(1-p)
    per_seq = steps[0]                                            # (B, D): masks differ by sequence
    assert not all(torch.equal(per_seq[b], per_seq[0]) for b in range(6))
    assert 0.3 < (y == 0).float().mean() < 0.7
    assert torch.equal(drop.eval()(x), x)                         # evaluation: identity


def test_locked_dropout_rows_of_a_chain_batch_share_their_sequence_mask():
    torch.manual_seed(1)
    batch = torch.tensor([0, 0, 0, 1, 1, 2])
    y = LockedDropout(0.5)(torch.ones(6, 32), batch)
    assert torch.equal(y[0], y[1]) and torch.equal(y[1], y[2]) and torch.equal(y[3], y[4])
    assert not torch.equal(y[0], y[3])
    with pytest.raises(ValueError, match="batch"):
        LockedDropout(0.5)(torch.ones(6, 32), batch[:5])
    with pytest.raises(ValueError, match="p must be"):
        LockedDropout(1.0)


def test_embedding_dropout_drops_word_types_everywhere_in_the_batch():
    torch.manual_seed(0)
    emb = nn.Embedding(50, 8)
    ids = torch.randint(0, 50, (20, 30))
    out = embedding_dropout(emb, ids, 0.5)
    dropped = (out == 0).all(-1)
    for word in ids.unique():
        where = dropped[ids == word]
        assert where.all() or not where.any()                     # a word is dropped everywhere
    assert 0.25 < ids[dropped].unique().numel() / ids.unique().numel() < 0.75
    kept = ~dropped
    torch.testing.assert_close(out[kept], 2 * emb(ids)[kept])     # the rest scaled by 1/(1-p)
    torch.testing.assert_close(embedding_dropout(emb, ids, 0.5, training=False), emb(ids))
    out.sum().backward()                                          # no gradient to dropped rows
    dropped_words = ids[dropped].unique()
    assert emb.weight.grad[dropped_words].abs().sum() == 0


@pytest.mark.parametrize("module", [LSTM, GRU, RNN])
@pytest.mark.parametrize("engine", ["auto", "generic"])
def test_weight_dropout_one_mask_per_forward_at_every_step(module, engine):
    """Training with weight_dropout equals the same module without it whose weight_hh_l{k} are
    replaced by the masked matrices, drawn in the same order from the same seed: so one mask is
    used at every time step (a fresh mask per step would differ), and only weight_hh is masked."""
    torch.manual_seed(0)
    dropped = module(5, 7, num_layers=2, batch_first=True, engine=engine, weight_dropout=0.4)
    plain = module(5, 7, num_layers=2, batch_first=True, engine=engine)
    plain.load_state_dict(dropped.state_dict())
    x = torch.randn(3, 11, 5)
    torch.manual_seed(42)
    out, _ = dropped(x)
    torch.manual_seed(42)
    masked = {f"weight_hh_l{k}": F.dropout(getattr(dropped, f"weight_hh_l{k}"), 0.4, True)
              for k in range(2)}
    assert all((w == 0).any() for w in masked.values())
    with torch.no_grad():
        for name, w in masked.items():
            getattr(plain, name).copy_(w)
    torch.testing.assert_close(out, plain(x)[0], atol=1e-5, rtol=1e-5)
    # the gradient reaches only the kept recurrent weights
    out.sum().backward()
    for name, w in masked.items():
        assert getattr(dropped, name).grad[w == 0].abs().sum() == 0
    # a second forward draws a new mask
    assert not torch.allclose(dropped(x)[0], out)


@pytest.mark.parametrize("engine", ["auto", "generic"])
def test_weight_dropout_evaluation_uses_the_full_weights(engine):
    torch.manual_seed(0)
    dropped = LSTM(4, 6, engine=engine, weight_dropout=0.5).eval()
    plain = LSTM(4, 6, engine=engine).eval()
    plain.load_state_dict(dropped.state_dict())
    x = torch.randn(9, 2, 4)
    torch.testing.assert_close(dropped(x)[0], plain(x)[0])
    assert torch.equal(dropped(x)[0], dropped(x)[0])               # deterministic
    assert "weight_dropout=0.5" in repr(dropped)
    with pytest.raises(ValueError, match="weight_dropout"):
        LSTM(4, 6, weight_dropout=1.0)
