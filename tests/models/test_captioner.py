"""graphrnn.models.captioner: Show, Attend and Tell on a tiny CNN."""
from __future__ import annotations

import pytest
import torch

from graphrnn.models.captioner import CaptionBatch, Captioner, caption_step, region_coordinates

torch.set_num_threads(1)


def _model(**kwargs):
    torch.manual_seed(0)
    return Captioner(12, embedding_dim=8, hidden_size=16, channels=(4, 8), **kwargs).eval()


def _batch(b=3, t=6):
    torch.manual_seed(1)
    captions = torch.randint(4, 12, (b, t))
    captions[:, 0] = 2
    captions[0, 4:] = torch.tensor([3, 0])  # a shorter caption, padded
    captions[1:, -1] = 3
    return CaptionBatch(torch.rand(b, 3, 16, 12), captions)


def test_shapes_and_attention_is_a_distribution_over_regions():
    model, batch = _model(), _batch()
    logits, alphas = model(batch.images, batch.captions)
    assert logits.shape == (3, 5, 12)
    assert model.grid_size(16, 12) == (4, 3) and alphas.shape == (3, 5, 12)
    assert torch.all(alphas >= 0)
    torch.testing.assert_close(alphas.sum(-1), torch.ones(3, 5))
    assert alphas.std(-1).min() > 0  # not uniform: the weights depend on the regions


def test_without_attention_the_weights_are_uniform_and_the_context_the_mean():
    model = _model(attention=False)
    _, alphas = model(*_batch())
    torch.testing.assert_close(alphas, torch.full_like(alphas, 1 / 12))
    assert model.attention is None


def test_teacher_forcing_equals_stepping_the_decoder():
    model, batch = _model(), _batch()
    logits, _ = model(batch.images, batch.captions)
    state = model.encode(batch.images)
    for t in range(batch.captions.size(1) - 1):
        log_probs, state = model.decode_step(batch.captions[:, t], state)
        torch.testing.assert_close(log_probs, torch.log_softmax(logits[:, t], -1))


def test_beam_of_one_is_greedy_and_attend_matches_generate():
    model, batch = _model(), _batch(4)
    greedy = model.generate(batch.images, max_len=7)
    assert model.generate(batch.images, max_len=7, beam_width=1) == greedy
    from graphrnn.tasks.decoding import beam_search

    beam1, _ = beam_search(model.decode_step, model.encode(batch.images), 4, model.bos,
                           model.eos, 7, beam_width=1)
    assert beam1 == greedy
    wide = model.generate(batch.images, max_len=7, beam_width=3)
    assert len(wide) == 4 and all(len(s) <= 7 for s in wide)
    for (ids, alphas), want in zip(model.attend(batch.images, 7), greedy):
        assert ids == want and alphas.shape == (len(ids), 12)


def test_doubly_stochastic_term_by_hand():
    model, batch = _model(), _batch()
    plain, logits, alphas = model.loss(batch)
    reg, _, _ = model.loss(batch, doubly_stochastic=0.5)
    real = (batch.captions[:, 1:] != 0).unsqueeze(-1).float()
    penalty = ((1 - (alphas * real).sum(1)) ** 2).sum(1).mean()
    torch.testing.assert_close(reg, plain + 0.5 * penalty)
    assert penalty > 0


def test_a_few_steps_learn_a_fixed_caption():
    torch.manual_seed(0)
    model = Captioner(12, embedding_dim=8, hidden_size=16, channels=(4, 8))
    batch = _batch(2)
    batch = CaptionBatch(batch.images, torch.tensor([[2, 5, 6, 7, 3], [2, 8, 9, 10, 3]]))
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    for _ in range(60):
        loss, metrics = caption_step(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    assert model.generate(batch.images, max_len=6) == [[5, 6, 7], [8, 9, 10]]


def test_region_coordinates_are_row_major_centres():
    xy = region_coordinates(2, 4)
    assert xy.shape == (8, 2)
    torch.testing.assert_close(xy[1], torch.tensor([-0.25, -0.5]))
    torch.testing.assert_close(xy[4], torch.tensor([-0.75, 0.5]))


def test_bad_inputs_are_named():
    model = _model()
    with pytest.raises(ValueError, match="captions must be"):
        model(torch.rand(2, 3, 16, 16), torch.zeros(2, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="2 images but 3 captions"):
        model(torch.rand(2, 3, 16, 16), torch.zeros(3, 4, dtype=torch.long))
