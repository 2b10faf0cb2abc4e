"""Accelerated proximal gradient (FISTA) for ``min_{W, b} f(W, b) + g(W)``.

``f`` is a :class:`~skmtl.linear.Datafit` (smooth, with unpenalized
intercepts ``b``) and ``g`` a :class:`~skmtl.linear.Penalty`
(prox-friendly). The solver only talks to the methods of their contract
(:mod:`skmtl.linear._contract`) and declares those it needs without a default
in :data:`FISTA_DATAFIT_REQUIRED` and :data:`FISTA_PENALTY_REQUIRED`, checked
once at entry, as skglm's solvers do.

Method (Beck & Teboulle 2009, FISTA with backtracking; O'Donoghue & Candes
2015, adaptive restart):

* step ``1/L`` with ``L`` doubled until the quadratic upper bound holds at the
  new point (backtracking); ``L`` starts from a power-iteration estimate;
* momentum ``(t_k - 1) / t_{k+1}``, reset when the gradient-mapping step and
  the last move point the same way (``restart="gradient"``) or when the
  objective goes up (``restart="function"``);
* predictions are extrapolated (``z_y = z_x + beta (z_x - z_prev)``) since
  ``forward`` is affine: one forward and one adjoint product per iteration;
* stopping: every ``check_every`` iterations, the duality gap when the datafit
  provides one (squared loss with a norm penalty: the residual rescaled into
  the dual ball, e.g. by the spectral norm for the trace norm), relative to the
  loss at ``W = 0``; otherwise the KKT residual
  ``||grad f(x+) - grad f(y) + L (y - x+)||_inf`` (an element of the
  subdifferential at ``x+``) relative to ``||grad f(0)||_inf``.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._progress import progress
from ._contract import check_parts

__all__ = ["fista", "fista_path", "FistaResult", "FISTA_DATAFIT_REQUIRED", "FISTA_PENALTY_REQUIRED"]

#: Datafit methods :func:`fista` calls that have no default in :class:`~skmtl.linear.Datafit`
#: (it also calls ``value``, ``value_grad``, ``null_value``, ``model_intercept``,
#: ``duality_gap`` and reads ``fits_intercept`` / ``intercept_is_variable``, which have one).
FISTA_DATAFIT_REQUIRED = ("forward", "adjoint", "value_z", "value_grad_z", "lipschitz", "init_coef")
#: Penalty methods :func:`fista` calls that have no default in :class:`~skmtl.linear.Penalty`
#: (it also uses ``is_convex`` and, through the datafit's gap, ``dual_norm_ratio`` and ``combine``).
FISTA_PENALTY_REQUIRED = ("value", "prox")


@dataclass
class FistaResult:
    """Solution and diagnostics of :func:`fista`.

    Parameters
    ----------
    coef : ndarray of shape (n_features, n_columns)
        Coefficients at the last iterate.
    intercept : ndarray of shape (n_columns,)
        Intercepts at the last iterate.
    n_iter : int
        Number of iterations run.
    dual_gap : float or None
        Final duality gap; None when the penalty has no dual norm.
    converged : bool
        Whether the stopping criterion was met within ``max_iter``.
    lipschitz : float
        Final Lipschitz estimate of the datafit gradient.
    objective : float
        Objective value at the last iterate.
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    dual_gap: object  # float or None
    converged: bool
    lipschitz: float
    objective: float


def _vdot(a, b):
    return float(np.vdot(a, b))


def fista(
    datafit,
    penalty,
    coef_init=None,
    intercept_init=None,
    *,
    max_iter=1000,
    tol=1e-6,
    restart="gradient",
    check_every=10,
    lipschitz=None,
    warn=True,
):
    """Minimize ``datafit(W, b) + penalty(W)`` by FISTA with backtracking and restart.

    Parameters
    ----------
    datafit : Datafit
        Implements at least :data:`FISTA_DATAFIT_REQUIRED`.
    penalty : Penalty
        Implements at least :data:`FISTA_PENALTY_REQUIRED`.
    coef_init, intercept_init : ndarray, optional
        Warm start; default ``W = 0`` with the optimal intercepts for ``W = 0``.
    max_iter : int
        Maximum number of iterations.
    tol : float
        Tolerance on the relative duality gap (or relative KKT residual).
    restart : {"gradient", "function", None}
        Adaptive restart scheme.
    check_every : int
        Iterations between two convergence checks.
    lipschitz : float, optional
        Initial Lipschitz estimate (e.g. from the previous point of a path).
    warn : bool
        Emit a ConvergenceWarning when ``max_iter`` is reached.

    Returns
    -------
    FistaResult

    Raises
    ------
    TypeError
        When a part is not a :class:`~skmtl.linear.Datafit` /
        :class:`~skmtl.linear.Penalty` or lacks a required method.
    """
    check_parts("fista", datafit, penalty, FISTA_DATAFIT_REQUIRED, FISTA_PENALTY_REQUIRED)
    if restart not in ("gradient", "function", None):
        raise ValueError(f"restart must be 'gradient', 'function' or None; got {restart!r}.")
    W0, b0 = datafit.init_coef()
    W = W0.copy() if coef_init is None else np.array(coef_init, dtype=np.float64)
    b = b0.copy() if intercept_init is None else np.array(intercept_init, dtype=np.float64)
    fit_b = datafit.intercept_is_variable
    if not fit_b:
        b = np.zeros_like(b)
    L = float(lipschitz) if lipschitz else datafit.lipschitz()

    # a gap only for a convex penalty (and when the datafit and penalty provide one)
    gap_info = datafit.duality_gap(W, b, penalty) if penalty.is_convex else None
    use_gap = gap_info is not None
    if use_gap:
        scale = max(datafit.null_value(), 1e-300)
    else:
        _, G0, g0 = datafit.value_grad(W0, b0)
        scale = max(np.abs(G0).max(initial=0.0), np.abs(g0).max(initial=0.0) if fit_b else 0.0, 1e-12)

    z_x = datafit.forward(W, b)
    Wy, by, z_y = W, b, z_x
    F_x = datafit.value_z(z_x) + penalty.value(W) if restart == "function" else None
    t = 1.0
    gap = None
    converged = False
    crit = np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        f_y, R = datafit.value_grad_z(z_y)
        G, g = datafit.adjoint(R)
        for _ in range(60):
            Wn = penalty.prox(Wy - G / L, 1.0 / L)
            bn = by - g / L if fit_b else by
            z_n = datafit.forward(Wn, bn)
            f_n = datafit.value_z(z_n)
            dW = Wn - Wy
            db = bn - by
            d2 = _vdot(dW, dW) + _vdot(db, db)
            quad = f_y + _vdot(G, dW) + _vdot(g, db) + 0.5 * L * d2
            if f_n <= quad + 1e-13 * max(abs(f_y), 1e-300):
                break
            L *= 2.0

        check = n_iter % check_every == 0 or n_iter == max_iter
        if check and not use_gap:
            _, Rn = datafit.value_grad_z(z_n)
            Gn, gn = datafit.adjoint(Rn)
            kkt = np.abs(Gn - G - L * dW).max(initial=0.0)
            if fit_b:
                kkt = max(kkt, np.abs(gn - g - L * db).max(initial=0.0))
            crit = kkt / scale

        if restart == "gradient":
            do_restart = _vdot(-dW, Wn - W) + _vdot(-db, bn - b) > 0
        elif restart == "function":
            F_n = f_n + penalty.value(Wn)
            do_restart = F_n > F_x
            F_x = F_n
        else:
            do_restart = False
        if do_restart:
            t_new, beta = 1.0, 0.0
        else:
            t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            beta = (t - 1.0) / t_new
        Wy = Wn + beta * (Wn - W)
        by = bn + beta * (bn - b)
        z_y = z_n + beta * (z_n - z_x)
        W, b, z_x, t = Wn, bn, z_n, t_new

        if check:
            if use_gap:
                gap_info = datafit.duality_gap(W, b, penalty)
                gap = gap_info[0]
                crit = gap / scale
            if crit <= tol:
                converged = True
                break

    if use_gap and gap_info is not None and datafit.fits_intercept:
        # profile the intercepts out: optimal for the final W
        b = gap_info[2]
        if gap is None:
            gap = gap_info[0]
    else:
        b = datafit.model_intercept(W, b)  # b itself unless the datafit profiles the intercepts out
    if use_gap and gap is None:
        gap = datafit.duality_gap(W, b, penalty)[0]
    objective = datafit.value(W, b) + penalty.value(W)
    if not converged and warn:
        what = "relative duality gap" if use_gap else "relative KKT residual"
        warnings.warn(
            f"FISTA did not converge: {what} {crit:.3g} > tol={tol:g} after "
            f"max_iter={max_iter} iterations. Increase max_iter, loosen tol, or "
            f"standardize the features.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return FistaResult(
        coef=W,
        intercept=b,
        n_iter=n_iter,
        dual_gap=float(gap) if use_gap and gap is not None else None,
        converged=converged,
        lipschitz=L,
        objective=float(objective),
    )


def fista_path(datafit, make_penalty, alphas, *, max_iter=1000, tol=1e-6, warn=True, verbose=0,
               return_gaps=False, coef_init=None):
    """Solutions along a grid of strengths, warm-started from the previous one.

    Parameters
    ----------
    datafit : Datafit
        Implements at least :data:`FISTA_DATAFIT_REQUIRED`.
    make_penalty : callable
        ``make_penalty(alpha)`` returns the :class:`~skmtl.linear.Penalty` at
        strength ``alpha`` (implementing :data:`FISTA_PENALTY_REQUIRED`).
    alphas : array-like
        Strengths, best in decreasing order (from ``alpha_max``).
    verbose : int, default=0
        Progress bar over the strengths when positive.
    coef_init : tuple (W, b) or None, default=None
        Start of the first solve (default: the datafit's ``init_coef``).

    Returns
    -------
    coefs : list of ndarray, intercepts : list of ndarray, n_iters : list of int
    gaps : list of float or None
        Only with ``return_gaps``: the final duality gaps (None where the
        datafit has none and FISTA stopped on the KKT residual).
    """
    alphas = list(alphas)
    first_penalty = make_penalty(alphas[0]) if alphas else None
    check_parts("fista_path", datafit, first_penalty, FISTA_DATAFIT_REQUIRED, FISTA_PENALTY_REQUIRED)
    coefs, intercepts, n_iters, gaps = [], [], [], []
    W, b = (None, None) if coef_init is None else coef_init
    L = None
    not_converged = []
    for k, a in enumerate(progress(alphas, verbose, desc="path")):
        penalty = first_penalty if k == 0 else make_penalty(a)
        res = fista(datafit, penalty, W, b, max_iter=max_iter, tol=tol, lipschitz=L, warn=False)
        W, b, L = res.coef, res.intercept, res.lipschitz
        coefs.append(W.copy())
        intercepts.append(b.copy())
        n_iters.append(res.n_iter)
        gaps.append(res.dual_gap)
        if not res.converged:
            not_converged.append(float(a))
    if warn and not_converged:  # one warning for the path, as l21_path
        warnings.warn(
            f"FISTA did not converge for {len(not_converged)} of {len(coefs)} alphas (smallest "
            f"{min(not_converged):.3g}) after max_iter={max_iter} iterations (tol={tol:g}). "
            f"Increase max_iter, loosen tol, or standardize the features.",
            ConvergenceWarning,
            stacklevel=2,
        )
    if return_gaps:
        return coefs, intercepts, n_iters, gaps
    return coefs, intercepts, n_iters
