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
import warnings

import numpy as np
from joblib import delayed
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from .._new_task import _SubspaceTransferMixin
from .._progress import parallel_progress
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._contract import check_parts
from ._cv import PathCVMixin, path_cv_splits
from ._datafits import make_squared_loss
from ._fista import FISTA_DATAFIT_REQUIRED, FISTA_PENALTY_REQUIRED, fista, fista_path
from ._path import _trace_norm_path_data, trace_norm_alpha_max
from ._penalties import TraceNorm

__all__ = ["TraceNormRegressor", "TraceNormRegressorCV"]

#: What the cross-validation of :class:`_FistaCVMixin` needs besides FISTA: the
#: held-out ``mean_loss`` of the datafit and the penalty's ``alpha_max`` (the grid).
FISTA_CV_DATAFIT_REQUIRED = FISTA_DATAFIT_REQUIRED + ("mean_loss",)
FISTA_CV_PENALTY_REQUIRED = FISTA_PENALTY_REQUIRED + ("alpha_max",)


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


def _alpha_grid(alpha_max, n_alphas, eps):
    if alpha_max <= 0:
        return np.full(n_alphas, 1e-12)
    return np.geomspace(alpha_max, alpha_max * eps, n_alphas)


def _fold_path(make_datafit, make_penalty, data, train, test, alphas, max_iter, tol):
    train_df = make_datafit(data.subset_rows(np.sort(train)))
    test_df = make_datafit(data.subset_rows(np.sort(test)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        coefs, intercepts, _ = fista_path(
            train_df, make_penalty, alphas, max_iter=max_iter, tol=tol, warn=False
        )
    return np.array([test_df.mean_loss(W, b) for W, b in zip(coefs, intercepts)])


class _FistaCVMixin:
    """Cross-validation over a warm-started grid from ``alpha_max`` (classifiers).

    Folds come from :func:`~skmtl.linear._cv.path_cv_splits` (sets of rows;
    for long input every task is split, so every task is in every fold) and
    are fitted in parallel with joblib (``n_jobs``; threads by default, since
    the products and SVDs release the GIL). The score of a fold is minus the
    datafit per unit of weight on its held-out observations (the mean
    log-loss); ``alpha_`` maximizes the mean over folds and the model is then
    refitted on all the data at ``alpha_``.
    """

    def _cv_fit(self, data):
        make_datafit = self._make_datafit
        make_penalty = self._penalty_factory(data.n_features)
        full_df = make_datafit(data)
        pen = make_penalty(1.0)
        check_parts(f"{type(self).__name__} cross-validation", full_df, pen,
                    FISTA_CV_DATAFIT_REQUIRED, FISTA_CV_PENALTY_REQUIRED)
        if self.alphas is None:
            W0, b0 = full_df.init_coef()
            if pen.n_unpenalized:
                # the grid starts at the model of the unpenalized features alone
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    res = fista(full_df, make_penalty(1e300), max_iter=self.max_iter, tol=self.tol)
                W0, b0 = res.coef, res.intercept
            _, G0, _ = full_df.value_grad(W0, b0)
            if isinstance(self.n_alphas, bool) or not isinstance(self.n_alphas, numbers.Integral) or self.n_alphas < 1:
                raise ValueError(f"n_alphas must be a positive integer; got {self.n_alphas!r}.")
            alpha_max = pen.alpha_max(G0)
            alphas = _alpha_grid(alpha_max, int(self.n_alphas), self.eps)
        else:
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]
            if len(alphas) == 0 or np.any(alphas < 0):
                raise ValueError("alphas must be a non-empty array of non-negative strengths.")
        splits = path_cv_splits(data, self.cv)
        losses = parallel_progress(
            (delayed(_fold_path)(make_datafit, make_penalty, data, tr, te, alphas, self.max_iter, self.tol)
             for tr, te in splits),
            self.n_jobs, getattr(self, "verbose", 0), desc=f"{type(self).__name__} folds", total=len(splits))
        score_path = -np.array(losses).T  # (n_alphas, n_folds)
        best = int(np.argmax(score_path.mean(axis=1)))
        self.alphas_ = alphas
        self.score_path_ = score_path
        self.alpha_ = float(alphas[best])
        coefs, intercepts, n_iters = fista_path(
            full_df, make_penalty, alphas[: best + 1], max_iter=self.max_iter, tol=self.tol
        )
        return coefs[-1], intercepts[-1], n_iters[-1], full_df


def _trace_cv_alpha_max(data, *, fit_intercept=True, task_weight=None, **_):
    return trace_norm_alpha_max(data, fit_intercept=fit_intercept, task_weight=task_weight)


class _ProxLinearRegressor(LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    """Shell for FISTA regressors: squared loss + a penalty from ``_penalty()``."""

    _accept_sparse = True

    def _make_datafit(self, data):
        return make_squared_loss(data, task_weight=self.task_weight, fit_intercept=self.fit_intercept)

    def _set_result(self, res):
        W = res.coef
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = res.intercept.copy() if self.fit_intercept else np.zeros(W.shape[1])
        self.n_iter_ = res.n_iter
        self.dual_gap_ = res.dual_gap
        self.objective_ = res.objective
        return self


class TraceNormRegressor(_SubspaceTransferMixin, _ProxLinearRegressor):
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


class TraceNormRegressorCV(_SubspaceTransferMixin, PathCVMixin, _ProxLinearRegressor):
    """:class:`TraceNormRegressor` with ``alpha`` chosen by cross-validation.

    Built on :class:`~skmtl.linear._cv.PathCVMixin`: a grid of ``n_alphas``
    strengths from ``alpha_max`` (:func:`trace_norm_alpha_max`) down to
    ``eps * alpha_max`` is fitted with warm starts on each fold
    (:func:`trace_norm_path`; folds of rows, in parallel with ``n_jobs``);
    ``alpha_`` maximizes the mean held-out score and the path is refitted on
    all the data down to ``alpha_``.

    Parameters
    ----------
    alphas : array-like, default=None
        Grid of strengths; automatic when None.
    n_alphas : int, default=30
    eps : float, default=1e-3
        Ratio ``alpha_min / alpha_max`` of the automatic grid.
    cv : int, splitter or iterable of (train, test) rows, default=5
    n_jobs : int, default=None
    scoring : None, "neg_mean_squared_error", "r2" or callable, default=None
        None is the held-out weighted mean squared error.
    fit_intercept, task_weight, max_iter, tol, task_column
        As in :class:`TraceNormRegressor`.
    verbose : int, default=0
        Progress bar over the folds when positive.

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,)
    score_path_ : ndarray of shape (n_alphas, n_folds)
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        With ``scoring=None``.
    coef_, intercept_, rank_, n_iter_
    """

    _path_func = staticmethod(_trace_norm_path_data)
    _alpha_max_func = staticmethod(_trace_cv_alpha_max)

    def __init__(self, alphas=None, *, n_alphas=30, eps=1e-3, cv=5, n_jobs=None, scoring=None,
                 fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None, verbose=0):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column
        self.verbose = verbose

    def _path_params(self):
        _check_solver_params(self)
        return {"fit_intercept": self.fit_intercept, "task_weight": self.task_weight,
                "tol": self.tol, "max_iter": self.max_iter}

    def fit(self, X, y, sample_weight=None):
        """Cross-validate ``alpha`` and refit on all the data."""
        super().fit(X, y, sample_weight)
        self.rank_ = _rank(self.coef_)
        return self
