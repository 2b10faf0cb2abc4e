"""Exact multi-task GP marginal likelihood: the Kronecker and the masked (task-index) paths.

Model (linear model of coregionalization, LMC; Q = 1 is the intrinsic
coregionalization model, ICM; Bonilla, Chai & Williams 2008; Alvarez, Rosasco &
Lawrence 2012)::

    f_t(x) = sum_q sum_r a_{q,t,r} u_{q,r}(x),   u_{q,r} ~ GP(0, k_q)
    cov(f_t(x), f_s(x')) = sum_q B_q[t, s] k_q(x, x'),   B_q = A_q A_q^T + diag(kappa_q)
    y_t(x) = f_t(x) + e_t(x),   e(x) ~ N(0, Sigma)   (Sigma diagonal: per-task noise,
                                                     or full: correlated task noise)

Kronecker path (ICM, every task observed on the same n inputs; Rakitsch et al.
2013, "It is all in the noise")::

    K = B (x) Kx + Sigma (x) I_n = (L (x) I)(Bt (x) Kx + I)(L^T (x) I),
    Sigma = L L^T,  Bt = L^-1 B L^-T = U diag(s) U^T,  Kx = V diag(l) V^T

so ``K^-1 y`` and ``log|K| = n log|Sigma| + sum_ij log(s_i l_j + 1)`` cost
O(n^3 + T^3). Gradients with respect to Kx, B and Sigma are formed in closed
form (no back-propagation through the eigendecomposition, whose derivative is
unstable for repeated eigenvalues) and chained to the hyperparameters by
autograd through the kernel evaluation.

This Kronecker algebra is written by hand here with dense torch eigendecompositions
(``torch.linalg.eigh`` of ``Kx`` and of the whitened ``B``); it does not use
``linear_operator``'s ``KroneckerProductLinearOperator`` (nor GPyTorch's
``MultitaskKernel``). ``linear_operator`` (a GPyTorch dependency, installed with
it) is used only through the GPyTorch input kernels, whose lazy
outputs are densified with ``.to_dense()``.

Masked path (missing targets, long input, LMC, sample weights): the covariance of
the N observed (x_i, t_i) pairs is formed densely,
``K_ij = sum_q B_q[t_i, t_j] k_q(x_i, x_j) + Sigma[t_i, t_j] [row_i = row_j] / sqrt(w_i w_j)``,
and factorized by Cholesky with escalating jitter: O(N^3).
"""

import math

import numpy as np
import torch
from torch import nn

__all__ = [
    "NotPositiveDefiniteError",
    "ExactParams",
    "safe_cholesky",
    "kronecker_nlml_grads",
    "kronecker_state",
    "dense_covariance",
]


class NotPositiveDefiniteError(np.linalg.LinAlgError):
    """The kernel matrix stayed indefinite after the largest jitter."""


_HELP = (
    "Try: a larger noise_floor (e.g. 1e-4), normalize_y=True, scaling the inputs "
    "(StandardScaler), removing exactly duplicated rows, or a smoother kernel; "
    "with a custom GPyTorch kernel check that it is positive semi-definite."
)


def safe_cholesky(K, max_tries=6, what="kernel matrix"):
    """Cholesky factor of ``K``, adding jitter ``1e-8 .. 1e-3`` times its mean diagonal.

    Returns ``(L, jitter)``; raises :class:`NotPositiveDefiniteError` with advice when
    even the largest jitter fails.
    """
    L, info = torch.linalg.cholesky_ex(K)
    if not bool(info.any()) and bool(torch.isfinite(L).all()):
        return L, 0.0
    if not bool(torch.isfinite(K).all()):
        raise NotPositiveDefiniteError(f"The {what} contains NaN or inf. {_HELP}")
    scale = float(K.detach().diagonal().abs().mean().clamp_min(1e-30))
    eye = torch.eye(K.shape[0], dtype=K.dtype, device=K.device)
    for k in range(max_tries):
        jitter = scale * 10.0 ** (-8 + k)
        L, info = torch.linalg.cholesky_ex(K + jitter * eye)
        if not bool(info.any()) and bool(torch.isfinite(L).all()):
            return L, jitter
    raise NotPositiveDefiniteError(
        f"The {K.shape[0]}x{K.shape[0]} {what} is not positive definite even with jitter "
        f"{jitter:.1e} (relative {10.0 ** (-8 + max_tries - 1):.0e}) on its diagonal. {_HELP}"
    )


class ExactParams(nn.Module):
    """Hyperparameters of the exact multi-task GP.

    Attributes
    ----------
    kernels : ModuleList of Q GPyTorch kernels (one per latent process)
    task_factors : (Q, T, rank) — the ``A_q``
    log_task_diag : (Q, T) — ``log kappa_q``
    log_noise : (T,) — log per-task noise variances (diagonal Sigma), or
    noise_factor_raw : (T, T) — Sigma = L L^T + floor I with ``L`` lower triangular,
        ``L_tt = exp(raw_tt)`` (correlated task noise).
    """

    def __init__(self, kernels, n_tasks, rank, correlated_noise, noise_floor):
        super().__init__()
        Q = len(kernels)
        self.kernels = nn.ModuleList(kernels)
        self.task_factors = nn.Parameter(torch.zeros(Q, n_tasks, rank))
        self.log_task_diag = nn.Parameter(torch.zeros(Q, n_tasks))
        self.correlated_noise = bool(correlated_noise)
        self.noise_floor = float(noise_floor)
        if self.correlated_noise:
            self.noise_factor_raw = nn.Parameter(torch.zeros(n_tasks, n_tasks))
        else:
            self.log_noise = nn.Parameter(torch.zeros(n_tasks))

    @property
    def n_tasks(self):
        return self.task_factors.shape[1]

    def task_covariances(self):
        A = self.task_factors
        return A @ A.transpose(-1, -2) + torch.diag_embed(torch.exp(self.log_task_diag))

    def noise_covariance(self):
        T = self.n_tasks
        eye = torch.eye(T, dtype=self.task_factors.dtype, device=self.task_factors.device)
        if self.correlated_noise:
            raw = self.noise_factor_raw
            L = torch.tril(raw, -1) + torch.diag_embed(torch.exp(raw.diagonal()))
            return L @ L.T + self.noise_floor * eye
        return torch.diag_embed(torch.exp(self.log_noise) + self.noise_floor)

    def set_noise(self, noise):
        noise = torch.as_tensor(np.maximum(np.asarray(noise, dtype=np.float64), 1e-12))
        with torch.no_grad():
            if self.correlated_noise:
                raw = torch.zeros(self.n_tasks, self.n_tasks)
                raw.diagonal().copy_(0.5 * torch.log(noise))
                self.noise_factor_raw.copy_(raw)
            else:
                self.log_noise.copy_(torch.log(noise))

    def kernel_matrices(self, X1, X2=None):
        """(Q, n1, n2) input kernel matrices."""
        X2 = X1 if X2 is None else X2
        return torch.stack([k(X1, X2).to_dense() for k in self.kernels])

    def kernel_diags(self, X):
        return torch.stack([k(X, X, diag=True) for k in self.kernels])


def _kron_factors(Kx, B, Sigma):
    T = B.shape[0]
    eye = torch.eye(T, dtype=B.dtype, device=B.device)
    Ls = torch.linalg.cholesky(Sigma)
    Linv = torch.linalg.solve_triangular(Ls, eye, upper=False)
    Bt = Linv @ B @ Linv.T
    s, U = torch.linalg.eigh(0.5 * (Bt + Bt.T))
    lx, V = torch.linalg.eigh(Kx)
    scale = float(lx.abs().max().clamp_min(1e-30))
    if float(lx.min()) < -1e-6 * scale - 1e-10:
        raise NotPositiveDefiniteError(
            f"The input kernel matrix has a negative eigenvalue {float(lx.min()):.3g} "
            f"(largest {scale:.3g}): it is not positive semi-definite. {_HELP}"
        )
    # clamping the round-off negatives is the jitter of this path: Sigma > 0 keeps K > 0
    return Ls, Linv, s.clamp_min(0.0), U, lx.clamp_min(0.0), V


def kronecker_nlml_grads(Kx, B, Sigma, Y):
    """Negative log marginal likelihood of the Kronecker model and its matrix gradients.

    Parameters are detached tensors: ``Kx`` (n, n), ``B`` and ``Sigma`` (T, T), ``Y`` (n, T).
    Returns ``(nlml, G_Kx, G_B, G_Sigma)``.
    """
    n, T = Y.shape
    Ls, Linv, s, U, lx, V = _kron_factors(Kx, B, Sigma)
    lam = lx[:, None] * s[None, :] + 1.0  # (n, T)
    Yt = Y @ Linv.T
    Z = (V.T @ Yt @ U) / lam
    A = (V @ Z @ U.T) @ Linv  # vec(A) = K^-1 vec(Y)
    nlml = 0.5 * (Y * A).sum() + 0.5 * (
        2.0 * n * torch.log(Ls.diagonal()).sum() + torch.log(lam).sum()
    ) + 0.5 * n * T * math.log(2 * math.pi)
    c = (s[None, :] / lam).sum(1)
    d = (lx[:, None] / lam).sum(0)
    e = (1.0 / lam).sum(0)
    M = Linv.T @ U
    G_Kx = 0.5 * ((V * c) @ V.T - A @ B @ A.T)
    G_B = 0.5 * ((M * d) @ M.T - A.T @ Kx @ A)
    G_S = 0.5 * ((M * e) @ M.T - A.T @ A)
    return nlml, G_Kx, G_B, G_S


def kronecker_state(Kx, B, Sigma, Y):
    """What prediction needs on the Kronecker path (all (detached) tensors)."""
    Ls, Linv, s, U, lx, V = _kron_factors(Kx, B, Sigma)
    lam = lx[:, None] * s[None, :] + 1.0
    Z = (V.T @ (Y @ Linv.T) @ U) / lam
    A = (V @ Z @ U.T) @ Linv
    n, T = Y.shape
    nlml = 0.5 * (Y * A).sum() + 0.5 * (
        2.0 * n * torch.log(Ls.diagonal()).sum() + torch.log(lam).sum()
    ) + 0.5 * n * T * math.log(2 * math.pi)
    return {"A": A, "P": B @ Linv.T @ U, "V": V, "lam": lam, "nlml": float(nlml)}


def dense_covariance(params, X, rows, tasks, weights):
    """Covariance of the observations (x_{rows_i}, t_i) with noise, shape (N, N)."""
    Kq = params.kernel_matrices(X)  # (Q, n, n)
    Bq = params.task_covariances()  # (Q, T, T)
    K = (Bq[:, tasks][:, :, tasks] * Kq[:, rows][:, :, rows]).sum(0)
    Sigma = params.noise_covariance()
    inv_sqrt_w = weights.rsqrt()
    if params.correlated_noise:
        same = (rows[:, None] == rows[None, :]).to(K.dtype)
        noise = Sigma[tasks][:, tasks] * same * inv_sqrt_w[:, None] * inv_sqrt_w[None, :]
        K = K + noise
    else:
        K = K + torch.diag_embed(Sigma.diagonal()[tasks] / weights)
    return K


def dense_nlml(K, y):
    """``(nlml, L, alpha)`` of ``N(y | 0, K)`` with a jittered Cholesky."""
    L, _ = safe_cholesky(K)
    alpha = torch.cholesky_solve(y[:, None], L)[:, 0]
    N = y.shape[0]
    nlml = 0.5 * (y * alpha).sum() + torch.log(L.diagonal()).sum() + 0.5 * N * math.log(2 * math.pi)
    return nlml, L, alpha
