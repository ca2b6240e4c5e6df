r"""A CTC reader: a bidirectional LSTM over frames, a CTC head over its outputs.

Graves, Fernández, Gomez & Schmidhuber 2006, "Connectionist Temporal Classification: Labelling
Unsegmented Sequence Data with Recurrent Neural Networks",
https://www.cs.toronto.edu/~graves/icml_2006.pdf::

    h_t = [LSTM_fwd(x_1..x_t); LSTM_bwd(x_t..x_T)]           (B, T, 2H)
    log p_t = log_softmax(W h_t + b)                         (T, B, C), class 0 the blank
    loss = -log sum_{pi : B(pi) = l} prod_t p_t[pi_t]        (torch.nn.CTCLoss)

Only the label sequence ``l`` is given, never which frames belong to which label; the network
learns the alignment through the loss. Decoding: best path (greedy) or prefix beam search
(:mod:`graphrnn.tasks.ctc`).

:func:`ctc_step` and :func:`ctc_scores` serve any CTC model ``model(inputs, lengths) -> (T, B, C)
log-probabilities`` with a ``head`` (:class:`~graphrnn.tasks.ctc.CTCHead`) and
``output_lengths(lengths)`` (frames out per input length): this reader, whose batches are
:class:`graphrnn.datasets.sequences.Utterances`, and the image line reader
(:class:`graphrnn.models.line_reader.LineReader`, batches
:class:`graphrnn.datasets.digit_strings.LineBatch`). A batch is a tuple ``(inputs, input lengths,
labels (B, S), label lengths)``.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..nn.rnn import LSTM
from ..tasks.ctc import CTCHead
from ..tasks.metrics import character_error_rate, sequence_exact_match

__all__ = ["CTCReader", "ctc_step", "ctc_scores", "sequence_accuracy"]


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

    def output_lengths(self, lengths: Tensor) -> Tensor:
        """Frames of output per input length: one per input frame."""
        return lengths


def _gold(labels: Tensor, label_lengths: Tensor) -> list[list[int]]:
    return [row[:n] for row, n in zip(labels.tolist(), label_lengths.tolist())]


def ctc_step(model: nn.Module, batch):
    """Trainer step of a CTC model on a batch ``(inputs, lengths, labels, label_lengths)``:
    ``(CTC loss, {})``; in eval mode also ``"seq_acc"``, the fraction of sequences whose greedy
    decoding is entirely right, and ``"cer"``, the character error rate of those decodings."""
    inputs, lengths, labels, label_lengths = batch
    log_probs = model(inputs, lengths)
    out_lengths = model.output_lengths(lengths)
    loss = model.head.loss(log_probs, labels, out_lengths, label_lengths)
    metrics = {}
    if not model.training:
        pred, gold = model.head.decode(log_probs, out_lengths), _gold(labels, label_lengths)
        metrics["seq_acc"] = sequence_exact_match(pred, gold)
        metrics["cer"] = character_error_rate(pred, gold)
    return loss, metrics


@torch.no_grad()
def ctc_scores(model: nn.Module, loader, beam_width: int = 1, device=None,
               return_predictions: bool = False) -> dict:
    """Decode every batch ``(inputs, lengths, labels, label_lengths)`` of ``loader`` (greedy when
    ``beam_width`` is 1, else prefix beam search) and score the labellings.

    Returns:
        ``{"seq_acc": fraction of sequences entirely right, "cer": summed edit distance over
        summed reference length}``; with ``return_predictions`` also ``"predictions"``, the
        decoded label lists in loader order.
    """
    model.eval()
    preds, golds = [], []
    for inputs, lengths, labels, label_lengths in loader:
        log_probs = model(inputs.to(device), lengths.to(device))
        out_lengths = model.output_lengths(lengths)
        preds += model.head.decode(log_probs, out_lengths, beam_width=beam_width)
        golds += _gold(labels, label_lengths)
    scores = {"seq_acc": sequence_exact_match(preds, golds),
              "cer": character_error_rate(preds, golds)}
    if return_predictions:
        scores["predictions"] = preds
    return scores


def sequence_accuracy(model: nn.Module, loader, beam_width: int = 1, device=None) -> float:
    """Fraction of the loader's sequences decoded entirely right (greedy when ``beam_width`` is
    1, else prefix beam search); see :func:`ctc_scores`."""
    return ctc_scores(model, loader, beam_width, device)["seq_acc"]
