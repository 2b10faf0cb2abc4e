r"""OILMMRegressor: the orthogonal instantaneous linear mixing model (Bruinsma et al. 2020).

Model, for ``T`` outputs and ``Q <= T`` latent processes::

    y(x) = H u(x) + e(x),   H = Sigma^{1/2} U S^{1/2},  U^T U = I_Q,  S = diag(s_1..s_Q)
    u_q ~ GP(0, k_q)  independent, each with its own (ARD) kernel
    e(x) ~ N(0, Sigma),  Sigma = diag(sigma_1^2..sigma_T^2)

With ``Sigma = sigma^2 I`` this is the OILMM of Bruinsma et al.; a diagonal
``Sigma`` (each output its own noise) keeps inference exact, because the
whitened outputs ``Sigma^{-1/2} y`` follow that OILMM with unit noise: the
mixing is orthogonal in the ``Sigma^{-1}`` metric. Below, ``Y`` is the whitened
(n, T) target matrix. Because ``U`` has orthonormal columns, the data split
exactly into ``Q`` independent single-output GP problems plus an orthogonal
remainder::

    Y U[:, q] = sqrt(s_q) u_q(X) + noise,  cov = C_q = s_q K_q + I_n
    Y (I - U U^T) = unit white noise, independent of the above

so, with ``R = Y (I - U U^T)``,

    -log p(y) = 1/2 [ sum_q (Y u_q)^T C_q^{-1} (Y u_q) + ||R||_F^2
                      + sum_q log|C_q| + sum_obs log sigma_t^2 + N log 2 pi ]

at a cost of O(Q n^3), independent of T beyond the O(n T Q) projection.

Missing outputs, exactly. Write ``K`` for the (nT x nT) covariance of all
entries, ``P = K^{-1}`` (cheap in this model: ``P vec(V) = vec(V (I - UU^T))
+ sum_q vec(C_q^{-1} V u_q u_q^T)``) and ``m`` for the M missing entries,
``o`` for the observed ones. Filling the missing entries with zeros
(``y_f``) and with ``b = (P y_f)_m``,

    y_o^T K_oo^{-1} y_o = y_f^T P y_f - b^T P_mm^{-1} b,   log|K_oo| = log|K| + log|P_mm|

(the Schur complement of ``P``), where ``P_mm`` (M x M) needs the entries of
``C_q^{-1}`` at the missing rows. The cost is O(Q n^3 + M^3): exact, and still
independent of T for a fixed number of missing entries. Imputing the missing
entries by their conditional mean ``z = -P_mm^{-1} b`` gives a complete matrix
whose ``P``-weights vanish at the missing entries, so the posterior mean is that
of the complete-data model on the imputed matrix; the posterior variance adds
``g^T P_mm^{-1} g`` with ``g`` the missing entries of ``P cov(y, f_t(x*))``.
"""

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from .._param_validation import Interval, StrOptions
from .._progress import progress
from ._base import GP_CONSTRAINTS, GPBase, lbfgs_objective, torch_device, torch_dtype
from ._exact import safe_cholesky
from ._kernels import latent_kernels

__all__ = ["OILMMRegressor", "OILMMParams", "oilmm_nlml", "oilmm_nlml_surrogate"]

_MAX_MISSING = 4000


class OILMMParams(nn.Module):
    """Hyperparameters of the OILMM.

    Attributes
    ----------
    kernels : ModuleList of Q GPyTorch kernels (unscaled; one per latent process)
    mixing_raw : (T, Q) — ``U`` is its orthonormal QR factor (signs fixed by ``R``)
    log_scale : (Q,) — ``log s_q``, the latent signal variances
    log_noise : (T,) — ``log sigma_t^2``, each output's own noise
    """

    def __init__(self, kernels, n_tasks, noise_floor):
        super().__init__()
        Q = len(kernels)
        self.kernels = nn.ModuleList(kernels)
        self.mixing_raw = nn.Parameter(torch.zeros(n_tasks, Q))
        self.log_scale = nn.Parameter(torch.zeros(Q))
        self.log_noise = nn.Parameter(torch.zeros(n_tasks))
        self.noise_floor = float(noise_floor)

    def mixing_basis(self):
        """``U`` (T, Q) with orthonormal columns."""
        Qm, R = torch.linalg.qr(self.mixing_raw)
        sign = torch.sign(R.diagonal())
        sign = torch.where(sign == 0, torch.ones_like(sign), sign)
        return Qm * sign

    def scales(self):
        return torch.exp(self.log_scale)

    def noise(self):
        return torch.exp(self.log_noise) + self.noise_floor

    def kernel_matrices(self, X1, X2=None):
        X2 = X1 if X2 is None else X2
        return torch.stack([k(X1, X2).to_dense() for k in self.kernels])

    def kernel_diags(self, X):
        return torch.stack([k(X, X, diag=True) for k in self.kernels])

    def mixing(self):
        """``H = Sigma^{1/2} U S^{1/2}`` (T, Q)."""
        return self.noise().sqrt()[:, None] * self.mixing_basis() * self.scales().sqrt()

    def task_covariance(self):
        """``H H^T``: the covariance of the outputs' signal at one input."""
        H = self.mixing()
        return H @ H.T

    def noise_covariance(self):
        """``Sigma`` (diagonal)."""
        return torch.diag_embed(self.noise())


def _latent_cholesky(C):
    """Cholesky factors of the (Q, n, n) latent covariances: one batched call,
    :func:`safe_cholesky` (escalating jitter) only for a factor that failed."""
    L, info = torch.linalg.cholesky_ex(C)
    if not bool(info.any()):
        return L
    return torch.stack([safe_cholesky(C[q], what=f"covariance of latent process {q}")[0] for q in range(C.shape[0])])


def _project(params, X, Y):
    """The split of the model into latent problems (differentiable).

    Returns ``U``, ``s``, the noise variances, the latent covariances ``C_q = s_q K_q + I``
    (Q, n, n), the projections ``Yp = Y_w U`` (n, Q) and the remainder
    ``R = Y_w - Yp U^T`` of the whitened targets ``Y_w = Y Sigma^{-1/2}``.
    """
    U = params.mixing_basis()
    s = params.scales()
    noise = params.noise()
    Yw = Y / noise.sqrt()
    eye = torch.eye(Y.shape[0], dtype=Y.dtype, device=Y.device)
    C = s[:, None, None] * params.kernel_matrices(X) + eye
    Yp = Yw @ U
    return U, s, noise, C, Yp, Yw - Yp @ U.T


def oilmm_nlml(params, X, Y, miss_rows, miss_tasks, state=False):
    """Negative log marginal likelihood of the observed entries of ``Y`` (differentiable).

    Parameters
    ----------
    params : OILMMParams
    X : tensor (n, d)
    Y : tensor (n, T), zero at the missing entries
    miss_rows, miss_tasks : long tensors (M,) — the missing entries
    state : bool
        Also return what prediction needs (detached).
    """
    n, T = Y.shape
    U, s, noise, C, Yp, R = _project(params, X, Y)
    Y = Y / noise.sqrt()  # whitened; the missing entries stay zero
    L = _latent_cholesky(C)
    alpha = torch.cholesky_solve(Yp.T.unsqueeze(-1), L).squeeze(-1).T  # (n, Q): C_q^{-1} Y u_q
    quad = (R**2).sum() + (Yp * alpha).sum()
    n_per_task = torch.full((T,), float(n), dtype=Y.dtype, device=Y.device)
    M = int(miss_rows.shape[0])
    if M > 0:
        n_per_task = n_per_task - torch.bincount(miss_tasks, minlength=T).to(Y.dtype)
    logdet = 2.0 * torch.log(L.diagonal(dim1=-2, dim2=-1)).sum() + (n_per_task * torch.log(noise)).sum()
    Lm = None
    if M > 0:
        Cinv = torch.cholesky_inverse(L)  # (Q, n, n)
        PY = R + alpha @ U.T
        b = PY[miss_rows, miss_tasks]
        Um = U[miss_tasks]  # (M, Q)
        same_row = (miss_rows[:, None] == miss_rows[None, :]).to(Y.dtype)
        Cm = Cinv[:, miss_rows][:, :, miss_rows]  # (Q, M, M)
        Pmm = torch.eye(M, dtype=Y.dtype, device=Y.device) - same_row * (Um @ Um.T)
        Pmm = Pmm + torch.einsum("qab,aq,bq->ab", Cm, Um, Um)
        Lm, _ = safe_cholesky(0.5 * (Pmm + Pmm.T), what="precision of the missing entries")
        v = torch.linalg.solve_triangular(Lm, b[:, None], upper=False)[:, 0]
        quad = quad - (v**2).sum()
        logdet = logdet + 2.0 * torch.log(Lm.diagonal()).sum()
    n_obs = n * T - M
    nlml = 0.5 * (quad + logdet + n_obs * math.log(2 * math.pi))
    if not state:
        return nlml
    with torch.no_grad():
        if M > 0:
            z = -torch.cholesky_solve(b[:, None], Lm)[:, 0]
            Yi = Y.clone()
            Yi[miss_rows, miss_tasks] = z
            alpha = torch.cholesky_solve((Yi @ U).T.unsqueeze(-1), L).squeeze(-1).T
        st = {"L": L.detach(), "alpha": alpha.detach(), "U": U.detach(), "s": s.detach(),
              "noise_sd": noise.sqrt().detach(),
              "Lm": None if Lm is None else Lm.detach(), "miss_rows": miss_rows, "miss_tasks": miss_tasks}
    return nlml, st


def oilmm_nlml_surrogate(params, X, Y):
    """``(nlml, surrogate)`` for complete targets: the surrogate's gradient is the nlml's.

    The Cholesky factors are formed without autograd; with ``G_q = (C_q^{-1} -
    alpha_q alpha_q^T) / 2`` the derivative of the nlml in ``C_q`` and
    ``alpha_q`` that in ``Y u_q``, the surrogate

        sum_q <G_q, C_q> + sum_q <alpha_q, Y u_q> + ||R||^2 / 2 + sum_t n log sigma_t^2 / 2

    back-propagates only through the kernel evaluations and the O(n T Q)
    projection, not through the O(n^3) factorizations (about 3x faster than
    differentiating :func:`oilmm_nlml`).
    """
    n, T = Y.shape
    U, s, noise, C, Yp, R = _project(params, X, Y)
    with torch.no_grad():
        L = _latent_cholesky(C)
        alpha = torch.cholesky_solve(Yp.T.unsqueeze(-1), L).squeeze(-1)  # (Q, n)
        G = 0.5 * (torch.cholesky_inverse(L) - alpha[:, :, None] * alpha[:, None, :])
        quad = (R**2).sum() + (Yp.T * alpha).sum()
        logdet = 2.0 * torch.log(L.diagonal(dim1=-2, dim2=-1)).sum() + n * torch.log(noise).sum()
        nlml = 0.5 * (quad + logdet + n * T * math.log(2 * math.pi))
    surrogate = (G * C).sum() + (alpha.T * Yp).sum() + 0.5 * (R**2).sum() + 0.5 * n * torch.log(noise).sum()
    return nlml, surrogate


class OILMMRegressor(GPBase):
    r"""Multi-output GP with orthogonal mixing (OILMM): exact inference in O(Q n^3), any number of outputs.

    The outputs mix ``Q`` independent latent GPs through a matrix with
    orthogonal columns, ``y(x) = U S^{1/2} u(x) + e(x)``, each latent process
    with its own kernel (own ARD length-scales), so outputs whose smoothness
    differs are expressed. The orthogonality makes the exact likelihood split
    into ``Q`` single-output GP problems (Bruinsma, Perim, Tebbutt, Hosking,
    Solin & Turner, "Scalable Exact Inference in Multi-Output Gaussian
    Processes", ICML 2020): the cost is O(Q n^3 + n T Q), linear in the number
    of latent processes and not cubic in the number of outputs as for the
    dense LMC (:class:`MultiTaskGPRegressor` with ``n_latent``). Missing
    outputs are handled exactly through the Schur complement of the precision
    (extra O(M^3) for M missing entries); see the module docstring for the maths.

    Each output has its own noise variance ``sigma_t^2``: the mixing is
    ``H = Sigma^{1/2} U S^{1/2}``, orthogonal in the metric of the noise, which
    keeps the projection exact (``Sigma = sigma^2 I`` is the published model).

    Hyperparameters maximize the exact log marginal likelihood with L-BFGS-B,
    from a start read off the principal components of the standardized targets
    (``U``: the leading eigenvectors; ``sigma_t^2``: each output's variance
    outside them; ``s_q``: the whitened eigenvalues minus one).

    Parameters
    ----------
    n_latent : int or None, default=None
        Number of latent processes ``Q`` (at most ``n_tasks``). None: the number
        of principal components of the standardized targets that explain 95% of
        their variance.
    kernel : {"rbf", "matern12", "matern32", "matern52", "linear", "periodic"} or gpytorch.kernels.Kernel
        Kernel of every latent process (each gets its own copy and hyperparameters).
    ard : bool, default=True
        One length-scale per input feature, per latent process.
    normalize_y : bool, default=True
    optimizer : {"lbfgs"} or None, default="lbfgs"
    n_restarts_optimizer : int, default=0
    max_iter : int, default=500
        L-BFGS iteration limit per start (a ConvergenceWarning when reached).
    tol : float, default=1e-6
        Relative tolerance on the objective (L-BFGS-B ``ftol``; the objective is
        the negative log marginal likelihood divided by ``n_samples (Q + 1)``,
        the size of the Q latent problems and the remainder, so that the
        tolerance on the latent hyperparameters does not loosen as outputs are added).
    noise_floor : float, default=1e-6
        Lower bound of each ``sigma_t^2`` (normalized scale).
    device : {"cpu", "cuda"} or torch.device, default="cpu"
    dtype : {"float64", "float32"}, default="float64"
    random_state : int, RandomState or None
    task_column : str, int or None
    verbose : int, default=0

    Attributes
    ----------
    n_latent_ : int
    mixing_ : ndarray (n_tasks, Q)
        ``H = Sigma^{1/2} U S^{1/2}`` in the units of the targets.
    log_marginal_likelihood_value_ : float
        Of the normalized training targets.
    task_covariance_, task_correlation_ : ndarray (n_tasks, n_tasks)
        Of the noise-free outputs at one input (``H H^T``, unit-variance kernels).
    noise_covariance_ : ndarray (n_tasks, n_tasks)
        ``Sigma`` (diagonal).
    noise_variance_ : ndarray (n_tasks,)
        Each output's noise: the variance of a new observation around ``f_t(x)``.
    kernels_ : list of Q fitted GPyTorch kernels
    n_iter_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.gaussian_process import OILMMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-3, 3, size=(60, 1))
    >>> U = np.column_stack([np.sin(X[:, 0]), np.cos(2 * X[:, 0])])
    >>> Y = U @ rng.normal(size=(2, 5)) + 0.05 * rng.normal(size=(60, 5))
    >>> model = OILMMRegressor(n_latent=2, random_state=0).fit(X, Y)
    >>> model.predict(X[:2]).shape
    (2, 5)
    """

    _parameter_constraints = {
        **GP_CONSTRAINTS,
        "n_latent": [None, Interval(Integral, 1, None, closed="left")],  # at most n_tasks: checked in fit
        "optimizer": [StrOptions({"lbfgs"}), None],
        "n_restarts_optimizer": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        n_latent=None,
        *,
        kernel="rbf",
        ard=True,
        normalize_y=True,
        optimizer="lbfgs",
        n_restarts_optimizer=0,
        max_iter=500,
        tol=1e-6,
        noise_floor=1e-6,
        device="cpu",
        dtype="float64",
        random_state=None,
        task_column=None,
        verbose=0,
    ):
        self.n_latent = n_latent
        self.kernel = kernel
        self.ard = ard
        self.normalize_y = normalize_y
        self.optimizer = optimizer
        self.n_restarts_optimizer = n_restarts_optimizer
        self.max_iter = max_iter
        self.tol = tol
        self.noise_floor = noise_floor
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.task_column = task_column
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self, T):
        name = type(self).__name__
        if self.optimizer not in ("lbfgs", None):
            raise ValueError(f"{name}: optimizer must be 'lbfgs' or None; got {self.optimizer!r}.")
        Q = self.n_latent
        if Q is not None and not (isinstance(Q, (int, np.integer)) and not isinstance(Q, bool) and 1 <= Q <= T):
            raise ValueError(
                f"{name}: n_latent must be None or an integer between 1 and the number of tasks ({T}); got {Q!r}."
            )
        for attr in ("n_restarts_optimizer", "max_iter"):
            v = getattr(self, attr)
            if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0):
                raise ValueError(f"{name}: {attr} must be a non-negative integer; got {v!r}.")
        if not (isinstance(self.noise_floor, (int, float, np.floating)) and self.noise_floor > 0):
            raise ValueError(f"{name}: noise_floor must be positive; got {self.noise_floor!r}.")
        if not (isinstance(self.tol, (int, float, np.floating)) and self.tol > 0):
            raise ValueError(f"{name}: tol must be positive; got {self.tol!r}.")

    # --------------------------------------------------------------- building
    @staticmethod
    def _target_matrix(data, yn):
        """(n, T) normalized targets with zeros at the missing entries, and the missing entries."""
        n, T = data.n_samples, data.n_tasks
        Y = np.zeros((n, T))
        observed = np.zeros((n, T), dtype=bool)
        Y[data.rows, data.task_of_obs] = yn
        observed[data.rows, data.task_of_obs] = True
        miss_rows, miss_tasks = np.nonzero(~observed)
        return Y, miss_rows, miss_tasks

    @staticmethod
    def _spectrum(Y, observed_share):
        """Eigen-pairs (descending) of the targets' second moment, from the observed entries."""
        C = (Y.T @ Y) / np.maximum(observed_share, 1.0)
        w, E = np.linalg.eigh(0.5 * (C + C.T))
        order = np.argsort(w)[::-1]
        return np.clip(w[order], 0.0, None), E[:, order]

    def _choose_latent(self, w):
        if self.n_latent is not None:
            return int(self.n_latent)
        share = np.cumsum(w) / max(w.sum(), 1e-300)
        return int(min(len(w), np.searchsorted(share, 0.95 - 1e-12) + 1))

    def _build(self, Xn, Q, T, start, rng, restart):
        kernels = latent_kernels(self.kernel, Xn, Q, self.ard, (1.0, 0.5, 2.0, 0.25), rng, restart)
        params = OILMMParams(kernels, T, self.noise_floor).double()
        W, S = start  # ((whitened eigenvalues, eigenvectors), each output's noise)
        noise = S.copy()
        if restart:
            noise *= np.exp(rng.uniform(-1.0, 1.0, size=T))
        basis = W[1][:, :Q].copy()
        if restart:
            basis = basis + 0.3 * rng.normal(size=basis.shape)
        scale = np.maximum(W[0][:Q] - 1.0, 0.05)
        with torch.no_grad():
            params.mixing_raw.copy_(torch.as_tensor(basis))
            params.log_scale.copy_(torch.log(torch.as_tensor(scale)))
            params.log_noise.copy_(torch.log(torch.as_tensor(noise)))
        return params

    # --------------------------------------------------------------------- fit
    def fit(self, X, y):
        """Fit the hyperparameters by maximizing the exact marginal likelihood.

        No ``sample_weight``: per-row noise scales would break the orthogonal
        projection; :class:`MultiTaskGPRegressor` (``method="masked"``) takes them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Wide targets (NaN marks a missing output) or, with ``task_column``,
            long targets.

        Returns
        -------
        self
        """
        name = type(self).__name__
        data = self._validate_fit(X, y)
        self._check_params(data.n_tasks)
        dev = torch_device(self.device)
        dt = torch_dtype(self.dtype)
        yn = self._normalize(data)
        Y, miss_rows, miss_tasks = self._target_matrix(data, yn)
        if len(miss_rows) > _MAX_MISSING:
            raise ValueError(
                f"{name}: {len(miss_rows)} (row, task) entries are missing; the exact treatment costs "
                f"O(M^3) in their number M and is capped at {_MAX_MISSING}. Each task on its own "
                f"inputs is the case of MultiTaskGPRegressor(method='masked') or SparseMultiTaskGPRegressor."
            )
        observed_share = np.bincount(data.task_of_obs, minlength=data.n_tasks).mean()
        w, E = self._spectrum(Y, observed_share)
        Q = self._choose_latent(w)
        # each output's noise: its variance outside the leading Q components
        R = Y - (Y @ E[:, :Q]) @ E[:, :Q].T
        R[miss_rows, miss_tasks] = 0.0
        n_seen = np.maximum(np.bincount(data.task_of_obs, minlength=data.n_tasks), 1)
        noise = np.clip((R**2).sum(0) / n_seen, 1e-3, 0.5)
        start_values = (self._spectrum(Y / np.sqrt(noise), observed_share), noise)
        rng = check_random_state(self.random_state)
        Xn = np.asarray(data.X, dtype=np.float64)
        tensors = (
            torch.as_tensor(Xn, dtype=dt, device=dev),
            torch.as_tensor(Y, dtype=dt, device=dev),
            torch.as_tensor(miss_rows, device=dev),
            torch.as_tensor(miss_tasks, device=dev),
        )
        # the objective's scale for L-BFGS's relative tolerance: the Q latent problems and the
        # orthogonal remainder, n rows each (not n T observations, which would dilute the
        # latent problems' share, and so the tolerance on their hyperparameters, as T grows)
        n_obs = data.n_samples * (Q + (1 if Q < data.n_tasks else 0))

        best = None
        n_starts = 1 + (self.n_restarts_optimizer if self.optimizer is not None else 0)
        starts = progress(range(n_starts), self.verbose, desc=name, unit="start")
        for start in starts:
            params = self._build(Xn, Q, data.n_tasks, start_values, rng, restart=start > 0).to(device=dev, dtype=dt)
            plist = [p for p in params.parameters() if p.requires_grad]
            fun = self._objective(params, plist, tensors, n_obs, dev, dt)
            theta0 = parameters_to_vector(plist).detach().cpu().numpy().astype(np.float64)
            if self.optimizer is None:
                res_theta, res_val, nit, status = theta0, fun(theta0)[0], 0, 0
            else:
                res = minimize(
                    fun, theta0, jac=True, method="L-BFGS-B", bounds=self._bounds(params),
                    options={"maxiter": self.max_iter, "ftol": self.tol, "gtol": 1e-6, "maxcor": 20},
                )
                res_theta, res_val, nit, status = res.x, float(res.fun), int(res.nit), int(res.status)
            if hasattr(starts, "set_postfix"):
                starts.set_postfix(nlml_per_obs=f"{res_val:.5g}", iterations=nit)
            if best is None or res_val < best[1]:
                best = (res_theta, res_val, nit, status, params, plist)
        theta, _, nit, status, params, plist = best
        if self.optimizer is not None and status == 1:
            warnings.warn(
                f"{name}: L-BFGS stopped at max_iter={self.max_iter} iterations before converging; "
                f"increase max_iter, loosen tol, or standardize the inputs.",
                ConvergenceWarning,
            )
        with torch.no_grad():
            vector_to_parameters(torch.as_tensor(theta, dtype=dt, device=dev), plist)
            nlml, st = oilmm_nlml(params, *tensors, state=True)
        self.n_iter_ = nit
        self.n_latent_ = Q
        self._state = {k: (v.cpu().numpy() if isinstance(v, torch.Tensor) else v) for k, v in st.items()}
        self._state["X"] = Xn.copy()
        self.params_ = copy.deepcopy(params).to(device="cpu", dtype=torch.float64)
        self.kernels_ = list(self.params_.kernels)
        self.log_marginal_likelihood_value_ = -float(nlml)
        with torch.no_grad():
            B = self.params_.task_covariance().numpy()
            S = self.params_.noise_covariance().numpy()
            H = self.params_.mixing().numpy()
        self.mixing_ = H * self._y_std[:, None]
        self._set_task_attributes(B, S)
        return self

    @staticmethod
    def _bounds(params):
        bounds = []
        for name, p in params.named_parameters():
            lim = (-1e3, 1e3) if name == "mixing_raw" else (-25.0, 25.0)
            bounds.extend([lim] * p.numel())
        return bounds

    def _objective(self, params, plist, tensors, n_obs, dev, dt):
        def evaluate():
            if tensors[2].shape[0] == 0:  # complete targets: closed-form matrix gradients
                return oilmm_nlml_surrogate(params, tensors[0], tensors[1])
            nlml = oilmm_nlml(params, *tensors)
            return nlml, nlml

        return lbfgs_objective(evaluate, plist, n_obs, type(self).__name__, self.verbose)

    # -------------------------------------------------------------- prediction
    def _latent_moments(self, Xs, x_idx, t_idx, want):
        """Posterior moments of f at (Xs[x_idx], task t_idx), normalized units.

        ``f_t(x*) = sigma_t sum_q sqrt(s_q) U_tq u_q(x*)``; given the projected
        data the latents are independent, so with ``a_tq = sigma_t U_tq``

        mean = sum_q s_q a_tq k_q(x*, X) alpha_q,
        cov  = sum_q s_q a_tq a_t'q [k_q(x*, x*') - s_q k_q(x*, X) C_q^{-1} k_q(X, x*')]
               + g^T P_mm^{-1} g'   (missing outputs only).
        """
        dev = torch_device(self.device)
        dt = torch_dtype(self.dtype)
        params = copy.deepcopy(self.params_).to(device=dev, dtype=dt)
        st = self._state
        tt = lambda a: torch.as_tensor(a, device=dev, dtype=dt)  # noqa: E731
        Xs_t, Xtr = tt(np.asarray(Xs, dtype=np.float64)), tt(st["X"])
        U, s, L, alpha = tt(st["U"]), tt(st["s"]), tt(st["L"]), tt(st["alpha"])
        xi = torch.as_tensor(x_idx, device=dev)
        ti = torch.as_tensor(t_idx, device=dev)
        with torch.no_grad():
            Ksx = params.kernel_matrices(Xs_t, Xtr)  # (Q, ns, n)
            a = tt(st["noise_sd"])[ti][:, None] * U[ti]  # (m, Q): sigma_t U_tq
            coef = s[None, :] * a  # sigma_t s_q U_tq
            latent_mean = torch.einsum("qsn,nq->sq", Ksx, alpha)  # (ns, Q)
            mean = (coef * latent_mean[xi]).sum(1)
            if want == "mean":
                return mean.cpu().numpy(), None
            W = torch.cholesky_solve(Ksx.transpose(1, 2), L)  # (Q, n, ns): C_q^{-1} k_q(X, x*)
            G = None
            if st["Lm"] is not None:
                mr = torch.as_tensor(st["miss_rows"], device=dev)
                mt = torch.as_tensor(st["miss_tasks"], device=dev)
                Wm = W[:, mr, :]  # (Q, M, ns)
                # g[m, j] = sum_q s_q U_{t_j q} U_{t_m q} W_q[i_m, x_j]
                G = torch.einsum("jq,mq,qmj->mj", coef, U[mt], Wm[:, :, xi])
                G = torch.linalg.solve_triangular(tt(st["Lm"]), G, upper=False)
            if want == "var":
                kd = params.kernel_diags(Xs_t)  # (Q, ns)
                red = (Ksx.transpose(1, 2) * W).sum(1)  # (Q, ns): k^T C^{-1} k
                lat_var = (kd - s[:, None] * red).T  # (ns, Q)
                var = (coef * a * lat_var[xi]).sum(1)
                if G is not None:
                    var = var + (G**2).sum(0)
                return mean.cpu().numpy(), var.clamp_min(0).cpu().numpy()
            Kss = params.kernel_matrices(Xs_t)  # (Q, ns, ns)
            lat_cov = Kss - s[:, None, None] * torch.einsum("qsn,qnr->qsr", Ksx, W)
            lat_cov = lat_cov[:, xi][:, :, xi]  # (Q, m, m)
            cov = torch.einsum("aq,bq,qab->ab", coef, a, lat_cov)
            if G is not None:
                cov = cov + G.T @ G
            return mean.cpu().numpy(), cov.cpu().numpy()
