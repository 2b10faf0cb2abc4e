"""Hierarchical Bayesian multi-task linear regression (a shared Gaussian prior on the tasks' weights)."""

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy.special import digamma, gammaln, logsumexp, multigammaln, polygamma
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._data import _check_features
from .._param_validation import Interval, StrOptions, validate_params
from .._progress import progress
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._common import _drop_zero_weights, _PredictiveRegressorMixin, _quad_rows, _Scaler, _task_moments
from ._diagnostics import MIN_ESS, RHAT_THRESHOLD, _all_diagnostics
from ._gibbs import _gibbs_chain

__all__ = ["BayesianMultiTaskRegressor", "MCMCConvergenceWarning", "TaskPosterior"]


class MCMCConvergenceWarning(ConvergenceWarning):
    """The Gibbs chains have not mixed, or are too short.

    Raised when a sampled quantity has a rank-normalized split R-hat above 1.01,
    or a bulk or tail effective sample size below 400 (Vehtari et al. 2021).
    """


# --------------------------------------------------------------------------
# empirical Bayes (EM)
# --------------------------------------------------------------------------


def _posterior(Sigma, mu, s2, A, c):
    """Posterior of every w_t under w_t ~ N(mu, Sigma): means, covariances, log|P_t|, log|Sigma|, mu^T Lam mu."""
    d = len(mu)
    Ls = np.linalg.cholesky(Sigma)
    logdet_S = 2.0 * np.log(np.diag(Ls)).sum()
    Lam = np.linalg.inv(Sigma)
    Lam = 0.5 * (Lam + Lam.T)
    P = Lam[None] + A / s2[:, None, None]
    Lp = np.linalg.cholesky(P)
    logdet_P = 2.0 * np.log(np.diagonal(Lp, axis1=1, axis2=2)).sum(axis=1)
    V = np.linalg.inv(P)
    V = 0.5 * (V + np.swapaxes(V, 1, 2))
    b = (Lam @ mu)[None] + c / s2[:, None]
    m = np.einsum("tij,tj->ti", V, b)
    quad = np.einsum("ti,ti->t", m, b)  # m^T P m = m^T b
    return m, V, logdet_P, logdet_S, float(mu @ Lam @ mu), quad, d


def _log_evidence(s2, W, sum_log_w, yy, logdet_P, logdet_S, mu_quad, quad):
    """Log marginal likelihood of each task (observations counted with their frequency weights)."""
    return -0.5 * (W * np.log(2 * np.pi * s2) - sum_log_w + logdet_S + logdet_P + yy / s2 + mu_quad - quad)


def _noise_update(A, c, yy, W, m, V, shared=False):
    rss = yy - 2 * np.einsum("ti,ti->t", m, c) + np.einsum("tij,tij->t", A, V) + np.einsum("ti,tij,tj->t", m, A, m)
    if shared:
        return np.full(len(W), max(rss.sum() / W.sum(), 1e-12))
    return np.maximum(rss / W, 1e-12)


# ---- hierarchical noise prior: sigma_t^2 ~ InvGamma(a, b), integrated out on a log-spaced grid

_GRID_MAX_NODES = 256


def _noise_grid(A, c, yy, W):
    """Log-spaced noise variances (standardized units) spanning every plausible ``sigma_t^2``.

    The noise prior is the inverse gamma truncated to (and discretized on) this grid. The top is
    4 times the largest variance of a task's targets about their mean; the bottom 1/10 of the
    smallest least-squares residual mean square ``min_w |y_t - Z_t w|^2 / n_t`` over the tasks
    that have residual degrees of freedom (below it a task's likelihood vanishes), at least 1e-6
    of the top. The spacing ``h = min(0.25, sqrt(2 / max_t n_t))`` in ``log sigma^2`` is about
    the posterior sd of ``log sigma_t^2`` of the largest task; with the shape of the prior at
    most ``1 / h^2`` (:func:`_fit_noise_prior`), no posterior is narrower than ``h / sqrt(2)``,
    and sums over the grid are then within ~1e-4 of the integrals (the trapezoid rule on a
    smooth, near-Gaussian integrand); at most ``_GRID_MAX_NODES`` nodes.
    """
    mean = c[:, -1] / W  # the last feature is the constant
    var = np.maximum(yy / W - mean**2, 0.0)
    hi = 4.0 * float(np.max(var))
    if not hi > 0:
        hi = 4.0 * max(float(np.max(yy / W)), 1e-12)
    rss = yy - np.einsum("ti,ti->t", c, np.einsum("tij,tj->ti", np.linalg.pinv(A, hermitian=True), c))
    ok = rss > 1e-10 * yy
    lo = 0.1 * float(np.min(rss[ok] / W[ok])) if np.any(ok) else 1e-4 * hi
    lo = min(max(lo, 1e-6 * hi), 1e-2 * hi)
    step = min(0.25, np.sqrt(2.0 / max(float(np.max(W)), 1.0)))
    k = int(np.clip(np.ceil(np.log(hi / lo) / step) + 1, 16, _GRID_MAX_NODES))
    return np.linspace(np.log(lo), np.log(hi), k)


def _grid_log_prior(log_grid, a, b):
    """Log weights of InvGamma(a, b) on the grid: density of log sigma^2, ``g^-a exp(-b / g)``, normalized."""
    lp = -a * log_grid - b * np.exp(-log_grid)
    return lp - logsumexp(lp)


def _grid_posterior(Sigma, mu, A, c, yy, W, sum_log_w, log_grid, log_prior):
    """Exact posterior of every (w_t, sigma_t^2) under w_t ~ N(mu, Sigma), sigma_t^2 on the grid.

    One eigendecomposition per task, ``Ls^T A_t Ls = U diag(D) U^T`` with ``Sigma = Ls Ls^T``,
    gives the Gaussian posterior of ``w_t`` at every grid value ``g`` at the cost of a product:
    ``(Sigma^-1 + A_t / g)^-1 = R diag(g / (g + D)) R^T``, ``R = Ls U``.

    Returns the posterior mean and covariance of ``w_t`` (sigma_t^2 integrated out), the
    posterior weights of the grid nodes ``r`` (n_tasks, n_nodes), the posterior mean of
    ``sigma_t^2`` and the log evidence of each task, ``log sum_k p_k N(y_t; ., g_k)``.
    """
    d = len(mu)
    Ls = np.linalg.cholesky(Sigma)
    B = Ls.T @ A @ Ls
    D, U = np.linalg.eigh(0.5 * (B + np.swapaxes(B, 1, 2)))
    D = np.maximum(D, 0.0)
    z = np.linalg.solve(Ls, mu)  # Ls^-1 mu, so that mu^T Sigma^-1 mu = |z|^2
    beta = np.einsum("tji,j->ti", U, z)
    gam = np.einsum("tji,tj->ti", U, c @ Ls)
    gk = np.exp(log_grid)
    g = gk[None, :, None]
    den = g + D[:, None, :]
    inv = 1.0 / den
    num = g * beta[:, None, :] + gam[:, None, :]
    u = num * inv  # rotated posterior mean at each node
    quad = np.sum(num * u, axis=2) / gk  # b^T P^-1 b
    logdet = np.sum(np.log(den), axis=2) - d * log_grid  # log|Sigma| + log|P|
    ev = -0.5 * (W[:, None] * np.log(2 * np.pi * gk)[None] - sum_log_w[:, None] + logdet + yy[:, None] / gk[None]
                 + float(z @ z) - quad)
    lp = ev + log_prior[None]
    ev_t = logsumexp(lp, axis=1)
    r = np.exp(lp - ev_t[:, None])
    ubar = np.matmul(r[:, None, :], u)[:, 0]
    h = np.matmul((r * gk)[:, None, :], inv)[:, 0]
    C = np.matmul(np.swapaxes(u * r[:, :, None], 1, 2), u) - ubar[:, :, None] * ubar[:, None, :]
    diag = np.arange(d)
    C[:, diag, diag] += h
    R = Ls @ U
    m = np.einsum("tij,tj->ti", R, ubar)
    V = R @ C @ np.swapaxes(R, 1, 2)
    V = 0.5 * (V + np.swapaxes(V, 1, 2))
    return m, V, r, r @ gk, ev_t


def _fit_noise_prior(r, log_grid, a, b, n_newton=20):
    """Maximize ``sum_t sum_k r_tk log p_k(a, b)`` over the inverse-gamma shape and scale.

    ``p_k`` is an exponential family in ``(a, b)`` (statistics ``-log g``, ``-1/g``), so the
    objective is concave; projected Newton steps (``0 <= a <= 1 / h^2`` with ``h`` the grid
    spacing, so that the prior, of sd about ``1 / sqrt(a)`` in ``log sigma^2``, spans a few
    nodes; ``b >= 0``), each accepted only if it increases the objective (the M-step of a
    monotone EM).
    """
    T = r.shape[0]
    a_max = 1.0 / (log_grid[1] - log_grid[0]) ** 2 if len(log_grid) > 1 else np.inf
    ginv = np.exp(-log_grid)
    rbar = r.sum(axis=0)
    s = np.array([rbar @ log_grid, rbar @ ginv])

    def obj(th):
        return -th @ s - T * logsumexp(-th[0] * log_grid - th[1] * ginv)

    th = np.array([min(a, a_max), b], dtype=np.float64)
    f = obj(th)
    for _ in range(n_newton):
        p = np.exp(_grid_log_prior(log_grid, th[0], th[1]))
        Ephi = np.array([p @ log_grid, p @ ginv])
        grad = T * Ephi - s
        dl, di = log_grid - Ephi[0], ginv - Ephi[1]
        H = T * np.array([[p @ (dl * dl), p @ (dl * di)], [p @ (dl * di), p @ (di * di)]])
        H += 1e-12 * np.trace(H) * np.eye(2) + 1e-300
        try:
            step = np.linalg.solve(H, grad)  # ascent direction of the concave objective
        except np.linalg.LinAlgError:
            break
        if not grad @ step > 1e-13 * max(1.0, abs(f)):  # Newton decrement: at the optimum
            break
        t = 1.0
        improved = False
        for _ in range(30):
            cand = np.maximum(th + t * step, 0.0)
            cand[0] = min(cand[0], a_max)
            fc = obj(cand)
            if fc > f:
                improved = True
                break
            t *= 0.5
        if not improved:
            break
        gain = fc - f
        th, f = cand, fc
        if gain <= 1e-12 * max(1.0, abs(f)):
            break
    return float(th[0]), float(th[1])


def _fa_step(S, L, psi, reg):
    """One EM step of factor analysis Sigma = L L^T + diag(psi) for second moment S (Rubin & Thayer 1982)."""
    k = L.shape[1]
    Sig = L @ L.T + np.diag(psi)
    beta = np.linalg.solve(Sig, L).T  # (k, d) = L^T Sig^{-1}
    Ezz = np.eye(k) - beta @ L + beta @ S @ beta.T
    L_new = np.linalg.solve(Ezz.T, (S @ beta.T).T).T
    psi_new = np.maximum(np.diag(S - L_new @ beta @ S), reg)
    return L_new, psi_new


def _fa_init(S, k, reg):
    evals, evecs = np.linalg.eigh(S)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    rest = evals[k:].mean() if k < len(evals) else 0.0
    L = evecs[:, :k] * np.sqrt(np.maximum(evals[:k] - rest, 1e-3 * max(evals[0], 1e-12)))
    psi = np.maximum(np.diag(S - L @ L.T), reg)
    return L, psi


def _sigma_step(m, V, covariance, reg_covar, L, psi, n_components):
    """M-step of (mu, Sigma) from the posterior means and covariances of the weights."""
    T, d = m.shape
    mu = m.mean(axis=0)
    dev = m - mu
    S = V.mean(axis=0) + dev.T @ dev / T
    if covariance == "full":
        Sigma = S + reg_covar * np.eye(d)
    elif covariance == "diagonal":
        Sigma = np.diag(np.diag(S) + reg_covar)
    elif L is None:
        L, psi = _fa_init(S, min(n_components, d), reg_covar)
        Sigma = L @ L.T + np.diag(psi)
    else:
        L, psi = _fa_step(S, L, psi, reg_covar)
        Sigma = L @ L.T + np.diag(psi)
    return mu, 0.5 * (Sigma + Sigma.T), L, psi, S


# ---- hierarchical prior on Sigma: Sigma ~ InvWishart(nu, Psi), Psi diagonal, integrated out
# variationally (q(Sigma) = InvWishart(nu + T, Psi + T S))


def _iw_expected_logdet(nu, Psi):
    """``E[log|Sigma|]`` under InvWishart(nu, Psi)."""
    d = len(Psi)
    return float(np.linalg.slogdet(Psi)[1] - d * np.log(2.0) - digamma((nu - np.arange(d)) / 2.0).sum())


def _iw_expected_logpdf(nu, Psi, e_logdet, e_inv):
    """``E[log InvWishart(Sigma; nu, Psi)]`` given ``E[log|Sigma|]`` and ``E[Sigma^-1]``."""
    d = len(Psi)
    return float(0.5 * nu * np.linalg.slogdet(Psi)[1] - 0.5 * nu * d * np.log(2.0) - multigammaln(0.5 * nu, d)
                 - 0.5 * (nu + d + 1) * e_logdet - 0.5 * np.sum(Psi * e_inv))


def _gamma_diffs(x, h, large=1e3):
    """``lgamma(x + h) - lgamma(x)``, ``digamma(x + h) - digamma(x)``, ``trigamma(x + h) - trigamma(x)``.

    Elementwise over ``x``; where ``x`` is large, from the differences of the asymptotic
    (Stirling) series, each written without cancellation (the plain differences lose every
    digit when ``x`` is ~1e8 and ``h`` ~10).
    """
    x = np.asarray(x, dtype=np.float64)
    lg = gammaln(x + h) - gammaln(x)
    dg = digamma(x + h) - digamma(x)
    tg = polygamma(1, x + h) - polygamma(1, x)
    big = x > large
    if np.any(big):
        xb = x[big]
        xh = xb + h
        l1 = np.log1p(h / xb)
        d1 = -h / (xb * xh)  # 1/(x+h) - 1/x
        d2 = -h * (2 * xb + h) / (xb * xh) ** 2  # 1/(x+h)^2 - 1/x^2
        d3 = d1 * (1 / xh**2 + 1 / (xb * xh) + 1 / xb**2)  # 1/(x+h)^3 - 1/x^3
        d4 = d2 * (1 / xh**2 + 1 / xb**2)
        d5 = d1 * (1 / xh**4 + 1 / (xh**3 * xb) + 1 / (xh * xb) ** 2 + 1 / (xh * xb**3) + 1 / xb**4)
        lg[big] = (xb - 0.5) * l1 + h * np.log(xh) - h + d1 / 12 - d3 / 360 + d5 / 1260
        dg[big] = l1 - d1 / 2 - d2 / 12 + d4 / 120
        tg[big] = d1 + d2 / 2 + d3 / 6 - d5 / 30
    return lg, dg, tg


def _covariance_prior_objective(theta, TS, T, hessian=False):
    """``log M``, its gradient (and Hessian) in ``theta = (log(nu - d + 1), log psi)``.

    ``log M = nu/2 log|Psi| - (nu + T)/2 log|Psi + T S| + log Gamma_d((nu + T)/2) - log Gamma_d(nu/2)``
    is the part of the evidence lower bound that depends on ``(nu, Psi = diag(psi))`` once
    ``q(Sigma)`` is at its optimum ``InvWishart(nu + T, Psi + T S)`` (up to a constant).
    Written with ``X = Psi^-1/2 T S Psi^-1/2 = U diag(lam) U^T`` so that it stays accurate when
    ``nu`` and ``psi`` are huge (a prior that pins Sigma to a diagonal matrix).
    """
    d = len(TS)
    nu1 = np.exp(theta[0])
    nu = d - 1.0 + nu1
    sq = np.exp(-0.5 * theta[1:])
    lam, U = np.linalg.eigh(TS * np.outer(sq, sq))
    lam = np.maximum(lam, 0.0)
    l1p = np.log1p(lam)
    x = 0.5 * (nu - np.arange(d))
    lg, dg, tg = _gamma_diffs(x, 0.5 * T)
    # log M = -nu/2 log|I + X| - T/2 (sum log psi + log|I + X|) + sum lgamma diffs
    f = float(-0.5 * nu * l1p.sum() - 0.5 * T * (theta[1:].sum() + l1p.sum()) + lg.sum())
    Cd = (U**2) @ (lam / (1.0 + lam))  # diag of X (I + X)^-1 = 1 - psi_j [(Psi + T S)^-1]_jj
    Bd = 1.0 - Cd
    f_nu = 0.5 * float(-l1p.sum() + dg.sum())
    g_phi = 0.5 * nu * Cd - 0.5 * T * Bd  # psi_j d log M / d psi_j
    grad = np.concatenate([[f_nu * nu1], g_phi])
    if not hessian:
        return f, grad
    B = (U / (1.0 + lam)) @ U.T  # (I + X)^-1 = Psi^1/2 (Psi + T S)^-1 Psi^1/2
    H = np.empty((d + 1, d + 1))
    H[0, 0] = 0.25 * float(tg.sum()) * nu1**2 + f_nu * nu1
    H[0, 1:] = H[1:, 0] = 0.5 * nu1 * Cd
    Hpp = 0.5 * (nu + T) * B**2
    Hpp[np.diag_indices(d)] = -0.5 * nu * Cd * (1.0 + Bd) + 0.5 * T * Bd**2 + g_phi
    H[1:, 1:] = Hpp
    return f, grad, H


def _covariance_prior_objective_scaled(theta, TS, T):
    """:func:`_covariance_prior_objective` in ``theta = (log(nu - d + 1), log(psi / nu))``.

    ``psi / nu`` is about the prior's mean of Sigma, so that in these coordinates the objective
    is far less coupled (and Newton far better behaved) when ``nu`` is large.
    """
    d = len(TS)
    nu1 = np.exp(theta[0])
    nu = d - 1.0 + nu1
    rho = nu1 / nu  # d log(nu) / d theta_0
    base = np.concatenate([[theta[0]], theta[1:] + np.log(nu)])
    f, g, H = _covariance_prior_objective(base, TS, T, hessian=True)
    J = np.eye(d + 1)
    J[1:, 0] = rho
    g2 = J.T @ g
    H2 = J.T @ H @ J
    H2[0, 0] += g[1:].sum() * rho * (1.0 - rho)
    return f, g2, H2


def _fit_covariance_prior(nu, Psi, S, T, max_newton=50, log_nu_max=np.log(1e8)):
    """Hyperparameters ``(nu, diag(psi))`` of the inverse-Wishart prior on Sigma given the weights' moments.

    Maximizes :func:`_covariance_prior_objective` (the evidence lower bound over ``nu``, ``psi``
    and ``q(Sigma)`` jointly, for the current weights) from the current values by Newton steps
    in :func:`_covariance_prior_objective_scaled`'s coordinates (Levenberg-damped where the
    Hessian is not negative definite, within a trust region, ``nu`` bounded by ``log_nu_max``:
    a Sigma as good as diagonal), each accepted only if it does not lower the objective, so
    that the EM objective never decreases.
    """
    d = len(S)
    TS = T * S
    theta = np.concatenate([[min(np.log(nu - d + 1.0), log_nu_max)], np.log(np.diag(Psi) / nu)])
    lo = np.concatenate([[-20.0], np.full(d, -60.0)])
    hi = np.concatenate([[log_nu_max], np.full(d, 60.0)])
    try:
        f, g, H = _covariance_prior_objective_scaled(theta, TS, T)
    except np.linalg.LinAlgError:
        return nu, Psi
    if not (np.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return nu, Psi
    f_start = f
    lam = 0.0
    for _ in range(max_newton):
        free = ~(((theta >= hi) & (g > 0)) | ((theta <= lo) & (g < 0)))
        Hf, gf = -H[np.ix_(free, free)], g[free]
        scale = max(np.max(np.abs(np.diag(Hf))), 1e-300)
        step = None
        for _ in range(60):  # damp until -H + lam I is positive definite
            try:
                Lh = np.linalg.cholesky(Hf + lam * scale * np.eye(len(gf)))
                step = np.linalg.solve(Lh.T, np.linalg.solve(Lh, gf))
                break
            except np.linalg.LinAlgError:
                lam = max(2.0 * lam, 1e-8)
        if step is None:
            break
        if not gf @ step > 1e-13 * max(1.0, abs(f)):  # Newton decrement: at the optimum
            break
        step *= min(1.0, 2.0 / max(float(np.abs(step).max()), 1e-300))  # trust region
        t = 1.0
        accepted = False
        for _ in range(12):
            cand = theta.copy()
            cand[free] += t * step
            cand = np.clip(cand, lo, hi)
            try:
                fc, gc, Hc = _covariance_prior_objective_scaled(cand, TS, T)
            except np.linalg.LinAlgError:
                fc = -np.inf
            if np.isfinite(fc) and fc >= f and np.all(np.isfinite(Hc)) and np.all(np.isfinite(gc)):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
        gain = fc - f
        theta, f, g, H = cand, fc, gc, Hc
        lam = lam * 0.1 if t == 1.0 else lam
        if gain <= 1e-11 * max(1.0, abs(f)):
            break
    if not f >= f_start:
        return nu, Psi
    nu_new = d - 1.0 + float(np.exp(theta[0]))
    return nu_new, np.diag(nu_new * np.exp(theta[1:]))


def _em(A, c, yy, W, sum_log_w, covariance, n_components, max_iter, tol, reg_covar, shared_noise=False,
        noise_prior=None, covariance_prior=None):
    """Empirical Bayes by (variational) EM; returns the fitted state and the objective's path.

    * ``noise_prior=None``: each ``s2_t`` (or one shared ``s2``) is a hyperparameter maximizing
      the objective. ``"inverse_gamma"``: ``s2_t ~ InvGamma(a, b)`` is integrated out on a fixed
      log-spaced grid (:func:`_noise_grid`), the ``s2_t`` being missing data like the weights,
      and ``(a, b)`` are hyperparameters.
    * ``covariance_prior=None``: ``Sigma`` is a hyperparameter. ``"inverse_wishart"`` (full
      ``Sigma`` only): ``Sigma ~ InvWishart(nu, diag(psi))`` is integrated out by a variational
      factor ``q(Sigma) = InvWishart(nu + T, diag(psi) + T S)`` (S the posterior second moment of
      ``w_t - mu``), ``(nu, psi)`` are hyperparameters, and each task's weights have the Gaussian
      prior ``N(mu, E_q[Sigma^-1]^-1)``. The objective is then the evidence lower bound
      ``sum_t log p(y_t | mu, E_q[Sigma^-1]^-1, .) + T/2 (log|E_q[Sigma^-1]^-1| - E_q log|Sigma|)
      - KL(q(Sigma) || p(Sigma))``.

    Every update maximizes the objective over one block (weights and noise: E-step; mu; q(Sigma);
    (nu, psi); q(Sigma); (a, b) or s2), so its path is non-decreasing up to the ``reg_covar`` ridge.
    """
    T, d, _ = A.shape
    vb = covariance_prior is not None and covariance == "full"
    # initial state: a pass under the unit prior, then moments of those posteriors
    s2 = np.ones(T)
    m, V = _posterior(np.eye(d), np.zeros(d), s2, A, c)[:2]
    mu, Sigma, L, psi, S = _sigma_step(m, V, covariance, reg_covar, None, None, n_components)
    s2 = _noise_update(A, c, yy, W, m, V, shared_noise)
    grid = None
    a = b = None
    if noise_prior is not None and not shared_noise:
        grid = _noise_grid(A, c, yy, W)
        a, b = 1.0, float(np.median(s2))
    nu = Psi = nu_q = Psi_q = None
    if vb:
        nu = d + 2.0
        Psi = np.diag(np.diag(S) + reg_covar)
        nu_q, Psi_q = nu + T, Psi + T * S
        Sigma = Psi_q / nu_q

    history = []
    converged = False
    n_iter = 0
    r = None
    for it in range(max_iter):
        if grid is None:
            m, V, logdet_P, logdet_S, mu_quad, quad, _ = _posterior(Sigma, mu, s2, A, c)
            ev = float(_log_evidence(s2, W, sum_log_w, yy, logdet_P, logdet_S, mu_quad, quad).sum())
        else:
            m, V, r, s2, ev_t = _grid_posterior(Sigma, mu, A, c, yy, W, sum_log_w, grid, _grid_log_prior(grid, a, b))
            ev = float(ev_t.sum())
        if vb:
            e_logdet = _iw_expected_logdet(nu_q, Psi_q)
            e_inv = nu_q * np.linalg.inv(Psi_q)
            ev += (0.5 * T * (np.linalg.slogdet(Sigma)[1] - e_logdet)
                   + _iw_expected_logpdf(nu, Psi, e_logdet, e_inv) - _iw_expected_logpdf(nu_q, Psi_q, e_logdet, e_inv))
        history.append(ev)
        n_iter = it + 1
        if it > 0 and abs(ev - history[-2]) <= tol * W.sum():
            converged = True
            break
        if it == max_iter - 1:
            break
        # M-step
        mu, Sigma, L, psi, S = _sigma_step(m, V, covariance, reg_covar, L, psi, n_components)
        if vb:
            nu, Psi = _fit_covariance_prior(nu, Psi, S, T)
            nu_q, Psi_q = nu + T, Psi + T * S
            Sigma = Psi_q / nu_q
        if grid is None:
            s2 = _noise_update(A, c, yy, W, m, V, shared_noise)
        else:
            a, b = _fit_noise_prior(r, grid, a, b)
    # covariance of a new task's weights: E_q[Sigma] (the prior N(mu, Sigma) the tasks use has
    # Sigma = E_q[Sigma^-1]^-1, smaller)
    Sigma_new = Sigma if not vb or nu_q <= d + 2 else Psi_q / (nu_q - d - 1)
    return dict(mu=mu, Sigma=Sigma, Sigma_new=Sigma_new, s2=s2, m=m, V=V, history=np.array(history),
                n_iter=n_iter, converged=converged, L=L, psi=psi, grid=grid, a=a, b=b, r=r,
                nu=nu, Psi=Psi)


def _single_task_em(A, c, yy, W, sum_log_w, mu, Sigma, s2, max_iter=500, tol=1e-10, fix_noise=False):
    """Posterior of one new task under a fixed prior, its noise by evidence maximization."""
    A, c, yy, W = A[None], c[None], np.array([yy]), np.array([W])
    s2 = np.array([s2])
    ev_old = -np.inf
    for _ in range(max_iter):
        m, V, logdet_P, logdet_S, mu_quad, quad, _ = _posterior(Sigma, mu, s2, A, c)
        ev = float(_log_evidence(s2, W, sum_log_w, yy, logdet_P, logdet_S, mu_quad, quad)[0])
        if fix_noise or abs(ev - ev_old) <= tol * max(1.0, W[0]):
            break
        ev_old = ev
        s2 = _noise_update(A, c, yy, W, m, V)
    return m[0], V[0], float(s2[0]), ev


# --------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------


class TaskPosterior:
    """Posterior of one new task under the prior a :class:`BayesianMultiTaskRegressor` learned.

    Returned by :meth:`BayesianMultiTaskRegressor.fit_new_task`, not built by hand.

    Parameters
    ----------
    parent : BayesianMultiTaskRegressor
        The fitted model whose prior this posterior is under.
    coef, intercept : ndarray of shape (n_features,), float
        Posterior means, stored as ``coef_`` and ``intercept_``.
    cov : ndarray of shape (n_features + 1, n_features + 1)
        Posterior covariance, stored as ``coef_covariance_``.
    noise : float
        Noise variance, stored as ``noise_variance_``.
    log_evidence : float
        Log marginal likelihood, stored as ``log_evidence_``.
    inflation : float, default=1.0
        Factor on the noise variance in predictions (the heavier tails of a learned noise prior).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Posterior mean of the weights.
    intercept_ : float
        Posterior mean of the intercept.
    coef_covariance_ : ndarray of shape (n_features + 1, n_features + 1)
        Posterior covariance of ``[coef_, intercept_]`` (the intercept last).
    noise_variance_ : float
        Noise variance of the new task: its posterior mean under the learned noise
        prior (EM with ``noise_prior="inverse_gamma"``), else its evidence-maximizing
        value under the fixed prior.
    log_evidence_ : float
        Log marginal likelihood of the new task's data (the noise integrated out
        where it has a prior).
    """

    def __init__(self, parent, coef, intercept, cov, noise, log_evidence, inflation=1.0):
        self._parent = parent
        self._inflation = inflation
        self.coef_ = coef
        self.intercept_ = intercept
        self.coef_covariance_ = cov
        self.noise_variance_ = noise
        self.log_evidence_ = log_evidence

    def predict(self, X, return_std=False):
        """Predictive mean (and standard deviation) for the new task; X without a task column."""
        X = _check_features(self._parent, X, reset=False, accept_sparse=False, dtype=[np.float64])
        mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return mean
        Xa = np.hstack([X, np.ones((X.shape[0], 1))])
        return mean, np.sqrt(_quad_rows(Xa, self.coef_covariance_) + self.noise_variance_ * self._inflation)


class BayesianMultiTaskRegressor(_PredictiveRegressorMixin, LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    r"""Hierarchical Bayesian linear regression: task weights drawn from a shared Gaussian.

    For task ``t`` with augmented inputs ``z = [x, 1]`` (the last weight is the
    task's intercept, so intercepts share the prior too)::

        y_ti = z_ti^T w_t + eps_ti,   eps_ti ~ N(0, sigma_t^2 / s_ti)
        w_t  ~ N(mu, Sigma)           (independently over tasks)

    with ``s_ti`` the sample weights (frequency weights: weight 2 is the same as
    the row twice). How related the tasks are is learned, not tuned: ``Sigma``
    small means the tasks share ``mu``, ``Sigma`` large means they are fitted
    alone (Bakker & Heskes 2003, "Task clustering and gating for Bayesian
    multitask learning", JMLR 4; Yu, Tresp & Schwaighofer 2005).

    The model is fitted in standardized units (features and targets centred and
    scaled over all training rows); every attribute is in the original units.

    * ``method="em"``: empirical Bayes by EM (the weights are the missing data).
      ``covariance`` is ``"full"``, ``"diagonal"`` or ``"low_rank"``
      (``Sigma = L L^T + diag(psi)`` with ``L`` of ``n_components`` columns,
      updated by the factor-analysis EM step). With ``noise_prior=None`` and
      ``covariance_prior=None``, ``mu``, ``Sigma`` and the ``sigma_t^2`` maximize
      the evidence ``sum_t log N(y_t; Z_t mu, Z_t Sigma Z_t^T + sigma_t^2 S_t^{-1})``.
      Plug-in estimates of many variances from few data make intervals too
      narrow (a task's noise from a few residual degrees of freedom, a full
      ``Sigma`` from few tasks), so by default those variances get priors of
      their own, whose hyperparameters are estimated instead:

      - ``noise_prior="inverse_gamma"`` (``noise="per_task"``):
        ``sigma_t^2 ~ InvGamma(a, b)``, the ``sigma_t^2`` integrated out
        (exactly, on a fine log-spaced grid that truncates and discretizes the
        prior) and ``(a, b)`` estimated: noisy per-task estimates are shrunk
        towards a common level as much as the spread of the tasks' noise allows
        (a = infinity would be ``noise="shared"``, a -> 0 no pooling), and
        intervals carry the noise's remaining uncertainty.
      - ``covariance_prior="inverse_wishart"`` (``covariance="full"``):
        ``Sigma ~ InvWishart(nu, diag(psi))``, ``Sigma`` integrated out
        variationally (``q(Sigma) = InvWishart(nu + T, diag(psi) + T S)``, ``S``
        the posterior second moment of ``w_t - mu``; each task's weights then have
        the prior ``N(mu, E_q[Sigma^-1]^-1)``) and ``(nu, psi)`` estimated:
        ``Sigma`` is shrunk towards a diagonal matrix as far as the data allow
        (``nu`` infinite: as good as ``covariance="diagonal"``).

      The objective, non-decreasing over the iterations (up to the
      ``reg_covar`` ridge), is the log marginal likelihood of the
      hyperparameters (the noise variances integrated out), and with
      ``covariance_prior`` its variational lower bound (Sigma integrated out);
      its path is ``evidence_history_``.
    * ``method="gibbs"``: full Bayes with conjugate priors,
      ``(mu, Sigma) ~ NIW(0, prior_kappa, nu0, prior_scale * I)`` with
      ``nu0 = d + 2`` unless ``prior_df`` is set (so ``E[Sigma] = prior_scale * I``),
      and ``sigma_t^2 ~ InvGamma(alpha_1, alpha_2)``, all in standardized units.
      ``n_chains`` chains of a Numba Gibbs sampler, ``burn_in`` sweeps dropped,
      then ``n_samples`` kept per chain, one every ``thin`` sweeps. Only
      ``covariance="full"``. Convergence is checked as ArviZ does (``rhat_``,
      ``ess_bulk_``, ``ess_tail_``); :meth:`to_inference_data` hands the draws
      to ArviZ.

    Prediction for a task seen at fit uses the posterior of its weights; a task
    label not seen at fit (long input) is predicted from the population:
    ``w ~ N(prior_mean_, prior_covariance_)`` with noise
    ``population_noise_variance_``. :meth:`fit_new_task` gives the posterior of
    a new task with data, under the learned prior, without refitting.

    Parameters
    ----------
    method : {"em", "gibbs"}, default="em"
    covariance : {"full", "diagonal", "low_rank"}, default="full"
        Structure of ``Sigma`` (EM only; Gibbs uses a full inverse-Wishart).
    noise : {"per_task", "shared"}, default="per_task"
        One noise variance per task, or one for all tasks. With few rows per
        task (fewer than a few times the number of features) a plug-in per-task
        estimate is noisy and intervals can be too narrow; the default
        ``noise_prior`` pools the tasks' noise variances to the degree the data
        support, between these two.
    noise_prior : {"inverse_gamma"} or None, default="inverse_gamma"
        EM with ``noise="per_task"``: the prior of each task's noise variance,
        ``sigma_t^2 ~ InvGamma(a, b)`` with ``a`` and ``b`` estimated by
        empirical Bayes and the ``sigma_t^2`` integrated out (the fitted values
        are ``noise_prior_shape_`` and ``noise_prior_scale_``). None: each
        ``sigma_t^2`` is a free hyperparameter (its plug-in estimate, intervals
        widened by ``noise_dof_``). Ignored with ``noise="shared"`` and by Gibbs
        (which uses ``alpha_1``, ``alpha_2``).
    covariance_prior : {"inverse_wishart"} or None, default="inverse_wishart"
        EM with ``covariance="full"``: the prior of ``Sigma``,
        ``InvWishart(nu, diag(psi))`` with ``nu`` and ``psi`` estimated by
        empirical Bayes and ``Sigma`` integrated out variationally (see above;
        the fitted values are ``covariance_prior_df_`` and
        ``covariance_prior_scale_``). None: ``Sigma`` is a free hyperparameter
        (its plug-in estimate). Ignored for the structured covariances and by
        Gibbs (which uses ``prior_df``, ``prior_scale``).
    n_components : int, default=2
        Rank of the low-rank part of ``Sigma`` when ``covariance="low_rank"``.
    max_iter : int, default=2000
        EM iterations at most.
    tol : float, default=1e-6
        EM stops when the evidence changes by less than ``tol`` times the
        number of observations.
    reg_covar : float, default=1e-6
        Added to the diagonal of ``Sigma`` (standardized units) to keep it positive definite.
    n_chains : int, default=4
    n_samples : int, default=1000
        Draws kept per chain (Gibbs). With the 4 default chains, 4,000 draws:
        enough for effective sample sizes above 400 on well-identified problems
        (see ``diagnostics_``); tasks with barely more rows than features mix
        slower and may need more.
    burn_in : int, default=500
        Sweeps dropped at the start of each chain (Gibbs).
    thin : int, default=1
        Keep one sweep in ``thin`` (Gibbs).
    prior_kappa : float, default=0.01
        Prior pseudo-count of ``mu`` in the normal-inverse-Wishart (Gibbs).
    prior_df : float, default=None
        Inverse-Wishart degrees of freedom; ``n_features + 3`` when None (Gibbs).
    prior_scale : float, default=0.1
        ``E[Sigma]`` under the prior, times the identity, standardized units (Gibbs).
    alpha_1, alpha_2 : float, default=1e-3
        Shape and rate of the inverse-gamma prior on each noise variance (Gibbs).
    n_jobs : int, default=None
        Gibbs chains run at the same time (threads; the sampler releases the
        GIL). None means 1, -1 all cores. The draws do not depend on it.
    random_state : int, RandomState or None, default=None
        Seeds the Gibbs chains.
    task_column : str or int, default=None
        Column of ``X`` holding task labels (long input); None for wide input.
    verbose : int, default=0
        Gibbs: a progress bar over the chains when positive.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Posterior mean of each task's weights.
    intercept_ : ndarray of shape (n_tasks,)
        Posterior mean of each task's intercept.
    coef_covariance_ : ndarray of shape (n_tasks, n_features + 1, n_features + 1)
        Posterior covariance of ``[coef_[t], intercept_[t]]``. EM with
        ``noise_prior``: with the noise integrated out; EM without: computed at
        the noise variance ``predictive_noise_variance_`` (the posterior mean
        of the noise given ``noise_dof_``), so that it reflects the noise's
        uncertainty too; Gibbs: the covariance of the draws.
    noise_variance_ : ndarray of shape (n_tasks,)
        Noise variance of each task: EM estimate (its posterior mean with
        ``noise_prior``), or posterior mean (Gibbs).
    prior_mean_ : ndarray of shape (n_features + 1,)
        ``mu`` (EM), or its posterior mean (Gibbs); intercept last.
    prior_covariance_ : ndarray of shape (n_features + 1, n_features + 1)
        The covariance of a new task's weights: ``Sigma`` (EM), ``E_q[Sigma]``
        (EM with ``covariance_prior``; the fitted tasks' posteriors and
        :meth:`fit_new_task` use the prior ``N(mu, E_q[Sigma^-1]^-1)``, a little
        tighter), or ``E[Sigma] + Cov[mu]`` under the posterior (Gibbs).
    noise_prior_shape_, noise_prior_scale_ : float
        EM with ``noise_prior="inverse_gamma"`` only: the fitted shape ``a`` and
        scale ``b`` (original units) of the inverse-gamma prior of the noise
        variances.
    noise_prior_support_, noise_prior_weights_ : ndarray of shape (n_nodes,)
        EM with ``noise_prior="inverse_gamma"`` only: the grid of noise
        variances (original units) the prior is truncated to and discretized
        on, and the prior's weights there.
    covariance_prior_df_ : float
        EM with ``covariance_prior="inverse_wishart"`` only: the fitted degrees
        of freedom ``nu`` of the inverse-Wishart prior of ``Sigma`` (at its cap,
        about 1e8: ``Sigma`` pinned to a diagonal matrix).
    covariance_prior_scale_ : ndarray of shape (n_features + 1, n_features + 1)
        EM with ``covariance_prior="inverse_wishart"`` only: its scale matrix
        ``diag(psi)``, fitted in standardized units, mapped to the original units.
    noise_dof_ : ndarray of shape (n_tasks,)
        EM without ``noise_prior``: residual degrees of freedom of each task's
        noise estimate, ``nu_t = sum(s_t) - tr(A_t V_t) / sigma_t^2`` (summed
        over tasks with ``noise="shared"``); inf where the noise is integrated
        out (EM with ``noise_prior``, Gibbs).
    predictive_noise_variance_ : ndarray of shape (n_tasks,)
        Noise variance used by ``predict(return_std=True)``. EM without
        ``noise_prior``: ``noise_variance_ * nu_t / (nu_t - 2)`` (``nu_t``
        floored at 3), the posterior mean of a noise variance estimated from
        ``nu_t`` residual degrees of freedom, so that intervals account for the
        uncertainty of the estimate when a task has few rows; EM with
        ``noise_prior`` and Gibbs: ``noise_variance_`` (the noise is already
        integrated out). ``predict`` returns
        ``sqrt(z^T coef_covariance_ z + predictive_noise_variance_)``: with the
        noise integrated out, the standard deviation of the (heavier-tailed than
        Gaussian) predictive distribution of a new observation.
    population_noise_variance_ : float
        Noise variance used for unseen tasks: the mean of the noise prior (EM
        with ``noise_prior``), else the mean of ``predictive_noise_variance_``.
    components_ : ndarray of shape (n_components, n_features + 1)
        ``covariance="low_rank"`` only: the factor ``L`` (fitted in
        standardized units) mapped to the original units;
        ``prior_covariance_ - components_.T @ components_`` is the image of
        the diagonal part ``diag(psi)``, positive semi-definite.
    evidence_ : float
        EM: the objective at the fitted hyperparameters (original units): the
        log evidence; with ``noise_prior``, the log marginal likelihood with
        the noise variances integrated out; with ``covariance_prior``, its
        evidence lower bound with ``Sigma`` integrated out (see above).
    evidence_history_ : ndarray of shape (``n_iter_``,)
        The objective at each EM iteration; non-decreasing.
    n_iter_ : int
        EM iterations run (Gibbs: sweeps per chain).
    posterior_samples_ : dict of ndarray
        Gibbs draws, first axis chain, second draw: ``"prior_mean"``
        (n_chains, n_samples, n_features + 1), ``"prior_covariance"``
        (..., n_features + 1, n_features + 1), ``"noise_variance"`` (..., n_tasks),
        ``"coef"`` (..., n_tasks, n_features + 1) (intercept last).
    rhat_ : dict of ndarray
        Gibbs only: the rank-normalized split R-hat (:func:`skmtl.bayes.rhat`, as
        ``arviz.rhat``) of every sampled quantity, keyed and shaped as
        ``posterior_samples_`` without the chain and draw axes (NaN with one chain).
    ess_bulk_, ess_tail_ : dict of ndarray
        Gibbs only: the bulk and tail effective sample sizes
        (:func:`skmtl.bayes.ess_bulk`, :func:`skmtl.bayes.ess_tail`, as
        ``arviz.ess``) of every sampled quantity, keyed and shaped as ``rhat_``.
    diagnostics_ : dict
        Gibbs only, a summary: ``"max_rhat"``, ``"min_ess_bulk"`` and
        ``"min_ess_tail"`` over every sampled quantity; ``"rhat_prior_mean"``,
        ``"ess_prior_mean"``, ``"rhat_noise_variance"`` and ``"ess_noise_variance"``
        (bulk ESS, per component); ``"min_ess_prior_mean"``,
        ``"sampling_seconds"`` (wall time of all chains) and
        ``"min_ess_per_second"`` (``min_ess_prior_mean`` per second). An
        :class:`MCMCConvergenceWarning` is raised when ``max_rhat > 1.01`` or
        ``min(min_ess_bulk, min_ess_tail) < 400``, the thresholds of Vehtari et al.
        (2021) (see the user guide); with one chain R-hat is NaN and only the
        effective sample sizes are checked.

    Examples
    --------
    >>> from skmtl.bayes import BayesianMultiTaskRegressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(40, 3, 5, structure="mean", noise=0.1, random_state=0)
    >>> model = BayesianMultiTaskRegressor().fit(X, Y)
    >>> model.coef_.shape, model.prior_mean_.shape  # the prior covers the intercept too
    ((5, 3), (4,))
    """

    _allow_unseen_tasks = True

    _parameter_constraints = {
        "method": [StrOptions({"em", "gibbs"})],
        "covariance": [StrOptions({"full", "diagonal", "low_rank"})],
        "noise": [StrOptions({"per_task", "shared"})],
        "noise_prior": [StrOptions({"inverse_gamma"}), None],
        "covariance_prior": [StrOptions({"inverse_wishart"}), None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "n_chains": [Interval(Integral, 1, None, closed="left")],
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "burn_in": [Interval(Integral, 0, None, closed="left")],
        "thin": [Interval(Integral, 1, None, closed="left")],
        "prior_kappa": [Interval(Real, 0, None, closed="neither")],
        "prior_df": [Interval(Real, 0, None, closed="neither"), None],
        "prior_scale": [Interval(Real, 0, None, closed="neither")],
        "alpha_1": [Interval(Real, 0, None, closed="neither")],
        "alpha_2": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
        "task_column": [None, str, Integral],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        method="em",
        *,
        covariance="full",
        noise="per_task",
        noise_prior="inverse_gamma",
        covariance_prior="inverse_wishart",
        n_components=2,
        max_iter=2000,
        tol=1e-6,
        reg_covar=1e-6,
        n_chains=4,
        n_samples=1000,
        burn_in=500,
        thin=1,
        prior_kappa=0.01,
        prior_df=None,
        prior_scale=0.1,
        alpha_1=1e-3,
        alpha_2=1e-3,
        n_jobs=None,
        random_state=None,
        task_column=None,
        verbose=0,
    ):
        self.method = method
        self.covariance = covariance
        self.noise = noise
        self.noise_prior = noise_prior
        self.covariance_prior = covariance_prior
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.reg_covar = reg_covar
        self.n_chains = n_chains
        self.n_samples = n_samples
        self.burn_in = burn_in
        self.thin = thin
        self.prior_kappa = prior_kappa
        self.prior_df = prior_df
        self.prior_scale = prior_scale
        self.alpha_1 = alpha_1
        self.alpha_2 = alpha_2
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.task_column = task_column
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None):
        """Fit the shared prior and every task's posterior.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            With the task column when ``task_column`` is set.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            NaN marks a missing target in wide input.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validate_params(self)
        if self.method == "gibbs" and self.covariance != "full":
            raise ValueError(
                f"covariance={self.covariance!r} is only available with method='em'; the Gibbs "
                f"sampler uses a full inverse-Wishart prior (set covariance='full')."
            )
        data = self._validate_fit(X, y, sample_weight)
        obs, ptr = _drop_zero_weights(data)
        if np.any(np.diff(ptr) == 0):
            raise ValueError("Every task needs at least one observation with a positive sample weight.")
        rows = data.rows[obs]
        sw = data.sample_weight[obs]
        scaler = _Scaler(data.X[rows], data.y[obs], sw)
        Z = scaler.augment(data.X[rows])
        u = scaler.transform_y(data.y[obs])
        A, c, yy, W = _task_moments(Z, u, ptr, sw)
        sum_log_w = np.add.reduceat(np.log(sw), ptr[:-1])
        self._scaler = scaler
        self._noise_grid = None
        if self.method == "em":
            self._fit_em(A, c, yy, W, sum_log_w, float(np.sum(sw)))
        else:
            self._fit_gibbs(A, c, yy, W)
        return self

    def _set_outputs(self, m, V, s2, mu, Sigma, dof=None, Sigma_new=None):
        """Store posteriors (standardized units) in the original units.

        ``Sigma`` is the prior covariance the tasks' posteriors use (kept for ``fit_new_task``),
        ``Sigma_new`` (default ``Sigma``) the covariance of a new task's weights.
        """
        sc = self._scaler
        M, off = sc.weight_map(), sc.offset()
        p = M.shape[0] - 1
        coef_aug = m @ M.T + off
        self.coef_ = coef_aug[:, :p].copy()
        self.intercept_ = coef_aug[:, p].copy()
        self.coef_covariance_ = M @ V @ M.T
        self.noise_variance_ = s2 * sc.y_scale**2
        self.prior_mean_ = M @ mu + off
        self.prior_covariance_ = M @ (Sigma if Sigma_new is None else Sigma_new) @ M.T
        if dof is None:
            self.noise_dof_ = np.full(len(s2), np.inf)
            self.predictive_noise_variance_ = self.noise_variance_.copy()
        else:
            self.noise_dof_ = dof
            self.predictive_noise_variance_ = self.noise_variance_ * _dof_inflation(dof)
        self.population_noise_variance_ = float(np.mean(self.predictive_noise_variance_))
        self._mu_std, self._Sigma_std = mu, Sigma

    def _fit_em(self, A, c, yy, W, sum_log_w, w_total):
        for attr in _EM_PRIOR_ATTRIBUTES + _GIBBS_ATTRIBUTES + ("components_",):
            self.__dict__.pop(attr, None)
        res = _em(A, c, yy, W, sum_log_w, self.covariance, self.n_components, self.max_iter, self.tol,
                  self.reg_covar, self.noise == "shared", self.noise_prior, self.covariance_prior)
        # evidence of the data in the original units (Jacobian of the target scaling)
        jac = w_total * np.log(self._scaler.y_scale)
        self.evidence_history_ = res["history"] - jac
        self.evidence_ = float(self.evidence_history_[-1])
        self.n_iter_ = res["n_iter"]
        if not res["converged"]:
            warnings.warn(
                f"BayesianMultiTaskRegressor (EM) did not converge in max_iter={self.max_iter} "
                f"iterations (tol={self.tol}); increase max_iter or tol. Slow convergence often "
                f"means a variance in Sigma is shrinking to zero: covariance='diagonal' or "
                f"'low_rank', or a larger reg_covar, converges faster.",
                ConvergenceWarning,
            )
        M = self._scaler.weight_map()
        y2 = self._scaler.y_scale**2
        self._noise_grid = res["grid"]
        if res["grid"] is not None:
            # the noise is integrated out: V and s2 are already the posterior covariance of the
            # weights and the posterior mean of each noise variance
            self._noise_log_prior = _grid_log_prior(res["grid"], res["a"], res["b"])
            self._set_outputs(res["m"], res["V"], res["s2"], res["mu"], res["Sigma"], Sigma_new=res["Sigma_new"])
            self.noise_prior_shape_ = res["a"]
            self.noise_prior_scale_ = res["b"] * y2
            self.noise_prior_support_ = np.exp(res["grid"]) * y2
            self.noise_prior_weights_ = np.exp(self._noise_log_prior)
            self.population_noise_variance_ = float(self.noise_prior_weights_ @ self.noise_prior_support_)
        else:
            # residual degrees of freedom: observations minus effective parameters tr(A_t V_t) / s2_t
            n_eff = np.einsum("tij,tij->t", A, res["V"]) / res["s2"]
            dof = W - n_eff
            if self.noise == "shared":
                dof = np.full(len(W), dof.sum())
            # the weights' posterior covariance at the posterior-mean noise s2 nu / (nu - 2), not at
            # the estimate s2: a first-order account of the noise's uncertainty (see noise_dof_)
            V = _posterior(res["Sigma"], res["mu"], res["s2"] * _dof_inflation(dof), A, c)[1]
            self._set_outputs(res["m"], V, res["s2"], res["mu"], res["Sigma"], dof, Sigma_new=res["Sigma_new"])
        if res["nu"] is not None:
            self.covariance_prior_df_ = float(res["nu"])
            self.covariance_prior_scale_ = M @ res["Psi"] @ M.T
        if res["L"] is not None:
            self.components_ = (M @ res["L"]).T

    def _fit_gibbs(self, A, c, yy, W):
        T, d, _ = A.shape
        rng = check_random_state(self.random_state)
        nu0 = float(d + 2) if self.prior_df is None else float(self.prior_df)
        if nu0 <= d - 1:
            raise ValueError(f"prior_df must exceed n_features (= {d - 1}); got {self.prior_df}.")
        Psi0 = self.prior_scale * max(nu0 - d - 1, 1.0) * np.eye(d)
        m0 = np.zeros(d)
        # compile / warm up outside the timing
        _gibbs_chain(A[:1], c[:1], yy[:1], W[:1], m0, self.prior_kappa, nu0, Psi0, self.alpha_1, self.alpha_2,
                     m0, np.ones(1), 0, 1, 1, 0, True, False)
        inits = []
        for _ in range(self.n_chains):
            seed = int(rng.randint(0, 2**31 - 1))
            mu_init = rng.normal(0.0, 1.0, d)
            s2_init = np.exp(rng.normal(0.0, 1.0, T))
            if self.noise == "shared":
                s2_init[:] = s2_init[0]
            inits.append((seed, mu_init, s2_init))

        def run(init):
            seed, mu_init, s2_init = init
            # the compiled kernel releases the GIL; numba's random state is per thread and
            # seeded inside the call, so a chain gives the same draws on any thread
            return _gibbs_chain(
                A, c, yy, W, m0, self.prior_kappa, nu0, Psi0, self.alpha_1, self.alpha_2, mu_init, s2_init,
                self.burn_in, self.n_samples, self.thin, seed, True, self.noise == "shared",
            )

        n_jobs = effective_n_jobs(self.n_jobs)
        t0 = time.perf_counter()
        desc = "Gibbs chains"
        if n_jobs > 1 and self.n_chains > 1:
            with ThreadPoolExecutor(max_workers=min(n_jobs, self.n_chains)) as pool:
                results = list(progress(pool.map(run, inits), self.verbose, desc=desc, total=self.n_chains))
        else:
            results = [run(init) for init in progress(inits, self.verbose, desc=desc)]
        seconds = time.perf_counter() - t0
        mus = [r[0] for r in results]
        Sigs = [r[1] for r in results]
        s2s = [r[2] for r in results]
        ws = [r[3] for r in results]
        w_sum = sum(r[4] for r in results)
        w_outer = sum(r[5] for r in results)
        N = self.n_chains * self.n_samples
        m = w_sum / N
        V = w_outer / N - np.einsum("ti,tj->tij", m, m)
        mu_s = np.stack(mus)
        Sig_s = np.stack(Sigs)
        s2_s = np.stack(s2s)
        mu_flat = mu_s.reshape(-1, d)
        Sigma_pop = Sig_s.reshape(-1, d, d).mean(axis=0) + np.cov(mu_flat, rowvar=False)
        self._set_outputs(m, V, s2_s.reshape(-1, T).mean(axis=0), mu_flat.mean(axis=0), Sigma_pop)
        sc = self._scaler
        M, off = sc.weight_map(), sc.offset()
        self.posterior_samples_ = {
            "prior_mean": mu_s @ M.T + off,
            "prior_covariance": M @ Sig_s @ M.T,
            "noise_variance": s2_s * sc.y_scale**2,
            "coef": np.stack(ws) @ M.T + off,
        }
        self.n_iter_ = self.burn_in + self.n_samples * self.thin
        self.rhat_, self.ess_bulk_, self.ess_tail_, self.diagnostics_ = _diagnostics(self.posterior_samples_, seconds)
        message = _convergence_message(self.diagnostics_, self.n_chains, self.n_samples, self.burn_in)
        if message:
            warnings.warn(message, MCMCConvergenceWarning)

    # ------------------------------------------------------------- predict
    def _predict_dist(self, X, task_codes):
        Xa = np.hstack([X, np.ones((X.shape[0], 1))])
        if task_codes is None:
            mean = X @ self.coef_.T + self.intercept_
            var = (np.einsum("ij,tjk,ik->it", Xa, self.coef_covariance_, Xa, optimize=True)
                   + self.predictive_noise_variance_)
            return mean, var
        W_ext = np.vstack([np.column_stack([self.coef_, self.intercept_]), self.prior_mean_])
        C_ext = np.concatenate([self.coef_covariance_, self.prior_covariance_[None]])
        n_ext = np.append(self.predictive_noise_variance_, self.population_noise_variance_)
        idx = np.where(task_codes < 0, self.n_tasks_, task_codes)
        mean = np.einsum("ij,ij->i", Xa, W_ext[idx])
        var = np.einsum("ij,ijk,ik->i", Xa, C_ext[idx], Xa) + n_ext[idx]
        return mean, var

    def fit_new_task(self, X_new, y_new, sample_weight=None):
        """Posterior of a new task under the learned prior; the fitted tasks are unchanged.

        The prior is the one the fitted tasks' posteriors use: ``N(prior_mean_,
        prior_covariance_)``, except with EM and ``covariance_prior="inverse_wishart"``,
        where it is ``N(prior_mean_, E_q[Sigma^-1]^-1)`` (see ``prior_covariance_``). With
        EM and ``noise_prior="inverse_gamma"`` the new task's noise variance is integrated
        out under the learned noise prior (``noise_variance_`` is then its posterior
        mean); otherwise it is set by maximizing the new task's evidence under the fixed
        prior (with ``noise="shared"`` it is the shared noise variance).

        Parameters
        ----------
        X_new : array-like of shape (n, n_features)
            Features only (no task column).
        y_new : array-like of shape (n,)
        sample_weight : array-like of shape (n,), default=None

        Returns
        -------
        TaskPosterior
            With ``coef_``, ``intercept_``, ``coef_covariance_``,
            ``noise_variance_`` and ``predict(X, return_std=False)``.
        """
        from .._new_task import check_new_task

        Xv, y, sw = check_new_task(self, X_new, y_new, sample_weight, attribute="prior_mean_")
        sc = self._scaler
        Z = sc.augment(Xv)
        u = sc.transform_y(y)
        A, c, yy, W = _task_moments(Z, u, np.array([0, len(u)]), sw)
        M, off = sc.weight_map(), sc.offset()
        if self.method == "em" and getattr(self, "_noise_grid", None) is not None:
            m, V, _, s2, ev = _grid_posterior(self._Sigma_std, self._mu_std, A, c, yy, W, np.array([np.log(sw).sum()]),
                                              self._noise_grid, self._noise_log_prior)
            w = M @ m[0] + off
            p = len(w) - 1
            return TaskPosterior(self, w[:p].copy(), float(w[p]), M @ V[0] @ M.T, float(s2[0]) * sc.y_scale**2,
                                 float(ev[0]) - W[0] * np.log(sc.y_scale))
        s2_0 = float(np.mean(self.noise_variance_)) / sc.y_scale**2
        m, V, s2, ev = _single_task_em(A[0], c[0], yy[0], W[0], np.log(sw).sum(), self._mu_std,
                                       self._Sigma_std, s2_0, fix_noise=self.noise == "shared")
        w = M @ m + off
        p = len(w) - 1
        if self.method == "gibbs":
            inflation = 1.0
        elif self.noise == "shared":
            inflation = float(_dof_inflation(self.noise_dof_[:1])[0])
        else:
            inflation = float(_dof_inflation(np.array([W[0] - np.sum(A[0] * V) / s2]))[0])
        if self.method == "em":
            V = _posterior(self._Sigma_std, self._mu_std, np.array([s2 * inflation]), A, c)[1][0]
        return TaskPosterior(self, w[:p].copy(), float(w[p]), M @ V @ M.T, s2 * sc.y_scale**2,
                             ev - W[0] * np.log(sc.y_scale), inflation)

    def to_inference_data(self):
        """The Gibbs draws as an ``arviz.InferenceData``.

        Needs the optional dependency ArviZ, before 1.0 (``pip install "arviz<1"``,
        or the ``bayes`` extra of skmtl). Its ``posterior`` group holds every sampled
        quantity in the original units, with dimensions ``chain`` and ``draw``
        first: ``prior_mean`` (``feature``), ``prior_covariance`` (``feature``,
        ``feature_bis``), ``noise_variance`` (``task``) and ``coef`` (``task``,
        ``feature``). The ``task`` coordinates are ``tasks_``; the ``feature``
        coordinates are ``feature_names_in_`` (``x0``, ``x1``, ... when the
        features have no names) followed by ``"intercept"`` (``"_intercept"`` if a
        feature has that name). So
        ``arviz.rhat(idata)`` and ``arviz.ess(idata)`` give ``rhat_`` and
        ``ess_bulk_``, and ``arviz.summary(idata)`` tabulates the posterior.
        The training data is not kept by the estimator, so there is no
        ``observed_data`` group.

        Returns
        -------
        arviz.InferenceData
        """
        check_is_fitted(self, "tasks_")
        if self.method != "gibbs" or not hasattr(self, "posterior_samples_"):
            raise ValueError(
                f"BayesianMultiTaskRegressor.to_inference_data needs the Gibbs draws, but this estimator "
                f"was fitted with method={self.method!r}, which keeps none: set method='gibbs' and fit again."
            )
        try:
            import arviz
        except ImportError as exc:
            raise ImportError(
                "BayesianMultiTaskRegressor.to_inference_data needs ArviZ: pip install 'arviz<1' "
                "(or pip install 'skmtl[bayes]')."
            ) from exc
        if int(arviz.__version__.split(".")[0]) >= 1:
            raise ImportError(
                f"BayesianMultiTaskRegressor.to_inference_data returns an arviz.InferenceData, which "
                f"ArviZ {arviz.__version__} no longer has: pip install 'arviz<1'."
            )
        names = getattr(self, "feature_names_in_", None)
        names = [f"x{i}" for i in range(self.n_features_in_)] if names is None else [str(n) for n in names]
        intercept = "intercept"
        while intercept in names:
            intercept = "_" + intercept
        features = names + [intercept]
        tasks = np.asarray(self.tasks_)
        return arviz.from_dict(
            posterior={k: np.array(v) for k, v in self.posterior_samples_.items()},
            coords={"task": tasks, "feature": features, "feature_bis": features},
            dims={
                "prior_mean": ["feature"],
                "prior_covariance": ["feature", "feature_bis"],
                "noise_variance": ["task"],
                "coef": ["task", "feature"],
            },
        )


_GIBBS_ATTRIBUTES = ("posterior_samples_", "rhat_", "ess_bulk_", "ess_tail_", "diagnostics_")
_EM_PRIOR_ATTRIBUTES = ("noise_prior_shape_", "noise_prior_scale_", "noise_prior_support_", "noise_prior_weights_",
                        "covariance_prior_df_", "covariance_prior_scale_")


def _dof_inflation(dof):
    """``nu / (nu - 2)``: the posterior mean of a noise variance over its estimate, for
    ``nu`` residual degrees of freedom (scaled inverse chi-square posterior), ``nu`` floored at 3."""
    nu = np.maximum(np.asarray(dof, dtype=np.float64), 3.0)
    return nu / (nu - 2.0)


def _finite_extreme(values, fn):
    """``fn`` (np.max or np.min) of the finite entries of the arrays in ``values``, NaN if none."""
    flat = np.concatenate([np.ravel(v) for v in values])
    flat = flat[np.isfinite(flat)]
    return float(fn(flat)) if flat.size else np.nan


def _diagnostics(samples, seconds):
    """R-hat, bulk and tail ESS of every sampled quantity, and their summary."""
    rh, eb, et = {}, {}, {}
    for k, v in samples.items():
        rh[k], eb[k], et[k] = _all_diagnostics(v)
    min_ess_mu = _finite_extreme([eb["prior_mean"]], np.min)
    summary = {
        "max_rhat": _finite_extreme(rh.values(), np.max),
        "min_ess_bulk": _finite_extreme(eb.values(), np.min),
        "min_ess_tail": _finite_extreme(et.values(), np.min),
        "rhat_prior_mean": rh["prior_mean"],
        "ess_prior_mean": eb["prior_mean"],
        "rhat_noise_variance": rh["noise_variance"],
        "ess_noise_variance": eb["noise_variance"],
        "min_ess_prior_mean": min_ess_mu,
        "sampling_seconds": seconds,
        "min_ess_per_second": min_ess_mu / seconds if seconds > 0 else np.inf,
    }
    return rh, eb, et, summary


def _convergence_message(dg, n_chains, n_samples, burn_in):
    """The warning's text when the draws fail R-hat <= 1.01 or ESS >= 400; '' when they pass."""
    problems = []
    if dg["max_rhat"] > RHAT_THRESHOLD:
        problems.append(f"max R-hat = {dg['max_rhat']:.3f} > {RHAT_THRESHOLD}: the chains disagree")
    low = float(np.fmin(dg["min_ess_bulk"], dg["min_ess_tail"]))
    if low < MIN_ESS:
        problems.append(f"min effective sample size = {low:.0f} < {MIN_ESS} (bulk {dg['min_ess_bulk']:.0f}, "
                        f"tail {dg['min_ess_tail']:.0f})")
    if not problems:
        return ""
    return (
        f"The Gibbs chains of BayesianMultiTaskRegressor have not converged: {'; '.join(problems)}. "
        f"Increase n_samples (now {n_samples} draws kept per chain) or n_chains (now {n_chains}), and "
        f"burn_in (now {burn_in}) when R-hat is high; rhat_, ess_bulk_ and ess_tail_ show which "
        f"quantities mix slowly. Exactly collinear features, or features constant within every task "
        f"(confounded with the intercept), leave a direction that only the prior fixes and mix slowly: "
        f"drop them."
    )
