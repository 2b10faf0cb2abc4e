"""Pieces shared by the Bayesian multi-task regressors.

* :class:`_Scaler`: the global standardization the models work in and the
  affine map that takes augmented weights ``[w, b]`` back to the user's units;
* :func:`_task_moments`: per-task sufficient statistics of a linear-Gaussian
  likelihood, ``A_t = X_t^T Omega_t X_t``, ``c_t = X_t^T Omega_t y_t``,
  ``yy_t = y_t^T Omega_t y_t`` and the weight total ``W_t``;
* :class:`_PredictiveRegressorMixin`: ``predict(X, return_std=False)`` in
  both layouts, and long input whose task labels were not seen at fit.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._data import _check_features, _check_labels, _has_strings, _is_dataframe, split_task_column


class _Scaler:
    """Global standardization ``z = (x - x_mean) / x_scale``, ``u = (y - y_mean) / y_scale``.

    Means and scales are taken over the observations (a row of ``X`` counts
    once per task observing it), weighted by the sample weights.

    Weights ``v`` (length ``p + 1``, last entry the intercept) fitted on the
    standardized, augmented features ``[z, 1]`` map back to the original units
    as ``w = M v + y_mean e_{p+1}``, with ``M`` returned by :meth:`weight_map`.
    """

    def __init__(self, X, y, weights):
        X = np.asarray(X, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64) / np.sum(weights)
        self.x_mean = w @ X
        sd = np.sqrt(w @ (X - self.x_mean) ** 2)
        self.x_scale = np.where(sd > 1e-12 * np.maximum(1.0, np.abs(self.x_mean)), sd, 1.0)
        self.y_mean = float(w @ y)
        ys = float(np.sqrt(w @ (y - self.y_mean) ** 2))
        self.y_scale = ys if ys > 0 else 1.0

    def transform_X(self, X):
        return (np.asarray(X, dtype=np.float64) - self.x_mean) / self.x_scale

    def augment(self, X):
        Z = self.transform_X(X)
        return np.hstack([Z, np.ones((Z.shape[0], 1))])

    def transform_y(self, y):
        return (np.asarray(y, dtype=np.float64) - self.y_mean) / self.y_scale

    def weight_map(self):
        p = len(self.x_mean)
        M = np.zeros((p + 1, p + 1))
        M[np.arange(p), np.arange(p)] = self.y_scale / self.x_scale
        M[p, :p] = -self.y_scale * self.x_mean / self.x_scale
        M[p, p] = self.y_scale
        return M

    def offset(self):
        e = np.zeros(len(self.x_mean) + 1)
        e[-1] = self.y_mean
        return e


def _task_moments(Z, u, task_ptr, weights):
    """Per-task ``A_t``, ``c_t``, ``yy_t`` and ``W_t`` for rows ``Z`` (stored task after task)."""
    T = len(task_ptr) - 1
    d = Z.shape[1]
    A = np.zeros((T, d, d))
    c = np.zeros((T, d))
    yy = np.zeros(T)
    W = np.zeros(T)
    for t in range(T):
        s = slice(task_ptr[t], task_ptr[t + 1])
        Zt, ut, wt = Z[s], u[s], weights[s]
        Zw = Zt * wt[:, None]
        A[t] = Zw.T @ Zt
        c[t] = Zw.T @ ut
        yy[t] = wt @ (ut * ut)
        W[t] = wt.sum()
    return A, c, yy, W


def _drop_zero_weights(data):
    """Observation indices with a positive sample weight, and the matching task_ptr."""
    keep = data.sample_weight > 0
    if keep.all():
        return np.arange(data.n_obs), data.task_ptr
    counts = np.array([keep[data.task_slice(t)].sum() for t in range(data.n_tasks)])
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return np.flatnonzero(keep), ptr


def _quad_rows(Xa, C):
    """``x_i^T C x_i`` for each row of ``Xa`` (C of shape (d, d))."""
    return np.einsum("ij,jk,ik->i", Xa, C, Xa)


class _PredictiveRegressorMixin:
    """``predict(X, return_std=False)`` for models with a Gaussian predictive.

    Subclasses implement ``_predict_dist(X, task_codes)`` returning the
    predictive mean and variance, (n, n_tasks) when ``task_codes`` is None and
    one value per row otherwise. With ``_allow_unseen_tasks = True``, long
    input may carry task labels not seen at fit: their code is ``-1`` and the
    subclass predicts them from the population prior.
    """

    _allow_unseen_tasks = False

    def _validate_predict(self, X):
        check_is_fitted(self, "tasks_")
        if not (self._allow_unseen_tasks and self._layout == "long"):
            return super()._validate_predict(X)
        task_column = getattr(self, "task_column", None)
        if task_column is None:
            raise ValueError("This estimator was fitted on long input; set task_column as at fit.")
        if _is_dataframe(X):
            feats, labels = split_task_column(X, task_column)
        else:
            feats, labels = split_task_column(np.asarray(X, dtype=object) if _has_strings(X) else X, task_column)
        Xv = _check_features(self, feats, reset=False, accept_sparse=False, dtype=list(self._fit_dtypes))
        labels = _check_labels(labels)
        tasks = self.tasks_
        try:
            pos = np.clip(np.searchsorted(tasks, labels), 0, len(tasks) - 1)
        except TypeError as exc:
            raise ValueError("Task labels at predict have a different type from those seen in fit.") from exc
        codes = pos.astype(np.int64)
        codes[tasks[pos] != labels] = -1
        return Xv, codes

    def _predict_tasks(self, X, task_codes):
        return self._predict_dist(X, task_codes)[0]

    def predict(self, X, return_std=False):
        """Predictive mean (and standard deviation) of every task or of each row's task.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.
        return_std : bool, default=False
            Also return the standard deviation of the predictive distribution
            of a new observation (posterior uncertainty plus noise).

        Returns
        -------
        y_mean : ndarray of shape (n_samples, n_tasks) or (n_samples,)
        y_std : ndarray of the same shape, only when ``return_std=True``
        """
        X, codes = self._validate_predict(X)
        mean, var = self._predict_dist(X, codes)
        if not return_std:
            return self._format_output(mean)
        return self._format_output(mean), self._format_output(np.sqrt(np.maximum(var, 0.0)))
