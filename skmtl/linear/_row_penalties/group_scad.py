r"""Group SCAD (smoothly clipped absolute deviation on the row norm, Fan & Li 2001; grpreg, skglm's ``BlockSCAD``).

With ``x = ||w||_2``, strength ``a = lam_j`` and ``gamma > 2``::

    rho(x) = a x                                         for x <= a,
             (2 gamma a x - x^2 - a^2) / (2 (gamma - 1))  for a < x <= gamma a,
             a^2 (gamma + 1) / 2                          beyond.

Not convex; ``d rho(0)`` is the ball of radius ``a``.
"""

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.extending import overload

from ._base import OVERLOAD_OPTIONS, RowPenalty, is_rows, radial_distance, row_distance, row_prox, row_value


class GroupSCADRows(NamedTuple):
    lam: np.ndarray
    ridge: np.ndarray
    gamma: float


class GroupSCAD(RowPenalty):
    """Group SCAD on the row norms, ``gamma`` (default 3.7, > 2)."""

    name = "group_scad"
    is_convex = False
    rows_type = GroupSCADRows
    ball_at_zero = True
    gamma_min = 2.0  # gamma must exceed this

    def __init__(self, gamma=3.7):
        gamma = 3.7 if gamma is None else float(gamma)
        if not gamma > self.gamma_min:
            raise ValueError(f"gamma must be greater than 2 for group SCAD; got {gamma}.")
        self.gamma = gamma

    @classmethod
    def from_options(cls, gamma=None, **options):
        return cls(gamma)

    def rows(self, lam, ridge):
        return GroupSCADRows(lam, ridge, self.gamma)

    @staticmethod
    def radial_value(rows, idx, x):
        a, gamma = rows.lam[idx], rows.gamma
        quad = (2.0 * gamma * a * x - x * x - a * a) / (2.0 * (gamma - 1.0))
        return np.where(x <= a, a * x, np.where(x <= gamma * a, quad, 0.5 * a * a * (gamma + 1.0)))

    @staticmethod
    def radial_slope(rows, idx, x):
        a, gamma = rows.lam[idx], rows.gamma
        return np.where(x <= a, a, np.where(x <= gamma * a, (gamma * a - x) / (gamma - 1.0), 0.0))


@njit(cache=True, nogil=True)
def scad_value(x, a, gamma):
    """``rho(x)`` of the module docstring."""
    if x <= a:
        return a * x
    if x <= gamma * a:
        return (2.0 * gamma * a * x - x * x - a * a) / (2.0 * (gamma - 1.0))
    return 0.5 * a * a * (gamma + 1.0)


@njit(cache=True, nogil=True)
def scad_slope(x, a, gamma):
    """``rho'(x)`` for ``x > 0``."""
    if x <= a:
        return a
    if x <= gamma * a:
        return (gamma * a - x) / (gamma - 1.0)
    return 0.0


@njit(cache=True, nogil=True)
def scad_prox_norm(x, tau, a, gamma):
    """``argmin_{y >= 0} (y - x)^2 / (2 tau) + rho(y)``: the stationary point of each piece and ``0`` compared.

    Exact also where the one-dimensional problem is not convex (``tau >= gamma - 1``).
    """
    best = 0.0
    best_val = x * x / (2.0 * tau)
    for k in range(4):
        if k == 0:  # linear piece
            y = min(max(x - tau * a, 0.0), a)
        elif k == 1:  # quadratic piece: (y - x) / tau + (gamma a - y) / (gamma - 1) = 0
            if tau < gamma - 1.0:
                y = ((gamma - 1.0) * x - tau * gamma * a) / (gamma - 1.0 - tau)
                y = min(max(y, a), gamma * a)
            else:
                y = gamma * a
        elif k == 2:  # the flat part
            y = max(x, gamma * a)
        else:
            y = gamma * a
        val = (y - x) * (y - x) / (2.0 * tau) + scad_value(y, a, gamma)
        if val < best_val:
            best_val = val
            best = y
    return best


@overload(row_value, jit_options=OVERLOAD_OPTIONS)
def _value(pen, j, w, wn):
    if is_rows(pen, GroupSCADRows):
        def impl(pen, j, w, wn):
            return scad_value(wn, pen.lam[j], pen.gamma)
        return impl


@overload(row_prox, jit_options=OVERLOAD_OPTIONS)
def _prox(pen, j, z, zn, step):
    if is_rows(pen, GroupSCADRows):
        def impl(pen, j, z, zn, step):
            if zn == 0.0:
                return 0.0
            return scad_prox_norm(zn, step, pen.lam[j], pen.gamma) / zn
        return impl


@overload(row_distance, jit_options=OVERLOAD_OPTIONS)
def _distance(pen, j, v, w, wn):
    if is_rows(pen, GroupSCADRows):
        def impl(pen, j, v, w, wn):
            return radial_distance(v, w, scad_slope(wn, pen.lam[j], pen.gamma) / wn)
        return impl
