"""FISTA engine: datafit gradients, penalty proxes, objectives against cvxpy."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from skmtl._data import validate_fit_data
from skmtl.linear._datafits import LogisticLoss, MultinomialLoss, SplitDatafit, SquaredLoss
from skmtl.linear._fista import fista
from skmtl.linear._penalties import L1, L21, L1Inf, Ridge, SplitPenalty, TraceNorm


class _Holder(BaseEstimator):
    pass


def _data(shape, seed=0, sparse=False, classification=False):
    """Small problem in one of three input shapes, with sample weights."""
    rng = np.random.default_rng(seed)
    n, p, T = 30, 8, 4
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
    W = rng.standard_normal((p, T))
    sw = rng.uniform(0.5, 2.0, n)
    if shape == "long":
        sizes = [4, 6, 9, 11]
        task = np.repeat(np.arange(T), sizes)
        y = np.einsum("ij,ji->i", X, W[:, task]) + 0.5 * rng.standard_normal(n)
        if classification:
            y = (y > 0).astype(float)
        Xin = np.column_stack([X, task])
        Xin = sp.csr_matrix(Xin) if sparse else Xin
        d = validate_fit_data(_Holder(), Xin, y, sw, task_column=p, accept_sparse=("csr",) if sparse else False, classification=classification)
    else:
        Y = X @ W + 0.5 * rng.standard_normal((n, T))
        if classification:
            Y = (Y > 0).astype(float)
        if shape == "nan":
            Y[rng.random(Y.shape) < 0.25] = np.nan
            Y[0] = 1.0  # each task keeps observations
        Xin = sp.csr_matrix(X) if sparse else X
        d = validate_fit_data(_Holder(), Xin, Y, sw, accept_sparse=("csr",) if sparse else False, classification=classification)
    return d


def _cvx_loss(d, Wv, bv, omega, kind="squared"):
    """The datafit written from the raw observations, per task."""
    X = d.X.toarray() if sp.issparse(d.X) else d.X
    terms = []
    for t in range(d.n_tasks):
        s = d.task_slice(t)
        if s.stop == s.start:
            continue
        Xt, yt, om = X[d.rows[s]], d.y[s], omega[s]
        z = Xt @ Wv[:, t] + bv[t]
        if kind == "squared":
            terms.append(0.5 * cp.sum(cp.multiply(om, cp.square(yt - z))))
        else:
            sgn = np.where(yt > 0, 1.0, -1.0)
            terms.append(cp.sum(cp.multiply(om, cp.logistic(-cp.multiply(sgn, z)))))
    return cp.sum(cp.hstack(terms))


def _cvx_pen(name, a, W):
    return {
        "l1": lambda: a * cp.sum(cp.abs(W)),
        "l21": lambda: a * cp.sum(cp.norm(W, 2, axis=1)),
        "l1inf": lambda: a * cp.sum(cp.max(cp.abs(W), axis=1)),
        "trace": lambda: a * cp.normNuc(W),
        "ridge": lambda: 0.5 * a * cp.sum_squares(W),
    }[name]()


PEN = {"l1": L1, "l21": L21, "l1inf": L1Inf, "trace": TraceNorm, "ridge": Ridge}


def _solve(prob):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate" at 1e-11
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return prob.value


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
@pytest.mark.parametrize("pen", ["l1", "l21", "l1inf", "trace", "ridge"])
def test_squared_objective_matches_cvxpy(shape, pen):
    d = _data(shape)
    df = SquaredLoss(d, task_weight=None, fit_intercept=True)
    W0, b0 = df.init_coef()
    _, G0, _ = df.value_grad(W0, b0)
    a = 0.3 if pen == "ridge" else 0.2 * PEN[pen](1.0).alpha_max(G0)
    res = fista(df, PEN[pen](a), max_iter=20000, tol=1e-12)
    Wv, bv = cp.Variable((d.n_features, d.n_tasks)), cp.Variable(d.n_tasks)
    omega = d.sample_weight * d.n_tasks / d.sample_weight.sum()
    ref = _solve(cp.Problem(cp.Minimize(_cvx_loss(d, Wv, bv, omega) + _cvx_pen(pen, a, Wv))))
    assert res.converged
    assert abs(res.objective - ref) <= 1e-6 * abs(ref)
    if pen != "ridge":
        assert res.dual_gap is not None and res.dual_gap <= 1e-10 * abs(ref)
    else:
        assert res.dual_gap is None


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
def test_sparse_design_matches_dense(shape):
    import dataclasses

    ds = _data(shape, sparse=True)
    dd = dataclasses.replace(ds, X=ds.X.toarray())
    for task_weight in [None, "balanced", np.array([1.0, 2.0, 0.5, 1.0])]:
        a = SquaredLoss(dd, task_weight)
        b = SquaredLoss(ds, task_weight)
        ra = fista(a, L21(0.05), tol=1e-12, max_iter=5000)
        rb = fista(b, L21(0.05), tol=1e-12, max_iter=5000)
        np.testing.assert_allclose(ra.coef, rb.coef, atol=1e-7)


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
@pytest.mark.parametrize("kind", ["squared", "logistic", "multinomial"])
def test_gradients_match_finite_differences(shape, kind):
    rng = np.random.default_rng(1)
    if kind == "squared":
        df = SquaredLoss(_data(shape), task_weight="balanced")
    elif kind == "logistic":
        df = LogisticLoss(_data(shape, classification=True), task_weight=np.array([1.0, 2.0, 0.5, 1.0]))
    else:
        d = _data(shape)
        # three classes in tasks 0 and 2, two in 1 and 3
        for t in range(d.n_tasks):
            s = d.task_slice(t)
            K = 3 if t % 2 == 0 else 2
            d.y[s] = np.digitize(d.y[s], np.quantile(d.y[s], np.linspace(0, 1, K + 1)[1:-1]))
        d.y = d.y.astype(np.int64)
        df = MultinomialLoss(d, [3, 2, 3, 2])
    W = 0.3 * rng.standard_normal((df.design.n_features, df.design.n_columns))
    b = 0.3 * rng.standard_normal(df.design.n_columns)
    f, G, g = df.value_grad(W, b)
    E = rng.standard_normal(W.shape)
    e = rng.standard_normal(b.shape)
    h = 1e-6
    fd = (df.value(W + h * E, b + h * e) - df.value(W - h * E, b - h * e)) / (2 * h)
    assert fd == pytest.approx(np.sum(G * E) + np.sum(g * e), rel=1e-6, abs=1e-9)
    # the Lipschitz estimate bounds the curvature along random directions
    L = df.lipschitz()
    _, G2, g2 = df.value_grad(W + E, b + e)
    assert np.sqrt(np.sum((G2 - G) ** 2) + np.sum((g2 - g) ** 2)) <= L * np.sqrt(np.sum(E**2) + np.sum(e**2)) * 1.001


def test_proxes_match_cvxpy():
    rng = np.random.default_rng(2)
    V = rng.standard_normal((6, 4))
    for name, Pen in PEN.items():
        pen = Pen(0.7)
        U = cp.Variable(V.shape)
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(U - V) + 0.5 * _cvx_pen(name, 0.7, U)))
        _solve(prob)
        np.testing.assert_allclose(pen.prox(V, 0.5), U.value, atol=1e-6, err_msg=name)
        Wtest = rng.standard_normal(V.shape)
        assert pen.value(Wtest) == pytest.approx(_cvx_pen(name, 0.7, cp.Constant(Wtest)).value, rel=1e-10)


@pytest.mark.parametrize("pen", ["l1", "l21", "l1inf", "trace"])
def test_alpha_max_gives_zero(pen):
    df = SquaredLoss(_data("nan"))
    W0, b0 = df.init_coef()
    _, G0, _ = df.value_grad(W0, b0)
    am = PEN[pen](1.0).alpha_max(G0)
    res = fista(df, PEN[pen](am * (1 + 1e-9)), tol=1e-10)
    assert np.all(res.coef == 0)
    res = fista(df, PEN[pen](am * 0.95), tol=1e-10)
    assert np.any(res.coef != 0)


def test_split_penalty_matches_cvxpy():
    d = _data("long")
    df = SplitDatafit(SquaredLoss(d))
    res = fista(df, SplitPenalty(L1Inf(0.05), L1(0.03)), tol=1e-12, max_iter=20000)
    P, Q, bv = cp.Variable((8, 4)), cp.Variable((8, 4)), cp.Variable(4)
    omega = d.sample_weight * 4 / d.sample_weight.sum()
    obj = _cvx_loss(d, P + Q, bv, omega) + _cvx_pen("l1inf", 0.05, P) + _cvx_pen("l1", 0.03, Q)
    ref = _solve(cp.Problem(cp.Minimize(obj)))
    assert res.objective == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("restart", ["gradient", "function", None])
def test_restart_schemes_converge(restart):
    df = LogisticLoss(_data("wide", classification=True))
    res = fista(df, L21(0.02), tol=1e-9, max_iter=20000, restart=restart)
    ref = fista(df, L21(0.02), tol=1e-11, max_iter=50000)
    assert res.converged and res.dual_gap is None
    assert res.objective == pytest.approx(ref.objective, rel=1e-7)


def test_convergence_warning_names_max_iter():
    df = SquaredLoss(_data("wide"))
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        res = fista(df, TraceNorm(0.01), max_iter=1, tol=1e-12)
    assert res.n_iter == 1 and not res.converged
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fista(df, TraceNorm(0.01), max_iter=1, tol=1e-12, warn=False)


def test_no_intercept():
    d = _data("wide")
    df = SquaredLoss(d, fit_intercept=False)
    res = fista(df, TraceNorm(0.05), tol=1e-12, max_iter=10000)
    Wv = cp.Variable((8, 4))
    omega = d.sample_weight * 4 / d.sample_weight.sum()
    ref = _solve(cp.Problem(cp.Minimize(_cvx_loss(d, Wv, np.zeros(4), omega) + 0.05 * cp.normNuc(Wv))))
    assert np.all(res.intercept == 0)
    assert res.objective == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("task_weight", [None, "balanced", np.array([1.0, 2.0, 0.5, 1.0])])
def test_gram_datafit_matches_residual_datafit(fit_intercept, task_weight):
    from skmtl.linear._datafits import SquaredLossGram, make_squared_loss

    d = _data("wide")
    gram = make_squared_loss(d, task_weight, fit_intercept)
    assert isinstance(gram, SquaredLossGram)
    ref = SquaredLoss(d, task_weight, fit_intercept)
    assert gram.lipschitz() == pytest.approx(ref.lipschitz(), rel=2e-2)
    for pen in [TraceNorm(0.05), L21(0.05), SplitPenalty(L1Inf(0.1), L1(0.03))]:
        dg, dr = (SplitDatafit(gram), SplitDatafit(ref)) if isinstance(pen, SplitPenalty) else (gram, ref)
        a = fista(dg, pen, tol=1e-12, max_iter=20000)
        b = fista(dr, pen, tol=1e-12, max_iter=20000)
        assert a.objective == pytest.approx(b.objective, rel=1e-9)
        np.testing.assert_allclose(a.intercept, b.intercept, atol=1e-6)
        W = pen.combine(a.coef) if isinstance(pen, SplitPenalty) else a.coef
        assert gram.mean_loss(W, a.intercept) == pytest.approx(ref.mean_loss(W, a.intercept), rel=1e-10)
    # no Gram form when the tasks do not share the design
    assert isinstance(make_squared_loss(_data("nan"), task_weight, fit_intercept), SquaredLoss)


@pytest.mark.parametrize("shape", [(30, 7), (7, 30)])
@pytest.mark.parametrize("spread", [1.0, 1e-6])
def test_trace_prox_matches_svd_thresholding(shape, spread):
    rng = np.random.default_rng(4)
    U, _ = np.linalg.qr(rng.standard_normal((shape[0], 7)))
    V, _ = np.linalg.qr(rng.standard_normal((shape[1], 7)))
    s = np.geomspace(10.0, 10.0 * spread, 7) if spread < 1 else rng.uniform(1, 10, 7)
    W = (U * s) @ V.T
    assert W.shape == shape
    tau = 0.5 * s.min() if spread < 1 else 3.0
    Uw, sw, Vtw = np.linalg.svd(W, full_matrices=False)
    ref = (Uw * np.maximum(sw - tau, 0)) @ Vtw
    np.testing.assert_allclose(TraceNorm(1.0).prox(W, tau), ref, atol=1e-12 * s.max())
    assert TraceNorm(1.0).dual_norm(W) == pytest.approx(sw[0], rel=1e-12)
