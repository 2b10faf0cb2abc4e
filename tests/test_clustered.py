"""Clustered multi-task regression (convex CMTL): cvxpy objective, monotone alternation, planted clusters."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.datasets import make_multitask_regression
from skmtl.linear._clustered import ClusteredRegressor, cluster_structure_step
from test_relationship import _cvx_loss, _problem


def _cmtl_cvxpy(d, k, alpha, beta):
    T = d.n_tasks
    eta = beta / alpha
    c = alpha * eta * (1 + eta)
    Wv, bv = cp.Variable((d.n_features, T)), cp.Variable(T)
    M = cp.Variable((T, T), symmetric=True)
    cons = [M >> 0, np.eye(T) - M >> 0, cp.trace(M) == k]
    obj = _cvx_loss(d, Wv, bv) + 0.5 * c * cp.matrix_frac(Wv.T, eta * np.eye(T) + M)
    prob = cp.Problem(cp.Minimize(obj), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return prob.value


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
def test_clustered_matches_cvxpy_and_decreases(shape):
    args, kw, d = _problem(shape, seed=3)
    est = ClusteredRegressor(2, alpha=0.5, beta=0.05, tol=1e-12, max_iter=3000, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(*args)
    ref = _cmtl_cvxpy(d, 2, 0.5, 0.05)
    assert abs(est.objective_ - ref) <= 1e-6 * abs(ref)
    path = est.objective_path_
    assert len(path) > 2
    assert np.all(np.diff(path) <= 1e-12 * abs(path[0]))
    m = np.linalg.eigvalsh(est.task_structure_)
    assert np.isclose(m.sum(), 2.0) and m.min() > -1e-10 and m.max() < 1 + 1e-10


def test_structure_step_is_optimal():
    rng = np.random.default_rng(0)
    sigma = rng.exponential(size=7)
    for k, eta in [(1, 0.1), (3, 0.5), (6, 2.0)]:
        m = cluster_structure_step(sigma, k, eta)
        assert np.isclose(m.sum(), k) and m.min() >= 0 and m.max() <= 1
        mv = cp.Variable(7)
        prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(sigma, cp.inv_pos(eta + mv)))),
                          [cp.sum(mv) == k, mv >= 0, mv <= 1])
        prob.solve(solver="CLARABEL")
        assert np.sum(sigma / (eta + m)) <= prob.value * (1 + 1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_planted_clusters(seed):
    b = make_multitask_regression(50, 10, 12, structure="clustered", n_clusters=3, task_std=0.3,
                                  as_bunch=True, random_state=seed)
    est = ClusteredRegressor(3, alpha=1.0, beta=0.01, random_state=0).fit(b.X, b.y)
    assert adjusted_rand_score(b.clusters, est.task_clusters_) >= 0.9
    assert np.all(np.diff(est.objective_path_) <= 0)


def test_long_input_and_errors():
    b = make_multitask_regression(n_features=6, task_sizes=[20, 25, 30, 22], structure="clustered",
                                  n_clusters=2, as_bunch=True, random_state=0)
    X = np.column_stack([b.X, b.task])
    est = ClusteredRegressor(2, task_column=6, random_state=0).fit(X, b.y)
    assert est.coef_.shape == (4, 6) and est.task_clusters_.shape == (4,)
    assert est.predict(X).shape == (len(b.y),)
    with pytest.raises(ValueError, match="n_clusters"):
        ClusteredRegressor(0, task_column=6).fit(X, b.y)
    est5 = ClusteredRegressor(5, task_column=6).fit(X, b.y)
    np.testing.assert_allclose(est5.task_structure_, np.eye(4), atol=1e-12)
    with pytest.raises(ValueError, match="beta"):
        ClusteredRegressor(2, beta=0.0, task_column=6).fit(X, b.y)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        ClusteredRegressor(2, max_iter=1, tol=1e-12, task_column=6).fit(X, b.y)


@parametrize_with_checks([ClusteredRegressor(), ClusteredRegressor(n_clusters=1, tol=1e-4)])
def test_sklearn_contract(estimator, check):
    check(estimator)
