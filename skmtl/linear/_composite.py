"""Regressors whose coefficients are the sum of two structured parts, ``W = P + Q``.

Both are solved by FISTA on the stacked variable ``[P, Q]`` with the separable
penalty ``pen_P(P) + pen_Q(Q)`` (:class:`~skmtl.linear._penalties.SplitPenalty`):
the datafit sees ``P + Q`` (:class:`~skmtl.linear._datafits.SplitDatafit`) and
the prox acts on each part. The stop is the duality gap of the equivalent
problem in ``W`` with the infimal-convolution penalty, whose dual norm is
``max(N_P*(G) / alpha, N_Q*(G) / beta)``.
"""

import numpy as np

from ._base import (
    COMMON_CONSTRAINTS,
    DEFAULT_ALPHA_RATIO,
    NONNEGATIVE,
    check_solver_params,
    numerical_rank,
    resolve_strength,
    store_fista_result,
)
from ._datafits import SplitDatafit
from ._fista import fista
from ._penalties import L1, L1Inf, SplitPenalty, TraceNorm
from ._trace import _ProxLinearRegressor

__all__ = ["DirtyRegressor", "SparseLowRankRegressor"]


def split_strengths(est, datafit):
    """``(alpha, beta)`` of a ``W = P + Q`` model, stored as ``alpha_``, ``beta_``.

    None is :data:`~skmtl.linear._base.DEFAULT_ALPHA_RATIO` (a tenth) of that
    part's ``alpha_max``, the strength that zeroes the part: the dual norm of
    the datafit gradient at ``W = 0`` (optimal intercepts) for its penalty.
    """
    amax = []

    def default(part):
        if not amax:
            W0, b0 = datafit.init_coef()
            _, G0, _ = datafit.value_grad(W0, b0)
            amax.extend(est._split_penalty(1.0, 1.0).alpha_max(G0))
        return DEFAULT_ALPHA_RATIO * amax[part]

    alpha = resolve_strength(est, "alpha", est.alpha, lambda: default(0))
    beta = resolve_strength(est, "beta", est.beta, lambda: default(1))
    return alpha, beta


class _SplitRegressor(_ProxLinearRegressor):
    """Shell of the ``W = P + Q`` regressors: ``_split_penalty(alpha, beta)`` and ``_store_parts(V)``."""

    def fit(self, X, y, sample_weight=None):
        """Fit on wide or long input.

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
        self._fit_data(self._validate_fit(X, y, sample_weight))
        return self

    def _fit_data(self, data, start=None):
        """Fit on validated data; returns the state (the stacked ``[P, Q]`` and the intercepts) that
        warm-starts the next fit on the same data."""
        start = start or {}
        inner = self._make_datafit(data)
        alpha, beta = split_strengths(self, inner)
        check_solver_params(self)
        pen = self._split_penalty(alpha, beta)
        datafit = SplitDatafit(inner)
        res = fista(datafit, pen, start.get("coef"), start.get("intercept"), max_iter=self.max_iter,
                    tol=self.tol)
        V = res.coef
        store_fista_result(self, res, V[0] + V[1], strength=f"alpha={alpha:.4g}, beta={beta:.4g}")
        self._store_parts(V)
        return {"coef": V, "intercept": res.intercept}


class DirtyRegressor(_SplitRegressor):
    """Dirty multi-task model (Jalali, Ravikumar, Sanghavi & Ruan, NIPS 2010).

    ``W = P + Q`` with a row-sparse part ``P`` shared by the tasks and an
    elementwise-sparse task-specific part ``Q``:

    .. math::

        \\min_{P, Q, b} \\; \\frac{1}{2} \\sum_i \\omega_i (y_i - x_i (p_{t_i} + q_{t_i}) - b_{t_i})^2
        + \\alpha \\|P\\|_{1,\\infty} + \\beta \\|Q\\|_1,

    ``||P||_{1,inf} = sum_j max_t |P_jt|`` (the block penalty of Jalali et al.;
    it favours features that are used by every task with similar magnitudes)
    and ``||Q||_1 = sum |Q_jt|``. Since ``||q||_1 >= ||q||_inf``, ``beta >=
    alpha`` puts everything in ``P`` and ``beta <= alpha / n_tasks`` everything
    in ``Q``; the dirty regime is in between. ``W = 0`` iff both ``alpha >=
    max_j sum_t |G0_jt|`` and ``beta >= max |G0_jt|``, ``G0`` the gradient of
    the datafit at ``W = 0``. (Jalali et al. use L1,inf for the block part; we
    follow them rather than MALSAR's ``Least_Dirty``, which uses L2,1.)

    Parameters
    ----------
    alpha : float or None, default=None
        Strength of the L1,inf penalty on the shared part ``P``. None: a tenth of
        the strength that zeroes the part (``alpha_max`` of its penalty at the
        datafit gradient at ``W = 0``), stored as ``alpha_``.
    beta : float or None, default=None
        Strength of the L1 penalty on the specific part ``Q``. None: a tenth
        of the part's ``alpha_max`` (``beta_``).
    fit_intercept, task_weight, max_iter, tol, task_column
        As in :class:`~skmtl.linear.TraceNormRegressor`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        ``(P + Q)^T``.
    coef_shared_ : ndarray of shape (n_tasks, n_features)
        ``P^T``.
    coef_specific_ : ndarray of shape (n_tasks, n_features)
        ``Q^T``.
    intercept_, n_iter_, dual_gap_, objective_

    Examples
    --------
    >>> from skmtl.linear import DirtyRegressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = DirtyRegressor(alpha=1.0, beta=1.0).fit(X, Y)
    >>> model.coef_shared_.shape, model.coef_specific_.shape
    ((4, 10), (4, 10))
    """

    _parameter_constraints = {"alpha": [None, NONNEGATIVE], "beta": [None, NONNEGATIVE], **COMMON_CONSTRAINTS}

    def __init__(self, alpha=None, beta=None, *, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None):
        self.alpha = alpha
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    @staticmethod
    def _split_penalty(alpha, beta):
        return SplitPenalty(L1Inf(alpha), L1(beta))

    def _store_parts(self, V):
        self.coef_shared_ = np.ascontiguousarray(V[0].T)
        self.coef_specific_ = np.ascontiguousarray(V[1].T)


class SparseLowRankRegressor(_SplitRegressor):
    """Sparse plus low-rank multi-task regression (Chen, Liu & Ye, KDD 2010 / TKDD 2012).

    ``W = L + S`` with a low-rank part ``L`` (structure shared by the tasks) and
    an elementwise-sparse part ``S`` (task outliers):

    .. math::

        \\min_{L, S, b} \\; \\frac{1}{2} \\sum_i \\omega_i (y_i - x_i (l_{t_i} + s_{t_i}) - b_{t_i})^2
        + \\alpha \\|L\\|_* + \\beta \\|S\\|_1.

    This is the penalized form of Chen et al.'s constrained problem (MALSAR's
    ``Least_SparseTrace``), solved on the split variable ``[L, S]`` by FISTA
    (singular value thresholding on ``L``, soft-thresholding on ``S``).

    Parameters
    ----------
    alpha : float or None, default=None
        Strength of the trace norm on the low-rank part. None: a tenth of
        the strength that zeroes the part (``alpha_max`` of its penalty at the
        datafit gradient at ``W = 0``), stored as ``alpha_``.
    beta : float or None, default=None
        Strength of the L1 norm on the sparse part. None: a tenth
        of the part's ``alpha_max`` (``beta_``).
    fit_intercept, task_weight, max_iter, tol, task_column
        As in :class:`~skmtl.linear.TraceNormRegressor`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        ``(L + S)^T``.
    coef_lowrank_ : ndarray of shape (n_tasks, n_features)
    coef_sparse_ : ndarray of shape (n_tasks, n_features)
    rank_ : int
        Rank of ``coef_lowrank_``.
    intercept_, n_iter_, dual_gap_, objective_

    Examples
    --------
    >>> from skmtl.linear import SparseLowRankRegressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = SparseLowRankRegressor(alpha=1.0, beta=1.0).fit(X, Y)
    >>> model.coef_lowrank_.shape, model.coef_sparse_.shape
    ((4, 10), (4, 10))
    """

    _parameter_constraints = {"alpha": [None, NONNEGATIVE], "beta": [None, NONNEGATIVE], **COMMON_CONSTRAINTS}

    def __init__(self, alpha=None, beta=None, *, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None):
        self.alpha = alpha
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    @staticmethod
    def _split_penalty(alpha, beta):
        return SplitPenalty(TraceNorm(alpha), L1(beta))

    def _store_parts(self, V):
        self.coef_lowrank_ = np.ascontiguousarray(V[0].T)
        self.coef_sparse_ = np.ascontiguousarray(V[1].T)
        self.rank_ = numerical_rank(self.coef_lowrank_)
