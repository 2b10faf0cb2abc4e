"""Multi-task metrics on observed entries.

Every function takes targets and predictions in either shape: wide
``(n_samples, n_tasks)`` matrices where NaN in ``y_true`` marks an unobserved
entry, or long 1-D vectors with ``task`` giving each row's task.
"""

import numpy as np

__all__ = [
    "per_task_r2",
    "task_averaged_r2",
    "explained_variance_pooled",
    "normalized_mse",
    "arrmse",
    "per_task_accuracy",
]


def _long_form(y_true, y_pred, task):
    """Return (y_true, y_pred, task_index, n_tasks) over observed entries only."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}.")
    if task is None:
        if y_true.ndim == 1:
            y_true, y_pred = y_true[:, None], y_pred[:, None]
        if y_true.ndim != 2:
            raise ValueError(f"Wide targets must be 1-D or 2-D; got shape {y_true.shape}.")
        observed = ~_isnan(y_true)
        t_idx = np.nonzero(observed)[1]
        return y_true[observed], y_pred[observed], t_idx, y_true.shape[1]
    task = np.asarray(task)
    if task.shape != y_true.shape or y_true.ndim != 1:
        raise ValueError("With task labels, y_true, y_pred and task must be 1-D of equal length.")
    _, t_idx = np.unique(task, return_inverse=True)
    observed = ~_isnan(y_true)
    return y_true[observed], y_pred[observed], t_idx[observed], int(t_idx.max()) + 1 if len(t_idx) else 0


def _isnan(a):
    if a.dtype.kind == "f":
        return np.isnan(a)
    if a.dtype == object:
        return np.array([v is None or (isinstance(v, float) and v != v) for v in a.ravel()]).reshape(a.shape)
    return np.zeros(a.shape, dtype=bool)


def _task_sums(values, t_idx, n_tasks):
    return np.bincount(t_idx, weights=values, minlength=n_tasks)


def _observed_weights(y_true, task, sample_weight):
    """Sample weights aligned with the observed entries of ``_long_form``."""
    y_true = np.asarray(y_true)
    if sample_weight is None:
        return np.ones(int((~_isnan(y_true)).sum()))
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.shape != (y_true.shape[0],):
        raise ValueError(f"sample_weight must have shape ({y_true.shape[0]},); got {sw.shape}.")
    if task is None and y_true.ndim == 2:
        sw = np.broadcast_to(sw[:, None], y_true.shape)
    return sw[~_isnan(y_true)]


def per_task_r2(y_true, y_pred, task=None, sample_weight=None):
    """R^2 of each task on its observed entries, shape (n_tasks,).

    ``sample_weight`` (one weight per row) weights the sums of squares. A task
    whose observed targets are constant scores 1.0 when predicted exactly and
    0.0 otherwise (the scikit-learn convention).

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        True targets: wide (NaN marks an unobserved entry) or long with ``task``.
    y_pred : array-like of the shape of ``y_true``
        Predictions.
    task : array-like of shape (n_samples,), default=None
        Task label of each row (long input); None for wide input.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row.

    Returns
    -------
    r2 : ndarray of shape (n_tasks,)
        R^2 of each task, NaN for a task without observed entries.
    """
    yt, yp, t, T = _long_form(y_true, y_pred, task)
    yt = yt.astype(np.float64)
    yp = yp.astype(np.float64)
    w = _observed_weights(y_true, task, sample_weight)
    n = np.bincount(t, weights=w, minlength=T)
    mean = _task_sums(w * yt, t, T) / np.where(n > 0, n, 1)
    ss_res = _task_sums(w * (yt - yp) ** 2, t, T)
    ss_tot = _task_sums(w * (yt - mean[t]) ** 2, t, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    const = ss_tot == 0
    r2[const] = np.where(ss_res[const] == 0, 1.0, 0.0)
    r2[n == 0] = np.nan
    return r2


def task_averaged_r2(y_true, y_pred, task=None):
    """Mean over tasks of the per-task R^2 on observed entries.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        True targets: wide (NaN marks an unobserved entry) or long with ``task``.
    y_pred : array-like of the shape of ``y_true``
        Predictions.
    task : array-like of shape (n_samples,), default=None
        Task label of each row (long input); None for wide input.

    Returns
    -------
    score : float
        Mean of :func:`per_task_r2` over tasks with observed entries.
    """
    return float(np.nanmean(per_task_r2(y_true, y_pred, task)))


def explained_variance_pooled(y_true, y_pred, task=None):
    """``1 - MSE / Var(y)`` with both pooled over all observed entries.

    The measure used with the School data (Bakker & Heskes 2003; Argyriou et
    al. 2008), reported there as a percentage.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        True targets: wide (NaN marks an unobserved entry) or long with ``task``.
    y_pred : array-like of the shape of ``y_true``
        Predictions.
    task : array-like of shape (n_samples,), default=None
        Task label of each row (long input); None for wide input.

    Returns
    -------
    score : float
        Pooled explained variance (1 is a perfect fit).
    """
    yt, yp, _, _ = _long_form(y_true, y_pred, task)
    yt = yt.astype(np.float64)
    return float(1.0 - np.mean((yt - yp) ** 2) / np.var(yt))


def normalized_mse(y_true, y_pred, task=None):
    """Normalized MSE: per-task ``MSE_t / Var_t`` averaged with weights ``n_t``.

    This is MALSAR's ``nMSE``; lower is better and a constant prediction of each
    task's mean scores 1.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        True targets: wide (NaN marks an unobserved entry) or long with ``task``.
    y_pred : array-like of the shape of ``y_true``
        Predictions.
    task : array-like of shape (n_samples,), default=None
        Task label of each row (long input); None for wide input.

    Returns
    -------
    nmse : float
        The normalized mean squared error.
    """
    yt, yp, t, T = _long_form(y_true, y_pred, task)
    yt = yt.astype(np.float64)
    n = np.bincount(t, minlength=T).astype(np.float64)
    mean = _task_sums(yt, t, T) / np.maximum(n, 1)
    mse = _task_sums((yt - yp) ** 2, t, T) / np.maximum(n, 1)
    var = _task_sums((yt - mean[t]) ** 2, t, T) / np.maximum(n, 1)
    ok = (n > 0) & (var > 0)
    return float(np.sum(n[ok] * mse[ok] / var[ok]) / np.sum(n[ok]))


def arrmse(y_true, y_pred, task=None, y_train_mean=None):
    """Average relative root mean squared error over tasks (targets).

    ``aRRMSE = mean_t sqrt(sum_i (y_ti - yhat_ti)^2 / sum_i (y_ti - ybar_t)^2)``
    where ``ybar_t`` is the training mean of task ``t`` when ``y_train_mean``
    is given (the MULAN protocol) and the mean of ``y_true`` otherwise.
    Lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        True targets: wide (NaN marks an unobserved entry) or long with ``task``.
    y_pred : array-like of the shape of ``y_true``
        Predictions.
    task : array-like of shape (n_samples,), default=None
        Task label of each row (long input); None for wide input.
    y_train_mean : array-like of shape (n_tasks,), default=None
        Training mean of each task, in the order of the sorted task labels (or
        of the columns); None uses the mean of ``y_true``.

    Returns
    -------
    score : float
        The average relative root mean squared error.
    """
    yt, yp, t, T = _long_form(y_true, y_pred, task)
    yt = yt.astype(np.float64)
    n = np.bincount(t, minlength=T).astype(np.float64)
    if y_train_mean is None:
        mean = _task_sums(yt, t, T) / np.maximum(n, 1)
    else:
        mean = np.asarray(y_train_mean, dtype=np.float64)
    num = _task_sums((yt - yp) ** 2, t, T)
    den = _task_sums((yt - mean[t]) ** 2, t, T)
    ok = (n > 0) & (den > 0)
    return float(np.mean(np.sqrt(num[ok] / den[ok])))


def per_task_accuracy(y_true, y_pred, task=None, sample_weight=None):
    """Accuracy of each task on its observed entries, shape (n_tasks,).

    ``sample_weight`` (one weight per row) makes it the weighted share of
    correct labels of each task.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        True labels: wide (NaN marks an unobserved entry) or long with ``task``.
    y_pred : array-like of the shape of ``y_true``
        Predicted labels.
    task : array-like of shape (n_samples,), default=None
        Task label of each row (long input); None for wide input.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row.

    Returns
    -------
    accuracy : ndarray of shape (n_tasks,)
        Accuracy of each task, NaN for a task without observed entries.
    """
    yt, yp, t, T = _long_form(y_true, y_pred, task)
    hit = np.array([a == b for a, b in zip(yt, yp)], dtype=np.float64)
    w = _observed_weights(y_true, task, sample_weight)
    n = np.bincount(t, weights=w, minlength=T)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _task_sums(w * hit, t, T) / n
