"""System identification: a NARX network learns a nonlinear plant (or your series), vs linear ARX.

By default the plant is Narendra & Parthasarathy's (1990) Example 2,
y(t) = y(t-1) y(t-2) (y(t-1) + 2.5) / (1 + y(t-1)^2 + y(t-2)^2) + u(t-1); training series are
driven by i.i.d. uniform inputs on [-2, 2], the test series by u(t) = sin(2 pi t / 25). With --csv
the series are yours: the columns --input-col and --output-col of a CSV file with a header row,
split in time (first 70% train, next 15% validation, last 15% test) and standardised with the
training part's statistics (RMSE is reported in your units).

Three models see the same delay-chain graphs (edges t-k -> t, graphrnn.models.narx): a NARX
network (tanh hidden layer over u(t), u(t-1), y(t-1), y(t-2), trained one step ahead with the
measured lags), a TDNN over the input alone (no feedback) and the linear ARX model on the NARX
regressors, fitted by least squares. Each is scored by test RMSE one step ahead and in free-run
simulation (NARX and ARX feed back their own outputs: a recurrence over the delay-chain DAG run by
graphrnn's engine). A plot of the simulated test outputs goes to OUT/narx_test.png.

    graphrnn train narx --epochs 1500        # free-run RMSE 0.235 vs 1.342 for linear ARX
    graphrnn train narx --csv plant.csv --input-col u --output-col y
    graphrnn evaluate narx --checkpoint runs/narx/best.pt
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import EvaluateConfig, TrainConfig, option


@dataclass
class Config(TrainConfig):
    epochs: int = option(300, "full-batch training epochs", min=1)
    csv: str | None = option(None, "your CSV of input/output series (header row; rows are time "
                             "steps) instead of the plant", path="in_file")
    input_col: list[str] | None = option(None, "input column(s) of --csv")
    output_col: list[str] | None = option(None, "output column(s) of --csv")
    series: int = option(8, "training series of the plant", min=1)
    length: int = option(500, "steps per training series of the plant", min=10)
    test_length: int = option(500, "steps of the plant's test series", min=10)
    noise: float = option(0.0, "measurement noise std of the plant's training series", min=0)
    hidden: int = option(20, "tanh hidden units of the NARX and TDNN networks", min=1)
    input_delays: int = option(1, "K_x: the NARX model sees u(t-K_x)..u(t)", min=0)
    output_delays: int = option(2, "K_y: the NARX model sees y(t-K_y)..y(t-1)", min=1)
    tdnn_delays: int = option(8, "K of the TDNN: it sees u(t-K)..u(t)", min=0)
    lr: float = option(1e-2, "Adam learning rate", positive=True)


def _delays(config: Config) -> int:
    return max(config.input_delays, config.output_delays, config.tdnn_delays)


def _split(config: Config, split: str):
    """The split's dataset (its ``.batch`` is one graph or a batch of graphs)."""
    from ..datasets.series import NarendraParthasarathy, SeriesCSV

    if config.csv:
        if not config.input_col or not config.output_col:
            from .config import ConfigError
            raise ConfigError("--csv needs --input-col and --output-col (the column names of u "
                              "and y)")
        return SeriesCSV(config.csv, config.input_col, config.output_col, split, _delays(config))
    length = config.test_length if split == "test" else config.length
    return NarendraParthasarathy(split, length, config.series, _delays(config), config.noise,
                                 config.seed)


def _models(config: Config):
    from ..models.narx import build_models

    sizes = (len(config.input_col), len(config.output_col)) if config.csv else (1, 1)
    return build_models(*sizes, config.input_delays, config.output_delays, config.tdnn_delays,
                        config.hidden)


def _test(models, config: Config, out: Path | None) -> dict:
    from ..models.narx import predictions, scores
    from ..plots.series import plot_series

    test = _split(config, "test")
    unscale = getattr(test, "denormalize", None)
    result = scores(models, test.batch, unscale)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        pred = predictions(models, test.batch)
        unscale = unscale or (lambda y: y)
        curves = {"measured" if config.csv else "plant": unscale(test.batch.y)[:, 0],
                  "NARX (free run)": unscale(pred["narx_free_run"])[:, 0],
                  "TDNN": unscale(pred["tdnn_one_step"])[:, 0],
                  "linear ARX (free run)": unscale(pred["linear_free_run"])[:, 0]}
        title = (f"{Path(config.csv).name}: test part, {config.output_col[0]}" if config.csv else
                 "Narendra-Parthasarathy plant, test input u(t) = sin(2 pi t / 25)")
        plot_series(curves, out / "narx_test.png", title)
    for name in ("narx", "linear"):
        print(f"  {name:<7} one-step {result[f'{name}_one_step']:.4f}   free-run "
              f"{result[f'{name}_free_run']:.4f}")
    print(f"  tdnn    {result['tdnn_one_step']:.4f} (input only)")
    return result


def train(config: Config) -> dict:
    import torch

    from ..models.narx import narx_step
    from ..nn.delay import fit_least_squares
    from ..train import Trainer, seed_everything
    from .runtime import Timer, setup, trainer_options

    device = setup(config)
    if config.quick:
        config.series, config.length, config.test_length = 2, 200, 200
    timer = Timer()
    train_data, val_data = _split(config, "train").batch, _split(config, "val").batch
    seed_everything(config.seed)
    models = _models(config)
    fit_least_squares(models["linear"], train_data)
    models["linear"].requires_grad_(False)
    params = [p for n, p in models.named_parameters() if not n.startswith("linear")]
    optimizer = torch.optim.Adam(params, lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=20)
    # the whole training set is one batch (full-batch Adam): a list of one graph batch
    trainer = Trainer(models, optimizer, narx_step, scheduler=scheduler, restore_best=True,
                      batch_size_fn=lambda b: b.num_nodes,
                      **trainer_options("narx", config, device, progress=False))
    history = trainer.fit([train_data], [val_data])
    print(f"narx: {len(history)} epochs in {timer.seconds:.0f} s; test RMSE "
          f"({'last 15% of ' + config.csv if config.csv else 'sine input'}):")
    result = _test(trainer.model.to("cpu"), config, Path(config.out))
    print(f"  plot: {Path(config.out) / 'narx_test.png'}")
    return {"epochs": len(history), "seconds": timer.seconds, **result}


def evaluate(config: EvaluateConfig) -> dict:
    from .runtime import open_trained

    _, path, ckpt, trained = open_trained(config, "narx", Config)
    models = _models(trained)
    models.load_state_dict(ckpt["model"])
    print(f"narx test ({path}):")
    return _test(models, trained, None)


COMMANDS = {"train": (Config, train), "evaluate": (EvaluateConfig, evaluate)}
