"""transfer_report and pareto_front: per-task comparisons that can fail."""

import numpy as np
import pytest
from joblib import parallel_backend
from scipy import stats
from sklearn.base import BaseEstimator
from sklearn.linear_model import LinearRegression

from skmtl import IndependentRegressor, PooledRegressor
from skmtl._data import split_task_column
from skmtl.model_selection._pareto import is_pareto_efficient, pareto_front
from skmtl.model_selection._transfer import transfer_report

pd = pytest.importorskip("pandas")


def _opposite_tasks(n=90, seed=0):
    """Task 0 and 1 share their slope, task 2 has the opposite one."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    w = np.array([1.0, -2.0, 0.5])
    Y = np.column_stack([X @ w, X @ w, -(X @ w)]) + 0.2 * rng.normal(size=(n, 3))
    return X, Y


def test_negative_transfer_flagged_on_the_odd_task():
    X, Y = _opposite_tasks()
    # full sharing with per-task intercepts: one slope for all tasks
    report = transfer_report(PooledRegressor(), X, Y, cv=5)
    assert list(report.index) == [0, 1, 2]
    assert report.loc[2, "negative_transfer"]
    assert report.loc[2, "ci_high_independent"] < 0
    assert report.loc[2, "model"] < report.loc[2, "independent"]
    # an estimator identical to the baseline never differs
    same = transfer_report(IndependentRegressor(), X, Y, cv=5)
    assert np.allclose(same["diff_independent"], 0) and not same["negative_transfer"].any()


def test_ci_is_the_corrected_t_interval():
    X, Y = _opposite_tasks()
    report = transfer_report(PooledRegressor(), X, Y, cv=5, confidence=0.9)
    s = report.attrs["fold_scores"]
    d = s["model"][:, 2] - s["independent"][:, 2]
    half = stats.t.ppf(0.95, 4) * d.std(ddof=1) * np.sqrt(1 / 5 + 18 / 72)
    assert report.loc[2, "diff_independent"] == pytest.approx(d.mean())
    assert report.loc[2, "ci_low_independent"] == pytest.approx(d.mean() - half)
    assert report.loc[2, "ci_high_independent"] == pytest.approx(d.mean() + half)


def test_wide_and_long_give_the_same_scores():
    X, Y = _opposite_tasks(60)
    Y[::5, 1] = np.nan
    n, T = Y.shape
    folds = [(np.setdiff1d(np.arange(n), te), te) for te in np.array_split(np.arange(n), 3)]
    wide = transfer_report(PooledRegressor(), X, Y, cv=folds)
    # long form: task t row i at position t * n + i, missing targets kept as NaN
    Xl = pd.DataFrame(np.tile(X, (T, 1)), columns=["a", "b", "c"])
    Xl["task"] = np.repeat(["t0", "t1", "t2"], n)
    yl = Y.T.ravel()
    lfolds = [(np.concatenate([tr + t * n for t in range(T)]), np.concatenate([te + t * n for t in range(T)])) for tr, te in folds]
    long = transfer_report(PooledRegressor(), Xl, yl, cv=lfolds, task_column="task")
    assert list(long.index) == ["t0", "t1", "t2"]
    cols = ["model", "independent", "pooled", "diff_independent", "ci_high_independent"]
    np.testing.assert_allclose(long[cols].to_numpy(), wide[cols].to_numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(long["n_obs"], wide["n_obs"])


def test_long_default_folds_and_parallel_equal_serial():
    X, Y = _opposite_tasks(40)
    Xl = np.column_stack([np.tile(X, (2, 1)), np.repeat([0, 1], 40)])
    yl = np.concatenate([Y[:, 0], Y[:, 2]])
    serial = transfer_report(PooledRegressor(), Xl, yl, task_column=3, cv=4, scoring="neg_mean_absolute_error")
    with parallel_backend("threading", n_jobs=2):
        par = transfer_report(PooledRegressor(), Xl, yl, task_column=3, cv=4, scoring="neg_mean_absolute_error", n_jobs=2)
    pd.testing.assert_frame_equal(serial, par)
    assert serial.loc[1, "negative_transfer"]


def test_scoring_takes_names_scorers_and_metrics_alike():
    # one convention with the *CV estimators: a scorer(estimator, X, y); names of scikit-learn
    # and skmtl scorers; a metric(y_true, y_pred) still works
    from sklearn.metrics import make_scorer, mean_absolute_error, median_absolute_error, r2_score

    X, Y = _opposite_tasks(60)
    folds = [(np.setdiff1d(np.arange(60), te), te) for te in np.array_split(np.arange(60), 3)]

    def scores(scoring):
        return transfer_report(PooledRegressor(), X, Y, cv=folds, scoring=scoring).attrs["fold_scores"]["model"]

    r2 = scores("r2")
    for same in ("task_r2", make_scorer(r2_score), r2_score, lambda est, X_, y: r2_score(y, est.predict(X_))):
        np.testing.assert_allclose(scores(same), r2, rtol=1e-12)
    mae = scores("neg_mean_absolute_error")
    np.testing.assert_allclose(scores(make_scorer(mean_absolute_error, greater_is_better=False)), mae, rtol=1e-12)
    # a scikit-learn name outside the four built in, computed here per task and fold
    P = np.empty_like(Y)
    for tr, te in folds:
        P[te] = PooledRegressor().fit(X[tr], Y[tr]).predict(X[te])
    expect = [[-median_absolute_error(Y[te, t], P[te, t]) for t in range(3)] for _, te in folds]
    np.testing.assert_allclose(scores("neg_median_absolute_error"), expect, rtol=1e-12)


def test_transfer_report_errors():
    X, Y = _opposite_tasks(30)
    with pytest.raises(ValueError, match="scoring"):
        transfer_report(PooledRegressor(), X, Y, scoring="accuracy_of_vibes")
    with pytest.raises(ValueError, match="confidence"):
        transfer_report(PooledRegressor(), X, Y, confidence=1.5)


# --------------------------------------------------------------------------
# Pareto front
# --------------------------------------------------------------------------


def test_is_pareto_efficient():
    L = np.array([[1, 4], [2, 2], [3, 3], [4, 1], [2, 2], [np.nan, 0]])
    np.testing.assert_array_equal(is_pareto_efficient(L), [True, True, False, True, True, False])


def test_pareto_front_trades_tasks_off():
    X, Y = _opposite_tasks(120)
    res = pareto_front(PooledRegressor(), X, Y[:, 1:], n_weights=7)
    assert res.mode == "sample_weight"
    # more weight on task 0 gives task 0 a lower loss and task 1 a higher one
    order = np.argsort(res.all_task_weights[:, 0])
    L = res.all_losses[order]
    assert np.all(np.diff(L[:, 0]) < 0) and np.all(np.diff(L[:, 1]) > 0)
    assert res.is_efficient.all() and res.losses.shape == (7, 2)
    # an unpenalized model without sharing is not affected by task weights
    ind = pareto_front(IndependentRegressor(LinearRegression()), X, Y[:, 1:], n_weights=4)
    np.testing.assert_allclose(ind.all_losses, ind.all_losses[[0]].repeat(4, axis=0))


class _TaskWeightedPooled(PooledRegressor):
    """PooledRegressor with a ``task_weight`` parameter (long input only)."""

    def __init__(self, task_weight=None, *, task_column=None):
        self.task_weight = task_weight
        super().__init__(task_column=task_column)

    def fit(self, X, y, sample_weight=None):
        _, labels = split_task_column(X, self.task_column)
        codes = np.unique(labels, return_inverse=True)[1]
        sw = None if self.task_weight is None else np.asarray(self.task_weight)[codes]
        return super().fit(X, y, sample_weight=sw)


def test_pareto_task_weight_parameter_matches_sample_weights():
    X, Y = _opposite_tasks(60)
    Xl = np.column_stack([np.tile(X, (2, 1)), np.repeat([0, 1], 60)])
    yl = np.concatenate([Y[:, 1], Y[:, 2]])
    W = np.array([[1.5, 0.5], [1.0, 1.0], [0.5, 1.5]])
    a = pareto_front(_TaskWeightedPooled(task_column=3), Xl, yl, task_weights=W, cv=3)
    b = pareto_front(PooledRegressor(task_column=3), Xl, yl, task_weights=W, cv=3)
    assert a.mode == "task_weight" and b.mode == "sample_weight"
    np.testing.assert_allclose(a.all_losses, b.all_losses)


def test_pareto_errors():
    X, Y = _opposite_tasks(30)
    with pytest.raises(ValueError, match="task_weights"):
        pareto_front(PooledRegressor(), X, Y, task_weights=np.ones((2, 2)))

    class Plain(BaseEstimator):
        def fit(self, X, y):
            return self

    with pytest.raises(ValueError, match="neither a task_weight nor a task_column"):
        pareto_front(Plain(), X, Y)
