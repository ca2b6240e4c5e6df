"""Tests of graphrnn.models.vqa: shapes, the switched-off branches, chain vs bag of words, the
per-kind evaluation, and overfitting 32 examples."""
import pytest
import torch

from graphrnn.datasets.easy_vqa import KINDS, VQABatch
from graphrnn.models.vqa import VQANet, evaluate_vqa, vqa_step

torch.set_num_threads(1)
SMALL = {"embedding_dim": 8, "hidden_size": 12, "channels": (4, 8), "image_size": 8,
         "fusion_size": 16}


def make_batch(b=6, u=3, t=5, vocab=10, answers=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, t + 1, (b,), generator=g)
    lengths[0] = t
    questions = torch.randint(1, vocab, (b, t), generator=g)
    questions[torch.arange(t) >= lengths[:, None]] = 0
    return VQABatch(questions, lengths, torch.randint(0, 256, (u, 3, 8, 8), generator=g,
                                                      dtype=torch.uint8),
                    torch.arange(b) % u, torch.randint(0, answers, (b,), generator=g),
                    torch.arange(b) % len(KINDS))


def test_shapes_and_shared_pictures():
    torch.manual_seed(0)
    model = VQANet(10, 4, **SMALL).eval()
    batch = make_batch()
    logits = model(batch.images, batch.questions, batch.lengths, batch.image_index)
    assert logits.shape == (6, 4)
    # sharing a picture through image_index is the same as repeating it
    repeated = model(batch.images[batch.image_index], batch.questions, batch.lengths)
    assert torch.allclose(logits, repeated, atol=1e-6)
    # uint8 pictures are scaled to [0, 1]
    as_float = model(batch.images.float() / 255, batch.questions, batch.lengths, batch.image_index)
    assert torch.allclose(logits, as_float, atol=1e-6)
    with pytest.raises(ValueError, match=r"images must be \(U, 3, 8, 8\)"):
        model(batch.images[:, :, :4], batch.questions, batch.lengths, batch.image_index)
    with pytest.raises(ValueError, match=r"3 pictures for 6 questions"):
        model(batch.images, batch.questions, batch.lengths)
    with pytest.raises(ValueError, match=r"inputs must be one of"):
        VQANet(10, 4, inputs="audio")


def test_a_switched_off_branch_has_no_weights_and_no_influence():
    torch.manual_seed(0)
    batch = make_batch()
    blind = VQANet(10, 4, inputs="question", **SMALL).eval()
    assert not any(name.startswith(("cnn", "image_proj")) for name, _ in blind.named_parameters())
    out = blind(None, batch.questions, batch.lengths)
    assert torch.equal(out, blind(batch.images, batch.questions, batch.lengths, batch.image_index))
    deaf = VQANet(10, 4, inputs="image", **SMALL).eval()
    assert not any(name.startswith(("embedding", "rnn")) for name, _ in deaf.named_parameters())
    other_questions = torch.flip(batch.questions, [0])
    assert torch.equal(deaf(batch.images, batch.questions, batch.lengths, batch.image_index),
                       deaf(batch.images, other_questions, batch.lengths, batch.image_index))
    both = VQANet(10, 4, **SMALL).eval()
    assert not torch.allclose(both(batch.images, batch.questions, batch.lengths,
                                   batch.image_index),
                              both(batch.images, other_questions, batch.lengths.flip(0),
                                   batch.image_index))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_chain_reads_word_order_and_the_bag_does_not(cell):
    torch.manual_seed(0)
    images = torch.rand(1, 3, 8, 8)
    words = torch.tensor([[3, 4, 5, 6]])
    swapped = torch.tensor([[6, 5, 4, 3]])
    lengths = torch.tensor([4])
    chain = VQANet(10, 4, cell=cell, **SMALL).eval()
    bag = VQANet(10, 4, question_encoder="bag", **SMALL).eval()
    assert not torch.allclose(chain(images, words, lengths), chain(images, swapped, lengths))
    assert torch.allclose(bag(images, words, lengths), bag(images, swapped, lengths), atol=1e-6)
    # padding past the length changes nothing
    padded = torch.tensor([[3, 4, 5, 6, 0, 0]])
    assert torch.allclose(chain(images, words, lengths), chain(images, padded, lengths),
                          atol=1e-6)
    assert torch.allclose(bag(images, words, lengths), bag(images, padded, lengths), atol=1e-6)


def test_evaluate_counts_each_kind():
    torch.manual_seed(0)
    model = VQANet(10, 4, **SMALL)
    batches = [make_batch(seed=1), make_batch(b=4, u=2, seed=2)]
    scores = evaluate_vqa(model, batches)
    right, kinds = [], []
    for b in batches:
        pred = model(b.images, b.questions, b.lengths, b.image_index).argmax(1)
        right += (pred == b.answers).tolist()
        kinds += b.kinds.tolist()
    assert scores["questions"] == 10
    assert scores["acc"] == pytest.approx(sum(right) / 10)
    for k, name in enumerate(("acc_shape", "acc_color", "acc_yes_no")):
        mine = [r for r, kind in zip(right, kinds) if kind == k]
        assert scores[name] == pytest.approx(sum(mine) / len(mine))
    loss, metrics = vqa_step(model, batches[0])
    assert loss.shape == () and 0 <= float(metrics["acc"]) <= 1


def _fit(model, batch, steps=40):
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss, _ = vqa_step(model.train(), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return evaluate_vqa(model, [batch])["acc"], float(loss.detach())


def test_overfits_32_examples():
    """4 questions about each of 8 random pictures, every answer drawn at random: only a model
    that reads both the picture and the question can be right on all 32; either branch alone
    cannot."""
    g = torch.Generator().manual_seed(3)
    questions = torch.randint(1, 12, (4, 6), generator=g).repeat(8, 1)  # (32, 6)
    batch = VQABatch(questions, torch.full((32,), 6),
                     torch.randint(0, 256, (8, 3, 8, 8), generator=g, dtype=torch.uint8),
                     torch.arange(8).repeat_interleave(4), torch.randint(0, 5, (32,), generator=g),
                     torch.zeros(32, dtype=torch.long))
    size = {"embedding_dim": 16, "hidden_size": 32, "channels": (8, 16), "image_size": 8,
            "fusion_size": 64}
    torch.manual_seed(0)
    acc, loss = _fit(VQANet(12, 5, **size), batch)
    assert acc == 1.0 and loss < 0.05, (acc, loss)
    for inputs in ("question", "image"):
        torch.manual_seed(0)
        alone, _ = _fit(VQANet(12, 5, inputs=inputs, **size), batch)
        assert alone < 0.75, (inputs, alone)
