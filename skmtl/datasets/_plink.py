r"""PLINK 1 binary genotypes (``.bed``/``.bim``/``.fam``) as a lazy feature matrix.

:func:`read_plink` reads the sample and variant tables and returns a
:class:`GenotypeMatrix`: the ``.bed`` file is read by blocks of variants
when a solver asks for a full pass or a few columns, and its 2-bit codes are
decoded inside the Numba kernels of :mod:`skmtl.datasets._bed_kernels`. The
matrix it stands for is

.. math::

    X_{ij} = \begin{cases} g_{ij} & \text{called} \\ \bar g_j & \text{missing} \end{cases}
    \qquad\text{or, with ``standardize=True``,}\qquad
    \frac{X_{ij} - \bar g_j}{s_j},

``g_ij`` the number of copies of allele A1 (the ``.bim``'s fifth column, as
PLINK's and bed-reader's ``count_A1``), ``g_bar_j`` the mean over the called
samples of the file and ``s_j`` the standard deviation of the mean-imputed
column over all the samples (1 for a monomorphic variant). Imputation and
scaling use every sample of the file, so a subset of rows
(:meth:`GenotypeMatrix.take_rows`, a cross-validation fold) is the same matrix
cut to those rows.
"""

import copy
import hashlib
import os

import numpy as np

from .._design import ColumnDesign, _check_cols, _check_rows, _out_array, column_runs

__all__ = ["read_plink", "write_plink", "GenotypeMatrix"]

_MAGIC = bytes([0x6C, 0x1B, 0x01])


def _kernels():
    """The Numba kernels, imported on first use (``import skmtl.datasets`` does not load Numba)."""
    from . import _bed_kernels

    return _bed_kernels
_BLOCK_BYTES = 2**26  # .bed bytes per block of a full pass
_CHUNK_BYTES = 2**27  # decoded float32 chunk of to_dask()
_TAKE_BLOCK = 2048  # variants read at a time by take()


def _read_table(path, n_cols, what):
    rows = []
    with open(path) as fh:
        for k, line in enumerate(fh):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < n_cols:
                raise ValueError(f"{what} line {k + 1} has {len(parts)} fields; expected {n_cols}.")
            rows.append(parts[:n_cols])
    return rows


def read_plink(prefix, *, standardize=False, block_size=None):
    """Open PLINK 1 binary files as a lazy genotype matrix.

    Parameters
    ----------
    prefix : str or path
        Path without extension (``prefix.bed``, ``prefix.bim``, ``prefix.fam``),
        or the path of the ``.bed`` file.
    standardize : bool, default=False
        Scale each mean-imputed variant to mean 0 and variance 1 (as
        bigstatsr and snpnet do before a penalized fit); by default the
        features are the allele counts, missing calls replaced by the mean.
    block_size : int, optional
        Variants per block of a full pass (default: about 64 MiB of ``.bed``).

    Returns
    -------
    GenotypeMatrix
        Of shape (n_samples, n_variants); nothing of the ``.bed`` is read yet.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skmtl.datasets import read_plink, write_plink
    >>> from skmtl.linear import L21Regressor
    >>> rng = np.random.default_rng(0)
    >>> G = rng.binomial(2, 0.3, size=(200, 50)).astype(float)
    >>> Y = G[:, :2] @ rng.normal(size=(2, 3)) + rng.normal(size=(200, 3))
    >>> X = read_plink(write_plink(os.path.join(tempfile.mkdtemp(), "cohort"), G))
    >>> model = L21Regressor(alpha=0.05).fit(X, Y)  # streamed: X is never loaded whole
    >>> np.flatnonzero(np.any(model.coef_ != 0, axis=0))[:2]
    array([0, 1])
    """
    prefix = os.fspath(prefix)
    if prefix.endswith(".bed"):
        prefix = prefix[:-4]
    paths = {ext: f"{prefix}.{ext}" for ext in ("bed", "bim", "fam")}
    for ext, path in paths.items():
        if not os.path.exists(path):
            raise FileNotFoundError(f"read_plink: {path} does not exist (PLINK 1 needs .bed, .bim and .fam).")
    fam = _read_table(paths["fam"], 2, "read_plink: .fam")
    bim = _read_table(paths["bim"], 6, "read_plink: .bim")
    n, p = len(fam), len(bim)
    if n == 0 or p == 0:
        raise ValueError(f"read_plink: {prefix} has {n} samples and {p} variants; both must be positive.")
    with open(paths["bed"], "rb") as fh:
        magic = fh.read(3)
    if magic[:2] != _MAGIC[:2]:
        raise ValueError(f"read_plink: {paths['bed']} is not a PLINK 1 .bed file (bad magic number).")
    if magic[2:3] != _MAGIC[2:3]:
        raise ValueError(f"read_plink: {paths['bed']} is sample-major (PLINK 1.0 mode); "
                         f"convert it to variant-major with `plink --make-bed`.")
    nb = (n + 3) // 4
    size = os.path.getsize(paths["bed"])
    if size != 3 + p * nb:
        raise ValueError(
            f"read_plink: {paths['bed']} has {size} bytes; {n} samples (.fam) and {p} variants "
            f"(.bim) need {3 + p * nb}. The three files do not belong together.")
    bim_cols = list(zip(*bim))
    return GenotypeMatrix(
        paths["bed"], n, p,
        sample_ids=np.array([r[1] for r in fam], dtype=object),
        family_ids=np.array([r[0] for r in fam], dtype=object),
        variant_ids=np.array(bim_cols[1], dtype=object),
        chromosomes=np.array(bim_cols[0], dtype=object),
        positions=np.array(bim_cols[3], dtype=np.int64),
        allele_1=np.array(bim_cols[4], dtype=object),
        allele_2=np.array(bim_cols[5], dtype=object),
        standardize=standardize, block_size=block_size,
    )


def _pack(block):
    """Allele counts (n, b) (NaN: missing) -> .bed bytes (b, ceil(n / 4))."""
    G = np.asarray(block, dtype=np.float64)
    n, b = G.shape
    code = np.full(G.shape, 1, dtype=np.uint8)  # missing
    code[G == 2] = 0
    code[G == 1] = 2
    code[G == 0] = 3
    bad = ~np.isnan(G) & ~np.isin(G, (0.0, 1.0, 2.0))
    if bad.any():
        raise ValueError("write_plink: genotypes must be 0, 1, 2 (copies of allele A1) or NaN (missing).")
    pad = (-n) % 4
    code = np.vstack([code, np.zeros((pad, b), dtype=np.uint8)]).T.reshape(b, -1, 4)
    return (code[:, :, 0] | (code[:, :, 1] << 2) | (code[:, :, 2] << 4) | (code[:, :, 3] << 6)).astype(np.uint8)


def write_plink(prefix, genotypes, *, sample_ids=None, variant_ids=None):
    """Write allele counts as PLINK 1 binary files (variant-major ``.bed``, ``.bim``, ``.fam``).

    Parameters
    ----------
    prefix : str or path
        Path without extension.
    genotypes : array-like of shape (n_samples, n_variants), or iterable of such blocks
        Copies of allele A1 (0, 1, 2; NaN for a missing call). An iterable of
        column blocks (each (n_samples, b)) is written block by block, so a
        matrix larger than memory can be written as it is simulated.
    sample_ids, variant_ids : sequence of str, optional
        Default ``s0, s1, ...`` and ``v0, v1, ...``.

    Returns
    -------
    prefix : str

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import read_plink, write_plink
    >>> import tempfile, os
    >>> prefix = os.path.join(tempfile.mkdtemp(), "toy")
    >>> G = np.array([[0, 1, 2], [2, np.nan, 1], [1, 1, 0], [0, 2, 2], [1, 0, 1]])
    >>> X = read_plink(write_plink(prefix, G))
    >>> X.shape
    (5, 3)
    >>> X.take([1])[:, 0]  # the missing call is the mean of the others
    array([1., 1., 1., 2., 0.])
    """
    prefix = os.fspath(prefix)
    blocks = [genotypes] if hasattr(genotypes, "shape") or isinstance(genotypes, list) and genotypes \
        and np.ndim(genotypes[0]) == 1 else genotypes
    n = p = None
    with open(f"{prefix}.bed", "wb") as fh:
        fh.write(_MAGIC)
        p = 0
        for block in blocks:
            block = np.asarray(block, dtype=np.float64)
            if block.ndim != 2 or (n is not None and block.shape[0] != n):
                raise ValueError(f"write_plink: every block must be 2-D with {n} rows; got shape {block.shape}.")
            n = block.shape[0]
            fh.write(_pack(block).tobytes())
            p += block.shape[1]
    if n is None:
        raise ValueError("write_plink: no genotypes given.")
    sample_ids = [f"s{i}" for i in range(n)] if sample_ids is None else list(sample_ids)
    variant_ids = [f"v{j}" for j in range(p)] if variant_ids is None else list(variant_ids)
    if len(sample_ids) != n or len(variant_ids) != p:
        raise ValueError(f"write_plink: {len(sample_ids)} sample ids and {len(variant_ids)} variant ids for "
                         f"{n} samples and {p} variants.")
    with open(f"{prefix}.fam", "w") as fh:
        fh.writelines(f"{s} {s} 0 0 0 -9\n" for s in sample_ids)
    with open(f"{prefix}.bim", "w") as fh:
        fh.writelines(f"1\t{v}\t0\t{j + 1}\tA\tG\n" for j, v in enumerate(variant_ids))
    return prefix


def _decode_block(G, start, stop, dtype):
    """Variants ``start:stop`` of ``G`` decoded (its rows), for :meth:`GenotypeMatrix.to_dask`."""
    return G.take(np.arange(start, stop), dtype=dtype)


class _Stats:
    """Per-variant code counts of the whole file, computed once on first use (shared by row subsets)."""

    def __init__(self):
        self.counts = None


class GenotypeMatrix(ColumnDesign):
    """PLINK 1 genotypes read by blocks of variants and decoded in Numba kernels.

    Built by :func:`read_plink`; see :mod:`skmtl.datasets._plink` for the
    matrix it stands for. Picklable (it holds the path, not an open file), so
    dask workers can read it.

    Parameters
    ----------
    bed_path : str
        The ``.bed`` file (variant-major).
    n_file_samples, n_variants : int
        Samples (``.fam`` lines) and variants (``.bim`` lines) of the file.
    sample_ids, family_ids : ndarray of str
        The ``.fam``'s IID and FID of every sample of the file.
    variant_ids, chromosomes, positions, allele_1, allele_2 : ndarray
        The ``.bim``'s columns; the features count copies of ``allele_1``.
    standardize : bool, default=False
        Scale each mean-imputed variant to mean 0 and variance 1.
    block_size : int, optional
        Variants per block of a full pass.
    rows : ndarray of int, optional
        The samples of the file this matrix keeps (a subset), in order.
    _stats : object, optional
        Code counts shared with the matrix this one was cut from.

    Attributes
    ----------
    shape : tuple (n_samples, n_variants)
    """

    def __init__(self, bed_path, n_file_samples, n_variants, *, sample_ids, family_ids, variant_ids,
                 chromosomes, positions, allele_1, allele_2, standardize=False, block_size=None,
                 rows=None, _stats=None):
        self.bed_path = bed_path
        self._n_file = int(n_file_samples)
        self._p = int(n_variants)
        self._nb = (self._n_file + 3) // 4
        self._rows = None if rows is None else np.asarray(rows, dtype=np.int64)
        # a bootstrap sample repeats rows; their weights then add up in a pass (see _weights_t)
        self._rows_repeat = self._rows is not None and len(np.unique(self._rows)) < len(self._rows)
        self._all_rows = None
        self._ids = dict(family_ids=family_ids, variant_ids=variant_ids, chromosomes=chromosomes,
                         positions=positions, allele_1=allele_1, allele_2=allele_2)
        self._sample_ids_file = sample_ids
        self.standardize = bool(standardize)
        self.block_size = block_size
        self._stats = _Stats() if _stats is None else _stats

    # ------------------------------------------------------------ metadata
    @property
    def shape(self):
        return (self._n_file if self._rows is None else len(self._rows), self._p)

    @property
    def sample_ids(self):
        ids = self._sample_ids_file
        return ids if self._rows is None else ids[self._rows]

    @property
    def family_ids(self):
        ids = self._ids["family_ids"]
        return ids if self._rows is None else ids[self._rows]

    variant_ids = property(lambda self: self._ids["variant_ids"])
    chromosomes = property(lambda self: self._ids["chromosomes"])
    positions = property(lambda self: self._ids["positions"])
    allele_1 = property(lambda self: self._ids["allele_1"])
    allele_2 = property(lambda self: self._ids["allele_2"])

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_all_rows"] = None
        return state

    def __dask_tokenize__(self):
        """What the decoded matrix depends on (cheap: no hashing of the ids)."""
        rows = None if self._rows is None else hashlib.sha1(self._rows.tobytes()).hexdigest()
        st = os.stat(self.bed_path)  # a file rewritten at the same path gets another token
        return ("GenotypeMatrix", os.path.abspath(self.bed_path), st.st_size, st.st_mtime_ns, self._n_file,
                self._p, rows, self.standardize, self.block_size)

    def _lean(self):
        """This matrix without its sample and variant ids, for the tasks of a dask graph.

        The ids are object arrays (a million variants: hundreds of MB to
        pickle); a task needs only the file, the rows and the code counts.
        """
        self.code_counts()  # computed once here, shipped with the matrix
        lean = copy.copy(self)
        lean._ids = dict.fromkeys(self._ids)
        lean._sample_ids_file = None
        return lean

    def _block_size(self):
        if self.block_size is not None:
            return int(self.block_size)
        return max(1, min(_BLOCK_BYTES // self._nb, _CHUNK_BYTES // (4 * self._n_file)))

    # ------------------------------------------------------------ reading
    def _row_index(self):
        if self._rows is not None:
            return self._rows
        if self._all_rows is None:
            self._all_rows = np.arange(self._n_file, dtype=np.int64)
        return self._all_rows

    def _read(self, start, stop):
        """Bytes of variants ``start:stop``, shape (stop - start, ceil(n / 4))."""
        nbytes = (stop - start) * self._nb
        fd = os.open(self.bed_path, os.O_RDONLY)
        try:
            raw = os.pread(fd, nbytes, 3 + start * self._nb)
        finally:
            os.close(fd)
        if len(raw) != nbytes:
            raise OSError(f"{self.bed_path}: short read at variants {start}:{stop}; the file changed or is truncated.")
        return np.frombuffer(raw, dtype=np.uint8).reshape(stop - start, self._nb)

    def _read_cols(self, cols):
        """Bytes of the variants ``cols`` in their order, shape (len(cols), ceil(n / 4))."""
        buf = np.empty((len(cols), self._nb), dtype=np.uint8)
        for pos, a, b in column_runs(cols):
            buf[pos] = self._read(a, b)[cols[pos] - a]
        return buf

    # ------------------------------------------------------------ statistics
    def code_counts(self):
        """Counts of (hom. A1, missing, het., hom. A2) per variant over all the file's samples, (p, 4)."""
        if self._stats.counts is None:
            counts = np.empty((self._p, 4), dtype=np.int64)
            for a, b in self.blocks():
                k = _kernels()
                counts[a:b] = k.bed_code_counts(self._read(a, b), self._n_file, k._BYTE_COUNTS)
            self._stats.counts = counts
        return self._stats.counts

    def allele_frequencies(self):
        """Frequency of allele A1 among the called genotypes of each variant (NaN if none is called)."""
        c = self.code_counts()
        called = c[:, 0] + c[:, 2] + c[:, 3]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (2 * c[:, 0] + c[:, 2]) / (2.0 * called)

    def missing_rates(self):
        """Fraction of missing calls of each variant."""
        c = self.code_counts()
        return c[:, 1] / float(self._n_file)

    def _values(self, start=0, stop=None):
        """Value of each code (columns: codes 0..3) of variants ``start:stop``, shape (b, 4)."""
        c = self.code_counts()[start:stop].astype(np.float64)
        called = c[:, 0] + c[:, 2] + c[:, 3]
        mean = np.where(called > 0, (2 * c[:, 0] + c[:, 2]) / np.maximum(called, 1), 0.0)
        val = np.empty((len(c), 4))
        val[:, 0] = 2.0
        val[:, 1] = mean
        val[:, 2] = 1.0
        val[:, 3] = 0.0
        if self.standardize:
            val -= mean[:, None]
            # variance of the imputed column over all samples (imputed entries add nothing)
            var = (c[:, 0] * val[:, 0] ** 2 + c[:, 2] * val[:, 2] ** 2 + c[:, 3] * val[:, 3] ** 2) / self._n_file
            sd = np.sqrt(var)
            val /= np.where(sd > 0, sd, 1.0)[:, None]
        return val

    # ------------------------------------------------------------ design protocol
    def rmatmat(self, V):
        """One full pass ``X^T V``, shape (n_variants, k).

        Each block of variants is read, then decoded and multiplied by
        tiles of 16 variants that stay in cache (all the file's samples,
        four per byte; rows outside a subset get zero weight). Relative error
        about 1e-6 (float32 products), enough for gradients and KKT checks;
        the coefficients are fitted on float64 columns.
        """
        V = np.asarray(V, dtype=np.float64)
        if V.ndim != 2 or V.shape[0] != self.n_samples:
            raise ValueError(f"V must have shape ({self.n_samples}, k); got {V.shape}.")
        Vt = self._weights_t(V)
        out = np.empty((self._p, V.shape[1]))
        for a, b in self.blocks():
            self._pass_block(Vt, a, b, out[a:b])
        return out

    def _pass_block(self, Vt, start, stop, out):
        """``out = X[:, start:stop]^T V`` from ``Vt`` of :meth:`_weights_t` (the genotype kernel)."""
        _kernels().bed_pass(self._read(start, stop), self._n_file, self._values(start, stop), Vt, out)
        return out

    def _weights_t(self, V):
        """``V`` (n_samples, k) as the kernels take it: float32 (k, n_file), zero outside the rows."""
        Vt = np.zeros((V.shape[1], self._n_file), dtype=np.float32)
        rows = self._row_index()
        if self._rows_repeat:  # a row taken several times (a bootstrap sample) adds its weights
            np.add.at(Vt.T, rows, V.astype(np.float32))
        else:
            Vt[:, rows] = V.T
        return Vt

    def _block_rmatmat(self, V, start, stop):
        """``X[:, start:stop]^T V`` (one task of a pass of :meth:`to_dask`'s array on a cluster)."""
        return self._pass_block(self._weights_t(V), start, stop, np.empty((stop - start, V.shape[1])))

    def take(self, cols, dtype=np.float64, out=None):
        """Decoded columns ``X[:, cols]`` (Fortran order) of shape (n_samples, len(cols)).

        ``out``: an array of that shape to decode into (no other copy is made);
        the ``.bed`` bytes are read 2048 variants at a time.
        """
        cols = _check_cols(cols, self._p, "GenotypeMatrix.take")
        out = _out_array(out, self.n_samples, len(cols), dtype)
        if len(cols) == 0:
            return out
        val = self._values()
        for a in range(0, len(cols), _TAKE_BLOCK):
            part = cols[a:a + _TAKE_BLOCK]
            _kernels().bed_decode(self._read_cols(part), self._row_index(), val[part], out[:, a:a + len(part)])
        return out

    def take_rows(self, rows):
        """The genotypes of ``rows`` (indices or a boolean mask), sharing the file and its statistics."""
        rows = _check_rows(rows, self.n_samples, "GenotypeMatrix.take_rows")
        base = rows if self._rows is None else self._rows[rows]
        return GenotypeMatrix(
            self.bed_path, self._n_file, self._p, sample_ids=self._sample_ids_file, standardize=self.standardize,
            block_size=self.block_size, rows=base, _stats=self._stats, **self._ids)

    def to_dask(self, dtype=np.float32):
        """The decoded matrix as a dask array, one chunk per block of variants, decoded where it is computed.

        With a ``dask.distributed`` client, the L2,1 estimators given this array
        run every full pass on the workers: each worker reads and decodes its
        blocks of the ``.bed`` file (which it must be able to open at the same
        path) and returns ``X_B^T V``.

        Parameters
        ----------
        dtype : dtype, default=np.float32
            Of the decoded chunks.

        Returns
        -------
        dask.array.Array of shape (n_samples, n_variants)
        """
        import dask
        import dask.array as da

        lean = self._lean()  # shipped to the workers once per graph
        src = dask.delayed(lean, pure=True)
        n = self.n_samples
        blocks = self.blocks()
        parts = [da.from_delayed(dask.delayed(_decode_block)(src, a, b, dtype), shape=(n, b - a), dtype=dtype)
                 for a, b in blocks]
        X = da.concatenate(parts, axis=1)
        # the skmtl estimators given this very array run its passes and column reads as tasks on
        # the genotype blocks (2 bits per entry read, decoded in cache), not on the decoded chunks
        X._skmtl_blocks = (lean, blocks)
        return X

    def __getitem__(self, key):
        if not isinstance(key, tuple) or len(key) != 2:
            raise TypeError("GenotypeMatrix takes G[rows, cols] with both parts given (use G.take(cols) for columns).")
        rows, cols = key
        sub = self if (isinstance(rows, slice) and rows == slice(None)) else self.take_rows(
            np.arange(self.n_samples)[rows] if isinstance(rows, slice) else rows)
        cols = np.arange(self._p)[cols] if isinstance(cols, slice) else np.atleast_1d(cols)
        return sub.take(cols)

    def __repr__(self):
        return (f"GenotypeMatrix({os.path.basename(self.bed_path)!r}, n_samples={self.shape[0]}, "
                f"n_variants={self.shape[1]}, standardize={self.standardize})")
