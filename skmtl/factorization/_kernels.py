"""Loops over observed entries shared by the factorization solvers (numba, cached).

Every solver here keeps a matrix as its observed entries ``(rows, cols, values)``
and a low-rank part as factors; these kernels evaluate and accumulate the
low-rank part on the observed entries only, so no dense ``n x m`` array is formed.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def dot_rows(A, B, rows, cols):
    """``out[k] = A[rows[k]] . B[cols[k]]``: entries of ``A B^T`` at the observations."""
    n_obs = rows.shape[0]
    r = A.shape[1]
    out = np.empty(n_obs)
    for k in range(n_obs):
        i = rows[k]
        j = cols[k]
        s = 0.0
        for q in range(r):
            s += A[i, q] * B[j, q]
        out[k] = s
    return out


@njit(cache=True)
def scatter_rows(coef, B, rows, cols, n_rows):
    """``out[i] = sum_{k: rows[k] = i} coef[k] B[cols[k]]``, i.e. ``M B`` for sparse ``M``."""
    r = B.shape[1]
    out = np.zeros((n_rows, r))
    for k in range(rows.shape[0]):
        i = rows[k]
        j = cols[k]
        c = coef[k]
        for q in range(r):
            out[i, q] += c * B[j, q]
    return out


@njit(cache=True)
def _chol_solve_inplace(G, b):
    """Solve ``G x = b`` for symmetric positive definite ``G`` (lower triangle used); ``b`` <- x."""
    r = G.shape[0]
    for p in range(r):
        s = G[p, p]
        for q in range(p):
            s -= G[p, q] * G[p, q]
        s = np.sqrt(max(s, 1e-300))
        G[p, p] = s
        for t in range(p + 1, r):
            v = G[t, p]
            for q in range(p):
                v -= G[t, q] * G[p, q]
            G[t, p] = v / s
    for p in range(r):
        v = b[p]
        for q in range(p):
            v -= G[p, q] * b[q]
        b[p] = v / G[p, p]
    for p in range(r - 1, -1, -1):
        v = b[p]
        for q in range(p + 1, r):
            v -= G[q, p] * b[q]
        b[p] = v / G[p, p]


@njit(cache=True)
def grouped_ridge(indptr, order, fidx, F, y, w, reg):
    """One weighted ridge solve per group of observations.

    Group ``g`` holds observations ``order[indptr[g]:indptr[g + 1]]``; the
    feature vector of observation ``k`` is ``F[fidx[k]]``. Returns ``X`` with
    ``X[g] = argmin_x sum_k w_k (y_k - F[fidx[k]] x)^2 + sum_p reg_p x_p^2``
    (``reg`` may hold zeros for unpenalized coordinates; a tiny jitter keeps
    an empty group's system definite).
    """
    n_groups = indptr.shape[0] - 1
    r = F.shape[1]
    out = np.zeros((n_groups, r))
    G = np.zeros((r, r))
    b = np.zeros(r)
    for g in range(n_groups):
        G[:, :] = 0.0
        b[:] = 0.0
        for kk in range(indptr[g], indptr[g + 1]):
            k = order[kk]
            j = fidx[k]
            wk = w[k]
            for p in range(r):
                fp = wk * F[j, p]
                b[p] += fp * y[k]
                for q in range(p + 1):
                    G[p, q] += fp * F[j, q]
        tr = 0.0
        for p in range(r):
            tr += G[p, p]
        for p in range(r):
            G[p, p] += reg[p] + 1e-12 * (tr / r + 1e-300)
        _chol_solve_inplace(G, b)
        for p in range(r):
            out[g, p] = b[p]
    return out


@njit(cache=True)
def fold_in_rows(indptr, indices, data, B, lam):
    """Ridge fold-in of each CSR row: ``a_i = (B_O^T B_O + lam I)^{-1} B_O^T x_O``.

    ``lam > 0``; each ``r x r`` system is solved by an in-place Cholesky
    factorization (no allocation per row).
    """
    n = indptr.shape[0] - 1
    r = B.shape[1]
    out = np.zeros((n, r))
    G = np.zeros((r, r))
    b = np.zeros(r)
    for i in range(n):
        G[:, :] = 0.0
        b[:] = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            x = data[k]
            for p in range(r):
                bp = B[j, p]
                b[p] += bp * x
                for q in range(p + 1):
                    G[p, q] += bp * B[j, q]
        for p in range(r):
            G[p, p] += lam
        _chol_solve_inplace(G, b)
        for p in range(r):
            out[i, p] = b[p]
    return out
