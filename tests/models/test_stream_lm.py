"""Stream language modelling: the whole-stream perplexity (every token once, state carried, the
N-gram's token count), the truncated-BPTT step, NT-ASGD averaging, and the LanguageModel options
it uses (softmax over the predictable tokens, uniform init, regularisers off in evaluation)."""
import math

import pytest
import torch
import torch.nn.functional as F

from graphrnn.datasets.text import Vocab
from graphrnn.models.language_model import (
    LanguageModel,
    generate,
    predictable_ids,
    sentence_perplexity,
)
from graphrnn.models.stream_lm import (
    NTAveragedModel,
    stream_evaluator,
    stream_lm_step,
    stream_perplexity,
    stream_windows,
    window_tokens,
)
from graphrnn.nn.regularizers import LockedDropout
from graphrnn.tasks.ngram import NGramLM
from graphrnn.train import Trainer

torch.set_num_threads(1)

SENTENCES = [s.split() for s in ("the cat sat on the mat", "a dog sat on a log", "the dog ran",
                                 "a cat ran to the log", "the mat sat", "on a mat the cat sat",
                                 "the log ran to a dog")]


@pytest.fixture
def vocab():
    return Vocab.build(SENTENCES)


def to_stream(sentences, vocab):
    ids = [vocab.eos_index]
    for s in sentences:
        ids += vocab.encode(s) + [vocab.eos_index]
    return torch.tensor(ids)


def make_model(vocab, seed=0, **kw):
    torch.manual_seed(seed)
    return LanguageModel(len(vocab), kw.pop("embedding_dim", 12), kw.pop("hidden_size", 16),
                         **kw).eval()


def nll_of(model, ids, state=None):
    """Sum NLL of ids[1:] given ids[:-1] in one forward from ``state``."""
    logits, state = model(ids[:-1].view(1, -1), state)
    return F.cross_entropy(logits[0], ids[1:], reduction="sum").item(), state


@pytest.mark.parametrize("batch_size,bptt", [(1, 4), (1, 1000), (3, 5), (4, 7)])
def test_stream_perplexity_scores_every_token_once_with_carried_state(vocab, batch_size, bptt):
    """Columns start from zero; the leftover tokens continue the last column: the whole score
    equals one forward per column with the last column run on to the end of the stream."""
    model = make_model(vocab, num_layers=2)
    stream = to_stream(SENTENCES * 3, vocab)
    ppl, total, count = stream_perplexity(model, stream, batch_size, bptt)
    n = stream.numel() - 1
    assert count == n == sum(len(s) + 1 for s in SENTENCES * 3)
    length = n // batch_size
    expected = 0.0
    for b in range(batch_size):
        stop = (b + 1) * length + 1 if b < batch_size - 1 else n + 1
        expected += nll_of(model, stream[b * length:stop])[0]
    assert total == pytest.approx(expected, rel=1e-5)
    assert ppl == pytest.approx(math.exp(expected / n), rel=1e-5)
    assert not model.training


def test_the_token_count_is_the_ngram_count(vocab):
    model = make_model(vocab)
    held_out = [["the", "cat", "flew"], ["a", "log"]]  # "flew" is <unk>
    stream = to_stream(held_out, vocab)
    assert stream_perplexity(model, stream)[2] == NGramLM(2).fit(SENTENCES, vocab).nll(held_out)[1]


def test_known_distribution_gives_its_perplexity_over_the_predictable_tokens(vocab):
    """Zero output weights and bias log p: each prediction is p over the predictable tokens."""
    outputs = predictable_ids(vocab)
    assert vocab.pad_index not in outputs and vocab.bos_index not in outputs
    model = make_model(vocab, output_ids=outputs)
    p = torch.rand(len(outputs), generator=torch.Generator().manual_seed(0)) + 0.1
    p /= p.sum()
    with torch.no_grad():
        model.decoder.weight.zero_()
        model.decoder.bias.copy_(p.log())
    stream = to_stream(SENTENCES, vocab)
    position = {t: k for k, t in enumerate(outputs)}
    expected = -sum(math.log(p[position[int(t)]]) for t in stream[1:])
    ppl, total, _ = stream_perplexity(model, stream, 2, 3)
    assert total == pytest.approx(expected, rel=1e-5)
    logits = model(stream.view(1, -1))[0]
    assert logits.shape[-1] == len(vocab) - 2
    full = model.vocab_logits(logits)
    assert full.shape[-1] == len(vocab)
    assert torch.isinf(full[..., [vocab.pad_index, vocab.bos_index]]).all()
    # sentence-at-a-time scoring maps its targets too (pad is ignored, not a class)
    ppl_s, _, count = sentence_perplexity(model, SENTENCES, vocab)
    expected_s = -sum(math.log(p[position[t]]) for s in SENTENCES
                      for t in vocab.encode(s) + [vocab.eos_index])
    assert ppl_s == pytest.approx(math.exp(expected_s / count), rel=1e-5)


def test_tied_softmax_over_predictable_tokens_reads_their_embedding_rows(vocab):
    model = make_model(vocab, embedding_dim=16, tie_weights=True, output_ids=predictable_ids(vocab))
    assert model.decoder.weight is model.embedding.weight
    x = torch.tensor([[4, 5, 6]])
    out, _ = model.rnn(model.embedding(x))
    logits = model(x)[0]
    assert logits.shape == (1, 3, len(vocab) - 2)
    torch.testing.assert_close(logits, F.linear(out, model.embedding.weight[model.output_ids],
                                                model.decoder.bias))


def test_uniform_init_covers_every_weight(vocab):
    model = make_model(vocab, num_layers=2, init_range=0.05)
    for name, p in model.named_parameters():
        assert p.abs().max() <= 0.05, name
    assert model.decoder.bias.abs().max() == 0
    assert model.rnn.weight_hh_l1.std() > 0.02  # not PyTorch's 1/sqrt(H) bound (0.25) either
    default = make_model(vocab)
    assert default.rnn.weight_hh_l0.abs().max() > 0.1


def test_regularisers_are_off_in_evaluation_and_on_in_training(vocab):
    kw = dict(num_layers=2, dropout=0.3, input_dropout=0.5, output_dropout=0.4,
              locked_dropout=True, embedding_dropout=0.2, weight_dropout=0.5)
    model = make_model(vocab, **kw)
    plain = make_model(vocab, num_layers=2)
    plain.load_state_dict(model.state_dict())
    x = torch.randint(0, len(vocab), (3, 9))
    torch.testing.assert_close(model(x)[0], plain(x)[0])
    assert isinstance(model.input_drop, LockedDropout) and model.input_drop.p == 0.5
    assert model.output_drop.p == 0.4 and model.rnn.dropout == 0.3
    assert model.rnn.weight_dropout == 0.5
    model.train()
    assert not torch.allclose(model(x)[0], plain(x)[0])
    for name in ("locked_dropout=True", "embedding_dropout=0.2", "weight_dropout=0.5"):
        assert name in repr(model)
    with pytest.raises(ValueError, match="embedding_dropout"):
        make_model(vocab, embedding_dropout=1.0)


def test_the_step_carries_state_across_windows(vocab):
    """In evaluation mode the window losses of the step are the per-position NLL of one forward
    over each column."""
    model = make_model(vocab)
    stream = to_stream(SENTENCES, vocab)
    windows = list(stream_windows(stream, 2, 5))
    step = stream_lm_step()
    losses = [step(model, w).item() * window_tokens(w) for w in windows]
    length = (stream.numel() - 1) // 2
    expected = sum(nll_of(model, stream[b * length:(b + 1) * length + 1])[0] for b in range(2))
    assert sum(losses) == pytest.approx(expected, rel=1e-5)


def test_trainer_learns_a_stream_and_generates_from_eos(vocab, tmp_path):
    stream = to_stream(SENTENCES * 8, vocab)
    model = make_model(vocab, embedding_dim=24, hidden_size=48, tie_weights=True,
                       output_ids=predictable_ids(vocab), init_range=0.1).train()
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-2), stream_lm_step(),
                      evaluate_fn=stream_evaluator(1, 20), batch_size_fn=window_tokens,
                      max_epochs=30, seed=0, progress=False, clip_grad_norm=1.0,
                      out_dir=tmp_path, tensorboard=False)
    history = trainer.fit(stream_windows(stream, 4, 10, random_length=True), stream)
    assert history[-1]["val_ppl"] < 2.5 < history[0]["val_ppl"]
    assert history[-1]["val_loss"] == pytest.approx(math.log(history[-1]["val_ppl"]))
    assert (tmp_path / "curves.png").is_file()
    words = generate(model, vocab, ["the"], temperature=0, start=vocab.eos_index)[0]
    assert " ".join(words) in {" ".join(s) for s in SENTENCES}


def test_nt_asgd_triggers_on_a_non_monotone_check_and_evaluates_the_average(vocab):
    model = make_model(vocab).train()
    averaged = NTAveragedModel(model, nonmono=2)
    # checks: 5, 4, 3 (improving), 3.5 (> best of those before the last 2 = 5? no), 4.5 (> 4)
    assert [averaged.observe(v) for v in (5.0, 4.0, 3.0, 3.5)] == [False] * 4
    assert averaged.observe(4.5) and not averaged.averaging
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    averaged.attach(opt)
    x = torch.randint(0, len(vocab), (2, 6))
    snapshots = []
    for _ in range(3):
        opt.zero_grad()
        model(x)[0].logsumexp(-1).mean().backward()
        opt.step()
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
    assert averaged.averaging
    mean = {k: sum(s[k] for s in snapshots) / 3 for k in snapshots[0]}
    reference = make_model(vocab)
    reference.load_state_dict(mean)
    averaged.eval()
    torch.testing.assert_close(averaged(x)[0], reference(x)[0])          # evaluation: the average
    torch.testing.assert_close(averaged.train()(x)[0], model(x)[0])      # training: the iterate
    assert not torch.allclose(reference(x)[0], model.eval()(x)[0])
    # the trigger, its history and the average are in the state dict (checkpoints carry them)
    copy = NTAveragedModel(make_model(vocab, seed=5), nonmono=2)
    copy.load_state_dict(averaged.state_dict())
    assert copy.averaging
    torch.testing.assert_close(copy.eval()(x)[0], reference(x)[0])


def test_stream_checks(vocab):
    model = make_model(vocab)
    with pytest.raises(ValueError, match="at least 2"):
        stream_perplexity(model, torch.tensor([3]))
    with pytest.raises(ValueError, match=r"\(N,\) long"):
        stream_perplexity(model, torch.zeros(5))
    with pytest.raises(ValueError, match="nonmono"):
        NTAveragedModel(model, nonmono=0)
