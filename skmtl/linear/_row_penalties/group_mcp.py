r"""Group MCP (minimax concave penalty on the row norm, Zhang 2010; grpreg, skglm's ``BlockMCPenalty``).

With ``x = ||w||_2``, strength ``a = lam_j`` and concavity ``gamma > 1``::

    rho(x) = a x - x^2 / (2 gamma)    for x <= gamma a,
             gamma a^2 / 2            beyond,

slope ``rho'(x) = (a - x / gamma)_+``. Not convex; ``d rho(0)`` is the ball of
radius ``a``.
"""

from typing import NamedTuple

import numpy as np
from numba import njit
from numba.extending import overload

from ._base import OVERLOAD_OPTIONS, RowPenalty, is_rows, radial_distance, row_distance, row_prox, row_value


class GroupMCPRows(NamedTuple):
    lam: np.ndarray
    ridge: np.ndarray
    gamma: float


class GroupMCP(RowPenalty):
    """Group MCP on the row norms, concavity ``gamma`` (default 3, > 1)."""

    name = "group_mcp"
    is_convex = False
    rows_type = GroupMCPRows
    ball_at_zero = True
    gamma_min = 1.0  # gamma must exceed this

    def __init__(self, gamma=3.0):
        gamma = 3.0 if gamma is None else float(gamma)
        if not gamma > self.gamma_min:
            raise ValueError(f"gamma must be greater than 1 for group MCP; got {gamma}.")
        self.gamma = gamma

    @classmethod
    def from_options(cls, gamma=None, **options):
        return cls(gamma)

    def rows(self, lam, ridge):
        return GroupMCPRows(lam, ridge, self.gamma)

    @staticmethod
    def radial_value(rows, idx, x):
        a, gamma = rows.lam[idx], rows.gamma
        return np.where(x <= gamma * a, a * x - x * x / (2.0 * gamma), 0.5 * gamma * a * a)

    @staticmethod
    def radial_slope(rows, idx, x):
        return np.maximum(rows.lam[idx] - x / rows.gamma, 0.0)


@njit(cache=True, nogil=True)
def mcp_value(x, a, gamma):
    """``rho(x)`` of the module docstring."""
    if x <= gamma * a:
        return a * x - x * x / (2.0 * gamma)
    return 0.5 * gamma * a * a


@njit(cache=True, nogil=True)
def mcp_prox_norm(x, tau, a, gamma):
    """``argmin_{y >= 0} (y - x)^2 / (2 tau) + rho(y)``: the stationary point of each piece and ``0`` compared.

    Exact also for ``tau >= gamma``, where the one-dimensional problem is not convex.
    """
    best = 0.0
    best_val = x * x / (2.0 * tau)
    for k in range(3):
        if k == 0:  # concave piece: (y - x) / tau + a - y / gamma = 0
            y = (x - tau * a) / (1.0 - tau / gamma) if tau < gamma else 0.0
            y = min(max(y, 0.0), gamma * a)
        elif k == 1:  # the flat part
            y = max(x, gamma * a)
        else:
            y = gamma * a
        val = (y - x) * (y - x) / (2.0 * tau) + mcp_value(y, a, gamma)
        if val < best_val:
            best_val = val
            best = y
    return best


@overload(row_value, jit_options=OVERLOAD_OPTIONS)
def _value(pen, j, w, wn):
    if is_rows(pen, GroupMCPRows):
        def impl(pen, j, w, wn):
            return mcp_value(wn, pen.lam[j], pen.gamma)
        return impl


@overload(row_prox, jit_options=OVERLOAD_OPTIONS)
def _prox(pen, j, z, zn, step):
    if is_rows(pen, GroupMCPRows):
        def impl(pen, j, z, zn, step):
            if zn == 0.0:
                return 0.0
            return mcp_prox_norm(zn, step, pen.lam[j], pen.gamma) / zn
        return impl


@overload(row_distance, jit_options=OVERLOAD_OPTIONS)
def _distance(pen, j, v, w, wn):
    if is_rows(pen, GroupMCPRows):
        def impl(pen, j, v, w, wn):
            return radial_distance(v, w, max(pen.lam[j] - wn / pen.gamma, 0.0) / wn)
        return impl
