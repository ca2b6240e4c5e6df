"""Tang poems: a character-level recurrent language model, an N-gram baseline, and generation of
regulated verse from a begin word.

The corpus is the chinese-poetry project's Tang poems (graphrnn.datasets.poems.TangPoems, split
90/5/5 by a hash of each poem), converted to simplified characters when a converter (opencc,
hanziconv or zhconv) is installed (--simplified auto). One vocabulary, built on the training
split, serves the RNN and the Kneser-Ney N-gram models of orders 2-5; both are scored on exactly
the same held-out tokens (every character of a poem and its end, graphrnn.tasks.ngram), so the
perplexities in the printed table compare directly.

    graphrnn train poems                                  # LSTM, checkpoints in runs/poems
    graphrnn evaluate poems                               # perplexity table for OUT/best.pt
    graphrnn generate poems --begin 日 --form 5x4         # a quatrain of 5-character lines
    graphrnn generate poems --begin 日 红 山 --form 7x8 --num 3

Generation masks the sampler so that lines hold only ideographs and end in ， / 。 in turn: every
poem has the requested form by construction (graphrnn.tasks.language_model.generate_poems).
"""
from __future__ import annotations

import math
import random
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from graphrnn.datasets.poems import TangPoems, check_form, simplified_converter, split_of
from graphrnn.datasets.text import Vocab
from graphrnn.tasks import language_model as lm
from graphrnn.tasks.language_model import (LanguageModel, LMCollate, generate_poems, lm_num_tokens,
                                           lm_step, perplexity)
from graphrnn.tasks.ngram import NGramLM
from graphrnn.train import (Trainer, apply_threads, example_parser, load_checkpoint,
                            resolve_device, write_results)
from graphrnn.io import shared_data

DESCRIPTION = "Tang poems: char LSTM language model vs Kneser-Ney N-grams; generate verse"
ROOT = str(shared_data("tang_poems"))
BEGIN_WORDS = "日红山夜湖海月"


# ------------------------------------------------------------------------------------------------
# data

def _use_simplified(choice: str) -> bool:
    if choice == "auto":
        return simplified_converter() is not None
    return choice == "yes"


def load_splits(root: str, simplified: bool, max_len: int | None, limit: int | None = None,
                seed: int = 0) -> dict[str, list[list[str]]]:
    """Character lists of the train / valid / test poems (``limit``: keep the first poems of
    each split only, for --quick)."""
    all_poems = TangPoems(root, split="all", download=True, simplified=simplified, max_len=max_len)
    splits: dict[str, list[list[str]]] = {"train": [], "valid": [], "test": []}
    for p in all_poems:
        splits[split_of(p.text, seed=seed)].append(list(p.text))
    if limit is not None:
        splits = {k: v[:limit if k == "train" else max(limit // 10, 20)] for k, v in splits.items()}
    return splits


class BucketBatches:
    """Batches of similar-length poems (less padding), reshuffled every epoch from ``seed``:
    shuffle, cut into pools of 50 batches, sort each pool by length, cut into batches, shuffle."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int = 0):
        self.lengths, self.batch_size, self.seed, self.epoch = lengths, batch_size, seed, 0

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        rng = random.Random(f"{self.seed}/{self.epoch}")
        self.epoch += 1
        idx = list(range(len(self.lengths)))
        rng.shuffle(idx)
        pool = self.batch_size * 50
        batches = []
        for s in range(0, len(idx), pool):
            chunk = sorted(idx[s:s + pool], key=self.lengths.__getitem__)
            batches += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        rng.shuffle(batches)
        return iter(batches)


# ------------------------------------------------------------------------------------------------
# the perplexity table

def ngram_table(model, vocab, splits, orders, heldout=("valid", "test")) -> list[dict]:
    """Rows ``{"model", "fit_s", "<split>": perplexity}`` for the N-gram orders and the RNN, all
    scored on the same tokens (the counts are checked to agree)."""
    rows = []
    counts = {}
    for order in orders:
        lm = NGramLM(order).fit(splits["train"], vocab)
        row = {"model": f"Kneser-Ney {order}-gram", "fit_s": round(lm.fit_seconds, 1)}
        for split in heldout:
            total, n = lm.nll(splits[split])
            row[split] = math.exp(total / n)
            counts.setdefault(split, n)
            assert counts[split] == n
        rows.append(row)
    row = {"model": f"RNN ({model.cell.upper()} {model.num_layers}x{model.hidden_size})",
           "fit_s": None}
    for split in heldout:
        ppl, _, n = perplexity(model, splits[split], vocab)
        counts.setdefault(split, n)
        if counts[split] != n:
            raise RuntimeError(f"RNN scored {n} tokens on {split}, the N-gram models "
                               f"{counts[split]}: the comparison would not be fair")
        row[split] = ppl
    rows.append(row)
    print("\nheld-out character perplexity (same tokens for every model: "
          + ", ".join(f"{s} {counts[s]:,} tokens" for s in heldout) + ")")
    print(f"| {'model':<24} | " + " | ".join(f"{s:>8}" for s in heldout) + " |")
    print(f"|{'-' * 26}|" + "|".join("-" * 10 for _ in heldout) + "|")
    for r in rows:
        print(f"| {r['model']:<24} | " + " | ".join(f"{r[s]:8.1f}" for s in heldout) + " |")
    if orders:
        best = min(rows[:-1], key=lambda r: r[heldout[0]])
        for s in heldout:
            gain = 1 - rows[-1][s] / best[s]
            print(f"RNN vs best N-gram ({best['model']}, chosen on {heldout[0]}) on {s}: "
                  f"{100 * gain:.1f}% lower perplexity")
    return rows


# ------------------------------------------------------------------------------------------------
# train / evaluate / generate

def _parser(description, action):
    parser = example_parser("poems", description, epochs=4, root=ROOT)
    parser.prog = f"graphrnn {action} poems"
    parser.add_argument("--simplified", default="auto", choices=["auto", "yes", "no"],
                        help="convert to simplified characters (auto: when a converter is "
                             "installed)")
    parser.add_argument("--max-len", type=int, default=200,
                        help="drop poems longer than this many characters (default: %(default)s)")
    parser.add_argument("--min-freq", type=int, default=2, help="vocabulary cut-off")
    parser.add_argument("--orders", type=int, nargs="*", default=[2, 3, 4, 5],
                        help="N-gram orders of the baseline table (none: skip it)")
    return parser


def _load_model(path) -> tuple[LanguageModel, Vocab, dict]:
    ckpt = load_checkpoint(path, map_location="cpu")
    cfg = ckpt["config"]
    vocab = Vocab.from_list(ckpt["vocab"])
    model = LanguageModel(**cfg["model"])
    model.load_state_dict(ckpt["model"])
    return model.eval(), vocab, cfg


def train(argv=None) -> int:
    parser = _parser(__doc__, "train")
    parser.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--untied", action="store_true", help="separate output weights")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first LIMIT training poems")
    parser.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                        help="start from these weights (same vocabulary and sizes) with a fresh "
                             "optimizer and schedule: a warm restart (Loshchilov & Hutter 2017) "
                             "that continues a finished run")
    args = parser.parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    if args.quick:
        args.limit = args.limit or 300
        args.embedding_dim, args.hidden = min(args.embedding_dim, 32), min(args.hidden, 64)
        args.orders = [o for o in args.orders if o <= 3]
        args.min_freq = 1
    # --quick keeps the original characters unless asked: converting the corpus takes seconds
    simplified = _use_simplified("no" if args.quick and args.simplified == "auto"
                                 else args.simplified)
    start = time.perf_counter()
    splits = load_splits(args.root, simplified, args.max_len, args.limit, args.seed)
    vocab = Vocab.build(splits["train"], min_freq=args.min_freq)
    print("poems: " + ", ".join(f"{k} {len(v):,} ({sum(map(len, v)):,} chars)"
                                 for k, v in splits.items())
          + f"; vocabulary {len(vocab):,} (min_freq {args.min_freq}); "
          + ("simplified" if simplified else "original (traditional) characters")
          + f"; loaded in {time.perf_counter() - start:.1f} s")

    torch.manual_seed(args.seed)
    model = LanguageModel(len(vocab), args.embedding_dim, args.hidden, args.layers, args.cell,
                          dropout=args.dropout, tie_weights=not args.untied,
                          pad_index=vocab.pad_index)
    if args.init_from:
        init = load_checkpoint(args.init_from, map_location="cpu")
        if init["vocab"] != vocab.to_list():
            raise SystemExit(f"--init-from {args.init_from}: its vocabulary differs from the one "
                             f"built here; use the same --root, --simplified, --max-len, "
                             f"--min-freq and --limit")
        model.load_state_dict(init["model"])
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    collate = LMCollate(vocab)
    sampler = BucketBatches([len(s) for s in splits["train"]], args.batch_size, args.seed)
    # cosine decay of the learning rate to 0 over the whole run, one step per batch
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer,
                                                           T_max=args.epochs * len(sampler))
    train_loader = DataLoader(splits["train"], batch_sampler=sampler, collate_fn=collate)
    val_loader = DataLoader(sorted(splits["valid"], key=len), batch_size=64, collate_fn=collate)
    config = {"model": model.config(), "simplified": simplified, "max_len": args.max_len,
              "min_freq": args.min_freq, "limit": args.limit, "seed": args.seed,
              "root": args.root, "init_from": args.init_from}
    trainer = Trainer(model, optimizer, lm_step, scheduler=scheduler, scheduler_interval="step",
                      max_epochs=args.epochs,
                      seed=args.seed, device=device, out_dir=args.out, resume=args.resume,
                      config=config, vocab=vocab.to_list(), batch_size_fn=lm_num_tokens,
                      clip_grad_norm=5.0, restore_best=True, progress=not args.quick)
    sampler.epoch = trainer.epoch
    start = time.perf_counter()
    history = trainer.fit(train_loader, val_loader)
    seconds = time.perf_counter() - start
    print(f"trained {trainer.epoch} epochs in {seconds / 60:.1f} min; best epoch "
          f"{trainer.best_epoch}, valid perplexity {math.exp(trainer.best_score):.1f}; "
          f"loss curves in {Path(args.out) / 'curves.png'}")
    model = model.cpu()
    rows = ngram_table(model, vocab, splits, args.orders)
    sample = generate_poems(model, vocab, begin=BEGIN_WORDS[0], seed=args.seed, top_k=20,
                            temperature=0.8)[0]
    print(f"sample: {sample}")
    write_results(args.out, "results.json", {"train_seconds": seconds, "epochs": trainer.epoch,
                                             "table": rows, "history": history})
    return 0


def evaluate(argv=None) -> int:
    parser = _parser("Perplexity of a trained poem model next to the N-gram baseline.", "evaluate")
    parser.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    args = parser.parse_args(argv)
    apply_threads(args.threads)
    model, vocab, cfg = _load_model(args.checkpoint or Path(args.out) / "best.pt")
    splits = load_splits(cfg.get("root", args.root), cfg["simplified"], cfg["max_len"],
                         cfg["limit"], cfg["seed"])
    ngram_table(model, vocab, splits, args.orders)
    return 0


def _parse_form(form: str) -> tuple[int, int]:
    try:
        length, lines = (int(x) for x in form.lower().split("x"))
    except ValueError:
        raise SystemExit(f"--form must look like 5x4 (characters per line x lines), got {form!r}")
    if length not in (5, 7) or lines not in (4, 8):
        raise SystemExit(f"--form {form}: regulated verse has 5 or 7 characters a line and 4 or 8 "
                         f"lines")
    return length, lines


def _resolve_begin(begin: str, vocab: Vocab) -> str:
    """``begin`` itself when the vocabulary holds its characters; else its traditional form (a
    model trained on the original chinese-poetry text) when opencc can convert it."""
    if all(c in vocab for c in begin):
        return begin
    try:
        import opencc
        for config in ("s2t", "s2t.json"):
            try:
                converted = opencc.OpenCC(config).convert(begin)
                break
            except Exception:
                continue
        else:
            converted = begin
    except ImportError:
        converted = begin
    if all(c in vocab for c in converted):
        return converted
    missing = [c for c in begin if c not in vocab]
    raise SystemExit(f"--begin {begin}: {missing} not in the model's vocabulary (a model trained "
                     f"on traditional characters needs traditional begin words, or train with "
                     f"a converter installed: pip install opencc-python-reimplemented)")


def generate(argv=None) -> int:
    parser = _parser("Generate poems from begin words with a trained model.", "generate")
    parser.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    parser.add_argument("--begin", nargs="+", default=[BEGIN_WORDS[0]],
                        help="begin word(s); one poem (or --num) for each")
    parser.add_argument("--form", default="5x4", help="characters per line x lines: 5x4, 5x8, "
                        "7x4 or 7x8 (default: %(default)s)")
    parser.add_argument("--free", action="store_true",
                        help="sample freely until <eos> instead of imposing the form")
    parser.add_argument("--num", type=int, default=1, help="poems per begin word")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--check", action="store_true",
                        help="report the fraction of well-formed poems that start with the begin "
                             "word")
    args = parser.parse_args(argv)
    apply_threads(args.threads)
    length, lines = _parse_form(args.form)
    model, vocab, _ = _load_model(args.checkpoint or Path(args.out) / "best.pt")
    generator = torch.Generator().manual_seed(args.seed)
    total_ok = total = 0
    start = time.perf_counter()
    for word in args.begin:
        begin = _resolve_begin(word, vocab)
        if args.free:
            poems = ["".join(t) for t in lm.generate(model, vocab, begin, max_length=200,
                                                   temperature=args.temperature, top_k=args.top_k,
                                                   num_samples=args.num, generator=generator)]
        else:
            poems = generate_poems(model, vocab, begin, length, lines, args.temperature,
                                   args.top_k, num_samples=args.num, generator=generator)
        ok = [bool(check_form(p, length, lines)) and p.startswith(begin) for p in poems]
        total_ok, total = total_ok + sum(ok), total + len(poems)
        for p in poems[:5] if args.check else poems:
            print(f"{word}: {p}")
        if args.check:
            print(f"{word}: {sum(ok)}/{len(poems)} well formed ({length}x{lines}) and starting "
                  f"with {begin}")
    if args.check:
        print(f"all: {total_ok}/{total} = {100 * total_ok / max(total, 1):.1f}% in "
              f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
