"""The one data layer: wide or long multi-task input in, one internal form out.

Two input shapes are accepted by every skmtl estimator:

* **wide**: ``X`` of shape (n_samples, n_features) and ``Y`` of shape
  (n_samples, n_tasks); ``NaN`` in ``Y`` marks a target that was not observed.
  A 1-D ``y`` is a single task.
* **long**: ``X`` carries a task column (``task_column`` names it: a column
  name for a DataFrame, an integer position for an array) and ``y`` is 1-D;
  each row belongs to the task its label names.

Both become a :class:`MultiTaskData`: the feature matrix, and for every task
the rows of ``X`` it observes with their targets and sample weights, stored
task after task (a CSR-like layout over tasks). Solvers work on that form
only, so wide and long input of the same data give the same fit.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import validate_data

__all__ = ["MultiTaskData", "validate_fit_data", "validate_predict_data"]


def _take_rows(X, rows):
    """``X[rows]``, keeping a dense Fortran-ordered ``X`` Fortran-ordered (the
    solvers' layout: one copy per cross-validation fold instead of two)."""
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.flags.f_contiguous and not X.flags.c_contiguous:
        from ._rows import take_rows_fortran  # Numba: loaded on first use, not on `import skmtl`

        return take_rows_fortran(X, rows)
    return X[rows]


@dataclass
class MultiTaskData:
    """Multi-task observations in one internal form.

    Attributes
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        Feature matrix, float64 or float32, all entries finite.
    y : ndarray of shape (n_obs,)
        Observed targets, task after task (float, or int class codes for
        classification).
    rows : ndarray of shape (n_obs,), int64
        Row of ``X`` for each observation.
    task_ptr : ndarray of shape (n_tasks + 1,), int64
        Observations of task ``t`` are ``slice(task_ptr[t], task_ptr[t + 1])``.
    sample_weight : ndarray of shape (n_obs,), float64
        Sample weight of each observation (ones when none was given).
    tasks : ndarray of shape (n_tasks,)
        Task labels in the order of ``task_ptr``.
    layout : {"wide", "long"}
        The shape the input came in.
    complete : bool
        True when every task observes every row of ``X`` in order (wide input
        without NaN): the tasks then share one design and ``Y`` is available.
    """

    X: object
    y: np.ndarray
    rows: np.ndarray
    task_ptr: np.ndarray
    sample_weight: np.ndarray
    tasks: np.ndarray
    layout: str
    complete: bool

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_tasks(self):
        return len(self.task_ptr) - 1

    @property
    def n_obs(self):
        return len(self.y)

    @property
    def task_of_obs(self):
        """Task index of each observation, shape (n_obs,)."""
        return np.repeat(np.arange(self.n_tasks), np.diff(self.task_ptr))

    def task_slice(self, t):
        """Slice of the observations of task ``t``."""
        return slice(self.task_ptr[t], self.task_ptr[t + 1])

    @property
    def Y(self):
        """Targets as an (n_samples, n_tasks) matrix; only when ``complete``."""
        if not self.complete:
            raise ValueError("Y is only defined when every task observes every row.")
        return self.y.reshape(self.n_tasks, self.n_samples).T

    @property
    def unit_weights(self):
        """True when every sample weight is one."""
        return bool(np.all(self.sample_weight == 1.0))

    def observation_weights(self, task_weight=None):
        """Weights ``omega`` of each observation in the datafit.

        The squared-loss datafit is ``1/2 sum_i omega_i (y_i - x_i w_t - b_t)^2``.
        With ``task_weight=None`` every observation counts in proportion to its
        sample weight and the weights sum to ``n_tasks``; on complete wide input
        without sample weights ``omega_i = 1 / n_samples``, which is the
        scikit-learn scaling ``1 / (2 n) ||Y - XW||_F^2``. An array ``a`` of
        shape (n_tasks,) multiplies each task's share by ``a_t``;
        ``"balanced"`` makes every task's weights sum to one whatever its
        number of samples.
        """
        sw = self.sample_weight
        T = self.n_tasks
        # bincount, not reduceat: a task may be empty in a cross-validation fold
        task_sum = np.bincount(self.task_of_obs, weights=sw, minlength=T)
        if isinstance(task_weight, str):
            if task_weight != "balanced":
                raise ValueError(
                    f"task_weight must be None, 'balanced' or an array of shape "
                    f"({T},); got {task_weight!r}."
                )
            return sw / np.repeat(np.where(task_sum > 0, task_sum, 1.0), np.diff(self.task_ptr))
        omega = sw * (T / sw.sum())
        if task_weight is not None:
            a = np.asarray(task_weight, dtype=np.float64)
            if a.shape != (T,) or not np.all(np.isfinite(a)) or np.any(a < 0):
                raise ValueError(
                    f"task_weight must be 'balanced' or a non-negative finite array "
                    f"of shape ({T},) (one weight per task); got shape {a.shape}."
                )
            omega = omega * np.repeat(a, np.diff(self.task_ptr))
        return omega

    def subset_rows(self, row_indices):
        """The observations on the given rows of ``X``, with ``X`` cut to those rows.

        Used by cross-validation: folds are sets of rows in both layouts. Every
        task is kept, so a task may be left with no observation; solvers must
        accept that (its weights are then driven by the penalty alone).
        """
        row_indices = np.asarray(row_indices, dtype=np.int64)
        new_pos = np.full(self.n_samples, -1, dtype=np.int64)
        new_pos[row_indices] = np.arange(len(row_indices))
        keep = new_pos[self.rows] >= 0
        counts = np.bincount(self.task_of_obs[keep], minlength=self.n_tasks).astype(np.int64)
        # reduceat returns the element itself for empty segments; fix those
        counts[np.diff(self.task_ptr) == 0] = 0
        sub_rows = new_pos[self.rows[keep]]
        complete = self.complete and bool(np.all(np.diff(row_indices) > 0))
        return MultiTaskData(
            X=_take_rows(self.X, row_indices),
            y=self.y[keep],
            rows=sub_rows,
            task_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            sample_weight=self.sample_weight[keep],
            tasks=self.tasks,
            layout=self.layout,
            complete=complete,
        )

    def task_data(self, t):
        """Rows of ``X``, targets and sample weights of task ``t``."""
        s = self.task_slice(t)
        return self.X[self.rows[s]], self.y[s], self.sample_weight[s]


# --------------------------------------------------------------------------
# input shapes
# --------------------------------------------------------------------------


def _is_dataframe(X):
    return hasattr(X, "columns") and hasattr(X, "iloc")


def split_task_column(X, task_column):
    """Separate the task column from the features.

    Returns
    -------
    features : array-like or DataFrame
        ``X`` without the task column.
    labels : ndarray of shape (n_samples,)
        Task label of each row.
    """
    if _is_dataframe(X):
        if task_column in X.columns:
            name = task_column
        elif isinstance(task_column, (int, np.integer)) and 0 <= task_column < X.shape[1]:
            name = X.columns[task_column]
        else:
            raise ValueError(
                f"task_column={task_column!r} is not a column of X; "
                f"columns are {list(X.columns)}."
            )
        return X.drop(columns=[name]), X[name].to_numpy()
    if not isinstance(task_column, (int, np.integer)) or isinstance(task_column, bool):
        raise ValueError(
            f"task_column={task_column!r}: for an array X the task column must be an "
            f"integer position; column names need a pandas DataFrame."
        )
    if sp.issparse(X):
        X = sp.csc_matrix(X)
        n_cols = X.shape[1]
        if not -n_cols <= task_column < n_cols:
            raise ValueError(
                f"task_column={task_column} is out of range for X with {n_cols} columns."
            )
        col = task_column % n_cols
        labels = X[:, col].toarray().ravel()
        keep = np.delete(np.arange(n_cols), col)
        return X[:, keep], labels
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features + task column); got shape {X.shape}."
        )
    n_cols = X.shape[1]
    if not -n_cols <= task_column < n_cols:
        raise ValueError(
            f"task_column={task_column} is out of range for X with {n_cols} columns."
        )
    col = task_column % n_cols
    return np.delete(X, col, axis=1), X[:, col]


def _check_labels(labels):
    labels = np.asarray(labels)
    if labels.dtype.kind == "f" and np.any(np.isnan(labels)):
        raise ValueError("The task column contains missing labels (NaN); every row needs a task.")
    if labels.dtype == object:
        if any(lab is None or (isinstance(lab, float) and np.isnan(lab)) for lab in labels):
            raise ValueError("The task column contains missing labels (None/NaN); every row needs a task.")
    return labels


def _unique_labels(labels):
    try:
        return np.unique(labels, return_inverse=True)
    except TypeError as exc:
        raise ValueError(
            "Task labels must be all numbers or all strings; got a mix of types."
        ) from exc


# --------------------------------------------------------------------------
# features
# --------------------------------------------------------------------------


# dtype kinds that are never features: complex, datetime, timedelta, str, bytes
_BAD_KINDS = {"c": "complex", "M": "datetime", "m": "timedelta", "U": "string", "S": "bytes"}


def _non_numeric_columns(X):
    """Names of the DataFrame columns that are neither numeric nor boolean."""
    out = []
    for name, dt in X.dtypes.items():
        kind = getattr(dt, "kind", "O")
        if kind not in "biuf" or str(dt) == "category":
            out.append(name)
    return out


def _check_feature_dtype(X):
    if _is_dataframe(X):
        bad = {name: _BAD_KINDS[dt.kind] for name, dt in X.dtypes.items() if getattr(dt, "kind", "O") in _BAD_KINDS}
        if bad:
            shown = ", ".join(f"{name!r} ({kind})" for name, kind in bad.items())
            prefix = "Complex data not supported: " if "complex" in bad.values() else ""
            raise ValueError(
                f"{prefix}X must contain only real numeric features; column(s) {shown} are not. Encode "
                f"or convert them before fitting."
            )
        return
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    if kind in _BAD_KINDS:
        # scikit-learn's wording for complex input, which its estimator checks match
        prefix = "Complex data not supported: " if kind == "c" else ""
        raise ValueError(
            f"{prefix}X must contain only real numeric features; got an array of "
            f"{_BAD_KINDS[kind]} dtype ({X.dtype}). Convert it to float before fitting."
        )


def _check_features(estimator, X, *, reset, accept_sparse, dtype):
    names = list(X.columns) if _is_dataframe(X) else None
    _check_feature_dtype(X)
    try:
        X = validate_data(
            estimator,
            X,
            reset=reset,
            accept_sparse=accept_sparse,
            dtype=dtype,
            ensure_all_finite=False,
            ensure_min_samples=1,
        )
    except ValueError as exc:
        msg = str(exc)
        if "could not convert" in msg or "Unable to convert" in msg or "dtype" in msg.lower() and "object" in msg.lower():
            cols = _non_numeric_columns(X) if names is not None else []
            where = f" (non-numeric column(s) {cols})" if cols else ""
            raise ValueError(
                f"X must contain only numeric features{where}; {msg}. Encode categorical "
                f"columns (e.g. with OneHotEncoder) before fitting."
            ) from exc
        raise
    _check_finite_features(X, names)
    return X


def _check_finite_features(X, names=None):
    """Raise naming the columns of ``X`` with NaN or inf: by name for a
    DataFrame (``names``, its columns), by position otherwise."""
    if sp.issparse(X):
        bad = ~np.isfinite(X.data)
        if not bad.any():
            return
        coo = X.tocoo()
        cols = np.unique(coo.col[~np.isfinite(coo.data)])
    else:
        finite = np.isfinite(X)
        if finite.all():
            return
        cols = np.flatnonzero(~finite.all(axis=0))
    if names is not None and len(names) == X.shape[1]:
        where = "column(s) "
        shown = [names[c] for c in cols[:10]]
    else:
        where = "column(s) at position(s) "
        shown = [int(c) for c in cols[:10]]
    shown = repr(shown) if len(cols) <= 10 else repr(shown)[:-1] + f", ...] ({len(cols)} columns)"
    raise ValueError(
        f"X contains NaN or infinity in {where}{shown}; impute or drop them before "
        f"fitting (missing values are allowed in the targets only)."
    )


# --------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------


def _missing_mask(Y):
    if Y.dtype.kind == "f":
        return np.isnan(Y)
    if Y.dtype == object:
        return np.vectorize(
            lambda v: v is None or (isinstance(v, float) and np.isnan(v)), otypes=[bool]
        )(Y) if Y.size else np.zeros(Y.shape, dtype=bool)
    return np.zeros(Y.shape, dtype=bool)


def _as_float_targets(values, what):
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numeric for a regressor; {exc}.") from exc
    if np.any(np.isinf(out)):
        raise ValueError(f"{what} contains inf; targets must be finite (NaN marks a missing target).")
    return out


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return np.ones(n_samples)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        return np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), one weight per row of X; "
            f"got shape {sw.shape}."
        )
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if n_samples and not np.any(sw > 0):
        raise ValueError("sample_weight is zero for every sample; at least one weight must be positive.")
    return sw


def validate_fit_data(
    estimator,
    X,
    y,
    sample_weight=None,
    *,
    task_column=None,
    accept_sparse=False,
    dtype=(np.float64,),
    classification=False,
):
    """Validate fit input of either shape and return a :class:`MultiTaskData`.

    Sets on ``estimator``: ``n_features_in_``, ``feature_names_in_`` (when X
    has string column names), ``tasks_``, ``n_tasks_``, and the private
    ``_layout`` and ``_single_output`` used by ``predict``. For classifiers
    (``classification=True``) the returned ``y`` holds integer class codes per
    task and ``classes_`` is set (an array for one task, a list for several).

    The caller's arrays are never modified.
    """
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None.")
    dtype = list(dtype)
    if task_column is None:
        features, labels = X, None
    else:
        if _is_dataframe(X) or sp.issparse(X):
            features, labels = split_task_column(X, task_column)
        else:
            features, labels = split_task_column(np.asarray(X, dtype=object) if _has_strings(X) else X, task_column)
    Xv = _check_features(estimator, features, reset=True, accept_sparse=accept_sparse, dtype=dtype)
    n = Xv.shape[0]
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    Y = np.asarray(y)
    if Y.shape[0] != n if Y.ndim else True:
        raise ValueError(
            f"X has {n} rows but y has {Y.shape[0] if Y.ndim else 0}; they must be equal."
        )
    sw = _check_sample_weight(sample_weight, n)

    if labels is None:
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
            single = True
        elif Y.ndim == 2:
            single = False
        else:
            raise ValueError(f"Y must be 1-D or 2-D (n_samples, n_tasks); got shape {Y.shape}.")
        if Y.shape[1] == 0:
            raise ValueError("Y has no task columns (shape (n, 0)).")
        missing = _missing_mask(Y)
        observed = ~missing
        n_obs_task = observed.sum(axis=0)
        empty = np.flatnonzero(n_obs_task == 0)
        if len(empty):
            raise ValueError(
                f"Task(s) {empty.tolist()} have no observed target (every entry of their "
                f"column in Y is NaN); drop them or provide targets."
            )
        tasks = np.arange(Y.shape[1])
        obs_t, obs_i = np.nonzero(observed.T)  # task-major
        values = Y.T[observed.T]
        rows = obs_i.astype(np.int64)
        task_ptr = np.concatenate([[0], np.cumsum(n_obs_task)]).astype(np.int64)
        complete = not missing.any()
        layout = "wide"
    else:
        labels = _check_labels(labels)
        if Y.ndim != 1:
            if Y.ndim == 2 and Y.shape[1] == 1:
                Y = Y.ravel()
            else:
                raise ValueError(
                    f"With task_column, y must be 1-D (one target per row); got shape {Y.shape}."
                )
        missing = _missing_mask(Y)
        tasks, codes = _unique_labels(labels)
        n_obs_task = np.bincount(codes[~missing], minlength=len(tasks))
        empty = np.flatnonzero(n_obs_task == 0)
        if len(empty):
            raise ValueError(
                f"Task(s) {tasks[empty].tolist()} have no observed target (all their y are "
                f"NaN); drop those rows or provide targets."
            )
        keep = np.flatnonzero(~missing)
        order = keep[np.argsort(codes[keep], kind="stable")]
        rows = order.astype(np.int64)
        values = Y[order]
        task_ptr = np.concatenate([[0], np.cumsum(n_obs_task)]).astype(np.int64)
        complete = False
        single = False
        layout = "long"

    if classification:
        values, classes = _encode_classes(values, task_ptr)
        estimator.classes_ = classes[0] if single else classes
    else:
        values = _as_float_targets(values, "y")

    estimator.tasks_ = tasks
    estimator.n_tasks_ = len(tasks)
    estimator._layout = layout
    estimator._single_output = single
    return MultiTaskData(
        X=Xv,
        y=values,
        rows=rows,
        task_ptr=task_ptr,
        sample_weight=sw[rows],
        tasks=tasks,
        layout=layout,
        complete=complete,
    )


def _has_strings(X):
    if isinstance(X, np.ndarray):
        return X.dtype.kind in "OUS"
    return False


def _encode_classes(values, task_ptr):
    codes = np.empty(len(values), dtype=np.int64)
    classes = []
    for t in range(len(task_ptr) - 1):
        s = slice(task_ptr[t], task_ptr[t + 1])
        vals = values[s]
        if vals.dtype == object and all(isinstance(v, (int, float, np.number)) for v in vals):
            vals = vals.astype(np.float64)
        if type_of_target(vals) in ("continuous", "continuous-multioutput"):
            raise ValueError(
                f"Unknown label type: continuous targets for task {t}; a classifier needs "
                f"class labels (use a regressor for continuous targets)."
            )
        try:
            cls, codes[s] = np.unique(values[s], return_inverse=True)
        except TypeError as exc:
            raise ValueError(f"Labels of task {t} mix types; use all numbers or all strings.") from exc
        classes.append(cls)
    return codes, classes


def validate_predict_data(estimator, X, *, task_column=None, accept_sparse=False, dtype=(np.float64,)):
    """Validate predict input against what ``estimator`` was fitted on.

    Returns
    -------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    task_codes : ndarray of shape (n_samples,) or None
        Index into ``estimator.tasks_`` of each row's task (long input), or
        None for wide input.
    """
    labels = None
    if estimator._layout == "long":
        if task_column is None:
            raise ValueError("This estimator was fitted on long input; set task_column as at fit.")
        if _is_dataframe(X) or sp.issparse(X):
            X, labels = split_task_column(X, task_column)
        else:
            X, labels = split_task_column(np.asarray(X, dtype=object) if _has_strings(X) else X, task_column)
    Xv = _check_features(estimator, X, reset=False, accept_sparse=accept_sparse, dtype=list(dtype))
    if labels is None:
        return Xv, None
    labels = _check_labels(labels)
    tasks = estimator.tasks_
    try:
        pos = np.searchsorted(tasks, labels)
    except TypeError as exc:
        raise ValueError("Task labels at predict have a different type from those seen in fit.") from exc
    pos = np.clip(pos, 0, len(tasks) - 1)
    unknown = tasks[pos] != labels
    if np.any(unknown):
        bad = list(dict.fromkeys(np.asarray(labels)[unknown].tolist()))
        shown = ", ".join(map(repr, bad[:10])) + (" ..." if len(bad) > 10 else "")
        raise ValueError(
            f"Unknown task label(s) at predict: {shown}. The model was fitted on tasks "
            f"{tasks.tolist()[:20]}{' ...' if len(tasks) > 20 else ''}."
        )
    return Xv, pos.astype(np.int64)
