"""Sentiment of movie-review sentences with a constituency Tree-LSTM on the Stanford Sentiment
Treebank (Tai, Socher & Manning 2015, section 5.1), or on your own PTB-bracketed trees.

Every phrase of every training tree is a training example (cross-entropy over all labelled
nodes); sentences are scored by the class of their root. The N-ary (binary) Tree-LSTM is the
default, --variant child_sum the other. Word vectors start random (uniform in +-0.05) and are
trained, unless --vectors FILE loads GloVe or word2vec text vectors for the words it has. The dev
split picks the best epoch (early stopping on its root accuracy); the test split is scored once,
with those weights. Fine-grained (5 classes) by default; --binary trains the binary task (neutral
sentences dropped). A fine-grained model is also scored on the binary test sentences by adding its
probabilities (0+1 against 3+4): test_binary_from_fine_root_acc, which is not the conventional
separately trained binary model.

Defaults, chosen on the dev split without pretrained vectors: words lowercased, dropout 0.5 on
the word vectors and on h, Adagrad with learning rate 0.05 for the word vectors and the rest, no
weight decay, batches of 25 trees, at most 10 epochs with patience 3. (Weight decay 1e-3, 1e-4,
1e-5 and 0 on the non-embedding weights gave mean dev root accuracy 44.8, 46.9, 48.2 and 49.1%
over seeds 0 and 1; Tai et al. used 1e-4.) Tai et al.'s settings with tuned vectors were
word-vector learning rate 0.1 and no input dropout; --no-lowercase keeps case (for cased vectors
such as GloVe 840B).

The same sentences as chains (issue #13: a sequence model and a tree model are one recurrence on
two graphs): --structure chain scores every phrase with an LSTM (graphrnn.nn.LSTM) run over that
phrase's words alone, in order; --bidirectional makes it a BiLSTM (both final states to the
classifier; the tree refuses it: its nodes already cover their whole span, leaves to root). The
word vectors, dropouts, classifier, vocabulary, batches of trees, optimiser, Trainer, dev-picked
epoch and evaluation are the tree's (graphrnn/models/sentence_classifier.py). The chain trains on
the sentences only by default (--labels root), as the LSTM baselines of Tai et al.'s released
code (stanfordnlp/treelstm, sentiment/LSTMSentiment.lua) do: every phrase as its own chain
(--labels all) is 8x the word-steps of an epoch on SST. The root ignores the parse: the same words
under other brackets get the same prediction.

Your own data: --train/--dev/--test FILE, one tree a line in SST's format, an integer label 0-4
on every node, e.g. (3 (2 It) (4 (2 is) (4 good))). Files not given come from --root.

Writes OUT/results.json (with the seconds per epoch), the loop's checkpoints and metrics.csv,
and OUT/dev_tree.png: the first dev sentence with the predicted sentiment on every node.

    graphrnn train sst --threads 1                  # ~12 s an epoch, 6-9 epochs
    graphrnn train sst --binary --epochs 10
    graphrnn train sst --binary --init runs/sst/best.pt   # start from a 5-class model
    graphrnn train sst --vectors glove.840B.300d.txt
    graphrnn train sst --structure chain             # LSTM on the sentences: test 38.0 +- 3.4%
    graphrnn train sst --structure chain --bidirectional   # BiLSTM: 39.9 +- 1.1% (seeds 0-2)
    graphrnn train sst --structure chain --binary --init runs/sst/best.pt   # 79.8 +- 1.4%
    graphrnn train sst --train my_train.txt --dev my_dev.txt --test my_test.txt
    graphrnn train sst --quick                      # a tiny run, seconds
    graphrnn evaluate sst                           # OUT/best.pt on the test split
    graphrnn evaluate sst --checkpoint a/best.pt b/best.pt c/best.pt   # an ensemble
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import EvaluateConfig, TrainConfig, option

SPLITS = ("train", "dev", "test")
STRUCTURES = ("tree", "chain")
LABELS = ("all", "root")


@dataclass
class Config(TrainConfig):
    binary: bool = option(False, "2 classes, neutral sentences dropped")
    structure: str = option("tree", "the graph the LSTM runs on: the parse tree (Tree-LSTM) or "
                            "the chain of each phrase's words (sequence LSTM)",
                            choices=STRUCTURES)
    bidirectional: bool = option(False, "--structure chain: a BiLSTM (each phrase read both "
                                 "ways, the classifier sees both final states)")
    labels: str | None = option(None, "which training labels: every phrase's ('all') or only "
                                "the sentences' ('root'); default: all for the tree, root for "
                                "the chain (every phrase as its own chain is 8x the word-steps "
                                "of an epoch)",
                                choices=LABELS)
    variant: str = option("nary", "Tree-LSTM variant", choices=("nary", "child_sum"))
    hidden: int = option(150, "Tree-LSTM units (LSTM units per direction for the chain)", min=1)
    embedding_dim: int = option(300, "word-vector size", min=1)
    vectors: str | None = option(None, "GloVe / word2vec text file of word vectors",
                                 path="in_file")
    batch_size: int = option(25, "trees per batch", min=1)
    lr: float = option(0.05, "Adagrad learning rate of the Tree-LSTM and classifier",
                       positive=True)
    embedding_lr: float = option(0.05, "Adagrad learning rate of the word vectors", positive=True)
    weight_decay: float = option(0.0, "Adagrad weight decay of the Tree-LSTM and classifier (not "
                                 "the vectors)", min=0)
    dropout: float = option(0.5, "dropout on h before the classifier", min=0, max=1)
    input_dropout: float = option(0.5, "dropout on the word vectors", min=0, max=1)
    word_dropout: float = option(0.0, "probability a training word is read as the unknown word",
                                 min=0, max=1)
    init: str | None = option(None, "start from this checkpoint's weights (word vectors matched "
                              "by word; the classifier only with as many classes), e.g. a "
                              "fine-grained model for --binary", path="in_file")
    patience: int = option(3, "epochs without dev improvement before stopping", min=1)
    lowercase: bool = option(True, "lowercase the words (--no-lowercase keeps case)")
    dense_embedding_grad: bool = option(False, "dense word-vector gradients (default: sparse, "
                                        "~1/3 less time a step with 18k words; the same updates)")
    train: str | None = option(None, "your own training trees (default: ROOT/train.txt)",
                               path="in_file")
    dev: str | None = option(None, "your own dev trees (default: ROOT/dev.txt)", path="in_file")
    test: str | None = option(None, "your own test trees (default: ROOT/test.txt)",
                              path="in_file")
    download: bool = option(False, "fetch the SST archive into --root when files are missing")


@dataclass
class Evaluate(EvaluateConfig):
    checkpoint: list[str] | None = option(None, "checkpoint(s) to score (default: OUT/best.pt); "
                                          "several: their averaged probabilities", path="in_file")
    test: str | None = option(None, "your own test trees (default: the trained ones, or "
                              "ROOT/test.txt)", path="in_file")


def _root(config) -> str:
    from ..io import shared_data

    return config.root or str(shared_data("sst"))


def _labels(config) -> str:
    """--labels, or its default for --structure."""
    return config.labels or ("all" if config.structure == "tree" else "root")


def _check(config) -> None:
    """Cross-flag checks, before any work starts."""
    from .config import ConfigError

    if config.bidirectional and config.structure == "tree":
        raise ConfigError("--bidirectional is for --structure chain: the Tree-LSTM reads each "
                          "phrase once, leaves to root, and every node already covers its whole "
                          "span; a top-down pass would be another model")
    if config.structure == "chain" and config.variant != "nary":
        raise ConfigError("--variant is a Tree-LSTM setting; --structure chain has none")


def _load(config, root: str, splits=SPLITS, vocab=None) -> dict:
    """The splits named (SST objects), sharing the training vocabulary (the same one for the
    chain and the tree); the training split keeps only the sentences' labels with --labels root.
    A few hundred sentences spread over each file with --quick (the files are not in random
    order)."""
    import torch

    from ..datasets.sst import SST

    kw = dict(fine_grained=not config.binary, lowercase=config.lowercase,
              download=getattr(config, "download", False))
    data = {}
    for split in splits:
        labels = _labels(config) if split == "train" else "all"
        data[split] = SST(root, split, vocab=vocab, file=getattr(config, split, None),
                          labels=labels, **kw)
        vocab = data[split].vocab
    if config.quick:
        for split, n in zip(SPLITS, (300, 100, 100)):
            if split in data:
                ds = data[split]
                ds.subset(torch.linspace(0, len(ds) - 1, min(n, len(ds))).long().tolist())
    return data


def _model(config, vocab_size: int, unk_index: int):
    from ..models.sentence_classifier import SentenceClassifier
    from ..models.tree_classifier import TreeClassifier

    structure = getattr(config, "structure", "tree")
    if structure == "chain":
        return SentenceClassifier(vocab_size, 2 if config.binary else 5, config.embedding_dim,
                                  config.hidden, config.bidirectional, dropout=config.dropout,
                                  input_dropout=config.input_dropout,
                                  word_dropout=config.word_dropout, unk_index=unk_index,
                                  sparse=not config.dense_embedding_grad,
                                  phrases=_labels(config) == "all")
    return TreeClassifier(vocab_size, 2 if config.binary else 5, config.embedding_dim,
                          config.hidden, config.variant, dropout=config.dropout,
                          input_dropout=config.input_dropout, word_dropout=config.word_dropout,
                          unk_index=unk_index, sparse=not config.dense_embedding_grad)


def _initialise(model, vocab, config) -> None:
    """--init and --vectors."""
    from ..datasets.text import UNK, Vocab
    from ..models.tree_classifier import copy_weights, load_vectors
    from .runtime import load_app_checkpoint

    if config.init:
        ckpt, old = load_app_checkpoint(config.init, "sst", Config)
        if (old.structure, old.bidirectional) != (config.structure, config.bidirectional):
            raise ValueError(f"--init {config.init}: trained with --structure {old.structure}"
                             + (" --bidirectional" if old.bidirectional else "")
                             + f", this run is --structure {config.structure}"
                             + (" --bidirectional" if config.bidirectional else ""))
        old_vocab = Vocab.from_list(ckpt["vocab"], specials=(UNK,))
        print(f"{config.init}: "
              + copy_weights(model, vocab, ckpt["model"], old_vocab, f"--init {config.init}"))
    if config.vectors:
        vectors, found = load_vectors(config.vectors, vocab, config.embedding_dim)
        model.embedding.weight.data.copy_(vectors)
        print(f"{config.vectors}: vectors for {found} of {len(vocab)} words")


def train(config: Config) -> dict:
    import warnings
    from pathlib import Path

    import torch
    from torch_geometric.loader import DataLoader

    from ..datasets.text import UNK
    from ..models.tree_classifier import evaluate_trees, predict_tree, tree_step
    from ..plots.tree import plot_tree
    from ..train import Trainer, seed_everything
    from .runtime import Timer, setup, trainer_options

    _check(config)
    device = setup(config)
    if config.quick:
        config.hidden, config.embedding_dim = min(config.hidden, 16), min(config.embedding_dim, 16)
    seed_everything(config.seed)
    timer = Timer()
    data = _load(config, _root(config))
    vocab = data["train"].vocab
    what = ("Tree-LSTM" if config.structure == "tree"
            else "BiLSTM" if config.bidirectional else "LSTM")
    print(f"SST {'binary' if config.binary else 'fine-grained'}, {what} trained on "
          f"{'every phrase' if _labels(config) == 'all' else 'the sentences'}: "
          + " / ".join(str(len(data[s])) for s in SPLITS)
          + f" sentences, {len(vocab)} words ({timer.seconds:.1f}s to read)")
    model = _model(config, len(vocab), vocab[UNK])
    warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")
    _initialise(model, vocab, config)
    gen = torch.Generator().manual_seed(config.seed)
    train_loader = DataLoader(data["train"], batch_size=config.batch_size, shuffle=True,
                              generator=gen)
    dev_loader = DataLoader(data["dev"], batch_size=256)
    embedding = list(model.embedding.parameters())
    rest = [p for n, p in model.named_parameters() if not n.startswith("embedding.")]
    optimizer = torch.optim.Adagrad([
        {"params": embedding, "lr": config.embedding_lr, "weight_decay": 0.0},
        {"params": rest, "lr": config.lr, "weight_decay": config.weight_decay}])
    trainer = Trainer(model, optimizer, tree_step,
                      evaluate_fn=lambda m, loader: evaluate_trees(m, loader, device),
                      monitor="val_root_acc", mode="max", patience=config.patience,
                      restore_best=True, **trainer_options("sst", config, device,
                                                           vocab=vocab.to_list()))
    history = trainer.fit(train_loader, dev_loader)
    per_epoch = sum(r["time"] for r in history) / max(len(history), 1)
    test = evaluate_trees(trainer.model, DataLoader(data["test"], batch_size=256), device)
    result = {"task": "binary" if config.binary else "fine-grained", "model": what,
              "structure": config.structure, "bidirectional": config.bidirectional,
              "labels": _labels(config),
              "variant": config.variant if config.structure == "tree" else None,
              "parameters": sum(p.numel() for p in model.parameters()),
              "vectors": config.vectors, "seed": config.seed, "epochs": len(history),
              "best_epoch": trainer.best_epoch, "best_val_root_acc": trainer.best_score,
              "seconds_per_epoch": per_epoch, "threads": torch.get_num_threads(),
              **{f"test_{k}": v for k, v in test.items()}}
    print(f"best dev epoch {trainer.best_epoch} (root acc {trainer.best_score:.4f}), "
          f"{per_epoch:.1f}s per epoch; test: " + ", ".join(f"{k} {v:.4f}"
                                                          for k, v in test.items()))
    model = trainer.model.cpu()
    first = data["dev"][0]
    plot_tree(first, predict_tree(model, first), gold=first.y,
              path=Path(config.out) / "dev_tree.png",
              title=f"dev sentence 1: the {what}'s sentiment on every phrase (ring: differs "
                    f"from gold)")
    return result


def evaluate(config: Evaluate) -> dict:
    from pathlib import Path

    from torch_geometric.loader import DataLoader

    from ..datasets.text import UNK, Vocab
    from ..models.tree_classifier import TreeEnsemble, evaluate_trees
    from ..train import CheckpointError
    from .runtime import load_app_checkpoint, setup

    device = setup(config)
    paths = config.checkpoint or [str(Path(config.out) / "best.pt")]
    members, first = [], None
    for path in paths:
        ckpt, trained = load_app_checkpoint(path, "sst", Config)
        if first is None:
            first = (ckpt["vocab"], trained)
        elif ckpt["vocab"] != first[0] or (trained.binary, trained.lowercase) != (
                first[1].binary, first[1].lowercase):
            raise CheckpointError(f"{path}: its vocabulary or --binary/--lowercase differ from "
                                  f"{paths[0]}'s; an ensemble needs models trained on the same "
                                  f"split with the same options")
        vocab = Vocab.from_list(ckpt["vocab"], specials=(UNK,))
        model = _model(trained, len(vocab), vocab[UNK])
        model.load_state_dict(ckpt["model"])
        members.append(model.to(device))
    trained = first[1]
    trained.test = config.test or trained.test
    model = members[0] if len(members) == 1 else TreeEnsemble(members)
    test_set = _load(trained, config.root or _root(trained), ("test",), vocab)["test"]
    scores = evaluate_trees(model, DataLoader(test_set, batch_size=256), device)
    what = "" if len(members) == 1 else f", ensemble of {len(members)}"
    print(f"SST test ({len(test_set)} sentences{what}): "
          + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return {"checkpoints": paths, **{f"test_{k}": v for k, v in scores.items()}}


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
