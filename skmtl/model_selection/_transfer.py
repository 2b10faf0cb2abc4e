"""Negative-transfer report: does sharing help every task?

For each task, the cross-validated score of a multi-task estimator is put
beside the no-sharing baseline (:class:`~skmtl.IndependentRegressor`, one model
per task) and the full-sharing baseline (:class:`~skmtl.PooledRegressor`). The
per-fold differences give a confidence interval; a task whose interval lies
entirely below zero against the per-task baseline suffers from negative
transfer: it would be better learnt alone.

Folds are fitted through joblib, so ``with joblib.parallel_backend("dask"):``
spreads them over a Dask cluster.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from .._data import _targets_to_numpy, split_task_column
from .._progress import progress
from ..baselines import IndependentRegressor, PooledRegressor

__all__ = ["transfer_report"]


def _take_rows(X, indices):
    """Rows ``indices`` of ``X``: ``.iloc`` for pandas, row indexing for sparse
    matrices and arrays, a list comprehension for other sequences."""
    indices = np.asarray(indices)
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    if sp.issparse(X):
        return X.tocsr()[indices] if X.format in ("coo", "dia", "bsr") else X[indices]
    if hasattr(X, "shape") or isinstance(X, np.ndarray):
        return X[indices]
    return [X[i] for i in indices]


# --------------------------------------------------------------------------
# per-task scores
# --------------------------------------------------------------------------


def _r2(y_true, y_pred):
    if len(y_true) < 2:
        return np.nan
    ss_tot = np.sum((y_true - y_true.mean()) ** 2)
    if ss_tot == 0:
        return np.nan
    return 1.0 - np.sum((y_true - y_pred) ** 2) / ss_tot


_SCORERS = {
    "r2": _r2,
    "neg_mean_squared_error": lambda t, p: -np.mean((t - p) ** 2),
    "neg_root_mean_squared_error": lambda t, p: -np.sqrt(np.mean((t - p) ** 2)),
    "neg_mean_absolute_error": lambda t, p: -np.mean(np.abs(t - p)),
}


def _required_positional(func):
    """Number of positional parameters without a default (None when it cannot be told)."""
    import inspect

    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds and p.default is inspect.Parameter.empty for p in sig.parameters.values())


def _from_scorer(scorer):
    """A scorer ``scorer(estimator, X, y)`` as a per-task ``score(y_true, y_pred)``.

    The scorer gets a stand-in fitted regressor whose ``predict`` returns the
    task's held-out predictions (the library's convention, as for ``scoring=``
    of the ``*CV`` estimators); ``X`` is an empty (n, 0) placeholder.
    """
    from ._scorers import _HeldOutPredictions

    def score(y_true, y_pred):
        if len(y_true) < 2:
            return np.nan
        return float(scorer(_HeldOutPredictions(y_pred), np.empty((len(y_true), 0)), y_true))

    return score


def _get_scorer(scoring):
    """Per-task ``score(y_true, y_pred)`` (higher is better) from ``scoring``."""
    if isinstance(scoring, str):
        if scoring in _SCORERS:
            return _SCORERS[scoring]
        from sklearn.metrics import get_scorer as sklearn_get_scorer

        from ._scorers import get_scorer as skmtl_get_scorer

        for get in (sklearn_get_scorer, skmtl_get_scorer):  # scikit-learn's meaning first ("explained_variance")
            try:
                return _from_scorer(get(scoring))
            except ValueError:
                pass
    elif callable(scoring):
        # the library's convention is scorer(estimator, X, y); a metric(y_true, y_pred) is accepted too
        return scoring if _required_positional(scoring) == 2 else _from_scorer(scoring)
    raise ValueError(
        f"scoring={scoring!r} is not supported; use a scikit-learn regression scorer name (e.g. "
        f"{sorted(_SCORERS)}), a skmtl scorer name (skmtl.model_selection.get_scorer_names()), a "
        f"scorer(estimator, X, y) (sklearn.metrics.make_scorer) or a metric(y_true, y_pred) -> float, "
        f"higher is better."
    )


# --------------------------------------------------------------------------
# input shapes and folds
# --------------------------------------------------------------------------


class _Problem:
    """Wide or long input seen as rows, tasks and per-row task labels."""

    def __init__(self, X, Y, task_column):
        self.X = X
        self.task_column = task_column
        if task_column is None:
            self.labels = None
            Yv, _ = _targets_to_numpy(Y)
            names = list(Y.columns) if hasattr(Y, "columns") else None
            Yv = np.asarray(Yv, dtype=np.float64)
            self.single = Yv.ndim == 1
            if self.single:
                Yv = Yv[:, None]
            if Yv.ndim != 2:
                raise ValueError(f"Y must be 1-D or 2-D (n_samples, n_tasks); got shape {Yv.shape}.")
            self.Y = Yv
            self.tasks = np.asarray(names if names is not None else np.arange(Yv.shape[1]))
            self.n_obs = (~np.isnan(Yv)).sum(axis=0)
        else:
            _, labels = split_task_column(X, task_column)
            self.labels = np.asarray(labels)
            yv = np.asarray(_targets_to_numpy(Y)[0], dtype=np.float64).ravel()
            self.Y = yv
            self.single = False
            self.tasks, codes = np.unique(self.labels, return_inverse=True)
            self.n_obs = np.bincount(codes[~np.isnan(yv)], minlength=len(self.tasks))
        n = self.Y.shape[0]
        if (X.shape[0] if hasattr(X, "shape") else len(X)) != n:
            raise ValueError(f"X has {X.shape[0]} rows but Y has {n}; they must be equal.")

    @property
    def n_tasks(self):
        return len(self.tasks)

    def y_for_fit(self, rows):
        Y = self.Y[rows]
        return Y[:, 0] if self.single else Y

    def split(self, cv):
        """List of (train, test) row indices."""
        if cv is None:
            cv = 5
        if isinstance(cv, numbers.Integral):
            if cv < 2:
                raise ValueError(f"cv must be at least 2 folds; got {cv}.")
            if self.labels is None:
                return list(KFold(cv, shuffle=True, random_state=0).split(self.Y))
            # folds within each task, so that every task is seen in training
            try:
                from ._split import TaskStratifiedKFold
            except ImportError:  # pragma: no cover - splitter not available
                splitter = StratifiedKFold(cv, shuffle=True, random_state=0)
                return list(splitter.split(np.zeros(len(self.labels)), self.labels))
            splitter = TaskStratifiedKFold(cv, shuffle=True, random_state=0, small_tasks="spread")
            return list(splitter.split(self.X, self.Y, groups=self.labels))
        if hasattr(cv, "split"):
            return list(cv.split(self.X, self.Y, groups=self.labels))
        return [(np.asarray(tr), np.asarray(te)) for tr, te in cv]

    def fold_scores(self, estimator, train, test, scorer):
        """Fit a clone on ``train`` and score each task on ``test``, shape (n_tasks,)."""
        est = clone(estimator)
        est.fit(_take_rows(self.X, train), self.y_for_fit(train))
        out = np.full(self.n_tasks, np.nan)
        if self.labels is None:
            P = np.asarray(est.predict(_take_rows(self.X, test)), dtype=np.float64)
            P = P.reshape(len(test), -1)
            Yte = self.Y[test]
            for t in range(self.n_tasks):
                obs = ~np.isnan(Yte[:, t])
                if obs.any():
                    out[t] = scorer(Yte[obs, t], P[obs, t])
            return out
        # long input: predict only the tasks seen in training
        known = np.isin(self.labels[test], np.unique(self.labels[train]))
        test = np.asarray(test)[known]
        if len(test) == 0:
            return out
        pred = np.asarray(est.predict(_take_rows(self.X, test)), dtype=np.float64).ravel()
        yte, lab = self.Y[test], self.labels[test]
        pos = np.searchsorted(self.tasks, lab)
        for t in np.unique(pos):
            m = (pos == t) & ~np.isnan(yte)
            if m.any():
                out[t] = scorer(yte[m], pred[m])
        return out


def _with_task_column(estimator, task_column):
    if task_column is not None and "task_column" in estimator.get_params(deep=False):
        return clone(estimator).set_params(task_column=task_column)
    return estimator


def cross_val_task_scores(models, X, Y, *, cv=5, task_column=None, scoring="r2", n_jobs=None, verbose=False):
    """Cross-validated per-task scores of several models on the same folds.

    Parameters
    ----------
    models : dict of str to estimator
        Unfitted estimators, fitted as clones on every training fold.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features (with the task column for long input).
    Y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        Wide targets (NaN = unobserved) or, with ``task_column``, 1-D targets.
    cv : int, cross-validation splitter or iterable, default=5
        An int gives shuffled ``KFold`` (wide) or folds stratified by task
        (long); a splitter's ``split`` gets ``groups`` = task labels.
    task_column : str or int, default=None
        Task column of ``X`` for long input; set on every model that has the
        parameter.
    scoring : str or callable, default="r2"
        Applied to each task's test entries (higher is better): a scikit-learn
        regression scorer name (``"r2"``, ``"neg_mean_squared_error"``,
        ``"neg_root_mean_squared_error"``, ``"neg_mean_absolute_error"``,
        ...), a skmtl scorer name (:func:`~skmtl.model_selection.get_scorer_names`), a scorer
        ``scorer(estimator, X, y)`` as for ``scoring=`` of the ``*CV``
        estimators (``sklearn.metrics.make_scorer``; it gets a stand-in whose
        ``predict`` returns the task's held-out predictions), or a metric
        ``score(y_true, y_pred) -> float``.
    n_jobs : int, default=None
        Folds run in parallel through joblib (any joblib backend, Dask included).
    verbose : bool, default=False
        Progress bar over the fits.

    Returns
    -------
    scores : dict of str to ndarray of shape (n_folds, n_tasks)
        NaN where a fold has too few test entries of a task.
    tasks : ndarray of shape (n_tasks,)
        Task labels.
    info : dict
        ``n_obs`` (observations per task) and ``test_train_ratio``.
    """
    problem = _Problem(X, Y, task_column)
    scorer = _get_scorer(scoring)
    folds = problem.split(cv)
    models = {name: _with_task_column(est, task_column) for name, est in models.items()}
    jobs = [(name, k) for name in models for k in range(len(folds))]
    calls = (
        delayed(problem.fold_scores)(models[name], folds[k][0], folds[k][1], scorer)
        for name, k in jobs
    )
    if verbose:
        gen = Parallel(n_jobs=n_jobs, return_as="generator")(calls)
        results = list(progress(gen, verbose, desc="cross-validation", total=len(jobs)))
    else:
        results = Parallel(n_jobs=n_jobs)(calls)
    scores = {name: np.empty((len(folds), problem.n_tasks)) for name in models}
    for (name, k), s in zip(jobs, results):
        scores[name][k] = s
    ratio = np.mean([len(te) for _, te in folds]) / np.mean([len(tr) for tr, _ in folds])
    return scores, problem.tasks, {"n_obs": problem.n_obs, "test_train_ratio": float(ratio)}


def _difference_ci(diff, ratio, confidence):
    """Mean, CI low, CI high of fold differences (Nadeau-Bengio corrected t)."""
    d = diff[~np.isnan(diff)]
    k = len(d)
    if k == 0:
        return np.nan, np.nan, np.nan
    mean = d.mean()
    if k < 2:
        return mean, np.nan, np.nan
    se = d.std(ddof=1) * np.sqrt(1.0 / k + ratio)
    half = stats.t.ppf(0.5 + confidence / 2.0, k - 1) * se
    return mean, mean - half, mean + half


def transfer_report(
    estimator,
    X,
    Y,
    *,
    cv=5,
    task_column=None,
    scoring="r2",
    n_jobs=None,
    baselines=None,
    confidence=0.95,
    verbose=False,
):
    """Per-task cross-validated comparison of a multi-task model with the baselines.

    For every task ``t`` and fold ``k`` the score ``s_k(model) - s_k(baseline)``
    is computed on the same folds. Its mean over folds is reported with a
    ``confidence`` interval from the corrected resampled t-test of Nadeau &
    Bengio (2003): ``se = sd * sqrt(1/K + n_test/n_train)``, which accounts for
    the overlap of training sets between folds. ``negative_transfer`` flags
    tasks whose interval against the per-task baseline (``"independent"``, or
    the first baseline) lies entirely below zero: sharing hurts them.

    Parameters
    ----------
    estimator : skmtl regressor
        The multi-task model (unfitted; clones are fitted on each fold).
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features; with ``task_column`` they hold the task column (long input).
    Y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        Wide targets with NaN for unobserved entries, or 1-D long targets.
    cv : int, cross-validation splitter or iterable, default=5
        An int gives shuffled ``KFold`` for wide input and folds stratified by
        task for long input. A splitter's ``split(X, Y, groups)`` receives the
        task labels as ``groups``.
    task_column : str or int, default=None
        Task column for long input; set on the estimator and the baselines
        when given (otherwise the estimator's own ``task_column`` is used).
    scoring : str or callable, default="r2"
        Per-task score, higher is better: a scikit-learn regression scorer
        name (``"r2"``, ``"neg_mean_squared_error"``, ``"neg_mean_absolute_error"``,
        ...), a skmtl scorer name (:func:`~skmtl.model_selection.get_scorer_names`),
        a scorer ``scorer(estimator, X, y)`` as for ``scoring=`` of the ``*CV``
        estimators (it gets a stand-in whose ``predict`` returns the task's
        held-out predictions), or a metric ``score(y_true, y_pred) -> float``.
    n_jobs : int, default=None
        Folds run through joblib; any backend works (``"dask"`` included).
    baselines : dict of str to estimator, default=None
        Models to compare with; ``{"independent": IndependentRegressor(),
        "pooled": PooledRegressor()}`` when None.
    confidence : float, default=0.95
        Level of the confidence intervals.
    verbose : bool, default=False
        Progress bar over the fits.

    Returns
    -------
    report : pandas.DataFrame
        One row per task (index: task label) with columns ``n_obs``,
        ``model`` (mean score of ``estimator``), one mean-score column per
        baseline, and per baseline ``diff_<name>``, ``ci_low_<name>``,
        ``ci_high_<name>``; then ``negative_transfer`` (bool).
        ``report.attrs`` holds ``fold_scores`` (dict of (n_folds, n_tasks)
        arrays), ``model_name``, ``baselines``, ``scoring`` and ``confidence``.

    Examples
    --------
    >>> from skmtl.model_selection import transfer_report
    >>> report = transfer_report(L21Regressor(alpha=0.1), X, Y, cv=5)  # doctest: +SKIP
    >>> report[report.negative_transfer]  # doctest: +SKIP
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}.")
    _require_pandas("transfer_report")
    if task_column is None:
        task_column = estimator.get_params(deep=False).get("task_column")
    if baselines is None:
        baselines = {"independent": IndependentRegressor(), "pooled": PooledRegressor()}
    if not baselines or "model" in baselines:
        raise ValueError("baselines must be a non-empty dict whose names differ from 'model'.")
    models = {"model": estimator, **baselines}
    scores, tasks, info = cross_val_task_scores(
        models, X, Y, cv=cv, task_column=task_column, scoring=scoring, n_jobs=n_jobs, verbose=verbose
    )
    return _build_report(
        scores,
        tasks,
        info,
        list(baselines),
        type(estimator).__name__,
        scoring if isinstance(scoring, str) else getattr(scoring, "__name__", "custom"),
        confidence,
    )


def _require_pandas(what):
    """Import pandas, or an ImportError that says how to install it."""
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(f"{what} needs pandas, an optional dependency: pip install skmtl[pandas]") from exc
    return pandas


def _build_report(scores, tasks, info, baselines, model_name, scoring, confidence):
    """The report DataFrame from fold scores (``scores["model"]`` and baselines)."""
    pd = _require_pandas("transfer_report")

    index = pd.Index(tasks, name="task")
    with _quiet_nanmean():
        report = pd.DataFrame({"n_obs": info["n_obs"]}, index=index)
        for name in ["model", *baselines]:
            report[name] = np.nanmean(scores[name], axis=0)
    for name in baselines:
        diff = scores["model"] - scores[name]
        cis = np.array([_difference_ci(diff[:, t], info["test_train_ratio"], confidence) for t in range(len(tasks))])
        report[f"diff_{name}"] = cis[:, 0]
        report[f"ci_low_{name}"] = cis[:, 1]
        report[f"ci_high_{name}"] = cis[:, 2]
    ref = "independent" if "independent" in baselines else baselines[0]
    report["negative_transfer"] = (report[f"ci_high_{ref}"] < 0).to_numpy()
    report.attrs.update(
        fold_scores={name: scores[name] for name in ["model", *baselines]},
        model_name=model_name,
        baselines=list(baselines),
        reference=ref,
        scoring=scoring,
        confidence=confidence,
    )
    return report


class _quiet_nanmean:
    """Silence 'Mean of empty slice' for tasks without any scored fold."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
