"""Cross-validation splitters that know about tasks.

Both splitters take task labels from ``groups`` when given, else from the
task column of ``X`` (``task_column``), the same column the estimators read.
"""

import numbers
from itertools import combinations
from math import comb

import numpy as np
from sklearn.model_selection import BaseCrossValidator, KFold
from sklearn.utils import check_random_state

from .._data import _check_labels, _unique_labels, split_task_column

__all__ = ["TaskStratifiedKFold", "LeaveTasksOut"]


def _num_samples(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _task_codes(X, groups, task_column, n_samples=None):
    """Task labels and codes of each row, or ``(None, None)`` when there are none."""
    if groups is not None:
        labels = np.asarray(groups)
        if labels.ndim != 1:
            raise ValueError(f"groups must be 1-D (one task label per row); got shape {labels.shape}.")
        if n_samples is not None and len(labels) != n_samples:
            raise ValueError(f"groups has {len(labels)} labels but X has {n_samples} rows.")
    elif task_column is not None:
        if X is None:
            raise ValueError("X is needed to read the task column.")
        _, labels = split_task_column(X, task_column)
    else:
        return None, None
    labels = _check_labels(labels)
    return _unique_labels(labels)


def _missing_targets(y, n_samples):
    """Rows whose 1-D target is NaN (all False when y is None or not 1-D float)."""
    if y is None:
        return np.zeros(n_samples, dtype=np.int64)
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1 or y.dtype.kind != "f" or len(y) != n_samples:
        return np.zeros(n_samples, dtype=np.int64)
    return np.isnan(y).astype(np.int64)


def _check_n_splits(n_splits, name="n_splits", minimum=2):
    if not isinstance(n_splits, numbers.Integral) or isinstance(n_splits, bool) or n_splits < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {n_splits!r}.")
    return int(n_splits)


class TaskStratifiedKFold(BaseCrossValidator):
    """K-fold cross-validation made within each task.

    For long input, the rows of each task are cut into ``n_splits`` contiguous
    parts (after an optional shuffle), and fold ``k`` tests the ``k``-th part
    of every task: each task appears in every test set and in every training
    set, in proportion to its size. When ``y`` is passed to :meth:`split`, the
    rows with a missing (NaN) target are split separately from the observed
    ones, so that every fold gets its share of each task's observed targets.
    Remainders are spread over the folds so that fold sizes differ by at most
    one row overall.

    For wide input (no ``groups`` and ``task_column=None``) the rows are
    shared by all tasks and the splitter behaves exactly like
    :class:`sklearn.model_selection.KFold`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle the rows of each task before cutting them into parts.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle; only used when ``shuffle=True``.
    task_column : str or int, default=None
        Column of ``X`` holding the task labels (a DataFrame column name or an
        integer position), as in the estimators. ``groups`` passed to
        :meth:`split` take precedence.
    small_tasks : {"raise", "spread"}, default="raise"
        What to do with a task that has fewer rows (with an observed target)
        than ``n_splits``.
        ``"raise"`` raises a ``ValueError`` naming those tasks. ``"spread"``
        puts each of its rows in the test set of a different fold (so the task
        is tested in as many folds as it has rows, and is absent from the other
        test sets); a task with a single row is never tested, so that every
        training set contains every task.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import TaskStratifiedKFold
    >>> task = np.repeat(["a", "b"], [4, 6])
    >>> cv = TaskStratifiedKFold(n_splits=2)
    >>> [task[test].tolist() for _, test in cv.split(np.zeros((10, 1)), groups=task)]
    [['a', 'a', 'b', 'b', 'b'], ['a', 'a', 'b', 'b', 'b']]
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None, task_column=None, small_tasks="raise"):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.task_column = task_column
        self.small_tasks = small_tasks

    def _check_params(self):
        n_splits = _check_n_splits(self.n_splits)
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False; got {self.shuffle!r}.")
        if not self.shuffle and self.random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False; "
                "leave random_state=None or set shuffle=True."
            )
        if self.small_tasks not in ("raise", "spread"):
            raise ValueError(f"small_tasks must be 'raise' or 'spread'; got {self.small_tasks!r}.")
        return n_splits

    def _fold_of_rows(self, X, y, groups):
        """Test fold of every row (-1: never tested), or None for wide input."""
        K = self._check_params()
        n = _num_samples(X)
        tasks, codes = _task_codes(X, groups, self.task_column, n)
        if codes is None:
            return None
        T = len(tasks)
        missing = _missing_targets(y, n)
        # strata: the observed rows of each task, then its rows without a target
        strata = codes + T * missing
        counts = np.bincount(strata, minlength=2 * T)
        small = np.flatnonzero(counts[:T] < K)
        if len(small) and self.small_tasks == "raise":
            labels = tasks[small[:10]].tolist()
            shown = ", ".join(f"{lab!r} ({counts[t]} rows)" for lab, t in zip(labels, small))
            raise ValueError(
                f"n_splits={K} is larger than the number of rows with an observed target "
                f"of task(s) {shown}{' ...' if len(small) > 10 else ''}. Lower n_splits, "
                f"drop those tasks, or set small_tasks='spread'."
            )
        rng = check_random_state(self.random_state) if self.shuffle else None
        fold = np.full(n, -1, dtype=np.int64)
        order = np.argsort(strata, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)])
        offset = 0  # next fold to receive an extra (remainder) row
        for s in range(2 * T):
            rows = order[starts[s] : starts[s + 1]]
            if rng is not None:
                rows = rng.permutation(rows)
            n_s = len(rows)
            if n_s == 1 and s < T:
                continue  # testing a task's only target would leave it out of training
            sizes = np.full(K, n_s // K, dtype=np.int64)
            sizes[(offset + np.arange(n_s % K)) % K] += 1
            offset = (offset + n_s % K) % K
            fold[rows] = np.repeat(np.arange(K), sizes)
        return fold

    def split(self, X, y=None, groups=None):
        """Generate train and test row indices.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)
            Input, with the task column for long input.
        y : array-like of shape (n_samples,), default=None
            Targets; for long input, rows with a NaN target are spread over
            the folds apart from the observed ones. Ignored for wide input.
        groups : array-like of shape (n_samples,), default=None
            Task label of each row; overrides ``task_column``.

        Yields
        ------
        train : ndarray
            Training row indices of the split.
        test : ndarray
            Test row indices of the split.
        """
        fold = self._fold_of_rows(X, y, groups)
        if fold is None:
            kfold = KFold(self.n_splits, shuffle=self.shuffle, random_state=self.random_state)
            yield from kfold.split(X)
            return
        for k in range(self.n_splits):
            test = fold == k
            yield np.flatnonzero(~test), np.flatnonzero(test)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits, ``n_splits``; the arguments are ignored."""
        return _check_n_splits(self.n_splits)


class LeaveTasksOut(BaseCrossValidator):
    """Leave the rows of whole tasks out: test how a model transfers to new tasks.

    Long input only (task labels from ``groups`` or the task column). Two
    schemes:

    * ``n_splits=None`` (default): every combination of ``n_tasks_out`` tasks
      is the test set once; with ``n_tasks_out=1`` this is leave-one-task-out
      (``LeaveOneGroupOut`` by task), in general ``C(n_tasks, n_tasks_out)``
      splits.
    * ``n_splits=k``: the tasks are partitioned into ``k`` disjoint groups of
      near-equal numbers of tasks (shuffled first when ``shuffle=True``), and
      each group is left out once (``GroupKFold`` by task); every task is then
      tested exactly once.

    The estimator must be able to predict tasks it did not see in training;
    skmtl estimators fitted on long input reject unknown task labels, so this
    splitter is for models of new tasks and custom evaluation loops.

    Parameters
    ----------
    n_tasks_out : int, default=None
        Number of tasks in each test set when ``n_splits`` is None (1 when
        both are None). Give ``n_tasks_out`` or ``n_splits``, not both.
    n_splits : int, default=None
        Number of groups of tasks, at least 2.
    shuffle : bool, default=False
        Shuffle the tasks before grouping them (``n_splits`` scheme only).
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle.
    task_column : str or int, default=None
        Column of ``X`` holding the task labels; ``groups`` take precedence.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import LeaveTasksOut
    >>> task = np.array([0, 0, 1, 1, 2, 2])
    >>> [test.tolist() for _, test in LeaveTasksOut().split(np.zeros((6, 1)), groups=task)]
    [[0, 1], [2, 3], [4, 5]]
    """

    __metadata_request__split = {"groups": True}

    def __init__(self, n_tasks_out=None, *, n_splits=None, shuffle=False, random_state=None, task_column=None):
        self.n_tasks_out = n_tasks_out
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.task_column = task_column

    def _check_params(self):
        if self.n_tasks_out is not None and self.n_splits is not None:
            raise ValueError("Give n_tasks_out (all combinations) or n_splits (a partition of the tasks), not both.")
        if self.n_splits is not None:
            _check_n_splits(self.n_splits)
        elif self.n_tasks_out is not None:
            _check_n_splits(self.n_tasks_out, "n_tasks_out", minimum=1)
        if not self.shuffle and self.random_state is not None:
            raise ValueError(
                "Setting a random_state has no effect since shuffle is False; "
                "leave random_state=None or set shuffle=True."
            )
        if self.shuffle and self.n_splits is None:
            raise ValueError("shuffle only applies to the n_splits scheme; set n_splits or shuffle=False.")

    def _codes(self, X, groups):
        self._check_params()
        n = None if X is None else _num_samples(X)
        tasks, codes = _task_codes(X, groups, self.task_column, n)
        if codes is None:
            raise ValueError(
                "LeaveTasksOut needs task labels: pass groups or set task_column. "
                "Wide input shares its rows between tasks, so leaving tasks out is not a row split."
            )
        T = len(tasks)
        k = self.n_splits if self.n_splits is not None else (self.n_tasks_out or 1)
        if self.n_splits is not None and k > T:
            raise ValueError(f"n_splits={k} is larger than the number of tasks ({T}).")
        if self.n_splits is None and k >= T:
            raise ValueError(
                f"n_tasks_out={k} leaves no task for training: there are only {T} tasks."
            )
        return T, codes

    def _test_task_sets(self, T):
        if self.n_splits is None:
            yield from combinations(range(T), self.n_tasks_out or 1)
            return
        order = np.arange(T)
        if self.shuffle:
            order = check_random_state(self.random_state).permutation(T)
        yield from np.array_split(order, self.n_splits)

    def split(self, X, y=None, groups=None):
        """Generate train and test row indices, the test set being whole tasks.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)
            Input, with the task column unless ``groups`` is given.
        y : array-like, default=None
            Ignored; present for API compatibility.
        groups : array-like of shape (n_samples,), default=None
            Task label of each row; overrides ``task_column``.

        Yields
        ------
        train : ndarray
            Rows of the tasks kept for training.
        test : ndarray
            Rows of the tasks left out.
        """
        T, codes = self._codes(X, groups)
        for out in self._test_task_sets(T):
            test = np.isin(codes, np.asarray(out))
            yield np.flatnonzero(~test), np.flatnonzero(test)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits.

        ``n_splits`` when set; otherwise ``C(n_tasks, n_tasks_out)``, which
        needs ``groups`` or ``X`` with its task column.
        """
        self._check_params()
        if self.n_splits is not None:
            return int(self.n_splits)
        if X is None and groups is None:
            raise ValueError("get_n_splits needs groups or X (with its task column) to count the tasks.")
        T, _ = self._codes(X, groups)
        return comb(T, self.n_tasks_out or 1)


def check_cv_splits(data, cv=5, groups=None, *, estimator_name=None):
    """List of ``(train_rows, test_rows)`` for the rows of a :class:`~skmtl._data.MultiTaskData`.

    The one place where skmtl's ``*CV`` estimators turn their ``cv`` into folds,
    with the conventions of scikit-learn's ``LassoCV`` and ``RidgeCV``.

    Parameters
    ----------
    data : MultiTaskData
        The validated fit input.
    cv : int, cross-validation splitter, iterable of splits or None, default=5
        An int is a number of folds (None means 5): ``KFold`` over the rows for
        wide input; for long input the rows of every task are split into
        ``cv`` consecutive blocks, so that every task is present in every fold.
        A splitter's ``split(X, y, groups)`` gets the task of each row as ``y``
        for long input and ``groups`` as given (``GroupKFold`` needs them). An
        iterable gives ``(train, test)`` row index arrays directly.
    groups : array-like of shape (n_samples,), default=None
        Group label of each row, passed to the splitter's ``split``; ignored
        for an int ``cv`` and for an iterable of splits.
    estimator_name : str, default=None
        Named in the error messages.

    Returns
    -------
    splits : list of (ndarray, ndarray)
    """
    who = f"{estimator_name}: " if estimator_name else ""
    n = data.n_samples
    if cv is None:
        cv = 5
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"{who}groups must have shape ({n},), one label per row of X; got {groups.shape}.")
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"{who}cv must be at least 2 folds; got cv={cv}.")
        if cv > n:
            raise ValueError(f"{who}cv={cv} folds is more than the {n} samples.")
        if data.layout == "wide":
            return list(KFold(cv).split(np.zeros((n, 1))))
        row_task = np.full(n, -1, dtype=np.int64)
        row_task[data.rows] = data.task_of_obs
        fold = np.empty(n, dtype=np.int64)
        # rows without an observed target are spread like the others
        for t in np.unique(row_task):
            idx = np.flatnonzero(row_task == t)
            fold[idx] = np.arange(len(idx)) * cv // max(len(idx), 1)
        all_rows = np.arange(n)
        return [(all_rows[fold != k], all_rows[fold == k]) for k in range(cv)]
    if callable(getattr(cv, "split", None)):
        y = None
        if data.layout == "long":
            y = np.full(n, -1, dtype=np.int64)
            y[data.rows] = data.task_of_obs
            if groups is None and isinstance(cv, TaskStratifiedKFold):
                groups = y  # its task labels (it would read them from a task column of X, not passed here)
        return [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(np.zeros((n, 1)), y, groups)]
    if isinstance(cv, (str, bytes)) or not hasattr(cv, "__iter__"):
        raise ValueError(
            f"{who}cv must be an int >= 2, a cross-validation splitter or an iterable of "
            f"(train, test) index arrays; got {cv!r}."
        )
    splits = []
    for split in cv:
        try:
            train, test = split
        except (TypeError, ValueError):
            raise ValueError(f"{who}cv must yield (train, test) pairs of row indices; got {split!r}.") from None
        train, test = np.asarray(train), np.asarray(test)
        if train.dtype == bool:
            train = np.flatnonzero(train)
        if test.dtype == bool:
            test = np.flatnonzero(test)
        for part in (train, test):
            if part.size and (part.dtype.kind not in "iu" or part.min() < 0 or part.max() >= n):
                raise ValueError(f"{who}cv splits must hold row indices in [0, {n}); got {part!r}.")
        splits.append((train, test))
    if not splits:
        raise ValueError(f"{who}cv gave no split.")
    return splits
