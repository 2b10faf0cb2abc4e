"""L2,1 (multi-task group lasso) solver and estimators."""


import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso

from skmtl._data import validate_fit_data
from skmtl.linear._l21 import L21Regressor
from skmtl.linear._path import l21_alpha_max, l21_path


class _Dummy(BaseEstimator):
    pass


def _problem(seed=0, n=40, p=15, T=3, nan_frac=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = np.zeros((p, T))
    W[:4] = rng.standard_normal((4, T))
    Y = X @ W + 0.5 * rng.standard_normal((n, T)) + rng.standard_normal(T)
    if nan_frac:
        mask = rng.random((n, T)) < nan_frac
        mask[0] = False
        Y[mask] = np.nan
    return X, Y


def _long(X, Y, drop=None, seed=0):
    """Long form (task column 0) of wide data; ``drop`` removes a fraction of rows."""
    n, T = Y.shape
    rng = np.random.default_rng(seed)
    rows, tasks = np.nonzero(~np.isnan(Y))
    keep = np.ones(len(rows), bool) if drop is None else rng.random(len(rows)) >= drop
    rows, tasks = rows[keep], tasks[keep]
    Xl = np.column_stack([tasks, X[rows]])
    return Xl, Y[rows, tasks], rows


def _objective(data, omega, coef, intercept, alpha):
    task = data.task_of_obs
    pred = np.einsum("ij,ij->i", np.asarray(data.X[data.rows].todense() if sp.issparse(data.X) else data.X[data.rows]), coef[task])
    r = data.y - pred - intercept[task]
    return 0.5 * omega @ r**2 + alpha * np.linalg.norm(coef, axis=0).sum()


def _cvxpy_objective(data, omega, alpha, fit_intercept=True):
    cp = pytest.importorskip("cvxpy")
    X = data.X.toarray() if sp.issparse(data.X) else np.asarray(data.X, dtype=np.float64)
    p, T = data.n_features, data.n_tasks
    W = cp.Variable((p, T))
    b = cp.Variable(T)
    terms = []
    for t in range(T):
        s = data.task_slice(t)
        if s.stop == s.start:
            continue
        pred = X[data.rows[s]] @ W[:, t] + (b[t] if fit_intercept else 0)
        terms.append(cp.sum(cp.multiply(omega[s], cp.square(data.y[s] - pred))))
    obj = 0.5 * cp.sum(cp.hstack(terms)) + alpha * cp.sum(cp.norm(W, 2, axis=1))
    prob = cp.Problem(cp.Minimize(obj))
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return prob.value


def _check_vs_cvxpy(est, X, y, sample_weight=None, alpha_frac=0.2):
    data = validate_fit_data(_Dummy(), X, y, sample_weight, task_column=est.task_column,
                             accept_sparse=("csc", "csr"), dtype=(np.float64, np.float32))
    omega = data.observation_weights(est.task_weight)
    amax = l21_alpha_max(data, fit_intercept=est.fit_intercept, task_weight=est.task_weight)
    est.set_params(alpha=alpha_frac * amax, tol=1e-12, max_iter=100000)
    est.fit(X, y, sample_weight=sample_weight)
    ours = _objective(data, omega, est.coef_, est.intercept_, est.alpha)
    ref = _cvxpy_objective(data, omega, est.alpha, est.fit_intercept)
    assert ours <= ref * (1 + 1e-6)
    assert abs(ours - ref) / abs(ref) < 1e-6
    return est


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_cvxpy_wide_complete(fit_intercept):
    X, Y = _problem(0)
    _check_vs_cvxpy(L21Regressor(fit_intercept=fit_intercept), X, Y)


def test_cvxpy_wide_nan_sample_weight():
    X, Y = _problem(1, nan_frac=0.3)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, X.shape[0])
    _check_vs_cvxpy(L21Regressor(), X, Y, sample_weight=sw)


def test_cvxpy_long_unequal_balanced():
    X, Y = _problem(2, n=50)
    Xl, yl, _ = _long(X, Y, drop=0.4)
    # one small task
    keep = ~((Xl[:, 0] == 2) & (np.arange(len(yl)) % 3 != 0))
    est = L21Regressor(task_column=0, task_weight="balanced")
    sw = np.random.default_rng(2).uniform(0.5, 1.5, keep.sum())
    _check_vs_cvxpy(est, Xl[keep], yl[keep], sample_weight=sw)


def test_cvxpy_task_weight_array_sparse():
    X, Y = _problem(3, nan_frac=0.1)
    X[np.abs(X) < 0.8] = 0.0
    est = L21Regressor(task_weight=np.array([1.0, 2.0, 0.5]))
    _check_vs_cvxpy(est, sp.csc_matrix(X), Y, alpha_frac=0.1)


def test_cvxpy_complete_row_weights():
    X, Y = _problem(4)
    sw = np.random.default_rng(4).uniform(0.0, 2.0, X.shape[0])
    _check_vs_cvxpy(L21Regressor(task_weight=np.array([1.0, 3.0, 1.0])), X, Y, sample_weight=sw)


def test_same_as_sklearn_multitask_lasso():
    X, Y = _problem(5, n=60, p=30, T=4)
    for fit_intercept in (True, False):
        alpha = 0.1 * l21_alpha_max(X, Y, fit_intercept=fit_intercept)
        ours = L21Regressor(alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=100000).fit(X, Y)
        ref = MultiTaskLasso(alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000).fit(X, Y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-7)
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-7)


@pytest.mark.parametrize("nan_frac", [0.0, 0.2])
def test_sparse_equals_dense(nan_frac):
    X, Y = _problem(6, nan_frac=nan_frac)
    X[np.abs(X) < 1.0] = 0.0
    a = L21Regressor(0.05, tol=1e-12, max_iter=100000).fit(X, Y)
    for fmt in (sp.csc_matrix, sp.csr_matrix):
        b = L21Regressor(0.05, tol=1e-12, max_iter=100000).fit(fmt(X), Y)
        np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
        np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-8)


@pytest.mark.parametrize("sparse", [False, True])
def test_float32(sparse):
    X, Y = _problem(7)
    X32 = X.astype(np.float32)
    Xin = sp.csc_matrix(X32) if sparse else X32
    m32 = L21Regressor(0.05, tol=1e-6).fit(Xin, Y)
    m64 = L21Regressor(0.05, tol=1e-8).fit(X, Y)
    assert m32.coef_.dtype == np.float64
    np.testing.assert_allclose(m32.coef_, m64.coef_, atol=1e-4)


def test_alpha_max_gives_zero():
    X, Y = _problem(8, nan_frac=0.2)
    for tw in (None, "balanced"):
        amax = l21_alpha_max(X, Y, task_weight=tw)
        m = L21Regressor(amax, task_weight=tw, tol=1e-10).fit(X, Y)
        assert np.all(m.coef_ == 0)
        m = L21Regressor(amax * 0.99, task_weight=tw, tol=1e-10).fit(X, Y)
        assert np.any(m.coef_ != 0)


def test_wide_equals_long():
    X, Y = _problem(9, nan_frac=0.25)
    Xl, yl, _ = _long(X, Y)
    a = L21Regressor(0.05, tol=1e-12, max_iter=100000).fit(X, Y)
    b = L21Regressor(0.05, tol=1e-12, max_iter=100000, task_column=0).fit(Xl, yl)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-8)
    np.testing.assert_allclose(a.predict(X)[~np.isnan(Y)], b.predict(Xl), atol=1e-7)


def test_convergence_warning():
    X, Y = _problem(10, n=30, p=40)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        m = L21Regressor(0.01, max_iter=1, tol=1e-12).fit(X, Y)
    assert m.n_iter_ == 1 and m.dual_gap_ > 0


def test_warm_start_and_attributes():
    X, Y = _problem(11)
    m = L21Regressor(0.05, warm_start=True, tol=1e-10).fit(X, Y)
    n1 = m.n_iter_
    m.fit(X, Y)
    assert m.n_iter_ <= max(n1, 1)
    assert m.coef_.shape == (3, 15) and m.intercept_.shape == (3,)
    assert m.dual_gap_ >= -1e-12


def test_path_matches_single_fits():
    X, Y = _problem(12, nan_frac=0.1)
    alphas, coefs, gaps, intercepts = l21_path(X, Y, n_alphas=5, eps=1e-2, tol=1e-12,
                                               max_iter=100000, return_intercept=True)
    assert coefs.shape == (5, 3, 15) and intercepts.shape == (5, 3)
    assert np.all(np.diff(alphas) < 0)
    assert np.all(coefs[0] == 0)
    for k in (1, 4):
        m = L21Regressor(alphas[k], tol=1e-12, max_iter=100000).fit(X, Y)
        np.testing.assert_allclose(coefs[k], m.coef_, atol=1e-8)
        np.testing.assert_allclose(intercepts[k], m.intercept_, atol=1e-8)


def test_empty_task_in_fold():
    X, Y = _problem(13)
    data = validate_fit_data(_Dummy(), X, Y)
    Xl, yl, rows = _long(X, Y)
    keep = ~((Xl[:, 0] == 1) & (rows < 30))
    data = validate_fit_data(_Dummy(), Xl[keep], yl[keep], task_column=0)
    sub = data.subset_rows(np.flatnonzero(rows[keep] < 30))
    assert np.diff(sub.task_ptr)[1] == 0
    alphas, coefs, gaps, icpt = l21_path(sub, alphas=[0.05, 0.01], return_intercept=True)
    assert np.all(coefs[:, 1] == 0) and np.all(icpt[:, 1] == 0)
    assert np.all(np.isfinite(coefs))


def test_input_not_modified():
    X, Y = _problem(14, nan_frac=0.1)
    X0, Y0 = X.copy(), Y.copy()
    L21Regressor(0.05).fit(X, Y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fused_full_gradient_matches_blas(dtype, weighted, fit_intercept):
    """The Numba full gradient of the shared dense mode equals the BLAS one."""
    from skmtl.linear import L21Solver
    from skmtl.linear._bcd_kernels import _full_grad_shared_dense
    from skmtl.linear._kkt import _norms

    X, Y = _problem(3, n=50, p=30, T=5)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, 50) if weighted else None
    data = validate_fit_data(_Dummy(), X.astype(dtype), Y, sw, dtype=(np.float64, np.float32))
    s = L21Solver(data, fit_intercept=fit_intercept, precompute=False)
    assert s._fused_grad
    s.solve(0.1 * s.alpha_max(), tol=1e-3)
    M, r = s._weighted_residual()
    G = s.neg_gradient(M)
    fit, cross = s._objective_terms(r)
    G2, gn, wn, fit2, cross2 = _full_grad_shared_dense(s._Xd, s._R2, s._c, s._u, s._v, s._mu, s.W, s._Yc)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(G2, G, rtol=rtol, atol=rtol * np.abs(G).max())
    np.testing.assert_allclose(np.c_[gn, wn], np.c_[_norms(G), _norms(s.W)], rtol=rtol, atol=rtol * np.abs(G).max())
    np.testing.assert_allclose([fit2, cross2], [fit, cross], rtol=1e-12)


@pytest.mark.parametrize("T", [4, 5, 7, 10])
@pytest.mark.parametrize("p", [9, 10])
def test_pair_epoch_equals_one_feature_at_a_time(T, p):
    """The two-features-per-pass epoch gives the iterates of plain cyclic BCD."""
    from skmtl.linear import L21Solver
    from skmtl.linear._bcd_kernels import _epoch_shared_dense

    X, Y = _problem(5, n=30, p=p, T=T)
    data = validate_fit_data(_Dummy(), X, Y)
    s = L21Solver(data, precompute=False)  # the residual kernels (not the Gram updates)
    s.solve(0.3 * s.alpha_max(), tol=1e-2)  # a state with zero and nonzero rows
    ws = np.array([0, 2, 1, 3, 5, 4] + list(range(6, p)), dtype=np.int64)
    states = []
    for const_u in (True, False):  # False: the reference loop (equal weights, same math)
        W, R2, c = s.W.copy(), s._R2.copy(), s._c.copy()
        viol = 0.0
        pen = s.penalty.rows(np.full(p, 0.25 * s.alpha_max()), np.zeros(p))  # group lasso
        for _ in range(3):
            viol = _epoch_shared_dense(ws, W, c, s._L, pen, s._Xd, R2, s._u, const_u,
                                       s._v, s._mu, s._xu, np.empty(T), np.empty(T))
        states.append((W, R2, c, viol))
    (W1, R1, c1, v1), (W2, R2_, c2, v2) = states
    assert np.any(W1 != 0) and np.any(np.all(W1 == 0, axis=1))
    np.testing.assert_allclose(W1, W2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(R1, R2_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c1, c2, rtol=1e-10, atol=1e-12)
    assert v1 == pytest.approx(v2, rel=1e-8)


@pytest.mark.parametrize("options", [
    {},
    {"fit_intercept": False},
    {"task_weight": np.array([1.0, 2.0, 0.5, 1.5])},
    {"l1_ratio": 0.6, "penalty_factor": np.r_[0.0, np.linspace(0.5, 2.0, 19)]},
    {"penalty": "group_mcp"},
    {"penalty": "group_scad", "penalty_factor": np.r_[0.0, 0.0, np.ones(18)]},
])
@pytest.mark.parametrize("weighted", [False, True])
def test_gram_updates_equal_residual_updates(options, weighted):
    """Covariance (Gram) updates give the iterates of the residual kernels, along a path and warm started."""
    from skmtl.linear import L21Solver

    rng = np.random.default_rng(7)
    X = rng.standard_normal((400, 20)) + rng.standard_normal(20)
    W = np.zeros((20, 4))
    W[:6] = rng.standard_normal((6, 4))
    Y = X @ W + rng.standard_normal((400, 4)) + 2.0
    sw = rng.uniform(0.2, 2.0, 400) if weighted else None
    data = validate_fit_data(_Dummy(), X, Y, sw)
    gram = L21Solver(data, precompute=True, **options)
    resid = L21Solver(data, precompute=False, **options)
    assert gram.mode != resid.mode
    assert gram.alpha_max() == pytest.approx(resid.alpha_max(), rel=1e-10)
    for frac in (0.5, 0.1, 0.02):
        alpha = frac * resid.alpha_max()
        g1, n1, _ = gram.solve(alpha, tol=1e-10)
        g2, n2, _ = resid.solve(alpha, tol=1e-10)
        np.testing.assert_allclose(gram.W, resid.W, atol=1e-9)
        np.testing.assert_allclose(gram.intercept, resid.intercept, atol=1e-9)
        assert gram.objective(alpha) == pytest.approx(resid.objective(alpha), rel=1e-10)
        assert np.any(gram.W != 0)
    start = resid.W * 0.5  # a warm start off the path
    gram.set_coef(start)
    resid.set_coef(start)
    gram.solve(0.05 * resid.alpha_max(), tol=1e-10)
    resid.solve(0.05 * resid.alpha_max(), tol=1e-10)
    np.testing.assert_allclose(gram.W, resid.W, atol=1e-9)


def test_gram_auto_only_on_tall_float64_complete():
    from skmtl.linear import L21Solver

    X, Y = _problem(8, n=200, p=10, T=3)
    tall = L21Solver(validate_fit_data(_Dummy(), X, Y))
    wide = L21Solver(validate_fit_data(_Dummy(), X[:15], Y[:15]))
    Yn = Y.copy()
    Yn[0, 0] = np.nan
    masked = L21Solver(validate_fit_data(_Dummy(), X, Yn))
    f32 = L21Solver(validate_fit_data(_Dummy(), X.astype(np.float32), Y, dtype=(np.float64, np.float32)))
    assert tall._gram and not (wide._gram or masked._gram or f32._gram)
    with pytest.raises(ValueError, match="precompute=True needs complete wide targets"):
        L21Solver(validate_fit_data(_Dummy(), X, Yn), precompute=True)


def test_solver_bad_options_are_named():
    from skmtl.linear import L21Solver

    X, Y = _problem(9)
    data = validate_fit_data(_Dummy(), X, Y)
    with pytest.raises(ValueError, match="precompute must be 'auto', True or False; got 'yes'"):
        L21Solver(data, precompute="yes")
    with pytest.raises(ValueError, match="penalty must be one of"):
        L21Solver(data, penalty="lasso")
    with pytest.raises(ValueError, match="l1_share must lie in"):
        L21Solver(data, penalty="sparse_group", l1_share=1.5)
    with pytest.raises(ValueError, match="gamma must be greater than 1 for group MCP"):
        L21Solver(data, penalty="group_mcp", gamma=0.5)
    with pytest.raises(ValueError, match=r"penalty_factor must be 15 finite non-negative values"):
        L21Solver(data, penalty_factor=np.ones(3))


def test_solve_criterion_kkt_and_bad_criterion():
    """criterion="kkt" stops a convex problem on its KKT violation; an unknown criterion is refused."""
    from skmtl.linear import L21Solver

    X, Y = _problem(4, n=40, p=12, T=3)
    data = validate_fit_data(_Dummy(), X, Y)
    s = L21Solver(data, precompute=False)  # the residual state (the gradient read here)
    alpha = 0.2 * s.alpha_max()
    gap, _, converged = s.solve(alpha, tol=1e-8, criterion="kkt")
    assert converged
    M, _ = s._weighted_residual()
    assert s.kkt_violation(alpha, s.neg_gradient(M)) <= 1e-8 * s._grad0_scale() * (1 + 1e-6)
    with pytest.raises(ValueError, match="criterion must be 'gap' or 'kkt'; got 'dual'"):
        s.solve(alpha, criterion="dual")


def _correlated(seed, n, p, T, rho):
    """Features with correlation ``rho^|j - k|`` (slow for coordinate descent) and a row-sparse model."""
    rng = np.random.default_rng(seed)
    C = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(C).T
    W = np.zeros((p, T))
    W[:8] = rng.standard_normal((8, T))
    return X, X @ W + rng.standard_normal((n, T))


@pytest.mark.parametrize("layout", ["gram", "dense", "dense_pairs", "sparse", "observations"])
def test_anderson_extrapolation_reaches_the_same_solution_in_fewer_epochs(layout):
    """``use_acc=True`` against plain block coordinate descent, on each data layout of the kernels (its history
    holds the coefficients, the residual and the offsets of each iterate): the same solution, fewer epochs."""
    from skmtl.linear import L21Solver

    n, p, T = (300, 40, 3) if layout == "gram" else (80, 120, 5 if layout == "dense_pairs" else 3)
    X, Y = _correlated(11, n, p, T, 0.97)
    if layout == "sparse":
        X = sp.csc_matrix(np.where(np.abs(X) > 0.3, X, 0.0))
    if layout == "observations":
        Y[np.random.default_rng(2).random(Y.shape) < 0.2] = np.nan
    data = validate_fit_data(_Dummy(), X, Y, accept_sparse="csc")
    fits = []
    for use_acc in (True, False):
        s = L21Solver(data, precompute=layout == "gram")
        alpha = 0.02 * s.alpha_max()
        gap, n_iter, conv = s.solve(alpha, tol=1e-11, max_iter=100000, use_acc=use_acc)
        assert conv
        fits.append((s.W.copy(), s.intercept.copy(), n_iter, s.objective(alpha)))
    (W1, b1, e1, o1), (W2, b2, e2, o2) = fits
    assert o1 == pytest.approx(o2, rel=1e-9)
    scale = np.abs(W2).max()
    np.testing.assert_allclose(W1, W2, atol=1e-4 * scale)
    np.testing.assert_allclose(b1, b2, atol=1e-4 * scale)
    assert e1 < 0.8 * e2, (e1, e2)


def test_one_off_fits_of_small_problems_skip_the_extrapolation(monkeypatch):
    """An estimator's single fit asks for NumPy KKT statistics, and plain coordinate descent up to 1e5 =
    n_samples x n_features x n_tasks; paths keep the extrapolation."""
    from skmtl.linear import L21Solver

    calls = []
    real = L21Solver.solve
    monkeypatch.setattr(L21Solver, "solve", lambda self, alpha, **kw: calls.append(kw) or real(self, alpha, **kw))
    X, Y = _problem(3, n=50, p=40, T=50)  # 1e5
    L21Regressor().fit(X, Y)
    assert calls[-1]["kkt_numpy"] and not calls[-1]["use_acc"]
    X, Y = _problem(3, n=51, p=40, T=50)
    L21Regressor().fit(X, Y)
    assert calls[-1]["kkt_numpy"] and calls[-1]["use_acc"]
    calls.clear()
    l21_path(X[:, :10], Y[:, :3], n_alphas=3)
    assert calls and all("use_acc" not in kw and "kkt_numpy" not in kw for kw in calls)
