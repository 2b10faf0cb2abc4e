"""fit_new_task: a new task fitted with the learned structure beats a fresh single-task model."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV

from skmtl._new_task import TaskEstimate
from skmtl.bayes import MultiTaskARDRegressor, TaskPosterior
from skmtl.datasets import make_multitask_regression
from skmtl.linear import (
    L21Regressor,
    L21RegressorCV,
    MeanRegularizedRegressor,
    TaskRelationshipRegressor,
    TraceNormRegressor,
    TraceNormRegressorCV,
)

D, T, N = 30, 10, 100


def _rmse_ratio(structure, make, n_new=10, seeds=(0, 1, 2)):
    """Mean held-out RMSE of fit_new_task over that of RidgeCV on the same rows."""
    ours, peer = [], []
    for seed in seeds:
        X, Y, coef = make_multitask_regression(N, D, T + 1, structure=structure, random_state=seed)
        model = make().fit(X, Y[:, :T])
        rng = np.random.default_rng(seed)
        Xn = rng.standard_normal((n_new, D))
        yn = Xn @ coef[T] + rng.standard_normal(n_new)
        Xt = rng.standard_normal((400, D))
        yt = Xt @ coef[T]
        est = model.fit_new_task(Xn, yn)
        ours.append(np.sqrt(np.mean((est.predict(Xt) - yt) ** 2)))
        ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(Xn, yn)
        peer.append(np.sqrt(np.mean((ridge.predict(Xt) - yt) ** 2)))
    return np.mean(ours) / np.mean(peer), est


@pytest.mark.parametrize("structure, make, bound", [
    ("row_sparse", lambda: L21RegressorCV(n_alphas=20), 0.8),
    ("row_sparse", lambda: L21Regressor(alpha=0.05), 0.8),
    ("low_rank", lambda: TraceNormRegressorCV(n_alphas=10), 0.3),
    ("low_rank", lambda: TraceNormRegressor(alpha=0.5), 0.3),
    ("mean", lambda: MeanRegularizedRegressor(alpha=1.0, beta=0.01), 0.5),
    ("mean", lambda: TaskRelationshipRegressor(alpha=0.01, beta=0.001), 0.5),
    ("row_sparse", lambda: MultiTaskARDRegressor(), 0.8),
], ids=["l21cv", "l21", "tracecv", "trace", "mean", "mtrl", "ard"])
def test_new_task_beats_fresh_ridge(structure, make, bound):
    ratio, est = _rmse_ratio(structure, make)
    assert ratio < bound
    assert est.coef_.shape == (D,)
    assert np.isfinite(est.intercept_)


def test_return_types_and_structure():
    X, Y, coef = make_multitask_regression(N, D, T, structure="row_sparse", random_state=0)
    rng = np.random.default_rng(0)
    Xn, yn = rng.standard_normal((8, D)), rng.standard_normal(8)
    l21 = L21Regressor(alpha=0.05).fit(X, Y)
    est = l21.fit_new_task(Xn, yn)
    assert isinstance(est, TaskEstimate)
    assert np.all(est.coef_[~np.any(l21.coef_ != 0, axis=0)] == 0)
    tn = TraceNormRegressor(alpha=1.0).fit(X, Y)
    est = tn.fit_new_task(Xn, yn)
    assert est.n_components_ == tn.rank_
    _, _, Vt = np.linalg.svd(tn.coef_)
    outside = Vt[tn.rank_:] @ est.coef_
    assert np.allclose(outside, 0, atol=1e-8)
    post = MultiTaskARDRegressor().fit(X, Y).fit_new_task(Xn, yn)
    assert isinstance(post, TaskPosterior)
    mean, std = post.predict(Xn, return_std=True)
    assert mean.shape == std.shape == (8,) and np.all(std > 0)


def test_sample_weight_zero_drops_rows():
    X, Y, _ = make_multitask_regression(N, D, T, structure="mean", random_state=1)
    model = MeanRegularizedRegressor(alpha=1.0, beta=0.01).fit(X, Y)
    rng = np.random.default_rng(1)
    Xn, yn = rng.standard_normal((9, D)), rng.standard_normal(9)
    sw = np.ones(9)
    sw[-1] = 0.0
    a = model.fit_new_task(Xn, yn, sample_weight=sw)
    b = model.fit_new_task(Xn[:-1], yn[:-1])
    assert np.allclose(a.coef_, b.coef_) and np.isclose(a.intercept_, b.intercept_)


def test_few_rows_give_the_prior_mean():
    X, Y, _ = make_multitask_regression(N, D, T, structure="mean", random_state=2)
    model = MeanRegularizedRegressor(alpha=1.0, beta=0.01).fit(X, Y)
    est = model.fit_new_task(np.ones((2, D)), [1.0, 2.0])
    assert np.allclose(est.coef_, model.coef_.mean(axis=0))
    assert est.alpha_ == np.inf


@pytest.mark.parametrize("model", [
    L21Regressor(alpha=0.05), TraceNormRegressor(alpha=1.0), MeanRegularizedRegressor(),
    TaskRelationshipRegressor(), MultiTaskARDRegressor(),
], ids=lambda m: type(m).__name__)
def test_input_errors(model):
    X, Y, _ = make_multitask_regression(40, 6, 3, structure="mean", random_state=0)
    with pytest.raises(Exception, match="not fitted"):
        type(model)().fit_new_task(X, Y[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        model.fit_new_task(X[:, :5], Y[:, 0])
    with pytest.raises(ValueError, match="1-D"):
        model.fit_new_task(X, Y)
    with pytest.raises(ValueError, match="rows but y_new has"):
        model.fit_new_task(X, Y[:-1, 0])
    y = Y[:, 0].copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        model.fit_new_task(X, y)
    Xb = X.copy()
    Xb[0, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        model.fit_new_task(Xb, Y[:, 0])
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit_new_task(X, Y[:, 0], sample_weight=np.ones(3))
    est = model.fit_new_task(X, Y[:, 0])
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :4])

