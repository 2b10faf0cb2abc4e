"""Datafits for linear multi-task models: squared, logistic and multinomial losses.

A datafit is split into two pieces, as in skglm:

* a **design** (:class:`LinearDesign`) that maps coefficients ``W`` of shape
  (n_features, n_columns) and intercepts ``b`` of shape (n_columns,) to the
  linear predictions of every observation, ``z = forward(W, b)``, and back,
  ``adjoint(r) = (X^T r, sum r)`` per task. Each task owns a block of columns
  ``col_ptr[t]:col_ptr[t + 1]`` (one column for regression and binary
  classification, one per class for a multinomial task);
* a **loss** on the predictions, weighted by ``omega = data.observation_weights
  (task_weight)``: ``f(z) = sum_i omega_i l(y_i, z_i)``.

Predictions are kept in observation form: an array of shape (n_obs, k_max),
observations task after task as in :class:`~skmtl._data.MultiTaskData`
(``k_max = 1`` for single-column tasks). When every task observes every row
(``data.complete``) the products are one BLAS call on the shared design
(``X @ W``, ``X.T @ R``); otherwise they run per observation in a Numba loop
(dense ``X``) or per task on ``X[rows_t]`` (sparse ``X`` and multinomial
tasks). No block-diagonal design is ever formed. Since ``forward`` is affine,
the solver extrapolates predictions instead of recomputing them.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit

from ._contract import Datafit

__all__ = [
    "LinearDesign",
    "SquaredLoss",
    "SquaredLossGram",
    "make_squared_loss",
    "LogisticLoss",
    "MultinomialLoss",
    "SplitDatafit",
]


@njit(cache=True, nogil=True)
def _long_forward(X, rows, obs_task, WT, b, out):
    """out[i] = X[rows[i]] . WT[task_i] + b[task_i] (single-column tasks)."""
    p = X.shape[1]
    for i in range(rows.shape[0]):
        t = obs_task[i]
        r = rows[i]
        s = b[t]
        for j in range(p):
            s += X[r, j] * WT[t, j]
        out[i] = s


@njit(cache=True, nogil=True)
def _long_adjoint(X, rows, obs_task, res, GT, gb):
    """GT[task_i] += res[i] X[rows[i]], gb[task_i] += res[i]."""
    p = X.shape[1]
    for i in range(rows.shape[0]):
        ri = res[i]
        if ri == 0.0:
            continue
        t = obs_task[i]
        r = rows[i]
        gb[t] += ri
        for j in range(p):
            GT[t, j] += ri * X[r, j]


class LinearDesign:
    """Linear predictions of every observation from per-task coefficient blocks.

    Parameters
    ----------
    data : MultiTaskData
    col_ptr : ndarray of shape (n_tasks + 1,) or None
        Columns of ``W`` owned by each task; None means one column per task.
    fit_intercept : bool
        Whether the intercepts ``b`` enter the predictions (and get gradients).
    """

    def __init__(self, data, col_ptr=None, fit_intercept=True):
        T = data.n_tasks
        self.data = data
        self.col_ptr = np.arange(T + 1) if col_ptr is None else np.asarray(col_ptr, np.int64)
        self.n_cols_task = np.diff(self.col_ptr)
        self.n_columns = int(self.col_ptr[-1])
        self.k_max = max(1, int(self.n_cols_task.max(initial=0)))
        self.single = bool(np.all(self.n_cols_task == 1))
        self.fit_intercept = fit_intercept
        self.n_features = data.n_features
        self.n_obs = data.n_obs
        self.X = data.X
        self.complete = data.complete and data.n_obs == data.n_samples * T
        self.obs_task = data.task_of_obs
        self.rows = data.rows
        if self.complete:
            self.mode = "shared"
        elif self.single and not sp.issparse(self.X):
            self.mode = "numba"
            self.Xc = np.ascontiguousarray(self.X, dtype=np.float64)
        else:
            self.mode = "per_task"
            Xr = sp.csr_matrix(self.X) if sp.issparse(self.X) else self.X
            self.Xt = [Xr[data.rows[data.task_slice(t)]] for t in range(T)]
        self.slices = [data.task_slice(t) for t in range(T)]

    def zeros_like_coef(self):
        return np.zeros((self.n_features, self.n_columns)), np.zeros(self.n_columns)

    def forward(self, W, b):
        """Predictions in observation form, shape (n_obs, k_max)."""
        if not self.fit_intercept:
            b = np.zeros(self.n_columns)
        T = len(self.slices)
        if self.mode == "shared" and self.single:
            Z = np.asarray(self.X @ W) + b
            return np.ascontiguousarray(Z.T).reshape(-1, 1)
        if self.mode == "numba":
            out = np.empty(self.n_obs)
            _long_forward(self.Xc, self.rows, self.obs_task, np.ascontiguousarray(W.T), b, out)
            return out.reshape(-1, 1)
        out = np.zeros((self.n_obs, self.k_max))
        if self.mode == "shared":
            Z = np.asarray(self.X @ W) + b
        for t in range(T):
            c0, c1 = self.col_ptr[t], self.col_ptr[t + 1]
            if c1 == c0:
                continue
            s = self.slices[t]
            if self.mode == "shared":
                out[s, : c1 - c0] = Z[:, c0:c1]
            else:
                out[s, : c1 - c0] = np.asarray(self.Xt[t] @ W[:, c0:c1]) + b[c0:c1]
        return out

    def adjoint(self, R):
        """``(G, g)`` with ``G[:, cols_t] = X_t^T R_t`` and ``g[cols_t] = sum R_t``."""
        T = len(self.slices)
        p, m = self.n_features, self.n_columns
        if self.mode == "shared" and self.single:
            Rm = R[:, 0].reshape(T, -1).T
            G = np.asarray(self.X.T @ Rm)
            g = Rm.sum(axis=0)
        elif self.mode == "numba":
            GT = np.zeros((m, p))
            g = np.zeros(m)
            _long_adjoint(self.Xc, self.rows, self.obs_task, np.ascontiguousarray(R[:, 0]), GT, g)
            G = GT.T
        elif self.mode == "shared":
            Rm = np.zeros((self.data.n_samples, m))
            for t in range(T):
                c0, c1 = self.col_ptr[t], self.col_ptr[t + 1]
                Rm[:, c0:c1] = R[self.slices[t], : c1 - c0]
            G = np.asarray(self.X.T @ Rm)
            g = Rm.sum(axis=0)
        else:
            G = np.zeros((p, m))
            g = np.zeros(m)
            for t in range(T):
                c0, c1 = self.col_ptr[t], self.col_ptr[t + 1]
                if c1 == c0:
                    continue
                Rt = R[self.slices[t], : c1 - c0]
                G[:, c0:c1] = np.asarray(self.Xt[t].T @ Rt)
                g[c0:c1] = Rt.sum(axis=0)
        if not self.fit_intercept:
            g = np.zeros(m)
        return G, g

    def task_sums(self, v):
        """Per-task sums of an observation vector, shape (n_tasks,)."""
        return np.bincount(self.obs_task, weights=v, minlength=len(self.slices))

    def operator_norm2(self, weights, n_iter=30, seed=0):
        """Estimate of ``||A^T diag(weights) A||_2`` by power iteration (from below)."""
        rng = np.random.default_rng(seed)
        W = rng.standard_normal((self.n_features, self.n_columns))
        b = rng.standard_normal(self.n_columns) if self.fit_intercept else np.zeros(self.n_columns)
        lam = 0.0
        for _ in range(n_iter):
            nrm = np.sqrt(np.sum(W**2) + np.sum(b**2))
            if nrm == 0:
                return 0.0
            W, b = W / nrm, b / nrm
            Z = self.forward(W, b)
            W, b = self.adjoint(weights[:, None] * Z)
            lam = np.sqrt(np.sum(W**2) + np.sum(b**2))
        return float(lam)


class _Datafit(Datafit):
    """Common plumbing of the losses on a :class:`LinearDesign` (weights ``omega``).

    The intercepts, when fitted, are solver variables. Subclasses give
    ``value_z``, ``value_grad_z`` and ``null_intercept`` (the optimal
    intercepts for ``W = 0``).
    """

    curvature = 1.0

    def __init__(self, data, task_weight=None, fit_intercept=True, col_ptr=None):
        self.design = LinearDesign(data, col_ptr=col_ptr, fit_intercept=fit_intercept)
        self.omega = np.asarray(data.observation_weights(task_weight), dtype=np.float64)
        self.fits_intercept = fit_intercept
        self.intercept_is_variable = fit_intercept
        self.data = data
        self._lipschitz = None

    def forward(self, W, b):
        return self.design.forward(W, b)

    def adjoint(self, R):
        return self.design.adjoint(R)

    def lipschitz(self):
        """Lipschitz constant of the gradient.

        Shared dense design of moderate width: the weights factor as
        ``omega_it = u_i c_t`` (row weights times a task factor), so the
        constant is ``curvature * max_t c_t * lambda_max(X1^T diag(u) X1)``
        with ``X1 = [X, 1]``, one eigenvalue problem of size p + 1. Otherwise a
        power-iteration estimate (30 products, 1% margin; the solver's
        backtracking corrects an underestimate).
        """
        if self._lipschitz is None:
            d = self.design
            L = None
            if d.mode == "shared" and d.single and not sp.issparse(d.X) and d.n_features <= 2000:
                Om = self.omega.reshape(len(d.slices), -1).T  # (n, T)
                u = Om[:, np.argmax(Om.sum(axis=0))]
                c = np.divide(Om.sum(axis=0), u.sum()) if u.sum() > 0 else np.zeros(Om.shape[1])
                if np.allclose(Om, np.outer(u, c), rtol=1e-12, atol=0):
                    X1 = np.column_stack([d.X, np.ones(d.X.shape[0])]) if self.intercept_is_variable else d.X
                    H = X1.T @ (u[:, None] * X1)
                    L = self.curvature * c.max(initial=0.0) * np.linalg.eigvalsh(H)[-1] * (1 + 1e-10)
            if L is None:
                L = self.curvature * d.operator_norm2(self.omega) * 1.01
            self._lipschitz = max(float(L), 1e-12)
        return self._lipschitz

    def init_coef(self):
        """Zero coefficients with the optimal intercepts for ``W = 0``."""
        W, b = self.design.zeros_like_coef()
        if self.intercept_is_variable:
            b = self.null_intercept()
        return W, b

    def mean_loss(self, W, b):
        """Loss per unit of weight (validation score of cross-validation)."""
        tot = self.omega.sum()
        return self.value(W, b) / tot if tot > 0 else 0.0


class SquaredLoss(_Datafit):
    """``f = 1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2``.

    On complete wide input without weights this is ``1/(2n) ||Y - XW - 1b^T||_F^2``.

    Parameters
    ----------
    data : MultiTaskData
        The validated observations (:class:`~skmtl._data.MultiTaskData`).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task's loss, folded into the observation weights ``omega``.
    fit_intercept : bool, default=True
        Whether each task's columns have an intercept.
    """

    curvature = 1.0

    def __init__(self, data, task_weight=None, fit_intercept=True):
        super().__init__(data, task_weight, fit_intercept)
        self.y = np.asarray(data.y, dtype=np.float64)

    def value_z(self, z):
        r = self.y - z[:, 0]
        return 0.5 * np.dot(self.omega * r, r)

    def value_grad_z(self, z):
        r = z[:, 0] - self.y
        wr = self.omega * r
        return 0.5 * np.dot(wr, r), wr[:, None]

    def hessian_diag_z(self, z):
        """``omega``: the squared loss is its own quadratic model."""
        return np.broadcast_to(self.omega[:, None], z.shape).copy()

    def _task_mean(self, v):
        tw = self.design.task_sums(self.omega)
        s = self.design.task_sums(self.omega * v)
        return np.divide(s, tw, out=np.zeros_like(s), where=tw > 0)

    def null_intercept(self):
        return self._task_mean(self.y)

    def duality_gap(self, W, b, penalty):
        """Gap for ``f + penalty`` with intercepts profiled out.

        With ``r`` the residual at the optimal intercepts for ``W``, the point
        ``nu = r / max(1, N*(X^T Omega r) / alpha)`` is dual feasible and
        ``D(nu) = sum_i omega_i (y~_i nu_i - nu_i^2 / 2)`` (``y~`` centred per
        task when intercepts are fitted). Returns ``(gap, primal, b_opt)``.
        """
        Weff = penalty.combine(W)
        m = self.design.n_columns
        z0 = self.forward(Weff, np.zeros(m))[:, 0]
        r = self.y - z0
        yc = self.y
        if self.intercept_is_variable:
            b = self._task_mean(r)
            r = r - b[self.design.obs_task]
            yc = self.y - self.null_intercept()[self.design.obs_task]
        wr = self.omega * r
        G, _ = self.adjoint(wr[:, None])
        s = penalty.dual_norm_ratio(G)
        if s is None or not np.isfinite(s):
            return None
        nu = r / max(1.0, s)
        primal = 0.5 * np.dot(wr, r) + penalty.value(W)
        dual = np.dot(self.omega, yc * nu - 0.5 * nu * nu)
        return primal - dual, primal, b


class LogisticLoss(_Datafit):
    """Binary logistic loss per task, ``l = log(1 + exp(-s z))`` with ``s = +-1``.

    ``y`` holds class codes 0/1 per task (column ``t`` of ``W`` scores class 1).

    Parameters
    ----------
    data : MultiTaskData
        The validated observations (:class:`~skmtl._data.MultiTaskData`).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task's loss, folded into the observation weights ``omega``.
    fit_intercept : bool, default=True
        Whether each task's columns have an intercept.
    """

    curvature = 0.25

    def __init__(self, data, task_weight=None, fit_intercept=True):
        super().__init__(data, task_weight, fit_intercept)
        self.s = np.where(np.asarray(data.y) > 0, 1.0, -1.0)

    def value_z(self, z):
        return np.dot(self.omega, np.logaddexp(0.0, -self.s * z[:, 0]))

    def value_grad_z(self, z):
        m = -self.s * z[:, 0]
        f = np.dot(self.omega, np.logaddexp(0.0, m))
        sig = np.exp(-np.logaddexp(0.0, -m))  # sigmoid(m)
        return f, (-self.s * self.omega * sig)[:, None]

    def hessian_diag_z(self, z):
        """``omega sigma(z) (1 - sigma(z))``."""
        q = np.exp(-np.logaddexp(0.0, -z[:, 0]))
        return (self.omega * q * (1.0 - q))[:, None]

    def null_intercept(self):
        tw = self.design.task_sums(self.omega)
        pos = self.design.task_sums(self.omega * (self.s > 0))
        p = np.clip(np.divide(pos, tw, out=np.full_like(pos, 0.5), where=tw > 0), 1e-12, 1 - 1e-12)
        return np.log(p / (1 - p))


class MultinomialLoss(_Datafit):
    """Classification loss with per-task class blocks.

    Task ``t`` with ``K_t`` classes owns ``col_ptr[t]:col_ptr[t + 1]`` columns of
    ``W``: one column and the binary logistic loss when ``K_t = 2``, ``K_t``
    columns and the multinomial (softmax cross-entropy) loss
    ``l = logsumexp(z) - z_y`` when ``K_t >= 3``, none when the task has one
    class. ``y`` holds class codes per task.

    Parameters
    ----------
    data : MultiTaskData
        The validated observations (:class:`~skmtl._data.MultiTaskData`).
    n_classes : array-like of int of shape (n_tasks,)
        Number of classes of each task.
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task's loss, folded into the observation weights ``omega``.
    fit_intercept : bool, default=True
        Whether each task's columns have an intercept.
    """

    curvature = 0.5

    def __init__(self, data, n_classes, task_weight=None, fit_intercept=True):
        n_classes = np.asarray(n_classes, dtype=np.int64)
        ncol = np.where(n_classes == 2, 1, np.where(n_classes < 2, 0, n_classes))
        col_ptr = np.concatenate([[0], np.cumsum(ncol)]).astype(np.int64)
        super().__init__(data, task_weight, fit_intercept, col_ptr=col_ptr)
        self.n_classes = n_classes
        ot = self.design.obs_task
        self.k_obs = ncol[ot]  # columns of each observation's task
        self.y = np.asarray(data.y, dtype=np.int64)
        K = self.design.k_max
        self.ib = np.flatnonzero(self.k_obs == 1)
        self.im = np.flatnonzero(self.k_obs >= 2)
        self.all_b = len(self.ib) == len(self.y)
        self.all_m = len(self.im) == len(self.y)
        s = np.where(self.y > 0, 1.0, -1.0)
        self.s_b = s[self.ib]
        self.om_b = self.omega[self.ib]
        self.om_m = self.omega[self.im]
        mask = np.arange(K)[None, :] < self.k_obs[self.im, None]
        self.pad_m = np.where(mask, 0.0, -np.inf)
        self.has_pad = not bool(mask.all())
        self.onehot_m = np.zeros((len(self.im), K))
        self.onehot_m[np.arange(len(self.im)), self.y[self.im]] = 1.0

    def _parts(self, z):
        f = 0.0
        R = np.zeros_like(z)
        if len(self.ib):
            zb = z[:, 0] if self.all_b else z[self.ib, 0]
            m = -self.s_b * zb
            f += np.dot(self.om_b, np.logaddexp(0.0, m))
            rb = -self.s_b * self.om_b * np.exp(-np.logaddexp(0.0, -m))
            if self.all_b:
                R[:, 0] = rb
            else:
                R[self.ib, 0] = rb
        if len(self.im):
            zm = z if self.all_m else z[self.im]
            zp = zm + self.pad_m if self.has_pad else zm
            zmax = zp.max(axis=1, keepdims=True)
            e = np.exp(zp - zmax)
            se = e.sum(axis=1, keepdims=True)
            lse = np.log(se[:, 0]) + zmax[:, 0]
            f += np.dot(self.om_m, lse - np.einsum("ij,ij->i", self.onehot_m, zm))
            Rm = self.om_m[:, None] * (e / se - self.onehot_m)
            if self.all_m:
                R = Rm
            else:
                R[self.im] = Rm
        return f, R

    def value_z(self, z):
        return self._parts(z)[0]

    def hessian_diag_z(self, z):
        """``omega p_c (1 - p_c)`` per class column (``p`` the softmax or the sigmoid of the task)."""
        H = np.zeros_like(z)
        if len(self.ib):
            zb = z[:, 0] if self.all_b else z[self.ib, 0]
            q = np.exp(-np.logaddexp(0.0, -zb))
            hb = self.om_b * q * (1.0 - q)
            if self.all_b:
                H[:, 0] = hb
            else:
                H[self.ib, 0] = hb
        if len(self.im):
            zm = z if self.all_m else z[self.im]
            zp = zm + self.pad_m if self.has_pad else zm
            e = np.exp(zp - zp.max(axis=1, keepdims=True))
            P = e / e.sum(axis=1, keepdims=True)
            Hm = self.om_m[:, None] * P * (1.0 - P)
            if self.all_m:
                H = Hm
            else:
                H[self.im] = Hm
        return H

    def value_grad_z(self, z):
        return self._parts(z)

    def same_predictions(self, W):
        """``W`` with each row centred within each multinomial task's class columns.

        ``softmax(z + c 1) = softmax(z)``: adding ``c`` to every class column of
        row ``j`` changes no prediction, and centring the row's block gives it
        the smallest Euclidean norm among those (the rows of the group
        penalties' optima are centred).
        """
        d = self.design
        out = np.array(W, dtype=np.float64)
        for t in np.flatnonzero(self.n_classes > 2):
            c0, c1 = d.col_ptr[t], d.col_ptr[t + 1]
            out[:, c0:c1] -= out[:, c0:c1].mean(axis=1, keepdims=True)
        return out

    def null_intercept(self):
        d = self.design
        b = np.zeros(d.n_columns)
        for t in range(len(d.slices)):
            c0, c1 = d.col_ptr[t], d.col_ptr[t + 1]
            if c1 == c0:
                continue
            s = d.slices[t]
            K = self.n_classes[t]
            cnt = np.bincount(self.y[s], weights=self.omega[s], minlength=K)
            tot = cnt.sum()
            p = np.clip(cnt / tot if tot > 0 else np.full(K, 1.0 / K), 1e-12, None)
            if K == 2:
                b[c0] = np.log(p[1] / p[0])
            else:
                lp = np.log(p)
                b[c0:c1] = lp - lp.mean()
        return b


class SplitDatafit(Datafit):
    """Datafit of ``W = P + Q`` seen through the stacked variable ``V = [P, Q]``.

    ``V`` has shape (2, n_features, n_columns); the gradient w.r.t. each part is
    the gradient of the inner datafit at ``P + Q`` and the Lipschitz constant
    doubles.
    """

    def __init__(self, inner):
        self.inner = inner
        self.design = inner.design
        self.fits_intercept = inner.fits_intercept
        self.intercept_is_variable = inner.intercept_is_variable

    def forward(self, V, b):
        return self.inner.forward(V[0] + V[1], b)

    def adjoint(self, R):
        G, g = self.inner.adjoint(R)
        return np.stack([G, G]), g

    def value_z(self, z):
        return self.inner.value_z(z)

    def value_grad_z(self, z):
        return self.inner.value_grad_z(z)

    def value_grad(self, V, b):
        f, G, g = self.inner.value_grad(V[0] + V[1], b)
        return f, np.stack([G, G]), g

    def value(self, V, b):
        return self.inner.value(V[0] + V[1], b)

    def lipschitz(self):
        return 2.0 * self.inner.lipschitz()

    def init_coef(self):
        W, b = self.inner.init_coef()
        return np.stack([W, W]), b

    def null_intercept(self):
        return self.inner.null_intercept()

    def duality_gap(self, V, b, penalty):
        return self.inner.duality_gap(V, b, penalty)

    def null_value(self):
        return self.inner.null_value()

    def model_intercept(self, V, b):
        return self.inner.model_intercept(V[0] + V[1], b)

    def mean_loss(self, V, b):
        return self.inner.mean_loss(V[0] + V[1], b)


class SquaredLossGram(Datafit):
    """Squared loss on a shared dense design through its (p, p) Gram matrix.

    Used when every task observes every row (``data.complete``) and
    ``n_features <= n_samples``: the weights then factor as ``omega_it = u_i
    c_t`` and, with ``X`` and ``Y`` centred by the ``u``-weighted means (the
    intercepts profiled out: ``b_t = ybar_t - xbar^T w_t``),

    ``f(W) = sum_t c_t (1/2 w_t^T H w_t - w_t^T C_t + 1/2 yy_t)``,
    ``H = Xc^T U Xc``, ``C = Xc^T U Yc``, ``yy_t = Yc_t^T U Yc_t``.

    Each iteration then costs a (p, p) x (p, T) product instead of two
    (n, p) x (p, T) products. The "predictions" handed to the solver are the
    stacked ``[W; H W]`` (affine in ``W``, so the solver extrapolates them as
    usual) and ``adjoint`` passes the gradient through.
    """

    curvature = 1.0

    def __init__(self, data, task_weight=None, fit_intercept=True):
        T, n = data.n_tasks, data.n_samples
        omega = np.asarray(data.observation_weights(task_weight), dtype=np.float64)
        Om = omega.reshape(T, n).T
        u = Om[:, np.argmax(Om.sum(axis=0))].copy()
        su = u.sum()
        c = Om.sum(axis=0) / su if su > 0 else np.zeros(T)
        if su <= 0 or not np.allclose(Om, np.outer(u, c), rtol=1e-12, atol=0):
            raise ValueError("observation weights do not factor as row weight x task weight")
        X = np.asarray(data.X, dtype=np.float64)
        Y = data.Y
        self.fits_intercept = fit_intercept
        self.intercept_is_variable = False  # intercepts are profiled out, not solver variables
        if fit_intercept:
            self.xbar = u @ X / su
            self.ybar = u @ Y / su
            Xc, Yc = X - self.xbar, Y - self.ybar
        else:
            self.xbar, self.ybar = np.zeros(X.shape[1]), np.zeros(T)
            Xc, Yc = X, Y
        UXc = u[:, None] * Xc
        self.H = Xc.T @ UXc
        self.C = UXc.T @ Yc
        self.yy = np.einsum("it,it->t", Yc, u[:, None] * Yc)
        self.c = c
        self.const = 0.5 * np.dot(c, self.yy)
        self.p = X.shape[1]
        self.data = data
        self._X, self._Y, self._Om = X, Y, Om
        self.design = _GramDesign(self.p, T, data)
        self._lipschitz = None

    def forward(self, W, b=None):
        return np.concatenate([W, self.H @ W])

    def adjoint(self, R):
        return R, np.zeros(R.shape[1])

    def value_z(self, z):
        W, HW = z[: self.p], z[self.p :]
        return float(np.dot(self.c, np.einsum("jt,jt->t", W, 0.5 * HW - self.C))) + self.const

    def value_grad_z(self, z):
        W, HW = z[: self.p], z[self.p :]
        f = float(np.dot(self.c, np.einsum("jt,jt->t", W, 0.5 * HW - self.C))) + self.const
        return f, (HW - self.C) * self.c

    def value(self, W, b=None):
        return self.value_z(self.forward(W))

    def value_grad(self, W, b=None):
        f, G = self.value_grad_z(self.forward(W))
        return f, G, np.zeros(W.shape[1])

    def lipschitz(self):
        if self._lipschitz is None:
            lam = np.linalg.eigvalsh(self.H)[-1] if self.p else 0.0
            self._lipschitz = max(float(self.c.max(initial=0.0) * lam * (1 + 1e-10)), 1e-12)
        return self._lipschitz

    def init_coef(self):
        return np.zeros((self.p, len(self.c))), np.zeros(len(self.c))

    def model_intercept(self, W, b=None):
        """The profiled-out intercepts ``b_t = ybar_t - xbar^T w_t`` (zeros without intercepts)."""
        return self.ybar - self.xbar @ W if self.fits_intercept else np.zeros(W.shape[1])

    def null_value(self):
        return self.const

    def duality_gap(self, W, b, penalty):
        """Gap as :meth:`SquaredLoss.duality_gap`, from Gram quantities only."""
        Weff = penalty.combine(W)
        HW = self.H @ Weff
        G = (HW - self.C) * self.c
        s = penalty.dual_norm_ratio(G)
        if s is None or not np.isfinite(s):
            return None
        s = max(1.0, s)
        CW = np.einsum("jt,jt->t", Weff, self.C)
        loss = float(np.dot(self.c, np.einsum("jt,jt->t", Weff, 0.5 * HW) - CW)) + self.const
        yr = float(np.dot(self.c, self.yy - CW))  # sum omega y~ r
        dual = yr / s - loss / (s * s)  # sum omega r^2 = 2 loss
        primal = loss + penalty.value(W)
        return primal - dual, primal, self.model_intercept(Weff)

    def mean_loss(self, W, b):
        R = self._Y - self._X @ W - b
        tot = self._Om.sum()
        return 0.5 * float(np.sum(self._Om * R * R)) / tot if tot > 0 else 0.0


class _GramDesign:
    def __init__(self, p, T, data):
        self.n_features = p
        self.n_columns = T
        self.col_ptr = np.arange(T + 1)
        self.data = data


def make_squared_loss(data, task_weight=None, fit_intercept=True):
    """The squared-loss datafit best suited to ``data``.

    :class:`SquaredLossGram` on a complete dense design with no more features
    than rows (up to 4000 features), :class:`SquaredLoss` otherwise.
    """
    if data.complete and not sp.issparse(data.X) and data.n_features <= min(data.n_samples, 4000):
        try:
            return SquaredLossGram(data, task_weight, fit_intercept)
        except ValueError:
            pass
    return SquaredLoss(data, task_weight, fit_intercept)
