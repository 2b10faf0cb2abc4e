r"""Numba kernels over PLINK 1 ``.bed`` bytes: genotypes decoded where they are used.

A block of ``b`` variants is a (b, ceil(n / 4)) ``uint8`` array (variant-major
``.bed``): sample ``i`` of variant ``j`` is the 2-bit code
``(buf[j, i // 4] >> 2 (i mod 4)) & 3``, with 0 = homozygous A1, 1 = missing,
2 = heterozygous, 3 = homozygous A2. Each kernel takes a table ``val`` of
shape (b, 4), the value of each code for each variant (allele count,
mean-imputed and, if asked, standardized), so the decoded matrix is
``X[i, j] = val[j, code(i, j)]`` and is never stored:

* the decoded block, byte by byte, for a full pass ``X_B^T V`` (the block then
  goes to a float32 BLAS product; decoding costs about half the product);
* the dense columns of a working set, for the samples ``rows`` (a
  cross-validation fold);
* the code counts (allele frequencies, missing rates, standard deviations),
  four samples per byte through a table.

Accumulating ``V`` by code (``A[c] = sum_{i: code = c} V[i]``, then
``sum_c val[j, c] A[c]``: additions only) was measured at a third of the
speed of the BLAS product for ``V`` of 10 columns, decode-then-BLAS at 0.6.
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


@njit(cache=True, parallel=True)
def bed_decode_all(buf, n, val, out):
    """Write the decoded block of all ``n`` samples into ``out`` (n, b): ``out[i, j] = val[j, code(i, j)]``.

    Byte by byte (four samples per byte read), for the full passes: the
    decoded block then goes to a BLAS product, which is faster than
    accumulating ``V`` by code in a loop.
    """
    b = buf.shape[0]
    nfull = n // 4
    for j in prange(b):
        lut = np.empty(4, dtype=out.dtype)
        for c in range(4):
            lut[c] = val[j, c]
        for q in range(nfull):
            byte = buf[j, q]
            i = 4 * q
            out[i, j] = lut[byte & 3]
            out[i + 1, j] = lut[(byte >> 2) & 3]
            out[i + 2, j] = lut[(byte >> 4) & 3]
            out[i + 3, j] = lut[byte >> 6]
        for i in range(4 * nfull, n):
            out[i, j] = lut[(buf[j, i >> 2] >> (2 * (i & 3))) & 3]


@njit(cache=True, parallel=True)
def bed_decode(buf, rows, val, out):
    """Write the decoded block of the samples ``rows`` into ``out`` (len(rows), b)."""
    b = buf.shape[0]
    m = rows.shape[0]
    for j in prange(b):
        for k in range(m):
            i = rows[k]
            out[k, j] = val[j, (buf[j, i >> 2] >> (2 * (i & 3))) & 3]
