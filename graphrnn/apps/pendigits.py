"""Online handwriting on UCI pen-based digits: a BiLSTM reads the pen trajectory, a
class-conditional mixture-density RNN draws new digits.

Data (graphrnn.datasets.PenDigits, card datasets/pendigits.md): 10,992 digits by 44 writers, 8
(x, y) points along the pen's path each. Rows 1-7,494 are the published training file (30
writers; its last --val-rows rows are the validation block), rows 7,495-10,992 the
writer-independent test file (14 other writers). Published k-NN on that split: 97.8%.

--model classifier (default): a recurrent chain classifier (graphrnn.models.handwriting.
StrokeClassifier: pen offsets and positions per point, bidirectional LSTM, final states -> 10
classes), trained with random affine augmentation (rotation, shear, aspect; then each axis
rescaled to 0-100 as the data set's digits are). Writes OUT/recognizer/{best,last}.pt,
metrics.csv, curves.png and confusion.png (the test confusion matrix).

--model mdn: a class-conditional recurrent mixture density network over the pen offsets (Graves
2013, section 4: a mixture of --components bivariate Gaussians with correlation per step; every
digit is exactly 8 points, so there is no end-of-stroke output). Integer coordinates are
dequantised with uniform noise in [-0.5, 0.5) (fresh per training batch, fixed for validation
and test), so the test NLL per point, in nats on the 0-100 grid, is an upper bound on the
NLL of the integer points (Theis et al. 2016). Unless --no-baseline, the same network with 1
component (a single Gaussian per step) is trained alongside, into OUT/mdn1. Writes
OUT/mdn/{best,last}.pt, metrics.csv, curves.png and samples.png (10 drawn digits of each
class); when a recogniser checkpoint exists (--recognizer, default OUT/recognizer/best.pt) it
classifies --samples drawn digits per class and reports the share recognised as the class
asked for. Drawn digits are rescaled to
0-100 on each axis, as the data set's own digits were, before they are read or drawn.

    graphrnn train pendigits                # recogniser: test 98.91% (38 errors of 3,498)
    graphrnn train pendigits --model mdn    # test NLL 6.650 nats/point (1 Gaussian: 7.235);
                                            # 94.1% of 1,000 drawn digits recognised
    graphrnn evaluate pendigits             # OUT/recognizer/best.pt on the test split
    graphrnn evaluate pendigits --model mdn # OUT/mdn/best.pt: test NLL per point
    graphrnn generate pendigits --digit 7 --num 16            # OUT/digit7.png (16 of 16 read 7)
    graphrnn generate pendigits --all --num 100 --bias 1      # 99.6% recognised (bias 0: 93.5%)
    graphrnn train pendigits --quick        # a tiny run, seconds

Size: over 400 lines because one module holds both models' training (the MDN with its baseline),
evaluation, generation and the app's two figures (confusion matrix, grid of drawn digits).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError, EvaluateConfig, GenerateConfig, TrainConfig, option

APP = "pendigits"
MODELS = ("classifier", "mdn")
FOLDERS = {"classifier": "recognizer", "mdn": "mdn"}
DIGITS = 10
SHOW = 16  # most digits (of each class, with --all) drawn on generate's grid
#: ``--model mdn`` on the command line takes the generator's defaults (graphrnn.apps._preset).
PRESET_FLAG = "--model"
PRESETS = {"classifier": {},
           "mdn": {"hidden": 256, "layers": 1, "batch_size": 128, "epochs": 30, "dropout": 0.0}}


@dataclass
class Config(TrainConfig):
    model: str = option("classifier", "what to train: the recogniser or the generator (and its "
                        "1-component baseline)", choices=MODELS)
    epochs: int = option(40, "training epochs (--model mdn: 30)", min=1)
    hidden: int = option(128, "units per direction (--model mdn: 256)", min=1)
    layers: int = option(2, "stacked recurrent layers (--model mdn: 1)", min=1)
    cell: str = option("lstm", "recurrent cell", choices=("lstm", "gru"))
    bidirectional: bool = option(True, "classifier: read the chain both ways")
    positions: bool = option(True, "classifier: absolute positions as input besides the offsets")
    pooling: str = option("last", "classifier: final states or mean over points",
                          choices=("last", "mean"))
    dropout: float = option(0.1, "dropout between layers and before the classifier's output "
                            "(--model mdn: 0)", min=0, max=0.9)
    rotate: float = option(10.0, "classifier augmentation: rotation up to +-degrees (0: none)",
                           min=0, max=90)
    shear: float = option(0.2, "classifier augmentation: shear up to +-this", min=0, max=1)
    stretch: float = option(0.2, "classifier augmentation: log aspect change up to +-this",
                            min=0, max=1)
    components: int = option(20, "mdn: Gaussians per step", min=1)
    baseline: bool = option(True, "mdn: also train the 1-component (single Gaussian) network")
    recognizer: str | None = option(None, "mdn: recogniser checkpoint that scores the samples "
                                    "(default: OUT/recognizer/best.pt when it exists)",
                                    path="in_file")
    samples: int = option(100, "mdn: digits drawn per class for the recognition score", min=1)
    bias: float = option(0.0, "mdn: sampling bias of the recognition score (Graves eq. 61-62)",
                         min=0)
    lr: float = option(3e-3, "Adam learning rate (cosine decay to 0)", positive=True)
    batch_size: int = option(64, "digits per batch (--model mdn: 128)", min=1)
    val_rows: int = option(750, "validation block: the last rows of the training file", min=1,
                           max=7000)


@dataclass
class Evaluate(EvaluateConfig):
    model: str = option("classifier", "which model's default checkpoint (OUT/recognizer or "
                        "OUT/mdn) when --checkpoint is not given", choices=MODELS)


@dataclass
class Generate(GenerateConfig):
    digit: int = option(7, "the digit to draw", min=0, max=9)
    num: int = option(16, "digits to draw (of each class with --all); the grid shows 16 of "
                      "them, the recogniser reads all", min=1, max=10000)
    all: bool = option(False, "draw --num digits of every class, a row each")
    bias: float = option(0.0, "sampling bias b >= 0 (Graves eq. 61-62): sigma * exp(-b), "
                         "sharper mixture weights; 0 samples the model itself", min=0)
    recognizer: str | None = option(None, "recogniser checkpoint that classifies the drawn digits "
                                    "(default: OUT/recognizer/best.pt when it exists)",
                                    path="in_file")
    image: str | None = option(None, "the PNG (default: OUT/digitD.png, OUT/digits.png with "
                               "--all)", path="out_file")


# ---- data ----------------------------------------------------------------------------------

def _splits(config: Config):
    from ..datasets.pendigits import PenDigits

    return [PenDigits(config.root, split, val_rows=config.val_rows)
            for split in ("train", "val", "test")]


def _loader(points, labels, batch_size: int = 500, collate=None, **kwargs):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    return DataLoader(TensorDataset(points, labels), batch_size=batch_size,
                      collate_fn=collate or _stack, generator=torch.Generator().manual_seed(0)
                      if kwargs.get("shuffle") else None, **kwargs)


def _stack(items):
    import torch

    points, labels = zip(*items)
    return torch.stack(points), torch.stack(labels)


class _Augment:
    """Collate that applies :func:`~graphrnn.datasets.pendigits.random_affine` to each batch."""

    def __init__(self, rotate: float, shear: float, stretch: float):
        self.rotate, self.shear, self.stretch = rotate, shear, stretch

    def __call__(self, items):
        from ..datasets.pendigits import random_affine

        points, labels = _stack(items)
        return random_affine(points, self.rotate, self.shear, self.stretch), labels


def _dequantize(items):
    """Collate for the MDN: integer points + fresh uniform noise in [-0.5, 0.5)."""
    import torch

    points, labels = _stack(items)
    return points + torch.rand_like(points) - 0.5, labels


def _fixed_noise(points, seed: int):
    import torch

    return points + torch.rand(points.shape, generator=torch.Generator().manual_seed(seed)) - 0.5


# ---- models --------------------------------------------------------------------------------

def _build(trained: Config):
    from ..models.handwriting import MixtureDensityRNN, StrokeClassifier

    if trained.model == "classifier":
        return StrokeClassifier(trained.hidden, trained.layers, trained.cell,
                                trained.bidirectional, trained.positions, trained.pooling,
                                trained.dropout)
    return MixtureDensityRNN(trained.hidden, trained.layers, trained.components,
                             trained.cell, dropout=trained.dropout)


def _load(path, device, model: str | None = None):
    """``(model in eval mode, the config that trained it)`` from a checkpoint of this app; a
    checkpoint of the other kind than ``model`` (when given) is an error naming both."""
    from ..train import CheckpointError
    from .runtime import load_app_checkpoint

    ckpt, trained = load_app_checkpoint(path, APP, Config)
    if model is not None and trained.model != model:
        raise CheckpointError(f"checkpoint {path} holds a {trained.model!r} model; expected a "
                              f"{model!r} one")
    net = _build(trained).to(device)
    net.load_state_dict(ckpt["model"])
    return net.eval(), trained


def _default_recognizer(config) -> Path | None:
    if config.recognizer:
        return Path(config.recognizer)
    path = Path(config.out) / FOLDERS["classifier"] / "best.pt"
    return path if path.is_file() else None


# ---- scores and figures --------------------------------------------------------------------

def _predict(model, points, device):
    import torch

    with torch.no_grad():
        return torch.cat([model(p.to(device)).argmax(-1).cpu() for p in points.split(1000)])


def _confusion(pred, gold):
    import torch

    return torch.bincount(gold * DIGITS + pred, minlength=DIGITS * DIGITS).view(DIGITS, DIGITS)


def _plot_confusion(matrix, path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    off = matrix.clone()
    off.fill_diagonal_(0)
    ax.imshow(off.numpy(), cmap="Reds")  # colour shows the errors; the diagonal is written
    dark = 0.5 * max(int(off.max()), 1)
    for i in range(DIGITS):
        for j in range(DIGITS):
            if matrix[i, j]:
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center",
                        fontsize=7 if i == j else 8, weight="normal" if i == j else "bold",
                        color="white" if int(off[i, j]) > dark else "black")
    ax.set_xticks(range(DIGITS))
    ax.set_yticks(range(DIGITS))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_digits(points, path, rows: int, cols: int, labels=None, title: str = "") -> None:
    """Trajectories (N, 8, 2) on a rows x cols grid: the pen's path, its start as a dot;
    ``labels`` (N,) optional texts above each."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, cols, figsize=(1.1 * cols, 1.15 * rows + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= len(points):
            continue
        xy = points[k].tolist()
        ax.plot([p[0] for p in xy], [p[1] for p in xy], "-", color="k", lw=1.4)
        ax.plot([p[0] for p in xy], [p[1] for p in xy], ".", color="C0", ms=3)
        ax.plot(xy[0][0], xy[0][1], "o", color="C3", ms=4)
        ax.set_xlim(-10, 110)
        ax.set_ylim(-10, 110)
        ax.set_aspect("equal")
        if labels is not None:
            ax.set_title(str(labels[k]), fontsize=7, pad=1)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _draw(mdn, digits, bias: float, seed: int):
    """Sample one digit per entry of ``digits`` (B,) and rescale each axis to 0-100, the data
    set's own normalisation: (B, 8, 2)."""
    import torch

    from ..datasets.pendigits import normalize_box

    generator = torch.Generator().manual_seed(seed)
    return normalize_box(mdn.sample(digits, 8, bias, generator).cpu())


def _sample_score(recognizer, drawn, digits, device) -> dict:
    pred = _predict(recognizer, drawn, device)
    per = {str(d): float((pred[digits == d] == d).float().mean())
           for d in digits.unique().tolist()}
    return {"acc": float((pred == digits).float().mean()), "per_digit": per, "pred": pred}


# ---- train ---------------------------------------------------------------------------------

def train(config: Config) -> dict:
    from ..train import seed_everything
    from .runtime import Timer, setup

    device = setup(config)
    if config.quick:
        config.epochs, config.hidden, config.layers = min(config.epochs, 2), 16, 1
        config.samples = min(config.samples, 5)
    if config.recognizer and config.model != "mdn":
        raise ConfigError("--recognizer scores the MDN's samples; it needs --model mdn")
    timer = Timer()
    train_set, val_set, test_set = _splits(config)
    if config.quick:  # a few hundred digits: seconds
        for ds, n in ((train_set, 400), (val_set, 100), (test_set, 200)):
            ds.points, ds.labels = ds.points[:n], ds.labels[:n]
    seed_everything(config.seed)
    fit = _train_classifier if config.model == "classifier" else _train_mdn
    results = fit(config, device, train_set, val_set, test_set)
    results["seconds"] = timer.seconds
    return results


def _fit(config: Config, model, step, device, train_loader, val_loader, out, monitor, mode):
    import torch

    from ..train import Trainer
    from .runtime import trainer_options

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    trainer = Trainer(model, optimizer, step, scheduler=scheduler, monitor=monitor, mode=mode,
                      clip_grad_norm=5.0, restore_best=True,
                      **trainer_options(APP, config, device, out_dir=out))
    history = trainer.fit(train_loader, val_loader)
    return trainer.model.eval(), history


def _train_classifier(config, device, train_set, val_set, test_set) -> dict:
    from ..models.handwriting import classifier_step

    out = Path(config.out) / FOLDERS["classifier"]
    model = _build(config)
    augment = _Augment(config.rotate, config.shear, config.stretch)
    train_loader = _loader(train_set.points, train_set.labels, config.batch_size, augment,
                           shuffle=True)
    model, history = _fit(config, model, classifier_step, device, train_loader,
                          _loader(val_set.points, val_set.labels), out, "val_acc", "max")
    pred = _predict(model, test_set.points, device)
    matrix = _confusion(pred, test_set.labels)
    acc = float((pred == test_set.labels).float().mean())
    best = max(history, key=lambda row: row["val_acc"])
    _plot_confusion(matrix, out / "confusion.png",
                    f"pendigits test (writer-independent): {100 * acc:.2f}% of {len(pred)}")
    print(f"pendigits recogniser: {len(history)} epochs; val accuracy {100 * best['val_acc']:.2f}%"
          f" (epoch {best['epoch']}); test accuracy {100 * acc:.2f}% "
          f"({int((pred != test_set.labels).sum())} errors of {len(pred)}); {out}/confusion.png")
    return {"model": "classifier", "epochs": len(history), "val_acc": best["val_acc"],
            "test_acc": acc, "test_errors": int((pred != test_set.labels).sum()),
            "confusion": matrix.tolist()}


def _train_mdn(config, device, train_set, val_set, test_set) -> dict:
    import torch

    from ..models.handwriting import mdn_step
    from ..train import evaluate, seed_everything

    recognizer_path = _default_recognizer(config)
    val_points = _fixed_noise(val_set.points, 1)
    test_points = _fixed_noise(test_set.points, 2)
    runs = [(config.components, config)]
    if config.baseline and config.components != 1:
        runs.append((1, dataclasses.replace(config, components=1)))
    results: dict = {"model": "mdn"}
    nets = {}
    for components, settings in runs:
        name = "mdn" if settings is config else "mdn1"
        seed_everything(config.seed)
        train_loader = _loader(train_set.points, train_set.labels, config.batch_size,
                               _dequantize, shuffle=True)
        model, history = _fit(settings, _build(settings), mdn_step, device, train_loader,
                              _loader(val_points, val_set.labels), Path(config.out) / name,
                              "val_loss", "min")
        test = evaluate(model, _loader(test_points, test_set.labels), mdn_step, device=device)
        best = min(history, key=lambda row: row["val_loss"])
        results[name] = {"components": components, "epochs": len(history),
                         "val_nll": best["val_loss"], "test_nll": test["loss"]}
        nets[name] = model
        print(f"pendigits {name} ({components} component{'s' * (components > 1)}): test NLL "
              f"{test['loss']:.3f} nats per point (val {best['val_loss']:.3f}, epoch "
              f"{best['epoch']})")
    mdn = nets["mdn"]
    per_row = 2 if config.quick else 10
    grid = torch.arange(DIGITS).repeat_interleave(per_row)
    _plot_digits(_draw(mdn, grid, config.bias, config.seed), Path(config.out) / "mdn" /
                 "samples.png", DIGITS, per_row, title=f"drawn by the MDN, bias {config.bias:g}")
    if recognizer_path is not None:
        recognizer, _ = _load(recognizer_path, device, "classifier")
        digits = torch.arange(DIGITS).repeat_interleave(config.samples)
        score = _sample_score(recognizer, _draw(mdn, digits, config.bias, config.seed + 1),
                              digits, device)
        results["samples_recognized"] = score["acc"]
        results["samples_recognized_per_digit"] = score["per_digit"]
        print(f"pendigits mdn samples (bias {config.bias:g}): {100 * score['acc']:.1f}% of "
              f"{len(digits)} recognised as the digit asked for by {recognizer_path}")
    return results


# ---- evaluate and generate -----------------------------------------------------------------

def evaluate(config: Evaluate) -> dict:
    from ..datasets.pendigits import PenDigits
    from ..models.handwriting import mdn_step
    from ..train import evaluate as run_evaluate
    from .runtime import checkpoint_path, setup

    device = setup(config)
    path = checkpoint_path(config, f"{FOLDERS[config.model]}/best.pt")
    model, trained = _load(path, device)
    test = PenDigits(config.root or trained.root, "test", val_rows=trained.val_rows)
    if trained.model == "mdn":
        loader = _loader(_fixed_noise(test.points, 2), test.labels)
        nll = run_evaluate(model, loader, mdn_step, device=device)["loss"]
        print(f"pendigits mdn ({path}, {trained.components} components): test NLL {nll:.3f} "
              f"nats per point")
        return {"model": "mdn", "components": trained.components, "test_nll": nll}
    pred = _predict(model, test.points, device)
    matrix = _confusion(pred, test.labels)
    acc = float((pred == test.labels).float().mean())
    Path(config.out).mkdir(parents=True, exist_ok=True)
    image = Path(config.out) / "confusion.png"
    _plot_confusion(matrix, image, f"pendigits test: {100 * acc:.2f}% of {len(pred)}")
    print(f"pendigits recogniser ({path}): test accuracy {100 * acc:.2f}% "
          f"({int((pred != test.labels).sum())} errors of {len(pred)}); {image}")
    return {"model": "classifier", "test_acc": acc, "confusion": matrix.tolist()}


def generate(config: Generate) -> dict:
    import torch

    from .runtime import checkpoint_path, setup

    device = setup(config)
    path = checkpoint_path(config, "mdn/best.pt")
    recognizer_path = _default_recognizer(config)
    image = Path(config.image or Path(config.out) /
                 ("digits.png" if config.all else f"digit{config.digit}.png"))
    mdn, _ = _load(path, device, "mdn")
    recognizer = None if recognizer_path is None else _load(recognizer_path, device,
                                                            "classifier")[0]
    digits = (torch.arange(DIGITS).repeat_interleave(config.num) if config.all
              else torch.full((config.num,), config.digit))
    drawn = _draw(mdn, digits, config.bias, config.seed)
    result: dict = {"digits": digits.tolist(), "bias": config.bias, "image": str(image)}
    labels = None
    if recognizer is not None:
        score = _sample_score(recognizer, drawn, digits, device)
        labels = [f"read {p}" for p in score["pred"].tolist()]
        result.update(recognized=score["acc"], per_digit=score["per_digit"])
    # the grid shows at most SHOW digits (SHOW per class with --all); all of them are scored
    shown = min(config.num, SHOW)
    keep = (torch.arange(len(digits)) % config.num) < shown
    rows, cols = (DIGITS, shown) if config.all else _grid(shown)
    image.parent.mkdir(parents=True, exist_ok=True)
    what = "0-9" if config.all else str(config.digit)
    _plot_digits(drawn[keep], image, rows, cols,
                 None if labels is None else [t for t, k in zip(labels, keep.tolist()) if k],
                 f"digit {what} drawn by the MDN (bias {config.bias:g})")
    line = f"pendigits: {len(digits)} digits {what} drawn (bias {config.bias:g}) -> {image}"
    if recognizer is not None:
        line += (f"; the recogniser ({recognizer_path}) reads {100 * result['recognized']:.1f}% "
                 "as the digit asked for")
    print(line)
    return result


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, max(1, round(n ** 0.5 + 0.49)))
    return -(-n // cols), cols


COMMANDS = {"train": (Config, train), "evaluate": (Evaluate, evaluate),
            "generate": (Generate, generate)}
