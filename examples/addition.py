"""Learn2Carry: teach a recurrent net to add, digit by digit, least-significant digit first.

Both operands are read as one synchronous chain (position t sees the digit pair (a_t, b_t)) and the
net writes digit t of the sum (graphrnn.tasks.addition.AdditionRNN). It trains on operands below
555,555,555 (fresh random pairs every epoch, never a test pair), then is tested on 2,000 pairs
drawn from [555,555,555, 999,999,999] and on 2,000 pairs each of 20- and 30-digit operands: those
need the carry rule, not the training range.

    graphrnn train addition                     # about a minute on one CPU thread
    graphrnn evaluate addition --checkpoint runs/addition/best.pt
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from graphrnn.datasets.addition import Learn2Carry
from graphrnn.tasks.addition import AdditionRNN, addition_step, evaluate_addition
from graphrnn.train import (Trainer, apply_threads, example_parser, load_checkpoint,
                            resolve_device, write_results)

DESCRIPTION = "Learn2Carry: an RNN adds integers digit by digit (tested on 20/30-digit operands)"


class FreshBatches:
    """A training 'loader' that draws ``num_batches`` new batches every epoch, deterministic from
    the seed and the epoch, never containing a test pair."""

    def __init__(self, data: Learn2Carry, batch_size: int, num_batches: int):
        self.data, self.batch_size, self.num_batches = data, batch_size, num_batches
        self.epoch = 0

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self):
        # one fixed draw per epoch (train_set's offset selects it): resumable and reproducible
        block = self.data.train_set(self.batch_size * self.num_batches, offset=1 + self.epoch)
        self.epoch += 1
        for i in range(self.num_batches):
            sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield type(block)(block.a[sl], block.b[sl], block.sum[sl])


def _parser(description: str, action: str):
    parser = example_parser("addition", description, epochs=20)
    parser.prog = f"graphrnn {action} addition"
    parser.add_argument("--cell", default="gru", choices=["rnn", "lstm", "gru"])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--embedding-dim", type=int, default=None,
                        help="embed the digits instead of one-hot codes")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=200, help="training batches per epoch")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--test-size", type=int, default=2000)
    return parser


def _report(model, data: Learn2Carry) -> dict:
    results = {"in_range_test": evaluate_addition(model, data.test)}
    for digits, batch in data.long_tests.items():
        results[f"{digits}_digits"] = evaluate_addition(model, batch)
    for name, r in results.items():
        print(f"{name:>14}: exact match {r['exact_match']:.4f} ({r['count'] - r['wrong']}/"
              f"{r['count']}), digit accuracy {r['digit_acc']:.5f}")
    return results


def train(argv=None) -> int:
    parser = _parser(__doc__, "train")
    args = parser.parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    if args.quick:
        args.batches, args.test_size = min(args.batches, 60), min(args.test_size, 300)
    data = Learn2Carry(seed=args.seed, test_size=args.test_size, long_size=args.test_size)
    torch.manual_seed(args.seed)
    model = AdditionRNN(args.hidden, args.cell, embedding_dim=args.embedding_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    val = [data.train_set(1000, offset=0)]  # held-out pairs from the training range
    config = {**model.config(), "seed": args.seed, "test_size": args.test_size}
    trainer = Trainer(model, optimizer, addition_step, scheduler=scheduler,
                      max_epochs=args.epochs, seed=args.seed, device=device, out_dir=args.out,
                      resume=args.resume, config=config, restore_best=True,
                      monitor="val_loss", clip_grad_norm=5.0, progress=not args.quick)
    train_loader = FreshBatches(data, args.batch_size, args.batches)
    train_loader.epoch = trainer.epoch
    start = time.perf_counter()
    trainer.fit(train_loader, val)
    seconds = time.perf_counter() - start
    print(f"trained {trainer.epoch} epochs in {seconds:.1f} s ({args.batches} batches of "
          f"{args.batch_size} per epoch)")
    results = _report(model.cpu(), data)
    results["train_seconds"] = seconds
    write_results(args.out, "results.json", results)
    return 0


def evaluate(argv=None) -> int:
    parser = _parser("Evaluate a trained Learn2Carry model on the out-of-range and long tests.",
                     "evaluate")
    parser.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    args = parser.parse_args(argv)
    apply_threads(args.threads)
    ckpt = load_checkpoint(args.checkpoint or Path(args.out) / "best.pt", map_location="cpu")
    cfg = dict(ckpt["config"])
    seed, test_size = cfg.pop("seed", args.seed), cfg.pop("test_size", args.test_size)
    model = AdditionRNN(**cfg)
    model.load_state_dict(ckpt["model"])
    _report(model, Learn2Carry(seed=seed, test_size=test_size, long_size=test_size))
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
