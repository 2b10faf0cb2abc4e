"""Factorized multi-task regression (inductive matrix completion) by alternating least squares."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .._param_validation import Interval, validate_params
from ..base import MultiTaskRegressorMixin
from ._kernels import dot_rows, grouped_ridge, scatter_rows

__all__ = ["FactorizedRegressor", "sparse_to_long"]


def sparse_to_long(M):
    """Long input for :class:`FactorizedRegressor` from a sparse matrix of observed entries.

    Parameters
    ----------
    M : scipy.sparse matrix of shape (n_rows, n_tasks)
        Stored entries are the observations (implicit zeros are missing).

    Returns
    -------
    X : ndarray of shape (n_obs, 2)
        Column 0 is the row identity, column 1 the task identity: fit with
        ``FactorizedRegressor(row_column=0, task_column=1)``.
    y : ndarray of shape (n_obs,)
    """
    C = sp.coo_matrix(M)
    C.sum_duplicates()
    X = np.column_stack([C.row, C.col]).astype(np.float64)
    return X, np.asarray(C.data, dtype=np.float64)


class FactorizedRegressor(MultiTaskRegressorMixin, BaseEstimator):
    """Low-rank multi-task regression with missing targets (inductive matrix completion).

    Model for row ``i`` (features ``x_i``, optional identity ``g(i)``) and task ``t``:

    ``y_it ~ (x_i U + a_g(i)) v_t + c_g(i) + b_t``

    with ``U`` (n_features, rank) the ``feature_loadings_``, ``V`` (n_tasks,
    rank) the ``task_embedding_``, per-task intercepts ``b``, and, when
    ``row_column`` names a row identity, a free row embedding ``a_g`` and row
    bias ``c_g``. Fitted by alternating exact minimization of

    ``1/2 sum_obs omega (y - yhat)^2 + alpha/2 (||U||^2 + ||A||^2 + ||c||^2)
    + beta/2 ||V||^2``

    (``omega``: the data layer's weights, ``1/n`` per entry on complete wide
    input) over ``(V, b)``, ``(A, c)`` (small ridge systems, one per task or
    row, on observed entries only) and ``U`` (conjugate gradient on the
    matrix-free normal equations, warm-started). Each block step does not
    increase the objective (``objective_path_``). Missing targets simply do
    not enter the sums, so the cost is linear in the number of observations.
    This is inductive matrix completion (Jain & Dhillon 2013; Xu, Jin & Zhou
    2013) with ridge instead of trace-norm constraints, and with
    ``row_column`` and no features the classical biased matrix factorization
    of recommender systems (Koren, Bell & Volinsky 2009).

    .. rubric:: How to pass the data

    * features only (wide ``Y`` with NaN, or long input with ``task_column``):
      new rows are predicted from their features.
    * rows known by identity (plain matrix factorization): give the row id as
      a column of ``X`` and set ``row_column``. With long input
      ``X = [[row_id, task_id], ...]``, ``row_column=0, task_column=1`` is
      pure matrix factorization with row and task biases;
      :func:`sparse_to_long` builds this from a scipy.sparse matrix of
      observed entries. Remaining columns are features (both parts are then
      used). Unseen row ids at predict get ``a = 0, c = 0``, i.e. the
      feature-only prediction.

    Parameters
    ----------
    rank : int, default=5
    alpha : float, default=1e-3
        Ridge on the row side (``U``, and ``A``, ``c``).
    beta : float, default=1e-3
        Ridge on the task embedding ``V``.
    row_column : str or int, default=None
        Column of ``X`` holding a row identity (position in ``X`` as given,
        task column included; a name for a DataFrame).
    fit_intercept : bool, default=True
        Per-task unpenalized intercepts ``b``.
    max_iter : int, default=100
        Alternating sweeps.
    tol : float, default=1e-4
        Stop when the relative objective decrease of a sweep is below ``tol``.
    cg_max_iter : int, default=30
        Conjugate-gradient iterations per ``U`` step.
    random_state : int, RandomState or None, default=None
        Initialization of ``V``.
    task_column : str or int, default=None
        Column of ``X`` holding task labels (long input); None for wide input.

    Attributes
    ----------
    task_embedding_ : ndarray of shape (n_tasks, rank)
    feature_loadings_ : ndarray of shape (n_features_model, rank)
        ``U``; ``n_features_model`` excludes the row-identity column.
    coef_ : ndarray of shape (n_tasks, n_features_model)
        ``V U^T``, the linear part of the model.
    intercept_ : ndarray of shape (n_tasks,)
    row_ids_ : ndarray of shape (n_ids,)
        Only with ``row_column``.
    row_embedding_ : ndarray of shape (n_ids, rank)
        Only with ``row_column``.
    row_bias_ : ndarray of shape (n_ids,)
        Only with ``row_column``.
    n_iter_ : int
    objective_path_ : list of float

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.factorization import FactorizedRegressor
    >>> X, Y, coef = make_multitask_regression(80, 10, 6, structure="low_rank", rank=2, noise=0.1, random_state=0)
    >>> model = FactorizedRegressor(rank=2, random_state=0).fit(X, Y)
    >>> model.coef_.shape, model.task_embedding_.shape
    ((6, 10), (6, 2))
    """

    _accept_sparse = True

    _parameter_constraints = {
        "rank": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "row_column": [None, str, Integral],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cg_max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "task_column": [None, str, Integral],
    }

    def __init__(
        self,
        rank=5,
        *,
        alpha=1e-3,
        beta=1e-3,
        row_column=None,
        fit_intercept=True,
        max_iter=100,
        tol=1e-4,
        cg_max_iter=30,
        random_state=None,
        task_column=None,
    ):
        self.rank = rank
        self.alpha = alpha
        self.beta = beta
        self.row_column = row_column
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cg_max_iter = cg_max_iter
        self.random_state = random_state
        self.task_column = task_column

    # ------------------------------------------------------------------
    # row identity column
    # ------------------------------------------------------------------

    def _row_position(self, n_cols):
        rc = self.row_column
        names = getattr(self, "feature_names_in_", None)
        if isinstance(rc, str):
            if names is None or rc not in list(names):
                raise ValueError(f"row_column={rc!r} is not a column of X (after removing the task column).")
            return list(names).index(rc)
        n_in = n_cols + (1 if self.task_column is not None else 0)
        if not -n_in <= rc < n_in:
            raise ValueError(f"row_column={rc} is out of range for X with {n_in} columns.")
        pos = rc % n_in
        tc = self.task_column
        if tc is not None and isinstance(tc, (int, np.integer)):
            tpos = tc % n_in
            if pos == tpos:
                raise ValueError("row_column and task_column name the same column.")
            if pos > tpos:
                pos -= 1
        return pos

    def _split(self, X):
        """Features without the row-identity column, and the row ids (or None)."""
        if self.row_column is None:
            return X, None
        pos = self._row_pos
        if sp.issparse(X):
            X = sp.csc_matrix(X)
            ids = X[:, pos].toarray().ravel()
            keep = np.delete(np.arange(X.shape[1]), pos)
            return sp.csr_matrix(X[:, keep]), ids
        return np.delete(X, pos, axis=1), X[:, pos].copy()

    # ------------------------------------------------------------------
    # fit
    # ------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Fit the factorized model by alternating least squares on the observed targets.

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
        validate_params(self)
        data = self._validate_fit(X, y, sample_weight)
        if self.row_column is not None:
            self._row_pos = self._row_position(data.n_features)
        Xf, ids = self._split(data.X)
        if not sp.issparse(Xf):
            Xf = np.ascontiguousarray(Xf, dtype=np.float64)
        n, d = Xf.shape
        T, r = data.n_tasks, self.rank
        rows = data.rows.astype(np.int64)
        tasks = data.task_of_obs.astype(np.int64)
        y_obs = np.asarray(data.y, dtype=np.float64)
        w = data.observation_weights()
        rng = check_random_state(self.random_state)
        alpha, beta = float(self.alpha), float(self.beta)

        has_rows = ids is not None
        if has_rows:
            row_ids, rid = np.unique(ids, return_inverse=True)
            obs_ent = rid[rows].astype(np.int64)
            n_ids = len(row_ids)
            ent_order = np.argsort(obs_ent, kind="stable").astype(np.int64)
            ent_ptr = np.concatenate([[0], np.cumsum(np.bincount(obs_ent, minlength=n_ids))]).astype(np.int64)
        task_ptr = data.task_ptr.astype(np.int64)
        task_order = np.arange(len(y_obs), dtype=np.int64)  # observations are stored task after task
        U = np.zeros((d, r))
        A = np.zeros((n_ids, r)) if has_rows else None
        c = np.zeros(n_ids) if has_rows else None
        V = rng.standard_normal((T, r)) / np.sqrt(r)
        wsum = np.bincount(tasks, weights=w, minlength=T)
        if self.fit_intercept:
            b = np.bincount(tasks, weights=w * y_obs, minlength=T) / np.where(wsum > 0, wsum, 1)
        else:
            b = np.zeros(T)

        def latent():
            """Row latent factors and the map obs -> their row."""
            if d == 0 and has_rows:
                return A, obs_ent
            L = np.asarray(Xf @ U)
            if has_rows:
                L = L + A[rid]
            return np.ascontiguousarray(L), rows

        def offsets():
            off = b[tasks].copy()
            if has_rows:
                off += c[obs_ent]
            return off

        def objective():
            L, idx = latent()
            res = y_obs - dot_rows(L, V, idx, tasks) - offsets()
            pen = alpha * float(np.sum(U**2)) + beta * float(np.sum(V**2))
            if has_rows:
                pen += alpha * (float(np.sum(A**2)) + float(np.sum(c**2)))
            return 0.5 * float(w @ res**2) + 0.5 * pen

        objs = [objective()]
        converged = False
        it = 0
        for it in range(1, self.max_iter + 1):
            # --- U: ridge on features, CG on the matrix-free normal equations
            if d > 0:
                target = y_obs - offsets()
                if has_rows:
                    target -= dot_rows(A, V, obs_ent, tasks)
                U = self._cg_step(Xf, U, V, rows, tasks, w, target, alpha, n)
            # --- (A, c): one small ridge system per row identity
            if has_rows:
                target = y_obs - b[tasks]
                if d > 0:
                    target -= dot_rows(np.ascontiguousarray(np.asarray(Xf @ U)), V, rows, tasks)
                F = np.ascontiguousarray(np.hstack([V, np.ones((T, 1))]))
                sol = grouped_ridge(ent_ptr, ent_order, tasks, F, target, w, np.full(r + 1, alpha))
                A, c = np.ascontiguousarray(sol[:, :r]), sol[:, r].copy()
            # --- (V, b): one small ridge system per task
            L, idx = latent()
            target = y_obs - (c[obs_ent] if has_rows else 0.0)
            if self.fit_intercept:
                F = np.hstack([L, np.ones((L.shape[0], 1))])
                reg = np.concatenate([np.full(r, beta), [0.0]])
            else:
                F, reg = L, np.full(r, beta)
            sol = grouped_ridge(task_ptr, task_order, idx, np.ascontiguousarray(F), target, w, reg)
            V = np.ascontiguousarray(sol[:, :r])
            if self.fit_intercept:
                b = sol[:, r].copy()
            objs.append(objective())
            if objs[-2] - objs[-1] <= self.tol * max(abs(objs[-1]), 1e-300):
                converged = True
                break
        if not converged:
            warnings.warn(
                f"FactorizedRegressor did not converge in max_iter={self.max_iter} sweeps "
                f"(relative objective decrease still above tol={self.tol}); increase "
                f"max_iter, loosen tol, raise alpha/beta, or standardize the features.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.task_embedding_ = V
        self.feature_loadings_ = U
        self.coef_ = V @ U.T
        self.intercept_ = b
        if has_rows:
            self.row_ids_ = row_ids
            self.row_embedding_ = A
            self.row_bias_ = c
        self.n_iter_ = it
        self.objective_path_ = objs
        return self

    def _cg_step(self, Xf, U, V, rows, tasks, w, target, alpha, n):
        """Minimize ``1/2 sum w (target - x_i U v_t)^2 + alpha/2 ||U||^2`` over ``U`` by CG from ``U``."""

        def H(D):
            q = dot_rows(np.ascontiguousarray(np.asarray(Xf @ D)), V, rows, tasks)
            return np.asarray(Xf.T @ scatter_rows(w * q, V, rows, tasks, n)) + alpha * D

        rhs = np.asarray(Xf.T @ scatter_rows(w * target, V, rows, tasks, n))
        R = rhs - H(U)
        P = R.copy()
        rr = float(np.sum(R * R))
        stop = 1e-20 * max(float(np.sum(rhs * rhs)), 1e-300)
        for _ in range(self.cg_max_iter):
            if rr <= stop:
                break
            HP = H(P)
            pHp = float(np.sum(P * HP))
            if pHp <= 0:
                break
            step = rr / pHp
            U = U + step * P
            R = R - step * HP
            rr_new = float(np.sum(R * R))
            P = R + (rr_new / rr) * P
            rr = rr_new
        return U

    # ------------------------------------------------------------------
    # predict
    # ------------------------------------------------------------------

    def _predict_tasks(self, X, task_codes):
        Xf, ids = self._split(X)
        L = np.asarray(Xf @ self.feature_loadings_)
        c = np.zeros(X.shape[0])
        if ids is not None:
            pos = np.clip(np.searchsorted(self.row_ids_, ids), 0, len(self.row_ids_) - 1)
            known = self.row_ids_[pos] == ids
            L = L + np.where(known[:, None], self.row_embedding_[pos], 0.0)
            c = np.where(known, self.row_bias_[pos], 0.0)
        V = self.task_embedding_
        if task_codes is None:
            return L @ V.T + c[:, None] + self.intercept_
        return np.einsum("ij,ij->i", L, V[task_codes]) + c + self.intercept_[task_codes]
