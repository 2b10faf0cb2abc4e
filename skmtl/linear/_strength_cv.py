r"""Cross-validation of the two-strength multi-task families on the path CV engine.

The relationship, clustered and composite models have two strengths
(``alpha``, ``beta``; the clustered model also ``n_clusters``).
:class:`StrengthGridCVMixin` puts them on :class:`~skmtl.linear._cv.PathCVMixin`:
``beta`` (and ``n_clusters``) are the grid points, and along each point the
model is fitted for a decreasing ``alpha`` grid, each fit warm-started from the
previous one (the weights, the learned task covariance or cluster structure,
and the Gram matrices of the direct solver, computed once per fold). Every
(point, fold) pair is one parallel job; ``alpha_``, ``beta_`` and
``cv_results_`` are set, and the model is refitted on all the data at the best
pair.

A CV estimator subclasses its model (so it predicts, transfers and reports as
the model does) and names it::

    class MeanRegularizedRegressorCV(StrengthGridCVMixin, MeanRegularizedRegressor):
        _model = MeanRegularizedRegressor
        _grid_kind = "quadratic"

The model provides ``_fit_data(data, start=None) -> state``: a fit on
validated data that returns the state warm-starting the next fit.

Automatic grids (``alphas=None`` / ``betas=None``), decreasing:

* ``_grid_kind = "quadratic"`` (squared-norm strengths: mean-regularized,
  graph, task-relationship, clustered): ``s * logspace(1, -4)`` for ``alpha``
  and ``s * logspace(0, -4)`` for ``beta``, where
  ``s = sum_i omega_i ||x_i - xbar_t(i)||^2 / (n_features n_tasks)`` is the
  mean eigenvalue of the per-task weighted Gram matrices (the datafit's
  curvature per task, 1 for standardized features on complete wide input), so
  that the grids mean the same on wide and long input;
* ``_grid_kind = "split"`` (``W = P + Q``: dirty, sparse plus low-rank,
  robust): each strength from its own ``alpha_max`` (the dual norm of the
  datafit gradient at ``W = 0`` for that part's penalty; above it the part
  is zero) down to ``1e-3`` times it.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from ._base import POSITIVE_INT, SCORING_CONSTRAINT, ZeroModelWarning, curvature_scale, descending_alphas
from ._cv import PathCVMixin
from ._datafits import make_squared_loss

__all__ = ["StrengthGridCVMixin", "strength_cv_constraints"]

#: What ``fit`` input validation sets on an estimator; copied from the CV
#: estimator to the model it fits on the folds.
_FIT_STATE = ("n_features_in_", "feature_names_in_", "tasks_", "n_tasks_", "classes_", "_layout",
              "_single_output")

#: Decades of the automatic grids of the quadratic strengths, relative to the curvature scale.
_QUADRATIC_DECADES = {"alpha": (1.0, -4.0), "beta": (0.0, -4.0)}
#: Ratio of the smallest to the largest strength of the automatic split grids.
_SPLIT_EPS = 1e-3


def strength_cv_constraints(model, *, scoring=True, tuned=("alpha", "beta")):
    """``_parameter_constraints`` of the CV version of ``model``: the model's, less the ``tuned``
    parameters, plus the grid and fold parameters (and ``scoring`` for regressors)."""
    out = {k: v for k, v in model._parameter_constraints.items() if k not in tuned}
    out.update({
        "alphas": [None, "array-like"],
        "betas": [None, "array-like"],
        "n_alphas": [POSITIVE_INT],
        "n_betas": [POSITIVE_INT],
        "cv": ["cv_object"],
        "n_jobs": [None, numbers.Integral],
        "verbose": ["verbose"],
    })
    if scoring:
        out["scoring"] = SCORING_CONSTRAINT
    return out


def _copy_fit_state(source, target):
    for name in _FIT_STATE:
        if name in vars(source):
            setattr(target, name, getattr(source, name))


def _model_path(data, alphas, *, model, warn=False, **point):
    """Fits of ``model`` at ``point`` along the decreasing ``alphas``, each warm-started from the last.

    Returns ``(coefs, intercepts, n_iters, fitted)``: ``coefs[k]`` the model's
    ``coef_`` (n_tasks or n_columns, n_features) at ``alphas[k]``, and the model
    fitted at the last alpha. Convergence and all-zero warnings are silenced
    unless ``warn``.
    """
    est = clone(model).set_params(**point)
    _copy_fit_state(model, est)
    coefs, intercepts, n_iters = [], [], []
    state = None
    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", ZeroModelWarning)
        for alpha in alphas:
            est.set_params(alpha=float(alpha))
            state = est._fit_data(data, state)
            coefs.append(est.coef_)
            intercepts.append(est.intercept_)
            n_iters.append(est.n_iter_)
    return np.array(coefs), np.array(intercepts), np.array(n_iters), est


def _model_path_scores(train, test, alphas, *, model, **point):
    """Minus the held-out log-loss (per unit of observation weight) along the path (classifiers)."""
    coefs, intercepts, _, fitted = _model_path(train, alphas, model=model, **point)
    loss = fitted._make_datafit(test)
    return np.array([-loss.mean_loss(np.ascontiguousarray(C.T), b) for C, b in zip(coefs, intercepts)])


class StrengthGridCVMixin(PathCVMixin):
    """Cross-validate ``alpha`` along warm-started paths and ``beta`` (and more) over a grid.

    Subclasses set ``_model`` (the estimator class whose ``_fit_data`` is
    called), ``_grid_kind`` ("quadratic" or "split"), and store ``alphas``,
    ``betas``, ``n_alphas``, ``n_betas``, ``cv``, ``n_jobs`` (and
    ``scoring`` for regressors) besides the model's own parameters.

    Attributes set by ``fit`` (besides the model's): ``alpha_``, ``beta_``,
    ``alphas_``, ``betas_``, ``score_path_`` (n_betas, n_alphas, n_folds) or
    (n_points, ...), ``mse_path_`` (regressors with ``scoring=None``),
    ``cv_results_``.
    """

    _model = None
    _grid_kind = "quadratic"
    _path_func = staticmethod(_model_path)
    _refit_along_path = False  # one fit at (alpha_, beta_) from the model's own start
    _strengths = ("alpha", "beta")

    def _model_params(self):
        names = self._model().get_params(deep=False)
        return {name: getattr(self, name) for name in names if name not in self._cv_params()}

    def _cv_params(self):
        """The model parameters this estimator cross-validates."""
        return set(self._strengths)

    def _path_params(self):
        model = self._model(**self._model_params())
        _copy_fit_state(self, model)
        return {"model": model}

    def _scales(self, data):
        """``(alpha_scale, beta_scale)`` of the automatic grids."""
        if self._grid_kind == "quadratic":
            s = curvature_scale(data, self.task_weight, self.fit_intercept)
            return s, s
        datafit = make_squared_loss(data, task_weight=self.task_weight, fit_intercept=self.fit_intercept)
        W0, b0 = datafit.init_coef()
        _, G0, _ = datafit.value_grad(W0, b0)
        amax_p, amax_q = self._model._split_penalty(1.0, 1.0).alpha_max(G0)
        return (amax_p if amax_p > 0 else 1.0), (amax_q if amax_q > 0 else 1.0)

    def _strength_grid(self, values, count, scale, name):
        owner = type(self).__name__
        if values is not None:
            grid = descending_alphas(values)
            if grid.size == 0:
                raise ValueError(f"{name}s of {owner} must be a non-empty array of non-negative values.")
            return grid
        n = int(count)  # a positive integer: the parameter constraints checked it
        if self._grid_kind == "quadratic":
            hi, lo = _QUADRATIC_DECADES[name]
            return scale * np.logspace(hi, lo, n)
        return scale * np.logspace(0.0, np.log10(_SPLIT_EPS), n)

    def _grid_points(self, data):
        self._cv_scales = self._scales(data)
        betas = self._strength_grid(self.betas, self.n_betas, self._cv_scales[1], "beta")
        return [{"beta": float(b)} for b in betas]

    def _alpha_grid(self, data, params):
        return self._strength_grid(self.alphas, self.n_alphas, self._cv_scales[0], "alpha")

    def _store_refit(self, out, data):
        fitted = out[3]
        for name, value in vars(fitted).items():
            if name.endswith("_") and not name.startswith("__"):
                setattr(self, name, value)
        self.betas_ = np.array(sorted({p["beta"] for p in self.cv_results_["params"]}, reverse=True))
        if self.alphas_.ndim == 2:  # one alpha grid shared by every grid point
            self.alphas_ = self.alphas_[0]
        del self._cv_scales

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the strengths, then refit on all the data at the best ones.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            With the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Wide targets (NaN marks a missing target) or long targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.
        groups : array-like of shape (n_samples,), default=None
            Group label of each row, passed to the ``split`` of a splitter
            ``cv`` (``GroupKFold``); ignored for an int ``cv``.

        Returns
        -------
        self
        """
        return super().fit(X, y, sample_weight, groups)
