"""Numba Gibbs sampler for the hierarchical linear model.

Model (standardized units, augmented features ``z = [x, 1]`` of length d)::

    y_ti | w_t, s2_t ~ N(z_ti^T w_t, s2_t / omega_ti)
    w_t | mu, Sigma  ~ N(mu, Sigma)
    (mu, Sigma)      ~ NIW(m0, kappa0, nu0, Psi0)
    s2_t             ~ InvGamma(a0, b0)

The full conditionals are conjugate (Gelman et al., BDA3, sections 3.6 and
14): ``w_t`` is Gaussian, ``s2_t`` inverse-gamma and ``(mu, Sigma)``
normal-inverse-Wishart. The sampler only needs the per-task moments
``A_t = Z_t^T Omega_t Z_t``, ``c_t``, ``yy_t`` and ``W_t``, so one sweep costs
O(T d^3) whatever the number of observations.

The precision ``Lambda = Sigma^{-1}`` is drawn by the Bartlett decomposition,
``Lambda = G G^T`` with ``G = U^{-T} B`` where ``Psi_n = U U^T`` and ``B`` is
the lower-triangular Bartlett factor; then ``mu = m_n + U B^{-T} z / sqrt(kappa_n)``
has covariance ``Sigma / kappa_n`` without inverting anything dense.
"""

import numpy as np
from numba import njit

from ._diagnostics import ess_bulk, rhat


@njit(cache=True, fastmath=True)
def _chol_inplace(P, d):
    """Lower Cholesky factor of P (d x d) written into P's lower triangle; False if not PD."""
    for j in range(d):
        s = P[j, j]
        for k in range(j):
            s -= P[j, k] * P[j, k]
        if s <= 0.0:
            return False
        ljj = np.sqrt(s)
        P[j, j] = ljj
        for i in range(j + 1, d):
            s = P[i, j]
            for k in range(j):
                s -= P[i, k] * P[j, k]
            P[i, j] = s / ljj
    return True


class GibbsNotPositiveDefiniteError(np.linalg.LinAlgError):
    """A full conditional's precision or scale matrix stayed indefinite after the largest jitter."""


_JITTER_TRIES = 8  # relative jitter 1e-10 .. 1e-3 of the mean diagonal


@njit(cache=True)
def _chol_jitter(P, d, diag):
    """Cholesky of the symmetric ``P`` (both triangles filled) into its lower triangle.

    On failure the lower triangle is restored from the upper one and a jitter of
    ``1e-10 .. 1e-3`` times the mean diagonal is added (escalating). Returns the
    jitter used (0.0 when none was needed), or -1.0 when even the largest failed
    (or ``P`` holds NaN/inf). ``diag`` is scratch of length d. Compiled without
    fastmath so that the NaN checks hold.
    """
    scale = 0.0
    for i in range(d):
        diag[i] = P[i, i]
        scale += abs(P[i, i])
    if not np.isfinite(scale):
        return -1.0
    if _chol_inplace(P, d) and _finite_diag(P, d):
        return 0.0
    scale = max(scale / d, 1e-300)
    jitter = 1e-10 * scale
    for _ in range(_JITTER_TRIES):
        for i in range(d):
            for j in range(i):
                P[i, j] = P[j, i]
            P[i, i] = diag[i] + jitter
        if _chol_inplace(P, d) and _finite_diag(P, d):
            return jitter
        jitter *= 10.0
    return -1.0


@njit(cache=True)
def _finite_diag(L, d):
    for i in range(d):
        if not (np.isfinite(L[i, i]) and L[i, i] > 0.0):
            return False
    return True


@njit(cache=True, fastmath=True)
def _solve_lower(L, b, out, d):
    for i in range(d):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * out[k]
        out[i] = s / L[i, i]


@njit(cache=True, fastmath=True)
def _solve_lower_T(L, b, out, d):
    """Solve L^T x = b for lower-triangular L."""
    for i in range(d - 1, -1, -1):
        s = b[i]
        for k in range(i + 1, d):
            s -= L[k, i] * out[k]
        out[i] = s / L[i, i]


@njit(cache=True, fastmath=True, nogil=True)
def _gibbs_chain(A, c, yy, W, m0, kappa0, nu0, Psi0, a0, b0, mu_init, s2_init,
                 n_burn, n_keep, thin, seed, keep_coef, shared_noise):
    T = A.shape[0]
    d = A.shape[1]
    np.random.seed(seed)
    mu_out = np.empty((n_keep, d))
    Sig_out = np.empty((n_keep, d, d))
    s2_out = np.empty((n_keep, T))
    w_out = np.empty((n_keep if keep_coef else 1, T, d))
    # running sums for the posterior mean and covariance of each w_t
    w_sum = np.zeros((T, d))
    w_outer = np.zeros((T, d, d))

    mu = mu_init.copy()
    s2 = s2_init.copy()
    Lam = np.eye(d)
    w = np.zeros((T, d))
    P = np.empty((d, d))
    b = np.empty(d)
    tmp = np.empty(d)
    tmp2 = np.empty(d)
    Lmu = np.empty(d)
    wbar = np.empty(d)
    Psi = np.empty((d, d))
    B = np.empty((d, d))
    G = np.empty((d, d))
    Binv = np.empty((d, d))
    H = np.empty((d, d))
    e = np.zeros(d)
    diag = np.empty(d)

    n_total = n_burn + n_keep * thin
    kept = 0
    for it in range(n_total):
        # ---- w_t | mu, Lambda, s2_t ------------------------------------
        for i in range(d):
            s = 0.0
            for k in range(d):
                s += Lam[i, k] * mu[k]
            Lmu[i] = s
        for t in range(T):
            inv = 1.0 / s2[t]
            for i in range(d):
                for k in range(i + 1):
                    P[i, k] = Lam[i, k] + A[t, i, k] * inv
                    P[k, i] = P[i, k]
                b[i] = Lmu[i] + c[t, i] * inv
            if _chol_jitter(P, d, diag) < 0.0:
                raise GibbsNotPositiveDefiniteError(
                    "Gibbs sampler: the posterior precision of a task's coefficients is not positive "
                    "definite even with jitter (features of extreme scale, collinear features or a "
                    "vanishing noise variance). Standardize the features (StandardScaler), drop "
                    "collinear or constant features, or raise prior_scale / alpha_2."
                )
            _solve_lower(P, b, tmp, d)
            for i in range(d):
                tmp[i] += np.random.standard_normal()
            _solve_lower_T(P, tmp, tmp2, d)
            for i in range(d):
                w[t, i] = tmp2[i]
        # ---- s2_t | w_t (or one shared s2 | all w) -----------------------
        rss_all = 0.0
        for t in range(T):
            rss = yy[t]
            for i in range(d):
                rss -= 2.0 * w[t, i] * c[t, i]
                s = 0.0
                for k in range(d):
                    s += A[t, i, k] * w[t, k]
                rss += w[t, i] * s
            if rss < 0.0:
                rss = 0.0
            if shared_noise:
                rss_all += rss
            else:
                s2[t] = 1.0 / np.random.gamma(a0 + 0.5 * W[t], 1.0 / (b0 + 0.5 * rss))
        if shared_noise:
            v = 1.0 / np.random.gamma(a0 + 0.5 * W.sum(), 1.0 / (b0 + 0.5 * rss_all))
            for t in range(T):
                s2[t] = v
        # ---- (mu, Sigma) | w ---------------------------------------------
        for i in range(d):
            s = 0.0
            for t in range(T):
                s += w[t, i]
            wbar[i] = s / T
        kn = kappa0 + T
        for i in range(d):
            for k in range(i + 1):
                s = 0.0
                for t in range(T):
                    s += (w[t, i] - wbar[i]) * (w[t, k] - wbar[k])
                s += Psi0[i, k] + kappa0 * T / kn * (wbar[i] - m0[i]) * (wbar[k] - m0[k])
                Psi[i, k] = s
                Psi[k, i] = s
        # Psi now holds U (lower), Psi_n = U U^T
        if _chol_jitter(Psi, d, diag) < 0.0:
            raise GibbsNotPositiveDefiniteError(
                "Gibbs sampler: the inverse-Wishart scale matrix of the shared prior is not positive "
                "definite even with jitter (task coefficients of extreme scale or NaN). Standardize "
                "the features (StandardScaler), drop collinear or constant features, or raise "
                "prior_scale."
            )
        nun = nu0 + T
        for i in range(d):
            for k in range(d):
                B[i, k] = 0.0
            B[i, i] = np.sqrt(np.random.chisquare(nun - i))
            for k in range(i):
                B[i, k] = np.random.standard_normal()
        # G = U^{-T} B, column by column
        for k in range(d):
            for i in range(d):
                tmp[i] = B[i, k]
            _solve_lower_T(Psi, tmp, tmp2, d)
            for i in range(d):
                G[i, k] = tmp2[i]
        for i in range(d):
            for k in range(d):
                s = 0.0
                for j in range(d):
                    s += G[i, j] * G[k, j]
                Lam[i, k] = s
        # mu = m_n + U B^{-T} z / sqrt(kn)
        for i in range(d):
            tmp[i] = np.random.standard_normal()
        _solve_lower_T(B, tmp, tmp2, d)
        for i in range(d):
            s = 0.0
            for k in range(i + 1):
                s += Psi[i, k] * tmp2[k]
            mu[i] = (kappa0 * m0[i] + T * wbar[i]) / kn + s / np.sqrt(kn)

        if it >= n_burn and (it - n_burn) % thin == 0:
            for i in range(d):
                mu_out[kept, i] = mu[i]
            for t in range(T):
                s2_out[kept, t] = s2[t]
                for i in range(d):
                    w_sum[t, i] += w[t, i]
                    if keep_coef:
                        w_out[kept, t, i] = w[t, i]
                    for k in range(d):
                        w_outer[t, i, k] += w[t, i] * w[t, k]
            # Sigma = U B^{-T} B^{-1} U^T: Binv = B^{-1}, H = U Binv^T
            for k in range(d):
                for i in range(d):
                    e[i] = 0.0
                e[k] = 1.0
                _solve_lower(B, e, tmp, d)
                for i in range(d):
                    Binv[i, k] = tmp[i]
            for i in range(d):
                for k in range(d):
                    s = 0.0
                    for j in range(min(i, k) + 1):
                        s += Psi[i, j] * Binv[k, j]
                    H[i, k] = s
            for i in range(d):
                for k in range(d):
                    s = 0.0
                    for j in range(d):
                        s += H[i, j] * H[k, j]
                    Sig_out[kept, i, k] = s
            kept += 1
    return mu_out, Sig_out, s2_out, w_out, w_sum, w_outer


# --------------------------------------------------------------------------
# diagnostics: the rank-normalized estimators of ``_diagnostics`` under their former names
# --------------------------------------------------------------------------


def split_rhat(x):
    """Rank-normalized split R-hat of draws ``x`` (n_chains, n_draws); see :func:`skmtl.bayes.rhat`."""
    return rhat(x)


def effective_sample_size(x):
    """Bulk effective sample size of draws ``x`` (n_chains, n_draws); see :func:`skmtl.bayes.ess_bulk`."""
    return ess_bulk(x)
