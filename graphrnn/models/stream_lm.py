r"""A language model trained and scored on one token stream: truncated BPTT with carried state,
the whole-stream perplexity, and non-monotonically triggered averaging (NT-ASGD).

The corpus is one stream ``[<eos>] + line_1 + [<eos>] + line_2 + [<eos>] ...``
(:meth:`graphrnn.datasets.TextCorpus.stream`); the model predicts ``stream[1:]`` from
``stream[:-1]``, so every token of every line and each line's ``<eos>`` is predicted once: the
tokens :class:`~graphrnn.tasks.ngram.NGramLM` scores, and their number is ``len(stream) - 1``.

Training (Mikolov et al. 2010; Zaremba et al. 2014, arXiv:1409.2329; Merity et al. 2018,
"Regularizing and Optimizing LSTM Language Models", arXiv:1708.02182): the stream is laid out as
``B`` parallel streams (batch first, :func:`~graphrnn.tasks.bptt.batchify`) and cut into windows
of ``k`` steps (or random lengths around ``k``); the recurrent state at the end of a window starts
the next one, detached (:class:`~graphrnn.tasks.bptt.CarriedState`). The loss of a window is the
mean cross-entropy over its ``B x k`` tokens (:func:`stream_lm_step`).

Scoring (:func:`stream_perplexity`): the same layout in evaluation mode, the state carried across
all windows; the tokens left over by the layout (fewer than ``B``) are scored at the end with the
state of the last stream, which they continue, so no token is dropped::

    PPL = exp( - 1/N sum_{i=1}^{N} log p(w_i | w_{<i}) ),      N = len(stream) - 1

NT-ASGD (:class:`NTAveragedModel`, Merity et al. 2018 sec. 3): plain SGD until the validation
loss of a check is worse than the best of all checks before the last ``nonmono`` ones; from then
on the iterates are averaged (Polyak & Juditsky 1992) after every step, and evaluation uses the
average.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel

from ..tasks.bptt import (
    CarriedState,
    LengthScaledLR,
    TBPTTBatch,
    TBPTTWindows,
    batchify,
)

__all__ = ["stream_windows", "stream_lm_step", "window_tokens", "stream_perplexity",
           "stream_evaluator", "NTAveragedModel"]


def _check_stream(stream: Tensor, who: str) -> None:
    if not isinstance(stream, Tensor) or stream.dim() != 1 or stream.dtype != torch.long:
        got = (tuple(stream.shape), stream.dtype) if isinstance(stream, Tensor) \
            else type(stream).__name__
        raise ValueError(f"{who}: the stream must be a (N,) long tensor of token ids, got {got}")
    if stream.numel() < 2:
        raise ValueError(f"{who}: the stream has {stream.numel()} token(s); at least 2 are "
                         f"needed to predict one")


def stream_windows(stream: Tensor, batch_size: int, bptt: int, **window_options: Any
                   ) -> TBPTTWindows:
    """The training windows of ``stream``: inputs ``stream[:-1]`` and targets ``stream[1:]`` as
    ``batch_size`` parallel streams (batch first), in windows of ``bptt`` steps.

    Args:
        stream: ``(N,)`` long token ids.
        batch_size: ``B``, parallel streams (the last ``(N - 1) % B`` tokens are not trained on).
        bptt: ``k``, the window length.
        **window_options: passed to :class:`~graphrnn.tasks.bptt.TBPTTWindows`
            (``random_length=True``, ``generator=...``).
    """
    _check_stream(stream, "stream_windows")
    batch_size = min(batch_size, stream.numel() - 1)
    x = batchify(stream[:-1], batch_size, batch_first=True)
    y = batchify(stream[1:], batch_size, batch_first=True)
    return TBPTTWindows(x, y, bptt, batch_first=True, **window_options)


def window_tokens(batch: TBPTTBatch) -> int:
    """Targets in a window: the Trainer's ``batch_size_fn``, so that epoch averages of
    :func:`stream_lm_step`'s loss are the mean NLL per token."""
    return batch.y.numel()


def _window_nll(model: nn.Module, logits: Tensor, targets: Tensor, reduction: str) -> Tensor:
    if getattr(model, "target_index", None) is not None:
        targets = model.output_targets(targets)
    # (B, k, V) -> (B k, V) is a view: no copy of the logits
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                           reduction=reduction)


def stream_lm_step(carrier: CarriedState | None = None, lr_scale: LengthScaledLR | None = None):
    """The Trainer step of truncated BPTT on a stream.

    Args:
        carrier: the state carried between windows (default: a new one, ``step.carrier``);
            training and evaluation are kept apart.
        lr_scale: with random window lengths, scales each step's learning rate by the window's
            length over ``bptt`` (:class:`~graphrnn.tasks.bptt.LengthScaledLR`).

    Returns:
        ``step(model, window) -> loss``: the mean cross-entropy (nats) over the window's targets;
        ``model(x, state) -> (logits (B, k, V), state)``, e.g. a
        :class:`~graphrnn.models.language_model.LanguageModel`.
    """
    carrier = CarriedState() if carrier is None else carrier

    def step(model: nn.Module, batch: TBPTTBatch) -> Tensor:
        state = carrier.take(batch.first, model.training)
        logits, state = model(batch.x, state)
        carrier.keep(state, model.training)
        if lr_scale is not None and model.training:
            lr_scale.scale = batch.scale
        return _window_nll(model, logits, batch.y, "mean")

    step.carrier = carrier
    return step


def _last_stream(state: Any) -> Any:
    """The state of the last of ``B`` streams, ``(L, 1, H)`` per tensor."""
    if isinstance(state, Tensor):
        return state[:, -1:].contiguous()
    return type(state)(_last_stream(s) for s in state)


@torch.no_grad()
def stream_perplexity(model: nn.Module, stream: Tensor, batch_size: int = 1,
                      bptt: int = 35) -> tuple[float, float, int]:
    """Perplexity of ``model`` over the whole ``stream``, every token predicted once with the
    state carried from the start of its stream (see the module notes).

    Args:
        model: maps ``(B, T)`` ids and a state to ``(logits (B, T, V), state)``; run in
            evaluation mode for the call.
        stream: ``(N,)`` long token ids, e.g. ``TextCorpus.stream("test")``.
        batch_size: parallel streams (1: one history for the whole stream, the most context;
            more: faster, each stream starting from a zero state). (default: ``1``)
        bptt: steps per forward call; with carried state it changes nothing but memory.
            (default: ``35``)

    Returns:
        ``(perplexity, total NLL in nats, N)`` with ``N = len(stream) - 1`` predicted tokens, the
        count :class:`~graphrnn.tasks.ngram.NGramLM` scores on the same sentences.
    """
    _check_stream(stream, "stream_perplexity")
    if batch_size < 1 or bptt < 1:
        raise ValueError(f"stream_perplexity: batch_size and bptt must be >= 1, got "
                         f"{batch_size} and {bptt}")
    device = next(model.parameters()).device
    stream = stream.to(device)
    was_training = model.training
    model.eval()
    total, count, state = torch.zeros((), dtype=torch.float64, device=device), 0, None
    try:
        windows = stream_windows(stream, batch_size, bptt)
        for batch in windows:
            logits, state = model(batch.x, state)
            total += _window_nll(model, logits, batch.y, "sum").double()
            count += batch.y.numel()
        rest = stream.numel() - 1 - count  # what the layout left over continues the last stream
        if rest:
            x, y = stream[count:-1].view(1, -1), stream[count + 1:].view(1, -1)
            state = _last_stream(state)
            for start in range(0, rest, bptt):
                logits, state = model(x[:, start:start + bptt], state)
                total += _window_nll(model, logits, y[:, start:start + bptt], "sum").double()
            count += rest
    finally:
        model.train(was_training)
    total = float(total)
    return math.exp(total / count), total, count


def stream_evaluator(batch_size: int = 1, bptt: int = 35, observe=None):
    """A Trainer ``evaluate_fn`` scoring the whole validation stream (pass the stream tensor as
    ``val_loader``): ``{"loss": mean NLL per token, "ppl": perplexity}``; ``observe(loss)`` is
    called after each check (e.g. :meth:`NTAveragedModel.observe`)."""

    def evaluate(model: nn.Module, stream: Tensor) -> dict[str, float]:
        ppl, total, count = stream_perplexity(model, stream, batch_size, bptt)
        if observe is not None:
            observe(total / count)
        return {"loss": total / count, "ppl": ppl}

    return evaluate


class NTAveragedModel(nn.Module):
    r"""``model`` with non-monotonically triggered iterate averaging (NT-ASGD; Merity et al. 2018,
    Algorithm 1): in training mode it *is* ``model``; after :meth:`observe` has seen a
    validation loss worse than the best of all but the last ``nonmono`` checks, every optimizer
    step also updates the running average

    .. math:: \bar w \leftarrow \bar w + (w - \bar w) / (n + 1)

    (the first step copies), and in evaluation mode the model runs with :math:`\bar w`. The
    average, the trigger and its history are buffers and parameters of this module, so
    checkpoints (``best.pt`` included) carry them and a resumed run goes on averaging.

    Args:
        model: the network being trained.
        nonmono (int): checks to look back over. (default: ``5``, as Merity et al.)

    Call :meth:`attach` with the optimizer (built on ``model.parameters()``) and
    :meth:`observe` with each validation loss (:func:`stream_evaluator` does).
    """

    def __init__(self, model: nn.Module, nonmono: int = 5):
        super().__init__()
        if not isinstance(nonmono, int) or nonmono < 1:
            raise ValueError(f"NTAveragedModel: nonmono must be a positive int, got {nonmono!r}")
        self.model, self.nonmono = model, nonmono
        self.average = AveragedModel(model)
        self.average.requires_grad_(False)
        # the last nonmono validation losses (oldest first) and the best of those before them
        self.register_buffer("recent", torch.full((nonmono,), math.nan, dtype=torch.float64))
        self.register_buffer("older_best", torch.tensor(math.inf, dtype=torch.float64))
        self.register_buffer("triggered", torch.tensor(False))

    @property
    def averaging(self) -> bool:
        """Whether evaluation uses the average (the trigger fired and a step was averaged)."""
        return bool(self.triggered) and int(self.average.n_averaged) > 0

    @property
    def evaluated(self) -> nn.Module:
        """The network evaluation mode runs: the average once averaging, else ``model``."""
        return self.average.module if self.averaging else self.model

    def forward(self, *args: Any, **kwargs: Any):
        if not self.training and self.averaging:
            return self.average.module(*args, **kwargs)
        return self.model(*args, **kwargs)

    @property
    def target_index(self) -> Tensor | None:
        """The wrapped model's target map (see ``LanguageModel.output_targets``), if any."""
        return getattr(self.model, "target_index", None)

    def output_targets(self, targets: Tensor) -> Tensor:
        return self.model.output_targets(targets)

    def vocab_logits(self, logits: Tensor) -> Tensor:
        return self.model.vocab_logits(logits)

    def attach(self, optimizer: torch.optim.Optimizer) -> None:
        """Update the average after each of ``optimizer``'s steps once triggered."""
        optimizer.register_step_post_hook(lambda opt, args, kwargs: self.update())

    @torch.no_grad()
    def update(self) -> None:
        if bool(self.triggered):
            self.average.update_parameters(self.model)

    def observe(self, loss: float) -> bool:
        """Record a validation loss; start averaging when it is worse than the best loss of the
        checks before the last ``nonmono``. Returns whether averaging is on."""
        if not bool(self.triggered) and loss > float(self.older_best):
            self.triggered.fill_(True)
        oldest = float(self.recent[0])
        if not math.isnan(oldest):
            self.older_best.fill_(min(float(self.older_best), oldest))
        self.recent.copy_(torch.cat([self.recent[1:], self.recent.new_tensor([loss])]))
        return bool(self.triggered)

    def extra_repr(self) -> str:
        return f"nonmono={self.nonmono}, averaging={self.averaging}"
