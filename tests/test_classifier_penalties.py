"""Group MCP / SCAD classifiers (proximal Newton on the block coordinate descent).

Checked independently of the solver: the stationarity (KKT) conditions with
gradients computed here in numpy, and, for an MCP so flat that it is the
group lasso on the region of interest, the FISTA solution of the group lasso.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmtl.linear import L21Classifier, L21ClassifierCV


def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def _problem(seed=0, n=200, p=15, multiclass=False, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    B = np.zeros((p, 3))
    B[:4] = rng.standard_normal((4, 3)) * 1.5
    Z = X @ B + noise * rng.standard_normal((n, 3))
    Y = np.column_stack([(Z[:, 0] > 0), (Z[:, 1] > 0.3)]).astype(int)
    if multiclass:
        Y = np.column_stack([Y[:, 0], np.digitize(Z[:, 2], [-0.5, 0.5])])
    return X, Y


def _gradient(est, X, Y):
    """Gradient of the mean losses (omega = 1/n, complete wide input) w.r.t. coef_ rows and intercept_."""
    n = X.shape[0]
    G = np.zeros_like(est.coef_)
    g = np.zeros_like(est.intercept_)
    for t in range(Y.shape[1]):
        c0, c1 = est.coef_ptr_[t], est.coef_ptr_[t + 1]
        Z = X @ est.coef_[c0:c1].T + est.intercept_[c0:c1]
        if c1 - c0 == 1:
            R = (_sigmoid(Z[:, 0]) - Y[:, t])[:, None] / n
        else:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            P = E / E.sum(axis=1, keepdims=True)
            R = (P - np.eye(c1 - c0)[Y[:, t]]) / n
        G[c0:c1] = R.T @ X
        g[c0:c1] = R.sum(axis=0)
    return G.T, g  # (p, n_columns)


def _slope(penalty, x, a, gamma):
    if penalty == "group_mcp":
        return max(a - x / gamma, 0.0)
    if x <= a:
        return a
    return max((gamma * a - x) / (gamma - 1.0), 0.0)


@pytest.mark.parametrize("multiclass", [False, True])
@pytest.mark.parametrize("penalty,gamma", [("group_mcp", 3.0), ("group_scad", 3.7), ("group_mcp", 1.5)])
def test_stationary_point_meets_the_kkt_conditions(penalty, gamma, multiclass):
    X, Y = _problem(1, multiclass=multiclass)
    null = L21Classifier(1e3).fit(X, Y)  # W = 0 and the optimal intercepts
    G0, _ = _gradient(null, X, Y)
    scale = np.sqrt((G0 ** 2).sum(axis=1)).max()  # alpha_max
    a = 0.3 * scale
    est = L21Classifier(a, penalty=penalty, gamma=gamma, tol=1e-8, max_iter=500).fit(X, Y)
    G, g = _gradient(est, X, Y)
    W = est.coef_.T
    assert np.abs(g).max() <= 1e-7
    n_supp = 0
    for j in range(W.shape[0]):
        wn = np.linalg.norm(W[j])
        if wn > 0:
            n_supp += 1
            resid = G[j] + _slope(penalty, wn, a, gamma) * W[j] / wn
            assert np.linalg.norm(resid) <= 1e-7 * scale
        else:
            assert np.linalg.norm(G[j]) <= a * (1 + 1e-6)
    assert 0 < n_supp < W.shape[0]


@pytest.mark.parametrize("multiclass", [False, True])
def test_flat_mcp_is_the_group_lasso(multiclass):
    """With gamma huge, MCP equals the group lasso where the solution lies: same model as FISTA's."""
    X, Y = _problem(2, multiclass=multiclass)
    lasso = L21Classifier(0.02, tol=1e-10, max_iter=20000).fit(X, Y)
    with warnings.catch_warnings():  # multinomial: the diagonal Newton model converges linearly
        warnings.simplefilter("ignore", ConvergenceWarning)
        flat = L21Classifier(0.02, penalty="group_mcp", gamma=1e9, tol=1e-9, max_iter=300).fit(X, Y)
    atol = 1e-5 if multiclass else 1e-7
    np.testing.assert_allclose(flat.coef_, lasso.coef_, atol=atol)
    for t in range(Y.shape[1]):  # softmax intercepts are defined up to a constant per task
        c0, c1 = lasso.coef_ptr_[t], lasso.coef_ptr_[t + 1]
        a, b = flat.intercept_[c0:c1], lasso.intercept_[c0:c1]
        if c1 - c0 > 1:
            a, b = a - a.mean(), b - b.mean()
        np.testing.assert_allclose(a, b, atol=atol)
    # MCP's value is lower by sum_j ||W_j||^2 / (2 gamma)
    shift = np.sum(flat.coef_ ** 2) / 2e9
    assert flat.objective_ == pytest.approx(lasso.objective_ - shift, rel=1e-9)


def test_mcp_is_less_biased_than_the_group_lasso():
    """On the same support the MCP coefficients shrink less (its slope vanishes beyond gamma alpha)."""
    X, Y = _problem(3, n=600)
    lasso = L21Classifier(0.02).fit(X, Y)
    mcp = L21Classifier(0.02, penalty="group_mcp").fit(X, Y)
    assert np.abs(mcp.coef_[:, :4]).sum() > np.abs(lasso.coef_[:, :4]).sum()


def test_long_input_with_missing_labels_equals_wide():
    # noisy labels: not separable (an MCP/SCAD fit of separable data has no finite minimizer)
    X, Y = _problem(4, noise=2.0)
    Yn = Y.astype(float)
    Yn[::7, 1] = np.nan
    wide = L21Classifier(0.05, penalty="group_scad", tol=1e-9).fit(X, Yn)
    rows, tasks = np.nonzero(~np.isnan(Yn))
    Xl = np.column_stack([X[rows], tasks])
    long = L21Classifier(0.05, penalty="group_scad", tol=1e-9, task_column=-1).fit(Xl, Yn[rows, tasks].astype(int))
    assert np.any(wide.coef_ == 0) and np.any(wide.coef_ != 0)
    np.testing.assert_allclose(long.coef_, wide.coef_, atol=1e-6)


def test_cv_along_the_path():
    X, Y = _problem(5)
    cv = L21ClassifierCV(penalty="group_mcp", n_alphas=6, cv=3).fit(X, Y)
    assert cv.alphas_.shape == (6,) and cv.score_path_.shape == (6, 3)
    assert cv.alpha_ in cv.alphas_
    assert cv.score(X, Y) > 0.7


def test_errors_and_convergence_warning():
    X, Y = _problem(6)
    with pytest.raises(ValueError, match=r"'penalty' parameter of L21Classifier must be a str among \['group_lasso', 'group_mcp', 'group_scad'\]"):
        L21Classifier(0.1, penalty="lasso").fit(X, Y)
    with pytest.raises(ValueError, match=r"'gamma' parameter of L21ClassifierCV must be None or a float in the range \(1, inf\)"):
        L21ClassifierCV(penalty="group_mcp", gamma=0.5, cv=2).fit(X, Y)
    with pytest.warns(ConvergenceWarning, match="L21Classifier did not converge"):
        L21Classifier(0.01, penalty="group_mcp", max_iter=1, tol=1e-12).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        L21Classifier(0.01, penalty="group_mcp").fit(X, Y)
