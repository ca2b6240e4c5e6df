"""Learn2Carry: teach a recurrent net to add, digit by digit, least-significant digit first.

Both operands are read as one synchronous chain (position t sees the digit pair (a_t, b_t)) and the
net writes digit t of the sum (graphrnn.models.addition.AdditionRNN). It trains on operands below
555,555,555 (fresh random pairs every epoch, never a test pair), then is tested on pairs drawn from
[555,555,555, 999,999,999] and on pairs of 20- and 30-digit operands: those need the carry rule,
not the training range.

    graphrnn train addition                     # about a minute on one CPU thread
    graphrnn evaluate addition --checkpoint runs/addition/best.pt
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import EvaluateConfig, TrainConfig, option


@dataclass
class Config(TrainConfig):
    epochs: int = option(20, "training epochs", min=1)
    cell: str = option("gru", "recurrent cell", choices=("rnn", "lstm", "gru"))
    hidden: int = option(32, "hidden units", min=1)
    embedding_dim: int | None = option(None, "embed the digits instead of one-hot codes", min=1)
    batch_size: int = option(64, "pairs per batch", min=1)
    batches: int = option(200, "training batches per epoch", min=1)
    lr: float = option(1e-2, "Adam learning rate", positive=True)
    test_size: int = option(2000, "pairs in each test set", min=1)


def _model(config: Config):
    from ..models.addition import AdditionRNN

    return AdditionRNN(config.hidden, config.cell, embedding_dim=config.embedding_dim)


def _task(config) -> dict:
    """The Learn2Carry settings of a run (the test sets are the same for train and evaluate)."""
    return {"seed": config.seed, "test_size": config.test_size, "long_size": config.test_size}


def _report(model, config) -> dict:
    from ..datasets.addition import Learn2Carry
    from ..models.addition import evaluate_addition

    results = {name: evaluate_addition(model, data.batch)
               for name, data in Learn2Carry.test_sets(**_task(config)).items()}
    for name, r in results.items():
        print(f"{name:>14}: exact match {r['exact_match']:.4f} ({r['count'] - r['wrong']}/"
              f"{r['count']}), digit accuracy {r['digit_acc']:.5f}")
    return results


def train(config: Config) -> dict:
    import torch

    from ..datasets.addition import Learn2Carry, TrainingDraws
    from ..models.addition import addition_step
    from ..train import Trainer
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    if config.quick:
        config.batches, config.test_size = min(config.batches, 60), min(config.test_size, 300)
    torch.manual_seed(config.seed)
    model = _model(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    trainer = Trainer(model, optimizer, addition_step, scheduler=scheduler, restore_best=True,
                      monitor="val_loss", clip_grad_norm=5.0,
                      **trainer_options("addition", config, device))
    train_loader = TrainingDraws(config.batch_size, config.batches, epoch=trainer.epoch,
                                 **_task(config))
    timer = Timer()
    trainer.fit(train_loader, [Learn2Carry("val", size=1000, **_task(config)).batch])
    print(f"trained {trainer.epoch} epochs in {timer.seconds:.1f} s ({config.batches} batches of "
          f"{config.batch_size} per epoch)")
    return {**_report(model.cpu(), config), "train_seconds": timer.seconds}


def evaluate(config: EvaluateConfig) -> dict:
    from .runtime import open_trained

    _, _, ckpt, trained = open_trained(config, "addition", Config)
    model = _model(trained)
    model.load_state_dict(ckpt["model"])
    return _report(model, trained)


COMMANDS = {"train": (Config, train), "evaluate": (EvaluateConfig, evaluate)}
