"""Shared parts of the multi-task GPs: torch device/dtype, target normalization,
prediction formatting (latent or observation moments), ``sample_y``."""

from numbers import Integral, Real

import gpytorch
import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .._param_validation import Interval, StrOptions
from ..base import MultiTaskRegressorMixin
from ._exact import NotPositiveDefiniteError, safe_cholesky
from ._kernels import KERNELS

__all__ = ["GPBase", "torch_dtype", "torch_device", "lbfgs_objective", "GP_CONSTRAINTS"]

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def torch_dtype(dtype):
    if isinstance(dtype, torch.dtype):
        return dtype
    key = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if key not in _DTYPES:
        raise ValueError(f"dtype must be 'float64' or 'float32'; got {dtype!r}.")
    return _DTYPES[key]


class _KernelName(StrOptions):
    """A kernel name, in any case (``make_kernel`` lower-cases it)."""

    def is_satisfied_by(self, val):
        return isinstance(val, str) and val.lower() in self.options


class _Accepted:
    """The values ``check`` returns True for; ``text`` says what they are (in the error)."""

    def __init__(self, check, text):
        self.check = check
        self.text = text

    def is_satisfied_by(self, val):
        try:
            return bool(self.check(val))
        except (TypeError, ValueError, RuntimeError):
            return False

    def __str__(self):
        return self.text


def _is_dtype(dtype):
    if isinstance(dtype, torch.dtype):
        return True
    key = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    return dtype is not None and key in _DTYPES


#: Constraints of the parameters the multi-task GPs share (``_parameter_constraints``).
GP_CONSTRAINTS = {
    "kernel": [_KernelName(set(KERNELS)), gpytorch.kernels.Kernel],
    "ard": ["boolean"],
    "normalize_y": ["boolean"],
    "noise_floor": [Interval(Real, 0, None, closed="neither")],
    "device": [_Accepted(lambda d: isinstance(d, (str, torch.device)) and torch.device(d) is not None,
                         "a torch.device or a device name ('cpu', 'cuda', 'cuda:0', ...)")],
    "dtype": [_Accepted(_is_dtype, "'float64', 'float32', a numpy float64/float32 dtype or a torch dtype")],
    "random_state": ["random_state"],
    "task_column": [None, str, Integral],
    "verbose": ["verbose"],
}


def torch_device(device):
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available to torch "
            f"({torch.__version__}); use device='cpu' or install a CUDA build of torch."
        )
    return dev


def lbfgs_objective(evaluate, plist, scale, owner, verbose=0, strict=False):
    """``theta -> (value, gradient)`` for scipy's L-BFGS-B over the torch parameters ``plist``.

    ``evaluate()`` returns ``(nlml, surrogate)`` at the current parameters, the
    surrogate a scalar whose autograd gradient is that of the nlml (often the
    nlml itself). Both are divided by ``scale``. A trial point where the
    covariance is not positive definite (or the result not finite) returns
    ``(1e10, 0)`` so that the line search backs off, unless ``strict``.
    """
    import numpy as np
    import torch
    from torch.nn.utils import vector_to_parameters

    p0 = plist[0]

    def fun(theta):
        vector_to_parameters(torch.as_tensor(theta, dtype=p0.dtype, device=p0.device), plist)
        try:
            nlml, surrogate = evaluate()
            grads = torch.autograd.grad(surrogate, plist, allow_unused=True)
        except (NotPositiveDefiniteError, torch.linalg.LinAlgError, RuntimeError) as exc:
            if strict:
                raise
            if verbose > 1:
                print(f"[{owner}] objective failed at a trial point: {exc}")
            return 1e10, np.zeros_like(theta)
        g = torch.cat([(gr if gr is not None else torch.zeros_like(p)).reshape(-1) for gr, p in zip(grads, plist)])
        val = float(nlml.detach()) / scale
        g = g.detach().cpu().numpy().astype(np.float64) / scale
        if not np.isfinite(val) or not np.all(np.isfinite(g)):
            return 1e10, np.zeros_like(theta)
        return val, g

    return fun


class GPBase(MultiTaskRegressorMixin, BaseEstimator):
    """Target normalization, prediction formatting, ``sample_y`` shared by the GPs."""

    def _normalize(self, data):
        T = data.n_tasks
        mu = np.zeros(T)
        sd = np.ones(T)
        if self.normalize_y:
            for t in range(T):
                yt = data.y[data.task_slice(t)]
                mu[t] = yt.mean()
                s = yt.std()
                sd[t] = s if s > 1e-12 * max(1.0, abs(mu[t])) else 1.0
        self._y_mean = mu
        self._y_std = sd
        return (data.y - mu[data.task_of_obs]) / sd[data.task_of_obs]

    def _test_obs(self, n_rows, codes):
        if codes is None:
            T = self.n_tasks_
            return np.repeat(np.arange(n_rows), T), np.tile(np.arange(T), n_rows)
        return np.arange(n_rows), np.asarray(codes)

    def predict(self, X, return_std=False, return_cov=False, include_noise=False):
        """Posterior mean of the task functions, optionally with std or covariance.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.
        return_std : bool
            Also return the posterior standard deviation of each prediction.
        return_cov : bool
            Also return the posterior covariance: for wide input of shape
            (n_samples, n_samples, n_tasks) (between points, per task, as in
            scikit-learn; (n_samples, n_samples) for a single task), for long
            input (n_samples, n_samples) between the rows, each for its own task.
        include_noise : bool, default=False
            False: the moments of the noise-free functions ``f_t(x)`` (credible
            intervals for the mean response). True: those of a new observation
            ``y_t(x) = f_t(x) + e_t`` (prediction intervals), adding each task's
            ``noise_variance_[t]`` to the variance; every test row is a new,
            independent observation, so the noise adds to the diagonal only.

        Returns
        -------
        y_mean : ndarray of shape (n_samples, n_tasks) or (n_samples,)
        y_std or y_cov : ndarray, only when asked for

        The mean is the same with and without ``include_noise``.
        """
        if return_std and return_cov:
            raise RuntimeError("At most one of return_std or return_cov can be requested.")
        Xv, codes = self._validate_predict(X)
        x_idx, t_idx = self._test_obs(Xv.shape[0], codes)
        want = "cov" if return_cov else ("var" if return_std else "mean")
        mean, second = self._latent_moments(Xv, x_idx, t_idx, want)
        sd = self._y_std[t_idx]
        mean = mean * sd + self._y_mean[t_idx]
        n = Xv.shape[0]
        if codes is None:
            mean = self._format_output(mean.reshape(n, self.n_tasks_))
        if want == "mean":
            return mean
        noise = self.noise_variance_[t_idx] if include_noise else np.zeros(len(t_idx))
        if want == "var":
            std = np.sqrt(np.maximum(second, 0.0) * sd**2 + noise)
            if codes is None:
                std = self._format_output(std.reshape(n, self.n_tasks_))
            return mean, std
        cov = second * sd[:, None] * sd[None, :]
        cov[np.diag_indices_from(cov)] += noise
        if codes is None:
            T = self.n_tasks_
            cov4 = cov.reshape(n, T, n, T)
            cov = np.stack([cov4[:, t, :, t] for t in range(T)], axis=-1)
            if self._single_output:
                cov = cov[:, :, 0]
        return mean, cov

    def _predict_tasks(self, X, task_codes):
        x_idx, t_idx = self._test_obs(X.shape[0], task_codes)
        mean, _ = self._latent_moments(X, x_idx, t_idx, "mean")
        mean = mean * self._y_std[t_idx] + self._y_mean[t_idx]
        return mean.reshape(X.shape[0], self.n_tasks_) if task_codes is None else mean

    def sample_y(self, X, n_samples=1, random_state=0):
        """Draw joint samples of the latent task functions at ``X``.

        Returns
        -------
        ndarray of shape (n_samples_X, n_tasks, n_samples) for wide input with
        several tasks, else (n_samples_X, n_samples). Samples are correlated
        across points and tasks.
        """
        rng = check_random_state(random_state)
        Xv, codes = self._validate_predict(X)
        x_idx, t_idx = self._test_obs(Xv.shape[0], codes)
        mean, cov = self._latent_moments(Xv, x_idx, t_idx, "cov")
        L, _ = safe_cholesky(torch.as_tensor(cov), what="posterior covariance")
        z = rng.standard_normal((len(mean), n_samples))
        draws = mean[:, None] + L.numpy() @ z
        sd = self._y_std[t_idx]
        draws = draws * sd[:, None] + self._y_mean[t_idx][:, None]
        if codes is None:
            draws = draws.reshape(Xv.shape[0], self.n_tasks_, n_samples)
            if self._single_output:
                draws = draws[:, 0, :]
        return draws

    def _set_task_attributes(self, B, noise):
        sd = self._y_std
        self.task_covariance_ = B * sd[:, None] * sd[None, :]
        d = np.sqrt(np.clip(np.diag(self.task_covariance_), 1e-300, None))
        self.task_correlation_ = self.task_covariance_ / d[:, None] / d[None, :]
        self.noise_covariance_ = noise * sd[:, None] * sd[None, :]
        self.noise_variance_ = np.diag(self.noise_covariance_).copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
