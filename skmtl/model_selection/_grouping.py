r"""TaskGroupingRegressor and TaskGroupingClassifier: share only where cross-validation says sharing helps.

A multi-task model fitted on every task can help some tasks and hurt others
(negative transfer). The grouping model decides, on the training data only,
which tasks to fit together:

1. every task's cross-validated predictions under the no-sharing baseline
   (one model per task, ``RidgeCV`` by default): ``p0``, error ``e_t^ind``;
2. the multi-task estimator on a candidate group ``G`` (all tasks by default),
   cross-validated on the same folds: predictions ``p``;
3. (regressor, ``blend="huber"``, the default) each member's prediction
   becomes ``w_t p + (1 - w_t) p0``, the weight fitted on its held-out
   observations (stacking, Breiman 1996, with one weight per task): the
   slope of the regression through the origin of ``y - p0`` on
   ``D = p - p0``, clipped to [0, 1]. ``blend="least_squares"`` takes the
   least-squares slope ``<y - p0, D> / ||D||^2``, which minimizes the held-out
   squared error, so that the blend's error ``e_t^G`` is at most ``e_t^ind``
   there. A weight fitted on hundreds of held-out predictions costs little
   when sharing does not help (unlike a yes/no choice, which fold noise flips),
   but with heavy-tailed targets the least-squares slope rests on a few
   observations and does not carry over to new data (scpf's counts in
   ``bench_real``: +0.66% against independent ridge). The default is the
   Huber M-estimate of the slope (Huber 1964; tuning constant 1.345, 95%
   efficient when the residuals are normal; the scale is the median absolute
   deviation of the least-squares residuals; :func:`blend_weight`): it is the
   least-squares slope where no residual is far out. Without blending (and
   for the classifier) ``w_t = 1``;
4. a task stays in the group when its weight is positive and sharing lowered
   its error by enough evidence: with ``d_i`` the loss alone minus the loss
   shared on each of the task's held-out observations (the same folds, so the
   two are paired), ``mean(d) > 0`` and ``mean(d) >= min_evidence * sd(d) /
   sqrt(n_t)`` (a one-sided paired test). ``min_evidence="auto"`` is 0 when
   blending (the weight already carries the evidence) and 1 otherwise. The
   standard error treats the held-out observations as independent; with
   folds that repeat rows (``ShuffleSplit``) it is too small. The others
   leave the group, and steps 2-4 repeat on the smaller group until every
   member passes (each round drops at least one task, so at most ``|G|``
   rounds).

The final model fits the multi-task estimator on each surviving group (at
least two tasks), the baseline on every other task and, when blending, on
every member whose weight is below 1. By construction, no task is shared
unless its cross-validated error under sharing (blended), in the last round
that decided the group, is below its error alone (by ``min_evidence``
standard errors). Without blending and without that margin, a task whose gain
is fold noise is shared about half the time when sharing does not help, and
the model then loses to independent fits on held-out data. The classifier
switches (no blend) with the misclassification rate.
"""

import numbers
import warnings

import numpy as np
from scipy.optimize import brentq
from sklearn.base import BaseEstimator, clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression, RidgeCV

from .._param_validation import Interval, StrOptions, validate_params
from ..base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from ..baselines import RIDGE_ALPHAS
from ._split import check_cv_splits

__all__ = ["TaskGroupingRegressor", "TaskGroupingClassifier"]


class _TaskGroupingBase(BaseEstimator):
    """The grouping procedure; subclasses give ``_loss``, ``_metric``, ``_default_baseline`` and the output."""

    _metric = "mse"  # the name of the loss in ``cv_results_``

    _accept_sparse = True
    _fit_dtypes = (np.float64, np.float32)

    _parameter_constraints = {
        "estimator": [object],
        "baseline": [None, object],
        "groups": [StrOptions({"auto"}), list],
        "cv": ["cv_object", "array-like"],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "min_evidence": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="left")],
        "max_rounds": [Interval(numbers.Integral, 1, None, closed="left")],
        "task_column": [None, str, numbers.Integral],
    }

    def __init__(self, estimator, *, baseline=None, groups="auto", cv=5, tol=0.0, min_evidence="auto", max_rounds=10,
                 task_column=None):
        self.estimator = estimator
        self.baseline = baseline
        self.groups = groups
        self.cv = cv
        self.tol = tol
        self.min_evidence = min_evidence
        self.max_rounds = max_rounds
        self.task_column = task_column

    def _blend_method(self):
        """How shared and alone predictions are blended: ``"huber"``, ``"least_squares"`` or None (not at all)."""
        return None

    def _evidence_level(self):
        """``min_evidence``; ``"auto"``: 0 when blending (the weight is fitted), else 1."""
        if self.min_evidence == "auto":
            return 0.0 if self._blend_method() else 1.0
        return float(self.min_evidence)

    def _plans(self):
        plans = [(est, list(g)) for est, g in zip(self.estimators_, self._groups_codes)]
        plans += [(est, [t]) for est, t in zip(self.estimators_[len(self._groups_codes):], self._alone_codes)]
        return plans

    def _predict_all(self, X, task_codes):
        """Sub-model outputs assembled: (n_samples, n_tasks) for wide input, one per row for long."""
        if task_codes is None:
            out = np.empty((X.shape[0], self.n_tasks_))
            for est, g in self._plans():
                out[:, g] = self._sub_predict(est, X, None, len(g))
            for t, est in self._member_baselines.items():  # w shared + (1 - w) alone
                w = self.shared_weight_[t]
                out[:, t] = w * out[:, t] + (1.0 - w) * self._sub_predict(est, X, None, 1)[:, 0]
            return out
        out = np.full(len(task_codes), np.nan)
        for est, g in self._plans():
            rows = np.flatnonzero(np.isin(task_codes, g))
            if rows.size:
                out[rows] = self._sub_predict(est, X[rows], task_codes[rows], len(g))
        for t, est in self._member_baselines.items():
            rows = np.flatnonzero(task_codes == t)
            if rows.size:
                w = self.shared_weight_[t]
                out[rows] = w * out[rows] + (1.0 - w) * self._sub_predict(est, X[rows], task_codes[rows], 1)
        return out

    # ------------------------------------------------------------- sub-fits
    def _sub_input(self, data, rows, tasks):
        """``(X, y)`` of the given rows restricted to ``tasks``, in the layout of the fit.

        Wide: features of the rows and the (n_rows, n_sub) target matrix with NaN
        for the missing entries. Long: the observations of those tasks among the
        rows, features with the task code as a last column.
        """
        if data.layout == "wide":
            return data.X[rows], self._wide[np.ix_(rows, tasks)]
        keep = np.isin(data.rows, rows) & np.isin(data.task_of_obs, tasks)
        X = data.X[data.rows[keep]]
        codes = data.task_of_obs[keep].astype(np.float64)
        if hasattr(X, "tocsr"):
            import scipy.sparse as sp

            X = sp.hstack([X, sp.csr_matrix(codes[:, None])]).tocsr()
        else:
            X = np.column_stack([X, codes])
        return X, data.y[keep]

    def _fit_sub(self, est, data, rows, tasks):
        """A clone of ``est`` fitted on ``rows`` and ``tasks``; in long layout, with the task
        code as the last column of ``X`` when ``est`` takes a ``task_column`` (a
        single-task baseline gets the features only)."""
        est = clone(est)
        X, y = self._sub_input(data, rows, tasks)
        if data.layout == "long":
            if "task_column" in est.get_params(deep=False):
                est.set_params(task_column=data.n_features)
            else:
                X = X[:, :-1]
        if data.layout == "wide" and len(tasks) == 1:
            y = y[:, 0]
            observed = ~np.isnan(y)  # a single-task estimator takes only the rows with a target
            if not observed.all():
                X, y = X[observed], y[observed]
        if self._classification and y.ndim == 1 and np.unique(y[~np.isnan(y)]).size < 2:
            # one class seen: a single-task classifier cannot fit; predict that class
            est, X = DummyClassifier(strategy="most_frequent"), X[:, :-1] if _has_task_column(est) else X
        return est.fit(X, y)

    @staticmethod
    def _sub_predict(est, X_rows, task_codes, n_sub):
        """Predictions of a sub-model (wide: (n, n_sub); long: one per row, of its task)."""
        if task_codes is None:
            return np.asarray(est.predict(X_rows), dtype=np.float64).reshape(X_rows.shape[0], n_sub)
        if _has_task_column(est):
            dense = X_rows.toarray() if hasattr(X_rows, "toarray") else X_rows
            X_rows = np.column_stack([dense, np.asarray(task_codes, dtype=np.float64)])
        return np.asarray(est.predict(X_rows), dtype=np.float64).ravel()

    def _cv_predictions(self, est, data, folds, tasks, per_task_baseline=False):
        """Held-out targets and predictions of each task in ``tasks``.

        Returns two lists (one array per task): the observed targets of the
        held-out rows and the predictions of the model fitted without them, in
        an order that depends only on the folds and the data (so two
        estimators' lists pair up observation by observation).
        """
        ys = [[] for _ in tasks]
        ps = [[] for _ in tasks]
        for train, test in folds:
            if per_task_baseline:
                models = [(self._fit_sub(est, data, train, [t]), [t]) for t in tasks]
            else:
                models = [(self._fit_sub(est, data, train, tasks), list(tasks))]
            for model, sub in models:
                if data.layout == "wide":
                    P = self._sub_predict(model, data.X[test], None, len(sub))
                    Yte = self._wide[np.ix_(test, sub)]
                    obs = ~np.isnan(Yte)
                    for k, t in enumerate(sub):
                        i = tasks.index(t)
                        ys[i].append(Yte[obs[:, k], k])
                        ps[i].append(P[obs[:, k], k])
                else:
                    keep = np.isin(data.rows, test) & np.isin(data.task_of_obs, sub)
                    if not keep.any():
                        continue
                    codes = data.task_of_obs[keep]
                    y_keep = data.y[keep]
                    pred = self._sub_predict(model, data.X[data.rows[keep]], codes, len(sub))
                    for t in np.unique(codes):
                        i = tasks.index(int(t))
                        ys[i].append(y_keep[codes == t])
                        ps[i].append(pred[codes == t])
        cat = lambda parts: np.concatenate(parts) if parts else np.zeros(0)  # noqa: E731
        return [cat(y) for y in ys], [cat(p) for p in ps]

    def _losses(self, ys, ps):
        """Per task: the mean loss (NaN without held-out rows) and the loss of each held-out observation."""
        errs = [self._loss(y, p) for y, p in zip(ys, ps)]
        return np.array([e.mean() if len(e) else np.nan for e in errs]), errs

    @staticmethod
    def _blend(ys, ps, ps_alone, method="huber"):
        """Per task the weight ``w`` in [0, 1] of the shared prediction (:func:`blend_weight`).

        Returns the weights and the blended predictions ``p0 + w (p - p0)``.
        """
        weights = np.array([blend_weight(y, p, p0, method) for y, p, p0 in zip(ys, ps, ps_alone)])
        return weights, [p0 + w * (p - p0) for w, p, p0 in zip(weights, ps, ps_alone)]

    def _keeps(self, loss, errs, loss_alone, errs_alone):
        """Which members stay: sharing lowered the loss (within ``tol``), by ``min_evidence`` standard errors.

        Per held-out observation of the task, ``d_i = (1 + tol) e_i^ind - e_i^G``
        (the two lists pair up: same folds, same order); the task stays when
        ``mean(d) >= 0`` and, with ``min_evidence > 0``, ``mean(d) > 0`` and
        ``mean(d) >= min_evidence * sd(d) / sqrt(n_t)``.
        """
        ok = np.isfinite(loss) & (loss <= (1.0 + self.tol) * loss_alone)
        level = self._evidence_level()
        if level > 0:
            for k, (e, e0) in enumerate(zip(errs, errs_alone)):
                if len(e) != len(e0) or len(e) < 2:
                    ok[k] = False
                    continue
                d = (1.0 + self.tol) * e0 - e
                se = d.std(ddof=1) / np.sqrt(len(d))
                ok[k] &= d.mean() > 0 and d.mean() >= level * se
        return ok

    # --------------------------------------------------------------------- fit
    def fit(self, X, y, groups=None):
        """Choose the groups by cross-validation, then fit them and the independent tasks.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            With the task column for long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            Wide targets (NaN marks a missing target) or long targets.
        groups : array-like of shape (n_samples,), default=None
            Group label of each row for a splitter ``cv`` (``GroupKFold``).

        Returns
        -------
        self
        """
        validate_params(self)
        name = type(self).__name__
        data = self._validate_fit(X, y)
        T = data.n_tasks
        if data.layout == "wide":
            self._wide = np.full((data.n_samples, T), np.nan)
            self._wide[data.rows, data.task_of_obs] = data.y
        baseline = self._default_baseline() if self.baseline is None else self.baseline
        folds = check_cv_splits(data, self.cv, groups, estimator_name=name)
        all_tasks = list(range(T))
        blend = self._blend_method()
        ys_alone, ps_alone = self._cv_predictions(baseline, data, folds, all_tasks, per_task_baseline=True)
        loss_alone, errs_alone = self._losses(ys_alone, ps_alone)
        loss_shared = np.full(T, np.nan)
        weight = np.zeros(T)
        candidates = [all_tasks] if isinstance(self.groups, str) else [self._codes(g, name) for g in self.groups]
        taken = np.zeros(T, dtype=bool)
        chosen = []
        for cand in candidates:
            members = [t for t in cand if not taken[t]]
            for _ in range(self.max_rounds):
                if len(members) < 2:
                    members = []
                    break
                ys, ps = self._cv_predictions(self.estimator, data, folds, members)
                w = np.ones(len(members))
                if blend:
                    w, ps = self._blend(ys, ps, [ps_alone[t] for t in members], blend)
                loss, errs = self._losses(ys, ps)
                loss_shared[members] = loss
                weight[members] = w
                ok = self._keeps(loss, errs, loss_alone[members], [errs_alone[t] for t in members]) & (w > 0)
                if ok.all():
                    break
                members = [t for t, keep in zip(members, ok) if keep]
            else:
                warnings.warn(
                    f"{name}: the candidate group {cand} still lost tasks after max_rounds={self.max_rounds} "
                    f"pruning rounds; its tasks are fitted alone. Increase max_rounds.",
                    UserWarning,
                )
                members = []
            if members:
                chosen.append(members)
                taken[members] = True
        weight[~taken] = 0.0
        all_rows = np.arange(data.n_samples)
        self._groups_codes = chosen
        self._alone_codes = [t for t in all_tasks if not taken[t]]
        self.estimators_ = [self._fit_sub(self.estimator, data, all_rows, g) for g in chosen]
        self.estimators_ += [self._fit_sub(baseline, data, all_rows, [t]) for t in self._alone_codes]
        # the blended members' own baselines (weight below 1), by task code
        self._member_baselines = {t: self._fit_sub(baseline, data, all_rows, [t])
                                  for g in chosen for t in g if weight[t] < 1.0}
        self.shared_weight_ = weight
        self.task_groups_ = [self.tasks_[g] for g in chosen]
        self.independent_tasks_ = self.tasks_[self._alone_codes]
        metric = self._metric
        self.cv_results_ = {
            "task": self.tasks_.copy(),
            f"{metric}_independent": loss_alone,
            f"{metric}_shared": loss_shared,
            "weight_shared": weight.copy(),
            "shared": taken.copy(),
        }
        self.__dict__.pop("_wide", None)
        return self

    def _codes(self, group, name):
        labels = list(self.tasks_)
        try:
            return [labels.index(t) for t in group]
        except ValueError:
            raise ValueError(f"{name}: groups must list task labels among {labels}; got {group!r}.") from None


class TaskGroupingRegressor(MultiTaskRegressorMixin, _TaskGroupingBase):
    """Fit a multi-task regressor only on the tasks it helps, chosen by cross-validation.

    See the module docstring for the procedure. Works on wide input (``Y`` with
    NaN for missing targets) and long input (``task_column``).

    Parameters
    ----------
    estimator : multi-task regressor
        Fitted (as clones) on groups of tasks, e.g. ``L21RegressorCV()``.
    baseline : regressor, default=None
        Single-task regressor fitted per task where sharing does not help;
        ``RidgeCV(alphas=np.logspace(-3, 3, 13))`` when None.
    groups : "auto" or list of lists of task labels, default="auto"
        Candidate groups. ``"auto"``: one candidate, all tasks, pruned as in the
        module docstring. A list: each candidate is pruned the same way (a task
        in several candidates stays in the first one that keeps it).
    blend : {"huber", "least_squares"} or bool, default="huber"
        Predict each group member by ``w_t shared + (1 - w_t) alone`` with the
        weight fitted on the held-out predictions (module docstring, step 3):
        a Huber slope (robust to heavy-tailed targets; ``True`` is the same) or
        the least-squares slope; False: the shared prediction alone (``w_t = 1``).
    cv : int, splitter or iterable of (train, test) rows, default=5
        Folds over rows, shared by every comparison (see
        :func:`~skmtl.linear.L21RegressorCV`'s ``cv``).
    tol : float, default=0.0
        A task stays in a group when ``e_t^G <= (1 + tol) e_t^ind`` ...
    min_evidence : float or "auto", default="auto"
        ... and its paired held-out gain from sharing is at least this many
        standard errors (see the module docstring); 0 turns the test off.
        ``"auto"``: 0 when blending, 1 without.
    max_rounds : int, default=10
        Pruning rounds per candidate; a candidate still losing tasks after them
        is dropped (its tasks are fitted alone) with a warning.
    task_column : str or int, default=None
        Task column of long input.

    Attributes
    ----------
    task_groups_ : list of ndarray
        The groups fitted jointly (labels from ``tasks_``), at least two tasks each.
    independent_tasks_ : ndarray
        The tasks fitted alone.
    shared_weight_ : ndarray of shape (n_tasks,)
        Weight ``w_t`` of the group model in each task's prediction (0 for the
        tasks fitted alone; 1 for every member without blending).
    cv_results_ : dict of ndarray
        Per task (in ``tasks_`` order): ``"task"``, ``"mse_independent"``,
        ``"mse_shared"`` (cross-validated error, blended, in the last group the
        task was evaluated in; NaN if never), ``"weight_shared"`` (its weight
        there), ``"shared"`` (bool).
    estimators_ : list
        One fitted estimator per group, then one baseline per independent task.
    tasks_, n_tasks_, n_features_in_

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import L21Regressor
    >>> from skmtl.model_selection import TaskGroupingRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 6))
    >>> W = np.column_stack([np.r_[1.0, 1.0, 0, 0, 0, 0]] * 3 + [rng.standard_normal(6)])
    >>> Y = X @ W + 0.3 * rng.standard_normal((80, 4))
    >>> model = TaskGroupingRegressor(L21Regressor(alpha=0.01), cv=3).fit(X, Y)
    >>> model.predict(X).shape
    (80, 4)
    """

    _parameter_constraints = {**_TaskGroupingBase._parameter_constraints,
                              "blend": [StrOptions({"huber", "least_squares"}), "boolean"]}

    def __init__(self, estimator, *, baseline=None, groups="auto", blend="huber", cv=5, tol=0.0, min_evidence="auto",
                 max_rounds=10, task_column=None):
        super().__init__(estimator, baseline=baseline, groups=groups, cv=cv, tol=tol, min_evidence=min_evidence,
                         max_rounds=max_rounds, task_column=task_column)
        self.blend = blend

    def _blend_method(self):
        if not self.blend:
            return None
        return "least_squares" if self.blend == "least_squares" else "huber"

    @staticmethod
    def _loss(y_true, y_pred):
        return (y_true - y_pred) ** 2

    @staticmethod
    def _default_baseline():
        return RidgeCV(alphas=RIDGE_ALPHAS)

    def _predict_tasks(self, X, task_codes):
        return self._predict_all(X, task_codes)


class TaskGroupingClassifier(MultiTaskClassifierMixin, _TaskGroupingBase):
    """Fit a multi-task classifier only on the tasks it helps, chosen by cross-validation.

    :class:`TaskGroupingRegressor` for classification: the per-task loss is the
    cross-validated misclassification rate, the default baseline
    ``LogisticRegression(max_iter=1000)`` per task. Attributes as
    :class:`TaskGroupingRegressor` (``cv_results_`` holds
    ``"error_independent"`` and ``"error_shared"``), plus ``classes_``.

    Parameters
    ----------
    estimator : multi-task classifier
        Fitted (as clones) on groups of tasks, e.g. ``L21ClassifierCV()``.
    baseline : classifier, default=None
        Single-task classifier fitted per task where sharing does not help;
        ``LogisticRegression(max_iter=1000)`` when None.
    groups : "auto" or list of lists of task labels, default="auto"
        Candidate groups, pruned as in :class:`TaskGroupingRegressor`.
    cv : int, splitter or iterable of (train, test) rows, default=5
        Folds over rows, shared by every comparison.
    tol : float, default=0.0
        A task stays in a group when ``e_t^G <= (1 + tol) e_t^ind`` ...
    min_evidence : float or "auto", default="auto"
        ... and its paired held-out gain from sharing is at least this many
        standard errors; 0 turns the test off. ``"auto"``: 1 (the classifier
        does not blend).
    max_rounds : int, default=10
        Pruning rounds per candidate.
    task_column : str or int, default=None
        Task column of long input.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear import L21Classifier
    >>> from skmtl.model_selection import TaskGroupingClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((90, 5))
    >>> Y = (X[:, :2] @ np.ones((2, 3)) + 0.5 * rng.standard_normal((90, 3)) > 0).astype(int)
    >>> model = TaskGroupingClassifier(L21Classifier(alpha=0.01), cv=3).fit(X, Y)
    >>> model.predict(X[:2]).shape
    (2, 3)
    """

    _metric = "error"

    @staticmethod
    def _loss(y_true, y_pred):
        return (y_true != y_pred).astype(np.float64)

    @staticmethod
    def _default_baseline():
        return LogisticRegression(max_iter=1000)

    def _predict_codes(self, X, task_codes):
        return self._predict_all(X, task_codes).astype(np.int64)


def _has_task_column(est):
    return getattr(est, "task_column", None) is not None


# Huber's tuning constant (95% efficiency at the normal) and the median absolute deviation's
# consistency factor for the normal scale.
_HUBER_C = 1.345
_MAD_NORMAL = 1.4826


def blend_weight(y, p, p0, method="huber"):
    """Weight ``w`` in [0, 1] of the blend ``p0 + w (p - p0)`` of two held-out predictions of ``y``.

    The slope of the regression through the origin of ``r = y - p0`` on
    ``D = p - p0``, clipped to [0, 1]; 0 when ``D`` is zero.

    * ``"least_squares"``: ``w_ls = <r, D> / ||D||^2`` (minimizes the squared error of the blend);
    * ``"huber"``: the Huber M-estimate with the scale ``s`` of the least-squares
      residuals (normal-consistent median absolute deviation of ``r - w_ls D``):
      ``w = argmin_{[0, 1]} sum_i rho_c((r_i - w D_i) / s)``, ``rho_c`` Huber's loss
      with ``c = 1.345``. The objective is convex in ``w`` and its derivative,
      ``-sum_i psi_c((r_i - w D_i) / s) D_i / s`` with ``psi_c(u) = clip(u, -c, c)``,
      is non-decreasing, so ``w`` is its root in [0, 1] (or the end where it
      does not change sign), found by Brent's method to 1e-12. With no spread in the
      residuals (``s = 0``) the least-squares slope stays.

    Parameters
    ----------
    y, p, p0 : ndarray of shape (n,)
        Observed targets, shared and alone predictions.
    method : {"huber", "least_squares"}, default="huber"

    Returns
    -------
    float
    """
    D = p - p0
    r = y - p0
    den = float(D @ D)
    if not den > 0.0:
        return 0.0
    w = min(max(float(r @ D) / den, 0.0), 1.0)
    if method == "least_squares":
        return w
    e = r - w * D
    s = _MAD_NORMAL * float(np.median(np.abs(e - np.median(e))))
    if not s > 0.0:
        return w

    def score(w):  # sum_i psi_c(e_i / s) D_i: non-increasing in w, zero at the M-estimate
        return float(np.clip((r - w * D) / s, -_HUBER_C, _HUBER_C) @ D)

    if score(0.0) <= 0.0:
        return 0.0
    if score(1.0) >= 0.0:
        return 1.0
    return float(brentq(score, 0.0, 1.0, xtol=1e-12))
