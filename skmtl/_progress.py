"""Optional tqdm progress bars for long fits (silent by default).

Every estimator with a ``verbose`` parameter wraps its outer loop (path,
folds, iterations, samples) in :func:`progress`::

    for alpha in progress(alphas, self.verbose, desc="L21 path"):
        ...

tqdm is imported only when a bar is asked for; without tqdm the loop runs
unchanged.
"""

__all__ = ["progress"]


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
