"""Node classification on trees: a label for every node (SST phrases, expression values).

    h_v, c_v = TreeLSTM(W_e x_v, {(h_u, c_u) : u child of v})     logits_v = W_o h_v + b_o

The loss is the mean cross-entropy over all nodes; the metric that matters is usually the
accuracy at the roots (``root_acc``), reported beside the all-node accuracy (``node_acc``).
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.tree import TreeLSTM, tree_roots


class TreeNodeClassifier(nn.Module):
    """Embedding (a Linear on one-hot/dense node features, or a lookup on ``token`` ids) ->
    Tree-LSTM -> per-node logits.

    Args:
        in_features: size of ``data.x`` (dense features), or the vocabulary size when
            ``token_input=True`` (then nodes without a word, ``token == -1``, get zeros).
        hidden_size: H (also the embedding size).
        num_classes: C.
        variant: ``"nary"`` (default, ordered children) or ``"child_sum"``.
        dropout: on the embedding and on the states before the classifier. Default: 0.
        token_input: read ``data.token`` through an ``nn.Embedding``. Default: ``False``.

    ``forward(data) -> logits (N, C)``.
    """

    def __init__(self, in_features: int, hidden_size: int, num_classes: int,
                 variant: str = "nary", dropout: float = 0.0, token_input: bool = False):
        super().__init__()
        self.token_input = token_input
        self.embed = (nn.Embedding(in_features + 1, hidden_size, padding_idx=in_features)
                      if token_input else nn.Linear(in_features, hidden_size))
        self.tree = TreeLSTM(hidden_size, hidden_size, variant=variant)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, num_classes)

    def forward(self, data) -> Tensor:
        if self.token_input:
            token = data.token.clone()
            token[token < 0] = self.embed.padding_idx
            x = self.embed(token)
        else:
            x = self.embed(data.x)
        h, _ = self.tree(data, self.dropout(x))
        return self.out(self.dropout(h))


def tree_node_step(model: nn.Module, batch) -> tuple[Tensor, dict[str, Tensor]]:
    """Trainer step: mean cross-entropy over all nodes; node and root accuracy."""
    logits = model(batch)
    loss = F.cross_entropy(logits, batch.y)
    pred = logits.argmax(1)
    roots = tree_roots(batch.edge_index, batch.num_nodes)
    return loss, {"node_acc": (pred == batch.y).float().mean(),
                  "root_acc": (pred[roots] == batch.y[roots]).float().mean()}
