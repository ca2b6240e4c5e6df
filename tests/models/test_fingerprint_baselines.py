"""Fingerprint baselines: settings chosen on validation, the networks' metrics, missing labels,
classification, and the error without scikit-learn."""
from __future__ import annotations

import builtins

import numpy as np
import pytest
import torch

from graphrnn.models.fingerprint_baselines import blend, fingerprint_baselines, fit_baselines

FAST = dict(trees=10, forest_grid=(("sqrt", 1), (0.5, 1)))


def _linear_data(n: int, seed: int):
    """Binary features, y = 2 x_0 - x_1 + noise: ridge should fit it, the mean cannot."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 16)) > 0.5).astype(np.float32)
    y = 2 * x[:, :1] - x[:, 1:2] + 0.05 * rng.normal(size=(n, 1))
    return x, y


def test_regression_rows_settings_chosen_on_validation_and_scored_on_test():
    (xt, yt), (xv, yv), (xs, ys) = (_linear_data(n, s) for n, s in ((80, 0), (30, 1), (30, 2)))
    yt[3, 0] = np.nan                                   # a missing label is left out
    rows = fit_baselines(xt, yt, xv, yv, xs, ys, **FAST)
    assert [r["method"] for r in rows] == ["mean", "ridge", "random forest"]
    mean, ridge, forest = rows
    assert mean["test_rmse"] == pytest.approx(float(np.sqrt(np.mean((ys - np.nanmean(yt)) ** 2))))
    assert ridge["test_rmse"] < 0.3 < mean["test_rmse"]
    assert ridge["setting"] in ("alpha=0.1", "alpha=1")           # little shrinkage wins
    assert forest["test_rmse"] < mean["test_rmse"] and forest["setting"].startswith("10 trees")
    for r in rows:
        assert {"val_rmse", "test_mae", "test_r2", "test_spearman"} <= set(r)
        assert r["test_pred"].shape == (30, 1)
    assert ridge["test_r2"] > 0.9


def test_forest_is_the_same_on_any_number_of_processes():
    (xt, yt), (xv, yv), (xs, ys) = (_linear_data(n, s) for n, s in ((60, 0), (20, 1), (20, 2)))
    one, two = (fit_baselines(xt, yt, xv, yv, xs, ys, methods=("random forest",), n_jobs=n,
                              **FAST)[0] for n in (1, 2))
    # the same trees; predict() sums their votes in another order on several processes
    assert one["setting"] == two["setting"]
    np.testing.assert_allclose(one["test_pred"], two["test_pred"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(one["val_pred"], two["val_pred"], rtol=1e-12, atol=1e-12)


def test_classification_scores_logits_with_roc_and_pr_auc():
    (xt, yt), (xv, yv), (xs, ys) = (_linear_data(n, s) for n, s in ((80, 0), (30, 1), (30, 2)))
    labels = [(y > 0.5).astype(float) for y in (yt, yv, ys)]
    rows = fit_baselines(xt, labels[0], xv, labels[1], xs, labels[2], task="classification",
                         **FAST)
    mean, ridge, forest = rows
    assert mean["test_roc_auc"] == pytest.approx(0.5)            # one score for all
    assert ridge["test_roc_auc"] > 0.9 and forest["test_roc_auc"] > 0.8
    assert 0 <= ridge["test_pr_auc"] <= 1 and ridge["setting"].startswith("alpha=")


def test_fingerprints_of_molecule_splits():
    from graphrnn.structures.molecule import from_smiles

    smiles = ["CCO", "CCCO", "CCCCO", "CCCCCO", "c1ccccc1", "c1ccccc1C", "CC(=O)O", "CCC(=O)O"]
    graphs = []
    for s in smiles:
        g = from_smiles(s)
        g.y = torch.tensor([[float(len(s))]])
        graphs.append(g)
    rows = fingerprint_baselines(graphs[:4], graphs[4:6], graphs[6:], methods=("mean",))
    assert rows[0]["test_pred"][0, 0] == pytest.approx(np.mean([3, 4, 5, 6]))


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch):
    real = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError(name)
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    x, y = _linear_data(10, 0)
    with pytest.raises(ImportError, match=r'graphrnn\[sklearn\]'):
        fit_baselines(x, y, x, y, x, y)


def test_unknown_method_and_task_are_refused():
    x, y = _linear_data(10, 0)
    with pytest.raises(ValueError, match="unknown baseline"):
        fit_baselines(x, y, x, y, x, y, methods=("svm",))
    with pytest.raises(ValueError, match="task"):
        fit_baselines(x, y, x, y, x, y, task="ranking")


def test_blend_weight_is_chosen_on_validation_and_scored_on_test():
    y_val, y_test = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([[0.0], [2.0]])
    good, bad = (y_val + 0.1, y_test + 0.1), (y_val[::-1].copy(), y_test[::-1].copy())
    out = blend(good, bad, y_val, y_test)
    assert out["weight"] == 1.0 and out["test_rmse"] == pytest.approx(0.1)
    # errors of opposite sign cancel in the half-half mean
    out = blend((y_val + 1, y_test + 1), (y_val - 1, y_test - 1), y_val, y_test)
    assert out["weight"] == 0.5 and out["test_rmse"] == pytest.approx(0.0)
    # classification averages probabilities: two equal logits give that logit back
    logits = (np.array([[2.0], [-2.0]]), np.array([[1.0], [-1.0]]))
    out = blend(logits, logits, np.array([[1.0], [0.0]]), np.array([[1.0], [0.0]]),
                task="classification")
    np.testing.assert_allclose(out["test_pred"], logits[1], rtol=1e-6)
    assert out["test_roc_auc"] == 1.0
