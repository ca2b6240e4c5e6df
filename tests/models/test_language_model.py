"""The recurrent language model: shapes, chain-graph input, the step, perplexity on N-gram tokens,
sampling and form-constrained poems."""
import math

import pytest
import torch

from graphrnn.datasets.lm_batches import LMCollate, lm_batch
from graphrnn.datasets.poems import check_form
from graphrnn.datasets.text import Vocab
from graphrnn.models.language_model import (
    LanguageModel,
    generate,
    generate_poems,
    ideograph_mask,
    lm_num_tokens,
    lm_step,
    perplexity,
    sample_next,
)
from graphrnn.structures.chain import chains_from_list
from graphrnn.tasks.ngram import NGramLM
from graphrnn.train import Trainer, evaluate

torch.set_num_threads(1)

POEM = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
# a corpus with punctuation, a Latin letter and a full-width "!" that must never enter a poem line
CORPUS = [list(POEM), list("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"),
          list("春眠不觉晓a！"), list("日出江花红胜火，春来江水绿如蓝。")]


def make_model(vocab, seed=0, **kw):
    torch.manual_seed(seed)
    kw.setdefault("embedding_dim", 16)
    kw.setdefault("hidden_size", 24)
    return LanguageModel(len(vocab), **kw).eval()


@pytest.fixture
def vocab():
    return Vocab.build(CORPUS)


def test_shapes_tied_and_repr(vocab):
    model = make_model(vocab, tie_weights=True, num_layers=2, cell="gru", dropout=0.1)
    assert model.decoder.weight is model.embedding.weight
    assert model.proj is not None  # hidden 24 != embedding 16
    logits, h = model(torch.randint(0, len(vocab), (3, 7)))
    assert logits.shape == (3, 7, len(vocab)) and h.shape == (2, 3, 24)
    assert "tie_weights=True" in repr(model) and "cell='gru'" in repr(model)
    with pytest.raises(ValueError, match="cell"):
        LanguageModel(10, cell="transformer")
    with pytest.raises(ValueError, match="input must be a \\(B, T\\) long tensor"):
        model(torch.zeros(3, 7))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_chain_graph_input_matches_padded(vocab, cell):
    model = make_model(vocab, cell=cell)
    seqs = [torch.tensor(vocab.encode(s, add_bos=True)) for s in CORPUS[:3]]
    batch = chains_from_list(seqs)
    node_logits, _ = model(batch)
    assert node_logits.shape == (sum(len(s) for s in seqs), len(vocab))
    offset = 0
    for s in seqs:
        ref, _ = model(s.view(1, -1))
        torch.testing.assert_close(node_logits[offset:offset + len(s)], ref[0], atol=1e-5,
                                   rtol=1e-5)
        offset += len(s)


def test_step_loss_is_mean_nll_per_token(vocab):
    model = make_model(vocab)
    batch = lm_batch(CORPUS, vocab)
    loss = lm_step(model, batch)
    inputs, targets, lengths = batch
    logp = torch.log_softmax(model(inputs)[0], -1)
    mask = targets != vocab.pad_index
    manual = -(logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * mask).sum() / mask.sum()
    torch.testing.assert_close(loss, manual)
    assert int(mask.sum()) == lm_num_tokens(batch) == sum(len(s) + 1 for s in CORPUS)


def test_known_distribution_gives_expected_perplexity_on_ngram_tokens(vocab):
    """Zero output weights and bias log p: every prediction is p, so the perplexity is
    exp(-mean log p[target]) over exactly the tokens NGramLM scores (len + 1 per sequence, unknown
    characters as <unk>)."""
    model = make_model(vocab)
    g = torch.Generator().manual_seed(1)
    p = torch.rand(len(vocab), generator=g) + 0.1
    p /= p.sum()
    with torch.no_grad():
        model.decoder.weight.zero_()
        model.decoder.bias.copy_(p.log())
    test = [list("明月照高楼"), list("夜来风雨声zz")]  # "z" is unknown -> <unk>
    ppl, total, count = perplexity(model, test, vocab, batch_size=1)
    targets = [vocab.encode(s) + [vocab.eos_index] for s in test]
    expected = -sum(math.log(float(p[t])) for seq in targets for t in seq)
    assert count == sum(len(s) + 1 for s in test) == 14
    assert total == pytest.approx(expected, rel=1e-5)
    assert ppl == pytest.approx(math.exp(expected / count), rel=1e-5)
    assert NGramLM(2).fit(CORPUS, vocab).nll(test)[1] == count
    # the uniform distribution has perplexity V
    with torch.no_grad():
        model.decoder.bias.zero_()
    assert perplexity(model, test, vocab)[0] == pytest.approx(len(vocab), rel=1e-5)


def test_trainer_average_is_the_corpus_perplexity(vocab):
    """With lm_num_tokens as batch_size_fn the epoch average of lm_step's loss is the mean NLL per
    token of the split, so exp(val_loss) equals perplexity() whatever the batch sizes."""
    model = make_model(vocab)
    loader = torch.utils.data.DataLoader(CORPUS, batch_size=3, collate_fn=LMCollate(vocab))
    val = evaluate(model, loader, lm_step, batch_size_fn=lm_num_tokens)
    assert math.exp(val["loss"]) == pytest.approx(perplexity(model, CORPUS, vocab)[0], rel=1e-5)


def test_sample_next_temperature_top_k_and_mask():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0]]).repeat(500, 1)
    g = torch.Generator().manual_seed(0)
    assert sample_next(logits, temperature=0).unique().tolist() == [1]
    assert set(sample_next(logits, top_k=2, generator=g).tolist()) == {1, 3}
    assert sample_next(logits, top_k=1, generator=g).unique().tolist() == [1]
    mask = torch.tensor([True, False, True, False])
    assert set(sample_next(logits, mask=mask, generator=g).tolist()) <= {0, 2}
    cold = sample_next(logits, temperature=0.05, generator=g)
    assert (cold == 1).float().mean() > 0.99
    with pytest.raises(ValueError, match="mask allows no token"):
        sample_next(logits[:1], mask=torch.zeros(4, dtype=torch.bool))
    with pytest.raises(ValueError, match="temperature"):
        sample_next(logits, temperature=-1)


def test_sampling_is_reproducible_with_a_seed(vocab):
    model = make_model(vocab)
    a = generate(model, vocab, "明", max_length=30, num_samples=4, seed=7)
    b = generate(model, vocab, "明", max_length=30, num_samples=4, seed=7)
    c = generate(model, vocab, "明", max_length=30, num_samples=4, seed=8)
    assert a == b and a != c
    assert all(s[0] == "明" and len(s) <= 30 for s in a)
    assert all(t not in ("<pad>", "<bos>", "<eos>", "<unk>") for s in a for t in s)
    p1 = generate_poems(model, vocab, "日", num_samples=5, seed=3, top_k=5)
    p2 = generate_poems(model, vocab, "日", num_samples=5, seed=3, top_k=5)
    assert p1 == p2 != generate_poems(model, vocab, "日", num_samples=5, seed=4, top_k=5)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert generate_poems(model, vocab, generator=g1) == generate_poems(model, vocab, generator=g2)


@pytest.mark.parametrize("line_length,num_lines", [(5, 4), (5, 8), (7, 4), (7, 8)])
def test_poem_forms_are_respected(vocab, line_length, num_lines):
    model = make_model(vocab)  # untrained: it would happily emit "a", "！" or <eos>
    poems = generate_poems(model, vocab, "月", line_length, num_lines, temperature=1.5,
                           num_samples=25, seed=0)
    assert len(poems) == 25
    for poem in poems:
        assert check_form(poem, line_length, num_lines), (poem, check_form(poem).reason)
        assert poem.startswith("月")
        assert len(poem) == num_lines * (line_length + 1)


def test_begin_word_honoured_across_lines(vocab):
    model = make_model(vocab)
    poems = generate_poems(model, vocab, "白日依山尽，黄河", 5, 4, num_samples=3, seed=0)
    assert all(p.startswith("白日依山尽，黄河") and check_form(p, 5, 4) for p in poems)
    with pytest.raises(ValueError, match="'龍'"):
        generate_poems(model, vocab, "龍")
    with pytest.raises(ValueError, match="non-ideographs"):
        generate_poems(model, vocab, "a")
    with pytest.raises(ValueError, match="more than the 20"):
        generate_poems(model, vocab, POEM + "白")
    assert ideograph_mask(vocab).sum() == sum(
        1 for t in vocab.to_list() if len(t) == 1 and "\u4e00" <= t <= "\u9fff")


def test_learns_a_poem_and_greedy_generation_recites_it(tmp_path):
    corpus = [list(POEM)] * 16
    vocab = Vocab.build(corpus)
    model = make_model(vocab, embedding_dim=32, hidden_size=64)
    loader = torch.utils.data.DataLoader(corpus, batch_size=8, collate_fn=LMCollate(vocab))
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=2e-2), lm_step,
                      max_epochs=40, seed=0, progress=False, batch_size_fn=lm_num_tokens)
    trainer.fit(loader)
    assert perplexity(model, corpus, vocab)[0] < 1.2
    assert generate_poems(model, vocab, "床", 5, 4, temperature=0)[0] == POEM
    assert "".join(generate(model, vocab, "床", temperature=0)[0]) == POEM
