"""Robust multi-task regression (low rank + outlier tasks): cvxpy objective, outlier recovery."""

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.linear._robust import RobustMultiTaskRegressor
from test_relationship import _cvx_loss, _problem, _solve


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
def test_robust_matches_cvxpy(shape):
    args, kw, d = _problem(shape, seed=6)
    a, b = 0.3, 0.4
    est = RobustMultiTaskRegressor(a, b, tol=1e-12, max_iter=100000, **kw).fit(*args)
    L, S = cp.Variable((d.n_features, d.n_tasks)), cp.Variable((d.n_features, d.n_tasks))
    bv = cp.Variable(d.n_tasks)
    obj = _cvx_loss(d, L + S, bv) + a * cp.normNuc(L) + b * cp.sum(cp.norm(S, 2, axis=0))
    ref = _solve(cp.Problem(cp.Minimize(obj)))
    assert abs(est.objective_ - ref) <= 1e-6 * abs(ref)
    np.testing.assert_allclose(est.coef_, est.shared_coef_ + est.outlier_coef_)


def test_recovers_outlier_tasks():
    rng = np.random.default_rng(0)
    n, p, T = 100, 10, 20
    V = rng.standard_normal((2, T))
    V /= np.linalg.norm(V, axis=0)
    W = 1.5 * rng.standard_normal((p, 2)) @ V  # rank 2, columns of similar norm
    outliers = [2, 7, 13]
    W[:, outliers] = 1.5 * rng.standard_normal((p, 3))
    X = rng.standard_normal((n, p))
    Y = X @ W + 0.5 * rng.standard_normal((n, T))
    est = RobustMultiTaskRegressor(alpha=2.0, beta=1.2, tol=1e-5).fit(X, Y)
    assert sorted(est.outlier_tasks_.tolist()) == outliers
    assert est.rank_ == 2


def test_zero_when_strengths_large():
    args, kw, d = _problem("wide")
    est = RobustMultiTaskRegressor(1e4, 1e4).fit(*args)
    assert np.all(est.coef_ == 0) and est.outlier_tasks_.size == 0 and est.rank_ == 0
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        RobustMultiTaskRegressor(0.01, 0.01, max_iter=3, tol=1e-12).fit(*args)


@parametrize_with_checks([RobustMultiTaskRegressor()])
def test_sklearn_contract(estimator, check):
    check(estimator)
