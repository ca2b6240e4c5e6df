r"""A CTC reader: a bidirectional LSTM over frames, a CTC head over its outputs.

Graves, Fernández, Gomez & Schmidhuber 2006, "Connectionist Temporal Classification: Labelling
Unsegmented Sequence Data with Recurrent Neural Networks",
https://www.cs.toronto.edu/~graves/icml_2006.pdf::

    h_t = [LSTM_fwd(x_1..x_t); LSTM_bwd(x_t..x_T)]           (B, T, 2H)
    log p_t = log_softmax(W h_t + b)                         (T, B, C), class 0 the blank
    loss = -log sum_{pi : B(pi) = l} prod_t p_t[pi_t]        (torch.nn.CTCLoss)

Only the label sequence ``l`` is given, never which frames belong to which label; the network
learns the alignment through the loss. Decoding: best path (greedy) or prefix beam search
(:mod:`graphrnn.tasks.ctc`). Batches are :class:`graphrnn.datasets.sequences.Utterances`.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..datasets.sequences import Utterances
from ..nn.rnn import LSTM
from ..tasks.ctc import CTCHead
from ..tasks.metrics import sequence_exact_match

__all__ = ["CTCReader", "ctc_step", "sequence_accuracy"]


class CTCReader(nn.Module):
    """Bidirectional :class:`graphrnn.nn.LSTM` over the frames, :class:`~graphrnn.tasks.ctc.CTCHead`
    over its outputs.

    Args:
        input_size (int): F, features per frame.
        hidden_size (int): H per direction. (default: ``96``)
        num_layers (int): stacked LSTM layers. (default: ``1``)
        num_classes (int): C, the blank included. (default: ``11``: blank + 10 digits)
        blank (int): the blank class. (default: ``0``)

    Shape:
        - frames: (B, T, F) padded; lengths: (B,) frames per sequence.
        - output: (T, B, C) log-probabilities (rows past a sequence's length are padding).
    """

    def __init__(self, input_size: int, hidden_size: int = 96, num_layers: int = 1,
                 num_classes: int = 11, blank: int = 0):
        super().__init__()
        self.lstm = LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=True,
                         batch_first=True)
        self.head = CTCHead(2 * hidden_size, num_classes, blank=blank)

    def forward(self, frames: Tensor, lengths: Tensor) -> Tensor:
        if frames.dim() != 3 or lengths.shape != (frames.size(0),):
            raise ValueError(f"CTCReader: frames must be (B, T, F) and lengths (B,), got "
                             f"{tuple(frames.shape)} and {tuple(lengths.shape)}")
        packed = pack_padded_sequence(frames, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, total_length=frames.size(1))  # (T, B, 2H)
        return self.head(out)


def _gold(batch: Utterances) -> list[list[int]]:
    return [row[:n] for row, n in zip(batch.labels.tolist(), batch.label_lengths.tolist())]


def ctc_step(model: CTCReader, batch: Utterances):
    """Trainer step: ``(CTC loss, {})``; in eval mode also ``"seq_acc"``, the fraction of
    sequences whose greedy decoding is entirely right."""
    log_probs = model(batch.frames, batch.frame_lengths)
    loss = model.head.loss(log_probs, batch.labels, batch.frame_lengths, batch.label_lengths)
    metrics = {}
    if not model.training:
        pred = model.head.decode(log_probs, batch.frame_lengths)
        metrics["seq_acc"] = sequence_exact_match(pred, _gold(batch))
    return loss, metrics


@torch.no_grad()
def sequence_accuracy(model: CTCReader, loader, beam_width: int = 1, device=None) -> float:
    """Fraction of the loader's sequences decoded entirely right (greedy when ``beam_width`` is
    1, else prefix beam search)."""
    model.eval()
    hits = total = 0
    for batch in loader:
        log_probs = model(batch.frames.to(device), batch.frame_lengths.to(device))
        pred = model.head.decode(log_probs, batch.frame_lengths, beam_width=beam_width)
        gold = _gold(batch)
        hits += sum(int(p == g) for p, g in zip(pred, gold))
        total += len(gold)
    return hits / total
