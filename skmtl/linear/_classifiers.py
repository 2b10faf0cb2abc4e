"""Multi-task linear classifiers with L2,1 or trace-norm coupling.

Each task has its own labels. A binary task gets one coefficient column and
the logistic loss; a task with ``K >= 3`` classes gets ``K`` columns and the
multinomial (softmax) loss; a task with a single class gets none (it always
predicts that class). The columns of all tasks are stacked into
``W`` of shape (n_features, n_columns), task ``t`` owning
``coef_ptr_[t]:coef_ptr_[t + 1]``, and the coupling penalty acts on the whole
``W``:

.. math::

    \\min_{W, b} \\; \\sum_i \\omega_i \\, \\ell_{t_i}(y_i, x_i W_{t_i} + b_{t_i})
    + \\alpha \\, \\Omega(W),

``Omega = ||W||_{2,1}`` (rows: features selected jointly by all tasks and
classes; Obozinski, Taskar & Jordan 2010) or ``||W||_*`` (shared low-rank
subspace; Ji & Ye 2009). With ``task_weight=None`` and complete wide input,
``omega_i = 1/n`` (the scikit-learn scaling of the mean log-loss). Solved by
FISTA or, for the L2,1 models, by proximal Newton steps on the block
coordinate descent (:func:`~skmtl.linear._solver_choice.choose_solver`), both
stopping on the relative KKT residual.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from .._design import is_design
from .._param_validation import Interval, StrOptions
from ..base import MultiTaskClassifierMixin
from ._base import (
    COMMON_CONSTRAINTS,
    CV_CONSTRAINTS,
    NONNEGATIVE,
    ROW_PENALTY_OPTIONS,
    check_l1_ratios,
    check_penalty,
    check_penalty_factor,
    check_solver_params,
    numerical_rank,
    resolve_alpha,
    store_fista_result,
    warn_if_zero_model,
)
from ._contract import check_parts
from ._cv import PathCVMixin
from ._datafits import LogisticLoss, MultinomialLoss
from ._fista import FISTA_DATAFIT_REQUIRED, FISTA_PENALTY_REQUIRED, fista, fista_path
from ._penalties import TraceNorm, WeightedL21
from ._prox_newton import prox_newton
from ._screened_classifier import fit_screened_classifier
from ._solver_choice import choose_solver

__all__ = ["L21Classifier", "TraceNormClassifier", "L21ClassifierCV", "TraceNormClassifierCV"]

#: ``solver`` of the L2,1 classifiers (:func:`~skmtl.linear._solver_choice.choose_solver`).
CLASSIFIER_SOLVER_OPTIONS = StrOptions({"auto", "prox_newton", "fista"})


#: What the cross-validation needs besides FISTA: the held-out ``mean_loss`` of
#: the datafit (the score) and the penalty's ``alpha_max`` (the grid).
FISTA_CV_DATAFIT_REQUIRED = FISTA_DATAFIT_REQUIRED + ("mean_loss",)
FISTA_CV_PENALTY_REQUIRED = FISTA_PENALTY_REQUIRED + ("alpha_max",)


def _classifier_path(data, alphas, *, make_datafit, make_penalty, max_iter, tol, newton=None, solver="auto",
                     warn=False, owner="classifier"):
    """Warm-started path on ``data``: ``(coefs, intercepts, n_iters, solvers)``, ``coefs[k]`` (n_features, n_columns).

    FISTA with the penalties of ``make_penalty``; with ``newton`` (the row
    penalty options of :func:`~skmtl.linear._prox_newton.prox_newton`)
    proximal Newton steps on the block coordinate descent at the strengths
    where :func:`~skmtl.linear._solver_choice.choose_solver` picks them
    (``solver``; along a decreasing grid, a prefix of it: FISTA then continues
    from the last Newton solution); ``solvers[k]`` is the one that ran at ``alphas[k]``.
    """
    datafit = make_datafit(data)
    alphas = list(alphas)
    amax = _lazy(lambda: _classifier_alpha_max(data, make_datafit=make_datafit, make_penalty=make_penalty,
                                               max_iter=max_iter, tol=tol))
    coefs, intercepts, n_iters = [], [], []
    start = None
    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore", ConvergenceWarning)
        for k, alpha in enumerate(alphas):
            if choose_solver(solver, newton, datafit, alpha, amax) == "fista":
                rest = fista_path(datafit, make_penalty, alphas[k:], max_iter=max_iter, tol=tol, warn=warn,
                                  coef_init=start)
                return (coefs + rest[0], intercepts + rest[1], n_iters + rest[2],
                        ["prox_newton"] * k + ["fista"] * (len(alphas) - k))
            res = prox_newton(datafit, alpha, tol=tol, max_iter=max_iter, coef_init=start, warn=warn,
                              owner=owner, **newton)
            start = (res.coef, res.intercept)
            coefs.append(res.coef)
            intercepts.append(res.intercept)
            n_iters.append(res.n_iter)
    return coefs, intercepts, n_iters, ["prox_newton"] * len(alphas)


def _lazy(func):
    """``func`` evaluated at the first call only (a cached thunk)."""
    cache = []

    def value():
        if not cache:
            cache.append(func())
        return cache[0]
    return value


def _classifier_path_scores(train, test, alphas, **params):
    """Minus the held-out log-loss (per unit of observation weight) of the path fitted on ``train``."""
    coefs, intercepts = _classifier_path(train, alphas, **params)[:2]
    test_loss = params["make_datafit"](test)
    return np.array([-test_loss.mean_loss(W, b) for W, b in zip(coefs, intercepts)])


def _classifier_alpha_max(data, *, make_datafit, make_penalty, max_iter, tol, newton=None, solver=None,
                          owner=None):
    """Smallest ``alpha`` zeroing the penalized coefficients, from the gradient at the unpenalized model.

    That model has zero coefficients (optimal intercepts), or, with unpenalized
    features, those features fitted alone. The same for the group lasso and
    group MCP/SCAD (``newton``): their subdifferential at zero is one ball.
    """
    datafit = make_datafit(data)
    pen = make_penalty(1.0)
    check_parts("cross-validation of a classifier", datafit, pen, FISTA_CV_DATAFIT_REQUIRED,
                FISTA_CV_PENALTY_REQUIRED)
    W0, b0 = datafit.init_coef()
    if pen.n_unpenalized:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = fista(datafit, make_penalty(1e300), max_iter=max_iter, tol=tol)
        W0, b0 = res.coef, res.intercept
    _, G0, _ = datafit.value_grad(W0, b0)
    return pen.alpha_max(G0)


def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


class _ProxLinearClassifier(MultiTaskClassifierMixin, BaseEstimator):
    _accept_sparse = True

    def _n_classes(self):
        if self._single_output:
            return np.array([len(self.classes_)])
        return np.array([len(c) for c in self.classes_])

    def _make_datafit(self, data):
        K = self._n_classes()
        if np.all(K == 2):
            return LogisticLoss(data, task_weight=self.task_weight, fit_intercept=self.fit_intercept)
        return MultinomialLoss(data, K, task_weight=self.task_weight, fit_intercept=self.fit_intercept)

    def _alpha_max_params(self):
        n_features = self.n_features_in_
        return {"make_datafit": self._make_datafit, "make_penalty": self._penalty_factory(n_features),
                "max_iter": self.max_iter, "tol": self.tol, "newton": self._newton_options(n_features),
                "solver": self._solver(), "owner": type(self).__name__}

    def _set_result(self, res, datafit):
        store_fista_result(self, res)
        self.coef_ptr_ = datafit.design.col_ptr.copy()
        return self

    def _penalty_factory(self, n_features):
        """``alpha -> penalty``: the trace norm, or the weighted L2,1 / elastic net of the L21 models."""
        if self._penalty_class is TraceNorm:
            return TraceNorm
        l1_ratio = self._single_l1_ratio()
        f = check_penalty_factor(self.penalty_factor, n_features, type(self).__name__)
        return lambda alpha: WeightedL21(alpha, l1_ratio, f)

    def _single_l1_ratio(self):
        """``l1_ratio`` checked to be one number in [0, 1] (errors name the estimator)."""
        name = type(self).__name__
        ratios = check_l1_ratios(self.l1_ratio, name)
        if ratios.size != 1:
            raise ValueError(f"{name}: l1_ratio must be one number in [0, 1]; got {self.l1_ratio!r}.")
        return float(ratios[0])

    def _newton_options(self, n_features):
        """Row-penalty options of :func:`~skmtl.linear._prox_newton.prox_newton`, or None: FISTA."""
        return None

    def _solver(self):
        """The ``solver`` option of :func:`~skmtl.linear._solver_choice.choose_solver` ("auto" here)."""
        return "auto"

    def _fit_one(self, data):
        check_solver_params(self)
        if is_design(data.X):  # genotypes, memmaps, zarr, dask: screened, streaming passes
            alpha, res, datafit = fit_screened_classifier(
                self, data, lambda alpha_max: resolve_alpha(self, self.alpha, alpha_max))
            self._set_result(res, datafit)
            warn_if_zero_model(self, self.coef_, f"alpha={alpha:.4g}")
            return self
        amax = _lazy(lambda: _classifier_alpha_max(data, **self._alpha_max_params()))
        alpha = resolve_alpha(self, self.alpha, amax)
        datafit = self._make_datafit(data)
        newton = self._newton_options(data.n_features)
        self.solver_ = choose_solver(self._solver(), newton, datafit, alpha, amax)
        if self.solver_ == "prox_newton":
            res = prox_newton(datafit, alpha, tol=self.tol, max_iter=self.max_iter, owner=type(self).__name__,
                              **newton)
        else:
            make_penalty = self._penalty_factory(data.n_features)
            res = fista(datafit, make_penalty(alpha), max_iter=self.max_iter, tol=self.tol)
        self._set_result(res, datafit)
        warn_if_zero_model(self, self.coef_, f"alpha={alpha:.4g}")
        return self

    # ---------------------------------------------------------------- scores
    def _task_scores(self, X, t):
        c0, c1 = self.coef_ptr_[t], self.coef_ptr_[t + 1]
        return np.asarray(X @ self.coef_[c0:c1].T) + self.intercept_[c0:c1]

    def _task_proba(self, X, t):
        K = self._n_classes()[t]
        Z = self._task_scores(X, t)
        if K == 1:
            return np.ones((X.shape[0], 1))
        if K == 2:
            p1 = _sigmoid(Z[:, 0])
            return np.column_stack([1.0 - p1, p1])
        Z = Z - Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        return E / E.sum(axis=1, keepdims=True)

    def _task_decision(self, X, t):
        K = self._n_classes()[t]
        Z = self._task_scores(X, t)
        if K <= 2:
            return Z[:, 0] if K == 2 else np.zeros(X.shape[0])
        return Z

    def _predict_codes(self, X, task_codes):
        T = self.n_tasks_
        if task_codes is None:
            out = np.empty((X.shape[0], T), dtype=np.int64)
            for t in range(T):
                out[:, t] = np.argmax(self._task_proba(X, t), axis=1)
            return out
        out = np.zeros(X.shape[0], dtype=np.int64)
        for t in np.unique(task_codes):
            rows = np.flatnonzero(task_codes == t)
            out[rows] = np.argmax(self._task_proba(X[rows], t), axis=1)
        return out

    def _per_task(self, X, task_codes, fn, k_of, pad):
        """Wide: list per task (or one array); long: one row per row, padded."""
        T = self.n_tasks_
        if task_codes is None:
            res = [fn(X, t) for t in range(T)]
            return res[0] if self._single_output else res
        K = np.array([k_of(t) for t in range(T)])
        width = int(K.max(initial=1))
        out = np.full((X.shape[0], width), pad) if width > 1 else np.zeros(X.shape[0])
        for t in np.unique(task_codes):
            rows = np.flatnonzero(task_codes == t)
            v = fn(X[rows], t)
            if width > 1:
                out[np.ix_(rows, np.arange(v.shape[1] if v.ndim == 2 else 1))] = v if v.ndim == 2 else v[:, None]
            else:
                out[rows] = v
        return out

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.

        Returns
        -------
        proba : list of ndarray or ndarray
            Wide input: a list with one (n_samples, n_classes_t) array per task (one
            array for a single task). Long input: (n_samples, max_t n_classes_t),
            row ``i`` over its own task's classes, zero beyond them.
        """
        check_is_fitted(self, "coef_")
        Xv, codes = self._validate_predict(X)
        K = self._n_classes()
        return self._per_task(Xv, codes, self._task_proba, lambda t: K[t], 0.0)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        P = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return [np.log(p) for p in P] if isinstance(P, list) else np.log(P)

    def decision_function(self, X):
        """Linear scores.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.

        Returns
        -------
        scores : ndarray or list of ndarray
            Wide input: (n_samples, n_tasks) when every task is binary, else a list
            with one array per task ((n_samples,) for binary, (n_samples, K_t)
            otherwise); one array for a single task. Long input: (n_samples,) when
            every task is binary, else (n_samples, max K_t) padded with -inf.
        """
        check_is_fitted(self, "coef_")
        Xv, codes = self._validate_predict(X)
        K = self._n_classes()
        width = lambda t: 1 if K[t] <= 2 else K[t]  # noqa: E731
        out = self._per_task(Xv, codes, self._task_decision, width, -np.inf)
        if isinstance(out, list) and np.all(K == 2):
            return np.column_stack(out)
        return out


class _RowPenaltyClassifier:
    """The ``penalty``, ``gamma`` and ``solver`` options of the L2,1 classifiers."""

    def _solver(self):
        return self.solver

    def _newton_options(self, n_features):
        name = type(self).__name__
        opts = check_penalty(self.penalty, self.gamma, name)
        if opts["penalty"] != "group_lasso" and self.solver == "fista":
            raise ValueError(f"{name}: solver='fista' has no proximal operator for penalty={self.penalty!r} "
                             f"(not convex); use solver='prox_newton' or 'auto'.")
        return {"penalty": opts["penalty"], "gamma": opts["gamma"], "l1_ratio": self._single_l1_ratio(),
                "penalty_factor": check_penalty_factor(self.penalty_factor, n_features, name)}


class L21Classifier(_RowPenaltyClassifier, _ProxLinearClassifier):
    """Multi-task logistic / multinomial regression with joint feature selection (L2,1).

    Minimizes ``sum_i omega_i l_t(y_i, x_i W_t + b_t) + alpha sum_j f_j (l1_ratio
    ||W_j.||_2 + (1 - l1_ratio) / 2 ||W_j.||_2^2)`` (Obozinski, Taskar & Jordan
    2010; the group lasso for ``l1_ratio=1``, ``f = 1``), the rows of ``W``
    (features) shared by every task and class. Binary tasks use the logistic
    loss, tasks with three or more classes the multinomial loss. ``alpha`` at
    or above the largest row norm of the gradient at ``W = 0`` (divided by
    ``l1_ratio f_j``) gives ``W = 0``.

    Parameters
    ----------
    alpha : float or None, default=None
        Strength of the penalty. None: a tenth of ``alpha_max`` (the smallest
        strength that zeroes every penalized coefficient, from the gradient of
        the log-loss at the intercept-only model) on the training data, stored
        as ``alpha_``: a sparse, non-empty default at any scaling of the data.
    l1_ratio : float in [0, 1], default=1.0
        Mixing of the L2,1 norm (1) and the squared Frobenius norm (0).
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative factor of each feature's penalty, 0 for an unpenalized
        feature; rescaled to sum to ``n_features`` (glmnet's ``penalty.factor``).
    penalty : {"group_lasso", "group_mcp", "group_scad"}, default="group_lasso"
        The row penalty applied to ``||W_j.||_2`` with strength ``alpha l1_ratio f_j``
        (as :class:`L21Regressor`). Group MCP and SCAD are not convex: a
        stationary point, stopped on the KKT residual.
    gamma : float, default=None
        Concavity of MCP (default 3, above 1) and SCAD (default 3.7, above 2).
    solver : {"auto", "prox_newton", "fista"}, default="auto"
        ``"prox_newton"``: proximal Newton steps, each a weighted least-squares
        problem solved by the working-set block coordinate descent of
        :class:`L21Regressor` (glmnet's and skglm's method; ``max_iter`` then
        counts Newton steps). ``"fista"``: accelerated proximal gradient (group
        lasso and elastic net only). ``"auto"``: proximal Newton for group
        MCP/SCAD, and for the group lasso on binary tasks with at least as
        many features as rows per task at ``alpha >= alpha_max / 10`` (the
        default ``alpha`` included: small supports, where its working sets are
        faster); FISTA otherwise. The choice is stored in ``solver_``.
    fit_intercept : bool, default=True
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
    max_iter : int, default=1000
    tol : float, default=1e-6
        Tolerance on the KKT residual relative to the gradient at ``W = 0``.
    task_column : str or int, default=None

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
    coef_ : ndarray of shape (n_columns, n_features)
        Stacked per-task coefficients (``(n_tasks, n_features)`` when every
        task is binary); task ``t`` owns rows ``coef_ptr_[t]:coef_ptr_[t + 1]``.
    intercept_ : ndarray of shape (n_columns,)
    coef_ptr_ : ndarray of shape (n_tasks + 1,)
    n_iter_ : int
        FISTA iterations or Newton steps.
    solver_ : {"prox_newton", "fista"}
        The solver that ran.
    dual_gap_ : None
        No duality gap is computed for the classification losses (the stop is
        the KKT residual).
    objective_ : float

    Examples
    --------
    >>> from skmtl.linear import L21Classifier
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = L21Classifier(alpha=0.1).fit(X, Y)
    >>> clf.coef_.shape, clf.predict(X[:2]).shape
    ((3, 6), (2, 3))
    >>> np.flatnonzero(np.any(clf.coef_ != 0, axis=0)).tolist()  # features 0 and 1 carry the signal
    [0, 1]
    """

    _penalty_class = WeightedL21
    _accept_design = True  # genotypes, memmaps, zarr and dask arrays: screened (linear/_screened_classifier.py)

    _parameter_constraints = {
        "alpha": [None, NONNEGATIVE],
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both")],
        "penalty_factor": [None, "array-like"],
        "penalty": [ROW_PENALTY_OPTIONS],
        "gamma": [None, Interval(numbers.Real, 1, None, closed="neither")],
        "solver": [CLASSIFIER_SOLVER_OPTIONS],
        **COMMON_CONSTRAINTS,
    }

    def __init__(self, alpha=None, *, l1_ratio=1.0, penalty_factor=None, penalty="group_lasso", gamma=None,
                 solver="auto", fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.penalty = penalty
        self.gamma = gamma
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit on wide (labels per task column, NaN/None for missing) or long input.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training data, with the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Labels: one column per task (wide; NaN or None marks a missing label)
            or one label per row (long input).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        data = self._validate_fit(X, y, sample_weight)
        return self._fit_one(data)


class TraceNormClassifier(_ProxLinearClassifier):
    """Multi-task logistic / multinomial regression with a trace-norm penalty.

    Minimizes ``sum_i omega_i l_t(y_i, x_i W_t + b_t) + alpha ||W||_*`` over the
    stacked per-task coefficient columns (Ji & Ye 2009, Pong et al. 2010).
    Attributes as :class:`L21Classifier`, plus ``rank_``.

    Parameters
    ----------
    alpha : float or None, default=None
        Strength of the penalty. None: a tenth of ``alpha_max`` on the training
        data, stored as ``alpha_`` (as :class:`L21Classifier`).
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task (and class column).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit.
    max_iter : int, default=1000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance on the KKT residual relative to the gradient at ``W = 0``.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input); None for wide input.

    Examples
    --------
    >>> from skmtl.linear import TraceNormClassifier
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = TraceNormClassifier().fit(X, Y)
    >>> clf.coef_.shape, clf.predict(X[:2]).shape
    ((3, 6), (2, 3))
    """

    _penalty_class = TraceNorm

    _parameter_constraints = {"alpha": [None, NONNEGATIVE], **COMMON_CONSTRAINTS}

    def __init__(self, alpha=None, *, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit on wide or long input; also sets ``rank_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training data, with the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Labels: one column per task (wide; NaN or None marks a missing label)
            or one label per row (long input).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        data = self._validate_fit(X, y, sample_weight)
        self._fit_one(data)
        self.rank_ = numerical_rank(self.coef_)
        return self


class _ClassifierCV(PathCVMixin, _ProxLinearClassifier):
    """Cross-validated classifiers on the shared CV engine (:class:`~skmtl.linear._cv.PathCVMixin`).

    The path is FISTA's, warm-started along the grid; a fold's score is minus
    its held-out log-loss per unit of weight (``_path_score_func``).
    """

    _path_func = staticmethod(_classifier_path)
    _alpha_max_func = staticmethod(_classifier_alpha_max)
    _path_score_func = staticmethod(_classifier_path_scores)

    _parameter_constraints = {**CV_CONSTRAINTS, **COMMON_CONSTRAINTS}

    def __init__(self, alphas=None, *, n_alphas=20, eps=1e-2, cv=5, n_jobs=None, fit_intercept=True,
                 task_weight=None, max_iter=1000, tol=1e-6, task_column=None, verbose=0):
        self.verbose = verbose
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def _path_params(self):
        check_solver_params(self)
        return self._alpha_max_params()

    def _store_refit(self, out, data):
        coefs, intercepts, n_iters, solvers = out
        W = coefs[-1]
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = intercepts[-1].copy() if self.fit_intercept else np.zeros(W.shape[1])
        self.coef_ptr_ = self._make_datafit(data).design.col_ptr.copy()
        self.n_iter_ = int(n_iters[-1])
        self.solver_ = solvers[-1]

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate ``alpha`` (held-out log-loss) and refit on all the data.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            With the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Labels per task (wide; NaN or None marks a missing label) or long labels.
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group label of each row, passed to the ``split`` of a splitter
            ``cv`` (``GroupKFold``); ignored for an int ``cv``.

        Returns
        -------
        self
        """
        return super().fit(X, y, sample_weight, groups)


class L21ClassifierCV(_RowPenaltyClassifier, _ClassifierCV):
    """:class:`L21Classifier` with ``alpha`` chosen by cross-validation.

    Warm-started grid of ``n_alphas`` strengths (or the given ``alphas``) from ``alpha_max`` to
    ``eps * alpha_max`` (``eps=1e-2``: weaker penalties approach the
    unregularized, often separable, problem and need many iterations); folds of rows in parallel (``n_jobs``); ``alpha_``
    minimizes the held-out log-loss (per unit of weight); refit on all data.
    Folds from :func:`~skmtl.linear._cv.path_cv_splits` (every task in every
    fold for long input). Attributes: ``alpha_``, ``alphas_``,
    ``score_path_`` (n_alphas, n_folds; minus the held-out log-loss) and
    those of :class:`L21Classifier`. ``verbose > 0`` shows a progress bar
    over the folds. ``l1_ratio`` (one value) and ``penalty_factor`` as in
    :class:`L21Classifier`; with unpenalized features the grid starts at the
    model fitted on them alone. ``penalty`` and ``gamma`` as in
    :class:`L21Classifier` (group MCP/SCAD: proximal Newton along the path).

    Parameters
    ----------
    alphas : array-like, default=None
        Grid; default ``n_alphas`` values from ``alpha_max`` to ``eps * alpha_max``.
    l1_ratio : float in [0, 1], default=1.0
        Mixing of the L2,1 norm (1) and the squared Frobenius norm (0); one value.
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative factor of each feature's penalty (see :class:`L21Classifier`).
    penalty : {"group_lasso", "group_mcp", "group_scad"}, default="group_lasso"
        The row penalty (see :class:`L21Classifier`).
    gamma : float, default=None
        Concavity of MCP (default 3) and SCAD (default 3.7).
    solver : {"auto", "prox_newton", "fista"}, default="auto"
        As :class:`L21Classifier`; "auto" decides at each strength of the path
        (proximal Newton for the strong ones, then FISTA, warm-started).
    n_alphas : int, default=20
        Number of strengths of the default grid.
    eps : float, default=1e-2
        Ratio of the smallest to the largest strength of the default grid.
    cv : int, splitter or iterable of (train, test) rows, default=5
        Wide input: ``KFold`` over rows; long input: every task's rows split
        into ``cv`` blocks. A splitter's ``split`` gets the ``groups`` given to ``fit``.
    n_jobs : int, default=None
        Folds fitted in parallel.
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task (and class column).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit.
    max_iter : int, default=1000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance on the KKT residual relative to the gradient at ``W = 0``.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input); None for wide input.
    verbose : int, default=0
        Progress bar over the folds when positive.

    Examples
    --------
    >>> from skmtl.linear import L21ClassifierCV
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = L21ClassifierCV(n_alphas=5, cv=3).fit(X, Y)
    >>> clf.alphas_.shape, clf.predict(X[:2]).shape
    ((5,), (2, 3))
    """

    _penalty_class = WeightedL21

    _parameter_constraints = {
        **_ClassifierCV._parameter_constraints,
        **{k: v for k, v in L21Classifier._parameter_constraints.items() if k != "alpha"},
    }

    def __init__(self, alphas=None, *, l1_ratio=1.0, penalty_factor=None, penalty="group_lasso", gamma=None,
                 solver="auto", n_alphas=20, eps=1e-2, cv=5, n_jobs=None, fit_intercept=True, task_weight=None,
                 max_iter=1000, tol=1e-6, task_column=None, verbose=0):
        super().__init__(alphas, n_alphas=n_alphas, eps=eps, cv=cv, n_jobs=n_jobs,
                         fit_intercept=fit_intercept, task_weight=task_weight, max_iter=max_iter,
                         tol=tol, task_column=task_column, verbose=verbose)
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.penalty = penalty
        self.gamma = gamma
        self.solver = solver


class TraceNormClassifierCV(_ClassifierCV):
    """:class:`TraceNormClassifier` with ``alpha`` chosen by cross-validation.

    As :class:`L21ClassifierCV`, with the trace norm; also sets ``rank_``.

    Parameters
    ----------
    alphas : array-like, default=None
        Grid; default ``n_alphas`` values from ``alpha_max`` to ``eps * alpha_max``.
    n_alphas : int, default=20
        Number of strengths of the default grid.
    eps : float, default=1e-2
        Ratio of the smallest to the largest strength of the default grid.
    cv : int, splitter or iterable of (train, test) rows, default=5
        Wide input: ``KFold`` over rows; long input: every task's rows split
        into ``cv`` blocks. A splitter's ``split`` gets the ``groups`` given to ``fit``.
    n_jobs : int, default=None
        Folds fitted in parallel.
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task (and class column).
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit.
    max_iter : int, default=1000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance on the KKT residual relative to the gradient at ``W = 0``.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input); None for wide input.
    verbose : int, default=0
        Progress bar over the folds when positive.

    Examples
    --------
    >>> from skmtl.linear import TraceNormClassifierCV
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = TraceNormClassifierCV(n_alphas=5, cv=3).fit(X, Y)
    >>> clf.alphas_.shape, clf.predict(X[:2]).shape
    ((5,), (2, 3))
    """

    _penalty_class = TraceNorm

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate ``alpha`` (held-out log-loss), refit on all the data and set ``rank_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Training data, with the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Labels: one column per task (wide; NaN or None marks a missing label)
            or one label per row (long input).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.
        groups : array-like of shape (n_samples,), default=None
            Group label of each row, passed to the ``split`` of a splitter
            ``cv`` (``GroupKFold``); ignored for an int ``cv``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        super().fit(X, y, sample_weight, groups)
        self.rank_ = numerical_rank(self.coef_)
        return self
