"""MCMC diagnostics (rank-normalized R-hat, bulk and tail ESS) against ArviZ, and the Gibbs estimator's use of them."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

from skmtl.bayes import BayesianMultiTaskRegressor, MCMCConvergenceWarning, ess_bulk, ess_tail, rhat


def _hierarchical(T=12, d=2, n=25, seed=0):
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=d + 1)
    W = mu + 0.5 * rng.normal(size=(T, d + 1))
    X = rng.normal(size=(T, n, d))
    y = np.einsum("tnd,td->tn", X, W[:, :d]) + W[:, d:] + 0.5 * rng.normal(size=(T, n))
    return np.column_stack([np.repeat(np.arange(T), n), X.reshape(-1, d)]), y.ravel()


def _ar1(rng, m, n, phi):
    x = np.empty((m, n))
    x[:, 0] = rng.normal(size=m) / np.sqrt(1 - phi**2)
    for i in range(1, n):
        x[:, i] = phi * x[:, i - 1] + rng.normal(size=m)
    return x


def _chains():
    rng = np.random.default_rng(0)
    scaled = rng.normal(size=(4, 1000))
    scaled[3] *= 3.0
    return {
        "normal": rng.normal(size=(4, 1000)),
        "odd_length": rng.normal(size=(3, 101)),
        "ar1": _ar1(rng, 4, 1000, 0.9),
        "antithetic": _ar1(rng, 4, 500, -0.6),
        "one_chain_scaled": scaled,
        "shifted": rng.normal(size=(4, 500)) + np.array([0.0, 0.0, 0.0, 1.0])[:, None],
        "ties": np.round(rng.normal(size=(4, 300))),
    }


@pytest.fixture(scope="module")
def az():
    arviz = pytest.importorskip("arviz")
    if int(arviz.__version__.split(".")[0]) >= 1:
        pytest.skip("ArviZ 1.x has no InferenceData")
    return arviz


@pytest.mark.parametrize("name", list(_chains()))
def test_matches_arviz_on_chains(az, name):
    x = _chains()[name]
    assert rhat(x) == pytest.approx(az.rhat(x, method="rank"), rel=1e-3)
    assert ess_bulk(x) == pytest.approx(az.ess(x, method="bulk"), rel=1e-3)
    assert ess_tail(x) == pytest.approx(az.ess(x, method="tail"), rel=1e-3)


def test_one_chain_at_three_times_the_scale(az):
    """The tail (folded) R-hat sees a chain whose scale differs; the classic split R-hat does not."""
    x = _chains()["one_chain_scaled"]
    r = rhat(x)
    assert r > 1.1 and r == pytest.approx(az.rhat(x, method="rank"), rel=1e-3)
    assert az.rhat(x, method="split") < 1.01


def test_vectorised_over_parameters(az):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 300, 3, 2))
    x[..., 0, 1] = _ar1(rng, 4, 300, 0.8)
    x[3, :, 2, 0] *= 3.0
    x[..., 1, 1] += np.arange(4)[:, None]
    r, b, t = rhat(x), ess_bulk(x), ess_tail(x)
    assert r.shape == b.shape == t.shape == (3, 2)
    ds = az.convert_to_dataset({"theta": x})
    assert np.allclose(r, az.rhat(ds, method="rank")["theta"].values, rtol=1e-3)
    assert np.allclose(b, az.ess(ds, method="bulk")["theta"].values, rtol=1e-3)
    assert np.allclose(t, az.ess(ds, method="tail")["theta"].values, rtol=1e-3)


def test_edge_cases():
    rng = np.random.default_rng(2)
    one = rng.normal(size=(1, 200))
    assert np.isnan(rhat(one)) and 0 < ess_bulk(one) <= 200 * np.log10(200)
    assert np.isnan(ess_bulk(rng.normal(size=(4, 3))))
    x = rng.normal(size=(4, 100, 2))
    x[1, 5, 0] = np.nan
    x0 = x.copy()
    r = rhat(x)
    assert np.isnan(r[0]) and np.isfinite(r[1])
    assert np.isnan(ess_tail(x[..., 0])) and np.array_equal(x, x0, equal_nan=True)  # input left as it was
    assert ess_bulk(np.ones((4, 100))) == 400.0  # constant: every draw counts, as ArviZ
    iid = rng.normal(size=(4, 2000))
    assert abs(rhat(iid) - 1) < 0.01 and 0.8 * 8000 < ess_bulk(iid) < 1.2 * 8000


def test_former_names_are_the_new_estimators():
    from skmtl.bayes._gibbs import effective_sample_size, split_rhat

    x = _chains()["ar1"]
    assert split_rhat(x) == rhat(x) and effective_sample_size(x) == ess_bulk(x)


# ------------------------------------------------------------------ estimator


@pytest.fixture(scope="module")
def fitted():
    X, y = _hierarchical()
    with warnings.catch_warnings():
        warnings.simplefilter("error", MCMCConvergenceWarning)
        return BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=4, n_samples=1000, burn_in=300,
                                          random_state=0).fit(X, y)


def test_gibbs_exposes_diagnostics_of_every_quantity(fitted):
    s = fitted.posterior_samples_
    for attr in ("rhat_", "ess_bulk_", "ess_tail_"):
        value = getattr(fitted, attr)
        assert set(value) == set(s)
        for k in s:
            assert value[k].shape == s[k].shape[2:]
    for k in s:
        assert np.array_equal(fitted.rhat_[k], rhat(s[k]))
        assert np.array_equal(fitted.ess_bulk_[k], ess_bulk(s[k]))
        assert np.array_equal(fitted.ess_tail_[k], ess_tail(s[k]))
    dg = fitted.diagnostics_
    assert dg["max_rhat"] == max(np.max(v) for v in fitted.rhat_.values()) <= 1.01
    assert dg["min_ess_bulk"] == min(np.min(v) for v in fitted.ess_bulk_.values()) >= 400
    assert dg["min_ess_tail"] == min(np.min(v) for v in fitted.ess_tail_.values()) >= 400
    assert np.array_equal(dg["rhat_prior_mean"], fitted.rhat_["prior_mean"])


def test_gibbs_diagnostics_match_arviz_on_inference_data(az, fitted):
    idata = fitted.to_inference_data()
    assert isinstance(idata, az.InferenceData)
    post = idata.posterior
    assert set(post.data_vars) == {"prior_mean", "prior_covariance", "noise_variance", "coef"}
    assert post["coef"].dims == ("chain", "draw", "task", "feature")
    assert post["prior_covariance"].dims == ("chain", "draw", "feature", "feature_bis")
    assert list(post["feature"].values) == ["x0", "x1", "intercept"]
    assert np.array_equal(post["task"].values, fitted.tasks_)
    assert np.array_equal(post["coef"].values, fitted.posterior_samples_["coef"])
    r = az.rhat(idata, method="rank")
    b = az.ess(idata, method="bulk")
    t = az.ess(idata, method="tail")
    for k in fitted.posterior_samples_:
        assert np.allclose(fitted.rhat_[k], r[k].values, rtol=1e-3)
        assert np.allclose(fitted.ess_bulk_[k], b[k].values, rtol=1e-3)
        assert np.allclose(fitted.ess_tail_[k], t[k].values, rtol=1e-3)


def test_inference_data_uses_feature_and_task_names(az):
    pd = pytest.importorskip("pandas")
    X, y = _hierarchical(T=4, n=15, seed=3)
    df = pd.DataFrame({"school": np.array(["a", "b", "c", "d"])[X[:, 0].astype(int)], "age": X[:, 1],
                       "intercept": X[:, 2]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCMCConvergenceWarning)
        g = BayesianMultiTaskRegressor(method="gibbs", task_column="school", n_chains=2, n_samples=50, burn_in=20,
                                       random_state=0).fit(df, y)
    post = g.to_inference_data().posterior
    assert list(post["feature"].values) == ["age", "intercept", "_intercept"]
    assert list(post["task"].values) == ["a", "b", "c", "d"]


def test_to_inference_data_needs_gibbs_draws():
    X, y = _hierarchical(T=4, n=15)
    em = BayesianMultiTaskRegressor(task_column=0).fit(X, y)
    with pytest.raises(ValueError, match="BayesianMultiTaskRegressor.*method='gibbs'"):
        em.to_inference_data()


def test_to_inference_data_without_arviz(monkeypatch, fitted):
    monkeypatch.setitem(sys.modules, "arviz", None)  # import arviz raises ImportError
    with pytest.raises(ImportError, match="pip install"):
        fitted.to_inference_data()


def test_warns_on_badly_mixed_chains_not_on_long_good_ones():
    X, y = _hierarchical(seed=1)
    with pytest.warns(MCMCConvergenceWarning, match="R-hat|effective sample size") as rec:
        BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=4, n_samples=30, burn_in=0,
                                   random_state=0).fit(X, y)
    assert "n_samples" in str(rec[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MCMCConvergenceWarning)
        BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=4, n_samples=1500, burn_in=300,
                                   random_state=1).fit(X, y)


def test_warning_rule():
    from skmtl.bayes._hierarchical import _convergence_message

    ok = {"max_rhat": 1.005, "min_ess_bulk": 800.0, "min_ess_tail": 500.0}
    assert _convergence_message(ok, 4, 1000, 500) == ""
    assert "R-hat = 1.020" in _convergence_message({**ok, "max_rhat": 1.02}, 4, 1000, 500)
    assert "399 < 400" in _convergence_message({**ok, "min_ess_tail": 399.0}, 4, 1000, 500)
    # one chain: R-hat is NaN and only the ESS is checked
    assert _convergence_message({**ok, "max_rhat": np.nan}, 1, 1000, 500) == ""


def test_importing_skmtl_does_not_import_arviz():
    code = "import sys, skmtl, skmtl.bayes; print('arviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
