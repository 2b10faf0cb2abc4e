"""TraceNormRegressor(CV): objective against cvxpy, alpha_max, low-rank recovery."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmtl.linear import TraceNormRegressor, TraceNormRegressorCV

N, P, T = 30, 8, 4


def make_problem(shape, seed=0):
    """(fit args, per-task raw observations) in one of three input shapes.

    The raw observations ``(X_t, y_t, sw_t)`` are built here from the arrays,
    independently of skmtl's data layer.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, P))
    W = rng.standard_normal((P, 2)) @ rng.standard_normal((2, T))
    sw = rng.uniform(0.5, 2.0, N)
    if shape == "long":
        sizes = [4, 6, 9, 11]
        task = np.repeat(np.arange(T), sizes)
        y = np.einsum("ij,ji->i", X, W[:, task]) + 0.5 * rng.standard_normal(N) + task
        Xin = np.column_stack([X, task])
        raw = [(X[task == t], y[task == t], sw[task == t]) for t in range(T)]
        return (Xin, y, sw), {"task_column": P}, raw
    Y = X @ W + 0.5 * rng.standard_normal((N, T)) + np.arange(T)
    if shape == "nan":
        Y[rng.random(Y.shape) < 0.25] = np.nan
        Y[:2] = 1.0
    raw = []
    for t in range(T):
        m = ~np.isnan(Y[:, t])
        raw.append((X[m], Y[m, t], sw[m]))
    return (X, Y, sw), {}, raw


def raw_loss(raw, W, b):
    """``1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2`` with omega summing to n_tasks."""
    total = sum(s.sum() for _, _, s in raw)
    return sum(0.5 * len(raw) / total * np.sum(s * (y - X @ W[:, t] - b[t]) ** 2) for t, (X, y, s) in enumerate(raw))


def cvx_loss(raw, Wv, bv):
    total = sum(s.sum() for _, _, s in raw)
    return sum(
        0.5 * len(raw) / total * cp.sum(cp.multiply(s, cp.square(y - X @ Wv[:, t] - bv[t])))
        for t, (X, y, s) in enumerate(raw)
    )


def solve(prob, solver="CLARABEL"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if solver == "CLARABEL":
            prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
        else:
            prob.solve(solver="SCS", eps=1e-10, max_iters=200000)
    return prob.value


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
def test_objective_matches_cvxpy(shape):
    (X, y, sw), kw, raw = make_problem(shape)
    alpha = 0.3
    est = TraceNormRegressor(alpha, tol=1e-12, max_iter=20000, **kw).fit(X, y, sample_weight=sw)
    ours = raw_loss(raw, est.coef_.T, est.intercept_) + alpha * np.linalg.svd(est.coef_, compute_uv=False).sum()
    Wv, bv = cp.Variable((P, T)), cp.Variable(T)
    ref = solve(cp.Problem(cp.Minimize(cvx_loss(raw, Wv, bv) + alpha * cp.normNuc(Wv))))
    assert ours == pytest.approx(ref, rel=1e-6)
    assert est.objective_ == pytest.approx(ours, rel=1e-10)
    assert est.dual_gap_ is not None and est.dual_gap_ <= 1e-9 * ref
    assert 0 < est.rank_ <= T


def test_objective_matches_scs_without_weights():
    (X, Y, _), _, raw = make_problem("wide", seed=3)
    raw = [(Xt, yt, np.ones_like(yt)) for Xt, yt, _ in raw]
    alpha = 0.5
    est = TraceNormRegressor(alpha, fit_intercept=False, tol=1e-12, max_iter=20000).fit(X, Y)
    # 1/(2n) ||Y - XW||_F^2 + alpha ||W||_*, the documented scaling
    ours = 0.5 / N * np.sum((Y - X @ est.coef_.T) ** 2) + alpha * np.linalg.svd(est.coef_, compute_uv=False).sum()
    Wv = cp.Variable((P, T))
    ref = solve(cp.Problem(cp.Minimize(0.5 / N * cp.sum_squares(Y - X @ Wv) + alpha * cp.normNuc(Wv))), "SCS")
    assert ours == pytest.approx(ref, rel=1e-6)
    assert np.all(est.intercept_ == 0)


def test_wide_and_long_inputs_give_the_same_fit():
    (X, Y, sw), _, _ = make_problem("wide")
    long_X = np.column_stack([np.tile(X, (T, 1)), np.repeat(np.arange(T), N)])
    long_y = Y.T.ravel()
    a = TraceNormRegressor(0.2, tol=1e-12, max_iter=5000).fit(X, Y, sample_weight=sw)
    b = TraceNormRegressor(0.2, tol=1e-12, max_iter=5000, task_column=P).fit(long_X, long_y, sample_weight=np.tile(sw, T))
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-8)
    np.testing.assert_allclose(b.predict(long_X[N : N + 5]), a.predict(X[:5])[:, 1], atol=1e-8)


def test_alpha_max_gives_zero():
    (X, Y, sw), _, _ = make_problem("wide")
    omega = sw / sw.sum()
    R0 = Y - omega @ Y
    alpha_max = np.linalg.norm(X.T @ (omega[:, None] * R0), 2)
    est = TraceNormRegressor(alpha_max * (1 + 1e-8)).fit(X, Y, sample_weight=sw)
    assert np.all(est.coef_ == 0) and est.rank_ == 0
    np.testing.assert_allclose(est.intercept_, omega @ Y)
    est = TraceNormRegressor(alpha_max * 0.9).fit(X, Y, sample_weight=sw)
    assert est.rank_ == 1


def test_low_rank_recovery():
    rng = np.random.default_rng(5)
    n, p, t, r = 300, 20, 12, 2
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, r)) @ rng.standard_normal((r, t))
    Y = X @ W + 0.1 * rng.standard_normal((n, t))
    est = TraceNormRegressor(0.05, tol=1e-8).fit(X, Y)
    assert est.rank_ == r
    assert np.linalg.norm(est.coef_.T - W) / np.linalg.norm(W) < 0.05


def test_convergence_warning():
    (X, Y, _), _, _ = make_problem("wide")
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        est = TraceNormRegressor(0.01, max_iter=1, tol=1e-12).fit(X, Y)
    assert est.n_iter_ == 1


def test_bad_parameters():
    (X, Y, _), _, _ = make_problem("wide")
    with pytest.raises(ValueError, match="alpha"):
        TraceNormRegressor(-1.0).fit(X, Y)
    with pytest.raises(ValueError, match="max_iter"):
        TraceNormRegressor(max_iter=0).fit(X, Y)
    with pytest.raises(ValueError, match="task_weight"):
        TraceNormRegressor(task_weight="equal").fit(X, Y)


def test_cv_selects_from_the_grid_and_parallel_folds_agree():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((80, 10))
    W = rng.standard_normal((10, 1)) @ rng.standard_normal((1, 5))
    Y = X @ W + rng.standard_normal((80, 5))
    Y[rng.random(Y.shape) < 0.1] = np.nan
    a = TraceNormRegressorCV(n_alphas=8, cv=3).fit(X, Y)
    b = TraceNormRegressorCV(n_alphas=8, cv=3, n_jobs=2).fit(X, Y)
    assert a.alphas_.shape == (8,) and a.mse_path_.shape == (8, 3)
    assert a.alpha_ in a.alphas_
    assert a.alpha_ < a.alphas_[0]  # the signal is worth fitting
    np.testing.assert_allclose(a.mse_path_, b.mse_path_, rtol=1e-8)
    np.testing.assert_allclose(a.coef_, b.coef_)
    ref = TraceNormRegressor(a.alpha_, tol=1e-10).fit(X, Y)
    np.testing.assert_allclose(a.coef_, ref.coef_, atol=1e-6)
