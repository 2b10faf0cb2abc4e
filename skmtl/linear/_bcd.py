r"""Block coordinate descent for row-separable penalties on the multi-task coefficients.

Problem (per-task intercepts ``b``, weights ``omega`` from
:meth:`skmtl._data.MultiTaskData.observation_weights`)::

    min_{W, b}  1/2 sum_i omega_i (y_i - x_{r(i)} w_{t(i)} - b_{t(i)})^2
                + sum_j rho_j(W_j) + r_j / 2 ||W_j||_2^2

``rho_j`` a row penalty of strength ``alpha l1_ratio f_j`` and ``r_j =
alpha (1 - l1_ratio) f_j`` (penalty factors ``f_j >= 0``). With the group lasso
``rho_j(w) = lam_j ||w||_2`` this is scikit-learn's ``MultiTaskElasticNet``;
the row penalties (group lasso, group MCP/SCAD, sparse group lasso) are
classes of :mod:`skmtl.linear._row_penalties`, whose Numba parts the kernels
below call (compiled once per penalty). The block update is the prox of the
row penalty after the ridge shrinkage (:func:`_bst`).

with ``W`` of shape (n_features, n_tasks) and ``W_j`` its j-th row (one
feature across tasks). Intercepts are eliminated by implicit weighted
centering per task: ``b_t = ybar_t - mu_t^T w_t`` with ``mu_t``, ``ybar_t`` the
``omega``-weighted means of the rows and targets of task ``t``. ``X`` is never
centered (nor densified when sparse): the solver keeps the uncentered
residual ``R = y_c - X W`` and a per-task offset ``c_t = mu_t^T w_t`` so that
the true residual is ``R + c``.

Data paths, all in Numba:

* **shared** (``data.complete``, dense ``X``): every task observes every row,
  ``omega_{it} = u_i v_t``; the residual is a (n_tasks, n_samples) matrix and
  the gradient of feature ``j`` is ``v_t (u * X[:, j])^T R[t]``.
* **shared, sparse** (``data.complete``, CSC ``X``): the same with the
  residual stored (n_samples, n_tasks), walking the nonzeros of column ``j``.
* **Gram** (the shared dense float64 case with ``n >= 2 p``): covariance
  updates, glmnet's trick for tall data. ``H = B - Q W`` with
  ``Q = X_c^T diag(u) X_c`` (only the columns of features that enter a
  working set are ever computed) and ``B = X_c^T diag(u) Y_c``: a gradient is
  a read of ``H`` and an update costs ``O(p T)`` instead of ``O(n T)``.
* **per observation** (targets with NaN, or long input): one
  residual per observation; the gradient of feature ``j`` is accumulated task
  by task (dense ``X``: gather the task's rows of column ``j``; CSC ``X``: walk
  the nonzeros of column ``j`` and, through a row -> observations index, the
  observations of each row). No block-diagonal design is ever built.

Solver: working sets ranked by the distance of ``-grad_j`` to the
subdifferential ``alpha d||W_j||`` and grown geometrically (twice the support),
an inner block coordinate descent on the working set with Anderson
extrapolation every ``K`` epochs (Bertrand & Massias 2021; skglm), and an
outer stopping rule on the duality gap at the best rescaled dual point
``theta = omega * r * min(1, alpha / max_j ||X_j^T (omega r)||)`` (with a ridge
part, also the residual itself through the conjugate of the row penalty, the
better of the two; unpenalized features add a second-order estimate of their
remaining decrease, see :func:`_kkt_scores`).
"""

import contextlib
import math

import numpy as np
import scipy.sparse as sp

from ._bcd_kernels import (
    Gram,
    ObsDense,
    ObsSparse,
    SharedDense,
    SharedSparse,
    _full_grad_shared_dense,
    _moments_obs_dense,
    _moments_obs_sparse,
    _moments_shared_dense,
    _moments_shared_sparse,
    history,
    moments,
    penalty_sum,
    select_ws,
    solve_ws,
)
from ._kkt import kkt_scores
from ._row_penalties import make_row_penalty
from ._row_penalties.group_lasso import GroupLasso

__all__ = ["L21Solver"]

_SHARED_DENSE, _OBS_DENSE, _OBS_SPARSE, _SHARED_SPARSE, _GRAM = 0, 1, 2, 3, 4
_GRAM_MIN_RATIO = 2  # shared dense float64 designs with n >= this x p use Gram (covariance) updates
_GRAM_MAX_FEATURES = 5000  # ... and at most this many features (the Gram columns are p x p at most)
_INNER_FRAC = 0.3  # inner solves stop at this fraction of the outer KKT violation
_SMALL_BLAS = 5e7  # below n * p * T full gradients run on one BLAS thread
_FIRST_CHUNK = 3  # large working sets: epochs before the second gap check
_CHUNK_GROWTH = 1.5  # large working sets: at most this many times the last interval
_SUPPORT_PASS = 0.9  # large working sets: a support-only pass before each full pass when the support is below this fraction
_NO_SUB = np.zeros(0, dtype=np.int64)
_WS_GROWTH = 2  # working set: this many times the support (at least)
_PRODUCT_BLOCK = 512  # columns per block of X W in set_coef
_NUMPY_MOMENTS = 1 << 16  # shared dense designs with n * p up to this: column moments by NumPy (no kernel to compile)
# One-off fits with n * p * T up to this: no Anderson extrapolation (see L21Solver.one_off_options)
_PLAIN_MAX_SIZE = 100_000
_blas_controller = None


def _blas_single_thread():
    """Context limiting BLAS to one thread (small products: threads only cost)."""
    global _blas_controller
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")

# --------------------------------------------------------------------------
# the solver object: data prepared once, warm starts along a path
# --------------------------------------------------------------------------


class L21Solver:
    """Multi-task group lasso on a :class:`~skmtl._data.MultiTaskData`.

    The data is prepared once (layout, weighted means, block Lipschitz
    constants); :meth:`solve` can then be called for a decreasing sequence of
    ``alpha`` and continues from the current coefficients (warm start).

    Parameters
    ----------
    data : MultiTaskData
    fit_intercept : bool
        Fit one unpenalized intercept per task (implicit weighted centering).
    task_weight : None, "balanced" or array of shape (n_tasks,)
        Passed to ``data.observation_weights``.
    l1_ratio : float in [0, 1], default=1.0
        Mixing of the row penalty: feature ``j`` costs
        ``alpha f_j (l1_ratio ||W_j||_2 + (1 - l1_ratio) / 2 ||W_j||_2^2)``
        (scikit-learn's ``MultiTaskElasticNet`` for ``f = 1``).
    penalty_factor : None or array of shape (n_features,), default=None
        The factors ``f_j >= 0`` (0: unpenalized), used as given (the
        estimators rescale them to sum to ``n_features`` first, as glmnet does).
    penalty : str or RowPenalty, default="group_lasso"
        The row penalty ``rho_j`` with strength ``alpha l1_ratio f_j``: a name
        registered in :mod:`skmtl.linear._row_penalties` ("group_lasso",
        "group_mcp", "group_scad", "sparse_group") or an instance. A non-convex
        penalty (MCP, SCAD): :meth:`solve` then stops on the KKT violation
        (relative to the largest row gradient at ``W = 0``) and returns it in
        place of the gap.
    gamma : float, default=None
        Concavity of MCP (default 3, must exceed 1) and SCAD (default 3.7, must
        exceed 2).
    l1_share : float in [0, 1], default=0.5
        Sparse group lasso only: the row penalty is
        ``alpha l1_ratio f_j ((1 - l1_share) ||W_j||_2 + l1_share ||W_j||_1)``.
    precompute : "auto" or bool, default="auto"
        Covariance (Gram) updates (:func:`_epoch_gram`): an update costs
        ``O(p T)`` instead of ``O(n T)``. Possible on complete wide input with a
        dense float64 ``X``; "auto" uses them when ``n >= 2 p`` and
        ``p <= 5000``; True asks for them (an error where impossible).
    obs_weight : None or array of shape (n_obs,), default=None
        The observation weights ``omega`` themselves (``task_weight`` is then
        ignored): the Hessian weights of a proximal Newton step
        (:func:`~skmtl.linear._prox_newton.prox_newton`).
    """

    def __init__(self, data, *, fit_intercept=True, task_weight=None, l1_ratio=1.0,
                 penalty_factor=None, penalty="group_lasso", gamma=None, l1_share=0.5,
                 precompute="auto", obs_weight=None):
        X = data.X
        self.n_features = p = data.n_features
        self.n_samples = n = data.n_samples
        self.n_tasks = T = data.n_tasks
        self.fit_intercept = fit_intercept
        if obs_weight is None:
            obs_weight = data.observation_weights(task_weight)
        omega = np.ascontiguousarray(obs_weight, dtype=np.float64)
        y = np.asarray(data.y, dtype=np.float64)
        dtype = X.dtype
        self.dtype = dtype
        self.sparse = sp.issparse(X)
        task_of = data.task_of_obs.astype(np.int64)

        mode = _OBS_SPARSE if self.sparse else _OBS_DENSE
        if data.complete:
            Om = omega.reshape(T, n)
            v = Om.sum(axis=1)
            t0 = int(np.argmax(v))
            if v[t0] > 0:
                u = Om[t0] / v[t0]
                if np.allclose(Om, v[:, None] * u[None, :], rtol=1e-12, atol=0.0):
                    mode = _SHARED_SPARSE if self.sparse else _SHARED_DENSE
        self.mode = mode
        self._task_ptr = np.asarray(data.task_ptr, dtype=np.int64)
        # the state of the layout in use (the other layout's residual is None):
        # shared: _R2 (residual (T, n), or (n, T) when sparse), _u, _v, _mu, _xu, _Yc;
        # per observation: _R1 (one residual per observation), _omega, _rows, _MU, _XU, _yc
        self._R1 = self._R2 = None

        self._shared = mode in (_SHARED_DENSE, _SHARED_SPARSE)
        if self._shared:
            if mode == _SHARED_DENSE:
                self._Xd = Xf = np.asfortranarray(X)
                if n * p <= _NUMPY_MOMENTS:  # small: NumPy (a first fit on small data compiles one kernel less)
                    X64 = np.asarray(Xf, dtype=np.float64)
                    s1 = u @ X64
                    s2 = u @ (X64 * X64)
                else:
                    s1, s2 = moments(_moments_shared_dense, Xf, u, shape=p)
            else:
                self._set_csc(X)
                s1, s2 = moments(_moments_shared_sparse, self._indptr, self._indices, self._data, u, shape=p)
            self._u = u
            self._v = v
            self._const_u = bool(np.all(u == u[0]))
            U = u.sum()
            Y = y.reshape(T, n)  # (T, n)
            if fit_intercept and U > 0:
                mu = s1 / U
                ybar = Y @ u / U
            else:
                mu = np.zeros(p)
                ybar = np.zeros(T)
            self._mu = mu
            self._xu = U * mu
            self._Yc = Y - ybar[:, None]
            var = np.maximum(s2 - U * mu * mu, 0.0)
            self._L = var * v.max()
            self._P0 = 0.5 * float(v @ ((self._Yc ** 2) @ u))
            if mode == _SHARED_SPARSE:  # residual row-major: (n, T)
                self._Yc = np.ascontiguousarray(self._Yc.T)
            self._R2 = np.ascontiguousarray(self._Yc.copy())
        else:
            if mode == _OBS_DENSE:
                self._Xd = Xf = np.asfortranarray(X)
                rows = np.asarray(data.rows, dtype=np.int64)
                self._rows = rows
                self._omega = omega
                s1, s2 = moments(_moments_obs_dense, Xf, rows, self._task_ptr, omega, shape=(p, T))
                order = np.arange(len(y))
            else:
                self._set_csc(X)
                order = np.argsort(data.rows, kind="stable")  # row-major observations
                rows = np.asarray(data.rows, dtype=np.int64)[order]
                self._rows = rows
                self._row_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
                self._otask = task_of[order]
                self._omega = omega[order]
                s1, s2 = moments(_moments_obs_sparse, self._indptr, self._indices, self._data,
                                 self._row_ptr, self._otask, self._omega, shape=(p, T))
            S = np.bincount(task_of, weights=omega, minlength=T)
            Sy = np.bincount(task_of, weights=omega * y, minlength=T)
            if fit_intercept:
                with np.errstate(invalid="ignore", divide="ignore"):
                    MU = np.where(S > 0, s1 / S, 0.0)
                    ybar = np.where(S > 0, Sy / np.where(S > 0, S, 1), 0.0)
            else:
                MU = np.zeros((p, T))
                ybar = np.zeros(T)
            self._MU = np.ascontiguousarray(MU)
            self._XU = np.ascontiguousarray(S * MU)
            yc = (y - ybar[task_of])[order]
            self._yc = yc
            var = np.maximum(s2 - S * MU * MU, 0.0)
            self._L = var.max(axis=1) if T else np.zeros(p)
            self._R1 = yc.copy()
            self._P0 = 0.5 * float(self._omega @ (yc ** 2))
        self._ybar = ybar
        Lmax = self._L.max() if p else 0.0
        self._L = np.where(self._L > 1e-12 * max(Lmax, 1e-300), self._L, 0.0)
        self.penalty = make_row_penalty(penalty, gamma=gamma, l1_share=l1_share)
        self._g0_scale = None
        f = np.ones(p) if penalty_factor is None else np.asarray(penalty_factor, dtype=np.float64)
        if not 0.0 <= float(l1_ratio) <= 1.0:
            raise ValueError(f"l1_ratio must lie in [0, 1]; got {l1_ratio!r}.")
        if f.shape != (p,) or not np.all(f >= 0) or not np.all(np.isfinite(f)):
            raise ValueError(f"penalty_factor must be {p} finite non-negative values; got shape {f.shape}.")
        self.l1_ratio = float(l1_ratio)
        self._pw = self.l1_ratio * f  # alpha * _pw: strength of the row penalty rho_j
        self._rw = (1.0 - self.l1_ratio) * f  # alpha * _rw: strength of the ridge of each row
        # unpenalized non-constant features: no dual constraint a rescaling can meet
        self._n_free = int(np.count_nonzero((f == 0) & (self._L > 0)))
        # features with a ridge and no norm: the rescaled dual point is not feasible
        self._pure_ridge = bool(np.any(~self._penalized_rows() & (self._rw > 0)))
        self.W = np.zeros((p, T))
        self._c = np.zeros(T)
        self._grad_cache = None
        self._blas_limited = False
        possible = mode == _SHARED_DENSE and dtype == np.float64 and p > 0
        if precompute is True and not possible:
            raise ValueError("precompute=True needs complete wide targets (no NaN, equal row weights "
                             "across tasks) and a dense float64 X.")
        if precompute not in ("auto", True, False):
            raise ValueError(f"precompute must be 'auto', True or False; got {precompute!r}.")
        if precompute is True or (precompute == "auto" and possible and p <= _GRAM_MAX_FEATURES
                                  and n >= _GRAM_MIN_RATIO * p):
            self._init_gram()
        # small shared dense problems: full gradients by the Numba kernel, not BLAS
        self._fused_grad = self.mode == _SHARED_DENSE and n * p * T <= _SMALL_BLAS

    # ------------------------------------------------------- Gram (tall data)
    def _init_gram(self):
        """Switch to covariance updates (tall shared dense design, see :func:`_epoch_gram`).

        ``B^T = (Y_c diag(u)) X_c`` and ``E_t = sum_i u_i y_c,ti^2`` are computed
        once; the columns of ``Q = X_c^T diag(u) X_c`` only for the features that
        enter a working set (``n p`` each), so a sparse path never pays ``n p^2``.
        The state array ``_R2`` then holds ``H^T = (B - Q W)^T`` instead of the residual.
        """
        u, X = self._u, self._Xd
        Z = self._Yc * u[None, :]  # (T, n)
        self._Bt = np.ascontiguousarray(Z @ X - np.outer(Z.sum(axis=1), self._mu))
        self._E = (self._Yc ** 2) @ u
        self._R2 = self._Bt.copy()
        # Gram columns side by side, Fortran (the layout of X: no second compilation)
        self._Qc = np.zeros((self.n_features, min(self.n_features, 64)), order="F")
        self._qcol = np.full(self.n_features, -1, dtype=np.int64)
        self._nq = 0
        self.mode = _GRAM

    @property
    def _gram(self):
        return self.mode == _GRAM

    def _ensure_gram_columns(self, feats):
        """Compute the Gram columns ``Q[:, j]`` of the features ``feats`` not yet known."""
        new = feats[self._qcol[feats] < 0]
        if new.size == 0:
            return
        need = self._nq + new.size
        if need > self._Qc.shape[1]:
            grown = np.zeros((self.n_features, min(self.n_features, max(need, 2 * self._Qc.shape[1]))),
                             order="F")
            grown[:, : self._nq] = self._Qc[:, : self._nq]
            self._Qc = grown
        X, u, mu = self._Xd, self._u, self._mu
        self._Qc[:, self._nq: need] = X.T @ (u[:, None] * X[:, new]) - u.sum() * np.outer(mu, mu[new])
        self._qcol[new] = np.arange(self._nq, need)
        self._nq = need

    def _gram_state(self):
        """``(G, datafit, sum omega r y_c)`` from ``H`` (Gram mode)."""
        W, Ht, v = self.W, self._R2, self._v
        G = np.ascontiguousarray((Ht * v[:, None]).T)
        wb = np.einsum("jt,tj->t", W, self._Bt)
        wh = np.einsum("jt,tj->t", W, Ht)
        return G, 0.5 * float(v @ (self._E - wb - wh)), float(v @ (self._E - wb))

    def _set_csc(self, X):
        Xc = X.tocsc() if X.format != "csc" else X
        self._indptr = np.asarray(Xc.indptr, dtype=np.int64)
        self._indices = np.asarray(Xc.indices, dtype=np.int64)
        self._data = np.asarray(Xc.data)
        self._Xsp = Xc

    def _r_shared(self, R):
        """Residual of the shared modes as (T, n) (a view)."""
        return R.T if self.mode == _SHARED_SPARSE else R

    # ---------------------------------------------------------------- state
    def set_coef(self, W):
        """Start from coefficients ``W`` (n_features, n_tasks)."""
        W = np.array(W, dtype=np.float64)
        self.W = W
        self._grad_cache = None
        supp = np.flatnonzero(np.any(W != 0, axis=1))
        if self.mode == _GRAM:
            self._ensure_gram_columns(supp)
            self._R2 = np.ascontiguousarray(self._Bt - W[supp].T @ self._Qc[:, self._qcol[supp]].T)
            self._c = self._mu @ W
        elif self.mode == _SHARED_DENSE:
            self._R2 = np.ascontiguousarray(self._Yc - self._dense_product(supp, W).T)
            self._c = self._mu @ W
        elif self.mode == _SHARED_SPARSE:
            self._R2 = np.ascontiguousarray(self._Yc - np.asarray(self._Xsp[:, supp] @ W[supp]))
            self._c = self._mu @ W
        else:
            XW = self._dense_product(supp, W) if not self.sparse else np.asarray(self._Xsp[:, supp] @ W[supp])
            if self.mode == _OBS_DENSE:
                task_of = np.repeat(np.arange(self.n_tasks), np.diff(self._task_ptr))
            else:
                task_of = self._otask
            self._R1 = self._yc - XW[self._rows, task_of]
            self._c = np.einsum("jt,jt->t", self._MU, W)

    def _dense_product(self, supp, W):
        """``X W`` (n, T) in float64 for a dense ``X``, over the support ``supp`` of ``W``.

        Taken in blocks of 512 columns: a large working set of a screened fit
        (:mod:`skmtl.linear._screened`) is not copied whole.
        """
        out = np.zeros((self.n_samples, W.shape[1]))
        for a in range(0, len(supp), _PRODUCT_BLOCK):
            cols = supp[a:a + _PRODUCT_BLOCK]
            out += np.asarray(self._Xd[:, cols], dtype=np.float64) @ W[cols]
        return out

    def checkpoint_state(self):
        """What a path checkpoint keeps besides the coefficients: nothing for the in-memory solver."""
        return {}

    def restore_state(self, W, state):
        """Continue from a checkpoint: the coefficients ``W`` (n_features, n_tasks)."""
        self.set_coef(W)

    def data_X_cols(self, cols):
        if self.sparse:
            return self._Xsp[:, cols]
        return self._Xd[:, cols]

    # ---------------------------------------------------------- full pass
    def _weighted_residual(self):
        """``M`` (n_samples, n_tasks): ``omega * (R + c)`` placed at (row, task)."""
        if self._shared:
            r = self._r_shared(self._R2) + self._c[:, None]  # (T, n)
            return (r * self._u[None, :] * self._v[:, None]).T, r
        T = self.n_tasks
        if self.mode == _OBS_DENSE:
            task_of = np.repeat(np.arange(T), np.diff(self._task_ptr))
        else:
            task_of = self._otask
        r = self._R1 + self._c[task_of]
        M = np.zeros((self.n_samples, T))
        M[self._rows, task_of] = self._omega * r
        return M, r

    def neg_gradient(self, M):
        """``X_c^T M`` per task with the centering of each task, shape (p, T)."""
        if self.sparse:
            G = np.asarray(self._Xsp.T @ M.astype(self.dtype, copy=False), dtype=np.float64)
        else:
            G = np.asarray(self._Xd.T @ M.astype(self.dtype, copy=False), dtype=np.float64)
        colsum = M.sum(axis=0)
        if self._shared:
            G -= self._mu[:, None] * colsum[None, :]
        else:
            G -= self._MU * colsum[None, :]
        return G

    def alpha_max(self):
        """Smallest ``alpha`` with every penalized row of ``W`` zero at the optimum.

        ``alpha_max = max_j ||G_j||_2 / (l1_ratio f_j)`` over the penalized
        features, ``G = X_c^T (omega r)`` being minus the gradient at the model
        where only the unpenalized features (``f_j = 0``) are fitted (``W = 0``
        when there are none: ``G = X_c^T (omega y_c)``). The coefficients of the
        solver are left as they were. Sparse group lasso: for each row the ``alpha``
        at which ``||S_{alpha b_j}(G_j)||_2 = alpha a_j`` (bisection; ``a_j``, ``b_j``
        the group and entrywise weights).
        """
        pen = self._penalized_rows()
        if self.n_features == 0 or not pen.any():
            if self.l1_ratio == 0.0:
                raise ValueError(
                    "alpha_max is infinite for l1_ratio=0 (a pure ridge never zeroes the "
                    "coefficients): give the alphas explicitly.")
            return 0.0
        G = self._grad_at_null_model(fit_free=self._n_free > 0)
        return self.penalty.alpha_max(G[pen], self._pw[pen])

    def _penalized_rows(self):
        return self._pw > 0

    def _grad_at_null_model(self, fit_free):
        """Minus the gradient at ``W = 0``, or (``fit_free``) with the unpenalized rows fitted.

        The coefficients of the solver are left as they were.
        """
        saved = (self.W, self._c, self._R2, self._R1, self._grad_cache)
        self.W = np.zeros_like(self.W)
        self._c = np.zeros(self.n_tasks)
        self._grad_cache = None
        if self.mode == _GRAM:
            self._R2 = self._Bt.copy()
        elif self._shared:
            self._R2 = self._Yc.copy()
        else:
            self._R1 = self._yc.copy()
        try:
            if fit_free:  # fit the unpenalized features alone: the others held at zero
                with self.single_thread_blas():  # (as group lasso rows of infinite strength)
                    rows = GroupLasso().rows(np.where(self._penalized_rows(), 1e300, 0.0),
                                             np.zeros(self.n_features))
                    self._solve_rows(rows, True, tol=1e-10, max_iter=10000)
            if self.mode == _GRAM:
                return self._gram_state()[0]
            M, _ = self._weighted_residual()
            return self.neg_gradient(M)
        finally:
            self.W, self._c, self._R2, self._R1, self._grad_cache = saved

    def _grad0_scale(self):
        """``max_j ||G_j||`` at ``W = 0``: the scale of the KKT tolerance of MCP and SCAD."""
        if self._g0_scale is None:
            G = self._grad_at_null_model(fit_free=False)
            self._g0_scale = float(np.sqrt((G ** 2).sum(axis=1)).max()) if G.size else 0.0
        return self._g0_scale

    def _objective_terms(self, r):
        """``(datafit, sum omega r y_c)`` for the current residual ``r``."""
        if self._shared:
            fit = 0.5 * float(self._v @ ((r * r) @ self._u))
            cross = float(self._v @ ((r * self._r_shared(self._Yc)) @ self._u))
        else:
            fit = 0.5 * float(self._omega @ (r * r))
            cross = float(self._omega @ (r * self._yc))
        return fit, cross

    # ---------------------------------------------------------------- solve
    def solve(self, alpha, **kwargs):
        """Minimize for ``alpha`` from the current coefficients.

        Keyword arguments: ``tol=1e-4``, ``max_iter=1000``, ``p0=10`` (first
        working set size), ``use_acc=True`` (Anderson), ``K=5``, ``verbose=0``,
        ``criterion="gap"`` (``"kkt"``: stop on the KKT violation, as for a
        non-convex penalty, even when the penalty is convex: a gap below the
        rounding of the objective, about ``1e-16`` of it, cannot be certified),
        ``kkt_numpy=False`` (True: the KKT statistics of each outer iteration in
        NumPy where :func:`~skmtl.linear._kkt.kkt_scores` can, which compiles no
        kernel but costs ~40 us a call instead of ~3 us: for one-off fits, whose
        first in a process then compiles less, not for paths).

        ``tol`` is relative to the weighted centered target energy: the solver
        stops when the duality gap is at most ``tol * sum_i omega_i y_c,i^2``
        (twice the objective at ``W = 0``; on complete wide input
        ``tol ||Y_c||_F^2 / n``, the criterion of scikit-learn's MultiTaskLasso).
        ``max_iter`` bounds the total number of coordinate descent epochs (passes
        over the working set; on a large working set with a support under 90% of
        it, each is preceded by a pass over the support, not counted separately).

        Returns
        -------
        gap : float
            Final duality gap (absolute).
        n_iter : int
            Epochs performed.
        converged : bool
        """
        with self.single_thread_blas():
            return self._solve(alpha, **kwargs)

    def one_off_options(self):
        """The options of :meth:`solve` for a one-off fit (an estimator's ``fit``), not a path.

        ``kkt_numpy=True``, and ``use_acc=False`` when ``n_samples * n_features *
        n_tasks <= _PLAIN_MAX_SIZE`` (1e5): plain block coordinate descent, whose
        kernel takes half the compilation of the extrapolated one (about 0.7 s
        instead of 1.5 s in a new process, empty Numba cache). On such a problem a
        full epoch costs some microseconds, and the fit some milliseconds with or
        without the extrapolation, which saves epochs (up to ten times fewer on
        strongly correlated features) but little time. Paths and cross-validation,
        which solve many problems in a process, keep the extrapolation: there it
        saves 20-40% of the time from about 3e4 upward.
        """
        size = self.n_samples * self.n_features * self.n_tasks
        return {"kkt_numpy": True, "use_acc": size > _PLAIN_MAX_SIZE}

    @contextlib.contextmanager
    def single_thread_blas(self):
        """Context running the full gradients on one BLAS thread when they are small.

        A path enters it once around all its fits (threadpoolctl costs ~0.1 ms a call).
        """
        size = self.n_samples * self.n_features * self.n_tasks
        if self._blas_limited or not 1e6 <= size <= _SMALL_BLAS:  # tiny: one thread anyway
            yield
            return
        with _blas_single_thread():
            self._blas_limited = True
            try:
                yield
            finally:
                self._blas_limited = False

    def _layout(self):
        """The argument bundle of the kernels for the current data layout and state."""
        mode = self.mode
        if mode == _GRAM:
            return Gram(self._Qc, self._qcol, self._R2, self._v, self._Bt, self._E)
        if mode == _SHARED_DENSE:
            return SharedDense(self._Xd, self._R2, self._u, self._const_u, self._v, self._mu, self._xu)
        if mode == _SHARED_SPARSE:
            return SharedSparse(self._indptr, self._indices, self._data, self._R2, self._u, self._const_u,
                                self._v, self._mu, self._xu)
        if mode == _OBS_DENSE:
            return ObsDense(self._Xd, self._R1, self._rows, self._task_ptr, self._omega, self._MU, self._XU)
        return ObsSparse(self._indptr, self._indices, self._data, self._R1, self._row_ptr, self._otask,
                         self._omega, self._MU, self._XU)

    def _solve(self, alpha, *, tol=1e-4, max_iter=1000, p0=10, use_acc=True, K=5, verbose=0, criterion="gap",
               kkt_numpy=False):
        alpha = float(alpha)
        if criterion not in ("gap", "kkt"):
            raise ValueError(f"criterion must be 'gap' or 'kkt'; got {criterion!r}.")
        by_gap = self.penalty.is_convex and criterion == "gap"
        return self._solve_rows(self._row_params(alpha), by_gap, tol=tol, max_iter=max_iter,
                                p0=p0, use_acc=use_acc, K=K, verbose=verbose, kkt_numpy=kkt_numpy)

    def _row_params(self, alpha):
        """The kernel parameters of the row penalty at ``alpha``."""
        return self.penalty.rows(alpha * self._pw, alpha * self._rw)

    def _solve_rows(self, pen, convex, *, tol=1e-4, max_iter=1000, p0=10, use_acc=True, K=5, verbose=0,
                    kkt_numpy=False):
        """Minimize with the row penalty of kernel parameters ``pen`` (convex or not)."""
        p, T = self.n_features, self.n_tasks
        W = self.W
        # convex: duality gap relative to the centered target energy; non-convex:
        # KKT violation relative to the largest row gradient at W = 0
        tol_abs = tol * 2.0 * self._P0 if convex else tol * self._grad0_scale()
        n_iter = 0
        gap = np.inf
        best_dual = -np.inf
        ws_size = min(p0, p)
        if self._P0 == 0.0 or p == 0:
            return 0.0, 0, True
        ws = None
        state = np.zeros(1, dtype=np.int64)
        hist = None
        checks = []  # (epochs, gap) at the gap checks with a large working set
        while True:
            cache = self._grad_cache
            if cache is not None and cache[0] is W and np.array_equal(cache[1], W):
                # full gradient at these coefficients already known (end of the previous alpha)
                G, norms, fit, cross = cache[2:]
            else:
                norms = None  # the row norms of G and W: computed with the KKT scores
                if self.mode == _GRAM:
                    G, fit, cross = self._gram_state()
                elif self._fused_grad:
                    G, *norms, fit, cross = _full_grad_shared_dense(self._Xd, self._R2, self._c, self._u, self._v,
                                                                    self._mu, W, self._Yc)
                else:
                    M, r = self._weighted_residual()
                    G = self.neg_gradient(M)
                    fit, cross = self._objective_terms(r)
                self._grad_cache = (W, W.copy(), G, norms, fit, cross)
            # distance of -grad to the subdifferential of the penalty, and the gap
            stats = kkt_scores(G, W, pen, self._L, norms, numpy=kkt_numpy)
            kkt, prio, wnorm, n_supp, pval, smax, ridge, conj, free, uw = stats
            primal = fit + pval
            if not convex:  # no duality gap: the largest KKT violation decides
                gap = max(kkt, 0.0)
            else:
                dual = -np.inf
                if not self._pure_ridge:  # rescaled residual, the ridge as extra rows
                    dual = smax * cross - smax * smax * (fit + 0.5 * ridge) - smax * uw
                if conj < np.inf:  # the residual itself, through the conjugate of the penalty
                    dual = max(dual, cross - fit - conj - uw)
                if self._n_free == 0:
                    # any dual feasible point certifies: keep the best one of this solve
                    best_dual = max(best_dual, dual)
                    gap = primal - best_dual
                else:
                    # the gap of the problem with the unpenalized rows held fixed, plus
                    # an estimate of what re-fitting those rows can still gain
                    gap = primal - dual + free
            if verbose:
                what = "gap" if convex else "kkt"
                print(f"[L21] epochs {n_iter}: primal {primal:.10g} {what} {gap:.3e}")
            if gap <= tol_abs:
                return gap, n_iter, True
            if n_iter >= max_iter:
                return gap, n_iter, False
            ws_size = min(p, max(ws_size, p0, int(_WS_GROWTH * n_supp)))
            large = 2 * ws_size >= p
            ws, changed, sub = select_ws(prio, ws_size, wnorm, _NO_SUB if ws is None else ws,
                                         large, _SUPPORT_PASS)
            if changed:
                n_res = self._R2.size if self._shared else self._R1.size
                hist = history(K, ws.shape[0], n_res, T) if use_acc else None
                state[0] = 0
            budget = max(1, max_iter - n_iter)
            # a full gradient costs p feature visits: when the working set is small,
            # solve it more precisely before paying for the next one
            tol_in = _INNER_FRAC * kkt * max(0.1, min(1.0, 4.0 * ws_size / p))
            if large:
                # large working set: an epoch costs about two full gradients and the
                # gap, not the fixed-point violation, decides; check it after the
                # number of epochs its decay since the last check predicts
                tol_in = 0.0
                checks.append((n_iter, gap))
                if len(checks) >= 2 and checks[-1][1] < checks[-2][1]:
                    (e1, g1), (e2, g2) = checks[-2:]
                    de = max(e2 - e1, 1)
                    need = (math.ceil(math.log(tol_abs / g2) / (math.log(g2 / g1) / de))
                            if tol_abs > 0 else budget)
                    budget = min(budget, int(min(max(need, 1), max(_FIRST_CHUNK, _CHUNK_GROWTH * de))))
                else:
                    budget = min(budget, _FIRST_CHUNK)
            self._grad_cache = None
            if self.mode == _GRAM:
                self._ensure_gram_columns(ws)
            epochs, _ = solve_ws(self._layout(), ws, W, self._c, self._L, pen,
                                 budget, tol_in, K, hist, state, sub)
            if self.mode == _GRAM:
                self._c = self._mu @ W  # the offsets are not tracked by the Gram epochs
            n_iter += epochs

    @property
    def intercept(self):
        """Per-task intercepts ``b_t = ybar_t - mu_t^T w_t``."""
        if not self.fit_intercept:
            return np.zeros(self.n_tasks)
        return self._ybar - self._c

    def penalty_value(self, alpha, W=None):
        """``sum_j h_j(W_j)`` at ``alpha`` (default: the current coefficients)."""
        W = self.W if W is None else np.ascontiguousarray(W, dtype=np.float64)
        return float(penalty_sum(W, np.arange(self.n_features), self._row_params(float(alpha))))

    def kkt_violation(self, alpha, G, W=None):
        """Largest distance of ``G`` (minus a gradient, (n_features, n_tasks)) to the subdifferential at ``W``."""
        W = self.W if W is None else np.ascontiguousarray(W, dtype=np.float64)
        G = np.ascontiguousarray(G, dtype=np.float64)
        return float(kkt_scores(G, W, self._row_params(float(alpha)), np.ones(self.n_features))[0])

    def objective(self, alpha):
        """Objective value at the current coefficients (intercepts at their optimum)."""
        if self.mode == _GRAM:
            fit = self._gram_state()[1]
        else:
            _, r = self._weighted_residual()
            fit, _ = self._objective_terms(r)
        ws = np.arange(self.n_features)
        return fit + penalty_sum(self.W, ws, self._row_params(float(alpha)))
