"""PLINK genotypes and other streamed designs: read_plink, the screened L2,1 solver, covariates.

The .bed files are written and read back by bed-reader (an independent
implementation of the format); every streamed fit is checked against the
in-memory fit of the decoded matrix.
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from skmtl.datasets import GenotypeMatrix, read_plink
from skmtl.linear import L21Regressor, L21RegressorCV, TraceNormRegressor, l21_alpha_max, l21_path

bed_reader = pytest.importorskip("bed_reader")


def _write(tmp_path, G, name="g"):
    path = tmp_path / f"{name}.bed"
    bed_reader.to_bed(str(path), G.astype(np.float32))
    return tmp_path / name


def _reference(prefix, standardize=False):
    """The decoded matrix from bed-reader, mean-imputed (and standardized) in numpy."""
    with bed_reader.open_bed(str(prefix) + ".bed") as bed:
        G = bed.read(dtype="float64")
    mean = np.nanmean(G, axis=0)
    X = np.where(np.isnan(G), mean, G)
    if standardize:
        sd = X.std(axis=0)
        X = (X - mean) / np.where(sd > 0, sd, 1.0)
    return X, G


@pytest.fixture(scope="module")
def plink(tmp_path_factory):
    rng = np.random.default_rng(0)
    n, p, T = 150, 400, 3
    maf = rng.uniform(0.05, 0.5, p)
    G = (rng.random((n, p)) < maf).astype(float) + (rng.random((n, p)) < maf)
    G[rng.random((n, p)) < 0.03] = np.nan
    G[:, 7] = 0.0  # monomorphic
    prefix = _write(tmp_path_factory.mktemp("plink"), G)
    X, _ = _reference(prefix)
    B = np.zeros((p, T))
    B[[3, 50, 120, 300]] = rng.standard_normal((4, T))
    C = rng.standard_normal((n, 2))
    Y = X @ B + 0.5 * C @ rng.standard_normal((2, T)) + 0.5 * rng.standard_normal((n, T))
    Y[rng.random((n, T)) < 0.1] = np.nan
    return prefix, X, Y, C


# ---------------------------------------------------------------- reading
def test_decoding_matches_bed_reader(plink):
    prefix, X, _, _ = plink
    Gm = read_plink(prefix, block_size=37)
    assert isinstance(Gm, GenotypeMatrix) and Gm.shape == X.shape
    cols = np.array([5, 0, 399, 7, 6, 5])
    np.testing.assert_array_equal(Gm.take(cols), X[:, cols])
    for k in (1, 2, 5):  # the pass kernel's register blocks: 4 variants x 2 columns of V, and remainders
        V = np.random.default_rng(k).standard_normal((X.shape[0], k))
        np.testing.assert_allclose(Gm.rmatmat(V), X.T @ V, rtol=1e-5, atol=1e-5 * np.abs(X.T @ V).max())
    _, raw = _reference(prefix)
    np.testing.assert_allclose(Gm.allele_frequencies(), np.nanmean(raw, axis=0) / 2)
    np.testing.assert_allclose(Gm.missing_rates(), np.isnan(raw).mean(axis=0))


def test_standardized_rows_and_pickle(plink):
    prefix = plink[0]
    Xs, _ = _reference(prefix, standardize=True)
    Gm = read_plink(str(prefix) + ".bed", standardize=True)
    np.testing.assert_allclose(Gm.take(np.arange(Xs.shape[1])), Xs, atol=1e-12)
    rows = np.random.default_rng(2).permutation(Xs.shape[0])[:60]
    sub = pickle.loads(pickle.dumps(Gm.take_rows(rows)))
    assert sub.shape == (60, Xs.shape[1])
    assert list(sub.sample_ids) == list(Gm.sample_ids[rows])
    np.testing.assert_allclose(sub.take([3, 1]), Xs[rows][:, [3, 1]], atol=1e-12)
    V = np.random.default_rng(3).standard_normal((60, 2))
    np.testing.assert_allclose(sub.rmatmat(V), Xs[rows].T @ V, rtol=1e-5, atol=1e-4)
    boot = np.r_[rows[:10], rows[:10], rows[3]]  # a bootstrap sample repeats rows: their weights add up
    Vb = np.random.default_rng(4).standard_normal((len(boot), 2))
    np.testing.assert_allclose(Gm.take_rows(boot).rmatmat(Vb), Xs[boot].T @ Vb, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(Gm[rows, 2:5], Xs[rows][:, 2:5], atol=1e-12)


def test_read_plink_errors(tmp_path, plink):
    prefix = plink[0]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_plink(tmp_path / "nothing")
    # a .bed that does not match its .fam
    bad = tmp_path / "bad"
    for ext in ("bim", "fam"):
        (tmp_path / f"bad.{ext}").write_text((prefix.parent / f"{prefix.name}.{ext}").read_text())
    (tmp_path / "bad.bed").write_bytes(bytes([0x6C, 0x1B, 0x01]) + b"\0" * 10)
    with pytest.raises(ValueError, match="do not belong together"):
        read_plink(bad)
    (tmp_path / "bad.bed").write_bytes(b"\0\0\0")
    with pytest.raises(ValueError, match="not a PLINK 1 .bed"):
        read_plink(bad)
    (tmp_path / "bad.bed").write_bytes(bytes([0x6C, 0x1B, 0x00]))  # PLINK 1.0's sample-major mode
    with pytest.raises(ValueError, match="sample-major"):
        read_plink(bad)


def test_design_is_not_densified_silently(plink):
    Gm = read_plink(plink[0])
    with pytest.raises(TypeError, match="not converted to an in-memory array"):
        np.asarray(Gm)
    with pytest.raises(TypeError, match="TraceNormRegressor needs X in memory"):
        TraceNormRegressor().fit(Gm, plink[2])


# ---------------------------------------------------------------- fits
def _dense_fit(X, Y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return L21Regressor(tol=1e-10, max_iter=5000, **kw).fit(X, Y)


@pytest.mark.parametrize("standardize", [False, True])
def test_streamed_fit_equals_dense_fit(plink, standardize):
    prefix, _, Y, _ = plink
    X, _ = _reference(prefix, standardize)
    Gm = read_plink(prefix, standardize=standardize, block_size=64)
    amax = l21_alpha_max(X, Y)
    assert l21_alpha_max(Gm, Y) == pytest.approx(amax, rel=1e-5)
    for frac in (0.5, 0.1):
        ref = _dense_fit(X, Y, alpha=frac * amax)
        got = _dense_fit(Gm, Y, alpha=frac * amax)
        scale = np.abs(ref.coef_).max()
        assert scale > 0
        np.testing.assert_allclose(got.coef_, ref.coef_, atol=1e-6 * scale)
        np.testing.assert_allclose(got.intercept_, ref.intercept_, atol=1e-6 * max(1.0, scale))
        np.testing.assert_allclose(got.predict(Gm), ref.predict(X), atol=1e-5 * scale)


def test_streamed_path_equals_dense_path_and_meets_kkt(plink):
    prefix, X, Y, _ = plink
    Gm = read_plink(prefix)
    kw = dict(n_alphas=12, eps=0.05, tol=1e-10, max_iter=5000, return_intercept=True)
    a1, c1, _, b1 = l21_path(Gm, Y, **kw)
    a2, c2, _, b2 = l21_path(X, Y, **kw)
    np.testing.assert_allclose(a1, a2, rtol=1e-6)
    # on a design the path is one sparse matrix per alpha, holding the selected features only
    assert len(c1) == 12 and all(sp.issparse(c) and c.shape == (3, 400) for c in c1)
    assert c1[-1].nnz == 3 * np.any(c2[-1] != 0, axis=0).sum() > 0
    c1 = np.stack([c.toarray() for c in c1])
    np.testing.assert_array_equal(l21_path(Gm, Y, coef_format="dense", **kw)[1], c1)
    np.testing.assert_allclose(c1, c2, atol=1e-5 * np.abs(c2).max())
    # optimality checked independently on the dense matrix: a zero row j has ||X_j^T (omega r)|| <= alpha
    obs = ~np.isnan(Y)
    omega = obs / obs.sum() * Y.shape[1]
    for alpha, W, b in zip(a1, c1, b1):
        R = np.where(obs, np.nan_to_num(Y) - X @ W.T - b, 0.0) * omega
        g = np.linalg.norm(X.T @ R, axis=1)
        zero = ~np.any(W != 0, axis=0)
        assert np.all(g[zero] <= alpha * (1 + 1e-4))


def test_screening_reads_about_one_pass_per_alpha(plink):
    from skmtl.linear._path import _as_data
    from skmtl.linear._screened import ScreenedL21Solver

    prefix, _, Y, _ = plink
    solver = ScreenedL21Solver(_as_data(read_plink(prefix), Y))
    amax = solver.alpha_max()
    alphas = amax * np.geomspace(1, 0.05, 15)
    for alpha in alphas:
        solver.solve(alpha)
    assert solver.n_passes <= 1 + len(alphas) + 5  # alpha_max, one check each, a few violator rounds
    assert len(solver.working_set) < Y.shape[0] + 200 < read_plink(prefix).shape[1]


def test_pruned_working_set_gives_the_same_path(plink, monkeypatch):
    # features screened in at a large alpha that never entered leave S; the path is unchanged
    from skmtl.linear import _screened
    from skmtl.linear._path import _as_data

    prefix, X, Y, _ = plink
    # a small alpha fills S; at a large one most of S is zero and out of the strong set; then down again
    alphas = l21_alpha_max(X, Y) * np.array([0.08, 0.6, 0.55, 0.3, 0.15, 0.06])
    monkeypatch.setattr(_screened, "_MIN_ADD", 8)  # prune (and add) in small steps on this small problem
    solver = _screened.ScreenedL21Solver(_as_data(read_plink(prefix), Y))
    ref = L21Regressor(tol=1e-10, max_iter=5000)
    for alpha in alphas:
        solver.solve(alpha, tol=1e-10, max_iter=5000)
        ref.set_params(alpha=alpha).fit(X, Y)
        np.testing.assert_allclose(solver.W.T, ref.coef_, atol=1e-6 * np.abs(ref.coef_).max())
    assert solver.n_pruned > 0  # and the coefficients above matched after the features re-entered


def test_covariates_are_unpenalized(plink):
    prefix, X, Y, C = plink
    Gm = read_plink(prefix)
    p = X.shape[1]
    got = _dense_fit(Gm, Y, alpha=0.2).fit(Gm, Y, covariates=C)
    # the same model: covariates as leading columns with penalty factor 0 (glmnet rescales the
    # factors to sum to the number of columns, so alpha is rescaled to match)
    f = np.r_[np.zeros(2), np.ones(p)]
    ref = _dense_fit(np.hstack([C, X]), Y, alpha=0.2 * p / (p + 2), penalty_factor=f)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(got.coef_, ref.coef_[:, 2:], atol=1e-6 * scale)
    np.testing.assert_allclose(got.covariate_coef_, ref.coef_[:, :2], atol=1e-6 * scale)
    np.testing.assert_allclose(got.predict(Gm, covariates=C), ref.predict(np.hstack([C, X])), atol=1e-5 * scale)
    # above alpha_max every genotype is out, the covariates stay in
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        top = _dense_fit(Gm, Y, alpha=1e3).fit(Gm, Y, covariates=C)
    assert not top.coef_.any() and np.all(top.covariate_coef_ != 0)
    with pytest.raises(ValueError, match="pass them as covariates="):
        got.predict(Gm)
    _, coefs, _ = l21_path(Gm, Y, n_alphas=4, covariates=C)
    assert len(coefs) == 4 and all(c.shape == (Y.shape[1], p) for c in coefs)
    _, dense, _ = l21_path(Gm, Y, n_alphas=4, covariates=C, coef_format="dense")
    np.testing.assert_array_equal(np.stack([c.toarray() for c in coefs]), dense)
    with pytest.raises(ValueError, match="coef_format"):
        l21_path(Gm, Y, n_alphas=4, coef_format="csr")


def test_cv_on_genotypes_matches_dense(plink):
    prefix, X, Y, _ = plink
    Gm = read_plink(prefix)
    a = L21RegressorCV(n_alphas=6, eps=0.05, cv=3, tol=1e-8).fit(Gm, Y)
    b = L21RegressorCV(n_alphas=6, eps=0.05, cv=3, tol=1e-8).fit(X, Y)
    np.testing.assert_allclose(a.mse_path_, b.mse_path_, rtol=1e-4)
    assert a.alpha_ == pytest.approx(b.alpha_) and a.alpha_ < a.alphas_[0]
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-5 * np.abs(b.coef_).max())


def test_memmap_zarr_and_dask_designs(tmp_path, plink):
    _, X, Y, _ = plink
    ref = _dense_fit(X, Y, alpha=0.1)
    np.save(tmp_path / "X.npy", X)
    inputs = {"memmap": np.load(tmp_path / "X.npy", mmap_mode="r")}
    zarr = pytest.importorskip("zarr")
    z = zarr.open(str(tmp_path / "X.zarr"), mode="w", shape=X.shape, chunks=(X.shape[0], 64), dtype="f8")
    z[:] = X
    inputs["zarr"] = z
    da = pytest.importorskip("dask.array")
    inputs["dask"] = da.from_array(X, chunks=(50, 100))
    for name, Xd in inputs.items():
        got = _dense_fit(Xd, Y, alpha=0.1)
        np.testing.assert_allclose(got.coef_, ref.coef_, atol=1e-6 * np.abs(ref.coef_).max(), err_msg=name)
        np.testing.assert_allclose(got.predict(Xd), ref.predict(X), atol=1e-5, err_msg=name)
    bad = np.load(tmp_path / "X.npy", mmap_mode="r+")
    bad[3, 5] = np.nan
    bad.flush()
    with pytest.raises(ValueError, match="NaN or infinity"):
        L21Regressor(alpha=0.1).fit(np.load(tmp_path / "X.npy", mmap_mode="r"), Y)


def test_long_input_with_a_design_is_refused(plink):
    Gm = read_plink(plink[0])
    with pytest.raises(ValueError, match="wide targets"):
        L21Regressor(task_column=0).fit(Gm, np.zeros(Gm.shape[0]))


def test_write_plink_is_read_by_bed_reader(tmp_path):
    from skmtl.datasets import write_plink

    rng = np.random.default_rng(5)
    G = rng.integers(0, 3, size=(23, 17)).astype(float)
    G[rng.random(G.shape) < 0.1] = np.nan
    prefix = write_plink(tmp_path / "w", (G[:, :9], G[:, 9:]))  # written block by block
    with bed_reader.open_bed(prefix + ".bed") as bed:
        np.testing.assert_array_equal(bed.read(dtype="float64"), G)
        assert list(bed.iid) == [f"s{i}" for i in range(23)]
    with pytest.raises(ValueError, match="0, 1, 2"):
        write_plink(tmp_path / "x", np.full((4, 2), 3.0))


@pytest.mark.filterwarnings("ignore::UserWarning")  # distributed: port and memory notices
def test_dask_cluster_runs_the_passes_on_workers(plink):
    distributed = pytest.importorskip("distributed")
    prefix, _, Y, _ = plink
    Gm = read_plink(prefix, block_size=100)
    ref = _dense_fit(Gm, Y, alpha=0.1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as ts:
            got = _dense_fit(Gm.to_dask(), Y, alpha=0.1)
        workers = {t["worker"] for t in ts.data}
        keys = {str(t["key"]) for t in ts.data}
    assert len(workers) == 2  # both workers decoded blocks and multiplied them
    # passes and column reads of to_dask()'s array run on the genotype blocks, not on decoded chunks
    assert any("_block_rmatmat" in k for k in keys) and any("take" in k for k in keys)
    assert not any("_decode_block" in k for k in keys)
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-6, atol=1e-9 * np.abs(ref.coef_).max())


def test_working_set_switches_to_float32_past_its_memory_budget(plink, monkeypatch):
    from skmtl.linear import _screened
    from skmtl.linear._path import _as_data

    prefix, X, Y, _ = plink
    monkeypatch.setattr(_screened, "_FLOAT64_BYTES", 8 * X.shape[0] * 40)  # 40 float64 columns
    solver = _screened.ScreenedL21Solver(_as_data(read_plink(prefix), Y))
    amax = solver.alpha_max()
    for alpha in amax * np.geomspace(1, 0.1, 8):
        solver.solve(alpha, tol=1e-8)
    assert solver.ws_dtype == np.float32 and len(solver.working_set) > 40
    ref = _dense_fit(X, Y, alpha=alpha)
    np.testing.assert_allclose(solver.W.T, ref.coef_, atol=1e-4 * np.abs(ref.coef_).max())


def test_path_resumed_from_a_checkpoint_equals_the_uninterrupted_path(plink, tmp_path):
    from skmtl.linear import _path_monitor

    prefix, _, Y, C = plink
    Gm = read_plink(prefix)
    kw = dict(n_alphas=8, eps=0.05, tol=1e-8, covariates=C, return_intercept=True)
    full = l21_path(Gm, Y, **kw)
    ck = tmp_path / "path.npz"

    class Interrupt(Exception):
        pass

    calls = []
    after = _path_monitor.PathMonitor.after

    def crash_after_four(self, k, *args):
        stop = after(self, k, *args)
        calls.append(k)
        if k == 3:
            raise Interrupt
        return stop

    _path_monitor.PathMonitor.after = crash_after_four
    try:
        with pytest.raises(Interrupt):
            l21_path(Gm, Y, checkpoint=ck, **kw)
    finally:
        _path_monitor.PathMonitor.after = after
    assert calls == [0, 1, 2, 3] and ck.exists()
    resumed = l21_path(Gm, Y, checkpoint=ck, **kw)
    for a, b in zip(full, resumed):
        if isinstance(a, list):  # the sparse coefficients
            a, b = np.stack([c.toarray() for c in a]), np.stack([c.toarray() for c in b])
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-9)
    with pytest.raises(ValueError, match="another alpha grid"):
        l21_path(Gm, Y, checkpoint=ck, **{**kw, "n_alphas": 5})


def test_in_memory_path_checkpoint_keeps_dense_coefficients(plink, tmp_path):
    _, X, Y, _ = plink
    kw = dict(n_alphas=5, eps=0.1, tol=1e-8)
    ck = tmp_path / "dense.npz"
    first = l21_path(X, Y, checkpoint=ck, **kw)
    again = l21_path(X, Y, checkpoint=ck, **kw)  # read back from the complete checkpoint, nothing refitted
    assert isinstance(again[1], np.ndarray) and again[1].shape == (5, Y.shape[1], X.shape[1])
    assert np.count_nonzero(again[1][-1]) > 0
    np.testing.assert_array_equal(again[1], first[1])


def test_path_stops_early_on_validation(plink):
    prefix, _, Y, C = plink
    Gm = read_plink(prefix)
    rng = np.random.default_rng(7)
    val = np.sort(rng.choice(Y.shape[0], 40, replace=False))
    train = np.setdiff1d(np.arange(Y.shape[0]), val)
    Gt, Gv = Gm.take_rows(train), Gm.take_rows(val)
    kw = dict(n_alphas=25, eps=0.01, covariates=C[train])
    alphas, coefs, gaps, scores = l21_path(Gt, Y[train], validation=(Gv, Y[val], C[val]), **kw)
    assert len(scores) == 25 and np.argmax(scores) < 24  # overfits at the end of the grid
    a2, c2, g2, s2 = l21_path(Gt, Y[train], validation=(Gv, Y[val], C[val]), patience=3, **kw)
    best = int(np.argmax(scores))
    assert len(a2) == len(s2) == len(c2) == best + 4
    np.testing.assert_allclose(s2, scores[:best + 4], rtol=1e-6)
    # the score is the held-out R^2 of the path's own model
    from skmtl.metrics import per_task_r2

    cov = L21Regressor(alpha=alphas[best], tol=1e-4).fit(Gt, Y[train], covariates=C[train])
    r2 = np.nanmean(per_task_r2(Y[val], cov.predict(Gv, covariates=C[val])))
    assert r2 == pytest.approx(scores[best], abs=1e-3)
    with pytest.raises(ValueError, match="patience needs validation"):
        l21_path(Gt, Y[train], patience=2)
    with pytest.raises(ValueError, match="covariates_val must have shape"):
        l21_path(Gt, Y[train], validation=(Gv, Y[val], C[val][:, :1]), **kw)


def test_rerun_of_an_early_stopped_checkpoint_fits_nothing_more(plink, tmp_path):
    prefix, _, Y, C = plink
    Gm = read_plink(prefix)
    val = np.arange(0, Y.shape[0], 4)
    train = np.setdiff1d(np.arange(Y.shape[0]), val)
    kw = dict(n_alphas=25, eps=0.01, covariates=C[train], patience=2, checkpoint=tmp_path / "stop.npz",
              validation=(Gm.take_rows(val), Y[val], C[val]))
    first = l21_path(Gm.take_rows(train), Y[train], **kw)
    assert len(first[0]) < 25  # stopped early
    again = l21_path(Gm.take_rows(train), Y[train], **kw)
    assert len(again[0]) == len(first[0])
    np.testing.assert_array_equal(again[-1], first[-1])


def test_l21_classifier_on_genotypes_equals_dense(plink):
    from skmtl.linear import L21Classifier

    prefix = plink[0]
    Gm = read_plink(prefix, standardize=True)
    X, _ = _reference(prefix, standardize=True)
    rng = np.random.default_rng(11)
    B = np.zeros((X.shape[1], 3))
    B[[3, 50, 120]] = 1.5 * rng.standard_normal((3, 3))
    Z = X @ B
    Yb = (Z + rng.standard_normal(Z.shape) > 0).astype(float)
    Yb[rng.random(Yb.shape) < 0.1] = np.nan
    Ym = np.digitize(Z[:, 0] + rng.standard_normal(len(Z)), [-1, 1]).astype(float)  # three classes
    for Y in (Yb, Ym):
        ref = L21Classifier(tol=1e-7, max_iter=20000).fit(X, Y)
        got = L21Classifier(tol=1e-7, max_iter=20000).fit(Gm, Y)
        assert got.alpha_ == pytest.approx(ref.alpha_, rel=1e-6)
        np.testing.assert_allclose(got.coef_, ref.coef_, atol=1e-5 * np.abs(ref.coef_).max())
        np.testing.assert_allclose(got.predict_proba(Gm)[0], ref.predict_proba(X)[0], atol=1e-5)
        assert np.array_equal(got.predict(Gm), ref.predict(X))


def test_bad_covariates_and_validation_are_named(plink, tmp_path):
    prefix, _, Y, C = plink
    Gm = read_plink(prefix)
    n = Y.shape[0]
    with pytest.raises(ValueError, match=rf"covariates must have shape \({n}, n_covariates\)"):
        L21Regressor(alpha=0.1).fit(Gm, Y, covariates=C[:10])
    with pytest.raises(ValueError, match="covariates contains NaN"):
        L21Regressor(alpha=0.1).fit(Gm, Y, covariates=np.where(C > 1, np.nan, C))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = L21Regressor(alpha=0.5).fit(Gm, Y)
        with_c = L21Regressor(alpha=0.5).fit(Gm, Y, covariates=C)
    with pytest.raises(ValueError, match="fitted without covariates"):
        plain.predict(Gm, covariates=C)
    with pytest.raises(ValueError, match=rf"covariates must have shape \({n}, 2\)"):
        with_c.predict(Gm, covariates=C[:, :1])
    for bad, msg in [([Gm, Y], "validation must be"), ((Gm,), "validation must be"),
                     ((Gm, Y[:, :1]), "Y_val has 1 tasks"), ((Gm.take(np.arange(5)), Y), "X_val has 5 features")]:
        with pytest.raises(ValueError, match=msg):
            l21_path(Gm, Y, n_alphas=3, validation=bad)
    with pytest.raises(ValueError, match="patience must be a positive integer"):
        l21_path(Gm, Y, n_alphas=3, validation=(Gm, Y), patience=0)
