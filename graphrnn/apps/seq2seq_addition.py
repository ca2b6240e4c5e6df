"""Encoder-decoder with attention learns addition as characters: "123+456" -> "579".

Operands are drawn uniformly from [0, 10**digits); the source is the expression, the target the
sum, both character sequences of different, varying lengths (asynchronous sequence to sequence,
graphrnn.models.seq2seq.Seq2Seq: a bidirectional LSTM encoder, an LSTM decoder with global
attention). Train, validation and test pairs are disjoint (as unordered pairs). The score is exact
match: the fraction of test expressions whose decoded sum is entirely right, with greedy decoding
and with beam search.

    graphrnn train seq2seq_addition --epochs 14 --batch-size 256 --lr 4e-3   # 99.7% exact
    graphrnn evaluate seq2seq_addition --checkpoint runs/seq2seq_addition/best.pt --beam 4
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import EvaluateConfig, TrainConfig, option


@dataclass
class Config(TrainConfig):
    epochs: int = option(30, "training epochs", min=1)
    digits: int = option(3, "operand digits", min=1)
    train_size: int = option(50_000, "training expressions", min=1)
    test_size: int = option(5_000, "test expressions (validation: a fifth, at least 100)", min=1)
    hidden: int = option(128, "hidden units per encoder direction and of the decoder", min=1)
    embedding_dim: int = option(32, "character embedding size", min=1)
    score: str = option("general", "attention score", choices=("general", "additive"))
    dropout: float = option(0.0, "dropout on embeddings and attentional states", min=0, max=0.99)
    teacher_forcing: float = option(1.0, "probability of feeding the true previous character "
                                    "(below 1: scheduled sampling)", min=0, max=1)
    lr: float = option(3e-3, "learning rate", positive=True)
    weight_decay: float = option(0.0, "decoupled weight decay (AdamW; 0 is plain Adam)", min=0)
    batch_size: int = option(128, "expressions per batch", min=1)
    beam: int = option(4, "beam width of the test score", min=1)


@dataclass
class Evaluate(EvaluateConfig):
    beam: int = option(4, "beam width", min=1)


def _splits(config: Config) -> dict:
    from ..datasets.sequences import AdditionExpressions

    return {split: AdditionExpressions(split, config.digits, config.train_size, config.test_size,
                                       config.seed) for split in AdditionExpressions.SPLITS}


def build_model(config: Config, vocab):
    """The Seq2Seq of ``config`` over ``vocab`` (a fresh one; load a checkpoint's weights into
    it)."""
    from ..models.seq2seq import Seq2Seq

    return Seq2Seq(len(vocab), len(vocab), embedding_dim=config.embedding_dim,
                   hidden_size=config.hidden, score=config.score, dropout=config.dropout,
                   pad=vocab.pad_index, bos=vocab.bos_index, eos=vocab.eos_index)


def _scores(model, test, beam: int, device) -> dict:
    from ..models.seq2seq import generate_exact_match

    return {"greedy_exact": generate_exact_match(model, test, 1, device),
            f"beam{beam}_exact": generate_exact_match(model, test, beam, device)}


def train(config: Config) -> dict:
    import torch
    from torch.utils.data import DataLoader

    from ..datasets.sequences import collate_seq2seq
    from ..models.seq2seq import seq2seq_step
    from ..train import Trainer, seed_everything
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    if config.quick:
        config.digits, config.train_size, config.test_size, config.hidden = 2, 2000, 200, 32
    timer = Timer()
    data = _splits(config)
    vocab = data["train"].vocab
    seed_everything(config.seed)
    model = build_model(config, vocab)
    gen = torch.Generator().manual_seed(config.seed)
    train_loader = DataLoader(data["train"], batch_size=config.batch_size, shuffle=True,
                              collate_fn=collate_seq2seq, generator=gen)
    val_loader = DataLoader(data["val"], batch_size=500, collate_fn=collate_seq2seq)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                           patience=2)
    trainer = Trainer(model, optimizer, lambda m, b: seq2seq_step(m, b, config.teacher_forcing),
                      scheduler=scheduler, monitor="val_greedy_exact", mode="max",
                      clip_grad_norm=1.0, restore_best=True, vocab=vocab.to_list(),
                      **trainer_options("seq2seq_addition", config, device))
    history = trainer.fit(train_loader, val_loader)
    scores = _scores(trainer.model, data["test"], config.beam, device)
    print(f"addition ({config.digits} digits, {len(data['train'])} training pairs): "
          f"{len(history)} epochs in {timer.seconds:.0f} s; test exact match greedy "
          f"{100 * scores['greedy_exact']:.2f}%, beam {config.beam} "
          f"{100 * scores[f'beam{config.beam}_exact']:.2f}% ({len(data['test'])} held-out "
          f"expressions)")
    return {"epochs": len(history), "seconds": timer.seconds, **scores}


def evaluate(config: Evaluate) -> dict:
    from .runtime import open_trained

    device, path, ckpt, trained = open_trained(config, "seq2seq_addition", Config)
    test = _splits(trained)["test"]
    model = build_model(trained, test.vocab).to(device)
    model.load_state_dict(ckpt["model"])
    scores = _scores(model, test, config.beam, device)
    print(f"addition test ({path}): exact match greedy {100 * scores['greedy_exact']:.2f}%, beam "
          f"{config.beam} {100 * scores[f'beam{config.beam}_exact']:.2f}%")
    return scores


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
