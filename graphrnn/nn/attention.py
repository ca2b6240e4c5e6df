"""Global attention over a memory (an encoder's states), for encoder-decoders.

Luong, Pham & Manning 2015, "Effective Approaches to Attention-based Neural Machine Translation",
https://arxiv.org/abs/1508.04025 (the ``"general"`` score); Bahdanau, Cho & Bengio 2015, "Neural
Machine Translation by Jointly Learning to Align and Translate", https://arxiv.org/abs/1409.0473
(the ``"additive"`` score); Luong et al.'s ``"dot"`` score has no parameters.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["Attention"]


class Attention(nn.Module):
    r"""Global attention of a query :math:`h` (B, H) over a memory :math:`m_1..m_S` (B, S, M)::

        e_s = h^T m_s                         ("dot", Luong et al. 2015; needs H == M)
        e_s = h^T W_a m_s                     ("general", Luong et al. 2015)
        e_s = v^T tanh(W_q h + W_k m_s)       ("additive", Bahdanau et al. 2015)
        a = softmax_s(e)  (masked positions get weight 0),   context = sum_s a_s m_s

    The memory side (:math:`m`, :math:`W_a m` or :math:`W_k m`) is computed once per source by
    :meth:`keys` and reused at every decoder step.

    Args:
        query_size (int): H.
        memory_size (int): M.
        score (str): ``"dot"``, ``"general"`` or ``"additive"``. (default: ``"general"``)

    Shape:
        - query: (B, H); keys: (B, S, H) from :meth:`keys`; memory: (B, S, M); mask: (B, S)
          bool, true on real positions.
        - output: ``(context (B, M), weights (B, S))``.
    """

    SCORES = ("dot", "general", "additive")

    def __init__(self, query_size: int, memory_size: int, score: str = "general"):
        super().__init__()
        if score not in self.SCORES:
            raise ValueError(f"Attention: score must be one of {self.SCORES}, got {score!r}")
        if score == "dot" and query_size != memory_size:
            raise ValueError(f"Attention: the 'dot' score needs query_size == memory_size, got "
                             f"{query_size} and {memory_size}")
        self.query_size, self.memory_size, self.score = query_size, memory_size, score
        if score != "dot":  # W_a m (or W_k m), computed once per source
            self.key = nn.Linear(memory_size, query_size, bias=False)
        if score == "additive":
            self.query = nn.Linear(query_size, query_size, bias=True)
            self.v = nn.Linear(query_size, 1, bias=False)

    def keys(self, memory: Tensor) -> Tensor:
        """Precompute the memory side once per source: (B, S, M) -> (B, S, H)."""
        return memory if self.score == "dot" else self.key(memory)

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor
                ) -> tuple[Tensor, Tensor]:
        """Returns ``(context (B, M), weights (B, S))``; ``mask`` (B, S) is true on real
        positions."""
        if query.dim() != 2 or query.size(-1) != self.query_size:
            raise ValueError(f"Attention: query must be (B, {self.query_size}), got "
                             f"{tuple(query.shape)}")
        if memory.dim() != 3 or memory.size(-1) != self.memory_size or \
                mask.shape != memory.shape[:2]:
            raise ValueError(f"Attention: memory must be (B, S, {self.memory_size}) and mask "
                             f"(B, S), got {tuple(memory.shape)} and {tuple(mask.shape)}")
        if self.score == "additive":
            e = self.v(torch.tanh(keys + self.query(query).unsqueeze(1))).squeeze(-1)
        else:
            e = torch.bmm(keys, query.unsqueeze(-1)).squeeze(-1)
        weights = torch.softmax(e.masked_fill(~mask, -math.inf), dim=-1)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1), weights

    def extra_repr(self) -> str:
        return f"{self.query_size}, {self.memory_size}, score={self.score!r}"
