r"""Sparse variational LMC multi-task GP (SVGP, Hensman et al. 2013/2015), on GPyTorch.

Q latent GPs ``u_q ~ GP(0, k_q)``, each summarized by ``M`` inducing variables with a
Gaussian variational posterior; tasks ``f_t(x) = sum_q c_{q,t} u_q(x)``
(GPyTorch's ``LMCVariationalStrategy``). Training maximizes the evidence lower bound

.. math::

    \mathrm{ELBO} = \sum_i \mathbb{E}_{q(f)}[\log N(y_i | f_{t_i}(x_i), \sigma^2_{t_i})]
                    - \mathrm{KL}(q(u) \,\|\, p(u))

by Adam on mini-batches of rows, each with its observed tasks (missing targets
have weight zero); the Gaussian expectation is in closed form.
"""

import copy
import math
import sys
from numbers import Integral, Real

import gpytorch
import numpy as np
import torch
from sklearn.utils import check_random_state

from .._param_validation import Interval, validate_params
from .._progress import progress
from ._base import GP_CONSTRAINTS, GPBase, torch_device, torch_dtype
from ._gp import MultiTaskGPRegressor
from ._kernels import init_kernel, make_kernel

__all__ = ["SparseMultiTaskGPRegressor"]


class _SVLMC(gpytorch.models.ApproximateGP):
    def __init__(self, inducing, kernel, n_tasks, n_latent):
        Q, M = inducing.shape[0], inducing.shape[1]
        vd = gpytorch.variational.CholeskyVariationalDistribution(M, batch_shape=torch.Size([Q]))
        vs = gpytorch.variational.LMCVariationalStrategy(
            gpytorch.variational.VariationalStrategy(self, inducing, vd, learn_inducing_locations=True),
            num_tasks=n_tasks,
            num_latents=n_latent,
            latent_dim=-1,
        )
        super().__init__(vs)
        self.mean_module = gpytorch.means.ZeroMean(batch_shape=torch.Size([Q]))
        self.covar_module = kernel
        self.log_noise = torch.nn.Parameter(torch.full((n_tasks,), math.log(0.1)))

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))

    def latent_moments(self, x, full_cov=False):
        """Means (Q, b) and variances (Q, b) (or covariances (Q, b, b)) of the latent GPs."""
        latent = self.variational_strategy.base_variational_strategy(x)
        return latent.mean, (latent.covariance_matrix if full_cov else latent.variance)

    def coefficients(self):
        """LMC coefficients ``c_{q,t}``, shape (Q, T)."""
        lmc = self.variational_strategy.lmc_coefficients
        return lmc.reshape(lmc.shape[0], -1)

    def task_moments(self, x, x_idx, task_indices, full_cov=False):
        """Mean and variance (or covariance) of ``f_{t_i}(x_{x_idx_i})``.

        Equal to ``LMCVariationalStrategy(x[x_idx], task_indices=...)`` but without
        forming the mixed (b x b) covariance, which dominates GPyTorch's cost.
        """
        mu, second = self.latent_moments(x, full_cov)
        C = self.coefficients()[:, task_indices]
        mean = (C * mu[:, x_idx]).sum(0)
        if full_cov:
            cov = (C[:, :, None] * C[:, None, :] * second[:, x_idx][:, :, x_idx]).sum(0)
            return mean, cov
        return mean, ((C**2) * second[:, x_idx]).sum(0)


class SparseMultiTaskGPRegressor(GPBase):
    r"""Sparse variational linear model of coregionalization, for data beyond exact GPs.

    ``f_t(x) = sum_q c_{q,t} u_q(x)`` with ``Q = n_latent`` latent GPs, each with
    ``n_inducing`` inducing points (initialized on a random subset of the
    inputs, then learned), per-task Gaussian noise ``sigma_t^2``. The ELBO is
    maximized with Adam on mini-batches of ``batch_size`` rows for
    ``n_epochs`` passes; cost per step O(Q (b M^2 + M^3)), memory O(Q M^2 + b M).

    The implied task covariance is ``sum_q c_q c_q^T`` (``task_covariance_``).

    Parameters
    ----------
    kernel : str or gpytorch.kernels.Kernel, default="rbf"
        As in :class:`MultiTaskGPRegressor`; a GPyTorch kernel must have
        ``batch_shape == torch.Size([n_latent])``.
    ard : bool, default=True
    n_latent : int or None, default=None
        Number of latent GPs; None: ``min(n_tasks, 4)``.
    n_inducing : int, default=256
    batch_size : int, default=1024
        Rows of ``X`` per step (all of a row's observed tasks enter together).
    n_epochs : int or None, default=None
        Passes over the rows. None: at least 10 passes and at least
        ``min_steps = 300`` optimizer steps (small data sets need many passes
        of few mini-batches), stored in ``n_epochs_``.
    learning_rate : float, default=0.02
    normalize_y : bool, default=True
    noise_floor : float, default=1e-6
    progress_bar : bool, default=False
        Show a tqdm progress bar (per epoch, with the loss); ``verbose > 0``
        shows it too.
    device, dtype, random_state, task_column
        As in :class:`MultiTaskGPRegressor`.
    verbose : int, default=0
        When positive, the progress bar over epochs.

    Attributes
    ----------
    elbo_ : float
        Final ELBO per observation (normalized targets), over the last epoch.
    loss_curve_ : list of float
        Negative ELBO per observation, one value per epoch.
    n_epochs_ : int
        Passes over the rows made.
    n_iter_ : int
        Optimizer steps made.
    task_covariance_, task_correlation_, noise_variance_, noise_covariance_
    model_ : the fitted GPyTorch model (on CPU)

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.gaussian_process import SparseMultiTaskGPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(200, 1))
    >>> Y = np.column_stack([np.sin(X[:, 0]), np.cos(X[:, 0])]) + 0.05 * rng.standard_normal((200, 2))
    >>> model = SparseMultiTaskGPRegressor(n_inducing=16, batch_size=64, n_epochs=2, random_state=0).fit(X, Y)
    >>> model.predict(X[:3]).shape
    (3, 2)
    """

    #: ``n_epochs=None``: at least this many optimizer steps
    _min_steps = 300

    _parameter_constraints = {
        **GP_CONSTRAINTS,
        "n_latent": [None, Interval(Integral, 1, None, closed="left")],
        "n_inducing": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [None, Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "noise_floor": [Interval(Real, 0, None, closed="left")],  # the noise is exp(.) + noise_floor > 0
        "progress_bar": ["boolean"],
    }

    def __init__(
        self,
        kernel="rbf",
        *,
        ard=True,
        n_latent=None,
        n_inducing=256,
        batch_size=1024,
        n_epochs=None,
        learning_rate=0.02,
        normalize_y=True,
        noise_floor=1e-6,
        progress_bar=False,
        device="cpu",
        dtype="float64",
        random_state=None,
        task_column=None,
        verbose=0,
    ):
        self.kernel = kernel
        self.ard = ard
        self.n_latent = n_latent
        self.n_inducing = n_inducing
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.normalize_y = normalize_y
        self.noise_floor = noise_floor
        self.progress_bar = progress_bar
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.task_column = task_column
        self.verbose = verbose

    def _noise(self, model):
        return torch.exp(model.log_noise) + self.noise_floor

    def fit(self, X, y, sample_weight=None):
        """Maximize the ELBO by mini-batch Adam.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training inputs, with the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Targets: one column per task (wide; NaN marks a missing target) or one
            value per row (long input).
        sample_weight : array-like of shape (n_samples,), default=None
            Scales each observation's log-likelihood term.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validate_params(self)  # before random_state is used (the fit's _validate_fit checks again)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(0, 2**31 - 1))
        devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
        with torch.random.fork_rng(devices=devices):  # GPyTorch initializes with torch's global RNG
            torch.manual_seed(seed)
            return self._fit(X, y, sample_weight, rng, seed)

    def _fit(self, X, y, sample_weight, rng, seed):
        data = self._validate_fit(X, y, sample_weight)
        dev = torch_device(self.device)
        dt = torch_dtype(self.dtype)
        for name in ("n_inducing", "batch_size") + (("n_epochs",) if self.n_epochs is not None else ()):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v >= 1):
                raise ValueError(f"{name} must be a positive integer; got {v!r}.")
        T = data.n_tasks
        Q = min(T, 4) if self.n_latent is None else int(self.n_latent)
        if Q < 1:
            raise ValueError(f"n_latent must be a positive integer; got {self.n_latent!r}.")
        yn = self._normalize(data)
        Xn = np.asarray(data.X, dtype=np.float64)
        n = Xn.shape[0]
        M = min(int(self.n_inducing), n)
        idx = rng.choice(n, size=M, replace=False)
        inducing = torch.as_tensor(np.repeat(Xn[idx][None], Q, axis=0))
        kernel = make_kernel(self.kernel, Xn.shape[1], self.ard, batch_shape=torch.Size([Q]))
        if isinstance(self.kernel, str):
            init_kernel(kernel, Xn)
            ls = getattr(kernel, "lengthscale", None)
            if ls is not None:  # spread the latent lengthscales
                f = torch.as_tensor([[0.7, 1.5, 0.35, 3.0][q % 4] for q in range(Q)], dtype=ls.dtype)
                kernel.lengthscale = ls * f.reshape(Q, *([1] * (ls.dim() - 1)))
        elif getattr(kernel, "batch_shape", torch.Size()) != torch.Size([Q]):
            raise ValueError(
                f"A GPyTorch kernel for SparseMultiTaskGPRegressor needs batch_shape=torch.Size([{Q}]) "
                f"(one kernel per latent process); got {tuple(kernel.batch_shape)}."
            )
        model = _SVLMC(inducing, kernel, T, Q)
        C = MultiTaskGPRegressor._init_correlation(data, yn)
        w, E = np.linalg.eigh(C)
        order = np.argsort(w)[::-1]
        coef = np.stack([E[:, order[q % T]] * np.sqrt(max(w[order[q % T]], 0.05)) for q in range(Q)])
        coef = coef + 0.05 * rng.normal(size=coef.shape)
        with torch.no_grad():
            model.variational_strategy.lmc_coefficients.copy_(torch.as_tensor(coef).reshape_as(
                model.variational_strategy.lmc_coefficients))
        model = model.to(device=dev, dtype=dt)

        Xt = torch.as_tensor(Xn, dtype=dt, device=dev)
        # targets as an (n, T) matrix with observation weights (0 where missing): a
        # mini-batch of rows evaluates the latent GPs once for all the row's tasks
        Ymat = np.zeros((n, T))
        Wmat = np.zeros((n, T))
        Ymat[data.rows, data.task_of_obs] = yn
        Wmat[data.rows, data.task_of_obs] = data.sample_weight
        obs_rows = np.flatnonzero(Wmat.any(axis=1))
        Yt = torch.as_tensor(Ymat, dtype=dt, device=dev)
        Wt = torch.as_tensor(Wmat, dtype=dt, device=dev)
        row_ids = torch.as_tensor(obs_rows, device=dev)
        N = len(yn)
        n_rows = len(obs_rows)
        b = min(int(self.batch_size), n_rows)
        steps_per_epoch = math.ceil(n_rows / b)
        if self.n_epochs is None:
            self.n_epochs_ = max(10, math.ceil(self._min_steps / steps_per_epoch))
        else:
            self.n_epochs_ = int(self.n_epochs)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        opt = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
        model.train()
        epochs = progress(range(self.n_epochs_), self.progress_bar or self.verbose,
                          desc="SparseMultiTaskGP", unit="epoch", file=sys.stderr)
        bar = epochs if hasattr(epochs, "set_postfix") else None
        self.loss_curve_ = []
        log2pi = math.log(2 * math.pi)
        for ep in epochs:
            perm = row_ids[torch.randperm(n_rows, generator=gen).to(dev)]
            total = 0.0
            n_steps = 0
            for s in range(0, n_rows, b):
                bi = perm[s:s + b]
                opt.zero_grad(set_to_none=True)
                mu_q, var_q = model.latent_moments(Xt[bi])
                C = model.coefficients()
                mu, var = mu_q.T @ C, var_q.T @ (C**2)  # (b, T)
                noise = self._noise(model)
                ell = -0.5 * (log2pi + torch.log(noise) + ((Yt[bi] - mu) ** 2 + var) / noise)
                kl = model.variational_strategy.kl_divergence().sum()
                loss = -((ell * Wt[bi]).sum() * (n_rows / len(bi)) - kl) / N
                loss.backward()
                opt.step()
                total += float(loss.detach())
                n_steps += 1
            self.loss_curve_.append(total / n_steps)
            if bar is not None:
                bar.set_postfix(loss=f"{self.loss_curve_[-1]:.4f}")
        if bar is not None:
            bar.close()
        self.n_iter_ = self.n_epochs_ * steps_per_epoch
        self.elbo_ = -self.loss_curve_[-1]
        model.eval()
        self.model_ = copy.deepcopy(model).to(device="cpu", dtype=torch.float64)
        with torch.no_grad():
            Cq = self.model_.variational_strategy.lmc_coefficients.reshape(Q, T).numpy()
            noise = self._noise(self.model_).numpy()
        self.task_covariances_ = np.einsum("qt,qs->qts", Cq, Cq) * self._y_std[None, :, None] * self._y_std[None, None, :]
        self._set_task_attributes(Cq.T @ Cq, np.diag(noise))
        return self

    def _latent_moments(self, Xs, x_idx, t_idx, want, chunk=4096):
        dev = torch_device(self.device)
        dt = torch_dtype(self.dtype)
        model = copy.deepcopy(self.model_).to(device=dev, dtype=dt)
        model.eval()
        Xq = torch.as_tensor(np.asarray(Xs, dtype=np.float64), dtype=dt, device=dev)
        xi = torch.as_tensor(x_idx, device=dev)
        ti = torch.as_tensor(t_idx, device=dev)
        with torch.no_grad():
            if want == "cov":
                mean, cov = model.task_moments(Xq, xi, ti, full_cov=True)
                return mean.cpu().numpy(), cov.cpu().numpy()
            C = model.coefficients()
            mu_q, var_q = [], []
            for s in range(0, Xq.shape[0], chunk):
                m_, v_ = model.latent_moments(Xq[s:s + chunk])
                mu_q.append(m_)
                var_q.append(v_)
            mu_q = torch.cat(mu_q, dim=1) if mu_q else torch.zeros(C.shape[0], 0, dtype=dt)
            var_q = torch.cat(var_q, dim=1) if var_q else torch.zeros(C.shape[0], 0, dtype=dt)
            means = [(C[:, ti] * mu_q[:, xi]).sum(0)]
            vars_ = [((C[:, ti] ** 2) * var_q[:, xi]).sum(0)]
            mean = torch.cat(means).cpu().numpy() if means else np.zeros(0)
            if want == "mean":
                return mean, None
            return mean, torch.cat(vars_).clamp_min(0).cpu().numpy()
