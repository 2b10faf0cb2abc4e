"""MultiTaskGPRegressor: exact ICM / LMC multi-task Gaussian processes on GPyTorch."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from .._param_validation import Interval, StrOptions
from .._progress import progress
from ._base import GP_CONSTRAINTS, GPBase, lbfgs_objective, torch_device, torch_dtype
from ._exact import (
    ExactParams,
    dense_covariance,
    dense_nlml,
    kronecker_nlml_grads,
    kronecker_state,
)
from ._kernels import latent_kernels

__all__ = ["MultiTaskGPRegressor"]

class MultiTaskGPRegressor(GPBase):
    r"""Exact multi-task Gaussian process regression (ICM and LMC), on GPyTorch.

    The tasks are ``f_t(x) = sum_q sum_r a_{q,t,r} u_{q,r}(x)`` with independent
    latent GPs ``u_{q,r} ~ GP(0, k_q)``, so that

    .. math::

        \operatorname{cov}(f_t(x), f_s(x')) = \sum_{q=1}^{Q} B_q[t, s]\, k_q(x, x'),
        \qquad B_q = A_q A_q^\top + \operatorname{diag}(\kappa_q),

    and ``y_t(x) = f_t(x) + e_t(x)`` with Gaussian noise of covariance ``Sigma``
    (diagonal: one noise per task; full with ``correlated_noise=True``).
    ``Q = 1`` is the intrinsic coregionalization model (ICM, Bonilla, Chai &
    Williams 2008) with task covariance of rank ``rank`` plus a diagonal;
    ``n_latent = Q > 1`` is the linear model of coregionalization (LMC; Alvarez,
    Rosasco & Lawrence 2012), each latent process with its own kernel.

    Hyperparameters maximize the exact log marginal likelihood with L-BFGS-B
    from a data-driven start (lengthscales from the input spread, task
    covariance from the empirical correlation of the targets), plus
    ``n_restarts_optimizer`` random restarts.

    Two exact paths (``method``):

    * ``"kronecker"`` (ICM, every task observed on every row, no sample weights):
      ``K = B (x) Kx + Sigma (x) I`` solved through the eigendecompositions of
      ``Kx`` (n x n) and of the whitened ``B`` (T x T): O(n^3 + T^3), hand-written
      with dense ``torch.linalg.eigh`` (not ``linear_operator``'s Kronecker operators);
    * ``"masked"`` (missing targets, long input with each task its own inputs,
      LMC, sample weights): the covariance of the observed (input, task) pairs,
      Cholesky with escalating jitter: O(N_obs^3).

    ``"auto"`` takes the Kronecker path when it applies.

    Parameters
    ----------
    kernel : {"rbf", "matern12", "matern32", "matern52", "linear", "periodic"} or gpytorch.kernels.Kernel
        Input kernel ``k_q`` (unscaled: the task covariances carry the variance).
        A GPyTorch kernel is copied; its current hyperparameters are the start.
    ard : bool, default=True
        One lengthscale per input feature.
    rank : int, default=1
        Rank of ``A_q`` in each task covariance.
    n_latent : int or None, default=None
        Number of latent processes ``Q``; None is ICM (``Q = 1``).
    correlated_noise : bool, default=False
        Full task noise covariance (observations of one row correlated across tasks).
    normalize_y : bool, default=True
        Standardize each task's targets (mean 0, variance 1) before fitting.
    method : {"auto", "kronecker", "masked"}, default="auto"
    optimizer : {"lbfgs"} or None, default="lbfgs"
        None keeps the starting hyperparameters.
    n_restarts_optimizer : int, default=0
    max_iter : int, default=200
        L-BFGS iteration limit per start (a ConvergenceWarning when reached).
    tol : float, default=1e-7
        Relative tolerance on the objective (L-BFGS-B ``ftol``).
    max_optimizer_samples : int or None, default=None
        When set and there are more rows than this, the hyperparameter search
        (all starts) runs on a random subset of that many rows, then the best
        start is polished by at most ``n_polish_iter`` L-BFGS iterations on all
        rows; the posterior and ``log_marginal_likelihood_value_`` always use
        all rows. None: every start on all rows.
    n_polish_iter : int, default=15
        L-BFGS iterations on all rows after a subset search (0: none, e.g. when
        one evaluation on all rows is too costly).
    noise_floor : float, default=1e-6
        Lower bound of each noise variance (normalized scale).
    device : {"cpu", "cuda"} or torch.device, default="cpu"
    dtype : {"float64", "float32"}, default="float64"
    random_state : int, RandomState or None
        Seeds restarts and subsampling.
    task_column : str, int or None
        Task column of long input (see :mod:`skmtl._data`).
    verbose : int, default=0
        When positive, a tqdm progress bar over the optimizer's starts (with the
        negative log marginal likelihood per observation); above 1 also the
        trial points where the objective failed.

    Attributes
    ----------
    log_marginal_likelihood_value_ : float
        Log marginal likelihood of the (normalized) training targets at the fitted
        hyperparameters.
    task_covariance_ : ndarray (n_tasks, n_tasks)
        ``sum_q B_q``, in the units of the targets (the covariance of the tasks
        at one input for unit-variance kernels).
    task_covariances_ : ndarray (Q, n_tasks, n_tasks)
    task_correlation_ : ndarray (n_tasks, n_tasks)
    noise_variance_ : ndarray (n_tasks,)
    noise_covariance_ : ndarray (n_tasks, n_tasks)
    kernels_ : list of fitted GPyTorch kernels (on CPU)
    method_ : {"kronecker", "masked"}
    n_iter_ : int
        L-BFGS iterations of the best start.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.gaussian_process import MultiTaskGPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(30, 1))
    >>> Y = np.column_stack([np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.5]) + 0.05 * rng.standard_normal((30, 2))
    >>> model = MultiTaskGPRegressor(random_state=0).fit(X, Y)
    >>> mean, std = model.predict(X[:3], return_std=True)
    >>> mean.shape, std.shape
    ((3, 2), (3, 2))
    """

    _parameter_constraints = {
        **GP_CONSTRAINTS,
        "rank": [Interval(Integral, 1, None, closed="left")],
        "n_latent": [None, Interval(Integral, 1, None, closed="left")],
        "correlated_noise": ["boolean"],
        "method": [StrOptions({"auto", "kronecker", "masked"})],
        "optimizer": [StrOptions({"lbfgs"}), None],
        "n_restarts_optimizer": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_optimizer_samples": [None, Interval(Integral, 1, None, closed="left")],
        "n_polish_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        kernel="rbf",
        *,
        ard=True,
        rank=1,
        n_latent=None,
        correlated_noise=False,
        normalize_y=True,
        method="auto",
        optimizer="lbfgs",
        n_restarts_optimizer=0,
        max_iter=200,
        tol=1e-7,
        max_optimizer_samples=None,
        n_polish_iter=15,
        noise_floor=1e-6,
        device="cpu",
        dtype="float64",
        random_state=None,
        task_column=None,
        verbose=0,
    ):
        self.kernel = kernel
        self.ard = ard
        self.rank = rank
        self.n_latent = n_latent
        self.correlated_noise = correlated_noise
        self.normalize_y = normalize_y
        self.method = method
        self.optimizer = optimizer
        self.n_restarts_optimizer = n_restarts_optimizer
        self.max_iter = max_iter
        self.tol = tol
        self.max_optimizer_samples = max_optimizer_samples
        self.n_polish_iter = n_polish_iter
        self.noise_floor = noise_floor
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.task_column = task_column
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self, T):
        if self.method not in ("auto", "kronecker", "masked"):
            raise ValueError(f"method must be 'auto', 'kronecker' or 'masked'; got {self.method!r}.")
        if self.optimizer not in ("lbfgs", None):
            raise ValueError(f"optimizer must be 'lbfgs' or None; got {self.optimizer!r}.")
        if not (isinstance(self.rank, (int, np.integer)) and self.rank >= 1):
            raise ValueError(f"rank must be a positive integer; got {self.rank!r}.")
        Q = 1 if self.n_latent is None else self.n_latent
        if not (isinstance(Q, (int, np.integer)) and Q >= 1):
            raise ValueError(f"n_latent must be None or a positive integer; got {self.n_latent!r}.")
        if not (isinstance(self.n_restarts_optimizer, (int, np.integer)) and self.n_restarts_optimizer >= 0):
            raise ValueError("n_restarts_optimizer must be a non-negative integer.")
        if not (isinstance(self.max_iter, (int, np.integer)) and self.max_iter >= 0):
            raise ValueError("max_iter must be a non-negative integer.")
        if not self.noise_floor > 0:
            raise ValueError(f"noise_floor must be positive; got {self.noise_floor!r}.")
        return int(Q), int(min(self.rank, T))

    # --------------------------------------------------------------- building
    def _build(self, Xn, Q, rank, T, Yn_init, rng, restart):
        kernels = latent_kernels(self.kernel, Xn, Q, self.ard, (1.0, 0.4, 2.5, 0.15), rng, restart)
        params = ExactParams(kernels, T, rank, self.correlated_noise, self.noise_floor).double()
        C = Yn_init  # (T, T) empirical correlation, signal share 0.9
        w, E = np.linalg.eigh(0.9 * C)
        order = np.argsort(w)[::-1]
        w, E = np.clip(w[order], 0.0, None), E[:, order]
        A = np.zeros((Q, T, rank))
        kappa = np.zeros((Q, T))
        if Q == 1:
            A[0] = E[:, :rank] * np.sqrt(w[:rank])
            kappa[0] = np.maximum(np.diag(0.9 * C) - (A[0] ** 2).sum(1), 0.05)
        else:
            for q in range(Q):
                j = q % T
                A[q, :, 0] = E[:, j] * np.sqrt(max(w[j], 0.05))
                A[q, :, 1:] = 0.05 * rng.normal(size=(T, rank - 1))
                kappa[q] = 0.05 / Q
        noise = np.full(T, 0.1)
        if restart:
            A = A + 0.3 * rng.normal(size=A.shape)
            noise = np.exp(rng.uniform(np.log(0.01), np.log(0.5), size=T))
        with torch.no_grad():
            params.task_factors.copy_(torch.as_tensor(A))
            params.log_task_diag.copy_(torch.log(torch.as_tensor(kappa)))
        params.set_noise(noise)
        return params

    @staticmethod
    def _init_correlation(data, yn):
        T = data.n_tasks
        C = np.eye(T)
        if T == 1:
            return C
        if data.complete:
            Y = yn.reshape(T, data.n_samples).T
            sd = Y.std(axis=0)
            ok = sd > 0
            Cc = np.corrcoef(Y[:, ok].T) if ok.sum() > 1 else np.ones((1, 1))
            C[np.ix_(ok, ok)] = np.atleast_2d(Cc)
        else:
            full = np.full((data.n_samples, T), np.nan)
            full[data.rows, data.task_of_obs] = yn
            for t in range(T):
                for s in range(t + 1, T):
                    m = ~np.isnan(full[:, t]) & ~np.isnan(full[:, s])
                    if m.sum() >= 3 and full[m, t].std() > 0 and full[m, s].std() > 0:
                        C[t, s] = C[s, t] = np.corrcoef(full[m, t], full[m, s])[0, 1]
        C = np.nan_to_num(C)
        np.fill_diagonal(C, 1.0)
        return C

    # -------------------------------------------------------------- objective
    def _objective(self, params, kind, tensors):
        plist = [p for p in params.parameters() if p.requires_grad]

        def evaluate():
            if kind == "kronecker":
                Kx = params.kernels[0](tensors["X"]).to_dense()
                B = params.task_covariances()[0]
                S = params.noise_covariance()
                with torch.no_grad():
                    nlml, GK, GB, GS = kronecker_nlml_grads(Kx.detach(), B.detach(), S.detach(), tensors["Y"])
                return nlml, (GK * Kx).sum() + (GB * B).sum() + (GS * S).sum()
            K = dense_covariance(params, tensors["X"], tensors["rows"], tensors["tasks"], tensors["w"])
            nlml, _, _ = dense_nlml(K, tensors["y"])
            return nlml, nlml

        fun = lbfgs_objective(evaluate, plist, tensors["n_obs"], "MultiTaskGPRegressor", self.verbose,
                              strict=bool(tensors.get("strict")))
        return fun, plist

    def _tensors(self, data, yn, rows_subset, kind, dev, dt):
        if rows_subset is not None:
            sub = data.subset_rows(rows_subset)
            ysub = yn[np.isin(data.rows, rows_subset)]
            data, yn = sub, ysub
        X = torch.as_tensor(np.asarray(data.X), dtype=dt, device=dev)
        out = {"X": X, "device": dev, "dtype": dt, "n_obs": data.n_obs}
        if kind == "kronecker":
            out["Y"] = torch.as_tensor(yn.reshape(data.n_tasks, data.n_samples).T.copy(), dtype=dt, device=dev)
        else:
            out["y"] = torch.as_tensor(yn, dtype=dt, device=dev)
            out["rows"] = torch.as_tensor(data.rows, device=dev)
            out["tasks"] = torch.as_tensor(data.task_of_obs, device=dev)
            out["w"] = torch.as_tensor(data.sample_weight, dtype=dt, device=dev)
        return out

    # --------------------------------------------------------------------- fit
    def fit(self, X, y, sample_weight=None):
        """Fit the hyperparameters by maximizing the exact marginal likelihood.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training inputs, with the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Targets: one column per task (wide; NaN marks a missing target) or one
            value per row (long input).
        sample_weight : array-like of shape (n_samples,), default=None
            Scales each observation's noise variance by ``1 / w`` (zero weights
            drop the observation); it selects the masked path.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        data = self._validate_fit(X, y, sample_weight)
        dev = torch_device(self.device)
        dt = torch_dtype(self.dtype)
        T = data.n_tasks
        Q, rank = self._check_params(T)
        if not data.unit_weights:
            keep_obs = data.sample_weight > 0
            if not keep_obs.all():
                counts = np.add.reduceat(keep_obs.astype(np.int64), data.task_ptr[:-1])
                counts[np.diff(data.task_ptr) == 0] = 0
                if np.any(counts == 0):
                    raise ValueError("Every task needs at least one observation with a positive sample_weight.")
                data = type(data)(
                    X=data.X, y=data.y[keep_obs], rows=data.rows[keep_obs],
                    task_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                    sample_weight=data.sample_weight[keep_obs], tasks=data.tasks,
                    layout=data.layout, complete=False,
                )
        kron_ok = Q == 1 and data.complete and data.unit_weights
        if self.method == "kronecker" and not kron_ok:
            raise ValueError(
                "method='kronecker' needs the ICM (n_latent=None or 1), every target observed "
                "on shared inputs (wide input without NaN) and no sample weights; use "
                "method='masked' or 'auto'."
            )
        kind = "kronecker" if (kron_ok and self.method != "masked") else "masked"
        yn = self._normalize(data)
        rng = check_random_state(self.random_state)
        Xn = np.asarray(data.X, dtype=np.float64)
        C0 = self._init_correlation(data, yn)

        rows_subset = None
        m = self.max_optimizer_samples
        if m is not None and data.n_samples > m:
            rows_subset = np.sort(rng.choice(data.n_samples, size=int(m), replace=False))
        opt_tensors = self._tensors(data, yn, rows_subset, kind, dev, dt)

        best = None
        n_starts = 1 + (self.n_restarts_optimizer if self.optimizer is not None else 0)
        starts = progress(range(n_starts), self.verbose, desc="MultiTaskGP", unit="start")
        for start in starts:
            params = self._build(Xn, Q, rank, T, C0, rng, restart=start > 0).to(device=dev, dtype=dt)
            fun, plist = self._objective(params, kind, opt_tensors)
            theta0 = parameters_to_vector(plist).detach().cpu().numpy().astype(np.float64)
            if self.optimizer is None:
                val, _ = fun(theta0)
                res_theta, res_val, nit, status = theta0, val, 0, 0
            else:
                bounds = [(-25.0, 25.0)] * len(theta0)
                res = minimize(
                    fun, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                    options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-6, "maxcor": 20},
                )
                res_theta, res_val, nit, status = res.x, float(res.fun), int(res.nit), int(res.status)
            if hasattr(starts, "set_postfix"):
                starts.set_postfix(nlml_per_obs=f"{res_val:.5g}", iterations=nit)
            if best is None or res_val < best[1]:
                best = (res_theta, res_val, nit, status, params, plist)
        theta, _, nit, status, params, plist = best
        if rows_subset is not None and self.optimizer is not None and self.n_polish_iter > 0:
            full_tensors = self._tensors(data, yn, None, kind, dev, dt)
            fun, plist = self._objective(params, kind, full_tensors)
            res = minimize(
                fun, theta, jac=True, method="L-BFGS-B", bounds=[(-25.0, 25.0)] * len(theta),
                options={"maxiter": self.n_polish_iter, "ftol": self.tol, "gtol": 1e-6, "maxcor": 20},
            )
            theta, nit, status = res.x, nit + int(res.nit), 0
        if self.optimizer is not None and status == 1:
            warnings.warn(
                f"L-BFGS stopped at max_iter={self.max_iter} iterations before converging; "
                f"increase max_iter, loosen tol, or standardize the inputs.",
                ConvergenceWarning,
            )
        with torch.no_grad():
            vector_to_parameters(torch.as_tensor(theta, dtype=dt, device=dev), plist)
        self.n_iter_ = nit
        self.method_ = kind
        self._finalize(params, data, yn, kind, dev, dt)
        return self

    def _finalize(self, params, data, yn, kind, dev, dt):
        tensors = self._tensors(data, yn, None, kind, dev, dt)
        with torch.no_grad():
            if kind == "kronecker":
                Kx = params.kernels[0](tensors["X"]).to_dense()
                B = params.task_covariances()[0]
                S = params.noise_covariance()
                st = kronecker_state(Kx, B, S, tensors["Y"])
                nlml = st.pop("nlml")
                state = {k: v.cpu().numpy() for k, v in st.items()}
            else:
                K = dense_covariance(params, tensors["X"], tensors["rows"], tensors["tasks"], tensors["w"])
                nlml_t, L, alpha = dense_nlml(K, tensors["y"])
                nlml = float(nlml_t)
                state = {"L": L.cpu().numpy(), "alpha": alpha.cpu().numpy(),
                         "rows": data.rows.copy(), "tasks": data.task_of_obs.copy()}
            Bq = params.task_covariances().cpu().numpy()
            noise = params.noise_covariance().cpu().numpy()
        state["X"] = np.asarray(data.X, dtype=np.float64).copy()
        self._state = state
        self.params_ = copy.deepcopy(params).to(device="cpu", dtype=torch.float64)
        self.kernels_ = list(self.params_.kernels)
        self.log_marginal_likelihood_value_ = -nlml
        self.task_covariances_ = Bq * self._y_std[None, :, None] * self._y_std[None, None, :]
        self._set_task_attributes(Bq.sum(0), noise)

    # -------------------------------------------------------------- prediction
    def _device_params(self):
        dev = torch_device(self.device)
        dt = torch_dtype(self.dtype)
        return copy.deepcopy(self.params_).to(device=dev, dtype=dt), dev, dt

    def _latent_moments(self, Xs, x_idx, t_idx, want, chunk=2048):
        """Posterior mean and variance (or covariance) of f at (X[x_idx], task t_idx), normalized."""
        params, dev, dt = self._device_params()
        st = self._state
        tt = lambda a: torch.as_tensor(a, device=dev, dtype=dt)  # noqa: E731
        Xs_t = tt(np.asarray(Xs, dtype=np.float64))
        Xtr = tt(st["X"])
        xi = torch.as_tensor(x_idx, device=dev)
        ti = torch.as_tensor(t_idx, device=dev)
        with torch.no_grad():
            Bq = params.task_covariances()
            if self.method_ == "kronecker":
                A, P, V, lam = tt(st["A"]), tt(st["P"]), tt(st["V"]), tt(st["lam"])
                B = Bq[0]
                Ksx = params.kernels[0](Xs_t, Xtr).to_dense()
                mean = (Ksx @ A @ B)[xi, ti]
                if want == "mean":
                    return mean.cpu().numpy(), None
                R = Ksx @ V
                if want == "var":
                    G = (R**2) @ (1.0 / lam)
                    kss = params.kernels[0](Xs_t, Xs_t, diag=True)
                    var = B[ti, ti] * kss[xi] - ((P[ti] ** 2) * G[xi]).sum(1)
                    return mean.cpu().numpy(), var.clamp_min(0).cpu().numpy()
                T, n = P.shape[0], V.shape[0]
                Qm = (P[ti][:, :, None] * R[xi][:, None, :]).reshape(len(xi), T * n)
                lamf = lam.T.reshape(-1)
                Kss = params.kernels[0](Xs_t, Xs_t).to_dense()
                cov = B[ti][:, ti] * Kss[xi][:, xi] - (Qm / lamf) @ Qm.T
                return mean.cpu().numpy(), cov.cpu().numpy()
            rows = torch.as_tensor(st["rows"], device=dev)
            tasks = torch.as_tensor(st["tasks"], device=dev)
            L, alpha = tt(st["L"]), tt(st["alpha"])
            Kq = params.kernel_matrices(Xs_t, Xtr)[:, :, rows]  # (Q, ns, N)
            means, vars_ = [], []
            m = len(xi)
            for s in range(0, max(m, 1), chunk):
                xs, ts = xi[s:s + chunk], ti[s:s + chunk]
                Ks = (Bq[:, ts][:, :, tasks] * Kq[:, xs]).sum(0)
                means.append(Ks @ alpha)
                if want == "var":
                    v = torch.linalg.solve_triangular(L, Ks.T, upper=False)
                    kd = params.kernel_diags(Xs_t)  # (Q, ns)
                    prior = (Bq[:, ts, ts] * kd[:, xs]).sum(0)
                    vars_.append((prior - (v**2).sum(0)).clamp_min(0))
            mean = torch.cat(means) if means else torch.zeros(0, dtype=dt)
            if want == "mean":
                return mean.cpu().numpy(), None
            if want == "var":
                return mean.cpu().numpy(), torch.cat(vars_).cpu().numpy()
            Ks = (Bq[:, ti][:, :, tasks] * Kq[:, xi]).sum(0)
            v = torch.linalg.solve_triangular(L, Ks.T, upper=False)
            Kss = params.kernel_matrices(Xs_t)
            prior = (Bq[:, ti][:, :, ti] * Kss[:, xi][:, :, xi]).sum(0)
            return mean.cpu().numpy(), (prior - v.T @ v).cpu().numpy()
