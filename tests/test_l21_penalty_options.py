"""L2,1 elastic-net mixing (``l1_ratio``) and penalty factors on the block coordinate descent."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression, MultiTaskElasticNet, MultiTaskElasticNetCV
from sklearn.model_selection import KFold

from skmtl.linear import L21Regressor, L21RegressorCV, l21_alpha_max, l21_path


def _problem(seed=0, n=50, p=12, T=3, nan_frac=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.standard_normal(p)
    W = np.zeros((p, T))
    W[:4] = rng.standard_normal((4, T))
    Y = X @ W + 0.5 * rng.standard_normal((n, T)) + rng.standard_normal(T)
    if nan_frac:
        mask = rng.random((n, T)) < nan_frac
        mask[0] = False
        Y[mask] = np.nan
    return X, Y


def _long(X, Y, drop=0.0, seed=0):
    rng = np.random.default_rng(seed)
    rows, tasks = np.nonzero(~np.isnan(Y))
    keep = rng.random(len(rows)) >= drop
    rows, tasks = rows[keep], tasks[keep]
    return np.column_stack([tasks, X[rows]]), Y[rows, tasks], rows, tasks


def _rescaled(f):
    f = np.asarray(f, dtype=float)
    return f * f.size / f.sum()


def _cvxpy_value(X, y, rows, tasks, T, omega, alpha, l1_ratio, f, fit_intercept=True):
    """The objective minimized by cvxpy (Clarabel) on the observations (rows, tasks)."""
    cp = pytest.importorskip("cvxpy")
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    p = X.shape[1]
    W = cp.Variable((p, T))
    b = cp.Variable(T)
    terms = []
    for t in range(T):
        s = tasks == t
        if not s.any():
            continue
        pred = X[rows[s]] @ W[:, t] + (b[t] if fit_intercept else 0)
        terms.append(cp.sum(cp.multiply(omega[s], cp.square(y[s] - pred))))
    norms = cp.norm(W, 2, axis=1)
    pen = alpha * (l1_ratio * (f @ norms) + 0.5 * (1 - l1_ratio) * cp.sum(cp.multiply(f, cp.sum(cp.square(W), axis=1))))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum(cp.hstack(terms)) + pen))
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return prob.value


def _our_value(est, X, y, rows, tasks, omega, f):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    pred = np.einsum("ij,ij->i", X[rows], est.coef_[tasks]) + est.intercept_[tasks]
    sq = (est.coef_ ** 2).sum(axis=0)
    pen = est.alpha * (est.l1_ratio * f @ np.sqrt(sq) + 0.5 * (1 - est.l1_ratio) * f @ sq)
    return 0.5 * omega @ (y - pred) ** 2 + pen


@pytest.mark.parametrize("l1_ratio", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_same_as_sklearn_multitask_elastic_net(l1_ratio, fit_intercept):
    X, Y = _problem(5, n=60, p=30, T=4)
    for frac in (0.05, 0.3):
        alpha = frac * l21_alpha_max(X, Y, l1_ratio=l1_ratio, fit_intercept=fit_intercept)
        ours = L21Regressor(alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-14,
                            max_iter=100000).fit(X, Y)
        ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                                  tol=1e-14, max_iter=1000000).fit(X, Y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
        assert np.any(ours.coef_ != 0)


def test_pure_ridge_same_as_sklearn():
    X, Y = _problem(6, n=40, p=10, T=3)
    ours = L21Regressor(0.2, l1_ratio=0.0, tol=1e-14, max_iter=100000).fit(X, Y)
    ref = MultiTaskElasticNet(alpha=0.2, l1_ratio=0.0, tol=1e-14, max_iter=1000000).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("layout", ["wide_nan_weights", "long_balanced", "sparse_task_weight"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_objective_against_cvxpy(layout, l1_ratio):
    X, Y = _problem(1, nan_frac=0.25)
    n, T = Y.shape
    rng = np.random.default_rng(1)
    f = rng.uniform(0.2, 3.0, X.shape[1])
    f[[1, 7]] = 0.0  # unpenalized features, one of them in the true support
    sw = rng.uniform(0.3, 2.0, n)
    task_weight = None
    if layout == "wide_nan_weights":
        est = L21Regressor(l1_ratio=l1_ratio, penalty_factor=f)
        fit_X, fit_y, fit_sw = X, Y, sw
        rows, tasks = np.nonzero(~np.isnan(Y))
        y = Y[rows, tasks]
        omega = sw[rows] * T / sw[rows].sum()  # documented: weights sum to n_tasks
        Xd = X
    elif layout == "long_balanced":
        Xl, yl, rows, tasks = _long(X, Y, drop=0.3)
        est = L21Regressor(l1_ratio=l1_ratio, penalty_factor=f, task_column=0, task_weight="balanced")
        fit_X, fit_y, fit_sw = Xl, yl, None
        y = yl
        counts = np.bincount(tasks, minlength=T)
        omega = 1.0 / counts[tasks]  # documented: every task's weights sum to one
        Xd = X
    else:
        Xs = X.copy()
        Xs[np.abs(Xs) < 0.7] = 0.0
        Xd = sp.csc_matrix(Xs)
        task_weight = np.array([1.0, 2.0, 0.5])
        est = L21Regressor(l1_ratio=l1_ratio, penalty_factor=f, task_weight=task_weight)
        fit_X, fit_y, fit_sw = Xd, Y, None
        rows, tasks = np.nonzero(~np.isnan(Y))
        y = Y[rows, tasks]
        omega = T / len(y) * task_weight[tasks]
    amax = l21_alpha_max(fit_X, fit_y, sample_weight=fit_sw, l1_ratio=l1_ratio, penalty_factor=f,
                         task_weight=task_weight, task_column=est.task_column)
    est.set_params(alpha=0.2 * amax, tol=1e-13, max_iter=100000)
    est.fit(fit_X, fit_y, sample_weight=fit_sw)
    fr = _rescaled(f)
    ours = _our_value(est, Xd, y, rows, tasks, omega, fr)
    ref = _cvxpy_value(Xd, y, rows, tasks, T, omega, est.alpha, l1_ratio, fr)
    assert abs(ours - ref) / abs(ref) < 1e-6
    assert np.all(est.coef_[:, [1, 7]] != 0)


def test_unpenalized_features_are_not_shrunk():
    """penalty_factor 0: at any alpha those coefficients satisfy the unpenalized KKT condition."""
    X, Y = _problem(2, n=80, p=10, T=3)
    f = np.ones(10)
    f[[0, 5]] = 0.0
    amax = l21_alpha_max(X, Y, penalty_factor=f)
    # above alpha_max: only the unpenalized features, fitted by least squares
    m = L21Regressor(1.01 * amax, penalty_factor=f, tol=1e-12).fit(X, Y)
    assert np.all(m.coef_[:, [1, 2, 3, 4, 6, 7, 8, 9]] == 0)
    ls = LinearRegression().fit(X[:, [0, 5]], Y)
    np.testing.assert_allclose(m.coef_[:, [0, 5]], ls.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(m.intercept_, ls.intercept_, rtol=1e-6, atol=1e-8)
    # just below alpha_max some penalized row enters
    m = L21Regressor(0.9 * amax, penalty_factor=f, tol=1e-12).fit(X, Y)
    assert np.any(m.coef_[:, [1, 2, 3, 4, 6, 7, 8, 9]] != 0)
    # at a strong penalty the unpenalized gradient is zero (KKT), the penalized one is not
    m = L21Regressor(0.3 * amax, penalty_factor=f, tol=1e-13, max_iter=100000).fit(X, Y)
    R = Y - X @ m.coef_.T - m.intercept_
    G = X.T @ R / X.shape[0]  # minus the datafit gradient, one row per feature
    scale = np.abs(X.T @ (Y - Y.mean(0)) / X.shape[0]).max()
    assert np.abs(G[[0, 5]]).max() < 1e-6 * scale
    fr = _rescaled(f)
    for j in range(10):  # penalized rows: KKT of the weighted group lasso
        if fr[j] == 0:
            continue
        nrm = np.linalg.norm(m.coef_[:, j])
        if nrm == 0:
            assert np.linalg.norm(G[j]) <= m.alpha * fr[j] * (1 + 1e-6)
        else:
            np.testing.assert_allclose(G[j], m.alpha * fr[j] * m.coef_[:, j] / nrm, atol=1e-6 * scale)


def test_penalty_factor_is_rescaled_like_glmnet():
    X, Y = _problem(3)
    base = L21Regressor(0.1, tol=1e-12).fit(X, Y)
    for f in (np.full(12, 3.0), np.full(12, 0.5)):
        m = L21Regressor(0.1, penalty_factor=f, tol=1e-12).fit(X, Y)
        np.testing.assert_allclose(m.coef_, base.coef_, atol=1e-9)
    f = np.linspace(0.5, 2.0, 12)
    a = L21Regressor(0.1, penalty_factor=f, tol=1e-12).fit(X, Y)
    b = L21Regressor(0.1, penalty_factor=7 * f, tol=1e-12).fit(X, Y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)
    assert not np.allclose(a.coef_, base.coef_, atol=1e-4)  # the factors do change the model


def test_wide_nan_equals_long():
    X, Y = _problem(4, nan_frac=0.3)
    f = np.linspace(0.0, 2.0, 12)
    wide = L21Regressor(0.05, l1_ratio=0.7, penalty_factor=f, tol=1e-12).fit(X, Y)
    Xl, yl, rows, tasks = _long(X, Y)
    # long input: omega = 1/n per observation as for wide input when task weights are equal
    long = L21Regressor(0.05, l1_ratio=0.7, penalty_factor=f, task_column=0, tol=1e-12).fit(
        Xl, yl, sample_weight=np.full(len(yl), len(yl) / X.shape[0]))
    assert wide.coef_.shape == long.coef_.shape
    np.testing.assert_allclose(wide.coef_, long.coef_, atol=1e-7)


def test_float32_and_sparse_agree_with_dense():
    X, Y = _problem(7, nan_frac=0.1)
    X[np.abs(X) < 0.5] = 0.0
    f = np.linspace(0.0, 2.0, 12)
    kw = dict(alpha=0.05, l1_ratio=0.5, penalty_factor=f, tol=1e-12, max_iter=10000)
    ref = L21Regressor(**kw).fit(X, Y)
    np.testing.assert_allclose(L21Regressor(**kw).fit(sp.csr_matrix(X), Y).coef_, ref.coef_, atol=1e-8)
    kw["tol"] = 1e-8
    np.testing.assert_allclose(L21Regressor(**kw).fit(X.astype(np.float32), Y).coef_, ref.coef_, atol=1e-4)


def test_path_equals_single_fits():
    X, Y = _problem(8, nan_frac=0.2)
    f = np.linspace(0.0, 2.0, 12)
    alphas, coefs, gaps, intercepts = l21_path(X, Y, n_alphas=6, eps=0.05, l1_ratio=0.5,
                                               penalty_factor=f, tol=1e-14, return_intercept=True)
    assert alphas[0] == pytest.approx(l21_alpha_max(X, Y, l1_ratio=0.5, penalty_factor=f))
    assert np.abs(coefs[0][:, 1:]).max() < 1e-6 and np.all(coefs[0][:, 0] != 0)
    for k in (2, 5):
        m = L21Regressor(alphas[k], l1_ratio=0.5, penalty_factor=f, tol=1e-14).fit(X, Y)
        np.testing.assert_allclose(coefs[k], m.coef_, atol=1e-6)
        np.testing.assert_allclose(intercepts[k], m.intercept_, atol=1e-6)


def n_alphas_kw(k):
    """scikit-learn's grid size: ``alphas=k`` from 1.7, ``n_alphas=k`` before."""
    import sklearn
    from packaging.version import Version

    return {"alphas": k} if Version(sklearn.__version__) >= Version("1.7") else {"n_alphas": k}


def test_cv_l1_ratio_grid_matches_multitask_elastic_net_cv():
    X, Y = _problem(9, n=90, p=40, T=4)
    folds = list(KFold(4).split(X))
    ratios = [0.3, 0.7, 1.0]
    ours = L21RegressorCV(l1_ratio=ratios, n_alphas=20, cv=folds, tol=1e-10, max_iter=100000).fit(X, Y)
    ref = MultiTaskElasticNetCV(l1_ratio=ratios, cv=folds, tol=1e-10, max_iter=100000, **n_alphas_kw(20)).fit(X, Y)
    assert ours.alphas_.shape == (3, 20) and ours.mse_path_.shape == (3, 20, 4)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-10)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-4)
    assert ours.l1_ratio_ == ref.l1_ratio_
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    # a scalar l1_ratio keeps the one-grid shapes
    one = L21RegressorCV(l1_ratio=0.5, n_alphas=5, cv=3).fit(X, Y)
    assert one.alphas_.shape == (5,) and one.mse_path_.shape == (5, 3) and one.l1_ratio_ == 0.5


def test_cv_penalty_factor_keeps_covariates():
    X, Y = _problem(10, n=60)
    f = np.ones(12)
    f[[0, 11]] = 0.0
    m = L21RegressorCV(penalty_factor=f, n_alphas=8, cv=3).fit(X, Y)
    assert np.all(m.coef_[:, [0, 11]] != 0)
    assert m.alphas_[0] == pytest.approx(l21_alpha_max(X, Y, penalty_factor=f))


def test_l1_ratio_zero_needs_alphas():
    X, Y = _problem(11)
    with pytest.raises(ValueError, match="L21RegressorCV.*l1_ratio=0"):
        L21RegressorCV(l1_ratio=[0.0, 0.5], cv=3).fit(X, Y)
    m = L21RegressorCV(l1_ratio=[0.0, 0.5], alphas=[0.01, 0.1], cv=3).fit(X, Y)
    assert m.l1_ratio_ in (0.0, 0.5)
    with pytest.raises(ValueError, match="alpha_max is infinite"):
        l21_alpha_max(X, Y, l1_ratio=0.0)


@pytest.mark.parametrize("bad, match", [
    (np.ones(5), r"shape \(n_features,\) = \(12,\)"),
    (-np.ones(12), "non-negative"),
    (np.zeros(12), "at least one feature must be penalized"),
    (np.r_[np.nan, np.ones(11)], "non-finite"),
    ("abc", "array-like|array of numbers"),
])
def test_bad_penalty_factor_is_named(bad, match):
    X, Y = _problem(12)
    for est in (L21Regressor(0.1, penalty_factor=bad), L21RegressorCV(penalty_factor=bad, cv=3)):
        with pytest.raises(ValueError, match=match) as err:
            est.fit(X, Y)
        assert type(est).__name__ in str(err.value) and "penalty_factor" in str(err.value)


def test_bad_l1_ratio_is_named():
    X, Y = _problem(13)
    with pytest.raises(ValueError, match="l1_ratio"):
        L21Regressor(0.1, l1_ratio=1.5).fit(X, Y)
    for bad in (1.5, [0.5, -0.1], [], "x", ["a"], [[0.5]]):
        # a number out of [0, 1] or a string fails the parameter constraints, a bad list the fit's own check
        with pytest.raises(ValueError, match="L21RegressorCV: l1_ratio|'l1_ratio' parameter of L21RegressorCV"):
            L21RegressorCV(l1_ratio=bad, cv=3).fit(X, Y)


def test_caller_arrays_not_modified():
    X, Y = _problem(14, nan_frac=0.2)
    f = np.linspace(0.0, 2.0, 12)
    copies = X.copy(), Y.copy(), f.copy()
    L21Regressor(0.05, l1_ratio=0.5, penalty_factor=f).fit(X, Y)
    L21RegressorCV(l1_ratio=[0.5, 1.0], penalty_factor=f, n_alphas=4, cv=3).fit(X, Y)
    for a, b in zip((X, Y, f), copies):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- classifiers

def _classification(seed=0, n=60, p=6, T=3, multiclass=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    S = X @ rng.standard_normal((p, T)) + rng.standard_normal((n, T))
    L = (S > 0).astype(float)
    if multiclass:
        L[:, 0] = np.digitize(S[:, 0], [-0.7, 0.7])
    return X, L


@pytest.mark.parametrize("solver", ["fista", "prox_newton"])
@pytest.mark.parametrize("multiclass", [False, True])
def test_classifier_objective_against_cvxpy(multiclass, solver):
    cp = pytest.importorskip("cvxpy")
    from scipy.special import logsumexp

    from skmtl.linear import L21Classifier

    X, L = _classification(1, multiclass=multiclass)
    n, p = X.shape
    f = np.array([0.0, 1.0, 2.0, 0.5, 1.0, 3.0])
    fr = _rescaled(f)
    alpha, rho = 0.05, 0.6
    est = L21Classifier(alpha, l1_ratio=rho, penalty_factor=f, solver=solver, tol=1e-10, max_iter=100000).fit(X, L)
    assert est.solver_ == solver
    ptr = est.coef_ptr_
    W = est.coef_.T
    om = 1.0 / n  # complete wide input, no weights: omega = 1/n

    def loss_np(W, b):
        total = 0.0
        for t in range(L.shape[1]):
            Z = X @ W[:, ptr[t]:ptr[t + 1]] + b[ptr[t]:ptr[t + 1]]
            y = L[:, t].astype(int)
            if Z.shape[1] == 1:
                total += om * np.logaddexp(0, -np.where(y > 0, 1.0, -1.0) * Z[:, 0]).sum()
            else:
                total += om * (logsumexp(Z, axis=1) - Z[np.arange(n), y]).sum()
        return total

    sq = (W ** 2).sum(axis=1)
    ours = loss_np(W, est.intercept_) + alpha * (rho * fr @ np.sqrt(sq) + 0.5 * (1 - rho) * fr @ sq)
    Wv, bv = cp.Variable(W.shape), cp.Variable(W.shape[1])
    terms = []
    for t in range(L.shape[1]):
        c0, c1 = ptr[t], ptr[t + 1]
        y = L[:, t].astype(int)
        if c1 - c0 == 1:
            z = X @ Wv[:, c0] + bv[c0]
            terms.append(om * cp.sum(cp.logistic(-cp.multiply(np.where(y > 0, 1.0, -1.0), z))))
        else:
            K = c1 - c0
            Z = X @ Wv[:, c0:c1] + np.ones((n, 1)) @ cp.reshape(bv[c0:c1], (1, K), order="C")
            terms.append(om * cp.sum(cp.log_sum_exp(Z, axis=1) - cp.sum(cp.multiply(np.eye(K)[y], Z), axis=1)))
    pen = alpha * (rho * (fr @ cp.norm(Wv, 2, axis=1)) + 0.5 * (1 - rho) * (fr @ cp.sum(cp.square(Wv), axis=1)))
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms)) + pen))
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert ours == pytest.approx(prob.value, rel=1e-6)
    assert est.objective_ == pytest.approx(ours, rel=1e-9)


def test_classifier_unpenalized_features_and_cv_grid():
    from sklearn.linear_model import LogisticRegression

    from skmtl.linear import L21Classifier, L21ClassifierCV

    X, L = _classification(2, n=150, p=8)
    f = np.ones(8)
    f[[0, 7]] = 0.0
    # a penalty far above alpha_max: the unpenalized features alone, by unpenalized logistic regression
    m = L21Classifier(1e3, penalty_factor=f, tol=1e-10, max_iter=100000).fit(X, L)
    assert np.all(m.coef_[:, 1:7] == 0)
    for t in range(L.shape[1]):
        ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(X[:, [0, 7]], L[:, t])
        np.testing.assert_allclose(m.coef_[t, [0, 7]], ref.coef_[0], rtol=1e-5, atol=1e-7)
    cv = L21ClassifierCV(penalty_factor=f, l1_ratio=0.8, n_alphas=6, cv=3).fit(X, L)
    # the grid starts where the first penalized feature enters
    top = L21Classifier(cv.alphas_[0] * 1.01, l1_ratio=0.8, penalty_factor=f, tol=1e-10).fit(X, L)
    below = L21Classifier(cv.alphas_[0] * 0.9, l1_ratio=0.8, penalty_factor=f, tol=1e-10).fit(X, L)
    assert np.abs(top.coef_[:, 1:7]).max() < 1e-8 < np.abs(below.coef_[:, 1:7]).max()
    assert np.all(cv.coef_[:, [0, 7]] != 0)


def test_classifier_bad_options_are_named():
    from skmtl.linear import L21Classifier, L21ClassifierCV

    X, L = _classification(3)
    with pytest.raises(ValueError, match="L21Classifier: penalty_factor.*non-negative"):
        L21Classifier(0.1, penalty_factor=-np.ones(6)).fit(X, L)
    with pytest.raises(ValueError, match=r"'l1_ratio' parameter of L21ClassifierCV must be a float in the range \[0, 1\]"):
        L21ClassifierCV(l1_ratio=[0.5, 1.0], cv=3).fit(X, L)
    with pytest.raises(ValueError, match=r"'l1_ratio' parameter of L21Classifier must be a float in the range \[0, 1\]"):
        L21Classifier(0.1, l1_ratio=2.0).fit(X, L)


# ---------------------------------------------------------------- group MCP / SCAD

def _standardized(seed=0, n=100, p=40, T=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X /= np.sqrt((X ** 2).mean(axis=0))
    W = np.zeros((p, T))
    W[:5] = 2 * rng.standard_normal((5, T))
    return X, X @ W + rng.standard_normal((n, T)), W


def _penalty_slope(penalty, x, a, gamma):
    if penalty == "group_mcp":
        return max(a - x / gamma, 0.0)
    if x <= a:
        return a
    return max((gamma * a - x) / (gamma - 1), 0.0)


@pytest.mark.parametrize("penalty, gamma", [("group_mcp", 3.0), ("group_scad", 3.7), ("group_mcp", 1.5)])
@pytest.mark.parametrize("frac", [0.5, 0.2, 0.05])
def test_nonconvex_same_stationary_point_as_skglm(penalty, gamma, frac):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import QuadraticMultiTask
    from skglm.penalties import BlockMCPenalty, BlockSCAD
    from skglm.solvers import MultiTaskBCD

    X, Y, _ = _standardized(0)
    alpha = frac * l21_alpha_max(X, Y, fit_intercept=False)
    ours = L21Regressor(alpha, penalty=penalty, gamma=gamma, fit_intercept=False, tol=1e-12,
                        max_iter=100000).fit(X, Y)
    pen = (BlockMCPenalty if penalty == "group_mcp" else BlockSCAD)(alpha, gamma)
    W_ref = MultiTaskBCD(max_iter=10000, tol=1e-12, fit_intercept=False).solve(
        X, Y, QuadraticMultiTask(), pen)[0][:X.shape[1]]
    np.testing.assert_allclose(ours.coef_.T, W_ref, atol=1e-8)
    assert skglm is not None and np.any(ours.coef_ != 0)


@pytest.mark.parametrize("penalty", ["group_mcp", "group_scad"])
def test_nonconvex_kkt_with_intercepts_and_factors(penalty):
    """The fit is a stationary point of the weighted, elastic-net non-convex objective."""
    X, Y, _ = _standardized(1, n=80, p=15, T=3)
    X = X + 3.0  # intercepts matter
    f = np.linspace(0.0, 2.0, 15)
    gamma = 3.0 if penalty == "group_mcp" else 3.7
    amax = l21_alpha_max(X, Y, penalty_factor=f, l1_ratio=0.8)
    m = L21Regressor(0.2 * amax, l1_ratio=0.8, penalty_factor=f, penalty=penalty, tol=1e-12,
                     max_iter=100000).fit(X, Y)
    R = Y - X @ m.coef_.T - m.intercept_
    np.testing.assert_allclose(R.mean(axis=0), 0.0, atol=1e-10)  # intercepts optimal
    G = X.T @ R / X.shape[0]
    fr = _rescaled(f)
    for j in range(15):
        a = m.alpha * 0.8 * fr[j]
        r = m.alpha * 0.2 * fr[j]
        w = m.coef_[:, j]
        x = np.linalg.norm(w)
        if x == 0:
            assert np.linalg.norm(G[j]) <= a * (1 + 1e-8) + 1e-10
        else:
            np.testing.assert_allclose(G[j], (_penalty_slope(penalty, x, a, gamma) / x + r) * w, atol=1e-8)


def test_nonconvex_less_biased_than_group_lasso():
    X, Y, W = _standardized(2, n=200, p=30, T=4)
    supp = np.linalg.norm(W, axis=1) > 0
    oracle = np.linalg.lstsq(np.c_[X[:, supp], np.ones(len(X))], Y, rcond=None)[0][:-1]
    alpha = 0.1 * l21_alpha_max(X, Y)  # gamma * alpha below the smallest true row norm (MCP)
    gl = L21Regressor(alpha).fit(X, Y)
    err_gl = np.abs(gl.coef_.T[supp] - oracle).max()
    for penalty, bound in (("group_mcp", 1e-2), ("group_scad", 0.25 * err_gl)):
        m = L21Regressor(alpha, penalty=penalty).fit(X, Y)
        # the true rows are (nearly) unshrunk, the group lasso's are not
        assert np.abs(m.coef_.T[supp] - oracle).max() < bound < err_gl
        assert np.all(m.coef_[:, ~supp] == 0)


def test_nonconvex_path_and_cv():
    X, Y, _ = _standardized(3, n=90, p=20, T=3)
    alphas, coefs, kkts = l21_path(X, Y, n_alphas=8, eps=0.05, penalty="group_scad", tol=1e-10)
    assert np.all(coefs[0] == 0) and np.all(kkts < 1e-6)
    cv = L21RegressorCV(penalty="group_mcp", n_alphas=8, eps=0.05, cv=3, tol=1e-10).fit(X, Y)
    k = int(np.flatnonzero(cv.alphas_ == cv.alpha_)[0])
    _, path, _ = l21_path(X, Y, alphas=cv.alphas_[: k + 1], penalty="group_mcp", tol=1e-10)
    np.testing.assert_allclose(cv.coef_, path[-1], atol=1e-8)  # refit along the path


def test_nonconvex_bad_options_are_named():
    X, Y, _ = _standardized(4, n=40, p=6, T=2)
    with pytest.raises(ValueError, match="penalty"):
        L21Regressor(0.1, penalty="mcp").fit(X, Y)
    with pytest.raises(ValueError, match="L21RegressorCV: gamma must be a number greater than 2"):
        L21RegressorCV(penalty="group_scad", gamma=1.5, cv=3).fit(X, Y)
    with pytest.raises(ValueError, match="L21Regressor: gamma must be a number greater than 2"):
        L21Regressor(0.1, penalty="group_scad", gamma=1.5).fit(X, Y)


# ---------------------------------------------------------------- sparse group lasso

def _sgl_cvxpy_value(X, y, rows, tasks, T, omega, alpha, beta, f):
    cp = pytest.importorskip("cvxpy")
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    W = cp.Variable((X.shape[1], T))
    b = cp.Variable(T)
    terms = []
    for t in range(T):
        s = tasks == t
        terms.append(cp.sum(cp.multiply(omega[s], cp.square(y[s] - X[rows[s]] @ W[:, t] - b[t]))))
    pen = alpha * (f @ cp.norm(W, 2, axis=1)) + beta * (f @ cp.sum(cp.abs(W), axis=1))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum(cp.hstack(terms)) + pen))
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return prob.value


@pytest.mark.parametrize("layout", ["wide_nan_weights", "long_balanced", "sparse"])
@pytest.mark.parametrize("alpha, beta", [(0.05, 0.02), (0.01, 0.05), (0.0, 0.04)])
def test_sparse_group_objective_against_cvxpy(layout, alpha, beta):
    from skmtl.linear import SparseGroupRegressor

    X, Y = _problem(21, nan_frac=0.25)
    n, T = Y.shape
    rng = np.random.default_rng(21)
    f = rng.uniform(0.5, 2.0, X.shape[1])
    f[3] = 0.0
    sw = rng.uniform(0.3, 2.0, n)
    est = SparseGroupRegressor(alpha, beta, penalty_factor=f, tol=1e-13, max_iter=100000)
    if layout == "wide_nan_weights":
        rows, tasks = np.nonzero(~np.isnan(Y))
        y, omega, Xd = Y[rows, tasks], sw[rows] * T / sw[rows].sum(), X
        est.fit(X, Y, sample_weight=sw)
    elif layout == "long_balanced":
        Xl, y, rows, tasks = _long(X, Y, drop=0.3)
        omega = 1.0 / np.bincount(tasks, minlength=T)[tasks]
        Xd = X
        est.set_params(task_column=0, task_weight="balanced").fit(Xl, y)
    else:
        Xs = X.copy()
        Xs[np.abs(Xs) < 0.7] = 0.0
        Xd = sp.csc_matrix(Xs)
        rows, tasks = np.nonzero(~np.isnan(Y))
        y, omega = Y[rows, tasks], np.full(len(rows), T / len(rows))
        est.fit(Xd, Y)
    fr = _rescaled(f)
    Xa = Xd.toarray() if sp.issparse(Xd) else Xd
    pred = np.einsum("ij,ij->i", Xa[rows], est.coef_[tasks]) + est.intercept_[tasks]
    ours = (0.5 * omega @ (y - pred) ** 2 + alpha * fr @ np.linalg.norm(est.coef_, axis=0)
            + beta * fr @ np.abs(est.coef_).sum(axis=0))
    ref = _sgl_cvxpy_value(Xd, y, rows, tasks, T, omega, alpha, beta, fr)
    assert abs(ours - ref) / abs(ref) < 1e-6
    assert np.all(est.coef_[:, 3] != 0)  # unpenalized


def test_sparse_group_zeros_rows_and_entries():
    from skmtl.linear import L21Regressor, SparseGroupRegressor

    rng = np.random.default_rng(22)
    X = rng.standard_normal((200, 20))
    W = np.zeros((20, 5))
    W[:4] = 2.0 * rng.standard_normal((4, 5))
    W[0, :2] = 0.0  # a shared feature that two tasks do not use
    Y = X @ W + 0.3 * rng.standard_normal((200, 5))
    m = SparseGroupRegressor(alpha=0.05, beta=0.05).fit(X, Y)
    assert np.all(m.coef_[:, 4:] == 0)  # rows
    assert np.all(m.coef_[:2, 0] == 0) and np.all(m.coef_[2:, 0] != 0)  # entries of a kept row
    gl = L21Regressor(0.05).fit(X, Y)
    np.testing.assert_allclose(SparseGroupRegressor(alpha=0.05, beta=0.0, tol=1e-12).fit(X, Y).coef_,
                               L21Regressor(0.05, tol=1e-12).fit(X, Y).coef_, atol=1e-8)
    assert np.all(gl.coef_[:, 0] != 0)  # the group lasso keeps the whole row


def test_sparse_group_cv_grid_and_strengths():
    from skmtl.linear import SparseGroupRegressor, SparseGroupRegressorCV

    X, Y = _problem(23, n=80, p=15, T=4, nan_frac=0.1)
    cv = SparseGroupRegressorCV(l1_ratio=[0.2, 0.8], n_alphas=8, cv=3, tol=1e-10).fit(X, Y)
    assert cv.alphas_.shape == (2, 8) and cv.mse_path_.shape == (2, 8, 3)
    assert cv.l1_ratio_ in (0.2, 0.8)
    assert cv.alpha_ + cv.beta_ == pytest.approx(cv.lambda_)
    assert cv.beta_ == pytest.approx(cv.l1_ratio_ * cv.lambda_)
    ref = SparseGroupRegressor(cv.alpha_, cv.beta_, tol=1e-10).fit(X, Y)
    np.testing.assert_allclose(cv.coef_, ref.coef_, atol=1e-7)
    # the grid starts where every coefficient is zero
    k = 0 if cv.l1_ratio_ == 0.2 else 1
    lam = cv.alphas_[k, 0]
    top = SparseGroupRegressor(lam * (1 - cv.l1_ratio_) * 1.001, lam * cv.l1_ratio_ * 1.001, tol=1e-12).fit(X, Y)
    below = SparseGroupRegressor(lam * (1 - cv.l1_ratio_) * 0.95, lam * cv.l1_ratio_ * 0.95, tol=1e-12).fit(X, Y)
    assert np.all(top.coef_ == 0) and np.any(below.coef_ != 0)


def test_sparse_group_bad_input_is_named():
    from skmtl.linear import SparseGroupRegressor, SparseGroupRegressorCV

    X, Y = _problem(24)
    with pytest.raises(ValueError, match="beta"):
        SparseGroupRegressor(0.1, -1.0).fit(X, Y)
    with pytest.raises(ValueError, match="SparseGroupRegressorCV: l1_ratio"):
        SparseGroupRegressorCV(l1_ratio=[1.5], cv=3).fit(X, Y)
    with pytest.raises(ValueError, match="SparseGroupRegressor: penalty_factor"):
        SparseGroupRegressor(0.1, 0.1, penalty_factor=np.ones(3)).fit(X, Y)
