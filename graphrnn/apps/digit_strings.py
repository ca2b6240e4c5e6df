"""Offline handwriting: a CNN-BiLSTM with CTC reads lines of real handwritten digits.

The digits are UCI optdigits as shipped with scikit-learn (1,797 images of 8x8 pixels, UCI's
test part by 13 writers; pip install "graphrnn[sklearn]", or --root a folder with
digits.csv.gz). The source images are split per class 60/20/20 into train/val/test (1,078 / 359 /
360 images) before any line is made, so no test line holds a training image. A line is 3-8 of its
split's images side by side on a 16-pixel-high canvas, each at a random height (vertical jitter
0-8 pixels) and a random gap (-1 to 4 pixels) from its neighbour (graphrnn.datasets.DigitStrings;
dataset card datasets/digit_strings.md). With --augment, training lines also resize each digit
(7-9 x 6-10 pixels) and scale its ink (0.6-1); it scored lower, so it is off by default.

The reader (graphrnn.models.line_reader.LineReader) is a ConvEncoder over the line image whose
columns feed a BiLSTM and a CTC head (CRNN, Shi et al. 2015); only the digit string is the
target, never where each digit is. The score is line accuracy (the whole string right) and the
character error rate (edit distance / reference length) on the test lines, decoded greedily and
by prefix beam search. OUT gets best.pt, last.pt, metrics.csv, curves.png, results.json and
test_lines.png (test lines with their predictions, wrong ones in red).

    graphrnn train digit_strings          # test lines 99.00% right (CER 0.19%), greedy and beam 8
    graphrnn train digit_strings --augment --out runs/digit_strings_augment   # 97.35% (0.49%)
    graphrnn evaluate digit_strings --checkpoint runs/digit_strings/best.pt --beam 8
"""
from __future__ import annotations

from dataclasses import dataclass

from .config import EvaluateConfig, TrainConfig, option

PNG = "test_lines.png"


@dataclass
class Config(TrainConfig):
    epochs: int = option(5, "training epochs", min=1)
    train_size: int = option(10_000, "training lines (from the 1,078 training images)", min=1)
    val_size: int = option(1_000, "validation lines (from the 359 validation images)", min=1)
    test_size: int = option(2_000, "test lines (from the 360 test images)", min=1)
    min_len: int = option(3, "fewest digits in a line", min=1)
    max_len: int = option(8, "most digits in a line", min=1)
    height: int = option(16, "line height in pixels (vertical jitter: height - 8)", min=8)
    channels: list[int] = option([32, 64, 96], "channels of the three convolution stages", min=1)
    hidden: int = option(96, "LSTM units per direction", min=1)
    layers: int = option(1, "stacked BiLSTM layers", min=1)
    dropout: float = option(0.1, "2-D dropout after each convolution stage", min=0, max=0.9)
    lr: float = option(2e-3, "AdamW learning rate (cosine-annealed to 0)", positive=True)
    weight_decay: float = option(1e-4, "decoupled weight decay", min=0)
    batch_size: int = option(32, "lines per batch", min=1)
    beam: int = option(8, "prefix beam width of the test score", min=1)
    split_seed: int = option(0, "seed of the 60/20/20 split of the source images")
    augment: bool = option(False, "training lines: each digit resized to 7-9 x 6-10 pixels, its "
                           "ink scaled by 0.6-1 (measured: test line accuracy 97.35%, below "
                           "99.00% without)")


@dataclass
class Evaluate(EvaluateConfig):
    beam: int = option(8, "prefix beam width", min=1)
    test_size: int | None = option(None, "test lines (default: as trained)", min=1)


def _check(config: Config) -> None:
    from .config import ConfigError

    if config.min_len > config.max_len:
        raise ConfigError(f"--min-len {config.min_len} is more than --max-len {config.max_len}")
    if len(config.channels) != 3:
        raise ConfigError(f"--channels takes three numbers (one per convolution stage), got "
                          f"{len(config.channels)}")


def _split(config: Config, split: str, size: int | None = None):
    from ..datasets.digit_strings import DigitStrings

    size = size or {"train": config.train_size, "val": config.val_size,
                    "test": config.test_size}[split]
    return DigitStrings(split, size, config.seed, min_len=config.min_len, max_len=config.max_len,
                        height=config.height, root=config.root, split_seed=config.split_seed,
                        augment=config.augment and split == "train")


def _loader(dataset, batch_size: int = 100, **kwargs):
    from torch.utils.data import DataLoader

    return DataLoader(dataset, batch_size=batch_size, collate_fn=dataset.collate, **kwargs)


def _model(config: Config):
    from ..models.line_reader import LineReader

    return LineReader(config.height, channels=config.channels, hidden_size=config.hidden,
                      num_layers=config.layers, dropout=config.dropout)


def _scores(model, test, beam: int, device) -> tuple[dict, list[list[int]]]:
    """Test scores, greedy and beam, and the greedy predictions (digits) in test order."""
    from ..models.ctc import ctc_scores

    loader = _loader(test)
    greedy = ctc_scores(model, loader, 1, device, return_predictions=True)
    beamed = ctc_scores(model, loader, beam, device)
    scores = {"greedy_line_acc": greedy["seq_acc"], "greedy_cer": greedy["cer"],
              f"beam{beam}_line_acc": beamed["seq_acc"], f"beam{beam}_cer": beamed["cer"],
              "test_lines": len(test), "test_source_images": len(test.source_indices)}
    return scores, [[c - 1 for c in p] for p in greedy["predictions"]]


def plot_lines(dataset, predictions, path, count: int = 12, title: str | None = None):
    """A PNG of ``count`` lines of ``dataset`` with their true and predicted digits: the first
    wrongly read lines (up to half of ``count``, written in red and marked X), then the first right
    ones, in data-set order. ``predictions`` holds the digits read for every line."""
    import os

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if len(predictions) != len(dataset):
        raise ValueError(f"plot_lines: {len(predictions)} predictions for {len(dataset)} lines")
    wrong = [i for i in range(len(dataset)) if list(predictions[i]) != dataset.digits[i]]
    right = [i for i in range(len(dataset)) if list(predictions[i]) == dataset.digits[i]]
    shown = wrong[:count // 2]
    shown = sorted(shown + right[:count - len(shown)])
    fig = Figure(figsize=(7.0, 0.62 * len(shown) + 0.6))
    FigureCanvasAgg(fig)
    width = max(dataset[i][0].shape[-1] for i in shown)
    for row, i in enumerate(shown):
        image, digits = dataset[i]
        guess = "".join(map(str, predictions[i]))
        truth = "".join(map(str, digits))
        ax = fig.add_subplot(len(shown), 1, row + 1)
        ax.imshow(image[0].numpy(), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_axis_off()
        ok = guess == truth
        ax.text(width + 2, image.shape[1] / 2, f"#{i:<5d} {truth:>8}  ->  {guess}"
                + ("" if ok else "  X"), va="center", fontsize=9, family="monospace",
                color="black" if ok else "red")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.02, right=0.55, top=0.94 if title else 0.98, bottom=0.02,
                        hspace=0.25)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def _title(scores: dict) -> str:
    wrong = round((1 - scores["greedy_line_acc"]) * scores["test_lines"])
    return (f"digit_strings test lines: truth -> greedy reading ({wrong} of "
            f"{scores['test_lines']} lines wrong; red: wrong ones)")


def _report(name: str, scores: dict, beam: int) -> str:
    acc, cer = scores[f"beam{beam}_line_acc"], scores[f"beam{beam}_cer"]
    return (f"{name}: test line accuracy greedy {100 * scores['greedy_line_acc']:.2f}% (CER "
            f"{100 * scores['greedy_cer']:.2f}%), beam {beam} {100 * acc:.2f}% (CER "
            f"{100 * cer:.2f}%) on {scores['test_lines']} lines of the "
            f"{scores['test_source_images']} test images")


def train(config: Config) -> dict:
    from pathlib import Path

    import torch

    from ..models.ctc import ctc_step
    from ..train import Trainer, seed_everything
    from .runtime import Timer, setup, trainer_options

    _check(config)
    device = setup(config)
    if config.quick:
        config.train_size, config.val_size, config.test_size = 200, 30, 30
        config.channels, config.hidden = [8, 16, 16], 16
    timer = Timer()
    train_set, val_set, test_set = (_split(config, s) for s in ("train", "val", "test"))
    seed_everything(config.seed)
    model = _model(config)
    train_loader = _loader(train_set, config.batch_size, shuffle=True,
                           generator=torch.Generator().manual_seed(config.seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * len(train_loader),
        pct_start=0.15)
    trainer = Trainer(model, optimizer, ctc_step, scheduler=scheduler, scheduler_interval="step",
                      monitor="val_cer", mode="min", clip_grad_norm=5.0, restore_best=True,
                      **trainer_options("digit_strings", config, device))
    history = trainer.fit(train_loader, _loader(val_set))
    scores, predictions = _scores(trainer.model, test_set, config.beam, device)
    png = plot_lines(test_set, predictions, Path(config.out) / PNG,
                     title=_title(scores))
    print(_report("digit_strings", scores, config.beam)
          + f"; {len(history)} epochs in {timer.seconds:.0f} s; {png}")
    return {"epochs": len(history), "seconds": timer.seconds, **scores}


def evaluate(config: Evaluate) -> dict:
    from pathlib import Path

    from .runtime import open_trained

    device, path, ckpt, trained = open_trained(config, "digit_strings", Config)
    if config.root is not None:
        trained.root = config.root
    model = _model(trained).to(device)
    model.load_state_dict(ckpt["model"])
    test_set = _split(trained, "test", config.test_size)
    scores, predictions = _scores(model, test_set, config.beam, device)
    png = plot_lines(test_set, predictions, Path(config.out) / PNG,
                     title=_title(scores))
    print(_report(f"digit_strings ({path})", scores, config.beam) + f"; {png}")
    return scores


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate)}
