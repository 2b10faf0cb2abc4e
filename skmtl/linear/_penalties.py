"""Penalties on a coefficient matrix ``W`` of shape (n_features, n_columns).

Each penalty is a :class:`~skmtl.linear.Penalty` and gives its
``value(W)``, its proximal operator
``prox(W, step) = argmin_U 1/2 ||U - W||_F^2 + step * penalty(U)`` and, for
the norms, ``dual_norm_ratio(G) = N*(G) / alpha`` (the dual feasibility
scaling used by duality gaps) and ``alpha_max(G0) = N*(G0)``: the smallest
strength for which ``W = 0`` is optimal, ``G0`` being the datafit gradient at
``W = 0`` with optimal intercepts.

=================  =====================================  ======================
penalty            value                                  dual norm
=================  =====================================  ======================
:class:`L1`        ``alpha sum |W_jk|``                    max abs
:class:`L21`       ``alpha sum_j ||W_j.||_2`` (rows)        max row 2-norm
:class:`L1Inf`     ``alpha sum_j max_k |W_jk|`` (rows)      max row 1-norm
:class:`TraceNorm` ``alpha sum singular values``            spectral norm
:class:`Ridge`     ``alpha / 2 ||W||_F^2``                  (not a norm)
=================  =====================================  ======================

:class:`WeightedL21` is the row penalty ``alpha sum_j f_j (rho ||W_j.||_2 +
(1 - rho) / 2 ||W_j.||_2^2)`` (elastic-net mixing ``rho = l1_ratio`` and
penalty factors ``f_j >= 0``; ``f_j = 0`` leaves a row unpenalized).

:class:`SplitPenalty` acts on a stacked ``V = [P, Q]`` (shape (2, p, m)) as
``pen_P(P) + pen_Q(Q)``; the datafit sees ``P + Q``.
"""

import numpy as np
from numba import njit

from ._contract import Penalty

__all__ = ["L1", "L21", "WeightedL21", "L1Inf", "TraceNorm", "Ridge", "SplitPenalty"]


class L1(Penalty):
    """``alpha * sum_jk |W_jk|``; prox is soft-thresholding.

    Parameters
    ----------
    alpha : float
        Strength of the penalty (non-negative).
    """

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, W):
        return self.alpha * np.abs(W).sum()

    def prox(self, W, step):
        return np.sign(W) * np.maximum(np.abs(W) - step * self.alpha, 0.0)

    @staticmethod
    def dual_norm(G):
        return float(np.abs(G).max(initial=0.0))

    def dual_norm_ratio(self, G):
        return self.dual_norm(G) / self.alpha if self.alpha > 0 else np.inf

    def alpha_max(self, G0):
        return self.dual_norm(G0)


class L21(Penalty):
    """``alpha * sum_j ||W_j.||_2`` over rows (features); prox is row shrinkage.

    Parameters
    ----------
    alpha : float
        Strength of the penalty (non-negative).
    """

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, W):
        return self.alpha * np.sqrt((W**2).sum(axis=1)).sum()

    def prox(self, W, step):
        nrm = np.sqrt((W**2).sum(axis=1, keepdims=True))
        scale = np.maximum(1.0 - step * self.alpha / np.where(nrm > 0, nrm, 1.0), 0.0)
        return W * scale

    @staticmethod
    def dual_norm(G):
        return float(np.sqrt((G**2).sum(axis=1)).max(initial=0.0))

    def dual_norm_ratio(self, G):
        return self.dual_norm(G) / self.alpha if self.alpha > 0 else np.inf

    def alpha_max(self, G0):
        return self.dual_norm(G0)


class WeightedL21(Penalty):
    """``alpha sum_j f_j (l1_ratio ||W_j.||_2 + (1 - l1_ratio) / 2 ||W_j.||_2^2)`` over rows.

    Prox: block soft-thresholding of each row at ``step alpha l1_ratio f_j``, then
    the ridge shrinkage ``1 / (1 + step alpha (1 - l1_ratio) f_j)``.

    Parameters
    ----------
    alpha : float
    l1_ratio : float in [0, 1], default=1.0
    weights : None or ndarray of shape (n_features,), default=None
        The factors ``f_j >= 0`` (used as given; None: all ones).
    """

    def __init__(self, alpha, l1_ratio=1.0, weights=None):
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)

    def _f(self, W):
        return np.ones(W.shape[0]) if self.weights is None else self.weights

    @property
    def n_unpenalized(self):
        """Number of rows with factor 0."""
        return 0 if self.weights is None else int(np.count_nonzero(self.weights == 0))

    def value(self, W):
        sq = (W ** 2).sum(axis=1)
        f = self._f(W)
        return self.alpha * float(self.l1_ratio * (f @ np.sqrt(sq)) + 0.5 * (1.0 - self.l1_ratio) * (f @ sq))

    def prox(self, W, step):
        f = self._f(W)
        nrm = np.sqrt((W ** 2).sum(axis=1))
        thr = step * self.alpha * self.l1_ratio * f
        with np.errstate(divide="ignore", invalid="ignore"):
            shrink = np.where(nrm > thr, 1.0 - thr / np.where(nrm > 0, nrm, 1.0), 0.0)
        shrink /= 1.0 + step * self.alpha * (1.0 - self.l1_ratio) * f
        return W * shrink[:, None]

    def alpha_max(self, G0):
        """``max_j ||G0_j|| / (l1_ratio f_j)`` over the penalized rows.

        ``G0`` is the datafit gradient at the model where only the unpenalized
        rows are fitted (``W = 0`` when there are none).
        """
        f = self._f(G0)
        pen = f > 0
        if self.l1_ratio == 0.0:
            raise ValueError("alpha_max is infinite for l1_ratio=0 (a pure ridge never zeroes the "
                             "coefficients): give the alphas explicitly.")
        if not pen.any() or G0.size == 0:
            return 0.0
        gn = np.sqrt((G0[pen] ** 2).sum(axis=1))
        return float((gn / (self.l1_ratio * f[pen])).max())


@njit(cache=True, nogil=True)
def _project_rows_l1_ball(V, S, radius, out):
    """Euclidean projection of each row of V onto the L1 ball of given radius.

    ``S`` holds each row of ``|V|`` sorted in increasing order (NumPy's sort:
    Numba's costs seconds of compilation); explicit loops throughout (a slice
    assignment's shape check costs as much).
    """
    n, m = V.shape
    for j in range(n):
        total = 0.0
        for k in range(m):
            total += abs(V[j, k])
        if total <= radius:
            for k in range(m):
                out[j, k] = V[j, k]
            continue
        css = 0.0
        theta = 0.0
        for k in range(m):  # |V[j]| in decreasing order
            u = S[j, m - 1 - k]
            css += u
            th = (css - radius) / (k + 1)
            if u > th:
                theta = th
        for k in range(m):
            out[j, k] = np.sign(V[j, k]) * max(abs(V[j, k]) - theta, 0.0)


class L1Inf(Penalty):
    """``alpha * sum_j max_k |W_jk|`` over rows (Jalali et al. 2010, block part).

    Prox by Moreau: ``W - proj_{L1 ball of radius step*alpha}(W)`` row by row.

    Parameters
    ----------
    alpha : float
        Strength of the penalty (non-negative).
    """

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, W):
        return self.alpha * np.abs(W).max(axis=1, initial=0.0).sum()

    def prox(self, W, step):
        W = np.ascontiguousarray(W, dtype=np.float64)
        proj = np.empty_like(W)
        _project_rows_l1_ball(W, np.sort(np.abs(W), axis=1), step * self.alpha, proj)
        return W - proj

    @staticmethod
    def dual_norm(G):
        return float(np.abs(G).sum(axis=1).max(initial=0.0))

    def dual_norm_ratio(self, G):
        return self.dual_norm(G) / self.alpha if self.alpha > 0 else np.inf

    def alpha_max(self, G0):
        return self.dual_norm(G0)


class TraceNorm(Penalty):
    """``alpha * ||W||_*``; prox is singular value soft-thresholding.

    Parameters
    ----------
    alpha : float
        Strength of the penalty (non-negative).
    """

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, W):
        if W.size == 0:
            return 0.0
        return self.alpha * np.linalg.svd(W, compute_uv=False).sum()

    def prox(self, W, step):
        """Singular value soft-thresholding.

        Through the eigendecomposition of the smaller Gram matrix (``W^T W``
        or ``W W^T``): ``prox = W V diag((s - tau)_+ / s) V^T``, a few times
        cheaper than an SVD. Eigenvalues carry an absolute error of order
        ``eps s_max^2``, so when a kept singular value is below
        ``1e-2 s_max`` the full SVD is used instead.
        """
        tau = step * self.alpha
        if W.size == 0:
            return W.copy()
        p, m = W.shape
        A = W.T @ W if m <= p else W @ W.T
        lam, V = np.linalg.eigh(A)
        s = np.sqrt(np.maximum(lam, 0.0))
        keep = s > tau
        if not keep.any():
            return np.zeros_like(W)
        sk = s[keep]
        if sk.min() >= 1e-2 * s[-1]:
            Vk = V[:, keep]
            f = (sk - tau) / sk
            if m <= p:
                return W @ ((Vk * f) @ Vk.T)
            return ((Vk * f) @ Vk.T) @ W
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        s = np.maximum(s - tau, 0.0)
        k = int(np.count_nonzero(s))
        return (U[:, :k] * s[:k]) @ Vt[:k]

    @staticmethod
    def dual_norm(G):
        """Spectral norm (largest eigenvalue of the smaller Gram matrix)."""
        if G.size == 0:
            return 0.0
        A = G.T @ G if G.shape[1] <= G.shape[0] else G @ G.T
        return float(np.sqrt(max(np.linalg.eigvalsh(A)[-1], 0.0)))

    def dual_norm_ratio(self, G):
        return self.dual_norm(G) / self.alpha if self.alpha > 0 else np.inf

    def alpha_max(self, G0):
        return self.dual_norm(G0)


class Ridge(Penalty):
    """``alpha / 2 * ||W||_F^2``; prox is a rescaling. No ``alpha_max``.

    Parameters
    ----------
    alpha : float
        Strength of the penalty (non-negative).
    """

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, W):
        return 0.5 * self.alpha * np.sum(W**2)

    def prox(self, W, step):
        return W / (1.0 + step * self.alpha)

    def alpha_max(self, G0):
        return None


class SplitPenalty(Penalty):
    """``pen_P(P) + pen_Q(Q)`` on the stacked ``V = [P, Q]``; the model is ``P + Q``.

    When both parts are norms, the dual norm of the infimal convolution is
    ``max(N_P*(G) / alpha_P, N_Q*(G) / alpha_Q)``, which gives the duality gap;
    ``W = 0`` is optimal iff both strengths reach their own ``alpha_max``.

    Parameters
    ----------
    pen_p : Penalty
        Penalty of the first block ``P``.
    pen_q : Penalty
        Penalty of the second block ``Q``.
    """

    def __init__(self, pen_p, pen_q):
        self.pen_p = pen_p
        self.pen_q = pen_q

    @property
    def is_convex(self):
        """Convex when both parts are."""
        return self.pen_p.is_convex and self.pen_q.is_convex

    def dual_norm_ratio(self, G):
        """``max(N_P*(G) / alpha_P, N_Q*(G) / alpha_Q)``; None unless both parts have one."""
        ratio_p = self.pen_p.dual_norm_ratio(G)
        if ratio_p is None:
            return None
        ratio_q = self.pen_q.dual_norm_ratio(G)
        if ratio_q is None:
            return None
        return max(ratio_p, ratio_q)

    def combine(self, V):
        return V[0] + V[1]

    def value(self, V):
        return self.pen_p.value(V[0]) + self.pen_q.value(V[1])

    def prox(self, V, step):
        return np.stack([self.pen_p.prox(V[0], step), self.pen_q.prox(V[1], step)])

    def alpha_max(self, G0):
        return self.pen_p.alpha_max(G0), self.pen_q.alpha_max(G0)
