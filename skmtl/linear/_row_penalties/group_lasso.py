r"""Group lasso: ``rho_j(w) = lam_j ||w||_2`` (the L2,1 norm of ``W`` for ``lam_j = alpha``).

``d rho_j(0)`` is the ball of radius ``lam_j``; the prox is block
soft-thresholding ``(1 - step lam_j / ||z||)_+ z``.
"""

from typing import NamedTuple

import numpy as np
from numba.extending import overload

from ._base import (RowPenalty, ball_dual_scale, is_rows, radial_distance, row_distance, row_dual_scale,
                    row_margin, row_norms, row_penalized, row_prox, row_value)


class GroupLassoRows(NamedTuple):
    lam: np.ndarray
    ridge: np.ndarray


class GroupLasso(RowPenalty):
    """The group lasso row penalty ``lam_j ||W_j||_2``."""

    name = "group_lasso"
    is_convex = True

    def rows(self, lam, ridge):
        return GroupLassoRows(lam, ridge)

    def alpha_max(self, G, weights):
        # W = 0 is optimal iff ||G_j|| <= alpha w_j for every row
        return float((row_norms(G) / weights).max()) if len(weights) else 0.0


@overload(row_value, jit_options={"cache": True}, inline="always")
def _value(pen, j, w, wn):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j, w, wn):
            return pen.lam[j] * wn
        return impl


@overload(row_prox, jit_options={"cache": True}, inline="always")
def _prox(pen, j, z, zn, step):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j, z, zn, step):
            thr = step * pen.lam[j]
            return (1.0 - thr / zn) if zn > thr else 0.0
        return impl


@overload(row_margin, jit_options={"cache": True}, inline="always")
def _margin(pen, j, g, gn):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j, g, gn):
            return gn - pen.lam[j]
        return impl


@overload(row_distance, jit_options={"cache": True}, inline="always")
def _distance(pen, j, v, w, wn):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j, v, w, wn):
            return radial_distance(v, w, pen.lam[j] / wn)
        return impl


@overload(row_dual_scale, jit_options={"cache": True}, inline="always")
def _dual_scale(pen, j, v, vn):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j, v, vn):
            return ball_dual_scale(pen.lam[j], vn)
        return impl


@overload(row_penalized, jit_options={"cache": True}, inline="always")
def _penalized(pen, j):
    if is_rows(pen, GroupLassoRows):
        def impl(pen, j):
            return pen.lam[j] > 0.0
        return impl
