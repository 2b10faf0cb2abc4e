"""Fit time of the task-coupled models against the number of tasks (issue 20).

School-shaped long data: ``T`` tasks, 27 features, 80 rows per task, task
weights drawn around a shared mean (so the coupling matters). For
T = 10, 100, 139 (School), 1000: one fit of ``TaskRelationshipRegressor``,
``ClusteredRegressor`` (2 clusters) and ``MeanRegularizedRegressor`` at their
default strengths, the weight step by ``solver="auto"`` (a dense solve up to
100 unknowns, conjugate gradients preconditioned by the mean-Gram Sylvester operator above; before, a dense
Cholesky up to 4000 unknowns, 20 s on the School shape), beside the same fit
with ``solver="fista"`` where it finishes in the time budget. Target (issue 20): the School shape (T = 139, 11,000 training rows)
fits ``TaskRelationshipRegressor`` in under 2 s. A second table times the
CV estimators on the School shape with their default grids (10 ``alpha`` x 5
``beta``, 5 folds, one job); target: ``TaskRelationshipRegressorCV`` under 60 s.

Run: ``python benchmarks/bench_task_scaling.py [--quick] [--threads 1]``.
"""

import argparse
import os
import sys
import time
import warnings


def make(T, p=27, n_per=80, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T * n_per, p))
    task = np.repeat(np.arange(T), n_per)
    W = rng.standard_normal(p)[:, None] + 0.3 * rng.standard_normal((p, T))
    y = np.einsum("ij,ji->i", X, W[:, task]) + rng.standard_normal(T * n_per)
    return np.column_stack([X, task]), y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (set before numpy loads)")
    args = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))
    import numpy as np

    from skmtl.linear import ClusteredRegressor, MeanRegularizedRegressor, TaskRelationshipRegressor

    Ts = (10, 40) if args.quick else (10, 100, 139, 1000)
    models = [
        ("TaskRelationshipRegressor", lambda s: TaskRelationshipRegressor(solver=s, task_column=-1)),
        ("ClusteredRegressor", lambda s: ClusteredRegressor(n_clusters=2, random_state=0, solver=s, task_column=-1)),
        ("MeanRegularizedRegressor", lambda s: MeanRegularizedRegressor(solver=s, task_column=-1)),
    ]
    print(f"numpy {np.__version__}, BLAS threads {os.environ['OMP_NUM_THREADS']}")
    print("\n| model | T | rows | fit s (solver='auto': dense below 100 unknowns, else conjugate gradients) "
          "| fit s (solver='fista') | ratio auto / FISTA | max abs coef diff |")
    print("|---|---|---|---|---|---|---|")
    school = None
    for T in Ts:
        X, y = make(T)
        for name, build in models:
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a = build("auto").fit(X, y)
            t_cg = time.perf_counter() - t0
            if T <= (40 if args.quick else 139):
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    b = build("fista").fit(X, y)
                t_f = time.perf_counter() - t0
                diff = float(np.abs(a.coef_ - b.coef_).max())
                fista_cols = (f"{t_f:.2f}", f"{t_cg / t_f:.3f}", f"{diff:.1e}")
            else:
                fista_cols = ("not run (minutes)", "", "")
            print(f"| {name} | {T} | {len(y)} | {t_cg:.2f} | " + " | ".join(fista_cols) + " |", flush=True)
            if T == 139 and name == "TaskRelationshipRegressor":
                school = t_cg
    print()
    if school is None:
        print("Target: School-shaped TaskRelationshipRegressor fit < 2 s: not measured (--quick)")
    else:
        print(f"Target: School-shaped TaskRelationshipRegressor fit < 2 s: {school:.2f} s, "
              f"{'MET' if school < 2 else 'NOT MET'}")
    cv_time = cv_section(np, 40 if args.quick else 139, args.quick)
    label = "T = 40 (--quick)" if args.quick else "School-shaped"
    print(f"Target: {label} TaskRelationshipRegressorCV fit < 60 s: {cv_time:.1f} s, "
          f"{'MET' if cv_time < 60 else 'NOT MET'}")
    return 0


def cv_section(np, T, quick):
    """The CV estimators on the School shape: default grids (10 alpha x 5 beta, 5 folds), one job."""
    from skmtl.linear import (
        ClusteredRegressorCV,
        GraphRegularizedRegressorCV,
        MeanRegularizedRegressorCV,
        TaskRelationshipRegressorCV,
    )

    X, y = make(T)
    models = [
        ("MeanRegularizedRegressorCV", MeanRegularizedRegressorCV(task_column=-1)),
        ("GraphRegularizedRegressorCV", GraphRegularizedRegressorCV(task_column=-1)),
        ("TaskRelationshipRegressorCV", TaskRelationshipRegressorCV(task_column=-1)),
        ("ClusteredRegressorCV", ClusteredRegressorCV(random_state=0, task_column=-1)),
    ]
    if quick:  # a smoke run: two models, small grids
        models = models[:1] + models[2:3]
        for _, est in models:
            est.set_params(n_alphas=4, n_betas=2, cv=3)
    print(f"\n| CV estimator (T = {T}, {len(y)} rows, default grids, cv=5, n_jobs=None) | fit s | "
          "CPU s (this process) | alpha_ | beta_ | grid points |")
    print("|---|---|---|---|---|---|")
    times = {}
    for name, est in models:
        t0, c0 = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        times[name] = time.perf_counter() - t0
        print(f"| {name} | {times[name]:.1f} | {time.process_time() - c0:.1f} | {est.alpha_:.3g} | "
              f"{est.beta_:.3g} | {len(est.cv_results_['params'])} |", flush=True)
    return times["TaskRelationshipRegressorCV"]


if __name__ == "__main__":
    sys.exit(main())
