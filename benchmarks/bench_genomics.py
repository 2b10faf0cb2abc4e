"""Benchmark (issue 18): the L2,1 path streamed from a PLINK file, against in-memory skmtl and R glmnet.

Simulated biobank-shaped data, written to disk in chunks of variants (the full
genotype matrix is never held in memory: at the full size, n = 20,000 people by
p = 200,000 variants, it would be 32 GB as float64):

* genotypes in LD blocks of ``--block-min`` to ``--block-max`` variants (20-50):
  within a block each haplotype follows a latent Gaussian AR(1) across
  consecutive variants (correlation drawn per block in ``--rho``, 0.8-0.9);
  each person has two haplotypes, and a haplotype carries the minor allele
  where its latent value is below the minor-allele-frequency quantile, so the
  genotype is a sum of two Bernoulli(MAF) draws, correlated along the block;
  MAF uniform in 0.05-0.5; ``--missing`` (1%) of the calls set to missing;
* written by this script's own chunked PLINK 1 writer (``.bed`` variant-major,
  ``.bim``, ``.fam``; the minor allele is A1, so the genotype value is the count
  of A1 alleles, bed-reader's default ``count_A1=True``). ``--check-writer``
  checks the writer against ``bed_reader.open_bed(...).read()`` on small files
  (every ``n % 4``, missing calls, several chunks) and exits; ``--quick`` runs
  the same check first;
* ``T`` traits (10) sharing ``--n-causal`` causal variants (150; the same
  variants for every trait, independent N(0, 1) effects per trait on the
  standardized causal genotypes), heritability per trait uniform in ``--h2``
  (0.3-0.5; genetic variance over genetic plus noise variance, computed on the
  true genotypes before calls are masked), five covariates (age, sex and three
  Gaussian "PCs", effects N(0, 0.3^2) per standardized covariate and trait, plus
  a per-trait intercept); ``--nan-frac`` (10%) of the phenotypes missing,
  independently per trait. ``Y``, the covariates and the true causal set are
  saved in ``pheno.npz`` next to the ``.bed``. A random ``--val-frac`` (20%) of
  the people is held out: their phenotypes are NaN in the training targets
  every fit gets (skmtl treats NaN targets as unobserved).

Rows:

a. skmtl streaming path: ``G = skmtl.datasets.read_plink(prefix)`` (a lazy
   genotype matrix decoding the 2-bit codes in Numba kernels) and
   ``l21_path(G, Y, n_alphas=30, eps=0.05, covariates=C, return_intercept=True)``
   (covariates unpenalized, not in ``coefs``). Run in a fresh child process
   (after a warm-up fit on a tiny PLINK file, so Numba compilation and cache
   loading are not timed): wall time of the ``l21_path`` call, peak resident
   memory of the child (``ru_maxrss``: interpreter, ``Y`` and the path output
   included; the simulation's memory is not) and its growth during the fit.
   Selection against the truth along the path: variants selected (a nonzero
   coefficient for any trait), true positives, selected variants in a causal
   variant's LD block, precision, recall, and the validation R^2 (mean over
   traits, observed held-out phenotypes) of each alpha; the covariate effects,
   which the path does not return, are recovered by least squares of the
   training residuals ``Y - X W^T`` on ``[1, C]`` (exact for unpenalized
   covariates); missing genotypes are mean-imputed for that prediction. The
   time of one full pass ``X^T R`` over the genotypes (natively, ``G.rmatmat(R)``
   or ``G.T @ R``, where the lazy matrix has it; and through ``G.take`` in column
   chunks plus a BLAS product) is measured after the fit, and the cost-model line
   divides it by ``n p T``. The passes the fit itself makes are counted and
   timed by wrapping the instance's ``G.rmatmat`` (the full pass ``X^T V`` of
   skmtl's design protocol, which the streaming solver calls): their number,
   median time and share of the fit.
b. ``--dask``: ``run_dask`` starts a ``dask.distributed.LocalCluster`` (2 worker
   processes, one thread each) in a child and runs the same ``l21_path`` on
   ``G.to_dask()``; time, peak memory of the child and of the workers, and the
   largest coefficient difference relative to row (a) (skipped with a message
   where ``to_dask`` does not exist).
c. Peers on the first ``--subset-features`` variants (20,000), decoded to dense
   float64 (bed-reader, missing calls mean-imputed): (i) skmtl's in-memory
   ``l21_path`` with the same options (all training rows, NaN targets
   unobserved; and on the complete rows only, glmnet mgaussian's data), in
   child processes; (ii) R glmnet through ``Rscript``: ``family="mgaussian"`` on
   the complete training rows (mgaussian cannot take NaN) and
   ``family="gaussian"`` one trait at a time on each trait's observed training
   rows, covariates with ``penalty.factor=0``, ``nlambda = n_alphas``,
   ``lambda.min.ratio = eps``, ``standardize=FALSE``; data passed as binary
   files, timed inside R with ``system.time`` around each ``glmnet`` call only.
   Ratios ours/theirs on the same rows: skmtl complete rows / mgaussian, skmtl
   all observed entries (one multi-task path) / the sum of the T gaussian paths.

Caution on ``eps``: on these data the end of a path to ``0.05 alpha_max``
selects most variants (at n=2000 and n=8000 with p=5000, 60% and 55% of them at
the last alpha, against a best validation R^2 at 0.19 and 0.10 alpha_max), and
the streaming solver caches its working set's columns in memory (n x |S|), so at
the full size the last alphas may need many GB; ``--eps`` raises the floor.

Run: ``python benchmarks/bench_genomics.py`` (full size: about 1 GB of ``.bed``
and a 3 GB dense subset in ``--workdir``; large files are deleted at the end
unless ``--keep``; ``--reuse`` skips the simulation when the files of the same
sizes and seed are already in ``--workdir``), ``--quick`` (n=2000, p=5000,
seconds), ``--results FILE`` to also write the report as markdown.
"""

import argparse
import inspect
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import markdown_table, maxrss_mb, rss_mb, versions_line  # noqa: E402

PACKAGES = ["numpy", "scipy", "numba", "dask", "distributed", "skmtl"]
BED_MAGIC = bytes([0x6C, 0x1B, 0x01])  # PLINK 1 .bed, variant-major (SNP-major) mode
# genotype value (count of A1 alleles; -1 missing) -> 2-bit .bed code:
# 2 -> 00 (homozygous A1), missing -> 01, 1 -> 10 (heterozygous), 0 -> 11 (homozygous A2)
_CODE = np.array([3, 2, 0, 1], dtype=np.uint8)  # indexed by value, missing (-1) mapped to 3
_ALLELE_PAIRS = [(a, b) for a in "ACGT" for b in "ACGT" if a != b]
N_COV = 5
FULL = dict(n=20000, p=200000, subset=20000, n_alphas=30, n_causal=150)
QUICK = dict(n=2000, p=5000, subset=2000, n_alphas=10, n_causal=50)


# --------------------------------------------------------------------------- PLINK writer


def encode_bed(geno):
    """Pack a (n_variants, n_samples) int8 chunk of A1 counts (0, 1, 2; -1 missing) into .bed bytes.

    Variant-major: ``ceil(n / 4)`` bytes per variant, sample ``i`` in bits
    ``2 * (i % 4)`` of byte ``i // 4``; the padding bits of the last byte are 0.
    """
    geno = np.asarray(geno)
    c, n = geno.shape
    codes = _CODE[np.where(geno < 0, 3, geno)]
    n4 = -(-n // 4) * 4
    if n4 != n:
        codes = np.concatenate([codes, np.zeros((c, n4 - n), dtype=np.uint8)], axis=1)
    q = codes.reshape(c, n4 // 4, 4)
    packed = q[:, :, 0] | (q[:, :, 1] << 2) | (q[:, :, 2] << 4) | (q[:, :, 3] << 6)
    return np.ascontiguousarray(packed, dtype=np.uint8).tobytes()


class PlinkWriter:
    """Chunked PLINK 1 writer: ``.fam`` at once, then ``.bed`` and ``.bim`` a chunk of variants at a time."""

    def __init__(self, prefix, n_samples, fid=None, iid=None):
        self.prefix = str(prefix)
        self.n = int(n_samples)
        self.p = 0
        iid = [f"per{i}" for i in range(self.n)] if iid is None else list(iid)
        fid = [f"fam{i}" for i in range(self.n)] if fid is None else list(fid)
        with open(self.prefix + ".fam", "w") as f:
            f.write("".join(f"{a} {b} 0 0 0 -9\n" for a, b in zip(fid, iid)))
        self._bed = open(self.prefix + ".bed", "wb")
        self._bed.write(BED_MAGIC)
        self._bim = open(self.prefix + ".bim", "w")

    def write(self, geno, chrom, sid, pos, a1, a2):
        """Append variants: ``geno`` (n_variants, n_samples) A1 counts, -1 missing; one .bim field each."""
        if geno.shape[1] != self.n:
            raise ValueError(f"chunk has {geno.shape[1]} samples, the .fam {self.n}")
        self._bed.write(encode_bed(geno))
        self._bim.write("".join(f"{c}\t{s}\t0\t{q}\t{x}\t{y}\n" for c, s, q, x, y in zip(chrom, sid, pos, a1, a2)))
        self.p += geno.shape[0]

    def close(self):
        self._bed.close()
        self._bim.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _bim_fields(start, stop, p, rng_pos, rng_allele):
    """Chromosome (22 equal stretches), id, position, A1, A2 of variants ``start:stop`` of ``p``."""
    v = np.arange(start, stop)
    chrom = 1 + v * 22 // p
    steps = rng_pos.integers(100, 5000, size=stop - start)
    pairs = rng_allele.integers(0, len(_ALLELE_PAIRS), size=stop - start)
    return chrom, [f"rs{j + 1}" for j in v], steps, [_ALLELE_PAIRS[k][0] for k in pairs], [_ALLELE_PAIRS[k][1] for k in pairs]


def check_writer(workdir, verbose=True):
    """Write small PLINK files with known genotypes (every n % 4, missing calls, chunks of 7
    variants) and read them back with ``bed_reader.open_bed(path).read()``; raises on a mismatch.

    Also decodes them with ``skmtl.datasets.read_plink`` when it exists, and returns a line on how
    it decodes missing calls (or why it was not checked).
    """
    from bed_reader import open_bed

    rng = np.random.default_rng(123)
    skmtl_note = None
    for n in (36, 37, 38, 39):
        p = 23
        geno = rng.integers(0, 3, size=(p, n)).astype(np.int8)
        geno[rng.random((p, n)) < 0.1] = -1
        geno[0, :] = 2  # an all-A1 variant, an all-missing one
        geno[1, :] = -1
        prefix = os.path.join(workdir, f"check_writer_n{n}")
        chrom = np.repeat([1, 2], [12, 11])
        sid = [f"v{j}" for j in range(p)]
        pos = np.arange(p) * 10 + 5
        a1 = ["A"] * p
        a2 = ["G"] * p
        with PlinkWriter(prefix, n) as w:
            for s in range(0, p, 7):
                e = min(p, s + 7)
                w.write(geno[s:e], chrom[s:e], sid[s:e], pos[s:e], a1[s:e], a2[s:e])
        assert os.path.getsize(prefix + ".bed") == 3 + p * (-(-n // 4)), "bad .bed size"
        expected = np.where(geno < 0, np.nan, geno).T.astype(np.float32)
        with open_bed(prefix + ".bed") as bed:
            got = bed.read()
            assert got.shape == (n, p), got.shape
            assert np.array_equal(np.isnan(got), np.isnan(expected)), f"n={n}: missing calls differ"
            assert np.array_equal(np.nan_to_num(got, nan=-1), np.nan_to_num(expected, nan=-1)), f"n={n}: genotypes differ"
            assert list(bed.iid) == [f"per{i}" for i in range(n)]
            assert list(bed.sid) == sid
            assert list(bed.bp_position) == list(pos)
            assert [str(c) for c in bed.chromosome] == [str(c) for c in chrom]
            assert list(bed.allele_1) == a1 and list(bed.allele_2) == a2
            got_a2 = open_bed(prefix + ".bed", count_A1=False).read()
            assert np.array_equal(np.nan_to_num(got_a2, nan=-1), np.where(np.isnan(expected), -1, 2 - expected))
        if skmtl_note is None or n == 39:
            skmtl_note = _check_read_plink(prefix, expected)
    if verbose:
        print("check-writer: .bed/.bim/.fam read back by bed_reader.open_bed identical "
              "(n = 36..39, 10% missing calls, chunks of 7 variants, count_A1 True and False)")
        print(f"check-writer: skmtl.datasets.read_plink: {skmtl_note}")
    return skmtl_note


def _check_read_plink(prefix, expected):
    """Compare ``read_plink(prefix).take(all columns)`` with the known genotypes; a line on the outcome."""
    try:
        from skmtl.datasets import read_plink
    except ImportError as exc:
        return f"not checked ({exc})"
    G = read_plink(prefix)
    n, p = expected.shape
    assert tuple(G.shape) == (n, p), f"read_plink shape {G.shape} != {(n, p)}"
    X = np.asarray(G.take(np.arange(p)), dtype=np.float64)
    obs = ~np.isnan(expected)
    assert np.array_equal(X[obs], expected[obs].astype(np.float64)), "read_plink decodes the genotypes differently"
    ids = getattr(G, "variant_ids", None)
    if ids is not None:
        assert [str(s) for s in ids] == [f"v{j}" for j in range(p)], "read_plink variant_ids differ"
    called = obs.any(axis=0)  # the all-missing variant has no mean: left out of the comparison
    miss = X[:, called][~obs[:, called]]
    if np.isnan(miss).all():
        how = "as NaN"
    else:
        col_mean = np.nanmean(np.where(obs, expected, np.nan)[:, called], axis=0)
        full = np.broadcast_to(col_mean, (n, int(called.sum())))[~obs[:, called]]
        how = ("as the variant's mean of the called genotypes (mean-imputed)" if np.allclose(miss, full)
               else f"as values like {np.unique(np.round(miss, 3))[:5]}")
    how += f"; an all-missing variant as {np.unique(X[:, ~called])}"
    return f"identical on the observed calls; missing calls decoded {how}"


# --------------------------------------------------------------------------- simulation


def simulate(workdir, *, n, p, T, n_causal, block_min, block_max, rho, maf, missing, h2, nan_frac,
             val_frac, chunk, seed, name="geno"):
    """Write ``<workdir>/<name>.{bed,bim,fam}`` and ``pheno.npz``, a chunk of variants at a time.

    Returns a dict of summary numbers (times, sizes). Memory: one chunk of latent
    values ``(chunk, 2 n)`` float32 plus the causal genotypes ``(n, n_causal)``.
    """
    from scipy.special import ndtri

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    rng_pos, rng_allele = np.random.default_rng(seed + 1), np.random.default_rng(seed + 2)
    sizes = []
    while sum(sizes) < p:
        sizes.append(int(rng.integers(block_min, block_max + 1)))
    block_id = np.repeat(np.arange(len(sizes)), sizes)[:p]
    block_start = np.r_[True, block_id[1:] != block_id[:-1]]
    rhos = rng.uniform(rho[0], rho[1], size=len(sizes))
    mafs = rng.uniform(maf[0], maf[1], size=p)
    thr = ndtri(mafs).astype(np.float32)  # P(z < thr) = MAF: the haplotype carries the minor allele (A1)
    causal = np.sort(rng.choice(p, size=min(n_causal, p), replace=False))
    G_causal = np.empty((n, len(causal)), dtype=np.int8)
    n_missing = 0
    prefix = os.path.join(workdir, name)
    z_prev = None
    pos_offset = np.zeros(23, dtype=np.int64)
    with PlinkWriter(prefix, n) as w:
        for s in range(0, p, chunk):
            e = min(p, s + chunk)
            c = e - s
            E = rng.standard_normal((c, 2 * n), dtype=np.float32)  # one row per variant, 2 haplotypes per person
            for j in range(c):
                v = s + j
                if block_start[v]:
                    continue
                r = rhos[block_id[v]]
                prev = E[j - 1] if j else z_prev
                E[j] *= np.float32(math.sqrt(1.0 - r * r))
                E[j] += np.float32(r) * prev
            z_prev = E[c - 1].copy()
            H = E < thr[s:e, None]
            del E
            geno = H[:, :n].astype(np.int8)
            geno += H[:, n:]
            del H
            m = (causal >= s) & (causal < e)
            G_causal[:, m] = geno[causal[m] - s].T
            k = rng.binomial(c * n, missing)
            geno.reshape(-1)[rng.integers(0, c * n, size=k)] = -1
            n_missing += k
            chrom, sid, steps, a1, a2 = _bim_fields(s, e, p, rng_pos, rng_allele)
            pos = np.empty(c, dtype=np.int64)
            for ch in np.unique(chrom):  # positions increase within each chromosome across chunks
                sel = chrom == ch
                pos[sel] = pos_offset[ch] + np.cumsum(steps[sel])
                pos_offset[ch] = pos[sel][-1]
            w.write(geno, chrom, sid, pos, a1, a2)
    t_geno = time.perf_counter() - t0

    # phenotypes from the true (unmasked) causal genotypes
    Xc = G_causal.astype(np.float64)
    sd = Xc.std(0)
    Xc = (Xc - Xc.mean(0)) / np.where(sd > 0, sd, 1.0)
    B = rng.standard_normal((len(causal), T))
    g = Xc @ B
    h2s = rng.uniform(h2[0], h2[1], size=T)
    g = (g - g.mean(0)) / g.std(0) * np.sqrt(h2s)
    noise = rng.standard_normal((n, T)) * np.sqrt(1.0 - h2s)
    C = np.column_stack([rng.uniform(20, 80, n).round(), rng.integers(0, 2, n), rng.standard_normal((n, 3))])
    Cs = (C - C.mean(0)) / C.std(0)
    gamma = rng.normal(0.0, 0.3, size=(N_COV, T))
    mu = rng.normal(0.0, 1.0, size=T)
    Y = mu + Cs @ gamma + g + noise
    Y[rng.random((n, T)) < nan_frac] = np.nan
    val = np.zeros(n, dtype=bool)
    val[rng.choice(n, size=int(round(val_frac * n)), replace=False)] = True
    Y_train = Y.copy()
    Y_train[val] = np.nan
    np.savez(os.path.join(workdir, "pheno.npz"), Y=Y, Y_train=Y_train, C=C, val=val, causal=causal,
             effects=B, h2=h2s, gamma=gamma, mu=mu, maf=mafs, block_id=block_id, rho=rhos,
             meta=np.array([n, p, T, seed, len(causal)]))
    return dict(t_geno=t_geno, t_total=time.perf_counter() - t0, n_blocks=len(sizes),
                missing_rate=n_missing / (n * p), bed_mb=os.path.getsize(prefix + ".bed") / 2**20)


def simulation_sanity(prefix, workdir, max_variants=2000):
    """Allele frequencies, missing rate and adjacent-variant LD of the first variants, read by bed-reader."""
    from bed_reader import open_bed

    ph = np.load(os.path.join(workdir, "pheno.npz"))
    with open_bed(prefix + ".bed") as bed:
        k = min(max_variants, bed.sid_count)
        X = bed.read(index=np.s_[:, :k], dtype="float32")
    miss = float(np.isnan(X).mean())
    freq = np.nanmean(X, axis=0) / 2
    maf_err = float(np.abs(freq - ph["maf"][:k]).max())
    Xi = np.where(np.isnan(X), np.nanmean(X, axis=0), X)
    Xi = Xi - Xi.mean(0)
    nrm = np.linalg.norm(Xi, axis=0)
    r = (Xi[:, 1:] * Xi[:, :-1]).sum(0) / (nrm[1:] * nrm[:-1])
    same = ph["block_id"][1:k] == ph["block_id"][:k - 1]
    return dict(k=k, missing=miss, maf_err=maf_err, r_within=float(np.median(r[same])),
                r_across=float(np.median(np.abs(r[~same]))) if (~same).any() else float("nan"))


def _write_warmup(workdir, seed=7):
    """A tiny PLINK file and its phenotypes, for the warm-up fit of each child (Numba compilation)."""
    rng = np.random.default_rng(seed)
    n, p, T = 120, 60, 3
    geno = rng.integers(0, 3, size=(p, n)).astype(np.int8)
    geno[rng.random((p, n)) < 0.01] = -1
    prefix = os.path.join(workdir, "warmup")
    with PlinkWriter(prefix, n) as w:
        w.write(geno, [1] * p, [f"w{j}" for j in range(p)], np.arange(1, p + 1), ["A"] * p, ["C"] * p)
    Y = rng.standard_normal((n, T))
    Y[rng.random((n, T)) < 0.1] = np.nan
    np.savez(prefix + ".npz", Y=Y, C=rng.standard_normal((n, N_COV)))
    return prefix


# --------------------------------------------------------------------------- child processes


def _skmtl_api():
    """``(l21_path, read_plink or None, why-not line or None)``, importing what exists."""
    from skmtl.linear import l21_path

    try:
        from skmtl.datasets import read_plink
    except ImportError as exc:
        return l21_path, None, f"skmtl.datasets.read_plink is not available ({exc})"
    if "covariates" not in inspect.signature(l21_path).parameters:
        return l21_path, read_plink, "l21_path has no covariates= keyword yet"
    return l21_path, read_plink, None


def _validation(X, G, ph, spec):
    """``validation=`` and ``patience=`` of ``l21_path`` with ``--patience`` (held-out people), else {}."""
    if not spec.get("patience"):
        return {}
    val = np.flatnonzero(ph["val"])
    Xv = G.take_rows(val) if G is not None else np.asarray(X[val])
    return {"validation": (Xv, ph["Y"][val], ph["C"][val]), "patience": spec["patience"]}


def _fit_path(l21_path, X, Y, C, spec, extra=None):
    """The ``l21_path`` call of every row; ``(seconds, rss before MiB, outputs, n ConvergenceWarnings, note)``.

    Without a ``covariates=`` keyword (dense input only) the covariates are prepended as
    unpenalized columns (``penalty_factor`` 0; skmtl rescales the factors to sum to the number
    of columns, as glmnet does, which scales the alphas by ``(p + 5) / p``) and removed from
    ``coefs``.
    """
    from sklearn.exceptions import ConvergenceWarning

    kw = dict(n_alphas=spec["n_alphas"], eps=spec["eps"], tol=spec["tol"], return_intercept=True, **(extra or {}))
    note = None
    if "covariates" in inspect.signature(l21_path).parameters:
        kw["covariates"] = C
        n_drop = 0
    else:
        X = np.asfortranarray(np.hstack([C, X]))
        kw["penalty_factor"] = np.r_[np.zeros(C.shape[1]), np.ones(X.shape[1] - C.shape[1])]
        n_drop = C.shape[1]
        note = "covariates as penalty_factor=0 columns (no covariates= keyword)"
    rss0 = rss_mb()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        out = l21_path(X, Y, **kw)
        dt = time.perf_counter() - t0
    alphas, coefs, gaps, intercepts = out[:4]
    n_conv = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return dt, rss0, (np.asarray(alphas), _on_own_support(coefs, n_drop), np.asarray(gaps),
                      np.asarray(intercepts)), n_conv, note


def _on_own_support(coefs, n_drop=0):
    """``(support, W)``: the features nonzero at some alpha and the path on them, (n_alphas, T, |support|),
    from a dense path array or a list of sparse (T, p) matrices (``l21_path`` on a design), never densified."""
    if isinstance(coefs, list):
        nz = [np.unique(c.tocoo().col) for c in coefs]
        support = np.unique(np.concatenate(nz)) if nz else np.zeros(0, dtype=np.int64)
        support = support[support >= n_drop]
        W = np.stack([c[:, support].toarray() for c in coefs]) if coefs else np.zeros((0, 0, 0))
        return support - n_drop, W
    coefs = np.asarray(coefs)[:, :, n_drop:]
    support = np.flatnonzero(np.any(coefs != 0, axis=(0, 1)))
    return support, coefs[:, :, support]


def _maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _pass_times(G, Y, chunk):
    """Time one full pass ``X^T R`` over the genotypes: natively (``G.rmatmat(R)`` or ``G.T @ R``) if supported, and
    through ``G.take`` in column chunks (decode to float64, missing mean-imputed, BLAS product)."""
    n, p = G.shape
    R = np.nan_to_num(Y - np.nanmean(Y, axis=0))
    out = {}
    for how, fn in (("G.rmatmat(R)", lambda: G.rmatmat(R)), ("G.T @ R", lambda: G.T @ R)):
        try:
            t0 = time.perf_counter()
            Z = np.asarray(fn())
            dt = time.perf_counter() - t0
        except Exception as exc:  # no lazy transpose product: try the next, else the take-based pass only
            out.setdefault("native_error", f"{how}: {type(exc).__name__}: {str(exc)[:100]}")
            continue
        if Z.shape == (p, R.shape[1]):
            out["native"], out["native_how"] = dt, how
            break
    t0 = time.perf_counter()
    for s in range(0, p, chunk):
        Xk = np.asarray(G.take(np.arange(s, min(p, s + chunk))), dtype=np.float64)
        if np.isnan(Xk).any():
            Xk = np.where(np.isnan(Xk), np.nanmean(Xk, axis=0), Xk)
        _ = Xk.T @ R
    out["take"] = time.perf_counter() - t0
    return out


def _kernel_vs_blas(G, T, repeats=5):
    """Seconds of the genotype pass over one block of variants (read, decode and multiply in Numba, as
    ``G.rmatmat`` does) against a float32 BLAS product over the same block already in memory; the issue's
    target is a speed ratio >= 0.5."""
    from skmtl.datasets._bed_kernels import bed_pass

    n, p = G.shape
    b = int(min(p, max(1, 2**28 // (4 * n))))
    V = np.random.default_rng(0).standard_normal((n, T)).astype(np.float32)
    Vt = np.ascontiguousarray(V.T)
    Xb = G.take(np.arange(b), dtype=np.float32)  # the block in memory, for BLAS alone
    out = np.empty((b, T))

    def kernel():
        bed_pass(G._read(0, b), n, G._values(0, b), Vt, out)
        return out

    def blas():
        return Xb.T @ V

    times = {}
    for name, fn in (("kernel", kernel), ("blas", blas)):
        fn()
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        times[name] = (time.perf_counter() - t0) / repeats
    err = float(np.abs(kernel() - Xb.T.astype(np.float64) @ V).max() / np.abs(blas()).max())
    return {"block": b, **times, "speed_ratio": times["blas"] / times["kernel"], "max_rel_diff": err}


def _count_passes(G):
    """Wrap the instance's ``G.rmatmat`` (the design protocol's full pass ``X^T V``) to record the duration
    of each call; returns the list it fills, or None when ``G`` has no ``rmatmat``."""
    orig = getattr(G, "rmatmat", None)
    if orig is None:
        return None
    seconds = []

    def rmatmat(V):
        t0 = time.perf_counter()
        out = orig(V)
        seconds.append(time.perf_counter() - t0)
        return out

    G.rmatmat = rmatmat
    return seconds


def _warm_up(l21_path, read_plink, spec):
    w = np.load(spec["warmup"] + ".npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = dict(n_alphas=3, eps=0.1, return_intercept=True)
        if read_plink is not None:
            l21_path(read_plink(spec["warmup"]), w["Y"], covariates=w["C"], **kw)
        else:
            X = np.asfortranarray(np.random.default_rng(0).integers(0, 3, (120, 60)).astype(np.float64))
            if "covariates" in inspect.signature(l21_path).parameters:
                l21_path(X, w["Y"], covariates=w["C"], **kw)
            else:
                l21_path(np.hstack([w["C"], X]), w["Y"], **kw)


def _worker(spec_path):
    """Child process: one fit (``spec["mode"]``: stream, dask, dense, dense_cc); prints a JSON line."""
    with open(spec_path) as f:
        spec = json.load(f)
    mode = spec["mode"]
    res = {"mode": mode}
    ph = np.load(spec["pheno"])
    Y, C = ph["Y_train"], ph["C"]
    try:
        l21_path, read_plink, why = _skmtl_api()
    except ImportError as exc:
        print(json.dumps({"skip": f"skmtl.linear.l21_path not importable ({exc})"}))
        return 0
    cluster = client = None
    if mode in ("stream", "dask"):
        if why:
            print(json.dumps({"skip": why}))
            return 0
        G = read_plink(spec["prefix"])
        X = G
        if mode == "dask":
            if not hasattr(G, "to_dask"):
                print(json.dumps({"skip": "read_plink's matrix has no to_dask() yet"}))
                return 0
        _warm_up(l21_path, read_plink, spec)
        if mode == "dask":
            from dask.distributed import Client, LocalCluster

            t0 = time.perf_counter()
            cluster = LocalCluster(n_workers=spec.get("dask_workers", 2), threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)
            client = Client(cluster)
            res["cluster_start_s"] = time.perf_counter() - t0
            w = np.load(spec["warmup"] + ".npz")
            with warnings.catch_warnings():  # the workers' first decoding (Numba) outside the timing
                warnings.simplefilter("ignore")
                l21_path(read_plink(spec["warmup"]).to_dask(), w["Y"], covariates=w["C"], n_alphas=3, eps=0.1)
            X = G.to_dask()
    else:
        _warm_up(l21_path, None, spec)
        if mode == "dense_cc":  # the complete rows only, copied from the mapped file a block of columns at a time
            rows = np.flatnonzero(~np.isnan(Y).any(axis=1))
            mm = np.load(spec["X"], mmap_mode="r")
            X = np.empty((len(rows), mm.shape[1]), order="F")
            for s in range(0, mm.shape[1], 1024):
                X[:, s:s + 1024] = mm[rows, s:s + 1024]
            del mm
            Y, C = Y[rows], C[rows]
            res["rows"] = len(rows)
        else:
            X = np.load(spec["X"])
    pass_seconds = _count_passes(X) if mode == "stream" else None
    try:
        # the complete-case row has other rows: it runs its whole grid
        extra = {} if mode == "dense_cc" else _validation(X, G if mode in ("stream", "dask") else None, ph, spec)
        dt, rss0, (alphas, coefs, gaps, intercepts), n_conv, note = _fit_path(l21_path, X, Y, C, spec, extra)
    except Exception as exc:
        if client is not None:
            client.close()
            cluster.close()
        print(json.dumps({"error": f"l21_path failed: {type(exc).__name__}: {str(exc)[:300]}"}))
        return 0
    res.update(time=dt, rss_before_mb=rss0, maxrss_mb=maxrss_mb(), n_conv=n_conv, note=note,
               max_gap=float(np.max(gaps)), n_alphas=len(alphas))
    if client is not None:
        res["worker_maxrss_mb"] = [v / 1024 for v in client.run(_maxrss_kb).values()]
        client.close()
        cluster.close()
    support, W = coefs
    np.savez(spec["out"], alphas=alphas, support=support, coefs=W, gaps=gaps,
             intercepts=intercepts, n_selected=np.any(W != 0, axis=1).sum(axis=1))
    del coefs, W
    if mode == "stream":
        if pass_seconds:
            res["fit_passes"] = pass_seconds
            del G.rmatmat  # the timing below without the wrapper
        if spec.get("pass_time", True):
            res["pass"] = _pass_times(G, Y, spec["pass_chunk"])
            res["kernel_vs_blas"] = _kernel_vs_blas(G, Y.shape[1])
    print(json.dumps(res))
    return 0


def run_child(workdir, mode, spec, timeout):
    """Run ``_worker`` for ``mode`` in a fresh interpreter; its JSON dict (``error`` on a failure)."""
    spec = dict(spec, mode=mode, out=os.path.join(workdir, f"path_{mode}.npz"))
    spec_path = os.path.join(workdir, f"spec_{mode}.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    print(f"  [{time.strftime('%H:%M:%S')}] child {mode} ...", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--_worker", spec_path],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        print(proc.stderr[-3000:], file=sys.stderr)
        last = ([ln for ln in proc.stderr.strip().splitlines() if ln.strip()] or ["no output"])[-1]
        return {"error": f"child failed (rc {proc.returncode}): {last.strip()[:300]}"}
    out = json.loads(lines[-1])
    if "time" in out:
        out["path"] = spec["out"]
    return out


def run_dask(workdir, spec, timeout, ref, sizes):
    """Row (b): the same path on ``G.to_dask()`` under a 2-process LocalCluster, in a child.

    Returns ``(row, notes)``; compares the coefficients with row (a)'s (``ref``, its child's dict).
    """
    out = run_child(workdir, "dask", spec, timeout)
    if "skip" in out or "error" in out:
        msg = _why_not(out)
        print(f"(b) dask: {msg}")
        return ["(b) skmtl l21_path on G.to_dask(), LocalCluster 2 x 1 thread", sizes, msg,
                "-", "-", "-", "-"], []
    diff = "-"
    if ref and "path" in ref:
        a, b = np.load(ref["path"]), np.load(out["path"])
        union = np.union1d(a["support"], b["support"])
        Wa, Wb = _on_support(a, union), _on_support(b, union)
        scale = max(np.abs(Wa).max(), 1e-300)
        diff = f"max |coef diff| / max |coef| vs (a): {np.abs(Wa - Wb).max() / scale:.1e}"
        if not np.array_equal(a["support"], b["support"]):
            diff += f"; supports differ ({len(a['support'])} vs {len(b['support'])})"
    workers = out.get("worker_maxrss_mb", [])
    row = ["(b) skmtl l21_path on G.to_dask(), LocalCluster 2 x 1 thread", sizes, _fmt_t(out["time"]),
           "(a) streaming: " + (_fmt_t(ref["time"]) if ref and "time" in ref else "-"),
           f"{out['time'] / ref['time']:.2f}" if ref and "time" in ref else "-",
           f"{out['maxrss_mb']:.0f} MiB + workers " + " + ".join(f"{w:.0f}" for w in workers) + " MiB",
           diff]
    return row, [f"(b) cluster start {out.get('cluster_start_s', float('nan')):.1f} s and a warm-up fit on the "
                 f"cluster (the workers' Numba decoding) not timed; the ratio column of (b) is dask / streaming; "
                 f"peak RSS: the client process, then each worker's ru_maxrss."]


def _on_support(d, union):
    """A saved path's (A, T, len(union)) coefficients on the sorted variant indices ``union``."""
    W = np.zeros(d["coefs"].shape[:2] + (len(union),))
    W[:, :, np.searchsorted(union, d["support"])] = d["coefs"]
    return W


# --------------------------------------------------------------------------- selection and validation


def path_selection(path_file, bed_path, ph, k=None, chunk=2048):
    """Per alpha: selected variants, true positives, selected in a causal LD block, precision,
    recall and the validation R^2 (mean over traits). ``k``: only the first ``k`` variants were fitted."""
    from bed_reader import open_bed

    d = np.load(path_file)
    alphas, support, W = d["alphas"], d["support"], d["coefs"]
    causal, block_id = ph["causal"], ph["block_id"]
    if k is not None:
        causal = causal[causal < k]
    causal_blocks = set(block_id[causal].tolist())
    Y, Y_tr, C, val = ph["Y"], ph["Y_train"], ph["C"], ph["val"]
    # genetic part X W_a^T of every alpha, the support read in chunks of columns (it can hold most variants
    # at the end of the path)
    G_parts = np.zeros((len(alphas), len(Y), Y.shape[1]))
    with open_bed(bed_path) as bed:
        for s in range(0, len(support), chunk):
            X = bed.read(index=np.s_[:, support[s:s + chunk]], dtype="float32")
            X = np.where(np.isnan(X), np.nanmean(X, axis=0), X).astype(np.float64)
            for a in range(len(alphas)):
                G_parts[a] += X @ W[a][:, s:s + chunk].T
            del X
    D = np.column_stack([np.ones(len(Y)), C])
    rows = []
    for a in range(len(alphas)):
        sel_mask = np.any(W[a] != 0, axis=0)
        sel = support[sel_mask]
        tp = int(np.isin(sel, causal).sum())
        in_block = int(np.isin(block_id[sel], list(causal_blocks)).sum()) if len(sel) else 0
        G_part = G_parts[a]  # (n, T)
        r2 = []
        for t in range(Y.shape[1]):
            tr = ~np.isnan(Y_tr[:, t])
            coef, *_ = np.linalg.lstsq(D[tr], Y_tr[tr, t] - G_part[tr, t], rcond=None)
            te = val & ~np.isnan(Y[:, t])
            pred = G_part[te, t] + D[te] @ coef
            yt = Y[te, t]
            r2.append(1.0 - ((yt - pred) ** 2).sum() / ((yt - yt.mean()) ** 2).sum())
        rows.append(dict(alpha=float(alphas[a]), ratio=float(alphas[a] / alphas[0]), selected=len(sel), tp=tp,
                         in_block=in_block, precision=tp / len(sel) if len(sel) else float("nan"),
                         recall=tp / len(causal) if len(causal) else float("nan"), r2=float(np.mean(r2))))
    return rows, len(causal)


# --------------------------------------------------------------------------- R glmnet


_R_GLMNET = textwrap.dedent("""
    suppressMessages(library(glmnet))
    d <- commandArgs(trailingOnly = TRUE)[1]
    dims <- scan(file.path(d, "dims.txt"), quiet = TRUE)
    n <- dims[1]; k <- dims[2]; nt <- dims[3]; nc <- dims[4]; nl <- dims[5]; eps <- dims[6]; thresh <- dims[7]
    X <- matrix(readBin(file.path(d, "X.bin"), "double", n * k), n, k)
    C <- matrix(readBin(file.path(d, "C.bin"), "double", n * nc), n, nc)
    Y <- matrix(readBin(file.path(d, "Y.bin"), "double", n * nt), n, nt)
    XC <- cbind(C, X); rm(X); invisible(gc())
    pf <- c(rep(0, nc), rep(1, k))
    obs <- !is.na(Y)
    cc <- which(rowSums(!obs) == 0)
    Xcc <- XC[cc, , drop = FALSE]; Ycc <- Y[cc, , drop = FALSE]
    t_mg <- system.time(fit <- glmnet(Xcc, Ycc, family = "mgaussian", penalty.factor = pf, nlambda = nl,
                                      lambda.min.ratio = eps, standardize = FALSE, thresh = thresh))[["elapsed"]]
    nz <- Reduce(`+`, lapply(fit$beta, function(B) as.matrix(B[-seq_len(nc), , drop = FALSE] != 0)))
    writeBin(as.double(nz > 0), file.path(d, "sel_mg.bin"))
    nl_mg <- length(fit$lambda)
    rm(Xcc, fit); invisible(gc())
    t_g <- 0
    selg <- matrix(FALSE, k, nl)
    nl_g <- 0
    for (t in seq_len(nt)) {
        r <- which(obs[, t])
        Xt <- XC[r, , drop = FALSE]; yt <- Y[r, t]
        t_g <- t_g + system.time(f <- glmnet(Xt, yt, family = "gaussian", penalty.factor = pf, nlambda = nl,
                                             lambda.min.ratio = eps, standardize = FALSE,
                                             thresh = thresh))[["elapsed"]]
        B <- as.matrix(f$beta[-seq_len(nc), , drop = FALSE] != 0)
        m <- ncol(B)
        if (m < nl) B <- cbind(B, B[, rep(m, nl - m), drop = FALSE])  # a path stopped early: its last lambda
        selg <- selg | B[, seq_len(nl), drop = FALSE]
        nl_g <- nl_g + length(f$lambda)
        rm(Xt, f)
    }
    writeBin(as.double(selg), file.path(d, "sel_g.bin"))
    cat(sprintf("%.6f %d %d %.6f %d %s\\n", t_mg, length(cc), nl_mg, t_g, nl_g, as.character(packageVersion("glmnet"))))
""")


def glmnet_status():
    """``None`` when ``Rscript`` with glmnet is usable, else the reason."""
    if shutil.which("Rscript") is None:
        return "Rscript is not on the PATH"
    try:
        proc = subprocess.run(["Rscript", "-e", "suppressMessages(library(glmnet))"], capture_output=True,
                              text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Rscript failed ({type(exc).__name__})"
    if proc.returncode != 0:
        return "the R package glmnet is not installed (apt-get install r-cran-glmnet)"
    return None


def write_glmnet_inputs(d, X, C, Y):
    """``X``, ``C``, ``Y`` as float64 column-major binary files in ``d`` (no copy of an F-ordered ``X``)."""
    for name, a in (("X", X), ("C", C), ("Y", Y)):
        np.asarray(a, dtype=np.float64).ravel(order="F").tofile(os.path.join(d, f"{name}.bin"))


def run_glmnet(d, n, k, C, Y, n_alphas, eps, thresh, timeout):
    """glmnet mgaussian (complete rows) and per-trait gaussian (observed rows) in Rscript on the inputs
    :func:`write_glmnet_inputs` left in ``d``; a dict."""
    with open(os.path.join(d, "dims.txt"), "w") as f:
        f.write(" ".join(repr(float(v)) for v in (n, k, Y.shape[1], C.shape[1], n_alphas, eps, thresh)) + "\n")
    script = os.path.join(d, "glmnet.R")
    with open(script, "w") as f:
        f.write(_R_GLMNET)
    print(f"  [{time.strftime('%H:%M:%S')}] Rscript glmnet ...", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(["Rscript", script, d], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"error": f"Rscript failed: {proc.stderr.strip()[-300:]}"}
    t_mg, n_cc, nl_mg, t_g, nl_g, version = proc.stdout.strip().splitlines()[-1].split()
    sel_mg = np.fromfile(os.path.join(d, "sel_mg.bin")).reshape(int(nl_mg), k).astype(bool)
    sel_g = np.fromfile(os.path.join(d, "sel_g.bin")).reshape(n_alphas, k).astype(bool)
    return dict(t_mg=float(t_mg), n_cc=int(n_cc), nl_mg=int(nl_mg), t_g=float(t_g), nl_g=int(nl_g),
                version=version, sel_mg=sel_mg, sel_g=sel_g)


# --------------------------------------------------------------------------- report


def _fmt_t(t):
    if t is None or not np.isfinite(t):
        return "-"
    return f"{t * 1e3:.0f} ms" if t < 1 else f"{t:.2f} s"


def _sel_txt(sel_idx, causal):
    tp = int(np.isin(sel_idx, causal).sum())
    prec = f"{tp / len(sel_idx):.2f}" if len(sel_idx) else "-"
    return f"{len(sel_idx)} selected, {tp} TP, precision {prec}, recall {tp / max(len(causal), 1):.2f}"


def _best_txt(path, n_causal):
    """The path's alpha with the best validation R^2: ``(index, text)``."""
    i = max(range(len(path)), key=lambda a: path[a]["r2"])
    r = path[i]
    prec = "-" if np.isnan(r["precision"]) else f"{r['precision']:.2f}"
    return i, (f"best validation R^2 {r['r2']:.3f} at alpha {i + 1} of {len(path)} (alpha_max*{r['ratio']:.3g}): "
               f"{r['selected']} selected, {r['tp']} TP of {n_causal} causal, precision {prec}, "
               f"recall {r['recall']:.2f}")


def _why_not(out):
    return f"skipped: {out['skip']}" if "skip" in out else f"failed: {out.get('error')}"


def _mem_txt(out):
    return f"{out['maxrss_mb']:.0f} MiB (+{max(out['maxrss_mb'] - out['rss_before_mb'], 0):.0f} during fit)"


def row_stream(out, n, p, T, ph, bed_path, notes):
    """Row (a) and the path table."""
    label = "(a) skmtl l21_path on read_plink (streaming)"
    sizes = f"n={n}, p={p}, T={T}"
    if "time" not in out:
        msg = _why_not(out)
        print(f"(a) skmtl streaming: {msg}")
        return [label, sizes, msg, "-", "-", "-", "-"], None
    path, n_causal = path_selection(out["path"], bed_path, ph)
    row = [label, sizes + f", {out['n_alphas']} alphas", _fmt_t(out["time"]), "-", "-", _mem_txt(out),
           _best_txt(path, n_causal)[1]]
    _conv_note(out, "(a)", notes)
    return row, path


def _conv_note(out, label, notes):
    if out.get("n_conv"):
        notes.append(f"{label} {out['n_conv']} ConvergenceWarnings; largest final duality gap {out['max_gap']:.2e}.")


def cost_model(out, n, p, T):
    """The cost-model line from row (a)'s pass timings."""
    if not out or "pass" not in out:
        return "cost model: no pass timing (row (a) skipped or --no-pass-time)"
    ps = out["pass"]
    parts = []
    t_pass = ps.get("native", ps["take"])
    how = ps.get("native_how", "G.take chunks + X^T R")
    line = (f"cost model: {t_pass:.3g} s per full pass ({how}) / (n p T = {n * p * T:.3g}) = "
            f"{t_pass / (n * p * T) * 1e9:.3g} ns per n*p*T")
    if "native" in ps:
        parts.append(f"through G.take: {ps['take']:.3g} s")
    else:
        parts.append(f"no native pass ({ps.get('native_error', '?')})")
    fp = out.get("fit_passes")
    if fp:
        parts.append(f"the fit made {len(fp)} full passes (G.rmatmat calls), median {np.median(fp):.3g} s each, "
                     f"{sum(fp):.3g} s in all = {100 * sum(fp) / out['time']:.0f}% of the fit; "
                     f"{np.median(fp) / (n * p * T) * 1e9:.3g} ns per n*p*T inside the fit")
    else:
        parts.append(f"no full pass observed through G.rmatmat during the fit; the fit took "
                     f"{out['time'] / t_pass:.1f} pass-equivalents")
    kb = out.get("kernel_vs_blas")
    if kb:
        parts.append(f"one block of {kb['block']} variants: genotype pass kernel (read, decode and multiply in cache) "
                     f"{kb['kernel']:.3g} s, float32 BLAS alone on the block in memory {kb['blas']:.3g} s: "
                     f"speed ratio {kb['speed_ratio']:.2f} (target >= 0.5)")
    return line + "; " + "; ".join(parts)


def peers(args, workdir, prefix, ph, spec, n, p, T, notes):
    """Rows (c): the first ``k`` variants dense, skmtl in memory (children) and R glmnet."""
    from bed_reader import open_bed

    k = min(args.subset_features, p)
    rows = []
    t0 = time.perf_counter()
    with open_bed(prefix + ".bed") as bed:
        X = bed.read(index=np.s_[:, :k], dtype="float64", order="F")
    for s in range(0, k, 1024):  # mean-impute in place, a block of columns at a time (no full-size copy)
        blk = X[:, s:s + 1024]
        miss = np.isnan(blk)
        if miss.any():
            blk[miss] = np.broadcast_to(np.nanmean(blk, axis=0), blk.shape)[miss]
    x_path = os.path.join(workdir, "X_subset.npy")
    np.save(x_path, X)
    t_dec = time.perf_counter() - t0
    causal = ph["causal"][ph["causal"] < k]
    sizes = f"n={n}, p={k} (first variants), T={T}"
    notes.append(f"(c) subset: the first {k} variants ({len(causal)} causal among them), decoded by bed-reader to "
                 f"float64 ({X.nbytes / 2**20:.0f} MiB) and mean-imputed in {t_dec:.1f} s (not timed).")
    skip = "--skip-glmnet" if args.skip_glmnet else glmnet_status()
    r_dir = tempfile.mkdtemp(dir=workdir)
    if skip is None:
        write_glmnet_inputs(r_dir, X, ph["C"], ph["Y_train"])
    del X  # the children and R load their own copies
    try:
        sk = {mode: run_child(workdir, mode, dict(spec, X=x_path), args.timeout) for mode in ("dense", "dense_cc")}
        os.remove(x_path)
        glm = None
        if skip is None:
            glm = run_glmnet(r_dir, n, k, ph["C"], ph["Y_train"], spec["n_alphas"], spec["eps"], args.glmnet_thresh,
                             args.timeout)
        else:
            print(f"(c) R glmnet: skipped: {skip}")
            notes.append(f"(c) R glmnet skipped: {skip}.")
    finally:
        shutil.rmtree(r_dir, ignore_errors=True)
    best = {}
    for mode, label in (("dense", "(c-i) skmtl l21_path in memory, all training rows (NaN unobserved)"),
                        ("dense_cc", "(c-i) skmtl l21_path in memory, complete training rows")):
        out = sk[mode]
        if "time" not in out:
            print(f"{label}: {_why_not(out)}")
            rows.append([label, sizes, _why_not(out), "-", "-", "-", "-"])
            continue
        path, nc = path_selection(out["path"], prefix + ".bed", ph, k)
        best[mode], sel = _best_txt(path, nc)
        if mode == "dense_cc":
            peer_t = glm.get("t_mg") if glm else None
            peer = f"glmnet mgaussian: {_fmt_t(peer_t)}"
        else:
            peer_t = glm.get("t_g") if glm else None
            peer = f"glmnet gaussian x {T} traits: {_fmt_t(peer_t)}"
        if out.get("note"):
            sel += f"; {out['note']}"
        _conv_note(out, f"(c-i) {mode}:", notes)
        rows.append([label, sizes + (f", {out['rows']} rows" if "rows" in out else ""), _fmt_t(out["time"]), peer,
                     f"{out['time'] / peer_t:.2f}" if peer_t else "-", _mem_txt(out), sel])
    if glm and "error" in glm:
        notes.append(f"(c) R glmnet failed: {glm['error']}")
    elif glm:
        idx = np.arange(k)
        i_mg = min(best.get("dense_cc", glm["nl_mg"] - 1), glm["nl_mg"] - 1)
        i_g = best.get("dense", spec["n_alphas"] - 1)
        at = "(the grid position of skmtl's best alpha)" if best else "(the last)"
        rows.append(["(c-ii) R glmnet mgaussian, complete training rows", sizes + f", {glm['n_cc']} rows",
                     "-", _fmt_t(glm["t_mg"]), "-", "-",
                     f"at lambda {i_mg + 1} of {glm['nl_mg']} {at}: " + _sel_txt(idx[glm["sel_mg"][i_mg]], causal)])
        rows.append([f"(c-ii) R glmnet gaussian, one trait at a time ({T} paths)", sizes + ", observed rows per trait",
                     "-", _fmt_t(glm["t_g"]), "-", "-",
                     f"union over traits at lambda {i_g + 1} of {spec['n_alphas']} {at}: "
                     + _sel_txt(idx[glm["sel_g"][i_g]], causal)])
        if glm["nl_g"] < T * spec["n_alphas"]:
            notes.append(f"(c) glmnet gaussian: some paths stopped early ({glm['nl_g']} lambdas in all of "
                         f"{T * spec['n_alphas']}); their last lambda stands for the missing ones.")
        notes.append(f"(c) glmnet {glm['version']}: standardize=FALSE, thresh={args.glmnet_thresh:g}, nlambda="
                     f"{spec['n_alphas']}, lambda.min.ratio={spec['eps']}, covariates with penalty.factor=0 (glmnet "
                     f"rescales the factors to sum to the number of columns); its own lambda grid, of the same shape as "
                     f"skmtl's (from its lambda_max down to eps times it, log-spaced); timed in R by "
                     f"system.time around each glmnet call (the gaussian row sums the {T} calls); one thread.")
    return rows


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    try:
        bed = f"bed-reader {version('bed-reader')}"
    except PackageNotFoundError:
        bed = "bed-reader (not installed)"
    line = versions_line(PACKAGES)
    head, _, cpus = line.rpartition(" | ")
    return f"{head} | {bed} | {cpus}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="n=2000, p=5000, 2000-variant subset, 10 alphas")
    ap.add_argument("--n", type=int, help="people (default 20,000)")
    ap.add_argument("--p", type=int, help="variants (default 200,000)")
    ap.add_argument("--T", type=int, default=10, help="traits (default 10)")
    ap.add_argument("--n-causal", type=int, help="causal variants shared by the traits (default 150)")
    ap.add_argument("--n-alphas", type=int, help="alphas on each path (default 30)")
    ap.add_argument("--eps", type=float, default=0.05, help="smallest alpha / alpha_max (default 0.05)")
    ap.add_argument("--tol", type=float, default=1e-4, help="skmtl duality-gap tolerance (default 1e-4)")
    ap.add_argument("--glmnet-thresh", type=float, default=1e-7, help="glmnet thresh (default 1e-7, its default)")
    ap.add_argument("--block-min", type=int, default=20, help="smallest LD block (variants)")
    ap.add_argument("--block-max", type=int, default=50, help="largest LD block (variants)")
    ap.add_argument("--rho", type=float, nargs=2, default=(0.8, 0.9), help="range of the AR(1) correlation")
    ap.add_argument("--maf", type=float, nargs=2, default=(0.05, 0.5), help="range of the minor-allele frequency")
    ap.add_argument("--h2", type=float, nargs=2, default=(0.3, 0.5), help="range of the heritability per trait")
    ap.add_argument("--missing", type=float, default=0.01, help="fraction of missing genotype calls")
    ap.add_argument("--nan-frac", type=float, default=0.1, help="fraction of missing phenotypes per trait")
    ap.add_argument("--val-frac", type=float, default=0.2, help="held-out fraction of the people")
    ap.add_argument("--patience", type=int, default=None,
                    help="stop each path this many alphas after its best held-out score (l21_path's "
                         "validation= and patience=; default: the whole grid)")
    ap.add_argument("--chunk", type=int, help="variants per simulated chunk (default: 256 MB of latent values)")
    ap.add_argument("--pass-chunk", type=int, default=2048, help="columns per G.take call of the pass timing")
    ap.add_argument("--subset-features", type=int, help="variants of the dense peers' subset (0: no peers; "
                    "default 20,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", help="where the files go (default: a new folder under /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the large files (default: delete them)")
    ap.add_argument("--reuse", action="store_true", help="reuse the PLINK files in --workdir when they match")
    ap.add_argument("--dask", action="store_true", help="also row (b): dask distributed")
    ap.add_argument("--skip-stream", action="store_true", help="skip row (a)")
    ap.add_argument("--skip-glmnet", action="store_true", help="skip R glmnet")
    ap.add_argument("--no-pass-time", action="store_true", help="do not time a full pass after row (a)")
    ap.add_argument("--check-writer", action="store_true", help="check the .bed writer against bed-reader and exit")
    ap.add_argument("--timeout", type=float, default=7200, help="seconds allowed to each child / Rscript")
    ap.add_argument("--results", help="also write the report to this markdown file")
    ap.add_argument("--_worker", dest="worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return _worker(args.worker)

    base = QUICK if args.quick else FULL
    n = args.n or base["n"]
    p = args.p or base["p"]
    T = args.T
    n_alphas = args.n_alphas or base["n_alphas"]
    n_causal = args.n_causal or base["n_causal"]
    if args.subset_features is None:
        args.subset_features = base["subset"]
    chunk = args.chunk or max(1, min(p, (256 * 2**20) // (8 * n)))

    own_dir = args.workdir is None
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench_genomics_", dir="/tmp")
    os.makedirs(workdir, exist_ok=True)
    prefix = os.path.join(workdir, "geno")
    created = []
    try:
        if args.check_writer or args.quick:
            check_dir = tempfile.mkdtemp(dir=workdir)
            check_writer(check_dir)
            shutil.rmtree(check_dir)
            if args.check_writer:
                return 0
        return _run(args, workdir, prefix, created, n=n, p=p, T=T, n_alphas=n_alphas, n_causal=n_causal, chunk=chunk)
    finally:
        if args.keep:
            print(f"\nfiles kept in {workdir}")
        elif own_dir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for f in created:
                if os.path.exists(f):
                    os.remove(f)


def _run(args, workdir, prefix, created, *, n, p, T, n_alphas, n_causal, chunk):
    notes = []
    pheno = os.path.join(workdir, "pheno.npz")
    meta = np.array([n, p, T, args.seed, min(n_causal, p)])
    reuse = (args.reuse and all(os.path.exists(prefix + e) for e in (".bed", ".bim", ".fam")) and os.path.exists(pheno)
             and np.array_equal(np.load(pheno)["meta"], meta))
    if not reuse:
        created += [prefix + e for e in (".bed", ".bim", ".fam")] + [pheno]
        print(f"  [{time.strftime('%H:%M:%S')}] simulating n={n}, p={p} in chunks of {chunk} variants ...",
              file=sys.stderr, flush=True)
        sim = simulate(workdir, n=n, p=p, T=T, n_causal=n_causal, block_min=args.block_min, block_max=args.block_max,
                       rho=args.rho, maf=args.maf, missing=args.missing, h2=args.h2, nan_frac=args.nan_frac,
                       val_frac=args.val_frac, chunk=chunk, seed=args.seed)
        notes.append(f"simulation: {sim['n_blocks']} LD blocks, .bed {sim['bed_mb']:.0f} MiB written in "
                     f"{sim['t_geno']:.1f} s (chunks of {chunk} variants; peak RSS of this process "
                     f"{maxrss_mb():.0f} MiB), {100 * sim['missing_rate']:.2f}% missing calls.")
    else:
        notes.append(f"simulation: reused the files in {workdir}.")
    ph = dict(np.load(pheno))
    san = simulation_sanity(prefix, workdir)
    notes.append(f"simulation check (first {san['k']} variants, bed-reader): missing {100 * san['missing']:.2f}%, "
                 f"largest |allele frequency - MAF| {san['maf_err']:.3f}, median adjacent-variant r within blocks "
                 f"{san['r_within']:.2f}, |r| across block boundaries {san['r_across']:.2f}; h2 per trait "
                 f"{ph['h2'].min():.2f}-{ph['h2'].max():.2f}; {100 * np.isnan(ph['Y']).mean():.1f}% missing phenotypes, "
                 f"{int(ph['val'].sum())} people held out.")
    if args.quick:
        assert abs(san["missing"] - args.missing) < 0.5 * args.missing + 0.002, san
        assert san["maf_err"] < 0.1 and san["r_within"] > 0.3, san
    warm = _write_warmup(workdir)
    created += [warm + e for e in (".bed", ".bim", ".fam", ".npz")]
    spec = dict(prefix=prefix, pheno=pheno, warmup=warm, n_alphas=n_alphas, eps=args.eps, tol=args.tol,
                patience=args.patience,
                pass_chunk=args.pass_chunk, pass_time=not args.no_pass_time)
    created += [os.path.join(workdir, f"{k}_{m}.{e}") for k, e in (("path", "npz"), ("spec", "json"))
                for m in ("stream", "dask", "dense", "dense_cc")]
    rows, stream, path = [], None, None
    if not args.skip_stream:
        stream = run_child(workdir, "stream", spec, args.timeout)
        row, path = row_stream(stream, n, p, T, ph, prefix + ".bed", notes)
        rows.append(row)
    if args.dask:
        row, n_ = run_dask(workdir, spec, args.timeout, stream, f"n={n}, p={p}, T={T}, {n_alphas} alphas")
        rows.append(row)
        notes += n_
    if args.subset_features > 0:
        created.append(os.path.join(workdir, "X_subset.npy"))
        rows += peers(args, workdir, prefix, ph, spec, n, p, T, notes)
    notes.append(f"skmtl: l21_path(n_alphas={n_alphas}, eps={args.eps}, tol={args.tol}, covariates=C "
                 f"({N_COV} columns, unpenalized), return_intercept=True) on the training targets "
                 f"(held-out people NaN); each fit in a fresh child after a warm-up fit (Numba compilation "
                 f"and cache loading not timed); peak RSS = ru_maxrss of the child, '+' its growth during the fit.")
    cost = cost_model(stream if stream and "time" in stream else None, n, p, T)
    title = f"Genomics: L2,1 path on PLINK genotypes (issue 18){' (--quick)' if args.quick else ''}"
    headers = ["row", "sizes", "skmtl", "peer", "ratio ours/peer", "peak RSS", "selection vs truth"]
    md = [f"## {title}", "", _versions(), "", markdown_table(headers, rows), ""]
    md += [f"- {x}" for x in notes]
    md += ["", cost]
    if path:
        md += ["", "### (a) selection along the path", "",
               markdown_table(["alpha / alpha_max", "selected", "true positives", "in a causal LD block",
                               "precision", "recall", "validation R^2"],
                              [[f"{r['ratio']:.3g}", r["selected"], r["tp"], r["in_block"],
                                "-" if np.isnan(r["precision"]) else f"{r['precision']:.2f}", f"{r['recall']:.2f}",
                                f"{r['r2']:.3f}"] for r in path])]
    text = "\n".join(md)
    print("\n" + text)
    if args.results:
        Path(args.results).write_text(text + "\n")
        print(f"\nwritten to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
