"""Soft-Impute: nuclear-norm regularized matrix completion (Mazumder, Hastie & Tibshirani 2010)."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, svds
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._param_validation import Interval, StrOptions, validate_params
from ._kernels import dot_rows, fold_in_rows

__all__ = ["SoftImputer", "soft_impute", "soft_impute_als"]


# --------------------------------------------------------------------------
# observed entries
# --------------------------------------------------------------------------


def _observed_csr(X):
    """CSR matrix of the observed entries of ``X`` (dense with NaN, or sparse).

    For dense input the observed entries are the non-NaN ones; for sparse input
    the explicitly stored ones (implicit zeros are *missing*, not zero).
    """
    if sp.issparse(X):
        S = sp.csr_matrix(X, dtype=np.float64, copy=True)
        S.sum_duplicates()
        S.sort_indices()
        if not np.all(np.isfinite(S.data)):
            raise ValueError(
                "The stored entries of the sparse input contain NaN or inf; a sparse "
                "matrix lists its observed entries, so drop the missing ones instead."
            )
        return S
    X = np.asarray(X, dtype=np.float64)
    if np.any(np.isinf(X)):
        raise ValueError("Input contains infinity; only NaN may mark a missing entry.")
    obs = ~np.isnan(X)
    rows, cols = np.nonzero(obs)
    indptr = np.concatenate([[0], np.cumsum(obs.sum(axis=1))]).astype(np.int64)
    return sp.csr_matrix((X[rows, cols], cols.astype(np.int32), indptr), shape=X.shape)


def _csr_rows(S):
    return np.repeat(np.arange(S.shape[0], dtype=np.int64), np.diff(S.indptr))


# --------------------------------------------------------------------------
# SVD of sparse + low rank
# --------------------------------------------------------------------------


def _matvec(S, U, d, V, M):
    """``(S + U diag(d) V^T) M`` without forming the sum."""
    out = S @ M
    if len(d):
        out += U @ (d[:, None] * (V.T @ M))
    return out


def _rmatvec(S, U, d, V, M):
    """``(S + U diag(d) V^T)^T M``."""
    out = S.T @ M
    if len(d):
        out += V @ (d[:, None] * (U.T @ M))
    return out


def _svd_sparse_plus_lowrank(S, U, d, V, k, solver, rng, oversample=5, n_power_iter=None):
    """Top-``k`` SVD of ``S + U diag(d) V^T`` (``S`` sparse, the rest factors).

    ``"full"`` forms the dense matrix (small problems, tests); ``"randomized"``
    is the range finder of Halko, Martinsson & Tropp (2011) warm-started with
    the previous right singular vectors, and only multiplies by the operator;
    ``"truncated"`` is ARPACK (:func:`scipy.sparse.linalg.svds`) on the
    operator as a :class:`~scipy.sparse.linalg.LinearOperator`, also never
    densifying (with ``k >= min(n, m)``, where ARPACK does not apply, the range
    finder with ``min(n, m)`` columns, which is then exact).
    """
    n, m = S.shape
    if solver == "full":
        M = S.toarray()
        if len(d):
            M += (U * d) @ V.T
        Uf, s, Vt = np.linalg.svd(M, full_matrices=False)
        return Uf[:, :k], s[:k], Vt[:k].T
    if solver == "truncated":
        if k >= min(n, m) - 1:
            return _svd_sparse_plus_lowrank(S, U, d, V, k, "randomized", rng, oversample=min(n, m),
                                            n_power_iter=0)
        op = _operator(S, U, d, V)
        v0 = rng.uniform(-1.0, 1.0, min(n, m))
        Uk, s, Vtk = svds(op, k=k, v0=v0)
        order = np.argsort(s)[::-1]
        return Uk[:, order], s[order], Vtk[order].T
    ell = min(k + oversample, n, m)
    if n_power_iter is None:
        # warm start from the previous right singular vectors: across the
        # Soft-Impute iterations this is a subspace iteration, one pass suffices
        n_power_iter = 0 if V.shape[1] >= k - 2 and V.shape[1] > 0 else 1
    if V.shape[1] >= ell:
        Om = V[:, :ell]
    else:
        Om = np.hstack([V, rng.standard_normal((m, ell - V.shape[1]))])
    Q, _ = np.linalg.qr(_matvec(S, U, d, V, Om))
    for _ in range(n_power_iter):
        Q2, _ = np.linalg.qr(_rmatvec(S, U, d, V, Q))
        Q, _ = np.linalg.qr(_matvec(S, U, d, V, Q2))
    Bt = _rmatvec(S, U, d, V, Q)  # (m, ell) = (Q^T A)^T
    W, s, Zt = np.linalg.svd(Bt, full_matrices=False)
    return (Q @ Zt.T)[:, :k], s[:k], W[:, :k]


def _operator(S, U, d, V):
    """``S + U diag(d) V^T`` as a LinearOperator (products only)."""
    n, m = S.shape

    def mv(x):
        return _matvec(S, U, d, V, np.reshape(x, (m, -1))).ravel()

    def rmv(x):
        return _rmatvec(S, U, d, V, np.reshape(x, (n, -1))).ravel()

    return LinearOperator(
        (n, m), matvec=mv, rmatvec=rmv, dtype=np.float64,
        matmat=lambda M: _matvec(S, U, d, V, M), rmatmat=lambda M: _rmatvec(S, U, d, V, M),
    )


def _relative_change(U0, d0, V0, U1, d1, V1):
    """``||Z1 - Z0||_F / ||Z0||_F`` for ``Z = U diag(d) V^T`` from the factors."""
    n0 = float(np.sum(d0**2))
    n1 = float(np.sum(d1**2))
    if len(d0) and len(d1):
        cross = float(np.sum((U0.T @ U1) * (V0.T @ V1) * np.outer(d0, d1)))
    else:
        cross = 0.0
    diff = max(n0 + n1 - 2 * cross, 0.0)
    if n0 == 0:
        return 0.0 if diff == 0 else np.inf
    return np.sqrt(diff / n0)


def _top_singular_value(S, rng, allow_dense=True):
    """Largest singular value of ``S``; with ``allow_dense=False`` ``S`` is never densified."""
    n, m = S.shape
    if S.nnz == 0:
        return 0.0
    if not allow_dense:
        if min(n, m) == 1:
            return float(np.sqrt(S.data @ S.data))
        # ARPACK on the sparse matrix (exact, like the dense norm below)
        return float(svds(S, k=1, v0=rng.uniform(-1.0, 1.0, min(n, m)), return_singular_vectors=False)[0])
    if min(n, m) <= 50:
        return float(np.linalg.norm(S.toarray(), 2))
    e = np.zeros(0)
    _, s, _ = _svd_sparse_plus_lowrank(
        S, np.zeros((n, 0)), e, np.zeros((m, 0)), 1, "randomized", rng, oversample=4, n_power_iter=4
    )
    return float(s[0])


def soft_impute(S, shrinkage, *, init=None, max_rank=None, max_iter=100, tol=1e-3, svd_solver="randomized", random_state=None, accelerate=True, allow_dense=True):
    """Soft-Impute iterations at one shrinkage value.

    Minimizes ``1/2 ||P_Omega(X - Z)||_F^2 + shrinkage ||Z||_*`` (with
    ``rank(Z) <= max_rank`` when given) by ``Z <- S_lambda(P_Omega(X) +
    P_Omega^perp(Z))`` where ``S_lambda`` soft-thresholds the singular values.
    The filled matrix is kept as ``sparse + low rank``:
    ``P_Omega(X - Z) + Z`` with the residual on the observed entries only.
    With ``accelerate`` the step is taken from the Nesterov extrapolation
    ``Y = Z_k + theta_k (Z_k - Z_{k-1})`` (a proximal gradient step with unit
    step size, accelerated as in Yao & Kwok 2015), restarted with a plain
    step whenever the objective would increase, so the objective still
    decreases at every iteration.

    Parameters
    ----------
    S : scipy.sparse.csr_matrix of shape (n, m)
        Observed entries of ``X`` (its stored entries; it is not modified).
    shrinkage : float
    init : tuple (U, d, V), optional
        Warm start ``Z = U diag(d) V^T``.
    max_rank, max_iter, tol, svd_solver, random_state
        See :class:`SoftImputer`.
    accelerate : bool, default=True
        Take Nesterov-extrapolated steps, restarted when the objective would increase.
    allow_dense : bool, default=True
        Whether ``svd_solver="auto"`` may pick ``"full"`` (the dense filled
        matrix); False (sparse input) picks ``"truncated"`` instead.

    Returns
    -------
    U : ndarray (n, r), d : ndarray (r,), V : ndarray (m, r)
    n_iter : int
    objectives : list of float
        Objective at the start and after each iteration.
    converged : bool
    """
    rng = check_random_state(random_state)
    n, m = S.shape
    vals = S.data
    rows = _csr_rows(S)
    cols = S.indices.astype(np.int64)
    R = sp.csr_matrix((vals.copy(), S.indices, S.indptr), shape=S.shape)
    if init is None:
        U, d, V = np.zeros((n, 0)), np.zeros(0), np.zeros((m, 0))
    else:
        U, d, V = init
    cap = min(n, m) if max_rank is None else min(max_rank, n, m)
    k = min(cap, max(len(d) + 5, 5))

    def residual(U, d, V):
        if len(d):
            R.data[:] = vals - dot_rows(np.ascontiguousarray(U * d), np.ascontiguousarray(V), rows, cols)
        else:
            R.data[:] = vals
        return 0.5 * float(R.data @ R.data) + shrinkage * float(d.sum())

    def threshold(U, d, V, k):
        # R holds P_Omega(X - Y) for Y = U diag(d) V^T; SVT of R + Y
        while True:
            solver = svd_solver
            if solver == "auto":
                small = n * m <= 100_000 or (n * m <= 20_000_000 and k + 10 > min(n, m) / 4)
                # sparse input: never densify; ARPACK where "full" would be used
                solver = ("full" if allow_dense else "truncated") if small else "randomized"
            Un, s, Vn = _svd_sparse_plus_lowrank(R, U, d, V, k, solver, rng)
            dn = np.maximum(s - shrinkage, 0.0)
            r = int(np.count_nonzero(dn > 0))
            if r < k or k >= cap:
                break
            k = min(cap, 2 * k)
        return Un[:, :r], dn[:r], Vn[:, :r], min(cap, max(r + 3, 1))

    obj = residual(U, d, V)
    objectives = [obj]
    Up, dp, Vp = U[:, :0], d[:0], V[:, :0]
    t = 1.0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        t_next = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        theta = (t - 1.0) / t_next if accelerate else 0.0
        momentum = theta > 0 and len(dp) > 0 and len(d) > 0
        if momentum:
            # extrapolated point Y = Z_k + theta (Z_k - Z_{k-1}), still low rank
            residual(np.hstack([U, Up]), np.concatenate([(1 + theta) * d, -theta * dp]), np.hstack([V, Vp]))
            Un, dn, Vn, k_new = threshold(
                np.hstack([U, Up]), np.concatenate([(1 + theta) * d, -theta * dp]), np.hstack([V, Vp]), k
            )
        else:
            Un, dn, Vn, k_new = threshold(U, d, V, k)
        obj_new = residual(Un, dn, Vn)
        if momentum and obj_new > obj:
            # adaptive restart: a plain Soft-Impute step from Z_k never increases
            # the objective (with an exact SVD)
            residual(U, d, V)
            Un, dn, Vn, k_new = threshold(U, d, V, k)
            obj_new = residual(Un, dn, Vn)
            t_next = 1.0
        change = _relative_change(U, d, V, Un, dn, Vn)
        Up, dp, Vp = U, d, V
        U, d, V, k = Un, dn, Vn, k_new
        obj = obj_new
        objectives.append(obj)
        t = t_next
        if change < tol:
            converged = True
            break
    return U, d, V, it, objectives, converged


def soft_impute_als(S, shrinkage, rank, *, init=None, max_iter=100, tol=1e-3, random_state=None):
    """The same problem in factored form, by exact alternating ridge on the observed entries.

    With ``rank(Z) <= rank``, ``min_Z 1/2 ||P_Omega(X - Z)||^2 + lambda ||Z||_*``
    equals ``min_{A, B} 1/2 ||P_Omega(X - A B^T)||^2 + lambda/2 (||A||^2 +
    ||B||^2)`` (Srebro, Rennie & Jaakkola 2005; Hastie et al. 2015), solved
    by exact ridge solves row by row and column by column (each a ``rank x
    rank`` system over that row's observed entries). Much faster than the
    SVD iteration when only a small fraction of the matrix is observed, where
    the filled matrix is mostly the previous iterate. The objective (factored
    form, ``objectives``) decreases at every half-step.

    Parameters
    ----------
    S : scipy.sparse.csr_matrix of shape (n, m)
        Observed entries of ``X`` (its stored entries; it is not modified).
    shrinkage : float
        The nuclear-norm strength ``lambda``.
    rank : int
        Number of columns of the factors ``A`` and ``B``.
    init : tuple (U, d, V), default=None
        Warm start: ``B`` starts from ``V diag(d)^(1/2)``.
    max_iter : int, default=100
        Maximum number of alternating sweeps.
    tol : float, default=1e-3
        Stop when a sweep decreases the objective by less than ``tol`` times its value.
    random_state : int, RandomState instance or None, default=None
        Seed of the random start of ``B``.

    Returns
    -------
    U : ndarray (n, r), d : ndarray (r,), V : ndarray (m, r)
        ``Z = U diag(d) V^T`` with ``r <= rank``.
    n_iter : int
    objectives : list of float
        Objective (factored form) at the start and after each sweep.
    converged : bool
    """
    rng = check_random_state(random_state)
    n, m = S.shape
    rank = int(min(rank, n, m))
    rows = _csr_rows(S)
    cols = S.indices.astype(np.int64)
    indptr = S.indptr.astype(np.int64)
    C = S.tocsc()
    c_indptr, c_indices = C.indptr.astype(np.int64), C.indices.astype(np.int64)
    vals = S.data
    lam = max(float(shrinkage), 1e-12)
    B = rng.standard_normal((m, rank)) * np.sqrt(max(np.sqrt(float(vals @ vals) / max(n * m, 1)), 1e-12))
    if init is not None and len(init[1]):
        U0, d0, V0 = init
        k0 = min(len(d0), rank)
        B[:, :k0] = V0[:, :k0] * np.sqrt(d0[:k0])
    B = np.ascontiguousarray(B)

    def objective(A, B):
        res = vals - dot_rows(A, B, rows, cols)
        return 0.5 * float(res @ res) + 0.5 * lam * (float(np.sum(A * A)) + float(np.sum(B * B)))

    A = fold_in_rows(indptr, cols, vals, B, lam)
    objectives = [objective(A, B)]
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        B = fold_in_rows(c_indptr, c_indices, C.data, A, lam)
        A = fold_in_rows(indptr, cols, vals, B, lam)
        objectives.append(objective(A, B))
        if objectives[-2] - objectives[-1] <= tol * max(abs(objectives[-1]), 1e-300):
            converged = True
            break
    Qa, Ra = np.linalg.qr(A)
    Qb, Rb = np.linalg.qr(B)
    W, d, Xt = np.linalg.svd(Ra @ Rb.T)
    # components the ridge drives to zero only geometrically: drop what is negligible
    keep = d > 1e-6 * max(d[0] if len(d) else 0.0, 1e-300)
    return Qa @ W[:, keep], d[keep], Qb @ Xt.T[:, keep], it, objectives, converged


class SoftImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Low-rank completion of a matrix with missing entries (Soft-Impute).

    Solves (Mazumder, Hastie & Tibshirani 2010, "Spectral regularization
    algorithms for learning large incomplete matrices", JMLR 11)

    ``min_Z 1/2 sum_{(i,j) observed} (x_ij - z_ij)^2 + lambda ||Z||_*``

    along a decreasing, warm-started path of ``n_shrinkages`` values of
    ``lambda`` from ``lambda_max`` (the largest singular value of the
    zero-filled matrix, where ``Z = 0``) to ``alpha``. Each iteration
    soft-thresholds the singular values of the filled matrix
    ``P_Omega(X) + P_Omega^perp(Z)``, kept as *sparse residual + low-rank
    factors*, so with a randomized or truncated SVD the dense completed matrix
    is never formed; the rank grows only as the shrinkage allows (or up to
    ``max_rank``).

    .. rubric:: Input

    * a dense array with NaN marking the missing entries; ``transform``
      returns the array with its NaN replaced by the low-rank prediction
      (observed entries are kept);
    * a scipy.sparse matrix whose *stored* entries are the observed ones
      (implicit zeros are missing). ``transform`` then returns the row factors
      ``A`` (n_samples, ``rank_``), ``Z = A B^T`` with
      ``B = components_.T * sqrt(singular_values_)``, like TruncatedSVD,
      because a dense ``n x m`` result may not fit in memory; use
      :meth:`predict_entries` (or :meth:`inverse_transform` on a few rows) for
      completed values.

    A DataFrame in gives, with scikit-learn's ``set_output(transform="pandas")``
    (or ``"polars"``), a DataFrame out with the same columns and index:
    :meth:`get_feature_names_out` returns the input columns (the tasks).

    ``transform`` on new rows folds them in with the columns fixed: each row's
    factor is the ridge solution ``a = argmin 1/2 ||x_O - a B_O^T||^2 +
    lambda/2 ||a||^2`` on its observed entries ``O``. At a solution of the
    problem this reproduces the fitted rows (Z = A B^T with ridge on both
    factors has the same minimizers as the nuclear norm), so
    ``fit(X).transform(X)`` matches ``fit_transform(X)`` up to the tolerance.

    Parameters
    ----------
    alpha : float, default=None
        Final shrinkage ``lambda`` of the nuclear norm (fancyimpute's
        ``shrinkage_value``). When None, ``lambda_max / 50`` (the fancyimpute
        default).
    n_shrinkages : int, default=5
        Number of ``lambda`` values on the geometric path ending at
        ``alpha`` (1: no path).
    max_rank : int, default=None
        Upper bound on the rank of ``Z``.
    max_iter : int, default=100
        Iterations per ``lambda``.
    tol : float, default=1e-3
        Stop when ``||Z_new - Z_old||_F / ||Z_old||_F < tol`` (fancyimpute's
        ``convergence_threshold`` uses the same ratio, on the missing entries).
    svd_solver : {"auto", "randomized", "truncated", "full"}, default="auto"
        "full" forms the dense filled matrix and computes an exact SVD (small
        matrices; the objective then decreases monotonically); "randomized"
        uses the warm-started randomized range finder on the sparse + low-rank
        operator; "truncated" runs ARPACK (``scipy.sparse.linalg.svds``) on
        that operator as a ``LinearOperator`` (exact to machine precision,
        never densifying). "auto" picks, at each iteration, "full" when the
        dense matrix has at most 1e5 entries, or at most 2e7 entries and the
        rank to compute exceeds a quarter of min(n, m); else "randomized".
        For sparse input "auto" never forms a dense ``n x m`` matrix (neither
        the filled nor the observed one): "truncated" replaces "full".
    algorithm : {"auto", "svd", "als"}, default="auto"
        "svd": the Soft-Impute iteration above (warm-started path over
        ``lambda``). "als": the equivalent factored problem at rank
        ``max_rank`` (50 when None), by exact alternating ridge on the
        observed entries (:func:`soft_impute_als`), at ``alpha``
        directly (no path; ``objective_path_`` is then the factored
        objective); fastest when a small fraction of the matrix is
        observed or the rank is small. "auto": "als" when ``max_rank`` is
        set, else "svd".
    accelerate : bool, default=True
        Nesterov momentum with adaptive restart (the objective still decreases
        monotonically); False gives the plain Soft-Impute iteration.
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    components_ : ndarray of shape (``rank_``, ``n_features_in_``)
        Right singular vectors ``V^T`` of ``Z``.
    singular_values_ : ndarray of shape (``rank_``,)
    rank_ : int
    alpha_ : float
        The final ``lambda``.
    shrinkages_ : ndarray
        The path of ``lambda`` values.
    n_iter_ : int
        Total iterations over the path.
    objective_path_ : list of float
        Objective along the iterations at the final ``lambda``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of ``X`` when it is a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.factorization import SoftImputer
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((30, 2)) @ rng.standard_normal((2, 8))  # rank 2
    >>> X = np.where(rng.random(M.shape) < 0.3, np.nan, M)  # 30% missing
    >>> filled = SoftImputer(random_state=0).fit_transform(X)
    >>> filled.shape, bool(np.isnan(filled).any())
    ((30, 8), False)
    """

    _parameter_constraints = {
        "alpha": [None, Interval(Real, 0, None, closed="neither")],
        "n_shrinkages": [Interval(Integral, 1, None, closed="left")],
        "max_rank": [None, Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "svd_solver": [StrOptions({"auto", "randomized", "truncated", "full"})],
        "algorithm": [StrOptions({"auto", "svd", "als"})],
        "accelerate": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        alpha=None,
        *,
        n_shrinkages=5,
        max_rank=None,
        max_iter=100,
        tol=1e-3,
        svd_solver="auto",
        algorithm="auto",
        accelerate=True,
        random_state=None,
    ):
        self.alpha = alpha
        self.n_shrinkages = n_shrinkages
        self.max_rank = max_rank
        self.max_iter = max_iter
        self.tol = tol
        self.svd_solver = svd_solver
        self.algorithm = algorithm
        self.accelerate = accelerate
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags

    def _check(self, X, reset):
        return validate_data(
            self, X, reset=reset, accept_sparse="csr", dtype=np.float64,
            ensure_all_finite="allow-nan", ensure_min_samples=1,
        )

    def _fit(self, X):
        validate_params(self)
        Xv = self._check(X, reset=True)
        S = _observed_csr(Xv)
        rng = check_random_state(self.random_state)
        solver = self.svd_solver
        allow_dense = not sp.issparse(Xv)  # sparse input: never form a dense n x m matrix
        lam_max = _top_singular_value(S, rng, allow_dense)
        lam = lam_max / 50 if self.alpha is None else float(self.alpha)
        if lam_max <= lam or self.n_shrinkages == 1:
            path = np.array([lam])
        else:
            path = np.geomspace(lam_max, lam, self.n_shrinkages + 1)[1:]
        init, n_iter = None, 0
        algorithm = self.algorithm
        if algorithm == "auto":
            algorithm = "als" if self.max_rank is not None else "svd"
        if algorithm == "als":
            U, d, V, n_iter, objs, converged = soft_impute_als(
                S, lam, self.max_rank or 50, max_iter=self.max_iter, tol=self.tol, random_state=rng,
            )
            path = np.array([lam])
        for lam_k in path if algorithm == "svd" else []:
            U, d, V, it, objs, converged = soft_impute(
                S, lam_k, init=init, max_rank=self.max_rank, max_iter=self.max_iter,
                tol=self.tol, svd_solver=solver, random_state=rng, accelerate=self.accelerate,
                allow_dense=allow_dense,
            )
            init = (U, d, V)
            n_iter += it
        if not converged:
            warnings.warn(
                f"SoftImputer did not converge in max_iter={self.max_iter} iterations at "
                f"alpha={lam:.4g} (relative change still above tol={self.tol}); "
                f"increase max_iter or n_shrinkages, loosen tol, or raise alpha.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.components_ = V.T.copy()
        self.singular_values_ = d.copy()
        self.rank_ = len(d)
        self.alpha_ = lam
        self.shrinkages_ = path
        self.n_iter_ = n_iter
        self.objective_path_ = objs
        self._row_factors = U * np.sqrt(d)
        self._sparse_fit = sp.issparse(Xv)
        return Xv, S

    def fit(self, X, y=None):
        """Complete ``X`` (dense with NaN, or sparse of observed entries).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The matrix to complete: dense with NaN for the missing entries, or
            sparse holding the observed entries.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit(X)
        return self

    def get_feature_names_out(self, input_features=None):
        """Names of the columns that ``transform`` returns.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input column names; checked against ``feature_names_in_`` when
            that is set, else used as given (``x0, x1, ...`` when None).

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input columns (the completed matrix has the columns of ``X``);
            after a fit on sparse input, where ``transform`` returns the row
            factors, ``softimputer0 .. softimputer{rank_ - 1}``.
        """
        check_is_fitted(self, "components_")
        names = super().get_feature_names_out(input_features)
        if getattr(self, "_sparse_fit", False):
            prefix = type(self).__name__.lower()
            return np.asarray([f"{prefix}{i}" for i in range(self.rank_)], dtype=object)
        return names

    def _col_factors(self):
        return np.ascontiguousarray(self.components_.T * np.sqrt(self.singular_values_))

    def _output(self, Xv, S, A):
        if sp.issparse(Xv):
            return A
        out = np.array(Xv, dtype=np.float64, copy=True)
        miss = np.isnan(out)
        if miss.any():
            i, j = np.nonzero(miss)
            B = self._col_factors()
            out[i, j] = dot_rows(np.ascontiguousarray(A), B, i.astype(np.int64), j.astype(np.int64))
        return out

    def fit_transform(self, X, y=None):
        """Fit and return the completed matrix (dense input) or the row factors (sparse input).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The matrix to complete: dense with NaN for the missing entries, or
            sparse holding the observed entries.
        y : None
            Ignored.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features) or (n_samples, ``rank_``)
            The completed matrix (dense input; observed entries kept) or the row
            factors (sparse input).
        """
        Xv, S = self._fit(X)
        return self._output(Xv, S, self._row_factors)

    def transform(self, X):
        """Fold the rows of ``X`` into the fitted column space.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``: dense with NaN for the missing
            entries, or sparse holding the observed entries.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features) or (n_samples, ``rank_``)
            The completed matrix for dense input (NaN replaced, observed entries
            kept) and the row factors for sparse input.
        """
        check_is_fitted(self, "components_")
        Xv = self._check(X, reset=False)
        S = _observed_csr(Xv)
        A = self.row_factors(S)
        return self._output(Xv, S, A)

    def row_factors(self, S):
        """Ridge fold-in factors ``A`` of the rows of a CSR matrix of observed entries."""
        B = self._col_factors()
        lam = max(self.alpha_, 1e-12)
        return fold_in_rows(S.indptr.astype(np.int64), S.indices.astype(np.int64), S.data, B, lam)

    def inverse_transform(self, A):
        """Dense low-rank reconstruction ``A B^T`` from row factors (n_samples, ``rank_``)."""
        check_is_fitted(self, "components_")
        A = np.asarray(A, dtype=np.float64)
        return A @ self._col_factors().T

    def predict_entries(self, rows, cols):
        """Completed values ``z_ij`` of the fitted matrix at the given (row, column) pairs."""
        check_is_fitted(self, "components_")
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        return dot_rows(np.ascontiguousarray(self._row_factors), self._col_factors(), rows, cols)
