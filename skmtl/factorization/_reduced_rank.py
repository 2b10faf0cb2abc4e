"""Reduced-rank (ridge) regression, with an EM solution for missing targets."""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import delayed
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from .._param_validation import Interval, validate_params
from .._progress import parallel_progress
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ..model_selection._scorers import check_cv_scoring
from ..model_selection._split import check_cv_splits

__all__ = ["ReducedRankRegressor", "ReducedRankRegressorCV", "reduced_rank_path"]


def _weighted_targets(data):
    """Dense (n, T) targets and datafit weights; weight 0 marks a missing entry."""
    n, T = data.n_samples, data.n_tasks
    W = np.zeros((n, T))
    Y = np.zeros((n, T))
    t_of = data.task_of_obs
    W[data.rows, t_of] = data.observation_weights()
    Y[data.rows, t_of] = data.y
    return Y, W


def reduced_rank_path(X, Z, m, alpha, ranks, fit_intercept=True):
    """Closed-form rank-constrained ridge regression for several ranks.

    Solves, for every ``r`` in ``ranks``,

    ``min_{B, b} 1/2 sum_i m_i ||z_i - x_i B - b||^2 + alpha/2 ||B||_F^2``
    subject to ``rank(B) <= r``

    by the reduced-rank ridge solution of Mukherjee & Zhu (2011): with the
    ridge estimate ``B_R`` and ``V_r`` the top-``r`` eigenvectors of
    ``B_R^T (X^T M X + alpha I) B_R`` (the right singular vectors of the fitted
    values of the augmented problem ``[X; sqrt(alpha) I] B``),
    ``B_r = B_R V_r V_r^T``. With ``alpha = 0`` it is classical reduced-rank
    regression (Izenman 1975) with the minimum-norm least-squares ``B_R``.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    Z : ndarray of shape (n, T)
    m : ndarray of shape (n,)
        Non-negative row weights.
    alpha : float
    ranks : sequence of int
    fit_intercept : bool

    Returns
    -------
    coefs : list of ndarray of shape (p, T)
    intercepts : list of ndarray of shape (T,)
    V : ndarray of shape (T, T)
        Eigenvectors (task directions), by decreasing eigenvalue.
    """
    return _RidgeProjector(X, m, alpha, fit_intercept).path(Z, ranks)


class _RidgeProjector:
    """The ridge solve of :func:`reduced_rank_path` for fixed ``X``, ``m``, ``alpha``.

    EM re-solves with the same design and row weights at every iteration, so
    the (p, n) map ``Z -> B_R`` is computed once.
    """

    def __init__(self, X, m, alpha, fit_intercept):
        self.keep = m > 0
        X, m = X[self.keep], m[self.keep]
        self.m, self.alpha, self.fit_intercept = m, alpha, fit_intercept
        n, p = X.shape
        self.xbar = m @ X / m.sum() if fit_intercept else np.zeros(p)
        self.s = np.sqrt(m)[:, None]
        Xs = self.s * (X - self.xbar)
        self.Xs = Xs
        if alpha == 0:
            self.H = np.linalg.pinv(Xs)
        elif p <= n:
            self.H = np.linalg.solve(Xs.T @ Xs + alpha * np.eye(p), Xs.T)
        else:
            self.H = Xs.T @ np.linalg.inv(Xs @ Xs.T + alpha * np.eye(n))

    def path(self, Z, ranks):
        Z = Z[self.keep]
        zbar = self.m @ Z / self.m.sum() if self.fit_intercept else np.zeros(Z.shape[1])
        B = self.H @ (self.s * (Z - zbar))
        F = self.Xs @ B
        M = F.T @ F + self.alpha * (B.T @ B)
        _, V = np.linalg.eigh((M + M.T) / 2)
        V = V[:, ::-1]
        coefs, intercepts = [], []
        for r in ranks:
            Vr = V[:, :r]
            Br = B @ Vr @ Vr.T
            coefs.append(Br)
            intercepts.append(zbar - self.xbar @ Br)
        return coefs, intercepts, V


def _objective(X, Y, W, B, b, alpha):
    R = Y - X @ B - b
    return 0.5 * np.sum(W * R**2) + 0.5 * alpha * np.sum(B**2)


def _fit_rrr(X, Y, W, rank, alpha, fit_intercept, max_iter, tol, init=None):
    """Reduced-rank ridge regression with weighted / missing targets.

    Exact in one step when every row has equal weights across tasks (complete
    targets); otherwise majorize-minimize (EM for missing entries; Srebro &
    Jaakkola 2003 for unequal weights): with ``m_i = max_t W_it`` the surrogate
    replaces ``Y`` by ``Z = F + (W / m) (Y - F)`` at the current fit ``F`` and
    solves the closed form with row weights ``m``. Each step does not increase
    the objective.

    Returns ``B, b, n_iter, objectives, converged``.
    """
    m = W.max(axis=1)
    exact = bool(np.all(W == m[:, None]))
    ratio = np.divide(W, m[:, None], out=np.zeros_like(W), where=m[:, None] > 0)
    if exact:
        (B,), (b,), _ = reduced_rank_path(X, Y, m, alpha, [rank], fit_intercept)
        return B, b, 1, [_objective(X, Y, W, B, b, alpha)], True
    if init is None:
        B = np.zeros((X.shape[1], Y.shape[1]))
        if fit_intercept:
            wsum = W.sum(axis=0)
            b = np.divide((W * Y).sum(axis=0), wsum, out=np.zeros(Y.shape[1]), where=wsum > 0)
        else:
            b = np.zeros(Y.shape[1])
    else:
        B, b = init
    objectives = [_objective(X, Y, W, B, b, alpha)]
    converged = False
    it = 0
    proj = _RidgeProjector(X, m, alpha, fit_intercept)
    for it in range(1, max_iter + 1):
        F = X @ B + b
        Z = F + ratio * (Y - F)
        (B,), (b,), _ = proj.path(Z, [rank])
        objectives.append(_objective(X, Y, W, B, b, alpha))
        if objectives[-2] - objectives[-1] <= tol * max(abs(objectives[-1]), 1e-300):
            converged = True
            break
    return B, b, it, objectives, converged


def _warn_not_converged(name, max_iter, tol):
    warnings.warn(
        f"{name} did not converge in max_iter={max_iter} EM iterations (relative "
        f"objective decrease still above tol={tol}); increase max_iter, loosen tol, "
        f"or standardize the features.",
        ConvergenceWarning,
        stacklevel=3,
    )


class ReducedRankRegressor(LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    """Reduced-rank (ridge) regression: a linear model whose coefficient matrix has low rank.

    Minimizes

    ``1/2 sum_obs omega_i (y_it - x_i w_t - b_t)^2 + alpha/2 ||W||_F^2``
    subject to ``rank(W) <= rank``

    where ``W = coef_.T`` is (n_features, n_tasks) and ``omega`` are the
    datafit weights of the data layer (``1/n`` per entry on complete wide input,
    the scikit-learn scaling). The tasks share ``rank`` linear combinations of
    the features: ``W = B A^T`` with ``A`` (n_tasks, rank) orthonormal.

    * Complete targets (wide input without NaN): closed form of Mukherjee & Zhu
      (2011), "Reduced rank ridge regression and its kernel extensions":
      the ridge solution projected on the top-``rank`` right singular vectors of
      the fitted values of the augmented problem. ``alpha=0`` is Izenman's
      (1975) reduced-rank regression.
    * Missing targets (NaN in wide ``Y``, or long input): EM, filling the
      missing entries with the current fit and re-solving the closed form;
      the objective decreases monotonically (``objective_path_``).

    Parameters
    ----------
    rank : int, default=2
        Maximal rank of the coefficient matrix; capped at ``min(n_features, n_tasks)``.
    alpha : float, default=0.0
        Ridge strength on the coefficients.
    fit_intercept : bool, default=True
        Per-task unpenalized intercepts.
    max_iter : int, default=200
        EM iterations with missing targets.
    tol : float, default=1e-6
        Stop EM when the relative objective decrease falls below ``tol``.
    task_column : str or int, default=None
        Column of ``X`` holding task labels (long input); None for wide input.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    task_components_ : ndarray of shape (n_tasks, ``rank_``)
        Orthonormal task directions spanning the rows of ``coef_``.
    rank_ : int
        The rank used.
    n_iter_ : int
    objective_path_ : list of float
        Objective after each EM iteration (one entry for the closed form).

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.factorization import ReducedRankRegressor
    >>> X, Y, coef = make_multitask_regression(80, 10, 6, structure="low_rank", rank=2, noise=0.1, random_state=0)
    >>> model = ReducedRankRegressor(rank=2).fit(X, Y)
    >>> model.coef_.shape, model.rank_
    ((6, 10), 2)
    """

    _parameter_constraints = {
        "rank": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "task_column": [None, str, Integral],
    }

    def __init__(self, rank=2, alpha=0.0, *, fit_intercept=True, max_iter=200, tol=1e-6, task_column=None):
        self.rank = rank
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit the reduced-rank model on the observed targets.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data, with the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Targets: one column per task (wide; NaN marks a missing target) or one
            value per row (long input).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validate_params(self)
        data = self._validate_fit(X, y, sample_weight)
        Xd = np.asarray(data.X, dtype=np.float64)
        Y, W = _weighted_targets(data)
        rank = min(self.rank, data.n_features, data.n_tasks)
        B, b, n_iter, objs, converged = _fit_rrr(
            Xd, Y, W, rank, self.alpha, self.fit_intercept, self.max_iter, self.tol
        )
        if not converged:
            _warn_not_converged(type(self).__name__, self.max_iter, self.tol)
        self._set_solution(B, b, rank)
        self.n_iter_ = n_iter
        self.objective_path_ = objs
        return self

    def _set_solution(self, B, b, rank):
        self.coef_ = B.T.copy()
        self.intercept_ = np.asarray(b, dtype=np.float64).copy()
        self.rank_ = rank
        U, s, Vt = np.linalg.svd(B, full_matrices=False)
        self.task_components_ = Vt[:rank].T.copy()


def _rrr_fold_scores(Xd, Y, observed, train, test, train_data, alphas, ranks, fit_intercept, max_iter, tol,
                     scorer=None, test_data=None):
    """Held-out loss of every (alpha, rank) on one fold, and which were scored.

    ``train`` is sorted and ``train_data`` its :class:`~skmtl._data.MultiTaskData`:
    the fold is fitted with the datafit weights of its own rows, so that
    ``alpha`` means what it means in a fit on those rows. The loss is
    ``mean_t SSE_t / SST_t`` without ``scorer``, else minus the scorer's score
    (:func:`~skmtl.model_selection._scorers.check_cv_scoring`) on
    ``test_data``, the fold's held-out observations.
    """
    scores = np.zeros((len(alphas), len(ranks)))
    counts = np.zeros((len(alphas), len(ranks)))
    Xtr = Xd[train]
    Ytr, Wtr = _weighted_targets(train_data)
    if not np.all(Wtr.sum(axis=0) > 0):
        return scores, counts
    ybar = (Wtr * Ytr).sum(axis=0) / Wtr.sum(axis=0)
    obs_te = observed[test]
    sst = (obs_te * (Y[test] - ybar) ** 2).sum(axis=0)
    ok = (sst > 0) & (obs_te.sum(axis=0) > 0)
    if scorer is None and not ok.any():
        return scores, counts
    mtr = Wtr.max(axis=1)
    exact = bool(np.all(Wtr == mtr[:, None]))
    for a_i, alpha in enumerate(alphas):
        if exact:
            coefs, icpts, _ = reduced_rank_path(Xtr, Ytr, mtr, alpha, ranks, fit_intercept)
        else:
            coefs, icpts, init = [], [], None
            for r in ranks:
                B, b, *_ = _fit_rrr(Xtr, Ytr, Wtr, r, alpha, fit_intercept, max_iter, tol, init)
                coefs.append(B)
                icpts.append(b)
                init = (B, b)
        for r_i, (B, b) in enumerate(zip(coefs, icpts)):
            if scorer is not None:
                if test_data.n_obs == 0:
                    continue
                F = np.asarray(test_data.X, dtype=np.float64) @ B + b
                pred = F[test_data.rows, test_data.task_of_obs][:, None]
                score = float(scorer(test_data, pred)[0])
                if np.isfinite(score):
                    scores[a_i, r_i] -= score
                    counts[a_i, r_i] += 1
                continue
            sse = (obs_te * (Y[test] - Xd[test] @ B - b) ** 2).sum(axis=0)
            scores[a_i, r_i] += np.mean(sse[ok] / sst[ok])
            counts[a_i, r_i] += 1
    return scores, counts


class ReducedRankRegressorCV(ReducedRankRegressor):
    """Reduced-rank ridge regression with rank (and ridge strength) chosen by cross-validation.

    For every fold and ``alpha`` the ridge solve is shared by all ranks on
    complete targets (the closed form gives every rank from one
    eigendecomposition); with missing targets each rank is fitted by EM,
    warm-started from the previous rank. The score of a candidate is the mean
    over tasks of ``SSE_t / SST_t`` on the held-out observed entries (each
    task's error relative to predicting its training mean), summed over folds;
    the lowest wins, and the model is refitted on all data.

    Parameters
    ----------
    ranks : sequence of int, default=None
        Candidate ranks; ``1 .. min(n_features, n_tasks)`` when None.
    alphas : sequence of float, default=None
        Candidate ridge strengths. When None, ``c * s2`` for
        ``c in (0, 1e-4, 1e-3, 1e-2, 1e-1, 1)``, with ``s2`` the mean
        weighted variance of the features (a scale-free grid).
    cv : int, cross-validation splitter or iterable of (train, test) rows, default=5
        Folds over the rows of ``X``: for an int, ``KFold(cv)`` on wide input
        and every task's rows split into ``cv`` blocks on long input (as the
        linear ``*CV`` estimators); a splitter's ``split`` gets the ``groups``
        given to ``fit``.
    scoring : None, str or callable, default=None
        How a held-out fold scores a candidate. None: the mean over tasks of
        ``SSE_t / SST_t`` (each task's squared error relative to predicting
        its training mean), lower is better. Otherwise skmtl's scoring
        convention of every ``*CV`` estimator, greater is better (see
        :class:`~skmtl.linear.TraceNormRegressorCV`): scikit-learn's
        ``"r2"``, ``"neg_mean_squared_error"``, ``"neg_mean_absolute_error"``,
        a skmtl scorer name or scorer, or a callable ``scorer(estimator, X, y)``.
    fit_intercept, max_iter, tol, task_column
        As in :class:`ReducedRankRegressor`.
    n_jobs : int, default=None
        Folds fitted in parallel with joblib (any backend, e.g. Dask).
    verbose : int, default=0
        Show a progress bar over the folds when positive.

    Attributes
    ----------
    rank_, alpha_ : the selected rank and ridge strength
    ranks_, alphas_ : ndarray, the candidate grids
    cv_scores_ : ndarray of shape (n_alphas, n_ranks)
        Mean held-out loss, lower is better: the relative squared error with
        ``scoring=None``, else minus the mean score.
    coef_, intercept_, task_components_, n_iter_, objective_path_
        Of the final fit on all data.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.factorization import ReducedRankRegressorCV
    >>> X, Y, coef = make_multitask_regression(80, 10, 6, structure="low_rank", rank=2, noise=0.1, random_state=0)
    >>> model = ReducedRankRegressorCV(cv=3).fit(X, Y)
    >>> model.rank_
    2
    """

    _parameter_constraints = {
        "ranks": [None, "array-like"],
        "alphas": [None, "array-like"],
        "cv": [Interval(Integral, 2, None, closed="left"), "cv_object"],
        "scoring": [None, str, "callable"],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "task_column": [None, str, Integral],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
    }

    def __init__(self, ranks=None, alphas=None, *, cv=5, scoring=None, fit_intercept=True, max_iter=200, tol=1e-6,
                 task_column=None, n_jobs=None, verbose=0):
        self.ranks = ranks
        self.alphas = alphas
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None, groups=None):
        """Choose rank and alpha by cross-validation, then refit on all data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            With the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Wide targets (NaN marks a missing target) or long targets.
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group label of each row, passed to the ``split`` of a splitter
            ``cv`` (``GroupKFold``); ignored for an int ``cv``.

        Returns
        -------
        self
        """
        validate_params(self)
        data = self._validate_fit(X, y, sample_weight)
        p, T = data.n_features, data.n_tasks
        Xd = np.asarray(data.X, dtype=np.float64)
        Y, W = _weighted_targets(data)
        cap = min(p, T)
        ranks = np.arange(1, cap + 1) if self.ranks is None else np.asarray(self.ranks, dtype=int)
        ranks = np.unique(np.clip(ranks, 1, cap))
        if self.alphas is None:
            m = W.max(axis=1)
            xbar = m @ Xd / m.sum()
            s2 = float(np.mean(m @ (Xd - xbar) ** 2 / m.sum()))
            alphas = np.array([0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]) * max(s2, 1e-12)
        else:
            alphas = np.asarray(self.alphas, dtype=np.float64)
            if alphas.ndim != 1 or len(alphas) == 0 or np.any(alphas < 0):
                raise ValueError("alphas must be a non-empty 1-D sequence of non-negative floats.")
        n = data.n_samples
        if n < 2:
            raise ValueError(f"ReducedRankRegressorCV needs at least 2 samples for cross-validation; got n_samples = {n}.")
        splits = check_cv_splits(data, self.cv, groups, estimator_name=type(self).__name__)
        observed = W > 0
        scorer = None if self.scoring is None else check_cv_scoring(self.scoring, type(self).__name__)
        splits = [(np.sort(train), test) for train, test in splits]
        calls = (
            delayed(_rrr_fold_scores)(Xd, Y, observed, train, test, data.subset_rows(train), alphas, ranks,
                                      self.fit_intercept, self.max_iter, self.tol, scorer,
                                      None if scorer is None else data.subset_rows(np.sort(test)))
            for train, test in splits
        )
        folds = parallel_progress(calls, self.n_jobs, self.verbose, desc="ReducedRankRegressorCV folds",
                                  total=len(splits))
        scores = sum(f[0] for f in folds)
        counts = sum(f[1] for f in folds)
        if not counts.any():
            raise ValueError("No cross-validation fold had held-out targets with non-zero variance; use fewer folds.")
        self.cv_scores_ = scores / np.maximum(counts, 1)
        a_best, r_best = np.unravel_index(np.argmin(self.cv_scores_), self.cv_scores_.shape)
        self.alphas_, self.ranks_ = alphas, ranks
        self.alpha_, self.rank_ = float(alphas[a_best]), int(ranks[r_best])
        B, b, n_iter, objs, converged = _fit_rrr(
            Xd, Y, W, self.rank_, self.alpha_, self.fit_intercept, self.max_iter, self.tol
        )
        if not converged:
            _warn_not_converged(type(self).__name__, self.max_iter, self.tol)
        self._set_solution(B, b, self.rank_)
        self.n_iter_ = n_iter
        self.objective_path_ = objs
        return self
