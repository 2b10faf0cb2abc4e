"""Trace-norm (nuclear-norm) multi-task regression, and the shared FISTA shells.

:class:`TraceNormRegressor` solves (Ji & Ye, ICML 2009; Argyriou, Evgeniou &
Pontil 2008 for the convex multi-task feature learning view)

.. math::

    \\min_{W, b} \\; \\frac{1}{2} \\sum_i \\omega_i (y_i - x_i w_{t_i} - b_{t_i})^2
    + \\alpha \\|W\\|_*,

``W`` of shape (n_features, n_tasks), ``||W||_*`` the sum of its singular
values. On complete wide input without weights the datafit is
``1/(2n) ||Y - XW - 1 b^T||_F^2``. Tasks share a low-dimensional subspace of
predictors. Solved by :func:`~skmtl.linear._fista.fista` (singular value
soft-thresholding as prox) with a duality-gap stop.

This module also holds the thin estimator shells that every FISTA-based
linear model of skmtl shares (parameter checks, the regularization path and
cross-validation).
"""

import numbers

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.model_selection import KFold, check_cv

from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._datafits import SquaredLoss
from ._fista import fista
from ._penalties import TraceNorm

__all__ = ["TraceNormRegressor", "TraceNormRegressorCV", "fista_path"]


# --------------------------------------------------------------------------
# shared plumbing
# --------------------------------------------------------------------------


def _check_strength(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number; got {value!r}.")
    return float(value)


def _check_solver_params(est):
    if isinstance(est.max_iter, bool) or not isinstance(est.max_iter, numbers.Integral) or est.max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {est.max_iter!r}.")
    if isinstance(est.tol, bool) or not isinstance(est.tol, numbers.Real) or not est.tol > 0:
        raise ValueError(f"tol must be a positive number; got {est.tol!r}.")


def fista_path(datafit, make_penalty, alphas, *, max_iter=1000, tol=1e-6, warn=True):
    """Solutions along a grid of strengths, warm-started from the previous one.

    Parameters
    ----------
    datafit : datafit object
    make_penalty : callable
        ``make_penalty(alpha)`` returns the penalty at strength ``alpha``.
    alphas : array-like
        Strengths, best in decreasing order (from ``alpha_max``).

    Returns
    -------
    coefs : list of ndarray, intercepts : list of ndarray, n_iters : list of int
    """
    coefs, intercepts, n_iters = [], [], []
    W = b = None
    L = None
    for a in alphas:
        res = fista(
            datafit, make_penalty(a), W, b, max_iter=max_iter, tol=tol, lipschitz=L, warn=warn
        )
        W, b, L = res.coef, res.intercept, res.lipschitz
        coefs.append(W.copy())
        intercepts.append(b.copy())
        n_iters.append(res.n_iter)
    return coefs, intercepts, n_iters


def _alpha_grid(alpha_max, n_alphas, eps):
    if alpha_max <= 0:
        return np.full(n_alphas, 1e-12)
    return np.geomspace(alpha_max, alpha_max * eps, n_alphas)


def _fold_path(make_datafit, make_penalty, data, train, test, alphas, max_iter, tol):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    train_df = make_datafit(data.subset_rows(train))
    test_df = make_datafit(data.subset_rows(test))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        coefs, intercepts, _ = fista_path(
            train_df, make_penalty, alphas, max_iter=max_iter, tol=tol, warn=False
        )
    return np.array([test_df.mean_loss(W, b) for W, b in zip(coefs, intercepts)])


class _FistaCVMixin:
    """Cross-validation over a warm-started grid from ``alpha_max``.

    Folds are sets of rows of ``X`` (both layouts), fitted in parallel with
    joblib (``n_jobs``; threads by default, since the products and SVDs release
    the GIL; ``joblib.parallel_config(backend="loky")`` switches to processes); the score of a fold is the datafit per unit of weight
    on its held-out observations (mean squared error, or log-loss for the
    classifiers). ``alpha_`` minimizes the mean over folds; the model is then
    refitted on all the data at ``alpha_``.
    """

    def _cv_fit(self, data):
        make_datafit = self._make_datafit
        full_df = make_datafit(data)
        W0, b0 = full_df.init_coef()
        _, G0, _ = full_df.value_grad(W0, b0)
        if self.alphas is None or isinstance(self.alphas, numbers.Integral):
            n_alphas = 20 if self.alphas is None else int(self.alphas)
            if n_alphas < 1:
                raise ValueError(f"alphas must be a positive integer or an array; got {self.alphas!r}.")
            alpha_max = self._penalty_class(1.0).alpha_max(G0)
            alphas = _alpha_grid(alpha_max, n_alphas, self.eps)
        else:
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64))[::-1]
            if alphas.ndim != 1 or len(alphas) == 0 or np.any(alphas < 0):
                raise ValueError("alphas must be a non-empty 1-D array of non-negative strengths.")
        cv = check_cv(self.cv) if not isinstance(self.cv, numbers.Integral) else KFold(self.cv)
        splits = list(cv.split(np.zeros((data.n_samples, 1))))
        scores = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_fold_path)(
                make_datafit, self._penalty_class, data, tr, te, alphas, self.max_iter, self.tol
            )
            for tr, te in splits
        )
        scores = np.array(scores).T  # (n_alphas, n_folds)
        best = int(np.argmin(scores.mean(axis=1)))
        self.alphas_ = alphas
        self.cv_scores_ = scores
        self.alpha_ = float(alphas[best])
        res = fista(
            full_df, self._penalty_class(self.alpha_), max_iter=self.max_iter, tol=self.tol
        )
        return res


class _ProxLinearRegressor(LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    """Shell for FISTA regressors: squared loss + a penalty from ``_penalty()``."""

    _accept_sparse = True

    def _make_datafit(self, data):
        return SquaredLoss(data, task_weight=self.task_weight, fit_intercept=self.fit_intercept)

    def _set_result(self, res):
        W = res.coef
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = res.intercept.copy() if self.fit_intercept else np.zeros(W.shape[1])
        self.n_iter_ = res.n_iter
        self.dual_gap_ = res.dual_gap
        self.objective_ = res.objective
        return self


class TraceNormRegressor(_ProxLinearRegressor):
    """Multi-task regression with a trace-norm (nuclear-norm) penalty.

    Minimizes ``1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2 + alpha ||W||_*``,
    i.e. ``1/(2n) ||Y - XW - 1 b^T||_F^2 + alpha ||W||_*`` on complete wide
    input (Ji & Ye 2009). Large ``alpha`` gives a low-rank ``W``: the tasks'
    weight vectors live in a shared low-dimensional subspace. ``alpha`` at or
    above ``alpha_max = ||X^T Omega R_0||_2`` (spectral norm of the gradient
    at ``W = 0``) gives ``W = 0``.

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the trace norm.
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit (see ``MultiTaskData.observation_weights``).
    max_iter : int, default=1000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance on the duality gap relative to the loss at ``W = 0``.
    task_column : str or int, default=None
        Task column of long input.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    rank_ : int
        Numerical rank of ``coef_``.
    n_iter_ : int
    dual_gap_ : float
        Duality gap at the solution.
    objective_ : float
    """

    def __init__(self, alpha=1.0, *, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    _penalty_class = TraceNorm

    def fit(self, X, y, sample_weight=None):
        """Fit on wide (``Y`` with NaN for missing) or long (``task_column``) input."""
        data = self._validate_fit(X, y, sample_weight)
        alpha = _check_strength(self.alpha, "alpha")
        _check_solver_params(self)
        res = fista(self._make_datafit(data), TraceNorm(alpha), max_iter=self.max_iter, tol=self.tol)
        self._set_result(res)
        self.rank_ = _rank(self.coef_)
        return self


def _rank(C):
    if C.size == 0:
        return 0
    s = np.linalg.svd(C, compute_uv=False)
    return int(np.sum(s > max(C.shape) * np.finfo(float).eps * max(s.max(initial=0.0), 1e-300)))


class TraceNormRegressorCV(_FistaCVMixin, _ProxLinearRegressor):
    """:class:`TraceNormRegressor` with ``alpha`` chosen by cross-validation.

    A grid of ``alphas`` strengths from ``alpha_max`` down to
    ``eps * alpha_max`` is fitted with warm starts on each fold (folds of rows,
    in parallel with ``n_jobs``); ``alpha_`` minimizes the mean held-out
    squared error and the model is refitted at ``alpha_`` on all the data.

    Parameters
    ----------
    alphas : int or array-like, default=None
        Number of strengths on the automatic grid (20 when None) or the grid.
    eps : float, default=1e-3
        Ratio ``alpha_min / alpha_max`` of the automatic grid.
    cv : int or cross-validation splitter, default=5
    n_jobs : int, default=None
    fit_intercept, task_weight, max_iter, tol, task_column
        As in :class:`TraceNormRegressor`.

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,)
    cv_scores_ : ndarray of shape (n_alphas, n_folds)
        Held-out mean squared error (per unit of weight).
    coef_, intercept_, rank_, n_iter_, dual_gap_
    """

    _penalty_class = TraceNorm

    def __init__(self, alphas=None, *, eps=1e-3, cv=5, n_jobs=None, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None):
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Cross-validate ``alpha`` and refit on all the data."""
        data = self._validate_fit(X, y, sample_weight)
        _check_solver_params(self)
        res = self._cv_fit(data)
        self._set_result(res)
        self.rank_ = _rank(self.coef_)
        return self
