import pytest
import torch

from graphrnn.nn.attention import Attention

torch.set_num_threads(1)


def test_attention_ignores_padding():
    att = Attention(4, 6, "additive")
    memory = torch.randn(2, 5, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    query = torch.randn(2, 4)
    ctx, w = att(query, att.keys(memory), memory, mask)
    assert w[0, 3:].abs().max() == 0 and torch.allclose(w.sum(1), torch.ones(2))
    memory2 = memory.clone()
    memory2[0, 3:] = 100.0  # padding content does not matter
    ctx2, _ = att(query, att.keys(memory2), memory2, mask)
    assert torch.allclose(ctx[0], ctx2[0], atol=1e-6)
    with pytest.raises(ValueError, match="'dot' score needs query_size == memory_size"):
        Attention(4, 6, "dot")


@pytest.mark.parametrize("score", ["dot", "general", "additive"])
def test_attention_weights_follow_the_score_formula(score):
    torch.manual_seed(0)
    size = 5 if score == "dot" else 3
    att = Attention(size, 5, score)
    memory, query = torch.randn(2, 4, 5), torch.randn(2, size)
    mask = torch.ones(2, 4, dtype=torch.bool)
    ctx, w = att(query, att.keys(memory), memory, mask)
    if score == "dot":
        e = torch.einsum("bh,bsh->bs", query, memory)
        assert not list(att.parameters())
    elif score == "general":
        e = torch.einsum("bh,hm,bsm->bs", query, att.key.weight, memory)
    else:
        e = att.v(torch.tanh(att.key(memory) + att.query(query)[:, None])).squeeze(-1)
    assert torch.allclose(w, torch.softmax(e, -1), atol=1e-6)
    assert torch.allclose(ctx, torch.einsum("bs,bsm->bm", w, memory), atol=1e-6)
    assert torch.allclose(w.sum(-1), torch.ones(2), atol=1e-6)
    with pytest.raises(ValueError, match="query must be"):
        att(query[:, :2], att.keys(memory), memory, mask)
    assert "score=" in repr(att)
