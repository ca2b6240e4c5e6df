"""Sentiment of movie-review sentences with a constituency Tree-LSTM on the Stanford Sentiment
Treebank (Tai, Socher & Manning 2015, section 5.1).

Every phrase of every training tree is a training example (cross-entropy over all nodes with a
label); sentences are scored by the class of their root. The N-ary (binary) Tree-LSTM is the
default, ``--variant child_sum`` the other. Word vectors start random (uniform in +-0.05) and are
trained, unless ``--vectors FILE`` loads GloVe or word2vec text vectors for the words it has.
The dev split picks the best epoch (early stopping on its root accuracy); the test split is scored
once, with those weights. Fine-grained (5 classes) by default; ``--binary`` trains the binary task
(neutral sentences dropped). A fine-grained model is also scored on the binary test sentences by
adding its probabilities (0+1 against 3+4): ``test_binary_from_fine_root_acc``, which is not the
conventional separately trained binary model.

Defaults, chosen on the dev split without pretrained vectors: words lowercased, dropout 0.5 on
the word vectors and on h, Adagrad with learning rate 0.05 for the word vectors and the rest,
no weight decay, batches of 25 trees, at most 10 epochs with patience 3. (Weight decay 1e-3,
1e-4, 1e-5 and 0 on the non-embedding weights gave mean dev root accuracy 44.8, 46.9, 48.2 and
49.1% over seeds 0 and 1; Tai et al. used 1e-4.)
Tai et al.'s settings with tuned vectors were word-vector learning rate 0.1 and no input dropout;
``--no-lowercase`` keeps case (for cased vectors such as GloVe 840B).

Writes OUT/test_metrics.json (with the seconds per epoch), the loop's checkpoints and
metrics.csv, and OUT/dev_tree.png: the first dev sentence with the predicted sentiment on every
node.

    graphrnn train sst_sentiment --threads 1      # or: python examples/sst_sentiment.py
    graphrnn train sst_sentiment --binary --epochs 10
    graphrnn train sst_sentiment --binary --init runs/sst_sentiment/best.pt   # from a 5-class model
    graphrnn train sst_sentiment --vectors glove.840B.300d.txt
    graphrnn train sst_sentiment --quick          # a tiny run, seconds
    graphrnn evaluate sst_sentiment               # OUT/best.pt on the test split
    graphrnn evaluate sst_sentiment --checkpoint a/best.pt b/best.pt c/best.pt   # an ensemble
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.loader import DataLoader

from graphrnn.datasets.text import UNK, Vocab
from graphrnn.datasets.sst import SST
from graphrnn.nn.tree import TreeLSTM
from graphrnn.tasks.tree_plot import plot_tree
from graphrnn.train import (Trainer, apply_threads, example_parser, load_checkpoint,
                            resolve_device, seed_everything, write_results)
from graphrnn.io import shared_data

DESCRIPTION = "constituency Tree-LSTM on the Stanford Sentiment Treebank (fine-grained / binary)"

DEFAULT_ROOT = str(shared_data("sst"))


# -- word vectors ---------------------------------------------------------------------------------

def load_vectors(path: str | Path, vocab: Vocab, dim: int) -> tuple[Tensor, int]:
    """Rows of ``vocab`` from a GloVe or word2vec *text* file (``word v1 ... vD`` a line; a
    word2vec ``count dim`` header line is skipped). Words the file lacks keep a uniform(-0.05,
    0.05) vector. Returns ``(vectors (V, dim), number of words found)``.

    Raises ``ValueError`` naming the file and line when a line has another width than ``dim``.
    """
    vectors = torch.empty(len(vocab), dim).uniform_(-0.05, 0.05)
    found = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.rstrip().split(" ")
            if lineno == 1 and len(fields) == 2 and all(x.isdigit() for x in fields):
                continue                                   # word2vec header
            if len(fields) < dim + 1:
                raise ValueError(f"{path}:{lineno}: expected a word and {dim} numbers, got "
                                 f"{len(fields)} fields; is --embedding-dim right?")
            word = " ".join(fields[:-dim])                 # GloVe 840B has words with spaces
            if word in vocab:
                vectors[vocab[word]] = torch.tensor([float(v) for v in fields[-dim:]])
                found += 1
    return vectors, found


# -- the model ------------------------------------------------------------------------------------

class TreeSentiment(nn.Module):
    """Word vectors -> Tree-LSTM over the parse tree -> dropout -> linear classifier per node.

    Args:
        vocab_size: V. num_classes: C. embedding_dim: I. hidden: H. variant, arity: as
        :class:`graphrnn.nn.TreeLSTM`. dropout: on h before the classifier. sparse: sparse
        gradients for the word vectors (only the rows of a batch's words; Adagrad and SGD take
        them, and with no weight decay on the vectors the updates are the same as dense ones).
    """

    def __init__(self, vocab_size: int, num_classes: int, embedding_dim: int = 300,
                 hidden: int = 150, variant: str = "nary", arity: int = 2, dropout: float = 0.5,
                 sparse: bool = False, input_dropout: float = 0.0, word_dropout: float = 0.0,
                 unk_index: int = 0):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, num_classes=num_classes,
                           embedding_dim=embedding_dim, hidden=hidden, variant=variant,
                           arity=arity, dropout=dropout, sparse=sparse,
                           input_dropout=input_dropout, word_dropout=word_dropout,
                           unk_index=unk_index)
        self.word_dropout, self.unk_index = word_dropout, unk_index
        self.embedding = nn.Embedding(vocab_size, embedding_dim, sparse=sparse)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)
        self.tree = TreeLSTM(embedding_dim, hidden, variant=variant, arity=arity)
        self.input_dropout = nn.Dropout(input_dropout)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, batch) -> Tensor:
        """Logits (N, C) of every node of ``batch`` (nodes without a word have x = 0)."""
        token = batch.token
        has_word = token >= 0
        if self.training and self.word_dropout > 0:
            unknown = torch.rand(token.shape, device=token.device) < self.word_dropout
            token = torch.where(unknown & has_word, torch.full_like(token, self.unk_index), token)
        x = self.input_dropout(self.embedding(token.clamp(min=0)))
        h, _ = self.tree(batch, x, has_input=has_word)
        return self.classifier(self.dropout(h))


def sst_step(model, batch):
    """Loss over every labelled node; root accuracy of the batch."""
    logits = model(batch)
    loss = F.cross_entropy(logits, batch.y, ignore_index=-1)
    roots = batch.root_index
    acc = (logits[roots].argmax(1) == batch.y[roots]).float().mean()
    return loss, {"root_acc": acc}


@torch.no_grad()
def evaluate_sst(model, loader, device=None) -> dict[str, float]:
    """Mean node loss, root and phrase (all labelled nodes) accuracy; for a 5-class model also
    the binary root accuracy on non-neutral sentences from p(0)+p(1) against p(3)+p(4)."""
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
            r = batch.root_index
            roots_right += int((logits[r].argmax(1) == batch.y[r]).sum())
            roots += r.numel()
            if logits.size(1) == 5:
                p = logits[r].softmax(1)
                y = batch.y[r]
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
def predict(model, data) -> Tensor:
    """Predicted class of every node of one tree."""
    from torch_geometric.data import Batch
    model.eval()
    return model(Batch.from_data_list([data])).argmax(1)


def init_from_checkpoint(model: "TreeSentiment", vocab: Vocab, path) -> str:
    """Copy the weights of the checkpoint at ``path`` into ``model``: the Tree-LSTM's, the word
    vectors of the words both vocabularies have, and the classifier when both have as many
    classes. Returns a one-line summary. Raises ``SystemExit`` when the shapes differ."""
    ckpt = load_checkpoint(path)
    state, old_vocab = ckpt["model"], Vocab.from_list(ckpt["vocab"], specials=(UNK,))
    old_config = ckpt["config"]["model"]
    for key in ("embedding_dim", "hidden", "variant", "arity"):
        if old_config[key] != model.config[key]:
            raise SystemExit(f"--init {path}: {key} is {old_config[key]!r} there, "
                             f"{model.config[key]!r} here")
    tree = {k[len("tree."):]: v for k, v in state.items() if k.startswith("tree.")}
    model.tree.load_state_dict(tree)
    shared = [w for w in vocab.to_list() if w in old_vocab]
    with torch.no_grad():
        rows = torch.tensor([vocab[w] for w in shared])
        old_rows = torch.tensor([old_vocab[w] for w in shared])
        model.embedding.weight[rows] = state["embedding.weight"][old_rows]
    same_classes = state["classifier.weight"].shape == model.classifier.weight.shape
    if same_classes:
        model.classifier.load_state_dict({"weight": state["classifier.weight"],
                                          "bias": state["classifier.bias"]})
    return (f"Tree-LSTM weights, {len(shared)} of {len(vocab)} word vectors"
            + (", classifier" if same_classes else " (classifier new: other classes)"))


# -- command line ---------------------------------------------------------------------------------

def parser(evaluate: bool = False):
    p = example_parser("sst_sentiment", __doc__, epochs=10, root=DEFAULT_ROOT)
    p.add_argument("--binary", action="store_true", help="2 classes, neutral sentences dropped")
    p.add_argument("--variant", default="nary", choices=["nary", "child_sum"])
    p.add_argument("--hidden", type=int, default=150)
    p.add_argument("--embedding-dim", type=int, default=300)
    p.add_argument("--vectors", default=None, help="GloVe / word2vec text file (optional)")
    p.add_argument("--batch-size", type=int, default=25)
    p.add_argument("--lr", type=float, default=0.05, help="Adagrad, Tree-LSTM and classifier")
    p.add_argument("--embedding-lr", type=float, default=0.05, help="Adagrad, word vectors")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="Adagrad weight decay of the Tree-LSTM and classifier (not the vectors)")
    p.add_argument("--dropout", type=float, default=0.5, help="on h before the classifier")
    p.add_argument("--input-dropout", type=float, default=0.5, help="on the word vectors")
    p.add_argument("--word-dropout", type=float, default=0.0,
                   help="probability a training word is read as the unknown word")
    p.add_argument("--init", default=None,
                   help="start from this checkpoint's weights (word vectors matched by word; "
                        "the classifier only when the number of classes is the same), e.g. a "
                        "fine-grained model for the binary task")
    p.add_argument("--patience", type=int, default=3, help="epochs without dev improvement")
    p.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=True,
                   help="lowercase the words (default; --no-lowercase keeps case)")
    p.add_argument("--dense-embedding-grad", action="store_true",
                   help="dense word-vector gradients (default: sparse, ~1/3 less time a step "
                        "with 18k words; the same updates)")
    if evaluate:
        p.add_argument("--checkpoint", nargs="+", default=None,
                       help="default: OUT/best.pt; several: their averaged probabilities")
    return p


def load_splits(args, vocab: Vocab | None = None):
    kw = dict(fine_grained=not args.binary, lowercase=args.lowercase)
    train_set = SST(args.root, "train", vocab=vocab, **kw)
    dev_set = SST(args.root, "dev", vocab=train_set.vocab, **kw)
    test_set = SST(args.root, "test", vocab=train_set.vocab, **kw)
    if args.quick:    # a few hundred sentences spread over each file (its order is not random)
        for ds, n in ((train_set, 300), (dev_set, 100), (test_set, 100)):
            keep = torch.linspace(0, len(ds) - 1, min(n, len(ds))).long().tolist()
            ds.graphs, ds.trees = [ds.graphs[i] for i in keep], [ds.trees[i] for i in keep]
    return train_set, dev_set, test_set


def train(argv=None) -> int:
    args = parser().parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    if args.quick:
        args.hidden, args.embedding_dim = 16, 16
    out = Path(args.out)
    seed_everything(args.seed)
    t0 = time.perf_counter()
    train_set, dev_set, test_set = load_splits(args)
    vocab = train_set.vocab
    print(f"SST {'binary' if args.binary else 'fine-grained'}: {len(train_set)} / {len(dev_set)} "
          f"/ {len(test_set)} sentences, {len(vocab)} words ({time.perf_counter() - t0:.1f}s to "
          f"read)")
    model = TreeSentiment(len(vocab), train_set.num_classes, args.embedding_dim, args.hidden,
                          args.variant, dropout=args.dropout, sparse=not args.dense_embedding_grad,
                          input_dropout=args.input_dropout, word_dropout=args.word_dropout,
                          unk_index=vocab[UNK])
    warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
    if args.init:
        copied = init_from_checkpoint(model, vocab, args.init)
        print(f"{args.init}: {copied}")
    if args.vectors:
        vectors, found = load_vectors(args.vectors, vocab, args.embedding_dim)
        model.embedding.weight.data.copy_(vectors)
        print(f"{args.vectors}: vectors for {found} of {len(vocab)} words")
    gen = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, generator=gen)
    dev_loader = DataLoader(dev_set, batch_size=256)
    test_loader = DataLoader(test_set, batch_size=256)
    embedding = list(model.embedding.parameters())
    rest = [p for n, p in model.named_parameters() if not n.startswith("embedding.")]
    optimizer = torch.optim.Adagrad([
        {"params": embedding, "lr": args.embedding_lr, "weight_decay": 0.0},
        {"params": rest, "lr": args.lr, "weight_decay": args.weight_decay}])
    config = {"model": model.config, "binary": args.binary, "lowercase": args.lowercase,
              "seed": args.seed, "quick": args.quick}
    trainer = Trainer(model, optimizer, sst_step,
                      evaluate_fn=lambda m, loader: evaluate_sst(m, loader, device),
                      max_epochs=args.epochs, monitor="val_root_acc", mode="max",
                      patience=args.patience, seed=args.seed, device=device, out_dir=out,
                      resume=args.resume, config=config, vocab=vocab.to_list(), restore_best=True,
                      progress=not args.quick, tensorboard=False)
    history = trainer.fit(train_loader, dev_loader)
    per_epoch = sum(r["time"] for r in history) / max(len(history), 1)
    test = evaluate_sst(trainer.model, test_loader, device)
    result = {"task": "binary" if args.binary else "fine-grained", "variant": args.variant,
              "vectors": args.vectors, "seed": args.seed, "epochs": len(history),
              "best_epoch": trainer.best_epoch, "best_val_root_acc": trainer.best_score,
              "seconds_per_epoch": per_epoch, "threads": torch.get_num_threads(),
              **{f"test_{k}": v for k, v in test.items()}}
    print(f"best dev epoch {trainer.best_epoch} (root acc {trainer.best_score:.4f}), "
          f"{per_epoch:.1f}s per epoch; test: "
          + ", ".join(f"{k} {v:.4f}" for k, v in test.items()))
    write_results(out, "test_metrics.json", result)
    model = trainer.model.cpu() if hasattr(trainer.model, "cpu") else trainer.model
    data = dev_set[0]
    plot_tree(data, predict(model, data), gold=data.y, path=out / "dev_tree.png",
              title="dev sentence 1: predicted sentiment (ring: differs from gold)")
    return 0


class SentimentEnsemble(nn.Module):
    """Members' class probabilities averaged; ``forward`` returns their log (so ``argmax``,
    ``softmax`` and cross-entropy read it as logits)."""

    def __init__(self, members: list[TreeSentiment]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, batch) -> Tensor:
        probs = torch.stack([m(batch).softmax(1) for m in self.members]).mean(0)
        return probs.log()


def evaluate(argv=None) -> int:
    args = parser(evaluate=True).parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    paths = args.checkpoint or [Path(args.out) / "best.pt"]
    members, vocab, config = [], None, None
    for path in paths:
        ckpt = load_checkpoint(path, map_location=device)
        if vocab is not None and ckpt["vocab"] != vocab.to_list():
            raise SystemExit(f"{path}: its vocabulary differs from {paths[0]}'s; an ensemble "
                             f"needs models trained on the same split with the same options")
        if config is not None and (ckpt["config"]["binary"], ckpt["config"]["lowercase"]) != (
                config["binary"], config["lowercase"]):
            raise SystemExit(f"{path}: binary/lowercase differ from {paths[0]}'s")
        config = ckpt["config"]
        vocab = Vocab.from_list(ckpt["vocab"], specials=(UNK,))
        model = TreeSentiment(**config["model"]).to(device)
        model.load_state_dict(ckpt["model"])
        members.append(model)
    args.binary, args.lowercase, args.quick = config["binary"], config["lowercase"], config["quick"]
    model = members[0] if len(members) == 1 else SentimentEnsemble(members)
    _, _, test_set = load_splits(args, vocab)
    test = evaluate_sst(model, DataLoader(test_set, batch_size=256), device)
    what = "" if len(members) == 1 else f", ensemble of {len(members)}"
    print(f"SST test ({len(test_set)} sentences{what}): " + ", ".join(f"{k} {v:.4f}"
                                                                      for k, v in test.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
