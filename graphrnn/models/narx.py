r"""System identification on delay-chain graphs: a NARX network, a TDNN (input only) and the
linear ARX model, trained and scored side by side (Narendra & Parthasarathy 1990).

* ``narx``: :class:`graphrnn.nn.delay.NARX`, a tanh hidden layer over
  :math:`u_t..u_{t-K_x}, y_{t-1}..y_{t-K_y}`, trained in series-parallel mode (measured lags);
* ``tdnn``: :class:`TDNNRegressor`, two TDNN layers over the input alone (a nonlinear FIR model,
  no output feedback);
* ``linear``: the linear ARX model on the NARX regressors, fitted by least squares
  (:func:`graphrnn.nn.delay.fit_least_squares`), not by gradient.

:func:`scores` gives the RMSE of each one step ahead (measured lags) and, for the models with
output feedback, in free-run simulation (their own past outputs fed back: a recurrence over the
delay-chain DAG run by graphrnn's engine).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..nn.delay import NARX, TDNN
from ..tasks.metrics import rmse

__all__ = ["TDNNRegressor", "build_models", "narx_step", "predictions", "scores"]


class TDNNRegressor(nn.Module):
    r"""Two TDNN layers over the input, no feedback:
    :math:`y_t = W\,\tanh(\sum_{k=0}^{K} V_k u_{t-k} + b) + c`.

    Args:
        input_size (int): I. output_size (int): d. delays (int): K. hidden_size (int): units.
    """

    def __init__(self, delays: int, hidden_size: int, input_size: int = 1, output_size: int = 1):
        super().__init__()
        self.layer = TDNN(input_size, hidden_size, delays)
        self.out = TDNN(hidden_size, output_size, 0, activation="identity")

    def forward(self, data, mode: str = "series-parallel") -> Tensor:
        return self.out(self.layer(data.x, data), data)


def build_models(input_size: int, output_size: int, input_delays: int, output_delays: int,
                 tdnn_delays: int, hidden_size: int) -> nn.ModuleDict:
    """``{"narx", "tdnn", "linear"}`` (built in that order, so one seed gives the same weights)."""
    return nn.ModuleDict({
        "narx": NARX(input_size, output_size, input_delays, output_delays, hidden_size),
        "tdnn": TDNNRegressor(tdnn_delays, hidden_size, input_size, output_size),
        "linear": NARX(input_size, output_size, input_delays, output_delays, hidden_size=None)})


def narx_step(models: nn.ModuleDict, data):
    """Trainer step: the series-parallel MSE of the two networks summed (the linear model is
    fitted in closed form); metrics their RMSE."""
    y = data.y
    narx = ((models["narx"](data) - y) ** 2).mean()
    tdnn = ((models["tdnn"](data) - y) ** 2).mean()
    return narx + tdnn, {"narx_rmse": narx.sqrt(), "tdnn_rmse": tdnn.sqrt()}


@torch.no_grad()
def predictions(models: nn.ModuleDict, data) -> dict[str, Tensor]:
    """``{"narx_one_step", "narx_free_run", "tdnn_one_step", "linear_one_step",
    "linear_free_run"}`` -> (N, d) outputs."""
    out = {}
    for name, model in models.items():
        out[f"{name}_one_step"] = model(data)
        if name != "tdnn":
            out[f"{name}_free_run"] = model(data, "parallel")
    return out


def scores(models: nn.ModuleDict, data, unscale: Callable[[Tensor], Tensor] | None = None
           ) -> dict[str, float]:
    """RMSE of every prediction of :func:`predictions` against ``data.y``; ``unscale`` maps
    outputs back to the data's units first (e.g. ``SeriesCSV.denormalize``)."""
    unscale = unscale or (lambda y: y)
    target = unscale(data.y)
    return {name: rmse(unscale(pred), target) for name, pred in predictions(models, data).items()}
