"""CTC on generated speech-like frames: a BiLSTM learns to read digit sequences with no alignment.

Each digit 0-9 has a fixed prototype vector (a random direction of norm sqrt(dim), shared by all
splits). An utterance of 3-7 digits becomes frames: every digit lasts 2-5 frames of its prototype,
scaled by a random gain and buried in Gaussian noise; silence frames pad the ends, separate
repeated digits and, at random, other neighbours (graphrnn.datasets.sequences.DigitFrames). Only
the digit sequence is the target, never which frames belong to which digit, so the network
(graphrnn.models.ctc.CTCReader: bidirectional LSTM + CTC head) must learn the alignment through
the CTC loss. The score is sequence accuracy: the fraction of test utterances whose decoded digit
sequence (greedy best path and prefix beam search) is entirely right.

    graphrnn train ctc_digits                     # 95.2% greedy
    graphrnn evaluate ctc_digits --checkpoint runs/ctc_digits/best.pt --beam 8
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import EvaluateConfig, TrainConfig, option


@dataclass
class Config(TrainConfig):
    epochs: int = option(12, "training epochs", min=1)
    train_size: int = option(20_000, "training utterances", min=1)
    test_size: int = option(1_000, "test utterances (validation: half as many, at least 50)",
                            min=1)
    dim: int = option(16, "features per frame", min=1)
    noise: float = option(0.8, "noise std of every frame", min=0)
    hidden: int = option(96, "LSTM units per direction", min=1)
    layers: int = option(1, "stacked LSTM layers", min=1)
    lr: float = option(3e-3, "learning rate", positive=True)
    weight_decay: float = option(0.0, "decoupled weight decay (AdamW; 0 is plain Adam)", min=0)
    batch_size: int = option(32, "utterances per batch", min=1)
    beam: int = option(8, "prefix beam width of the test score", min=1)


@dataclass
class Evaluate(EvaluateConfig):
    beam: int = option(8, "prefix beam width", min=1)


def _split(config: Config, split: str):
    from ..datasets.sequences import DigitFrames

    size = {"train": config.train_size, "val": max(config.test_size // 2, 50),
            "test": config.test_size}[split]
    seed = {"train": 1000, "val": 2000, "test": 3000}[split] + config.seed
    return DigitFrames(size, seed, dim=config.dim, noise=config.noise)


def _loader(dataset, batch_size: int = 200, **kwargs):
    from torch.utils.data import DataLoader

    return DataLoader(dataset, batch_size=batch_size, collate_fn=dataset.collate, **kwargs)


def _scores(model, test, beam: int, device) -> dict:
    from ..models.ctc import sequence_accuracy

    loader = _loader(test)
    return {"greedy_seq_acc": sequence_accuracy(model, loader, 1, device),
            f"beam{beam}_seq_acc": sequence_accuracy(model, loader, beam, device)}


def train(config: Config) -> dict:
    import torch

    from ..models.ctc import CTCReader, ctc_step
    from ..train import Trainer, seed_everything
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    if config.quick:
        config.train_size, config.test_size, config.hidden = 600, 100, 32
    timer = Timer()
    train_set, val_set, test_set = (_split(config, s) for s in ("train", "val", "test"))
    seed_everything(config.seed)
    model = CTCReader(config.dim, config.hidden, config.layers)
    train_loader = _loader(train_set, config.batch_size, shuffle=True,
                           generator=torch.Generator().manual_seed(config.seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    trainer = Trainer(model, optimizer, ctc_step, scheduler=scheduler, monitor="val_seq_acc",
                      mode="max", clip_grad_norm=5.0, restore_best=True,
                      **trainer_options("ctc_digits", config, device))
    history = trainer.fit(train_loader, _loader(val_set))
    scores = _scores(trainer.model, test_set, config.beam, device)
    print(f"ctc_digits: {len(history)} epochs in {timer.seconds:.0f} s; test sequence accuracy "
          f"greedy {100 * scores['greedy_seq_acc']:.2f}%, beam {config.beam} "
          f"{100 * scores[f'beam{config.beam}_seq_acc']:.2f}% ({len(test_set)} utterances)")
    return {"epochs": len(history), "seconds": timer.seconds, **scores}


def evaluate(config: Evaluate) -> dict:
    from ..models.ctc import CTCReader
    from .runtime import open_trained

    device, path, ckpt, trained = open_trained(config, "ctc_digits", Config)
    model = CTCReader(trained.dim, trained.hidden, trained.layers).to(device)
    model.load_state_dict(ckpt["model"])
    scores = _scores(model, _split(trained, "test"), config.beam, device)
    print(f"ctc_digits test ({path}): sequence accuracy greedy "
          f"{100 * scores['greedy_seq_acc']:.2f}%, beam {config.beam} "
          f"{100 * scores[f'beam{config.beam}_seq_acc']:.2f}%")
    return scores


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
