r"""KKT statistics of the block coordinate descent: a Numba kernel, or NumPy for one-off fits.

At each outer iteration :class:`~skmtl.linear._bcd.L21Solver` needs, from minus
the gradient ``G`` (p, T) and the coefficients ``W``, the largest distance of
``G_j`` to the subdifferential ``d h_j(W_j)``, the working-set priorities and
the terms of the duality gap (:func:`~._bcd_kernels._kkt_scores` lists them).
That is O(p T) work. The Numba kernel does it in one pass (3 us for 20 x 3,
40 us for 5000 x 10), but compiling it takes 0.5-0.7 s: a quarter of the first
fit of a process with an empty Numba cache (issue 19). NumPy array operations
give the same statistics without compiling anything, at 40 us for 20 x 3 and
130 us for 5000 x 10. That is too slow for a path, which computes them
thousands of times on small problems (a first version at 70 us took
L21RegressorCV on 100 x 20 x 3 from 48 ms to 124 ms), and irrelevant for a
one-off fit (a handful of outer iterations). So the estimators' single fits
ask for NumPy (``numpy=True``) and paths keep the kernel. The NumPy side exists
for the penalties that are functions of the row norm,
``rho_j(w) = phi_j(||w||)`` (group lasso, MCP, SCAD: ``radial_value``,
``radial_slope``), and for problems of at most ``NUMPY_MAX_ENTRIES`` entries
of ``G``; the sparse group lasso and larger problems use the kernel. For these
penalties ``d rho_j(0)`` is the ball of radius ``lam_j``, so that::

    margin_j = ||G_j|| - lam_j                      (zero rows: violation max(margin_j, 0))
    dist_j   = ||V_j - phi_j'(||W_j||) W_j / ||W_j|| ||   (nonzero rows)
    s_j      = min(1, lam_j / ||V_j||)                (dual scaling, penalized rows)

with ``V_j = G_j - r_j W_j`` (``r_j`` the ridge strength).
"""

import numpy as np

from ._bcd_kernels import _kkt_scores
from ._row_penalties import RADIAL_ROWS

# The NumPy statistics at most for this many entries of G (n_features x n_tasks): there they cost
# at most ~50 us a call more than the kernel, a few percent of a fit of that size; beyond, the
# kernel's compilation is small beside the fits (bench_linear's single fits, 2,000 to 100,000
# entries, keep their times).
NUMPY_MAX_ENTRIES = 5_000


def kkt_scores(G, W, pen, L, norms=None, numpy=False):
    """KKT statistics at ``W``: ``(kkt, prio, wnorm, n_supp, pval, smax, ridge, conj, free, uw)``.

    Parameters
    ----------
    G : ndarray of shape (n_features, n_tasks)
        Minus the gradient of the datafit.
    W : ndarray of shape (n_features, n_tasks)
        Coefficients.
    pen : NamedTuple
        The kernel parameters of a row penalty (``RowPenalty.rows``).
    L : ndarray of shape (n_features,)
        Block Lipschitz constants (0 for constant features).
    norms : tuple of two ndarrays of shape (n_features,), optional
        The row norms ``(||G_j||, ||W_j||)`` if known (else computed).
    numpy : bool, default=False
        Compute in NumPy where possible (a radial penalty, at most
        ``NUMPY_MAX_ENTRIES`` entries), else with the kernel.

    Returns
    -------
    tuple
        As :func:`~._bcd_kernels._kkt_scores`, with the priorities ``prio`` and
        the row norms ``wnorm`` of ``W``.
    """
    p, T = G.shape
    radial = RADIAL_ROWS.get(type(pen)) if numpy and p * T <= NUMPY_MAX_ENTRIES else None
    if radial is not None:
        return _kkt_scores_numpy(G, W, pen, radial, L, norms)
    prio = np.empty(p)
    gnorm, wnorm = (np.empty(p), np.empty(p)) if norms is None else norms
    kkt, n_supp, pval, smax, ridge, conj, free, uw = _kkt_scores(G, W, pen, L, prio, np.empty(T), gnorm, wnorm,
                                                                  norms is not None)
    return kkt, prio, wnorm, n_supp, pval, smax, ridge, conj, free, uw


def _norms(A):
    """Euclidean norms of the rows of ``A`` (the kernels compute them where they need them)."""
    return np.sqrt(np.einsum("ij,ij->i", A, A))


def _kkt_scores_numpy(G, W, pen, radial, L, norms):
    """:func:`kkt_scores` in NumPy for a radial penalty (``radial``: its :class:`RowPenalty` class).

    The branches skip what is empty in the common case (no ridge, every row
    penalized, no constant feature): about 40 array operations, at ~1 us each.
    """
    gn, wn = (_norms(G), _norms(W)) if norms is None else norms
    lam, r = pen.lam, pen.ridge
    penalized = lam > 0.0
    supp = np.flatnonzero(wn > 0.0)
    margin = gn - lam
    excess = np.maximum(margin, 0.0)
    any_ridge = bool(r.any())

    # the ridge: its value, and the conjugate h_j^*(G_j) = max(margin_j, 0)^2 / (2 r_j)
    ridge, conj = 0.0, 0.0
    infeasible = penalized & (margin > 0.0)  # outside the ball of a row without ridge: h_j^* infinite
    V, vn = G, gn  # V_j = G_j - r_j W_j on the nonzero rows with a ridge, G_j elsewhere
    if any_ridge:
        has_ridge = r > 0.0
        ridge = float(r @ (wn * wn))
        conj = float(np.sum(excess[has_ridge] ** 2 / (2.0 * r[has_ridge])))
        infeasible &= ~has_ridge
        shifted = supp[has_ridge[supp]]
        if shifted.size:
            V, vn = G.copy(), gn.copy()
            V[shifted] -= r[shifted, None] * W[shifted]
            vn[shifted] = _norms(V[shifted])
    if infeasible.any():
        conj = np.inf  # the s = 1 dual point is infeasible

    # the dual scaling: the largest s <= 1 with s ||V_j|| <= lam_j on the penalized rows
    out = np.flatnonzero(penalized & (vn > lam))
    smax = min(1.0, float(np.min(lam[out] / vn[out]))) if out.size else 1.0

    # violations: the margin on zero rows, the distance to d rho_j(W_j) on nonzero ones
    x = wn[supp]
    pval = 0.5 * ridge + float(np.sum(radial.radial_value(pen, supp, x)))
    score = excess  # written in place from here (excess is not read again)
    f = radial.radial_slope(pen, supp, x) / x
    score[supp] = _norms(V[supp] - f[:, None] * W[supp])

    # priorities: support and unpenalized rows first, then the zero rows by margin in the column's metric
    prio = np.divide(margin, np.sqrt(L), out=np.full(L.shape, -np.inf), where=L > 0.0)
    prio[supp] = np.inf
    free, uw = 0.0, 0.0
    if not penalized.all():
        unpenalized = ~penalized
        prio[unpenalized] = np.inf
        # unpenalized rows without ridge: a second-order estimate of their remaining gain, and <G_j, W_j>
        free_rows = unpenalized & (L != 0.0) & (r == 0.0)
        free = float(np.sum(gn[free_rows] ** 2 / L[free_rows]))
        uw = float(np.einsum("ij,ij->", G[free_rows], W[free_rows]))
    if not L.all():
        constant = L == 0.0
        score[constant] = -1.0
        prio[constant & ~(wn > 0.0)] = -np.inf
    kkt = float(score.max()) if score.size else -np.inf
    return kkt, prio, wn, supp.size, pval, smax, ridge, conj, free, uw
