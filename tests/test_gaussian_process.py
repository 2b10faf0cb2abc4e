"""Multi-task GPs: marginal likelihood against numpy, predictions against GPyTorch, API."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
gpytorch = pytest.importorskip("gpytorch")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skmtl.gaussian_process import (  # noqa: E402
    MultiTaskGPRegressor,
    NotPositiveDefiniteError,
    SparseMultiTaskGPRegressor,
)
from skmtl.gaussian_process._exact import safe_cholesky  # noqa: E402

torch.set_num_threads(1)


def make_data(n=40, T=3, d=2, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, d))
    F = np.stack([np.sin(X[:, 0] + 0.5 * X[:, 1]), np.cos(1.3 * X[:, 1])], axis=1)
    Y = F @ rng.normal(size=(2, T)) + noise * rng.normal(size=(n, T))
    return X, Y


def rbf_numpy(X1, X2, ls):
    D = (X1[:, None, :] - X2[None, :, :]) / ls
    return np.exp(-0.5 * (D**2).sum(-1))


def numpy_lml(K, y):
    L = np.linalg.cholesky(K)
    a = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return -0.5 * y @ a - np.log(np.diag(L)).sum() - 0.5 * len(y) * np.log(2 * np.pi)


def fitted_numpy_parts(m):
    p = m.params_
    with torch.no_grad():
        Bq = p.task_covariances().numpy()
        S = p.noise_covariance().numpy()
        ls = [k.lengthscale.detach().numpy().ravel() for k in p.kernels]
    return Bq, S, ls


def test_import_skmtl_does_not_import_torch():
    code = (
        "import sys, skmtl, skmtl.metrics, skmtl.baselines, skmtl.bayes, skmtl.model_selection, "
        "skmtl.plotting, skmtl.datasets, skmtl.linear, skmtl.factorization; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("ard", [True, False])
@pytest.mark.parametrize("correlated_noise", [False, True])
def test_kronecker_lml_equals_dense_numpy(correlated_noise, ard):
    X, Y = make_data(30, 3)
    m = MultiTaskGPRegressor(rank=2, max_iter=30, correlated_noise=correlated_noise, ard=ard).fit(X, Y)
    assert m.method_ == "kronecker"
    Bq, S, ls = fitted_numpy_parts(m)
    assert ls[0].shape == ((X.shape[1],) if ard else (1,))
    if correlated_noise:  # a full noise covariance, not diagonal
        assert np.abs(S - np.diag(np.diag(S))).max() > 1e-6
    Yn = (Y - m._y_mean) / m._y_std
    Kx = rbf_numpy(X, X, ls[0])
    K = np.kron(Bq[0], Kx) + np.kron(S, np.eye(len(X)))  # task-major ordering
    ref = numpy_lml(K, Yn.T.ravel())
    assert m.log_marginal_likelihood_value_ == pytest.approx(ref, rel=1e-8, abs=1e-8)


@pytest.mark.parametrize("correlated_noise", [False, True])
@pytest.mark.parametrize("n_latent", [None, 2])
def test_masked_lml_equals_dense_numpy(correlated_noise, n_latent):
    X, Y = make_data(25, 3, seed=1)
    Y = Y.copy()
    rng = np.random.default_rng(0)
    Y[rng.random(Y.shape) < 0.3] = np.nan
    Y[0] = [1.0, 2.0, 0.5]  # one row with every task (correlated noise couples them)
    m = MultiTaskGPRegressor(rank=1, n_latent=n_latent, correlated_noise=correlated_noise, max_iter=20).fit(X, Y)
    assert m.method_ == "masked"
    Bq, S, ls = fitted_numpy_parts(m)
    obs = ~np.isnan(Y)
    rows, tasks = np.nonzero(obs.T)[1], np.nonzero(obs.T)[0]  # task-major observation order
    K = sum(Bq[q][np.ix_(tasks, tasks)] * rbf_numpy(X[rows], X[rows], ls[q]) for q in range(len(ls)))
    same_row = rows[:, None] == rows[None, :]
    K = K + S[np.ix_(tasks, tasks)] * same_row
    yn = ((Y - m._y_mean) / m._y_std).T[obs.T]
    assert m.log_marginal_likelihood_value_ == pytest.approx(numpy_lml(K, yn), rel=1e-8, abs=1e-8)


def test_kronecker_and_masked_paths_agree():
    X, Y = make_data(30, 3, seed=2)
    kw = dict(rank=2, optimizer=None)
    a = MultiTaskGPRegressor(method="kronecker", **kw).fit(X, Y)
    b = MultiTaskGPRegressor(method="masked", **kw).fit(X, Y)
    assert a.log_marginal_likelihood_value_ == pytest.approx(b.log_marginal_likelihood_value_, rel=1e-9)
    Xt = X[:7] + 0.1
    ma, sa = a.predict(Xt, return_std=True)
    mb, sb = b.predict(Xt, return_std=True)
    np.testing.assert_allclose(ma, mb, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sa, sb, rtol=1e-6, atol=1e-9)
    _, ca = a.predict(Xt, return_cov=True)
    _, cb = b.predict(Xt, return_cov=True)
    np.testing.assert_allclose(ca, cb, rtol=1e-6, atol=1e-9)
    # fitted by L-BFGS, both paths reach the same optimum
    a = MultiTaskGPRegressor(method="kronecker", rank=2).fit(X, Y)
    b = MultiTaskGPRegressor(method="masked", rank=2).fit(X, Y)
    assert a.log_marginal_likelihood_value_ == pytest.approx(b.log_marginal_likelihood_value_, rel=1e-4)


def test_predictions_match_gpytorch_model():
    X, Y = make_data(35, 3, seed=3)
    m = MultiTaskGPRegressor(rank=1).fit(X, Y)
    Bq, S, ls = fitted_numpy_parts(m)
    p = m.params_
    T = Y.shape[1]
    train_x = torch.as_tensor(X)
    train_y = torch.as_tensor((Y - m._y_mean) / m._y_std)

    class Model(gpytorch.models.ExactGP):
        def __init__(self, x, y, lik):
            super().__init__(x, y, lik)
            self.mean_module = gpytorch.means.MultitaskMean(gpytorch.means.ZeroMean(), num_tasks=T)
            self.covar_module = gpytorch.kernels.MultitaskKernel(
                gpytorch.kernels.RBFKernel(ard_num_dims=X.shape[1]), num_tasks=T, rank=1
            )

        def forward(self, x):
            return gpytorch.distributions.MultitaskMultivariateNormal(self.mean_module(x), self.covar_module(x))

    lik = gpytorch.likelihoods.MultitaskGaussianLikelihood(
        num_tasks=T, rank=0, has_global_noise=False, noise_constraint=gpytorch.constraints.GreaterThan(1e-10)
    )
    model = Model(train_x, train_y, lik).double()
    lik.double()
    with torch.no_grad():
        model.covar_module.data_covar_module.lengthscale = torch.as_tensor(ls[0])
        model.covar_module.task_covar_module.covar_factor.copy_(p.task_factors[0])
        model.covar_module.task_covar_module.var = torch.exp(p.log_task_diag[0])
        lik.task_noises = torch.as_tensor(np.diag(S).copy())
    model.eval()
    lik.eval()
    Xt = np.random.default_rng(5).uniform(-2, 2, size=(10, X.shape[1]))
    with torch.no_grad(), gpytorch.settings.fast_pred_var(False), gpytorch.settings.cholesky_jitter(1e-12):
        f = model(torch.as_tensor(Xt))
        mean_ref, var_ref = f.mean.numpy(), f.variance.numpy()
    mu, sd = m.predict(Xt, return_std=True)
    np.testing.assert_allclose((mu - m._y_mean) / m._y_std, mean_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose((sd / m._y_std) ** 2, var_ref, rtol=1e-4, atol=1e-6)
    # the marginal likelihood too (GPyTorch's mll is divided by the number of observations)
    model.train()
    lik.train()
    with torch.no_grad(), gpytorch.settings.fast_computations(False, False, False):
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(lik, model)(model(train_x), train_y)
    assert float(mll) * Y.size == pytest.approx(m.log_marginal_likelihood_value_, rel=1e-6)


@pytest.mark.parametrize("n_latent", [None, 2])
def test_masked_and_lmc_predictions_match_gpytorch_hadamard_model(n_latent):
    """The masked path (ICM and LMC) against GPyTorch's Hadamard multitask model with our hyperparameters.

    GPyTorch's Hadamard multitask tutorial: inputs (x, task index), kernel
    ``IndexKernel(i) * RBF(x)``; the LMC is the sum over latent processes of such
    products; per-task noise through a fixed per-observation noise.
    """
    X, Y = make_data(30, 3, seed=21)
    Y = Y.copy()
    Y[np.random.default_rng(1).random(Y.shape) < 0.3] = np.nan
    m = MultiTaskGPRegressor(rank=1, n_latent=n_latent, max_iter=40, method="masked").fit(X, Y)
    assert m.method_ == "masked"
    p = m.params_
    Q, T = len(p.kernels), Y.shape[1]
    _, S, ls = fitted_numpy_parts(m)
    rows, tasks = np.nonzero(~np.isnan(Y))
    train_x = torch.as_tensor(X[rows])
    train_i = torch.as_tensor(tasks)[:, None]
    train_y = torch.as_tensor(((Y - m._y_mean) / m._y_std)[rows, tasks])

    class HadamardModel(gpytorch.models.ExactGP):
        def __init__(self, x, i, y, lik):
            super().__init__((x, i), y, lik)
            self.mean_module = gpytorch.means.ZeroMean()
            self.covar_modules = torch.nn.ModuleList(
                [gpytorch.kernels.RBFKernel(ard_num_dims=X.shape[1]) for _ in range(Q)])
            self.task_covar_modules = torch.nn.ModuleList(
                [gpytorch.kernels.IndexKernel(num_tasks=T, rank=1) for _ in range(Q)])

        def forward(self, x, i):
            covar = self.covar_modules[0](x).mul(self.task_covar_modules[0](i))
            for q in range(1, Q):
                covar = covar + self.covar_modules[q](x).mul(self.task_covar_modules[q](i))
            return gpytorch.distributions.MultivariateNormal(self.mean_module(x), covar)

    lik = gpytorch.likelihoods.FixedNoiseGaussianLikelihood(
        noise=torch.as_tensor(np.diag(S)[tasks].copy()), learn_additional_noise=False).double()
    model = HadamardModel(train_x, train_i, train_y, lik).double()
    with torch.no_grad():
        for q in range(Q):
            model.covar_modules[q].lengthscale = torch.as_tensor(ls[q])
            model.task_covar_modules[q].covar_factor.copy_(p.task_factors[q])
            model.task_covar_modules[q].var = torch.exp(p.log_task_diag[q])
    model.eval()
    Xt = np.random.default_rng(5).uniform(-2, 2, size=(8, X.shape[1]))
    xq, tq = np.repeat(Xt, T, axis=0), np.tile(np.arange(T), len(Xt))
    with torch.no_grad(), gpytorch.settings.fast_pred_var(False), gpytorch.settings.fast_computations(False, False, False):
        f = model(torch.as_tensor(xq), torch.as_tensor(tq)[:, None])
        mean_ref, var_ref = f.mean.numpy().reshape(-1, T), f.variance.numpy().reshape(-1, T)
    mu, sd = m.predict(Xt, return_std=True)
    np.testing.assert_allclose((mu - m._y_mean) / m._y_std, mean_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose((sd / m._y_std) ** 2, var_ref, rtol=1e-4, atol=1e-6)
    model.train()
    with torch.no_grad(), gpytorch.settings.fast_computations(False, False, False):
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(lik, model)(model(train_x, train_i), train_y)
    assert float(mll) * len(rows) == pytest.approx(m.log_marginal_likelihood_value_, rel=1e-6)


def test_long_input_equals_wide_input():
    X, Y = make_data(20, 2, seed=4)
    Y = Y.copy()
    Y[::3, 0] = np.nan
    wide = MultiTaskGPRegressor(rank=2).fit(X, Y)
    obs = ~np.isnan(Y)
    r, t = np.nonzero(obs)
    Xl = np.column_stack([X[r], t])
    # the same likelihood (each long row is its own input); starts differ, optimum the same
    long = MultiTaskGPRegressor(rank=2, task_column=-1).fit(Xl, Y[r, t])
    assert long.method_ == "masked"
    assert wide.log_marginal_likelihood_value_ == pytest.approx(long.log_marginal_likelihood_value_, rel=1e-5)
    Xq = np.column_stack([X[:5], [0, 1, 1, 0, 1]])
    pl = long.predict(Xq)
    pw = wide.predict(X[:5])[np.arange(5), [0, 1, 1, 0, 1]]
    np.testing.assert_allclose(pl, pw, rtol=1e-3, atol=1e-3)
    mu, sd = long.predict(Xq, return_std=True)
    assert sd.shape == (5,)
    assert long.sample_y(Xq, 3).shape == (5, 3)


def test_predict_shapes_and_consistency():
    X, Y = make_data(30, 3, seed=5)
    m = MultiTaskGPRegressor(max_iter=50).fit(X, Y)
    Xt = X[:6] + 0.05
    mu, sd = m.predict(Xt, return_std=True)
    mu2, cov = m.predict(Xt, return_cov=True)
    assert mu.shape == sd.shape == (6, 3) and cov.shape == (6, 6, 3)
    np.testing.assert_allclose(mu, mu2)
    np.testing.assert_allclose(np.sqrt(np.stack([np.diag(cov[:, :, t]) for t in range(3)], 1)), sd, rtol=1e-6)
    s = m.sample_y(Xt, n_samples=400, random_state=0)
    assert s.shape == (6, 3, 400)
    assert np.abs(s.mean(-1) - mu).max() < 5 * sd.max() / np.sqrt(400) * 3
    assert np.allclose(m.task_covariance_, m.task_covariance_.T)
    np.testing.assert_allclose(np.diag(m.task_correlation_), 1.0)
    assert m.noise_variance_.shape == (3,) and np.all(m.noise_variance_ > 0)
    with pytest.raises(RuntimeError):
        m.predict(Xt, return_std=True, return_cov=True)
    # single task: 1-D outputs as in scikit-learn
    m1 = MultiTaskGPRegressor(max_iter=30).fit(X, Y[:, 0])
    mu, cov = m1.predict(Xt, return_cov=True)
    assert mu.shape == (6,) and cov.shape == (6, 6)
    assert m1.sample_y(Xt, 2).shape == (6, 2)


def test_multitask_beats_independent_on_shared_structure():
    X, Y = make_data(260, 3, seed=6, noise=0.05)
    X, Y, Xt, Yt = X[:60], Y[:60].copy(), X[60:], Y[60:]
    Y[20:, 2] = np.nan  # task 2 only seen on a third of the inputs
    mt = MultiTaskGPRegressor(rank=2).fit(X, Y)
    ind = [MultiTaskGPRegressor().fit(X[~np.isnan(Y[:, t])], Y[~np.isnan(Y[:, t]), t]) for t in range(3)]
    err_mt = np.mean((mt.predict(Xt)[:, 2] - Yt[:, 2]) ** 2)
    err_ind = np.mean((ind[2].predict(Xt) - Yt[:, 2]) ** 2)
    assert err_mt < err_ind
    assert mt.score(Xt, Yt) > 0.9


def test_kernels_and_custom_kernel():
    X, Y = make_data(25, 2, seed=7)
    for k in ["rbf", "matern12", "matern32", "matern52", "linear", "periodic"]:
        m = MultiTaskGPRegressor(kernel=k, max_iter=15).fit(X, Y)
        assert np.all(np.isfinite(m.predict(X[:3])))
    k = gpytorch.kernels.RBFKernel() + gpytorch.kernels.LinearKernel()
    m = MultiTaskGPRegressor(kernel=k, max_iter=15).fit(X, Y)
    assert np.all(np.isfinite(m.predict(X[:3])))
    assert k.kernels[0].lengthscale.item() == pytest.approx(0.6931, abs=1e-3)  # caller's kernel untouched


def test_duplicate_inputs_constant_task_and_tiny_data():
    X, Y = make_data(15, 3, seed=8)
    Xd, Yd = np.vstack([X, X, X]), np.vstack([Y, Y + 0.01, Y - 0.01])
    m = MultiTaskGPRegressor().fit(Xd, Yd)
    assert np.all(np.isfinite(m.predict(X)))
    Yc = Y.copy()
    Yc[:, 1] = 3.0
    m = MultiTaskGPRegressor().fit(X, Yc)
    np.testing.assert_allclose(m.predict(X[:4])[:, 1], 3.0, atol=1e-3)
    m = MultiTaskGPRegressor().fit(X[:2], Y[:2])
    assert m.predict(X[:3]).shape == (3, 3)
    m = MultiTaskGPRegressor().fit(X[:1], Y[:1])
    assert np.all(np.isfinite(m.predict(X[:3])))


def test_safe_cholesky_escalates_jitter():
    v = torch.randn(6, 2, dtype=torch.float64)
    K = v @ v.T  # rank 2: singular
    L, jitter = safe_cholesky(K)
    assert jitter > 0 and torch.isfinite(L).all()
    with pytest.raises(NotPositiveDefiniteError, match="noise_floor"):
        safe_cholesky(-torch.eye(4, dtype=torch.float64))


class _NegativeKernel(gpytorch.kernels.Kernel):
    """Not a valid covariance: minus an RBF kernel."""

    def forward(self, x1, x2, diag=False, **params):
        d = ((x1[:, None, :] - x2[None, :, :]) ** 2).sum(-1)
        K = -5.0 * torch.exp(-0.5 * d)
        return K.diagonal() if diag else K


@pytest.mark.parametrize("method", ["kronecker", "masked"])
def test_indefinite_kernel_raises_helpful_error(method):
    X, Y = make_data(12, 2, seed=9)
    with pytest.raises(NotPositiveDefiniteError, match="positive"):
        MultiTaskGPRegressor(kernel=_NegativeKernel(), method=method, noise_floor=1e-8).fit(X, Y)


def test_convergence_warning_and_reproducibility():
    X, Y = make_data(30, 2, seed=10)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        MultiTaskGPRegressor(max_iter=2).fit(X, Y)
    a = MultiTaskGPRegressor(n_restarts_optimizer=2, random_state=3, max_iter=40).fit(X, Y)
    b = MultiTaskGPRegressor(n_restarts_optimizer=2, random_state=3, max_iter=40).fit(X, Y)
    assert a.log_marginal_likelihood_value_ == b.log_marginal_likelihood_value_
    single = MultiTaskGPRegressor(random_state=3, max_iter=40).fit(X, Y)
    assert a.log_marginal_likelihood_value_ >= single.log_marginal_likelihood_value_ - 1e-6


def test_subset_search_and_polish():
    X, Y = make_data(80, 2, seed=11)
    full = MultiTaskGPRegressor().fit(X, Y)
    sub = MultiTaskGPRegressor(max_optimizer_samples=30, random_state=0).fit(X, Y)
    assert sub.log_marginal_likelihood_value_ == pytest.approx(full.log_marginal_likelihood_value_, rel=1e-2)


def test_pickle_clone_gridsearch_pipeline():
    X, Y = make_data(30, 2, seed=12)
    m = MultiTaskGPRegressor(max_iter=30).fit(X, Y)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(m.predict(X[:4]), m2.predict(X[:4]))
    assert clone(m).get_params() == m.get_params()
    gs = GridSearchCV(MultiTaskGPRegressor(max_iter=20), {"kernel": ["rbf", "matern52"]}, cv=2).fit(X, Y)
    assert gs.best_params_["kernel"] in ("rbf", "matern52")
    pipe = make_pipeline(StandardScaler(), MultiTaskGPRegressor(max_iter=20)).fit(X, Y)
    assert pipe.predict(X[:3]).shape == (3, 2)


def test_sample_weight_scales_noise():
    X, Y = make_data(20, 2, seed=13)
    m = MultiTaskGPRegressor(optimizer=None).fit(X, Y, sample_weight=np.ones(20))
    assert m.method_ == "kronecker"
    w = np.ones(20)
    w[5] = 0.0
    a = MultiTaskGPRegressor().fit(X, Y, sample_weight=w)
    assert a.method_ == "masked"
    keep = np.arange(20) != 5
    b = MultiTaskGPRegressor().fit(X[keep], Y[keep])
    assert a.log_marginal_likelihood_value_ == pytest.approx(b.log_marginal_likelihood_value_, rel=1e-5)
    np.testing.assert_allclose(a.predict(X[:4]), b.predict(X[:4]), rtol=1e-3, atol=1e-4)
    # a large weight shrinks that observation's noise: it pulls the fit harder
    w = np.ones(20)
    w[3] = 50.0
    c = MultiTaskGPRegressor(optimizer=None).fit(X, Y, sample_weight=w)
    d = MultiTaskGPRegressor(optimizer=None).fit(X, Y)
    assert np.abs(c.predict(X[3:4]) - Y[3]).sum() < np.abs(d.predict(X[3:4]) - Y[3]).sum()


def test_bad_parameters():
    X, Y = make_data(10, 2)
    with pytest.raises(ValueError, match="method"):
        MultiTaskGPRegressor(method="nope").fit(X, Y)
    with pytest.raises(ValueError, match="kernel"):
        MultiTaskGPRegressor(kernel="cubic").fit(X, Y)
    Y2 = Y.copy()
    Y2[0, 0] = np.nan
    with pytest.raises(ValueError, match="kronecker"):
        MultiTaskGPRegressor(method="kronecker").fit(X, Y2)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            MultiTaskGPRegressor(device="cuda").fit(X, Y)


# ---------------------------------------------------------------- sparse
def test_sparse_fits_missing_and_long():
    X, Y = make_data(600, 3, seed=14, noise=0.05)
    X, Y, Xt, Yt = X[:400], Y[:400].copy(), X[400:], Y[400:]
    Y[np.random.default_rng(0).random(Y.shape) < 0.2] = np.nan
    m = SparseMultiTaskGPRegressor(n_latent=2, n_inducing=32, n_epochs=40, batch_size=128,
                                   learning_rate=0.05, random_state=0).fit(X, Y)
    assert m.score(Xt, Yt) > 0.8
    assert m.loss_curve_[-1] < m.loss_curve_[0]
    mu, sd = m.predict(Xt[:5], return_std=True)
    _, cov = m.predict(Xt[:5], return_cov=True)
    np.testing.assert_allclose(np.sqrt(np.stack([np.diag(cov[:, :, t]) for t in range(3)], 1)), sd, rtol=1e-5)
    assert m.sample_y(Xt[:5], 2).shape == (5, 3, 2)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(m.predict(Xt[:5]), m2.predict(Xt[:5]))
    obs = ~np.isnan(Y)
    r, t = np.nonzero(obs)
    ml = SparseMultiTaskGPRegressor(n_latent=2, n_inducing=16, n_epochs=2, task_column=0,
                                    progress_bar=True, random_state=0).fit(np.column_stack([t, X[r]]), Y[r, t])
    assert ml.predict(np.column_stack([t[:4], X[r[:4]]])).shape == (4,)


def test_sparse_reproducible():
    X, Y = make_data(100, 2, seed=15)
    kw = dict(n_inducing=10, n_epochs=2, batch_size=32, random_state=1)
    a = SparseMultiTaskGPRegressor(**kw).fit(X, Y).predict(X[:3])
    b = SparseMultiTaskGPRegressor(**kw).fit(X, Y).predict(X[:3])
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- cuda
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    X, Y = make_data(40, 3, seed=16)
    cpu = MultiTaskGPRegressor(optimizer=None).fit(X, Y)
    gpu = MultiTaskGPRegressor(optimizer=None, device="cuda").fit(X, Y)
    np.testing.assert_allclose(cpu.predict(X[:5]), gpu.predict(X[:5]), rtol=1e-6)
    assert cpu.log_marginal_likelihood_value_ == pytest.approx(gpu.log_marginal_likelihood_value_, rel=1e-8)
    pickle.loads(pickle.dumps(gpu)).predict(X[:2])
    s = SparseMultiTaskGPRegressor(n_inducing=16, n_epochs=2, device="cuda", random_state=0).fit(X, Y)
    assert np.all(np.isfinite(s.predict(X[:3])))
