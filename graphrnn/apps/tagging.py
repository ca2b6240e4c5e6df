"""BiLSTM (optionally BiLSTM-CRF) tagger on CoNLL-2000: chunks, POS tags, or BMES segmentation.

Tasks (--task):

* chunk: IOB2 chunk tags from words, character CNN features and the POS column the data ships
  with (tags from the Brill tagger, as in the shared task); scored by chunk F1 as conlleval.
* pos: POS tags from words and character features; scored by token accuracy.
* seg: Chinese word segmentation as BMES character tagging, on a tiny embedded sample (or on
  --train/--test: space-separated segmented text such as the SIGHAN bakeoff files); scored by
  word F1.

Your own data: --train/--dev/--test FILE, CoNLL column files ("word POS chunk" a line, blank
lines between sentences; .gz too) for chunk and pos. Files not given come from --root (without
--dev for seg, a tenth of --train is held out).

The dev split picks the best epoch; the test split is scored once with those weights:

    graphrnn train conll_chunking --task chunk --crf --hidden 128 --char-channels 30 --threads 1
    graphrnn train conll_chunking --task pos --hidden 128 --char-channels 30
    graphrnn train conll_chunking --train my.conll --test my_test.conll
    graphrnn evaluate conll_chunking --checkpoint runs/conll_chunking/best.pt
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import EvaluateConfig, TrainConfig, option


@dataclass
class Config(TrainConfig):
    epochs: int = option(30, "training epochs", min=1)
    task: str = option("chunk", "what to tag", choices=("chunk", "pos", "seg"))
    crf: bool = option(False, "add a CRF output layer")
    chars: bool = option(True, "character CNN features (--no-chars: none)")
    pos_features: bool = option(True, "chunking: feed the POS column as an input feature")
    hidden: int = option(200, "LSTM units per direction", min=1)
    embedding_dim: int = option(100, "word-embedding size", min=1)
    char_channels: int = option(50, "character CNN channels", min=1)
    layers: int = option(1, "stacked BiLSTM layers", min=1)
    dropout: float = option(0.5, "dropout on the inputs and the LSTM outputs", min=0, max=1)
    lr: float = option(2e-3, "Adam(W) learning rate", positive=True)
    weight_decay: float = option(0.0, "decoupled weight decay (AdamW; 0 is plain Adam)", min=0)
    batch_size: int = option(32, "sentences per batch", min=1)
    patience: int | None = option(None, "epochs without dev improvement before stopping", min=1)
    train: str | None = option(None, "your own training file (default: ROOT/train.txt)",
                               path="in_file")
    dev: str | None = option(None, "your own dev file (default: ROOT/dev.txt)", path="in_file")
    test: str | None = option(None, "your own test file (default: ROOT/test.txt)",
                              path="in_file")
    download: bool = option(False, "fetch the official CoNLL-2000 files into --root when missing")


@dataclass
class Evaluate(EvaluateConfig):
    test: str | None = option(None, "your own test file (default: the trained one, or "
                              "ROOT/test.txt)", path="in_file")


SCHEMES = {"chunk": "iob", "pos": "none", "seg": "bmes"}


def _segmented(sentences) -> list[tuple]:
    from ..datasets.conll import words_to_bmes

    return [(*words_to_bmes(words), None) for words in sentences]


def load_splits(config, splits=("train", "dev", "test")) -> dict[str, list[tuple]]:
    """``{split: [(tokens, tags, features or None), ...]}`` for the task."""
    from ..datasets.conll import CoNLL2000, read_segmented, segmentation_sample
    from ..io import shared_data

    if config.task == "seg":
        if config.train is None:
            data = _segmented(segmentation_sample())
            return dict(zip(("train", "dev", "test"), (data[:24], data[24:27], data[27:])))
        train = _segmented(read_segmented(config.train))
        dev = _segmented(read_segmented(config.dev)) if config.dev else None
        if dev is None:
            cut = max(1, len(train) // 10)
            train, dev = train[cut:], train[:cut]
        test = _segmented(read_segmented(config.test or config.train))
        return {"train": train, "dev": dev, "test": test}
    root = config.root or str(shared_data("tagging", "conll2000"))
    out = {}
    for split in splits:
        items = []
        for s in CoNLL2000(root, split, download=getattr(config, "download", False),
                           file=getattr(config, split, None)):
            if config.task == "chunk":
                items.append((s.words, s.chunks, s.pos if config.pos_features else None))
            else:
                items.append((s.words, s.pos, None))
        out[split] = items
    if config.quick:
        out = {k: v[:{"train": 400, "dev": 100, "test": 200}[k]] for k, v in out.items()}
    return out


def _model(config, enc):
    from ..models.tagger import BiLSTMTagger

    return BiLSTMTagger(len(enc.words), len(enc.tags), embedding_dim=config.embedding_dim,
                        hidden_size=config.hidden, num_layers=config.layers,
                        dropout=config.dropout,
                        num_chars=len(enc.chars) if enc.chars is not None else 0,
                        char_channels=config.char_channels,
                        num_features=len(enc.features) if enc.features is not None else 0,
                        crf=config.crf)


def _loader(enc, items, batch_size: int, shuffle: bool = False, seed: int = 0):
    import torch
    from torch.utils.data import DataLoader

    encoded = [enc.encode(t, y, f) for t, y, f in items]
    gen = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(encoded, batch_size=batch_size, shuffle=shuffle, collate_fn=enc.collate,
                      generator=gen)


def _report(task: str, scores: dict) -> str:
    if task == "pos":
        return f"accuracy {100 * scores['acc']:.2f}%"
    return (f"F1 {100 * scores['f1']:.2f} (precision {100 * scores['precision']:.2f}, recall "
            f"{100 * scores['recall']:.2f}), token accuracy {100 * scores['acc']:.2f}%")


def _normalize(task: str):
    from ..datasets.conll import normalize_word

    return str if task == "seg" else normalize_word


def train(config: Config) -> dict:
    import torch

    from ..datasets.conll import TaggingEncoder
    from ..models.tagger import evaluate_tagger, tagging_step
    from ..train import Trainer, seed_everything
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    if config.quick:
        config.hidden, config.embedding_dim = min(config.hidden, 32), min(config.embedding_dim, 32)
        config.char_channels = min(config.char_channels, 16)
    timer = Timer()
    data = load_splits(config)
    train_items = data["train"]
    enc = TaggingEncoder([t for t, _, _ in train_items], [y for _, y, _ in train_items],
                         [f for _, _, f in train_items] if train_items[0][2] is not None else None,
                         chars=config.chars, normalize=_normalize(config.task),
                         tag_set=sorted({t for s in ("dev", "test") for _, y, _ in data[s]
                                         for t in y}))
    seed_everything(config.seed)
    model = _model(config, enc)
    scheme = SCHEMES[config.task]
    monitor = "val_acc" if scheme == "none" else "val_f1"
    batch_size = config.batch_size if config.task != "seg" or config.train else 4
    train_loader = _loader(enc, train_items, batch_size, True, config.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                           patience=2)
    options = trainer_options("conll_chunking", config, device)
    options["config"]["encoder"] = enc.state_dict()
    trainer = Trainer(model, optimizer, tagging_step, scheduler=scheduler,
                      evaluate_fn=lambda m, loader: evaluate_tagger(m, loader, enc.tags, scheme),
                      monitor=monitor, mode="max", patience=config.patience, clip_grad_norm=5.0,
                      restore_best=True, **options)
    history = trainer.fit(train_loader, _loader(enc, data["dev"], 256))
    test = evaluate_tagger(trainer.model, _loader(enc, data["test"], 256), enc.tags, scheme,
                           device=device)
    print(f"{config.task}{' +CRF' if config.crf else ''}: {len(history)} epochs in "
          f"{timer.seconds:.0f} s; best dev epoch {trainer.best_epoch} ({monitor} "
          f"{trainer.best_score:.4f}); test {_report(config.task, test)}")
    return {"task": config.task, "crf": config.crf, "epochs": len(history),
            "best_epoch": trainer.best_epoch, "seconds": timer.seconds, "test": test}


def evaluate(config: Evaluate) -> dict:
    from ..datasets.conll import TaggingEncoder
    from ..models.tagger import evaluate_tagger
    from .runtime import open_trained

    device, path, ckpt, trained = open_trained(config, "conll_chunking", Config)
    enc = TaggingEncoder.from_state_dict(ckpt["config"]["encoder"],
                                         normalize=_normalize(trained.task))
    model = _model(trained, enc)
    model.load_state_dict(ckpt["model"])
    model.to(device)
    trained.root = config.root or trained.root
    trained.test = config.test or trained.test
    test = load_splits(trained, ("test",))["test"]
    scores = evaluate_tagger(model, _loader(enc, test, 256), enc.tags, SCHEMES[trained.task],
                             device=device)
    print(f"{trained.task} test ({path}): {_report(trained.task, scores)}")
    return {"task": trained.task, "checkpoint": str(path), "test": scores}


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
