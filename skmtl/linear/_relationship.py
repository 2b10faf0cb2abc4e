r"""Task-relationship models: tasks pulled towards a mean, along a graph, or by a learned covariance.

All three penalize the task weights through a task-by-task matrix ``M``,

.. math::

    \min_{W, b} \; f(W, b) + \frac12 \operatorname{tr}(W M W^\top)
    \;[+\; \lambda_1 \|W\|_1],

``W`` of shape (n_features, n_tasks), ``f`` the squared loss
``1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2`` (``1/(2n) ||Y - XW - 1b^T||_F^2``
on complete wide input) or the logistic loss for the classifiers. Solved by
the FISTA engine (:func:`~skmtl.linear._fista.fista`) with the exact prox of
the quadratic (:class:`~skmtl.linear._relationship_penalties.TaskQuadratic`).

* :class:`MeanRegularizedRegressor` (Evgeniou & Pontil, KDD 2004):
  ``M = alpha (I - J/T) + beta J/T``, i.e.
  ``alpha/2 sum_t ||w_t - w_bar||^2 + beta T/2 ||w_bar||^2``. This is their
  ``w_t = w_0 + v_t`` model with ``w_0`` eliminated: deviations and the
  shared mean get their own strengths. ``alpha = beta`` is ridge on each
  task; ``alpha -> inf`` pools the tasks.
* :class:`GraphRegularizedRegressor` (MALSAR's SRMTL, Zhou, Chen & Ye 2011):
  ``M = alpha L + beta I`` for the Laplacian ``L`` of a task graph, i.e.
  ``alpha/2 sum_{s<t} A_st ||w_s - w_t||^2 + beta/2 ||W||_F^2``, plus an
  optional ``l1 ||W||_1``.
* :class:`TaskRelationshipRegressor` (MTRL, Zhang & Yeung, UAI 2010): learns a
  task covariance ``Omega`` with the weights,

  .. math::

      \min_{W, b, \Omega \succ 0, \operatorname{tr}\Omega = 1} f(W, b)
      + \frac{\beta}{2}\|W\|_F^2 + \frac{\alpha}{2}
      \operatorname{tr}\big((W^\top W + \epsilon I)\,\Omega^{-1}\big),

  jointly convex; solved by alternating the ``W`` step (``M = beta I +
  alpha Omega^{-1}``) and the closed-form ``Omega`` step
  ``Omega = (W^T W + eps I)^{1/2} / tr(.)``. Eliminating ``Omega`` gives the
  convex objective ``f + beta/2 ||W||_F^2 + alpha/2 (tr (W^T W + eps I)^{1/2})^2``
  (``objective_``), the squared trace norm when ``eps = 0``.

The classifier versions use the logistic loss (a task with ``K >= 3``
classes owns ``K`` columns, the multinomial loss, and the coupling acts on
each class column; every task must then have the same number of classes).

For the squared loss without L1 the minimizer solves linear normal
equations; :class:`QuadraticSystem` solves them exactly (a Sylvester
equation when the tasks share one design, else one dense system), which is
what ``solver="auto"`` uses on problems of moderate size; FISTA handles the
rest (logistic loss, L1, large ``n_features * n_tasks``).
"""

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from .._new_task import _MeanTransferMixin
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._anderson import AndersonMixer
from ._base import (
    COMMON_CONSTRAINTS,
    NONNEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    SOLVER_OPTIONS,
    quadratic_strengths,
    store_fista_result,
)
from ._classifiers import _ProxLinearClassifier
from ._datafits import LogisticLoss, MultinomialLoss, SquaredLoss
from ._fista import fista
from ._penalties import L1
from ._relationship_penalties import (
    QuadraticDatafit,
    TaskQuadratic,
    laplacian,
    mean_matrix,
    task_gram,
    task_quadratic_value,
)

__all__ = [
    "MeanRegularizedRegressor",
    "GraphRegularizedRegressor",
    "TaskRelationshipRegressor",
    "MeanRegularizedClassifier",
    "GraphRegularizedClassifier",
    "TaskRelationshipClassifier",
]


# --------------------------------------------------------------------------
# checks and solves shared by the family
# --------------------------------------------------------------------------


def _check_nonneg(value, name, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) \
            or value < 0 or (positive and value == 0):
        what = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be a {what} finite number; got {value!r}.")
    return float(value)


def _check_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _check_tol(value, name="tol"):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}.")
    return float(value)


def _solve_quadratic(datafit, M, l1=0.0, W=None, b=None, *, max_iter=1000, tol=1e-6, warn=True):
    """FISTA on ``datafit + 1/2 tr(W M W^T) [+ l1 ||W||_1]``."""
    if l1 > 0:
        return fista(QuadraticDatafit(datafit, M), L1(l1), W, b, max_iter=max_iter, tol=tol, warn=warn)
    return fista(datafit, TaskQuadratic(M), W, b, max_iter=max_iter, tol=tol, warn=warn)


def _warn_fista(name, res, max_iter, tol):
    warnings.warn(
        f"{name} did not converge: the FISTA solver reached max_iter={max_iter} iterations "
        f"above tol={tol:g}. Increase max_iter, loosen tol, or standardize the features.",
        ConvergenceWarning,
        stacklevel=4,
    )


class QuadraticSystem:
    """Exact solver of ``squared loss + 1/2 tr(W M W^T)`` for any PSD ``M``.

    The per-task weighted Gram matrices ``Sigma_t = X_t^T Omega_t X_t`` and
    ``c_t = X_t^T Omega_t y_t`` (centred per task when intercepts are fitted,
    which profiles them out) are computed once; each :meth:`solve` then solves
    the normal equations ``Sigma_t w_t + sum_s M_ts w_s = c_t``:

    * when every task has the same ``Sigma`` (complete wide input with equal
      task weights) as the Sylvester equation ``Sigma W + W M = C``, by the
      eigendecompositions of ``Sigma`` and ``M`` (``O(p^3 + T^3)``);
    * otherwise by preconditioned conjugate gradients on the
      (n_features * n_tasks) system, warm-started from the previous solve, to a
      residual of ``1e-12`` relative (:meth:`_solve_pcg`), or one dense
      Cholesky for tiny systems (``n_features * n_tasks <= 100``) and when it fails.

    Used by the estimators with ``solver="direct"`` (or ``"auto"`` when
    :meth:`applies`); the alternating models call it once per alternation.
    """

    min_pcg = 100  # below, one dense Cholesky is as fast as the iterations
    max_dense = 4000  # the dense fallback of the conjugate gradients: (p T)^2 entries
    max_gram_entries = 20_000_000  # the per-task Gram matrices, T p^2 entries (160 MB)

    def __init__(self, data, task_weight=None, fit_intercept=True):
        X = data.X.toarray() if hasattr(data.X, "toarray") else np.asarray(data.X, dtype=np.float64)
        omega = data.observation_weights(task_weight)
        T, p = data.n_tasks, data.n_features
        self.p, self.T = p, T
        self.fit_intercept = fit_intercept
        self.x_mean = np.zeros((T, p))
        self.y_mean = np.zeros(T)
        self.Sigma = np.zeros((T, p, p))
        self.C = np.zeros((p, T))
        for t in range(T):
            s = data.task_slice(t)
            Xt, yt, wt = X[data.rows[s]], np.asarray(data.y[s], dtype=np.float64), omega[s]
            tot = wt.sum()
            if fit_intercept and tot > 0:
                self.x_mean[t] = wt @ Xt / tot
                self.y_mean[t] = wt @ yt / tot
                Xt = Xt - self.x_mean[t]
                yt = yt - self.y_mean[t]
            self.Sigma[t] = Xt.T @ (wt[:, None] * Xt)
            self.C[:, t] = Xt.T @ (wt * yt)
        scale = max(np.abs(self.Sigma).max(initial=0.0), 1e-300)
        self.shared = bool(T > 0 and np.all(np.abs(self.Sigma - self.Sigma[0]) <= 1e-12 * scale))
        if self.shared:
            lam, U = np.linalg.eigh(self.Sigma[0])
            self._lam, self._U = np.maximum(lam, 0.0), U
            self._UC = U.T @ self.C
        elif T * p > self.min_pcg:
            # the conjugate gradients' preconditioner: the Sylvester operator of the mean Gram matrix
            lam, U = np.linalg.eigh(self.Sigma.mean(axis=0))
            self._mean_lam, self._mean_U = np.maximum(lam, 0.0), U

    def _solve_pcg(self, M, eig, rtol=1e-12):
        """``W`` solving ``Sigma_t w_t + sum_s M_ts w_s = c_t`` by conjugate gradients, or None.

        The operator costs O(T p^2 + p T^2) per product instead of the O((pT)^3)
        of a dense factorization. The preconditioner is the Sylvester operator
        ``W -> Sigma_bar W + W M`` of the mean Gram matrix ``Sigma_bar``, inverted
        exactly through the eigendecompositions of ``Sigma_bar`` (once) and ``M``
        (``eig``): it captures the feature correlations and the task coupling,
        so only the spread of the per-task Grams is left to the iterations
        (a handful, where block Jacobi needed hundreds once ``M`` was
        ill-conditioned). The iteration starts from the previous solve (the alternating models call
        this once per alternation with a slowly changing ``M``). Converged when
        the residual is below ``rtol`` times the right-hand side (an exact solve
        to rounding); None (fall back to the dense solve) when it is not within
        ``p * T`` iterations or a block is not positive definite.
        """
        p, T = self.p, self.T
        C = self.C
        norm_c = np.linalg.norm(C)
        if norm_c == 0:
            return np.zeros((p, T))
        mu, V = eig
        den = self._mean_lam[:, None] + np.maximum(mu, 0.0)[None, :]
        if not np.all(den > 1e-12 * max(den.max(initial=0.0), 1e-300)):
            return None
        U = self._mean_U

        def apply(W):
            return np.einsum("tij,jt->it", self.Sigma, W) + W @ M

        def precond(R):
            return U @ ((U.T @ R @ V) / den) @ V.T

        W = getattr(self, "_W_prev", None)
        W = np.zeros((p, T)) if W is None else W.copy()
        R = C - apply(W)
        Z = precond(R)
        D = Z.copy()
        rz = float(np.sum(R * Z))
        for _ in range(p * T):
            if np.linalg.norm(R) <= rtol * norm_c:
                return W
            AD = apply(D)
            dad = float(np.sum(D * AD))
            if dad <= 0:
                return None
            step = rz / dad
            W += step * D
            R -= step * AD
            Z = precond(R)
            rz_new = float(np.sum(R * Z))
            D = Z + (rz_new / rz) * D
            rz = rz_new
        return W if np.linalg.norm(R) <= rtol * norm_c else None

    @staticmethod
    def applies(data, task_weight=None):
        """Whether the direct solve is cheap: a small system, per-task Grams that fit in memory
        (conjugate gradients), or a shared design."""
        p, T = data.n_features, data.n_tasks
        if p * T <= QuadraticSystem.max_dense or T * p * p <= QuadraticSystem.max_gram_entries:
            return True
        equal = task_weight is None or isinstance(task_weight, str) or np.ptp(np.asarray(task_weight, float)) == 0
        return bool(data.complete and equal and p <= 2000)

    def solve(self, M, eig=None):
        """``(W, b)``: the minimizer for the task matrix ``M``.

        ``eig``, the eigendecomposition ``(mu, V)`` of ``M`` when the caller
        has it (the task-relationship model builds ``M`` from it).
        """
        M = 0.5 * (M + M.T)
        if eig is None and (self.shared or self.p * self.T > self.min_pcg):
            eig = np.linalg.eigh(M)
        p, T = self.p, self.T
        if self.shared:
            mu, V = eig
            den = self._lam[:, None] + np.maximum(mu, 0.0)[None, :]
            tiny = 1e-12 * max(den.max(initial=0.0), 1e-300)
            Z = np.divide(self._UC @ V, den, out=np.zeros((p, T)), where=den > tiny)
            W = self._U @ Z @ V.T
        else:
            W = self._solve_pcg(M, eig) if p * T > self.min_pcg else None
            if W is None and p * T > self.max_dense:
                raise np.linalg.LinAlgError(
                    f"The conjugate-gradient weight step did not converge on a {p * T}-unknown system "
                    f"(too large for the dense fallback); use solver='fista' or a larger beta."
                )
            if W is None:
                A = np.kron(M, np.eye(p))
                for t in range(T):
                    A[t * p:(t + 1) * p, t * p:(t + 1) * p] += self.Sigma[t]
                rhs = self.C.T.ravel()
                try:
                    w = cho_solve(cho_factor(A), rhs)
                except np.linalg.LinAlgError:
                    w = np.linalg.lstsq(A, rhs, rcond=None)[0]
                W = w.reshape(T, p).T
            self._W_prev = W
        b = self.y_mean - np.einsum("tp,pt->t", self.x_mean, W) if self.fit_intercept else np.zeros(T)
        return W, b


def _check_solver(solver):
    if solver not in ("auto", "direct", "fista"):
        raise ValueError(f"solver must be 'auto', 'direct' or 'fista'; got {solver!r}.")
    return solver


def _use_direct(est, data):
    solver = _check_solver(getattr(est, "solver", "fista"))
    if solver == "fista" or est._classification:
        return False
    return solver == "direct" or QuadraticSystem.applies(data, getattr(est, "task_weight", None))


@dataclass
class _DirectResult:
    coef: np.ndarray
    intercept: np.ndarray
    objective: float
    n_iter: int = 1
    converged: bool = True
    dual_gap: float = 0.0  # an exact linear solve


def _direct_result(system, datafit, M, eig=None):
    W, b = system.solve(M, eig)
    return _DirectResult(W, b, float(datafit.value(W, b) + task_quadratic_value(W, M)))


class _RegressorShell(LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    """Squared loss, the FISTA result stored as ``coef_`` (n_tasks, n_features)."""

    _accept_sparse = True

    def _make_datafit(self, data):
        return SquaredLoss(data, task_weight=self.task_weight, fit_intercept=self.fit_intercept)

    def _store(self, res, datafit):
        return store_fista_result(self, res)


class _ClassifierShell(_ProxLinearClassifier):
    """Logistic (or multinomial) loss; every task must have the same number of classes."""

    def _make_datafit(self, data):
        K = self._n_classes()
        if np.any(K < 2):
            bad = np.flatnonzero(K < 2)[:10].tolist()
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in every task; task(s) "
                f"{bad} have only one class."
            )
        if len(np.unique(K)) > 1:
            raise ValueError(
                f"{type(self).__name__} couples the tasks class by class, so every task must "
                f"have the same number of classes; got {sorted(set(K.tolist()))}."
            )
        if K[0] == 2:
            return LogisticLoss(data, task_weight=self.task_weight, fit_intercept=self.fit_intercept)
        return MultinomialLoss(data, K, task_weight=self.task_weight, fit_intercept=self.fit_intercept)

    def _store(self, res, datafit):
        return self._set_result(res, datafit)


# --------------------------------------------------------------------------
# fixed task coupling: mean and graph
# --------------------------------------------------------------------------


class _FixedCouplingMixin:
    #: ``alpha=None`` / ``beta=None``: these multiples of the curvature scale
    #: (:func:`~skmtl.linear._base.curvature_scale`, 1 for standardized features)
    _default_strengths = (0.1, 0.01)

    def _coupling(self, data):  # pragma: no cover - abstract
        raise NotImplementedError

    def _l1(self):
        return 0.0

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

    def _fit_data(self, data, start=None):
        """Fit on validated data; returns the state that warm-starts the next fit on the same data.

        ``start`` is the state returned by the previous call (the
        cross-validation fits a path of strengths this way): the direct
        solver's Gram matrices, and the weights FISTA starts from.
        """
        start = start or {}
        _check_int(self.max_iter, "max_iter")
        _check_tol(self.tol)
        M = self._coupling(data)
        datafit = self._make_datafit(data)
        system = None
        if self._l1() == 0 and _use_direct(self, data):
            system = start.get("system") or QuadraticSystem(data, self.task_weight, self.fit_intercept)
            res = _direct_result(system, datafit, M)
        else:
            res = _solve_quadratic(datafit, M, self._l1(), start.get("coef"), start.get("intercept"),
                                   max_iter=self.max_iter, tol=self.tol, warn=False)
        if not res.converged:
            _warn_fista(type(self).__name__, res, self.max_iter, self.tol)
        self.task_coupling_ = M
        self._store(res, datafit)
        return {"system": system, "coef": res.coef, "intercept": res.intercept}


_COMMON_PARAMS = """    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit (see
        :meth:`skmtl._data.MultiTaskData.observation_weights`).
    max_iter : int, default=1000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance on the KKT residual relative to the gradient at ``W = 0``.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input); None for wide input.
    solver : {"auto", "direct", "fista"}, default="auto"
        Regressors only. ``"direct"`` solves the normal equations exactly
        (:class:`QuadraticSystem`: a Sylvester equation on complete wide
        input, else conjugate gradients on the (n_features * n_tasks) system,
        preconditioned by the mean-Gram Sylvester operator); ``"fista"`` runs the FISTA engine; ``"auto"``
        picks ``"direct"`` when ``n_tasks * n_features**2 <= 2e7`` or the input
        is complete wide, and always uses FISTA when ``l1 > 0``.
"""


class _MeanMixin(_FixedCouplingMixin):
    def _coupling(self, data):
        alpha, beta = quadratic_strengths(self, data, *self._default_strengths)
        return mean_matrix(data.n_tasks, alpha, beta)


class MeanRegularizedRegressor(_MeanTransferMixin, _MeanMixin, _RegressorShell):
    __doc__ = """Multi-task regression with every task pulled towards a shared mean.

    Minimizes (Evgeniou & Pontil, KDD 2004)

    ``1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2 + alpha/2 sum_t ||w_t - w_bar||^2
    + beta T/2 ||w_bar||^2``,

    ``w_bar`` the mean of the task weights. ``alpha`` penalizes the
    deviations from the mean, ``beta`` the mean itself: ``alpha = beta`` is
    ridge on each task independently, ``alpha >> beta`` pools the tasks.
    Equivalent to the ``w_t = w_0 + v_t`` formulation with ``w_0`` eliminated.

    Parameters
    ----------
    alpha : float or None, default=None
        Strength on the deviations ``w_t - w_bar``. None: ``0.1 s``,
        ``s`` the mean eigenvalue of the per-task weighted Gram matrices
        (:func:`~skmtl.linear._base.curvature_scale`; 1 for standardized
        features), stored as ``alpha_``.
    beta : float or None, default=None
        Strength on the shared mean ``w_bar``. None: ``0.01 s`` (``beta_``).
""" + _COMMON_PARAMS + """
    Attributes
    ----------
    alpha_, beta_ : float
        The strengths fitted (the defaults resolved).
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    task_coupling_ : ndarray of shape (n_tasks, n_tasks)
        The matrix ``M`` of the penalty ``1/2 tr(W M W^T)``.
    n_iter_ : int
    objective_ : float
    tasks_, n_tasks_, n_features_in_, feature_names_in_

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear._relationship import MeanRegularizedRegressor
    >>> X, Y, coef = make_multitask_regression(40, 5, 4, structure="mean", random_state=0)
    >>> MeanRegularizedRegressor(alpha=1.0, beta=0.01).fit(X, Y).coef_.shape
    (4, 5)
    """

    _parameter_constraints = {"alpha": [None, NONNEGATIVE], "beta": [None, NONNEGATIVE], **COMMON_CONSTRAINTS,
                              "solver": [SOLVER_OPTIONS]}

    def __init__(self, alpha=None, beta=None, *, fit_intercept=True, task_weight=None, max_iter=1000,
                 tol=1e-6, solver="auto", task_column=None):
        self.alpha = alpha
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.task_column = task_column


class MeanRegularizedClassifier(_MeanMixin, _ClassifierShell):
    """Multi-task logistic regression with every task pulled towards a shared mean.

    The penalty of :class:`MeanRegularizedRegressor` with the logistic loss
    (multinomial for ``K >= 3`` classes, the penalty acting class by class).
    Attributes as there, plus ``classes_`` and ``coef_ptr_``;
    ``predict_proba`` and ``decision_function`` as in
    :class:`~skmtl.linear._classifiers.L21Classifier`.

    Parameters
    ----------
    alpha : float or None, default=None
        Strength on the deviations ``w_t - w_bar``. None: ``0.1 s``,
        ``s`` the mean eigenvalue of the per-task weighted Gram matrices
        (:func:`~skmtl.linear._base.curvature_scale`; 1 for standardized
        features), stored as ``alpha_``.
    beta : float or None, default=None
        Strength on the shared mean ``w_bar``. None: ``0.01 s`` (``beta_``).
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task (and class column).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit.
    max_iter : int, default=1000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance on the KKT residual relative to the gradient at ``W = 0``.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input); None for wide input.

    Examples
    --------
    >>> from skmtl.linear import MeanRegularizedClassifier
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = MeanRegularizedClassifier(alpha=1.0, beta=0.1).fit(X, Y)
    >>> clf.coef_.shape, clf.predict(X[:2]).shape
    ((3, 6), (2, 3))
    """

    _parameter_constraints = {"alpha": [None, NONNEGATIVE], "beta": [None, NONNEGATIVE], **COMMON_CONSTRAINTS}

    def __init__(self, alpha=None, beta=None, *, fit_intercept=True, task_weight=None, max_iter=1000,
                 tol=1e-6, task_column=None):
        self.alpha = alpha
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column


class _GraphMixin(_FixedCouplingMixin):
    _default_strengths = (0.1, 0.001)

    def _coupling(self, data):
        n_tasks = data.n_tasks
        alpha, beta = quadratic_strengths(self, data, *self._default_strengths)
        _check_nonneg(self.l1, "l1")
        if self.graph is None:
            A = np.ones((n_tasks, n_tasks)) - np.eye(n_tasks)
            A /= max(n_tasks, 1)
            L = laplacian(A, n_tasks)
        else:
            L = laplacian(self.graph, n_tasks)
        self.laplacian_ = L
        return alpha * L + beta * np.eye(n_tasks)

    def _l1(self):
        return float(self.l1)


class GraphRegularizedRegressor(_GraphMixin, _RegressorShell):
    __doc__ = """Multi-task regression with linked tasks pulled together along a task graph.

    Minimizes (MALSAR's SRMTL; Zhou, Chen & Ye 2011)

    ``1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2 + alpha/2 sum_{s<t} A_st ||w_s - w_t||^2
    + beta/2 ||W||_F^2 + l1 ||W||_1``,

    i.e. ``alpha/2 tr(W L W^T)`` with ``L`` the graph Laplacian. Without
    ``l1`` the quadratic is handled by its exact prox; with ``l1 > 0`` it
    joins the smooth part and the prox is soft-thresholding.

    Parameters
    ----------
    graph : array-like or sparse matrix of shape (n_tasks, n_tasks), default=None
        Adjacency (non-negative symmetric weights ``A_st``) or Laplacian
        (non-positive off-diagonal, rows summing to zero) of the task graph,
        in the order of ``tasks_`` (sorted task labels). None links every pair
        of tasks with weight ``1/T`` (then ``alpha/2 tr(W L W^T) = alpha/2
        sum_t ||w_t - w_bar||^2``, the mean-regularized penalty).
    alpha : float or None, default=None
        Strength of the graph penalty. None: ``0.1 s``, ``s`` the mean
        eigenvalue of the per-task weighted Gram matrices
        (:func:`~skmtl.linear._base.curvature_scale`; 1 for standardized
        features), stored as ``alpha_``.
    beta : float or None, default=None
        Ridge strength on every task (keeps each connected component's mean
        weight determined). None: ``0.001 s`` (``beta_``).
    l1 : float, default=0.0
        Lasso strength (sparse weights, MALSAR's ``rho_2``).
""" + _COMMON_PARAMS + """
    Attributes
    ----------
    alpha_, beta_ : float
        The strengths fitted (the defaults resolved).
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    laplacian_ : ndarray of shape (n_tasks, n_tasks)
    task_coupling_ : ndarray of shape (n_tasks, n_tasks)
        ``alpha L + beta I``.
    n_iter_ : int
    objective_ : float
    tasks_, n_tasks_, n_features_in_, feature_names_in_

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import GraphRegularizedRegressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> chain = np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1)  # tasks 0 - 1 - 2 - 3
    >>> model = GraphRegularizedRegressor(chain, alpha=1.0).fit(X, Y)
    >>> model.coef_.shape, model.laplacian_.shape
    ((4, 10), (4, 4))
    """

    _parameter_constraints = {
        "graph": [None, "array-like", "sparse matrix"],
        "alpha": [None, NONNEGATIVE],
        "beta": [None, NONNEGATIVE],
        "l1": [NONNEGATIVE],
        **COMMON_CONSTRAINTS,
        "solver": [SOLVER_OPTIONS],
    }

    def __init__(self, graph=None, alpha=None, beta=None, *, l1=0.0, fit_intercept=True, task_weight=None,
                 max_iter=1000, tol=1e-6, solver="auto", task_column=None):
        self.graph = graph
        self.alpha = alpha
        self.beta = beta
        self.l1 = l1
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.task_column = task_column


class GraphRegularizedClassifier(_GraphMixin, _ClassifierShell):
    """Multi-task logistic regression with a task-graph penalty.

    The penalty of :class:`GraphRegularizedRegressor` with the logistic loss
    (multinomial for ``K >= 3`` classes). Attributes as there, plus
    ``classes_`` and ``coef_ptr_``.

    Parameters
    ----------
    graph : array-like or sparse matrix of shape (n_tasks, n_tasks), default=None
        Adjacency or Laplacian of the task graph, in the order of ``tasks_``
        (see :class:`GraphRegularizedRegressor`); None links every pair of tasks.
    alpha : float or None, default=None
        Strength of the graph penalty. None: ``0.1 s``, ``s`` the mean
        eigenvalue of the per-task weighted Gram matrices
        (:func:`~skmtl.linear._base.curvature_scale`; 1 for standardized
        features), stored as ``alpha_``.
    beta : float or None, default=None
        Ridge strength on every task. None: ``0.001 s`` (``beta_``).
    l1 : float, default=0.0
        Lasso strength.
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task (and class column).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit.
    max_iter : int, default=1000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance on the KKT residual relative to the gradient at ``W = 0``.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input); None for wide input.

    Examples
    --------
    >>> from skmtl.linear import GraphRegularizedClassifier
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = GraphRegularizedClassifier(alpha=1.0).fit(X, Y)
    >>> clf.coef_.shape, clf.predict(X[:2]).shape
    ((3, 6), (2, 3))
    """

    _parameter_constraints = {
        "graph": [None, "array-like", "sparse matrix"],
        "alpha": [None, NONNEGATIVE],
        "beta": [None, NONNEGATIVE],
        "l1": [NONNEGATIVE],
        **COMMON_CONSTRAINTS,
    }

    def __init__(self, graph=None, alpha=None, beta=None, *, l1=0.0, fit_intercept=True, task_weight=None,
                 max_iter=1000, tol=1e-6, task_column=None):
        self.graph = graph
        self.alpha = alpha
        self.beta = beta
        self.l1 = l1
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column


# --------------------------------------------------------------------------
# learned task covariance (MTRL)
# --------------------------------------------------------------------------


def _sym_sqrt_trace(S):
    """Eigenvectors, square roots of the eigenvalues of a PSD matrix."""
    s, V = np.linalg.eigh(0.5 * (S + S.T))
    return V, np.sqrt(np.maximum(s, 0.0))


class _TaskRelationshipMixin:
    def fit(self, X, y, sample_weight=None):
        """Fit by alternating the weights and the task covariance.

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
        Gram matrices, the starting weights and task covariance.
        """
        start = start or {}
        T = data.n_tasks
        # None: alpha = 0.1 s / T (the coupling term is about alpha T ||W||^2 for an
        # isotropic Omega of trace one), beta = 0.01 s; s the curvature scale
        alpha, beta = quadratic_strengths(self, data, 0.1 / T, 0.01)
        eps = _check_nonneg(self.eps, "eps", positive=True)
        max_iter = _check_int(self.max_iter, "max_iter")
        max_inner = _check_int(self.max_inner_iter, "max_inner_iter")
        tol = _check_tol(self.tol)
        datafit = self._make_datafit(data)
        system = None
        if _use_direct(self, data):
            system = start.get("system") or QuadraticSystem(data, self.task_weight, self.fit_intercept)
        W, b = start.get("coef"), start.get("intercept")
        Omega = start.get("task_covariance")
        if Omega is None:
            # a cold start takes Omega from the weights of a first step with the
            # covariance concentrated on every task (M = (alpha + beta) I): the
            # task structure is in place from the start, where the isotropic
            # Omega = I / T shrinks every weight by alpha T and the alternation
            # then spends tens of steps regrowing the shared directions
            M0 = (alpha + beta) * np.eye(T)
            if system is not None:
                first = _direct_result(system, datafit, M0)
            else:
                first = fista(datafit, TaskQuadratic(M0), max_iter=max_inner, tol=tol, warn=False)
            V0, r0 = _sym_sqrt_trace(task_gram(first.coef, T) + eps * np.eye(T))
            Omega = (V0 * r0) @ V0.T / r0.sum()

        def profiled(W, b):
            """The objective with ``Omega`` profiled out, and the eigendecomposition of that ``Omega``."""
            V, r = _sym_sqrt_trace(task_gram(W, T) + eps * np.eye(T))
            F = datafit.value(W, b) + 0.5 * beta * float(np.sum(W**2)) + 0.5 * alpha * float(r.sum()) ** 2
            return F, (r / r.sum(), V)

        # the map W -> Omega(W) -> W is accelerated by Anderson mixing (_anderson.py),
        # an extrapolation kept only when it lowers the objective
        mixer = AndersonMixer()
        path = []
        F_prev = np.inf
        converged = False
        inner_failed = 0
        res = None
        Omega_eig = np.linalg.eigh(Omega)
        for it in range(1, max_iter + 1):
            om, V = Omega_eig
            mu = beta + alpha / np.maximum(om, 1e-300)
            M = (V * mu) @ V.T
            if system is not None:
                new = _direct_result(system, datafit, M, (mu, V))
            else:
                new = fista(datafit, TaskQuadratic(M), W, b, max_iter=max_inner, tol=tol, warn=False)
            if not new.converged:
                inner_failed += 1
            if res is not None:
                # keep the previous weights if an inexact step went uphill
                if new.objective > datafit.value(W, b) + task_quadratic_value(W, M):
                    new = res
            F, eig_new = profiled(new.coef, new.intercept)
            if W is not None:
                mixer.push(np.append(W, b), np.append(new.coef, new.intercept))
                cand = mixer.extrapolate()
                if cand is not None:
                    W_aa = cand[:W.size].reshape(W.shape)
                    b_aa = cand[W.size:].reshape(np.shape(b))
                    F_aa, eig_aa = profiled(W_aa, b_aa)
                    if F_aa < F:
                        new = _DirectResult(W_aa, b_aa, F_aa, converged=new.converged)
                        F, eig_new = F_aa, eig_aa
            res = new
            W, b, Omega_eig = res.coef, res.intercept, eig_new
            path.append(F)
            if F_prev - F <= tol * abs(F):
                converged = True
                break
            F_prev = F
        if inner_failed:
            warnings.warn(
                f"{type(self).__name__}: the weight step did not reach tol={tol:g} within "
                f"max_inner_iter={max_inner} FISTA iterations in {inner_failed} of {it} "
                f"alternations. Increase max_inner_iter or standardize the features.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if not converged:
            warnings.warn(
                f"{type(self).__name__} did not converge: the objective still decreased by more "
                f"than tol={tol:g} (relative) after max_iter={max_iter} alternations. Increase "
                f"max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._store(res, datafit)
        self.n_iter_ = it
        self.objective_ = float(path[-1])
        self.objective_path_ = np.asarray(path)
        om, V = Omega_eig
        Omega = (V * om) @ V.T
        self.task_covariance_ = Omega
        d = np.sqrt(np.diag(Omega))
        self.task_correlation_ = Omega / np.outer(d, d)
        return {"system": system, "coef": W, "intercept": b, "task_covariance": Omega}


_MTRL_PARAMS = """    alpha : float or None, default=None
        Strength of the task-relationship term ``tr(W Omega^{-1} W^T)``.
        None: ``0.1 s / n_tasks`` (for the isotropic ``Omega = I / T`` the term
        is ``alpha T ||W||_F^2``), ``s`` the mean eigenvalue of the per-task
        weighted Gram matrices (:func:`~skmtl.linear._base.curvature_scale`; 1
        for standardized features), stored as ``alpha_``.
    beta : float or None, default=None
        Ridge strength ``||W||_F^2``. None: ``0.01 s`` (``beta_``).
    eps : float, default=1e-6
        Smoothing ``W^T W + eps I`` of the covariance step, which keeps
        ``Omega`` invertible.
    fit_intercept : bool, default=True
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
    max_iter : int, default=100
        Maximum number of alternations (weights, covariance).
    max_inner_iter : int, default=1000
        Maximum number of FISTA iterations of each weight step.
    tol : float, default=1e-6
        Stop when the objective decreases by less than ``tol`` (relative);
        also the KKT tolerance of each weight step.
    task_column : str or int, default=None
    solver : {"auto", "direct", "fista"}, default="auto"
        Regressors only. ``"direct"`` solves the normal equations exactly
        (:class:`QuadraticSystem`: a Sylvester equation on complete wide
        input, else conjugate gradients on the (n_features * n_tasks) system,
        preconditioned by the mean-Gram Sylvester operator); ``"fista"`` runs the FISTA engine for each
        weight step; ``"auto"`` picks ``"direct"`` when ``n_tasks *
        n_features**2 <= 2e7`` or the input is complete wide.
"""


class TaskRelationshipRegressor(_MeanTransferMixin, _TaskRelationshipMixin, _RegressorShell):
    __doc__ = r"""Multi-task regression that learns the task covariance with the weights (MTRL).

    Minimizes (Zhang & Yeung, UAI 2010)

    ``1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2 + beta/2 ||W||_F^2
    + alpha/2 tr((W^T W + eps I) Omega^{-1})`` over ``W, b`` and
    ``Omega`` positive definite with ``tr(Omega) = 1``, by alternating a FISTA
    weight step and the closed-form ``Omega = (W^T W + eps I)^{1/2} / tr(.)``.
    The problem is jointly convex and each step minimizes it exactly over
    its block, so the objective decreases monotonically (``objective_path_``).
    ``Omega`` may hold negative correlations: tasks whose weights point in
    opposite directions are pulled towards opposite weights.

    Parameters
    ----------
""" + _MTRL_PARAMS + """
    Attributes
    ----------
    alpha_, beta_ : float
        The strengths fitted (the defaults resolved).
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    task_covariance_ : ndarray of shape (n_tasks, n_tasks)
        The learned ``Omega`` (trace one).
    task_correlation_ : ndarray of shape (n_tasks, n_tasks)
        ``Omega`` scaled to unit diagonal.
    objective_ : float
        Final objective with ``Omega`` profiled out:
        ``f + beta/2 ||W||_F^2 + alpha/2 (tr (W^T W + eps I)^{1/2})^2``.
    objective_path_ : ndarray of shape (``n_iter_``,)
        Objective after each alternation (non-increasing).
    n_iter_ : int
        Number of alternations.
    tasks_, n_tasks_, n_features_in_, feature_names_in_

    Examples
    --------
    >>> from skmtl.linear import TaskRelationshipRegressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = TaskRelationshipRegressor(alpha=1.0, beta=0.1).fit(X, Y)
    >>> model.coef_.shape, model.task_covariance_.shape
    ((4, 10), (4, 4))
    """

    _parameter_constraints = {
        "alpha": [None, NONNEGATIVE],
        "beta": [None, NONNEGATIVE],
        "eps": [POSITIVE],
        **COMMON_CONSTRAINTS,
        "max_inner_iter": [POSITIVE_INT],
        "solver": [SOLVER_OPTIONS],
    }

    def __init__(self, alpha=None, beta=None, *, eps=1e-6, fit_intercept=True, task_weight=None, max_iter=100,
                 max_inner_iter=1000, tol=1e-6, solver="auto", task_column=None):
        self.alpha = alpha
        self.beta = beta
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.max_inner_iter = max_inner_iter
        self.tol = tol
        self.solver = solver
        self.task_column = task_column


class TaskRelationshipClassifier(_TaskRelationshipMixin, _ClassifierShell):
    """Multi-task logistic regression that learns the task covariance (MTRL).

    The model of :class:`TaskRelationshipRegressor` with the logistic loss
    (multinomial for ``K >= 3`` classes, ``W^T W`` summed over class columns).
    Attributes as there, plus ``classes_`` and ``coef_ptr_``.

    Parameters
    ----------
    alpha : float or None, default=None
        Strength of the task-relationship term ``tr(W Omega^{-1} W^T)``.
        None: ``0.1 s / n_tasks`` (for the isotropic ``Omega = I / T`` the term
        is ``alpha T ||W||_F^2``), ``s`` the mean eigenvalue of the per-task
        weighted Gram matrices (:func:`~skmtl.linear._base.curvature_scale`; 1
        for standardized features), stored as ``alpha_``.
    beta : float or None, default=None
        Ridge strength ``||W||_F^2``. None: ``0.01 s`` (``beta_``).
    eps : float, default=1e-6
        Smoothing ``W^T W + eps I`` of the covariance step.
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task (and class column).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit.
    max_iter : int, default=100
        Maximum number of alternations (weights, covariance).
    max_inner_iter : int, default=1000
        Maximum number of FISTA iterations of each weight step.
    tol : float, default=1e-6
        Relative decrease of the objective that stops the alternation; also
        the KKT tolerance of each weight step.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input); None for wide input.

    Examples
    --------
    >>> from skmtl.linear import TaskRelationshipClassifier
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = TaskRelationshipClassifier(alpha=1.0, beta=0.1).fit(X, Y)
    >>> clf.coef_.shape, clf.task_covariance_.shape
    ((3, 6), (3, 3))
    """

    _parameter_constraints = {
        "alpha": [None, NONNEGATIVE],
        "beta": [None, NONNEGATIVE],
        "eps": [POSITIVE],
        **COMMON_CONSTRAINTS,
        "max_inner_iter": [POSITIVE_INT],
    }

    def __init__(self, alpha=None, beta=None, *, eps=1e-6, fit_intercept=True, task_weight=None, max_iter=100,
                 max_inner_iter=1000, tol=1e-6, task_column=None):
        self.alpha = alpha
        self.beta = beta
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.max_inner_iter = max_inner_iter
        self.tol = tol
        self.task_column = task_column
