"""Cross-validated mean-regularized, graph, task-relationship and clustered models.

Each is its model with ``alpha`` and ``beta`` (and the clustered model's
``n_clusters``) chosen by K-fold cross-validation on the one CV engine
(:class:`~skmtl.linear._strength_cv.StrengthGridCVMixin` over
:class:`~skmtl.linear._cv.PathCVMixin`): warm-started paths over ``alpha``,
one per ``beta``, folds in parallel, refit at the best pair.
"""

import numbers

from ._base import POSITIVE_INT
from ._clustered import ClusteredRegressor
from ._relationship import (
    GraphRegularizedClassifier,
    GraphRegularizedRegressor,
    MeanRegularizedClassifier,
    MeanRegularizedRegressor,
    TaskRelationshipClassifier,
    TaskRelationshipRegressor,
)
from ._strength_cv import StrengthGridCVMixin, _model_path_scores, strength_cv_constraints

__all__ = [
    "MeanRegularizedRegressorCV",
    "MeanRegularizedClassifierCV",
    "GraphRegularizedRegressorCV",
    "GraphRegularizedClassifierCV",
    "TaskRelationshipRegressorCV",
    "TaskRelationshipClassifierCV",
    "ClusteredRegressorCV",
]

_GRID_PARAMS = """    alphas : array-like, default=None
        Grid of ``alpha``; default ``n_alphas`` values ``s * logspace(1, -4)``,
        ``s`` the mean eigenvalue of the per-task weighted Gram matrices (1 for
        standardized features on complete wide input; see
        :func:`~skmtl.linear._base.curvature_scale`).
    betas : array-like, default=None
        Grid of ``beta``; default ``n_betas`` values ``s * logspace(0, -4)``.
    n_alphas : int, default=10
        Size of the default ``alpha`` grid.
    n_betas : int, default=5
        Size of the default ``beta`` grid.
    cv : int, splitter or iterable of (train, test) rows, default=5
        Wide input: ``KFold`` over rows; long input: every task's rows split
        into ``cv`` blocks. A splitter's ``split`` gets the ``groups`` given to ``fit``.
    n_jobs : int, default=None
        (beta, fold) pairs fitted in parallel.
"""

_SCORING = """    scoring : None, str or callable, default=None
        Held-out score, greater is better: None, minus the weighted mean
        squared error; a scikit-learn or skmtl scorer name, or a scorer
        callable (see :class:`~skmtl.linear.TraceNormRegressorCV`).
"""

_VERBOSE = """    verbose : int, default=0
        Progress bar over the folds when positive.
"""

_CV_ATTRIBUTES = """    alpha_, beta_ : float
        The selected strengths (best mean held-out score; ties go to the
        strongest penalty).
    alphas_ : ndarray of shape (n_alphas,)
    betas_ : ndarray of shape (n_betas,)
        The grids, decreasing.
    score_path_ : ndarray of shape (n_betas, n_alphas, n_folds)
        Held-out score of each pair on each fold.
    cv_results_ : dict of ndarray
        One entry per (beta, alpha), as ``GridSearchCV.cv_results_``.
"""


class MeanRegularizedRegressorCV(StrengthGridCVMixin, MeanRegularizedRegressor):
    __doc__ = """:class:`MeanRegularizedRegressor` with ``alpha`` and ``beta`` chosen by cross-validation.

    For each ``beta`` the model is solved along the ``alpha`` grid (the
    direct solver's per-task Gram matrices computed once per fold); the pair
    with the best mean held-out score is refitted on all the data.

    Parameters
    ----------
""" + _GRID_PARAMS + _SCORING + """    fit_intercept, task_weight, max_iter, tol, solver, task_column
        As in :class:`MeanRegularizedRegressor`.
""" + _VERBOSE + """
    Attributes
    ----------
""" + _CV_ATTRIBUTES + """    coef_, intercept_, task_coupling_, n_iter_, objective_
        Of the refit, as in :class:`MeanRegularizedRegressor`.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import MeanRegularizedRegressorCV
    >>> X, Y, coef = make_multitask_regression(60, 5, 4, structure="mean", random_state=0)
    >>> model = MeanRegularizedRegressorCV(n_alphas=4, n_betas=3, cv=3).fit(X, Y)
    >>> model.cv_results_["mean_test_score"].shape, model.coef_.shape
    ((12,), (4, 5))
    """

    _model = MeanRegularizedRegressor
    _parameter_constraints = strength_cv_constraints(MeanRegularizedRegressor)

    def __init__(self, alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5, n_jobs=None, scoring=None,
                 fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, solver="auto",
                 task_column=None, verbose=0):
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
        self.solver = solver
        self.task_column = task_column
        self.verbose = verbose


class MeanRegularizedClassifierCV(StrengthGridCVMixin, MeanRegularizedClassifier):
    __doc__ = """:class:`MeanRegularizedClassifier` with ``alpha`` and ``beta`` chosen by cross-validation.

    Scored by the held-out log-loss (per unit of observation weight); FISTA
    warm-started along each ``alpha`` path.

    Parameters
    ----------
""" + _GRID_PARAMS + """    fit_intercept, task_weight, max_iter, tol, task_column
        As in :class:`MeanRegularizedClassifier`.
""" + _VERBOSE + """
    Attributes
    ----------
""" + _CV_ATTRIBUTES + """    coef_, intercept_, classes_, coef_ptr_, task_coupling_, n_iter_
        Of the refit, as in :class:`MeanRegularizedClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import MeanRegularizedClassifierCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = MeanRegularizedClassifierCV(n_alphas=3, n_betas=2, cv=3).fit(X, Y)
    >>> clf.predict(X[:2]).shape
    (2, 3)
    """

    _model = MeanRegularizedClassifier
    _parameter_constraints = strength_cv_constraints(MeanRegularizedClassifier, scoring=False)
    _path_score_func = staticmethod(_model_path_scores)

    def __init__(self, alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5, n_jobs=None,
                 fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None, verbose=0):
        self.alphas = alphas
        self.betas = betas
        self.n_alphas = n_alphas
        self.n_betas = n_betas
        self.cv = cv
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column
        self.verbose = verbose


class GraphRegularizedRegressorCV(StrengthGridCVMixin, GraphRegularizedRegressor):
    __doc__ = """:class:`GraphRegularizedRegressor` with ``alpha`` (graph) and ``beta`` (ridge) chosen by
    cross-validation; ``l1`` stays as given.

    Parameters
    ----------
    graph : array-like or sparse matrix of shape (n_tasks, n_tasks), default=None
        Adjacency or Laplacian of the task graph (see :class:`GraphRegularizedRegressor`).
""" + _GRID_PARAMS + _SCORING + """    l1, fit_intercept, task_weight, max_iter, tol, solver, task_column
        As in :class:`GraphRegularizedRegressor`.
""" + _VERBOSE + """
    Attributes
    ----------
""" + _CV_ATTRIBUTES + """    coef_, intercept_, laplacian_, task_coupling_, n_iter_, objective_
        Of the refit, as in :class:`GraphRegularizedRegressor`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import GraphRegularizedRegressorCV
    >>> X, Y, coef = make_multitask_regression(60, 5, 4, noise=0.1, random_state=0)
    >>> chain = np.diag(np.ones(3), 1) + np.diag(np.ones(3), -1)
    >>> model = GraphRegularizedRegressorCV(chain, n_alphas=4, n_betas=2, cv=3).fit(X, Y)
    >>> model.score_path_.shape
    (2, 4, 3)
    """

    _model = GraphRegularizedRegressor
    _parameter_constraints = strength_cv_constraints(GraphRegularizedRegressor)

    def __init__(self, graph=None, alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5, n_jobs=None,
                 scoring=None, l1=0.0, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6,
                 solver="auto", task_column=None, verbose=0):
        self.graph = graph
        self.alphas = alphas
        self.betas = betas
        self.n_alphas = n_alphas
        self.n_betas = n_betas
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.l1 = l1
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.task_column = task_column
        self.verbose = verbose


class GraphRegularizedClassifierCV(StrengthGridCVMixin, GraphRegularizedClassifier):
    __doc__ = """:class:`GraphRegularizedClassifier` with ``alpha`` and ``beta`` chosen by cross-validation.

    Scored by the held-out log-loss; ``l1`` stays as given.

    Parameters
    ----------
    graph : array-like or sparse matrix of shape (n_tasks, n_tasks), default=None
        Adjacency or Laplacian of the task graph (see :class:`GraphRegularizedRegressor`).
""" + _GRID_PARAMS + """    l1, fit_intercept, task_weight, max_iter, tol, task_column
        As in :class:`GraphRegularizedClassifier`.
""" + _VERBOSE + """
    Attributes
    ----------
""" + _CV_ATTRIBUTES + """    coef_, intercept_, classes_, coef_ptr_, laplacian_, n_iter_
        Of the refit, as in :class:`GraphRegularizedClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import GraphRegularizedClassifierCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = GraphRegularizedClassifierCV(n_alphas=3, n_betas=2, cv=3).fit(X, Y)
    >>> clf.predict(X[:2]).shape
    (2, 3)
    """

    _model = GraphRegularizedClassifier
    _parameter_constraints = strength_cv_constraints(GraphRegularizedClassifier, scoring=False)
    _path_score_func = staticmethod(_model_path_scores)

    def __init__(self, graph=None, alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5, n_jobs=None,
                 l1=0.0, fit_intercept=True, task_weight=None, max_iter=1000, tol=1e-6, task_column=None,
                 verbose=0):
        self.graph = graph
        self.alphas = alphas
        self.betas = betas
        self.n_alphas = n_alphas
        self.n_betas = n_betas
        self.cv = cv
        self.n_jobs = n_jobs
        self.l1 = l1
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column
        self.verbose = verbose


class TaskRelationshipRegressorCV(StrengthGridCVMixin, TaskRelationshipRegressor):
    __doc__ = """:class:`TaskRelationshipRegressor` with ``alpha`` and ``beta`` chosen by cross-validation.

    Along each ``alpha`` path the weights, the learned task covariance and the
    per-task Gram matrices carry over from one strength to the next, so the
    alternations start near their end point.

    Parameters
    ----------
""" + _GRID_PARAMS + _SCORING + """    eps, fit_intercept, task_weight, max_iter, max_inner_iter, tol, solver, task_column
        As in :class:`TaskRelationshipRegressor`.
""" + _VERBOSE + """
    Attributes
    ----------
""" + _CV_ATTRIBUTES + """    coef_, intercept_, task_covariance_, task_correlation_, n_iter_, objective_
        Of the refit, as in :class:`TaskRelationshipRegressor`.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import TaskRelationshipRegressorCV
    >>> X, Y, coef = make_multitask_regression(60, 5, 4, noise=0.1, random_state=0)
    >>> model = TaskRelationshipRegressorCV(n_alphas=4, n_betas=2, cv=3).fit(X, Y)
    >>> model.task_covariance_.shape
    (4, 4)
    """

    _model = TaskRelationshipRegressor
    _parameter_constraints = strength_cv_constraints(TaskRelationshipRegressor)

    def __init__(self, alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5, n_jobs=None, scoring=None,
                 eps=1e-6, fit_intercept=True, task_weight=None, max_iter=100, max_inner_iter=1000, tol=1e-6,
                 solver="auto", task_column=None, verbose=0):
        self.alphas = alphas
        self.betas = betas
        self.n_alphas = n_alphas
        self.n_betas = n_betas
        self.cv = cv
        self.n_jobs = n_jobs
        self.scoring = scoring
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.max_inner_iter = max_inner_iter
        self.tol = tol
        self.solver = solver
        self.task_column = task_column
        self.verbose = verbose


class TaskRelationshipClassifierCV(StrengthGridCVMixin, TaskRelationshipClassifier):
    __doc__ = """:class:`TaskRelationshipClassifier` with ``alpha`` and ``beta`` chosen by cross-validation.

    Scored by the held-out log-loss; warm starts as in
    :class:`TaskRelationshipRegressorCV`.

    Parameters
    ----------
""" + _GRID_PARAMS + """    eps, fit_intercept, task_weight, max_iter, max_inner_iter, tol, task_column
        As in :class:`TaskRelationshipClassifier`.
""" + _VERBOSE + """
    Attributes
    ----------
""" + _CV_ATTRIBUTES + """    coef_, intercept_, classes_, coef_ptr_, task_covariance_, n_iter_
        Of the refit, as in :class:`TaskRelationshipClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import TaskRelationshipClassifierCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> clf = TaskRelationshipClassifierCV(n_alphas=3, n_betas=2, cv=3).fit(X, Y)
    >>> clf.task_covariance_.shape
    (3, 3)
    """

    _model = TaskRelationshipClassifier
    _parameter_constraints = strength_cv_constraints(TaskRelationshipClassifier, scoring=False)
    _path_score_func = staticmethod(_model_path_scores)

    def __init__(self, alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5, n_jobs=None, eps=1e-6,
                 fit_intercept=True, task_weight=None, max_iter=100, max_inner_iter=1000, tol=1e-6,
                 task_column=None, verbose=0):
        self.alphas = alphas
        self.betas = betas
        self.n_alphas = n_alphas
        self.n_betas = n_betas
        self.cv = cv
        self.n_jobs = n_jobs
        self.eps = eps
        self.fit_intercept = fit_intercept
        self.task_weight = task_weight
        self.max_iter = max_iter
        self.max_inner_iter = max_inner_iter
        self.tol = tol
        self.task_column = task_column
        self.verbose = verbose


def _check_cluster_counts(n_clusters, n_tasks, owner):
    values = [n_clusters] if isinstance(n_clusters, numbers.Integral) else list(n_clusters)
    if not values or any(isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1 for k in values):
        raise ValueError(f"n_clusters of {owner} must be a positive integer or a non-empty list of them; "
                         f"got {n_clusters!r}.")
    return sorted({min(int(k), n_tasks) for k in values})


class ClusteredRegressorCV(StrengthGridCVMixin, ClusteredRegressor):
    __doc__ = """:class:`ClusteredRegressor` with ``n_clusters``, ``alpha`` and ``beta`` chosen by
    cross-validation.

    One grid point per (``n_clusters``, ``beta``); along each, the ``alpha``
    path is warm-started (weights, cluster structure, Gram matrices).

    Parameters
    ----------
    n_clusters : int or list of int, default=(1, 2, 4)
        Candidate numbers of task clusters (values above ``n_tasks`` are
        clipped to it; ``1`` pulls every task towards one mean).
""" + _GRID_PARAMS + _SCORING + """    fit_intercept, task_weight, max_iter, max_inner_iter, tol, random_state, solver, task_column
        As in :class:`ClusteredRegressor`.
""" + _VERBOSE + """
    Attributes
    ----------
    n_clusters_ : int
        The selected number of clusters.
""" + _CV_ATTRIBUTES.replace("(n_betas, n_alphas, n_folds)", "(n_cluster_counts * n_betas, n_alphas, n_folds)") + """\
    coef_, intercept_, task_clusters_, task_structure_, n_iter_, objective_
        Of the refit, as in :class:`ClusteredRegressor`.

    Examples
    --------
    >>> from skmtl.datasets import make_multitask_regression
    >>> from skmtl.linear import ClusteredRegressorCV
    >>> X, Y, coef = make_multitask_regression(80, 5, 6, structure="clustered", n_clusters=2,
    ...                                        task_std=0.05, noise=0.1, random_state=0)
    >>> model = ClusteredRegressorCV(n_clusters=[1, 2], n_alphas=3, n_betas=2, cv=3,
    ...                              random_state=0).fit(X, Y)
    >>> model.task_clusters_.shape
    (6,)
    """

    _model = ClusteredRegressor
    _strengths = ("alpha", "beta", "n_clusters")
    _parameter_constraints = {**strength_cv_constraints(ClusteredRegressor, tuned=_strengths),
                              "n_clusters": [POSITIVE_INT, "array-like"]}

    def __init__(self, n_clusters=(1, 2, 4), alphas=None, betas=None, *, n_alphas=10, n_betas=5, cv=5,
                 n_jobs=None, scoring=None, fit_intercept=True, task_weight=None, max_iter=100,
                 max_inner_iter=1000, tol=1e-6, random_state=None, solver="auto", task_column=None, verbose=0):
        self.n_clusters = n_clusters
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
        self.max_inner_iter = max_inner_iter
        self.tol = tol
        self.random_state = random_state
        self.solver = solver
        self.task_column = task_column
        self.verbose = verbose

    def _grid_points(self, data):
        counts = _check_cluster_counts(self.n_clusters, data.n_tasks, type(self).__name__)
        points = super()._grid_points(data)
        return [{"n_clusters": k, **point} for k in counts for point in points]
