r"""Clustered multi-task regression: convex relaxation of task clustering.

Tasks fall into ``k`` unknown clusters whose members have similar weights.
The clustering penalty of Jacob, Bach & Vert (NIPS 2008), relaxed to a convex
set as in Zhou, Chen & Ye (NIPS 2011, "Clustered multi-task learning via
alternating structure optimization"; MALSAR's ``Least_CMTL``):

.. math::

    \min_{W, b, M} \; f(W, b) + \frac{c}{2}\,
    \operatorname{tr}\big(W (\eta I + M)^{-1} W^\top\big),
    \quad \operatorname{tr} M = k,\; 0 \preceq M \preceq I,

with ``eta = beta / alpha`` and ``c = alpha eta (1 + eta)``. For a hard
clustering ``M`` is the projection onto the cluster indicators: then the
penalty is ``alpha/2`` times the within-cluster spread of the weights plus
``beta/2 ||W||_F^2`` (in the directions of ``M`` with eigenvalue 1 only the
ridge ``beta`` acts; orthogonal ones get ``alpha + beta``). The relaxed
problem is jointly convex; it is solved by alternating

* the ``W`` step, a quadratic task penalty ``M_W = c (eta I + M)^{-1}`` solved
  by FISTA (:class:`~skmtl.linear._relationship_penalties.TaskQuadratic`);
* the ``M`` step in closed form: with ``W^T W = Q diag(sigma) Q^T``,
  ``M = Q diag(m) Q^T``, ``m_i = clip(sqrt(sigma_i / nu) - eta, 0, 1)`` and
  ``nu`` set by bisection so that ``sum m_i = k``.

``task_clusters_`` are found by k-means on the learned task weights.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._base import COMMON_CONSTRAINTS, POSITIVE, POSITIVE_INT, SOLVER_OPTIONS, quadratic_strengths
from ._fista import fista
from ._relationship import (
    QuadraticSystem,
    _check_int,
    _check_nonneg,
    _check_tol,
    _direct_result,
    _RegressorShell,
    _use_direct,
)
from ._relationship_penalties import TaskQuadratic, task_gram, task_quadratic_value

__all__ = ["ClusteredRegressor", "cluster_structure_step"]


def cluster_structure_step(sigma, k, eta):
    """Eigenvalues ``m`` minimizing ``sum sigma_i / (eta + m_i)``, ``sum m = k``, ``0 <= m <= 1``."""
    sigma = np.maximum(np.asarray(sigma, dtype=np.float64), 0.0)
    T = len(sigma)
    if k >= T:
        return np.ones(T)
    pos = sigma > 1e-14 * max(sigma.max(initial=0.0), 1e-300)
    if pos.sum() <= k:
        m = np.zeros(T)
        m[pos] = 1.0
        rest = ~pos
        if rest.any():
            m[rest] = (k - pos.sum()) / rest.sum()
        return m

    def total(log_nu):
        return np.clip(np.sqrt(sigma / np.exp(log_nu)) - eta, 0.0, 1.0).sum()

    sp = sigma[pos]
    lo = np.log(sp.min() / (1.0 + eta) ** 2) - 1.0  # every m_i = 1: total >= k
    hi = np.log(sp.max() / max(eta, 1e-300) ** 2) + 1.0  # every m_i = 0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if total(mid) > k:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13:
            break
    return np.clip(np.sqrt(sigma / np.exp(0.5 * (lo + hi))) - eta, 0.0, 1.0)


class ClusteredRegressor(_RegressorShell):
    """Multi-task regression with tasks grouped into ``n_clusters`` learned clusters.

    Minimizes the convex relaxation of clustered multi-task learning (Jacob,
    Bach & Vert 2008; Zhou, Chen & Ye 2011, MALSAR's CMTL)

    ``1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2 + c/2 tr(W (eta I + M)^{-1} W^T)``

    over ``W, b`` and ``M`` with ``tr M = n_clusters``, ``0 <= M <= I``,
    ``eta = beta / alpha``, ``c = alpha eta (1 + eta)``: for a hard clustering
    this is ``alpha/2`` times the within-cluster spread of the task weights
    plus ``beta/2 ||W||_F^2``. Solved by alternating a FISTA step on ``W`` and
    a closed-form step on ``M`` (see the module docstring); the objective
    decreases monotonically (``objective_path_``).

    Parameters
    ----------
    n_clusters : int, default=2
        Number of task clusters ``k``; ``n_clusters >= n_tasks`` puts every
        task in its own cluster (``M = I``: ridge with strength ``beta``).
    alpha : float or None, default=None
        Strength on the deviations from the cluster means (positive). None:
        ``0.1 s``, ``s`` the mean eigenvalue of the per-task weighted Gram
        matrices (:func:`~skmtl.linear._base.curvature_scale`; 1 for
        standardized features), stored as ``alpha_``.
    beta : float or None, default=None
        Ridge strength on every task (positive). None: ``0.01 s`` (``beta_``).
    fit_intercept : bool, default=True
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
    max_iter : int, default=100
        Maximum number of alternations.
    max_inner_iter : int, default=1000
        Maximum number of FISTA iterations per weight step.
    tol : float, default=1e-6
        Relative decrease of the objective that stops the alternations; also
        the KKT tolerance of each weight step.
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means that labels the clusters.
    solver : {"auto", "direct", "fista"}, default="auto"
        Weight step: exact normal equations (``"direct"``, see
        :class:`~skmtl.linear._relationship.QuadraticSystem`) or FISTA;
        ``"auto"`` is direct when ``n_tasks * n_features**2 <= 2e7`` or the
        input is complete wide.
    task_column : str or int, default=None

    Attributes
    ----------
    alpha_, beta_ : float
        The strengths fitted (the defaults resolved).
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    task_clusters_ : ndarray of shape (n_tasks,), int
        Cluster of each task (k-means on the rows of ``coef_``).
    task_structure_ : ndarray of shape (n_tasks, n_tasks)
        The learned relaxed cluster matrix ``M``.
    objective_ : float
    objective_path_ : ndarray of shape (``n_iter_``,)
    n_iter_ : int
    tasks_, n_tasks_, n_features_in_, feature_names_in_

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import ClusteredRegressor
    >>> X, Y, coef = make_multitask_regression(80, 5, 6, structure="clustered", n_clusters=2, task_std=0.05,
    ...                                        noise=0.1, random_state=0)
    >>> model = ClusteredRegressor(n_clusters=2, random_state=0).fit(X, Y)
    >>> model.coef_.shape, model.task_clusters_.shape
    ((6, 5), (6,))
    """

    _parameter_constraints = {
        "n_clusters": [POSITIVE_INT],
        "alpha": [None, POSITIVE],
        "beta": [None, POSITIVE],
        **COMMON_CONSTRAINTS,
        "max_inner_iter": [POSITIVE_INT],
        "random_state": ["random_state"],
        "solver": [SOLVER_OPTIONS],
    }

    def __init__(self, n_clusters=2, alpha=None, beta=None, *, fit_intercept=True, task_weight=None,
                 max_iter=100, max_inner_iter=1000, tol=1e-6, random_state=None, solver="auto",
                 task_column=None):
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.max_inner_iter = max_inner_iter
        self.tol = tol
        self.random_state = random_state
        self.solver = solver
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit by alternating the weights and the cluster structure.

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

    def _fit_data(self, data, start=None):
        """Fit on validated data; returns the state that warm-starts the next fit on the same data.

        ``start`` (the state of the previous call) gives the direct solver's
        Gram matrices, the starting weights and cluster structure.
        """
        start = start or {}
        alpha, beta = quadratic_strengths(self, data, 0.1, 0.01)
        _check_nonneg(alpha, "alpha", positive=True)
        _check_nonneg(beta, "beta", positive=True)
        k = _check_int(self.n_clusters, "n_clusters")
        max_iter = _check_int(self.max_iter, "max_iter")
        max_inner = _check_int(self.max_inner_iter, "max_inner_iter")
        tol = _check_tol(self.tol)
        T = data.n_tasks
        k = min(k, T)  # tr M = k with M <= I: at most one cluster per task
        eta = beta / alpha
        c = alpha * eta * (1.0 + eta)
        datafit = self._make_datafit(data)
        system = None
        if _use_direct(self, data):
            system = start.get("system") or QuadraticSystem(data, self.task_weight, self.fit_intercept)
        Q, m = np.eye(T), np.full(T, k / T)
        if start.get("n_clusters") == k:
            Q, m = start["structure"]
        W, b, res = start.get("coef"), start.get("intercept"), None
        path = []
        F_prev = np.inf
        converged = False
        inner_failed = 0
        for it in range(1, max_iter + 1):
            Mw = (Q * (c / (eta + m))) @ Q.T
            if system is not None:
                new = _direct_result(system, datafit, Mw)
            else:
                new = fista(datafit, TaskQuadratic(Mw), W, b, max_iter=max_inner, tol=tol, warn=False)
            inner_failed += not new.converged
            if res is not None and new.objective > datafit.value(W, b) + task_quadratic_value(W, Mw):
                new = res  # an inexact step went uphill: keep the previous weights
            res = new
            W, b = res.coef, res.intercept
            sigma, Q = np.linalg.eigh(task_gram(W, T))
            sigma = np.maximum(sigma, 0.0)
            m = cluster_structure_step(sigma, k, eta)
            F = datafit.value(W, b) + 0.5 * c * float(np.sum(sigma / (eta + m)))
            path.append(F)
            if F_prev - F <= tol * abs(F):
                converged = True
                break
            F_prev = F
        if inner_failed:
            warnings.warn(
                f"ClusteredRegressor: the weight step did not reach tol={tol:g} within "
                f"max_inner_iter={max_inner} FISTA iterations in {inner_failed} of {it} "
                f"alternations. Increase max_inner_iter or standardize the features.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if not converged:
            warnings.warn(
                f"ClusteredRegressor did not converge: the objective still decreased by more than "
                f"tol={tol:g} (relative) after max_iter={max_iter} alternations. Increase max_iter "
                f"or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._store(res, datafit)
        self.n_iter_ = it
        self.objective_ = float(path[-1])
        self.objective_path_ = np.asarray(path)
        self.task_structure_ = (Q * m) @ Q.T
        self.task_clusters_ = self._label_clusters(res.coef.T, k)
        return {"system": system, "coef": W, "intercept": b, "n_clusters": k, "structure": (Q, m)}

    def _label_clusters(self, WT, k):
        if k == 1:
            return np.zeros(WT.shape[0], dtype=np.int64)
        from sklearn.cluster import KMeans  # imported here: sklearn.cluster costs ~60 ms to import

        km = KMeans(n_clusters=k, n_init=10, random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate points when tasks coincide
            return km.fit_predict(WT).astype(np.int64)
