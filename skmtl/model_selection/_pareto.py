"""Task trade-offs: the Pareto front of per-task validation losses.

The joint multi-task loss is a weighted sum of per-task losses
``sum_t a_t L_t(W)``. Refitting over many weight vectors ``a`` on the simplex
traces how far one task's error can be lowered at the expense of the others;
the non-dominated points (no other fit is at least as good on every task and
better on one) form the Pareto front.
"""

import numbers

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import Bunch, check_random_state

from .._progress import progress
from ._transfer import _Problem, _take_rows, _with_task_column

__all__ = ["pareto_front", "is_pareto_efficient"]


_LOSSES = {
    "mse": lambda t, p: np.mean((t - p) ** 2),
    "mae": lambda t, p: np.mean(np.abs(t - p)),
    "rmse": lambda t, p: np.sqrt(np.mean((t - p) ** 2)),
}


def is_pareto_efficient(losses):
    """Mask of the non-dominated rows of ``losses`` (lower is better).

    Row ``i`` is dominated when some row ``j`` is ``<=`` on every column and
    ``<`` on one. Rows with NaN are never efficient.

    Parameters
    ----------
    losses : array-like of shape (n_points, n_objectives)

    Returns
    -------
    ndarray of shape (n_points,), bool
    """
    L = np.asarray(losses, dtype=np.float64)
    ok = ~np.isnan(L).any(axis=1)
    efficient = ok.copy()
    for i in np.flatnonzero(ok):
        others = L[ok]
        dominated = np.any(np.all(others <= L[i], axis=1) & np.any(others < L[i], axis=1))
        efficient[i] = not dominated
    return efficient


def _simplex_grid(n_tasks, n_weights, rng):
    """Task-weight vectors on the simplex, scaled to mean one."""
    if n_tasks == 1:
        return np.ones((1, 1))
    eps = 0.02
    if n_tasks == 2:
        a = np.linspace(eps, 1 - eps, n_weights)
        W = np.column_stack([a, 1 - a])
    else:
        corners = np.full((n_tasks, n_tasks), eps) + (1 - n_tasks * eps) * np.eye(n_tasks)
        W = [np.full(n_tasks, 1.0 / n_tasks), *corners]
        n_rand = max(n_weights - len(W), 0)
        if n_rand:
            W.extend(eps + (1 - n_tasks * eps) * rng.dirichlet(np.ones(n_tasks), n_rand))
        W = np.asarray(W)
    return W / W.mean(axis=1, keepdims=True)


def _fit_weighted(estimator, problem, weights, train, val, loss, mode):
    """Fit with task weights on ``train``; per-task losses on ``val``."""
    est = clone(estimator)
    X = problem.X
    if mode == "task_weight":
        est.set_params(task_weight=np.asarray(weights, dtype=np.float64))
        est.fit(_take_rows(X, train), problem.y_for_fit(train))
        Xval = _take_rows(X, val)
    elif problem.labels is not None:
        codes = np.searchsorted(problem.tasks, problem.labels)
        est.fit(_take_rows(X, train), problem.y_for_fit(train), sample_weight=weights[codes[train]])
        Xval = _take_rows(X, val)
    else:
        # wide input without task_weight: stack to long form, one row per observation
        Xd = np.asarray(X, dtype=np.float64)
        Y = problem.Y
        tr_rows, tr_tasks = np.nonzero(~np.isnan(Y[train]))
        Xl = np.column_stack([Xd[train][tr_rows], tr_tasks])
        est.set_params(task_column=Xd.shape[1])
        est.fit(Xl, Y[train][tr_rows, tr_tasks], sample_weight=weights[tr_tasks])
        va_rows, va_tasks = np.nonzero(~np.isnan(Y[val]))
        pred = np.asarray(est.predict(np.column_stack([Xd[val][va_rows], va_tasks])), dtype=np.float64)
        return _task_losses(problem, Y[val][va_rows, va_tasks], pred, va_tasks, loss)
    pred = np.asarray(est.predict(Xval), dtype=np.float64)
    if problem.labels is None:
        Yv = problem.Y[val]
        P = pred.reshape(len(val), -1)
        rows, tasks = np.nonzero(~np.isnan(Yv))
        return _task_losses(problem, Yv[rows, tasks], P[rows, tasks], tasks, loss)
    return _task_losses(problem, problem.Y[val], pred.ravel(), np.searchsorted(problem.tasks, problem.labels[val]), loss)


def _task_losses(problem, y_true, y_pred, codes, loss):
    out = np.full(problem.n_tasks, np.nan)
    obs = ~np.isnan(y_true)
    for t in range(problem.n_tasks):
        m = obs & (codes == t)
        if m.any():
            out[t] = loss(y_true[m], y_pred[m])
    return out


def pareto_front(
    estimator,
    X,
    Y,
    *,
    task_weights=None,
    n_weights=11,
    cv=None,
    validation_size=0.25,
    task_column=None,
    loss="mse",
    random_state=0,
    n_jobs=None,
    verbose=False,
):
    """Per-task validation losses over task-weight vectors and their Pareto front.

    Each weight vector ``a`` (one non-negative weight per task) reweights the
    tasks in the joint loss ``sum_t a_t L_t``. Estimators with a
    ``task_weight`` parameter receive ``a`` directly; for the others the
    observations of task ``t`` get ``sample_weight = a_t`` (wide input is
    then stacked to long form, which needs a ``task_column`` parameter).

    Parameters
    ----------
    estimator : skmtl regressor
        Unfitted model; clones are fitted for every weight vector and fold.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features (with the task column for long input).
    Y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        Wide targets (NaN = unobserved) or 1-D long targets.
    task_weights : array-like of shape (n_weights, n_tasks), default=None
        Weight vectors to fit. None: a grid on the simplex (two tasks) or the
        uniform vector, the near-corners and random Dirichlet draws (more
        tasks), ``n_weights`` in all, each scaled to mean one.
    n_weights : int, default=11
        Number of generated weight vectors when ``task_weights`` is None.
    cv : int, splitter or iterable, default=None
        Validation folds; losses are averaged over folds. None: one random
        split holding out ``validation_size`` of the rows (stratified by task
        for long input).
    validation_size : float, default=0.25
        Held-out fraction when ``cv`` is None.
    task_column : str or int, default=None
        Task column for long input (set on the estimator when given).
    loss : {"mse", "mae", "rmse"} or callable, default="mse"
        Per-task validation loss ``loss(y_true, y_pred)``, lower is better.
    random_state : int, RandomState or None, default=0
        Seeds the generated weights and the validation split.
    n_jobs : int, default=None
        Fits run through joblib (any backend, Dask included).
    verbose : bool, default=False
        Progress bar over the fits.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``losses`` (n_front, n_tasks) and ``task_weights`` (n_front, n_tasks):
        the non-dominated points, sorted by the first task's loss;
        ``all_losses``, ``all_task_weights`` and ``is_efficient`` for every
        fitted vector; ``tasks`` (labels) and ``mode`` (``"task_weight"`` or
        ``"sample_weight"``).
    """
    if task_column is None:
        task_column = estimator.get_params(deep=False).get("task_column")
    estimator = _with_task_column(estimator, task_column)
    problem = _Problem(X, Y, task_column)
    rng = check_random_state(random_state)
    T = problem.n_tasks
    if task_weights is None:
        W = _simplex_grid(T, n_weights, rng)
    else:
        W = np.asarray(task_weights, dtype=np.float64)
        if W.ndim != 2 or W.shape[1] != T or np.any(W < 0) or not np.all(np.isfinite(W)):
            raise ValueError(
                f"task_weights must be a non-negative array of shape (n_weights, {T}); got shape {W.shape}."
            )
    loss_fn = _LOSSES.get(loss, loss) if isinstance(loss, str) else loss
    if not callable(loss_fn):
        raise ValueError(f"loss={loss!r} is not supported; use one of {sorted(_LOSSES)} or a callable.")

    params = estimator.get_params(deep=False)
    if "task_weight" in params:
        mode = "task_weight"
    elif problem.labels is None and "task_column" not in params:
        raise ValueError(
            f"{type(estimator).__name__} has neither a task_weight nor a task_column parameter; "
            f"task weights cannot be applied to it on wide input."
        )
    else:
        mode = "sample_weight"

    if cv is None:
        n = len(problem.Y)
        if problem.labels is None:
            splitter = ShuffleSplit(1, test_size=validation_size, random_state=rng)
            folds = list(splitter.split(np.zeros(n)))
        else:
            splitter = StratifiedShuffleSplit(1, test_size=validation_size, random_state=rng)
            folds = list(splitter.split(np.zeros(n), problem.labels))
    elif isinstance(cv, numbers.Integral) or hasattr(cv, "split"):
        folds = problem.split(cv)
    else:
        folds = [(np.asarray(tr), np.asarray(te)) for tr, te in cv]

    jobs = [(i, k) for i in range(len(W)) for k in range(len(folds))]
    calls = (
        delayed(_fit_weighted)(estimator, problem, W[i], folds[k][0], folds[k][1], loss_fn, mode)
        for i, k in jobs
    )
    if verbose:
        gen = Parallel(n_jobs=n_jobs, return_as="generator")(calls)
        results = list(progress(gen, verbose, desc="pareto front", total=len(jobs)))
    else:
        results = Parallel(n_jobs=n_jobs)(calls)
    per_fold = np.empty((len(W), len(folds), T))
    for (i, k), r in zip(jobs, results):
        per_fold[i, k] = r
    all_losses = per_fold.mean(axis=1)
    efficient = is_pareto_efficient(all_losses)
    idx = np.flatnonzero(efficient)
    idx = idx[np.argsort(all_losses[idx, 0], kind="stable")]
    return Bunch(
        losses=all_losses[idx],
        task_weights=W[idx],
        all_losses=all_losses,
        all_task_weights=W,
        is_efficient=efficient,
        tasks=problem.tasks,
        mode=mode,
    )
