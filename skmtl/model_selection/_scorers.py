"""Multi-task scorers for ``scoring=`` in scikit-learn's model selection tools.

A scorer is a callable ``scorer(estimator, X, y)`` returning a float where
greater is better. It calls ``estimator.predict(X)``; for long input it reads
the task labels from the task column of ``X`` (``estimator.task_column``) so
that per-task metrics are computed task by task. Missing targets (NaN) in
wide ``y`` are skipped.
"""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from .._data import split_task_column
from ..metrics import arrmse, explained_variance_pooled, normalized_mse, per_task_r2, task_averaged_r2

__all__ = [
    "make_task_scorer",
    "task_r2_scorer",
    "explained_variance_scorer",
    "neg_nmse_scorer",
    "neg_arrmse_scorer",
    "get_scorer",
    "get_scorer_names",
]


def _task_labels(estimator, X, task_column):
    """Task label of each row of ``X`` for long input, None for wide input."""
    if task_column == "auto":
        task_column = getattr(estimator, "task_column", None)
    if task_column is None:
        return None
    _, labels = split_task_column(X, task_column)
    return labels


class _TaskScorer:
    """Callable scorer around a metric ``metric(y_true, y_pred, task)``."""

    def __init__(self, metric, sign, task_column, name):
        self._metric = metric
        self._sign = sign
        self._task_column = task_column
        self._name = name

    def __call__(self, estimator, X, y_true, sample_weight=None):
        """Score ``estimator`` on ``X`` against ``y_true``.

        Parameters
        ----------
        estimator : fitted estimator
            Has ``predict``; for long input also ``task_column``.
        X : array-like or DataFrame
            Input as given to ``predict``.
        y_true : array-like
            Wide (n_samples, n_tasks) with NaN for missing targets, or 1-D.
        sample_weight : None
            Not supported; must be None.

        Returns
        -------
        score : float
            The metric, negated when lower is better.
        """
        if sample_weight is not None:
            raise ValueError(f"The {self._name} scorer does not support sample_weight.")
        task = _task_labels(estimator, X, self._task_column)
        y_pred = np.asarray(estimator.predict(X))
        if hasattr(y_true, "to_numpy"):
            y_true = y_true.to_numpy()
        y_true = np.asarray(y_true, dtype=np.float64)
        if task is not None:
            y_true = y_true.ravel() if y_true.ndim == 2 and y_true.shape[1] == 1 else y_true
        elif y_true.ndim == 2 and y_pred.ndim == 1 and y_true.shape[1] == 1:
            y_pred = y_pred[:, None]
        return self._sign * float(self._metric(y_true, y_pred.astype(np.float64), task))

    def __repr__(self):
        return f"<skmtl scorer {self._name!r}>"


def make_task_scorer(metric, *, greater_is_better=True, task_column="auto", name=None):
    """Make a multi-task scorer from a metric.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_pred, task)`` with the conventions of
        :mod:`skmtl.metrics`: wide matrices with NaN for missing targets when
        ``task`` is None, else 1-D vectors and the task label of each row.
    greater_is_better : bool, default=True
        When False the scorer returns ``-metric`` (like scikit-learn's
        ``neg_*`` scorers), so that greater is always better.
    task_column : "auto", str, int or None, default="auto"
        Where the task labels are in ``X``: ``"auto"`` reads
        ``estimator.task_column``; None forces wide input.
    name : str, default=None
        Name shown in messages; the metric's ``__name__`` when None.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` returning a float.
    """
    if not callable(metric):
        raise TypeError(f"metric must be callable; got {metric!r}.")
    name = name or getattr(metric, "__name__", "custom")
    return _TaskScorer(metric, 1.0 if greater_is_better else -1.0, task_column, name)


task_r2_scorer = make_task_scorer(task_averaged_r2, name="task_r2")
task_r2_scorer.__doc__ = "Mean over tasks of the per-task R^2."
explained_variance_scorer = make_task_scorer(explained_variance_pooled, name="explained_variance")
neg_nmse_scorer = make_task_scorer(normalized_mse, greater_is_better=False, name="neg_nmse")
neg_arrmse_scorer = make_task_scorer(arrmse, greater_is_better=False, name="neg_arrmse")

_SCORERS = {
    "task_r2": task_r2_scorer,
    "explained_variance": explained_variance_scorer,
    "neg_nmse": neg_nmse_scorer,
    "neg_arrmse": neg_arrmse_scorer,
}


def get_scorer_names():
    """Names accepted by :func:`get_scorer`.

    Returns
    -------
    names : list of str
    """
    return sorted(_SCORERS)


def get_scorer(scoring):
    """Get a multi-task scorer by name.

    Parameters
    ----------
    scoring : str or callable
        One of ``"task_r2"`` (mean per-task R^2), ``"explained_variance"``
        (pooled over all observed targets), ``"neg_nmse"`` (negative
        normalized MSE) and ``"neg_arrmse"`` (negative average relative RMSE).
        A callable is returned unchanged.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``, usable as ``scoring=`` in ``GridSearchCV``
        and ``cross_val_score``.
    """
    if callable(scoring):
        return scoring
    try:
        return _SCORERS[scoring]
    except (KeyError, TypeError):
        raise ValueError(
            f"{scoring!r} is not a skmtl scorer; use one of {get_scorer_names()} "
            f"or a callable scorer(estimator, X, y)."
        ) from None


# --------------------------------------------------------------------------
# ``scoring`` of skmtl's *CV estimators
# --------------------------------------------------------------------------

# scikit-learn scorer names that make sense for held-out multi-task regression
_CV_METRIC_NAMES = ("r2", "neg_mean_squared_error", "neg_mean_absolute_error")


class _HeldOutPredictions(RegressorMixin, BaseEstimator):
    """Stand-in fitted regressor whose ``predict`` returns given predictions.

    Lets a scorer ``scorer(estimator, X, y)`` score one point of a
    regularization path without a fitted model for it.
    """

    def __init__(self, predictions=None):
        self.predictions = predictions

    def predict(self, X):
        return self.predictions


def _held_out_problem(data):
    """``(X, y, wide)`` of held-out data as a user would pass them to ``predict``/``score``."""
    import scipy.sparse as sp

    if data.layout == "wide":
        Y = np.full((data.n_samples, data.n_tasks), np.nan)
        Y[data.rows, data.task_of_obs] = data.y
        return data.X, Y, True
    X = sp.csr_matrix(data.X)[data.rows] if sp.issparse(data.X) else np.asarray(data.X)[data.rows]
    return X, np.asarray(data.y, dtype=np.float64), False


class HeldOutScorer:
    """``scoring`` of a ``*CV`` estimator turned into scores of held-out predictions.

    ``scorer(data, pred, task_weight)`` with ``data`` the held-out
    :class:`~skmtl._data.MultiTaskData` and ``pred`` of shape (n_obs, n_points)
    returns the score of every column of ``pred`` (greater is better).
    """

    def __init__(self, scoring):
        self.scoring = scoring

    def __call__(self, data, pred, task_weight=None):
        pred = np.asarray(pred, dtype=np.float64)
        A = pred.shape[1]
        if data.n_obs == 0:
            return np.full(A, np.nan)
        y = np.asarray(data.y, dtype=np.float64)
        task = data.task_of_obs
        s = self.scoring
        if s is None or s in ("neg_mean_squared_error", "neg_mean_absolute_error"):
            w = data.observation_weights(task_weight)
            if w.sum() == 0:
                w = np.ones_like(w)
            diff = pred - y[:, None]
            err = np.abs(diff) if s == "neg_mean_absolute_error" else diff ** 2
            return -(w @ err) / w.sum()
        if s == "r2":
            return np.array([np.nanmean(per_task_r2(y, pred[:, a], task, data.sample_weight)) for a in range(A)])
        if isinstance(s, _TaskScorer):
            return np.array([s._sign * float(s._metric(y, pred[:, a], task)) for a in range(A)])
        X, Y, wide = _held_out_problem(data)
        out = np.empty(A)
        for a in range(A):
            if wide:
                P = np.full(Y.shape, np.nan)
                P[data.rows, task] = pred[:, a]
            else:
                P = pred[:, a]
            out[a] = float(s(_HeldOutPredictions(P), X, Y))
        return out


def check_cv_scoring(scoring, estimator_name):
    """Validate the ``scoring`` of a ``*CV`` estimator; returns a :class:`HeldOutScorer`.

    The scoring convention of skmtl (greater is better, as in scikit-learn):

    - None: the held-out mean squared error weighted as in the datafit
      (``sample_weight`` and ``task_weight``), negated;
    - a scikit-learn scorer name for regression: ``"r2"`` (mean over tasks of
      the per-task R^2, sample-weighted), ``"neg_mean_squared_error"`` (as
      None), ``"neg_mean_absolute_error"`` (weighted as None);
    - a skmtl scorer name (:func:`get_scorer_names`: ``"task_r2"``,
      ``"explained_variance"``, ``"neg_nmse"``, ``"neg_arrmse"``) or a skmtl
      scorer (:func:`get_scorer`, :func:`make_task_scorer`): its metric on the
      held-out observations, task by task;
    - any other callable ``scorer(estimator, X, y)`` (``sklearn.metrics.make_scorer``):
      called with a stand-in estimator whose ``predict`` gives the held-out
      predictions; ``X`` and ``y`` are the held-out rows, wide (NaN where a
      target is missing) or long (1-D, one row per observation).
    """
    if scoring is None or callable(scoring):
        return HeldOutScorer(scoring)
    if isinstance(scoring, str):
        if scoring in _CV_METRIC_NAMES:
            return HeldOutScorer(scoring)
        if scoring in _SCORERS:
            return HeldOutScorer(_SCORERS[scoring])
    raise ValueError(
        f"{estimator_name}: scoring={scoring!r} is not supported; use None, one of "
        f"{list(_CV_METRIC_NAMES)} (scikit-learn's names), one of {get_scorer_names()} "
        f"(skmtl's multi-task scorers) or a callable scorer(estimator, X, y) -> float, greater is better."
    )
