"""The one training loop every example configures.

The task plugs in through a *step*, ``step(model, batch) -> loss`` or ``-> (loss, metrics)``; the
loop owns everything else: devices, DDP, epochs, validation, LR schedule, gradient clipping, early
stopping, progress bar, CSV / TensorBoard / PNG, and checkpoints that resume exactly.

Files written to ``out_dir`` (by rank 0 only):

- ``last.pt`` after every epoch and ``best.pt`` when the monitored metric improves
  (see :mod:`graphrnn.train.checkpoint`);
- ``metrics.csv`` (one row per epoch), ``tensorboard/`` (when installed), ``curves.png`` at the end.

Resuming from ``last.pt`` restores model, optimizer, scheduler, epoch, best score, early-stopping
counter, history and the Python / NumPy / torch generator states of every process (and the
training loader's own generator, if it has one), so a run cut after epoch ``k`` and resumed ends
with the same weights as one never cut. Checkpoints are taken at epoch ends: an interrupted epoch
is redone from its start.
"""
from __future__ import annotations

import copy
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from . import distributed as D
from .checkpoint import check_config, check_vocab, load_checkpoint, save_checkpoint
from .history import TensorBoardLogger, plot_history, write_csv
from .metrics import MetricAverager, Step, batch_size_of, call_step, evaluate, move_to
from .rng import get_rng_state, seed_everything, set_rng_state

LAST, BEST, CSV, PNG, TB = "last.pt", "best.pt", "metrics.csv", "curves.png", "tensorboard"


class Trainer:
    r"""Train ``model`` with ``optimizer`` by calling ``step`` on each batch.

    Args:
        model (torch.nn.Module): the model; moved to ``device`` and, when more than one process
            runs, wrapped in ``DistributedDataParallel`` (unless already wrapped).
        optimizer (torch.optim.Optimizer): built on ``model.parameters()``.
        step (callable): ``step(model, batch) -> loss`` or ``-> (loss, metrics)``; ``loss`` a scalar
            tensor averaged over the batch, ``metrics`` a dict of per-batch means (no ``"loss"``).
        scheduler (optional): a ``torch.optim.lr_scheduler`` object. ``ReduceLROnPlateau`` is
            stepped with the monitored value. (default: ``None``)
        scheduler_interval (str): ``"epoch"`` or ``"step"`` (after every optimizer step).
            (default: ``"epoch"``)
        evaluate_fn (callable, optional): ``evaluate_fn(model, val_loader) -> dict`` of validation
            metrics; default: :func:`~graphrnn.train.evaluate` with ``step`` (on each process's
            shard, averaged over processes). Under DDP a custom ``evaluate_fn`` is given the
            whole validation loader on every process, since its metrics (ROC-AUC, say) need not
            be averages over shards, and every process takes rank 0's result, so that all make
            the same early-stopping and checkpoint decisions.
        max_epochs (int): epochs to train (counting those done before a resume). (default: ``10``)
        monitor (str, optional): history column deciding best checkpoint and early stopping.
            (default: ``"val_loss"`` with a validation loader, else ``"train_loss"``)
        mode (str): ``"min"`` or ``"max"``: whether smaller or larger ``monitor`` is better.
            (default: ``"min"``)
        patience (int, optional): stop after this many epochs without improvement by more than
            ``min_delta``; ``None`` never stops early. (default: ``None``)
        min_delta (float): smallest change that counts as improvement. (default: ``0.0``)
        clip_grad_norm (float, optional): clip the global gradient 2-norm to this.
        clip_grad_value (float, optional): clamp every gradient entry to ``[-v, v]`` (applied
            before norm clipping when both are given).
        seed (int, optional): seeds Python, NumPy and torch (plus the rank, per process) before
            the first epoch; seed before building the model too for reproducible weights.
        device (str or torch.device, optional): default: ``cuda:LOCAL_RANK`` under a multi-process
            launch with CUDA, else where the model's parameters are.
        out_dir (str or PathLike, optional): where files go; ``None`` writes nothing.
        resume (bool or path): ``True`` continues from ``out_dir/last.pt`` if it exists; a path
            continues from that file, which must exist. (default: ``False``)
        config (dict, optional): JSON-serialisable settings stored in every checkpoint.
        vocab (list[str], optional): tokens stored in every checkpoint.
        progress (bool): show a tqdm bar and a line per epoch on rank 0. (default: ``True``)
        batch_size_fn (callable): batch -> number of samples, used to weight averages.
            (default: :func:`~graphrnn.train.batch_size_of`)
        restore_best (bool): load the best weights into ``model`` when ``fit`` ends.
            (default: ``False``)
        tensorboard (bool): also log to TensorBoard if it is installed. (default: ``True``)
        time_budget (float, optional): wall-clock seconds of ``fit`` (checked after each batch)
            after which the epoch ends, is validated and saved, and training stops. (One process)

    Example::

        def step(model, batch):
            out = model(batch.x)
            return F.mse_loss(out, batch.y), {"mae": (out - batch.y).abs().mean()}

        trainer = Trainer(model, torch.optim.Adam(model.parameters()), step, max_epochs=20,
                          patience=5, out_dir="runs/demo", resume=True)
        history = trainer.fit(train_loader, val_loader)
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, step: Step, *,
                 scheduler: Any = None, scheduler_interval: str = "epoch",
                 evaluate_fn: Callable[[torch.nn.Module, Iterable], dict] | None = None,
                 max_epochs: int = 10, monitor: str | None = None, mode: str = "min",
                 patience: int | None = None, min_delta: float = 0.0,
                 clip_grad_norm: float | None = None, clip_grad_value: float | None = None,
                 seed: int | None = None, device: str | torch.device | None = None,
                 out_dir: str | os.PathLike | None = None, resume: bool | str | os.PathLike = False,
                 config: dict | None = None, vocab: list[str] | None = None, progress: bool = True,
                 batch_size_fn: Callable[[Any], int] = batch_size_of, restore_best: bool = False,
                 tensorboard: bool = True, time_budget: float | None = None):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', "
                             f"got {scheduler_interval!r}")
        plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
        if plateau and scheduler_interval == "step":
            raise ValueError("ReduceLROnPlateau needs scheduler_interval='epoch'")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if not isinstance(max_epochs, int) or max_epochs < 1:
            raise ValueError(f"max_epochs must be a positive int, got {max_epochs!r}")
        if patience is not None and patience < 1:
            raise ValueError(f"patience must be a positive int or None, got {patience!r}")
        for name, v in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value),
                        ("time_budget", time_budget)):
            if v is not None and not v > 0:
                raise ValueError(f"{name} must be positive or None, got {v!r}")
        if resume and not isinstance(resume, (str, os.PathLike)) and out_dir is None:
            raise ValueError("resume=True needs out_dir (or pass the checkpoint path as "
                             "resume=...)")
        check_config(config)
        check_vocab(vocab)
        self.model, self.optimizer, self.step = model, optimizer, step
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self._plateau = plateau
        self.evaluate_fn = evaluate_fn
        self.max_epochs, self.monitor, self.mode = max_epochs, monitor, mode
        self.patience, self.min_delta = patience, float(min_delta)
        self.clip_grad_norm, self.clip_grad_value = clip_grad_norm, clip_grad_value
        self.seed, self.device = seed, None if device is None else torch.device(device)
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.resume, self.config, self.vocab = resume, config or {}, vocab
        self.progress, self.batch_size_fn = progress, batch_size_fn
        self.restore_best, self.tensorboard = restore_best, tensorboard
        self.time_budget, self._deadline = time_budget, math.inf
        # loop state, saved in checkpoints
        self.epoch = 0  # completed epochs
        self.best_score: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0
        self.stopped = False
        self.history: list[dict[str, float]] = []
        self._best_state: dict | None = None
        self._rng: list[dict] = []  # generator states of every process, at the last epoch end

    # ---- state ------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Loop state stored in checkpoints (numbers, strings and lists only)."""
        return {"best_score": self.best_score, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs, "stopped": self.stopped, "history": self.history,
                "monitor": self.monitor, "mode": self.mode}

    def load_state_dict(self, state: dict, path: Path) -> None:
        monitor, mode = state.get("monitor"), state.get("mode", self.mode)
        if monitor not in (None, self.monitor) or mode != self.mode:
            raise ValueError(f"checkpoint {path} tracked monitor={monitor!r} mode={mode!r}; this "
                             f"Trainer has monitor={self.monitor!r} mode={self.mode!r}: best "
                             "scores would not compare")
        self.best_score, self.best_epoch = state["best_score"], state["best_epoch"]
        self.bad_epochs, self.stopped = state["bad_epochs"], state["stopped"]
        self.history = [dict(row) for row in state["history"]]

    def _checkpoint_path(self) -> Path | None:
        if isinstance(self.resume, (str, os.PathLike)):
            path = Path(self.resume)
            if not path.is_file():
                raise FileNotFoundError(f"resume checkpoint {path} does not exist")
            return path
        if self.resume and (self.out_dir / LAST).is_file():
            return self.out_dir / LAST
        return None

    def _resume(self, rank: int, loader_gen: torch.Generator | None) -> None:
        path = self._checkpoint_path()
        if path is None:
            return
        ckpt = load_checkpoint(path, map_location=self.device)
        changed = config_changes(ckpt["config"], self.config)
        if changed:
            raise ValueError(f"cannot resume from {path}: settings differ from the run it "
                             f"continues: {', '.join(changed)}; resume with that run's settings, "
                             "or train into a new output folder")
        D.unwrap_model(self.model).load_state_dict(ckpt["model"])
        if ckpt["optimizer"] is not None:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None and ckpt["scheduler"] is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        if ckpt["trainer"]:
            self.load_state_dict(ckpt["trainer"], path)
        self.epoch = ckpt["epoch"]
        rng = ckpt["rng"]
        if rank < len(rng):
            set_rng_state(rng[rank])
            if loader_gen is not None and "loader" in rng[rank]:
                loader_gen.set_state(rng[rank]["loader"].cpu())
        elif rng:
            warnings.warn(f"checkpoint {path} holds random states for {len(rng)} processes; rank "
                          f"{rank} starts from its seed instead", stacklevel=3)
        if self.restore_best and self.out_dir is not None and (self.out_dir / BEST).is_file():
            self._best_state = load_checkpoint(self.out_dir / BEST, map_location="cpu")["model"]

    def _save(self, name: str) -> None:
        save_checkpoint(self.out_dir / name, self.model, self.optimizer, self.scheduler,
                        epoch=self.epoch, config=self.config, vocab=self.vocab,
                        trainer=self.state_dict(), rng=self._rng)

    # ---- one epoch --------------------------------------------------------------------------

    def _train_epoch(self, loader: Iterable, bar: tqdm) -> dict[str, float]:
        self.model.train()
        avg = MetricAverager()
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        for i, batch in enumerate(loader):
            batch = move_to(batch, self.device)
            loss, metrics = call_step(self.step, self.model, batch)
            value = loss.item()
            if not math.isfinite(value):
                raise FloatingPointError(f"training loss is {value} at epoch {self.epoch + 1}, "
                                         f"batch {i}; expected a finite number")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.clip_grad_value is not None:
                torch.nn.utils.clip_grad_value_(params, self.clip_grad_value)
            if self.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, self.clip_grad_norm)
            self.optimizer.step()
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            avg.update({"loss": value, **metrics}, self.batch_size_fn(batch))
            bar.update(1)
            if not bar.disable:
                bar.set_postfix({k: f"{v:.4g}" for k, v in avg.compute().items()}, refresh=False)
            if time.perf_counter() >= self._deadline:
                break
        if avg.count == 0:
            raise ValueError("train_loader yielded no batches; expected at least one")
        return avg.all_reduce().compute()

    def _improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best_score is None:
            return True
        if self.mode == "min":
            return value < self.best_score - self.min_delta
        return value > self.best_score + self.min_delta

    # ---- the loop ---------------------------------------------------------------------------

    def fit(self, train_loader: Iterable,
            val_loader: Iterable | None = None) -> list[dict[str, float]]:
        """Train until ``max_epochs`` or early stopping; return the history (one dict per epoch).

        Args:
            train_loader (iterable): training batches; a ``DataLoader`` is sharded across
                processes automatically (keeping its shuffling).
            val_loader (iterable, optional): validation batches, sharded likewise (unless a
                custom ``evaluate_fn`` reads them: then every process reads them all).

        Returns:
            list[dict[str, float]]: per epoch ``epoch``, ``train_loss``, ``train_<metric>``,
            ``val_loss``, ``val_<metric>``, ``lr`` and ``time`` (seconds).
        """
        info = D.init_distributed(device=self.device)
        rank, main = info.rank, info.is_main
        if self.time_budget is not None and info.world_size > 1:  # ranks would stop apart, hang
            raise ValueError(f"time_budget works in one process only, not {info.world_size}")
        self._deadline = time.perf_counter() + (self.time_budget or math.inf)
        if self.device is None:
            param = next(self.model.parameters(), None)
            self.device = info.device if info.world_size > 1 or param is None else param.device
        self.model.to(self.device)
        self.model = D.wrap_model(self.model, self.device)
        seed = 0 if self.seed is None else self.seed
        train_loader = D.distribute_loader(train_loader, "train_loader", seed=seed)
        if val_loader is not None and self.evaluate_fn is None:
            val_loader = D.distribute_loader(val_loader, "val_loader", shuffle=False)
        if self.monitor is None:
            self.monitor = "val_loss" if val_loader is not None else "train_loss"
        evaluate_fn = self.evaluate_fn or (lambda model, loader: evaluate(
            model, loader, self.step, device=self.device, batch_size_fn=self.batch_size_fn))
        if self.seed is not None:
            seed_everything((self.seed + rank) % 2**32)
        loader_gen = _sampler_generator(train_loader)
        self._resume(rank, loader_gen)
        writes = main and self.out_dir is not None
        tb = TensorBoardLogger(self.out_dir / TB, purge_step=self.epoch + 1) \
            if writes and self.tensorboard else None
        try:
            steps = len(train_loader)
        except TypeError:
            steps = None
        bar = tqdm(total=None if steps is None else steps * self.max_epochs,
                   initial=0 if steps is None else steps * min(self.epoch, self.max_epochs),
                   disable=not (main and self.progress), unit="batch", dynamic_ncols=True)
        try:
            while self.epoch < self.max_epochs and not self.stopped:
                self._run_epoch(train_loader, val_loader, evaluate_fn, bar, writes, tb, loader_gen)
        except KeyboardInterrupt:
            if writes and self.history:  # the curves of the epochs that finished
                plot_history(self.history, self.out_dir / PNG)
            raise
        finally:
            bar.close()
            if tb is not None:
                tb.close()
        if writes and self.history:
            plot_history(self.history, self.out_dir / PNG)
        if self.restore_best and self._best_state is not None:
            D.unwrap_model(self.model).load_state_dict(self._best_state)
        D.barrier()
        return self.history

    def _run_epoch(self, train_loader, val_loader, evaluate_fn, bar, writes, tb,
                   loader_gen) -> None:
        start = time.perf_counter()
        for loader in (train_loader, val_loader):
            if hasattr(getattr(loader, "sampler", None), "set_epoch"):
                loader.sampler.set_epoch(self.epoch)
        bar.set_description(f"epoch {self.epoch + 1}/{self.max_epochs}")
        lr = self.optimizer.param_groups[0]["lr"]
        train = self._train_epoch(train_loader, bar)
        val = {} if val_loader is None else evaluate_fn(D.unwrap_model(self.model), val_loader)
        if self.evaluate_fn is not None and val_loader is not None and D.get_world_size() > 1:
            val = D.all_gather_objects({k: float(v) for k, v in val.items()})[0]
        row = {"epoch": self.epoch + 1, **{f"train_{k}": v for k, v in train.items()},
               **{f"val_{k}": float(v) for k, v in val.items()},
               "lr": float(lr), "time": time.perf_counter() - start}
        if self.monitor not in row:
            raise KeyError(f"monitor={self.monitor!r} is not among the epoch's metrics "
                           f"{sorted(row)}; expected one of them")
        self.epoch += 1
        score = row[self.monitor]
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if self._plateau:
                self.scheduler.step(score)
            else:
                self.scheduler.step()
        improved = self._improved(score)
        if improved:
            self.best_score, self.best_epoch, self.bad_epochs = score, self.epoch, 0
            if self.restore_best:
                self._best_state = copy.deepcopy(D.unwrap_model(self.model).state_dict())
        else:
            self.bad_epochs += 1
        out_of_time = time.perf_counter() >= self._deadline
        self.stopped = out_of_time or self.patience is not None and self.bad_epochs >= self.patience
        self.history.append(row)
        rng = get_rng_state()
        if loader_gen is not None:
            rng["loader"] = loader_gen.get_state()
        self._rng = D.all_gather_objects(rng)  # collective: every rank takes part
        if writes:
            self._save(LAST)
            if improved:
                self._save(BEST)
            write_csv(self.history, self.out_dir / CSV)
            if tb is not None:
                tb.log(row)
        if not bar.disable:
            shown = " ".join(f"{k}={v:.4g}" for k, v in row.items() if k != "epoch")
            best = " *" if improved else ""
            stop = f" (stopping: time budget of {self.time_budget:g} s spent)" if out_of_time \
                else f" (stopping: no improvement in {self.monitor} for {self.bad_epochs} " \
                f"epochs)" if self.stopped else ""
            bar.write(f"epoch {self.epoch}/{self.max_epochs} {shown}{best}{stop}")


#: Settings that may change between a run and its resumption: where and how fast it runs.
RESUMABLE = frozenset({"resume", "device", "threads", "out", "version", "quick"})


def config_changes(old: Any, new: Any, prefix: str = "") -> list[str]:
    """``"name new (was old)"`` for every setting of ``new`` that differs from ``old`` (nested
    dicts compared key by key), leaving out the :data:`RESUMABLE` ones."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new), key=str):
            if key in RESUMABLE:
                continue
            name = f"{prefix}.{key}" if prefix and prefix != "settings" else str(key)
            changes += config_changes(old.get(key), new.get(key), name)
        return changes
    return [] if old == new else [f"{prefix} {new!r} (was {old!r})"]


def _sampler_generator(loader: Any) -> torch.Generator | None:
    """The private generator a loader's sampler shuffles with (``DataLoader(generator=...)``)."""
    return getattr(getattr(loader, "sampler", None), "generator", None)
