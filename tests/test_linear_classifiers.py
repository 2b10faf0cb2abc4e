"""L21Classifier and TraceNormClassifier (and their CVs) against cvxpy."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from skmtl.linear._classifiers import L21Classifier, L21ClassifierCV, TraceNormClassifier, TraceNormClassifierCV

N, P, T = 40, 6, 3


def make_problem(shape, multiclass, seed=0):
    """Labels per task; task 0 has three classes when ``multiclass``.

    Returns the fit arguments and the raw per-task observations
    ``(X_t, label codes, sw_t, n_classes)`` built without skmtl's data layer.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, P))
    S = X @ rng.standard_normal((P, T)) + rng.standard_normal((N, T))
    L = (S > 0).astype(float)
    if multiclass:
        L[:, 0] = np.digitize(S[:, 0], [-0.7, 0.7])
    sw = rng.uniform(0.5, 2.0, N)
    K = [3 if (multiclass and t == 0) else 2 for t in range(T)]
    if shape == "long":
        task = np.repeat(np.arange(T), [10, 13, 17])
        y = L[np.arange(N), task]
        y[:3] = [0, 1, 2] if multiclass else [0, 1, 0]  # rows of task 0
        raw = [(X[task == t], y[task == t].astype(int), sw[task == t], K[t]) for t in range(T)]
        return (np.column_stack([X, task]), y, sw), {"task_column": P}, raw
    if shape == "nan":
        L[rng.random(L.shape) < 0.2] = np.nan
        L[:3, 0] = [0, 1, 2] if multiclass else [0, 1, 0]
        L[:2, 1:] = [[0] * (T - 1), [1] * (T - 1)]
    raw = []
    for t in range(T):
        m = ~np.isnan(L[:, t])
        raw.append((X[m], L[m, t].astype(int), sw[m], K[t]))
    return (X, L, sw), {}, raw


def raw_objective(raw, coef, intercept, ptr):
    total = sum(s.sum() for _, _, s, _ in raw)
    f = 0.0
    for t, (X, y, s, K) in enumerate(raw):
        om = s * len(raw) / total
        Z = X @ coef[ptr[t] : ptr[t + 1]].T + intercept[ptr[t] : ptr[t + 1]]
        if K == 2:
            sgn = np.where(y > 0, 1.0, -1.0)
            f += np.sum(om * np.logaddexp(0, -sgn * Z[:, 0]))
        else:
            f += np.sum(om * (logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]))
    return f


def cvx_objective(raw, Wv, bv, ptr):
    total = sum(s.sum() for _, _, s, _ in raw)
    terms = []
    for t, (X, y, s, K) in enumerate(raw):
        om = s * len(raw) / total
        c0, c1 = ptr[t], ptr[t + 1]
        if K == 2:
            sgn = np.where(y > 0, 1.0, -1.0)
            z = X @ Wv[:, c0] + bv[c0]
            terms.append(cp.sum(cp.multiply(om, cp.logistic(-cp.multiply(sgn, z)))))
        else:
            Z = X @ Wv[:, c0:c1] + np.ones((len(y), 1)) @ cp.reshape(bv[c0:c1], (1, K), order="C")
            onehot = np.eye(K)[y]
            terms.append(cp.sum(cp.multiply(om, cp.log_sum_exp(Z, axis=1) - cp.sum(cp.multiply(onehot, Z), axis=1))))
    return cp.sum(cp.hstack(terms))


PEN = {
    "l21": (L21Classifier, lambda W: np.sqrt((W**2).sum(axis=1)).sum(), lambda W: cp.sum(cp.norm(W, 2, axis=1))),
    "trace": (TraceNormClassifier, lambda W: np.linalg.svd(W, compute_uv=False).sum(), cp.normNuc),
}


@pytest.mark.parametrize("shape", ["wide", "nan", "long"])
@pytest.mark.parametrize("multiclass", [False, True])
@pytest.mark.parametrize("pen, solver", [("l21", "fista"), ("l21", "prox_newton"), ("trace", None)])
def test_objective_matches_cvxpy(shape, multiclass, pen, solver):
    Est, pen_np, pen_cp = PEN[pen]
    (X, y, sw), kw, raw = make_problem(shape, multiclass)
    alpha = 0.05
    if solver is not None:
        kw["solver"] = solver
    est = Est(alpha, tol=1e-10, max_iter=50000, **kw).fit(X, y, sample_weight=sw)
    if solver is not None:
        assert est.solver_ == solver
    ptr = est.coef_ptr_
    assert ptr[-1] == (T + 2 if multiclass else T)
    W = est.coef_.T
    ours = raw_objective(raw, est.coef_, est.intercept_, ptr) + alpha * pen_np(W)
    Wv, bv = cp.Variable(W.shape), cp.Variable(W.shape[1])
    prob = cp.Problem(cp.Minimize(cvx_objective(raw, Wv, bv, ptr) + alpha * pen_cp(Wv)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert ours == pytest.approx(prob.value, rel=1e-6)
    assert est.objective_ == pytest.approx(ours, rel=1e-9)


@pytest.mark.parametrize("Est", [L21Classifier, TraceNormClassifier])
@pytest.mark.parametrize("shape", ["wide", "long"])
def test_probabilities_and_predictions(Est, shape):
    (X, y, sw), kw, _ = make_problem(shape, multiclass=True)
    est = Est(0.01, **kw).fit(X, y)
    proba = est.predict_proba(X)
    pred = est.predict(X)
    dec = est.decision_function(X)
    if shape == "wide":
        assert isinstance(proba, list) and [p.shape for p in proba] == [(N, 3), (N, 2), (N, 2)]
        for t, p in enumerate(proba):
            np.testing.assert_allclose(p.sum(axis=1), 1.0)
            assert np.all(p >= 0)
            np.testing.assert_array_equal(pred[:, t], est.classes_[t][p.argmax(axis=1)])
        assert dec[0].shape == (N, 3) and dec[1].shape == (N,)
        np.testing.assert_array_equal(dec[0].argmax(axis=1), proba[0].argmax(axis=1))
        np.testing.assert_array_equal(dec[1] > 0, proba[1][:, 1] > 0.5)
    else:
        task = X[:, P].astype(int)
        assert proba.shape == (N, 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert np.all(proba[task > 0, 2] == 0)
        for t in range(T):
            m = task == t
            np.testing.assert_array_equal(pred[m], est.classes_[t][proba[m].argmax(axis=1)])
    assert est.score(X, y) > 0.7


def test_binary_wide_decision_is_a_matrix_and_string_labels():
    (X, L, _), _, _ = make_problem("wide", multiclass=False)
    Ls = np.where(L > 0, "yes", "no").astype(object)
    est = L21Classifier(0.01).fit(X, Ls)
    assert est.coef_.shape == (T, P) and est.intercept_.shape == (T,)
    dec = est.decision_function(X)
    assert dec.shape == (N, T)
    np.testing.assert_array_equal(est.predict(X), np.where(dec > 0, "yes", "no"))


@pytest.mark.parametrize("Est", [L21Classifier, TraceNormClassifier])
def test_alpha_max_gives_zero(Est):
    (X, L, _), _, _ = make_problem("wide", multiclass=False)
    p = L.mean(axis=0)
    G0 = X.T @ (p - L) / N  # logistic gradient at W = 0 with optimal intercepts
    am = np.sqrt((G0**2).sum(axis=1)).max() if Est is L21Classifier else np.linalg.norm(G0, 2)
    est = Est(am * (1 + 1e-6)).fit(X, L)
    assert np.all(est.coef_ == 0)
    np.testing.assert_allclose(est.intercept_, np.log(p / (1 - p)))
    assert np.any(Est(am * 0.9).fit(X, L).coef_ != 0)


def test_single_class_task():
    (X, L, _), _, _ = make_problem("wide", multiclass=False)
    L[:, 2] = 1.0
    est = TraceNormClassifier(0.01).fit(X, L)
    assert est.coef_ptr_.tolist() == [0, 1, 2, 2]
    assert np.all(est.predict(X)[:, 2] == 1.0)
    np.testing.assert_allclose(est.predict_proba(X)[2], 1.0)


def test_convergence_warning():
    (X, L, _), _, _ = make_problem("wide", multiclass=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=1 "):
        L21Classifier(0.01, max_iter=1).fit(X, L)


@pytest.mark.parametrize("EstCV", [L21ClassifierCV, TraceNormClassifierCV])
def test_cv(EstCV):
    (X, y, _), kw, _ = make_problem("long", multiclass=True)
    est = EstCV(n_alphas=5, cv=3, n_jobs=2, **kw).fit(X, y)
    assert est.score_path_.shape == (5, 3)
    assert est.alpha_ in est.alphas_
    assert est.score(X, y) > 0.6


# ------------------------------------------------------------- solver choice

def _binary(n, p, T=3, seed=0, multiclass=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    S = X[:, :4] @ rng.standard_normal((4, T)) + 0.5 * rng.standard_normal((n, T))
    Y = (S > 0).astype(int)
    if multiclass:
        Y = np.argmax(S, axis=1)
    return X, Y


@pytest.mark.parametrize("multiclass", [False, True])
def test_auto_solver_rule(multiclass):
    """Binary tasks with p >= n at alpha >= alpha_max / 10 (the default): proximal Newton; else FISTA."""
    newton = "fista" if multiclass else "prox_newton"
    X, Y = _binary(30, 300, multiclass=multiclass)
    assert L21Classifier().fit(X, Y).solver_ == newton  # the default alpha: alpha_max / 10
    X, Y = _binary(300, 10, multiclass=multiclass)
    assert L21Classifier().fit(X, Y).solver_ == "fista"
    X, Y = _binary(60, 60, multiclass=multiclass)
    amax = L21Classifier().fit(X, Y).alpha_ / 0.1
    assert L21Classifier(amax / 4).fit(X, Y).solver_ == newton
    assert L21Classifier(amax / 20).fit(X, Y).solver_ == "fista"
    assert L21Classifier(penalty="group_mcp").fit(X, Y).solver_ == "prox_newton"
    assert TraceNormClassifier().fit(X, Y).solver_ == "fista"


@pytest.mark.parametrize("multiclass", [False, True])
def test_solvers_reach_the_same_model(multiclass):
    """Both solvers, NaN labels and weights: the same objective (1e-9) and coefficients."""
    X, Y = _binary(40, 200, multiclass=multiclass, seed=3)
    Y = Y.astype(float)
    rng = np.random.default_rng(1)
    if not multiclass:
        Y[rng.random(Y.shape) < 0.15] = np.nan
    sw = rng.uniform(0.5, 2.0, len(X))
    fits = {s: L21Classifier(0.02, solver=s, tol=1e-9, max_iter=100000).fit(X, Y, sample_weight=sw)
            for s in ("fista", "prox_newton")}
    a, b = fits["fista"], fits["prox_newton"]
    assert a.objective_ == pytest.approx(b.objective_, rel=1e-8)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-4)


def test_cv_path_switches_solver_and_matches_fista():
    """solver="auto" with p >= n: Newton on the strong prefix of the path, then FISTA; the same selection."""
    X, Y = _binary(60, 120, seed=4)
    auto = L21ClassifierCV(n_alphas=6, cv=3, tol=1e-8).fit(X, Y)
    fista = L21ClassifierCV(n_alphas=6, cv=3, tol=1e-8, solver="fista").fit(X, Y)
    newton = L21ClassifierCV(n_alphas=6, cv=3, tol=1e-8, solver="prox_newton").fit(X, Y)
    for other in (fista, newton):
        np.testing.assert_allclose(auto.score_path_, other.score_path_, rtol=1e-4)
        assert auto.alpha_ == other.alpha_
        np.testing.assert_allclose(auto.coef_, other.coef_, atol=1e-4)
    assert (fista.solver_, newton.solver_) == ("fista", "prox_newton")
    strong = auto.alpha_ >= auto.alphas_[0] / 10  # the grid starts at alpha_max
    assert auto.solver_ == ("prox_newton" if strong else "fista")


def test_fista_refuses_non_convex_penalties():
    X, Y = _binary(40, 10)
    for Est in (L21Classifier, L21ClassifierCV):
        with pytest.raises(ValueError, match=f"{Est.__name__}: solver='fista' has no proximal operator"):
            Est(penalty="group_scad", solver="fista").fit(X, Y)
    with pytest.raises(ValueError, match="solver"):
        L21Classifier(solver="newton").fit(X, Y)


def test_multinomial_newton_rows_are_centred():
    """The multinomial loss is unchanged by adding a constant to a row's class columns; the optimum is centred."""
    X, y = _binary(30, 300, multiclass=True)
    est = L21Classifier(solver="prox_newton", tol=1e-9).fit(X, y)
    np.testing.assert_allclose(est.coef_.sum(axis=0), 0.0, atol=1e-8)
