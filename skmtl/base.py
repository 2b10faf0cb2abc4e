"""Estimator bases shared by every skmtl model: input handling, predict, score.

A concrete estimator stores its parameters in ``__init__`` (``task_column``
among them), implements ``_fit(data)`` on a :class:`~skmtl._data.MultiTaskData`
and ``_predict_tasks(X, task_codes)``; the mixins here do the rest.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._data import _targets_to_numpy, validate_fit_data, validate_predict_data
from ._param_validation import validate_params
from .metrics import per_task_accuracy, per_task_r2

__all__ = [
    "MultiTaskMixin",
    "MultiTaskRegressorMixin",
    "MultiTaskClassifierMixin",
    "LinearModelMixin",
]


class MultiTaskMixin:
    """Input handling for wide and long multi-task data.

    Subclasses set ``_accept_sparse`` and ``_fit_dtypes`` to what their solver
    supports; float32 input stays float32 when ``np.float32`` is listed.
    """

    _accept_sparse = False
    _fit_dtypes = (np.float64,)
    _classification = False

    def _validate_fit(self, X, y, sample_weight=None):
        """Validate the hyperparameters, then the fit input; returns the :class:`~skmtl._data.MultiTaskData`.

        The hyperparameters are checked against the class's
        ``_parameter_constraints`` (:func:`~skmtl._param_validation.validate_params`),
        so every estimator whose ``fit`` starts here only declares them.
        """
        validate_params(self)
        return validate_fit_data(
            self,
            X,
            y,
            sample_weight,
            task_column=getattr(self, "task_column", None),
            accept_sparse=("csc", "csr") if self._accept_sparse else False,
            dtype=self._fit_dtypes,
            classification=self._classification,
        )

    def _validate_predict(self, X):
        """Validate predict input; returns ``(X, task_codes or None)``."""
        check_is_fitted(self, "tasks_")
        return validate_predict_data(
            self,
            X,
            task_column=getattr(self, "task_column", None),
            accept_sparse=("csc", "csr") if self._accept_sparse else False,
            dtype=self._fit_dtypes,
        )

    def _format_output(self, F):
        """Shape an (n_samples, n_tasks) or per-row result for the user."""
        if F.ndim == 2 and self._single_output:
            return F[:, 0]
        return F

    def _task_targets(self, y, task_codes):
        """Targets as given at score time, checked against the fitted shape."""
        y, _ = _targets_to_numpy(y)  # pandas nullable: pd.NA -> NaN, a missing target
        if task_codes is None:
            if y.ndim == 1 and not self._single_output and self.n_tasks_ != 1:
                raise ValueError(f"y must have shape (n_samples, {self.n_tasks_}); got {y.shape}.")
            if y.ndim == 2 and y.shape[1] != self.n_tasks_:
                raise ValueError(f"y has {y.shape[1]} task columns but the model has {self.n_tasks_} tasks.")
        return y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = bool(self._accept_sparse)
        return tags


class MultiTaskRegressorMixin(MultiTaskMixin, RegressorMixin):
    """``predict`` and ``score`` for multi-task regressors.

    ``predict`` returns (n_samples, n_tasks) for wide input (1-D when a 1-D
    ``y`` was fitted) and one value per row for long input. ``score`` is the
    mean over tasks of the per-task R^2 on observed entries.
    """

    def predict(self, X):
        """Predict every task (wide input) or each row's own task (long input).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.

        Returns
        -------
        ndarray of shape (n_samples, n_tasks) or (n_samples,)
        """
        X, codes = self._validate_predict(X)
        return self._format_output(self._predict_tasks(X, codes))

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the per-task R^2 on observed targets (NaN skipped).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            True targets (wide: NaN marks a missing target).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in every task's sums of squares.

        Returns
        -------
        score : float
        """
        Xv, codes = self._validate_predict(X)
        pred = self._format_output(self._predict_tasks(Xv, codes))
        y = self._task_targets(y, codes)
        task = codes if codes is not None else None
        return float(np.nanmean(per_task_r2(y, pred, task, sample_weight)))


class MultiTaskClassifierMixin(MultiTaskMixin, ClassifierMixin):
    """``predict`` and ``score`` for multi-task classifiers.

    Subclasses implement ``_predict_codes(X, task_codes)`` returning integer
    class codes, (n_samples, n_tasks) for wide input or (n_samples,) for long
    input; codes are mapped back to each task's ``classes_``.
    """

    _classification = True

    def _task_classes(self, t):
        return self.classes_ if self._single_output else self.classes_[t]

    def _decode(self, codes_out, task_codes):
        if task_codes is None:
            cols = [self._task_classes(t)[codes_out[:, t]] for t in range(codes_out.shape[1])]
            if self._single_output:
                return cols[0]
            return np.column_stack(cols) if cols else codes_out
        out = np.empty(len(task_codes), dtype=object)
        for t in np.unique(task_codes):
            m = task_codes == t
            out[m] = self._task_classes(t)[codes_out[m]]
        try:
            return out.astype(np.result_type(*[self._task_classes(t) for t in np.unique(task_codes)]))
        except TypeError:
            return out

    def predict(self, X):
        """Predict a class label per task (wide) or per row's task (long).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Labels in each task's ``classes_``: one column per task (wide input;
            1-D when a 1-D ``y`` was fitted) or one label per row (long input).
        """
        X, codes = self._validate_predict(X)
        return self._decode(self._predict_codes(X, codes), codes)

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the per-task accuracy on observed labels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            With the task column when the model was fitted on long input.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            True labels (wide: None or NaN marks a missing label).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row: each task's accuracy is the weighted share of
            its correct labels.

        Returns
        -------
        score : float
        """
        Xv, codes = self._validate_predict(X)
        pred = self._decode(self._predict_codes(Xv, codes), codes)
        y = self._task_targets(y, codes)
        return float(np.nanmean(per_task_accuracy(y, pred, codes, sample_weight)))


class LinearModelMixin:
    """Prediction for models with ``coef_`` (n_tasks, n_features) and ``intercept_``."""

    def _predict_tasks(self, X, task_codes):
        if task_codes is None:
            return np.asarray(X @ self.coef_.T) + self.intercept_
        if sp.issparse(X):
            row_dot = np.asarray(X.multiply(self.coef_[task_codes]).sum(axis=1)).ravel()
        else:
            row_dot = np.einsum("ij,ij->i", X, self.coef_[task_codes])
        return row_dot + self.intercept_[task_codes]
