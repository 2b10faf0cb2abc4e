"""Cross-validation over a regularization path, shared by the linear families.

:class:`PathCVMixin` chooses ``alpha`` by K-fold cross-validation for any
model that has a warm-started path function. A subclass provides three
things and the mixin does the rest (grid, folds, parallel fold fits, scores,
refit)::

    class MyModelCV(PathCVMixin, LinearModelMixin, MultiTaskRegressorMixin, BaseEstimator):
        _path_func = staticmethod(my_path)          # (data, alphas, **params) -> (coefs, intercepts[, n_iters])
        _alpha_max_func = staticmethod(my_alpha_max)  # (data, **params) -> float

        def _path_params(self):                     # keyword arguments of both callables
            return {"fit_intercept": self.fit_intercept, "tol": self.tol}

``coefs`` has shape (n_alphas, n_tasks, n_features) and ``intercepts``
(n_alphas, n_tasks); an optional third element, the iterations of each fit,
becomes ``n_iter_`` (that of the refit at ``alpha_``). A path callable with a
``warn`` parameter gets ``warn=True`` for the refit (a ``ConvergenceWarning``
when the final model did not converge) and its default on the folds. The path callable
receives ``alphas`` in decreasing order and a :class:`~skmtl._data.MultiTaskData`
cut to the training rows (a task may be left with no observation). The subclass's ``__init__`` stores
``alphas``, ``n_alphas``, ``eps``, ``cv``, ``n_jobs``, ``scoring`` (and
``task_column``, and ``verbose``: a progress bar over the folds), plus its
own parameters.

A subclass may also cross-validate other path parameters: ``_grid_points()``
returns a list of parameter dicts (``L21RegressorCV``: one per ``l1_ratio``),
each gets its own alpha grid, every (point, fold) pair is one parallel job,
and the chosen values are stored as ``<name>_`` (``l1_ratio_``).

Optional hooks: ``_path_predict_func(train_data, test_data, alphas,
**params)`` returns the held-out predictions (n_obs_test, n_alphas) of the
path directly (it can predict alpha by alpha and keep no coefficients);
``_path_score_func(train_data, test_data, alphas, **params)`` returns the
held-out scores (n_alphas,) themselves, higher is better (the classifiers:
minus the held-out log-loss; ``scoring`` is then not used and there is no
``mse_path_``); ``_refit_along_path = False`` refits by one solve at
``alpha_`` instead of the path down to it; ``_store_refit(out, data)`` stores
the refit (default: ``coef_``, ``intercept_``, ``n_iter_`` from the last
point of the path's output).

Folds are sets of rows: for wide input ``KFold`` over rows (scikit-learn's
default for ``*CV`` estimators); for long input the rows of every task are
split into ``cv`` consecutive blocks, so that every task is present in
every fold (stratified within tasks).
"""

import inspect
import numbers
import warnings

import numpy as np
from joblib import delayed

from .._progress import parallel_progress
from ..model_selection._scorers import check_cv_scoring
from ..model_selection._split import check_cv_splits
from ._base import alpha_grid, descending_alphas, warn_if_zero_model
from ._bcd import _blas_single_thread
from ._bcd_kernels import _row_support

__all__ = ["PathCVMixin", "path_cv_splits"]


def path_cv_splits(data, cv=5, groups=None):
    """List of ``(train_rows, test_rows)`` for a :class:`MultiTaskData`.

    See :func:`skmtl.model_selection._split.check_cv_splits` (``cv``: an int,
    a splitter or an iterable of splits; ``groups`` reach the splitter).
    """
    return check_cv_splits(data, cv, groups)


def _fold_scores(path_func, params, data, train, test, alphas, scorer, task_weight,
                 predict_func=None, score_func=None):
    train_data = data.subset_rows(np.sort(train))
    test_data = data.subset_rows(np.sort(test))
    if score_func is not None:
        return np.asarray(score_func(train_data, test_data, alphas, **params), dtype=np.float64)
    if predict_func is not None:
        pred = predict_func(train_data, test_data, alphas, **params)
    else:
        coefs, intercepts = path_func(train_data, alphas, **params)[:2]
        pred = _path_predictions(coefs, intercepts, test_data)
    return scorer(test_data, pred, task_weight)


def _predict_obs(X, rows, task, W, intercept):
    """Predictions ``x_rows w_task + b_task`` for coefficients ``W`` (p, T).

    The product uses only the support of ``W`` when that is under half the features.
    """
    p, T = W.shape
    supp = _row_support(np.ascontiguousarray(W, dtype=np.float64))
    if supp.size == 0:
        return intercept[task].astype(np.float64)
    if hasattr(X, "take_rows"):  # a design (skmtl._design): reads the support's columns only
        F = X.matmat(W)
    elif 2 * supp.size > p:
        F = X @ W.astype(X.dtype, copy=False)
    else:
        F = X[:, supp] @ W[supp].astype(X.dtype, copy=False)
    return np.asarray(F, dtype=np.float64)[rows, task] + intercept[task]


def _path_predictions(coefs, intercepts, data):
    """Predictions (n_obs, n_alphas) of a path on the observations of ``data``."""
    A = coefs.shape[0]
    pred = np.empty((data.n_obs, A))
    if data.n_obs == 0:
        return pred
    task = data.task_of_obs
    with _blas_single_thread():  # small products: threads only cost (cached controller)
        for a in range(A):
            pred[:, a] = _predict_obs(data.X, data.rows, task, coefs[a].T, intercepts[a])
    return pred


def _cv_results(points, grids, score_path):
    """The table of every (grid point, alpha), as ``GridSearchCV.cv_results_``.

    ``points`` the extra parameters of each grid point, ``grids[g]`` its
    alphas, ``score_path`` (n_points, n_alphas, n_folds) the held-out scores.
    """
    cells = [(g, a) for g in range(len(points)) for a in range(len(grids[g]))]
    scores = np.array([score_path[g, a] for g, a in cells]).reshape(len(cells), -1)
    out = {"param_alpha": np.array([grids[g][a] for g, a in cells])}
    for key in points[0]:
        out[f"param_{key}"] = np.array([points[g][key] for g, a in cells])
    out["params"] = [{"alpha": float(grids[g][a]), **points[g]} for g, a in cells]
    for k in range(scores.shape[1]):
        out[f"split{k}_test_score"] = scores[:, k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a cell that failed on every fold
        mean = np.nanmean(scores, axis=1)
        out["mean_test_score"] = mean
        out["std_test_score"] = np.nanstd(scores, axis=1)
    order = np.argsort(-np.where(np.isnan(mean), -np.inf, mean), kind="stable")
    rank = np.empty(len(cells), dtype=np.int64)
    rank[order] = np.arange(1, len(cells) + 1)
    out["rank_test_score"] = rank
    return out


class PathCVMixin:
    """Choose ``alpha`` by cross-validation along a warm-started path.

    Attributes set by ``fit``
    -------------------------
    alpha_ : float
        Selected regularization (best mean score over folds; ties go to the
        largest alpha).
    alphas_ : ndarray of shape (n_alphas,) or (n_points, n_alphas)
        Grid, decreasing (one per point of the extra grid, e.g. per ``l1_ratio``,
        when there are several).
    score_path_ : ndarray of shape (n_alphas, n_folds) or (n_points, n_alphas, n_folds)
        Held-out score of each alpha on each fold (higher is better).
    mse_path_ : ndarray, same shape as ``score_path_``
        Held-out weighted mean squared error (only with ``scoring=None``).
    cv_results_ : dict of ndarray
        One entry per (grid point, alpha), as ``GridSearchCV.cv_results_``:
        ``param_alpha`` (and ``param_<name>`` for the other cross-validated
        parameters), ``params``, ``split<k>_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``.
    coef_, intercept_ : refit on all the data at ``alpha_``.
    n_iter_ : int
        Iterations of the refit (when the path callable reports them).
    """

    _path_func = None
    _alpha_max_func = None
    _path_predict_func = None  # optional (train, test, alphas, **params) -> (n_obs_test, n_alphas)
    _path_score_func = None  # optional (train, test, alphas, **params) -> (n_alphas,) scores
    scoring = None  # the estimators with a scoring parameter set it in __init__
    _refit_along_path = True  # False: refit by one solve at alpha_ from zero

    def _path_params(self):
        return {}

    def _cv_task_weight(self):
        return getattr(self, "task_weight", None)

    def _grid_points(self, data):
        """Extra path parameters to cross-validate besides ``alpha`` (a list of dicts).

        One alpha grid is computed for each (``alpha_max`` depends on them); the
        default is no extra parameter. ``L21RegressorCV`` returns one dict per
        ``l1_ratio``. ``data`` is the validated training data (grids scaled to it).
        """
        return [{}]

    def _alpha_grid(self, data, params):
        if self.alphas is None:
            if isinstance(self.n_alphas, bool) or not isinstance(self.n_alphas, numbers.Integral) \
                    or self.n_alphas < 1:
                raise ValueError(f"n_alphas must be a positive integer; got {self.n_alphas!r}.")
            return alpha_grid(type(self)._alpha_max_func(data, **params), int(self.n_alphas), self.eps)
        alphas = descending_alphas(self.alphas)
        if alphas.size == 0:
            raise ValueError("alphas must be a non-empty array of non-negative values.")
        return alphas

    def _store_refit(self, out, data):
        """Store the refit: ``out`` is the path's output on all the data, down to ``alpha_``."""
        self.coef_ = np.asarray(out[0][-1])
        self.intercept_ = np.asarray(out[1][-1])
        if len(out) > 2:
            self.n_iter_ = int(np.asarray(out[2])[-1])

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the path, then refit at the best ``alpha``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
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
        data = self._validate_fit(X, y, sample_weight)
        base = self._path_params()
        path_func = type(self)._path_func
        points = self._grid_points(data)
        grid_params = [{**base, **pt} for pt in points]
        grids = [self._alpha_grid(data, params) for params in grid_params]
        splits = check_cv_splits(data, self.cv, groups, estimator_name=type(self).__name__)
        scoring = self.scoring
        scorer = check_cv_scoring(scoring, type(self).__name__)
        tw = self._cv_task_weight()
        predict_func = type(self)._path_predict_func
        score_func = type(self)._path_score_func
        jobs = [(g, tr, te) for g in range(len(points)) for tr, te in splits]
        scores = parallel_progress(
            (delayed(_fold_scores)(path_func, grid_params[g], data, tr, te, grids[g], scorer, tw,
                                   predict_func, score_func)
             for g, tr, te in jobs),
            self.n_jobs, getattr(self, "verbose", 0), desc=f"{type(self).__name__} folds", total=len(jobs))
        n_folds = len(splits)
        score_path = np.stack([np.column_stack(scores[g * n_folds:(g + 1) * n_folds])
                               for g in range(len(points))])  # (n_points, n_alphas, n_folds)
        mean = np.nanmean(score_path, axis=2)
        best_g, best = np.unravel_index(int(np.nanargmax(mean)), mean.shape)
        alphas = grids[best_g]
        params = grid_params[best_g]
        if len(points) == 1:
            self.alphas_ = alphas
            self.score_path_ = score_path[0]
        else:
            self.alphas_ = np.stack(grids)
            self.score_path_ = score_path
        if scoring is None and score_func is None:
            self.mse_path_ = -self.score_path_
        self.cv_results_ = _cv_results(points, grids, score_path)
        for key, value in points[best_g].items():
            setattr(self, f"{key}_", value)
        self.alpha_ = float(alphas[best])
        # refit: along the path down to alpha_, or (solvers that start cold at
        # least as fast, like the working-set BCD) one solve at alpha_
        refit_alphas = alphas[: best + 1] if self._refit_along_path else alphas[best: best + 1]
        refit_params = dict(params)
        if "warn" in inspect.signature(path_func).parameters:
            refit_params["warn"] = True  # the final model warns when it did not converge
        self._store_refit(path_func(data, refit_alphas, **refit_params), data)
        warn_if_zero_model(self, self.coef_, f"alpha_={self.alpha_:.4g}")
        return self
