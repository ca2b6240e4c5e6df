r"""Molecular property prediction: a message-passing network over atoms and bonds, read out per
molecule (Gilmer et al. 2017, `arXiv:1704.01212 <https://arxiv.org/abs/1704.01212>`_).

:class:`MoleculeModel` is encoder -> core -> readout -> head:

.. math::
    h^0_v = \mathrm{ReLU}(W x_v + b), \qquad
    h^T = \mathrm{core}(h^0, E, e), \qquad
    r_G = R(\{h^T_v : v \in G\}), \qquad \hat y_G = \mathrm{MLP}([r_G ; (d_G - \mu_d) / \sigma_d])

with the core the MPNN of Gilmer et al. (``core="mpnn"``: ``T`` rounds of edge-network
messages :math:`m_v = \sum_{u \to v} A(e_{uv}) h_u` and a GRU update, shared weights; see
:class:`~graphrnn.nn.GatedMessagePassing`), the directed MPNN of Yang et al. 2019 (``core="dmpnn"``,
chemprop's model: states on directed bonds, a message excludes the reverse bond; it reads the raw
atom and bond features, so :math:`h^0` is its own; :class:`~graphrnn.nn.DirectedMessagePassing`)
or ``T`` residual graph-network blocks (``core="gn"``, Battaglia et al. 2018,
:class:`~graphrnn.nn.GNBlock`), and the readout ``R`` sum,
mean, attention or Set2Set (Vinyals et al. 2016) -- or, for properties that are sums of atom
contributions (``readout="additive"``), the head applied to every atom and summed,
:math:`\hat y_G = \sum_{v \in G} \mathrm{MLP}(h^T_v)`. The molecule-level descriptors
:math:`d_G` are optional (``descriptor_size > 0``, as chemprop's ``--features_generator``; RDKit
2-D descriptors from :mod:`graphrnn.structures.descriptors`, ``data.descriptors [B, D]``),
standardised with the mean and standard deviation of the training molecules
(:func:`graphrnn.datasets.molecule_splits.descriptor_stats`,
:meth:`MoleculeModel.set_descriptor_stats`) and concatenated to the readout; without them the head
sees :math:`r_G` alone.

Regression targets are standardised inside the model: the head predicts
:math:`(y - \mu) / \sigma` with :math:`\mu, \sigma` from the training set (buffers, so checkpoints
carry them) and ``forward`` returns :math:`\hat y` in the targets' units. (The additive readout
predicts :math:`y / \sigma`: a per-molecule offset :math:`\mu` is not a sum over atoms.) The loss
is the mean squared error of standardised targets (or binary cross-entropy of logits for
classification); missing labels (NaN) are left out of loss and metrics. :func:`evaluate_molecules`
scores a whole loader at once: MAE, RMSE, :math:`R^2` and Spearman's rank correlation, or
accuracy, ROC-AUC and PR-AUC (which do not decompose over batches), with
:func:`score_predictions`, which also scores the fingerprint baselines
(:mod:`graphrnn.models.fingerprint_baselines`); :func:`predict_molecules` returns the predictions
and, for an ensemble, the spread of its members.

The defaults are the library's documented configuration for small molecule sets (the directed
MPNN, width 128, sum readout: lowest validation RMSE on ESOL). Scaling cannot be forgotten:
:meth:`MoleculeModel.fit_scaling` takes the target (and descriptor) statistics of the training
molecules, and :func:`molecule_step` refuses to train a regression model whose target statistics
were never set (or loaded from a checkpoint).

Size: the model, its ensemble, its step and the scoring and prediction routines that the networks
and the fingerprint baselines share, kept together so that a checkpoint is rebuilt and scored from
one module.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.directed_message_passing import DirectedMessagePassing
from ..nn.graph_network_configs import GNBlock
from ..nn.message_passing import EdgeNetwork, GatedMessagePassing
from ..nn.readout import AttentionReadout, Set2Set, readout
from ..structures.molecule import ATOM_FEATURE_DIM, BOND_FEATURE_DIM
from ..tasks.metrics import pr_auc, r2, roc_auc, spearman

__all__ = ["MoleculeModel", "MoleculeEnsemble", "UniqueEdgeNetwork", "molecule_step",
           "evaluate_molecules", "predict_molecules", "score_predictions"]


class UniqueEdgeNetwork(EdgeNetwork):
    r"""MPNN edge network (:class:`~graphrnn.nn.EdgeNetwork`),
    :math:`m_{u \to v} = A(e_{uv})\, h_u + b`, computed per *distinct* edge feature row.

    Bond features are one-hot and binary columns, so a batch of molecules holds only a few dozen
    distinct rows :math:`e^{(1)}, \dots, e^{(U)}` among thousands of edges. :meth:`matrices`
    runs the MLP on those rows only and returns ``(A [U, H, H], kind [E])``; :meth:`messages`
    projects every node with every matrix in one matmul, ``[N, H] @ [H, U H]``, and gathers row
    ``(sender, kind)`` for each edge -- the same messages as ``EdgeNetwork`` (which builds and
    multiplies an ``[E, H, H]`` tensor, a slow batched matrix-vector product on CPU).
    """

    def matrices(self, edge_attr):
        if edge_attr is None or edge_attr.dim() != 2:
            return super().matrices(edge_attr)
        rows, kind = torch.unique(edge_attr, dim=0, return_inverse=True)
        return super().matrices(rows), kind                         # [U, H, H], [E]

    def messages(self, matrices, h: Tensor, edge_index: Tensor) -> Tensor:
        a, kind = matrices
        u, hdim = a.size(0), self.channels
        # proj[n, k, :] = A_k h_n, laid out as rows n * U + k of an [N U, H] matrix
        proj = (h @ a.permute(2, 0, 1).reshape(hdim, u * hdim)).view(-1, hdim)
        out = proj.index_select(0, edge_index[0] * u + kind)         # [E, H]
        return out if self.bias is None else out + self.bias


TASKS = ("regression", "classification")
CORES = ("mpnn", "dmpnn", "gn")
READOUTS = ("sum", "mean", "attention", "set2set", "additive")


class MoleculeModel(nn.Module):
    r"""Encoder + message passing (MPNN or GN blocks) + readout + MLP head (module docstring).

    Args:
        num_targets: outputs per molecule (default 1).
        node_in: atom feature width (default ``ATOM_FEATURE_DIM``, 53).
        edge_in: bond feature width (default ``BOND_FEATURE_DIM``, 12).
        hidden: state width :math:`H` (default 128).
        num_steps: message-passing rounds :math:`T` (default 3).
        core: ``"mpnn"`` (edge network + GRU, Gilmer et al.), ``"dmpnn"`` (directed bond
            messages, Yang et al. 2019) or ``"gn"`` (residual :class:`~graphrnn.nn.GNBlock` s
            with LayerNorm) (default ``"dmpnn"``).
        readout: ``"sum"``, ``"mean"``, ``"attention"``, ``"set2set"`` or ``"additive"`` (the
            head on every atom, then summed; suits sums of atom contributions such as TPSA)
            (default ``"sum"``).
        task: ``"regression"`` or ``"classification"`` (binary, one logit per target)
            (default ``"regression"``).
        dropout: dropout before each head layer (default 0).
        descriptor_size: width :math:`D` of the molecule-level descriptors ``data.descriptors``
            concatenated, standardised, to the readout before the head; 0 for none (default 0).
            Not with the additive readout.

    Shapes:
        - input: a PyG ``Batch`` with ``x [N, node_in]``, ``edge_index [2, E]``,
          ``edge_attr [E, edge_in]``, ``batch [N]``, and ``descriptors [B, descriptor_size]``
          when ``descriptor_size > 0``.
        - output: :math:`[B, \text{num\_targets}]`, targets' units (regression) or logits.
    """

    def __init__(self, num_targets: int = 1, node_in: int = ATOM_FEATURE_DIM,
                 edge_in: int = BOND_FEATURE_DIM, hidden: int = 128, num_steps: int = 3,
                 core: str = "dmpnn", readout: str = "sum", task: str = "regression",
                 dropout: float = 0.0, descriptor_size: int = 0):
        super().__init__()
        for name, value, allowed in (("core", core, CORES), ("readout", readout, READOUTS),
                                     ("task", task, TASKS)):
            if value not in allowed:
                raise ValueError(f"{name}={value!r} is not supported; expected one of {allowed}")
        if num_targets < 1 or hidden < 1 or num_steps < 1:
            raise ValueError(f"num_targets, hidden and num_steps must be positive, got "
                             f"{num_targets}, {hidden}, {num_steps}")
        if descriptor_size < 0:
            raise ValueError(f"descriptor_size must be 0 or positive, got {descriptor_size}")
        if descriptor_size and readout == "additive":
            raise ValueError("descriptor_size > 0 needs a per-molecule readout; the additive "
                             "readout sums per-atom outputs and has no place for descriptors")
        self.descriptor_size = descriptor_size
        self.num_targets, self.node_in, self.edge_in = num_targets, node_in, edge_in
        self.hidden, self.num_steps, self.core_type = hidden, num_steps, core
        self.readout_type, self.task, self.dropout = readout, task, dropout
        # D-MPNN reads the raw atom and bond features itself; the other cores start from
        # h^0 = ReLU(W x + b)
        self.encoder = None if core == "dmpnn" else nn.Sequential(nn.Linear(node_in, hidden),
                                                                  nn.ReLU())
        if core == "dmpnn":
            self.core = DirectedMessagePassing(node_in, edge_in, hidden, num_steps)
        elif core == "mpnn":
            self.core = GatedMessagePassing(hidden, hidden, num_steps,
                                            message=UniqueEdgeNetwork(hidden, edge_in))
        else:
            self.edge_encoder = nn.Sequential(nn.Linear(edge_in, hidden), nn.ReLU())
            self.core = nn.ModuleList([GNBlock(hidden, hidden, hidden_features=hidden,
                                               layer_norm=True) for _ in range(num_steps)])
        if readout == "set2set":
            self.pool = Set2Set(hidden, processing_steps=3)
            width = 2 * hidden
        elif readout == "attention":
            self.pool = AttentionReadout(hidden, gate="softmax")
            width = hidden
        else:
            self.pool = None
            width = hidden
        width += descriptor_size                            # [r_G ; standardised d_G]
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, hidden), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(hidden, num_targets))
        self.register_buffer("target_mean", torch.zeros(num_targets))
        self.register_buffer("target_std", torch.ones(num_targets))
        # set by set_target_stats or by loading a state dict; molecule_step checks it, so a
        # regression model is never trained on unscaled targets by mistake
        self.target_stats_set = task != "regression"
        if descriptor_size:         # only then, so checkpoints without descriptors still load
            self.register_buffer("descriptor_mean", torch.zeros(descriptor_size))
            self.register_buffer("descriptor_std", torch.ones(descriptor_size))

    @property
    def config(self) -> dict:
        """The constructor arguments, JSON-serialisable (for checkpoints)."""
        return dict(num_targets=self.num_targets, node_in=self.node_in, edge_in=self.edge_in,
                    hidden=self.hidden, num_steps=self.num_steps, core=self.core_type,
                    readout=self.readout_type, task=self.task, dropout=self.dropout,
                    descriptor_size=self.descriptor_size)

    @torch.no_grad()
    def set_target_stats(self, mean: Tensor, std: Tensor) -> None:
        """Standardise regression targets with ``mean``, ``std`` ``[num_targets]``."""
        mean, std = torch.as_tensor(mean).float().view(-1), torch.as_tensor(std).float().view(-1)
        if mean.numel() != self.num_targets or std.numel() != self.num_targets:
            raise ValueError(f"mean and std must have {self.num_targets} entries, got "
                             f"{mean.numel()} and {std.numel()}")
        if (std <= 0).any():
            raise ValueError(f"std must be positive, got {std.tolist()}")
        self.target_mean.copy_(mean)
        self.target_std.copy_(std)
        self.target_stats_set = True

    def fit_scaling(self, dataset) -> MoleculeModel:
        """Take the scaling of the training molecules ``dataset`` (a data set or ``Subset`` of
        molecule graphs; never validation or test molecules): the targets' mean and standard
        deviation (regression; NaN labels ignored) and, with ``descriptor_size > 0``, the
        descriptors'. Returns the model."""
        from ..datasets.molecule_splits import descriptor_stats, target_stats

        if self.task == "regression":
            self.set_target_stats(*target_stats(dataset))
        if self.descriptor_size:
            self.set_descriptor_stats(*descriptor_stats(dataset))
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if prefix + "target_mean" in state_dict:          # the scaling of a trained model
            self.target_stats_set = True

    @torch.no_grad()
    def set_descriptor_stats(self, mean: Tensor, std: Tensor) -> None:
        """Standardise the descriptors with ``mean``, ``std`` ``[descriptor_size]`` (those of the
        training molecules: :func:`~graphrnn.datasets.molecule_splits.descriptor_stats`). A zero
        ``std`` (a descriptor constant over the training set) is taken as 1, so that column is
        only centred."""
        if not self.descriptor_size:
            raise ValueError("set_descriptor_stats: this model has descriptor_size=0")
        mean, std = torch.as_tensor(mean).float().view(-1), torch.as_tensor(std).float().view(-1)
        if mean.numel() != self.descriptor_size or std.numel() != self.descriptor_size:
            raise ValueError(f"descriptor mean and std must have {self.descriptor_size} entries, "
                             f"got {mean.numel()} and {std.numel()}")
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all()) or (std < 0).any():
            raise ValueError("descriptor mean and std must be finite, std non-negative")
        self.descriptor_mean.copy_(mean)
        self.descriptor_std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def _descriptors(self, data, num_graphs: int) -> Tensor:
        """``data.descriptors`` standardised, ``[B, descriptor_size]``; errors name the field."""
        d = getattr(data, "descriptors", None)
        if d is None:
            raise ValueError(f"the molecule batch has no 'descriptors' but the model expects "
                             f"data.descriptors of shape [B, {self.descriptor_size}] "
                             "(descriptor_size > 0); build the data set with descriptors=True")
        if d.dim() != 2 or d.size(0) != num_graphs or d.size(1) != self.descriptor_size:
            raise ValueError(f"data.descriptors must have shape [{num_graphs}, "
                             f"{self.descriptor_size}] (B molecules, descriptor_size), got "
                             f"{list(d.shape)}")
        return (d.float() - self.descriptor_mean) / self.descriptor_std

    def embed(self, data) -> Tensor:
        """One vector per molecule, ``[B, readout width]``, followed by the standardised
        descriptors when ``descriptor_size > 0`` (per atom, ``[N, H]``, for the additive
        readout)."""
        for name in ("x", "edge_index", "edge_attr"):
            if getattr(data, name, None) is None:
                raise ValueError(f"the molecule batch has no {name!r}; expected graphs from "
                                 "graphrnn.structures.molecule.from_smiles")
        x, edge_index, edge_attr = data.x, data.edge_index, data.edge_attr
        if x.dim() != 2 or x.size(1) != self.node_in:
            raise ValueError(f"data.x must have shape [N, {self.node_in}], got {list(x.shape)}")
        if edge_attr.dim() != 2 or edge_attr.size(1) != self.edge_in:
            raise ValueError(f"data.edge_attr must have shape [E, {self.edge_in}], got "
                             f"{list(edge_attr.shape)}")
        batch = getattr(data, "batch", None)
        num_graphs = int(getattr(data, "num_graphs", 1))
        if self.core_type == "dmpnn":
            h = self.core(x, edge_index, edge_attr)
        elif self.core_type == "mpnn":
            h = self.core(self.encoder(x), edge_index, edge_attr)
        else:
            h = self.encoder(x)
            e = self.edge_encoder(edge_attr)
            for block in self.core:
                dh, de, _ = block(h, edge_index, e)
                h, e = h + dh, e + de
        if self.readout_type == "additive":
            return h
        if self.pool is None:
            r = readout(h, batch, self.readout_type, num_graphs)
        else:
            r = self.pool(h, batch, num_graphs)
        if self.descriptor_size:
            r = torch.cat([r, self._descriptors(data, num_graphs)], dim=1)
        return r

    def forward(self, data) -> Tensor:
        out = self.head(self.embed(data))
        if self.readout_type == "additive":                 # sum of per-atom contributions
            out = readout(out, getattr(data, "batch", None), "sum",
                          int(getattr(data, "num_graphs", 1)))
            # scale only: a per-molecule offset (the mean) is not a sum over atoms
            return out * self.target_std if self.task == "regression" else out
        if self.task == "regression":
            out = out * self.target_std + self.target_mean
        return out

    def extra_repr(self) -> str:
        return (f"core={self.core_type!r}, readout={self.readout_type!r}, task={self.task!r}, "
                f"num_targets={self.num_targets}"
                + (f", descriptor_size={self.descriptor_size}" if self.descriptor_size else ""))


class MoleculeEnsemble(nn.Module):
    r"""The mean output of several :class:`MoleculeModel` s (same task and targets; e.g. trained
    from different initialisations on one split): :math:`\hat y = \frac1K \sum_k \hat y_k`, in
    the targets' units (regression) or as a mean logit (classification). Scored like a single
    model by :func:`evaluate_molecules`.
    """

    def __init__(self, members: Sequence[MoleculeModel]):
        super().__init__()
        members = list(members)
        if not members:
            raise ValueError("MoleculeEnsemble needs at least one member")
        first = members[0]
        for m in members[1:]:
            if (m.task, m.num_targets) != (first.task, first.num_targets):
                raise ValueError("ensemble members must share task and num_targets")
        self.members = nn.ModuleList(members)
        self.task, self.num_targets = first.task, first.num_targets

    @property
    def target_std(self) -> Tensor:
        return self.members[0].target_std

    def member_outputs(self, data) -> Tensor:
        """Every member's output, ``[K, B, num_targets]``."""
        return torch.stack([m(data) for m in self.members])

    def forward(self, data) -> Tensor:
        return self.member_outputs(data).mean(0)


def _targets(model, batch) -> Tensor:
    y = getattr(batch, "y", None)
    if y is None:
        raise ValueError("the molecule batch has no 'y'; expected targets [B, num_targets]")
    if y.dim() == 1 and model.num_targets == 1:
        y = y.unsqueeze(-1)
    if y.dim() != 2 or y.size(1) != model.num_targets:
        raise ValueError(f"batch.y must have shape [B, {model.num_targets}], got "
                         f"{list(y.shape)}")
    return y.float()


def _loss(model: MoleculeModel, pred: Tensor, y: Tensor) -> Tensor:
    mask = ~torch.isnan(y)
    if not mask.any():
        return pred.sum() * 0.0
    y0 = torch.where(mask, y, torch.zeros_like(y))
    if model.task == "regression":
        err = ((pred - y0) / model.target_std) ** 2
    else:
        err = F.binary_cross_entropy_with_logits(pred, y0, reduction="none")
    return err[mask].mean()


def molecule_step(model: MoleculeModel, batch):
    r"""Trainer step: ``(loss, metrics)`` for a PyG batch of molecules.

    Regression: loss :math:`\frac1{|M|}\sum_{(g,j) \in M} ((\hat y_{gj} - y_{gj})/\sigma_j)^2`
    over the labelled entries :math:`M`; metrics ``mae`` and ``mse`` in the targets' units.
    Classification: binary cross-entropy of the logits; metric ``accuracy`` (threshold 0).
    """
    m = model.module if hasattr(model, "module") else model     # DDP-wrapped or not
    if model.training and not getattr(m, "target_stats_set", True):
        raise ValueError("molecule_step: this regression model's target statistics were never "
                         "set, so it would train on unscaled targets; call "
                         "model.fit_scaling(train_set) (or set_target_stats) first")
    y = _targets(m, batch)
    pred = model(batch)
    loss = _loss(m, pred, y)
    mask = ~torch.isnan(y)
    with torch.no_grad():
        if not mask.any():
            return loss, {}
        if m.task == "regression":
            err = (pred - y)[mask]
            return loss, {"mae": err.abs().mean(), "mse": err.pow(2).mean()}
        correct = ((pred > 0).float() == y)[mask].float()
        return loss, {"accuracy": correct.mean()}


def score_predictions(pred, y, task: str) -> dict[str, float]:
    """Metrics of predictions ``pred`` for targets ``y`` (both ``[N, num_targets]``, NaN where a
    label is missing), each the mean over targets (those with a defined value).

    Regression (``pred`` in the targets' units): ``mae``, ``rmse``, ``r2``, ``spearman``.
    Classification (``pred`` logits, or any score increasing with the positive class whose
    threshold is 0): ``accuracy`` (threshold 0), ``roc_auc``, ``pr_auc`` (average precision).
    """
    pred = torch.as_tensor(pred).double()
    y = torch.as_tensor(y).double()
    if pred.dim() == 1:
        pred = pred.unsqueeze(-1)
    if y.dim() == 1:
        y = y.unsqueeze(-1)
    if pred.shape != y.shape:
        raise ValueError(f"pred {list(pred.shape)} and y {list(y.shape)} differ in shape")
    mask = ~torch.isnan(y)
    out = {}

    def mean_of(fn) -> float:
        values = [fn(pred[mask[:, j], j], y[mask[:, j], j]) for j in range(y.size(1))
                  if mask[:, j].any()]
        values = [v for v in values if not math.isnan(v)]
        return sum(values) / len(values) if values else math.nan

    if task == "regression":
        out["mae"] = mean_of(lambda p, t: float((p - t).abs().mean()))
        out["rmse"] = mean_of(lambda p, t: float((p - t).pow(2).mean().sqrt()))
        out["r2"] = mean_of(r2)
        out["spearman"] = mean_of(spearman)
    elif task == "classification":
        correct = ((pred > 0).double() == y) & mask
        out["accuracy"] = float(correct.sum() / mask.sum().clamp(min=1))
        out["roc_auc"] = mean_of(roc_auc)
        out["pr_auc"] = mean_of(pr_auc)
    else:
        raise ValueError(f"task={task!r} is not supported; expected one of {TASKS}")
    return out


@torch.no_grad()
def predict_molecules(model, loader: Iterable, device=None):
    """Predictions of ``model`` (a :class:`MoleculeModel` or :class:`MoleculeEnsemble`) for
    every molecule of ``loader``, in order.

    Returns:
        ``(pred, spread, y)``: ``pred [N, num_targets]`` (targets' units, or logits);
        ``spread [N, num_targets]``, the standard deviation of the members' outputs for an
        ensemble (``None`` for one model), an uncertainty; ``y [N, num_targets]``, the batches'
        targets (``None`` when they carry none).
    """
    m = model.module if hasattr(model, "module") else model
    was_training = model.training
    model.eval()
    preds, spreads, ys = [], [], []
    try:
        for batch in loader:
            if device is not None:
                batch = batch.to(device)
            if isinstance(m, MoleculeEnsemble):
                outs = m.member_outputs(batch).float().cpu()           # [K, B, T]
                preds.append(outs.mean(0))
                spreads.append(outs.std(0, unbiased=False))
            else:
                preds.append(model(batch).float().cpu())
            if getattr(batch, "y", None) is not None:
                ys.append(_targets(m, batch).cpu())
    finally:
        model.train(was_training)
    if not preds:
        raise ValueError("predict_molecules: loader yielded no batches")
    return (torch.cat(preds), torch.cat(spreads) if spreads else None,
            torch.cat(ys) if len(ys) == len(preds) else None)


def evaluate_molecules(model: MoleculeModel, loader: Iterable, device=None) -> dict[str, float]:
    """Score ``model`` on every molecule of ``loader`` at once.

    Returns:
        ``loss`` (standardised MSE, or BCE) and the metrics of :func:`score_predictions`:
        regression ``mae``, ``rmse``, ``r2``, ``spearman`` (targets' units, averaged over targets
        for several); classification ``accuracy``, ``roc_auc``, ``pr_auc`` (mean over targets
        with both classes present).
    """
    m = model.module if hasattr(model, "module") else model
    pred, _, y = predict_molecules(model, loader, device)
    if y is None:
        raise ValueError("evaluate_molecules: the batches carry no targets 'y'")
    return {"loss": float(_loss(_Stats(m), pred, y)), **score_predictions(pred, y, m.task)}


class _Stats:
    """The task and target scale of a model, on the CPU (for losses on gathered predictions)."""

    def __init__(self, model: MoleculeModel):
        self.task = model.task
        self.target_std = model.target_std.detach().cpu()
