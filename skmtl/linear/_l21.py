r"""Multi-task group lasso: joint feature selection with the L2,1 penalty.

.. math::

    \min_{W, b} \; \frac12 \sum_i \omega_i \,(y_i - x_i w_{t(i)} - b_{t(i)})^2
    + \alpha \sum_{j=1}^{p} f_j \Big(\rho \|W_{j\cdot}\|_2
    + \frac{1 - \rho}{2} \|W_{j\cdot}\|_2^2\Big)

``W`` has one row per feature and one column per task; the penalty (the
L2,1 norm, Obozinski, Taskar & Jordan 2010; Argyriou, Evgeniou & Pontil
2008) sets whole rows to zero, so the tasks select the same features. The
weights ``omega`` are ``data.observation_weights(task_weight)``: on complete
wide input without weights this is ``1/(2n) ||Y - XW||_F^2 + alpha ||W||_{2,1}``,
scikit-learn's :class:`~sklearn.linear_model.MultiTaskLasso` (same ``alpha``,
same model); targets may be missing (NaN) and tasks may have their own rows
(long input). ``rho = l1_ratio < 1`` adds a ridge part: with ``f = 1`` this is
scikit-learn's :class:`~sklearn.linear_model.MultiTaskElasticNet` (same
``alpha`` and ``l1_ratio``, same model). The penalty factors ``f_j >= 0``
(glmnet's ``penalty.factor``, rescaled to sum to ``p``) weight each feature;
``f_j = 0`` leaves it unpenalized.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator

from .._new_task import _SupportTransferMixin
from .._param_validation import Interval, StrOptions, validate_params
from ..base import LinearModelMixin, MultiTaskRegressorMixin
from ._base import (
    CV_CONSTRAINTS,
    SCORING_CONSTRAINT,
    check_l1_ratios,
    check_penalty,
    check_penalty_factor,
    fit_block_solver,
    resolve_alpha,
    with_covariates,
)
from ._cv import PathCVMixin
from ._path import _l21_path_data, _l21_path_predictions
from ._screened import make_l21_solver

__all__ = ["L21Regressor", "L21RegressorCV"]


def _l21_cv_path(data, alphas, *, fit_intercept=True, task_weight=None, tol=1e-4, max_iter=1000,
                 warn=False, l1_ratio=1.0, penalty_factor=None, penalty="group_lasso", gamma=None,
                 l1_share=0.5):
    coefs, intercepts, _, n_iters = _l21_path_data(
        data, alphas, fit_intercept=fit_intercept, task_weight=task_weight, tol=tol,
        max_iter=max_iter, warn=warn, l1_ratio=l1_ratio, penalty_factor=penalty_factor,
        penalty=penalty, gamma=gamma, l1_share=l1_share)
    return coefs, intercepts, n_iters


def _l21_cv_alpha_max(data, *, fit_intercept=True, task_weight=None, l1_ratio=1.0,
                      penalty_factor=None, penalty="group_lasso", l1_share=0.5, **_):
    # MCP and SCAD have the group lasso's: each has slope alpha l1_ratio f_j at zero
    if l1_ratio == 0:
        raise ValueError(
            "L21RegressorCV: l1_ratio=0 (a pure ridge) has no alpha_max, so no automatic alpha "
            "grid; give alphas explicitly or use l1_ratio > 0.")
    if penalty != "sparse_group":
        penalty = "group_lasso"
    return make_l21_solver(data, fit_intercept=fit_intercept, task_weight=task_weight, l1_ratio=l1_ratio,
                           penalty_factor=penalty_factor, penalty=penalty, l1_share=l1_share).alpha_max()


class L21Regressor(_SupportTransferMixin, LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    r"""Multi-task group lasso (L2,1-penalized least squares), solved by block coordinate descent.

    Minimizes ``1/2 sum_i omega_i (y_i - x_i w_t(i) - b_t(i))^2 + alpha sum_j f_j
    (l1_ratio ||W_j||_2 + (1 - l1_ratio) / 2 ||W_j||_2^2)``
    where ``W_j`` holds feature ``j``'s coefficients across tasks (see the
    module docstring). Features are selected jointly: ``coef_[:, j]`` is zero
    for every task or for none.

    Parameters
    ----------
    alpha : float or None, default=None
        Strength of the penalty. For ``alpha >= l21_alpha_max(X, Y)`` (with the
        same ``l1_ratio`` and ``penalty_factor``) all penalized coefficients are
        zero (a :class:`ZeroModelWarning` says so when every coefficient is).
        None: a tenth of that ``alpha_max`` on the training data (stored as
        ``alpha_``), a sparse, non-empty model at any scaling of the data;
        give a number for scikit-learn's ``MultiTaskLasso``/``MultiTaskElasticNet``.
    l1_ratio : float in [0, 1], default=1.0
        Mixing of the L2,1 norm (1: group lasso) and the squared Frobenius norm
        (0: ridge). On complete wide input ``L21Regressor(alpha, l1_ratio=r)`` is
        scikit-learn's ``MultiTaskElasticNet(alpha, l1_ratio=r)``.
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative factor of each feature's penalty (glmnet's ``penalty.factor``):
        0 leaves a feature unpenalized (a covariate kept in every model, such as
        age or principal components), larger values shrink it more. The factors
        are rescaled to sum to ``n_features`` (all ones is the default penalty).
    penalty : {"group_lasso", "group_mcp", "group_scad"}, default="group_lasso"
        The penalty on each row norm ``x = ||W_j||`` (strength ``a = alpha
        l1_ratio f_j``): the group lasso ``a x``; group MCP ``a x - x^2 / (2 gamma)``
        up to ``x = gamma a``, constant beyond; group SCAD (Fan & Li 2001),
        linear up to ``a``, quadratic up to ``gamma a``, constant beyond. MCP and
        SCAD (Zhang 2010; Huang, Breheny & Ma 2012, grpreg) shrink large
        coefficients less than the group lasso but are not convex: the fit is a
        stationary point reached from the start (zero, or the previous
        solution along a path), ``tol`` applies to the KKT violation relative
        to the largest row gradient at ``W = 0``, and ``dual_gap_`` holds that
        violation.
    gamma : float, default=None
        Concavity parameter: 3 for MCP (must exceed 1), 3.7 for SCAD (must
        exceed 2); ignored by the group lasso.
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.
    task_weight : None, "balanced" or array of shape (n_tasks,), default=None
        Weight of each task in the datafit (see
        :meth:`skmtl._data.MultiTaskData.observation_weights`).
    max_iter : int, default=1000
        Maximum number of block coordinate descent epochs (passes over the
        working set), in total.
    tol : float, default=1e-4
        The solver stops when the duality gap is at most
        ``tol * sum_i omega_i (y_i - ybar_t(i))^2`` (twice the objective at
        ``W = 0``); on complete wide input this is ``tol ||Y_c||_F^2 / n``, the
        stopping rule of scikit-learn's ``MultiTaskLasso`` with the same ``tol``.
    warm_start : bool, default=False
        Start from the previous ``coef_`` when refitting.
    task_column : str or int, default=None
        Column of ``X`` holding each row's task (long input).
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    alpha_ : float
        The strength fitted (``alpha``, or a tenth of ``alpha_max`` for ``alpha=None``).
    dual_gap_ : float
        Final duality gap (absolute).
    n_iter_ : int
        Number of epochs run (passes over the working set; the passes over
        the support alone that precede them on large working sets are not
        counted).
    n_features_in_, feature_names_in_, tasks_, n_tasks_

    Notes
    -----
    Dense or sparse (CSC/CSR) ``X``, float64 or float32 (kept as float32, sums
    accumulated in float64). Intercepts come from implicit weighted centering:
    a sparse ``X`` is never densified.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import L21Regressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, n_informative=3, noise=0.1, random_state=0)
    >>> model = L21Regressor(alpha=0.1).fit(X, Y)
    >>> model.coef_.shape
    (4, 10)
    >>> np.array_equal(np.any(model.coef_ != 0, axis=0), np.any(coef != 0, axis=0))  # the true support
    True
    """

    _accept_sparse = True
    _accept_design = True  # genotypes, memmaps, zarr and dask arrays are streamed (skmtl._design)
    _fit_dtypes = (np.float64, np.float32)

    _parameter_constraints = {
        "alpha": [None, Interval(numbers.Real, 0, None, closed="left")],
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both")],
        "penalty_factor": [None, "array-like"],
        "penalty": [StrOptions({"group_lasso", "group_mcp", "group_scad"})],
        "gamma": [None, Interval(numbers.Real, 1, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "task_weight": [None, StrOptions({"balanced"}), "array-like"],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "task_column": [None, str, numbers.Integral],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha=None, *, l1_ratio=1.0, penalty_factor=None, penalty="group_lasso",
                 gamma=None, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-4,
                 warm_start=False, task_column=None, verbose=0):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.penalty = penalty
        self.gamma = gamma
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.task_column = task_column
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None, covariates=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like, sparse matrix or design of shape (n_samples, n_features)
            With the task column for long input. Also a design read by
            streaming passes (:func:`~skmtl.datasets.read_plink` genotypes,
            numpy memmaps, zarr or dask arrays; wide targets only), fitted
            by :class:`~skmtl.linear._screened.ScreenedL21Solver` with the
            same solution.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Wide targets (NaN marks a missing target) or long targets.
        sample_weight : array-like of shape (n_samples,), default=None
        covariates : array-like of shape (n_samples, n_covariates), default=None
            Unpenalized features (age, sex, principal components), fitted
            jointly; their coefficients go to ``covariate_coef_`` and
            :meth:`predict` then needs them too.

        Returns
        -------
        self
        """
        validate_params(self)
        name = type(self).__name__
        prev = None
        if self.warm_start and hasattr(self, "coef_"):
            prev = self.coef_ if getattr(self, "covariate_coef_", None) is None else np.hstack(
                [self.covariate_coef_, self.coef_])
        Xs, f_cov, q = with_covariates(X, covariates, self.penalty_factor, name)
        data = self._validate_fit(Xs, y, sample_weight)
        f = f_cov if q else check_penalty_factor(self.penalty_factor, data.n_features, name)
        solver = make_l21_solver(data, fit_intercept=self.fit_intercept, task_weight=self.task_weight,
                                 l1_ratio=self.l1_ratio, penalty_factor=f,
                                 **check_penalty(self.penalty, self.gamma, name))
        alpha = resolve_alpha(self, self.alpha, solver.alpha_max)
        fit_block_solver(self, solver, alpha, prev)
        self.covariate_coef_ = None
        if q:
            self.covariate_coef_ = self.coef_[:, :q].copy()
            self.coef_ = np.ascontiguousarray(self.coef_[:, q:])
            self.n_features_in_ = data.n_features - q
        return self

    def _covariate_part(self, covariates, n_rows):
        """``C @ covariate_coef_.T`` of shape (n_rows, n_tasks), or 0 without covariates."""
        B = getattr(self, "covariate_coef_", None)
        if B is None:
            if covariates is not None:
                raise ValueError(f"{type(self).__name__} was fitted without covariates; do not pass them.")
            return 0.0
        if covariates is None:
            raise ValueError(f"{type(self).__name__} was fitted with {B.shape[1]} covariates; pass them "
                             f"as covariates= to predict and score.")
        C = np.asarray(covariates, dtype=np.float64)
        C = C[:, None] if C.ndim == 1 else C
        if C.shape != (n_rows, B.shape[1]):
            raise ValueError(f"covariates must have shape ({n_rows}, {B.shape[1]}); got {C.shape}.")
        return C @ B.T

    def predict(self, X, covariates=None):
        """Predict every task (wide input) or each row's own task (long input).

        Parameters
        ----------
        X : array-like, sparse matrix or design of shape (n_samples, n_features)
        covariates : array-like of shape (n_samples, n_covariates), default=None
            Needed when the model was fitted with covariates.

        Returns
        -------
        ndarray of shape (n_samples, n_tasks) or (n_samples,)
        """
        Xv, codes = self._validate_predict(X)
        F = self._predict_tasks(Xv, codes)
        extra = self._covariate_part(covariates, Xv.shape[0])
        if not np.isscalar(extra):
            F = F + (extra if codes is None else extra[np.arange(len(codes)), codes])
        return self._format_output(F)

    def score(self, X, y, sample_weight=None, covariates=None):
        """Mean over tasks of the per-task R^2 on observed targets (NaN skipped).

        Parameters
        ----------
        X : array-like, sparse matrix or design of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        covariates : array-like of shape (n_samples, n_covariates), default=None
            Needed when the model was fitted with covariates.

        Returns
        -------
        score : float
        """
        from ..metrics import per_task_r2

        pred = self.predict(X, covariates=covariates)
        codes = None
        if self._layout == "long":
            _, codes = self._validate_predict(X)
        y = self._task_targets(y, codes)
        return float(np.nanmean(per_task_r2(y, pred, codes, sample_weight)))


class L21RegressorCV(_SupportTransferMixin, PathCVMixin, LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
    """Multi-task group lasso (or elastic net) with ``alpha`` (and ``l1_ratio``) chosen by cross-validation.

    The path (:func:`skmtl.linear.l21_path`, warm starts from ``alpha_max``
    down) is computed on every fold for every ``l1_ratio``, (``l1_ratio``, fold)
    pairs in parallel; ``alpha_`` and ``l1_ratio_`` maximize the mean held-out
    score and the model is refit on all data, as scikit-learn's
    ``MultiTaskElasticNetCV``.

    Parameters
    ----------
    alphas : array-like, default=None
        Grid; default ``n_alphas`` values from ``alpha_max`` to ``eps * alpha_max``
        (one grid per ``l1_ratio``).
    l1_ratio : float or list of float in [0, 1], default=1.0
        Mixing of the L2,1 norm and the ridge (see :class:`L21Regressor`); a list
        is cross-validated too (put more values near 1, as for scikit-learn).
        ``l1_ratio=0`` needs explicit ``alphas``.
    penalty_factor : array-like of shape (n_features,), default=None
        See :class:`L21Regressor`.
    penalty : {"group_lasso", "group_mcp", "group_scad"}, default="group_lasso"
        See :class:`L21Regressor`. With MCP or SCAD the refit walks the path
        down to ``alpha_`` (the stationary point depends on the start).
    gamma : float, default=None
        See :class:`L21Regressor`.
    n_alphas : int, default=100
    eps : float, default=1e-3
    cv : int, splitter or iterable of (train, test) rows, default=5
        Wide input: ``KFold`` over rows; long input: every task's rows split
        into ``cv`` blocks (each task in every fold). A splitter's ``split``
        gets the ``groups`` given to ``fit`` (``GroupKFold``).
    n_jobs : int, default=None
        Folds fitted in parallel (threads; the solver releases the GIL).
    scoring : None, str or callable, default=None
        How a held-out fold scores each point of the path, greater is better
        (skmtl's one convention, that of scikit-learn): ``None``, the weighted
        mean squared error on held-out observations (the datafit weights),
        negated; scikit-learn's ``"r2"`` (mean over tasks of the per-task
        R^2), ``"neg_mean_squared_error"`` (as None) or
        ``"neg_mean_absolute_error"``; a skmtl scorer name
        (``skmtl.model_selection.get_scorer_names()``: ``"task_r2"``,
        ``"explained_variance"``, ``"neg_nmse"``, ``"neg_arrmse"``) or scorer
        (``get_scorer``, ``make_task_scorer``); or any scorer callable
        ``scorer(estimator, X, y)``, called with the held-out rows and a
        stand-in estimator that predicts the path's predictions. Another string
        raises a ``ValueError``.
    fit_intercept, task_weight, max_iter, tol, task_column : see :class:`L21Regressor`.
    verbose : int, default=0
        Progress bar over the folds when positive.

    Attributes
    ----------
    alpha_ : float
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The second shape when ``l1_ratio`` has several values.
    score_path_, mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Held-out scores (higher is better) and, with ``scoring=None``, mean squared errors.
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> from skmtl.linear import L21RegressorCV
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = L21RegressorCV(n_alphas=10, cv=3).fit(X, Y)
    >>> model.alphas_.shape, model.coef_.shape
    ((10,), (4, 10))
    """

    _accept_sparse = True
    _accept_design = True  # genotypes, memmaps, zarr and dask arrays are streamed (skmtl._design)
    _fit_dtypes = (np.float64, np.float32)
    _path_func = staticmethod(_l21_cv_path)
    _path_predict_func = staticmethod(_l21_path_predictions)
    _alpha_max_func = staticmethod(_l21_cv_alpha_max)

    _parameter_constraints = {
        **{k: v for k, v in L21Regressor._parameter_constraints.items() if k not in ("alpha", "warm_start")},
        **CV_CONSTRAINTS,
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both"), "array-like"],  # a list is cross-validated
        "scoring": SCORING_CONSTRAINT,
    }

    def __init__(self, alphas=None, *, l1_ratio=1.0, penalty_factor=None, penalty="group_lasso",
                 gamma=None, n_alphas=100, eps=1e-3, cv=5, n_jobs=None, scoring=None,
                 fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-4, task_column=None,
                 verbose=0):
        self.verbose = verbose
        self.alphas = alphas
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.penalty = penalty
        self.gamma = gamma
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def _path_params(self):
        name = type(self).__name__
        return {"fit_intercept": self.fit_intercept, "task_weight": self.task_weight,
                "tol": self.tol, "max_iter": self.max_iter,
                "penalty_factor": check_penalty_factor(self.penalty_factor, self.n_features_in_, name),
                **check_penalty(self.penalty, self.gamma, name)}

    @property
    def _refit_along_path(self):
        # the working-set solver starts cold faster than it walks the path; a
        # non-convex penalty's stationary point depends on the start: walk it
        return self.penalty != "group_lasso"

    def _grid_points(self, data):
        ratios = check_l1_ratios(self.l1_ratio, type(self).__name__)
        return [{"l1_ratio": float(r)} for r in ratios]
