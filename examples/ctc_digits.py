"""CTC on generated speech-like frames: a BiLSTM learns to read digit sequences with no alignment.

Each digit 0-9 has a fixed prototype vector (a random direction of norm sqrt(dim), drawn once from a
fixed seed and shared by all splits).
An utterance of 3-7 digits becomes frames: every digit lasts 2-5 frames of its prototype, scaled by
a random gain and buried in Gaussian noise; silence frames (noise only) pad the ends, separate
repeated digits and, at random, other neighbours. Only the digit sequence is given as the target,
never which frames belong to which digit, so the network (bidirectional
:class:`graphrnn.nn.LSTM` + :class:`graphrnn.tasks.CTCHead`) must learn the alignment through the
CTC loss. The score is sequence accuracy: the fraction of test utterances whose decoded digit
sequence (greedy best path and prefix beam search) is entirely right::

    graphrnn train ctc_digits --epochs 12
    graphrnn evaluate ctc_digits --checkpoint runs/ctc_digits/best.pt
"""
from __future__ import annotations

import time
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader

from graphrnn.nn import LSTM
from graphrnn.tasks.ctc import CTCHead
from graphrnn.tasks.seq2seq import sequence_exact_match
from graphrnn.train import (Trainer, apply_threads, example_parser, load_for_evaluation,
                            resolve_device, write_results)
from graphrnn.train.rng import seed_everything

DESCRIPTION = "CTC: read digit sequences from noisy, unaligned generated frames (sequence accuracy)"
BLANK = 0  # class d + 1 is digit d


class Utterances(NamedTuple):
    """A padded batch: frames (B, T, F), frame_lengths (B,), labels (B, S), label_lengths (B,)."""
    frames: Tensor
    frame_lengths: Tensor
    labels: Tensor
    label_lengths: Tensor


def prototypes(dim: int, seed: int = 1234) -> Tensor:
    """(10, dim) digit prototypes, the same for every split: random directions, all of norm
    sqrt(dim) (every digit equally loud; unscaled Gaussian draws made one digit's prototype so
    short that, at low gain, its frames were hard to tell from silence)."""
    p = torch.randn(10, dim, generator=torch.Generator().manual_seed(seed))
    return p * (dim ** 0.5 / p.norm(dim=1, keepdim=True))


def make_utterances(n: int, seed: int, dim: int = 16, noise: float = 0.8, min_digits: int = 3,
                    max_digits: int = 7) -> list[tuple[Tensor, list[int]]]:
    """``n`` pairs ``(frames (T, dim), digits)``; see the module docstring."""
    g = torch.Generator().manual_seed(seed)
    protos = prototypes(dim)

    def randint(lo, hi):  # inclusive
        return int(torch.randint(lo, hi + 1, (1,), generator=g))

    out = []
    for _ in range(n):
        digits = [randint(0, 9) for _ in range(randint(min_digits, max_digits))]
        means = [torch.zeros(dim)] * randint(0, 3)
        for i, d in enumerate(digits):
            if i and (d == digits[i - 1] or randint(0, 1)):
                means += [torch.zeros(dim)] * randint(1, 2)
            gain = 0.7 + 0.6 * float(torch.rand(1, generator=g))
            means += [protos[d] * gain] * randint(2, 5)
        means += [torch.zeros(dim)] * randint(0, 3)
        frames = torch.stack(means) + noise * torch.randn(len(means), dim, generator=g)
        out.append((frames, digits))
    return out


def collate(items) -> Utterances:
    frames = pad_sequence([f for f, _ in items], batch_first=True)
    labels = pad_sequence([torch.tensor(d) + 1 for _, d in items], batch_first=True)
    return Utterances(frames, torch.tensor([len(f) for f, _ in items]), labels,
                      torch.tensor([len(d) for _, d in items]))


class CTCReader(nn.Module):
    """Bidirectional LSTM over the frames, CTC head over its outputs: (B, T, F) -> (T, B, 11)."""

    def __init__(self, input_size: int, hidden: int, layers: int):
        super().__init__()
        self.lstm = LSTM(input_size, hidden, num_layers=layers, bidirectional=True,
                         batch_first=True)
        self.head = CTCHead(2 * hidden, 11, blank=BLANK)

    def forward(self, frames: Tensor, lengths: Tensor) -> Tensor:
        packed = pack_padded_sequence(frames, lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, total_length=frames.size(1))  # (T, B, 2H)
        return self.head(out)


def step(model: CTCReader, batch: Utterances):
    log_probs = model(batch.frames, batch.frame_lengths)
    loss = model.head.loss(log_probs, batch.labels, batch.frame_lengths, batch.label_lengths)
    metrics = {}
    if not model.training:
        pred = model.head.decode(log_probs, batch.frame_lengths)
        gold = [row[:n] for row, n in zip(batch.labels.tolist(), batch.label_lengths.tolist())]
        metrics["seq_acc"] = sequence_exact_match(pred, gold)
    return loss, metrics


@torch.no_grad()
def sequence_accuracy(model: CTCReader, loader, beam: int, device) -> float:
    model.eval()
    hits = total = 0
    for batch in loader:
        log_probs = model(batch.frames.to(device), batch.frame_lengths.to(device))
        pred = model.head.decode(log_probs, batch.frame_lengths, beam_width=beam)
        gold = [row[:n] for row, n in zip(batch.labels.tolist(), batch.label_lengths.tolist())]
        hits += sum(int(p == g) for p, g in zip(pred, gold))
        total += len(gold)
    return hits / total


def _parser(action: str):
    parser = example_parser("ctc_digits", __doc__, epochs=12)
    parser.add_argument("--train-size", type=int, default=20000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--noise", type=float, default=0.8)
    parser.add_argument("--hidden", type=int, default=96)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.0,
                        help="decoupled weight decay (AdamW; 0 is plain Adam)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--beam", type=int, default=8)
    if action == "evaluate":
        parser.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    return parser


def _splits(config: dict):
    s = config["seed"]
    kw = {"dim": config["dim"], "noise": config["noise"]}
    return (make_utterances(config["train_size"], 1000 + s, **kw),
            make_utterances(max(config["test_size"] // 2, 50), 2000 + s, **kw),
            make_utterances(config["test_size"], 3000 + s, **kw))


def train(argv=None) -> int:
    args = _parser("train").parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    if args.quick:
        args.train_size, args.test_size, args.hidden = 600, 100, 32
    start = time.perf_counter()
    config = {k: getattr(args, k) for k in ("train_size", "test_size", "dim", "noise", "hidden",
                                             "layers", "seed")}
    train_set, val_set, test_set = _splits(config)
    seed_everything(args.seed)
    model = CTCReader(args.dim, args.hidden, args.layers)
    gen = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              collate_fn=collate, generator=gen)
    val_loader = DataLoader(val_set, batch_size=200, collate_fn=collate)
    test_loader = DataLoader(test_set, batch_size=200, collate_fn=collate)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr,
                                  weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    trainer = Trainer(model, optimizer, step, scheduler=scheduler, max_epochs=args.epochs,
                      monitor="val_seq_acc",
                      mode="max", clip_grad_norm=5.0, seed=args.seed, device=device,
                      out_dir=args.out, resume=args.resume, config=config, restore_best=True,
                      progress=not args.quick, tensorboard=False)
    history = trainer.fit(train_loader, val_loader)
    greedy = sequence_accuracy(trainer.model, test_loader, 1, device)
    beam = sequence_accuracy(trainer.model, test_loader, args.beam, device)
    elapsed = time.perf_counter() - start
    print(f"ctc_digits: {len(history)} epochs in {elapsed:.0f} s; test sequence accuracy greedy "
          f"{100 * greedy:.2f}%, beam {args.beam} {100 * beam:.2f}% ({len(test_set)} utterances)")
    write_results(args.out, "test_scores.json",
        {"epochs": len(history), "seconds": elapsed, "greedy_seq_acc": greedy,
         f"beam{args.beam}_seq_acc": beam})
    return 0


def evaluate(argv=None) -> int:
    args = _parser("evaluate").parse_args(argv)
    device, ckpt, path = load_for_evaluation(args)
    config = ckpt["config"]
    model = CTCReader(config["dim"], config["hidden"], config["layers"]).to(device)
    model.load_state_dict(ckpt["model"])
    test_loader = DataLoader(_splits(config)[2], batch_size=200, collate_fn=collate)
    greedy = sequence_accuracy(model, test_loader, 1, device)
    beam = sequence_accuracy(model, test_loader, args.beam, device)
    print(f"ctc_digits test ({path}): sequence accuracy greedy {100 * greedy:.2f}%, beam "
          f"{args.beam} {100 * beam:.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
