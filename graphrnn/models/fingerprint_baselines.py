r"""The standard QSAR baselines a molecule model is compared with, on the same splits and metrics:
the training mean, ridge regression (logistic regression for classification) and a random forest
(Breiman 2001, https://doi.org/10.1023/A:1010933404324), both on Morgan fingerprints of radius 2,
2048 bits (ECFP4; :mod:`graphrnn.structures.fingerprints`). This is the comparison of
MoleculeNet (Wu et al. 2018, https://doi.org/10.1039/C7SC02664A) and chemprop (Yang et al. 2019,
https://doi.org/10.1021/acs.jcim.9b00237), where a forest on fingerprints is the row a learned
model has to beat.

Hyper-parameters are chosen on the validation split only (RMSE, or ROC-AUC for classification;
the mean over targets), then the chosen model is scored once on the test split:

* ``mean``: predicts the training mean (classification: the training positive rate, as a logit);
* ``ridge``: :math:`\min_w \|y - Xw - b\|^2 + \alpha \|w\|^2` with :math:`\alpha` in
  ``RIDGE_ALPHAS``; for classification L2-regularised logistic regression with
  :math:`C = 1/\alpha`;
* ``random forest``: 500 trees, ``max_features`` x ``min_samples_leaf`` in ``FOREST_GRID``;
  classification forests score :math:`\log(p / (1-p))` of their vote. Trees are grown on
  ``n_jobs`` workers (default 1); each tree's random state is drawn from ``seed`` before any is
  grown, so the trees are the same for every ``n_jobs`` (predictions agree to rounding: the
  votes are summed in another order).

Every target is fitted on the molecules labelled for it (NaN labels left out). Predictions are
scored by :func:`graphrnn.models.molecule.score_predictions`, the networks' metrics.
scikit-learn is an optional dependency: ``pip install "graphrnn[sklearn]"``.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import torch

from ..structures.fingerprints import MORGAN_BITS, MORGAN_RADIUS, morgan_fingerprints
from .molecule import score_predictions

__all__ = ["RIDGE_ALPHAS", "FOREST_GRID", "FOREST_TREES", "BASELINES", "BLEND_WEIGHTS",
           "fit_baselines", "fingerprint_baselines", "blend"]

RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
#: (max_features, min_samples_leaf) tried for the forest
FOREST_GRID = (("sqrt", 1), ("sqrt", 3), (0.1, 1), (0.1, 3))
FOREST_TREES = 500
BASELINES = ("mean", "ridge", "random forest")
#: weights of the first model tried by :func:`blend` (1: the first alone, 0: the second alone)
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise ImportError('the fingerprint baselines need scikit-learn: pip install '
                          '"graphrnn[sklearn]"') from None


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _make(method: str, setting, task: str, seed: int, trees: int, n_jobs: int = 1):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression, Ridge

    if method == "ridge":
        if task == "regression":
            return Ridge(alpha=setting)
        return LogisticRegression(C=1.0 / setting, max_iter=2000)
    max_features, leaf = setting
    cls = RandomForestRegressor if task == "regression" else RandomForestClassifier
    return cls(n_estimators=trees, max_features=max_features, min_samples_leaf=leaf,
               n_jobs=n_jobs, random_state=seed)


def _fit_predict(method: str, setting, task: str, seed: int, trees: int, x_train: np.ndarray,
                 y_train: np.ndarray, xs: Sequence[np.ndarray], n_jobs: int = 1
                 ) -> list[np.ndarray]:
    """Fit one model per target column on its labelled rows; predictions ``[N, T]`` for each of
    ``xs`` (targets' units, or logits)."""
    outs = [np.zeros((len(x), y_train.shape[1])) for x in xs]
    for j in range(y_train.shape[1]):
        keep = ~np.isnan(y_train[:, j])
        xj, yj = x_train[keep], y_train[keep, j]
        if method == "mean" or (task == "classification" and len(np.unique(yj)) < 2):
            value = yj.mean() if task == "regression" else float(_logit(np.array(yj.mean())))
            for out in outs:
                out[:, j] = value
            continue
        model = _make(method, setting, task, seed, trees, n_jobs)
        model.fit(xj, yj if task == "regression" else yj.astype(int))
        for x, out in zip(xs, outs):
            out[:, j] = model.predict(x) if task == "regression" else \
                _logit(model.predict_proba(x)[:, 1])
    return outs


def _better(a: float, b: float, task: str) -> bool:
    if math.isnan(b):
        return not math.isnan(a)
    return a < b if task == "regression" else a > b


def fit_baselines(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                  x_test: np.ndarray, y_test: np.ndarray, task: str = "regression", seed: int = 0,
                  methods: Sequence[str] = BASELINES, trees: int = FOREST_TREES,
                  forest_grid: Sequence[tuple] = FOREST_GRID, n_jobs: int = 1) -> list[dict]:
    """Fit the baselines on features ``x_* [N, F]`` and targets ``y_* [N, T]`` (NaN: missing),
    choose each one's settings on validation and score it on test.

    Args:
        task: ``"regression"`` or ``"classification"`` (0/1 labels) (default ``"regression"``).
        seed: the forests' ``random_state`` (default 0).
        methods: which of ``BASELINES`` (default all).
        trees: trees per forest (default ``FOREST_TREES``, 500).
        forest_grid: ``(max_features, min_samples_leaf)`` pairs tried (default
            ``FOREST_GRID``).
        n_jobs: processes a forest grows its trees on (default 1; the results do not depend
            on it).

    Returns:
        one dict per method: ``method``, ``setting`` (the chosen one, as text), ``val_<metric>``
        and ``test_<metric>`` of :func:`~graphrnn.models.molecule.score_predictions`,
        ``val_pred``, ``test_pred`` (``[N, T]`` arrays of the chosen model) and ``seconds`` (the
        search).
    """
    _sklearn()
    if task not in ("regression", "classification"):
        raise ValueError(f"task={task!r} is not supported; expected 'regression' or "
                         "'classification'")
    unknown = [m for m in methods if m not in BASELINES]
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; expected some of {BASELINES}")
    y_train, y_val, y_test = (np.asarray(y, dtype=np.float64).reshape(len(y), -1)
                              for y in (y_train, y_val, y_test))
    key = "rmse" if task == "regression" else "roc_auc"
    rows = []
    for method in methods:
        start = time.perf_counter()
        grid = {"mean": (None,), "ridge": RIDGE_ALPHAS, "random forest": forest_grid}[method]
        best = None
        for setting in grid:
            val_pred, test_pred = _fit_predict(method, setting, task, seed, trees, x_train,
                                               y_train, (x_val, x_test), n_jobs)
            val = score_predictions(torch.from_numpy(val_pred), torch.from_numpy(y_val), task)
            if best is None or _better(val[key], best[1][key], task):
                best = (setting, val, test_pred, val_pred)
        setting, val, test_pred, val_pred = best
        test = score_predictions(torch.from_numpy(test_pred), torch.from_numpy(y_test), task)
        rows.append({"method": method, "setting": _describe(method, setting, trees),
                     **{f"val_{k}": v for k, v in val.items()},
                     **{f"test_{k}": v for k, v in test.items()},
                     "val_pred": val_pred, "test_pred": test_pred,
                     "seconds": time.perf_counter() - start})
    return rows


def _describe(method: str, setting, trees: int) -> str:
    if method == "mean":
        return "training mean"
    if method == "ridge":
        return f"alpha={setting:g}"
    return f"{trees} trees, max_features={setting[0]}, min_samples_leaf={setting[1]}"


def _targets(subset) -> np.ndarray:
    return torch.cat([subset[i].y.view(1, -1) for i in range(len(subset))]).double().numpy()


def _smiles(subset) -> list[str]:
    return [subset[i].smiles for i in range(len(subset))]


def fingerprint_baselines(train_set, val_set, test_set, task: str = "regression", seed: int = 0,
                          methods: Sequence[str] = BASELINES, radius: int = MORGAN_RADIUS,
                          n_bits: int = MORGAN_BITS, **kwargs) -> list[dict]:
    """:func:`fit_baselines` on Morgan fingerprints (``radius``, ``n_bits``; default 2, 2048) of
    the molecule graphs of three splits (items with ``smiles`` and ``y [1, T]``, as the molecule
    data sets and their ``Subset`` s hold); ``kwargs`` (``trees``, ``forest_grid``, ``n_jobs``)
    go to :func:`fit_baselines`."""
    _sklearn()
    xs = [morgan_fingerprints(_smiles(s), radius, n_bits) for s in (train_set, val_set, test_set)]
    ys = [_targets(s) for s in (train_set, val_set, test_set)]
    return fit_baselines(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], task=task, seed=seed,
                         methods=methods, **kwargs)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def blend(first: tuple, second: tuple, y_val: np.ndarray, y_test: np.ndarray,
          task: str = "regression", weights: Sequence[float] = BLEND_WEIGHTS) -> dict:
    r"""An ensemble of two different models (e.g. a network and a forest):
    :math:`\hat y = w \hat y_1 + (1 - w) \hat y_2` with :math:`w` in ``weights`` chosen on
    validation (RMSE, or ROC-AUC), then scored once on test. Classification averages the two
    probabilities and returns the logit of the mean. Averaging models of different kinds is
    the oldest ensemble (Dietterich 2000, https://doi.org/10.1007/3-540-45014-9_1); its gain is
    largest when their errors differ, as a graph network's and a fingerprint forest's do.

    Args:
        first, second: ``(val_pred, test_pred)`` of each model, ``[N, T]`` arrays (targets'
            units, or logits).
        y_val, y_test: targets ``[N, T]`` (NaN: missing).

    Returns: ``weight`` (on ``first``), ``val_<metric>``, ``test_<metric>`` and ``val_pred``,
    ``test_pred`` of the chosen blend.
    """
    key = "rmse" if task == "regression" else "roc_auc"
    y_val, y_test = (torch.as_tensor(np.asarray(y, dtype=np.float64)).reshape(len(y), -1)
                     for y in (y_val, y_test))

    def mix(a, b, w):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if task == "regression":
            return w * a + (1 - w) * b
        return _logit(w * _sigmoid(a) + (1 - w) * _sigmoid(b))

    best = None
    for w in weights:
        val_pred = mix(first[0], second[0], w)
        val = score_predictions(torch.from_numpy(val_pred), y_val, task)
        if best is None or _better(val[key], best[1][key], task):
            best = (w, val, val_pred)
    w, val, val_pred = best
    test_pred = mix(first[1], second[1], w)
    test = score_predictions(torch.from_numpy(test_pred), y_test, task)
    return {"weight": w, **{f"val_{k}": v for k, v in val.items()},
            **{f"test_{k}": v for k, v in test.items()}, "val_pred": val_pred,
            "test_pred": test_pred}
