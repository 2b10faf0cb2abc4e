r"""Sparse group lasso across tasks: features shared by the tasks, with task-specific zeros.

.. math::

    \min_{W, b} \; \frac12 \sum_i \omega_i \,(y_i - x_i w_{t(i)} - b_{t(i)})^2
    + \alpha \sum_{j} f_j \|W_{j\cdot}\|_2 + \beta \sum_{j} f_j \|W_{j\cdot}\|_1

The L2,1 part zeroes whole rows (a feature dropped by every task), the L1
part single entries (a selected feature that some tasks do not use)
(Simon, Friedman, Hastie & Tibshirani 2013; SPAMS, adelie). Same data layer
and solver as :class:`~skmtl.linear.L21Regressor`: the block update
soft-thresholds the entries of the row, then the row (the prox of the sum),
and the duality gap uses the dual ball ``{u + v: ||u||_2 <= alpha f_j,
||v||_inf <= beta f_j}`` of each row.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator

from .._param_validation import Interval, StrOptions, validate_params
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._base import (
    CV_CONSTRAINTS,
    SCORING_CONSTRAINT,
    check_l1_ratios,
    check_penalty_factor,
    fit_block_solver,
    resolve_alpha,
)
from ._cv import PathCVMixin
from ._l21 import _l21_cv_alpha_max, _l21_cv_path
from ._path import _l21_path_predictions
from ._screened import make_l21_solver

__all__ = ["SparseGroupRegressor", "SparseGroupRegressorCV"]


def _split(alpha, beta):
    """``(total strength, L1 share)`` of the solver for the strengths ``alpha`` (group), ``beta`` (L1)."""
    total = float(alpha) + float(beta)
    return total, (float(beta) / total if total > 0 else 0.0)


class SparseGroupRegressor(LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    """Multi-task sparse group lasso: ``alpha ||W||_{2,1} + beta ||W||_1``.

    Minimizes ``1/2 sum_i omega_i (y_i - x_i w_t(i) - b_t(i))^2 + sum_j f_j (alpha ||W_j||_2
    + beta ||W_j||_1)`` with ``W_j`` feature ``j``'s coefficients across tasks
    (see the module docstring): whole features are dropped for every task and,
    among the kept ones, single task coefficients are zero. ``beta=0`` is
    :class:`L21Regressor`; ``alpha=0`` is a lasso for each task.

    Parameters
    ----------
    alpha : float or None, default=None
        Strength of the L2,1 (row) penalty.
    beta : float or None, default=None
        Strength of the entrywise L1 penalty. One of them None: equal to the
        other. Both None: ``alpha = beta`` with ``alpha + beta`` a tenth of the
        smallest total strength that zeroes every penalized coefficient on the
        training data (``alpha_``, ``beta_``): a sparse, non-empty default at
        any scaling of the data.
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative factor ``f_j`` of both penalties of each feature, 0 for an
        unpenalized feature; rescaled to sum to ``n_features`` (glmnet's
        ``penalty.factor``).
    fit_intercept : bool, default=True
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
    max_iter : int, default=1000
        Maximum number of block coordinate descent epochs.
    tol : float, default=1e-4
        Duality gap tolerance relative to the centered target energy (as
        :class:`L21Regressor`).
    warm_start : bool, default=False
    task_column : str or int, default=None
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    alpha_, beta_ : float
        The strengths fitted.
    dual_gap_ : float
    n_iter_ : int
    n_features_in_, feature_names_in_, tasks_, n_tasks_

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import SparseGroupRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 8))
    >>> Y = X[:, :2] @ np.array([[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]]) + 0.1 * rng.standard_normal((50, 3))
    >>> m = SparseGroupRegressor(alpha=0.05, beta=0.05).fit(X, Y)
    >>> bool(np.all(m.coef_[:, 2:] == 0)), int((m.coef_[:, :2] == 0).sum())
    (True, 2)
    """

    _accept_sparse = True
    _fit_dtypes = (np.float64, np.float32)

    _parameter_constraints = {
        "alpha": [None, Interval(numbers.Real, 0, None, closed="left")],
        "beta": [None, Interval(numbers.Real, 0, None, closed="left")],
        "penalty_factor": [None, "array-like"],
        "fit_intercept": ["boolean"],
        "task_weight": [None, StrOptions({"balanced"}), "array-like"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "task_column": [None, str, numbers.Integral],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha=None, beta=None, *, penalty_factor=None, fit_intercept=True, task_weight=None,
                 max_iter=1000, tol=1e-4, warm_start=False, task_column=None, verbose=0):
        self.alpha = alpha
        self.beta = beta
        self.penalty_factor = penalty_factor
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.task_column = task_column
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            With the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Wide targets (NaN marks a missing target) or long targets.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        validate_params(self)
        prev = getattr(self, "coef_", None) if self.warm_start else None
        data = self._validate_fit(X, y, sample_weight)
        name = type(self).__name__
        f = check_penalty_factor(self.penalty_factor, data.n_features, name)
        alpha = self.beta if self.alpha is None else self.alpha  # one None: equal to the other
        beta = alpha if self.beta is None else self.beta
        total, share = (None, 0.5) if alpha is None else _split(alpha, beta)
        solver = make_l21_solver(data, fit_intercept=self.fit_intercept, task_weight=self.task_weight,
                           penalty_factor=f, penalty="sparse_group", l1_share=share)
        total = resolve_alpha(self, total, solver.alpha_max)
        self.alpha_, self.beta_ = total * (1.0 - share), total * share
        return fit_block_solver(self, solver, total, prev)


def _sg_cv_path(data, alphas, *, warn=False, **params):
    return _l21_cv_path(data, alphas, penalty="sparse_group", warn=warn, **params)


def _sg_cv_predictions(train, test, alphas, **params):
    return _l21_path_predictions(train, test, alphas, penalty="sparse_group", **params)


def _sg_cv_alpha_max(data, **params):
    return _l21_cv_alpha_max(data, penalty="sparse_group", **params)


class SparseGroupRegressorCV(PathCVMixin, LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    """Sparse group lasso with its strength and L1 share chosen by cross-validation.

    The penalty is written ``lambda sum_j f_j ((1 - l1_ratio) ||W_j||_2 + l1_ratio ||W_j||_1)``
    (skglm's ``SparseGroupL1`` convention: ``l1_ratio=1`` is the lasso, 0 the group
    lasso). For each ``l1_ratio`` the path over ``lambda`` (warm starts from
    ``lambda_max``, where every coefficient is zero) is cross-validated on every
    fold, (``l1_ratio``, fold) pairs in parallel; the best pair is refit on all
    the data and reported as the :class:`SparseGroupRegressor` strengths
    ``alpha_ = lambda (1 - l1_ratio)`` and ``beta_ = lambda l1_ratio``.

    Parameters
    ----------
    alphas : array-like, default=None
        Grid of the total strength ``lambda``; default ``n_alphas`` values from
        ``lambda_max`` down to ``eps * lambda_max`` (one grid per ``l1_ratio``).
    l1_ratio : float or list of float in [0, 1], default=0.5
        Share of the entrywise L1 penalty; a list is cross-validated.
    penalty_factor : array-like of shape (n_features,), default=None
        See :class:`SparseGroupRegressor`.
    n_alphas : int, default=100
    eps : float, default=1e-3
    cv : int, splitter or iterable, default=5
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
    fit_intercept, task_weight, max_iter, tol, task_column, verbose
        As :class:`SparseGroupRegressor`.

    Attributes
    ----------
    alpha_ : float
        Selected L2,1 strength.
    beta_ : float
        Selected L1 strength.
    l1_ratio_ : float
    lambda_ : float
        Selected total strength ``alpha_ + beta_``.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        Grid(s) of ``lambda``.
    score_path_, mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> from skmtl.linear import SparseGroupRegressorCV
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = SparseGroupRegressorCV(n_alphas=10, cv=3).fit(X, Y)
    >>> model.alphas_.shape, model.coef_.shape
    ((10,), (4, 10))
    """

    _accept_sparse = True
    _fit_dtypes = (np.float64, np.float32)
    _path_func = staticmethod(_sg_cv_path)
    _path_predict_func = staticmethod(_sg_cv_predictions)
    _refit_along_path = False  # the working-set solver starts cold faster than it walks the path
    _alpha_max_func = staticmethod(_sg_cv_alpha_max)

    _parameter_constraints = {
        **{k: v for k, v in SparseGroupRegressor._parameter_constraints.items()
           if k not in ("alpha", "beta", "warm_start")},
        **CV_CONSTRAINTS,
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both"), "array-like"],  # a list is cross-validated
        "scoring": SCORING_CONSTRAINT,
    }

    def __init__(self, alphas=None, *, l1_ratio=0.5, penalty_factor=None, n_alphas=100, eps=1e-3, cv=5,
                 n_jobs=None, scoring=None, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-4,
                 task_column=None, verbose=0):
        self.alphas = alphas
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
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
        return {"fit_intercept": self.fit_intercept, "task_weight": self.task_weight,
                "tol": self.tol, "max_iter": self.max_iter,
                "penalty_factor": check_penalty_factor(self.penalty_factor, self.n_features_in_,
                                                       type(self).__name__)}

    def _grid_points(self, data):
        ratios = check_l1_ratios(self.l1_ratio, type(self).__name__)
        return [{"l1_share": float(r)} for r in ratios]

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate ``(lambda, l1_ratio)``, then refit on all the data.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group label of each row, passed to the ``split`` of a splitter ``cv``.

        Returns
        -------
        self
        """
        super().fit(X, y, sample_weight, groups)
        share = float(self.__dict__.pop("l1_share_"))
        self.l1_ratio_ = share
        self.lambda_ = self.alpha_
        self.alpha_ = self.lambda_ * (1.0 - share)
        self.beta_ = self.lambda_ * share
        return self
