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

This module also holds the shell of the FISTA regressors
(:class:`_ProxLinearRegressor`).
"""


from sklearn.base import BaseEstimator

from .._new_task import _SubspaceTransferMixin
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._base import (
    COMMON_CONSTRAINTS,
    CV_CONSTRAINTS,
    NONNEGATIVE,
    SCORING_CONSTRAINT,
    check_solver_params,
    numerical_rank,
    resolve_alpha,
    store_fista_result,
)
from ._cv import PathCVMixin
from ._datafits import make_squared_loss
from ._fista import fista
from ._path import _trace_norm_path_data, trace_norm_alpha_max
from ._penalties import TraceNorm

__all__ = ["TraceNormRegressor", "TraceNormRegressorCV"]

def _trace_cv_alpha_max(data, *, fit_intercept=True, task_weight=None, **_):
    return trace_norm_alpha_max(data, fit_intercept=fit_intercept, task_weight=task_weight)


class _ProxLinearRegressor(LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    """Shell for FISTA regressors: squared loss + a penalty from ``_penalty()``."""

    _accept_sparse = True

    def _make_datafit(self, data):
        return make_squared_loss(data, task_weight=self.task_weight, fit_intercept=self.fit_intercept)

    def _set_result(self, res):
        return store_fista_result(self, res)


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
    alpha : float or None, default=None
        Strength of the trace norm.
        None: a tenth of ``alpha_max`` on the training data (stored as
        ``alpha_``), a low-rank, non-zero model at any scaling of the data.
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
    alpha_ : float
        The strength fitted.
    rank_ : int
        Numerical rank of ``coef_``.
    n_iter_ : int
    dual_gap_ : float
        Duality gap at the solution.
    objective_ : float

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import TraceNormRegressor
    >>> X, Y, coef = make_multitask_regression(80, 10, 6, structure="low_rank", rank=1, noise=0.1, random_state=0)
    >>> model = TraceNormRegressor(alpha=1.0).fit(X, Y)
    >>> model.coef_.shape, model.rank_
    ((6, 10), 1)
    """

    _parameter_constraints = {"alpha": [None, NONNEGATIVE], **COMMON_CONSTRAINTS}

    def __init__(self, alpha=None, *, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    _penalty_class = TraceNorm

    def fit(self, X, y, sample_weight=None):
        """Fit on wide (``Y`` with NaN for missing) or long (``task_column``) input.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training data, with the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Targets: one column per task (wide; NaN marks a missing target) or one
            value per row (long input).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        data = self._validate_fit(X, y, sample_weight)
        alpha = resolve_alpha(self, self.alpha, lambda: trace_norm_alpha_max(
            data, fit_intercept=self.fit_intercept, task_weight=self.task_weight))
        check_solver_params(self)
        res = fista(self._make_datafit(data), TraceNorm(alpha), max_iter=self.max_iter, tol=self.tol)
        store_fista_result(self, res, strength=f"alpha={alpha:.4g}")
        self.rank_ = numerical_rank(self.coef_)
        return self


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
    scoring : None, str or callable, default=None
        How a held-out fold scores each point of the path, greater is better
        (skmtl's one convention, that of scikit-learn): ``None``, the weighted
        mean squared error on held-out observations (the datafit weights),
        negated; scikit-learn's ``"r2"`` (mean over tasks of the per-task
        R^2), ``"neg_mean_squared_error"`` (as None) or
        ``"neg_mean_absolute_error"``; a skmtl scorer name
        (``skmtl.model_selection.get_scorer_names()``: ``"task_r2"``,
        ``"explained_variance"``, ``"neg_nmse"``, ``"neg_arrmse"``) or scorer
        (``get_scorer``, ``make_task_scorer``); or any scorer callable
        ``scorer(estimator, X, y)``, called with the held-out rows and a
        stand-in estimator that predicts the path's predictions. Another string
        raises a ``ValueError``.
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

    Examples
    --------
    >>> from skmtl.linear import TraceNormRegressorCV
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = TraceNormRegressorCV(n_alphas=10, cv=3).fit(X, Y)
    >>> model.alphas_.shape, model.coef_.shape
    ((10,), (4, 10))
    """

    _path_func = staticmethod(_trace_norm_path_data)
    _alpha_max_func = staticmethod(_trace_cv_alpha_max)

    _parameter_constraints = {**CV_CONSTRAINTS, "scoring": SCORING_CONSTRAINT, **COMMON_CONSTRAINTS}

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
        check_solver_params(self)
        return {"fit_intercept": self.fit_intercept, "task_weight": self.task_weight,
                "tol": self.tol, "max_iter": self.max_iter}

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate ``alpha`` and refit on all the data.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            With the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group label of each row, passed to the ``split`` of a splitter ``cv``.

        Returns
        -------
        self
        """
        super().fit(X, y, sample_weight, groups)
        self.rank_ = numerical_rank(self.coef_)
        return self
