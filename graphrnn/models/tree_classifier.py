r"""A class on every node of a tree: inputs -> Tree-LSTM -> dropout -> linear classifier.

One model serves the Stanford Sentiment Treebank (Tai, Socher & Manning 2015, "Improved Semantic
Representations From Tree-Structured Long Short-Term Memory Networks", section 5.1,
https://arxiv.org/abs/1503.00075) and the generated expression trees of the tour::

    x_v = dropout_in(E[token_v])    (word nodes; 0 elsewhere)   or   x_v = W_in x_v (dense inputs)
    h_v = TreeLSTM(x_v, {h_c : c child of v})                    graphrnn.nn.TreeLSTM, (N, H)
    p(y_v) = softmax(W dropout(h_v) + b)                         (N, C)

Every labelled node is a training example (cross-entropy over the nodes with ``y >= 0``,
:func:`tree_step`); a sentence is scored by the class of its root (:func:`evaluate_trees`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.tree import TreeLSTM, tree_roots

__all__ = ["TreeClassifier", "tree_step", "evaluate_trees", "predict_tree", "TreeEnsemble",
           "load_vectors", "copy_weights"]

INPUTS = ("token", "features")


class TreeClassifier(nn.Module):
    r"""Per-node classifier over trees (edges ``child -> parent``, as
    :func:`graphrnn.structures.tree_graph` builds them).

    Args:
        num_inputs (int): the vocabulary size ``V`` (``inputs="token"``) or the width of
            ``data.x`` (``inputs="features"``).
        num_classes (int): ``C``.
        embedding_dim (int): ``I``, the word-vector (or projected input) size. (default: ``300``)
        hidden (int): ``H``. (default: ``150``)
        variant (str): ``"nary"`` (ordered children) or ``"child_sum"``, as
            :class:`~graphrnn.nn.TreeLSTM`. (default: ``"nary"``)
        arity (int): children per node of the N-ary variant. (default: ``2``)
        dropout (float): on h before the classifier. (default: ``0.5``)
        input_dropout (float): on the node inputs. (default: ``0.0``)
        word_dropout (float): while training, the probability that a word is read as
            ``unk_index``. (default: ``0.0``)
        unk_index (int): the unknown word's row. (default: ``0``)
        sparse (bool): sparse word-vector gradients (only a batch's rows; Adagrad and SGD take
            them, and without weight decay on the vectors the updates equal dense ones).
            (default: ``False``)
        inputs (str): ``"token"``: look up ``data.token`` (N,) in word vectors uniform in
            +-0.05, -1 where a node has no word (its input is 0); ``"features"``: a linear map
            of ``data.x`` (N, num_inputs). (default: ``"token"``)

    ``forward(data) -> logits (N, C)``.
    """

    body_name = "tree"  # the recurrent submodule, for copy_weights

    def __init__(self, num_inputs: int, num_classes: int, embedding_dim: int = 300,
                 hidden: int = 150, variant: str = "nary", arity: int = 2, dropout: float = 0.5,
                 input_dropout: float = 0.0, word_dropout: float = 0.0, unk_index: int = 0,
                 sparse: bool = False, inputs: str = "token"):
        super().__init__()
        if inputs not in INPUTS:
            raise ValueError(f"TreeClassifier: inputs must be one of {INPUTS}, got {inputs!r}")
        for name, value in (("num_inputs", num_inputs), ("num_classes", num_classes),
                            ("embedding_dim", embedding_dim), ("hidden", hidden)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"TreeClassifier: {name} must be a positive int, got {value!r}")
        self.config = dict(num_inputs=num_inputs, num_classes=num_classes,
                           embedding_dim=embedding_dim, hidden=hidden, variant=variant,
                           arity=arity, dropout=dropout, input_dropout=input_dropout,
                           word_dropout=word_dropout, unk_index=unk_index, sparse=sparse,
                           inputs=inputs)
        self.inputs, self.word_dropout, self.unk_index = inputs, word_dropout, unk_index
        if inputs == "token":
            self.embedding = nn.Embedding(num_inputs, embedding_dim, sparse=sparse)
            nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        else:
            self.embedding = nn.Linear(num_inputs, embedding_dim)
        self.tree = TreeLSTM(embedding_dim, hidden, variant=variant, arity=arity)
        self.input_dropout = nn.Dropout(input_dropout)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, data) -> Tensor:
        """Logits (N, C) of every node of ``data``."""
        if self.inputs == "features":
            h, _ = self.tree(data, self.input_dropout(self.embedding(data.x)))
            return self.classifier(self.dropout(h))
        token = getattr(data, "token", None)
        if token is None:
            raise ValueError("TreeClassifier(inputs='token'): data has no 'token' (N,) of word "
                             "ids; use inputs='features' for dense data.x")
        has_word = token >= 0
        if self.training and self.word_dropout > 0:
            unknown = torch.rand(token.shape, device=token.device) < self.word_dropout
            token = torch.where(unknown & has_word, torch.full_like(token, self.unk_index), token)
        x = self.input_dropout(self.embedding(token.clamp(min=0)))
        h, _ = self.tree(data, x, has_input=has_word)
        return self.classifier(self.dropout(h))

    def extra_repr(self) -> str:
        return f"inputs={self.inputs!r}" + (f", word_dropout={self.word_dropout}"
                                            if self.word_dropout else "")


def _roots(batch) -> Tensor:
    """The root of every tree of ``batch``: ``batch.root_index`` when the data set stores it
    (PyG offsets it per graph), else the nodes without a parent."""
    roots = getattr(batch, "root_index", None)
    return roots if roots is not None else tree_roots(batch.edge_index, batch.num_nodes)


def tree_step(model: nn.Module, batch) -> tuple[Tensor, dict[str, Tensor]]:
    """Trainer step: mean cross-entropy over the labelled nodes (``y >= 0``); root accuracy of
    the batch."""
    logits = model(batch)
    loss = F.cross_entropy(logits, batch.y, ignore_index=-1)
    roots = _roots(batch)
    return loss, {"root_acc": (logits[roots].argmax(1) == batch.y[roots]).float().mean()}


@torch.no_grad()
def evaluate_trees(model: nn.Module, loader, device=None) -> dict[str, float]:
    """Mean node loss, root and phrase (all labelled nodes) accuracy over ``loader``; for a
    5-class (SST) model also ``binary_from_fine_root_acc``: the root accuracy on sentences whose
    gold class is not 2, predicting positive when p(3)+p(4) > p(0)+p(1)."""
    was_training = model.training
    model.eval()
    loss_sum = nodes = roots_right = roots = phrases_right = bin_right = bin_total = 0
    try:
        for batch in loader:
            batch = batch.to(device) if device is not None else batch
            logits = model(batch)
            keep = batch.y >= 0
            loss_sum += float(F.cross_entropy(logits[keep], batch.y[keep], reduction="sum"))
            nodes += int(keep.sum())
            phrases_right += int((logits[keep].argmax(1) == batch.y[keep]).sum())
            r = _roots(batch)
            roots_right += int((logits[r].argmax(1) == batch.y[r]).sum())
            roots += r.numel()
            if logits.size(1) == 5:
                p, y = logits[r].softmax(1), batch.y[r]
                polar = y != 2
                pred_pos = p[:, 3:].sum(1) > p[:, :2].sum(1)
                bin_right += int((pred_pos[polar] == (y[polar] > 2)).sum())
                bin_total += int(polar.sum())
    finally:
        model.train(was_training)
    out = {"loss": loss_sum / max(nodes, 1), "root_acc": roots_right / max(roots, 1),
           "phrase_acc": phrases_right / max(nodes, 1)}
    if bin_total:
        out["binary_from_fine_root_acc"] = bin_right / bin_total
    return out


@torch.no_grad()
def predict_tree(model: nn.Module, data) -> Tensor:
    """Predicted class (N,) of every node of one tree (the model is left in eval mode)."""
    from torch_geometric.data import Batch

    model.eval()
    return model(Batch.from_data_list([data])).argmax(1)


class TreeEnsemble(nn.Module):
    """Members' class probabilities averaged; ``forward`` returns their log, so ``argmax``,
    ``softmax`` and cross-entropy read it as logits."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if not members:
            raise ValueError("TreeEnsemble: needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, batch) -> Tensor:
        return torch.stack([m(batch).softmax(1) for m in self.members]).mean(0).log()


def load_vectors(path, vocab, dim: int) -> tuple[Tensor, int]:
    """Rows of ``vocab`` from a GloVe or word2vec *text* file (``word v1 ... vD`` a line; a
    word2vec ``count dim`` header is skipped; GloVe 840B's words with spaces are kept). Words the
    file lacks keep a uniform(-0.05, 0.05) vector. Returns ``(vectors (V, dim), words found)``.

    Raises ``ValueError`` naming the file and line when a line is narrower than ``dim + 1``.
    """
    vectors = torch.empty(len(vocab), dim).uniform_(-0.05, 0.05)
    found = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.rstrip().split(" ")
            if lineno == 1 and len(fields) == 2 and all(x.isdigit() for x in fields):
                continue
            if len(fields) < dim + 1:
                raise ValueError(f"{path}:{lineno}: expected a word and {dim} numbers, got "
                                 f"{len(fields)} fields; is --embedding-dim right?")
            word = " ".join(fields[:-dim])
            if word in vocab:
                vectors[vocab[word]] = torch.tensor([float(v) for v in fields[-dim:]])
                found += 1
    return vectors, found


def copy_weights(model: nn.Module, vocab, state: dict, old_vocab, source: str = "") -> str:
    """Start ``model`` from another classifier's weights ``state`` (its vocabulary
    ``old_vocab``): the recurrent body's (the Tree-LSTM ``tree.*`` of a :class:`TreeClassifier`,
    the LSTM ``lstm.*`` of a :class:`~graphrnn.models.sentence_classifier.SentenceClassifier`:
    ``model.body_name``), the word vectors of the words both vocabularies hold, and the
    classifier when both have as many classes (a fine-grained model for the binary task).
    Returns a one-line summary; a ``ValueError`` naming the size that differs."""
    body = getattr(model, "body_name", "tree")
    what = {"tree": "Tree-LSTM", "lstm": "LSTM"}.get(body, body)
    old_dim = state["embedding.weight"].shape[1]
    old_body = {k[len(body) + 1:]: v for k, v in state.items() if k.startswith(body + ".")}
    new_body = getattr(model, body).state_dict()
    if old_dim != model.config["embedding_dim"]:
        raise ValueError(f"{source}: embedding_dim is {old_dim} there, "
                         f"{model.config['embedding_dim']} here")
    if old_body.keys() != new_body.keys() or any(old_body[k].shape != new_body[k].shape
                                                 for k in old_body):
        # an LSTM's H is its recurrent matrix's width (a BiLSTM's classifier reads 2H)
        old_hh = state.get(f"{body}.weight_hh_l0")
        old_hidden = (old_hh if old_hh is not None else state["classifier.weight"]).shape[1]
        raise ValueError(f"{source}: the {what} differs (hidden is {old_hidden} there, "
                         f"{model.config['hidden']} here, or another variant, direction or "
                         f"structure)")
    getattr(model, body).load_state_dict(old_body)
    shared = [w for w in vocab.to_list() if w in old_vocab]
    with torch.no_grad():
        rows = torch.tensor([vocab[w] for w in shared], dtype=torch.long)
        old_rows = torch.tensor([old_vocab[w] for w in shared], dtype=torch.long)
        model.embedding.weight[rows] = state["embedding.weight"][old_rows]
    same = state["classifier.weight"].shape == model.classifier.weight.shape
    if same:
        model.classifier.load_state_dict({"weight": state["classifier.weight"],
                                          "bias": state["classifier.bias"]})
    return (f"{what} weights, {len(shared)} of {len(vocab)} word vectors"
            + (", classifier" if same else " (classifier new: other classes)"))
