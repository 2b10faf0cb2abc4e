"""Synthetic multi-task regression problems with known task structure."""

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_multitask_regression"]

_STRUCTURES = ("row_sparse", "low_rank", "clustered", "mean", "graph", "independent")


def _check_int(value, name, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _check_float(value, name, low, high=np.inf, high_open=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and low <= value
    ok = ok and (value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must be a number in [{low}, {high}{bracket}; got {value!r}.")
    return float(value)


def _row_sparse_coef(rng, T, p, n_informative, shared_fraction):
    n_shared = int(round(shared_fraction * n_informative))
    perm = rng.permutation(p)
    shared = perm[:n_shared]
    rest = perm[n_shared:]
    coef = np.zeros((T, p))
    support = np.zeros((T, p), dtype=bool)
    support[:, shared] = True
    n_own = n_informative - n_shared
    for t in range(T):
        support[t, rng.choice(rest, size=n_own, replace=False)] = True
    coef[support] = rng.standard_normal(int(support.sum()))
    return coef, support


def _random_tree(rng, T):
    """Adjacency of a random tree on T nodes (each node joins an earlier one)."""
    order = rng.permutation(T)
    adjacency = np.zeros((T, T))
    parent = np.full(T, -1)
    for k in range(1, T):
        child, par = order[k], order[rng.randint(k)]
        parent[child] = par
        adjacency[child, par] = adjacency[par, child] = 1.0
    return adjacency, order, parent


def make_multitask_regression(
    n_samples=100,
    n_features=20,
    n_tasks=None,
    *,
    structure="row_sparse",
    n_informative=5,
    shared_fraction=1.0,
    rank=2,
    n_clusters=2,
    task_std=0.3,
    noise=1.0,
    bias=0.0,
    missing_rate=0.0,
    task_sizes=None,
    layout=None,
    as_bunch=False,
    random_state=None,
):
    """Generate a multi-task linear regression problem with a known structure.

    Features are standard normal, ``y_t = x @ coef[t] + bias + noise * eps``
    with ``eps`` standard normal. The task weights ``coef`` (n_tasks,
    n_features) have the chosen ``structure``:

    * ``"row_sparse"``: only ``n_informative`` features have nonzero weights
      (the shared support of the L2,1 / group-lasso models; "row-sparse" in
      the (n_features, n_tasks) convention of the MTL literature). With
      ``shared_fraction < 1`` only ``round(shared_fraction * n_informative)``
      of them are shared by all tasks and each task draws the rest of its
      support at random among the other features (a "dirty" model).
    * ``"low_rank"``: ``coef = U @ V`` with ``U`` (n_tasks, rank) and ``V``
      (rank, n_features) Gaussian, scaled so that entries have unit variance.
    * ``"clustered"``: ``n_clusters`` standard normal centers; each task's
      weights are its cluster's center plus ``task_std`` Gaussian noise.
      Every cluster gets at least one task when ``n_tasks >= n_clusters``.
    * ``"mean"``: ``coef[t] = w0 + task_std * N(0, I)``, around a shared
      standard normal ``w0``.
    * ``"graph"``: tasks are the nodes of a random tree (``adjacency``); a
      root task has standard normal weights and each other task equals its
      parent's plus ``task_std`` Gaussian noise, so neighbours are similar
      and the difference grows with the path length.
    * ``"independent"``: standard normal weights drawn for each task.

    Parameters
    ----------
    n_samples : int, default=100
        Number of rows (wide layout), or of rows per task in the long layout
        when ``task_sizes`` is None.
    n_features : int, default=20
        Number of features.
    n_tasks : int, default=None
        Number of tasks: ``len(task_sizes)`` when given, else 5; must agree
        with ``task_sizes`` when both are given.
    structure : {"row_sparse", "low_rank", "clustered", "mean", "graph", \
"independent"}, default="row_sparse"
        How the task weights are related.
    n_informative : int, default=5
        Size of each task's support (``"row_sparse"`` only).
    shared_fraction : float in [0, 1], default=1.0
        Fraction of the support shared by all tasks (``"row_sparse"`` only).
    rank : int, default=2
        Rank of ``coef`` (``"low_rank"`` only), at most
        ``min(n_tasks, n_features)``.
    n_clusters : int, default=2
        Number of task clusters (``"clustered"`` only).
    task_std : float, default=0.3
        Spread of the tasks around their cluster center, the shared mean, or
        their parent in the graph.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise on the targets.
    bias : float, default=0.0
        Intercept added to every target.
    missing_rate : float in [0, 1), default=0.0
        Fraction of targets set to NaN (``round(missing_rate * n_targets)``
        entries chosen at random), never removing every target of a task.
    task_sizes : sequence of int, default=None
        Number of rows of each task; implies the long layout.
    layout : {"wide", "long"}, default=None
        ``"wide"``: one shared ``X`` and ``Y`` of shape (n_samples, n_tasks).
        ``"long"``: every task has its own rows; ``y`` is 1-D and ``task``
        gives each row's task (rows are grouped by task, tasks ``0 ..
        n_tasks - 1``). None means ``"long"`` when ``task_sizes`` is given,
        else ``"wide"``.
    as_bunch : bool, default=False
        Return a :class:`~sklearn.utils.Bunch` with every output instead of a
        tuple.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features) or (sum(task_sizes), n_features)
        Features.
    Y : ndarray of shape (n_samples, n_tasks) (wide) or y of shape (n_rows,) (long)
        Targets, NaN where missing.
    task : ndarray of shape (n_rows,), int
        Task of each row; only returned in the long layout, between ``y`` and
        ``coef``.
    coef : ndarray of shape (n_tasks, n_features)
        True task weights.
    bunch : Bunch
        Instead of the tuple when ``as_bunch=True``, with keys ``X``, ``y``
        (wide ``Y`` or long ``y``), ``task`` (None for wide), ``coef``,
        ``intercept`` (n_tasks,), ``layout``, ``structure``, and the structure's
        ground truth: ``support`` (bool mask like ``coef``, row_sparse),
        ``clusters`` (cluster of each task, clustered), ``centers``
        ((n_clusters, n_features) cluster centers, clustered; the shared mean
        as one row, mean), ``adjacency`` ((n_tasks, n_tasks) 0/1, graph); the keys that do not
        apply are None.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(50, 10, 3, random_state=0)
    >>> X.shape, Y.shape, coef.shape
    ((50, 10), (50, 3), (3, 10))
    >>> X, y, task, coef = make_multitask_regression(
    ...     task_sizes=[5, 8], n_features=8, random_state=0)
    >>> X.shape, y.shape, task.tolist().count(1)
    ((13, 8), (13,), 8)
    """
    if structure not in _STRUCTURES:
        raise ValueError(f"structure must be one of {list(_STRUCTURES)}; got {structure!r}.")
    p = _check_int(n_features, "n_features", 1)
    T = 5 if n_tasks is None else _check_int(n_tasks, "n_tasks", 1)
    if task_sizes is not None:
        sizes = np.asarray(task_sizes)
        if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or np.any(sizes < 1):
            raise ValueError(f"task_sizes must be a sequence of positive integers; got {task_sizes!r}.")
        if n_tasks is not None and len(sizes) != T:
            raise ValueError(f"task_sizes has {len(sizes)} entries but n_tasks={T}.")
        T = len(sizes)
        if layout is None:
            layout = "long"
        elif layout != "long":
            raise ValueError("task_sizes gives each task its own rows; it needs layout='long' (or None).")
    if layout is None:
        layout = "wide"
    if layout not in ("wide", "long"):
        raise ValueError(f"layout must be 'wide' or 'long'; got {layout!r}.")
    n = _check_int(n_samples, "n_samples", 1)
    if task_sizes is None and layout == "long":
        sizes = np.full(T, n)
    noise = _check_float(noise, "noise", 0.0)
    task_std = _check_float(task_std, "task_std", 0.0)
    missing_rate = _check_float(missing_rate, "missing_rate", 0.0, 1.0, high_open=True)
    bias = float(bias)
    rng = check_random_state(random_state)

    extras = dict(support=None, clusters=None, centers=None, adjacency=None)
    if structure == "row_sparse":
        _check_int(n_informative, "n_informative", 1)
        if n_informative > p:
            raise ValueError(f"n_informative={n_informative} is larger than n_features={p}.")
        shared_fraction = _check_float(shared_fraction, "shared_fraction", 0.0, 1.0)
        coef, extras["support"] = _row_sparse_coef(rng, T, p, n_informative, shared_fraction)
    elif structure == "low_rank":
        _check_int(rank, "rank", 1)
        if rank > min(T, p):
            raise ValueError(f"rank={rank} must be at most min(n_tasks, n_features) = {min(T, p)}.")
        scale = rank**-0.25
        coef = (scale * rng.standard_normal((T, rank))) @ (scale * rng.standard_normal((rank, p)))
    elif structure == "clustered":
        _check_int(n_clusters, "n_clusters", 1)
        if n_clusters > T:
            raise ValueError(f"n_clusters={n_clusters} is larger than n_tasks={T}.")
        centers = rng.standard_normal((n_clusters, p))
        clusters = rng.permutation(np.arange(T) % n_clusters)
        coef = centers[clusters] + task_std * rng.standard_normal((T, p))
        extras.update(clusters=clusters, centers=centers)
    elif structure == "mean":
        w0 = rng.standard_normal(p)
        coef = w0 + task_std * rng.standard_normal((T, p))
        extras["centers"] = w0[None, :]
    elif structure == "graph":
        adjacency, order, parent = _random_tree(rng, T)
        coef = np.empty((T, p))
        coef[order[0]] = rng.standard_normal(p)
        for k in range(1, T):
            child = order[k]
            coef[child] = coef[parent[child]] + task_std * rng.standard_normal(p)
        extras["adjacency"] = adjacency
    else:
        coef = rng.standard_normal((T, p))

    if layout == "wide":
        X = rng.standard_normal((n, p))
        y = X @ coef.T + bias + noise * rng.standard_normal((n, T))
        task = None
        if missing_rate > 0:
            # keep one random row of each task, then drop among the others
            keep = rng.randint(n, size=T)
            candidates = np.flatnonzero(~np.isin(np.arange(n * T), keep * T + np.arange(T)))
            m = min(int(round(missing_rate * n * T)), len(candidates))
            y[np.unravel_index(rng.choice(candidates, size=m, replace=False), y.shape)] = np.nan
    else:
        task = np.repeat(np.arange(T), sizes)
        X = rng.standard_normal((len(task), p))
        y = np.einsum("ij,ij->i", X, coef[task]) + bias + noise * rng.standard_normal(len(task))
        if missing_rate > 0:
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            keep = starts + rng.randint(sizes)
            candidates = np.setdiff1d(np.arange(len(task)), keep)
            m = min(int(round(missing_rate * len(task))), len(candidates))
            y[rng.choice(candidates, size=m, replace=False)] = np.nan

    if as_bunch:
        return Bunch(
            X=X,
            y=y,
            task=task,
            coef=coef,
            intercept=np.full(T, bias),
            layout=layout,
            structure=structure,
            **extras,
        )
    if layout == "wide":
        return X, y, coef
    return X, y, task, coef
