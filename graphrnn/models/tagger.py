"""Synchronous sequence labelling: one tag per token with a bidirectional LSTM, optionally a CRF.

The tagger (Huang, Xu & Yu 2015, https://arxiv.org/abs/1508.01991; character CNN as in Ma & Hovy
2016, https://arxiv.org/abs/1603.01354) reads token ``t`` as the concatenation of

* a word embedding (trained from scratch; no pretrained vectors),
* optionally a character-level feature: max-pooled 1-D convolution over the word's characters,
* optionally a discrete feature embedding (e.g. the POS column of CoNLL-2000 when tagging chunks),

runs a bidirectional :class:`graphrnn.nn.LSTM` over the sentence and maps each output row to tag
scores (emissions) ``E[t, k]``. Without a CRF the tags are independent given ``E``:
``p(y_t = k) = softmax(E[t])_k``, trained by token cross-entropy and decoded by argmax. With a CRF
(:class:`graphrnn.nn.CRF`) the whole tag sequence is scored, ``s(y) = sum_t E[t, y_t] +
A[y_{t-1}, y_t]``, trained by its negative log-likelihood and decoded by Viterbi.

The same code tags words with POS tags, words with IOB2 chunk tags (scored by chunk F1 as
``conlleval`` computes it, :func:`graphrnn.tasks.conlleval`) and Chinese characters with BMES
word-segmentation tags (scored as word F1 through
:func:`~graphrnn.datasets.conll.bmes_to_iobes`).

Batches are :class:`~graphrnn.datasets.conll.TaggedBatch` namedtuples of padded ``(B, T)``
tensors, batch first, made by :class:`~graphrnn.datasets.conll.TaggingEncoder`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..datasets.conll import IGNORE, TaggedBatch, bmes_to_iobes
from ..datasets.text import Vocab
from ..nn.crf import CRF
from ..nn.rnn import LSTM
from ..tasks.conlleval import conlleval

__all__ = ["CharCNN", "BiLSTMTagger", "tagging_step", "evaluate_tagger"]

class CharCNN(nn.Module):
    """Character features of each word: embed, 1-D convolution, max over the characters
    (Ma & Hovy 2016). (..., L) ids (0 = padding) -> (..., channels)."""

    def __init__(self, num_chars: int, embedding_dim: int = 30, channels: int = 50,
                 kernel_size: int = 3):
        super().__init__()
        self.embedding = nn.Embedding(num_chars, embedding_dim, padding_idx=0)
        self.conv = nn.Conv1d(embedding_dim, channels, kernel_size, padding=kernel_size // 2)

    def forward(self, chars: Tensor) -> Tensor:
        lead, L = chars.shape[:-1], chars.size(-1)
        flat = chars.reshape(-1, L)
        e = self.embedding(flat).transpose(1, 2)                     # (W, E, L)
        h = self.conv(e).masked_fill((flat == 0).unsqueeze(1), -1e4)
        return h.max(dim=2).values.clamp_min(-1.0).view(*lead, -1)  # all-pad words -> -1


class BiLSTMTagger(nn.Module):
    """Bidirectional LSTM tagger with optional character CNN, feature embedding and CRF.

    Args:
        num_words: word vocabulary size (index 0 is padding, 1 unknown).
        num_tags: K.
        embedding_dim: word embedding size (default 100).
        hidden_size: LSTM units per direction (default 200).
        num_layers: stacked BiLSTM layers (default 1).
        dropout: on the token representation and the LSTM outputs (default 0.5).
        num_chars: character vocabulary size; 0 turns character features off (default 0).
        char_dim, char_channels, char_kernel: character CNN sizes (default 30, 50, 3).
        num_features: size of an extra discrete feature's vocabulary (e.g. POS); 0: none.
        feature_dim: its embedding size (default 20).
        crf: add a linear-chain CRF output layer (default ``False``).
        word_dropout: during training, replace each word id by ``<unk>`` (id 1) with this
            probability, so the unknown embedding is trained (default 0.05).

    Shapes: ``words`` (B, T), ``lengths`` (B,), ``chars`` (B, T, L), ``features`` (B, T) ->
    emissions (B, T, K).
    """

    def __init__(self, num_words: int, num_tags: int, embedding_dim: int = 100,
                 hidden_size: int = 200, num_layers: int = 1, dropout: float = 0.5,
                 num_chars: int = 0, char_dim: int = 30, char_channels: int = 50,
                 char_kernel: int = 3, num_features: int = 0, feature_dim: int = 20,
                 crf: bool = False, word_dropout: float = 0.05):
        super().__init__()
        if num_words < 2 or num_tags < 1:
            raise ValueError(f"BiLSTMTagger: need num_words >= 2 (pad, unk) and num_tags >= 1, got "
                             f"{num_words} and {num_tags}")
        self.num_tags, self.word_dropout = num_tags, word_dropout
        self.embedding = nn.Embedding(num_words, embedding_dim, padding_idx=0)
        size = embedding_dim
        self.chars = CharCNN(num_chars, char_dim, char_channels, char_kernel) if num_chars else None
        size += char_channels if num_chars else 0
        self.features = nn.Embedding(num_features, feature_dim, padding_idx=0) \
            if num_features else None
        size += feature_dim if num_features else 0
        self.dropout = nn.Dropout(dropout)
        self.lstm = LSTM(size, hidden_size, num_layers=num_layers, bidirectional=True,
                         batch_first=True, dropout=dropout if num_layers > 1 else 0.0)
        self.out = nn.Linear(2 * hidden_size, num_tags)
        self.crf = CRF(num_tags, batch_first=True) if crf else None

    def emissions(self, batch: TaggedBatch) -> Tensor:
        """Tag scores (B, T, K) of every token (zeros past each length)."""
        words = batch.words
        if words.dim() != 2:
            raise ValueError(f"BiLSTMTagger: batch.words must be (B, T), got {tuple(words.shape)}")
        if self.training and self.word_dropout > 0:
            drop = torch.rand(words.shape, device=words.device) < self.word_dropout
            words = words.masked_fill(drop & (words > 0), 1)
        parts = [self.embedding(words)]
        if self.chars is not None:
            if batch.chars is None:
                raise ValueError("BiLSTMTagger: built with character features; batch.chars is None")
            if batch.char_index is None:
                raise ValueError("BiLSTMTagger: batch.chars needs batch.char_index")
            per_type = self.chars(batch.chars)                       # (U, channels)
            parts.append(per_type[batch.char_index])                 # (B, T, channels)
        if self.features is not None:
            if batch.features is None:
                raise ValueError("BiLSTMTagger: built with a feature embedding; batch.features is "
                                 "None")
            parts.append(self.features(batch.features))
        x = self.dropout(torch.cat(parts, -1))
        packed = pack_padded_sequence(x, batch.lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=words.size(1))
        return self.out(self.dropout(out))

    def loss(self, batch: TaggedBatch, emissions: Tensor | None = None) -> Tensor:
        """Mean token cross-entropy, or with a CRF the NLL per token (summed over sentences,
        divided by the number of tokens)."""
        e = self.emissions(batch) if emissions is None else emissions
        if self.crf is None:
            return F.cross_entropy(e.reshape(-1, self.num_tags), batch.tags.reshape(-1),
                                   ignore_index=IGNORE)
        mask = batch.mask
        return self.crf.nll(e, batch.tags.masked_fill(~mask, 0), mask, reduction="token_mean")

    @torch.no_grad()
    def decode(self, batch: TaggedBatch, emissions: Tensor | None = None) -> list[list[int]]:
        """Best tag ids of every sentence (its own length): argmax, or Viterbi with a CRF."""
        e = self.emissions(batch) if emissions is None else emissions
        lengths = batch.lengths.tolist()
        if self.crf is not None:
            return self.crf.decode(e, batch.mask)
        best = e.argmax(-1).tolist()
        return [b[:n] for b, n in zip(best, lengths)]

    forward = emissions


def tagging_step(model: BiLSTMTagger, batch: TaggedBatch):
    """A :class:`~graphrnn.train.Trainer` step: ``(loss, {"acc": token accuracy})``."""
    e = model.emissions(batch)
    loss = model.loss(batch, e)
    with torch.no_grad():
        mask = batch.mask
        acc = ((e.argmax(-1) == batch.tags) & mask).sum().float() / mask.sum()
    return loss, {"acc": acc}


@torch.no_grad()
def evaluate_tagger(model: BiLSTMTagger, loader, tag_vocab: Vocab, scheme: str = "iob",
                    device=None) -> dict[str, float]:
    """Loss, token accuracy and chunk precision / recall / F1 over ``loader``.

    Args:
        tag_vocab: id -> tag string.
        scheme: ``"iob"`` (tags are chunk tags, scored as conlleval), ``"bmes"`` (segmentation
            tags, scored as words) or ``"none"`` (no chunk scores, e.g. POS).

    Returns:
        ``{"loss", "acc", "precision", "recall", "f1"}`` (fractions; no chunk keys for ``"none"``).
    """
    if scheme not in ("iob", "bmes", "none"):
        raise ValueError(f"evaluate_tagger: scheme must be 'iob', 'bmes' or 'none', got {scheme!r}")
    was = model.training
    model.eval()
    gold: list[list[str]] = []
    pred: list[list[str]] = []
    loss_sum, tokens, correct, sentences = 0.0, 0, 0, 0
    try:
        for batch in loader:
            if device is not None:
                batch = TaggedBatch(*(None if t is None else t.to(device) for t in batch))
            e = model.emissions(batch)
            n = int(batch.lengths.sum())
            loss_sum += float(model.loss(batch, e)) * n  # both losses are means per token
            for p, g, m in zip(model.decode(batch, e), batch.tags.tolist(), batch.lengths.tolist()):
                g = g[:m]
                correct += sum(int(a == b) for a, b in zip(p, g))
                gold.append([tag_vocab.lookup_token(i) for i in g])
                pred.append([tag_vocab.lookup_token(i) for i in p])
            tokens += n
            sentences += batch.words.size(0)
    finally:
        model.train(was)
    if tokens == 0:
        raise ValueError("evaluate_tagger: loader yielded no tokens")
    out = {"loss": loss_sum / tokens, "acc": correct / tokens}
    if scheme != "none":
        if scheme == "bmes":
            gold = [bmes_to_iobes(s) for s in gold]
            pred = [bmes_to_iobes(s) for s in pred]
        score = conlleval(gold, pred)
        out.update(precision=score.precision, recall=score.recall, f1=score.f1)
    return out
