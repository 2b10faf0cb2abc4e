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

DataFrames: the task names of a wide ``Y`` DataFrame with string columns
become ``tasks_``; pandas nullable targets (``Float64``, ``Int64``,
``boolean`` with ``pd.NA``) and polars nulls are missing targets, like NaN;
polars frames are read column by column (``to_numpy``, no pyarrow needed)
and polars is never imported here.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import validate_data

__all__ = ["MultiTaskData", "TaskColumnWarning", "validate_fit_data", "validate_predict_data"]


class TaskColumnWarning(UserWarning):
    """A column of ``X`` looks like the task identifier of long-format data.

    Emitted by ``fit`` when no ``task_column`` is set, the targets are 1-D and
    a column of dense ``X`` is coded like a task label: its values are exactly
    the consecutive integers ``0 .. k-1`` or ``1 .. k`` (every one present)
    with ``k >= 3`` and ``k`` at most 5% of the rows, or it is a pandas
    ``category`` column. The estimator then fits that column as a numeric
    feature and sees a single task. Pass ``task_column`` if the column
    identifies the task; silence the warning
    (``warnings.filterwarnings("ignore", category=TaskColumnWarning)``) if it
    is a genuine feature.
    """


def _take_rows(X, rows):
    """``X[rows]``, keeping a dense Fortran-ordered ``X`` Fortran-ordered (the
    solvers' layout: one copy per cross-validation fold instead of two); a
    design (:mod:`skmtl._design`) is restricted without being read."""
    if hasattr(X, "take_rows"):
        return X.take_rows(rows)
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


def _is_polars(obj):
    """True for a polars DataFrame or Series (checked by module: polars is never imported)."""
    return type(obj).__module__.split(".", 1)[0] == "polars"


def _from_polars(X):
    """A polars DataFrame as a pandas DataFrame with the same column names.

    Read column by column with ``Series.to_numpy`` (``DataFrame.to_pandas``
    needs pyarrow); nulls of numeric columns become NaN. Any other input, or
    a polars frame when pandas is absent (then scikit-learn reads it as an
    array with its column names), is returned unchanged.
    """
    if not (_is_polars(X) and hasattr(X, "get_column")):
        return X
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is installed with every extra
        return X
    return pd.DataFrame({name: X.get_column(name).to_numpy() for name in X.columns})


def _targets_to_numpy(y):
    """Targets as a numpy array, and the task names of a wide DataFrame ``y``.

    pandas nullable columns (``Float64``, ``Int64``, ``boolean``, ...) become
    their numpy dtype, or float64 with NaN where they hold ``pd.NA``: a missing
    target, like NaN. polars Series and DataFrames go through ``to_numpy``
    (nulls of numeric columns become NaN). ``names`` is the list of column
    names of a 2-D DataFrame whose names are all strings, else None (the
    scikit-learn rule for ``feature_names_in_``).
    """
    names = None
    cols = getattr(y, "columns", None)
    if cols is not None and getattr(y, "ndim", 2) == 2:
        cols = list(cols)
        if cols and all(isinstance(c, str) for c in cols):
            names = cols
    if not hasattr(y, "to_numpy"):
        return np.asarray(y), names
    if _is_polars(y):
        return np.asarray(y.to_numpy()), names
    dtypes = list(y.dtypes) if hasattr(y, "dtypes") and getattr(y, "ndim", 1) == 2 else [y.dtype]
    masked = [dt for dt in dtypes if not isinstance(dt, np.dtype) and getattr(dt, "kind", "O") in "biuf"]
    if masked and all(getattr(dt, "kind", "O") in "biuf" for dt in dtypes):
        if np.asarray(y.isna()).any():
            return y.to_numpy(dtype=np.float64, na_value=np.nan), names
        numpy_dtypes = [getattr(dt, "numpy_dtype", dt) for dt in dtypes]
        return y.to_numpy(dtype=np.result_type(*numpy_dtypes)), names
    return y.to_numpy(), names


def split_task_column(X, task_column):
    """Separate the task column from the features.

    Returns
    -------
    features : array-like or DataFrame
        ``X`` without the task column.
    labels : ndarray of shape (n_samples,)
        Task label of each row.
    """
    X = _from_polars(X)
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
            f"integer position; column names need a pandas or polars DataFrame."
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
        if any(_is_missing_value(lab) for lab in labels):
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


def _non_numeric_positions(X):
    """Positions of the columns of a 2-D array that do not convert to float."""
    X = np.asarray(X)
    if X.ndim != 2 or X.dtype.kind not in "OUS":
        return []
    out = []
    for j in range(X.shape[1]):
        try:
            X[:, j].astype(np.float64)
        except (TypeError, ValueError):
            out.append(j)
    return out


def _task_column_hint(cols):
    """The sentence that points at ``task_column`` for non-numeric columns ``cols``."""
    if not cols:
        return ""
    which = "this column identifies" if len(cols) == 1 else "one of these columns identifies"
    return f" If {which} the task, pass task_column={cols[0]!r}."


def _check_feature_dtype(X, hint=False):
    """Raise on feature dtypes that are never numeric; ``hint`` adds the task_column advice."""
    if _is_dataframe(X):
        bad = {name: _BAD_KINDS[dt.kind] for name, dt in X.dtypes.items() if getattr(dt, "kind", "O") in _BAD_KINDS}
        if bad:
            shown = ", ".join(f"{name!r} ({kind})" for name, kind in bad.items())
            prefix = "Complex data not supported: " if "complex" in bad.values() else ""
            advice = _task_column_hint([n for n, k in bad.items() if k in ("string", "bytes")]) if hint else ""
            raise ValueError(
                f"{prefix}X must contain only real numeric features; column(s) {shown} are not. Encode "
                f"or convert them before fitting.{advice}"
            )
        return
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    if kind in _BAD_KINDS:
        # scikit-learn's wording for complex input, which its estimator checks match
        prefix = "Complex data not supported: " if kind == "c" else ""
        advice = _task_column_hint(_non_numeric_positions(X)) if hint and kind in "US" else ""
        raise ValueError(
            f"{prefix}X must contain only real numeric features; got an array of "
            f"{_BAD_KINDS[kind]} dtype ({X.dtype}). Convert it to float before fitting.{advice}"
        )


def _check_nullable_features(estimator, X):
    """Raise naming the estimator and the columns when pandas nullable features hold ``pd.NA``.

    Nullable columns without missing values (``Int64``, ``boolean``, ``Float64``)
    are converted to float by ``validate_data`` like any numeric column.
    """
    bad = [
        (name, dt) for name, dt in X.dtypes.items()
        if not isinstance(dt, np.dtype) and getattr(dt, "kind", "O") in "biuf" and bool(X[name].isna().any())
    ]
    if bad:
        shown = ", ".join(f"{name!r} ({dt})" for name, dt in bad)
        raise ValueError(
            f"{type(estimator).__name__} does not accept missing values in X: nullable column(s) "
            f"{shown} contain pd.NA. Impute or drop them before fitting (missing values are "
            f"allowed in the targets only)."
        )


def _check_features(estimator, X, *, reset, accept_sparse, dtype, task_hint=False):
    """Validate the feature matrix (DataFrame, polars DataFrame, array or sparse).

    ``task_hint`` (fit without ``task_column``): errors about non-numeric
    columns also say to pass ``task_column`` if such a column is the task.
    """
    X = _from_polars(X)
    names = list(X.columns) if _is_dataframe(X) else None
    _check_feature_dtype(X, hint=task_hint)
    if names is not None:
        _check_nullable_features(estimator, X)
    try:
        Xv = validate_data(
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
            cols = _non_numeric_columns(X) if names is not None else _non_numeric_positions(X)
            where = f" (non-numeric column(s) {cols})" if cols else ""
            advice = _task_column_hint(cols) if task_hint else ""
            raise ValueError(
                f"X must contain only numeric features{where}; {msg}. Encode categorical "
                f"columns (e.g. with OneHotEncoder) before fitting.{advice}"
            ) from exc
        raise
    _check_finite_features(Xv, names)
    return Xv


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


def _is_missing_value(v):
    """None, NaN or pandas' ``pd.NA`` (recognised by type name: pandas is optional)."""
    return v is None or (isinstance(v, float) and np.isnan(v)) or type(v).__name__ == "NAType"


def _missing_mask(Y):
    if Y.dtype.kind == "f":
        return np.isnan(Y)
    if Y.dtype == object:
        return np.vectorize(_is_missing_value, otypes=[bool])(Y) if Y.size else np.zeros(Y.shape, dtype=bool)
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

    ``tasks_`` holds the task labels: the sorted labels of the task column for
    long input; for wide input the column names of a ``Y`` DataFrame whose
    names are all strings (an object array, in column order), else
    ``0 .. n_tasks - 1``.

    Long data passed without ``task_column`` is pointed out: a non-numeric
    column in ``X`` raises an error that names it and suggests
    ``task_column``, and a :class:`TaskColumnWarning` is emitted when the
    targets are 1-D and a column of dense ``X`` looks like an integer task
    identifier. The rule is conservative, so ordinary features (continuous
    values, 0/1 dummies, counts starting above 1, rare levels) stay quiet: a
    column warns when its values are exactly the consecutive integers
    ``0 .. k-1`` or ``1 .. k`` (every one present) with ``k >= 3`` and
    ``k <= 5%`` of the rows (at least 20 rows per value on average), or when
    it is a pandas ``category`` column. Only the first such column is named.

    The caller's arrays are never modified.
    """
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None.")
    dtype = list(dtype)
    design = _fit_design(estimator, X, task_column)
    if design is not None:
        features, labels = design, None
    elif task_column is None:
        features, labels = _from_polars(X), None
    else:
        if _is_dataframe(X) or sp.issparse(X):
            features, labels = split_task_column(X, task_column)
        else:
            features, labels = split_task_column(np.asarray(X, dtype=object) if _has_strings(X) else X, task_column)
    hint = design is None and task_column is None and _has_task_column_param(estimator)
    if design is not None:
        Xv = design
    else:
        Xv = _check_features(estimator, features, reset=True, accept_sparse=accept_sparse, dtype=dtype,
                             task_hint=hint)
    n = Xv.shape[0]
    Y, task_names = _targets_to_numpy(y)
    if Y.shape[0] != n if Y.ndim else True:
        raise ValueError(
            f"X has {n} rows but y has {Y.shape[0] if Y.ndim else 0}; they must be equal."
        )
    sw = _check_sample_weight(sample_weight, n)
    if hint and Y.ndim == 1:
        _warn_task_like_column(estimator, features, Xv)

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
        tasks = np.array(task_names, dtype=object) if task_names is not None else np.arange(Y.shape[1])
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


def _fit_design(estimator, X, task_column):
    """``X`` as a :class:`~skmtl._design.ColumnDesign` when the estimator streams it, else None.

    Estimators with ``_accept_design = True`` (the L2,1 family) take designs,
    numpy memmaps, zarr and dask arrays without loading them; a design given to
    another estimator, or with long input, is refused with the reason.
    """
    from ._design import as_design, is_design

    accepts = getattr(estimator, "_accept_design", False)
    if not accepts:
        if is_design(X):
            raise TypeError(
                f"{type(estimator).__name__} needs X in memory; {type(X).__name__} is read by blocks and "
                f"is taken by the L2,1 estimators (L21Regressor, L21RegressorCV, l21_path). "
                f"Take the columns you need with X.take(cols).")
        return None
    design = as_design(X)
    if design is None:
        return None
    if task_column is not None:
        raise ValueError(f"{type(estimator).__name__}: a {type(X).__name__} takes wide targets "
                         f"(one column per task), not long input with task_column.")
    if design.n_samples < 1 or design.n_features < 1:
        raise ValueError(f"{type(estimator).__name__}: X of shape {design.shape} is empty.")
    estimator.n_features_in_ = design.n_features
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    return design


def _predict_design(estimator, X):
    """``X`` as a design at predict when the estimator streams and ``X`` is one (else None)."""
    if not getattr(estimator, "_accept_design", False):
        return None
    from ._design import as_design

    design = as_design(X)
    if design is not None and design.n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {design.n_features} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input.")
    return design


def _has_task_column_param(estimator):
    get_params = getattr(estimator, "get_params", None)
    return get_params is not None and "task_column" in get_params(deep=False)


#: A column warns as a task identifier only with at least this many distinct values ...
_TASK_LIKE_MIN_VALUES = 3
#: ... and at most this fraction of the rows as distinct values.
_TASK_LIKE_MAX_FRACTION = 0.05


def _task_like_columns(X):
    """Positions of the columns of dense ``X`` whose values are exactly ``0..k-1``
    or ``1..k``, with ``3 <= k <= 5%`` of the rows (the rule of
    :func:`validate_fit_data`). Min and max screen every column without a copy;
    only the few candidates are checked value by value."""
    if sp.issparse(X) or not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[0] == 0:
        return []
    n = X.shape[0]
    k_max = int(_TASK_LIKE_MAX_FRACTION * n)
    if k_max < _TASK_LIKE_MIN_VALUES:
        return []
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = hi - lo + 1
    cand = np.flatnonzero(((lo == 0) | (lo == 1)) & (span >= _TASK_LIKE_MIN_VALUES) & (span <= k_max))
    out = []
    for j in cand:
        col = X[:, j]
        if not np.all(col == np.round(col)):
            continue
        if len(np.unique(col)) == int(span[j]):  # every integer of lo..hi present
            out.append(int(j))
    return out


def _warn_task_like_column(estimator, features, Xv):
    """Emit :class:`TaskColumnWarning` for the first column that looks like a task id."""
    names = list(features.columns) if _is_dataframe(features) else None
    if names is not None:
        categorical = [name for name, dt in features.dtypes.items() if str(dt) == "category"]
        if categorical:
            name = categorical[0]
            warnings.warn(
                f"Column {name!r} of X is categorical and y is 1-D: {type(estimator).__name__} fits its "
                f"codes as a numeric feature. If it identifies the task of each row (long-format "
                f"data), pass task_column={name!r}; otherwise one-hot encode it.",
                TaskColumnWarning,
                stacklevel=5,
            )
            return
    cols = _task_like_columns(Xv)
    if not cols:
        return
    j = cols[0]
    col = names[j] if names is not None and len(names) == Xv.shape[1] else j
    lo, hi = int(Xv[:, j].min()), int(Xv[:, j].max())
    warnings.warn(
        f"Column {col!r} of X looks like a task identifier: it takes only the consecutive "
        f"integers {lo}..{hi} ({hi - lo + 1} values over {Xv.shape[0]} rows) and y is 1-D, so "
        f"{type(estimator).__name__} fits it as a numeric feature of a single task. If it "
        f"identifies the task of each row (long-format data), pass task_column={col!r}.",
        TaskColumnWarning,
        stacklevel=5,
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
    design = _predict_design(estimator, X) if estimator._layout == "wide" else None
    if design is not None:
        return design, None
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
