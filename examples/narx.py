"""System identification: a NARX network learns the Narendra-Parthasarathy plant, vs linear ARX.

The plant (Narendra & Parthasarathy 1990, Example 2) is
``y(t) = y(t-1) y(t-2) (y(t-1) + 2.5) / (1 + y(t-1)^2 + y(t-2)^2) + u(t-1)``. Training series are
driven by i.i.d. uniform inputs on [-2, 2]; the test series by their sinusoid
``u(t) = sin(2 pi t / 25)``. Three models see the same delay-chain graphs (edges ``t-k -> t``,
k = 1, 2):

* ``narx``: NARX network, tanh hidden layer over ``u(t), u(t-1), y(t-1), y(t-2)``, trained in
  series-parallel mode (measured lags) with the one training loop;
* ``tdnn``: a TDNN over the input alone (``u(t-K..t)``, no output feedback), a nonlinear FIR model;
* ``linear``: the linear ARX model on the same regressors, fitted by least squares.

Each is scored by RMSE on the test series, one step ahead (measured lags) and in free-run
simulation (the NARX and linear models feed back their own outputs: a recurrence over the
delay-chain DAG run by graphrnn's engine). A plot of the simulated test outputs goes to
``OUT/narx_test.png``::

    graphrnn train narx --epochs 300
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn
from torch_geometric.data import Batch

from graphrnn.tasks.delay import NARX, TDNN, fit_least_squares, np_series, rmse
from graphrnn.train import (Trainer, apply_threads, example_parser, load_for_evaluation,
                            resolve_device, write_results)
from graphrnn.train.rng import seed_everything

DESCRIPTION = "NARX network identifies a nonlinear plant (Narendra-Parthasarathy), vs linear ARX"


class TDNNRegressor(nn.Module):
    """Two TDNN layers over the input (no feedback): y_t = w . tanh-TDNN(u_{t-K..t}) + b."""

    def __init__(self, delays: int, hidden: int):
        super().__init__()
        self.layer = TDNN(1, hidden, delays)
        self.out = TDNN(hidden, 1, 0, activation="identity")

    def forward(self, data, mode: str = "series-parallel"):
        return self.out(self.layer(data.x, data), data)


def _data(config: dict):
    K = max(config["input_delays"], config["output_delays"], config["tdnn_delays"])
    train = Batch.from_data_list([np_series(config["length"], "random", seed=config["seed"] + s,
                                            delays=K, noise=config["noise"])
                                  for s in range(config["series"])])
    val = np_series(config["length"], "random", seed=config["seed"] + 500, delays=K,
                    noise=config["noise"])
    test = np_series(config["test_length"], "sine", delays=K)
    return train, val, test


def build(config: dict):
    narx = NARX(1, 1, config["input_delays"], config["output_delays"], config["hidden"])
    tdnn = TDNNRegressor(config["tdnn_delays"], config["hidden"])
    linear = NARX(1, 1, config["input_delays"], config["output_delays"], hidden_size=None)
    return nn.ModuleDict({"narx": narx, "tdnn": tdnn, "linear": linear})


def step(models: nn.ModuleDict, data):
    """Series-parallel MSE of the two networks (the linear model is fitted in closed form)."""
    y = data.y
    narx = ((models["narx"](data) - y) ** 2).mean()
    tdnn = ((models["tdnn"](data) - y) ** 2).mean()
    return narx + tdnn, {"narx_rmse": narx.sqrt(), "tdnn_rmse": tdnn.sqrt()}


@torch.no_grad()
def scores(models: nn.ModuleDict, data) -> dict:
    out = {}
    for name, model in models.items():
        out[f"{name}_one_step"] = rmse(model(data), data.y)
        if name != "tdnn":
            out[f"{name}_free_run"] = rmse(model(data, "parallel"), data.y)
    return out


def plot(models: nn.ModuleDict, data, path: Path, show: int = 200) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with torch.no_grad():
        curves = {"plant": data.y.squeeze(1),
                  "NARX (free run)": models["narx"](data, "parallel").squeeze(1),
                  "TDNN": models["tdnn"](data).squeeze(1),
                  "linear ARX (free run)": models["linear"](data, "parallel").squeeze(1)}
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for (label, y), style in zip(curves.items(), ("k-", "C0--", "C2:", "C3-.")):
        ax.plot(y[:show].tolist(), style, label=label, lw=1.2)
    ax.set_xlabel("t")
    ax.set_ylabel("y(t)")
    ax.set_title("Narendra-Parthasarathy plant, test input u(t) = sin(2 pi t / 25)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _parser(action: str):
    parser = example_parser("narx", __doc__, epochs=300)
    parser.add_argument("--series", type=int, default=8, help="training series")
    parser.add_argument("--length", type=int, default=500, help="steps per training series")
    parser.add_argument("--test-length", type=int, default=500)
    parser.add_argument("--noise", type=float, default=0.0, help="measurement noise std")
    parser.add_argument("--hidden", type=int, default=20)
    parser.add_argument("--input-delays", type=int, default=1)
    parser.add_argument("--output-delays", type=int, default=2)
    parser.add_argument("--tdnn-delays", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-2)
    if action == "evaluate":
        parser.add_argument("--checkpoint", default=None, help="default: OUT/best.pt")
    return parser


def train(argv=None) -> int:
    args = _parser("train").parse_args(argv)
    apply_threads(args.threads)
    device = resolve_device(args.device)
    if args.quick:
        args.series, args.length, args.test_length = 2, 200, 200
    start = time.perf_counter()
    config = {k: getattr(args, k) for k in ("series", "length", "test_length", "noise", "hidden",
                                             "input_delays", "output_delays", "tdnn_delays",
                                             "seed")}
    train_data, val_data, test_data = _data(config)
    seed_everything(args.seed)
    models = build(config)
    fit_least_squares(models["linear"], train_data)
    models["linear"].requires_grad_(False)
    params = [p for n, p in models.named_parameters() if not n.startswith("linear")]
    optimizer = torch.optim.Adam(params, lr=args.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=20)
    # the whole training set is one batch (full-batch Adam): a list of one graph batch
    trainer = Trainer(models, optimizer, step, scheduler=scheduler, max_epochs=args.epochs,
                      seed=args.seed, device=device, out_dir=args.out, resume=args.resume,
                      config=config, restore_best=True, progress=False, tensorboard=False,
                      batch_size_fn=lambda b: b.num_nodes)
    history = trainer.fit([train_data], [val_data])
    models = trainer.model.to("cpu")
    test = scores(models, test_data)
    elapsed = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(models, test_data, out / "narx_test.png")
    print(f"narx: {len(history)} epochs in {elapsed:.0f} s; test RMSE (sine input):")
    for name in ("narx", "linear"):
        print(f"  {name:<7} one-step {test[f'{name}_one_step']:.4f}   free-run "
              f"{test[f'{name}_free_run']:.4f}")
    print(f"  tdnn    {test['tdnn_one_step']:.4f} (input only)")
    print(f"  plot: {out / 'narx_test.png'}")
    write_results(out, "test_scores.json", {"epochs": len(history), "seconds": elapsed, **test})
    return 0


def evaluate(argv=None) -> int:
    args = _parser("evaluate").parse_args(argv)
    _, ckpt, path = load_for_evaluation(args)
    config = ckpt["config"]
    models = build(config)
    models.load_state_dict(ckpt["model"])
    test = scores(models, _data(config)[2])
    print(f"narx test ({path}): " + ", ".join(f"{k} {v:.4f}" for k, v in test.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(train())
