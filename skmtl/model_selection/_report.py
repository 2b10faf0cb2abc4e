"""Per-task score tables."""

import numpy as np

from .._data import _targets_to_numpy
from ..metrics import _long_form, per_task_r2
from ._scorers import _task_labels

__all__ = ["per_task_scores"]


def _sums(values, t, T):
    return np.bincount(t, weights=values, minlength=T)


def _per_task_metrics(yt, yp, t, T):
    """Per-task arrays of the built-in metrics over observed entries."""
    n = np.bincount(t, minlength=T).astype(np.float64)
    safe_n = np.where(n > 0, n, np.nan)
    err = yt - yp
    mse = _sums(err**2, t, T) / safe_n
    mean = _sums(yt, t, T) / np.where(n > 0, n, 1)
    var = _sums((yt - mean[t]) ** 2, t, T) / safe_n
    with np.errstate(divide="ignore", invalid="ignore"):
        nmse = np.where(var > 0, mse / var, np.nan)
    return {
        "mse": lambda: mse,
        "rmse": lambda: np.sqrt(mse),
        "mae": lambda: _sums(np.abs(err), t, T) / safe_n,
        "nmse": lambda: nmse,
        "rrmse": lambda: np.sqrt(nmse),
    }


_BUILTIN = ("r2", "mse", "rmse", "mae", "nmse", "rrmse")


def per_task_scores(estimator, X, y, metrics=("r2", "mse", "rmse", "mae"), *, as_frame="auto"):
    """Score a fitted estimator task by task.

    Parameters
    ----------
    estimator : fitted estimator
        Has ``predict``; for long input also ``task_column``, from which the
        task labels are read in ``X``.
    X : array-like or DataFrame
        Input as given to ``predict``.
    y : array-like
        Wide (n_samples, n_tasks) targets with NaN for missing entries, or the
        1-D targets of long input (NaN entries are skipped too).
    metrics : sequence of str or callable, default=("r2", "mse", "rmse", "mae")
        Built-in names: ``"r2"`` (as :func:`skmtl.metrics.per_task_r2`),
        ``"mse"``, ``"rmse"``, ``"mae"``, ``"nmse"`` (MSE over the task's
        target variance) and ``"rrmse"`` (its square root). A callable
        ``f(y_true, y_pred)`` is applied to each task's observed entries and
        named by its ``__name__``.
    as_frame : "auto" or bool, default="auto"
        Return a pandas DataFrame (``"auto"``: when pandas is importable) or a
        dict of arrays.

    Returns
    -------
    scores : DataFrame or dict
        One row per task: index ``task`` (the task labels; for wide input the
        string columns of a ``y`` DataFrame, else the estimator's ``tasks_``;
        the sorted labels present in ``X`` for long input),
        column ``n_obs`` (observed targets) and one column per metric. A task
        without observed targets has NaN scores. As a dict: key ``"task"``
        holds the labels and every other key a column.
    """
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    task = _task_labels(estimator, X, "auto")
    y_pred = np.asarray(estimator.predict(X), dtype=np.float64)
    y_true, names = _targets_to_numpy(y)
    y_true = np.asarray(y_true, dtype=np.float64)
    if task is not None:
        y_true = y_true.ravel() if y_true.ndim == 2 and y_true.shape[1] == 1 else y_true
        labels = np.unique(task)
    else:
        if y_true.ndim == 2 and y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        T = y_true.shape[1] if y_true.ndim == 2 else 1
        fitted = getattr(estimator, "tasks_", None)
        if names is not None:
            labels = np.array(names, dtype=object)
        elif fitted is not None and getattr(estimator, "_layout", "wide") == "wide" and len(fitted) == T:
            labels = np.asarray(fitted)
        else:
            labels = np.arange(T)
    yt, yp, t, T = _long_form(y_true, y_pred, task)
    n_obs = np.bincount(t, minlength=T)
    builtin = _per_task_metrics(yt, yp, t, T)
    columns = {"n_obs": n_obs}
    for m in metrics:
        if callable(m):
            name = getattr(m, "__name__", "metric")
            values = np.full(T, np.nan)
            for k in np.flatnonzero(n_obs):
                values[k] = m(yt[t == k], yp[t == k])
        elif m == "r2":
            name, values = m, per_task_r2(y_true, y_pred, task)
        elif m in builtin:
            name, values = m, builtin[m]()
        else:
            raise ValueError(f"Unknown metric {m!r}; use one of {list(_BUILTIN)} or a callable f(y_true, y_pred).")
        if name in columns:
            raise ValueError(f"Metric {name!r} is listed twice.")
        columns[name] = values
    if as_frame == "auto":
        try:
            import pandas  # noqa: F401

            as_frame = True
        except ImportError:
            as_frame = False
    if as_frame:
        import pandas as pd

        return pd.DataFrame(columns, index=pd.Index(labels, name="task"))
    return {"task": labels, **columns}
