"""Benchmark: transfer to a new task (``fit_new_task``) against fresh single-task models.

Every multi-task model is fitted once on ``T`` tasks of
``make_multitask_regression`` with the structure it is built for; a new task
drawn from the same structure (a task of the same call left out of the fit)
then comes with ``n_new`` rows, ``n_new`` in 5, 10, 20, 50, 100. Its weights
are fitted by the model's ``fit_new_task`` (the learned structure as prior)
and, as peers, by a fresh ``RidgeCV`` and ``LassoCV`` (scikit-learn) on the
same rows. The score is the RMSE on 500 held-out rows of the new task (noisy
targets, noise standard deviation 1, so 1.0 is the floor), averaged over the
new tasks and seeds; ratios below 1 mean ours is better.

Cases (``d = 30`` features, ``T = 10`` tasks, 100 rows per task):

* ``row_sparse`` (5 shared informative features): ``L21RegressorCV`` and
  ``MultiTaskARDRegressor``;
* ``low_rank`` (rank 2): ``TraceNormRegressorCV``;
* ``mean`` (task_std 0.3 around a shared mean): ``MeanRegularizedRegressor``,
  ``TaskRelationshipRegressor`` and ``BayesianMultiTaskRegressor`` (EM).

Run: ``python benchmarks/bench_transfer.py`` (``--quick`` for a small smoke run).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoCV, RidgeCV

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import n_alphas_kw, print_report  # noqa: E402
from skmtl.bayes import BayesianMultiTaskRegressor, MultiTaskARDRegressor  # noqa: E402
from skmtl.datasets import make_multitask_regression  # noqa: E402
from skmtl.linear import (  # noqa: E402
    L21RegressorCV,
    MeanRegularizedRegressor,
    TaskRelationshipRegressor,
    TraceNormRegressorCV,
)

CASES = [
    ("L21RegressorCV", "row_sparse", lambda: L21RegressorCV(n_alphas=20)),
    ("MultiTaskARDRegressor", "row_sparse", lambda: MultiTaskARDRegressor()),
    ("TraceNormRegressorCV", "low_rank", lambda: TraceNormRegressorCV(n_alphas=10)),
    ("MeanRegularizedRegressor", "mean", lambda: MeanRegularizedRegressor(alpha=1.0, beta=0.01)),
    ("TaskRelationshipRegressor", "mean", lambda: TaskRelationshipRegressor(alpha=0.01, beta=0.001)),
    ("BayesianMultiTaskRegressor", "mean", lambda: BayesianMultiTaskRegressor()),
]


def _rmse(pred, y):
    return float(np.sqrt(np.mean((pred - y) ** 2)))


def _peers(Xn, yn, Xt, yt):
    ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(Xn, yn)
    lasso = LassoCV(cv=min(5, len(yn)), max_iter=5000, **n_alphas_kw(30)).fit(Xn, yn)
    return _rmse(ridge.predict(Xt), yt), _rmse(lasso.predict(Xt), yt)


def run(quick):
    d, T, n = (20, 6, 60) if quick else (30, 10, 100)
    sizes = (5, 20) if quick else (5, 10, 20, 50, 100)
    seeds = (0,) if quick else (0, 1, 2, 3)
    n_new_tasks = 2 if quick else 3
    n_test = 200 if quick else 500
    peer_cache = {}
    rows = []
    t0 = time.perf_counter()
    for name, structure, make in CASES:
        res = {k: [] for k in sizes}
        for seed in seeds:
            X, Y, coef = make_multitask_regression(n, d, T + n_new_tasks, structure=structure, random_state=seed)
            model = make().fit(X, Y[:, :T])
            for j in range(n_new_tasks):
                w = coef[T + j]
                rng = np.random.default_rng(1000 * seed + j)
                Xt = rng.standard_normal((n_test, d))
                yt = Xt @ w + rng.standard_normal(n_test)
                Xa = rng.standard_normal((max(sizes), d))
                ya = Xa @ w + rng.standard_normal(max(sizes))
                for k in sizes:
                    ours = _rmse(model.fit_new_task(Xa[:k], ya[:k]).predict(Xt), yt)
                    key = (structure, seed, j, k)
                    if key not in peer_cache:
                        peer_cache[key] = _peers(Xa[:k], ya[:k], Xt, yt)
                    res[k].append((ours, *peer_cache[key]))
        for k in sizes:
            o, r, la = np.mean(res[k], axis=0)
            rows.append([name, structure, k, f"{o:.3f}", f"{r:.3f}", f"{la:.3f}", f"{o / r:.2f}", f"{o / la:.2f}"])
    return rows, d, T, n, len(seeds) * n_new_tasks, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for the test suite")
    args = ap.parse_args(argv)
    print(f"# bench_transfer{' (quick)' if args.quick else ''}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows, d, T, n, n_new, seconds = run(args.quick)
    headers = ["model (fit_new_task)", "structure", "n_new", "ours RMSE", "RidgeCV", "LassoCV",
               "ours/RidgeCV", "ours/LassoCV"]
    print_report(
        f"new-task RMSE: d={d}, T={T} tasks x {n} rows, {n_new} new tasks", headers, rows,
        ["numpy", "scipy", "sklearn", "skmtl"],
        notes=[f"held-out RMSE on noisy targets (noise sd 1.0 is the floor), mean over {n_new} new tasks",
               "ratios < 1: fit_new_task beats the fresh single-task model on the same rows",
               f"total {seconds:.1f} s"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
