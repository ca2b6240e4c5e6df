"""``graphrnn bench lm``: training throughput of the word-level language model against the same
model written in plain ``torch.nn``, side by side in one process.

The small configuration of Zaremba et al. (2014): 2 LSTM layers of 200, embeddings of 200, BPTT
windows of 35 steps, batch 20, a 10,000-token vocabulary (random tokens: the speed does not depend
on the text), no dropout, untied. One training step is what ``graphrnn train lm`` runs: the window
forward from the carried, detached state, the cross-entropy over the ``B x 35`` targets (over the
logits as ``(N, V)``, no copy), backward, gradient clipping to 0.25 and an SGD step.

* ours: :class:`graphrnn.models.language_model.LanguageModel` with
  :func:`graphrnn.models.stream_lm.stream_lm_step` (``graphrnn.nn.LSTM``, fused path);
* torch: ``nn.Embedding`` + ``nn.LSTM(batch_first=True)`` + ``nn.Linear`` + ``F.cross_entropy``
  in a hand-written loop, the same weights loaded (outputs checked equal before timing).

Reported: training tokens per second of each (the fastest of ``--repeats`` interleaved rounds of
``--windows`` steps), their ratio (ours / torch, higher is better; target >= 0.95) and the spread
of the per-round ratios, with the CPU and libraries named.
"""
from __future__ import annotations

import argparse
import statistics

import torch
import torch.nn.functional as F
from torch import nn

from ..models.language_model import LanguageModel
from ..models.stream_lm import stream_lm_step, stream_windows
from ..tasks.bptt import detach_state
from .common import format_table, machine_line, time_rounds


class PlainLM(nn.Module):
    """The same network in plain ``torch.nn``."""

    def __init__(self, vocab: int, dim: int, hidden: int, layers: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.rnn = nn.LSTM(dim, hidden, layers, batch_first=True)
        self.decoder = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.rnn(self.embedding(x), state)
        return self.decoder(out), state


def build(vocab: int, dim: int, hidden: int, layers: int) -> tuple[nn.Module, nn.Module]:
    """``(ours, plain)`` with the same weights (uniform in [-0.1, 0.1])."""
    torch.manual_seed(0)
    ours = LanguageModel(vocab, dim, hidden, layers, init_range=0.1, pad_index=0)
    plain = PlainLM(vocab, dim, hidden, layers)
    plain.load_state_dict(ours.state_dict())
    return ours, plain


def _ours_run(model: nn.Module, windows: list, lr: float = 1.0, clip: float = 0.25):
    step = stream_lm_step()
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def run():
        for w in windows:
            loss = step(model, w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
    return run


def _plain_run(model: nn.Module, windows: list, lr: float = 1.0, clip: float = 0.25):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    state = [None]

    def run():
        for w in windows:
            hidden = None if w.first else state[0]
            logits, hidden = model(w.x, hidden)
            state[0] = detach_state(hidden)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), w.y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
    return run


def measure(vocab: int = 10_000, dim: int = 200, hidden: int = 200, layers: int = 2,
            bptt: int = 35, batch: int = 20, windows: int = 5, repeats: int = 5) -> dict:
    """Tokens per second of both (see the module notes)."""
    ours, plain = build(vocab, dim, hidden, layers)
    g = torch.Generator().manual_seed(0)
    stream = torch.randint(0, vocab, (batch * bptt * windows + 1,), generator=g)
    chunks = list(stream_windows(stream, batch, bptt))
    with torch.no_grad():  # the same function before timing
        a, b = ours(chunks[0].x)[0], plain(chunks[0].x)[0]
        diff = float((a - b).abs().max())
    if diff > 1e-4:
        raise RuntimeError(f"bench lm: the two models disagree by {diff:.2e} before timing")
    fns = {"ours": _ours_run(ours.train(), chunks), "torch": _plain_run(plain.train(), chunks)}
    samples = time_rounds(fns, repeats=repeats, warmup=1)
    tokens = sum(w.y.numel() for w in chunks)
    ratios = [t / o for o, t in zip(samples["ours"], samples["torch"])]
    return {"vocab": vocab, "layers": layers, "hidden": hidden, "bptt": bptt, "batch": batch,
            "threads": torch.get_num_threads(),
            "ours_tok_s": tokens / min(samples["ours"]),
            "torch_tok_s": tokens / min(samples["torch"]),
            "ratio": min(samples["torch"]) / min(samples["ours"]),
            "round_ratio_median": statistics.median(ratios),
            "round_ratio_min": min(ratios), "round_ratio_max": max(ratios), "max_diff": diff}


def run(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="graphrnn bench lm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=200, help="embedding size")
    parser.add_argument("--hidden", type=int, default=200)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--windows", type=int, default=5, help="training steps per timed run")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: vocabulary 500, 1 layer of 16, 2 windows, 2 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.vocab, args.dim, args.hidden, args.layers = 500, 16, 16, 1
        args.windows, args.repeats = 2, 2
    torch.set_num_threads(args.threads)
    print(f"graphrnn bench lm: training tokens/s, LSTM {args.layers}x{args.hidden}, embedding "
          f"{args.dim}, vocabulary {args.vocab:,}, BPTT {args.bptt}, batch {args.batch}, SGD + "
          f"clipping; {machine_line()}")
    r = measure(args.vocab, args.dim, args.hidden, args.layers, args.bptt, args.batch,
                args.windows, args.repeats)
    print(format_table(
        ["threads", "graphrnn tok/s", "torch.nn tok/s", "ratio", "per-round ratios (min/med/max)"],
        [[r["threads"], f"{r['ours_tok_s']:,.0f}", f"{r['torch_tok_s']:,.0f}",
          f"{r['ratio']:.3f}", f"{r['round_ratio_min']:.2f} / {r['round_ratio_median']:.2f} / "
          f"{r['round_ratio_max']:.2f}"]]))
    print(f"ratio = graphrnn / torch.nn throughput (fastest rounds; target >= 0.95); outputs "
          f"agreed to {r['max_diff']:.1e} before timing")
    return r
