"""DirtyRegressor and SparseLowRankRegressor against cvxpy."""

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmtl.linear._composite import DirtyRegressor, SparseLowRankRegressor
from test_trace_norm import N, P, T, cvx_loss, make_problem, raw_loss, solve


def l1inf(W):
    return np.abs(W).max(axis=1).sum()


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
def test_dirty_objective_matches_cvxpy(shape):
    (X, y, sw), kw, raw = make_problem(shape)
    alpha, beta = 0.4, 0.15
    est = DirtyRegressor(alpha, beta, tol=1e-12, max_iter=50000, **kw).fit(X, y, sample_weight=sw)
    Pm, Qm = est.coef_shared_.T, est.coef_specific_.T
    np.testing.assert_allclose(est.coef_, (Pm + Qm).T)
    ours = raw_loss(raw, Pm + Qm, est.intercept_) + alpha * l1inf(Pm) + beta * np.abs(Qm).sum()
    Pv, Qv, bv = cp.Variable((P, T)), cp.Variable((P, T)), cp.Variable(T)
    pen = alpha * cp.sum(cp.max(cp.abs(Pv), axis=1)) + beta * cp.sum(cp.abs(Qv))
    ref = solve(cp.Problem(cp.Minimize(cvx_loss(raw, Pv + Qv, bv) + pen)))
    assert ours == pytest.approx(ref, rel=1e-6)
    assert est.dual_gap_ <= 1e-9 * ref
    # both parts are used in this regime
    assert np.any(Pm != 0) and np.any(Qm != 0)


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
def test_sparse_low_rank_objective_matches_cvxpy(shape):
    (X, y, sw), kw, raw = make_problem(shape, seed=1)
    alpha, beta = 0.3, 0.1
    est = SparseLowRankRegressor(alpha, beta, tol=1e-12, max_iter=50000, **kw).fit(X, y, sample_weight=sw)
    Lm, Sm = est.coef_lowrank_.T, est.coef_sparse_.T
    ours = raw_loss(raw, Lm + Sm, est.intercept_) + alpha * np.linalg.svd(Lm, compute_uv=False).sum() + beta * np.abs(Sm).sum()
    Lv, Sv, bv = cp.Variable((P, T)), cp.Variable((P, T)), cp.Variable(T)
    ref = solve(cp.Problem(cp.Minimize(cvx_loss(raw, Lv + Sv, bv) + alpha * cp.normNuc(Lv) + beta * cp.sum(cp.abs(Sv)))))
    assert ours == pytest.approx(ref, rel=1e-6)
    assert est.rank_ <= T


def test_strengths_at_alpha_max_give_zero():
    (X, Y, _), _, _ = make_problem("wide")
    R0 = Y - Y.mean(axis=0)
    G0 = X.T @ R0 / N
    a_inf, a_1, a_tr = np.abs(G0).sum(axis=1).max(), np.abs(G0).max(), np.linalg.norm(G0, 2)
    d = DirtyRegressor(a_inf * 1.0001, a_1 * 1.0001).fit(X, Y)
    assert np.all(d.coef_ == 0)
    d = DirtyRegressor(a_inf * 0.9, a_1 * 1.0001).fit(X, Y)
    assert np.any(d.coef_shared_ != 0) and np.all(d.coef_specific_ == 0)
    s = SparseLowRankRegressor(a_tr * 1.0001, a_1 * 1.0001).fit(X, Y)
    assert np.all(s.coef_ == 0)


def test_dirty_recovers_shared_support_and_outliers():
    rng = np.random.default_rng(3)
    n, p, t = 200, 30, 6
    X = rng.standard_normal((n, p))
    W = np.zeros((p, t))
    W[:4] = 1.0  # shared features, same magnitude across tasks
    W[10, 2] = -2.0  # a task-specific feature
    Y = X @ W + 0.1 * rng.standard_normal((n, t))
    est = DirtyRegressor(0.05, 0.02, tol=1e-8).fit(X, Y)
    shared_rows = np.flatnonzero(np.abs(est.coef_shared_).max(axis=0) > 1e-3)
    assert set(range(4)) <= set(shared_rows)
    assert abs(est.coef_[2, 10]) > 1.5
    assert est.score(X, Y) > 0.95


def test_convergence_warning():
    (X, Y, _), _, _ = make_problem("wide")
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        DirtyRegressor(0.01, 0.01, max_iter=1).fit(X, Y)
    with pytest.raises(ValueError, match="beta"):
        SparseLowRankRegressor(0.1, -1).fit(X, Y)
