r"""Screened, streaming L2,1 solver for designs that are not held in memory.

Same problem as :class:`~skmtl.linear.L21Solver` (see :mod:`skmtl.linear._bcd`),
on a design ``X`` (:mod:`skmtl._design`: PLINK genotypes, memmaps, zarr or
dask arrays) that is only read by full passes ``X^T V`` and by the dense
columns of a working set. For each ``alpha`` of a decreasing path (the
batch screening of snpnet's BASIL and bigstatsr, with the KKT check that
makes it exact):

1. **screen** with the sequential strong rule (Tibshirani et al. 2012): a
   penalized feature enters the working set ``S`` when its last computed
   ``z_j``, the smallest ``alpha`` at which ``W_j = 0`` is optimal
   (``||G_j||_2 / (l1_ratio f_j)`` for the group lasso, MCP and SCAD;
   :meth:`RowPenalty.zero_alphas`), exceeds ``2 alpha - alpha_prev``.
   ``S`` only grows along a path, and holds the unpenalized features
   (``f_j = 0``, covariates) from the start;
2. **solve** the problem restricted to ``S`` with the in-memory
   :class:`~skmtl.linear.L21Solver` on the columns ``X[:, S]`` (decoded once
   and kept; float64 up to 256 MiB, then float32), warm-started;
3. **check** every feature in one streaming pass: ``G = X^T (omega r)``
   with the restricted solution's weighted residual (centered per task,
   so the intercepts need no column means). A feature outside ``S`` with
   ``z_j > alpha`` violates the optimality conditions; the violators join
   ``S`` (the largest ones, at most ``max(256, k)`` per round, ``k`` the
   number of nonzero rows of ``W``; the strong set too) and step 2
   runs again. When none does, the restricted solution is
   the solution of the full problem: its duality gap (the restricted
   solver's, at the dual point ``omega r`` rescaled by the largest
   ``z_j / alpha`` over ``S``, which every feature outside ``S`` then
   satisfies) is the full problem's.

The ``z`` of the last check screens the next ``alpha``, so a path costs one
full pass per ``alpha`` when the strong rule makes no mistake, plus one per
round of violators. Memory: ``X[:, S]`` (decoded in place into a store that
grows by ``realloc``) and a few (n_samples, n_tasks) arrays.
"""

import contextlib
import time

import numpy as np

from .._data import MultiTaskData
from ._bcd import L21Solver
from ._row_penalties import make_row_penalty

__all__ = ["ScreenedL21Solver", "make_l21_solver", "top_features"]

_MIN_ADD = 256  # features a screening or a check may add at least (see ScreenedL21Solver._top)
_FLOAT64_BYTES = 2**28  # ws_dtype="auto": working-set columns in float64 up to this many bytes, then float32
_GROWTH = 1.25  # the working-set store grows by this factor (in place)


def make_l21_solver(data, **kwargs):
    """:class:`ScreenedL21Solver` when ``data.X`` is a design, else :class:`~skmtl.linear.L21Solver`."""
    from .._design import is_design

    if is_design(data.X):
        kwargs.pop("precompute", None)
        return ScreenedL21Solver(data, **kwargs)
    return L21Solver(data, **kwargs)


def top_features(feats, z, cap):
    """The (at most ``cap``) features of ``feats`` with the largest ``z``."""
    if len(feats) <= cap:
        return feats
    return feats[np.argpartition(-z[feats], cap - 1)[:cap]]


class ScreenedL21Solver:
    """L2,1 solver on a design read by streaming passes, with screening and KKT checks.

    The interface of :class:`~skmtl.linear.L21Solver` (``solve``,
    ``alpha_max``, ``set_coef``, ``W``, ``intercept``), so the estimators, the
    path and its cross-validation use it unchanged. See
    :mod:`skmtl.linear._screened` for the method.

    Parameters
    ----------
    data : MultiTaskData
        Wide input whose ``X`` is a :class:`~skmtl._design.ColumnDesign`.
    fit_intercept, task_weight, l1_ratio, penalty_factor, penalty, gamma, l1_share, obs_weight
        As :class:`~skmtl.linear.L21Solver`.
    ws_dtype : "auto" or dtype, default="auto"
        Storage of the working-set columns (the restricted solver runs on
        them). "auto": float64 while they take at most 256 MiB, float32
        beyond (half the memory; duality gaps then level off near 1e-7 of
        the target energy, far below the default ``tol``).

    Attributes
    ----------
    n_passes : int
        Full passes over the design so far.
    pass_seconds : list of float
        Duration of each full pass.
    working_set : ndarray of int
        The features of ``S``.
    max_working_set : int
        The largest ``|S|`` so far (the columns held in memory at the peak).
    n_pruned : int
        Features dropped from ``S`` so far (zero, and out of the strong set).
    """

    def __init__(self, data, *, fit_intercept=True, task_weight=None, l1_ratio=1.0, penalty_factor=None,
                 penalty="group_lasso", gamma=None, l1_share=0.5, obs_weight=None, ws_dtype="auto"):
        if data.layout != "wide":
            raise ValueError("A design (genotypes, memmap, zarr or dask array) takes wide targets "
                             "(one column per task), not long input.")
        self.data = data
        self.design = data.X
        self.n_samples = n = data.n_samples
        self.n_features = p = data.n_features
        self.n_tasks = T = data.n_tasks
        self.fit_intercept = fit_intercept
        self._omega = np.ascontiguousarray(
            data.observation_weights(task_weight) if obs_weight is None else obs_weight, dtype=np.float64)
        if not 0.0 <= float(l1_ratio) <= 1.0:
            raise ValueError(f"l1_ratio must lie in [0, 1]; got {l1_ratio!r}.")
        f = np.ones(p) if penalty_factor is None else np.asarray(penalty_factor, dtype=np.float64)
        if f.shape != (p,) or not np.all(f >= 0) or not np.all(np.isfinite(f)):
            raise ValueError(f"penalty_factor must be {p} finite non-negative values; got shape {f.shape}.")
        self._f = f
        self.l1_ratio = float(l1_ratio)
        self._pw = self.l1_ratio * f
        self._options = dict(fit_intercept=fit_intercept, l1_ratio=l1_ratio, penalty=penalty, gamma=gamma,
                             l1_share=l1_share)
        self.penalty = make_row_penalty(penalty, gamma=gamma, l1_share=l1_share)
        self._auto_dtype = isinstance(ws_dtype, str) and ws_dtype == "auto"
        self.ws_dtype = np.dtype(np.float64 if self._auto_dtype else ws_dtype)
        self._task_of = data.task_of_obs
        self.W = np.zeros((p, T))
        self._intercept = self._null_intercept()
        self._cols = np.zeros(0, dtype=np.int64)  # the working set S, in cache order
        self._in_ws = np.zeros(p, dtype=bool)
        self._store = np.empty((0, n), dtype=self.ws_dtype)  # row j: the column of feature _cols[j]
        self._z = None  # zero-alphas of the last check
        self._z_alpha = None  # ... and the alpha they were computed at
        self._inner = None
        self.n_passes = 0
        self.pass_seconds = []
        self.max_working_set = 0
        self.n_pruned = 0
        self._add(np.flatnonzero(~self._penalized_rows()))

    # ------------------------------------------------------------ helpers
    def _penalized_rows(self):
        return self._pw > 0

    @property
    def working_set(self):
        return self._cols.copy()

    @contextlib.contextmanager
    def single_thread_blas(self):
        """No-op (the interface of :class:`~skmtl.linear.L21Solver`): the passes use every BLAS thread."""
        yield

    def _null_intercept(self):
        if not self.fit_intercept:
            return np.zeros(self.n_tasks)
        S = np.bincount(self._task_of, weights=self._omega, minlength=self.n_tasks)
        Sy = np.bincount(self._task_of, weights=self._omega * self.data.y, minlength=self.n_tasks)
        return np.where(S > 0, Sy / np.where(S > 0, S, 1.0), 0.0)

    def _add(self, feats):
        """Append features to the working set, decoding their columns once."""
        feats = np.asarray(feats, dtype=np.int64)
        feats = feats[~self._in_ws[feats]]
        if len(feats) == 0:
            return
        feats = np.unique(feats)
        k, m = len(self._cols), len(feats)
        self._inner = None  # drops its view of the store before the store is resized
        if k + m > self._store.shape[0]:
            cap = max(k + m, int(_GROWTH * self._store.shape[0]), 16)
            if self._auto_dtype and self.ws_dtype == np.float64 and 8 * self.n_samples * cap > _FLOAT64_BYTES:
                self.ws_dtype = np.dtype(np.float32)
                self._store = self._store.astype(np.float32)
            self._resize(cap)
        self.design.take(feats, dtype=self.ws_dtype, out=self._store[k:k + m].T)  # decoded in place
        self._cols = np.concatenate([self._cols, feats])
        self._in_ws[feats] = True
        self.max_working_set = max(self.max_working_set, len(self._cols))

    def _prune(self, strong):
        """Drop from ``S`` the penalized features that are zero and outside the strong set ``strong``.

        They were screened in at a larger ``alpha`` and never entered; keeping
        them would make ``S`` the union of every strong set along the path
        (tens of thousands of correlated variants at the end of a genotype
        path). Their store rows are reused, so ``S`` costs the memory of the
        features in play now. Nothing is lost: a dropped feature that violates
        the optimality conditions re-enters at the next check. Pruned only
        when at least a quarter of ``S`` (and 256 features) would go.
        """
        cols = self._cols
        keep = ~self._penalized_rows()[cols] | np.any(self.W[cols] != 0, axis=1) | strong[cols]
        n_drop = len(cols) - int(keep.sum())
        if n_drop < max(_MIN_ADD, len(cols) // 4):
            return
        self._inner = None  # drops its view of the store before rows move
        idx = np.flatnonzero(keep)
        for new, old in enumerate(idx):  # in place (new <= old), no copy of the store
            if new != old:
                self._store[new] = self._store[old]
        self._in_ws[cols[~keep]] = False
        self._cols = cols[idx]
        self.n_pruned += n_drop

    @property
    def _cache(self):
        """The working-set columns ``X[:, S]`` as an (n_samples, |S|) Fortran-ordered view."""
        return self._store[:len(self._cols)].T

    def _resize(self, cap):
        """Grow the store to ``cap`` rows in place (``realloc``: no second copy in memory)."""
        try:
            self._store.resize((cap, self.n_samples), refcheck=False)
        except ValueError:  # does not own its data (a view): copy once
            new = np.empty((cap, self.n_samples), dtype=self._store.dtype)
            new[:len(self._store)] = self._store
            self._store = new

    def _top(self, feats, z):
        """The features of ``feats`` with the largest ``z``, at most ``max(256, k)`` of them.

        ``k`` is the number of nonzero rows of ``W``. Far below the last
        ``alpha`` (a cold start) most features violate the optimality
        conditions at the current ``W``, and where the path selects features
        fast the strong rule proposes several times more than enter; adding
        them all would hold that much more of ``X`` in memory. The support can
        then at most double per round (one full pass each), as the in-memory
        solver's working set does.
        """
        return top_features(feats, z, max(_MIN_ADD, int(np.count_nonzero(np.any(self.W != 0, axis=1)))))

    def _restricted(self):
        """The in-memory solver on ``X[:, S]`` (rebuilt when ``S`` grew), started at the current ``W``."""
        if self._inner is None:
            d = self.data
            sub = MultiTaskData(X=self._cache, y=d.y, rows=d.rows, task_ptr=d.task_ptr,
                                sample_weight=d.sample_weight, tasks=d.tasks, layout=d.layout, complete=d.complete)
            self._inner = L21Solver(sub, obs_weight=self._omega, penalty_factor=self._f[self._cols],
                                    precompute=False, **self._options)
            self._inner.set_coef(self.W[self._cols])
        return self._inner

    def _null_residual(self):
        """``omega * r`` at ``W = 0`` (intercepts only), placed at (row, task)."""
        r = self.data.y - self._intercept[self._task_of]
        M = np.zeros((self.n_samples, self.n_tasks))
        M[self.data.rows, self._task_of] = self._omega * r
        return M

    def _weighted_residual(self):
        """``omega * r`` placed at (row, task), shape (n_samples, n_tasks), at the current ``W`` (restricted to ``S``)."""
        if len(self._cols) == 0:
            return self._null_residual()
        return self._restricted()._weighted_residual()[0]

    def _check(self, M=None):
        """One streaming pass: the zero-alphas ``z`` of every penalized feature (at the current ``W``, or for ``M``)."""
        t0 = time.perf_counter()
        G = self.design.rmatmat(self._weighted_residual() if M is None else M)
        self.pass_seconds.append(time.perf_counter() - t0)
        self.n_passes += 1
        pen = self._penalized_rows()
        z = np.zeros(self.n_features)
        z[pen] = self.penalty.zero_alphas(G[pen], self._pw[pen])
        return z

    # ------------------------------------------------------------ interface
    def set_coef(self, W):
        """Start from coefficients ``W`` (n_features, n_tasks); their nonzero rows join the working set."""
        W = np.array(W, dtype=np.float64)
        self.W = W
        self._add(np.flatnonzero(np.any(W != 0, axis=1)))
        if self._inner is not None:
            self._inner.set_coef(W[self._cols])
        self._z = None

    def checkpoint_state(self):
        """The working set (in order), its storage type and the last screening values, for a path checkpoint."""
        return {"cols": self._cols.copy(), "ws_dtype": np.array(self.ws_dtype.str),
                "z": np.zeros(0) if self._z is None else self._z.copy(),
                "z_alpha": np.array([np.nan if self._z_alpha is None else self._z_alpha])}

    def restore_state(self, W, state):
        """Continue from a checkpoint: coefficients ``W`` (n_features, n_tasks) and :meth:`checkpoint_state`."""
        cols = np.asarray(state["cols"], dtype=np.int64)
        self.ws_dtype = np.dtype(str(state["ws_dtype"]))
        self._store = np.ascontiguousarray(self.design.take(cols, dtype=self.ws_dtype).T)
        self._cols = cols
        self._in_ws[:] = False
        self._in_ws[cols] = True
        self._inner = None
        self.W = np.array(W, dtype=np.float64)
        z = np.asarray(state["z"], dtype=np.float64)
        self._z = z if len(z) else None
        self._z_alpha = None if self._z is None else float(state["z_alpha"][0])

    @property
    def intercept(self):
        """Per-task intercepts."""
        if self._inner is not None:
            return self._inner.intercept
        return self._intercept

    def alpha_max(self):
        """Smallest ``alpha`` with every penalized row of ``W`` zero (one streaming pass).

        As :meth:`L21Solver.alpha_max`: the gradient at the model where only the
        unpenalized features are fitted. The coefficients are left as they were.
        """
        pen = self._penalized_rows()
        if not pen.any():
            if self.l1_ratio == 0.0:
                raise ValueError("alpha_max is infinite for l1_ratio=0 (a pure ridge never zeroes the "
                                 "coefficients): give the alphas explicitly.")
            return 0.0
        free = np.flatnonzero(~pen[self._cols])
        if len(free):  # the model of the unpenalized features alone
            d = self.data
            sub = MultiTaskData(X=np.asfortranarray(self._cache[:, free]), y=d.y, rows=d.rows,
                                task_ptr=d.task_ptr, sample_weight=d.sample_weight, tasks=d.tasks,
                                layout=d.layout, complete=d.complete)
            only = L21Solver(sub, obs_weight=self._omega, penalty_factor=np.zeros(len(free)), precompute=False,
                             **self._options)
            only.solve(1.0, tol=1e-10, max_iter=10000)
            M = only._weighted_residual()[0]
        else:
            M = self._null_residual()
        z = self._check(M)
        amax = float(z.max())
        if not self.W.any():  # the start of a path: this pass screens its first alpha
            self._z, self._z_alpha = z, amax
        return amax

    def one_off_options(self):
        """The options of :meth:`solve` for a one-off fit: NumPy KKT statistics in the restricted solves,
        which keep the extrapolation (this solver is for designs larger than memory)."""
        return {"kkt_numpy": True}

    def solve(self, alpha, *, tol=1e-4, max_iter=1000, verbose=0, **kwargs):
        """Minimize for ``alpha`` from the current coefficients: screen, solve on ``S``, check, repeat.

        Returns
        -------
        gap : float
            Duality gap of the full problem (KKT violation for MCP/SCAD).
        n_iter : int
            Epochs of the restricted solver, over all rounds.
        converged : bool
        """
        alpha = float(alpha)
        if self._z is None:
            self._z, self._z_alpha = self._check(), alpha
        # sequential strong rule from the last check
        strong = self._penalized_rows() & (self._z > 2.0 * alpha - self._z_alpha)
        self._prune(strong)
        self._add(self._top(np.flatnonzero(strong & ~self._in_ws), self._z))
        n_iter, gap, conv = 0, 0.0, True
        while True:
            if len(self._cols):
                inner = self._restricted()
                gap, it, conv = inner.solve(alpha, tol=tol, max_iter=max_iter, verbose=verbose, **kwargs)
                n_iter += it
                self.W[:] = 0.0
                self.W[self._cols] = inner.W
            else:
                it = 0
            z = self._check()
            viol = np.flatnonzero((z > alpha) & ~self._in_ws)
            if verbose:
                print(f"[screened] alpha={alpha:.4g} |S|={len(self._cols)} epochs={it} violators={len(viol)}")
            if len(viol) == 0:
                break
            self._add(self._top(viol, z))
        self._z, self._z_alpha = z, alpha
        return gap, n_iter, conv

    def penalty_value(self, alpha, W=None):
        """``sum_j h_j(W_j)`` at ``alpha`` (rows outside ``S`` are zero)."""
        W = self.W if W is None else np.asarray(W, dtype=np.float64)
        return self._restricted().penalty_value(alpha, W[self._cols])

    def objective(self, alpha):
        """Objective value at the current coefficients (intercepts at their optimum)."""
        return self._restricted().objective(alpha)
