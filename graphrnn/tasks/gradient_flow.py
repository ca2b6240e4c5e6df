r"""How far back does the gradient reach? The BPTT deltas of SRN, LSTM and GRU, and a task that
needs a long memory.

Gradient flow
-------------
For a loss :math:`L_T` computed from the final state :math:`h_T`, back-propagation through time
gives the error signal at every earlier step,

.. math::

    \delta_{T,k} = \frac{\partial L_T}{\partial h_k}
                 = \Big(\prod_{t=k+1}^{T} \frac{\partial h_t}{\partial h_{t-1}}\Big)^{\!\top}
                   \frac{\partial L_T}{\partial h_T},

and for an SRN :math:`\partial h_t / \partial h_{t-1} = \mathrm{diag}(1 - h_t^2) W_{hh}` (tanh),
whose product shrinks (or grows) geometrically in :math:`T - k` (Hochreiter 1991; Bengio, Simard &
Frasconi 1994, "Learning long-term dependencies with gradient descent is difficult"). The LSTM's
additive cell path :math:`c_t = f_t c_{t-1} + i_t g_t` (Hochreiter & Schmidhuber 1997) and the GRU's
interpolation :math:`h_t = (1 - z_t) n_t + z_t h_{t-1}` (Cho et al. 2014) let it pass with gates
near one. :func:`gradient_flow` returns :math:`\|\delta_{T,k}\|` for every k (for the LSTM,
:math:`h_k` is the output state; the path through :math:`c_k` is part of the derivative of later
states, not of :math:`h_k`); :func:`plot_gradient_flow` draws them on a log scale.

Long-range task
---------------
:func:`first_symbol_data`: a sequence of T one-hot symbols (random, from ``num_symbols``) with a
marker on the first step; the target, read from the final state only, is the *first* symbol, so
the network must carry it across T - 1 distractors. :func:`long_range_sweep` trains each cell for
each T with the one training loop and reports test accuracy; chance is ``1 / num_symbols``.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cells import RecurrentCell, gru_step, lstm_step, srn_step
from ..cells import gru_project, lstm_project, srn_project
from ..nn.rnn import RNNBase, GRU, LSTM, RNN

__all__ = ["gradient_flow", "plot_gradient_flow", "first_symbol_data", "LongRangeClassifier",
           "train_long_range", "long_range_sweep", "CELLS"]

CELLS = ("srn", "lstm", "gru")
_STEPS = {"RNN": (srn_project, srn_step), "LSTM": (lstm_project, lstm_step),
          "GRU": (gru_project, gru_step)}


def _project_and_step(model) -> tuple[Callable, Callable, int]:
    """(project, step, number of state components) of a cell or a one-layer recurrent module."""
    if isinstance(model, RecurrentCell):
        return model.project, model.step, len(model.state_sizes)
    if isinstance(model, RNNBase):
        if model.num_layers != 1 or model.bidirectional:
            raise ValueError(f"gradient_flow: {type(model).__name__} must have one layer and one "
                             f"direction, got num_layers={model.num_layers}, bidirectional="
                             f"{model.bidirectional}")
        w = model.cell_weights(0)
        project, step = _STEPS[model.mode]
        return (lambda x: project(w, x)), (lambda xw, s: step(w, xw, s)), len(model.state_sizes)
    raise TypeError(f"gradient_flow: model must be a graphrnn cell (SRNCell, LSTMCell, GRUCell) "
                    f"or a one-layer graphrnn.nn.RNN/LSTM/GRU, got {type(model).__name__}")


def gradient_flow(model, x: Tensor, loss_fn: Callable[[Tensor], Tensor],
                  state: tuple[Tensor, ...] | None = None) -> Tensor:
    r"""The norms :math:`\|\partial L_T / \partial h_k\|` for k = 1..T.

    Args:
        model: a cell (:class:`~graphrnn.cells.SRNCell`, ``LSTMCell``, ``GRUCell``) or a one-layer
            unidirectional :class:`graphrnn.nn.RNN` / ``LSTM`` / ``GRU``.
        x: (T, I) one sequence or (T, B, I) a batch (norms are over batch and features).
        loss_fn: ``h_T (B, H) -> scalar loss``.
        state: initial state per component (B, size); zeros by default.

    Returns:
        (T,) tensor; entry ``k - 1`` is the norm of :math:`\delta_{T,k}` (entry ``T - 1`` is that
        of :math:`\partial L_T / \partial h_T`).
    """
    project, step, components = _project_and_step(model)
    if x.dim() == 2:
        x = x.unsqueeze(1)
    if x.dim() != 3:
        raise ValueError(f"gradient_flow: x must be (T, I) or (T, B, I), got {tuple(x.shape)}")
    T, B = x.shape[:2]
    if T == 0:
        raise ValueError("gradient_flow: x has no time step")
    xw = project(x.reshape(T * B, -1)).view(T, B, -1)
    if state is None:
        sizes = model.state_sizes
        state = tuple(x.new_zeros(B, s) for s in sizes)
    with torch.enable_grad():
        hs = []
        for t in range(T):
            state = step(xw[t], tuple(state))
            hs.append(state[0])
        loss = loss_fn(hs[-1])
        if loss.numel() != 1:
            raise ValueError(f"gradient_flow: loss_fn must return a scalar, got shape "
                             f"{tuple(loss.shape)}")
        grads = torch.autograd.grad(loss, hs, allow_unused=True)
    return torch.stack([g.norm() if g is not None else x.new_zeros(()) for g in grads]).detach()


def plot_gradient_flow(curves: dict[str, Tensor], path, title: str = "gradient flow",
                       panels: dict[str, dict[str, Tensor]] | None = None) -> None:
    r"""Plot :math:`\|\delta_{T,k}\|` against k on a log scale (matplotlib, Agg) to ``path``.

    Args:
        curves: name -> (T,) norms (one panel).
        path: the PNG file.
        title: the panel's title.
        panels: instead of ``curves``/``title``, several panels: title -> {name -> norms}.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = panels or {title: curves}
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (name, group) in zip(axes[0], panels.items()):
        for label, norms in group.items():
            norms = torch.as_tensor(norms).double().clamp_min(1e-45)
            ax.semilogy(range(1, norms.numel() + 1), norms.tolist(), label=label)
        ax.set_xlabel("k (step whose state receives the gradient)")
        ax.set_ylabel(r"$\|\partial L_T / \partial h_k\|$")
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------
# the long-range task

def first_symbol_data(n: int, length: int, num_symbols: int = 4, seed: int = 0
                      ) -> tuple[Tensor, Tensor]:
    """``n`` sequences of ``length`` random symbols; the target is the first one.

    Returns:
        ``x`` (length, n, num_symbols + 1): one-hot symbols, last channel 1 on the first step
        only; ``y`` (n,): the first symbol.
    """
    if length < 1 or num_symbols < 2:
        raise ValueError(f"first_symbol_data: need length >= 1 and num_symbols >= 2, got "
                         f"{length} and {num_symbols}")
    g = torch.Generator().manual_seed(seed)
    symbols = torch.randint(num_symbols, (length, n), generator=g)
    x = F.one_hot(symbols, num_symbols + 1).float()
    x[0, :, num_symbols] = 1.0
    return x, symbols[0]


class LongRangeClassifier(nn.Module):
    r"""A one-layer recurrent network read out from its last state: (T, B, I) -> (B, C).

    Args:
        cell: ``"srn"``, ``"lstm"`` or ``"gru"`` (graphrnn.nn.RNN / LSTM / GRU).
        input_size, hidden_size, num_classes: sizes.
        gate_init: how the gated cells' biases start (the SRN has no gate; it keeps torch.nn's
            initialisation whatever this says):

            * ``"default"``: torch.nn's uniform initialisation;
            * ``"forget1"``: LSTM forget-gate bias + 1 (Gers, Schmidhuber & Cummins 2000;
              Jozefowicz, Zaremba & Sutskever 2015); GRU unchanged;
            * ``"chrono"`` (default): chrono initialisation (Tallec & Ollivier 2018, "Can recurrent
              neural networks warp time?", https://arxiv.org/abs/1804.11188): LSTM forget bias
              :math:`b_f = \log u`, input bias :math:`-b_f`, :math:`u \sim U(1, T_{max} - 1)`, so
              units keep their memory for up to :math:`T_{max}` steps at the start; for the GRU
              the update gate (whose 1 keeps the state) gets :math:`b_z = \log u`.
        max_length: T_max for ``"chrono"`` (default 100).
    """

    GATE_INITS = ("default", "forget1", "chrono")

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_classes: int,
                 gate_init: str = "chrono", max_length: int = 100):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"LongRangeClassifier: cell must be one of {CELLS}, got {cell!r}")
        if gate_init not in self.GATE_INITS:
            raise ValueError(f"LongRangeClassifier: gate_init must be one of {self.GATE_INITS}, "
                             f"got {gate_init!r}")
        self.cell, self.gate_init = cell, gate_init
        self.rnn = {"srn": RNN, "lstm": LSTM, "gru": GRU}[cell](input_size, hidden_size)
        H = hidden_size
        with torch.no_grad():
            if cell == "lstm" and gate_init == "forget1":
                self.rnn.bias_ih_l0[H:2 * H] += 1.0
            elif gate_init == "chrono" and cell != "srn":
                b = torch.log(torch.empty(H).uniform_(1.0, max(max_length - 1.0, 1.0 + 1e-3)))
                gate = slice(H, 2 * H)  # LSTM gates i, f, g, o; GRU gates r, z, n
                self.rnn.bias_ih_l0[gate] = b
                self.rnn.bias_hh_l0[gate] = 0.0
                if cell == "lstm":
                    self.rnn.bias_ih_l0[:H] = -b
                    self.rnn.bias_hh_l0[:H] = 0.0
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        _, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h
        return self.head(h[-1])


def _step(model: LongRangeClassifier, batch):
    x, y = batch
    logits = model(x.transpose(0, 1))  # the loader stacks along dim 0: (B, T, I) -> (T, B, I)
    return F.cross_entropy(logits, y), {"acc": (logits.argmax(-1) == y).float().mean()}


def train_long_range(cell: str, length: int, *, hidden_size: int = 32, num_symbols: int = 4,
                     train_size: int = 3000, test_size: int = 1000, batch_size: int = 50,
                     max_epochs: int = 30, lr: float = 1e-2, patience: int = 4, seed: int = 0,
                     clip_grad_norm: float = 1.0, gate_init: str = "chrono") -> dict[str, float]:
    """Train one :class:`LongRangeClassifier` on the first-symbol task of ``length`` steps with
    :class:`~graphrnn.train.Trainer` (Adam, clipping, early stopping on validation accuracy,
    best weights restored) and score it on fresh test sequences.

    Returns:
        ``{"cell", "T", "test_acc", "epochs", "seconds"}`` (plus the ``model`` under ``"model"``).
    """
    from torch.utils.data import DataLoader, TensorDataset

    from ..train import Trainer

    torch.manual_seed(seed)
    x, y = first_symbol_data(train_size, length, num_symbols, seed=1000 + seed)
    xv, yv = first_symbol_data(test_size // 2, length, num_symbols, seed=2000 + seed)
    xt, yt = first_symbol_data(test_size, length, num_symbols, seed=3000 + seed)
    model = LongRangeClassifier(cell, num_symbols + 1, hidden_size, num_symbols,
                                gate_init=gate_init, max_length=length)
    gen = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(TensorDataset(x.transpose(0, 1), y), batch_size=batch_size,
                              shuffle=True, generator=gen)
    val_loader = DataLoader(TensorDataset(xv.transpose(0, 1), yv), batch_size=500)
    start = time.perf_counter()
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=lr), _step,
                      max_epochs=max_epochs, monitor="val_acc", mode="max", patience=patience,
                      min_delta=1e-3, clip_grad_norm=clip_grad_norm, seed=seed, progress=False,
                      restore_best=True, tensorboard=False)
    history = trainer.fit(train_loader, val_loader)
    model.eval()
    with torch.no_grad():
        acc = float((model(xt).argmax(-1) == yt).float().mean())
    return {"cell": cell, "T": length, "test_acc": acc, "epochs": len(history),
            "seconds": time.perf_counter() - start, "model": model}


def long_range_sweep(lengths: Sequence[int], cells: Sequence[str] = CELLS, threshold: float = 0.9,
                     log: Callable[[str], None] | None = print, **kwargs) -> list[dict]:
    """:func:`train_long_range` for every cell and T; a run *succeeds* when its test accuracy is
    at least ``threshold``. Once a cell has failed at two consecutive lengths it is not tried on
    longer ones (recorded as ``skipped``).

    Returns:
        One dict per (cell, T): ``cell``, ``T``, ``test_acc`` (``nan`` if skipped),
        ``success``, ``epochs``, ``seconds``, and ``model`` for trained runs.
    """
    rows = []
    for cell in cells:
        failures = 0
        for length in lengths:
            if failures >= 2:
                rows.append({"cell": cell, "T": length, "test_acc": math.nan, "success": False,
                             "epochs": 0, "seconds": 0.0, "skipped": True})
                continue
            row = train_long_range(cell, length, **kwargs)
            row["success"] = row["test_acc"] >= threshold
            row["skipped"] = False
            failures = 0 if row["success"] else failures + 1
            rows.append(row)
            if log is not None:
                log(f"{cell:>4} T={length:<4} test acc {row['test_acc']:.3f} "
                    f"({'ok' if row['success'] else 'FAIL'}, {row['epochs']} epochs, "
                    f"{row['seconds']:.0f} s)")
    return rows
