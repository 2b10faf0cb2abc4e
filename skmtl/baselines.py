"""Baselines every multi-task model is compared with: no sharing and full sharing."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.utils.validation import has_fit_parameter

from ._param_validation import HasMethods
from .base import MultiTaskClassifierMixin, MultiTaskRegressorMixin

__all__ = ["IndependentRegressor", "IndependentRidgeCV", "IndependentClassifier", "PooledRegressor"]


def _fit_clone(estimator, X, y, sample_weight):
    est = clone(estimator)
    if sample_weight is not None and not np.all(sample_weight == 1.0):
        if not has_fit_parameter(est, "sample_weight"):
            raise ValueError(f"{type(est).__name__} does not accept sample_weight.")
        est.fit(X, y, sample_weight=sample_weight)
    else:
        est.fit(X, y)
    return est


_TASK_COLUMN = [None, str, Integral]
#: The default ridge strengths of ``IndependentRidgeCV`` and of the grouping model's ``RidgeCV`` baseline.
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-3, 3, 13))


class _IndependentMixin:
    _accept_sparse = True
    _fit_dtypes = (np.float64, np.float32)

    def _fit_tasks(self, data, default):
        base = default if self.estimator is None else self.estimator
        self.estimators_ = [
            _fit_clone(base, *data.task_data(t)) for t in range(data.n_tasks)
        ]

    def _per_task(self, X, task_codes, method):
        if task_codes is None:
            return np.column_stack([method(est, X) for est in self.estimators_])
        out = None
        for t in np.unique(task_codes):
            rows = np.flatnonzero(task_codes == t)
            res = method(self.estimators_[t], X[rows])
            if out is None:
                out = np.empty(len(task_codes), dtype=np.asarray(res).dtype)
            out[rows] = res
        return out


class IndependentRegressor(_IndependentMixin, MultiTaskRegressorMixin, BaseEstimator):
    """One independently fitted clone of a regressor per task (no sharing).

    Parameters
    ----------
    estimator : regressor, default=None
        Fitted once per task on that task's observed rows; ``Ridge()`` when None.
    task_column : str or int, default=None
        Column of ``X`` holding task labels (long input); None for wide input.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted clone of each task, in the order of ``tasks_``.
    tasks_ : ndarray of shape (n_tasks,)
    n_tasks_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string column names.

    Examples
    --------
    >>> from skmtl import IndependentRegressor
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.1, random_state=0)
    >>> model = IndependentRegressor().fit(X, Y)
    >>> len(model.estimators_), model.predict(X[:2]).shape
    (4, (2, 4))
    """

    _parameter_constraints = {"estimator": [None, HasMethods(["fit", "predict"])], "task_column": _TASK_COLUMN}

    def __init__(self, estimator=None, *, task_column=None):
        self.estimator = estimator
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit one clone of ``estimator`` per task on its observed targets.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
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
        data = self._validate_fit(X, y, sample_weight)
        self._fit_tasks(data, Ridge())
        return self

    def _predict_tasks(self, X, task_codes):
        return self._per_task(X, task_codes, lambda est, Z: est.predict(Z)).astype(np.float64)


class IndependentRidgeCV(_IndependentMixin, MultiTaskRegressorMixin, BaseEstimator):
    r"""One ridge regression per task, the strength chosen by leave-one-out, shared by the tasks or not.

    Each task ``t`` gets its own ``Ridge(alpha)`` fitted on its observed rows;
    only the choice of ``alpha`` may be shared. With ``e_t(alpha)`` the
    leave-one-out mean squared error of task ``t`` (scikit-learn's
    ``RidgeCV``, exact and cheap through one decomposition per task) and
    ``v_t`` the (weighted) variance of its targets:

    .. math::

        \alpha_t = \arg\min_\alpha e_t(\alpha) \quad (\text{alpha_per_task=True}), \qquad
        \alpha = \arg\min_\alpha \sum_t e_t(\alpha) / v_t \quad (\text{alpha_per_task=False}).

    The shared strength is the lightest form of borrowing between tasks: one
    prior variance for every task's coefficients (as an empirical-Bayes
    hierarchical model would estimate it), chosen on all tasks' held-out
    errors at once, so that a small task is not left to pick its strength from
    its own few rows. ``alpha_per_task=True`` is
    ``IndependentRegressor(RidgeCV(alphas))``.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=np.logspace(-3, 3, 13)
        Candidate strengths (positive).
    alpha_per_task : bool, default=False
        Choose each task's strength from its own leave-one-out error (True) or
        one strength for all tasks (False).
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.
    task_column : str or int, default=None
        Column of ``X`` holding task labels (long input); None for wide input.

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_tasks,)
        The shared strength, or each task's (``alpha_per_task=True``).
    cv_errors_ : ndarray of shape (n_tasks, n_alphas)
        Leave-one-out mean squared error of each task at each strength
        (weighted by ``sample_weight``, as ``RidgeCV.cv_results_``).
    estimators_ : list of RidgeCV or Ridge
        Each task's fitted ridge regression, in the order of ``tasks_``: its
        ``RidgeCV`` (``alpha_per_task=True``) or a ``Ridge`` at the shared strength.
    tasks_, n_tasks_, n_features_in_

    Examples
    --------
    >>> from skmtl import IndependentRidgeCV
    >>> from skmtl.datasets import make_multitask_regression
    >>> X, Y, coef = make_multitask_regression(60, 10, 4, noise=0.5, random_state=0)
    >>> model = IndependentRidgeCV().fit(X, Y)
    >>> float(model.alpha_) in model.alphas, model.predict(X[:2]).shape
    (True, (2, 4))
    """

    _parameter_constraints = {
        "alphas": ["array-like"],
        "alpha_per_task": ["boolean"],
        "fit_intercept": ["boolean"],
        "task_column": _TASK_COLUMN,
    }

    def __init__(self, alphas=RIDGE_ALPHAS, *, alpha_per_task=False, fit_intercept=True,
                 task_column=None):
        self.alphas = alphas
        self.alpha_per_task = alpha_per_task
        self.fit_intercept = fit_intercept
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Choose the strength by leave-one-out and fit one ridge regression per task.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
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
        name = type(self).__name__
        alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
        if alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
            raise ValueError(f"{name}: alphas must be a non-empty list of positive numbers; got {self.alphas!r}.")
        data = self._validate_fit(X, y, sample_weight)
        T = data.n_tasks
        errors = np.full((T, alphas.size), np.nan)
        scale = np.zeros(T)
        loo = []
        parts = [data.task_data(t) for t in range(T)]  # (X_t, y_t, weights_t) of each task's observed rows
        for t, (Xt, yt, wt) in enumerate(parts):
            if len(yt) < 2:
                label = self.tasks_[t:t + 1].tolist()[0]
                raise ValueError(f"{name}: task {label!r} has {len(yt)} sample(s) with an observed target; "
                                 "leave-one-out needs at least 2.")
            rcv = RidgeCV(alphas=alphas, fit_intercept=self.fit_intercept, store_cv_results=True)
            rcv.fit(Xt, yt, sample_weight=wt)
            errors[t] = rcv.cv_results_.reshape(len(yt), alphas.size).mean(axis=0)
            centre = (wt @ yt) / wt.sum() if self.fit_intercept else 0.0
            scale[t] = np.mean(wt * (yt - centre) ** 2)
            loo.append(rcv)
        self.cv_errors_ = errors
        if self.alpha_per_task:
            self.alpha_ = np.array([r.alpha_ for r in loo], dtype=np.float64)
            self.estimators_ = loo
            return self
        informative = scale > 0  # a constant task has no relative error: it does not vote
        rel = errors[informative] / scale[informative, None] if informative.any() else errors
        self.alpha_ = float(alphas[int(np.argmin(rel.sum(axis=0)))])
        self.estimators_ = [_fit_clone(Ridge(alpha=self.alpha_, fit_intercept=self.fit_intercept), *part)
                            for part in parts]
        return self

    _predict_tasks = IndependentRegressor._predict_tasks


class IndependentClassifier(_IndependentMixin, MultiTaskClassifierMixin, BaseEstimator):
    """One independently fitted clone of a classifier per task.

    Parameters
    ----------
    estimator : classifier, default=None
        Fitted once per task; ``LogisticRegression()`` when None.
    task_column : str or int, default=None
        Column of ``X`` holding task labels (long input); None for wide input.

    Examples
    --------
    >>> from skmtl import IndependentClassifier
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> Y = (X[:, :2] @ np.array([[1.0, 2.0, -1.0], [1.0, -1.0, 2.0]]) > 0).astype(int)
    >>> model = IndependentClassifier().fit(X, Y)
    >>> model.predict(X[:2]).shape, len(model.predict_proba(X[:2]))
    ((2, 3), 3)
    """

    _parameter_constraints = {"estimator": [None, HasMethods(["fit", "predict"])], "task_column": _TASK_COLUMN}

    def __init__(self, estimator=None, *, task_column=None):
        self.estimator = estimator
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit one clone of ``estimator`` per task on its observed labels.

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
        self._fit_tasks(data, LogisticRegression())
        return self

    def _predict_codes(self, X, task_codes):
        # estimators were fitted on integer codes, so they predict codes
        return self._per_task(X, task_codes, lambda est, Z: est.predict(Z)).astype(np.int64)

    def predict_proba(self, X):
        """Class probabilities: an array per task (wide) or per row's task (long).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.

        Returns
        -------
        proba : ndarray or list of ndarray
            An (n_samples, n_classes) array for a single task, a list of such
            arrays for wide input with several tasks, and for long input an
            object array holding each row's probability vector when tasks differ
            in their classes (a 2-D array when they all have the same number).
        """
        X, codes = self._validate_predict(X)
        if codes is None:
            probas = [est.predict_proba(X) for est in self.estimators_]
            return probas[0] if self._single_output else probas
        k = {len(est.classes_) for est in self.estimators_}
        out = np.zeros((len(codes), k.pop())) if len(k) == 1 else np.empty(len(codes), dtype=object)
        for t in np.unique(codes):
            rows = np.flatnonzero(codes == t)
            p = self.estimators_[t].predict_proba(X[rows])
            if out.ndim == 2:
                out[rows] = p
            else:
                for r, pr in zip(rows, p):
                    out[r] = pr
        return out


class PooledRegressor(MultiTaskRegressorMixin, BaseEstimator):
    """One model for all tasks (full sharing), optionally with per-task intercepts.

    Every observation of every task is stacked into one training set. With
    ``task_intercept=True`` features and targets are centred within each task
    (weighted by ``sample_weight``) before the pooled fit, so that each task
    gets its own unpenalized offset: prediction for task ``t`` is
    ``f(x - xbar_t) + ybar_t``. For a linear ``estimator`` that is exactly a
    shared slope with per-task intercepts.

    Parameters
    ----------
    estimator : regressor, default=None
        The pooled model; ``Ridge()`` when None.
    task_intercept : bool, default=True
        Give each task its own offset.
    task_column : str or int, default=None
        Column of ``X`` holding task labels (long input); None for wide input.

    Attributes
    ----------
    estimator_ : estimator
        The fitted pooled model.
    task_x_mean_ : ndarray of shape (n_tasks, n_features)
        Per-task feature means (zeros when ``task_intercept=False``).
    task_y_mean_ : ndarray of shape (n_tasks,)
        Per-task target means (zeros when ``task_intercept=False``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl import PooledRegressor
    >>> rng = np.random.default_rng(0)
    >>> task = np.repeat([0, 1], 30)
    >>> X = np.column_stack([rng.standard_normal((60, 2)), task])  # long input: the task in column 2
    >>> y = X[:, 0] - X[:, 1] + 2.0 + 3.0 * task + 0.1 * rng.standard_normal(60)
    >>> model = PooledRegressor(task_column=2).fit(X, y)
    >>> model.task_y_mean_.round()  # each task's own offset
    array([2., 5.])
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _accept_sparse = True
    _fit_dtypes = (np.float64, np.float32)

    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit", "predict"])],
        "task_intercept": ["boolean"],
        "task_column": _TASK_COLUMN,
    }

    def __init__(self, estimator=None, *, task_intercept=True, task_column=None):
        self.estimator = estimator
        self.task_intercept = task_intercept
        self.task_column = task_column

    def fit(self, X, y, sample_weight=None):
        """Fit one model on the observations of all tasks stacked.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
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
        data = self._validate_fit(X, y, sample_weight)
        T, p = data.n_tasks, data.n_features
        Xs = data.X[data.rows]
        t_of = data.task_of_obs
        sw = data.sample_weight
        self.task_x_mean_ = np.zeros((T, p))
        self.task_y_mean_ = np.zeros(T)
        if self.task_intercept:
            for t in range(T):
                s = data.task_slice(t)
                w = sw[s]
                wsum = w.sum()
                if wsum > 0:
                    self.task_x_mean_[t] = np.asarray(w @ Xs[s]).ravel() / wsum
                    self.task_y_mean_[t] = w @ data.y[s] / wsum
        Xc = self._center(Xs, t_of)
        yc = data.y - self.task_y_mean_[t_of]
        base = Ridge() if self.estimator is None else self.estimator
        self.estimator_ = _fit_clone(base, Xc, yc, sw)
        return self

    def _center(self, X, t_of):
        if not self.task_intercept:
            return X
        if sp.issparse(X):
            X = X.toarray()
        return X - self.task_x_mean_[t_of]

    def _predict_tasks(self, X, task_codes):
        if task_codes is not None:
            f = self.estimator_.predict(self._center(X, task_codes))
            return np.asarray(f, dtype=np.float64) + self.task_y_mean_[task_codes]
        n = X.shape[0]
        out = np.empty((n, self.n_tasks_))
        for t in range(self.n_tasks_):
            codes = np.full(n, t)
            out[:, t] = self.estimator_.predict(self._center(X, codes)) + self.task_y_mean_[t]
        return out
