r"""Numba kernels of the block coordinate descent (:class:`~skmtl.linear._bcd.L21Solver`).

Each data layout is an argument bundle (a ``NamedTuple``: :class:`SharedDense`,
:class:`SharedDensePairs`, :class:`SharedSparse`, :class:`ObsDense`,
:class:`ObsSparse`, :class:`Gram`) whose type selects its epoch and datafit
(:func:`layout_epoch`, :func:`layout_datafit`: overloads on the bundle type), so
the inner solver :func:`_solve_ws` is compiled once per layout and row penalty
that a process meets, with the epoch and datafit of that layout only and no
branch on either. The row penalty ``pen`` is the kernel-parameter tuple of a
:class:`~skmtl.linear._row_penalties.RowPenalty` (its Numba functions are
selected by its type, at compile time).

Compile time (the first fit of a process with an empty Numba cache): Numba
compiles each kernel as its own module and links the modules of the kernels
it calls into it, optimizing and generating their code again at each level;
inlining at Numba's IR level (``inline="always"``) copies and retypes the
callee's IR at each call site, which costs more than linking except for small
helpers with one call site. So the calls are at most two levels deep
(:func:`_solve_ws` -> epoch -> row penalty), the extrapolation weights are
written into the inner solver, functions called from kernels only have no
wrappers for Python (``_INTERNAL``), each loop nest counts (some hundredths of
a second each), and scratch and output arrays are allocated in NumPy by the
callers (Numba's ``np.empty`` is itself a compiled overload, one per
signature; :func:`_full_grad_shared_dense` is the exception, see there).
Numba's ``np.partition``, ``np.sort``, ``np.linalg.solve``, ``reshape``,
array expressions and slice assignments of arrays (whose shape check formats
an error message) each cost from a tenth of a second to seconds of
compilation and are not used here. ``error_model="numpy"``: no division here
can be by zero (each is guarded), so the kernels carry no
``ZeroDivisionError`` paths. Python's garbage collector is paused while Numba
compiles a kernel of skmtl (:class:`_PauseGCWhileCompiling`).
"""

import gc
from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.core import event
from numba.extending import overload

from ._row_penalties._base import row_distance, row_dual_scale, row_margin, row_penalized, row_prox, row_value

# Options of the kernels. _FAST: the epochs (every float is finite there).
# _FAST_FINITE: fast-math without the no-NaN / no-infinity assumptions, for the
# inner solver, which compares with np.inf and tests the extrapolation for
# finite values.
_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "no_cfunc_wrapper": True}
_FAST = {**_JIT, "fastmath": True}
_FAST_FINITE = {**_JIT, "fastmath": {"reassoc", "contract", "nsz", "arcp", "afn"}}
# Functions called from kernels only (the overloads): no wrapper callable from Python either.
_INTERNAL = {"no_cpython_wrapper": True}


class _PauseGCWhileCompiling(event.Listener):
    """Python's cyclic garbage collector paused while Numba compiles an skmtl kernel.

    Compiling creates many objects, and the full collections it triggers walk
    every object of the process (scikit-learn, SciPy and Numba hold hundreds of
    thousands): two of them, 0.13 s, in the first ``L21Regressor`` fit of a
    process on an empty cache (five, 0.44 s, before the kernels were made
    smaller to compile). The collector is paused from the start of the outermost
    compilation of a function of skmtl to its end (Numba compiles under one
    global lock, so the events nest), and only if it was enabled; the garbage
    is collected after. Loads from Numba's cache are not compilations: a warm
    process is unaffected.
    """

    def __init__(self):
        self._depth = 0
        self._paused = False

    def on_start(self, ev):
        if self._depth == 0:
            # any compilation of the process comes here (jitclass constructors have no
            # __module__, ...): nothing below may raise
            data = ev.data if isinstance(ev.data, dict) else {}
            module = getattr(getattr(data.get("dispatcher"), "py_func", None), "__module__", None)
            self._paused = isinstance(module, str) and module.startswith("skmtl.") and gc.isenabled()
            if self._paused:
                gc.disable()
        self._depth += 1

    def on_end(self, ev):
        self._depth -= 1
        if self._depth == 0 and self._paused:
            self._paused = False
            gc.enable()


event.register("numba:compile", _PauseGCWhileCompiling())

# --------------------------------------------------------------------------
# column moments (float64 accumulation, no copy of X); outputs allocated by the caller
# --------------------------------------------------------------------------


@njit(**_JIT)
def _moments_shared_dense(X, u, s1, s2):
    n, p = X.shape
    for j in range(p):
        a = 0.0
        b = 0.0
        for i in range(n):
            x = np.float64(X[i, j])
            a += u[i] * x
            b += u[i] * x * x
        s1[j] = a
        s2[j] = b


@njit(**_JIT)
def _moments_shared_sparse(indptr, indices, data, u, s1, s2):
    p = indptr.shape[0] - 1
    for j in range(p):
        a = 0.0
        b = 0.0
        for nz in range(indptr[j], indptr[j + 1]):
            x = np.float64(data[nz])
            a += u[indices[nz]] * x
            b += u[indices[nz]] * x * x
        s1[j] = a
        s2[j] = b


@njit(**_JIT)
def _moments_obs_dense(X, rows, task_ptr, omega, s1, s2):
    p = X.shape[1]
    T = task_ptr.shape[0] - 1
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


@njit(**_JIT)
def _moments_obs_sparse(indptr, indices, data, row_ptr, otask, omega, s1, s2):
    """``s1``, ``s2`` (n_features, n_tasks) zero on entry."""
    p = indptr.shape[0] - 1
    for j in range(p):
        for nz in range(indptr[j], indptr[j + 1]):
            r = indices[nz]
            x = np.float64(data[nz])
            for k in range(row_ptr[r], row_ptr[r + 1]):
                t = otask[k]
                s1[j, t] += omega[k] * x
                s2[j, t] += omega[k] * x * x


def moments(kernel, *args, shape):
    """Run a moments kernel; returns the two moment arrays (float64, C order) of ``shape``."""
    s1 = np.zeros(shape)
    s2 = np.zeros(shape)
    kernel(*args, s1, s2)
    return s1, s2


# --------------------------------------------------------------------------
# penalty value, gradient and KKT statistics
# --------------------------------------------------------------------------


@njit(**_JIT, **_INTERNAL)
def _penalty(W, ws, pen):
    """``sum_{j in ws} h_j(W_j) = rho_j(W_j) + r_j / 2 ||W_j||_2^2`` (``pen`` a row penalty's kernel parameters).

    Called from the kernels; from Python, :func:`penalty_sum`.
    """
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


@njit(**_JIT)
def penalty_sum(W, ws, pen):
    """:func:`_penalty` callable from Python (compiled only where Python asks for it, not by a fit)."""
    return _penalty(W, ws, pen)


@njit(**_JIT)
def _row_support_kernel(W, out):
    """Writes the indices of the rows of ``W`` with a nonzero entry to ``out``; returns their number."""
    p, T = W.shape
    m = 0
    for j in range(p):
        for t in range(T):
            if W[j, t] != 0.0:
                out[m] = j
                m += 1
                break
    return m


def _row_support(W):
    """Indices (int64) of the rows of ``W`` with a nonzero entry."""
    out = np.empty(W.shape[0], dtype=np.int64)
    return out[:_row_support_kernel(W, out)]


@njit(**_FAST)
def _full_grad_shared_dense(X, R2, c, u, v, mu, W, Yc):
    """Minus the gradient at the current residual, shared dense design, in one pass.

    Returns ``G`` (p, T) (as :meth:`L21Solver.neg_gradient`), the row norms of
    ``G`` and ``W`` and the terms ``(datafit, sum omega r y_c)`` of
    :meth:`L21Solver._objective_terms`. For skinny products (few tasks) this
    beats a BLAS call, which tiles badly for a handful of columns. The arrays
    are allocated here, not by the caller: with arrays that NumPy allocates for
    it, the fits of wide problems were 5 to 8 % slower (measured, 300 x 3000 x 20).
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
    if p % 2:  # an odd last column: a plain loop (one call site of the inlined helper)
        for t in range(T):
            acc = 0.0
            for i in range(n):
                acc += X[i, p - 1] * Z[t, i]
            G[p - 1, t] = acc
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


@njit(**_JIT)
def _kkt_scores(G, W, pen, L, prio, v, gnorm, wnorm, have_norms):
    """Check statistics of the full gradient ``G`` (minus the gradient).

    ``pen``: the kernel parameters of a row penalty (:mod:`._row_penalties`),
    ``h_j(w) = rho_j(w) + r_j / 2 ||w||^2``. The dual quantities (``smax``,
    ``ridge``, ``conj``) are used for convex penalties only. ``gnorm`` and
    ``wnorm`` hold the row norms of ``G`` and ``W`` if ``have_norms``, else they
    are computed into them. Writes the working-set priority of each feature
    into ``prio`` (support and unpenalized features first, then violators,
    then the features closest to entering, by the margin of ``G_j`` to
    ``d rho_j(0)`` in the metric of the column); ``v`` (n_tasks,) is scratch.
    Returns:

    * ``kkt``: the largest distance of ``-grad_j`` to ``d h_j(W_j)`` (-1 for
      constant features);
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
    n_supp = 0
    pval = 0.0
    smax = 1.0
    ridge = 0.0
    conj = 0.0
    free = 0.0
    uw = 0.0
    for j in range(p):
        r = pen.ridge[j]
        penalized = row_penalized(pen, j)
        if have_norms:
            gn = gnorm[j]
            wn = wnorm[j]
        else:
            a = 0.0
            b = 0.0
            for t in range(T):
                a += G[j, t] * G[j, t]
                b += W[j, t] * W[j, t]
            gn = np.sqrt(a)
            wn = np.sqrt(b)
            gnorm[j] = gn
            wnorm[j] = wn
        for t in range(T):  # a copy, not a view of G: no reference counting per row
            v[t] = G[j, t]
        margin = row_margin(pen, j, v, gn)
        if r > 0.0:
            ex = 0.0 if margin < 0.0 else margin  # max(margin, 0.0) (the builtin costs a compilation)
            conj += ex * ex / (2.0 * r)
            w2 = wn * wn
            pval += 0.5 * r * w2
            ridge += r * w2
        elif penalized and margin > 0.0:
            conj = np.inf  # h_j^* is the indicator of the ball: the s = 1 point is infeasible
        vn = gn
        if r > 0.0 and wn > 0:
            acc = 0.0
            for t in range(T):
                e = G[j, t] - r * W[j, t]
                v[t] = e
                acc += e * e
            vn = np.sqrt(acc)
        if penalized:  # the dual scaling of the row
            sj = row_dual_scale(pen, j, v, vn)
            if sj < smax:
                smax = sj
        if wn > 0:
            pval += row_value(pen, j, W[j], wn)
            sc = row_distance(pen, j, v, W[j], wn)
            n_supp += 1
            pr = np.inf
        else:
            sc = 0.0 if margin < 0.0 else margin
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
    return kkt, n_supp, pval, smax, ridge, conj, free, uw


def select_ws(prio, ws_size, wnorm, old_ws, with_sub, sub_frac):
    """Working set: the ``ws_size`` features of highest priority, in index order.

    Returns ``(ws, changed, sub)``: ``changed`` is False when ``ws`` equals
    ``old_ws`` (then ``old_ws`` itself is returned); ``sub`` is the support
    within ``ws`` when ``with_sub`` and it is at most ``sub_frac`` of ``ws``,
    else empty. Ties at the threshold go to the lowest indices. NumPy, once
    per outer iteration (Numba's ``np.partition`` costs seconds to compile).
    """
    p = prio.shape[0]
    if ws_size >= p:
        ws = np.arange(p, dtype=np.int64)
    else:
        neg = -prio
        thr = np.partition(neg, ws_size - 1)[ws_size - 1]  # ws_size-th largest priority
        chosen = neg < thr
        m = int(np.count_nonzero(chosen))
        if m < ws_size:  # ties at the threshold: lowest indices
            chosen[np.flatnonzero(neg == thr)[:ws_size - m]] = True
        ws = np.flatnonzero(chosen).astype(np.int64, copy=False)
    changed = not (old_ws.shape[0] == ws.shape[0] and np.array_equal(old_ws, ws))
    if not changed:
        ws = old_ws
    sub = _NO_INDEX
    if with_sub:
        sup = ws[wnorm[ws] > 0]
        if 0 < sup.shape[0] <= sub_frac * ws.shape[0]:
            sub = sup
    return ws, changed, sub


_NO_INDEX = np.zeros(0, dtype=np.int64)



@njit(**_FAST, inline="always")
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



@njit(**_FAST, inline="always")
def _update2_grad2(X, j1, j2, k1, k2, R2, d1, d2, g1, g2, n, T):
    """``R2 -= d1 X[:, j1]^T + d2 X[:, j2]^T``, then ``g1 = R2 X[:, k1]``, ``g2 = R2 X[:, k2]``.

    One pass over the residual for two updates and two gradients (half the
    residual loads and stores of one feature at a time), four tasks per pass
    over the columns, then the remaining tasks one at a time. Returns
    ``X[:, k1] . X[:, k2]``.
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
    while t < T:
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
        t += 1
    dot = 0.0
    for i in range(n):
        dot += X[i, k1] * X[i, k2]
    return dot



@njit(**_FAST, inline="always")
def _grad2_tasks(X, k1, k2, R2, g1, g2, n, T, with_dot):
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



# --------------------------------------------------------------------------
# the epochs: one pass of block coordinate descent over a working set, one
# per data layout. Plain functions: each is the implementation of
# layout_epoch for its layout type (compiled by that overload, with _FAST).
# --------------------------------------------------------------------------


def _epoch_shared_dense_pairs(lay, ws, W, c, L, pen, g, delta):
    """One pass over ``ws`` (equal row weights, at least four tasks), two features at a time.

    The features are still updated one after the other (the iterates are those
    of :func:`_epoch_shared_dense_one`): the gradient of the second feature of a
    pair is computed with the first's and corrected for its update through
    ``X[:, j1] . X[:, j2]``, and the residual takes both updates, fused with the
    gradients of the next pair, in one pass. An odd last feature is a pair of
    one (``j2 = j1``, no second update). ``lay.work`` (4, n_tasks) is scratch.

    Compile time: one call site of each helper (:func:`_bst` in a loop over
    the pair, the odd feature on the pair's path); every inlined copy is
    compiled again.
    """
    X = lay.X
    R2 = lay.R
    u0 = lay.u[0]
    v = lay.v
    mu = lay.mu
    xu = lay.xu
    T, n = R2.shape
    m = ws.shape[0]
    viol = 0.0
    g1 = lay.work[0]
    g2 = lay.work[1]
    d1 = lay.work[2]
    d2 = lay.work[3]
    dot = 0.0
    have = False  # g1, g2 (and dot) hold the raw gradients of the current pair
    q = 0
    while q < m:
        ns = 2 if q + 1 < m else 1  # features in this pair
        j1 = ws[q]
        j2 = ws[q + ns - 1]
        if not have:
            dot = _grad2_tasks(X, j1, j2, R2, g1, g2, n, T, True)
        moved = False
        for s in range(2):
            j = j1 if s == 0 else j2
            gs = g1 if s == 0 else g2
            ds = d1 if s == 0 else d2
            nj = 0.0
            if s < ns and L[j] > 0.0:
                for t in range(T):
                    a = gs[t]
                    if s == 1:  # the first feature's update, through X[:, j1] . X[:, j2]
                        a -= dot * d1[t]
                    g[t] = v[t] * (u0 * a + c[t] * xu[j])
                nj = _bst(W, j, g, L[j], pen, ds)
            if nj > 0.0:
                for t in range(T):
                    c[t] += mu[j] * ds[t]
                    W[j, t] += ds[t]
                nj *= L[j]
                if nj > viol:
                    viol = nj
                moved = True
            else:
                for t in range(T):
                    ds[t] = 0.0
        if moved:
            # the residual update fused with the next pair's gradients, or (last
            # pair) throw-away gradients of this one
            have = q + ns < m  # a next pair (or a last odd feature)
            k1 = j1
            k2 = j2
            if have:
                k1 = ws[q + ns]
                k2 = ws[q + ns + 1] if q + ns + 1 < m else k1
            dot_next = _update2_grad2(X, j1, j2, k1, k2, R2, d1, d2, g1, g2, n, T)
            if have:
                dot = dot_next
        else:
            have = False
        q += ns
    return viol


def _epoch_shared_dense_one(lay, ws, W, c, L, pen, g, delta):
    """One pass over ``ws``, shared design (residual ``lay.R`` (n_tasks, n_samples)), one feature at a time."""
    X = lay.X
    R2 = lay.R
    u = lay.u
    const_u = lay.const_u
    v = lay.v
    mu = lay.mu
    xu = lay.xu
    T, n = R2.shape
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


def _epoch_shared_sparse(lay, ws, W, c, L, pen, g, delta):
    """One pass over ``ws``, shared design, CSC ``X``: residual ``lay.R`` is (n_samples, n_tasks)."""
    indptr = lay.indptr
    indices = lay.indices
    data = lay.data
    R = lay.R
    u = lay.u
    const_u = lay.const_u
    v = lay.v
    mu = lay.mu
    xu = lay.xu
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


def _epoch_obs_dense(lay, ws, W, c, L, pen, g, delta):
    """One pass over ``ws``, per-task rows of a dense ``X`` (observations task after task)."""
    X = lay.X
    R1 = lay.R
    rows = lay.rows
    task_ptr = lay.task_ptr
    omega = lay.omega
    MU = lay.MU
    XU = lay.XU
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


def _epoch_obs_sparse(lay, ws, W, c, L, pen, g, delta):
    """One pass over ``ws``, CSC ``X``; observations stored row after row."""
    indptr = lay.indptr
    indices = lay.indices
    data = lay.data
    R1 = lay.R
    row_ptr = lay.row_ptr
    otask = lay.otask
    omega = lay.omega
    MU = lay.MU
    XU = lay.XU
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


def _epoch_gram(lay, ws, W, c, L, pen, g, delta):
    """One pass over ``ws`` with covariance (Gram) updates, shared dense design.

    With ``Q = X_c^T diag(u) X_c`` and ``B = X_c^T diag(u) Y_c`` the solver keeps
    ``H = B - Q W`` (stored ``lay.R``, (n_tasks, n_features)); minus the gradient of
    feature ``j`` is ``v_t H[j, t]`` and an update ``W_j += delta`` costs
    ``H -= Q[:, j] delta^T``: O(p T) instead of O(n T) (glmnet's covariance
    updates). ``lay.Q[:, lay.qcol[j]]`` is column ``j`` of ``Q``. The offsets
    ``c`` are not tracked (the solver sets them afterwards).
    """
    Qc = lay.Q
    qcol = lay.qcol
    Ht = lay.R
    v = lay.v
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
            qj = qcol[j]
            for t in range(T):
                d = delta[t]
                if d != 0.0:
                    for i in range(p):
                        Ht[t, i] -= Qc[i, qj] * d
                W[j, t] += d
            dn *= Lj
            if dn > viol:
                viol = dn
    return viol


# The datafits: the smooth part of the objective at the current state, one per layout.

def _datafit_shared_dense(lay, W, c):
    """``1/2 sum_{t, i} u_i v_t (R_ti + c_t)^2``, residual (n_tasks, n_samples)."""
    R2 = lay.R
    u = lay.u
    v = lay.v
    val = 0.0
    T, n = R2.shape
    for t in range(T):
        acc = 0.0
        for i in range(n):
            r = R2[t, i] + c[t]
            acc += u[i] * r * r
        val += v[t] * acc
    return 0.5 * val


def _datafit_shared_sparse(lay, W, c):
    """``1/2 sum_{i, t} u_i v_t (R_it + c_t)^2``, residual (n_samples, n_tasks)."""
    R = lay.R
    u = lay.u
    v = lay.v
    val = 0.0
    n, T = R.shape
    for i in range(n):
        acc = 0.0
        for t in range(T):
            r = R[i, t] + c[t]
            acc += v[t] * r * r
        val += u[i] * acc
    return 0.5 * val


def _datafit_obs_sparse(lay, W, c):
    """``1/2 sum_k omega_k (R_k + c_t(k))^2``, one residual per observation."""
    R1 = lay.R
    otask = lay.otask
    omega = lay.omega
    val = 0.0
    for k in range(R1.shape[0]):
        r = R1[k] + c[otask[k]]
        val += omega[k] * r * r
    return 0.5 * val


def _datafit_obs_dense(lay, W, c):
    """:func:`_datafit_obs_sparse` with the observations stored task after task."""
    R1 = lay.R
    task_ptr = lay.task_ptr
    omega = lay.omega
    val = 0.0
    T = task_ptr.shape[0] - 1
    for t in range(T):
        for k in range(task_ptr[t], task_ptr[t + 1]):
            r = R1[k] + c[t]
            val += omega[k] * r * r
    return 0.5 * val


def _datafit_gram(lay, W, c):
    """Gram layout: ``1/2 sum_t v_t (E_t - w_t . (B_t + H_t))`` with ``H = B - Q W`` (see :func:`_epoch_gram`)."""
    Ht = lay.R
    v = lay.v
    Bt = lay.Bt
    E = lay.E
    val = 0.0
    T, p = Ht.shape
    for t in range(T):
        acc = E[t]
        for j in range(p):
            acc -= W[j, t] * (Bt[t, j] + Ht[t, j])
        val += v[t] * acc
    return 0.5 * val


# --------------------------------------------------------------------------
# the data layouts: argument bundles, and the kernels chosen by their type
# --------------------------------------------------------------------------


class SharedDense(NamedTuple):
    """Complete wide input, dense ``X``: observation weights ``u_i v_t`` (the one-feature epoch)."""
    X: np.ndarray  # (n_samples, n_features), Fortran order
    R: np.ndarray  # (n_tasks, n_samples): uncentered residual
    u: np.ndarray
    const_u: bool  # all u_i equal
    v: np.ndarray
    mu: np.ndarray  # weighted column means
    xu: np.ndarray  # U mu


class SharedDensePairs(NamedTuple):
    """:class:`SharedDense` run by the pair epoch (equal row weights, at least four tasks), with its scratch."""
    X: np.ndarray
    R: np.ndarray
    u: np.ndarray
    const_u: bool
    v: np.ndarray
    mu: np.ndarray
    xu: np.ndarray
    work: np.ndarray  # (4, n_tasks) scratch of the pair epoch


class SharedSparse(NamedTuple):
    """Complete wide input, CSC ``X``."""
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    R: np.ndarray  # (n_samples, n_tasks)
    u: np.ndarray
    const_u: bool
    v: np.ndarray
    mu: np.ndarray
    xu: np.ndarray


class ObsDense(NamedTuple):
    """One residual per observation (NaN targets, long input), dense ``X``, observations task after task."""
    X: np.ndarray
    R: np.ndarray  # (n_obs,)
    rows: np.ndarray  # row of X of each observation
    task_ptr: np.ndarray  # observations of task t: task_ptr[t]:task_ptr[t + 1]
    omega: np.ndarray
    MU: np.ndarray  # (n_features, n_tasks) per-task weighted means
    XU: np.ndarray


class ObsSparse(NamedTuple):
    """One residual per observation, CSC ``X``, observations row after row."""
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    R: np.ndarray
    row_ptr: np.ndarray  # observations of row i: row_ptr[i]:row_ptr[i + 1]
    otask: np.ndarray
    omega: np.ndarray
    MU: np.ndarray
    XU: np.ndarray


class Gram(NamedTuple):
    """Covariance updates (tall shared dense design, :func:`_epoch_gram`)."""
    Q: np.ndarray  # computed Gram columns
    qcol: np.ndarray  # column of Q of each feature (-1: not computed)
    R: np.ndarray  # H^T = (B - Q W)^T, (n_tasks, n_features)
    v: np.ndarray
    Bt: np.ndarray
    E: np.ndarray


_EPOCHS = {SharedDense: _epoch_shared_dense_one, SharedDensePairs: _epoch_shared_dense_pairs,
           SharedSparse: _epoch_shared_sparse, ObsDense: _epoch_obs_dense, ObsSparse: _epoch_obs_sparse,
           Gram: _epoch_gram}
_DATAFITS = {SharedDense: _datafit_shared_dense, SharedDensePairs: _datafit_shared_dense,
             SharedSparse: _datafit_shared_sparse, ObsDense: _datafit_obs_dense, ObsSparse: _datafit_obs_sparse,
             Gram: _datafit_gram}


def layout_epoch(lay, ws, W, c, L, pen, g, delta):
    """One pass of block coordinate descent over ``ws`` on the layout ``lay``; returns ``max_j L_j ||delta_j||``.

    ``g``, ``delta`` (n_tasks,) are scratch. In kernels only: the epoch of the
    layout's type (``_EPOCHS``).
    """
    raise NotImplementedError


def layout_datafit(lay, W, c):
    """The datafit at the current state of the layout ``lay``. In kernels only (``_DATAFITS``)."""
    raise NotImplementedError


def _layout_class(lay):
    return lay.instance_class if isinstance(lay, types.BaseNamedTuple) else None


@overload(layout_epoch, jit_options={**_FAST, **_INTERNAL})
def _ol_layout_epoch(lay, ws, W, c, L, pen, g, delta):
    return _EPOCHS.get(_layout_class(lay))


@overload(layout_datafit, jit_options={**_FAST, **_INTERNAL})
def _ol_layout_datafit(lay, W, c):
    return _DATAFITS.get(_layout_class(lay))


@njit(**_FAST_FINITE)
def _solve_ws(lay, ws, W, c, L, pen, max_epochs, tol_in, K, hist, n_hist, sub, Rf, g, delta, aw):
    """Block coordinate descent on the features ``ws`` of the data layout ``lay``.

    Returns ``(epochs, violation, n_hist)``. The violation is
    ``max_j L_j ||W_j^new - W_j^old||`` over the last epoch, the fixed-point
    distance of the block proximal gradient map. ``hist`` (K + 1,
    len(ws) * n_tasks + len(Rf) + n_tasks) and ``n_hist`` (the iterates stored)
    carry the Anderson history over calls on the same working set: each row
    holds ``W[ws]`` (row after row), then the residual and the offsets of that
    iterate (both affine in ``W``: extrapolated like it, at no pass over ``X``).
    ``Rf`` is the residual state ``lay.R``, flat (a view); ``g``, ``delta``
    (n_tasks,) and ``aw`` (K * K + K) are scratch. ``hist=None``: no
    extrapolation, and every statement of it is pruned at compile time (see
    :func:`solve_ws`).

    Anderson extrapolation (Bertrand & Massias 2021): the weights ``z / sum(z)``
    of ``sum_k z_k hist[k + 1]``, where ``(C + 1e-10 ||C||_F I) z = 1`` with
    ``C`` the Gram matrix of the successive differences of the stored iterates
    (symmetric positive semi-definite: Gaussian elimination without pivoting,
    ``np.linalg.solve`` costs seconds of compilation for no gain at this size;
    a pivot not above zero, from rounding, or a non-finite sum skips the
    step). It is judged after the epoch that follows it: the extrapolated
    point itself is often worse (coefficients about to leave the support are
    not yet zero), the epoch's thresholding repairs that. The epoch result is
    kept if its objective is below that of the last plain iterate, else that
    iterate is restored.

    A non-empty ``sub`` (the support within ``ws``) adds a pass over it before
    each pass over ``ws``: zero rows rarely move, and the pair is one map for
    the extrapolation.

    Compile time: each loop nest costs some hundredths of a second to compile,
    so the loops are few (the restore is a mix of weights ``e_K``); the
    extrapolation is about half the compile time of this function. Its copies
    and mixes stay three plain loops each (coefficients, residual, offsets):
    one loop over a history row that branches on the part it reads or writes
    compiles 0.15 s faster but does not vectorize, and the copy runs at every
    epoch.
    """
    T = W.shape[1]
    mw = ws.shape[0] * T  # a history row: W[ws] (row after row), the residual, the offsets
    mr = mw + Rf.shape[0]
    KK = K * K  # aw[:KK]: the K x K system (row-major); aw[KK:]: the weights z
    viol = np.inf
    epoch = 0
    for epoch in range(1, max_epochs + 1):
        pending = False
        p_old = 0.0
        scale = 1.0  # of the mix below: 1 / sum(z)
        if hist is not None and n_hist == K + 1:
            n_hist = 0
            # C (into aw[:KK]): the Gram matrix of the differences hist[k + 1] - hist[k], k < K
            sq = 0.0
            for k in range(K):
                aw[KK + k] = 1.0
                for l in range(k, K):
                    acc = 0.0
                    for i in range(mw):
                        acc += (hist[k + 1, i] - hist[k, i]) * (hist[l + 1, i] - hist[l, i])
                    aw[k * K + l] = acc
                    aw[l * K + k] = acc
                    sq += acc * acc if l == k else 2.0 * acc * acc
            # elimination; the ridge is added to each pivot when it is reached (the same system:
            # a diagonal entry enters the updates of the other rows only as a pivot)
            ridge = 1e-10 * np.sqrt(sq)
            ok = sq > 0.0
            for k in range(K):
                piv = aw[k * K + k] + ridge
                aw[k * K + k] = piv
                ok = ok and piv > 0.0
                if ok:
                    for i in range(k + 1, K):
                        f = aw[i * K + k] / piv
                        for l in range(k + 1, K):
                            aw[i * K + l] -= f * aw[k * K + l]
                        aw[KK + i] -= f * aw[KK + k]
            zsum = 0.0
            for k in range(K - 1, -1, -1):  # back substitution
                acc = aw[KK + k]
                for l in range(k + 1, K):
                    acc -= aw[k * K + l] * aw[KK + l]
                acc /= aw[k * K + k]
                aw[KK + k] = acc
                zsum += acc
            if ok and np.isfinite(zsum) and zsum != 0.0:
                pending = True
                scale = 1.0 / zsum
                p_old = layout_datafit(lay, W, c) + _penalty(W, ws, pen)
        # stage 0: the extrapolation (if any), the epoch and its acceptance test; stage 1: the
        # return to the last plain iterate hist[K] if rejected, as the mix of weights e_K
        mix = pending
        for stage in range(2):
            if hist is not None and mix:  # (W, R, c) = scale sum_k z_k (W, R, c)_{k + 1}, z = aw[KK:]
                for jj in range(ws.shape[0]):
                    j = ws[jj]
                    for t in range(T):
                        acc = 0.0
                        for k in range(K):
                            acc += aw[KK + k] * hist[k + 1, jj * T + t]
                        W[j, t] = scale * acc
                for i in range(mw, mr):  # loops, not slice assignments: their shape checks cost compile time
                    acc = 0.0
                    for k in range(K):
                        acc += aw[KK + k] * hist[k + 1, i]
                    Rf[i - mw] = scale * acc
                for t in range(T):
                    acc = 0.0
                    for k in range(K):
                        acc += aw[KK + k] * hist[k + 1, mr + t]
                    c[t] = scale * acc
            if stage == 1:
                break
            n_pass = 2 if sub.shape[0] > 0 else 1
            for ps in range(n_pass):  # the support pass first, when there is one
                viol = layout_epoch(lay, sub if ps + 1 < n_pass else ws, W, c, L, pen, g, delta)
            mix = False
            if pending:
                p_new = layout_datafit(lay, W, c) + _penalty(W, ws, pen)
                if not p_new < p_old:  # reject: back to the last plain iterate
                    for k in range(K):
                        aw[KK + k] = 0.0
                    aw[KK + K - 1] = 1.0
                    scale = 1.0
                    mix = True
                    viol = np.inf  # the fixed-point distance of the discarded epoch says nothing
        if viol <= tol_in:
            break
        if hist is not None:  # every epoch: plain copies (they vectorize), not one loop with branches
            for jj in range(ws.shape[0]):
                for t in range(T):
                    hist[n_hist, jj * T + t] = W[ws[jj], t]
            for i in range(mw, mr):
                hist[n_hist, i] = Rf[i - mw]
            for t in range(T):
                hist[n_hist, mr + t] = c[t]
            n_hist += 1
    return epoch, viol, n_hist


# The pair epoch from this many samples: below it the residual rows are short
# (a few cache lines) and the epochs take the same time within about 10 %
# (measured for 4 to 12 tasks), so small problems (``skmtl demo``, its CV folds)
# use the one-feature epoch and skip a second, larger compilation.
_PAIRS_MIN_SAMPLES = 48


def solve_ws(lay, ws, W, c, L, pen, max_epochs, tol_in, K, hist, state, sub):
    """:func:`_solve_ws` on the layout ``lay`` (its type picks the epoch and datafit), scratch allocated here.

    ``hist``: the Anderson history (:func:`history`), or None for plain block
    coordinate descent, a separate specialization without the extrapolation's
    code (about half the compilation time of the other). ``state[0]`` carries
    the number of stored iterates. The shared dense layout with equal row
    weights, at least four tasks and ``_PAIRS_MIN_SAMPLES`` samples runs
    :func:`_epoch_shared_dense_pairs`, else :func:`_epoch_shared_dense_one`.
    """
    T = W.shape[1]
    if type(lay) is SharedDense and lay.const_u and T >= 4 and lay.R.shape[1] >= _PAIRS_MIN_SAMPLES:
        lay = SharedDensePairs(*lay, np.empty((4, T)))
    epochs, viol, state[0] = _solve_ws(lay, ws, W, c, L, pen, max_epochs, tol_in, K, hist, int(state[0]), sub,
                                       lay.R.reshape(-1), np.empty(T), np.empty(T), np.empty(K * K + K))
    return epochs, viol


def history(K, n_ws, n_residual, n_tasks):
    """An empty Anderson history of :func:`solve_ws`: ``K + 1`` iterates of ``n_ws`` coefficient rows, the
    residual (``n_residual`` values) and the offsets."""
    return np.empty((K + 1, n_ws * n_tasks + n_residual + n_tasks))


@njit(**_JIT)
def _run_epoch(lay, ws, W, c, L, pen, g, delta):
    return layout_epoch(lay, ws, W, c, L, pen, g, delta)


def _epoch_shared_dense(ws, W, c, L, pen, X, R2, u, const_u, v, mu, xu, g, delta):
    """One epoch of the shared dense layout from Python (tests): the pair epoch with equal row
    weights and at least four tasks (any number of samples), else the one-feature epoch."""
    lay = SharedDense(X, R2, u, const_u, v, mu, xu)
    if const_u and R2.shape[0] >= 4:
        lay = SharedDensePairs(*lay, np.empty((4, W.shape[1])))
    return _run_epoch(lay, ws, W, c, L, pen, g, delta)
