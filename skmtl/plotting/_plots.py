"""Plots of what a multi-task model learned (matplotlib, imported on use)."""

import numpy as np
import scipy.sparse as sp

__all__ = [
    "plot_regularization_path",
    "plot_support_heatmap",
    "plot_task_correlation",
    "plot_singular_values",
    "plot_gp_predictions",
    "plot_transfer_report",
    "plot_pareto_front",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError(
            "skmtl.plotting needs matplotlib; install it with `pip install skmtl[plot]` "
            "or `pip install matplotlib`."
        ) from exc
    return plt


def _get_ax(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


def _coef_of(obj):
    """``coef_`` of a fitted estimator, or the array itself, as (n_tasks, n_features)."""
    coef = getattr(obj, "coef_", obj)
    coef = np.asarray(coef.toarray() if hasattr(coef, "toarray") else coef, dtype=np.float64)
    if coef.ndim == 1:
        coef = coef[None, :]
    if coef.ndim != 2:
        raise ValueError(f"coef must be 2-D (n_tasks, n_features); got shape {coef.shape}.")
    return coef


def _names(names, n, default):
    if names is None:
        return [f"{default} {i}" for i in range(n)]
    names = [str(v) for v in names]
    if len(names) != n:
        raise ValueError(f"Expected {n} names; got {len(names)}.")
    return names


def plot_regularization_path(alphas, coefs=None, *, feature_names=None, max_legend=10, alpha=None, ax=None):
    """Row norms ``||W_j||_2`` of each feature (over tasks) along the path.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,) or fitted estimator
        Regularization strengths; or an estimator with ``alphas_`` and a
        coefficient path (``coef_path_``, ``coefs_path_`` or ``coefs_``).
    coefs : array-like or list of sparse matrices, default=None
        Coefficients along the path, (n_alphas, n_tasks, n_features),
        (n_tasks, n_features, n_alphas) (the scikit-learn ``*_path`` layout),
        (n_alphas, n_features) for a single task, or one sparse (n_tasks,
        n_features) matrix per alpha (:func:`~skmtl.linear.l21_path` on a
        design; only the features selected somewhere on the path are drawn).
    feature_names : list of str, default=None
        Labels of the features in the legend.
    max_legend : int, default=10
        Features with the largest norm at the weakest penalty are named.
    alpha : float, default=None
        A chosen strength marked with a dashed line (an estimator's
        ``alpha_`` when an estimator is passed).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
    """
    if coefs is None:
        est = alphas
        if alpha is None:
            alpha = getattr(est, "alpha_", None)
        alphas = getattr(est, "alphas_", None)
        for name in ("coef_path_", "coefs_path_", "coefs_"):
            coefs = getattr(est, name, None)
            if coefs is not None:
                break
        if alphas is None or coefs is None:
            raise ValueError(
                "Pass alphas and coefs, or a fitted estimator with alphas_ and coef_path_."
            )
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if isinstance(coefs, (list, tuple)) and coefs and all(sp.issparse(c) for c in coefs):
        support = np.unique(np.concatenate([c.tocoo().col for c in coefs]))
        coefs = np.stack([c.tocsc()[:, support].toarray() for c in coefs])
        feature_names = None if feature_names is None else [feature_names[j] for j in support]
        if feature_names is None:
            feature_names = [f"feature {j}" for j in support]
    C = np.asarray(coefs, dtype=np.float64)
    k = len(alphas)
    if C.ndim == 2:
        C = C[:, None, :] if C.shape[0] == k else C.T[:, None, :]
    elif C.ndim == 3 and C.shape[0] != k and C.shape[-1] == k:
        C = np.moveaxis(C, -1, 0)
    if C.ndim != 3 or C.shape[0] != k:
        raise ValueError(f"coefs of shape {np.shape(coefs)} do not match {k} alphas.")
    norms = np.sqrt((C**2).sum(axis=1))  # (n_alphas, n_features)
    names = _names(feature_names, norms.shape[1], "feature")
    ax = _get_ax(ax)
    order = np.argsort(alphas)
    weakest = norms[order[0]]
    named = set(np.argsort(-weakest)[:max_legend].tolist())
    for j in range(norms.shape[1]):
        ax.plot(alphas[order], norms[order, j], label=names[j] if j in named else None)
    if np.all(alphas > 0):
        ax.set_xscale("log")
    ax.invert_xaxis()
    if alpha is not None:
        ax.axvline(alpha, color="k", ls="--", lw=1, label=f"alpha = {alpha:.3g}")
    ax.set_xlabel("alpha")
    ax.set_ylabel(r"$\|W_j\|_2$ over tasks")
    ax.set_title("Regularization path")
    if named or alpha is not None:
        ax.legend(fontsize="small", loc="best")
    return ax


def plot_support_heatmap(coef, *, feature_names=None, task_names=None, threshold=0.0, cmap="viridis", ax=None):
    """Feature-by-task heatmap of ``|coef|``; entries ``<= threshold`` left blank.

    Parameters
    ----------
    coef : array-like of shape (n_tasks, n_features) or fitted estimator
        Weights (``coef_`` of an estimator).
    feature_names, task_names : list of str, default=None
        Tick labels (``feature_names_in_`` and ``tasks_`` of an estimator).
    threshold : float, default=0.0
        Magnitudes at or below it count as outside the support.
    cmap : str, default="viridis"
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    if feature_names is None:
        feature_names = getattr(coef, "feature_names_in_", None)
    if task_names is None:
        task_names = getattr(coef, "tasks_", None)
    W = np.abs(_coef_of(coef)).T  # (n_features, n_tasks)
    ax = _get_ax(ax)
    shown = np.ma.masked_less_equal(W, threshold)
    im = ax.imshow(shown, aspect="auto", cmap=cmap, interpolation="nearest")
    ax.set_facecolor("white")
    ax.figure.colorbar(im, ax=ax, label="|coef|")
    n_feat, n_tasks = W.shape
    if n_tasks <= 40:
        ax.set_xticks(range(n_tasks), _names(task_names, n_tasks, "task"), rotation=90 if n_tasks > 8 else 0)
    if n_feat <= 60:
        ax.set_yticks(range(n_feat), _names(feature_names, n_feat, "x"))
    ax.set_xlabel("task")
    ax.set_ylabel("feature")
    ax.set_title(f"Support: {int((W > threshold).any(axis=1).sum())} of {n_feat} features used")
    return ax


def plot_task_correlation(corr, *, task_names=None, method="average", cmap="RdBu_r", fig=None):
    """Task-correlation heatmap ordered by, and shown with, a dendrogram.

    Parameters
    ----------
    corr : array-like of shape (n_tasks, n_tasks) or (n_tasks, n_features), or estimator
        A task correlation (or covariance) matrix; a non-square array or a
        fitted estimator's ``coef_`` is turned into the correlation of the
        task weight vectors. Estimators with ``task_correlation_`` or
        ``task_covariance_`` use those.
    task_names : list of str, default=None
    method : str, default="average"
        Linkage method of :func:`scipy.cluster.hierarchy.linkage` on the
        distance ``1 - corr``.
    cmap : str, default="RdBu_r"
    fig : matplotlib Figure, default=None

    Returns
    -------
    fig : matplotlib Figure
        With the dendrogram axes on top and the heatmap below.
    """
    from scipy.cluster.hierarchy import dendrogram, linkage
    from scipy.spatial.distance import squareform

    if task_names is None:
        task_names = getattr(corr, "tasks_", None)
    M = None
    for name in ("task_correlation_", "task_covariance_"):
        if hasattr(corr, name):
            M = np.asarray(getattr(corr, name), dtype=np.float64)
            break
    if M is None:
        M = np.asarray(getattr(corr, "coef_", corr), dtype=np.float64)
        if M.ndim != 2 or M.shape[0] != M.shape[1] or hasattr(corr, "coef_"):
            M = np.corrcoef(_coef_of(M))
    d = np.sqrt(np.clip(np.diag(M), 1e-300, None))
    C = np.clip(M / np.outer(d, d), -1.0, 1.0)
    C = np.nan_to_num(C)
    T = C.shape[0]
    names = _names(task_names, T, "task")
    plt = _pyplot()
    if fig is None:
        fig = plt.figure(figsize=(6, 6.5))
    ax_d = fig.add_axes([0.12, 0.78, 0.66, 0.18])
    ax_h = fig.add_axes([0.12, 0.08, 0.66, 0.68])
    ax_c = fig.add_axes([0.81, 0.08, 0.03, 0.68])
    if T > 1:
        dist = squareform(1.0 - C, checks=False)
        Z = linkage(np.clip(dist, 0, None), method=method)
        order = dendrogram(Z, ax=ax_d, no_labels=True, color_threshold=0)["leaves"]
    else:
        order = [0]
    ax_d.set_axis_off()
    im = ax_h.imshow(C[np.ix_(order, order)], cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    if T <= 40:
        ax_h.set_xticks(range(T), [names[i] for i in order], rotation=90)
        ax_h.set_yticks(range(T), [names[i] for i in order])
    fig.colorbar(im, cax=ax_c, label="correlation")
    ax_d.set_title("Task correlation")
    return fig


def plot_singular_values(coef, *, normalize=False, ax=None):
    """Singular-value spectrum of ``coef`` (a trace-norm fit is low rank).

    Parameters
    ----------
    coef : array-like of shape (n_tasks, n_features) or fitted estimator
    normalize : bool, default=False
        Divide by the largest singular value.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
        Bars of the singular values, with the cumulative share of
        ``sum sigma_i`` (the trace norm) on a second axis.
    """
    s = np.linalg.svd(_coef_of(coef), compute_uv=False)
    if normalize and s[0] > 0:
        s = s / s[0]
    ax = _get_ax(ax)
    idx = np.arange(1, len(s) + 1)
    ax.bar(idx, s, color="tab:blue")
    ax.set_xlabel("index")
    ax.set_ylabel("singular value" + (" / largest" if normalize else ""))
    total = s.sum()
    if total > 0:
        ax2 = ax.twinx()
        ax2.plot(idx, np.cumsum(s) / total, "o-", color="tab:orange")
        ax2.set_ylim(0, 1.05)
        ax2.set_ylabel("cumulative share of the trace norm")
    rank = int(np.sum(s > 1e-8 * max(s[0], 1e-300))) if len(s) else 0
    ax.set_title(f"Singular values (numerical rank {rank})")
    return ax


def plot_gp_predictions(
    X, mean, std=None, *, lower=None, upper=None, X_train=None, Y_train=None,
    task_names=None, n_std=2.0, ncols=3, fig=None,
):
    """Per-task predictive mean with uncertainty bands, one panel per task.

    Parameters
    ----------
    X : array-like of shape (n_points,) or (n_points, 1)
        Input locations (1-D inputs).
    mean : array-like of shape (n_points, n_tasks) or (n_points,)
        Predictive means.
    std : array-like of the shape of ``mean``, default=None
        Predictive standard deviations; the band is ``mean +- n_std * std``.
    lower, upper : array-like of the shape of ``mean``, default=None
        Explicit band limits (used instead of ``std``).
    X_train : array-like of shape (n_train,) or (n_train, 1), default=None
    Y_train : array-like of shape (n_train, n_tasks), default=None
        Training points drawn on each panel (NaN entries skipped).
    task_names : list of str, default=None
    n_std : float, default=2.0
    ncols : int, default=3
    fig : matplotlib Figure, default=None

    Returns
    -------
    fig : matplotlib Figure
    """
    x = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    if x.shape[1] != 1:
        raise ValueError(f"plot_gp_predictions draws 1-D inputs; X has {x.shape[1]} columns.")
    x = x[:, 0]
    mu = np.asarray(mean, dtype=np.float64).reshape(len(x), -1)
    T = mu.shape[1]
    if lower is None and std is not None:
        sd = np.asarray(std, dtype=np.float64).reshape(mu.shape)
        lower, upper = mu - n_std * sd, mu + n_std * sd
    if lower is not None:
        lower = np.asarray(lower, dtype=np.float64).reshape(mu.shape)
        upper = np.asarray(upper, dtype=np.float64).reshape(mu.shape)
    names = _names(task_names, T, "task")
    plt = _pyplot()
    ncols = max(1, min(ncols, T))
    nrows = int(np.ceil(T / ncols))
    if fig is None:
        fig = plt.figure(figsize=(3.5 * ncols, 2.8 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    order = np.argsort(x)
    if X_train is not None:
        xt = np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1)[:, 0]
        yt = np.asarray(Y_train, dtype=np.float64).reshape(len(xt), -1)
    for t in range(nrows * ncols):
        ax = axes.flat[t]
        if t >= T:
            ax.set_visible(False)
            continue
        ax.plot(x[order], mu[order, t], color="tab:blue", label="mean")
        if lower is not None:
            ax.fill_between(x[order], lower[order, t], upper[order, t], color="tab:blue", alpha=0.25, label="band")
        if X_train is not None:
            obs = ~np.isnan(yt[:, t])
            ax.plot(xt[obs], yt[obs, t], "k.", ms=4, label="train")
        ax.set_title(names[t], fontsize="medium")
    axes.flat[0].legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_transfer_report(report, baseline=None, *, ax=None):
    """Per-task score difference (model - baseline) with its confidence interval.

    Parameters
    ----------
    report : pandas.DataFrame
        Output of :func:`skmtl.model_selection.transfer_report`.
    baseline : str, default=None
        Which baseline to compare with; the report's reference baseline
        (``"independent"``) when None.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
        Tasks flagged with negative transfer are drawn in red.
    """
    if baseline is None:
        baseline = report.attrs.get("reference", "independent")
    col = f"diff_{baseline}"
    if col not in report.columns:
        raise ValueError(f"The report has no baseline {baseline!r}; columns are {list(report.columns)}.")
    diff = report[col].to_numpy(dtype=np.float64)
    lo = report[f"ci_low_{baseline}"].to_numpy(dtype=np.float64)
    hi = report[f"ci_high_{baseline}"].to_numpy(dtype=np.float64)
    hurts = hi < 0
    helps = lo > 0
    T = len(diff)
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(6, max(2.5, 0.3 * T + 1)))
    y = np.arange(T)
    err = np.vstack([diff - np.where(np.isnan(lo), diff, lo), np.where(np.isnan(hi), diff, hi) - diff])
    colors = np.where(hurts, "tab:red", np.where(helps, "tab:green", "tab:gray"))
    for c in np.unique(colors):
        m = colors == c
        ax.errorbar(diff[m], y[m], xerr=err[:, m], fmt="o", color=c, capsize=3)
    ax.axvline(0.0, color="k", lw=1)
    ax.set_yticks(y, [str(v) for v in report.index])
    ax.invert_yaxis()
    score = report.attrs.get("scoring", "score")
    ax.set_xlabel(f"{score}: {report.attrs.get('model_name', 'model')} - {baseline}")
    ax.set_ylabel("task")
    ax.set_title(f"Transfer: {int(helps.sum())} helped, {int(hurts.sum())} hurt of {T} tasks")
    return ax


def plot_pareto_front(result, tasks=(0, 1), *, ax=None):
    """Per-task validation losses of every weighting, the Pareto front joined.

    Parameters
    ----------
    result : Bunch
        Output of :func:`skmtl.model_selection.pareto_front`, or an array
        (n_points, n_tasks) of losses.
    tasks : pair of int, default=(0, 1)
        Positions of the two tasks on the axes.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    if hasattr(result, "all_losses"):
        L = np.asarray(result.all_losses, dtype=np.float64)
        eff = np.asarray(result.is_efficient, dtype=bool)
        names = [str(v) for v in result.tasks]
    else:
        from ..model_selection._pareto import is_pareto_efficient

        L = np.asarray(result, dtype=np.float64)
        eff = is_pareto_efficient(L)
        names = [f"task {t}" for t in range(L.shape[1])]
    if L.shape[1] < 2:
        raise ValueError("A Pareto front needs at least two tasks.")
    i, j = tasks
    ax = _get_ax(ax)
    ax.scatter(L[~eff, i], L[~eff, j], color="tab:gray", label="dominated")
    order = np.argsort(L[eff, i])
    ax.plot(L[eff, i][order], L[eff, j][order], "o-", color="tab:red", label="Pareto front")
    ax.set_xlabel(f"validation loss, {names[i]}")
    ax.set_ylabel(f"validation loss, {names[j]}")
    ax.set_title("Task trade-off")
    ax.legend(fontsize="small")
    return ax
