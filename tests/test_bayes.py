"""Bayesian multi-task linear models: calibration, EM vs Gibbs, ARD support, API."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ARDRegression

from skmtl.bayes import BayesianMultiTaskRegressor, MCMCConvergenceWarning, MultiTaskARDRegressor


def draw_hierarchical(T=30, d=4, n=20, n_test=0, noise=(0.3, 1.0), seed=0, shared_design=False):
    """Tasks drawn from the model: w_t ~ N(mu, Sigma) (intercept last), per-task noise."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=d + 1)
    B = rng.normal(size=(d + 1, d + 1)) * 0.4
    Sigma = B @ B.T + 0.05 * np.eye(d + 1)
    W = rng.multivariate_normal(mu, Sigma, size=T)
    sig = rng.uniform(*noise, size=T)
    out = {"W": W, "mu": mu, "Sigma": Sigma, "sigma": sig}
    m = n + n_test
    if shared_design:
        X = rng.normal(size=(m, d))
        Y = X @ W[:, :d].T + W[:, d] + rng.normal(size=(m, T)) * sig
        out.update(X=X[:n], Y=Y[:n], X_test=X[n:], Y_test=Y[n:])
        return out
    Xs = rng.normal(size=(T, m, d))
    ys = np.einsum("tnd,td->tn", Xs, W[:, :d]) + W[:, d][:, None] + rng.normal(size=(T, m)) * sig[:, None]
    task = np.repeat(np.arange(T), n)
    out.update(
        X=np.column_stack([task, Xs[:, :n].reshape(-1, d)]),
        y=ys[:, :n].ravel(),
        X_test=np.column_stack([np.repeat(np.arange(T), n_test), Xs[:, n:].reshape(-1, d)]),
        y_test=ys[:, n:].ravel(),
    )
    return out


# --------------------------------------------------------------------------- EM


PLUG_IN = dict(noise_prior=None, covariance_prior=None)  # the plug-in (no hyperprior) EM


@pytest.mark.parametrize(
    "covariance, kwargs",
    [("full", {}), ("diagonal", {}), ("low_rank", {}), ("full", PLUG_IN), ("full", dict(covariance_prior=None)),
     ("full", dict(noise_prior=None)), ("full", dict(noise="shared")), ("low_rank", PLUG_IN)],
)
def test_em_evidence_is_monotone(covariance, kwargs):
    """Every EM update increases its objective: evidence, marginal likelihood or lower bound."""
    D = draw_hierarchical(T=25, d=4, n=15, seed=1)
    m = BayesianMultiTaskRegressor(covariance=covariance, task_column=0, **kwargs).fit(D["X"], D["y"])
    h = m.evidence_history_
    assert len(h) == m.n_iter_ > 2
    assert np.all(np.diff(h) >= -1e-9 * np.abs(h[:-1])), np.diff(h).min()
    assert m.evidence_ == h[-1]


def test_full_covariance_has_highest_evidence_on_full_data():
    D = draw_hierarchical(T=40, d=3, n=20, seed=2)
    ev = {c: BayesianMultiTaskRegressor(covariance=c, task_column=0, **PLUG_IN).fit(D["X"], D["y"]).evidence_
          for c in ["full", "diagonal"]}
    assert ev["full"] > ev["diagonal"]


def test_em_recovers_population():
    D = draw_hierarchical(T=200, d=3, n=30, seed=3)
    m = BayesianMultiTaskRegressor(task_column=0).fit(D["X"], D["y"])
    assert np.allclose(m.prior_mean_, D["mu"], atol=0.15)
    assert np.allclose(m.prior_covariance_, D["Sigma"], atol=0.2)
    assert np.corrcoef(np.sqrt(m.noise_variance_), D["sigma"])[0, 1] > 0.8


def test_evidence_matches_dense_gaussian():
    """The evidence EM reports is log N(y_t; X_t mu, X_t Sigma X_t^T + s2_t I) summed over tasks."""
    D = draw_hierarchical(T=6, d=2, n=8, seed=4)
    m = BayesianMultiTaskRegressor(task_column=0, **PLUG_IN).fit(D["X"], D["y"])
    from scipy.stats import multivariate_normal

    total = 0.0
    for t in range(6):
        rows = D["X"][:, 0] == t
        Xa = np.column_stack([D["X"][rows, 1:], np.ones(rows.sum())])
        C = Xa @ m.prior_covariance_ @ Xa.T + m.noise_variance_[t] * np.eye(rows.sum())
        total += multivariate_normal(Xa @ m.prior_mean_, C).logpdf(D["y"][rows])
    assert np.isclose(total, m.evidence_, rtol=1e-8)


def test_noise_prior_evidence_integrates_the_noise():
    """With the noise prior, the evidence is sum_t log sum_k p_k N(y_t; X_t mu, X_t Sigma X_t^T + g_k I)."""
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    D = draw_hierarchical(T=8, d=2, n=10, seed=4)
    m = BayesianMultiTaskRegressor(task_column=0, covariance_prior=None).fit(D["X"], D["y"])
    g, p = m.noise_prior_support_, m.noise_prior_weights_
    assert np.isclose(p.sum(), 1.0) and np.all(np.diff(np.log(g)) > 0)
    total = 0.0
    for t in range(8):
        rows = D["X"][:, 0] == t
        Xa = np.column_stack([D["X"][rows, 1:], np.ones(rows.sum())])
        C = Xa @ m.prior_covariance_ @ Xa.T
        lp = [multivariate_normal(Xa @ m.prior_mean_, C + gk * np.eye(rows.sum())).logpdf(D["y"][rows]) for gk in g]
        total += logsumexp(np.log(p) + np.array(lp))
        # the reported noise variance is its posterior mean
        post = np.exp(np.log(p) + np.array(lp) - logsumexp(np.log(p) + np.array(lp)))
        assert np.isclose(post @ g, m.noise_variance_[t], rtol=1e-6)
    assert np.isclose(total, m.evidence_, rtol=1e-8)
    assert m.noise_prior_shape_ > 0 and m.noise_prior_scale_ > 0
    assert np.all(np.isinf(m.noise_dof_)) and np.array_equal(m.predictive_noise_variance_, m.noise_variance_)


def test_noise_prior_recovers_the_spread_of_the_noise():
    """Empirical Bayes for the inverse-gamma prior of the noise: sigma_t^2 ~ InvGamma(a=6, b=5)."""
    rng = np.random.default_rng(21)
    T, d, n = 300, 2, 20
    s2 = 5.0 / rng.gamma(6.0, size=T)
    W = rng.normal(size=(T, d + 1)) * 0.5 + 1.0
    X = rng.normal(size=(T, n, d))
    y = np.einsum("tnd,td->tn", X, W[:, :d]) + W[:, d][:, None] + rng.normal(size=(T, n)) * np.sqrt(s2)[:, None]
    Xl = np.column_stack([np.repeat(np.arange(T), n), X.reshape(-1, d)])
    m = BayesianMultiTaskRegressor(task_column=0).fit(Xl, y.ravel())
    assert 3.5 < m.noise_prior_shape_ < 10, m.noise_prior_shape_
    assert np.isclose(m.noise_prior_scale_ / (m.noise_prior_shape_ - 1), 1.0, rtol=0.2)  # prior mean b / (a - 1)
    plug = BayesianMultiTaskRegressor(task_column=0, noise_prior=None).fit(Xl, y.ravel())
    # shrinkage towards the common level: the noise variances are closer to the truth
    err = lambda est: np.mean(np.log(est.noise_variance_ / s2) ** 2)  # noqa: E731
    assert err(m) < 0.8 * err(plug), (err(m), err(plug))


def test_em_convergence_warning():
    D = draw_hierarchical(T=10, d=3, n=10, seed=5)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        BayesianMultiTaskRegressor(max_iter=2, task_column=0).fit(D["X"], D["y"])


# ------------------------------------------------------------------ calibration


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_predictive_intervals_are_calibrated(layout):
    """On data drawn from the model, 90% intervals cover 87-93% of held-out targets."""
    z = 1.6448536269514722
    if layout == "long":
        D = draw_hierarchical(T=60, d=4, n=20, n_test=50, seed=6)
        m = BayesianMultiTaskRegressor(task_column=0).fit(D["X"], D["y"])
        mean, std = m.predict(D["X_test"], return_std=True)
        y = D["y_test"]
    else:
        D = draw_hierarchical(T=60, d=4, n=20, n_test=50, seed=7, shared_design=True)
        m = BayesianMultiTaskRegressor().fit(D["X"], D["Y"])
        mean, std = m.predict(D["X_test"], return_std=True)
        y = D["Y_test"]
        assert mean.shape == std.shape == y.shape
    cover = np.mean(np.abs(y - mean) <= z * std)
    assert 0.87 <= cover <= 0.93, cover


SMALL_N_SEEDS = range(100, 106)


def test_predictive_intervals_are_calibrated_with_few_rows_per_task():
    """60 tasks, 10 features, 15 rows per task: 90% intervals cover 87-93% on average over seeds.

    Plug-in estimates of each task's noise (a few residual degrees of freedom) and of a
    full 11 x 11 Sigma (from 60 tasks) give about 85%; the hierarchical priors on the
    noise variances and on Sigma (the defaults) put it back in the band.
    """
    z = 1.6448536269514722
    cover = []
    for seed in SMALL_N_SEEDS:
        D = draw_hierarchical(T=60, d=10, n=15, n_test=30, noise=(0.5, 1.5), seed=seed)
        m = BayesianMultiTaskRegressor(task_column=0).fit(D["X"], D["y"])
        mean, std = m.predict(D["X_test"], return_std=True)
        cover.append(np.mean(np.abs(D["y_test"] - mean) <= z * std))
    assert 0.87 <= np.mean(cover) <= 0.93, cover
    assert min(cover) >= 0.84, cover


def test_unseen_task_predicted_from_population():
    D = draw_hierarchical(T=80, d=3, n=15, n_test=40, seed=8)
    seen = D["X"][:, 0] < 60
    m = BayesianMultiTaskRegressor(task_column=0).fit(D["X"][seen], D["y"][seen])
    Xt, yt = D["X_test"], D["y_test"]
    mean, std = m.predict(Xt, return_std=True)  # tasks 60..79 were never seen
    new = Xt[:, 0] >= 60
    Xa = np.column_stack([Xt[new, 1:], np.ones(new.sum())])
    assert np.allclose(mean[new], Xa @ m.prior_mean_)
    assert np.median(std[new]) > np.median(std[~new])
    cover = np.mean(np.abs(yt[new] - mean[new]) <= 1.645 * std[new])
    assert 0.85 <= cover <= 0.95, cover


def test_fit_new_task_matches_em_fixed_point():
    """At the EM optimum a task's own posterior is what fit_new_task gives under the learned prior."""
    D = draw_hierarchical(T=20, d=3, n=12, seed=9)
    m = BayesianMultiTaskRegressor(task_column=0, tol=1e-12, max_iter=20000).fit(D["X"], D["y"])
    rows = D["X"][:, 0] == 4
    post = m.fit_new_task(D["X"][rows, 1:], D["y"][rows])
    assert np.allclose(post.coef_, m.coef_[4], atol=1e-5)
    assert np.isclose(post.intercept_, m.intercept_[4], atol=1e-5)
    assert np.isclose(post.noise_variance_, m.noise_variance_[4], rtol=1e-4)
    mean, std = post.predict(D["X"][rows, 1:], return_std=True)
    assert np.allclose(mean, m.predict(D["X"][rows]), atol=1e-5)


def test_wide_and_long_agree():
    D = draw_hierarchical(T=5, d=3, n=20, seed=10, shared_design=True)
    X, Y = D["X"], D["Y"]
    n, T = Y.shape
    X_long = np.column_stack([np.repeat(np.arange(T), n), np.tile(X, (T, 1))])
    y_long = Y.T.ravel()
    a = BayesianMultiTaskRegressor(tol=1e-10).fit(X, Y)
    b = BayesianMultiTaskRegressor(task_column=0, tol=1e-10).fit(X_long, y_long)
    assert np.allclose(a.coef_, b.coef_, atol=1e-8)
    assert np.allclose(a.intercept_, b.intercept_, atol=1e-8)
    ma, sa = a.predict(X, return_std=True)
    mb, sb = b.predict(X_long, return_std=True)
    assert np.allclose(ma.T.ravel(), mb) and np.allclose(sa.T.ravel(), sb)


def test_wide_with_missing_targets_and_single_output():
    D = draw_hierarchical(T=4, d=2, n=30, seed=11, shared_design=True)
    Y = D["Y"].copy()
    Y[::3, 1] = np.nan
    m = BayesianMultiTaskRegressor().fit(D["X"], Y)
    mean, std = m.predict(D["X"], return_std=True)
    assert mean.shape == std.shape == Y.shape and np.all(std > 0)
    m1 = BayesianMultiTaskRegressor().fit(D["X"], D["Y"][:, 0])
    mean, std = m1.predict(D["X"], return_std=True)
    assert mean.shape == std.shape == (30,)


# -------------------------------------------------------------------- Gibbs


def test_em_and_gibbs_agree_on_posterior_means():
    """Many tasks pin (mu, Sigma) down, so full Bayes and empirical Bayes must agree.

    The Gibbs sampler gives each noise variance its own vague prior: so does EM with
    ``noise_prior=None`` (its default pools the noise variances across tasks).
    """
    D = draw_hierarchical(T=150, d=2, n=25, seed=12)
    em = BayesianMultiTaskRegressor(task_column=0, noise_prior=None).fit(D["X"], D["y"])
    gb = BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_samples=400, burn_in=200,
                                    random_state=0).fit(D["X"], D["y"])
    scale = np.sqrt(np.diag(em.prior_covariance_))
    assert np.all(np.abs(gb.prior_mean_ - em.prior_mean_) < 0.1 * scale)
    post_sd = np.sqrt(np.einsum("tjj->tj", em.coef_covariance_))[:, :-1]
    assert np.median(np.abs(gb.coef_ - em.coef_) / post_sd) < 0.1
    assert np.allclose(gb.noise_variance_, em.noise_variance_, rtol=0.15)


@pytest.mark.filterwarnings("ignore::skmtl.bayes.MCMCConvergenceWarning")  # short chains, for speed
def test_gibbs_outputs_and_diagnostics():
    D = draw_hierarchical(T=10, d=2, n=20, seed=13)
    g = BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=3, n_samples=200, burn_in=100,
                                   thin=2, random_state=1).fit(D["X"], D["y"])
    s = g.posterior_samples_
    assert s["prior_mean"].shape == (3, 200, 3)
    assert s["prior_covariance"].shape == (3, 200, 3, 3)
    assert s["noise_variance"].shape == (3, 200, 10)
    assert s["coef"].shape == (3, 200, 10, 3)
    assert np.allclose(s["coef"].mean(axis=(0, 1))[:, :2], g.coef_)
    dg = g.diagnostics_
    assert dg["max_rhat"] < 1.1 and dg["min_ess_prior_mean"] > 100
    assert dg["rhat_prior_mean"].shape == dg["ess_prior_mean"].shape == (3,)
    # same seed, same draws
    g2 = BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=3, n_samples=200, burn_in=100,
                                    thin=2, random_state=1).fit(D["X"], D["y"])
    assert np.array_equal(g2.posterior_samples_["prior_mean"], s["prior_mean"])


@pytest.mark.filterwarnings("ignore::skmtl.bayes.MCMCConvergenceWarning")  # short chains, for speed
@pytest.mark.parametrize("layout", ["long", "wide"])
def test_gibbs_predictive_intervals_are_calibrated(layout):
    """Full Bayes: 90% intervals cover 87-93% of held-out targets on data drawn from the model.

    3,000 held-out targets per case: the binomial sd of the coverage is 0.55 points,
    so the band is about +-5 sd (the coefficient uncertainty correlates a task's targets).
    """
    z = 1.6448536269514722
    kw = dict(method="gibbs", n_chains=2, n_samples=400, burn_in=200, random_state=0)
    if layout == "long":
        D = draw_hierarchical(T=60, d=4, n=20, n_test=50, seed=6)
        m = BayesianMultiTaskRegressor(task_column=0, **kw).fit(D["X"], D["y"])
        mean, std = m.predict(D["X_test"], return_std=True)
        y = D["y_test"]
    else:
        D = draw_hierarchical(T=60, d=4, n=20, n_test=50, seed=7, shared_design=True)
        m = BayesianMultiTaskRegressor(**kw).fit(D["X"], D["Y"])
        mean, std = m.predict(D["X_test"], return_std=True)
        y = D["Y_test"]
        assert mean.shape == std.shape == y.shape
    assert y.size == 3000
    cover = np.mean(np.abs(y - mean) <= z * std)
    assert 0.87 <= cover <= 0.93, cover


def test_gibbs_cholesky_jitter_and_failure_flag():
    from skmtl.bayes._gibbs import _chol_jitter

    d = 4
    rng = np.random.default_rng(0)
    G = rng.normal(size=(d, d))
    P = G @ G.T + d * np.eye(d)
    L = P.copy()
    assert _chol_jitter(L, d, np.empty(d)) == 0.0
    assert np.allclose(np.tril(L), np.linalg.cholesky(P))
    v = rng.normal(size=(d, 1))
    S = v @ v.T  # rank 1: singular, needs jitter
    L = S.copy()
    jit = _chol_jitter(L, d, np.empty(d))
    assert jit > 0 and np.all(np.isfinite(np.tril(L)))
    assert np.allclose(np.tril(L) @ np.tril(L).T, S + jit * np.eye(d), atol=1e-10)
    for bad in (-np.eye(d), np.full((d, d), np.nan)):  # indefinite, NaN: the failure flag
        assert _chol_jitter(bad.copy(), d, np.empty(d)) == -1.0


def test_gibbs_raises_on_indefinite_conditional(monkeypatch):
    """A factorization that fails even with jitter raises a clear error, not NaN draws."""
    from skmtl.bayes import _hierarchical
    from skmtl.bayes._gibbs import GibbsNotPositiveDefiniteError

    real = _hierarchical._task_moments

    def indefinite_moments(*args, **kwargs):
        A, c, yy, W = real(*args, **kwargs)
        A = A.copy()
        A[1] = -1e6 * np.eye(A.shape[1])  # not a Gram matrix: the conditional precision is indefinite
        return A, c, yy, W

    D = draw_hierarchical(T=4, d=2, n=10, seed=20)
    monkeypatch.setattr(_hierarchical, "_task_moments", indefinite_moments)
    with pytest.raises(GibbsNotPositiveDefiniteError, match="prior_scale"):
        BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=1, n_samples=5, burn_in=0,
                                   random_state=0).fit(D["X"], D["y"])


def test_gibbs_warns_when_chains_have_not_mixed():
    D = draw_hierarchical(T=10, d=2, n=20, seed=14)
    with pytest.warns(MCMCConvergenceWarning, match="R-hat"):
        BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=4, n_samples=4, burn_in=0,
                                   random_state=0).fit(D["X"], D["y"])


def test_gibbs_rejects_structured_covariance():
    D = draw_hierarchical(T=3, d=2, n=5, seed=15)
    with pytest.raises(ValueError, match="only available with method='em'"):
        BayesianMultiTaskRegressor(method="gibbs", covariance="diagonal", task_column=0).fit(D["X"], D["y"])


def test_rhat_and_ess_on_known_chains():
    from skmtl.bayes._gibbs import effective_sample_size, split_rhat

    rng = np.random.default_rng(0)
    iid = rng.normal(size=(4, 2000))
    assert abs(split_rhat(iid) - 1) < 0.01
    assert 0.8 * 8000 < effective_sample_size(iid) < 1.2 * 8000
    # AR(1) with phi=0.9: ESS ~ N (1 - phi) / (1 + phi)
    ar = np.zeros((4, 4000))
    for i in range(1, 4000):
        ar[:, i] = 0.9 * ar[:, i - 1] + rng.normal(size=4)
    ess = effective_sample_size(ar)
    assert 0.6 * 16000 / 19 < ess < 1.4 * 16000 / 19
    shifted = iid + np.array([0, 0, 0, 3.0])[:, None]
    assert split_rhat(shifted) > 1.1


@pytest.mark.slow
def test_gibbs_effective_samples_per_second():
    """Target: >= 1,000 effective samples per second of mu (worst component), T=50, d=20, n=100."""
    rng = np.random.default_rng(0)
    T, d, n = 50, 20, 100
    W = rng.normal(size=(T, d)) * 0.5 + rng.normal(size=d)
    X = rng.normal(size=(T, n, d))
    y = np.einsum("tnd,td->tn", X, W) + rng.normal(size=(T, n))
    Xl = np.column_stack([np.repeat(np.arange(T), n), X.reshape(-1, d)])
    g = BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=4, n_samples=2000, burn_in=200,
                                   random_state=0).fit(Xl, y.ravel())
    assert g.diagnostics_["max_rhat"] < 1.1
    assert g.diagnostics_["min_ess_per_second"] >= 1000, g.diagnostics_


# ---------------------------------------------------------------------- ARD


def _planted_support(T=8, d=40, k=5, n=15, seed=0):
    rng = np.random.default_rng(seed)
    support = np.zeros(d, dtype=bool)
    support[rng.choice(d, k, replace=False)] = True
    Xs, ys = [], []
    W = np.zeros((T, d))
    W[:, support] = rng.normal(size=(T, k)) * 1.0 + np.sign(rng.normal(size=k)) * 1.0
    for t in range(T):
        X = rng.normal(size=(n, d))
        Xs.append(X)
        ys.append(X @ W[t] + 0.5 * rng.normal(size=n))
    task = np.repeat(np.arange(T), n)
    return np.column_stack([task, np.vstack(Xs)]), np.concatenate(ys), support, Xs, ys


def _f1(est, true):
    tp = np.sum(est & true)
    return 2 * tp / (est.sum() + true.sum())


def test_multitask_ard_recovers_joint_support_better_than_per_task_ard():
    f1_mt, f1_st = [], []
    for seed in range(3):
        X, y, support, Xs, ys = _planted_support(seed=seed)
        mt = MultiTaskARDRegressor(task_column=0).fit(X, y)
        f1_mt.append(_f1(mt.support_, support))
        for Xt, yt in zip(Xs, ys):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = np.abs(ARDRegression().fit(Xt, yt).coef_) > 1e-6
            f1_st.append(_f1(est, support))
        assert np.all(mt.inclusion_scores_[support] > 0.9)
        assert np.median(mt.inclusion_scores_[~support]) < 0.5
        assert np.all(mt.coef_[:, ~mt.support_] == 0)
    # n = 15 rows per task, 40 features: per-task ARD finds F1 ~ 0.4, the joint model ~ 0.7
    # (every planted feature, plus a few weak false positives that type-II ML keeps at n < d)
    assert np.mean(f1_mt) > 0.6
    assert np.mean(f1_mt) > np.mean(f1_st) + 0.2, (np.mean(f1_mt), np.mean(f1_st))


def test_ard_matches_bayesian_ridge_style_posterior_when_one_feature():
    """With all features relevant and many rows, ARD's coefficients approach least squares."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    Y = X @ np.array([[1.0, -2.0], [0.5, 1.0], [2.0, 0.0]]) + 3.0 + 0.1 * rng.normal(size=(400, 2))
    m = MultiTaskARDRegressor().fit(X, Y)
    ols = np.linalg.lstsq(np.column_stack([X, np.ones(400)]), Y, rcond=None)[0]
    assert np.allclose(m.coef_[0], ols[:3, 0], atol=0.01)
    assert np.allclose(m.intercept_, ols[3], atol=0.02)
    assert not m.support_[2] or abs(m.coef_[1, 2]) < 0.05
    mean, std = m.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5, 2) and np.all(std > 0.05) and np.all(std < 0.2)


@pytest.mark.filterwarnings("ignore::skmtl.bayes.MCMCConvergenceWarning")  # short chains, for speed
def test_shared_noise_em_and_gibbs():
    D = draw_hierarchical(T=30, d=3, n=10, seed=16, noise=(0.5, 0.5))
    em = BayesianMultiTaskRegressor(noise="shared", task_column=0).fit(D["X"], D["y"])
    assert np.all(em.noise_variance_ == em.noise_variance_[0])
    assert np.all(np.diff(em.evidence_history_) >= -1e-9 * np.abs(em.evidence_history_[:-1]))
    assert 0.15 < em.noise_variance_[0] < 0.4
    gb = BayesianMultiTaskRegressor(method="gibbs", noise="shared", task_column=0, n_samples=300, burn_in=200,
                                    random_state=0).fit(D["X"], D["y"])
    assert np.allclose(gb.noise_variance_, em.noise_variance_, rtol=0.15)
    post = em.fit_new_task(D["X"][:10, 1:], D["y"][:10])
    assert np.isclose(post.noise_variance_, em.noise_variance_[0])


def test_dataframe_long_input_with_string_labels_and_unseen_task():
    pd = pytest.importorskip("pandas")
    D = draw_hierarchical(T=12, d=2, n=15, n_test=5, seed=17)
    names = np.array([f"patient_{i:02d}" for i in range(12)])
    df = pd.DataFrame({"who": names[D["X"][:, 0].astype(int)], "a": D["X"][:, 1], "b": D["X"][:, 2]})
    m = BayesianMultiTaskRegressor(task_column="who").fit(df, D["y"])
    assert list(m.tasks_) == list(names)
    test = pd.DataFrame({"who": ["patient_03", "someone_new"], "a": [0.1, 0.1], "b": [0.2, 0.2]})
    mean, std = m.predict(test, return_std=True)
    assert mean.shape == std.shape == (2,) and std[1] > std[0]
    assert np.isclose(mean[1], m.prior_mean_ @ [0.1, 0.2, 1.0])
    assert np.isfinite(m.score(df, D["y"]))
    ard = MultiTaskARDRegressor(task_column="who").fit(df, D["y"])
    with pytest.raises(ValueError, match="Unknown task label"):
        ard.predict(test)


def test_low_rank_components_reconstruct_covariance():
    D = draw_hierarchical(T=30, d=4, n=15, seed=18)
    m = BayesianMultiTaskRegressor(covariance="low_rank", n_components=2, task_column=0).fit(D["X"], D["y"])
    assert m.components_.shape == (2, 5)
    resid = m.prior_covariance_ - m.components_.T @ m.components_
    assert np.linalg.eigvalsh(resid).min() > -1e-10
    M = m._scaler.weight_map()
    psi = np.linalg.solve(M, np.linalg.solve(M, resid.T).T)
    assert np.allclose(psi, np.diag(np.diag(psi)), atol=1e-8)


@pytest.mark.filterwarnings("ignore::skmtl.bayes.MCMCConvergenceWarning")  # short chains, for speed
def test_gibbs_parallel_chains_give_the_same_draws():
    D = draw_hierarchical(T=8, d=2, n=15, seed=19)
    kw = dict(method="gibbs", task_column=0, n_chains=3, n_samples=50, burn_in=20, random_state=3)
    a = BayesianMultiTaskRegressor(**kw).fit(D["X"], D["y"])
    b = BayesianMultiTaskRegressor(n_jobs=2, **kw).fit(D["X"], D["y"])
    for key in a.posterior_samples_:
        assert np.array_equal(a.posterior_samples_[key], b.posterior_samples_[key])


@pytest.mark.parametrize("param, value", [("noise_prior", "gamma"), ("covariance_prior", "wishart")])
def test_unknown_prior_is_named_in_the_error(param, value):
    X, Y = np.random.default_rng(0).standard_normal((20, 3)), np.random.default_rng(1).standard_normal((20, 2))
    with pytest.raises(ValueError, match=rf"'{param}' parameter .* Got '{value}'"):
        BayesianMultiTaskRegressor(**{param: value}).fit(X, Y)
