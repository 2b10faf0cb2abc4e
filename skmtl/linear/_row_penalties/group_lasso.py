r"""Group lasso: ``rho_j(w) = lam_j ||w||_2`` (the L2,1 norm of ``W`` for ``lam_j = alpha``).

``d rho_j(0)`` is the ball of radius ``lam_j``; the prox is block
soft-thresholding ``(1 - step lam_j / ||z||)_+ z``.
"""

from typing import NamedTuple

import numpy as np
from numba.extending import overload

from ._base import OVERLOAD_OPTIONS, RowPenalty, is_rows, radial_distance, row_distance, row_prox, row_value


class GroupLassoRows(NamedTuple):
    lam: np.ndarray
    ridge: np.ndarray


class GroupLasso(RowPenalty):
    """The group lasso row penalty ``lam_j ||W_j||_2``."""

    name = "group_lasso"
    is_convex = True
    rows_type = GroupLassoRows
    ball_at_zero = True

    def rows(self, lam, ridge):
        return GroupLassoRows(lam, ridge)

    @staticmethod
    def radial_value(rows, idx, x):
        return rows.lam[idx] * x

    @staticmethod
    def radial_slope(rows, idx, x):
        return rows.lam[idx]


@overload(row_value, jit_options=OVERLOAD_OPTIONS)
def _value(pen, j, w, wn):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j, w, wn):
            return pen.lam[j] * wn
        return impl


@overload(row_prox, jit_options=OVERLOAD_OPTIONS)
def _prox(pen, j, z, zn, step):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j, z, zn, step):
            thr = step * pen.lam[j]
            return (1.0 - thr / zn) if zn > thr else 0.0
        return impl


@overload(row_distance, jit_options=OVERLOAD_OPTIONS)
def _distance(pen, j, v, w, wn):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j, v, w, wn):
            return radial_distance(v, w, pen.lam[j] / wn)
        return impl
