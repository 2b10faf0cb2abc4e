r"""Transfer to a new task: fit one more task with the structure a multi-task model learned.

Every model with shared structure has ``fit_new_task(X_new, y_new,
sample_weight=None)``; the fitted tasks are unchanged and the result is a
small fitted object with ``coef_``, ``intercept_`` and ``predict`` (no task
column). The Bayesian models return a
:class:`~skmtl.bayes.TaskPosterior`; the penalized linear models return a
:class:`TaskEstimate` from a generalized ridge

.. math::

    w = m + B a, \qquad
    \min_{a, b} \; \sum_i s_i (y_i - x_i^\top w - b)^2 + \lambda \|a\|_2^2,

with ``m`` (prior mean) and ``B`` (prior basis, ``B B^T`` the prior
covariance shape) set by the learned weights ``C = coef_`` (n_tasks,
n_features) and ``lambda`` chosen by efficient leave-one-out
(:class:`~sklearn.linear_model.RidgeCV`; with fewer than 3 rows ``w = m``):

* L2,1 models: ``m = 0``, ``B`` the learned joint support, feature ``j``
  scaled by ``||C_j||_2^{1/2}`` (the variational form of the L2,1 norm,
  ``||C||_{2,1} = min_{D diagonal} 1/2 sum_t c_t^T D^{-1} c_t + 1/2 tr D``,
  attained at ``D_jj = ||C_j||_2``, ``C_j`` the column of feature ``j``);
* trace norm: ``m = 0``, ``B = V_r S_r`` from the SVD ``C = U S V^T``
  (rank ``r``): ``B B^T`` is the learned tasks' second moment ``C^T C``, so
  the new task lives in the learned subspace, its directions weighted as in
  the fitted tasks;
* mean-regularized and task relationship (MTRL): ``m`` the mean of the rows
  of ``C``, ``B = I``. In MTRL the task weights have task covariance
  ``Omega``; a new task exchangeable with them has cross-covariance
  ``omega = Omega 1 / T`` and conditional prior mean
  ``C^T Omega^{-1} omega = C^T 1 / T``, the plain mean, with an isotropic
  conditional covariance whose scale ``lambda`` sets.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import RidgeCV
from sklearn.utils.validation import check_is_fitted

from ._data import _check_features, _check_sample_weight

__all__ = ["TaskEstimate", "check_new_task", "fit_ridge_towards"]


def check_new_task(estimator, X_new, y_new, sample_weight=None, attribute="coef_"):
    """Validate the data of one new task against a fitted multi-task model.

    Parameters
    ----------
    estimator : fitted estimator
    X_new : array-like or sparse matrix of shape (n, n_features)
        Features only (no task column); ``n_features_in_`` columns, finite.
    y_new : array-like of shape (n,)
        Finite targets of the new task.
    sample_weight : array-like of shape (n,), default=None
    attribute : str, default="coef_"
        Fitted attribute required on ``estimator``.

    Returns
    -------
    X : ndarray of shape (m, n_features)
    y : ndarray of shape (m,)
    sw : ndarray of shape (m,)
        The rows with a positive weight (``m >= 1``).
    """
    check_is_fitted(estimator, attribute)
    X = _check_features(estimator, X_new, reset=False, accept_sparse=("csr", "csc"), dtype=[np.float64])
    if sp.issparse(X):
        X = X.toarray()
    y = y_new.to_numpy() if hasattr(y_new, "to_numpy") else np.asarray(y_new)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y_new must be 1-D, the targets of one new task; got shape {y.shape}.")
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y_new must be numeric; {exc}.") from exc
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X_new has {X.shape[0]} rows but y_new has {y.shape[0]}.")
    if not np.all(np.isfinite(y)):
        raise ValueError("y_new must be finite (no NaN or inf): every row of a new task needs its target.")
    sw = _check_sample_weight(sample_weight, X.shape[0])
    keep = sw > 0
    return X[keep], y[keep], sw[keep]


class TaskEstimate:
    """Weights of one new task, fitted with the structure of a multi-task model.

    Returned by the ``fit_new_task`` method of the penalized linear models.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    alpha_ : float
        Ridge strength on the coordinates ``a`` (chosen by leave-one-out),
        ``inf`` when the prior mean was used alone.
    prior_mean_ : ndarray of shape (n_features,)
        The weights the new task is shrunk towards.
    n_components_ : int
        Number of free directions (columns of the prior basis).
    """

    def __init__(self, parent, coef, intercept, alpha, prior_mean, n_components):
        self._parent = parent
        self.coef_ = coef
        self.intercept_ = intercept
        self.alpha_ = alpha
        self.prior_mean_ = prior_mean
        self.n_components_ = n_components

    def predict(self, X):
        """Predict the new task; ``X`` without a task column.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = _check_features(self._parent, X, reset=False, accept_sparse=("csr", "csc"), dtype=[np.float64])
        return np.asarray(X @ self.coef_).ravel() + self.intercept_


def fit_ridge_towards(parent, X, y, sw, prior_mean=None, basis=None, fit_intercept=True):
    """Generalized ridge ``w = prior_mean + basis @ a`` with a leave-one-out strength.

    Parameters
    ----------
    parent : fitted estimator
        Used by :meth:`TaskEstimate.predict` to check features.
    X, y, sw : ndarray
        Validated rows of the new task (:func:`check_new_task`).
    prior_mean : ndarray of shape (n_features,), default=None
        Zero when None.
    basis : ndarray of shape (n_features, r), default=None
        Identity when None; ``r = 0`` leaves only the prior mean.
    fit_intercept : bool, default=True

    Returns
    -------
    TaskEstimate
    """
    p = X.shape[1]
    m = np.zeros(p) if prior_mean is None else np.asarray(prior_mean, dtype=np.float64)
    r = y - X @ m
    Z = X if basis is None else X @ basis
    k = Z.shape[1]
    W = sw.sum()
    if k == 0 or len(y) < 3:
        # too little to tune a strength: the prior mean, with the intercept fitted
        b = float(sw @ r / W) if fit_intercept else 0.0
        return TaskEstimate(parent, m.copy(), b, np.inf, m, k)
    Zc = Z - sw @ Z / W if fit_intercept else Z
    scale = float(np.mean(sw @ Zc**2))
    if not scale > 0:
        scale = 1.0
    grid = scale * np.logspace(-4, 3, 29)
    ridge = RidgeCV(alphas=grid, fit_intercept=fit_intercept).fit(Z, r, sample_weight=sw)
    a = ridge.coef_
    w = m + (a if basis is None else basis @ a)
    b = float(ridge.intercept_) if fit_intercept else 0.0
    return TaskEstimate(parent, w, b, float(ridge.alpha_), m, k)


def _rows_basis(coef):
    """Basis of the joint support, column ``j`` scaled by ``||W_j||_2^{1/2}``."""
    norms = np.sqrt(np.sum(coef**2, axis=0))
    support = np.flatnonzero(np.any(coef != 0, axis=0))
    B = np.zeros((coef.shape[1], len(support)))
    B[support, np.arange(len(support))] = np.sqrt(norms[support] / max(norms.max(initial=0.0), 1e-300))
    return B


def _subspace_basis(coef):
    """``V_r S_r`` (scaled by ``1 / s_1``) of the SVD of ``coef`` (n_tasks, n_features), rank ``r``."""
    if coef.size == 0:
        return np.zeros((coef.shape[1], 0))
    _, s, Vt = np.linalg.svd(coef, full_matrices=False)
    keep = s > max(coef.shape) * np.finfo(float).eps * max(s.max(initial=0.0), 1e-300)
    return Vt[keep].T * (s[keep] / s[0])


class _SupportTransferMixin:
    """``fit_new_task`` on the learned joint support (L2,1 models)."""

    def fit_new_task(self, X_new, y_new, sample_weight=None):
        """Fit a new task on the learned joint support; the fitted tasks are unchanged.

        Ridge on the features with ``np.any(coef_ != 0, axis=0)``, feature
        ``j`` scaled by ``||coef_[:, j]||_2^{1/2}``, the strength chosen by
        leave-one-out (see :mod:`skmtl._new_task`).

        Parameters
        ----------
        X_new : array-like or sparse matrix of shape (n, n_features)
            Features only (no task column).
        y_new : array-like of shape (n,)
        sample_weight : array-like of shape (n,), default=None

        Returns
        -------
        TaskEstimate
            With ``coef_``, ``intercept_``, ``alpha_`` and ``predict(X)``.
        """
        X, y, sw = check_new_task(self, X_new, y_new, sample_weight)
        return fit_ridge_towards(self, X, y, sw, basis=_rows_basis(np.asarray(self.coef_)),
                                 fit_intercept=self.fit_intercept)


class _SubspaceTransferMixin:
    """``fit_new_task`` in the learned row subspace (trace-norm models)."""

    def fit_new_task(self, X_new, y_new, sample_weight=None):
        """Fit a new task in the learned subspace; the fitted tasks are unchanged.

        The new weights are ``w = V_r S_r a`` with ``coef_ = U S V^T``
        (rank ``r``), ``a`` by ridge with a leave-one-out strength (see
        :mod:`skmtl._new_task`).

        Parameters
        ----------
        X_new : array-like or sparse matrix of shape (n, n_features)
            Features only (no task column).
        y_new : array-like of shape (n,)
        sample_weight : array-like of shape (n,), default=None

        Returns
        -------
        TaskEstimate
            With ``coef_``, ``intercept_``, ``alpha_``, ``n_components_`` (``r``)
            and ``predict(X)``.
        """
        X, y, sw = check_new_task(self, X_new, y_new, sample_weight)
        return fit_ridge_towards(self, X, y, sw, basis=_subspace_basis(np.asarray(self.coef_)),
                                 fit_intercept=self.fit_intercept)


class _MeanTransferMixin:
    """``fit_new_task`` shrinking towards the mean task weights (mean-regularized, MTRL)."""

    def fit_new_task(self, X_new, y_new, sample_weight=None):
        """Fit a new task by ridge towards the learned mean weights; the fitted tasks are unchanged.

        ``w = m + a`` with ``m = coef_.mean(axis=0)``, ``a`` by ridge with a
        leave-one-out strength (see :mod:`skmtl._new_task` for why this is
        also the task-relationship model's conditional prior).

        Parameters
        ----------
        X_new : array-like or sparse matrix of shape (n, n_features)
            Features only (no task column).
        y_new : array-like of shape (n,)
        sample_weight : array-like of shape (n,), default=None

        Returns
        -------
        TaskEstimate
            With ``coef_``, ``intercept_``, ``alpha_``, ``prior_mean_`` and ``predict(X)``.
        """
        X, y, sw = check_new_task(self, X_new, y_new, sample_weight)
        return fit_ridge_towards(self, X, y, sw, prior_mean=np.asarray(self.coef_).mean(axis=0),
                                 fit_intercept=self.fit_intercept)

