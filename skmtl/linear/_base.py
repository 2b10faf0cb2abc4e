"""Helpers shared by the linear estimators: the alpha grid, validation of options, result storage.

Penalty factors follow glmnet's ``penalty.factor``: one non-negative factor
per feature multiplies that feature's penalty, 0 leaves the feature
unpenalized (a covariate that is always in the model), and the factors are
rescaled to sum to ``n_features`` so that ``alpha`` keeps its meaning across
choices of factors (all ones is the unweighted penalty).
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .._param_validation import Interval, StrOptions
from ._row_penalties import ROW_PENALTIES

__all__ = ["alpha_grid", "descending_alphas", "check_strength", "check_solver_params", "numerical_rank",
           "check_penalty_factor", "check_l1_ratios", "check_penalty",
           "fit_block_solver",
           "store_fista_result", "DEFAULT_ALPHA_RATIO", "ZeroModelWarning", "resolve_alpha",
           "warn_if_zero_model", "curvature_scale", "resolve_strength", "quadratic_strengths", "NONNEGATIVE", "POSITIVE", "POSITIVE_INT", "ROW_PENALTY_OPTIONS",
           "SOLVER_OPTIONS", "COMMON_CONSTRAINTS", "CV_CONSTRAINTS", "SCORING_CONSTRAINT"]

#: ``alpha=None`` fits at this fraction of ``alpha_max`` (the smallest strength that
#: zeroes every penalized coefficient): a model in the middle of glmnet's path,
#: sparse but not empty, on any scaling of the data.
DEFAULT_ALPHA_RATIO = 0.1


# ----------------------------------------------------------------------------
# parameter constraints shared by the linear estimators (skmtl._param_validation)
# ----------------------------------------------------------------------------

#: A strength: a number >= 0 (``inf`` is refused later, by the fit's own checks).
NONNEGATIVE = Interval(numbers.Real, 0, None, closed="left")
#: A number > 0 (tolerances, ``eps`` of a grid, strengths that must not vanish).
POSITIVE = Interval(numbers.Real, 0, None, closed="neither")
#: An integer >= 1 (iteration limits, grid sizes, numbers of clusters).
POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
#: The row penalties of the L2,1 models.
ROW_PENALTY_OPTIONS = StrOptions({"group_lasso", "group_mcp", "group_scad"})
#: ``solver`` of the quadratic (relationship, clustered) regressors.
SOLVER_OPTIONS = StrOptions({"auto", "direct", "fista"})

#: The parameters every linear estimator has, as its ``_parameter_constraints``
#: declare them (``tol > 0``: the FISTA and alternating models stop on a relative
#: residual; the block coordinate descent models also accept ``tol=0``).
COMMON_CONSTRAINTS = {
    "fit_intercept": ["boolean"],
    "task_weight": [None, StrOptions({"balanced"}), "array-like"],
    "max_iter": [POSITIVE_INT],
    "tol": [POSITIVE],
    "task_column": [None, str, numbers.Integral],
}

#: The grid and fold parameters of the cross-validated estimators (:class:`~skmtl.linear._cv.PathCVMixin`).
CV_CONSTRAINTS = {
    "alphas": [None, "array-like"],
    "n_alphas": [POSITIVE_INT],
    "eps": [POSITIVE],
    "cv": ["cv_object"],
    "n_jobs": [None, numbers.Integral],
    "verbose": ["verbose"],
}

#: ``scoring`` of the cross-validated regressors: None, a scorer name or a callable.
SCORING_CONSTRAINT = [None, str, "callable"]


class ZeroModelWarning(UserWarning):
    """A fit learned nothing: every coefficient is zero, the model predicts its intercepts."""


def resolve_alpha(est, alpha, alpha_max):
    """The strength to fit, stored as ``est.alpha_``.

    ``alpha=None`` is ``DEFAULT_ALPHA_RATIO * alpha_max()`` (``alpha_max`` a
    callable, evaluated only then); a number is checked and used as given.
    """
    if alpha is None:
        amax = float(alpha_max())
        value = DEFAULT_ALPHA_RATIO * amax if np.isfinite(amax) and amax > 0 else 0.0
    else:
        value = check_strength(alpha, "alpha")
    est.alpha_ = value
    return value


def curvature_scale(data, task_weight=None, fit_intercept=True):
    """Mean eigenvalue ``s`` of the per-task weighted Gram matrices ``X_t^T Omega_t X_t``.

    ``s = sum_i omega_i ||x_i - xbar_t(i)||^2 / (n_features n_tasks)``
    (centred per task when intercepts are fitted); the scale of the
    quadratic strengths' grids.
    """
    X = data.X
    omega = data.observation_weights(task_weight)
    total = 0.0
    for t in range(data.n_tasks):
        s = data.task_slice(t)
        w = omega[s]
        Xt = X[data.rows[s]]
        sq = Xt.multiply(Xt) if sp.issparse(Xt) else Xt * Xt
        total += float(np.sum(sq.T @ w))
        if fit_intercept and w.sum() > 0:
            mean = np.asarray(Xt.T @ w).ravel() / w.sum()
            total -= float(w.sum() * mean @ mean)
    scale = total / max(data.n_features * data.n_tasks, 1)
    return scale if scale > 0 else 1.0


def quadratic_strengths(est, data, alpha_ratio, beta_ratio):
    """``(alpha, beta)`` of a quadratic-penalty model, stored as ``alpha_``, ``beta_``.

    None is that ratio times :func:`curvature_scale` (computed once, only when
    a strength is None).
    """
    scale = []

    def default(ratio):
        if not scale:
            scale.append(curvature_scale(data, est.task_weight, est.fit_intercept))
        return ratio * scale[0]

    alpha = resolve_strength(est, "alpha", est.alpha, lambda: default(alpha_ratio))
    beta = resolve_strength(est, "beta", est.beta, lambda: default(beta_ratio))
    return alpha, beta


def resolve_strength(est, name, value, default):
    """The strength to fit, stored as ``est.<name>_``: ``value`` checked, or ``default()`` when None.

    ``default`` is a callable (evaluated only then): a multiple of
    :func:`curvature_scale` for the quadratic penalties, of the part's
    ``alpha_max`` for the composite models.
    """
    strength = check_strength(value, name) if value is not None else float(default())
    setattr(est, f"{name}_", strength)
    return strength


def warn_if_zero_model(est, coef, strength, alpha_max=None):
    """Warn (:class:`ZeroModelWarning`) when every entry of ``coef`` is zero, saying why.

    ``strength`` is the text of the strengths used (``"alpha=0.5"``);
    ``alpha_max`` (float or callable), when known, is quoted.
    """
    if np.any(np.asarray(coef) != 0):
        return
    name = type(est).__name__
    if callable(alpha_max):
        try:
            alpha_max = alpha_max()
        except ValueError:  # infinite (a pure ridge): nothing to quote
            alpha_max = None
    why = f"the penalty ({strength}) zeroes every coefficient on this data"
    if alpha_max is not None and np.isfinite(alpha_max):
        why += f": alpha_max={alpha_max:.4g} is the smallest alpha that does"
    if hasattr(est, "alphas_"):
        advice = ("No strength of the grid scored better on held-out data than this empty model: the "
                  "features may not predict the targets, or the grid (alphas, eps) is too coarse")
    else:
        advice = "Use a smaller alpha, alpha=None (a tenth of alpha_max), or the cross-validated estimator"
    warnings.warn(
        f"{name} learned nothing: every coefficient is zero and the model predicts the intercepts "
        f"only; {why}. {advice}.",
        ZeroModelWarning,
        stacklevel=3,
    )


def alpha_grid(alpha_max, n_alphas=100, eps=1e-3):
    """Descending geometric grid from ``alpha_max`` to ``eps * alpha_max``: the one grid of every path and CV.

    ``alpha_max <= 0`` (nothing to select: the null model is optimal everywhere)
    gives ``n_alphas`` copies of machine epsilon.

    Parameters
    ----------
    alpha_max : float
        The largest strength, first in the grid.
    n_alphas : int, default=100
        Number of strengths.
    eps : float, default=1e-3
        Ratio of the smallest to the largest strength.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    """
    if alpha_max <= 0:
        return np.full(n_alphas, np.finfo(float).eps)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def descending_alphas(alphas):
    """User ``alphas`` as a decreasing float array (negative values refused)."""
    alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
    if np.any(alphas < 0):
        raise ValueError("alphas must be non-negative.")
    return alphas


def check_strength(value, name):
    """A non-negative finite strength as a float; ``name`` in the error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number; got {value!r}.")
    return float(value)


def check_solver_params(est):
    """``est.max_iter`` a positive integer and ``est.tol`` a positive number, or a ValueError."""
    if isinstance(est.max_iter, bool) or not isinstance(est.max_iter, numbers.Integral) or est.max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {est.max_iter!r}.")
    if isinstance(est.tol, bool) or not isinstance(est.tol, numbers.Real) or not est.tol > 0:
        raise ValueError(f"tol must be a positive number; got {est.tol!r}.")


def numerical_rank(C):
    """Number of singular values of ``C`` above ``max(C.shape) eps s_max`` (numpy's ``matrix_rank`` rule)."""
    if C.size == 0:
        return 0
    s = np.linalg.svd(C, compute_uv=False)
    return int(np.sum(s > max(C.shape) * np.finfo(float).eps * max(s.max(initial=0.0), 1e-300)))


def check_penalty_factor(penalty_factor, n_features, owner):
    """Validated penalty factors, rescaled to sum to ``n_features``; None stays None.

    Parameters
    ----------
    penalty_factor : None or array-like of shape (n_features,)
        Non-negative factors, at least one positive.
    n_features : int
    owner : str
        Name of the estimator or function, for the error messages.

    Returns
    -------
    ndarray of shape (n_features,) or None
    """
    if penalty_factor is None:
        return None
    try:
        f = np.asarray(penalty_factor, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{owner}: penalty_factor must be an array of numbers; got {penalty_factor!r}.") from exc
    if f.ndim != 1 or f.shape[0] != n_features:
        raise ValueError(
            f"{owner}: penalty_factor must have shape (n_features,) = ({n_features},); "
            f"got shape {f.shape}.")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{owner}: penalty_factor has non-finite values (NaN or inf).")
    if np.any(f < 0):
        raise ValueError(
            f"{owner}: penalty_factor must be non-negative (0 leaves a feature unpenalized); "
            f"got a minimum of {f.min():g}.")
    if not f.sum() > 0:
        raise ValueError(
            f"{owner}: penalty_factor is zero for every feature; at least one feature must be "
            f"penalized (for an unpenalized fit use a least-squares model).")
    return f * (n_features / f.sum())


def check_l1_ratios(l1_ratio, owner):
    """``l1_ratio`` as a 1-D array of values in [0, 1] (a scalar gives one value)."""
    message = f"{owner}: l1_ratio must be a number or a non-empty list of numbers in [0, 1]; got {l1_ratio!r}."
    if isinstance(l1_ratio, (str, bytes)):
        raise ValueError(message)
    try:
        values = np.atleast_1d(np.asarray(l1_ratio, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise ValueError(message) from exc
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(message)
    if np.any((values < 0) | (values > 1)):
        raise ValueError(f"{owner}: l1_ratio values must lie in [0, 1]; got {l1_ratio!r}.")
    return values


def check_penalty(penalty, gamma, owner):
    """Keyword arguments ``penalty``, ``gamma`` of :class:`~skmtl.linear.L21Solver`, checked.

    ``penalty`` is one of the row penalties of the block coordinate descent;
    ``gamma`` (MCP: above 1, SCAD: above 2) is dropped for the group lasso.
    Errors name ``owner``.
    """
    kinds = ("group_lasso", "group_mcp", "group_scad")
    if penalty not in kinds:
        raise ValueError(f"{owner}: penalty must be one of {kinds}; got {penalty!r}.")
    if gamma is not None and penalty != "group_lasso":
        low = ROW_PENALTIES[penalty].gamma_min
        if not (isinstance(gamma, numbers.Real) and gamma > low):
            raise ValueError(f"{owner}: gamma must be a number greater than {low:g} for "
                             f"penalty={penalty!r}; got {gamma!r}.")
    return {"penalty": penalty, "gamma": gamma if penalty != "group_lasso" else None}


def with_covariates(X, covariates, penalty_factor, owner):
    """``X`` with the covariates in front and the penalty factors that leave them unpenalized.

    Returns ``(X, f, q)``: ``[C | X]`` (:func:`~skmtl._design.add_covariates`;
    ``X`` itself when ``covariates`` is None), the factors over its columns
    (``penalty_factor`` checked and rescaled over the ``n_features`` columns
    of ``X`` as without covariates, then zeros in front) and the number ``q``
    of covariates.
    """
    if covariates is None:
        return X, None, 0
    from .._design import add_covariates

    stacked = add_covariates(X, covariates)
    q = stacked.shape[1] - X.shape[1]
    f = check_penalty_factor(penalty_factor, X.shape[1], owner)
    f = np.concatenate([np.zeros(q), np.ones(X.shape[1]) if f is None else f])
    return stacked, f, q


def fit_block_solver(est, solver, alpha, prev=None):
    """Solve ``solver`` (an :class:`~skmtl.linear.L21Solver`) at ``alpha`` and store the fit on ``est``.

    Starts from ``prev`` (``coef_`` of shape (n_tasks, n_features), warm start) when it has
    the right shape, warns (``ConvergenceWarning``, naming ``est``) when the stopping rule
    was not met, and sets ``coef_``, ``intercept_``, ``dual_gap_`` and ``n_iter_``.
    For a non-convex row penalty (MCP, SCAD) the rule is the KKT violation, not the duality gap.
    """
    if prev is not None and prev.shape == (solver.n_tasks, solver.n_features):
        solver.set_coef(prev.T)
    # a one-off fit: options that compile less for the first fit of a process
    gap, n_iter, conv = solver.solve(alpha, tol=est.tol, max_iter=est.max_iter, verbose=est.verbose,
                                     **solver.one_off_options())
    if not conv:
        convex = solver.penalty.is_convex
        what = ("duality gap {:.3g} is above tol={} x the centered target energy" if convex else
                "KKT violation {:.3g} is above tol={} x the largest gradient row norm at zero")
        warnings.warn(
            f"{type(est).__name__} did not converge: {what.format(gap, est.tol)} after "
            f"max_iter={est.max_iter} epochs. Increase max_iter, increase tol, or scale the features.",
            ConvergenceWarning,
        )
    est.coef_ = solver.W.T.copy()
    est.intercept_ = solver.intercept.copy()
    est.dual_gap_ = float(gap)
    est.n_iter_ = int(n_iter)
    warn_if_zero_model(est, est.coef_, f"alpha={alpha:.4g}", solver.alpha_max)
    return est


def store_fista_result(est, res, W=None, strength=None):
    """Store a :func:`~skmtl.linear.fista` result on ``est``: the fitted attributes of every FISTA model.

    Sets ``coef_`` (n_columns, n_features) from ``W`` (default ``res.coef``;
    the split models pass the sum of their parts), ``intercept_`` (zeros
    without ``fit_intercept``), ``n_iter_``, ``dual_gap_`` (None where the
    solver stopped on the KKT residual) and ``objective_``. With ``strength``
    (the text of the strengths, ``"alpha=0.1"``), an all-zero fit warns.
    """
    W = res.coef if W is None else W
    est.coef_ = np.ascontiguousarray(W.T)
    est.intercept_ = res.intercept.copy() if est.fit_intercept else np.zeros(W.shape[1])
    est.n_iter_ = res.n_iter
    est.dual_gap_ = res.dual_gap
    est.objective_ = res.objective
    if strength is not None:
        warn_if_zero_model(est, est.coef_, strength)
    return est
