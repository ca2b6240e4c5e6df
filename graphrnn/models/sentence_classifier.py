r"""A class on every phrase of a parsed sentence, read as a *chain* of its words: the sequence
baseline of :class:`~graphrnn.models.tree_classifier.TreeClassifier`.

The same data (SST trees), embedding, dropouts and classifier as the tree model; only the graph
the recurrence runs on differs. A phrase (tree node) ``v`` covering the words
``w_s .. w_{s+L-1}`` is scored from an LSTM run over that span alone, as a chain
``s -> s+1 -> ... -> s+L-1``::

    x_t = dropout_in(E[w_t])                                      (words, in sentence order)
    h_v = LSTM(x_s, ..., x_{s+L-1})_final                          graphrnn.nn.LSTM, (N, H)
    h_v = [LSTM_fwd(x_s..x_{s+L-1})_final ; LSTM_bwd(x_{s+L-1}..x_s)_final]   bidirectional (N, 2H)
    p(y_v) = softmax(W dropout(h_v) + b)                           (N, C)

A one-word phrase is one LSTM step from the zero state, which is the N-ary Tree-LSTM's leaf
update too (no children: ``c = i * u``). The root's span is the whole sentence, so the root is
scored exactly as a sequence classifier scores the sentence, and the brackets never matter: the
same words in another tree give the root the same output.

These are the sequential baselines of Tai, Socher & Manning 2015 ("Improved Semantic
Representations From Tree-Structured Long Short-Term Memory Networks", table 2,
https://arxiv.org/abs/1503.00075); the spans are handed to the fused LSTM kernel as one
``PackedSequence`` per batch.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from ..nn.rnn import LSTM
from ..nn.tree import tree_roots

__all__ = ["SentenceClassifier", "leaf_spans", "pack_spans"]


def leaf_spans(edge_index: Tensor, is_leaf: Tensor) -> tuple[Tensor, Tensor]:
    """The words every node of a batch of trees covers, as positions in the batch's leaf order.

    Leaves are numbered in node order (``tree_graph``'s pre-order numbering puts a tree's leaves
    left to right, and PyG batching keeps trees consecutive), so leaf ``k`` of the batch is row
    ``k`` of ``x[is_leaf]``. Each leaf's position is carried up its parent chain, one level of
    ancestors per step (as many steps as the deepest leaf, ~20-50 on SST), taking the minimum
    and counting leaves on the way.

    Args:
        edge_index: (2, E) edges ``child -> parent``.
        is_leaf: (N,) bool.

    Returns:
        ``(start (N,), length (N,))``: node ``v`` covers leaves ``start[v] .. start[v] +
        length[v] - 1``.
    """
    num_nodes = is_leaf.numel()
    device = is_leaf.device
    parent = torch.arange(num_nodes, device=device)
    parent[edge_index[0]] = edge_index[1]
    leaves = is_leaf.nonzero().flatten()
    position = torch.arange(leaves.numel(), device=device)
    start = torch.full((num_nodes,), leaves.numel(), dtype=torch.long, device=device)
    length = torch.zeros(num_nodes, dtype=torch.long, device=device)
    node = leaves
    while node.numel():
        start.scatter_reduce_(0, node, position, "amin")
        length.index_add_(0, node, torch.ones_like(node))
        up = parent[node]
        moving = up != node                  # roots are their own parent: those leaves are done
        node, position = up[moving], position[moving]
    return start, length


def pack_spans(rows: Tensor, start: Tensor, length: Tensor) -> PackedSequence:
    """Spans of ``rows`` (W, I) as one ``PackedSequence``: sequence ``k`` is
    ``rows[start[k] : start[k] + length[k]]``. Every length must be >= 1. The result's
    ``unsorted_indices`` restore span order, so an RNN's final state ``h_n[:, k]`` is span ``k``'s.
    """
    steps = int(length.max())
    order = torch.argsort(length, descending=True, stable=True)
    sorted_length, sorted_start = length[order], start[order]
    # batch_sizes[t] = spans longer than t (non-increasing, as packing needs)
    t = torch.arange(steps, device=length.device)
    live = t.unsqueeze(1) < sorted_length.unsqueeze(0)                          # (T, S)
    index = (sorted_start.unsqueeze(0) + t.unsqueeze(1))[live]                  # time-major rows
    batch_sizes = live.sum(1).cpu()
    unsorted = torch.empty_like(order)
    unsorted[order] = torch.arange(order.numel(), device=order.device)
    return PackedSequence(rows.index_select(0, index), batch_sizes, order, unsorted)


class SentenceClassifier(nn.Module):
    r"""Per-phrase classifier over trees that reads every phrase as a chain of its words.

    Takes the same batches as :class:`~graphrnn.models.tree_classifier.TreeClassifier` (PyG
    trees with ``token`` (N,), ``is_leaf`` (N,), edges ``child -> parent``) and returns the same
    logits, so :func:`~graphrnn.models.tree_classifier.tree_step` and
    :func:`~graphrnn.models.tree_classifier.evaluate_trees` train and score it unchanged.

    Args:
        num_inputs (int): the vocabulary size ``V``.
        num_classes (int): ``C``.
        embedding_dim (int): ``I``, the word-vector size. (default: ``300``)
        hidden (int): ``H``, LSTM units per direction. (default: ``150``)
        bidirectional (bool): a BiLSTM; the classifier reads ``2H``. (default: ``False``)
        dropout (float): on h before the classifier. (default: ``0.5``)
        input_dropout (float): on the word vectors. (default: ``0.0``)
        word_dropout (float): while training, the probability that a word is read as
            ``unk_index``. (default: ``0.0``)
        unk_index (int): the unknown word's row. (default: ``0``)
        sparse (bool): sparse word-vector gradients. (default: ``False``)
        phrases (bool): while training, run every phrase (every node); ``False`` runs only the
            sentences (roots), 1/8 of the word-steps on SST, and the other rows are 0, so they carry
            no label (``SST(labels="root")``). Evaluation always scores every node.
            (default: ``True``)
        engine (str): :class:`graphrnn.nn.LSTM`'s ``engine``. ``"generic"`` is graphrnn's own
            chain kernel, the engine the Tree-LSTM runs on too; on SST's span batches it measured
            1.2-1.4x faster per training step than PyTorch's packed-sequence path (``"auto"``),
            with the same numbers. (default: ``"generic"``)

    ``forward(data) -> logits (N, C)``; leaves must be numbered left to right (see
    :func:`leaf_spans`).
    """

    body_name = "lstm"

    def __init__(self, num_inputs: int, num_classes: int, embedding_dim: int = 300,
                 hidden: int = 150, bidirectional: bool = False, dropout: float = 0.5,
                 input_dropout: float = 0.0, word_dropout: float = 0.0, unk_index: int = 0,
                 sparse: bool = False, phrases: bool = True, engine: str = "generic"):
        super().__init__()
        for name, value in (("num_inputs", num_inputs), ("num_classes", num_classes),
                            ("embedding_dim", embedding_dim), ("hidden", hidden)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"SentenceClassifier: {name} must be a positive int, got "
                                 f"{value!r}")
        self.config = dict(num_inputs=num_inputs, num_classes=num_classes,
                           embedding_dim=embedding_dim, hidden=hidden,
                           bidirectional=bidirectional, dropout=dropout,
                           input_dropout=input_dropout, word_dropout=word_dropout,
                           unk_index=unk_index, sparse=sparse, phrases=phrases, engine=engine)
        self.word_dropout, self.unk_index, self.phrases = word_dropout, unk_index, phrases
        self.embedding = nn.Embedding(num_inputs, embedding_dim, sparse=sparse)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        self.lstm = LSTM(embedding_dim, hidden, bidirectional=bidirectional, engine=engine)
        self.input_dropout = nn.Dropout(input_dropout)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden * (2 if bidirectional else 1), num_classes)

    def forward(self, data) -> Tensor:
        """Logits (N, C) of every node of ``data`` (in training with ``phrases=False``: of the
        roots, 0 elsewhere)."""
        token = getattr(data, "token", None)
        is_leaf = getattr(data, "is_leaf", None)
        if token is None or is_leaf is None:
            missing = "token" if token is None else "is_leaf"
            raise ValueError(f"SentenceClassifier: data has no '{missing}' (N,); it reads trees "
                             f"as graphrnn.datasets.SST gives them")
        word = token[is_leaf]                                                   # (W,) in order
        if (word < 0).any():
            raise ValueError("SentenceClassifier: a leaf has no word (token -1)")
        if self.training and self.word_dropout > 0:
            unknown = torch.rand(word.shape, device=word.device) < self.word_dropout
            word = torch.where(unknown, torch.full_like(word, self.unk_index), word)
        x = self.input_dropout(self.embedding(word))                            # (W, I)
        start, length = leaf_spans(data.edge_index, is_leaf)
        nodes = None
        if self.training and not self.phrases:
            nodes = tree_roots(data.edge_index, data.num_nodes)
            start, length = start[nodes], length[nodes]
        _, (h_n, _) = self.lstm(pack_spans(x, start, length))                   # (D, S, H)
        h = h_n.transpose(0, 1).reshape(h_n.size(1), -1)                        # (S, D*H)
        logits = self.classifier(self.dropout(h))
        if nodes is None:
            return logits
        return logits.new_zeros(data.num_nodes, logits.size(1)).index_copy(0, nodes, logits)

    def extra_repr(self) -> str:
        return ", ".join(s for s in (f"word_dropout={self.word_dropout}" if self.word_dropout
                                     else "", "" if self.phrases else "phrases=False") if s)
