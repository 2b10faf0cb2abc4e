"""Cross-validation along a path: L21RegressorCV and the generic PathCVMixin."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator
from sklearn.linear_model import MultiTaskLassoCV

from skmtl.base import LinearModelMixin, MultiTaskRegressorMixin
from skmtl.linear._cv import PathCVMixin, path_cv_splits
from skmtl.linear._l21 import L21Regressor, L21RegressorCV
from skmtl.metrics import task_averaged_r2
from skmtl.model_selection import make_task_scorer

_SKLEARN_VERSION = tuple(int(v) for v in sklearn.__version__.split(".")[:2])


def _problem(seed=0, n=60, p=30, T=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = np.zeros((p, T))
    W[:4] = rng.standard_normal((4, T))
    Y = X @ W + rng.standard_normal((n, T)) + 1.0
    return X, Y


def test_same_alpha_as_multitask_lasso_cv():
    X, Y = _problem()
    ours = L21RegressorCV(n_alphas=10, cv=3, tol=1e-8).fit(X, Y)
    # scikit-learn 1.7 takes the number of alphas as ``alphas``; 1.6 as ``n_alphas``
    grid = {"alphas": 10} if _SKLEARN_VERSION >= (1, 7) else {"n_alphas": 10}
    ref = MultiTaskLassoCV(**grid, cv=3, tol=1e-8, max_iter=100000).fit(X, Y)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-10)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-4)
    assert ours.alpha_ == pytest.approx(ref.alpha_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    single = L21Regressor(ours.alpha_, tol=1e-10).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, single.coef_, atol=1e-5)
    assert ours.score_path_.shape == (10, 3) and ours.n_iter_ >= 0


def test_parallel_folds_and_scoring():
    X, Y = _problem(1)
    a = L21RegressorCV(n_alphas=6, cv=3).fit(X, Y)
    b = L21RegressorCV(n_alphas=6, cv=3, n_jobs=2).fit(X, Y)
    np.testing.assert_allclose(a.mse_path_, b.mse_path_)
    r2 = L21RegressorCV(n_alphas=6, cv=3, scoring="r2").fit(X, Y)
    assert not hasattr(r2, "mse_path_") and np.all(r2.score_path_ <= 1)
    f = L21RegressorCV(n_alphas=6, cv=3, scoring=make_task_scorer(task_averaged_r2)).fit(X, Y)
    np.testing.assert_allclose(f.score_path_, r2.score_path_, atol=1e-12)
    with pytest.raises(ValueError, match="scoring"):
        L21RegressorCV(n_alphas=3, cv=3, scoring="bogus").fit(X, Y)


def test_long_folds_stratified_by_task():
    X, Y = _problem(2, n=40)
    rng = np.random.default_rng(2)
    rows, tasks = np.nonzero(rng.random(Y.shape) < 0.7)
    Xl = np.column_stack([tasks, X[rows]])
    yl = Y[rows, tasks]
    m = L21RegressorCV(n_alphas=5, cv=4, task_column=0).fit(Xl, yl)
    data = m._validate_fit(Xl, yl)
    for train, test in path_cv_splits(data, 4):
        assert set(Xl[test, 0]) == set(range(3)) and set(Xl[train, 0]) == set(range(3))
    assert m.predict(Xl).shape == (len(yl),)


def _ridge_path(data, alphas, *, fit_intercept=True):
    """Closed-form per-task ridge on complete data, as a second path for the mixin."""
    X, Y = data.X, data.Y
    xm, ym = (X.mean(0), Y.mean(0)) if fit_intercept else (np.zeros(X.shape[1]), np.zeros(Y.shape[1]))
    Xc, Yc = X - xm, Y - ym
    n = X.shape[0]
    coefs = np.array([np.linalg.solve(Xc.T @ Xc / n + a * np.eye(X.shape[1]), Xc.T @ Yc / n).T for a in alphas])
    return coefs, ym - coefs @ xm


class _RidgeCV(PathCVMixin, LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    _path_func = staticmethod(_ridge_path)
    _alpha_max_func = staticmethod(lambda data, **_: 10.0)

    def __init__(self, alphas=None, *, n_alphas=20, eps=1e-4, cv=4, n_jobs=None, scoring=None,
                 fit_intercept=True, task_column=None):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.task_column = task_column

    def _path_params(self):
        return {"fit_intercept": self.fit_intercept}


def test_mixin_generic_over_path():
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold

    X, Y = _problem(3, n=80, p=10)
    m = _RidgeCV().fit(X, Y)
    assert m.alphas_[0] == 10.0 and m.coef_.shape == (3, 10)
    # same choice as scikit-learn's grid search on the same folds (alpha scaled by n)
    n_train = 60
    ref = RidgeCV(alphas=m.alphas_ * n_train, cv=KFold(4), scoring="neg_mean_squared_error").fit(X, Y)
    assert m.alpha_ * n_train == pytest.approx(ref.alpha_)


@pytest.mark.parametrize("kind", ["wide_nan_weighted", "long", "sparse", "float32"])
def test_alpha_by_alpha_fold_scores_equal_stored_path(kind, monkeypatch):
    """L21RegressorCV scores each alpha as it is solved; the generic route
    (store the fold's path, then predict) must give the same score path."""
    import scipy.sparse as sp

    X, Y = _problem(4, n=50, p=40, T=3)
    rng = np.random.default_rng(0)
    kw, fit_kw = {}, {}
    if kind == "wide_nan_weighted":
        Y[rng.random(Y.shape) < 0.2] = np.nan
        fit_kw["sample_weight"] = rng.uniform(0.5, 2.0, len(X))
    elif kind == "long":
        rows, tasks = np.nonzero(rng.random(Y.shape) < 0.7)
        X, Y = np.column_stack([tasks, X[rows]]), Y[rows, tasks]
        kw["task_column"] = 0
    elif kind == "sparse":
        X = sp.csr_matrix(np.where(rng.random(X.shape) < 0.3, X, 0.0))
    else:
        X = np.asfortranarray(X, dtype=np.float32)
    fast = L21RegressorCV(n_alphas=8, cv=3, **kw).fit(X, Y, **fit_kw)
    monkeypatch.setattr(L21RegressorCV, "_path_predict_func", None)
    stored = L21RegressorCV(n_alphas=8, cv=3, **kw).fit(X, Y, **fit_kw)
    np.testing.assert_allclose(fast.score_path_, stored.score_path_, rtol=1e-6 if kind == "float32" else 1e-10)
    assert fast.alpha_ == stored.alpha_


@pytest.mark.parametrize("make", [lambda: L21RegressorCV(n_alphas=4, cv=3, max_iter=1, tol=1e-14),
                                  lambda: __import__("skmtl.linear", fromlist=["x"]).TraceNormRegressorCV(
                                      n_alphas=4, cv=3, max_iter=1, tol=1e-14)],
                         ids=["L21RegressorCV", "TraceNormRegressorCV"])
def test_cv_refit_warns_when_not_converged(make):
    """Folds stay silent; the final model on all the data warns with what to change."""
    from sklearn.exceptions import ConvergenceWarning

    X, Y = _problem(6)
    with pytest.warns(ConvergenceWarning, match="max_iter") as record:
        make().fit(X, Y)
    assert len([w for w in record if issubclass(w.category, ConvergenceWarning)]) == 1
