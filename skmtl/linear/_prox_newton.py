r"""Proximal Newton: the logistic and multinomial losses with any row penalty, on the block coordinate descent.

Minimizes ``F(W, b) + sum_j h_j(W_j)`` where ``F`` is a
:class:`~skmtl.linear.Datafit` evaluated through predictions ``z`` (the
logistic and multinomial losses of the classifiers: task ``t`` owns the
columns ``col_ptr[t]:col_ptr[t + 1]`` of ``W``) and ``h_j`` a row penalty of
:class:`~skmtl.linear.L21Solver` (group lasso, elastic net, penalty
factors, group MCP/SCAD, sparse group lasso). Each outer step replaces ``F``
by its quadratic model at the current predictions with the diagonal of the
Hessian ``H`` (glmnet's iteratively reweighted least squares; skglm's
``ProxNewton``)::

    F(z') ~ F(z) + <R, z' - z> + 1/2 sum H (z' - z)^2
          = const + 1/2 sum H (z~ - z')^2,        z~ = z - R / H,   R = grad F(z),

a weighted least-squares problem in ``(W, b)`` with one task per column of
``W``, which the working-set block coordinate descent solves (warm-started;
all its data layouts and row penalties). The step to that solution is damped
by backtracking until the objective decreases by a quarter of the predicted
amount ``<grad F, D> + P(W + D) - P(W)`` (Lee, Sun & Saunders, SIAM J. Optim.
2014). The outer loop stops when the largest KKT violation (rows of ``W``
and intercepts) is at most ``tol`` times the largest row norm of the
gradient at the null model.
"""

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._data import MultiTaskData
from ._bcd import L21Solver
from ._contract import check_parts

__all__ = ["prox_newton", "ProxNewtonResult", "PROX_NEWTON_DATAFIT_REQUIRED"]

#: What :func:`prox_newton` asks of its datafit.
PROX_NEWTON_DATAFIT_REQUIRED = ("forward", "adjoint", "value_z", "value_grad_z", "hessian_diag_z", "init_coef")
_ARMIJO = 0.25  # accept a step that achieves this fraction of the predicted decrease
_H_FLOOR = 1e-12  # Hessian weights below this (relative to the largest) are raised to it
_INNER_FRACTION = 0.3  # subproblem gap asked: this fraction of its gap at the current point (about kkt^2 / 2L)
_GAP_RESOLUTION = 1e-12  # relative gaps below this are rounding: the subproblem then stops on its KKT violation


@dataclass
class ProxNewtonResult:
    """Result of :func:`prox_newton` (the fields of :class:`~skmtl.linear.FistaResult` that estimators store)."""

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    converged: bool
    objective: float
    kkt: float
    dual_gap: object = None  # stopped on the KKT violation


def _column_problem(datafit):
    """The least-squares subproblem's observations: one task per column of ``W``.

    Returns the :class:`MultiTaskData` (targets and weights set at each step)
    and the (observation, column-in-task) index of each of its observations
    into the ``(n_obs, k_max)`` arrays of the datafit.
    """
    d = datafit.design
    data = d.data
    rows, obs, kap, ptr = [], [], [], [0]
    for t, s in enumerate(d.slices):
        idx = np.arange(s.start, s.stop)
        for k in range(int(d.n_cols_task[t])):
            rows.append(data.rows[idx])
            obs.append(idx)
            kap.append(np.full(len(idx), k))
            ptr.append(ptr[-1] + len(idx))
    cat = (lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.zeros(0, dt))  # noqa: E731
    rows, obs, kap = cat(rows, np.int64), cat(obs, np.int64), cat(kap, np.int64)
    sub = MultiTaskData(X=data.X, y=np.zeros(len(rows)), rows=rows, task_ptr=np.asarray(ptr, dtype=np.int64),
                        sample_weight=np.ones(len(rows)), tasks=np.arange(d.n_columns), layout="long",
                        complete=False)
    return sub, obs, kap


def prox_newton(datafit, alpha, *, penalty="group_lasso", l1_ratio=1.0, penalty_factor=None, gamma=None,
                l1_share=0.5, tol=1e-6, max_iter=100, coef_init=None, inner_tol=None, warn=True, verbose=0,
                owner="prox_newton"):
    """Minimize ``datafit + alpha * row penalty`` by proximal Newton steps.

    Parameters
    ----------
    datafit : Datafit
        With the methods of ``PROX_NEWTON_DATAFIT_REQUIRED`` and a ``design``
        (:class:`~skmtl.linear._datafits.LinearDesign`): the classifiers'
        ``LogisticLoss`` and ``MultinomialLoss``.
    alpha : float
        Penalty strength.
    penalty, l1_ratio, penalty_factor, gamma, l1_share
        The row penalty, as :class:`~skmtl.linear.L21Solver` (factors used as given).
    tol : float, default=1e-6
        Stop when the largest KKT violation is at most ``tol`` times the
        largest row norm of the gradient at the null model.
    max_iter : int, default=100
        Outer (Newton) iterations.
    coef_init : tuple (W, b) or None
        Starting point (default: the datafit's ``init_coef``).
    inner_tol : float or None
        Tolerance of the least-squares solves (relative duality gap); default
        adapts to the outer KKT violation.
    warn : bool, default=True
        ``ConvergenceWarning`` when ``max_iter`` is reached.
    verbose : int, default=0
        Print the objective and KKT violation of each iteration.
    owner : str, default="prox_newton"
        Name used in the warning (the estimator).

    Returns
    -------
    ProxNewtonResult
    """
    check_parts("prox_newton", datafit, None, PROX_NEWTON_DATAFIT_REQUIRED, ())
    fit_b = datafit.intercept_is_variable
    sub, oi, ki = _column_problem(datafit)
    options = dict(fit_intercept=fit_b, l1_ratio=l1_ratio, penalty_factor=penalty_factor, penalty=penalty,
                   gamma=gamma, l1_share=l1_share)
    W0, b0 = datafit.init_coef()
    _, R0 = datafit.value_grad_z(datafit.forward(W0, b0))
    G0, _ = datafit.adjoint(R0)
    scale = float(np.sqrt((G0 ** 2).sum(axis=1)).max(initial=0.0)) or 1.0
    if coef_init is None:
        W, b = W0, b0
    else:
        W = np.array(coef_init[0], dtype=np.float64)
        b = np.array(coef_init[1], dtype=np.float64) if fit_b else np.zeros(W.shape[1])
    if not fit_b:
        b = np.zeros(W.shape[1])
    solver = None
    kkt = np.inf
    obj = np.inf
    it = 0
    converged = False
    for it in range(max_iter + 1):
        z = datafit.forward(W, b)
        f, R = datafit.value_grad_z(z)
        G, g = datafit.adjoint(R)
        H = datafit.hessian_diag_z(z)
        H = np.maximum(H, _H_FLOOR * max(H.max(initial=0.0), 1e-300))
        h_sub = H[oi, ki]
        newton_y = z[oi, ki] - R[oi, ki] / h_sub
        solver = L21Solver(dataclasses.replace(sub, y=newton_y), obs_weight=h_sub, **options)
        kkt = solver.kkt_violation(alpha, -G, W)
        if fit_b and g.size:
            kkt = max(kkt, float(np.abs(g).max()))
        pen0 = solver.penalty_value(alpha, W)
        obj = f + pen0
        if verbose:
            print(f"[prox_newton] iteration {it}: objective {obj:.10g} kkt {kkt / scale:.3e}")
        if kkt <= tol * scale:
            converged = True
            break
        if it == max_iter:
            break
        point = _NewtonPoint(W, b, G, g, obj, pen0, kkt, h_sub, z[oi, ki], R[oi, ki])
        step = _damped_step(datafit, solver, sub, options, alpha, point, inner_tol, fit_b)
        if step is None:
            break  # no decrease found: stalled (reported by the KKT violation)
        W, b = step
        Wc = datafit.same_predictions(W)  # multinomial: the same model with smaller rows
        if Wc is not W and solver.penalty_value(alpha, Wc) <= solver.penalty_value(alpha, W):
            W = Wc
    if not converged and warn:
        warnings.warn(
            f"{owner} did not converge: KKT violation {kkt / scale:.3g} x the null-model gradient is "
            f"above tol={tol} after {it} Newton iterations. Increase max_iter or tol, or scale the features.",
            ConvergenceWarning,
        )
    return ProxNewtonResult(W, b, it, converged, float(obj), float(kkt / scale))


@dataclass
class _NewtonPoint:
    """The current point of :func:`prox_newton` and the quadratic model of the loss there.

    ``h``, ``z``, ``r``: the Hessian weights, predictions and loss gradient at
    the subproblem's observations (one per observation and class column).
    """

    W: np.ndarray
    b: np.ndarray
    G: np.ndarray  # gradient w.r.t. W
    g: np.ndarray  # gradient w.r.t. b
    obj: float
    pen0: float  # penalty at W
    kkt: float
    h: np.ndarray
    z: np.ndarray
    r: np.ndarray


def _damped_step(datafit, solver, sub, options, alpha, point, inner_tol, fit_b):
    """The next ``(W, b)`` from ``point``: the subproblem's solution, damped until the objective decreases enough.

    The step to the solution of the quadratic model is accepted when the
    objective falls by a quarter of the predicted decrease
    ``<grad F, D> + P(W + D) - P(W)``; a convex penalty then backtracks along
    the step, and otherwise (or when that fails) the model's curvature is
    raised (weights ``c H``, ``c`` = 4, 16, ...: towards a proximal gradient
    step, which decreases any objective). Returns None when nothing decreases it.
    """
    W, b, G, g, obj, pen0, kkt = point.W, point.b, point.G, point.g, point.obj, point.pen0, point.kkt
    scale_L = max(solver._L.max(initial=0.0), 1e-300)
    c = 1.0
    for _ in range(24):
        if c > 1.0:
            solver = L21Solver(dataclasses.replace(sub, y=point.z - point.r / (c * point.h)),
                               obs_weight=c * point.h, **options)
        criterion = "kkt"
        if inner_tol is not None:
            itol = inner_tol
            criterion = "gap"
        elif solver.penalty.is_convex:
            # the subproblem's gradient at W is that of F: its gap there is about
            # kkt^2 / (2 c L); ask for a fraction of it (relative to its scale 2 P0)
            energy = max(2.0 * solver._P0, 1e-300)
            itol = min(1e-4, _INNER_FRACTION * kkt * kkt / (c * scale_L * energy))
            if itol >= _GAP_RESOLUTION:
                criterion = "gap"
        if criterion == "kkt":  # non-convex, or a gap too small to be resolved: the KKT violation
            itol = min(1e-3, max(1e-15, _INNER_FRACTION * kkt / max(solver._grad0_scale(), 1e-300)))
        for _ in range(4):
            solver.set_coef(W)
            solver.solve(alpha, tol=itol, max_iter=10000, criterion=criterion)
            D = solver.W - W
            db = (solver.intercept - b) if fit_b else np.zeros_like(b)
            if np.any(D != 0) or np.any(db != 0):
                break
            itol *= 1e-3  # the solve stopped at W: its tolerance was too loose for this step
        else:
            return None  # no step at any tolerance: stalled (reported by the KKT violation)
        pen1 = solver.penalty_value(alpha, solver.W)
        decrease = min(float(np.sum(G * D) + g @ db + pen1 - pen0), 0.0)  # predicted (negative)
        t = 1.0
        while True:
            Wt = W + t * D
            bt = b + t * db
            pt = pen1 if t == 1.0 else solver.penalty_value(alpha, Wt)
            if datafit.value_z(datafit.forward(Wt, bt)) + pt <= obj + _ARMIJO * t * decrease:
                return Wt, bt
            if not solver.penalty.is_convex or t < 1e-10:
                break
            t *= 0.5
        c *= 4.0
    return None
