"""TaskGroupingRegressor's ``min_evidence`` and ``blend`` against held-out error: the issue-20 "never lose" trade-off.

For each data set of ``bench_real`` (same loaders, preprocessing, outer protocol and family choice:
the fast CV family with the best inner score is wrapped, on each training part only), fits
``IndependentRegressor(RidgeCV)`` and, for each value ``v``, ``TaskGroupingRegressor(blend=False,
min_evidence=v)`` (a number) or ``TaskGroupingRegressor(blend="huber")`` (``v = blend``, the default
model; ``blend-ls``: ``blend="least_squares"``), and prints the held-out error of each grouping model relative to ``Independent(RidgeCV)``
(aRRMSE on the shared-input sets, RMSE on the split sets; below 0 is better) and the mean number of
tasks shared.

    python benchmarks/bench_grouping_evidence.py --datasets edm,scpf,parkinsons --values 0,1,blend --folds 3
    python benchmarks/bench_grouping_evidence.py --datasets edm --values blend,blend/k10,blend/r3
    python benchmarks/bench_grouping_evidence.py --datasets edm,slump --values blend --outer-seeds 0,1,2,3,4
    python benchmarks/bench_grouping_evidence.py --datasets scpf --values blend,blend-ls --outer-seeds 0,1,2,3,4
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_real as br  # noqa: E402
from skmtl.baselines import IndependentRegressor  # noqa: E402
from skmtl.model_selection import TaskGroupingRegressor  # noqa: E402


def fit_fold(ds, Xtr, ytr, Xte, values):
    """Predictions of Independent(RidgeCV) and of the grouping model for each value; tasks shared."""
    tc = ds["task_column"]
    out = {"ind_cv": IndependentRegressor(RidgeCV(alphas=br.RIDGE_CV_ALPHAS), task_column=tc).fit(Xtr, ytr)
           .predict(Xte)}
    fitted = {label: est.fit(Xtr, ytr) for label, est in br.cv_families(ds, False) if label in br.FAST}
    family = max(fitted, key=lambda lb: br._inner_score(fitted[lb]))
    shared = {}
    for v in values:
        rule_text, _, folds = v.partition("/")
        if rule_text.startswith("blend"):  # "blend[-ls]" (min_evidence="auto") or "blend[-ls]:<min_evidence>"
            method, _, level = rule_text.partition(":")
            rule = {"blend": "least_squares" if method == "blend-ls" else "huber",
                    "min_evidence": float(level) if level else "auto"}
        else:
            rule = {"blend": False, "min_evidence": float(rule_text)}
        g = TaskGroupingRegressor(clone(fitted[family]), cv=_inner_folds(ds, folds), task_column=tc,
                                  **rule).fit(Xtr, ytr)
        out[v] = g.predict(Xte)
        shared[v] = sum(len(x) for x in g.task_groups_)
    return out, shared


def _inner_folds(ds, spec):
    """bench_real's inner folds, or (``spec``) ``k<K>``: K of them, ``r<R>``: R shuffled repeats of them."""
    if not spec:
        return br._cv(ds, False, own=True)
    kind, count = spec[0], int(spec[1:])
    if kind == "k":
        base = br._cv(ds, False, own=True)
        base.n_splits = count
        return base
    if kind == "r":
        return _Repeated(ds, count)
    raise ValueError(f"unknown fold spec {spec!r}: k<K> or r<R>")


class _Repeated:
    """``R`` repeats of bench_real's inner folds with seeds 0..R-1 (an iterable of splits per ``split``)."""

    def __init__(self, ds, repeats):
        self.ds, self.repeats = ds, repeats

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.repeats * br._cv(self.ds, False, own=True).get_n_splits()

    def split(self, X, y=None, groups=None):
        for seed in range(self.repeats):
            base = br._cv(self.ds, False, own=True)
            base.random_state = seed
            yield from base.split(X, y, groups)


def run(name, values, folds, data_dir, outer_seed=0):
    ds = br._loaders(folds)[name](data_dir, False)
    if ds is None:
        print(f"{name}: skipped (files not found under {data_dir})")
        return
    ds = br.repeat_outer_folds(ds, [outer_seed])  # another shuffle of the same outer K-fold protocol
    t0 = time.perf_counter()
    scores, shared = {}, {v: [] for v in values}
    if ds["layout"] == "shared":
        X, Y = ds["X"], ds["Y"]
        ds["n_tasks"] = Y.shape[1]
        for tr, te in ds["folds"]:
            Xtr, Xte = br._impute_standardize(X[tr], X[te])
            ym, ys = np.nanmean(Y[tr], 0), np.nanstd(Y[tr], 0)
            ys = np.where(ys > 0, ys, 1.0)
            Ytr = (Y[tr] - ym) / ys
            out, sh = fit_fold(dict(ds, graph=br.correlation_graph(Ytr)), Xtr, Ytr, Xte, values)
            Yte = Y[te]
            obs = ~np.isnan(Yte)
            for k in ["ind_cv"] + values:
                err = out[k] * ys + ym - Yte
                sse = np.nansum(np.where(obs, err ** 2, np.nan), 0)
                sst = np.nansum(np.where(obs, (Yte - ym) ** 2, np.nan), 0)
                scores.setdefault(k, []).append(np.mean(np.sqrt(sse / sst)))
            for v in values:
                shared[v].append(sh[v])
        metric = "aRRMSE"
    else:
        ds["n_tasks"] = (len(np.unique(ds["X_train"][:, ds["task_column"]])) if ds["layout"] == "long"
                         else ds["y_train"].shape[1])
        out, sh = fit_fold(ds, ds["X_train"], ds["y_train"], ds["X_test"], values)
        for k in ["ind_cv"] + values:
            scores[k] = [np.sqrt(np.nanmean((out[k] - ds["y_test"]) ** 2))]
        for v in values:
            shared[v].append(sh[v])
        metric = "RMSE"
    ref = np.mean(scores["ind_cv"])
    parts = [f"{v if v.startswith('blend') else f'min_evidence={v}'}: {100 * (np.mean(scores[v]) / ref - 1):+.2f}% (shared {np.mean(shared[v]):.1f} "
             f"of {ds['n_tasks']})" for v in values]
    seed = f", outer seed {outer_seed}" if outer_seed else ""
    print(f"{name} ({metric}{seed}, vs Independent(RidgeCV)): " + "; ".join(parts)
          + f"  [{time.perf_counter() - t0:.0f} s]", flush=True)
    return {v: 100 * (np.mean(scores[v]) / ref - 1) for v in values}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default="parkinsons,edm,scpf,computer_survey")
    ap.add_argument("--values", default="0,1,blend", help="min_evidence values (blend=False), 'blend' / 'blend-ls' (Huber / least-squares "
                    "weights) or 'blend[-ls]:<min_evidence>', "
                    "each optionally followed by /k<K> (K inner folds) or /r<R> (R repeats of the inner folds)")
    ap.add_argument("--folds", type=int, default=None, help="outer folds of the shared-input sets (bench_real's "
                                                           "default when not given)")
    ap.add_argument("--outer-seeds", default="0", help="seeds of the outer shuffle of the shared-input sets "
                                                        "(bench_real uses 0); one line per seed")
    ap.add_argument("--data-dir", type=Path, default=br.DEFAULT_DATA)
    args = ap.parse_args(argv)
    values = args.values.split(",")
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        for name in args.datasets.split(","):
            seeds = [int(v) for v in args.outer_seeds.split(",")]
            rel = [run(name, values, args.folds, args.data_dir, seed) for seed in seeds]
            rel = [r for r in rel if r is not None]
            if len(rel) > 1:
                print(f"{name}, mean over outer seeds {args.outer_seeds}: " + "; ".join(
                    f"{v}: {np.mean([r[v] for r in rel]):+.2f}% (sd {np.std([r[v] for r in rel], ddof=1):.2f})"
                    for v in values), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
