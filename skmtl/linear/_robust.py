r"""Robust multi-task regression: a shared low-rank part plus outlier tasks.

Chen, Zhou & Ye (KDD 2011), "Integrating low-rank and group-sparse structures
for robust multi-task learning" (MALSAR's RMTL):

.. math::

    \min_{L, S, b} \; f(L + S, b) + \alpha \|L\|_* + \beta \sum_t \|S_{:, t}\|_2,

``W = L + S`` of shape (n_features, n_tasks). The related tasks share the
low-rank ``L``; a task that does not fit the shared structure gets a nonzero
column of ``S`` (an *outlier task*), so it no longer drags the others (no
negative transfer). Solved by FISTA on the stacked variable ``[L, S]``
(:class:`~skmtl.linear._datafits.SplitDatafit`,
:class:`~skmtl.linear._penalties.SplitPenalty`), with the trace-norm and
column-group proxes and a duality-gap stop.
"""

import numpy as np

from ._base import COMMON_CONSTRAINTS, NONNEGATIVE, numerical_rank, store_fista_result
from ._composite import split_strengths
from ._datafits import SplitDatafit
from ._fista import fista
from ._penalties import SplitPenalty, TraceNorm
from ._relationship import _check_int, _check_tol, _RegressorShell, _warn_fista
from ._relationship_penalties import ColumnL21

__all__ = ["RobustMultiTaskRegressor"]


class RobustMultiTaskRegressor(_RegressorShell):
    """Low-rank shared weights plus column-sparse outlier tasks (robust MTL).

    Minimizes (Chen, Zhou & Ye 2011)

    ``1/2 sum_i omega_i (y_i - x_i (l_t + s_t) - b_t)^2 + alpha ||L||_*
    + beta sum_t ||s_t||_2``.

    Parameters
    ----------
    alpha : float or None, default=None
        Trace-norm strength on the shared part ``L`` (its rank). None: a tenth of
        the strength that zeroes the part (``alpha_max`` of its penalty at the
        datafit gradient at ``W = 0``), stored as ``alpha_``.
    beta : float or None, default=None
        Group strength on the outlier part ``S`` (one group per task): larger None: a tenth
        of the part's ``alpha_max`` (``beta_``).
        values declare fewer tasks outliers.
    fit_intercept : bool, default=True
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
    max_iter : int, default=2000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance on the duality gap relative to the loss at ``W = 0``.
    task_column : str or int, default=None

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        ``L + S`` (transposed), the weights used for prediction.
    intercept_ : ndarray of shape (n_tasks,)
    shared_coef_ : ndarray of shape (n_tasks, n_features)
        The low-rank part ``L`` (transposed).
    outlier_coef_ : ndarray of shape (n_tasks, n_features)
        The column-sparse part ``S`` (transposed).
    outlier_tasks_ : ndarray
        Labels (from ``tasks_``) of the tasks with a nonzero outlier part.
    rank_ : int
        Rank of the shared part.
    dual_gap_ : float
    n_iter_ : int
    objective_ : float
    tasks_, n_tasks_, n_features_in_, feature_names_in_

    Examples
    --------
    >>> from skmtl.linear import RobustMultiTaskRegressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = RobustMultiTaskRegressor(alpha=1.0, beta=1.0).fit(X, Y)
    >>> model.shared_coef_.shape, model.outlier_coef_.shape
    ((4, 10), (4, 10))
    """

    _parameter_constraints = {"alpha": [None, NONNEGATIVE], "beta": [None, NONNEGATIVE], **COMMON_CONSTRAINTS}

    def __init__(self, alpha=None, beta=None, *, fit_intercept=True, task_weight=None, max_iter=2000,
                 tol=1e-6, task_column=None):
        self.alpha = alpha
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit on wide (``Y`` with NaN for missing targets) or long (``task_column``) input.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            With the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._fit_data(self._validate_fit(X, y, sample_weight))
        return self

    @staticmethod
    def _split_penalty(alpha, beta):
        return SplitPenalty(TraceNorm(alpha), ColumnL21(beta))

    def _fit_data(self, data, start=None):
        """Fit on validated data; returns the state (the stacked ``[L, S]`` and the intercepts) that
        warm-starts the next fit on the same data."""
        start = start or {}
        inner = self._make_datafit(data)
        alpha, beta = split_strengths(self, inner)
        _check_int(self.max_iter, "max_iter")
        _check_tol(self.tol)
        datafit = SplitDatafit(inner)
        res = fista(datafit, self._split_penalty(alpha, beta), start.get("coef"), start.get("intercept"),
                    max_iter=self.max_iter, tol=self.tol, warn=False)
        if not res.converged:
            _warn_fista("RobustMultiTaskRegressor", res, self.max_iter, self.tol)
        L, S = res.coef
        store_fista_result(self, res, L + S, strength=f"alpha={alpha:.4g}, beta={beta:.4g}")
        self.shared_coef_ = np.ascontiguousarray(L.T)
        self.outlier_coef_ = np.ascontiguousarray(S.T)
        norms = np.sqrt((S**2).sum(axis=0))
        self.outlier_tasks_ = self.tasks_[norms > 0]
        self.rank_ = numerical_rank(L.T)
        return {"coef": res.coef, "intercept": res.intercept}
