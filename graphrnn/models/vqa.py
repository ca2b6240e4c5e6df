r"""Visual question answering: a CNN reads the picture, an RNN the question, a classifier the
answer.

The two-branch model of Antol et al. 2015, "VQA: Visual Question Answering"
(https://arxiv.org/abs/1505.00468), trained from scratch on small pictures::

    v = ReLU(W_v max_{i,j} CNN(image)[:, i, j] + b_v)       (B, F)  the picture
    q = tanh(W_q h_T + b_q)                                 (B, F)  the question
    z = [q; v; q * v]                                       (B, 3F) concatenation and product
    p(answer | image, question) = softmax(W_2 ReLU(W_1 z))  (B, A)

``q`` is signed and ``v`` is not, so a question can turn a seen attribute (``v_d > 0``) into
evidence for or against an answer through ``q_d * v_d`` ("is there a red shape?" against "is
there not a red shape?").

``CNN`` is :class:`graphrnn.nn.ConvEncoder`; its grid is max-pooled over positions, so a shape
is recognised wherever it lies (``image_pool="flatten"`` keeps the positions instead; trained
alone to name the shape of easy-VQA's train pictures for one epoch, the max-pooled CNN named 97.4%
of the validation pictures' shapes, the flattened one 32.2%); ``h_T`` is the last state of a
:class:`graphrnn.nn.LSTM` (or ``GRU``) run along the question's chain of words
(``question_encoder="chain"``), or, for ``"bag"``, the mean of the word embeddings, which ignores
the words' order. ``inputs="question"`` or ``"image"`` switches a branch off (``z`` is then ``q`` or
``v`` alone): the blind and the deaf baselines that show what each modality contributes.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..datasets.easy_vqa import KINDS, VQABatch
from ..nn.image_encoder import ConvEncoder
from ..nn.rnn import GRU, LSTM

__all__ = ["VQANet", "vqa_step", "evaluate_vqa", "INPUTS", "QUESTION_ENCODERS"]

INPUTS = ("both", "question", "image")
QUESTION_ENCODERS = ("chain", "bag")
_CELLS = {"lstm": LSTM, "gru": GRU}


class VQANet(nn.Module):
    r"""CNN image branch, recurrent question branch, fused by concatenation and product.

    Args:
        vocab_size (int): words of the question vocabulary (index 0 the padding).
        num_answers (int): A, the answers to choose from.
        inputs (str): ``"both"``, ``"question"`` (no picture) or ``"image"`` (no question).
            (default: ``"both"``)
        question_encoder (str): ``"chain"`` (an RNN along the words) or ``"bag"`` (mean of
            the embeddings). (default: ``"chain"``)
        cell (str): ``"lstm"`` or ``"gru"`` for the chain. (default: ``"lstm"``)
        embedding_dim (int): word-embedding size. (default: ``32``)
        hidden_size (int): RNN state size. (default: ``64``)
        channels (sequence of int): the CNN's stage widths, each stage halving the picture.
            (default: ``(16, 32, 64, 64)``)
        image_size (int or (h, w)): the pictures' size. (default: ``64``)
        image_pool (str): ``"max"`` over the grid's positions or ``"flatten"`` (keeps them).
            (default: ``"max"``)
        fusion_size (int): F, the size of ``q`` and ``v``. (default: ``128``)
        dropout (float): dropout on ``z``. (default: ``0.0``)

    Shape:
        - images: (U, 3, H, W), float in [0, 1] or ``uint8`` (divided by 255 here).
        - questions: (B, T) word indices, 0-padded; lengths: (B,).
        - image_index (optional): (B,) the picture of each question (default: ``arange(B)``,
          one picture per question).
        - output: (B, A) logits.
    """

    def __init__(self, vocab_size: int, num_answers: int, inputs: str = "both",
                 question_encoder: str = "chain", cell: str = "lstm", embedding_dim: int = 32,
                 hidden_size: int = 64, channels: Sequence[int] = (16, 32, 64, 64),
                 image_size: int | Sequence[int] = 64, image_pool: str = "max",
                 fusion_size: int = 128, dropout: float = 0.0):
        super().__init__()
        if inputs not in INPUTS:
            raise ValueError(f"VQANet: inputs must be one of {INPUTS}, got {inputs!r}")
        if question_encoder not in QUESTION_ENCODERS:
            raise ValueError(f"VQANet: question_encoder must be one of {QUESTION_ENCODERS}, got "
                             f"{question_encoder!r}")
        if image_pool not in ("max", "flatten"):
            raise ValueError(f"VQANet: image_pool must be 'max' or 'flatten', got {image_pool!r}")
        if cell not in _CELLS:
            raise ValueError(f"VQANet: cell must be one of {tuple(_CELLS)}, got {cell!r}")
        self.inputs, self.question_encoder, self.cell = inputs, question_encoder, cell
        self.num_answers, self.fusion_size = num_answers, fusion_size
        if inputs != "image":
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            if question_encoder == "chain":
                self.rnn = _CELLS[cell](embedding_dim, hidden_size, batch_first=True)
                width = hidden_size
            else:
                width = embedding_dim
            self.question_proj = nn.Linear(width, fusion_size)
        if inputs != "question":
            h, w = (image_size, image_size) if isinstance(image_size, int) else image_size
            self.image_size, self.image_pool = (h, w), image_pool
            self.cnn = ConvEncoder(3, channels)
            gh, gw = self.cnn.output_size(h, w)
            cells = gh * gw if image_pool == "flatten" else 1
            self.image_proj = nn.Linear(self.cnn.out_channels * cells, fusion_size)
        fused = fusion_size * (3 if inputs == "both" else 1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(fused, fusion_size),
                                        nn.ReLU(), nn.Linear(fusion_size, num_answers))

    def encode_question(self, questions: Tensor, lengths: Tensor) -> Tensor:
        """(B, T), (B,) -> q (B, F)."""
        if questions.dim() != 2 or lengths.shape != (questions.size(0),):
            raise ValueError(f"VQANet: questions must be (B, T) and lengths (B,), got "
                             f"{tuple(questions.shape)} and {tuple(lengths.shape)}")
        emb = self.embedding(questions)  # (B, T, E)
        if self.question_encoder == "bag":
            state = emb.sum(1) / lengths.clamp(min=1).unsqueeze(1).to(emb.dtype)
        else:
            packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True,
                                          enforce_sorted=False)
            _, h_n = self.rnn(packed)
            state = (h_n[0] if isinstance(h_n, tuple) else h_n)[-1]  # last layer, (B, H)
        return torch.tanh(self.question_proj(state))

    def encode_image(self, images: Tensor) -> Tensor:
        """(U, 3, H, W) -> v (U, F)."""
        if images.dim() != 4 or tuple(images.shape[1:]) != (3, *self.image_size):
            raise ValueError(f"VQANet: images must be (U, 3, {self.image_size[0]}, "
                             f"{self.image_size[1]}), got {tuple(images.shape)}")
        if not images.is_floating_point():
            images = images.float() / 255
        grid = self.cnn(images)  # (U, C, H', W')
        pooled = grid.flatten(1) if self.image_pool == "flatten" else grid.amax((2, 3))
        return F.relu(self.image_proj(pooled))

    def forward(self, images: Tensor | None, questions: Tensor | None,
                lengths: Tensor | None, image_index: Tensor | None = None) -> Tensor:
        parts = []
        if self.inputs != "image":
            parts.append(self.encode_question(questions, lengths))
        if self.inputs != "question":
            v = self.encode_image(images)
            if image_index is not None:
                v = v[image_index]  # one row per question, (B, F)
            if parts and v.size(0) != parts[0].size(0):
                raise ValueError(f"VQANet: {v.size(0)} pictures for {parts[0].size(0)} "
                                 "questions; give image_index (B,) to share pictures")
            parts.append(v)
        if len(parts) == 2:
            parts.append(parts[0] * parts[1])
        return self.classifier(torch.cat(parts, 1))

    def extra_repr(self) -> str:
        return (f"inputs={self.inputs!r}, question_encoder={self.question_encoder!r}, "
                f"cell={self.cell!r}, answers={self.num_answers}, fusion_size={self.fusion_size}")


def _logits(model: VQANet, batch: VQABatch) -> Tensor:
    return model(batch.images, batch.questions, batch.lengths, batch.image_index)


def vqa_step(model: VQANet, batch: VQABatch):
    """Trainer step: ``(cross-entropy, {"acc": share of questions answered right})``."""
    logits = _logits(model, batch)
    loss = F.cross_entropy(logits, batch.answers)
    return loss, {"acc": (logits.argmax(1) == batch.answers).float().mean()}


@torch.no_grad()
def evaluate_vqa(model: VQANet, loader, device=None) -> dict:
    """Accuracy over the loader's questions, overall and per kind of question.

    Returns ``{"acc", "acc_shape", "acc_color", "acc_yes_no", "questions"}`` (accuracies in 0-1;
    a kind with no questions gives NaN).
    """
    model.eval()
    hits = torch.zeros(len(KINDS))
    totals = torch.zeros(len(KINDS))
    for batch in loader:
        batch = VQABatch(*(t.to(device) if device is not None else t for t in batch))
        right = (_logits(model, batch).argmax(1) == batch.answers).float().cpu()
        kinds = batch.kinds.cpu()
        hits += torch.bincount(kinds, right, minlength=len(KINDS))
        totals += torch.bincount(kinds, minlength=len(KINDS)).float()
    scores = {"acc": float(hits.sum() / totals.sum())}
    for k, name in enumerate(KINDS):
        key = "acc_" + name.replace("/", "_")
        scores[key] = float(hits[k] / totals[k]) if totals[k] else float("nan")
    scores["questions"] = int(totals.sum())
    return scores
