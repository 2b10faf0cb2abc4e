"""Input kernels for the multi-task GPs: names to GPyTorch kernels, initialization.

The task structure (coregionalization matrices) carries the signal variance,
so the input kernels here are unscaled: ``k(x, x) = 1`` for the stationary ones.
"""

import copy

import gpytorch
import numpy as np
import torch

__all__ = ["KERNELS", "make_kernel", "init_kernel", "latent_kernels"]

KERNELS = ("rbf", "matern12", "matern32", "matern52", "linear", "periodic")


def make_kernel(kernel, n_features, ard=True, batch_shape=torch.Size()):
    """A fresh GPyTorch kernel from a name, or a deep copy of a given kernel.

    Parameters
    ----------
    kernel : str or gpytorch.kernels.Kernel
        One of ``"rbf"``, ``"matern12"``, ``"matern32"``, ``"matern52"``,
        ``"linear"``, ``"periodic"``, or a GPyTorch kernel (copied, not modified).
    n_features : int
    ard : bool
        One lengthscale per input dimension (automatic relevance determination).
    """
    if isinstance(kernel, gpytorch.kernels.Kernel):
        return copy.deepcopy(kernel)
    if not isinstance(kernel, str) or kernel.lower() not in KERNELS:
        raise ValueError(
            f"kernel must be one of {KERNELS} or a gpytorch.kernels.Kernel instance; got {kernel!r}."
        )
    name = kernel.lower()
    d = n_features if ard else None
    kw = {"batch_shape": batch_shape}
    if name == "rbf":
        return gpytorch.kernels.RBFKernel(ard_num_dims=d, **kw)
    if name.startswith("matern"):
        nu = {"matern12": 0.5, "matern32": 1.5, "matern52": 2.5}[name]
        return gpytorch.kernels.MaternKernel(nu=nu, ard_num_dims=d, **kw)
    if name == "linear":
        return gpytorch.kernels.LinearKernel(ard_num_dims=d, **kw)
    return gpytorch.kernels.PeriodicKernel(ard_num_dims=d, **kw)


def _set_if_present(module, attr, value):
    if hasattr(module, attr) and getattr(module, attr) is not None:
        current = getattr(module, attr)
        setattr(module, attr, torch.as_tensor(value, dtype=current.dtype).expand_as(current).clone())


def init_kernel(kernel, X, scale=1.0):
    """Data-driven starting values for a kernel built by :func:`make_kernel`.

    Lengthscales start at ``scale * sqrt(d) * std(X_j)`` (per feature with ARD), so
    that scaled distances between typical points are of order one; periods start
    at the input range; the linear kernel's variance at ``1 / (d * mean var(X_j))``.
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    std = X.std(axis=0) if n > 1 else np.ones(d)
    std = np.where(std > 1e-12, std, 1.0)
    ls = getattr(kernel, "lengthscale", None)
    if ls is not None:
        if ls.shape[-1] == d:
            val = scale * np.sqrt(d) * std
        else:
            val = np.full(ls.shape[-1], scale * np.sqrt(d) * np.median(std))
        _set_if_present(kernel, "lengthscale", torch.as_tensor(val))
    if isinstance(kernel, gpytorch.kernels.PeriodicKernel):
        rng = np.ptp(X, axis=0) if n > 1 else np.ones(d)
        rng = np.where(rng > 1e-12, rng, 1.0)
        per = kernel.period_length
        val = rng if per.shape[-1] == d else np.full(per.shape[-1], np.median(rng))
        _set_if_present(kernel, "period_length", torch.as_tensor(val))
    if isinstance(kernel, gpytorch.kernels.LinearKernel):
        var = float(np.mean(std**2) * d)
        _set_if_present(kernel, "variance", torch.as_tensor(1.0 / max(var, 1e-12)))
    return kernel


def latent_kernels(kernel, X, n_latent, ard, scales, rng=None, restart=False):
    """One fresh kernel per latent process, started at different length-scales.

    Named kernels start from :func:`init_kernel` with scale ``scales[q % len(scales)]
    * (1 + q // len(scales))`` (latent processes of different smoothness), times a
    random factor ``exp(U(-1.5, 1.5))`` on a restart; a given GPyTorch kernel is
    copied and, on a restart, its raw parameters moved by standard normal noise.
    """
    import math

    kernels = []
    custom = not isinstance(kernel, str)
    for q in range(n_latent):
        k = make_kernel(kernel, X.shape[1], ard)
        if not custom:
            scale = scales[q % len(scales)] * (1.0 + q // len(scales))
            if restart:
                scale *= math.exp(rng.uniform(-1.5, 1.5))
            init_kernel(k, X, scale)
        elif restart:
            with torch.no_grad():
                for p in k.parameters():
                    p.add_(torch.as_tensor(rng.normal(0.0, 1.0, size=tuple(p.shape)), dtype=p.dtype))
        kernels.append(k)
    return kernels
