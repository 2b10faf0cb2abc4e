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
from numba import njit

from ._row_penalties import make_row_penalty
from ._row_penalties._base import row_distance, row_dual_scale, row_margin, row_penalized, row_prox, row_value
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
_blas_controller = None


def _blas_single_thread():
    """Context limiting BLAS to one thread (small products: threads only cost)."""
    global _blas_controller
    if _blas_controller is None:
        from threadpoolctl import ThreadpoolController

        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")

# --------------------------------------------------------------------------
# column moments (float64 accumulation, no copy of X)
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _moments_shared_dense(X, u):
    n, p = X.shape
    s1 = np.zeros(p)
    s2 = np.zeros(p)
    for j in range(p):
        a = 0.0
        b = 0.0
        for i in range(n):
            x = np.float64(X[i, j])
            a += u[i] * x
            b += u[i] * x * x
        s1[j] = a
        s2[j] = b
    return s1, s2


@njit(cache=True, nogil=True)
def _moments_shared_sparse(indptr, indices, data, u):
    p = indptr.shape[0] - 1
    s1 = np.zeros(p)
    s2 = np.zeros(p)
    for j in range(p):
        a = 0.0
        b = 0.0
        for nz in range(indptr[j], indptr[j + 1]):
            x = np.float64(data[nz])
            a += u[indices[nz]] * x
            b += u[indices[nz]] * x * x
        s1[j] = a
        s2[j] = b
    return s1, s2


@njit(cache=True, nogil=True)
def _moments_obs_dense(X, rows, task_ptr, omega):
    p = X.shape[1]
    T = task_ptr.shape[0] - 1
    s1 = np.zeros((p, T))
    s2 = np.zeros((p, T))
    for j in range(p):
        for t in range(T):
            a = 0.0
            b = 0.0
            for k in range(task_ptr[t], task_ptr[t + 1]):
                x = np.float64(X[rows[k], j])
                a += omega[k] * x
                b += omega[k] * x * x
            s1[j, t] = a
            s2[j, t] = b
    return s1, s2


@njit(cache=True, nogil=True)
def _moments_obs_sparse(indptr, indices, data, row_ptr, otask, omega, T):
    p = indptr.shape[0] - 1
    s1 = np.zeros((p, T))
    s2 = np.zeros((p, T))
    for j in range(p):
        for nz in range(indptr[j], indptr[j + 1]):
            r = indices[nz]
            x = np.float64(data[nz])
            for k in range(row_ptr[r], row_ptr[r + 1]):
                t = otask[k]
                s1[j, t] += omega[k] * x
                s2[j, t] += omega[k] * x * x
    return s1, s2


# --------------------------------------------------------------------------
# per-feature gradient and residual update
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True, fastmath=True)
def _datafit(mode, W, c, R2, R1, u, v, task_ptr, otask, omega, gram):
    """``1/2 sum_i omega_i (R_i + c_t(i))^2``.

    Gram mode: ``R2`` holds ``H^T = (B - Q W)^T`` (see :func:`_epoch_gram`) and
    ``gram = (B^T, E)``; the datafit is ``1/2 sum_t v_t (E_t - w_t . (B_t + H_t))``.
    """
    val = 0.0
    if mode == 4:
        Bt, E = gram
        T, p = R2.shape
        for t in range(T):
            acc = E[t]
            for j in range(p):
                acc -= W[j, t] * (Bt[t, j] + R2[t, j])
            val += v[t] * acc
        return 0.5 * val
    if mode == 0:
        T, n = R2.shape
        for t in range(T):
            acc = 0.0
            for i in range(n):
                r = R2[t, i] + c[t]
                acc += u[i] * r * r
            val += v[t] * acc
    elif mode == 1:
        T = task_ptr.shape[0] - 1
        for t in range(T):
            for k in range(task_ptr[t], task_ptr[t + 1]):
                r = R1[k] + c[t]
                val += omega[k] * r * r
    elif mode == 2:
        for k in range(R1.shape[0]):
            r = R1[k] + c[otask[k]]
            val += omega[k] * r * r
    else:
        n, T = R2.shape
        for i in range(n):
            acc = 0.0
            for t in range(T):
                r = R2[i, t] + c[t]
                acc += v[t] * r * r
            val += u[i] * acc
    return 0.5 * val


@njit(cache=True, nogil=True)
def _penalty(W, ws, pen):
    """``sum_{j in ws} h_j(W_j) = rho_j(W_j) + r_j / 2 ||W_j||_2^2`` (``pen`` a row penalty's kernel parameters)."""
    val = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        w = W[j]
        sq = 0.0
        for t in range(w.shape[0]):
            sq += w[t] * w[t]
        if sq > 0.0:
            val += row_value(pen, j, w, np.sqrt(sq)) + 0.5 * pen.ridge[j] * sq
    return val


@njit(cache=True, nogil=True)
def _row_support(W):
    """Indices of the rows of ``W`` with a nonzero entry."""
    p, T = W.shape
    out = np.empty(p, dtype=np.int64)
    m = 0
    for j in range(p):
        for t in range(T):
            if W[j, t] != 0.0:
                out[m] = j
                m += 1
                break
    return out[:m]


@njit(cache=True, nogil=True)
def _row_norms(G, W):
    """Euclidean norms of the rows of ``G`` and of ``W``."""
    p, T = G.shape
    gn = np.empty(p)
    wn = np.empty(p)
    for j in range(p):
        a = 0.0
        b = 0.0
        for t in range(T):
            a += G[j, t] * G[j, t]
            b += W[j, t] * W[j, t]
        gn[j] = np.sqrt(a)
        wn[j] = np.sqrt(b)
    return gn, wn


@njit(cache=True, nogil=True, fastmath=True)
def _full_grad_shared_dense(X, R2, c, u, v, mu, W, Yc):
    """Minus the gradient at the current residual, shared dense design, in one pass.

    Returns ``G`` (p, T) (as :meth:`L21Solver.neg_gradient`), the row norms of
    ``G`` and ``W`` and the terms ``(datafit, sum omega r y_c)`` of
    :meth:`L21Solver._objective_terms`. For skinny products (few tasks) this
    beats a BLAS call, which tiles badly for a handful of columns.
    """
    T, n = R2.shape
    p = X.shape[1]
    Z = np.empty((T, n))
    zsum = np.empty(T)
    fit = 0.0
    cross = 0.0
    for t in range(T):
        s = 0.0
        ft = 0.0
        ct = 0.0
        ctt = c[t]
        for i in range(n):
            r = R2[t, i] + ctt
            z = u[i] * r
            Z[t, i] = z
            s += z
            ft += z * r
            ct += z * Yc[t, i]
        zsum[t] = s
        fit += v[t] * ft
        cross += v[t] * ct
    G = np.empty((p, T))
    for j in range(0, p - 1, 2):  # raw products, two columns per pass over the residual
        _grad2_tasks(X, j, j + 1, Z, G[j], G[j + 1], n, T, False)
    if p % 2:
        _grad_tasks(X, p - 1, Z, G[p - 1], n, T)
    gn = np.empty(p)
    wn = np.empty(p)
    for j in range(p):  # centering, and the row norms
        a = 0.0
        b = 0.0
        mj = mu[j]
        for t in range(T):
            e = v[t] * (G[j, t] - mj * zsum[t])
            G[j, t] = e
            a += e * e
            b += W[j, t] * W[j, t]
        gn[j] = np.sqrt(a)
        wn[j] = np.sqrt(b)
    return G, gn, wn, 0.5 * fit, cross


@njit(cache=True, nogil=True)
def _kkt_scores(G, W, gnorm, wnorm, pen, L):
    """Check statistics of the full gradient ``G`` (minus the gradient).

    ``pen``: the kernel parameters of a row penalty (:mod:`._row_penalties`),
    ``h_j(w) = rho_j(w) + r_j / 2 ||w||^2``. The dual quantities (``smax``,
    ``ridge``, ``conj``) are used for convex penalties only. Returns:

    * ``kkt``: the largest distance of ``-grad_j`` to ``d h_j(W_j)`` (-1 for
      constant features);
    * ``prio``: the working-set priority of each feature (support and
      unpenalized features first, then violators, then the features closest
      to entering, by the margin of ``G_j`` to ``d rho_j(0)`` in the metric of the column);
    * ``n_supp``: the support size;
    * ``pval``: ``sum_j h_j(W_j)``;
    * ``smax``: the largest ``s <= 1`` with ``s (G_j - r_j W_j)`` in ``d rho_j(0)``
      over the penalized features (the rescaled dual point of the problem
      with the ridge written as extra rows);
    * ``ridge``: ``sum_j r_j ||W_j||^2``;
    * ``conj``: ``sum_j h_j^*(G_j) = sum_j dist(G_j, d rho_j(0))^2 / (2 r_j)``
      over the features with ``r_j > 0`` (the conjugate dual at ``s = 1``;
      infinite when a penalized feature without ridge has ``G_j`` outside its ball);
    * ``free``: ``sum_j ||G_j||^2 / L_j`` over unpenalized features
      (``rho_j = 0, r_j = 0``), a second-order estimate of what their block
      can still gain (they have no dual constraint that a rescaling can meet);
    * ``uw``: ``sum_j <G_j, W_j>`` over the unpenalized features: the dual
      points above are those of the problem with these rows held fixed (their
      fit moved into the targets), whose dual objective is lower by ``s uw``.
    """
    p, T = G.shape
    kkt = -np.inf
    prio = np.empty(p)
    n_supp = 0
    pval = 0.0
    smax = 1.0
    ridge = 0.0
    conj = 0.0
    free = 0.0
    uw = 0.0
    v = np.empty(T)  # G_j - r_j W_j
    for j in range(p):
        r = pen.ridge[j]
        gn = gnorm[j]
        wn = wnorm[j]
        penalized = row_penalized(pen, j)
        margin = row_margin(pen, j, G[j], gn)
        if r > 0.0:
            ex = max(margin, 0.0)
            conj += ex * ex / (2.0 * r)
            w2 = wn * wn
            pval += 0.5 * r * w2
            ridge += r * w2
        elif penalized and margin > 0.0:
            conj = np.inf  # h_j^* is the indicator of the ball: the s = 1 point is infeasible
        vrow = G[j]
        vn = gn
        if r > 0.0 and wn > 0:
            acc = 0.0
            for t in range(T):
                e = G[j, t] - r * W[j, t]
                v[t] = e
                acc += e * e
            vn = np.sqrt(acc)
            vrow = v
        if penalized:  # the dual scaling of the row
            sj = row_dual_scale(pen, j, vrow, vn)
            if sj < smax:
                smax = sj
        if wn > 0:
            pval += row_value(pen, j, W[j], wn)
            sc = row_distance(pen, j, vrow, W[j], wn)
            n_supp += 1
            pr = np.inf
        else:
            sc = max(margin, 0.0)
            if not penalized:
                pr = np.inf  # unpenalized (or pure ridge) rows: always in the working set
            else:
                # violators first, then the features closest to entering (distance
                # to the constraint in the metric of the column): a stable order
                pr = margin / np.sqrt(L[j]) if L[j] > 0 else -np.inf
        if L[j] == 0:
            sc = -1.0
            if not wn > 0:
                pr = -np.inf
        elif not penalized and r == 0.0:
            free += gn * gn / L[j]
            for t in range(T):
                uw += G[j, t] * W[j, t]
        if sc > kkt:
            kkt = sc
        prio[j] = pr
    return kkt, prio, n_supp, pval, smax, ridge, conj, free, uw


@njit(cache=True, nogil=True)
def _select_ws(prio, ws_size, wnorm, old_ws, with_sub, sub_frac):
    """Working set: the ``ws_size`` features of highest priority, in index order.

    Returns ``(ws, changed, sub)``: ``changed`` is False when ``ws`` equals
    ``old_ws`` (then ``old_ws`` itself is returned); ``sub`` is the support
    within ``ws`` when ``with_sub`` and it is at most ``sub_frac`` of ``ws``,
    else empty.
    """
    p = prio.shape[0]
    if ws_size >= p:
        ws = np.arange(p)
    else:
        neg = -prio
        thr = np.partition(neg, ws_size - 1)[ws_size - 1]  # ws_size-th largest priority
        chosen = np.zeros(p, dtype=np.bool_)
        m = 0
        for j in range(p):
            if neg[j] < thr:
                chosen[j] = True
                m += 1
        for j in range(p):  # ties at the threshold: lowest indices
            if m >= ws_size:
                break
            if neg[j] == thr and not chosen[j]:
                chosen[j] = True
                m += 1
        ws = np.empty(m, dtype=np.int64)
        m = 0
        for j in range(p):
            if chosen[j]:
                ws[m] = j
                m += 1
    changed = True
    if old_ws.shape[0] == ws.shape[0]:
        changed = False
        for i in range(ws.shape[0]):
            if ws[i] != old_ws[i]:
                changed = True
                break
        if not changed:
            ws = old_ws
    n_sub = 0
    if with_sub:
        for i in range(ws.shape[0]):
            if wnorm[ws[i]] > 0:
                n_sub += 1
        if n_sub > sub_frac * ws.shape[0]:
            n_sub = 0
    sub = np.empty(n_sub, dtype=np.int64)
    if n_sub > 0:
        m = 0
        for i in range(ws.shape[0]):
            if wnorm[ws[i]] > 0:
                sub[m] = ws[i]
                m += 1
    return ws, changed, sub


@njit(cache=True, nogil=True, fastmath=True)
def _diff_gram(hist, K):
    """Gram matrix of the successive differences ``hist[k + 1] - hist[k]``, ``k < K``."""
    m = hist.shape[1]
    C = np.zeros((K, K))
    for k in range(K):
        for l in range(k, K):
            acc = 0.0
            for i in range(m):
                acc += (hist[k + 1, i] - hist[k, i]) * (hist[l + 1, i] - hist[l, i])
            C[k, l] = acc
            C[l, k] = acc
    return C


@njit(cache=True, nogil=True)
def _anderson_weights(hist, K):
    """Weights ``z`` (summing to one) of the extrapolation ``sum_k z_k hist[k + 1]``."""
    C = _diff_gram(hist, K)
    nrm = np.sqrt(np.sum(C * C))
    z = np.ones(K)
    if not nrm > 0.0:
        return False, z
    C /= nrm
    for k in range(K):
        C[k, k] += 1e-10
    try:
        z = np.linalg.solve(C, np.ones(K))
    except Exception:  # noqa: BLE001 - singular system: skip extrapolation
        return False, z
    s = np.sum(z)
    if not np.isfinite(s) or s == 0.0:
        return False, z
    return True, z / s


@njit(cache=True, nogil=True, fastmath=True)
def _bst(W, j, g, Lj, pen, delta):
    """Block proximal step on feature ``j``; ``g`` is minus the gradient.

    With ``z = W_j + g / L_j`` the new row minimizes
    ``L_j/2 ||w - z||^2 + rho_j(w) + r_j/2 ||w||^2``, that is the prox of
    ``rho_j / (L_j + r_j)`` at ``z L_j / (L_j + r_j)``
    (:func:`~._row_penalties._base.row_prox`: for the group lasso block
    soft-thresholding). Writes ``delta = W_j^new - W_j^old`` and returns
    ``||delta||_2``.
    """
    r = pen.ridge[j]
    T = g.shape[0]
    nz = 0.0
    for t in range(T):
        g[t] = W[j, t] + g[t] / Lj
        nz += g[t] * g[t]
    nz = np.sqrt(nz)
    if r != 0.0:
        k = Lj / (Lj + r)
        for t in range(T):
            g[t] *= k
        nz *= k
    scale = row_prox(pen, j, g, nz, 1.0 / (Lj + r)) if nz > 0.0 else 0.0
    dn = 0.0
    for t in range(T):
        delta[t] = scale * g[t] - W[j, t]
        dn += delta[t] * delta[t]
    return np.sqrt(dn)


@njit(cache=True, nogil=True, fastmath=True)
def _grad_tasks(X, j, R2, g, n, T):
    """``g = R2 X[:, j]``, four tasks per pass over the column (one load of ``X`` per four)."""
    t = 0
    while t + 4 <= T:
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        for i in range(n):
            x = X[i, j]
            a0 += x * R2[t, i]
            a1 += x * R2[t + 1, i]
            a2 += x * R2[t + 2, i]
            a3 += x * R2[t + 3, i]
        g[t] = a0
        g[t + 1] = a1
        g[t + 2] = a2
        g[t + 3] = a3
        t += 4
    if t + 2 <= T:
        a0 = 0.0
        a1 = 0.0
        for i in range(n):
            x = X[i, j]
            a0 += x * R2[t, i]
            a1 += x * R2[t + 1, i]
        g[t] = a0
        g[t + 1] = a1
        t += 2
    if t < T:
        a0 = 0.0
        for i in range(n):
            a0 += X[i, j] * R2[t, i]
        g[t] = a0


@njit(cache=True, nogil=True, fastmath=True)
def _update_tasks(X, j, R2, d, n, T):
    """``R2 -= d X[:, j]^T``, four tasks per pass over the column."""
    t = 0
    while t + 4 <= T:
        d0 = d[t]
        d1 = d[t + 1]
        d2 = d[t + 2]
        d3 = d[t + 3]
        for i in range(n):
            x = X[i, j]
            R2[t, i] -= x * d0
            R2[t + 1, i] -= x * d1
            R2[t + 2, i] -= x * d2
            R2[t + 3, i] -= x * d3
        t += 4
    if t + 2 <= T:
        d0 = d[t]
        d1 = d[t + 1]
        for i in range(n):
            x = X[i, j]
            R2[t, i] -= x * d0
            R2[t + 1, i] -= x * d1
        t += 2
    if t < T:
        d0 = d[t]
        for i in range(n):
            R2[t, i] -= X[i, j] * d0


@njit(cache=True, nogil=True, fastmath=True)
def _update2_grad2(X, j1, j2, k1, k2, R2, d1, d2, g1, g2, n, T):
    """``R2 -= d1 X[:, j1]^T + d2 X[:, j2]^T``, then ``g1 = R2 X[:, k1]``, ``g2 = R2 X[:, k2]``.

    One pass over the residual for two updates and two gradients (half the
    residual loads and stores of one feature at a time). Returns
    ``X[:, k1] . X[:, k2]``. With zero ``d1`` and ``d2`` it computes the two
    gradients only.
    """
    t = 0
    while t + 4 <= T:
        e0 = d1[t]
        e1 = d1[t + 1]
        e2 = d1[t + 2]
        e3 = d1[t + 3]
        f0 = d2[t]
        f1 = d2[t + 1]
        f2 = d2[t + 2]
        f3 = d2[t + 3]
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        b0 = 0.0
        b1 = 0.0
        b2 = 0.0
        b3 = 0.0
        for i in range(n):
            x1 = X[i, j1]
            x2 = X[i, j2]
            y1 = X[i, k1]
            y2 = X[i, k2]
            r0 = R2[t, i] - x1 * e0 - x2 * f0
            r1 = R2[t + 1, i] - x1 * e1 - x2 * f1
            r2 = R2[t + 2, i] - x1 * e2 - x2 * f2
            r3 = R2[t + 3, i] - x1 * e3 - x2 * f3
            R2[t, i] = r0
            R2[t + 1, i] = r1
            R2[t + 2, i] = r2
            R2[t + 3, i] = r3
            a0 += y1 * r0
            a1 += y1 * r1
            a2 += y1 * r2
            a3 += y1 * r3
            b0 += y2 * r0
            b1 += y2 * r1
            b2 += y2 * r2
            b3 += y2 * r3
        g1[t] = a0
        g1[t + 1] = a1
        g1[t + 2] = a2
        g1[t + 3] = a3
        g2[t] = b0
        g2[t + 1] = b1
        g2[t + 2] = b2
        g2[t + 3] = b3
        t += 4
    if t + 2 <= T:
        e0 = d1[t]
        e1 = d1[t + 1]
        f0 = d2[t]
        f1 = d2[t + 1]
        a0 = 0.0
        a1 = 0.0
        b0 = 0.0
        b1 = 0.0
        for i in range(n):
            x1 = X[i, j1]
            x2 = X[i, j2]
            y1 = X[i, k1]
            y2 = X[i, k2]
            r0 = R2[t, i] - x1 * e0 - x2 * f0
            r1 = R2[t + 1, i] - x1 * e1 - x2 * f1
            R2[t, i] = r0
            R2[t + 1, i] = r1
            a0 += y1 * r0
            a1 += y1 * r1
            b0 += y2 * r0
            b1 += y2 * r1
        g1[t] = a0
        g1[t + 1] = a1
        g2[t] = b0
        g2[t + 1] = b1
        t += 2
    if t < T:
        e0 = d1[t]
        f0 = d2[t]
        a0 = 0.0
        b0 = 0.0
        for i in range(n):
            r0 = R2[t, i] - X[i, j1] * e0 - X[i, j2] * f0
            R2[t, i] = r0
            a0 += X[i, k1] * r0
            b0 += X[i, k2] * r0
        g1[t] = a0
        g2[t] = b0
    dot = 0.0
    for i in range(n):
        dot += X[i, k1] * X[i, k2]
    return dot


@njit(cache=True, nogil=True, fastmath=True)
def _grad2_tasks(X, k1, k2, R2, g1, g2, n, T, with_dot=True):
    """``g1 = R2 X[:, k1]``, ``g2 = R2 X[:, k2]`` in one pass; returns ``X[:, k1] . X[:, k2]``
    (0 unless ``with_dot``)."""
    t = 0
    while t + 4 <= T:
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        b0 = 0.0
        b1 = 0.0
        b2 = 0.0
        b3 = 0.0
        for i in range(n):
            y1 = X[i, k1]
            y2 = X[i, k2]
            r0 = R2[t, i]
            r1 = R2[t + 1, i]
            r2 = R2[t + 2, i]
            r3 = R2[t + 3, i]
            a0 += y1 * r0
            a1 += y1 * r1
            a2 += y1 * r2
            a3 += y1 * r3
            b0 += y2 * r0
            b1 += y2 * r1
            b2 += y2 * r2
            b3 += y2 * r3
        g1[t] = a0
        g1[t + 1] = a1
        g1[t + 2] = a2
        g1[t + 3] = a3
        g2[t] = b0
        g2[t + 1] = b1
        g2[t + 2] = b2
        g2[t + 3] = b3
        t += 4
    while t < T:
        a0 = 0.0
        b0 = 0.0
        for i in range(n):
            r0 = R2[t, i]
            a0 += X[i, k1] * r0
            b0 += X[i, k2] * r0
        g1[t] = a0
        g2[t] = b0
        t += 1
    dot = 0.0
    if with_dot:
        for i in range(n):
            dot += X[i, k1] * X[i, k2]
    return dot


@njit(cache=True, nogil=True, fastmath=True)
def _epoch_shared_dense_pairs(ws, W, c, L, pen, X, R2, u0, v, mu, xu, g, delta):
    """One pass over ``ws`` (equal row weights, at least four tasks), two features at a time.

    The features are still updated one after the other (the iterates are those
    of :func:`_epoch_shared_dense`): the gradient of the second feature of a
    pair is computed with the first's and corrected for its update through
    ``X[:, j1] . X[:, j2]``, and the residual takes both updates, fused with the
    gradients of the next pair, in one pass.
    """
    T, n = R2.shape
    m = ws.shape[0]
    viol = 0.0
    g1 = np.empty(T)
    g2 = np.empty(T)
    d1 = np.zeros(T)
    d2 = np.zeros(T)
    dot = 0.0
    have = False  # g1, g2 (and dot) hold the raw gradients of the current pair
    q = 0
    while q + 1 < m:
        j1 = ws[q]
        j2 = ws[q + 1]
        if not have:
            dot = _grad2_tasks(X, j1, j2, R2, g1, g2, n, T)
        n1 = 0.0
        if L[j1] > 0.0:
            for t in range(T):
                g[t] = v[t] * (u0 * g1[t] + c[t] * xu[j1])
            n1 = _bst(W, j1, g, L[j1], pen, d1)
        if n1 > 0.0:
            for t in range(T):
                c[t] += mu[j1] * d1[t]
                W[j1, t] += d1[t]
            n1 *= L[j1]
            if n1 > viol:
                viol = n1
        else:
            for t in range(T):
                d1[t] = 0.0
        n2 = 0.0
        if L[j2] > 0.0:
            for t in range(T):
                g[t] = v[t] * (u0 * (g2[t] - dot * d1[t]) + c[t] * xu[j2])
            n2 = _bst(W, j2, g, L[j2], pen, d2)
        if n2 > 0.0:
            for t in range(T):
                c[t] += mu[j2] * d2[t]
                W[j2, t] += d2[t]
            n2 *= L[j2]
            if n2 > viol:
                viol = n2
        else:
            for t in range(T):
                d2[t] = 0.0
        if n1 > 0.0 or n2 > 0.0:
            if q + 3 < m:
                dot = _update2_grad2(X, j1, j2, ws[q + 2], ws[q + 3], R2, d1, d2, g1, g2, n, T)
                have = True
            else:
                _update2_grad2(X, j1, j2, j1, j2, R2, d1, d2, g1, g2, n, T)
                have = False
        else:
            have = False
        q += 2
    if q < m:  # odd length: the last feature alone
        j = ws[q]
        if L[j] > 0.0:
            _grad_tasks(X, j, R2, g1, n, T)
            for t in range(T):
                g[t] = v[t] * (u0 * g1[t] + c[t] * xu[j])
            dn = _bst(W, j, g, L[j], pen, delta)
            if dn > 0.0:
                _update_tasks(X, j, R2, delta, n, T)
                for t in range(T):
                    c[t] += mu[j] * delta[t]
                    W[j, t] += delta[t]
                dn *= L[j]
                if dn > viol:
                    viol = dn
    return viol


@njit(cache=True, nogil=True, fastmath=True)
def _epoch_shared_dense(ws, W, c, L, pen, X, R2, u, const_u, v, mu, xu, g, delta):
    """One pass over ``ws``, shared design: residual ``R2`` is (n_tasks, n_samples).

    With equal row weights and at least four tasks, :func:`_epoch_shared_dense_pairs`
    (two features per pass over the residual, four tasks per pass over a column).
    """
    T, n = R2.shape
    if const_u and T >= 4:
        return _epoch_shared_dense_pairs(ws, W, c, L, pen, X, R2, u[0], v, mu, xu, g, delta)
    viol = 0.0
    u0 = u[0]
    m = ws.shape[0]
    for jj in range(m):
        j = ws[jj]
        Lj = L[j]
        if Lj <= 0.0:
            continue
        if const_u:
            for t in range(T):
                acc = 0.0
                for i in range(n):
                    acc += X[i, j] * R2[t, i]
                g[t] = v[t] * (u0 * acc + c[t] * xu[j])
        else:
            for t in range(T):
                acc = 0.0
                for i in range(n):
                    acc += u[i] * X[i, j] * R2[t, i]
                g[t] = v[t] * (acc + c[t] * xu[j])
        dn = _bst(W, j, g, Lj, pen, delta)
        if dn > 0.0:
            for t in range(T):
                d = delta[t]
                if d != 0.0:
                    for i in range(n):
                        R2[t, i] -= X[i, j] * d
            for t in range(T):
                c[t] += mu[j] * delta[t]
                W[j, t] += delta[t]
            dn *= Lj
            if dn > viol:
                viol = dn
    return viol


@njit(cache=True, nogil=True, fastmath=True)
def _epoch_shared_sparse(ws, W, c, L, pen, indptr, indices, data, R, u, const_u, v, mu, xu,
                         g, delta):
    """One pass over ``ws``, shared design, CSC ``X``: residual ``R`` is (n_samples, n_tasks)."""
    T = R.shape[1]
    viol = 0.0
    u0 = u[0]
    for jj in range(ws.shape[0]):
        j = ws[jj]
        Lj = L[j]
        if Lj <= 0.0:
            continue
        for t in range(T):
            g[t] = 0.0
        for nz in range(indptr[j], indptr[j + 1]):
            r = indices[nz]
            x = np.float64(data[nz])
            if not const_u:
                x *= u[r]
            for t in range(T):
                g[t] += x * R[r, t]
        scale_u = u0 if const_u else 1.0
        for t in range(T):
            g[t] = v[t] * (scale_u * g[t] + c[t] * xu[j])
        dn = _bst(W, j, g, Lj, pen, delta)
        if dn > 0.0:
            for nz in range(indptr[j], indptr[j + 1]):
                r = indices[nz]
                x = np.float64(data[nz])
                for t in range(T):
                    R[r, t] -= x * delta[t]
            for t in range(T):
                c[t] += mu[j] * delta[t]
                W[j, t] += delta[t]
            dn *= Lj
            if dn > viol:
                viol = dn
    return viol


@njit(cache=True, nogil=True, fastmath=True)
def _epoch_obs_dense(ws, W, c, L, pen, X, R1, rows, task_ptr, omega, MU, XU, g, delta):
    """One pass over ``ws``, per-task rows of a dense ``X`` (observations task after task)."""
    T = W.shape[1]
    viol = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        Lj = L[j]
        if Lj <= 0.0:
            continue
        for t in range(T):
            acc = 0.0
            for k in range(task_ptr[t], task_ptr[t + 1]):
                acc += omega[k] * X[rows[k], j] * R1[k]
            g[t] = acc + c[t] * XU[j, t]
        dn = _bst(W, j, g, Lj, pen, delta)
        if dn > 0.0:
            for t in range(T):
                d = delta[t]
                if d != 0.0:
                    for k in range(task_ptr[t], task_ptr[t + 1]):
                        R1[k] -= X[rows[k], j] * d
                    c[t] += MU[j, t] * d
                W[j, t] += d
            dn *= Lj
            if dn > viol:
                viol = dn
    return viol


@njit(cache=True, nogil=True, fastmath=True)
def _epoch_obs_sparse(ws, W, c, L, pen, indptr, indices, data, R1, row_ptr, otask, omega,
                      MU, XU, g, delta):
    """One pass over ``ws``, CSC ``X``; observations stored row after row."""
    T = W.shape[1]
    viol = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        Lj = L[j]
        if Lj <= 0.0:
            continue
        for t in range(T):
            g[t] = c[t] * XU[j, t]
        for nz in range(indptr[j], indptr[j + 1]):
            r = indices[nz]
            x = np.float64(data[nz])
            for k in range(row_ptr[r], row_ptr[r + 1]):
                g[otask[k]] += omega[k] * x * R1[k]
        dn = _bst(W, j, g, Lj, pen, delta)
        if dn > 0.0:
            for nz in range(indptr[j], indptr[j + 1]):
                r = indices[nz]
                x = np.float64(data[nz])
                for k in range(row_ptr[r], row_ptr[r + 1]):
                    R1[k] -= x * delta[otask[k]]
            for t in range(T):
                c[t] += MU[j, t] * delta[t]
                W[j, t] += delta[t]
            dn *= Lj
            if dn > viol:
                viol = dn
    return viol


@njit(cache=True, nogil=True, fastmath=True)
def _epoch_gram(ws, W, L, pen, Qc, qcol, Ht, v, g, delta):
    """One pass over ``ws`` with covariance (Gram) updates, shared dense design.

    With ``Q = X_c^T diag(u) X_c`` and ``B = X_c^T diag(u) Y_c`` the solver keeps
    ``H = B - Q W`` (stored ``Ht``, (n_tasks, n_features)); minus the gradient of
    feature ``j`` is ``v_t H[j, t]`` and an update ``W_j += delta`` costs
    ``H -= Q[:, j] delta^T``: O(p T) instead of O(n T) (glmnet's covariance
    updates). ``Qc[:, qcol[j]]`` is column ``j`` of ``Q``.
    """
    T, p = Ht.shape
    viol = 0.0
    for jj in range(ws.shape[0]):
        j = ws[jj]
        Lj = L[j]
        if Lj <= 0.0:
            continue
        for t in range(T):
            g[t] = v[t] * Ht[t, j]
        dn = _bst(W, j, g, Lj, pen, delta)
        if dn > 0.0:
            q = Qc[:, qcol[j]]
            for t in range(T):
                d = delta[t]
                if d != 0.0:
                    for i in range(p):
                        Ht[t, i] -= q[i] * d
                W[j, t] += d
            dn *= Lj
            if dn > viol:
                viol = dn
    return viol


@njit(cache=True, nogil=True, fastmath=True)
def _epoch(mode, ws, W, c, L, pen, Xd, indptr, indices, data, R2, R1, u, const_u, v,
           rows, task_ptr, row_ptr, otask, omega, mu, xu, MU, XU, g, delta):
    """One pass over ``ws`` with the kernel of the data layout ``mode``; returns the violation.

    Gram mode (4): ``Xd`` is the array of Gram columns, ``indices`` their index
    per feature and ``R2`` holds ``H^T``.
    """
    if mode == 4:
        return _epoch_gram(ws, W, L, pen, Xd, indices, R2, v, g, delta)
    if mode == 0:
        return _epoch_shared_dense(ws, W, c, L, pen, Xd, R2, u, const_u, v, mu, xu, g, delta)
    if mode == 1:
        return _epoch_obs_dense(ws, W, c, L, pen, Xd, R1, rows, task_ptr, omega, MU, XU, g, delta)
    if mode == 2:
        return _epoch_obs_sparse(ws, W, c, L, pen, indptr, indices, data, R1, row_ptr, otask,
                                 omega, MU, XU, g, delta)
    return _epoch_shared_sparse(ws, W, c, L, pen, indptr, indices, data, R2, u, const_u,
                                v, mu, xu, g, delta)


@njit(cache=True, nogil=True, fastmath=True)
def _solve_ws(mode, ws, W, c, L, pen, max_epochs, tol_in, use_acc, K,
              Xd, indptr, indices, data, R2, R1, u, const_u, v,
              rows, task_ptr, row_ptr, otask, omega, mu, xu, MU, XU, hist, rhist, chist,
              state, sub, gram):
    """Block coordinate descent on the features ``ws``; returns (epochs, violation).

    The violation is ``max_j L_j ||W_j^new - W_j^old||`` over the last epoch, the
    fixed-point distance of the block proximal gradient map. ``hist`` (K + 1,
    len(ws) * n_tasks), with the residuals ``rhist`` and offsets ``chist`` of the
    same iterates (both affine in ``W``: extrapolated like it, at no pass over
    ``X``), and ``state[0]`` (iterates stored) carry the Anderson history over
    calls on the same working set.

    Anderson extrapolation is judged after the epoch that follows it: the
    extrapolated point itself is often worse (coefficients about to leave the
    support are not yet zero), the epoch's thresholding repairs that. The epoch
    result is kept if its objective is below that of the last plain iterate,
    else that iterate is restored.

    A non-empty ``sub`` (the support within ``ws``) adds a pass over it before
    each pass over ``ws``: zero rows rarely move, and the pair is one map for
    the extrapolation.
    """
    T = W.shape[1]
    m = ws.shape[0]
    g = np.empty(T)
    delta = np.empty(T)
    n_hist = state[0]
    Rf = R1 if (mode == 1 or mode == 2) else R2.reshape(R2.size)
    nr = Rf.shape[0]
    viol = np.inf
    epoch = 0
    for epoch in range(1, max_epochs + 1):
        pending = False
        p_old = 0.0
        if use_acc and n_hist == K + 1:
            n_hist = 0
            ok, z = _anderson_weights(hist, K)
            if ok:
                pending = True
                p_old = _datafit(mode, W, c, R2, R1, u, v, task_ptr, otask, omega, gram) + _penalty(W, ws, pen)
                for jj in range(m):
                    j = ws[jj]
                    for t in range(T):
                        acc = 0.0
                        for k in range(K):
                            acc += z[k] * hist[k + 1, jj * T + t]
                        W[j, t] = acc
                for i in range(nr):
                    acc = 0.0
                    for k in range(K):
                        acc += z[k] * rhist[k + 1, i]
                    Rf[i] = acc
                for t in range(T):
                    acc = 0.0
                    for k in range(K):
                        acc += z[k] * chist[k + 1, t]
                    c[t] = acc
        if sub.shape[0] > 0:
            _epoch(mode, sub, W, c, L, pen, Xd, indptr, indices, data, R2, R1, u, const_u, v,
                   rows, task_ptr, row_ptr, otask, omega, mu, xu, MU, XU, g, delta)
        viol = _epoch(mode, ws, W, c, L, pen, Xd, indptr, indices, data, R2, R1, u, const_u, v,
                      rows, task_ptr, row_ptr, otask, omega, mu, xu, MU, XU, g, delta)
        if pending:
            p_new = _datafit(mode, W, c, R2, R1, u, v, task_ptr, otask, omega, gram) + _penalty(W, ws, pen)
            if not p_new < p_old:  # reject: back to the last plain iterate
                for jj in range(m):
                    for t in range(T):
                        W[ws[jj], t] = hist[K, jj * T + t]
                Rf[:] = rhist[K]
                c[:] = chist[K]
                viol = np.inf  # the fixed-point distance of the discarded epoch says nothing
        if viol <= tol_in:
            break
        if use_acc:
            for jj in range(m):
                for t in range(T):
                    hist[n_hist, jj * T + t] = W[ws[jj], t]
            rhist[n_hist] = Rf
            chist[n_hist] = c
            n_hist += 1
    state[0] = n_hist
    return epoch, viol


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
    """

    def __init__(self, data, *, fit_intercept=True, task_weight=None, l1_ratio=1.0,
                 penalty_factor=None, penalty="group_lasso", gamma=None, l1_share=0.5,
                 precompute="auto"):
        X = data.X
        self.n_features = p = data.n_features
        self.n_samples = n = data.n_samples
        self.n_tasks = T = data.n_tasks
        self.fit_intercept = fit_intercept
        omega = np.ascontiguousarray(data.observation_weights(task_weight), dtype=np.float64)
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
        dummy2 = np.zeros((2, 2), dtype=dtype, order="F")
        dummy_i = np.zeros(1, dtype=np.int64)
        self._Xd = dummy2
        self._indptr = self._indices = dummy_i
        self._data = np.zeros(1, dtype=dtype)
        self._u = np.ones(1)
        self._const_u = True
        self._v = np.ones(T)
        self._rows = dummy_i
        self._task_ptr = np.asarray(data.task_ptr, dtype=np.int64)
        self._row_ptr = dummy_i
        self._otask = dummy_i
        self._omega = np.ones(1)
        self._R2 = np.zeros((1, 1))
        self._R1 = np.zeros(1)
        self._mu = np.zeros(1)
        self._xu = np.zeros(1)
        self._MU = np.zeros((1, 1))
        self._XU = np.zeros((1, 1))

        self._shared = mode in (_SHARED_DENSE, _SHARED_SPARSE)
        if self._shared:
            if mode == _SHARED_DENSE:
                self._Xd = Xf = np.asfortranarray(X)
                s1, s2 = _moments_shared_dense(Xf, u)
            else:
                self._set_csc(X)
                s1, s2 = _moments_shared_sparse(self._indptr, self._indices, self._data, u)
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
                s1, s2 = _moments_obs_dense(Xf, rows, self._task_ptr, omega)
                order = np.arange(len(y))
            else:
                self._set_csc(X)
                order = np.argsort(data.rows, kind="stable")  # row-major observations
                rows = np.asarray(data.rows, dtype=np.int64)[order]
                self._rows = rows
                self._row_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
                self._otask = task_of[order]
                self._omega = omega[order]
                s1, s2 = _moments_obs_sparse(self._indptr, self._indices, self._data,
                                             self._row_ptr, self._otask, self._omega, T)
            self._order = order
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
        self._gram_dummy = (np.zeros((1, 1)), np.zeros(1))
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
        """``(G, ||G_j||, ||W_j||, datafit, sum omega r y_c)`` from ``H`` (Gram mode)."""
        W, Ht, v = self.W, self._R2, self._v
        G = np.ascontiguousarray((Ht * v[:, None]).T)
        gnorm, wnorm = _row_norms(G, W)
        wb = np.einsum("jt,tj->t", W, self._Bt)
        wh = np.einsum("jt,tj->t", W, Ht)
        return G, gnorm, wnorm, 0.5 * float(v @ (self._E - wb - wh)), float(v @ (self._E - wb))

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
            self._R2 = np.ascontiguousarray(self._Yc - (self._Xd[:, supp] @ W[supp]).T)
            self._c = self._mu @ W
        elif self.mode == _SHARED_SPARSE:
            self._R2 = np.ascontiguousarray(self._Yc - np.asarray(self._Xsp[:, supp] @ W[supp]))
            self._c = self._mu @ W
        else:
            XW = np.asarray(self.data_X_cols(supp) @ W[supp])  # (n, T)
            if self.mode == _OBS_DENSE:
                task_of = np.repeat(np.arange(self.n_tasks), np.diff(self._task_ptr))
            else:
                task_of = self._otask
            self._R1 = self._yc - XW[self._rows, task_of]
            self._c = np.einsum("jt,jt->t", self._MU, W)

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
        working set size), ``use_acc=True`` (Anderson), ``K=5``, ``verbose=0``.

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

    def _solve(self, alpha, *, tol=1e-4, max_iter=1000, p0=10, use_acc=True, K=5, verbose=0):
        alpha = float(alpha)
        return self._solve_rows(self._row_params(alpha), self.penalty.is_convex, tol=tol, max_iter=max_iter,
                                p0=p0, use_acc=use_acc, K=K, verbose=verbose)

    def _row_params(self, alpha):
        """The kernel parameters of the row penalty at ``alpha``."""
        return self.penalty.rows(alpha * self._pw, alpha * self._rw)

    def _solve_rows(self, pen, convex, *, tol=1e-4, max_iter=1000, p0=10, use_acc=True, K=5, verbose=0):
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
        gram = (self._Bt, self._E) if self.mode == _GRAM else self._gram_dummy
        args = (self._Xd, self._indptr, self._indices, self._data, self._R2, self._R1,
                self._u, self._const_u, self._v, self._rows, self._task_ptr,
                self._row_ptr, self._otask, self._omega, self._mu, self._xu, self._MU, self._XU)
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
                G, gnorm, wnorm, fit, cross = cache[2:]
            else:
                if self.mode == _GRAM:
                    G, gnorm, wnorm, fit, cross = self._gram_state()
                elif self._fused_grad:
                    G, gnorm, wnorm, fit, cross = _full_grad_shared_dense(
                        self._Xd, self._R2, self._c, self._u, self._v, self._mu, W, self._Yc)
                else:
                    M, r = self._weighted_residual()
                    G = self.neg_gradient(M)
                    gnorm, wnorm = _row_norms(G, W)
                    fit, cross = self._objective_terms(r)
                self._grad_cache = (W, W.copy(), G, gnorm, wnorm, fit, cross)
            # distance of -grad to the subdifferential of the penalty, and the gap
            kkt, prio, n_supp, pval, smax, ridge, conj, free, uw = _kkt_scores(
                G, W, gnorm, wnorm, pen, self._L)
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
            ws, changed, sub = _select_ws(prio, ws_size, wnorm, _NO_SUB if ws is None else ws,
                                          large, _SUPPORT_PASS)
            if changed:
                hist = np.empty((K + 1, ws.shape[0] * T))
                rhist = np.empty((K + 1, self._R2.size if self._shared else self._R1.size))
                chist = np.empty((K + 1, T))
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
                args = (self._Qc, self._indptr, self._qcol) + args[3:]
            epochs, _ = _solve_ws(self.mode, ws, W, self._c, self._L, pen,
                                  budget, tol_in, use_acc, K, *args, hist, rhist, chist, state, sub, gram)
            if self.mode == _GRAM:
                self._c = self._mu @ W  # the offsets are not tracked by the Gram epochs
            n_iter += epochs

    @property
    def intercept(self):
        """Per-task intercepts ``b_t = ybar_t - mu_t^T w_t``."""
        if not self.fit_intercept:
            return np.zeros(self.n_tasks)
        return self._ybar - self._c

    def objective(self, alpha):
        """Objective value at the current coefficients (intercepts at their optimum)."""
        if self.mode == _GRAM:
            fit = self._gram_state()[3]
        else:
            _, r = self._weighted_residual()
            fit, _ = self._objective_terms(r)
        ws = np.arange(self.n_features)
        return fit + _penalty(self.W, ws, self._row_params(float(alpha)))
