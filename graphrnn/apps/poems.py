"""Tang poems: a character-level recurrent language model, an N-gram baseline, and generation of
regulated verse from a begin word.

The corpus is the chinese-poetry project's Tang poems (graphrnn.datasets.TangPoems, split
90/5/5 by a hash of each poem), converted to simplified characters when a converter (opencc,
hanziconv or zhconv) is installed (--simplified auto). One vocabulary, built on the training
split, serves the RNN and the Kneser-Ney N-gram models of orders 2-5; both are scored on exactly
the same held-out tokens (every character of a poem and its end, graphrnn.tasks.ngram), so the
perplexities in the printed table compare directly.

Your own poems: --poems FILE [FILE ...] in any of the three layouts (title:content lines, poems
separated by blank lines, or chinese-poetry JSON; --layout auto detects it per file).

    graphrnn train poems                                  # LSTM, checkpoints in runs/poems
    graphrnn train poems --poems my_poems.txt --epochs 10
    graphrnn evaluate poems                               # perplexity table for OUT/best.pt
    graphrnn generate poems --begin 日 --form 5x4         # a quatrain of 5-character lines
    graphrnn generate poems --begin 日 红 山 --form 7x8 --num 3

Generation masks the sampler so that lines hold only ideographs and end in ， / 。 in turn: every
poem has the requested form by construction (graphrnn.models.language_model.generate_poems).
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import EvaluateConfig, GenerateConfig, TrainConfig, option

BEGIN_WORDS = "日红山夜湖海月"
FORMS = ("5x4", "5x8", "7x4", "7x8")


@dataclass
class Config(TrainConfig):
    epochs: int = option(4, "training epochs", min=1)
    poems: list[str] | None = option(None, "your own poem files (default: the Tang poems under "
                                     "--root)", path="in_file")
    layout: str = option("auto", "layout of --poems files",
                         choices=("auto", "title_content", "blank_line", "chinese_poetry"))
    simplified: str = option("auto", "convert to simplified characters (auto: when a converter "
                             "is installed)", choices=("auto", "yes", "no"))
    max_len: int = option(200, "drop poems longer than this many characters", min=1)
    min_freq: int = option(2, "vocabulary cut-off", min=1)
    orders: list[int] | None = option([2, 3, 4, 5], "N-gram orders of the baseline table (none: "
                                      "skip it)", min=1)
    cell: str = option("lstm", "recurrent cell", choices=("lstm", "gru", "rnn"))
    embedding_dim: int = option(128, "character-embedding size", min=1)
    hidden: int = option(512, "recurrent units", min=1)
    layers: int = option(1, "stacked recurrent layers", min=1)
    dropout: float = option(0.0, "dropout on embeddings, between layers and before the softmax",
                            min=0, max=1)
    untied: bool = option(False, "separate output weights (default: tied to the embedding)")
    batch_size: int = option(32, "poems per batch", min=1)
    lr: float = option(4e-3, "Adam learning rate (cosine decay to 0 per batch)", positive=True)
    limit: int | None = option(None, "use only the first LIMIT training poems", min=1)
    init_from: str | None = option(None, "start from these weights (same vocabulary and sizes) "
                                   "with a fresh optimizer and schedule: a warm restart that "
                                   "continues a finished run", path="in_file")
    download: bool = option(False, "fetch the chinese-poetry files into --root when missing")


@dataclass
class Evaluate(EvaluateConfig):
    orders: list[int] | None = option([2, 3, 4, 5], "N-gram orders of the baseline table", min=1)


@dataclass
class Generate(GenerateConfig):
    begin: list[str] = option([BEGIN_WORDS[0]], "begin word(s); one poem (or --num) for each")
    form: str = option("5x4", "characters per line x lines", choices=FORMS)
    free: bool = option(False, "sample freely until <eos> instead of imposing the form")
    num: int = option(1, "poems per begin word", min=1)
    temperature: float = option(0.8, "sampling temperature (0: greedy)", min=0)
    top_k: int = option(20, "sample among the k most likely characters", min=1)
    check: bool = option(False, "report the fraction of well-formed poems that start with the "
                         "begin word")


def _simplified(choice: str) -> bool:
    from ..datasets.poems import simplified_converter

    return simplified_converter() is not None if choice == "auto" else choice == "yes"


def load_splits(config) -> dict[str, list[list[str]]]:
    """Character lists of the train / valid / test poems (``--limit``: the first poems of each
    split only)."""
    from ..datasets.tang_poems import TangPoems, split_of
    from ..io import shared_data

    root = config.root or str(shared_data("tang_poems"))
    kw = dict(split="all", simplified=config.simplified == "yes", max_len=config.max_len,
              download=config.download)
    if config.poems:
        poems = TangPoems(root, config.layout, files=[str(p) for p in config.poems],
                          check_md5=False, **kw)
    else:
        poems = TangPoems(root, **kw)
    splits: dict[str, list[list[str]]] = {"train": [], "valid": [], "test": []}
    for p in poems:
        splits[split_of(p.text, seed=config.seed)].append(list(p.text))
    if config.limit is not None:
        splits = {k: v[:config.limit if k == "train" else max(config.limit // 10, 20)]
                  for k, v in splits.items()}
    empty = [k for k, v in splits.items() if not v]
    if empty:
        raise ValueError(f"poems: no poems in the {', '.join(empty)} split(s) of {len(poems)} "
                         f"kept; give more poems (each split takes ~5% of them)")
    return splits


def ngram_table(model, vocab, splits, orders, heldout=("valid", "test")) -> list[dict]:
    """Rows ``{"model", "fit_s", "<split>": perplexity}`` for the N-gram orders and the RNN, all
    scored on the same tokens (the counts are checked to agree)."""
    import math

    from ..models.language_model import perplexity
    from ..tasks.ngram import NGramLM

    rows, counts = [], {}

    def count(split: str, n: int, who: str) -> None:
        if counts.setdefault(split, n) != n:
            raise RuntimeError(f"{who} scored {n} tokens on {split}, the others {counts[split]}: "
                               f"the comparison would not be fair")

    for order in orders or []:
        lm = NGramLM(order).fit(splits["train"], vocab)
        row = {"model": f"Kneser-Ney {order}-gram", "fit_s": round(lm.fit_seconds, 1)}
        for split in heldout:
            total, n = lm.nll(splits[split])
            row[split] = math.exp(total / n)
            count(split, n, f"the {order}-gram")
        rows.append(row)
    row = {"model": f"RNN ({model.cell.upper()} {model.num_layers}x{model.hidden_size})",
           "fit_s": None}
    for split in heldout:
        row[split], _, n = perplexity(model, splits[split], vocab)
        count(split, n, "the RNN")
    rows.append(row)
    print("\nheld-out character perplexity (same tokens for every model: "
          + ", ".join(f"{s} {counts[s]:,} tokens" for s in heldout) + ")")
    print(f"| {'model':<24} | " + " | ".join(f"{s:>8}" for s in heldout) + " |")
    print(f"|{'-' * 26}|" + "|".join("-" * 10 for _ in heldout) + "|")
    for r in rows:
        print(f"| {r['model']:<24} | " + " | ".join(f"{r[s]:8.1f}" for s in heldout) + " |")
    if len(rows) > 1:
        best = min(rows[:-1], key=lambda r: r[heldout[0]])
        for s in heldout:
            print(f"RNN vs best N-gram ({best['model']}, chosen on {heldout[0]}) on {s}: "
                  f"{100 * (1 - rows[-1][s] / best[s]):.1f}% lower perplexity")
    return rows


def _model(config, vocab):
    from ..models.language_model import LanguageModel

    return LanguageModel(len(vocab), config.embedding_dim, config.hidden, config.layers,
                         config.cell, dropout=config.dropout, tie_weights=not config.untied,
                         pad_index=vocab.pad_index)


def _load(config):
    """Threads and device set, ``(model in eval mode, vocab, training config)`` of the poems
    checkpoint ``config`` names."""
    from ..datasets.text import Vocab
    from .runtime import open_trained

    _, _, ckpt, trained = open_trained(config, "poems", Config)
    vocab = Vocab.from_list(ckpt["vocab"])
    model = _model(trained, vocab)
    model.load_state_dict(ckpt["model"])
    return model.eval(), vocab, trained


def train(config: Config) -> dict:
    import math
    from pathlib import Path

    import torch
    from torch.utils.data import DataLoader

    from ..datasets.lm_batches import BucketBatches, LMCollate
    from ..datasets.text import Vocab
    from ..models.language_model import generate_poems, lm_num_tokens, lm_step
    from ..train import CheckpointError, Trainer, load_checkpoint
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    if config.quick:
        config.limit = config.limit or 300
        config.embedding_dim, config.hidden = min(config.embedding_dim, 32), min(config.hidden, 64)
        config.orders = [o for o in config.orders or [] if o <= 3]
        config.min_freq = 1
        # --quick keeps the original characters unless asked: converting takes seconds
        config.simplified = "no" if config.simplified == "auto" else config.simplified
    config.simplified = "yes" if _simplified(config.simplified) else "no"  # stored resolved
    timer = Timer()
    splits = load_splits(config)
    vocab = Vocab.build(splits["train"], min_freq=config.min_freq)
    print("poems: " + ", ".join(f"{k} {len(v):,} ({sum(map(len, v)):,} chars)"
                                 for k, v in splits.items())
          + f"; vocabulary {len(vocab):,} (min_freq {config.min_freq}); "
          + ("simplified" if config.simplified == "yes" else "original characters")
          + f"; loaded in {timer.seconds:.1f} s")
    torch.manual_seed(config.seed)
    model = _model(config, vocab)
    if config.init_from:
        init = load_checkpoint(config.init_from, map_location="cpu")
        if init["vocab"] != vocab.to_list():
            raise CheckpointError(f"--init-from {config.init_from}: its vocabulary differs from "
                                  f"the one built here; use the same --root/--poems, "
                                  f"--simplified, --max-len, --min-freq and --limit")
        model.load_state_dict(init["model"])
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    collate = LMCollate(vocab)
    sampler = BucketBatches([len(s) for s in splits["train"]], config.batch_size, config.seed)
    # cosine decay of the learning rate to 0 over the whole run, one step per batch
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                           T_max=config.epochs * len(sampler))
    trainer = Trainer(model, optimizer, lm_step, scheduler=scheduler, scheduler_interval="step",
                      batch_size_fn=lm_num_tokens, clip_grad_norm=5.0, restore_best=True,
                      **trainer_options("poems", config, device, vocab=vocab.to_list()))
    sampler.epoch = trainer.epoch
    timer = Timer()
    history = trainer.fit(DataLoader(splits["train"], batch_sampler=sampler, collate_fn=collate),
                          DataLoader(sorted(splits["valid"], key=len), batch_size=64,
                                     collate_fn=collate))
    print(f"trained {trainer.epoch} epochs in {timer.seconds / 60:.1f} min; best epoch "
          f"{trainer.best_epoch}, valid perplexity {math.exp(trainer.best_score):.1f}; loss "
          f"curves in {Path(config.out) / 'curves.png'}")
    model = model.cpu()
    rows = ngram_table(model, vocab, splits, config.orders)
    sample = generate_poems(model, vocab, begin=BEGIN_WORDS[0], seed=config.seed, top_k=20,
                            temperature=0.8)[0]
    print(f"sample: {sample}")
    return {"train_seconds": timer.seconds, "epochs": trainer.epoch, "table": rows,
            "history": history, "sample": sample}


def evaluate(config: Evaluate) -> dict:
    model, vocab, trained = _load(config)
    trained.root = config.root or trained.root
    return {"table": ngram_table(model, vocab, load_splits(trained), config.orders)}


def _resolve_begin(begin: str, vocab) -> str:
    """``begin`` itself when the vocabulary holds its characters; else its traditional form (a
    model trained on the original chinese-poetry text) when opencc can convert it."""
    if all(c in vocab for c in begin):
        return begin
    converted = begin
    try:
        import opencc

        for name in ("s2t", "s2t.json"):
            try:
                converted = opencc.OpenCC(name).convert(begin)
                break
            except Exception:
                continue
    except ImportError:
        pass
    if all(c in vocab for c in converted):
        return converted
    missing = [c for c in begin if c not in vocab]
    raise ValueError(f"--begin {begin}: {missing} not in the model's vocabulary (a model trained "
                     f"on traditional characters needs traditional begin words, or train with "
                     f"a converter installed: pip install opencc-python-reimplemented)")


def generate(config: Generate) -> dict:
    import time

    import torch

    from ..datasets.poems import check_form
    from ..models import language_model as lm
    length, lines = (int(x) for x in config.form.split("x"))
    model, vocab, _ = _load(config)
    generator = torch.Generator().manual_seed(config.seed)
    total_ok = total = 0
    start = time.perf_counter()
    out: dict[str, list[str]] = {}
    for word in config.begin:
        begin = _resolve_begin(word, vocab)
        if config.free:
            poems = ["".join(t) for t in lm.generate(
                model, vocab, begin, max_length=200, temperature=config.temperature,
                top_k=config.top_k, num_samples=config.num, generator=generator)]
        else:
            poems = lm.generate_poems(model, vocab, begin, length, lines, config.temperature,
                                      config.top_k, num_samples=config.num, generator=generator)
        ok = [bool(check_form(p, length, lines)) and p.startswith(begin) for p in poems]
        total_ok, total = total_ok + sum(ok), total + len(poems)
        out[word] = poems
        for p in poems[:5] if config.check else poems:
            print(f"{word}: {p}")
        if config.check:
            print(f"{word}: {sum(ok)}/{len(poems)} well formed ({length}x{lines}) and starting "
                  f"with {begin}")
    if config.check:
        print(f"all: {total_ok}/{total} = {100 * total_ok / max(total, 1):.1f}% in "
              f"{time.perf_counter() - start:.1f} s")
    return {"poems": out, "well_formed": total_ok, "total": total}


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate),
            "generate": (Generate, generate)}
