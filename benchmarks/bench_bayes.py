"""Benchmark: Bayesian multi-task linear models against per-task and pooled peers.

Models: ``BayesianMultiTaskRegressor`` (EM, full and diagonal Sigma, with its default
hierarchical priors on the noise variances and, for the full Sigma, on Sigma; Gibbs) and
``MultiTaskARDRegressor`` from skmtl; per-task ``BayesianRidge`` and
``ARDRegression`` (scikit-learn, one fit per task) and ``PooledRegressor``
(one ``BayesianRidge`` on all tasks with per-task intercepts).

Data sets:

* ``synthetic``: drawn from the hierarchical model (well specified), long
  input, 60 tasks, 5 features, 20 training rows per task, 50 held-out rows
  per task; RMSE. ``synthetic_small_n``: the same with 10 features and 15
  training rows per task (a plug-in estimate of Sigma and of each task's
  noise is then rough: what the EM priors are for).
* Gibbs speed: effective samples per second of the shared mean (smallest
  over its components) for T=50 tasks, d=20 features, n=100 rows per task.
* ``computer_survey``: Lenk et al. (1996), 190 respondents (tasks) x 20
  profiles, 13 +-1 attributes (the constant column of the design dropped,
  each model has its own intercept); train on profiles 1-16, test on 17-20;
  RMSE.
* ``parkinsons``: Tsanas et al. (2009), one task per patient (42), target
  ``motor_UPDRS``, features test_time and 14 voice measures (age and sex
  are constant within a patient, so confounded with the per-patient
  intercept, and left out; Jitter:DDP and Shimmer:DDA are exactly 3 x
  Jitter:RAP and 3 x Shimmer:APQ3, and left out); a random 75/25 split of
  each patient's recordings (seed 0); MAE.

For every model: the error, the coverage of the central 90% predictive
interval ``mean +- 1.645 std`` on the test targets, its mean width, and the
fit time (s). Real data are read from ``../shared/data`` (``--data-dir``);
a data set whose files are absent is skipped with a note.

At the end it prints whether each target is met:

* Gibbs speed: >= 1,000 effective samples per second of the shared mean
  (smallest component), T=50, d=20, n=100 (chains one after another, as in
  ``tests/test_bayes.py::test_gibbs_effective_samples_per_second``);
* coverage of the 90% intervals: 87-93% where well specified (the synthetic
  sets, for the models whose prior family holds the truth: EM full and
  Gibbs), >= 80% on the real data (every skmtl model);
* lower test error than per-task ``BayesianRidge`` on both computer survey
  and Parkinson's (met when some skmtl model beats it on both).

Run: ``python benchmarks/bench_bayes.py`` (``--quick`` for a small smoke run).
"""

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.linear_model import ARDRegression, BayesianRidge

import skmtl
from skmtl.baselines import PooledRegressor
from skmtl.bayes import BayesianMultiTaskRegressor, MultiTaskARDRegressor

Z90 = 1.6448536269514722
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# --------------------------------------------------------------------------- data


def synthetic(quick, seed=0, hard=False):
    rng = np.random.default_rng(seed)
    if hard:
        T, d, n, n_test = (20, 10, 15, 30) if quick else (60, 10, 15, 50)
    else:
        T, d, n, n_test = (20, 5, 20, 30) if quick else (60, 5, 20, 50)
    mu = rng.normal(size=d + 1)
    B = rng.normal(size=(d + 1, d + 1)) * 0.3
    Sigma = B @ B.T + 0.05 * np.eye(d + 1)
    W = rng.multivariate_normal(mu, Sigma, size=T)
    sig = rng.uniform(0.5, 1.5, size=T)
    m = n + n_test
    X = rng.normal(size=(T, m, d))
    y = np.einsum("tnd,td->tn", X, W[:, :d]) + W[:, d][:, None] + rng.normal(size=(T, m)) * sig[:, None]
    tr = np.zeros(m, dtype=bool)
    tr[:n] = True
    task = np.repeat(np.arange(T), m)
    X2 = X.reshape(-1, d)
    y2 = y.ravel()
    tr2 = np.tile(tr, T)
    return dict(name="synthetic_small_n" if hard else "synthetic", metric="RMSE", X_train=X2[tr2], y_train=y2[tr2], t_train=task[tr2],
                X_test=X2[~tr2], y_test=y2[~tr2], t_test=task[~tr2], well_specified=True)


def computer_survey(data_dir, quick):
    path = Path(data_dir) / "computer_survey" / "conjointAnalysisComputerBuyers.mat"
    if not path.exists():
        return None
    import scipy.io

    mat = scipy.io.loadmat(path)
    design = mat["designMarix"].astype(np.float64)[:, 1:]  # drop the constant column
    ratings = mat["likeBuy"].astype(np.float64)  # (190 respondents, 20 profiles)
    if quick:
        ratings = ratings[:40]
    T, P = ratings.shape
    task = np.repeat(np.arange(T), P)
    X = np.tile(design, (T, 1))
    y = ratings.ravel()
    tr = np.tile(np.arange(P) < 16, T)
    return dict(name="computer_survey", metric="RMSE", X_train=X[tr], y_train=y[tr], t_train=task[tr],
                X_test=X[~tr], y_test=y[~tr], t_test=task[~tr], well_specified=False)


def parkinsons(data_dir, quick, seed=0):
    path = Path(data_dir) / "parkinsons" / "parkinsons_updrs.data"
    if not path.exists():
        return None
    import pandas as pd

    df = pd.read_csv(path)
    subjects = np.unique(df["subject#"].to_numpy())
    if quick:
        df = df[df["subject#"].isin(subjects[:10])]
    # age and sex are constant within a patient: with one task per patient they are the
    # patient's intercept under another name, so they are left out for every model
    # Jitter:DDP = 3 Jitter:RAP and Shimmer:DDA = 3 Shimmer:APQ3 exactly: dropped too (an exactly
    # collinear direction is fixed by the prior alone, where a Gibbs sampler mixes slowly)
    feats = ["test_time"] + [f for f in df.columns[6:] if f not in ("Jitter:DDP", "Shimmer:DDA")]
    X = df[feats].to_numpy(dtype=np.float64)
    y = df["motor_UPDRS"].to_numpy(dtype=np.float64)
    _, task = np.unique(df["subject#"].to_numpy(), return_inverse=True)
    rng = np.random.default_rng(seed)
    tr = np.zeros(len(y), dtype=bool)
    for t in np.unique(task):
        rows = np.flatnonzero(task == t)
        tr[rng.choice(rows, int(round(0.75 * len(rows))), replace=False)] = True
    return dict(name="parkinsons", metric="MAE", X_train=X[tr], y_train=y[tr], t_train=task[tr],
                X_test=X[~tr], y_test=y[~tr], t_test=task[~tr], well_specified=False)


# -------------------------------------------------------------------------- models


def _ours(make):
    def run(D):
        est = make()
        Xl = np.column_stack([D["t_train"], D["X_train"]])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(Xl, D["y_train"])
        fit_time = time.perf_counter() - t0
        mean, std = est.predict(np.column_stack([D["t_test"], D["X_test"]]), return_std=True)
        return mean, std, fit_time, est

    return run


def _per_task(make):
    def run(D):
        mean = np.empty(len(D["y_test"]))
        std = np.empty(len(D["y_test"]))
        fit_time = 0.0
        for t in np.unique(D["t_train"]):
            tr, te = D["t_train"] == t, D["t_test"] == t
            est = make()
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(D["X_train"][tr], D["y_train"][tr])
            fit_time += time.perf_counter() - t0
            if te.any():
                mean[te], std[te] = est.predict(D["X_test"][te], return_std=True)
        return mean, std, fit_time, None

    return run


def _pooled(D):
    est = PooledRegressor(BayesianRidge(), task_column=0)
    Xl = np.column_stack([D["t_train"], D["X_train"]])
    t0 = time.perf_counter()
    est.fit(Xl, D["y_train"])
    fit_time = time.perf_counter() - t0
    codes = np.searchsorted(est.tasks_, D["t_test"])
    mean, std = est.estimator_.predict(est._center(D["X_test"], codes), return_std=True)
    return mean + est.task_y_mean_[codes], std, fit_time, None


def models(quick):
    gibbs_kw = dict(n_chains=2, n_samples=200, burn_in=100) if quick else dict(n_chains=4, n_samples=1000, burn_in=1000)
    return {
        "BayesianMTR em full (ours)": _ours(lambda: BayesianMultiTaskRegressor(task_column=0)),
        "BayesianMTR em diagonal (ours)": _ours(lambda: BayesianMultiTaskRegressor(covariance="diagonal", task_column=0)),
        "BayesianMTR gibbs (ours)": _ours(lambda: BayesianMultiTaskRegressor(method="gibbs", random_state=0,
                                                                             task_column=0, **gibbs_kw)),
        "MultiTaskARD (ours)": _ours(lambda: MultiTaskARDRegressor(task_column=0)),
        "per-task BayesianRidge": _per_task(BayesianRidge),
        "per-task ARDRegression": _per_task(ARDRegression),
        "Pooled BayesianRidge": _pooled,
    }


# --------------------------------------------------------------------------- main


def evaluate(D, quick):
    rows = []
    base_time = None
    for name, run in models(quick).items():
        mean, std, fit_time, est = run(D)
        err = D["y_test"] - mean
        score = np.sqrt(np.mean(err**2)) if D["metric"] == "RMSE" else np.mean(np.abs(err))
        cover = np.mean(np.abs(err) <= Z90 * std)
        width = np.mean(2 * Z90 * std)
        if name == "per-task BayesianRidge":
            base_time = fit_time
        extra = ""
        if est is not None and getattr(est, "method", None) == "gibbs":
            dg = est.diagnostics_
            extra = f"R-hat {dg['max_rhat']:.3f}, ESS/s {dg['min_ess_per_second']:.0f}"
        rows.append([name, score, cover, width, fit_time, extra])
    return rows, base_time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for the test suite")
    ap.add_argument("--data-dir", default=str(DEFAULT_DATA), help="folder of the shared real data")
    args = ap.parse_args(argv)

    print(f"# bench_bayes{' (quick)' if args.quick else ''}\n")
    print(f"skmtl {skmtl.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, Python {platform.python_version()}\n")
    datasets = [synthetic(args.quick), synthetic(args.quick, seed=1, hard=True),
                computer_survey(args.data_dir, args.quick), parkinsons(args.data_dir, args.quick)]
    names = ["synthetic", "synthetic_small_n", "computer_survey", "parkinsons"]
    # compile the Gibbs sampler once, outside every timing
    warm = synthetic(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        BayesianMultiTaskRegressor(method="gibbs", n_chains=1, n_samples=2, burn_in=0, task_column=0).fit(
            np.column_stack([warm["t_train"], warm["X_train"]]), warm["y_train"])
    results = {}
    for name, D in zip(names, datasets):
        if D is None:
            print(f"## {name}: skipped (data not found under {args.data_dir})\n")
            continue
        n_tasks = len(np.unique(D["t_train"]))
        print(f"## {name}: {n_tasks} tasks, {D['X_train'].shape[1]} features, {len(D['y_train'])} train / "
              f"{len(D['y_test'])} test rows; {'well specified' if D['well_specified'] else 'real data'}\n")
        rows, base = evaluate(D, args.quick)
        results[name] = {r[0]: (r[1], r[2]) for r in rows}
        print(f"| model | {D['metric']} | 90% coverage | mean width | fit time (s) | time / per-task BR | notes |")
        print("|---|---|---|---|---|---|---|")
        for name_m, score, cover, width, fit_time, extra in rows:
            ratio = fit_time / base if base else float("nan")
            print(f"| {name_m} | {score:.4f} | {cover:.3f} | {width:.3f} | {fit_time:.3f} | {ratio:.2f} | {extra} |")
        print()
    speed = gibbs_speed(args.quick)
    print_targets(results, speed, args.quick)
    return 0


WELL_SPECIFIED_MODELS = ("BayesianMTR em full (ours)", "BayesianMTR gibbs (ours)")


def print_targets(results, speed, quick):
    """Print whether the Gibbs-speed, coverage and test-error targets are met."""
    yn = lambda ok: "yes" if ok else "no"  # noqa: E731
    verdict = lambda ok: "MET" if ok else "NOT MET"  # noqa: E731
    print("## Targets" + (" (--quick: small sizes, not the target sizes; indicative only)" if quick else "") + "\n")
    seq = speed.get(1)
    print(f"- Gibbs >= 1000 effective samples/s of the shared mean (smallest component), "
          f"T=50, d=20, n=100: {verdict(seq is not None and seq >= 1000)}")
    for n_jobs, v in speed.items():
        print(f"    - n_jobs={n_jobs}: {v:.0f} ESS/s: {yn(v >= 1000)}")
    checks = []
    for name in ("synthetic", "synthetic_small_n"):
        for model, (_, cover) in results.get(name, {}).items():
            if model in WELL_SPECIFIED_MODELS:
                checks.append((f"{name}, {model}: {cover:.3f}", 0.87 <= cover <= 0.93))
    ok = bool(checks) and all(c for _, c in checks)
    print(f"- 90% interval coverage 87-93% where well specified: {verdict(ok) if checks else 'not measured'}")
    for desc, c in checks:
        print(f"    - {desc}: {yn(c)}")
    checks = []
    for name in ("computer_survey", "parkinsons"):
        for model, (_, cover) in results.get(name, {}).items():
            if model.endswith("(ours)"):
                checks.append((f"{name}, {model}: {cover:.3f}", cover >= 0.80))
    ok = bool(checks) and all(c for _, c in checks)
    print(f"- 90% interval coverage >= 80% on real data: "
          f"{verdict(ok) if checks else 'not measured (real data absent)'}")
    for desc, c in checks:
        print(f"    - {desc}: {yn(c)}")
    real = [n for n in ("computer_survey", "parkinsons") if n in results]
    ours = [m for m in next(iter(results.values()), {}) if m.endswith("(ours)")]
    winners = []
    for model in ours:
        wins = [results[n][model][0] < results[n]["per-task BayesianRidge"][0] for n in real]
        if len(real) == 2 and all(wins):
            winners.append(model)
    if len(real) < 2:
        print("- lower test error than per-task BayesianRidge on computer survey and Parkinson's: "
              "not measured (real data absent)")
    else:
        print(f"- lower test error than per-task BayesianRidge on computer survey and Parkinson's: "
              f"{verdict(bool(winners))}" + (f" (by {', '.join(winners)})" if winners else ""))
        for n in real:
            br = results[n]["per-task BayesianRidge"][0]
            for model in ours:
                e = results[n][model][0]
                print(f"    - {n}, {model}: {e:.4f} vs per-task BayesianRidge {br:.4f}: {yn(e < br)}")
    print()


def gibbs_speed(quick):
    T, d, n = (10, 5, 30) if quick else (50, 20, 100)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(T, d)) * 0.5 + rng.normal(size=d)
    X = rng.normal(size=(T, n, d))
    y = np.einsum("tnd,td->tn", X, W) + rng.normal(size=(T, n))
    Xl = np.column_stack([np.repeat(np.arange(T), n), X.reshape(-1, d)])
    n_samples = 200 if quick else 2000
    print(f"## Gibbs speed: T={T}, d={d}, n={n} per task, 4 chains x {n_samples} draws after 200 burn-in\n")
    print("| chains run | sampling time (s) | min ESS of mu | min ESS of mu per second | max R-hat |")
    print("|---|---|---|---|---|")
    speed = {}
    for n_jobs, label in [(1, "one after another (n_jobs=1)"), (-1, "in parallel threads (n_jobs=-1)")]:
        est = BayesianMultiTaskRegressor(method="gibbs", task_column=0, n_chains=4, n_samples=n_samples,
                                         burn_in=200, n_jobs=n_jobs, random_state=0).fit(Xl, y.ravel())
        dg = est.diagnostics_
        print(f"| {label} | {dg['sampling_seconds']:.2f} | {dg['min_ess_prior_mean']:.0f} | "
              f"{dg['min_ess_per_second']:.0f} | {dg['max_rhat']:.3f} |")
        speed[n_jobs] = float(dg["min_ess_per_second"])
    print()
    return speed


if __name__ == "__main__":
    sys.exit(main())
