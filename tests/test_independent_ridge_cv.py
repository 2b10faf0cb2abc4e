"""IndependentRidgeCV: one ridge per task, the leave-one-out strength per task or shared."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV

from skmtl import IndependentRegressor, IndependentRidgeCV

ALPHAS = np.logspace(-2, 2, 5)


def make_data(n=24, p=6, T=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, T)) * np.array([0.3, 1.0, 3.0])[:T]
    return X, X @ W + rng.standard_normal((n, T)) * np.array([1.0, 0.5, 2.0])[:T]


def brute_loo_mse(X, y, alpha):
    """Leave-one-out mean squared error of Ridge(alpha) by n refits."""
    err = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        err.append((Ridge(alpha=alpha).fit(X[keep], y[keep]).predict(X[i:i + 1])[0] - y[i]) ** 2)
    return np.mean(err)


def test_shared_alpha_minimizes_the_summed_relative_loo_error_recomputed_by_refits():
    X, Y = make_data()
    Y[::4, 1] = np.nan  # missing targets: each task uses its observed rows only
    model = IndependentRidgeCV(alphas=ALPHAS).fit(X, Y)
    loo = np.empty((3, ALPHAS.size))
    var = np.empty(3)
    for t in range(3):
        obs = ~np.isnan(Y[:, t])
        loo[t] = [brute_loo_mse(X[obs], Y[obs, t], a) for a in ALPHAS]
        var[t] = Y[obs, t].var()
    np.testing.assert_allclose(model.cv_errors_, loo, rtol=1e-8)
    assert model.alpha_ == ALPHAS[np.argmin((loo / var[:, None]).sum(axis=0))]
    # per task the choices differ, so sharing the strength is a real constraint here
    assert len(set(ALPHAS[np.argmin(loo, axis=1)])) > 1
    for t in range(3):
        obs = ~np.isnan(Y[:, t])
        ridge = Ridge(alpha=model.alpha_).fit(X[obs], Y[obs, t])
        np.testing.assert_allclose(model.predict(X)[:, t], ridge.predict(X), rtol=1e-10)


def test_alpha_per_task_is_independent_ridge_cv():
    X, Y = make_data(seed=1)
    model = IndependentRidgeCV(alphas=ALPHAS, alpha_per_task=True).fit(X, Y)
    ref = IndependentRegressor(RidgeCV(alphas=ALPHAS)).fit(X, Y)
    np.testing.assert_array_equal(model.alpha_, [e.alpha_ for e in ref.estimators_])
    np.testing.assert_allclose(model.predict(X), ref.predict(X), rtol=1e-12)


def test_long_input_equals_wide_input_with_missing_targets():
    X, Y = make_data(seed=2)
    Y[1::5, 0] = np.nan
    rows, tasks = np.nonzero(~np.isnan(Y))
    XL = np.column_stack([X[rows], tasks])
    wide = IndependentRidgeCV(alphas=ALPHAS).fit(X, Y)
    long = IndependentRidgeCV(alphas=ALPHAS, task_column=-1).fit(XL, Y[rows, tasks])
    assert wide.alpha_ == long.alpha_
    np.testing.assert_allclose(long.predict(XL), wide.predict(X)[rows, tasks], rtol=1e-10)


def test_bad_alphas_and_tiny_tasks_name_the_estimator():
    X, Y = make_data()
    with pytest.raises(ValueError, match="IndependentRidgeCV: alphas must be .* positive"):
        IndependentRidgeCV(alphas=[0.1, -1.0]).fit(X, Y)
    Y[1:, 2] = np.nan
    with pytest.raises(ValueError, match="IndependentRidgeCV: task 2 has 1 sample"):
        IndependentRidgeCV().fit(X, Y)
