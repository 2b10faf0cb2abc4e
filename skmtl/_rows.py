"""Numba row gather for the data layer (kept apart so that ``import skmtl`` does not load Numba)."""

import numpy as np
from numba import njit

__all__ = ["take_rows_fortran"]


@njit(cache=True, nogil=True)
def take_rows_fortran(X, rows):
    """``X[rows]`` as a Fortran-ordered array, in one pass."""
    n, p = rows.shape[0], X.shape[1]
    out = np.empty((p, n), dtype=X.dtype).T
    for j in range(p):
        for i in range(n):
            out[i, j] = X[rows[i], j]
    return out
