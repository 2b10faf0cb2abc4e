r"""The L2,1 classifiers on designs read by streaming passes (genotypes, memmaps, zarr, dask).

The screening of :mod:`skmtl.linear._screened` around the classifiers' own
in-memory solvers (for the group lasso FISTA or proximal Newton, as
:func:`~skmtl.linear._solver_choice.choose_solver` picks them on the restricted
problem; proximal Newton for group MCP/SCAD): the logistic or multinomial
problem restricted to a working set ``S`` is solved on the dense columns ``X[:, S]``, then one streaming pass
computes the gradient ``G = X^T R`` of every feature (``R`` the gradient of
the loss with respect to the predictions, placed at (row, class column)); a
feature outside ``S`` whose ``||G_j||_2`` exceeds ``alpha l1_ratio f_j``
violates the optimality conditions at ``W_j = 0`` (the subdifferential at
zero of the group lasso, MCP and SCAD is that ball) and joins ``S``. When
none does, the restricted solution solves the full problem. The first
working set holds the unpenalized features and the features whose gradient
at the null model (intercepts, and the unpenalized features fitted) is
largest.
"""

import dataclasses
import warnings

import numpy as np

from ._base import check_penalty_factor
from ._fista import fista
from ._penalties import WeightedL21
from ._prox_newton import prox_newton
from ._screened import _MIN_ADD, top_features
from ._solver_choice import choose_solver

__all__ = ["fit_screened_classifier"]


def _residual_matrix(datafit, R):
    """``R`` (observation form, (n_obs, k_max)) placed at (row, class column): shape (n_samples, n_columns)."""
    d = datafit.design
    M = np.zeros((d.data.n_samples, d.n_columns))
    for t, s in enumerate(d.slices):
        c0, c1 = d.col_ptr[t], d.col_ptr[t + 1]
        if c1 > c0:
            M[d.rows[s], c0:c1] = R[s, : c1 - c0]
    return M


def fit_screened_classifier(est, data, resolve):
    """Fit the L2,1 classifier ``est`` on ``data`` whose ``X`` is a design; sets its fitted attributes.

    Parameters
    ----------
    est : L21Classifier
    data : MultiTaskData
        With ``X`` a :class:`~skmtl._design.ColumnDesign`.
    resolve : callable
        ``resolve(alpha_max_fn) -> alpha`` (the estimator's default-alpha rule).

    Returns
    -------
    alpha : float
    res : FistaResult or ProxNewtonResult
        With ``coef`` over every feature.
    datafit : Datafit
        Of the last restricted problem (its class columns are the full problem's).
    """
    name = type(est).__name__
    design = data.X
    p = design.n_features
    f = check_penalty_factor(est.penalty_factor, p, name)
    f = np.ones(p) if f is None else f
    l1_ratio = est._single_l1_ratio()
    newton = est._newton_options(p)
    pw = l1_ratio * f
    pen = pw > 0
    in_ws = np.zeros(p, dtype=bool)
    S = np.flatnonzero(~pen)
    cols = {}  # feature -> decoded column
    last_warnings = []
    solver_used = "fista"  # the solver of the last restricted problem
    alpha_max = np.inf  # known after the null model

    def restricted(S, alpha, start):
        missing = [j for j in S if j not in cols]
        if missing:
            block = design.take(np.array(missing, dtype=np.int64))
            for k, j in enumerate(missing):
                cols[j] = block[:, k]
        XS = np.asfortranarray(np.column_stack([cols[j] for j in S])) if len(S) else np.zeros((data.n_samples, 1))
        sub = dataclasses.replace(data, X=XS)
        df = est._make_datafit(sub)
        if len(S) == 0:  # the null model: intercepts only (one zero column stands for X)
            W0, b0 = df.init_coef()
            return None, df, W0, b0
        fS = f[S]
        with warnings.catch_warnings(record=True) as caught:  # only the last round's warnings are shown
            warnings.simplefilter("always")
            res = _solve(df, alpha, fS, start)
        last_warnings[:] = caught
        return res, df, res.coef, res.intercept

    def _solve(df, alpha, fS, start):
        nonlocal solver_used  # the rule of the in-memory fit, on the restricted problem's shape
        solver_used = choose_solver(est._solver(), newton, df, alpha, lambda: alpha_max)
        if solver_used == "fista":
            res = fista(df, WeightedL21(alpha, l1_ratio, fS), coef_init=None if start is None else start[0],
                        intercept_init=None if start is None else start[1], max_iter=est.max_iter, tol=est.tol)
        else:
            res = prox_newton(df, alpha, tol=est.tol, max_iter=est.max_iter, coef_init=start, owner=name,
                              **{**newton, "penalty_factor": fS})
        return res

    def gradient_z(df, W, b):
        _, R = df.value_grad_z(df.forward(W, b))
        G = design.rmatmat(_residual_matrix(df, R))
        z = np.zeros(p)
        z[pen] = np.sqrt((G[pen] ** 2).sum(axis=1)) / pw[pen]
        return z

    # the null model (unpenalized features fitted at any alpha: their penalty is zero)
    res, df, WS, b = restricted(S, 1.0, None)
    z = gradient_z(df, WS, b)
    alpha_max = float(z.max(initial=0.0))
    alpha = resolve(lambda: alpha_max)
    in_ws[S] = True
    start = (WS, b) if len(S) else None
    add = np.flatnonzero(pen & (z > alpha) & ~in_ws)
    while True:
        add = top_features(add, z, max(_MIN_ADD, 2 * len(S)))
        if len(add):
            S = np.concatenate([S, add])
            in_ws[add] = True
            if start is not None:
                start = (np.vstack([start[0], np.zeros((len(add), start[0].shape[1]))]), start[1])
        if len(S) == 0:
            break
        res, df, WS, b = restricted(S, alpha, start)
        start = (WS, b)
        z = gradient_z(df, WS, b)
        add = np.flatnonzero((z > alpha) & ~in_ws)
        if len(add) == 0:
            break
    m = df.design.n_columns
    W = np.zeros((p, m))
    if res is None:  # every feature penalized away before any solve
        res, df, WS, b = restricted(np.array([0]), alpha, None)
        W[0] = WS[0]
    else:
        W[S] = WS
    for w in last_warnings:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    res = dataclasses.replace(res, coef=W)
    est.solver_ = solver_used
    return alpha, res, df
