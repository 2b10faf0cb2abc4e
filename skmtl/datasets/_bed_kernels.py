r"""Numba kernels over PLINK 1 ``.bed`` bytes: genotypes decoded where they are used.

A block of ``b`` variants is a (b, ceil(n / 4)) ``uint8`` array (variant-major
``.bed``): sample ``i`` of variant ``j`` is the 2-bit code
``(buf[j, i // 4] >> 2 (i mod 4)) & 3``, with 0 = homozygous A1, 1 = missing,
2 = heterozygous, 3 = homozygous A2. Each kernel takes a table ``val`` of
shape (b, 4), the value of each code for each variant (allele count,
mean-imputed and, if asked, standardized), so the decoded matrix is
``X[i, j] = val[j, code(i, j)]`` and is never stored:

* a full pass ``X_B^T V``: tiles of variants decoded into cache and multiplied
  there (never written to memory as floats);
* the dense columns of a working set, for the samples ``rows`` (a
  cross-validation fold);
* the code counts (allele frequencies, missing rates, standard deviations),
  four samples per byte through a table.

Accumulating ``V`` by code (``A[c] = sum_{i: code = c} V[i]``, then
``sum_c val[j, c] A[c]``: additions only) was measured at a third of the
speed of the BLAS product for ``V`` of 10 columns, decoding the whole block then a
BLAS product at 0.3-0.6, tiles decoded and multiplied in cache at about 2.
"""

import numpy as np
from numba import njit, prange


def _byte_code_counts():
    """(256, 4): how many of the four samples of a byte carry each code."""
    table = np.zeros((256, 4), dtype=np.int64)
    for byte in range(256):
        for s in range(4):
            table[byte, (byte >> (2 * s)) & 3] += 1
    return table


_BYTE_COUNTS = _byte_code_counts()


@njit(cache=True, parallel=True)
def bed_code_counts(buf, n, table):
    """Counts of the four codes of each variant over all its ``n`` samples, shape (b, 4).

    ``table`` is :data:`_BYTE_COUNTS` (per byte: the counts of its four samples).
    """
    b = buf.shape[0]
    nfull = n // 4
    out = np.zeros((b, 4), dtype=np.int64)
    for j in prange(b):
        c0 = 0
        c1 = 0
        c2 = 0
        c3 = 0
        for q in range(nfull):
            byte = buf[j, q]
            c0 += table[byte, 0]
            c1 += table[byte, 1]
            c2 += table[byte, 2]
            c3 += table[byte, 3]
        for i in range(4 * nfull, n):
            c = (buf[j, i >> 2] >> (2 * (i & 3))) & 3
            if c == 0:
                c0 += 1
            elif c == 1:
                c1 += 1
            elif c == 2:
                c2 += 1
            else:
                c3 += 1
        out[j, 0] = c0
        out[j, 1] = c1
        out[j, 2] = c2
        out[j, 3] = c3
    return out


_PASS_TILE = 16  # variants decoded together by one thread of a full pass (16 x n float32 stays in L2)


@njit(cache=True)
def _decode_tile(buf, n, val, j0, m, x):
    """Decode variants ``j0:j0 + m`` of all ``n`` samples into the rows of ``x`` (m, n), byte by byte."""
    nfull = n // 4
    lut = np.empty(4, dtype=np.float32)
    for jj in range(m):
        j = j0 + jj
        for c in range(4):
            lut[c] = val[j, c]
        for q in range(nfull):
            byte = buf[j, q]
            i = 4 * q
            x[jj, i] = lut[byte & 3]
            x[jj, i + 1] = lut[(byte >> 2) & 3]
            x[jj, i + 2] = lut[(byte >> 4) & 3]
            x[jj, i + 3] = lut[byte >> 6]
        for i in range(4 * nfull, n):
            x[jj, i] = lut[(buf[j, i >> 2] >> (2 * (i & 3))) & 3]


@njit(cache=True, parallel=True, fastmath={"reassoc", "contract"})
def bed_pass(buf, n, val, Vt, out):
    """One full pass over a block of variants: ``out[j, t] = sum_i X[i, j] Vt[t, i]``, i.e. ``X_B^T V``.

    Each thread decodes a tile of :data:`_PASS_TILE` variants into a float32
    (tile, n) buffer that stays in cache, then multiplies it by ``V`` in
    register blocks of 4 variants x 2 columns of ``V`` (8 float32
    accumulators, vectorized over samples). The decoded block never goes
    to memory, so a pass reads 2 bits per entry where a BLAS product over
    the decoded float32 matrix reads 32: for ``V`` of 10 columns it runs
    about twice as fast as that product (``benchmarks/bench_genomics.py``).
    Accumulation in float32: relative error about 1e-6.

    Parameters
    ----------
    buf : uint8 array of shape (b, ceil(n / 4))
    n : int
    val : array of shape (b, 4)
        Value of each code of each variant.
    Vt : float32 array of shape (k, n), C-contiguous
        ``V`` transposed (zero on samples outside a subset).
    out : array of shape (b, k)
    """
    b = buf.shape[0]
    k = Vt.shape[0]
    tile = _PASS_TILE
    k2 = k - k % 2
    for s in prange((b + tile - 1) // tile):
        j0 = s * tile
        m = min(b, j0 + tile) - j0
        x = np.empty((tile, n), dtype=np.float32)
        _decode_tile(buf, n, val, j0, m, x)
        m4 = m - m % 4
        for c in range(0, m4, 4):
            for t in range(0, k2, 2):
                a0 = np.float32(0.0)
                a1 = np.float32(0.0)
                a2 = np.float32(0.0)
                a3 = np.float32(0.0)
                b0 = np.float32(0.0)
                b1 = np.float32(0.0)
                b2 = np.float32(0.0)
                b3 = np.float32(0.0)
                for i in range(n):
                    v0 = Vt[t, i]
                    v1 = Vt[t + 1, i]
                    x0 = x[c, i]
                    x1 = x[c + 1, i]
                    x2 = x[c + 2, i]
                    x3 = x[c + 3, i]
                    a0 += x0 * v0
                    a1 += x1 * v0
                    a2 += x2 * v0
                    a3 += x3 * v0
                    b0 += x0 * v1
                    b1 += x1 * v1
                    b2 += x2 * v1
                    b3 += x3 * v1
                out[j0 + c, t] = a0
                out[j0 + c + 1, t] = a1
                out[j0 + c + 2, t] = a2
                out[j0 + c + 3, t] = a3
                out[j0 + c, t + 1] = b0
                out[j0 + c + 1, t + 1] = b1
                out[j0 + c + 2, t + 1] = b2
                out[j0 + c + 3, t + 1] = b3
            for t in range(k2, k):
                a0 = np.float32(0.0)
                a1 = np.float32(0.0)
                a2 = np.float32(0.0)
                a3 = np.float32(0.0)
                for i in range(n):
                    v0 = Vt[t, i]
                    a0 += x[c, i] * v0
                    a1 += x[c + 1, i] * v0
                    a2 += x[c + 2, i] * v0
                    a3 += x[c + 3, i] * v0
                out[j0 + c, t] = a0
                out[j0 + c + 1, t] = a1
                out[j0 + c + 2, t] = a2
                out[j0 + c + 3, t] = a3
        for c in range(m4, m):
            for t in range(k):
                a0 = np.float32(0.0)
                for i in range(n):
                    a0 += x[c, i] * Vt[t, i]
                out[j0 + c, t] = a0


@njit(cache=True, parallel=True)
def bed_decode(buf, rows, val, out):
    """Write the decoded block of the samples ``rows`` into ``out`` (len(rows), b)."""
    b = buf.shape[0]
    m = rows.shape[0]
    for j in prange(b):
        for k in range(m):
            i = rows[k]
            out[k, j] = val[j, (buf[j, i >> 2] >> (2 * (i & 3))) & 3]
