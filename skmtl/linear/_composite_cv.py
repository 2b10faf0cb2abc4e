"""Cross-validated ``W = P + Q`` models: dirty, sparse plus low-rank, robust.

Each is its model with ``alpha`` (first part) and ``beta`` (second part)
chosen by K-fold cross-validation on the one CV engine
(:class:`~skmtl.linear._strength_cv.StrengthGridCVMixin`): for each ``beta``,
FISTA warm-started along a decreasing ``alpha`` grid; every grid starts at the
strength that zeroes its part (``alpha_max`` of that part's penalty at the
datafit gradient at ``W = 0``).
"""

from ._composite import DirtyRegressor, SparseLowRankRegressor
from ._robust import RobustMultiTaskRegressor
from ._strength_cv import StrengthGridCVMixin, strength_cv_constraints

__all__ = ["DirtyRegressorCV", "SparseLowRankRegressorCV", "RobustMultiTaskRegressorCV"]

_PARAMS = """    alphas : array-like, default=None
        Grid of ``alpha``; default ``n_alphas`` values from the first part's
        ``alpha_max`` down to ``1e-3`` times it.
    betas : array-like, default=None
        Grid of ``beta``; default ``n_betas`` values from the second part's
        ``alpha_max`` down to ``1e-3`` times it.
    n_alphas : int, default=10
        Size of the default ``alpha`` grid.
    n_betas : int, default=5
        Size of the default ``beta`` grid.
    cv : int, splitter or iterable of (train, test) rows, default=5
        Wide input: ``KFold`` over rows; long input: every task's rows split
        into ``cv`` blocks. A splitter's ``split`` gets the ``groups`` given to ``fit``.
    n_jobs : int, default=None
        (beta, fold) pairs fitted in parallel.
    scoring : None, str or callable, default=None
        Held-out score, greater is better: None, minus the weighted mean
        squared error; a scikit-learn or skmtl scorer name, or a scorer
        callable (see :class:`~skmtl.linear.TraceNormRegressorCV`).
    fit_intercept, task_weight, max_iter, tol, task_column
        As in the model.
    verbose : int, default=0
        Progress bar over the folds when positive.
"""

_ATTRIBUTES = """    alpha_, beta_ : float
        The selected strengths.
    alphas_ : ndarray of shape (n_alphas,)
    betas_ : ndarray of shape (n_betas,)
    score_path_ : ndarray of shape (n_betas, n_alphas, n_folds)
    cv_results_ : dict of ndarray
        One entry per (beta, alpha), as ``GridSearchCV.cv_results_``.
"""


class _SplitCV(StrengthGridCVMixin):
    _grid_kind = "split"

    def __init__(self, alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5, n_jobs=None, scoring=None,
                 fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None, verbose=0):
        self.alphas = alphas
        self.betas = betas
        self.n_alphas = n_alphas
        self.n_betas = n_betas
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column
        self.verbose = verbose


class DirtyRegressorCV(_SplitCV, DirtyRegressor):
    __doc__ = """:class:`DirtyRegressor` with ``alpha`` (shared part) and ``beta`` (specific part)
    chosen by cross-validation.

    Parameters
    ----------
""" + _PARAMS + """
    Attributes
    ----------
""" + _ATTRIBUTES + """    coef_, coef_shared_, coef_specific_, intercept_, n_iter_, dual_gap_, objective_
        Of the refit, as in :class:`DirtyRegressor`.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import DirtyRegressorCV
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = DirtyRegressorCV(n_alphas=4, n_betas=3, cv=3).fit(X, Y)
    >>> model.coef_shared_.shape, len(model.cv_results_["params"])
    ((4, 10), 12)
    """

    _model = DirtyRegressor
    _parameter_constraints = strength_cv_constraints(DirtyRegressor)


class SparseLowRankRegressorCV(_SplitCV, SparseLowRankRegressor):
    __doc__ = """:class:`SparseLowRankRegressor` with ``alpha`` (trace norm) and ``beta`` (L1) chosen by
    cross-validation.

    Parameters
    ----------
""" + _PARAMS + """
    Attributes
    ----------
""" + _ATTRIBUTES + """    coef_, coef_lowrank_, coef_sparse_, rank_, intercept_, n_iter_, dual_gap_, objective_
        Of the refit, as in :class:`SparseLowRankRegressor`.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import SparseLowRankRegressorCV
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = SparseLowRankRegressorCV(n_alphas=4, n_betas=3, cv=3).fit(X, Y)
    >>> model.coef_lowrank_.shape
    (4, 10)
    """

    _model = SparseLowRankRegressor
    _parameter_constraints = strength_cv_constraints(SparseLowRankRegressor)


class RobustMultiTaskRegressorCV(_SplitCV, RobustMultiTaskRegressor):
    __doc__ = """:class:`RobustMultiTaskRegressor` with ``alpha`` (trace norm of the shared part) and
    ``beta`` (group norm of the outlier tasks) chosen by cross-validation.

    Parameters
    ----------
""" + _PARAMS.replace(
        "    fit_intercept, task_weight, max_iter, tol, task_column\n        As in the model.\n",
        "    fit_intercept, task_weight, max_iter, tol, task_column\n"
        "        As in :class:`RobustMultiTaskRegressor` (``max_iter`` default 2000).\n") + """
    Attributes
    ----------
""" + _ATTRIBUTES + """    coef_, shared_coef_, outlier_coef_, outlier_tasks_, rank_, intercept_, n_iter_
        Of the refit, as in :class:`RobustMultiTaskRegressor`.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import RobustMultiTaskRegressorCV
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = RobustMultiTaskRegressorCV(n_alphas=4, n_betas=3, cv=3).fit(X, Y)
    >>> model.shared_coef_.shape
    (4, 10)
    """

    _model = RobustMultiTaskRegressor
    _parameter_constraints = strength_cv_constraints(RobustMultiTaskRegressor)

    def __init__(self, alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5, n_jobs=None, scoring=None,
                 fit_intercept=True, task_weight=None, max_iter=2000, tol=1e-6, task_column=None, verbose=0):
        super().__init__(alphas, betas, n_alphas=n_alphas, n_betas=n_betas, cv=cv, n_jobs=n_jobs,
                         scoring=scoring, fit_intercept=fit_intercept, task_weight=task_weight,
                         max_iter=max_iter, tol=tol, task_column=task_column, verbose=verbose)
