"""Multi-task automatic relevance determination (multi-task sparse Bayesian learning)."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, logsumexp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from .._param_validation import Interval, validate_params
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._common import _drop_zero_weights, _PredictiveRegressorMixin, _task_moments

__all__ = ["MultiTaskARDRegressor"]


def _posteriors(gamma_a, s2, A, c, active):
    """Posterior means and covariances of every task's active weights."""
    Aa = A[:, active][:, :, active]
    P = np.diag(1.0 / gamma_a)[None] + Aa / s2[:, None, None]
    V = np.linalg.inv(P)
    V = 0.5 * (V + np.swapaxes(V, 1, 2))
    m = np.einsum("tij,tj->ti", V, c[:, active]) / s2[:, None]
    return m, V, Aa


def _inclusion_scores(gamma, s2, A, c, active, m, V, grid):
    """Posterior probability that each feature is relevant, the others held at their estimates.

    Feature ``j`` is either absent (``gamma_j = 0``) or present with a
    log-uniform prior on ``gamma_j`` over ``grid``, with prior odds 1:1. The
    log marginal likelihood gain of adding ``j`` with precision ``a = 1/gamma_j``
    to a task whose model excludes it is
    ``l(a) = 1/2 [log a - log(a + s) + q^2 / (a + s)]`` with the sparsity and
    quality factors ``s, q`` of Tipping & Faul (2003); tasks add up.
    """
    T, d = c.shape
    Ad = np.einsum("tjj->tj", A)
    AV = np.einsum("tja,tab->tjb", A[:, :, active], V)
    S = Ad / s2[:, None] - np.einsum("tjb,tjb->tj", AV, A[:, :, active]) / s2[:, None] ** 2
    Q = c / s2[:, None] - np.einsum("tja,ta->tj", A[:, :, active], m) / s2[:, None]
    s, q = S.copy(), Q.copy()
    alpha = 1.0 / gamma[active]
    Sa, Qa = S[:, active], Q[:, active]
    den = np.maximum(alpha - Sa, 1e-12 * alpha)
    s[:, active] = alpha * Sa / den
    q[:, active] = alpha * Qa / den
    s = np.maximum(s, 1e-300)
    a = 1.0 / grid  # (G,)
    ll = 0.5 * (np.log(a)[None, None] - np.log(a[None, None] + s[..., None]) + q[..., None] ** 2 / (a[None, None] + s[..., None]))
    L = ll.sum(axis=0)  # (d, G)
    log_bf = logsumexp(L, axis=1) - np.log(len(grid))
    return expit(log_bf)


class MultiTaskARDRegressor(_PredictiveRegressorMixin, LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    r"""Multi-task ARD: relevance variances shared by all tasks, giving a joint support.

    For task ``t``, ``y_t = X_t w_t + b_t + eps_t`` with
    ``eps_t ~ N(0, sigma_t^2 / s_t)`` (``s`` the sample weights) and the prior
    ``w_tj ~ N(0, gamma_j)`` independently over tasks and features: feature
    ``j`` has one relevance ``gamma_j`` shared by every task. Maximizing the
    evidence in ``gamma`` (type-II maximum likelihood) drives the ``gamma_j``
    of irrelevant features to zero in all tasks at once, so the tasks share
    one support. This is M-SBL (Wipf & Rao 2007, "An empirical Bayesian
    strategy for solving the simultaneous sparse approximation problem",
    IEEE TSP 55) for a shared design and multi-task compressive sensing (Ji,
    Dunson & Carin 2009, IEEE TSP 57) when each task has its own rows.

    Updates (standardized units): every task's posterior
    ``V_t = (diag(1/gamma) + X_t^T S_t X_t / sigma_t^2)^{-1}``,
    ``m_t = V_t X_t^T S_t y_t / sigma_t^2``; MacKay's fixed point
    ``gamma_j = sum_t m_tj^2 / sum_t (1 - V_t,jj / gamma_j)``; the EM update
    ``sigma_t^2 = (||y_t - X_t m_t||^2_{S_t} + tr(X_t^T S_t X_t V_t)) / sum(s_t)``.
    A feature is pruned when ``1/gamma_j`` exceeds ``threshold_lambda``.

    The intercepts are handled by centring: each task's features and targets
    are centred by that task's (weighted) means, then all are scaled by the
    pooled standard deviations; the intercept is not penalized. The
    predictive variance adds ``sigma_t^2 / sum(s_t)`` for the task mean.

    ``inclusion_scores_`` gives, for each feature, the posterior probability
    of the model with the feature (``gamma_j`` log-uniform on
    ``[1e-4, 1e2]``) against the model without it (``gamma_j = 0``), at even
    prior odds and with the other features held at their estimates; it uses
    the sparsity and quality factors of Tipping & Faul (2003).

    Parameters
    ----------
    max_iter : int, default=300
    tol : float, default=1e-4
        Stop when no posterior mean (standardized units) moves by more than ``tol``.
    threshold_lambda : float, default=1e4
        Prune a feature when its precision ``1/gamma_j`` (standardized units) exceeds this.
    fit_intercept : bool, default=True
        Centre each task (per-task intercepts). When False the data are used as given.
    task_column : str or int, default=None
        Column of ``X`` holding task labels (long input); None for wide input.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Posterior means; zero outside the support.
    intercept_ : ndarray of shape (n_tasks,)
    coef_covariance_ : ndarray of shape (n_tasks, n_features, n_features)
        Posterior covariance of each task's weights (zero rows/columns outside the
        support), computed at the noise variance ``predictive_noise_variance_``.
    noise_variance_ : ndarray of shape (n_tasks,)
    noise_dof_ : ndarray of shape (n_tasks,)
        Residual degrees of freedom ``nu_t``: rows minus ``sum_j (1 - V_t,jj / gamma_j)``
        minus one for the intercept.
    predictive_noise_variance_ : ndarray of shape (n_tasks,)
        ``noise_variance_ * nu_t / (nu_t - 2)`` (``nu_t`` floored at 3): the noise
        variance ``predict(return_std=True)`` uses, accounting for the uncertainty of
        the estimate when a task has few rows.
    lambda_ : ndarray of shape (n_features,)
        Shared precisions ``1/gamma_j`` in standardized units (inf when pruned).
    support_ : ndarray of shape (n_features,), bool
        Features kept (the joint support).
    inclusion_scores_ : ndarray of shape (n_features,)
        Posterior inclusion probability of each feature.
    n_iter_ : int

    Examples
    --------
    >>> from skmtl.bayes import MultiTaskARDRegressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, n_informative=3, noise=0.1, random_state=0)
    >>> model = MultiTaskARDRegressor().fit(X, Y)
    >>> model.coef_.shape, int(model.support_.sum())
    ((4, 10), 3)
    """

    _parameter_constraints = {
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "threshold_lambda": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "task_column": [None, str, Integral],
    }

    def __init__(self, *, max_iter=300, tol=1e-4, threshold_lambda=1e4, fit_intercept=True, task_column=None):
        self.max_iter = max_iter
        self.tol = tol
        self.threshold_lambda = threshold_lambda
        self.fit_intercept = fit_intercept
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit the shared relevances and each task's posterior.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data, with the task column when ``task_column`` is set.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN marks a missing target in wide input.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validate_params(self)
        data = self._validate_fit(X, y, sample_weight)
        obs, ptr = _drop_zero_weights(data)
        if np.any(np.diff(ptr) == 0):
            raise ValueError("Every task needs at least one observation with a positive sample weight.")
        T, p = data.n_tasks, data.n_features
        rows, sw, yv = data.rows[obs], data.sample_weight[obs], data.y[obs]
        Xr = np.asarray(data.X, dtype=np.float64)[rows]
        t_of = np.repeat(np.arange(T), np.diff(ptr))
        W = np.add.reduceat(sw, ptr[:-1])
        if self.fit_intercept:
            x_mean = np.vstack([sw[ptr[t]:ptr[t + 1]] @ Xr[ptr[t]:ptr[t + 1]] for t in range(T)]) / W[:, None]
            y_mean = np.add.reduceat(sw * yv, ptr[:-1]) / W
        else:
            x_mean, y_mean = np.zeros((T, p)), np.zeros(T)
        Xc = Xr - x_mean[t_of]
        yc = yv - y_mean[t_of]
        x_scale = np.sqrt(sw @ Xc**2 / sw.sum())
        x_scale[x_scale < 1e-12] = 1.0
        y_scale = float(np.sqrt(sw @ yc**2 / sw.sum()))
        y_scale = y_scale if y_scale > 0 else 1.0
        A, c, yy, W = _task_moments(Xc / x_scale, yc / y_scale, ptr, sw)

        gamma = np.ones(p)
        s2 = np.maximum(yy / W, 1e-6)
        active = np.ones(p, dtype=bool)
        m_full = np.zeros((T, p))
        converged = False
        for it in range(self.max_iter):
            m, V, Aa = _posteriors(gamma[active], s2, A, c, active)
            g = 1.0 - np.einsum("tjj->tj", V) / gamma[active]
            num = (m**2).sum(axis=0)
            den = np.maximum(g.sum(axis=0), 1e-12)
            rss = yy - 2 * np.einsum("tj,tj->t", m, c[:, active]) + np.einsum("ti,tij,tj->t", m, Aa, m)
            s2 = np.maximum((rss + np.einsum("tij,tij->t", Aa, V)) / W, 1e-10)
            new_m = np.zeros((T, p))
            new_m[:, active] = m
            delta = np.max(np.abs(new_m - m_full)) if it > 0 else np.inf
            m_full = new_m
            gamma_new = gamma.copy()
            gamma_new[active] = num / den
            pruned = active & (gamma_new < 1.0 / self.threshold_lambda)
            gamma_new[pruned] = 0.0
            gamma = gamma_new
            active = gamma > 0
            if not active.any():
                break
            if delta < self.tol and not pruned.any():
                converged = True
                break
        self.n_iter_ = it + 1
        if not converged and active.any():
            warnings.warn(
                f"MultiTaskARDRegressor did not converge in max_iter={self.max_iter} iterations "
                f"(tol={self.tol}); increase max_iter or tol.",
                ConvergenceWarning,
            )
        coef_std = np.zeros((T, p))
        cov_std = np.zeros((T, p, p))
        n_eff = np.zeros(T)
        if active.any():
            m, V, _ = _posteriors(gamma[active], s2, A, c, active)
            n_eff = (1.0 - np.einsum("tjj->tj", V) / gamma[active]).sum(axis=1)
            coef_std[:, active] = m
            grid = np.logspace(-4, 2, 61)
            self.inclusion_scores_ = _inclusion_scores(gamma, s2, A, c, active, m, V, grid)
            # posterior covariance at the posterior-mean noise s2 nu / (nu - 2) (see noise_dof_)
            nu = np.maximum(W - n_eff - (1.0 if self.fit_intercept else 0.0), 3.0)
            V = _posteriors(gamma[active], s2 * nu / (nu - 2.0), A, c, active)[1]
            idx = np.flatnonzero(active)
            cov_std[:, idx[:, None], idx[None, :]] = V
        else:
            self.inclusion_scores_ = _inclusion_scores(gamma, s2, A, c, active, np.zeros((T, 0)),
                                                       np.zeros((T, 0, 0)), np.logspace(-4, 2, 61))
        D = y_scale / x_scale
        self.coef_ = coef_std * D
        self.coef_covariance_ = cov_std * D[None, :, None] * D[None, None, :]
        self.intercept_ = y_mean - np.einsum("tj,tj->t", x_mean, self.coef_)
        self.noise_variance_ = s2 * y_scale**2
        # residual degrees of freedom (rows - effective parameters - the centred intercept)
        self.noise_dof_ = W - n_eff - (1.0 if self.fit_intercept else 0.0)
        nu = np.maximum(self.noise_dof_, 3.0)
        self.predictive_noise_variance_ = self.noise_variance_ * nu / (nu - 2.0)
        self.lambda_ = np.where(active, 1.0 / np.where(active, gamma, 1.0), np.inf)
        self.support_ = active
        self._x_mean_task = x_mean
        self._w_task = W
        self._x_scale, self._y_scale = x_scale, y_scale
        return self

    def fit_new_task(self, X_new, y_new, sample_weight=None):
        """Posterior of a new task under the learned relevances; the fitted tasks are unchanged.

        Bayesian linear regression with the prior ``w_j ~ N(0, 1 / lambda_j)``
        (standardized units; pruned features are zero), the new task centred
        by its own means (its intercept unpenalized, as at fit) and its noise
        variance by evidence maximization under that fixed prior (the mean of
        ``noise_variance_`` when that leaves under 3 residual degrees of freedom).

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
        from ._hierarchical import TaskPosterior, _posterior, _single_task_em

        X, y, sw = check_new_task(self, X_new, y_new, sample_weight, attribute="lambda_")
        p = X.shape[1]
        W = sw.sum()
        if self.fit_intercept:
            x_mean, y_mean = sw @ X / W, float(sw @ y / W)
        else:
            x_mean, y_mean = np.zeros(p), 0.0
        act = self.support_
        Z = (X - x_mean)[:, act] / self._x_scale[act]
        u = (y - y_mean) / self._y_scale
        A, c, yy, _ = _task_moments(Z, u, np.array([0, len(u)]), sw)
        gamma = 1.0 / self.lambda_[act]
        s2_0 = max(float(np.mean(self.noise_variance_)) / self._y_scale**2, 1e-10)
        if act.any():
            m, V, s2, ev = _single_task_em(A[0], c[0], yy[0], W, np.log(sw).sum(), np.zeros(act.sum()),
                                           np.diag(gamma), s2_0)
            dof = W - float(np.sum(1.0 - np.diag(V) / gamma)) - float(self.fit_intercept)
            if dof < 3.0:  # too few rows to estimate the noise: the fitted tasks' mean
                m, V, s2, ev = _single_task_em(A[0], c[0], yy[0], W, np.log(sw).sum(), np.zeros(act.sum()),
                                               np.diag(gamma), s2_0, fix_noise=True)
                dof = W - float(np.sum(1.0 - np.diag(V) / gamma)) - float(self.fit_intercept)
        else:
            m, V, s2 = np.zeros(0), np.zeros((0, 0)), max(yy[0] / W, 1e-10)
            ev = -0.5 * (W * np.log(2 * np.pi * s2) - np.log(sw).sum() + yy[0] / s2)
            dof = W - float(self.fit_intercept)
        nu = max(dof, 3.0)
        inflation = nu / (nu - 2.0)
        if act.any():
            V = _posterior(np.diag(gamma), np.zeros(act.sum()), np.array([s2 * inflation]), A, c)[1][0]
        D = self._y_scale / self._x_scale[act]
        coef = np.zeros(p)
        coef[act] = m * D
        cov = np.zeros((p + 1, p + 1))
        idx = np.flatnonzero(act)
        Vo = V * D[:, None] * D[None, :]
        cov[idx[:, None], idx[None, :]] = Vo
        xa = x_mean[act]
        cov[idx, p] = cov[p, idx] = -Vo @ xa
        noise = s2 * self._y_scale**2
        cov[p, p] = xa @ Vo @ xa + (noise * inflation / W if self.fit_intercept else 0.0)
        intercept = y_mean - x_mean @ coef
        return TaskPosterior(self, coef, float(intercept), cov, noise, ev - W * np.log(self._y_scale), inflation)


    def _predict_dist(self, X, task_codes):
        X = np.asarray(X, dtype=np.float64)
        noise = self.predictive_noise_variance_ * (1.0 + 1.0 / self._w_task)
        if task_codes is None:
            mean = X @ self.coef_.T + self.intercept_
            Xc = X[:, None, :] - self._x_mean_task[None]  # (n, T, p)
            var = np.einsum("itj,tjk,itk->it", Xc, self.coef_covariance_, Xc, optimize=True) + noise
            return mean, var
        mean = np.einsum("ij,ij->i", X, self.coef_[task_codes]) + self.intercept_[task_codes]
        Xc = X - self._x_mean_task[task_codes]
        var = np.einsum("ij,ijk,ik->i", Xc, self.coef_covariance_[task_codes], Xc) + noise[task_codes]
        return mean, var
