r"""Sparse group lasso: ``rho_j(w) = a_j ||w||_2 + b_j ||w||_1`` (Simon et al. 2013; SPAMS, adelie).

With the L1 share ``s``: ``a_j = (1 - s) lam_j``, ``b_j = s lam_j``. Rows
shared by the tasks, and task-specific zeros inside a row. ``d rho_j(0)`` is
``{u + e: ||u||_2 <= a_j, ||e||_inf <= b_j}``, and ``g`` lies in it iff
``||S_b(g)||_2 <= a`` (``S_b`` soft-thresholding of the entries); the prox
soft-thresholds the entries at ``step b_j``, then the row at ``step a_j``.
"""

from typing import NamedTuple

import numpy as np
from numba.extending import overload

from ._base import (
    OVERLOAD_OPTIONS,
    RowPenalty,
    is_rows,
    row_distance,
    row_dual_scale,
    row_margin,
    row_norms,
    row_penalized,
    row_prox,
    row_value,
)


class SparseGroupRows(NamedTuple):
    lam: np.ndarray  # a_j, the row-norm strengths
    ridge: np.ndarray
    l1: np.ndarray  # b_j, the entrywise strengths


class SparseGroup(RowPenalty):
    """Sparse group lasso row penalty with L1 share ``l1_share`` in [0, 1] (default 0.5)."""

    name = "sparse_group"
    is_convex = True
    rows_type = SparseGroupRows

    def __init__(self, l1_share=0.5):
        if not 0.0 <= float(l1_share) <= 1.0:
            raise ValueError(f"l1_share must lie in [0, 1]; got {l1_share!r}.")
        self.l1_share = float(l1_share)

    @classmethod
    def from_options(cls, l1_share=0.5, **options):
        return cls(l1_share)

    def rows(self, lam, ridge):
        return SparseGroupRows((1.0 - self.l1_share) * lam, ridge, self.l1_share * lam)

    def zero_alphas(self, G, weights):
        """Per row, the ``alpha`` solving ``||S_{alpha b_j}(G_j)||_2 = alpha a_j``.

        The left side decreases and the right side increases with ``alpha``:
        vectorized bisection between 0 and the ``alpha`` at which either part
        alone zeroes the row.
        """
        if not len(weights):
            return np.zeros(0)
        a = (1.0 - self.l1_share) * weights
        b = self.l1_share * weights
        gn = row_norms(G)
        ginf = np.abs(G).max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            hi = np.minimum(np.where(a > 0, gn / a, np.inf), np.where(b > 0, ginf / b, np.inf))
        lo = np.zeros_like(hi)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            S = np.maximum(np.abs(G) - (mid * b)[:, None], 0.0)
            inside = np.sqrt((S ** 2).sum(axis=1)) <= mid * a
            hi = np.where(inside, mid, hi)
            lo = np.where(inside, lo, mid)
        return hi


@overload(row_value, jit_options=OVERLOAD_OPTIONS)
def _value(pen, j, w, wn):
    if is_rows(pen, SparseGroupRows):
        def impl(pen, j, w, wn):
            return pen.lam[j] * wn + pen.l1[j] * np.sum(np.abs(w))
        return impl


@overload(row_prox, jit_options=OVERLOAD_OPTIONS)
def _prox(pen, j, z, zn, step):
    if is_rows(pen, SparseGroupRows):
        def impl(pen, j, z, zn, step):
            bl = step * pen.l1[j]
            acc = 0.0
            for t in range(z.shape[0]):  # soft-threshold the entries, in place
                x = z[t]
                x = x - bl if x > bl else (x + bl if x < -bl else 0.0)
                z[t] = x
                acc += x * x
            nz = np.sqrt(acc)
            thr = step * pen.lam[j]  # then the row
            return (1.0 - thr / nz) if nz > thr else 0.0
        return impl


@overload(row_margin, jit_options=OVERLOAD_OPTIONS)
def _margin(pen, j, g, gn):
    if is_rows(pen, SparseGroupRows):
        def impl(pen, j, g, gn):
            b = pen.l1[j]
            if b == 0.0:
                return gn - pen.lam[j]
            acc = 0.0
            for t in range(g.shape[0]):
                x = abs(g[t]) - b
                if x > 0.0:
                    acc += x * x
            return np.sqrt(acc) - pen.lam[j]
        return impl


@overload(row_distance, jit_options=OVERLOAD_OPTIONS)
def _distance(pen, j, v, w, wn):
    if is_rows(pen, SparseGroupRows):
        def impl(pen, j, v, w, wn):
            # d rho(w) = a w / ||w|| + b sign(w), with [-b, b] at the zero entries
            f = pen.lam[j] / wn
            b = pen.l1[j]
            acc = 0.0
            for t in range(v.shape[0]):
                if w[t] == 0.0:
                    d = max(abs(v[t]) - b, 0.0)
                else:
                    d = v[t] - f * w[t] - (b if w[t] > 0.0 else -b)
                acc += d * d
            return np.sqrt(acc)
        return impl


@overload(row_dual_scale, jit_options=OVERLOAD_OPTIONS)
def _dual_scale(pen, j, v, vn):
    if is_rows(pen, SparseGroupRows):
        def impl(pen, j, v, vn):
            # largest s <= 1 with ||S_b(s v)||_2 <= a: bisection (the norm grows with s)
            a = pen.lam[j]
            b = pen.l1[j]
            lo = 0.0
            hi = 1.0
            for it in range(61):
                s = 1.0 if it == 0 else 0.5 * (lo + hi)
                acc = 0.0
                for t in range(v.shape[0]):
                    x = s * abs(v[t]) - b
                    if x > 0.0:
                        acc += x * x
                if np.sqrt(acc) <= a:
                    if it == 0:
                        return 1.0
                    lo = s
                else:
                    hi = s
            return lo
        return impl


@overload(row_penalized, jit_options=OVERLOAD_OPTIONS)
def _penalized(pen, j):
    if is_rows(pen, SparseGroupRows):
        def impl(pen, j):
            return pen.lam[j] > 0.0 or pen.l1[j] > 0.0
        return impl
