"""The ``skmtl`` command line: a demo, and model comparison on a CSV file.

``skmtl demo``
    Fits several multi-task models and the per-task baseline on a built-in
    problem (row-sparse, low-rank task weights, few samples per task) and
    prints the held-out R^2 of every task.

``skmtl models``
    Lists the models ``compare --models`` accepts: the short names below and
    every public regressor by class name.

``skmtl compare data.csv --targets y1 y2 ...``
``skmtl compare data.csv --task-column school --target score``
    Cross-validates a chosen set of models on wide (one column per task) or
    long (a task column and one target) data, prints a per-task table and,
    with ``--plots DIR``, writes figures to ``DIR`` and, with ``--output
    results.csv`` (or ``.json``), the table to a file.

Errors (a missing or unreadable file, a bad option) are one line on stderr
and a non-zero exit status; ``skmtl --version`` prints the version.
"""

import argparse
import sys
import time
import warnings

import numpy as np

__all__ = ["main", "available_models", "public_regressors"]


# --------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------


def _ridge_alphas():
    return np.logspace(-3, 4, 15)


def _make_independent():
    from sklearn.linear_model import RidgeCV

    from .baselines import IndependentRegressor

    return IndependentRegressor(RidgeCV(alphas=_ridge_alphas()))


def _make_pooled():
    from sklearn.linear_model import RidgeCV

    from .baselines import PooledRegressor

    return PooledRegressor(RidgeCV(alphas=_ridge_alphas()))


def _make_l21():
    from .linear._l21 import L21RegressorCV

    return L21RegressorCV(n_alphas=30, cv=3)


def _make_trace():
    from .linear._trace import TraceNormRegressorCV

    return TraceNormRegressorCV(cv=3)


def _make_dirty():
    from .linear._composite import DirtyRegressor

    return _DirtyAuto(DirtyRegressor)


class _DirtyAuto:
    """Placeholder resolved by :func:`_resolve_dirty` once the data is known."""

    def __init__(self, cls):
        self.cls = cls


# name -> (label, factory); the order is the column order of the tables
_MODELS = {
    "independent": ("Independent RidgeCV", _make_independent),
    "pooled": ("Pooled RidgeCV", _make_pooled),
    "l21": ("L21RegressorCV", _make_l21),
    "trace": ("TraceNormRegressorCV", _make_trace),
    "dirty": ("DirtyRegressor", _make_dirty),
}
_BASELINES = ("independent", "pooled")


_FAMILIES = ("linear", "factorization", "bayes", "gaussian_process")


def public_regressors():
    """Every public skmtl regressor importable here: ``{class name: class}``.

    ``skmtl compare --models`` takes these names (case-insensitive) besides
    the short names of :data:`_MODELS`; the model is built with its defaults
    (and the task column of long input). A family whose optional dependency
    is missing (the Gaussian processes need torch) is left out.
    """
    import importlib

    from sklearn.base import RegressorMixin

    from . import baselines

    found = {"IndependentRegressor": baselines.IndependentRegressor, "PooledRegressor": baselines.PooledRegressor}
    for family in _FAMILIES:
        try:
            module = importlib.import_module(f"skmtl.{family}")
            names = list(getattr(module, "__all__", []))
            for name in names:
                obj = getattr(module, name, None)
                if isinstance(obj, type) and issubclass(obj, RegressorMixin):
                    found[name] = obj
        except ImportError:
            continue
    return dict(sorted(found.items()))


def _resolve_model_name(name, regressors):
    """Short name or public class name (any case) -> (key, label, factory)."""
    if name in _MODELS:
        return name, _MODELS[name][0], _MODELS[name][1]
    by_lower = {k.lower(): k for k in regressors}
    key = by_lower.get(name.lower())
    if key is None:
        raise SystemExit(
            f"skmtl: unknown model {name!r}; choose among {', '.join(_MODELS)} or a regressor "
            f"listed by 'skmtl models'."
        )
    return key, key, regressors[key]


def available_models():
    """Names of the models ``skmtl compare --models`` can fit here (importable ones)."""
    names = []
    for name, (_, factory) in _MODELS.items():
        try:
            factory()
        except ImportError:
            continue
        names.append(name)
    return names


def _resolve_dirty(placeholder, X, Y, labels=None):
    """DirtyRegressor with ``alpha``, ``beta`` at fixed fractions of their maxima.

    With ``g_jt = |x_j^T y_t| / n_t`` on each task's centred data,
    ``alpha_max = max_j sum_t g_jt`` (L1,inf part) and ``beta_max = max g_jt``
    (L1 part); the model gets ``alpha = 0.1 alpha_max``, ``beta = 0.3 beta_max``.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if labels is None:
        Y = Y.reshape(len(X), -1)
        groups = [(slice(None), t) for t in range(Y.shape[1])]
    else:
        groups = [(np.asarray(labels) == lab, 0) for lab in np.unique(labels)]
        Y = Y.reshape(-1, 1)
    G = []
    for rows, t in groups:
        Xt, yt = X[rows], Y[rows, t]
        obs = ~np.isnan(yt)
        Xt, yt = Xt[obs], yt[obs]
        G.append(np.abs((Xt - Xt.mean(axis=0)).T @ (yt - yt.mean())) / max(len(yt), 1))
    G = np.column_stack(G)
    return placeholder.cls(alpha=0.1 * G.sum(axis=1).max(), beta=0.3 * G.max())


def _build_models(names, task_column):
    models, labels, skipped = {}, {}, []
    regressors = None if all(n in _MODELS for n in names) else public_regressors()
    for name in names:
        name, label, factory = _resolve_model_name(name, regressors)
        if name in models:
            continue
        try:
            est = factory()
        except ImportError:
            skipped.append(name)
            continue
        if task_column is not None and not isinstance(est, _DirtyAuto):
            if "task_column" not in est.get_params():
                raise SystemExit(f"skmtl compare: model {name!r} does not take long input (no task_column).")
            est.set_params(task_column=task_column)
        models[name], labels[name] = est, label
    return models, labels, skipped


# --------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------


def format_table(row_names, columns, values, *, row_header="task", fmt="{:.3f}", best="max"):
    """Plain-text table; the best value of each row is marked with ``*``.

    Parameters
    ----------
    row_names : list of str
    columns : list of str
    values : ndarray of shape (n_rows, n_columns)
    row_header : str, default="task"
    fmt : str, default="{:.3f}"
    best : {"max", "min", None}, default="max"

    Returns
    -------
    str
    """
    values = np.asarray(values, dtype=np.float64)
    cells = []
    for i in range(values.shape[0]):
        row = values[i]
        mark = -1
        if best is not None and np.any(~np.isnan(row)):
            mark = int(np.nanargmax(row) if best == "max" else np.nanargmin(row))
        cells.append([("nan" if np.isnan(v) else fmt.format(v)) + ("*" if j == mark else " ") for j, v in enumerate(row)])
    head = [row_header] + list(columns)
    body = [[str(r)] + c for r, c in zip(row_names, cells)]
    widths = [max(len(line[k]) for line in [head] + body) for k in range(len(head))]
    sep = "  "

    def line(items):
        return sep.join([items[0].ljust(widths[0])] + [it.rjust(w) for it, w in zip(items[1:], widths[1:])])

    rule = "-" * len(line(head))
    out = [line(head), rule]
    for k, b in enumerate(body):
        if str(row_names[k]) == "mean" and k == len(body) - 1:
            out.append(rule)
        out.append(line(b))
    return "\n".join(out)


# --------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------


def _demo_problem(n_train, n_test, n_tasks, n_features, seed):
    """Row-sparse, rank-2 task weights; ``n_train`` shared training rows.

    Uses :func:`skmtl.datasets.make_multitask_regression` for the features
    and the shared support when it is available, then truncates the weights
    to rank 2 (the row support is kept: the right singular vectors live on
    it).
    """
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    try:
        from .datasets import make_multitask_regression
    except ImportError:  # pragma: no cover - the generator ships with skmtl
        make_multitask_regression = None
    if make_multitask_regression is not None:
        X, _, coef = make_multitask_regression(
            n, n_features, n_tasks, structure="row_sparse", n_informative=5, random_state=seed
        )
    else:  # pragma: no cover
        X = rng.standard_normal((n, n_features))
        coef = np.zeros((n_tasks, n_features))
        coef[:, rng.choice(n_features, 5, replace=False)] = 1.0
        coef[coef != 0] = rng.standard_normal(int(np.count_nonzero(coef)))
    support = np.any(coef != 0, axis=0)
    U, s, Vt = np.linalg.svd(coef, full_matrices=False)
    coef = (U[:, :2] * s[:2]) @ Vt[:2]
    coef[:, ~support] = 0.0  # exact zeros (the SVD leaves rounding noise)
    coef *= np.sqrt(3.0 * n_tasks) / np.linalg.norm(coef)  # signal variance 3 per task
    Y = X @ coef.T + rng.standard_normal((n, n_tasks))
    return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:], coef


def _demo(args):
    from .metrics import per_task_r2

    t0 = time.perf_counter()
    Xtr, Ytr, Xte, Yte, coef = _demo_problem(args.n_train, 1000, args.n_tasks, args.n_features, args.seed)
    names = [m for m in _MODELS]
    models, labels, skipped = _build_models(names, None)
    print(
        f"skmtl demo: {args.n_tasks} regression tasks, {args.n_features} features, "
        f"{args.n_train} training rows shared by the tasks, {len(Xte)} test rows.\n"
        f"True task weights: row-sparse ({int(np.any(coef != 0, axis=0).sum())} of "
        f"{args.n_features} features) and rank {np.linalg.matrix_rank(coef)}.\n"
    )
    scores, cols, times = [], [], []
    for name, est in models.items():
        if isinstance(est, _DirtyAuto):
            est = _resolve_dirty(est, Xtr, Ytr)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(Xtr, Ytr)
        times.append(time.perf_counter() - t)
        scores.append(per_task_r2(Yte, est.predict(Xte)))
        cols.append(labels[name])
    S = np.column_stack(scores)
    table = np.vstack([S, S.mean(axis=0)])
    rows = [str(t) for t in range(args.n_tasks)] + ["mean"]
    print("Held-out R^2 per task (* = best in the row):")
    print(format_table(rows, cols, table))
    print("fit time (s): " + ", ".join(f"{c} {t:.2f}" for c, t in zip(cols, times)))
    base = S[:, cols.index(labels["independent"])]
    mtl = [k for k, n in enumerate(models) if n not in _BASELINES]
    if mtl:
        best = max(mtl, key=lambda k: S[:, k].mean())
        wins = int(np.sum(S[:, best] > base))
        print(
            f"\n{cols[best]} beats the per-task model on {wins} of {args.n_tasks} tasks; "
            f"mean R^2 {S[:, best].mean():.3f} vs {base.mean():.3f}."
        )
    if skipped:
        print(f"(not installed here: {', '.join(skipped)})")
    print(f"total time {time.perf_counter() - t0:.1f} s")
    return 0


# --------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------


def _read_csv(args):
    from .model_selection._transfer import _require_pandas

    try:
        pd = _require_pandas("skmtl compare")
    except ImportError as exc:  # pragma: no cover - pandas installed
        raise SystemExit(f"skmtl: {exc}") from None
    try:
        df = pd.read_csv(args.data)
    except FileNotFoundError:
        raise SystemExit(f"skmtl compare: data file {args.data!r} not found.") from None
    except IsADirectoryError:
        raise SystemExit(f"skmtl compare: {args.data!r} is a directory, not a CSV file.") from None
    except PermissionError:
        raise SystemExit(f"skmtl compare: cannot read data file {args.data!r}: permission denied.") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SystemExit(f"skmtl compare: cannot read data file {args.data!r} as CSV: {reason}") from None
    if len(df) == 0:
        raise SystemExit(f"skmtl compare: data file {args.data!r} has a header but no rows.")
    missing = [c for c in (args.targets or []) + [args.task_column, args.target] if c is not None and c not in df.columns]
    if missing:
        raise SystemExit(f"skmtl: column(s) {missing} not in {args.data}; columns are {list(df.columns)}.")
    if args.targets:
        target_cols = list(args.targets)
        exclude = set(target_cols)
    else:
        if args.task_column is None or args.target is None:
            raise SystemExit("skmtl compare: give --targets y1 y2 ... (wide) or --task-column and --target (long).")
        target_cols = [args.target]
        exclude = {args.target, args.task_column}
    if args.features:
        feats = list(args.features)
    else:
        feats = [c for c in df.columns if c not in exclude]
    non_num = [c for c in feats if not pd.api.types.is_numeric_dtype(df[c])]
    if non_num:
        print(f"note: dropping non-numeric feature column(s) {non_num} (encode them to use them).")
        feats = [c for c in feats if c not in non_num]
    if not feats:
        raise SystemExit("skmtl compare: no numeric feature column left.")
    Xf = df[feats].astype(np.float64)
    Xf = (Xf - Xf.mean()) / Xf.std(ddof=0).replace(0.0, 1.0)  # standardized features
    if args.targets:
        return Xf, df[target_cols].astype(np.float64), None
    X = Xf.copy()
    X[args.task_column] = df[args.task_column].to_numpy()
    return X, df[args.target].astype(np.float64).to_numpy(), args.task_column


def _compare(args):
    from .model_selection._transfer import _build_report, cross_val_task_scores

    X, Y, task_column = _read_csv(args)
    names = args.models or available_models()
    names = list(_BASELINES) + [n for n in names if n not in _BASELINES]
    models, labels, skipped = _build_models(names, task_column)
    if skipped:
        print(f"note: model(s) {skipped} are not installed here and were skipped.")
    Xnum = X.drop(columns=[task_column]) if task_column is not None else X
    labels_col = X[task_column].to_numpy() if task_column is not None else None
    for name, est in list(models.items()):
        if isinstance(est, _DirtyAuto):
            est = _resolve_dirty(est, Xnum.to_numpy(), np.asarray(Y), labels_col)
            if task_column is not None:
                est.set_params(task_column=task_column)
            models[name] = est
    layout = f"long, task column {task_column!r}" if task_column else f"wide, {Y.shape[1]} target columns"
    print(f"skmtl compare: {args.data} ({len(X)} rows, {Xnum.shape[1]} features, {layout}); {args.cv}-fold CV, R^2 per task")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scores, tasks, info = cross_val_task_scores(
                models, X, Y, cv=args.cv, task_column=task_column, scoring="r2", n_jobs=args.n_jobs,
                verbose=args.verbose
            )
        except (ValueError, TypeError, ArithmeticError, np.linalg.LinAlgError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise SystemExit(f"skmtl compare: cross-validation failed: {type(exc).__name__}: {reason}") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        S = np.column_stack([np.nanmean(s, axis=0) for s in scores.values()])
        mean_row = np.nanmean(S, axis=0)
    cols = [labels[n] for n in scores]
    print(format_table([str(t) for t in tasks] + ["mean"], cols, np.vstack([S, mean_row])))
    if args.output:
        _write_results(args.output, [str(t) for t in tasks] + ["mean"], cols, np.vstack([S, mean_row]))
        print(f"results written to {args.output}")
    mtl = [n for n in scores if n not in _BASELINES]
    if mtl:
        best = max(mtl, key=lambda n: np.nan_to_num(np.nanmean(scores[n]), nan=-np.inf))
        report = _build_report(
            {"model": scores[best], **{b: scores[b] for b in _BASELINES}},
            tasks, info, list(_BASELINES), labels[best], "r2", 0.95,
        )
        hurt = report.index[report.negative_transfer].tolist()
        print(
            f"\nbest multi-task model: {labels[best]}; negative transfer (95% CI of R^2 - "
            f"independent below 0) on {len(hurt)} task(s){': ' + ', '.join(map(str, hurt)) if hurt else ''}."
        )
    else:
        best, report = None, None
    if args.plots:
        written = _write_plots(args.plots, models, best, report, X, Y, tasks)
        print(f"plots written to {args.plots}: {', '.join(written)}")
    return 0


_OUTPUT_FORMATS = (".csv", ".json")


def _output_format(path):
    import os

    ext = os.path.splitext(path)[1].lower()
    if ext not in _OUTPUT_FORMATS:
        raise SystemExit(f"skmtl compare: --output must end with .csv or .json; got {path!r}.")
    return ext


def _write_results(path, rows, columns, values):
    """The printed table (tasks and the mean row by models) as CSV or JSON records.

    JSON: ``[{"task": ..., "<model>": score, ...}, ...]`` with ``null`` for NaN.
    """
    import json

    values = np.asarray(values, dtype=np.float64)
    try:
        if _output_format(path) == ".csv":
            import csv

            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["task", *columns])
                for r, v in zip(rows, values):
                    w.writerow([r, *("" if np.isnan(x) else repr(float(x)) for x in v)])
        else:
            records = [{"task": r, **{c: (None if np.isnan(x) else float(x)) for c, x in zip(columns, v)}}
                       for r, v in zip(rows, values)]
            with open(path, "w") as f:
                json.dump(records, f, indent=2)
                f.write("\n")
    except OSError as exc:
        raise SystemExit(f"skmtl compare: cannot write {path!r}: {exc.strerror or exc}.") from None


def _write_plots(folder, models, best, report, X, Y, tasks):
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.base import clone

    from . import plotting

    os.makedirs(folder, exist_ok=True)
    written = []
    names = [str(t) for t in tasks]

    def save(obj, name):
        fig = obj if hasattr(obj, "savefig") else obj.figure
        fig.savefig(os.path.join(folder, name), dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(name)

    if report is not None:
        save(plotting.plot_transfer_report(report), "transfer.png")
    if "l21" in models:
        try:
            from .linear._path import l21_path
        except ImportError:  # pragma: no cover - linear family absent
            l21_path = None
        if l21_path is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                alphas, coefs = l21_path(X, Y, n_alphas=30, task_column=models["l21"].task_column)[:2]
            feats = [c for c in X.columns if c != models["l21"].task_column]
            save(plotting.plot_regularization_path(alphas, coefs, feature_names=feats), "regularization_path_l21.png")
    for name, est in models.items():
        if name in _BASELINES:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = clone(est).fit(X, Y)
        coef = getattr(fitted, "coef_", None)
        if coef is None or np.ndim(coef) != 2:
            continue
        save(plotting.plot_support_heatmap(fitted, task_names=names), f"support_{name}.png")
        save(plotting.plot_singular_values(fitted), f"singular_values_{name}.png")
        if name == best and coef.shape[0] > 1:
            save(plotting.plot_task_correlation(fitted, task_names=names), "task_correlation.png")
    return written


# --------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Errors as one line, ``prog: error: message``, exit status 2 (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(minimum):
    def check(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}; got {value}")
        return value

    return check


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer (-1: all cores); got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0 (a positive number of processes, or -1 for all cores)")
    return value


def _parser():
    from . import __version__

    p = _Parser(prog="skmtl", description="Multi-task learning with scikit-learn estimators.")
    p.add_argument("--version", action="version", version=f"skmtl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    d = sub.add_parser("demo", help="multi-task models against per-task models on a built-in problem")
    d.add_argument("--n-tasks", type=_int_at_least(2), default=12)
    d.add_argument("--n-train", type=_int_at_least(5), default=30, help="training rows (shared by the tasks)")
    d.add_argument("--n-features", type=_int_at_least(5), default=60)
    d.add_argument("--seed", type=_int_at_least(0), default=0)
    sub.add_parser("models", help="list the models 'skmtl compare --models' accepts")
    c = sub.add_parser("compare", help="cross-validated per-task comparison on a CSV file")
    c.add_argument("data", help="CSV file with a header row")
    c.add_argument("--targets", nargs="+", help="target columns, one per task (wide layout)")
    c.add_argument("--task-column", help="column holding the task labels (long layout)")
    c.add_argument("--target", help="target column (long layout)")
    c.add_argument("--features", nargs="+", help="feature columns (default: every other numeric column)")
    c.add_argument("--models", nargs="+",
                   help=f"models among {', '.join(_MODELS)} (default: every installed one), or the class name of "
                        f"any public regressor, built with its defaults ('skmtl models' lists them)")
    c.add_argument("--cv", type=_int_at_least(2), default=5, help="number of folds, at least 2 (default 5)")
    c.add_argument("--plots", metavar="DIR", help="write figures to this folder")
    c.add_argument("--output", metavar="FILE", help="write the results table to FILE (.csv or .json)")
    c.add_argument("--n-jobs", type=_n_jobs, default=None)
    c.add_argument("--verbose", action="store_true", help="progress bar")
    return p


def main(argv=None):
    """Run the ``skmtl`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``sys.argv[1:]`` when None.
    """
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command == "models":
        return _list_models()
    if args.targets and (args.task_column or args.target):
        raise SystemExit("skmtl compare: use either --targets (wide) or --task-column with --target (long).")
    if args.output:
        _output_format(args.output)  # before the fits
    return _compare(args)


def _list_models():
    print("short names (the default set of 'skmtl compare'):")
    for name, (label, _) in _MODELS.items():
        print(f"  {name:<12} {label}")
    print("public regressors (built with their defaults):")
    for name in public_regressors():
        print(f"  {name}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
