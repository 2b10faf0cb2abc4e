r"""MCMC convergence diagnostics: rank-normalized split R-hat, bulk and tail ESS.

The estimators of Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021),
"Rank-normalization, folding, and localization: an improved R-hat for
assessing convergence of MCMC", Bayesian Analysis 16(2), with the conventions
of ArviZ's defaults (``arviz.rhat(method="rank")``, ``arviz.ess(method="bulk")``
and ``arviz.ess(method="tail")``), so that the values agree with ArviZ's.

Notation: ``M`` chains of ``N`` draws are split in halves (the first
``floor(N/2)`` and the last ``floor(N/2)`` draws, so the middle draw of an odd
``N`` is dropped), giving ``m = 2M`` chains of ``n = floor(N/2)`` draws
``theta[j, i]``.

*Rank normalization*: ``z = Phi^-1((r - 3/8) / (S + 1/4))`` with ``r`` the
rank of each draw among all ``S = m n`` draws (average rank for ties) and
``Phi`` the standard normal CDF (Blom's offset ``c = 3/8``).

*Folding*: ``zeta = |theta - median(theta)|``.

*Split R-hat* of draws ``x``::

    W = mean_j s_j^2,   B = n var_j(xbar_j),   R = sqrt((B / W + n - 1) / n)

with ``s_j^2`` and ``var_j`` the unbiased (``ddof=1``) variances.

*ESS*: with the autocovariances ``gamma_j(t)`` of each split chain (biased,
computed by FFT), ``var+ = (n-1)/n W + var_j(xbar_j)`` and the combined
autocorrelations ``rho(t) = 1 - (W - mean_j gamma_j(t)) / var+``, the sums
``P_k = rho(2k) + rho(2k+1)`` are truncated at the first non-positive one
(Geyer's initial positive sequence) and made non-increasing (initial monotone
sequence); then ``tau = -1 + 2 sum_{k<K} P_k + rho(2K)`` (the last even lag is
kept when positive) and ``ESS = S / max(tau, 1 / log10(S))``, i.e. the ESS is
capped at ``S log10(S)`` (antithetic chains).

Only numpy and scipy (the normal quantile function, FFT lengths) are used.
"""

import numpy as np
from scipy.fft import next_fast_len
from scipy.special import ndtri

__all__ = ["rhat", "ess_bulk", "ess_tail"]

# the ArviZ / Stan thresholds (Vehtari et al. 2021, section 4)
RHAT_THRESHOLD = 1.01
MIN_ESS = 400


def _as_draws(draws):
    """``draws`` as a contiguous float array (n_params, n_chains, n_draws), and the parameter shape."""
    x = np.asarray(draws, dtype=np.float64)
    if x.ndim == 1:
        x = x[None]
    if x.ndim < 2:
        raise ValueError(f"draws must have shape (n_chains, n_draws, ...); got shape {x.shape}.")
    shape = x.shape[2:]
    x = np.ascontiguousarray(np.moveaxis(x.reshape(x.shape[0], x.shape[1], -1), 2, 0))
    bad = np.isnan(x).any(axis=(1, 2))
    if bad.any():  # a copy: never write into the caller's array
        x = np.where(bad[:, None, None], 0.0, x)
    return x, shape, bad


def _finish(value, shape, bad):
    """Reshape a per-parameter result, NaN where the draws hold NaN; a float for a scalar parameter."""
    value = np.where(bad, np.nan, value).reshape(shape)
    return float(value) if value.ndim == 0 else value


def _split(x):
    """(P, M, N) -> (P, 2M, N // 2): first and last halves of each chain."""
    h = x.shape[2] // 2
    return np.concatenate([x[:, :, :h], x[:, :, x.shape[2] - h:]], axis=1)


def _average_ranks(a):
    """Ranks (1-based, ties averaged) along the last axis of a 2-D array."""
    p, S = a.shape
    order = np.argsort(a, axis=1)
    srt = np.take_along_axis(a, order, axis=1)
    new = np.ones((p, S), dtype=bool)
    np.not_equal(srt[:, 1:], srt[:, :-1], out=new[:, 1:])
    if new.all():  # no ties: the ordinal ranks
        value = np.broadcast_to(np.arange(1.0, S + 1.0), (p, S))
    else:  # a run of ties [first, last] gets the average rank (first + last) / 2 + 1
        idx = np.broadcast_to(np.arange(S), (p, S))
        first = np.maximum.accumulate(np.where(new, idx, 0), axis=1)
        end = np.ones((p, S), dtype=bool)
        end[:, :-1] = new[:, 1:]
        last = np.minimum.accumulate(np.where(end, idx, S - 1)[:, ::-1], axis=1)[:, ::-1]
        value = 0.5 * (first + last) + 1.0
    ranks = np.empty((p, S))
    np.put_along_axis(ranks, order, value, axis=1)
    return ranks


def _z_scale(x):
    """Rank-normalize each parameter over all its chains and draws, Blom offset 3/8."""
    p, m, n = x.shape
    r = _average_ranks(x.reshape(p, m * n))
    return ndtri((r - 0.375) / (m * n + 0.25)).reshape(p, m, n)


def _rhat_split(x):
    """Classic R-hat of chains already split: (P, m, n) -> (P,)."""
    n = x.shape[2]
    B = n * x.mean(axis=2).var(axis=1, ddof=1)
    W = x.var(axis=2, ddof=1).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((B / W + n - 1) / n)


def _autocov(x):
    """Biased autocovariance of every chain along the last axis, by FFT (zero-padded, so exact)."""
    n = x.shape[-1]
    xc = x - x.mean(axis=-1, keepdims=True)
    nfft = next_fast_len(2 * n - 1, real=True)
    f = np.fft.rfft(xc, nfft, axis=-1)
    return np.fft.irfft(f.real**2 + f.imag**2, nfft, axis=-1)[..., :n] / n


def _ess(x):
    """ESS of chains already split, (P, m, n) -> (P,): Geyer's initial monotone sequence."""
    p, m, n = x.shape
    S = m * n
    const = (x.max(axis=(1, 2)) - x.min(axis=(1, 2))) < np.finfo(np.float64).resolution
    acov = _autocov(x)
    W = acov[:, :, 0].mean(axis=1) * n / (n - 1.0)
    var_plus = W * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + x.mean(axis=2).var(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (W[:, None] - acov.mean(axis=1)) / var_plus[:, None]  # (P, n)
    rho[:, 0] = 1.0
    k_max = max((n - 3) // 2, 0)  # the last pair (2k, 2k + 1) ArviZ's loop reaches
    pairs = rho[:, 0:2 * k_max + 1:2] + rho[:, 1:2 * k_max + 2:2]  # (P, k_max + 1)
    nonpos = pairs <= 0
    K = np.where(nonpos.any(axis=1), np.argmax(nonpos, axis=1), k_max)
    rows = np.arange(p)
    mono = np.minimum.accumulate(pairs, axis=1)
    cum = np.concatenate([np.zeros((p, 1)), np.cumsum(mono, axis=1)], axis=1)
    last = rho[rows, 2 * K]
    last = np.where((pairs[rows, K] >= 0) | (last > 0), last, 0.0)
    tau = -1.0 + 2.0 * cum[rows, K] + last
    tau = np.maximum(tau, 1.0 / np.log10(S))
    ess = np.where(np.isfinite(var_plus) & (var_plus > 0), S / tau, np.nan)
    return np.where(const, float(S), ess)


def rhat(draws):
    r"""Rank-normalized split R-hat (Vehtari et al. 2021), as ``arviz.rhat(method="rank")``.

    .. math::

        \hat R = \max\bigl(\hat R_{\text{bulk}}, \hat R_{\text{tail}}\bigr)

    where :math:`\hat R_{\text{bulk}}` is the split R-hat
    :math:`\sqrt{(B/W + n - 1)/n}` of the rank-normalized split chains and
    :math:`\hat R_{\text{tail}}` that of the rank-normalized folded draws
    :math:`|\theta - \operatorname{median}\theta|` (see the module docstring).
    Values above 1.01 mean the chains disagree (in location, or in scale).

    Parameters
    ----------
    draws : array-like of shape (n_chains, n_draws) or (n_chains, n_draws, \*param_shape)
        A 1-D array is one chain.

    Returns
    -------
    float or ndarray of shape param_shape
        NaN for a parameter whose draws hold NaN, and everywhere with fewer
        than 2 chains or 4 draws (as ArviZ).
    """
    x, shape, bad = _as_draws(draws)
    p, m, n = x.shape
    if m < 2 or n < 4:
        return _finish(np.full(p, np.nan), shape, bad)
    s = _split(x)
    bulk = _rhat_split(_z_scale(s))
    folded = np.abs(s - np.median(s.reshape(p, -1), axis=1)[:, None, None])
    tail = _rhat_split(_z_scale(folded))
    return _finish(np.maximum(bulk, tail), shape, bad)


def ess_bulk(draws):
    r"""Bulk effective sample size, as ``arviz.ess(method="bulk")``.

    The ESS of the rank-normalized split chains: how many independent draws
    would estimate the centre of the distribution (mean, median) as well.
    Vehtari et al. (2021) ask for at least 400 (100 per chain with 4 chains).

    Parameters
    ----------
    draws : array-like of shape (n_chains, n_draws) or (n_chains, n_draws, \*param_shape)

    Returns
    -------
    float or ndarray of shape param_shape
        In ``(0, S log10 S]`` with ``S`` the number of draws used; NaN where the
        draws hold NaN, and everywhere with fewer than 4 draws per chain.
    """
    x, shape, bad = _as_draws(draws)
    if x.shape[2] < 4:
        return _finish(np.full(x.shape[0], np.nan), shape, bad)
    return _finish(_ess(_z_scale(_split(x))), shape, bad)


def ess_tail(draws, prob=(0.05, 0.95)):
    r"""Tail effective sample size, as ``arviz.ess(method="tail")``.

    .. math::

        \text{ESS}_{\text{tail}} = \min\bigl(\text{ESS}(I[\theta \le q_{0.05}]),\,
        \text{ESS}(I[\theta \le q_{0.95}])\bigr)

    the split-chain ESS of the indicators of the draws below their 5% and 95%
    quantiles (type 7, pooled over all chains): how well the 90% interval's
    ends are estimated.

    Parameters
    ----------
    draws : array-like of shape (n_chains, n_draws) or (n_chains, n_draws, \*param_shape)
    prob : tuple of two floats, default=(0.05, 0.95)
        The quantiles whose indicators are used.

    Returns
    -------
    float or ndarray of shape param_shape
        NaN where the draws hold NaN, and everywhere with fewer than 4 draws per chain.
    """
    x, shape, bad = _as_draws(draws)
    p = x.shape[0]
    if x.shape[2] < 4:
        return _finish(np.full(p, np.nan), shape, bad)
    qs = np.quantile(x.reshape(p, -1), prob, axis=1)  # (len(prob), P)
    out = np.full(p, np.inf)
    for q in qs:
        indicator = (x <= q[:, None, None]).astype(np.float64)
        out = np.minimum(out, _ess(_split(indicator)))
    return _finish(out, shape, bad)


def _all_diagnostics(draws):
    """``(rhat(draws), ess_bulk(draws), ess_tail(draws))``, sharing the common work."""
    x, shape, bad = _as_draws(draws)
    p, m, n = x.shape
    if n < 4:
        nan = _finish(np.full(p, np.nan), shape, bad)
        return nan, nan, nan
    s = _split(x)
    z = _z_scale(s)
    bulk = _ess(z)
    if m < 2:
        r = np.full(p, np.nan)
    else:
        folded = np.abs(s - np.median(s.reshape(p, -1), axis=1)[:, None, None])
        r = np.maximum(_rhat_split(z), _rhat_split(_z_scale(folded)))
    del z
    tail = np.full(p, np.inf)
    for q in np.quantile(x.reshape(p, -1), (0.05, 0.95), axis=1):
        tail = np.minimum(tail, _ess(_split((x <= q[:, None, None]).astype(np.float64))))
    return _finish(r, shape, bad), _finish(bulk, shape, bad), _finish(tail, shape, bad)
