"""Regularization paths of the linear families: L2,1 (and its elastic-net, MCP/SCAD forms) and trace norm.

``l21_path`` solves the problem of :mod:`skmtl.linear._bcd`, ``trace_norm_path``
the trace-norm problem (FISTA), on a descending grid of ``alpha`` with warm
starts, as scikit-learn's ``enet_path`` does for the lasso. Both take the same
public inputs (``X``, ``Y`` wide or long, ``sample_weight``, ``task_column``)
and return the same tuple ``(alphas, coefs, gaps[, intercepts][, n_iters])``;
``*_alpha_max`` give the top of each grid. The estimators and the
cross-validation classes share them (through the ``_*_data`` forms, which take
validated data).
"""

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from .._data import MultiTaskData, validate_fit_data
from .._design import is_design
from .._progress import progress
from ._base import alpha_grid, check_penalty_factor, descending_alphas, with_covariates
from ._cv import _predict_obs
from ._datafits import make_squared_loss
from ._fista import fista_path
from ._path_monitor import PathMonitor
from ._penalties import TraceNorm
from ._screened import make_l21_solver

__all__ = ["l21_path", "l21_alpha_max", "trace_norm_path", "trace_norm_alpha_max", "alpha_grid"]


class _PathInput(BaseEstimator):
    """Stand-in estimator for validating the input of the path functions."""

    _accept_sparse = True
    _accept_design = True  # genotypes, memmaps, zarr and dask arrays are streamed (skmtl._design)


def _as_data(X, Y, sample_weight=None, task_column=None):
    if isinstance(X, MultiTaskData):
        return X
    return validate_fit_data(
        _PathInput(), X, Y, sample_weight, task_column=task_column,
        accept_sparse=("csc", "csr"), dtype=(np.float64, np.float32),
    )


def _path_output(alphas, coefs, gaps, intercepts, n_iters, return_intercept, return_n_iter):
    """The tuple every path function returns: ``(alphas, coefs, gaps[, intercepts][, n_iters])``."""
    out = [alphas, coefs, gaps]
    if return_intercept:
        out.append(intercepts)
    if return_n_iter:
        out.append(n_iters)
    return tuple(out)


def l21_alpha_max(X, Y=None, *, sample_weight=None, fit_intercept=True, task_weight=None,
                  task_column=None, l1_ratio=1.0, penalty_factor=None):
    """Smallest ``alpha`` for which all penalized coefficients are zero.

    ``alpha_max = max_j ||(X_{c,j}^T (omega * y_c))_t||_2 / (l1_ratio f_j)`` with
    ``X_c`` and ``y_c`` centered per task (when ``fit_intercept``) by the datafit
    weights ``omega``, over the penalized features; with unpenalized features
    (``penalty_factor`` 0) the residual is that of the model fitted on them alone.

    Parameters
    ----------
    X : array-like, sparse matrix or MultiTaskData
        Features, wide or long (with ``task_column``); or already validated data.
    Y : array-like, default=None
        Targets (wide: (n_samples, n_tasks) with NaN for missing; long: 1-D);
        ignored when ``X`` is a :class:`~skmtl._data.MultiTaskData`.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row.
    fit_intercept : bool, default=True
        Whether the model has per-task intercepts (then ``X`` and ``Y`` are
        centered per task).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task's loss.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input).
    l1_ratio : float in (0, 1], default=1.0
        Mixing between the L2,1 norm (1) and the squared Frobenius norm.
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative factor ``f_j`` of each feature's penalty, 0 for an
        unpenalized feature; rescaled to sum to ``n_features``.

    Returns
    -------
    alpha_max : float
    """
    data = _as_data(X, Y, sample_weight, task_column)
    f = check_penalty_factor(penalty_factor, data.n_features, "l21_alpha_max")
    return make_l21_solver(data, fit_intercept=fit_intercept, task_weight=task_weight,
                     l1_ratio=l1_ratio, penalty_factor=f).alpha_max()


class _PathCoefs:
    """Coefficients along a path, (n_alphas, n_tasks, n_features): one dense array, or the support rows of each alpha.

    The sparse form is what makes a path over a million features possible: a
    dense array would hold n_alphas x n_tasks x n_features floats (80 GB for
    100 alphas, 100 traits and 10^6 variants), most of them zeros.
    """

    def __init__(self, n_alphas, n_tasks, n_features, *, sparse=False):
        self.shape = (n_alphas, n_tasks, n_features)
        self.sparse = sparse
        self._dense = None if sparse else np.zeros(self.shape)
        self._rows = [(np.zeros(0, dtype=np.int64), np.zeros((0, n_tasks)))] * n_alphas

    def set(self, k, W):
        """Store alpha ``k``'s coefficients ``W`` (n_features, n_tasks)."""
        if self.sparse:
            self.set_rows(k, *_support_rows(W))
        else:
            self._dense[k] = W.T

    def set_rows(self, k, rows, vals):
        """Store alpha ``k``'s coefficients from their nonzero ``rows`` and values (len(rows), n_tasks)."""
        if self.sparse:
            self._rows[k] = (np.asarray(rows, dtype=np.int64), np.array(vals, dtype=np.float64))
        else:
            self._dense[k] = 0.0
            self._dense[k][:, rows] = np.asarray(vals).T

    def rows(self, k):
        """The nonzero rows of alpha ``k``'s ``W`` and their values."""
        return self._rows[k] if self.sparse else _support_rows(self._dense[k].T)

    def get(self, k):
        """Alpha ``k``'s coefficients as a dense ``W`` (n_features, n_tasks)."""
        if not self.sparse:
            return self._dense[k].T
        W = np.zeros(self.shape[:0:-1])
        rows, vals = self._rows[k]
        W[rows] = vals
        return W

    def result(self, n_done, skip=0):
        """The first ``n_done`` alphas without the first ``skip`` features: an ndarray
        (n_done, n_tasks, n_features - skip), or a list of ``n_done`` scipy
        ``csr_array`` of shape (n_tasks, n_features - skip)."""
        if not self.sparse:
            return self._dense[:n_done, :, skip:]
        from scipy import sparse

        T, p = self.shape[1], self.shape[2] - skip
        out = []
        for rows, vals in self._rows[:n_done]:
            keep = rows >= skip
            r, v = rows[keep] - skip, vals[keep]
            # task t, feature r: CSR by task, features in increasing order
            M = sparse.csr_array((v.T.ravel(), (np.repeat(np.arange(T), len(r)), np.tile(r, T))), shape=(T, p))
            M.eliminate_zeros()  # single zero entries of a nonzero row (sparse-group penalty)
            out.append(M)
        return out


def _support_rows(W):
    """Rows of ``W`` (p, T) that are nonzero, and their values."""
    rows = np.flatnonzero(np.any(W != 0, axis=1))
    return rows, W[rows]


def _l21_path_data(data, alphas, *, fit_intercept=True, task_weight=None, tol=1e-4,
                   max_iter=1000, coef_init=None, warn=True, solver=None, verbose=0,
                   l1_ratio=1.0, penalty_factor=None, penalty="group_lasso", gamma=None, l1_share=0.5,
                   monitor=None, sparse_coefs=False, skip=0):
    """Path on prepared data; returns coefs (A, T, p), intercepts (A, T), gaps, n_iters.

    ``sparse_coefs``: coefs as a list of (T, p) ``csr_array`` (see
    :class:`_PathCoefs`); ``skip``: leave out the first ``skip`` features
    (covariates) of coefs.

    ``penalty_factor`` is used as given (already rescaled). A
    :class:`~skmtl.linear._path_monitor.PathMonitor` resumes the path from its
    checkpoint, scores and checkpoints each alpha, and may stop the path early
    (the outputs then hold the alphas fitted).
    """
    if solver is None:
        solver = make_l21_solver(data, fit_intercept=fit_intercept, task_weight=task_weight,
                           l1_ratio=l1_ratio, penalty_factor=penalty_factor, penalty=penalty,
                           gamma=gamma, l1_share=l1_share)
    if coef_init is not None:
        solver.set_coef(np.asarray(coef_init, dtype=np.float64).T)
    A, T, p = len(alphas), data.n_tasks, data.n_features
    coefs = _PathCoefs(A, T, p, sparse=sparse_coefs)
    intercepts = np.zeros((A, T))
    gaps = np.zeros(A)
    n_iters = np.zeros(A, dtype=np.int64)
    not_converged = []
    start = 0 if monitor is None else monitor.restore(solver, coefs, intercepts, gaps, n_iters)
    n_done = A
    if monitor is not None and monitor.stopped:  # the checkpointed path had already stopped early
        n_done, start = start, A
    with solver.single_thread_blas():  # once for the path, not once per alpha
        for k in progress(range(start, A), verbose, desc="L21 path"):
            alpha = alphas[k]
            gap, n_iter, conv = solver.solve(alpha, tol=tol, max_iter=max_iter)
            coefs.set(k, solver.W)
            intercepts[k] = solver.intercept
            gaps[k] = gap
            n_iters[k] = n_iter
            if not conv:
                not_converged.append(alpha)
            if monitor is not None and monitor.after(k, solver, coefs, intercepts, gaps, n_iters):
                n_done = k + 1
                break
    coefs = coefs.result(n_done, skip)
    if n_done < A:
        intercepts, gaps, n_iters = intercepts[:n_done], gaps[:n_done], n_iters[:n_done]
    if warn and not_converged:
        warnings.warn(
            f"L2,1 solver did not converge for {len(not_converged)} of {A} alphas "
            f"(smallest {min(not_converged):.3g}): duality gap (KKT violation for MCP/SCAD) above tol={tol} x the "
            f"centered target energy after max_iter={max_iter} epochs. Increase max_iter, "
            f"increase tol, or scale the features.",
            ConvergenceWarning,
        )
    return coefs, intercepts, gaps, n_iters


def _l21_path_predictions(train, test, alphas, *, fit_intercept=True, task_weight=None, tol=1e-4,
                          max_iter=1000, l1_ratio=1.0, penalty_factor=None, penalty="group_lasso",
                          gamma=None, l1_share=0.5):
    """Predictions (n_obs_test, n_alphas) on ``test`` of the path fitted on ``train``.

    The cross-validation form of the path: each alpha is scored as it is
    solved, so no (n_alphas, n_tasks, n_features) array is built per fold.
    Non-convergence on a fold is not warned about (the refit on all the data warns).
    """
    solver = make_l21_solver(train, fit_intercept=fit_intercept, task_weight=task_weight,
                       l1_ratio=l1_ratio, penalty_factor=penalty_factor, penalty=penalty, gamma=gamma,
                       l1_share=l1_share)
    pred = np.empty((test.n_obs, len(alphas)))
    X, rows, task = test.X, test.rows, test.task_of_obs
    with solver.single_thread_blas():
        for k, alpha in enumerate(alphas):
            solver.solve(alpha, tol=tol, max_iter=max_iter)
            if test.n_obs:
                pred[:, k] = _predict_obs(X, rows, task, solver.W, solver.intercept)
    return pred


def l21_path(X, Y=None, *, alphas=None, n_alphas=100, eps=1e-3, l1_ratio=1.0, penalty_factor=None,
             penalty="group_lasso", gamma=None, sample_weight=None, fit_intercept=True, task_weight=None, task_column=None, tol=1e-4,
             max_iter=1000, coef_init=None, return_intercept=False, return_n_iter=False, verbose=0,
             covariates=None, validation=None, patience=None, checkpoint=None, coef_format="auto"):
    """Multi-task group lasso (L2,1) and elastic-net path with warm starts.

    Solves, for each ``alpha`` of a descending grid::

        min_{W, b} 1/2 sum_i omega_i (y_i - x_i w_t(i) - b_t(i))^2
                   + alpha sum_j f_j (l1_ratio ||W_j||_2 + (1 - l1_ratio) / 2 ||W_j||_2^2)

    (on complete wide input without weights and ``f = 1``: ``1/(2n) ||Y - XW - 1 b^T||_F^2 +
    alpha l1_ratio ||W||_{2,1} + alpha (1 - l1_ratio) / 2 ||W||_F^2``, scikit-learn's
    ``MultiTaskElasticNet``; ``MultiTaskLasso`` for ``l1_ratio=1``).

    Parameters
    ----------
    X : array-like, sparse matrix, design or MultiTaskData
        Features, wide or long (with ``task_column``); or already validated
        data. A design read by streaming passes (:func:`~skmtl.datasets.read_plink`
        genotypes, numpy memmaps, zarr or dask arrays; wide targets) is fitted
        by screening with KKT checks (:mod:`skmtl.linear._screened`), one
        full pass per ``alpha`` when the strong rule holds.
    Y : array-like
        Targets (wide: (n_samples, n_tasks) with NaN for missing; long: 1-D).
    alphas : array-like, optional
        Grid; sorted in decreasing order. Default: ``n_alphas`` values from
        ``alpha_max`` (:func:`l21_alpha_max`) down to ``eps * alpha_max`` on a log scale.
    n_alphas : int, default=100
    eps : float, default=1e-3
    l1_ratio : float in [0, 1], default=1.0
        Mixing between the L2,1 norm (1) and the squared Frobenius norm (0).
        With ``l1_ratio=0`` give ``alphas`` (``alpha_max`` is infinite).
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative factor ``f_j`` of each feature's penalty; 0 leaves the
        feature unpenalized (a covariate). Rescaled to sum to ``n_features``,
        as glmnet's ``penalty.factor``.
    penalty : {"group_lasso", "group_mcp", "group_scad"}, default="group_lasso"
        The row penalty (see :class:`~skmtl.linear.L21Regressor`); for MCP and
        SCAD the path's warm starts pick the stationary point, and ``gaps``
        holds the final KKT violations.
    gamma : float, optional
        Concavity of MCP (default 3) or SCAD (default 3.7).
    sample_weight : array-like, optional
    fit_intercept : bool, default=True
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
    task_column : str or int, optional
        Column of ``X`` holding each row's task (long input).
    tol : float
        Stop each fit when the duality gap is at most ``tol`` times
        ``sum_i omega_i y_c,i^2`` (scikit-learn's ``MultiTaskLasso`` rule).
    max_iter : int
        Maximum number of coordinate descent epochs per ``alpha``.
    coef_init : array of shape (n_tasks, n_features), optional
        Start of the first fit.
    return_intercept, return_n_iter : bool, default=False
        Also return the intercepts, the numbers of epochs.
    verbose : int, default=0
        Progress bar over the grid when positive.
    covariates : array-like of shape (n_samples, n_covariates), default=None
        Unpenalized features fitted along with ``X`` (age, sex, principal
        components); their coefficients are not part of ``coefs``.
    validation : tuple (X_val, Y_val) or (X_val, Y_val, covariates_val), default=None
        Held-out samples (wide targets, NaN for missing; ``X_val`` may be a
        design, e.g. ``G.take_rows(val_rows)``): each alpha is scored by the
        mean over tasks of the R^2 on them, returned as ``val_scores``.
    patience : int, default=None
        With ``validation``: stop the path after this many alphas in a row
        without a better score than the best so far (as snpnet does); the
        outputs then hold only the alphas fitted.
    checkpoint : str or path, default=None
        An ``.npz`` file written after every alpha (the fitted part of the
        path, the validation scores and the solver's state). If it exists when
        the path starts, the path continues from it (same grid required) and
        gives what the uninterrupted path gives.
    coef_format : {"auto", "dense", "sparse"}, default="auto"
        How ``coefs`` is returned: one dense array, or one sparse matrix per
        alpha (as glmnet returns its path), which holds only the selected
        features. "auto": sparse when ``X`` is a design (genotypes, memmap,
        zarr or dask array), where a dense array of n_alphas x n_tasks x
        n_features floats may not fit in memory.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_alphas, n_tasks, n_features), or list of n_alphas ``scipy.sparse.csr_array``
        Coefficients along the path; sparse (each of shape (n_tasks,
        n_features), ``coefs[k].toarray()`` for a dense one) as ``coef_format`` says.
    gaps : ndarray of shape (n_alphas,)
        Final duality gaps.
    intercepts : ndarray of shape (n_alphas, n_tasks)
        Only when ``return_intercept``.
    n_iters : ndarray of shape (n_alphas,)
        Only when ``return_n_iter``.
    val_scores : ndarray of shape (n_alphas,)
        Only with ``validation``: the held-out mean per-task R^2 of each alpha.
    """
    q = 0
    if covariates is not None:
        if isinstance(X, MultiTaskData) or task_column is not None:
            raise ValueError("l21_path: covariates take wide input (X and Y), not MultiTaskData or task_column.")
        X, f, q = with_covariates(X, covariates, penalty_factor, "l21_path")
        if coef_init is not None:
            coef_init = np.hstack([np.zeros((np.shape(coef_init)[0], q)), coef_init])
    if coef_format not in ("auto", "dense", "sparse"):
        raise ValueError(f"l21_path: coef_format must be 'auto', 'dense' or 'sparse'; got {coef_format!r}.")
    data = _as_data(X, Y, sample_weight, task_column)
    sparse_coefs = coef_format == "sparse" or (coef_format == "auto" and is_design(data.X))
    if not q:
        f = check_penalty_factor(penalty_factor, data.n_features, "l21_path")
    monitor = None
    if validation is not None or patience is not None or checkpoint is not None:
        # checked before anything is fitted (alpha_max is a full pass over a design)
        monitor = PathMonitor(None, n_covariates=q, validation=validation, patience=patience,
                              checkpoint=checkpoint, n_features=data.n_features - q, n_tasks=data.n_tasks)
    solver = make_l21_solver(data, fit_intercept=fit_intercept, task_weight=task_weight,
                       l1_ratio=l1_ratio, penalty_factor=f, penalty=penalty, gamma=gamma)
    if alphas is None:
        alphas = alpha_grid(solver.alpha_max(), n_alphas, eps)
    else:
        alphas = descending_alphas(alphas)
    if monitor is not None:
        monitor.alphas = np.asarray(alphas, dtype=np.float64)
    coefs, intercepts, gaps, n_iters = _l21_path_data(
        data, alphas, tol=tol, max_iter=max_iter, coef_init=coef_init, solver=solver, verbose=verbose,
        monitor=monitor, sparse_coefs=sparse_coefs, skip=q)
    out = _path_output(alphas[:len(gaps)], coefs, gaps, intercepts, n_iters, return_intercept, return_n_iter)
    return out + (np.asarray(monitor.scores),) if validation is not None else out


def trace_norm_alpha_max(X, Y=None, *, sample_weight=None, fit_intercept=True, task_weight=None,
                         task_column=None):
    """Smallest ``alpha`` for which the trace-norm model is ``W = 0``.

    The spectral norm of the datafit gradient at ``W = 0`` with optimal
    intercepts.

    Parameters
    ----------
    X : array-like, sparse matrix or MultiTaskData
        Features, wide or long (with ``task_column``); or already validated data.
    Y : array-like, default=None
        Targets (wide: (n_samples, n_tasks) with NaN for missing; long: 1-D);
        ignored when ``X`` is a :class:`~skmtl._data.MultiTaskData`.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row.
    fit_intercept : bool, default=True
        Whether the model has per-task intercepts (then ``X`` and ``Y`` are
        centered per task).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task's loss.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input).

    Returns
    -------
    alpha_max : float
    """
    data = _as_data(X, Y, sample_weight, task_column)
    df = make_squared_loss(data, task_weight=task_weight, fit_intercept=fit_intercept)
    W0, b0 = df.init_coef()
    _, G0, _ = df.value_grad(W0, b0)
    return TraceNorm(1.0).alpha_max(G0)


def _trace_norm_path_data(data, alphas, *, fit_intercept=True, task_weight=None, tol=1e-6, max_iter=1000,
                          warn=False, verbose=0, return_gaps=False):
    """Trace-norm path on validated data: coefs (A, T, p), intercepts (A, T), n_iters[, gaps]."""
    df = make_squared_loss(data, task_weight=task_weight, fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore", ConvergenceWarning)
        coefs, intercepts, n_iters, gaps = fista_path(df, TraceNorm, alphas, max_iter=max_iter, tol=tol,
                                                      warn=warn, verbose=verbose, return_gaps=True)
    out = (np.array([W.T for W in coefs]), np.array(intercepts), np.array(n_iters))
    return out + (np.array(gaps, dtype=np.float64),) if return_gaps else out


def trace_norm_path(X, Y=None, *, alphas=None, n_alphas=100, eps=1e-3, sample_weight=None,
                    fit_intercept=True, task_weight=None, task_column=None, tol=1e-6, max_iter=1000,
                    return_intercept=False, return_n_iter=False, verbose=0):
    """Trace-norm (nuclear norm) regression path with warm starts.

    Solves, for each ``alpha`` of a descending grid::

        min_{W, b} 1/2 sum_i omega_i (y_i - x_i w_t(i) - b_t(i))^2 + alpha ||W||_*

    by FISTA (the model of :class:`~skmtl.linear.TraceNormRegressor`). Same
    inputs and outputs as :func:`l21_path`.

    Parameters
    ----------
    X : array-like, sparse matrix or MultiTaskData
        Features, wide or long (with ``task_column``); or already validated data.
    Y : array-like
        Targets (wide: (n_samples, n_tasks) with NaN for missing; long: 1-D).
    alphas : array-like, optional
        Grid; sorted in decreasing order. Default: ``n_alphas`` values from
        :func:`trace_norm_alpha_max` down to ``eps`` times it on a log scale.
    n_alphas : int, default=100
    eps : float, default=1e-3
    sample_weight : array-like, optional
    fit_intercept : bool, default=True
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
    task_column : str or int, optional
    tol : float, default=1e-6
        Stop each fit when the duality gap is at most ``tol`` times the
        objective at ``W = 0``.
    max_iter : int, default=1000
        Maximum number of FISTA iterations per ``alpha``.
    return_intercept, return_n_iter : bool, default=False
    verbose : int, default=0
        Progress bar over the grid when positive.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_alphas, n_tasks, n_features)
    gaps : ndarray of shape (n_alphas,)
        Final duality gaps.
    intercepts : ndarray of shape (n_alphas, n_tasks)
        Only when ``return_intercept``.
    n_iters : ndarray of shape (n_alphas,)
        Only when ``return_n_iter``.
    """
    data = _as_data(X, Y, sample_weight, task_column)
    if alphas is None:
        amax = trace_norm_alpha_max(data, fit_intercept=fit_intercept, task_weight=task_weight)
        alphas = alpha_grid(amax, n_alphas, eps)
    else:
        alphas = descending_alphas(alphas)
    coefs, intercepts, n_iters, gaps = _trace_norm_path_data(
        data, alphas, fit_intercept=fit_intercept, task_weight=task_weight, tol=tol, max_iter=max_iter,
        warn=True, verbose=verbose, return_gaps=True)
    return _path_output(alphas, coefs, gaps, intercepts, n_iters, return_intercept, return_n_iter)
