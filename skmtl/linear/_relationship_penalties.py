r"""Penalties that couple tasks through a task-by-task matrix, for the FISTA engine.

The coefficients ``W`` have shape (n_features, n_columns) with the columns
task after task; a task owns ``n_classes`` consecutive columns (one for
regression and binary classification). Writing ``W_k`` for the
(n_features, n_tasks) matrix of the ``k``-th column of every task:

=========================  ==========================================================
:class:`TaskQuadratic`     ``1/2 sum_k tr(W_k M W_k^T)`` for a PSD (n_tasks, n_tasks) ``M``
:class:`ColumnL21`         ``alpha sum_t ||W_{:, t}||_2`` (column / task sparsity)
:class:`QuadraticDatafit`  a datafit plus ``1/2 sum_k tr(W_k M W_k^T)`` (smooth part)
=========================  ==========================================================

``TaskQuadratic`` covers the mean-regularized (Evgeniou & Pontil 2004), graph
(MALSAR's SRMTL), clustered (Zhou, Chen & Ye 2011) and task-relationship
(Zhang & Yeung 2010) penalties: they differ only in ``M``, built by
:func:`mean_matrix`, :func:`laplacian` and the estimators. Its prox is exact,
from one eigendecomposition of ``M``:
``prox(W) = U diag(1 / (1 + step m)) U^T`` applied along the task axis.
When an L1 term is added, the quadratic moves into the smooth part
(:class:`QuadraticDatafit`, which appends ``W`` to the predictions as
pseudo-observations, so that FISTA's extrapolation of the predictions still
holds) and the prox is soft-thresholding.
"""

import numpy as np
import scipy.sparse as sp

from ._contract import Datafit, Penalty

__all__ = [
    "TaskQuadratic",
    "ColumnL21",
    "QuadraticDatafit",
    "mean_matrix",
    "laplacian",
]


def _as_tasks(W, n_tasks):
    """View of ``W`` (p, n_tasks * K) as (p, n_tasks, K)."""
    p, m = W.shape
    return W.reshape(p, n_tasks, m // n_tasks)


def task_quadratic_value(W, M):
    """``1/2 sum_k tr(W_k M W_k^T)``."""
    W3 = _as_tasks(W, M.shape[0])
    return 0.5 * float(np.einsum("ptk,ts,psk->", W3, M, W3))


def task_gram(W, n_tasks):
    """``sum_k W_k^T W_k``, shape (n_tasks, n_tasks)."""
    W3 = _as_tasks(W, n_tasks)
    return np.einsum("ptk,psk->ts", W3, W3)


def mean_matrix(n_tasks, alpha, beta):
    """``M = alpha (I - J/T) + beta J/T`` (``J`` all ones).

    ``1/2 tr(W M W^T) = alpha/2 sum_t ||w_t - w_bar||^2 + beta T/2 ||w_bar||^2``.
    """
    T = int(n_tasks)
    J = np.full((T, T), 1.0 / T)
    return alpha * (np.eye(T) - J) + beta * J


def laplacian(graph, n_tasks):
    """Graph Laplacian ``L = D - A`` from an adjacency or a Laplacian matrix.

    An adjacency has non-negative entries (the diagonal is ignored); a
    Laplacian is symmetric with non-positive off-diagonal entries and rows
    that sum to zero. ``1/2 tr(W L W^T) = 1/2 sum_{s<t} A_st ||w_s - w_t||^2``.
    """
    G = graph.toarray() if sp.issparse(graph) else np.asarray(graph, dtype=np.float64)
    T = int(n_tasks)
    if G.shape != (T, T):
        raise ValueError(f"graph must have shape (n_tasks, n_tasks) = ({T}, {T}); got {G.shape}.")
    if not np.all(np.isfinite(G)):
        raise ValueError("graph contains NaN or inf.")
    if not np.allclose(G, G.T):
        raise ValueError("graph must be symmetric (an undirected task graph).")
    off = G - np.diag(np.diag(G))
    if np.all(off >= 0):
        A = off
    elif np.all(off <= 0) and np.allclose(G.sum(axis=1), 0.0, atol=1e-10 * max(1.0, np.abs(G).max())):
        A = -off
    else:
        raise ValueError(
            "graph must be an adjacency matrix (non-negative weights) or a graph Laplacian "
            "(non-positive off-diagonal entries, rows summing to zero)."
        )
    return np.diag(A.sum(axis=1)) - A


class TaskQuadratic(Penalty):
    """``1/2 sum_k tr(W_k M W_k^T)`` for a symmetric positive semi-definite ``M``.

    Parameters
    ----------
    M : ndarray of shape (n_tasks, n_tasks)
        Task coupling matrix; its eigendecomposition is computed once.
    """

    def __init__(self, M):
        M = np.asarray(M, dtype=np.float64)
        M = 0.5 * (M + M.T)
        self.M = M
        self.n_tasks = M.shape[0]
        m, U = np.linalg.eigh(M)
        self.eigvals = np.maximum(m, 0.0)
        self.eigvecs = U

    def value(self, W):
        return task_quadratic_value(W, self.M)

    def prox(self, W, step):
        W3 = _as_tasks(W, self.n_tasks)
        U = self.eigvecs
        Z = np.einsum("ptk,tu->puk", W3, U) / (1.0 + step * self.eigvals)[None, :, None]
        return np.einsum("puk,tu->ptk", Z, U).reshape(W.shape)

    def gradient(self, W):
        W3 = _as_tasks(W, self.n_tasks)
        return np.einsum("ptk,ts->psk", W3, self.M).reshape(W.shape)

    def alpha_max(self, G0):
        return None


class ColumnL21(Penalty):
    """``alpha * sum_t ||W_{:, t}||_2`` over columns (tasks); prox is column shrinkage.

    Whole tasks are switched on or off: the outlier-task part of the robust
    multi-task model (Chen, Zhou & Ye 2011).
    """

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, W):
        return self.alpha * np.sqrt((W**2).sum(axis=0)).sum()

    def prox(self, W, step):
        nrm = np.sqrt((W**2).sum(axis=0, keepdims=True))
        scale = np.maximum(1.0 - step * self.alpha / np.where(nrm > 0, nrm, 1.0), 0.0)
        return W * scale

    @staticmethod
    def dual_norm(G):
        return float(np.sqrt((G**2).sum(axis=0)).max(initial=0.0))

    def dual_norm_ratio(self, G):
        return self.dual_norm(G) / self.alpha if self.alpha > 0 else np.inf

    def alpha_max(self, G0):
        return self.dual_norm(G0)


class QuadraticDatafit(Datafit):
    """A datafit plus ``1/2 sum_k tr(W_k M W_k^T)``, as one smooth function for FISTA.

    The predictions ``z`` of the inner datafit are extended by the entries of
    ``W`` (reshaped to rows of width ``k_max``), so ``forward`` stays affine
    and FISTA's extrapolation of predictions is exact. Every task must own
    the same number of columns.
    """

    def __init__(self, inner, M):
        self.inner = inner
        self.M = np.asarray(M, dtype=np.float64)
        self.design = inner.design
        self.fits_intercept = inner.fits_intercept
        self.intercept_is_variable = inner.intercept_is_variable
        self.n_obs = inner.design.n_obs
        self.p = inner.design.n_features
        self.m = inner.design.n_columns
        self.k = inner.design.k_max
        T = self.M.shape[0]
        if self.m != T * self.k and self.m > 0:
            raise ValueError("QuadraticDatafit needs the same number of columns for every task.")
        self._lip_M = float(np.linalg.eigvalsh(0.5 * (self.M + self.M.T)).max(initial=0.0)) if T else 0.0

    def forward(self, W, b):
        z = self.inner.forward(W, b)
        return np.vstack([z, W.reshape(-1, self.k)])

    def adjoint(self, R):
        G, g = self.inner.adjoint(R[: self.n_obs])
        return G + R[self.n_obs :].reshape(self.p, self.m), g

    def value_z(self, z):
        W = z[self.n_obs :].reshape(self.p, self.m)
        return self.inner.value_z(z[: self.n_obs]) + task_quadratic_value(W, self.M)

    def value_grad_z(self, z):
        f, R = self.inner.value_grad_z(z[: self.n_obs])
        W = z[self.n_obs :].reshape(self.p, self.m)
        q = task_quadratic_value(W, self.M)
        GW = np.einsum("ptk,ts->psk", _as_tasks(W, self.M.shape[0]), self.M).reshape(-1, self.k)
        Rz = np.zeros((R.shape[0] + GW.shape[0], self.k))
        Rz[: R.shape[0], : R.shape[1]] = R
        Rz[R.shape[0] :] = GW
        return f + q, Rz

    def value(self, W, b):
        return self.inner.value(W, b) + task_quadratic_value(W, self.M)

    def lipschitz(self):
        return self.inner.lipschitz() + self._lip_M

    def init_coef(self):
        return self.inner.init_coef()

    def model_intercept(self, W, b):
        return self.inner.model_intercept(W, b)

    def mean_loss(self, W, b):
        return self.inner.mean_loss(W, b)
