"""Hierarchical Bayesian multi-task linear regression (a shared Gaussian prior on the tasks' weights)."""

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from joblib import effective_n_jobs
from sklearn.utils import check_random_state

from .._data import _check_features
from .._param_validation import Interval, StrOptions, validate_params
from .._progress import progress
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._common import _drop_zero_weights, _PredictiveRegressorMixin, _quad_rows, _Scaler, _task_moments
from ._gibbs import _gibbs_chain, effective_sample_size, split_rhat

__all__ = ["BayesianMultiTaskRegressor", "MCMCConvergenceWarning", "TaskPosterior"]


class MCMCConvergenceWarning(ConvergenceWarning):
    """The Gibbs chains have not mixed (split R-hat above 1.1)."""


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


def _em(A, c, yy, W, sum_log_w, covariance, n_components, max_iter, tol, reg_covar, shared_noise=False):
    """Evidence maximization for (mu, Sigma, s2_t); returns the fitted state and the evidence path."""
    T, d, _ = A.shape
    # initial state: a pass under the unit prior, then moments of those posteriors
    s2 = np.ones(T)
    m, V = _posterior(np.eye(d), np.zeros(d), s2, A, c)[:2]
    mu = m.mean(axis=0)
    dev = m - mu
    S = V.mean(axis=0) + dev.T @ dev / T
    L = psi = None
    if covariance == "full":
        Sigma = S + reg_covar * np.eye(d)
    elif covariance == "diagonal":
        Sigma = np.diag(np.diag(S) + reg_covar)
    else:
        L, psi = _fa_init(S, min(n_components, d), reg_covar)
        Sigma = L @ L.T + np.diag(psi)
    s2 = _noise_update(A, c, yy, W, m, V, shared_noise)

    history = []
    converged = False
    n_iter = 0
    for it in range(max_iter):
        m, V, logdet_P, logdet_S, mu_quad, quad, _ = _posterior(Sigma, mu, s2, A, c)
        ev = float(_log_evidence(s2, W, sum_log_w, yy, logdet_P, logdet_S, mu_quad, quad).sum())
        history.append(ev)
        n_iter = it + 1
        if it > 0 and abs(ev - history[-2]) <= tol * W.sum():
            converged = True
            break
        if it == max_iter - 1:
            break
        # M-step
        mu = m.mean(axis=0)
        dev = m - mu
        S = V.mean(axis=0) + dev.T @ dev / T
        if covariance == "full":
            Sigma = S + reg_covar * np.eye(d)
        elif covariance == "diagonal":
            Sigma = np.diag(np.diag(S) + reg_covar)
        else:
            L, psi = _fa_step(S, L, psi, reg_covar)
            Sigma = L @ L.T + np.diag(psi)
        Sigma = 0.5 * (Sigma + Sigma.T)
        s2 = _noise_update(A, c, yy, W, m, V, shared_noise)
    return dict(mu=mu, Sigma=Sigma, s2=s2, m=m, V=V, history=np.array(history), n_iter=n_iter,
                converged=converged, L=L, psi=psi)


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

    Returned by :meth:`BayesianMultiTaskRegressor.fit_new_task`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Posterior mean of the weights.
    intercept_ : float
        Posterior mean of the intercept.
    coef_covariance_ : ndarray of shape (n_features + 1, n_features + 1)
        Posterior covariance of ``[coef_, intercept_]`` (the intercept last).
    noise_variance_ : float
        Noise variance of the new task (evidence maximization under the fixed prior).
    log_evidence_ : float
        Log marginal likelihood of the new task's data.
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

    * ``method="em"``: empirical Bayes. ``mu``, ``Sigma`` and the ``sigma_t^2``
      maximize the evidence ``sum_t log N(y_t; Z_t mu, Z_t Sigma Z_t^T + sigma_t^2 S_t^{-1})``
      by EM (the weights are the missing data). ``covariance`` is ``"full"``,
      ``"diagonal"`` or ``"low_rank"`` (``Sigma = L L^T + diag(psi)`` with
      ``L`` of ``n_components`` columns, updated by the factor-analysis EM step).
      Every step increases the evidence (up to the ``reg_covar`` ridge);
      its path is ``evidence_history_``.
    * ``method="gibbs"``: full Bayes with conjugate priors,
      ``(mu, Sigma) ~ NIW(0, prior_kappa, nu0, prior_scale * I)`` with
      ``nu0 = d + 2`` unless ``prior_df`` is set (so ``E[Sigma] = prior_scale * I``),
      and ``sigma_t^2 ~ InvGamma(alpha_1, alpha_2)``, all in standardized units.
      ``n_chains`` chains of a Numba Gibbs sampler, ``burn_in`` sweeps dropped,
      then ``n_samples`` kept per chain, one every ``thin`` sweeps. Only
      ``covariance="full"``.

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
        task (fewer than a few times the number of features) a per-task
        estimate is noisy and intervals can be too narrow; "shared" is then
        the better choice.
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
    n_samples : int, default=500
        Draws kept per chain (Gibbs).
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
        Posterior covariance of ``[coef_[t], intercept_[t]]``. EM: computed at
        the noise variance ``predictive_noise_variance_`` (the posterior mean
        of the noise given ``noise_dof_``), so that it reflects the noise's
        uncertainty too; Gibbs: the covariance of the draws.
    noise_variance_ : ndarray of shape (n_tasks,)
        Noise variance of each task (EM estimate, or posterior mean).
    prior_mean_ : ndarray of shape (n_features + 1,)
        ``mu`` (EM), or its posterior mean (Gibbs); intercept last.
    prior_covariance_ : ndarray of shape (n_features + 1, n_features + 1)
        ``Sigma`` (EM), or ``E[Sigma] + Cov[mu]`` under the posterior (Gibbs):
        the covariance of a new task's weights.
    noise_dof_ : ndarray of shape (n_tasks,)
        EM: residual degrees of freedom of each task's noise estimate,
        ``nu_t = sum(s_t) - tr(A_t V_t) / sigma_t^2`` (summed over tasks with
        ``noise="shared"``); inf for Gibbs.
    predictive_noise_variance_ : ndarray of shape (n_tasks,)
        Noise variance used by ``predict(return_std=True)``. EM:
        ``noise_variance_ * nu_t / (nu_t - 2)`` (``nu_t`` floored at 3), the
        posterior mean of a noise variance estimated from ``nu_t`` residual
        degrees of freedom, so that intervals account for the uncertainty of
        the estimate when a task has few rows; Gibbs: ``noise_variance_``
        (the noise is already integrated out).
    population_noise_variance_ : float
        Mean of ``predictive_noise_variance_``, used for unseen tasks.
    components_ : ndarray of shape (n_components, n_features + 1)
        ``covariance="low_rank"`` only: the factor ``L`` (fitted in
        standardized units) mapped to the original units;
        ``prior_covariance_ - components_.T @ components_`` is the image of
        the diagonal part ``diag(psi)``, positive semi-definite.
    evidence_ : float
        Log evidence at the fitted hyperparameters (EM).
    evidence_history_ : ndarray of shape (``n_iter_``,)
        Log evidence at each EM iteration; non-decreasing.
    n_iter_ : int
        EM iterations run (Gibbs: sweeps per chain).
    posterior_samples_ : dict of ndarray
        Gibbs draws, first axis chain, second draw: ``"prior_mean"``
        (n_chains, n_samples, n_features + 1), ``"prior_covariance"``
        (..., n_features + 1, n_features + 1), ``"noise_variance"`` (..., n_tasks),
        ``"coef"`` (..., n_tasks, n_features + 1) (intercept last).
    diagnostics_ : dict
        Gibbs only: ``"rhat_prior_mean"``, ``"ess_prior_mean"``,
        ``"rhat_noise_variance"``, ``"ess_noise_variance"`` (per component),
        ``"max_rhat"``, ``"min_ess_prior_mean"``, ``"sampling_seconds"`` (wall
        time of all chains) and ``"min_ess_per_second"``. An :class:`MCMCConvergenceWarning` is raised
        when ``max_rhat > 1.1``.
    """

    _allow_unseen_tasks = True

    _parameter_constraints = {
        "method": [StrOptions({"em", "gibbs"})],
        "covariance": [StrOptions({"full", "diagonal", "low_rank"})],
        "noise": [StrOptions({"per_task", "shared"})],
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
        n_components=2,
        max_iter=2000,
        tol=1e-6,
        reg_covar=1e-6,
        n_chains=4,
        n_samples=500,
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
        if self.method == "em":
            self._fit_em(A, c, yy, W, sum_log_w, float(np.sum(sw)))
        else:
            self._fit_gibbs(A, c, yy, W)
        return self

    def _set_outputs(self, m, V, s2, mu, Sigma, dof=None):
        """Store posteriors (standardized units) in the original units."""
        sc = self._scaler
        M, off = sc.weight_map(), sc.offset()
        p = M.shape[0] - 1
        coef_aug = m @ M.T + off
        self.coef_ = coef_aug[:, :p].copy()
        self.intercept_ = coef_aug[:, p].copy()
        self.coef_covariance_ = M @ V @ M.T
        self.noise_variance_ = s2 * sc.y_scale**2
        self.prior_mean_ = M @ mu + off
        self.prior_covariance_ = M @ Sigma @ M.T
        if dof is None:
            self.noise_dof_ = np.full(len(s2), np.inf)
            self.predictive_noise_variance_ = self.noise_variance_.copy()
        else:
            self.noise_dof_ = dof
            self.predictive_noise_variance_ = self.noise_variance_ * _dof_inflation(dof)
        self.population_noise_variance_ = float(np.mean(self.predictive_noise_variance_))
        self._mu_std, self._Sigma_std = mu, Sigma

    def _fit_em(self, A, c, yy, W, sum_log_w, w_total):
        res = _em(A, c, yy, W, sum_log_w, self.covariance, self.n_components, self.max_iter, self.tol,
                  self.reg_covar, self.noise == "shared")
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
        # residual degrees of freedom: observations minus effective parameters tr(A_t V_t) / s2_t
        n_eff = np.einsum("tij,tij->t", A, res["V"]) / res["s2"]
        dof = W - n_eff
        if self.noise == "shared":
            dof = np.full(len(W), dof.sum())
        # the weights' posterior covariance at the posterior-mean noise s2 nu / (nu - 2), not at
        # the estimate s2: a first-order account of the noise's uncertainty (see noise_dof_)
        V = _posterior(res["Sigma"], res["mu"], res["s2"] * _dof_inflation(dof), A, c)[1]
        self._set_outputs(res["m"], V, res["s2"], res["mu"], res["Sigma"], dof)
        if res["L"] is not None:
            M = self._scaler.weight_map()
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
        self.diagnostics_ = _diagnostics(self.posterior_samples_, seconds)
        if self.diagnostics_["max_rhat"] > 1.1:
            warnings.warn(
                f"The Gibbs chains have not mixed: max split R-hat = {self.diagnostics_['max_rhat']:.3f} "
                f"> 1.1. Increase burn_in and n_samples (or thin). Exactly collinear features, or "
                f"features constant within every task (confounded with the intercept), leave a "
                f"direction that only the prior fixes and mix slowly: drop them.",
                MCMCConvergenceWarning,
            )

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

        The prior is ``N(prior_mean_, prior_covariance_)``; the new task's noise
        variance is set by maximizing its evidence under that fixed prior
        (with ``noise="shared"`` it is the shared noise variance).

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
        s2_0 = float(np.mean(self.noise_variance_)) / sc.y_scale**2
        m, V, s2, ev = _single_task_em(A[0], c[0], yy[0], W[0], np.log(sw).sum(), self._mu_std,
                                       self._Sigma_std, s2_0, fix_noise=self.noise == "shared")
        M, off = sc.weight_map(), sc.offset()
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


def _dof_inflation(dof):
    """``nu / (nu - 2)``: the posterior mean of a noise variance over its estimate, for
    ``nu`` residual degrees of freedom (scaled inverse chi-square posterior), ``nu`` floored at 3."""
    nu = np.maximum(np.asarray(dof, dtype=np.float64), 3.0)
    return nu / (nu - 2.0)


def _diagnostics(samples, seconds):
    mu = samples["prior_mean"]
    s2 = samples["noise_variance"]
    rhat_mu = np.array([split_rhat(mu[:, :, j]) for j in range(mu.shape[2])])
    ess_mu = np.array([effective_sample_size(mu[:, :, j]) for j in range(mu.shape[2])])
    log_s2 = np.log(s2)
    rhat_s2 = np.array([split_rhat(log_s2[:, :, t]) for t in range(s2.shape[2])])
    ess_s2 = np.array([effective_sample_size(log_s2[:, :, t]) for t in range(s2.shape[2])])
    min_ess = float(np.nanmin(ess_mu)) if np.any(np.isfinite(ess_mu)) else np.nan
    return {
        "rhat_prior_mean": rhat_mu,
        "ess_prior_mean": ess_mu,
        "rhat_noise_variance": rhat_s2,
        "ess_noise_variance": ess_s2,
        "max_rhat": float(np.nanmax(np.concatenate([rhat_mu, rhat_s2]))),
        "min_ess_prior_mean": min_ess,
        "sampling_seconds": seconds,
        "min_ess_per_second": min_ess / seconds if seconds > 0 else np.inf,
    }
