"""Benchmark: skmtl's L2,1 (multi-task group lasso) against scikit-learn and skglm.

Run ``python benchmarks/bench_linear.py`` (full sizes, several minutes) or
``--quick`` (small sizes, seconds; used by the tests). All solvers run in this
process, interleaved, best of ``--repeat`` runs; each solution's objective

    1/(2n) ||Y - X W^T - 1 b^T||_F^2 + alpha sum_j ||W_{:, j}||_2

is computed here and reported as relative suboptimality against the best of
the solvers on that case.

Cases: (a) single fits (dense p >> n, tall, sparse X), (b) L21RegressorCV vs
MultiTaskLassoCV, (d) a genomics-shaped path (SNP dosages as float32, time
and peak memory, in a subprocess), (e) a new process's ``import skmtl`` and
first fit with the Numba cache warm, (f) L21RegressorCV with an ``l1_ratio``
grid vs MultiTaskElasticNetCV (same folds, same grids; the selected
``(alpha, l1_ratio)`` and the refit's elastic-net objective are compared),
(g) group MCP and group SCAD single fits vs skglm's ``BlockMCPenalty`` /
``BlockSCAD`` with ``MultiTaskBCD`` (no intercept, standardized columns, the
same KKT tolerance; non-convex, so the objectives of the two stationary points
and their largest coefficient difference are reported).
"""

import argparse
import os
import sys
import textwrap
import warnings

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import interleaved, print_report, run_python  # noqa: E402

PACKAGES = ["numpy", "scipy", "numba", "sklearn", "skglm", "skmtl"]


def _objective(X, Y, coef, intercept, alpha):
    R = Y - np.asarray(X @ coef.T) - intercept
    return 0.5 * float((R**2).sum()) / X.shape[0] + alpha * float(np.linalg.norm(coef, axis=0).sum())


def _fmt_t(t):
    return "skipped" if not np.isfinite(t) else (f"{t * 1e3:.0f} ms" if t < 1 else f"{t:.2f} s")


def _dense_problem(n, p, T, k, seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.standard_normal((n, p)).astype(dtype))
    W = np.zeros((p, T))
    W[rng.choice(p, k, replace=False)] = rng.standard_normal((k, T))
    Y = np.asarray(X @ W) + rng.standard_normal((n, T)) + rng.standard_normal(T)
    return X, Y


def _sparse_problem(n, p, T, density, k, seed):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csc", random_state=seed,
                  data_rvs=lambda s: rng.standard_normal(s))
    W = np.zeros((p, T))
    W[rng.choice(p, k, replace=False)] = rng.standard_normal((k, T))
    Y = np.asarray(X @ W) + 0.1 * rng.standard_normal((n, T))
    return X, Y


def case_single_fits(quick, repeat, tol):
    from sklearn.linear_model import MultiTaskLasso

    from skmtl.linear import L21Regressor
    from skmtl.linear import l21_alpha_max

    try:
        import skglm
    except ImportError:  # pragma: no cover
        skglm = None

    if quick:
        cases = [("dense p>>n", _dense_problem(60, 300, 5, 10, 0), 10),
                 ("dense p>>n", _dense_problem(60, 300, 5, 10, 0), 50),
                 ("tall", _dense_problem(600, 30, 4, 10, 1), 20),
                 ("sparse X (1%)", _sparse_problem(400, 1000, 3, 0.01, 20, 2), 20)]
    else:
        cases = [("dense p>>n", _dense_problem(300, 3000, 20, 30, 0), 10),
                 ("dense p>>n", _dense_problem(300, 3000, 20, 30, 0), 50),
                 ("tall", _dense_problem(10000, 200, 10, 20, 1), 20),
                 ("sparse X (1%)", _sparse_problem(5000, 20000, 5, 0.01, 50, 2), 20)]
    # warm the Numba cache / compilation outside the timings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L21Regressor(0.1, max_iter=2).fit(cases[0][1][0][:20], cases[0][1][1][:20])
        L21Regressor(0.1, max_iter=2).fit(cases[-1][1][0][:50], cases[-1][1][1][:50])
        if skglm is not None:  # Numba compilation of skglm, dense and sparse
            for Xw, Yw in ((cases[0][1][0][:20, :30], cases[0][1][1][:20]),
                           (cases[-1][1][0][:50, :30], cases[-1][1][1][:50])):
                skglm.MultiTaskLasso(0.1, max_iter=2).fit(Xw, Yw)
    rows, notes = [], []
    for name, (X, Y), div in cases:
        alpha = l21_alpha_max(X, Y) / div
        fns = {"skmtl": lambda: L21Regressor(alpha, tol=tol, max_iter=100000).fit(X, Y)}
        if not sp.issparse(X):
            fns["sklearn"] = lambda: MultiTaskLasso(alpha, tol=tol, max_iter=100000).fit(X, Y)
        if skglm is not None:
            fns["skglm"] = lambda: skglm.MultiTaskLasso(alpha, tol=tol, max_iter=100,
                                                        max_epochs=100000).fit(X, Y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = interleaved(fns, repeat)
        objs = {k: _objective(X, Y, m.coef_, m.intercept_, alpha) for k, (_, m) in res.items()}
        best = min(objs.values())
        sub = {k: (v - best) / abs(best) for k, v in objs.items()}
        t_ours = res["skmtl"][0]
        peers = [k for k in res if k != "skmtl"]
        fastest = min(peers, key=lambda k: res[k][0])
        n, p = X.shape
        sizes = f"n={n}, p={p}, T={Y.shape[1]}" + (f", nnz={X.nnz}" if sp.issparse(X) else "")
        for k in peers:
            rows.append([f"(a) {name}, alpha_max/{div}", sizes, _fmt_t(t_ours), f"{k}: {_fmt_t(res[k][0])}",
                         f"{t_ours / res[k][0]:.2f}" + (" *" if k == fastest else ""),
                         f"{sub['skmtl']:.1e} / {sub[k]:.1e}"])
        if sp.issparse(X):
            notes.append("sklearn's MultiTaskLasso does not accept sparse X: skipped on the sparse case.")
    notes.append(f"(a) tol={tol} for every solver (skmtl and sklearn: duality gap relative to the "
                 f"objective scale; skglm: KKT violation); * marks the fastest peer.")
    return rows, notes


def case_cv(quick, repeat):
    from sklearn.linear_model import MultiTaskLassoCV

    from skmtl.linear import L21RegressorCV

    n, p, T = (80, 100, 4) if quick else (300, 1000, 10)
    X, Y = _dense_problem(n, p, T, 20, 3)
    n_alphas, cv = (10, 3) if quick else (30, 5)
    with warnings.catch_warnings():  # warm-up (Numba cache load)
        warnings.simplefilter("ignore")
        L21RegressorCV(n_alphas=3, cv=cv).fit(X[:30], Y[:30])
    fns = {"skmtl": lambda: L21RegressorCV(n_alphas=n_alphas, cv=cv).fit(X, Y),
           "sklearn": lambda: MultiTaskLassoCV(alphas=n_alphas, cv=cv).fit(X, Y)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = interleaved(fns, repeat)
    ours, peer = res["skmtl"][1], res["sklearn"][1]
    same = np.isclose(ours.alpha_, peer.alpha_, rtol=1e-10)
    alpha = ours.alpha_
    o1 = _objective(X, Y, ours.coef_, ours.intercept_, alpha)
    o2 = _objective(X, Y, peer.coef_, peer.intercept_, peer.alpha_)
    best = min(o1, o2)
    rows = [["(b) CV path", f"n={n}, p={p}, T={T}, {n_alphas} alphas, {cv} folds",
             _fmt_t(res["skmtl"][0]), f"MultiTaskLassoCV: {_fmt_t(res['sklearn'][0])}",
             f"{res['skmtl'][0] / res['sklearn'][0]:.2f}",
             f"alpha_ {'same' if same else 'DIFFERENT'} ({ours.alpha_:.4g} / {peer.alpha_:.4g}); "
             f"refit {(o1 - best) / best:.1e} / {(o2 - best) / best:.1e}"]]
    return rows, ["(b) both with default tol=1e-4, n_jobs=None (folds one after the other)."]


def case_enet_cv(quick, repeat):
    from sklearn.linear_model import MultiTaskElasticNetCV

    from skmtl.linear import L21RegressorCV

    n, p, T = (80, 100, 4) if quick else (300, 1000, 10)
    X, Y = _dense_problem(n, p, T, 20, 3)
    n_alphas, cv = (10, 3) if quick else (30, 5)
    ratios = [0.5, 0.8, 1.0]
    with warnings.catch_warnings():  # warm-up (Numba cache load)
        warnings.simplefilter("ignore")
        L21RegressorCV(l1_ratio=[0.5, 1.0], n_alphas=3, cv=cv).fit(X[:30], Y[:30])
    fns = {"skmtl": lambda: L21RegressorCV(l1_ratio=ratios, n_alphas=n_alphas, cv=cv).fit(X, Y),
           "sklearn": lambda: MultiTaskElasticNetCV(l1_ratio=ratios, alphas=n_alphas, cv=cv).fit(X, Y)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = interleaved(fns, repeat)
    ours, peer = res["skmtl"][1], res["sklearn"][1]
    same = np.isclose(ours.alpha_, peer.alpha_, rtol=1e-10) and ours.l1_ratio_ == peer.l1_ratio_

    def objective(m, alpha, rho):
        R = Y - X @ m.coef_.T - m.intercept_
        W = m.coef_.T
        return (0.5 / n * (R ** 2).sum() + alpha * rho * np.sqrt((W ** 2).sum(axis=1)).sum()
                + 0.5 * alpha * (1 - rho) * (W ** 2).sum())

    o1 = objective(ours, ours.alpha_, ours.l1_ratio_)
    o2 = objective(peer, ours.alpha_, ours.l1_ratio_)
    best = min(o1, o2)
    rows = [["(f) elastic-net CV", f"n={n}, p={p}, T={T}, l1_ratio {ratios}, {n_alphas} alphas, {cv} folds",
             _fmt_t(res["skmtl"][0]), f"MultiTaskElasticNetCV: {_fmt_t(res['sklearn'][0])}",
             f"{res['skmtl'][0] / res['sklearn'][0]:.2f}",
             f"(alpha_, l1_ratio_) {'same' if same else 'DIFFERENT'} ({ours.alpha_:.4g}, {ours.l1_ratio_} / "
             f"{peer.alpha_:.4g}, {peer.l1_ratio_}); refit {(o1 - best) / best:.1e} / {(o2 - best) / best:.1e}"]]
    return rows, ["(f) both with default tol=1e-4, n_jobs=None ((l1_ratio, fold) pairs one after the other)."]


def case_nonconvex(quick, repeat, tol):
    from skmtl.linear import L21Regressor, l21_alpha_max

    try:
        from skglm.datafits import QuadraticMultiTask
        from skglm.penalties import BlockMCPenalty, BlockSCAD
        from skglm.solvers import MultiTaskBCD
    except ImportError:  # pragma: no cover
        return [], ["(g) skipped: skglm is not installed."]
    n, p, T, k = (60, 300, 5, 10) if quick else (300, 3000, 20, 30)
    X, Y = _dense_problem(n, p, T, k, 4)
    X = np.asfortranarray(X / np.sqrt((X ** 2).mean(axis=0)))
    amax = l21_alpha_max(X, Y, fit_intercept=False)
    with warnings.catch_warnings():  # compile outside the timings
        warnings.simplefilter("ignore")
        for pen, P in (("group_mcp", BlockMCPenalty), ("group_scad", BlockSCAD)):
            L21Regressor(0.5 * amax, penalty=pen, fit_intercept=False, max_iter=3).fit(X[:20, :30], Y[:20])
            MultiTaskBCD(max_iter=2, fit_intercept=False).solve(X[:20, :30], Y[:20], QuadraticMultiTask(), P(amax, 3.7))
    rows = []
    for pen, P, gamma in (("group_mcp", BlockMCPenalty, 3.0), ("group_scad", BlockSCAD, 3.7)):
        for div in (10, 30):
            alpha = amax / div
            fns = {"skmtl": lambda: L21Regressor(alpha, penalty=pen, gamma=gamma, fit_intercept=False,
                                                 tol=tol, max_iter=100000).fit(X, Y).coef_.T,
                   "skglm": lambda: MultiTaskBCD(max_iter=1000, max_epochs=100000, tol=tol * amax,
                                                 fit_intercept=False).solve(
                       X, Y, QuadraticMultiTask(), P(alpha, gamma))[0][:p]}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = interleaved(fns, repeat)
            W1, W2 = res["skmtl"][1], res["skglm"][1]
            pen_value = P(alpha, gamma).value
            o1 = 0.5 / n * ((Y - X @ W1) ** 2).sum() + pen_value(W1)
            o2 = 0.5 / n * ((Y - X @ W2) ** 2).sum() + pen_value(W2)
            rows.append([f"(g) {pen}, alpha_max/{div}", f"n={n}, p={p}, T={T}", _fmt_t(res["skmtl"][0]),
                         f"skglm: {_fmt_t(res['skglm'][0])}", f"{res['skmtl'][0] / res['skglm'][0]:.2f}",
                         f"objective ours - skglm {(o1 - o2) / abs(o2):.1e}; max |coef diff| "
                         f"{np.abs(W1 - W2).max():.1e}"])
    return rows, [f"(g) KKT tolerance {tol} x alpha_max for both (skglm: absolute, the same value)."]


_GENOMICS_CHILD = textwrap.dedent("""
    import json, sys, time, os
    import numpy as np
    sys.path.insert(0, {bench_dir!r})
    from _common import rss_mb, maxrss_mb
    n, p, T, n_alphas, eps, which, tol = {n}, {p}, {T}, {n_alphas}, {eps}, {which!r}, {tol}
    rng = np.random.default_rng(0)
    X = np.empty((n, p), dtype=np.float32, order="F")
    for j0 in range(0, p, 2000):
        j1 = min(p, j0 + 2000)
        maf = rng.uniform(0.05, 0.5, j1 - j0)
        X[:, j0:j1] = rng.binomial(2, maf, size=(n, j1 - j0)).astype(np.float32)
    causal = rng.choice(p, 50, replace=False)
    W = np.zeros((p, T)); W[causal] = 0.3 * rng.standard_normal((50, T))
    Y = X[:, causal] @ W[causal] + rng.standard_normal((n, T))
    x_mb = X.nbytes / 2**20
    if which == "skmtl":
        from skmtl.linear import l21_path, l21_alpha_max
        import skmtl.linear._bcd as _b  # compile outside the timing
        l21_path(X[:50, :100], Y[:50], n_alphas=2)
        base = rss_mb(); peak0 = maxrss_mb()
        t0 = time.perf_counter()
        alphas, coefs, gaps = l21_path(X, Y, n_alphas=n_alphas, eps=eps, tol=tol)
        dt = time.perf_counter() - t0
        supp = int(np.any(coefs[-1] != 0, axis=0).sum())
    else:
        from sklearn.linear_model import enet_path
        from skmtl.linear import l21_alpha_max
        amax = l21_alpha_max(X, Y)
        alphas = np.geomspace(amax, amax * eps, n_alphas)
        base = rss_mb(); peak0 = maxrss_mb()
        t0 = time.perf_counter()
        X64 = np.asfortranarray(X, dtype=np.float64)
        X64 -= X64.mean(axis=0)
        _, coefs, _ = enet_path(X64, Y - Y.mean(axis=0), l1_ratio=1.0, alphas=alphas, tol=tol)
        dt = time.perf_counter() - t0
        supp = int(np.any(coefs[..., -1] != 0, axis=0).sum())
    extra = max(maxrss_mb(), peak0) - base
    print(json.dumps(dict(time=dt, extra_mb=extra, x_mb=x_mb, supp=supp)))
""")


def case_genomics(quick, timeout_peer):
    import json

    n, p, T = (200, 5000, 5) if quick else (2000, 100000, 10)
    n_alphas, eps, tol = (5, 1e-2, 1e-4) if quick else (20, 1e-2, 1e-4)
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    out = {}
    for which, timeout in (("skmtl", 900), ("sklearn", timeout_peer)):
        code = _GENOMICS_CHILD.format(bench_dir=bench_dir, n=n, p=p, T=T, n_alphas=n_alphas,
                                      eps=eps, which=which, tol=tol)
        try:
            stdout, _ = run_python(code, timeout=timeout)
            out[which] = json.loads(stdout.strip().splitlines()[-1])
        except Exception as exc:  # timeout: report it
            out[which] = {"error": f"{type(exc).__name__}" + (f" after {timeout} s" if "Timeout" in type(exc).__name__ else "")}
    o = out["skmtl"]
    s = out["sklearn"]
    peer_t = s.get("time", float("nan"))
    peer_txt = f"sklearn enet_path (float64 copy): {_fmt_t(peer_t)}" if "time" in s else \
        f"sklearn enet_path: {s['error']}"
    rows = [["(d) genomics path (float32 SNPs 0/1/2)",
             f"n={n}, p={p}, T={T}, {n_alphas} alphas, eps={eps}",
             _fmt_t(o["time"]) if "time" in o else o["error"], peer_txt,
             f"{o['time'] / peer_t:.2f}" if "time" in o and "time" in s else "-",
             (f"peak extra memory {o['extra_mb']:.0f} MiB = {o['extra_mb'] / o['x_mb']:.2f} x X "
              f"({o['x_mb']:.0f} MiB); support at last alpha {o['supp']}"
              + (f"; sklearn extra {s['extra_mb']:.0f} MiB" if "extra_mb" in s else ""))
             if "time" in o else "-"]]
    return rows, [f"(d) tol={tol}; each solver in its own process; peak memory = peak RSS during "
                  f"the path minus RSS before it (X already allocated)."]


_STARTUP_CHILD = textwrap.dedent("""
    import time
    t0 = time.perf_counter()
    import numpy as np
    {imports}
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 50)); Y = rng.standard_normal((100, 3))
    {fit}
    print(time.perf_counter() - t0)
""")


def case_startup(quick, repeat):
    ours = _STARTUP_CHILD.format(imports="import skmtl\nfrom skmtl.linear import L21Regressor",
                                 fit="L21Regressor(0.1).fit(X, Y)")
    peer = _STARTUP_CHILD.format(imports="from sklearn.linear_model import MultiTaskLasso",
                                 fit="MultiTaskLasso(0.1).fit(X, Y)")
    run_python(ours)  # make sure the Numba cache is written
    inside = {"skmtl": [], "sklearn": []}

    def child(name, code):
        inside[name].append(float(run_python(code)[0]))
        return inside[name][-1]

    interleaved({"skmtl": lambda: child("skmtl", ours), "sklearn": lambda: child("sklearn", peer)},
                max(repeat, 3))
    t_o, t_p = min(inside["skmtl"]), min(inside["sklearn"])
    return [["(e) new process: import + first fit (Numba cache warm)", "n=100, p=50, T=3",
             _fmt_t(t_o), f"sklearn import + MultiTaskLasso fit: {_fmt_t(t_p)}", f"{t_o / t_p:.2f}", "-"]], \
        ["(e) time measured inside the child from before `import numpy` to the end of the fit "
         "(best of at least 3 fresh processes); both include importing scikit-learn."]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--tol", type=float, default=1e-5)
    parser.add_argument("--cases", default="a,b,d,e,f,g")
    parser.add_argument("--peer-timeout", type=float, default=300)
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    which = set(args.cases.split(","))
    rows, notes = [], []
    if "a" in which:
        r, n_ = case_single_fits(args.quick, repeat, args.tol)
        rows += r
        notes += n_
    if "b" in which:
        r, n_ = case_cv(args.quick, repeat)
        rows += r
        notes += n_
    if "f" in which:
        r, n_ = case_enet_cv(args.quick, repeat)
        rows += r
        notes += n_
    if "g" in which:
        r, n_ = case_nonconvex(args.quick, repeat, args.tol)
        rows += r
        notes += n_
    if "d" in which:
        r, n_ = case_genomics(args.quick, 60 if args.quick else args.peer_timeout)
        rows += r
        notes += n_
    if "e" in which:
        r, n_ = case_startup(args.quick, repeat)
        rows += r
        notes += n_
    print_report("L2,1 multi-task group lasso" + (" (--quick)" if args.quick else ""),
                 ["case", "sizes", "skmtl", "peer", "ratio ours/peer", "suboptimality ours / peer"],
                 rows, PACKAGES, notes)
    return rows


if __name__ == "__main__":
    main()
