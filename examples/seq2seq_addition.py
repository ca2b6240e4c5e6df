"""Encoder-decoder with attention learns addition as characters: ``"123+456"`` -> ``"579"``.

Operands are drawn uniformly from ``[0, 10**digits)``; the source is the expression, the target the
sum, both as character sequences of different, varying lengths (asynchronous sequence to sequence).
Train, validation and test pairs are disjoint (as unordered pairs). The score is exact match: the
fraction of test expressions whose decoded sum is entirely right, with greedy decoding and with
beam search::

    graphrnn train seq2seq_addition --epochs 30
    graphrnn evaluate seq2seq_addition --checkpoint runs/seq2seq_addition/best.pt --beam 4
"""
from __future__ import annotations

import random
import time

import torch
from torch.utils.data import DataLoader

from graphrnn.datasets.text import Vocab, pad_sequences
from graphrnn.tasks.seq2seq import Seq2Seq, Seq2SeqBatch, seq2seq_step, sequence_exact_match
from graphrnn.train import (Trainer, apply_threads, example_parser, load_for_evaluation,
                            resolve_device, write_results)
from graphrnn.train.rng import seed_everything

DESCRIPTION = "encoder-decoder with attention: '123+456' -> '579' as characters (exact match)"
TOKENS = list("0123456789+")


def make_pairs(n_train: int, n_val: int, n_test: int, digits: int, seed: int):
    """Disjoint lists of operand pairs (an unordered pair appears in one split only)."""
    rng = random.Random(seed)
    high = 10 ** digits
    total = n_train + n_val + n_test
    if total > high * (high + 1) // 2:
        raise ValueError(f"make_pairs: {total} distinct pairs requested but only "
                         f"{high * (high + 1) // 2} exist with digits={digits}")
    seen, pairs = set(), []
    while len(pairs) < total:
        a, b = rng.randrange(high), rng.randrange(high)
        key = (min(a, b), max(a, b))
        if key not in seen:
            seen.add(key)
            pairs.append((a, b))
    return pairs[:n_train], pairs[n_train:n_train + n_val], pairs[n_train + n_val:]


def encode_pairs(vocab: Vocab, pairs):
    return [(vocab.encode(f"{a}+{b}"), vocab.encode(str(a + b), add_bos=True, add_eos=True))
            for a, b in pairs]


def collate(items) -> Seq2SeqBatch:
    src, lengths = pad_sequences([s for s, _ in items], 0)
    tgt, _ = pad_sequences([t for _, t in items], 0)
    return Seq2SeqBatch(src, lengths, tgt)


def build_model(config: dict, vocab: Vocab) -> Seq2Seq:
    return Seq2Seq(len(vocab), len(vocab), embedding_dim=config["embedding_dim"],
                   hidden_size=config["hidden"], score=config["score"],
                   dropout=config["dropout"], pad=vocab.pad_index, bos=vocab.bos_index,
                   eos=vocab.eos_index)


@torch.no_grad()
def exact_match_of(model: Seq2Seq, vocab: Vocab, pairs, beam: int, device, batch_size=500):
    model.eval()
    hits = []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i:i + batch_size]
        batch = collate(encode_pairs(vocab, chunk))
        pred = model.generate(batch.src.to(device), batch.src_lengths.to(device),
                              max_len=batch.tgt.size(1), beam_width=beam)
        target = [vocab.encode(str(a + b)) for a, b in chunk]
        hits.append(sequence_exact_match(pred, target) * len(chunk))
    return sum(hits) / len(pairs)


def _parser(action: str):
    parser = example_parser("seq2seq_addition", __doc__, epochs=30)
    parser.add_argument("--digits", type=int, default=3, help="operand digits (default 3)")
    parser.add_argument("--train-size", type=int, default=50_000)
    parser.add_argument("--test-size", type=int, default=5_000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embedding-dim", type=int, default=32)
    parser.add_argument("--score", choices=("general", "additive"), default="general")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--teacher-forcing", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.0,
                        help="decoupled weight decay (AdamW; 0 is plain Adam)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--beam", type=int, default=4, help="beam width for the test score")
    if action == "evaluate":
        parser.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    return parser


def train(argv=None) -> int:
    args = _parser("train").parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    if args.quick:
        args.digits, args.train_size, args.test_size, args.hidden = 2, 2000, 200, 32
    start = time.perf_counter()
    vocab = Vocab(TOKENS)
    n_val = max(args.test_size // 5, 100)
    train_pairs, val_pairs, test_pairs = make_pairs(args.train_size, n_val, args.test_size,
                                                    args.digits, args.seed)
    config = {"digits": args.digits, "hidden": args.hidden, "embedding_dim": args.embedding_dim,
              "score": args.score, "dropout": args.dropout, "seed": args.seed,
              "train_size": args.train_size, "test_size": args.test_size}
    seed_everything(args.seed)
    model = build_model(config, vocab)
    gen = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(encode_pairs(vocab, train_pairs), batch_size=args.batch_size,
                              shuffle=True, collate_fn=collate, generator=gen)
    val_loader = DataLoader(encode_pairs(vocab, val_pairs), batch_size=500, collate_fn=collate)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr,
                                  weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                           patience=2)
    trainer = Trainer(model, optimizer,
                      lambda m, b: seq2seq_step(m, b, args.teacher_forcing),
                      scheduler=scheduler, max_epochs=args.epochs, monitor="val_greedy_exact",
                      mode="max", clip_grad_norm=1.0, seed=args.seed, device=device,
                      out_dir=args.out, resume=args.resume, config=config, vocab=vocab.to_list(),
                      restore_best=True, progress=not args.quick, tensorboard=False)
    history = trainer.fit(train_loader, val_loader)
    greedy = exact_match_of(trainer.model, vocab, test_pairs, 1, device)
    beam = exact_match_of(trainer.model, vocab, test_pairs, args.beam, device)
    elapsed = time.perf_counter() - start
    print(f"addition ({args.digits} digits, {len(train_pairs)} training pairs): {len(history)} "
          f"epochs in {elapsed:.0f} s; test exact match greedy {100 * greedy:.2f}%, beam "
          f"{args.beam} {100 * beam:.2f}% ({len(test_pairs)} held-out expressions)")
    write_results(args.out, "test_scores.json",
        {"epochs": len(history), "seconds": elapsed, "greedy_exact": greedy,
         f"beam{args.beam}_exact": beam})
    return 0


def evaluate(argv=None) -> int:
    args = _parser("evaluate").parse_args(argv)
    device, ckpt, path = load_for_evaluation(args)
    config, vocab = ckpt["config"], Vocab.from_list(ckpt["vocab"])
    model = build_model(config, vocab).to(device)
    model.load_state_dict(ckpt["model"])
    n_val = max(config["test_size"] // 5, 100)
    _, _, test_pairs = make_pairs(config["train_size"], n_val, config["test_size"],
                                  config["digits"], config["seed"])
    greedy = exact_match_of(model, vocab, test_pairs, 1, device)
    beam = exact_match_of(model, vocab, test_pairs, args.beam, device)
    print(f"addition test ({path}): exact match greedy {100 * greedy:.2f}%, beam {args.beam} "
          f"{100 * beam:.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
