"""Benchmark: skmtl's L2,1 (multi-task group lasso) against scikit-learn, skglm, glmnet and adelie.

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
and their largest coefficient difference are reported), (h) 100-lambda paths
(dense p >> n and tall) vs R glmnet ``family="mgaussian"`` (through
``Rscript``, timed inside R) and adelie's ``grpnet`` with
``glm.multigaussian`` on one lambda sequence (glmnet's lambda is skmtl's
alpha, adelie's is alpha / n_tasks), and ``L21RegressorCV`` vs ``cv.glmnet``
(same folds and lambdas, the selected lambda compared), (i) the group-lasso
classifiers: ``L21Classifier(solver="auto")`` against its FISTA and proximal
Newton solvers on binary tasks (p >> n, p ~ n, tall) and, on one multinomial
task, against glmnet's grouped multinomial; rows whose peer is missing (no
``Rscript`` or glmnet, adelie not importable) are skipped with a note.
"""

import argparse
import os
import sys
import textwrap
import warnings

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import interleaved, n_alphas_kw, print_report, run_python  # noqa: E402

PACKAGES = ["numpy", "scipy", "numba", "sklearn", "skglm", "adelie", "skmtl"]


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

    from skmtl.linear import L21Regressor, l21_alpha_max

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
                 ("tall", _dense_problem(50000, 150, 8, 20, 5), 20),
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
           "sklearn": lambda: MultiTaskLassoCV(cv=cv, **n_alphas_kw(n_alphas)).fit(X, Y)}
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
           "sklearn": lambda: MultiTaskElasticNetCV(l1_ratio=ratios, cv=cv, **n_alphas_kw(n_alphas)).fit(X, Y)}
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


# The opening of every R script: glmnet loaded, the data folder (the script's argument) and its dims.txt read.
_R_HEAD = textwrap.dedent("""
    suppressMessages(library(glmnet))
    d <- commandArgs(trailingOnly = TRUE)[1]
    dims <- scan(file.path(d, "dims.txt"), quiet = TRUE)
""").lstrip("\n")

_R_PATH = _R_HEAD + textwrap.dedent("""
    n <- dims[1]; p <- dims[2]; nt <- dims[3]; nl <- dims[4]; ni <- dims[5]
    X <- matrix(readBin(file.path(d, "X.bin"), "double", n * p), n, p)
    Y <- matrix(readBin(file.path(d, "Y.bin"), "double", n * nt), n, nt)
    lam <- readBin(file.path(d, "lambda.bin"), "double", nl)
    idx <- as.integer(readBin(file.path(d, "idx.bin"), "double", ni))
    thresh <- dims[6]
    t0 <- proc.time()[["elapsed"]]
    fit <- glmnet(X, Y, family = "mgaussian", alpha = 1, lambda = lam, standardize = FALSE,
                  intercept = TRUE, thresh = thresh)
    dt <- proc.time()[["elapsed"]] - t0
    k <- length(fit$lambda)
    if (k == nl) {
        W <- sapply(fit$beta, function(B) as.matrix(B[, idx, drop = FALSE]))
        writeBin(as.double(W), file.path(d, "W.bin"))
        writeBin(as.double(fit$a0[, idx, drop = FALSE]), file.path(d, "b.bin"))
    }
    cat(sprintf("%.6f %d %.3e\\n", dt, k, max(abs(fit$lambda - lam[seq_len(k)]) / lam[seq_len(k)])))
""")

_R_CV = _R_HEAD + textwrap.dedent("""
    n <- dims[1]; p <- dims[2]; nt <- dims[3]; nl <- dims[4]
    X <- matrix(readBin(file.path(d, "X.bin"), "double", n * p), n, p)
    Y <- matrix(readBin(file.path(d, "Y.bin"), "double", n * nt), n, nt)
    lam <- readBin(file.path(d, "lambda.bin"), "double", nl)
    foldid <- as.integer(readBin(file.path(d, "foldid.bin"), "double", n))
    thresh <- dims[6]
    t0 <- proc.time()[["elapsed"]]
    cv <- cv.glmnet(X, Y, family = "mgaussian", alpha = 1, lambda = lam, foldid = foldid,
                    standardize = FALSE, intercept = TRUE, thresh = thresh)
    dt <- proc.time()[["elapsed"]] - t0
    cat(sprintf("%.6f %d %.17g\\n", dt, which(cv$lambda == cv$lambda.min)[1], cv$lambda.min))
""")


def _glmnet_status():
    """``(None, version)`` when ``Rscript`` with glmnet is usable, else ``(reason, None)``."""
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        return "Rscript is not on the PATH", None
    code = ('if (!requireNamespace("glmnet", quietly = TRUE)) quit(status = 3); '
            'cat(R.version$major, R.version$minor, as.character(packageVersion("glmnet")), "\\n")')
    try:
        proc = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Rscript failed ({type(exc).__name__})", None
    if proc.returncode != 0:
        return "the R package glmnet is not installed", None
    major, minor, version = proc.stdout.split()
    return None, f"R {major}.{minor}, glmnet {version}"


def _write_r_inputs(d, X, Y, lam, extra):
    """Write ``X``, ``Y``, the lambdas and ``extra`` (name -> array) as float64 column-major files in ``d``."""
    for name, a in (("X", X), ("Y", Y), ("lambda", lam), *extra.items()):
        np.asarray(a, dtype=np.float64).ravel(order="F").tofile(os.path.join(d, f"{name}.bin"))


def _rscript(d, script, dims, timeout=900):
    """Run an R ``script`` on the inputs in ``d`` (``dims`` written to dims.txt); its last printed line, split."""
    import subprocess

    with open(os.path.join(d, "dims.txt"), "w") as f:
        f.write(" ".join(repr(float(v)) for v in dims) + "\n")
    path = os.path.join(d, "script.R")
    with open(path, "w") as f:
        f.write(script)
    proc = subprocess.run(["Rscript", path, d], capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed:\n{proc.stderr[-2000:]}")
    return proc.stdout.strip().splitlines()[-1].split()


def case_glmnet_adelie(quick, repeat, tol):
    """(h) 100-lambda L2,1 paths vs R glmnet (mgaussian) and adelie, and L21RegressorCV vs cv.glmnet."""
    import tempfile

    from skmtl.linear import l21_alpha_max, l21_path

    glmnet_skip, r_version = _glmnet_status()
    try:
        import adelie
    except ImportError:
        adelie = None
    rows, notes = [], []
    if glmnet_skip:
        notes.append(f"(h) R glmnet skipped: {glmnet_skip}.")
    if adelie is None:
        notes.append("(h) adelie skipped: not importable (`pip install adelie`).")
    if glmnet_skip and adelie is None:
        return rows, notes
    thresh = 1e-7  # glmnet's default thresh; adelie's default tol is 1e-7 as well
    loose_tol = 1e-4
    n_lambdas = 20 if quick else 100
    checked = [n_lambdas // 10, n_lambdas // 2, n_lambdas - 1]
    if quick:
        problems = [("dense p>>n", _dense_problem(60, 300, 5, 10, 0), 1e-2),
                    ("tall", _dense_problem(2000, 30, 4, 10, 1), 1e-3)]
    else:
        problems = [("dense p>>n", _dense_problem(300, 3000, 20, 30, 0), 1e-2),
                    ("tall", _dense_problem(50000, 150, 8, 20, 1), 1e-3)]
    for name, (X, Y), eps in problems:
        with warnings.catch_warnings():  # Numba cache load / compilation (dense or tall kernels) outside the timings
            warnings.simplefilter("ignore")
            l21_path(X[:2000], Y[:2000], n_alphas=3)
        n, p = X.shape
        T = Y.shape[1]
        amax = l21_alpha_max(X, Y)
        alphas = np.geomspace(amax, amax * eps, n_lambdas)
        fns = {"skmtl": lambda: l21_path(X, Y, alphas=alphas, tol=tol, max_iter=100000,
                                         return_intercept=True),
               # a looser duality-gap tolerance, closer to the peers' accuracy at their defaults
               "skmtl_loose": lambda: l21_path(X, Y, alphas=alphas, tol=loose_tol, max_iter=100000,
                                               return_intercept=True)}
        if adelie is not None:
            # adelie's multigaussian loss is 1/(2nT) RSS: lambda = alpha / T with unit penalty factors
            fns["adelie"] = lambda: adelie.grpnet(
                X=X, glm=adelie.glm.multigaussian(Y), penalty=np.ones(p), lmda_path=alphas / T,
                intercept=True, early_exit=False, progress_bar=False, n_threads=1)
        glmnet_times = []
        with tempfile.TemporaryDirectory() as d:
            if not glmnet_skip:
                _write_r_inputs(d, X, Y, alphas, {"idx": np.array(checked) + 1})

                def run_glmnet():
                    t, k, lam_diff = _rscript(d, _R_PATH, (n, p, T, n_lambdas, len(checked), thresh))
                    glmnet_times.append(float(t))
                    if int(k) != n_lambdas:
                        return f"skip: glmnet stopped after {k} of {n_lambdas} lambdas"
                    W = np.fromfile(os.path.join(d, "W.bin")).reshape(T, len(checked), p).transpose(1, 0, 2)
                    b = np.fromfile(os.path.join(d, "b.bin")).reshape(len(checked), T)
                    return W, b, float(lam_diff)

                fns["glmnet"] = run_glmnet
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = interleaved(fns, repeat)
        times = {k: v[0] for k, v in res.items()}
        sols = {k: [(res[k][1][1][i], res[k][1][3][i]) for i in checked] for k in ("skmtl", "skmtl_loose")}
        if "adelie" in res:
            state = res["adelie"][1]
            sols["adelie"] = [(state.betas[i].toarray().reshape(p, T).T, state.intercepts[i]) for i in checked]
        if "glmnet" in res:
            times["glmnet"] = min(glmnet_times)
            out = res["glmnet"][1]
            if isinstance(out, str):
                notes.append(f"(h) {name}: {out[6:]}; no accuracy for glmnet.")
            else:
                sols["glmnet"] = list(zip(out[0], out[1]))
                if out[2] > 1e-12:
                    notes.append(f"(h) {name}: glmnet returned lambdas differing from ours by {out[2]:.1e}.")
        objs = {k: np.array([_objective(X, Y, W, b, alphas[i]) for (W, b), i in zip(v, checked)])
                for k, v in sols.items()}
        best = np.min(list(objs.values()), axis=0)
        sub = {k: float(np.max((v - best) / np.abs(best))) for k, v in objs.items()}
        peers = [k for k in times if not k.startswith("skmtl")]
        fastest = min(peers, key=times.get)
        for ours, label in (("skmtl", ""), ("skmtl_loose", f" (skmtl tol={loose_tol:g})")):
            for k in peers:
                rows.append([f"(h) {name} path, {n_lambdas} lambdas to alpha_max*{eps:g}{label}",
                             f"n={n}, p={p}, T={T}", _fmt_t(times[ours]), f"{k}: {_fmt_t(times[k])}",
                             f"{times[ours] / times[k]:.2f}" + (" *" if k == fastest and len(peers) > 1 else ""),
                             f"{sub[ours]:.1e} / {sub[k]:.1e}" if k in sub else f"{sub[ours]:.1e} / -"])
    notes.append(
        f"(h) one lambda sequence for all solvers: skmtl alpha = glmnet lambda (mgaussian, alpha=1, "
        f"standardize=FALSE, intercept=TRUE; its objective 1/(2n) RSS + lambda sum_j ||beta_j||_2 is skmtl's; "
        f"standardize.response=FALSE, the default, leaves Y unscaled) = "
        f"T x adelie lambda (adelie.grpnet with glm.multigaussian, whose loss is 1/(2nT) RSS, unit penalty "
        f"factors instead of the default sqrt(T), intercept=True, early_exit=False, n_threads=1). "
        f"Suboptimality: the worst over lambda number {', '.join(str(i + 1) for i in checked)} of the "
        f"objective relative to the best of the solvers there.")
    notes.append(
        f"(h) tolerances: skmtl tol={tol} (duality gap; the rows marked tol={loose_tol:g} use that "
        f"looser gap, nearer the peers' accuracy); glmnet thresh={thresh:g} and adelie tol={thresh:g} "
        f"(their defaults; coordinate-descent change criteria). glmnet runs in Rscript and is timed inside R "
        f"around the glmnet / cv.glmnet call only (data loaded from binary files beforehand). glmnet and adelie "
        f"run on one thread; skmtl's Numba kernels too, its full-gradient BLAS products on one thread below "
        f"n p T = 5e7 and on BLAS's default threads above (the full-size tall case)"
        + (f"; {r_version}." if r_version else "."))
    if not glmnet_skip:
        r, n_ = _glmnet_cv(quick, repeat, tol, thresh)
        rows += r
        notes += n_
    return rows, notes


def _glmnet_cv(quick, repeat, tol, thresh):
    """(h) L21RegressorCV vs cv.glmnet on case (b)'s data (same folds and lambdas); ``(rows, notes)``."""
    import tempfile

    from sklearn.model_selection import KFold

    from skmtl.linear import L21RegressorCV, l21_alpha_max

    n, p, T = (80, 100, 4) if quick else (300, 1000, 10)
    X, Y = _dense_problem(n, p, T, 20, 3)
    n_lambdas, n_folds = (20, 3) if quick else (100, 5)
    amax = l21_alpha_max(X, Y)
    alphas = np.geomspace(amax, amax * 1e-2, n_lambdas)
    splits = list(KFold(n_folds).split(X))
    foldid = np.empty(n)
    for k, (_, test) in enumerate(splits):
        foldid[test] = k + 1
    with warnings.catch_warnings():  # warm-up (Numba cache load)
        warnings.simplefilter("ignore")
        L21RegressorCV(n_alphas=3, cv=3).fit(X[:30], Y[:30])
    glmnet_times = []
    with tempfile.TemporaryDirectory() as d:
        _write_r_inputs(d, X, Y, alphas, {"foldid": foldid})

        def run_glmnet():
            t, i, lam = _rscript(d, _R_CV, (n, p, T, n_lambdas, 0, thresh))
            glmnet_times.append(float(t))
            return int(i) - 1, float(lam)

        fns = {"skmtl": lambda: L21RegressorCV(alphas=alphas, cv=splits, tol=tol, max_iter=100000).fit(X, Y),
               "glmnet": run_glmnet}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = interleaved(fns, repeat)
    ours, (i_glm, lam_glm) = res["skmtl"][1], res["glmnet"][1]
    i_ours = int(np.argmin(np.abs(alphas - ours.alpha_)))
    t_ours, t_glm = res["skmtl"][0], min(glmnet_times)
    same = i_ours == i_glm
    rows = [["(h) CV path vs cv.glmnet", f"n={n}, p={p}, T={T}, {n_lambdas} lambdas to alpha_max*0.01, "
             f"{n_folds} folds", _fmt_t(t_ours), f"cv.glmnet: {_fmt_t(t_glm)}", f"{t_ours / t_glm:.2f}",
             f"alpha_ {'same' if same else 'DIFFERENT'} as lambda.min (#{i_ours + 1} {ours.alpha_:.4g} / "
             f"#{i_glm + 1} {lam_glm:.4g})"]]
    return rows, [f"(h) CV: the same (train, test) splits (KFold({n_folds}) = cv.glmnet's foldid) and lambdas; "
                  f"both time the fold paths plus a fit on all rows (cv.glmnet: the whole path; "
                  f"L21RegressorCV: the path down to alpha_); default scoring (held-out MSE), "
                  f"lambda.min for glmnet."]


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
        # compile outside the timing:
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


_R_MULTINOMIAL = _R_HEAD + textwrap.dedent("""
    n <- dims[1]; p <- dims[2]; nl <- dims[3]; thresh <- dims[4]
    X <- matrix(readBin(file.path(d, "X.bin"), "double", n * p), n, p)
    y <- factor(readBin(file.path(d, "Y.bin"), "double", n))
    lam <- readBin(file.path(d, "lambda.bin"), "double", nl)
    t0 <- proc.time()[["elapsed"]]
    fit <- glmnet(X, y, family = "multinomial", type.multinomial = "grouped", alpha = 1, lambda = lam,
                  standardize = FALSE, intercept = TRUE, thresh = thresh)
    dt <- proc.time()[["elapsed"]] - t0
    k <- length(fit$lambda)
    W <- sapply(fit$beta, function(B) as.matrix(B[, k, drop = FALSE]))
    writeBin(as.double(W), file.path(d, "W.bin"))
    writeBin(as.double(fit$a0[, k]), file.path(d, "b.bin"))
    cat(sprintf("%.6f %d\\n", dt, k))
""")


def _classification_problem(n, p, T, k, seed, multiclass=False):
    """``k`` informative features; ``T`` binary tasks, or one task with ``T`` classes (``multiclass``)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    S = X[:, :k] @ rng.standard_normal((k, T)) + rng.standard_normal((n, T))
    return X, (np.argmax(S, axis=1) if multiclass else (S > 0).astype(int))


def _log_loss_objective(X, Y, W, b, alpha):
    """Mean log-loss summed over binary tasks (or one multinomial task) + alpha sum_j ||W_j||, W (p, columns)."""
    from scipy.special import logsumexp

    Z = X @ W + b
    if Y.ndim == 1:
        loss = np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(Y)), Y])
    else:
        loss = np.mean(np.logaddexp(0.0, -np.where(Y > 0, 1.0, -1.0) * Z), axis=0).sum()
    return loss + alpha * np.sqrt((W ** 2).sum(axis=1)).sum()


def case_classifiers(quick, repeat):
    """(i) L21Classifier: solver="auto" against FISTA (the former solver) and glmnet's grouped multinomial."""
    import tempfile

    from skmtl.linear import L21Classifier

    rows, notes = [], []
    if quick:
        shapes = [("p>>n", 60, 600, 3), ("p~n", 200, 200, 3), ("tall", 1000, 50, 3)]
        divs = (10, 20)
    else:
        shapes = [("p>>n", 500, 5000, 10), ("p~n", 1000, 1000, 5), ("tall", 5000, 200, 5)]
        divs = (5, 10, 20, 100)
    with warnings.catch_warnings():  # compile outside the timings
        warnings.simplefilter("ignore")
        Xw, Yw = _classification_problem(40, 400, 3, 5, 9)
        for solver in ("fista", "prox_newton"):
            L21Classifier(solver=solver).fit(Xw, Yw)
            L21Classifier(solver=solver).fit(Xw, Yw[:, 0] + Yw[:, 1])  # three classes
    for name, n, p, T in shapes:
        X, Y = _classification_problem(n, p, T, 10, 5)
        amax = L21Classifier().fit(X, Y).alpha_ / 0.1
        for div in divs:
            alpha = amax / div
            fns = {s: (lambda s=s: L21Classifier(alpha, solver=s, max_iter=100000).fit(X, Y))
                   for s in ("auto", "fista", "prox_newton")}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = interleaved(fns, repeat)
            objs = {s: _log_loss_objective(X, Y, m.coef_.T, m.intercept_, alpha) for s, (_, m) in res.items()}
            best = min(objs.values())
            sub = {s: (o - best) / abs(best) for s, o in objs.items()}
            chosen = res["auto"][1].solver_
            for peer in ("fista", "prox_newton"):
                rows.append([f"(i) {name} binary, alpha_max/{div}: auto ({chosen}) vs {peer}",
                             f"n={n}, p={p}, T={T}", _fmt_t(res["auto"][0]), f"{peer}: {_fmt_t(res[peer][0])}",
                             f"{res['auto'][0] / res[peer][0]:.2f}", f"{sub['auto']:.1e} / {sub[peer]:.1e}"])
    glmnet_skip, r_version = _glmnet_status()
    if glmnet_skip:
        notes.append(f"(i) R glmnet skipped: {glmnet_skip}.")
    else:
        n, p, K = (100, 1000, 4) if quick else (300, 3000, 4)
        X, y = _classification_problem(n, p, K, 10, 6, multiclass=True)
        amax = L21Classifier().fit(X, y).alpha_ / 0.1
        for div in (10, 20):
            alpha = amax / div
            lam = np.geomspace(amax, alpha, 20)
            with tempfile.TemporaryDirectory() as d:
                _write_r_inputs(d, X, y, lam, {})
                times = []

                def run_glmnet():
                    t, k = _rscript(d, _R_MULTINOMIAL, (n, p, len(lam), 1e-7))
                    times.append(float(t))
                    W = np.fromfile(os.path.join(d, "W.bin")).reshape(K, p).T
                    return W, np.fromfile(os.path.join(d, "b.bin")), int(k)

                fns = {s: (lambda s=s: L21Classifier(alpha, solver=s, max_iter=100000).fit(X, y))
                       for s in ("auto", "fista")}
                fns["glmnet"] = run_glmnet
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = interleaved(fns, repeat)
            objs = {s: _log_loss_objective(X, y, m.coef_.T, m.intercept_, alpha) for s, (_, m) in res.items()
                    if s != "glmnet"}
            Wg, bg, k = res["glmnet"][1]
            objs["glmnet"] = _log_loss_objective(X, y, Wg, bg, alpha)
            best = min(objs.values())
            sub = {s: (o - best) / abs(best) for s, o in objs.items()}
            chosen = res["auto"][1].solver_
            rows.append([f"(i) multinomial, alpha_max/{div}: auto ({chosen}) vs glmnet grouped (20-lambda path)",
                         f"n={n}, p={p}, K={K}", _fmt_t(res["auto"][0]), f"glmnet: {_fmt_t(min(times))}",
                         f"{res['auto'][0] / min(times):.2f}", f"{sub['auto']:.1e} / {sub['glmnet']:.1e}"])
            rows.append([f"(i) multinomial, alpha_max/{div}: auto ({chosen}) vs fista", f"n={n}, p={p}, K={K}",
                         _fmt_t(res["auto"][0]), f"fista: {_fmt_t(res['fista'][0])}",
                         f"{res['auto'][0] / res['fista'][0]:.2f}", f"{sub['auto']:.1e} / {sub['fista']:.1e}"])
        notes.append(
            "(i) multinomial: one task with K classes; glmnet family=\"multinomial\", type.multinomial=\"grouped\" "
            "(the same objective: mean log-loss + lambda sum_j ||beta_j||_2 over the K class coefficients of each "
            "feature), standardize=FALSE, thresh=1e-7 (its default), on a 20-lambda path from alpha_max to alpha "
            "(its recommended use; timed inside R), against one fit of ours from zero"
            + (f"; {r_version}." if r_version else "."))
    notes.append(
        "(i) binary tasks: L21Classifier(alpha, solver=...) with its default tol=1e-6 (KKT residual relative to "
        "the gradient at W = 0), max_iter=100000; suboptimality: the objective (mean log-loss summed over tasks "
        "+ alpha ||W||_2,1) relative to the best of the three solvers (of the three and glmnet for the "
        "multinomial rows). The auto rule is skmtl.linear._solver_choice.choose_solver.")
    return rows, notes


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
    parser.add_argument("--cases", default="a,b,d,e,f,g,h,i")
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
    if "h" in which:
        r, n_ = case_glmnet_adelie(args.quick, repeat, args.tol)
        rows += r
        notes += n_
    if "i" in which:
        r, n_ = case_classifiers(args.quick, repeat)
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
