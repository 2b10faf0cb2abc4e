"""Tests of skmtl.factorization: closed forms, planted low-rank recovery, monotone solvers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skmtl.factorization import (
    FactorizedRegressor,
    ReducedRankRegressor,
    ReducedRankRegressorCV,
    SoftImputer,
    sparse_to_long,
)


def _planted_regression(n=300, p=12, T=8, r=2, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    B = rng.normal(size=(p, r)) @ rng.normal(size=(r, T))
    b = rng.normal(size=T)
    F = X @ B + b
    return X, F + noise * rng.normal(size=F.shape), F, B, b


def _to_long(X, Y):
    i, t = np.nonzero(~np.isnan(Y))
    return np.column_stack([X[i], t]), Y[i, t]


# --------------------------------------------------------------------------
# reduced-rank regression
# --------------------------------------------------------------------------


def test_rrr_closed_form_matches_numpy_izenman():
    X, Y, *_ = _planted_regression(n=80, p=6, T=5, r=2, noise=1.0)
    m = ReducedRankRegressor(rank=2).fit(X, Y)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    B_ols = np.linalg.lstsq(Xc, Yc, rcond=None)[0]
    _, _, Vt = np.linalg.svd(Xc @ B_ols)
    B = B_ols @ Vt[:2].T @ Vt[:2]
    np.testing.assert_allclose(m.coef_, B.T, atol=1e-10)
    np.testing.assert_allclose(m.intercept_, Y.mean(0) - X.mean(0) @ B, atol=1e-10)
    assert np.linalg.matrix_rank(m.coef_, tol=1e-8) == 2


@pytest.mark.parametrize("p", [6, 120])  # p < n (primal) and p > n (dual ridge solve)
def test_rrr_ridge_closed_form_matches_augmented_numpy(p):
    rng = np.random.default_rng(1)
    n, T, alpha = 60, 5, 0.3
    X, Y = rng.normal(size=(n, p)), rng.normal(size=(n, T))
    m = ReducedRankRegressor(rank=2, alpha=alpha).fit(X, Y)
    # Mukherjee & Zhu: RRR on [X; sqrt(n alpha) I], [Y; 0] (objective scaled by 1/n)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    Xa = np.vstack([Xc, np.sqrt(n * alpha) * np.eye(p)])
    Ya = np.vstack([Yc, np.zeros((p, T))])
    B_r = np.linalg.lstsq(Xa, Ya, rcond=None)[0]
    _, _, Vt = np.linalg.svd(Xa @ B_r)
    B = B_r @ Vt[:2].T @ Vt[:2]
    np.testing.assert_allclose(m.coef_, B.T, atol=1e-8)


def test_rrr_full_rank_is_ridge():
    X, Y, *_ = _planted_regression(n=50, p=5, T=4)
    m = ReducedRankRegressor(rank=4, alpha=0.2).fit(X, Y)
    ridge = Ridge(alpha=0.2 * 50).fit(X, Y)
    np.testing.assert_allclose(m.coef_, ridge.coef_, atol=1e-8)
    np.testing.assert_allclose(m.intercept_, ridge.intercept_, atol=1e-8)


def test_rrr_missing_targets_em_monotone_and_recovers():
    X, Y, F, B, _ = _planted_regression(n=400, noise=0.1)
    rng = np.random.default_rng(3)
    Ym = Y.copy()
    Ym[rng.random(Y.shape) < 0.4] = np.nan
    m = ReducedRankRegressor(rank=2).fit(X[:300], Ym[:300])
    assert np.all(np.diff(m.objective_path_) <= 1e-12 * abs(m.objective_path_[0]))
    assert m.n_iter_ > 1
    rmse = np.sqrt(np.mean((m.predict(X[300:]) - F[300:]) ** 2))
    assert rmse < 0.05  # noise level 0.1; the fit averages it out
    # long input gives the same fit
    Xl, yl = _to_long(X[:300], Ym[:300])
    ml = ReducedRankRegressor(rank=2, task_column=-1).fit(Xl, yl)
    np.testing.assert_allclose(ml.coef_, m.coef_, atol=1e-3)  # EM stops at tol


def test_rrr_cv_selects_planted_rank():
    X, Y, *_ = _planted_regression(n=200, p=10, T=8, r=3, noise=0.3)
    m = ReducedRankRegressorCV(alphas=[0.0]).fit(X, Y)
    assert m.rank_ == 3
    assert m.cv_scores_.shape == (1, 8)
    Ym = Y.copy()
    Ym[np.random.default_rng(0).random(Y.shape) < 0.3] = np.nan
    m2 = ReducedRankRegressorCV(ranks=[1, 3, 6], cv=3).fit(X, Ym)
    assert m2.rank_ == 3


def test_rrr_em_warns_when_not_converged():
    X, Y, *_ = _planted_regression(n=60)
    Y[::3, 0] = np.nan
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        ReducedRankRegressor(rank=2, max_iter=1, tol=0).fit(X, Y)


# --------------------------------------------------------------------------
# Soft-Impute
# --------------------------------------------------------------------------


def _planted_matrix(n=200, m=60, r=3, noise=0.1, frac_missing=0.5, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, r)) @ rng.normal(size=(r, m))
    X = Z + noise * rng.normal(size=Z.shape)
    miss = rng.random(Z.shape) < frac_missing
    Xm = X.copy()
    Xm[miss] = np.nan
    return Xm, X, Z, miss


@pytest.mark.parametrize("accelerate", [False, True])
def test_soft_impute_objective_monotone(accelerate):
    Xm, *_ = _planted_matrix(n=80, m=30)
    s = SoftImputer(alpha=2.0, n_shrinkages=1, svd_solver="full", tol=1e-8,
                    max_iter=300, accelerate=accelerate)
    s.fit(Xm)
    obj = np.asarray(s.objective_path_)
    assert len(obj) > 5
    assert np.all(np.diff(obj) <= 1e-10 * obj[0])


def test_soft_impute_fixed_point_is_svt():
    """At convergence Z = SVT_lambda(P_Omega(X) + P_Omega^perp(Z)) (MHT 2010, Lemma 1)."""
    Xm, *_ = _planted_matrix(n=60, m=25)
    lam = 1.5
    s = SoftImputer(alpha=lam, svd_solver="full", tol=1e-10, max_iter=2000).fit(Xm)
    Z = s.inverse_transform(s._row_factors)
    filled = np.where(np.isnan(Xm), Z, Xm)
    U, d, Vt = np.linalg.svd(filled, full_matrices=False)
    Z2 = (U * np.maximum(d - lam, 0)) @ Vt
    np.testing.assert_allclose(Z, Z2, atol=1e-5)


@pytest.mark.parametrize("solver", ["randomized", "full"])
def test_soft_impute_recovers_planted_low_rank(solver):
    Xm, X, Z, miss = _planted_matrix(n=400, m=80, r=3, noise=0.1, frac_missing=0.6)
    out = SoftImputer(alpha=1.0, svd_solver=solver, random_state=0).fit_transform(Xm)
    np.testing.assert_array_equal(out[~miss], Xm[~miss])
    rmse = np.sqrt(np.mean((out[miss] - X[miss]) ** 2))
    assert rmse < 0.15  # noise level 0.1


def test_soft_impute_sparse_input_matches_dense():
    Xm, X, Z, miss = _planted_matrix(n=150, m=40)
    i, j = np.nonzero(~miss)
    S = sp.csr_matrix((Xm[i, j], (i, j)), shape=Xm.shape)
    kw = dict(alpha=1.0, svd_solver="full", tol=1e-8, max_iter=500)
    dense = SoftImputer(**kw).fit_transform(Xm)
    si = SoftImputer(**kw)
    A = si.fit_transform(S)
    assert A.shape == (150, si.rank_)
    mi, mj = np.nonzero(miss)
    np.testing.assert_allclose(si.predict_entries(mi, mj), dense[mi, mj], atol=1e-5)
    # fold-in of the training rows reproduces the fitted factors
    np.testing.assert_allclose(si.transform(S), A, atol=1e-4)


def _sparse_observed(Xm):
    i, j = np.nonzero(~np.isnan(Xm))
    return sp.csr_matrix((Xm[i, j], (i, j)), shape=Xm.shape)


@pytest.mark.parametrize("solver", ["randomized", "truncated", "auto"])
def test_soft_impute_sparse_solvers_match_dense(solver):
    """Sparse input with the operator-based SVDs gives the dense exact-SVD fit."""
    Xm, X, Z, miss = _planted_matrix(n=150, m=40)
    kw = dict(alpha=1.0, tol=1e-9, max_iter=2000, random_state=0)
    dense = SoftImputer(svd_solver="full", **kw).fit(Xm)
    si = SoftImputer(svd_solver=solver, **kw).fit(_sparse_observed(Xm))
    assert si.rank_ == dense.rank_
    np.testing.assert_allclose(si.singular_values_, dense.singular_values_, rtol=1e-5, atol=1e-5)
    mi, mj = np.nonzero(miss)
    np.testing.assert_allclose(si.predict_entries(mi, mj), dense.predict_entries(mi, mj), atol=1e-4)
    np.testing.assert_allclose(si.shrinkages_[-1], 1.0)
    # lambda_max on sparse input is exact too (ARPACK, not the dense norm)
    np.testing.assert_allclose(si.shrinkages_, dense.shrinkages_, rtol=1e-8)


@pytest.mark.parametrize("solver", ["auto", "truncated", "randomized"])
def test_soft_impute_sparse_fit_never_densifies(monkeypatch, solver):
    """A small sparse input, where "auto" would pick the dense SVD for a dense one, never densifies."""
    Xm, *_ = _planted_matrix(n=120, m=30, frac_missing=0.6)  # 3600 entries, min dim <= 50
    S = _sparse_observed(Xm)

    def boom(self, *args, **kwargs):
        raise AssertionError("a sparse matrix was densified")

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.csc_array):
        monkeypatch.setattr(cls, "toarray", boom)
        monkeypatch.setattr(cls, "todense", boom)
    si = SoftImputer(svd_solver=solver, tol=1e-6, max_iter=500, random_state=0)
    A = si.fit_transform(S)
    assert A.shape == (120, si.rank_) and si.rank_ >= 3
    si.transform(S)
    with pytest.raises(AssertionError, match="densified"):  # the patch is live
        SoftImputer(svd_solver="full", n_shrinkages=1, alpha=1.0).fit(S)


def test_soft_impute_sparse_fit_memory_is_far_below_dense():
    """Peak memory of sparse fits (auto and truncated solvers, warm path) << the n x m float64 matrix."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n, m, r, nnz = 5_000, 2_000, 3, 100_000  # 80 MB dense, 1.2 MB of stored entries
    A0, B0 = rng.normal(size=(n, r)), rng.normal(size=(m, r))
    i, j = rng.integers(0, n, nnz), rng.integers(0, m, nnz)
    S = sp.csr_matrix((np.einsum("ij,ij->i", A0[i], B0[j]) + 0.1 * rng.normal(size=nnz), (i, j)), shape=(n, m))
    kw = dict(max_rank=6, algorithm="svd", alpha=5.0, n_shrinkages=2, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        SoftImputer(**kw).fit(S[:50])  # compile the numba kernels outside the measurement
        for solver in ["auto", "truncated"]:
            tracemalloc.start()
            try:
                si = SoftImputer(svd_solver=solver, **kw).fit(S)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert si.rank_ == 6
            # O(nnz + (n + m) rank) memory: about 7-8 MB here, where one dense n x m is 80 MB
            assert peak < n * m * 8 / 8, (solver, peak)


def test_soft_impute_warm_started_path():
    """The path decreases geometrically to alpha; its end equals a cold fit there."""
    Xm, X, Z, miss = _planted_matrix(n=100, m=40, frac_missing=0.5)
    kw = dict(svd_solver="full", tol=1e-10, max_iter=5000)
    warm = SoftImputer(alpha=1.5, n_shrinkages=6, **kw).fit(Xm)
    path = warm.shrinkages_
    assert len(path) == 6 and np.all(np.diff(path) < 0)
    assert path[-1] == warm.alpha_ == 1.5
    np.testing.assert_allclose(path[1:] / path[:-1], path[1] / path[0])  # geometric
    cold = SoftImputer(alpha=1.5, n_shrinkages=1, **kw).fit(Xm)
    assert cold.shrinkages_.tolist() == [1.5]
    assert warm.rank_ == cold.rank_
    np.testing.assert_allclose(warm.singular_values_, cold.singular_values_, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(warm.objective_path_[-1], cold.objective_path_[-1], rtol=1e-9)
    np.testing.assert_allclose(warm.fit_transform(Xm), cold.fit_transform(Xm), atol=1e-4)
    # the warm start pays: fewer iterations at the final shrinkage than the cold fit needed
    assert len(warm.objective_path_) < len(cold.objective_path_)


def test_soft_impute_transform_new_rows_and_pipeline():
    Xm, X, Z, miss = _planted_matrix(n=300, m=40, r=2)
    s = SoftImputer(alpha=1.0, random_state=0).fit(Xm[:250])
    out = s.transform(Xm[250:])
    assert not np.isnan(out).any()
    rmse = np.sqrt(np.mean((out[miss[250:]] - X[250:][miss[250:]]) ** 2))
    assert rmse < 0.2
    np.testing.assert_allclose(s.transform(Xm[:250]), s.fit_transform(Xm[:250]), atol=1e-2)
    y = Z[:, 0] + Z[:, 1]
    pipe = make_pipeline(SoftImputer(alpha=1.0, random_state=0), Ridge(alpha=1e-3))
    pipe.fit(Xm[:250], y[:250])
    assert pipe.score(Xm[250:], y[250:]) > 0.9


def test_soft_impute_max_rank_and_warning():
    Xm, *_ = _planted_matrix()
    s = SoftImputer(max_rank=2, random_state=0).fit(Xm)
    assert s.rank_ <= 2 and s.components_.shape == (s.rank_, 60)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        SoftImputer(alpha=0.5, max_iter=1, tol=0, n_shrinkages=1).fit(Xm)


# --------------------------------------------------------------------------
# factorized regression
# --------------------------------------------------------------------------


def test_factorized_recovers_and_predicts_new_rows():
    X, Y, F, B, b = _planted_regression(n=500, p=15, T=10, r=3, noise=0.1)
    Ym = Y.copy()
    Ym[np.random.default_rng(5).random(Y.shape) < 0.5] = np.nan
    m = FactorizedRegressor(rank=3, alpha=1e-5, beta=1e-5, random_state=0).fit(X[:400], Ym[:400])
    obj = np.asarray(m.objective_path_)
    assert np.all(np.diff(obj) <= 1e-12 * obj[0])
    assert m.task_embedding_.shape == (10, 3) and m.feature_loadings_.shape == (15, 3)
    np.testing.assert_allclose(m.coef_, m.task_embedding_ @ m.feature_loadings_.T)
    rmse = np.sqrt(np.mean((m.predict(X[400:]) - F[400:]) ** 2))
    assert rmse < 0.05
    # long input gives the same model; sparse features too
    Xl, yl = _to_long(X[:400], Ym[:400])
    ml = FactorizedRegressor(rank=3, alpha=1e-5, beta=1e-5, random_state=0, task_column=-1).fit(Xl, yl)
    np.testing.assert_allclose(ml.coef_, m.coef_, atol=1e-3)
    ms = FactorizedRegressor(rank=3, alpha=1e-5, beta=1e-5, random_state=0).fit(sp.csr_matrix(X[:400]), Ym[:400])
    np.testing.assert_allclose(ms.coef_, m.coef_, atol=1e-6)


def test_factorized_matrix_factorization_mode():
    rng = np.random.default_rng(0)
    n, T, r, noise = 300, 150, 3, 0.1
    M = rng.normal(size=(n, r)) @ rng.normal(size=(r, T)) + rng.normal(size=(n, 1)) + rng.normal(size=(1, T))
    obs = rng.random(M.shape) < 0.3
    i, j = np.nonzero(obs)
    S = sp.csr_matrix((M[i, j] + noise * rng.normal(size=len(i)), (i, j)), shape=M.shape)
    X, y = sparse_to_long(S)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = FactorizedRegressor(rank=3, alpha=1e-3, beta=1e-3, row_column=0, task_column=1, random_state=0).fit(X, y)
    obj = np.asarray(m.objective_path_)
    assert np.all(np.diff(obj) <= 1e-12 * obj[0])
    assert m.row_embedding_.shape == (n, 3) and m.feature_loadings_.shape == (0, 3)
    ti, tj = np.nonzero(~obs)
    pred = m.predict(np.column_stack([ti, tj]).astype(float))
    assert np.sqrt(np.mean((pred - M[ti, tj]) ** 2)) < 2 * noise
    # an unseen row id gets the task intercept only
    np.testing.assert_allclose(m.predict(np.array([[1e6, 0.0]])), m.intercept_[:1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_factorized_wide_with_row_identity_column():
    X, Y, F, *_ = _planted_regression(n=200, p=4, T=6, r=2)
    Xid = np.column_stack([np.arange(200), X])
    m = FactorizedRegressor(rank=2, row_column=0, random_state=0, max_iter=20).fit(Xid, Y)
    assert m.feature_loadings_.shape == (4, 2) and m.row_embedding_.shape == (200, 2)
    assert m.predict(Xid).shape == (200, 6)


def test_soft_impute_als_matches_svd_and_is_monotone():
    Xm, X, Z, miss = _planted_matrix(n=150, m=50, r=3, frac_missing=0.7)
    i, j = np.nonzero(~miss)
    S = sp.csr_matrix((Xm[i, j], (i, j)), shape=Xm.shape)
    svd = SoftImputer(alpha=2.0, svd_solver="full", tol=1e-9, max_iter=3000).fit(S)
    als = SoftImputer(alpha=2.0, max_rank=8, algorithm="als", tol=1e-12, max_iter=3000, random_state=0).fit(S)
    obj = np.asarray(als.objective_path_)
    assert np.all(np.diff(obj) <= 1e-12 * obj[0])
    assert als.rank_ == svd.rank_ <= 8
    np.testing.assert_allclose(als.singular_values_, svd.singular_values_, rtol=1e-3)
    mi, mj = np.nonzero(miss)
    np.testing.assert_allclose(als.predict_entries(mi, mj), svd.predict_entries(mi, mj), atol=1e-3)


@pytest.mark.parametrize("scoring", ["neg_mean_squared_error", "r2", "explained_variance"])
def test_reduced_rank_cv_scoring_matches_grid_search(scoring):
    # the one scoring convention of the *CV estimators: cv_scores_ is minus the mean
    # held-out score, the score GridSearchCV gives the plain model on the same folds
    from sklearn.model_selection import GridSearchCV, KFold

    from skmtl.datasets import make_multitask_regression
    from skmtl.model_selection import get_scorer

    X, Y, _ = make_multitask_regression(60, 6, 4, structure="low_rank", rank=2, noise=0.5, random_state=3)
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    alphas, ranks = [0.0, 0.1], [1, 2, 3]
    est = ReducedRankRegressorCV(ranks, alphas, cv=splits, scoring=scoring).fit(X, Y)
    gs_scoring = get_scorer(scoring) if scoring == "explained_variance" else scoring
    gs = GridSearchCV(ReducedRankRegressor(), {"alpha": alphas, "rank": ranks}, cv=splits,
                      scoring=gs_scoring).fit(X, Y)
    for params, score in zip(gs.cv_results_["params"], gs.cv_results_["mean_test_score"]):
        a, r = alphas.index(params["alpha"]), ranks.index(params["rank"])
        np.testing.assert_allclose(est.cv_scores_[a, r], -score, rtol=1e-8, err_msg=str(params))
    assert (est.alpha_, est.rank_) == (gs.best_params_["alpha"], gs.best_params_["rank"])
    with pytest.raises(ValueError, match="ReducedRankRegressorCV: scoring='accuracy' is not supported"):
        ReducedRankRegressorCV(cv=2, scoring="accuracy").fit(X, Y)
