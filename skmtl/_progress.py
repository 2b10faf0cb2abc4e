"""Optional tqdm progress bars for long fits (silent by default).

Every estimator with a ``verbose`` parameter wraps its outer loop (path,
folds, iterations, samples) in :func:`progress`::

    for alpha in progress(alphas, self.verbose, desc="L21 path"):
        ...

tqdm is imported only when a bar is asked for; without tqdm the loop runs
unchanged.
"""

__all__ = ["progress", "parallel_progress"]


def progress(iterable, verbose, desc=None, total=None, **kwargs):
    """Wrap ``iterable`` in a tqdm progress bar when ``verbose`` is truthy.

    Parameters
    ----------
    iterable : iterable
        What the loop runs over.
    verbose : bool or int
        Show a bar when truthy (``verbose > 0``).
    desc : str, default=None
        Label printed before the bar.
    total : int, default=None
        Number of items, for iterables without ``len`` (generators).
    **kwargs
        Passed to ``tqdm.tqdm`` (``leave``, ``position``, ...).

    Returns
    -------
    iterable
        A ``tqdm`` object, or ``iterable`` itself when ``verbose`` is falsy or
        tqdm is not installed.
    """
    if not verbose:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        return iterable
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    return tqdm(iterable, desc=desc, total=total, **kwargs)


def parallel_progress(calls, n_jobs, verbose, desc=None, total=None, prefer="threads"):
    """Run joblib ``delayed`` calls with :class:`joblib.Parallel`, a bar when ``verbose``.

    Parameters
    ----------
    calls : iterable of delayed calls
    n_jobs : int or None
        Passed to ``Parallel`` (the active backend, e.g. Dask, takes over).
    verbose : bool or int
        Show a bar over the finished calls when truthy.
    desc : str, default=None
    total : int, default=None
        Number of calls (for the bar).
    prefer : str, default="threads"
        Soft backend hint of ``Parallel``.

    Returns
    -------
    list
        The results, in the order of ``calls``.
    """
    from joblib import Parallel

    if not verbose:
        return Parallel(n_jobs=n_jobs, prefer=prefer)(calls)
    gen = Parallel(n_jobs=n_jobs, prefer=prefer, return_as="generator")(calls)
    return list(progress(gen, verbose, desc=desc, total=total))
