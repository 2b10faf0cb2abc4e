r"""Feature matrices that are not in-memory arrays: designs read by column blocks.

A *design* is a matrix ``X`` of shape (n_samples, n_features) that the
streaming solvers (:mod:`skmtl.linear._screened`) never hold whole. They only
ask it for

* a full pass ``X^T V`` (``V`` of shape (n_samples, k), small), computed block
  of columns by block of columns (:meth:`ColumnDesign.rmatmat`);
* a few dense columns ``X[:, cols]`` (the working set, :meth:`ColumnDesign.take`);
* a restriction to some rows (a cross-validation fold, :meth:`ColumnDesign.take_rows`).

``X @ W`` (prediction) reads only the columns of the nonzero rows of ``W``.

Kinds of design:

* :class:`~skmtl.datasets.GenotypeMatrix` (PLINK 2-bit genotypes, decoded in
  Numba kernels, from :func:`~skmtl.datasets.read_plink`);
* :class:`ArrayDesign`: any 2-D array that can be sliced by columns without
  being loaded whole: numpy memmaps, zarr arrays, HDF5 datasets;
* :class:`DaskDesign`: a dask array; each full pass is one dask reduction
  (``X.T @ V``), so it runs wherever dask runs it, on the workers of a
  ``dask.distributed`` cluster when a client is active.

The estimators that accept designs (those of the L2,1 family, see
:func:`as_design`) turn memmaps, zarr and dask arrays into designs
themselves; the other estimators load them as arrays, as before.
"""

import numbers

import numpy as np

__all__ = ["ColumnDesign", "ArrayDesign", "DaskDesign", "StackedDesign", "as_design", "is_design", "add_covariates"]

_BLOCK_BYTES = 2**26  # default column block: about 64 MiB of float64


_MATMAT_BYTES = 2**26  # decoded float64 columns per step of ColumnDesign.matmat


class ColumnDesign:
    """Base of the designs: a matrix read by blocks of columns.

    Subclasses implement :meth:`_block_rmatmat`, :meth:`take`,
    :meth:`take_rows` and the ``shape`` property; the base supplies the full
    pass :meth:`rmatmat`, ``X @ W`` and the refusal to be turned into an array.
    """

    #: Columns per block of a full pass (subclasses set a default from the row count).
    block_size = None

    @property
    def shape(self):
        raise NotImplementedError

    @property
    def n_samples(self):
        return self.shape[0]

    @property
    def n_features(self):
        return self.shape[1]

    @property
    def ndim(self):
        return 2

    @property
    def dtype(self):
        return np.dtype(np.float64)

    def _block_size(self):
        if self.block_size is not None:
            return int(self.block_size)
        return max(1, _BLOCK_BYTES // (8 * max(1, self.n_samples)))

    def blocks(self):
        """The ``(start, stop)`` column ranges of a full pass."""
        p, b = self.n_features, self._block_size()
        return [(a, min(a + b, p)) for a in range(0, p, b)]

    def _block_rmatmat(self, V, start, stop):
        """``X[:, start:stop]^T V``, shape (stop - start, k)."""
        raise NotImplementedError

    def rmatmat(self, V):
        """One full pass: ``X^T V`` of shape (n_features, k) for ``V`` of shape (n_samples, k).

        Parameters
        ----------
        V : ndarray of shape (n_samples, k)

        Returns
        -------
        ndarray of shape (n_features, k), float64
        """
        V = np.ascontiguousarray(V, dtype=np.float64)
        if V.ndim != 2 or V.shape[0] != self.n_samples:
            raise ValueError(f"V must have shape ({self.n_samples}, k); got {V.shape}.")
        out = np.empty((self.n_features, V.shape[1]))
        for a, b in self.blocks():
            out[a:b] = self._block_rmatmat(V, a, b)
        return out

    def take(self, cols, dtype=np.float64, out=None):
        """Dense columns ``X[:, cols]``, Fortran-ordered, of shape (n_samples, len(cols)).

        ``out``: an array of that shape to write them into (a working set's
        storage), instead of a new one.
        """
        raise NotImplementedError

    def take_rows(self, rows):
        """The design restricted to ``rows`` (indices into its rows), without reading it."""
        raise NotImplementedError

    def matmat(self, W):
        """``X @ W`` for ``W`` of shape (n_features, k), reading only the columns of its nonzero rows.

        The columns are decoded about 64 MiB at a time, so a large support
        costs no more memory than a small one.
        """
        W = np.asarray(W, dtype=np.float64)
        if W.ndim == 1:
            return self.matmat(W[:, None])[:, 0]
        if W.shape[0] != self.n_features:
            raise ValueError(f"W must have {self.n_features} rows; got shape {W.shape}.")
        nz = np.flatnonzero(np.any(W != 0, axis=1))
        out = np.zeros((self.n_samples, W.shape[1]))
        step = max(1, _MATMAT_BYTES // (8 * max(1, self.n_samples)))
        for a in range(0, len(nz), step):
            part = nz[a:a + step]
            out += self.take(part) @ W[part]
        return out

    def __matmul__(self, W):
        return self.matmat(W)

    def __len__(self):
        return self.n_samples

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"{type(self).__name__} of shape {self.shape} is read by blocks of columns and is "
            f"not converted to an in-memory array; the L2,1 estimators (L21Regressor, "
            f"L21RegressorCV, l21_path) fit it directly. Take columns with .take(cols).")

    def __repr__(self):
        return f"{type(self).__name__}(shape={self.shape})"


def _check_rows(rows, n, who):
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.shape != (n,):
            raise ValueError(f"{who}: a boolean row mask must have shape ({n},); got {rows.shape}.")
        rows = np.flatnonzero(rows)
    rows = rows.astype(np.int64, copy=False).ravel()
    if len(rows) and (rows.min() < -n or rows.max() >= n):
        raise IndexError(f"{who}: row index out of range for {n} rows.")
    return np.where(rows < 0, rows + n, rows)


def _check_cols(cols, p, who):
    cols = np.asarray(cols).astype(np.int64, copy=False).ravel()
    if len(cols) and (cols.min() < 0 or cols.max() >= p):
        raise IndexError(f"{who}: column index out of range for {p} columns.")
    return cols


def column_runs(cols):
    """Runs of consecutive sorted columns, each read as one slice: yields ``(positions, start, stop)``.

    ``cols[positions]`` lie in ``start:stop`` (repeats included); every
    position of ``cols`` is in one run.
    """
    order = np.argsort(cols, kind="stable")
    sc = cols[order]
    breaks = np.flatnonzero(np.diff(sc) > 1) + 1
    for run in np.split(np.arange(len(sc)), breaks):
        yield order[run], int(sc[run[0]]), int(sc[run[-1]]) + 1


def _out_array(out, n, m, dtype):
    """``out`` checked to be an (n, m) array, or a new Fortran-ordered one."""
    if out is None:
        return np.empty((n, m), dtype=dtype, order="F")
    if out.shape != (n, m):
        raise ValueError(f"out must have shape ({n}, {m}); got {out.shape}.")
    return out


def _finite_block(B, what):
    if not np.all(np.isfinite(B)):
        raise ValueError(f"{what} contains NaN or infinity; impute or drop those values before fitting.")
    return B


class ArrayDesign(ColumnDesign):
    """A 2-D array sliced by columns: a numpy memmap, a zarr array, an HDF5 dataset.

    Each block ``X[:, a:b]`` is read, converted to float64 and checked for
    non-finite values when it is used; the array itself is never loaded whole.

    Parameters
    ----------
    array : array-like of shape (n_samples, n_features)
        Anything with ``shape`` and ``array[:, a:b]`` slicing.
    rows : array of int, optional
        Keep only these rows (a cross-validation fold).
    block_size : int, optional
        Columns per block (default: about 64 MiB of float64; a zarr array's
        column chunk when that is larger).
    """

    def __init__(self, array, rows=None, block_size=None):
        shape = tuple(int(s) for s in array.shape)
        if len(shape) != 2:
            raise ValueError(f"Expected a 2-D feature matrix; got shape {shape}.")
        self.array = array
        self.rows = None if rows is None else _check_rows(rows, shape[0], "ArrayDesign")
        if block_size is None:
            chunks = getattr(array, "chunks", None)
            if isinstance(chunks, tuple) and len(chunks) == 2 and isinstance(chunks[1], numbers.Integral):
                per = max(1, _BLOCK_BYTES // (8 * max(1, shape[0])))
                block_size = max(1, (per // int(chunks[1])) * int(chunks[1])) if per >= chunks[1] else int(chunks[1])
        self.block_size = block_size
        self._full_shape = shape

    @property
    def shape(self):
        n = self._full_shape[0] if self.rows is None else len(self.rows)
        return (n, self._full_shape[1])

    def _read(self, cols_slice):
        B = np.asarray(self.array[:, cols_slice], dtype=np.float64)
        if self.rows is not None:
            B = B[self.rows]
        return _finite_block(B, "X")

    def _block_rmatmat(self, V, start, stop):
        return self._read(slice(start, stop)).T @ V

    def take(self, cols, dtype=np.float64, out=None):
        cols = _check_cols(cols, self.n_features, "ArrayDesign.take")
        out = _out_array(out, self.n_samples, len(cols), dtype)
        if len(cols) == 0:
            return out
        for pos, a, b in column_runs(cols):
            out[:, pos] = self._read(slice(a, b))[:, cols[pos] - a]
        return out

    def take_rows(self, rows):
        rows = _check_rows(rows, self.n_samples, "ArrayDesign.take_rows")
        base = rows if self.rows is None else self.rows[rows]
        return ArrayDesign(self.array, rows=base, block_size=self.block_size)


class DaskDesign(ColumnDesign):
    """A dask array: each full pass is the dask reduction ``X.T @ V``.

    With a ``dask.distributed`` client active, the pass runs on the cluster's
    workers (each reads and multiplies its own chunks; only the small
    (n_features, k) result and ``V`` travel); otherwise on dask's local
    scheduler. Non-finite values raise when a pass meets them.

    The array of :meth:`GenotypeMatrix.to_dask <skmtl.datasets.GenotypeMatrix.to_dask>`
    (that very array, not a slice of it) is read through its genotype blocks:
    each pass is one task per block (``X_B^T V`` by the genotype kernel, which
    never materializes the block as floats) and ``take`` decodes only the
    columns asked for, on the workers.

    Parameters
    ----------
    array : dask.array.Array of shape (n_samples, n_features)
    """

    def __init__(self, array):
        if array.ndim != 2:
            raise ValueError(f"Expected a 2-D feature matrix; got shape {array.shape}.")
        if any(np.isnan(s) for s in array.shape):
            raise ValueError("The dask array has unknown chunk sizes; call X.compute_chunk_sizes() first.")
        self.array = array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)
        self._blocks = getattr(array, "_skmtl_blocks", None)  # (source design, its column blocks)

    @property
    def shape(self):
        return tuple(int(s) for s in self.array.shape)

    def rmatmat(self, V):
        import dask
        import dask.array as da

        V = np.ascontiguousarray(V, dtype=np.float64)
        if V.ndim != 2 or V.shape[0] != self.n_samples:
            raise ValueError(f"V must have shape ({self.n_samples}, k); got {V.shape}.")
        if self._blocks is not None:
            source, blocks = self._blocks
            src, Vd = dask.delayed(source, pure=True), dask.delayed(V, pure=True)  # one copy each per graph
            parts = dask.compute(*[dask.delayed(_block_rmatmat)(src, Vd, a, b) for a, b in blocks])
            return _finite_block(np.vstack(parts), "X")
        Vd = da.from_array(V, chunks=(self.array.chunks[0], V.shape[1]))
        G = (self.array.T @ Vd).compute()
        return _finite_block(np.asarray(G, dtype=np.float64), "X")

    def take(self, cols, dtype=np.float64, out=None):
        cols = _check_cols(cols, self.n_features, "DaskDesign.take")
        if self._blocks is not None:
            return self._take_from_blocks(cols, dtype, _out_array(out, self.n_samples, len(cols), dtype))
        B = _finite_block(np.asarray(self.array[:, cols].compute(), dtype=dtype), "X")
        if out is None:
            return np.asfortranarray(B)
        _out_array(out, self.n_samples, len(cols), dtype)[:] = B
        return out

    def _take_from_blocks(self, cols, dtype, out):
        """``X[:, cols]`` into ``out``: one task per genotype block holding some of ``cols``, decoding only those."""
        import dask

        source, blocks = self._blocks
        starts = np.array([a for a, _ in blocks])
        which = np.searchsorted(starts, cols, side="right") - 1
        groups = [np.flatnonzero(which == k) for k in np.unique(which)]
        src = dask.delayed(source, pure=True)
        parts = list(dask.compute(*[dask.delayed(_take)(src, cols[g], dtype) for g in groups]))
        for k, g in enumerate(groups):
            out[:, g] = parts[k]
            parts[k] = None  # each part freed once copied
        return out

    def take_rows(self, rows):
        rows = _check_rows(rows, self.n_samples, "DaskDesign.take_rows")
        return DaskDesign(self.array[rows])


def _block_rmatmat(design, V, start, stop):
    """A task of :class:`DaskDesign`'s pass over genotype blocks."""
    return design._block_rmatmat(V, start, stop)


def _take(design, cols, dtype):
    """A task of :class:`DaskDesign`'s column reads from genotype blocks."""
    return design.take(cols, dtype)


class StackedDesign(ColumnDesign):
    """``[C | X]``: dense columns ``C`` (covariates) in front of a design ``X``.

    Parameters
    ----------
    covariates : ndarray of shape (n_samples, n_covariates)
    design : ColumnDesign
    """

    def __init__(self, covariates, design):
        C = np.asarray(covariates, dtype=np.float64)
        if C.ndim == 1:
            C = C[:, None]
        if C.ndim != 2 or C.shape[0] != design.n_samples:
            raise ValueError(f"covariates must have shape ({design.n_samples}, n_covariates); got {C.shape}.")
        _finite_block(C, "covariates")
        self.covariates = np.asfortranarray(C)
        self.design = design

    @property
    def n_covariates(self):
        return self.covariates.shape[1]

    @property
    def shape(self):
        return (self.design.n_samples, self.n_covariates + self.design.n_features)

    def rmatmat(self, V):
        V = np.ascontiguousarray(V, dtype=np.float64)
        return np.vstack([self.covariates.T @ V, self.design.rmatmat(V)])

    def take(self, cols, dtype=np.float64, out=None):
        cols = _check_cols(cols, self.n_features, "StackedDesign.take")
        q = self.n_covariates
        out = _out_array(out, self.n_samples, len(cols), dtype)
        left = cols < q
        out[:, left] = self.covariates[:, cols[left]]
        right = np.flatnonzero(~left)
        if len(right) and right[-1] - right[0] + 1 == len(right):  # one run: written in place
            self.design.take(cols[right] - q, dtype=dtype, out=out[:, right[0]:right[-1] + 1])
        elif len(right):
            out[:, right] = self.design.take(cols[right] - q, dtype=dtype)
        return out

    def take_rows(self, rows):
        rows = _check_rows(rows, self.n_samples, "StackedDesign.take_rows")
        return StackedDesign(self.covariates[rows], self.design.take_rows(rows))


def add_covariates(X, covariates):
    """``[C | X]``: the covariates as the first columns of ``X``, without copying ``X``.

    Give them ``penalty_factor`` 0 to leave them unpenalized (what the
    ``covariates=`` argument of :class:`~skmtl.linear.L21Regressor` and
    :func:`~skmtl.linear.l21_path` does).

    Parameters
    ----------
    X : ndarray, sparse matrix or design (genotypes, memmap, zarr or dask array)
    covariates : array-like of shape (n_samples, n_covariates)

    Returns
    -------
    ndarray, sparse matrix or StackedDesign of shape (n_samples, n_covariates + n_features)
    """
    design = as_design(X)
    if design is not None:
        return StackedDesign(covariates, design)
    import scipy.sparse as sp

    C = np.asarray(covariates, dtype=np.float64)
    C = C[:, None] if C.ndim == 1 else C
    if C.ndim != 2 or C.shape[0] != X.shape[0]:
        raise ValueError(f"covariates must have shape ({X.shape[0]}, n_covariates); got {C.shape}.")
    if sp.issparse(X):
        return sp.hstack([sp.csc_matrix(C), X], format="csc")
    return np.hstack([C, np.asarray(X, dtype=np.float64)])


def is_design(X):
    """True for a :class:`ColumnDesign`."""
    return isinstance(X, ColumnDesign)


def _module(X):
    return type(X).__module__.split(".")[0]


def as_design(X):
    """``X`` as a design when it is one or should be streamed, else None.

    Designs pass through; numpy memmaps and zarr arrays become
    :class:`ArrayDesign`, dask arrays :class:`DaskDesign`. Other inputs
    (in-memory arrays, sparse matrices, DataFrames) return None: the in-memory
    solvers take them.
    """
    if isinstance(X, ColumnDesign):
        return X
    if isinstance(X, np.memmap) and X.ndim == 2:
        return ArrayDesign(X)
    mod = _module(X)
    if mod == "dask" and hasattr(X, "chunks") and hasattr(X, "compute"):
        return DaskDesign(X)
    if mod == "zarr" and hasattr(X, "shape") and len(X.shape) == 2:
        return ArrayDesign(X)
    if mod == "h5py" and hasattr(X, "shape") and len(X.shape) == 2:
        return ArrayDesign(X)
    return None
