"""LineReader (ConvEncoder -> columns -> BiLSTM -> CTC); the CTC step and scores on line batches."""
import pytest
import torch

from graphrnn.datasets.digit_strings import collate_lines
from graphrnn.models.ctc import ctc_scores, ctc_step
from graphrnn.models.line_reader import LineReader

torch.set_num_threads(1)


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    items = []
    for n in (3, 5, 4, 3):
        digits = torch.randint(10, (n,), generator=g).tolist()
        # one fixed pattern per digit, 8 columns each: a line the reader can learn by heart
        image = torch.cat([torch.rand(1, 12, 8, generator=torch.Generator().manual_seed(d))
                           for d in digits], dim=-1)
        items.append((image, digits))
    return collate_lines(items)


def test_shapes_lengths_and_loss():
    torch.manual_seed(0)
    batch = _batch()
    model = LineReader(12, channels=(4, 8, 8), hidden_size=8)
    log_probs = model(batch.images, batch.widths)
    # width halved once by the default pools: 8 pixels a digit -> 4 frames
    assert log_probs.shape == (batch.images.size(-1) // 2, 4, 11)
    assert model.output_lengths(batch.widths).tolist() == [12, 20, 16, 12]
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]), atol=1e-5)
    loss, metrics = ctc_step(model.train(), batch)
    assert metrics == {} and loss.ndim == 0 and torch.isfinite(loss)
    model.eval()
    _, metrics = ctc_step(model, batch)
    scores = ctc_scores(model, [batch], return_predictions=True)
    assert metrics["seq_acc"] == scores["seq_acc"] and metrics["cer"] == scores["cer"]
    assert len(scores["predictions"]) == 4
    assert "height=12" in repr(model)


def test_a_few_steps_on_one_batch_learn_it():
    torch.manual_seed(0)
    batch = _batch()
    model = LineReader(12, channels=(8, 16, 16), hidden_size=16)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    assert ctc_scores(model, [batch])["seq_acc"] == 0
    for _ in range(90):
        loss, _ = ctc_step(model.train(), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert ctc_scores(model, [batch]) == {"seq_acc": 1.0, "cer": 0.0}


def test_errors_name_the_shapes():
    model = LineReader(12, channels=(4, 4, 4), hidden_size=4)
    with pytest.raises(ValueError, match=r"images must be \(B, C, 12, W\)"):
        model(torch.zeros(2, 1, 16, 20), torch.tensor([20, 20]))
    with pytest.raises(ValueError, match=r"widths must be in \[1, W=20\]"):
        model(torch.zeros(2, 1, 12, 20), torch.tensor([20, 25]))
    with pytest.raises(ValueError, match="pool away to nothing"):
        LineReader(4, channels=(4, 4, 4))
