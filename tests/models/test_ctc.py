import torch

from graphrnn.datasets.sequences import DigitFrames
from graphrnn.models.ctc import CTCReader, ctc_step, sequence_accuracy

torch.set_num_threads(1)


def test_reader_shapes_loss_and_accuracy():
    torch.manual_seed(0)
    data = DigitFrames(12, seed=0, dim=8)
    batch = data.collate(list(data))
    model = CTCReader(8, 6)
    log_probs = model(batch.frames, batch.frame_lengths)
    assert log_probs.shape == (batch.frames.size(1), 12, 11)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]), atol=1e-5)
    loss, metrics = ctc_step(model.train(), batch)
    expected = torch.nn.functional.ctc_loss(log_probs, batch.labels, batch.frame_lengths,
                                            batch.label_lengths)
    assert torch.allclose(loss, expected, atol=1e-5) and metrics == {}
    _, metrics = ctc_step(model.eval(), batch)
    assert metrics["seq_acc"] == sequence_accuracy(model, [batch])
    # a few steps on one batch: the loss falls
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(30):
        loss2, _ = ctc_step(model, batch)
        opt.zero_grad()
        loss2.backward()
        opt.step()
    assert float(loss2.detach()) < 0.7 * float(loss.detach())
