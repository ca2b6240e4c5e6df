r"""Learn2Carry: an RNN that adds two integers digit by digit (the second RNN exercise of nndl,
chapter 6; the carry is the state a recurrent net must learn to keep).

Both operands are written least-significant digit first and read as *one synchronous chain*:
position ``t`` gets the pair ``(a_t, b_t)`` and emits digit ``t`` of the sum::

    x_t = [onehot(a_t); onehot(b_t)]    (or [E_a a_t; E_b b_t] with ``embedding_dim``), (B, T, 20)
    h_t = cell(x_t, h_{t-1})            graphrnn.nn.RNN / LSTM / GRU, (B, T, H)
    p(s_t | a_{<=t}, b_{<=t}) = softmax(W h_t + c)                                    (B, T, 10)

``s_t = (a_t + b_t + carry_{t-1}) mod 10`` depends on the past only through one bit, the carry,
so a small Elman network (Elman 1990) can represent the rule exactly; trained on operands of at
most 9 digits, it then adds 20- and 30-digit numbers if it learned the rule rather than the range.
The data come from :class:`graphrnn.datasets.addition.Learn2Carry`.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.rnn import GRU, LSTM, RNN
from ..tasks.metrics import exact_match

__all__ = ["AdditionRNN", "addition_step", "evaluate_addition", "add_numbers"]

CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


class AdditionRNN(nn.Module):
    r"""Synchronous chain RNN over digit pairs, one output digit per position.

    Args:
        hidden_size (int): ``H``. (default: ``32``)
        cell (str): ``"rnn"`` (Elman, tanh), ``"lstm"`` or ``"gru"``. (default: ``"gru"``)
        num_layers (int): stacked recurrent layers. (default: ``1``)
        embedding_dim (int, optional): embed each digit with its own table (one per operand) and
            concatenate, ``2 * embedding_dim`` inputs; ``None`` feeds the two one-hot codes,
            20 inputs. (default: ``None``)
        base (int): the radix. (default: ``10``)
        **rnn_kwargs: passed to the :mod:`graphrnn.nn` layer.

    Shape:
        - a, b: ``(B, T)`` long digits in ``[0, base)``, least significant first (``T`` may differ
          from the training length).
        - output: ``(B, T, base)`` logits of the sum's digits.
    """

    def __init__(self, hidden_size: int = 32, cell: str = "gru", num_layers: int = 1,
                 embedding_dim: int | None = None, base: int = 10, **rnn_kwargs: Any):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"AdditionRNN: cell must be one of {sorted(CELLS)}, got {cell!r}")
        if base < 2:
            raise ValueError(f"AdditionRNN: base must be >= 2, got {base}")
        self.hidden_size, self.cell, self.num_layers = hidden_size, cell, num_layers
        self.embedding_dim, self.base = embedding_dim, base
        if embedding_dim is None:
            self.embed_a = self.embed_b = None
            input_size = 2 * base
        else:
            self.embed_a = nn.Embedding(base, embedding_dim)
            self.embed_b = nn.Embedding(base, embedding_dim)
            input_size = 2 * embedding_dim
        self.rnn = CELLS[cell](input_size, hidden_size, num_layers, batch_first=True, **rnn_kwargs)
        self.head = nn.Linear(hidden_size, base)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        if a.shape != b.shape or a.dim() != 2:
            raise ValueError(f"AdditionRNN: a and b must both be (B, T) digit tensors, got a "
                             f"{tuple(a.shape)} and b {tuple(b.shape)}")
        for name, d in (("a", a), ("b", b)):
            if d.dtype != torch.long or (d.numel() and (int(d.min()) < 0
                                                        or int(d.max()) >= self.base)):
                raise ValueError(f"AdditionRNN: {name} must hold long digits in [0, {self.base}), "
                                 f"got dtype {d.dtype}" + (f", range [{int(d.min())}, "
                                                           f"{int(d.max())}]" if d.numel() else ""))
        if self.embed_a is None:
            x = torch.cat([F.one_hot(a, self.base), F.one_hot(b, self.base)], -1)
            x = x.to(self.head.weight.dtype)
        else:
            x = torch.cat([self.embed_a(a), self.embed_b(b)], -1)
        out, _ = self.rnn(x)
        return self.head(out)

    def config(self) -> dict:
        """The constructor arguments, for a checkpoint's ``config``."""
        return {"hidden_size": self.hidden_size, "cell": self.cell, "num_layers": self.num_layers,
                "embedding_dim": self.embedding_dim, "base": self.base}

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, hidden_size={self.hidden_size}"


def addition_step(model: nn.Module, batch) -> tuple[Tensor, dict]:
    """Trainer step: mean cross-entropy over every digit of the sum.

    Args:
        batch: an :class:`~graphrnn.datasets.addition.AdditionBatch` ``(a, b, sum)``.

    Returns:
        ``(loss, {"digit_acc": ..., "exact_match": ...})``; exact match counts a sum right only
        when all of its digits are.
    """
    a, b, s = batch
    logits = model(a, b)
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), s.reshape(-1))
    pred = logits.argmax(-1)
    return loss, {"digit_acc": (pred == s).float().mean(),
                  "exact_match": exact_match(pred, s)}


@torch.no_grad()
def add_numbers(model: nn.Module, a: Tensor, b: Tensor) -> Tensor:
    """The model's sums: ``(B, T)`` predicted digits of ``a + b`` (least significant first)."""
    was_training = model.training
    model.eval()
    try:
        return model(a, b).argmax(-1)
    finally:
        model.train(was_training)


@torch.no_grad()
def evaluate_addition(model: nn.Module, batch, batch_size: int = 1000) -> dict[str, float]:
    """Exact match and digit accuracy of ``model`` on an ``AdditionBatch`` (any length ``T``).

    Returns:
        ``{"exact_match": fraction of pairs whose whole sum is right, "digit_acc": ...,
        "wrong": number of wrong sums, "count": number of pairs}``.
    """
    a, b, s = batch
    device = next(model.parameters()).device
    preds = [add_numbers(model, a[i:i + batch_size].to(device),
                         b[i:i + batch_size].to(device)).cpu()
             for i in range(0, len(a), batch_size)]
    pred = torch.cat(preds) if preds else s.new_zeros(s.shape)
    wrong = int(((pred != s).any(-1)).sum())
    n = len(s)
    return {"exact_match": 1.0 - wrong / n if n else float("nan"),
            "digit_acc": float((pred == s).float().mean()) if n else float("nan"),
            "wrong": wrong, "count": n}
