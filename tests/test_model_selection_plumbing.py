"""Model-selection plumbing of the ``*CV`` estimators and of ``score``, as
scikit-learn's ``LassoCV`` / ``RidgeCV`` have it: ``cv`` as an int, a splitter
or an iterable of splits; ``groups`` reaching the splitter; ``scoring`` strings
and scorers; ``score(X, y, sample_weight)``."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics import make_scorer, mean_absolute_error, r2_score
from sklearn.model_selection import GroupKFold, KFold

from skmtl import IndependentClassifier, IndependentRegressor
from skmtl.factorization import ReducedRankRegressor, ReducedRankRegressorCV
from skmtl.linear import (
    L21Classifier,
    L21ClassifierCV,
    L21Regressor,
    L21RegressorCV,
    MeanRegularizedClassifier,
    SparseGroupRegressorCV,
    TaskRelationshipClassifier,
    TraceNormClassifier,
    TraceNormClassifierCV,
    TraceNormRegressorCV,
)
from skmtl.model_selection import get_scorer, task_r2_scorer

CV_ESTIMATORS = {
    "L21RegressorCV": lambda cv: L21RegressorCV(n_alphas=4, cv=cv),
    "TraceNormRegressorCV": lambda cv: TraceNormRegressorCV(n_alphas=4, cv=cv),
    "SparseGroupRegressorCV": lambda cv: SparseGroupRegressorCV(n_alphas=4, cv=cv, l1_ratio=0.5),
    "ReducedRankRegressorCV": lambda cv: ReducedRankRegressorCV(cv=cv, alphas=[0.0, 1.0]),
}


def _problem(n=48, p=6, T=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, T))
    W[3:] = 0.0
    Y = X @ W + 0.3 * rng.standard_normal((n, T))
    return X, Y


class _RecordingSplitter:
    """A splitter that remembers what it yielded (and the groups it got)."""

    def __init__(self, inner):
        self.inner = inner
        self.splits = []
        self.groups = None

    def split(self, X, y=None, groups=None):
        self.groups = groups
        for train, test in self.inner.split(X, y, groups):
            self.splits.append((train, test))
            yield train, test

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.inner.get_n_splits(X, y, groups)


def _fit(est, X, Y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, Y, **kw)


@pytest.mark.parametrize("name", list(CV_ESTIMATORS))
def test_cv_int_splitter_and_list_of_splits_agree(name):
    X, Y = _problem()
    make = CV_ESTIMATORS[name]
    splits = list(KFold(3).split(X))
    a = _fit(make(3), X, Y)
    b = _fit(make(KFold(3)), X, Y)
    c = _fit(make(splits), X, Y)
    d = _fit(make(iter(splits)), X, Y)  # a one-shot iterable, as scikit-learn accepts
    for other in (b, c, d):
        np.testing.assert_allclose(other.coef_, a.coef_, rtol=1e-6, atol=1e-8)
        assert other.alpha_ == a.alpha_


@pytest.mark.parametrize("name", list(CV_ESTIMATORS))
def test_groups_reach_the_splitter_and_no_group_is_split(name):
    X, Y = _problem()
    groups = np.repeat(np.arange(8), 6)
    splitter = _RecordingSplitter(GroupKFold(4))
    _fit(CV_ESTIMATORS[name](splitter), X, Y, groups=groups)
    assert splitter.groups is not None and np.array_equal(splitter.groups, groups)
    assert len(splitter.splits) == 4
    for train, test in splitter.splits:
        assert not set(groups[train]) & set(groups[test])


@pytest.mark.parametrize("make", [lambda cv: L21ClassifierCV(n_alphas=3, cv=cv),
                                  lambda cv: TraceNormClassifierCV(n_alphas=3, cv=cv)])
def test_classifier_cv_groups_reach_the_splitter(make):
    X, Y = _problem()
    labels = (Y > 0).astype(int)
    groups = np.repeat(np.arange(8), 6)
    splitter = _RecordingSplitter(GroupKFold(4))
    _fit(make(splitter), X, labels, groups=groups)
    assert np.array_equal(splitter.groups, groups) and len(splitter.splits) == 4
    for train, test in splitter.splits:
        assert not set(groups[train]) & set(groups[test])


@pytest.mark.parametrize("name", list(CV_ESTIMATORS))
def test_bad_cv_is_a_clear_error(name):
    X, Y = _problem()
    with pytest.raises(ValueError, match="cv"):
        _fit(CV_ESTIMATORS[name]([(np.arange(10), np.arange(10, 200))]), X, Y)
    with pytest.raises(ValueError, match="groups"):
        _fit(CV_ESTIMATORS[name](GroupKFold(3)), X, Y, groups=np.arange(5))


# --------------------------------------------------------------------------
# scoring
# --------------------------------------------------------------------------

PATH_CV = {
    "L21RegressorCV": lambda scoring: L21RegressorCV(n_alphas=5, cv=3, scoring=scoring),
    "TraceNormRegressorCV": lambda scoring: TraceNormRegressorCV(n_alphas=5, cv=3, scoring=scoring),
    "SparseGroupRegressorCV": lambda scoring: SparseGroupRegressorCV(n_alphas=5, cv=3, scoring=scoring,
                                                                     l1_ratio=0.5),
}


@pytest.mark.parametrize("name", list(PATH_CV))
@pytest.mark.parametrize("scoring", ["r2", "neg_mean_squared_error", "neg_mean_absolute_error",
                                     "task_r2", "neg_nmse", "explained_variance", "neg_arrmse"])
def test_scoring_strings(name, scoring):
    X, Y = _problem()
    m = _fit(PATH_CV[name](scoring), X, Y)
    assert np.all(np.isfinite(m.score_path_))
    assert getattr(m, "lambda_", m.alpha_) in np.ravel(m.alphas_)  # SparseGroupRegressorCV: a lambda grid


@pytest.mark.parametrize("name", list(PATH_CV))
def test_scorers_agree_with_the_same_metric_by_name(name):
    X, Y = _problem()
    r2 = _fit(PATH_CV[name]("r2"), X, Y)
    for scoring in ("task_r2", get_scorer("task_r2"), task_r2_scorer, make_scorer(r2_score)):
        other = _fit(PATH_CV[name](scoring), X, Y)
        np.testing.assert_allclose(other.score_path_, r2.score_path_, rtol=1e-10, atol=1e-12)
    mse = _fit(PATH_CV[name](None), X, Y)
    neg = _fit(PATH_CV[name](sklearn_get_scorer("neg_mean_squared_error")), X, Y)
    np.testing.assert_allclose(neg.score_path_, mse.score_path_, rtol=1e-10, atol=1e-12)
    mae = _fit(PATH_CV[name]("neg_mean_absolute_error"), X, Y)
    ref = _fit(PATH_CV[name](make_scorer(mean_absolute_error, greater_is_better=False)), X, Y)
    np.testing.assert_allclose(ref.score_path_, mae.score_path_, rtol=1e-10, atol=1e-12)


def test_scoring_long_input_uses_the_task_of_each_row():
    X, Y = _problem()
    n, T = Y.shape
    Xl = np.column_stack([np.repeat(np.arange(T), n), np.tile(X, (T, 1))])
    yl = Y.T.ravel()
    r2 = _fit(L21RegressorCV(n_alphas=5, cv=3, task_column=0, scoring="r2"), Xl, yl)
    task = _fit(L21RegressorCV(n_alphas=5, cv=3, task_column=0, scoring="task_r2"), Xl, yl)
    np.testing.assert_allclose(task.score_path_, r2.score_path_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(PATH_CV))
def test_unknown_scoring_names_the_estimator(name):
    X, Y = _problem()
    with pytest.raises(ValueError, match=f"{name}.*scoring='accuracy_of_vibes'"):
        _fit(PATH_CV[name]("accuracy_of_vibes"), X, Y)


# --------------------------------------------------------------------------
# score(X, y, sample_weight)
# --------------------------------------------------------------------------

CLASSIFIERS = {
    "L21Classifier": lambda: L21Classifier(alpha=0.01),
    "TraceNormClassifier": lambda: TraceNormClassifier(alpha=0.01),
    "MeanRegularizedClassifier": lambda: MeanRegularizedClassifier(),
    "TaskRelationshipClassifier": lambda: TaskRelationshipClassifier(),
    "IndependentClassifier": lambda: IndependentClassifier(),
}


def _classification(seed=0, n=80, p=5, T=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, T))
    Y = (X @ W + 1.5 * rng.standard_normal((n, T)) > 0).astype(int)
    return X, Y


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifier_score_honours_sample_weight(name, layout):
    X, Y = _classification()
    n, T = Y.shape
    if layout == "long":
        X = np.column_stack([np.repeat(np.arange(T), n), np.tile(X, (T, 1))])
        Y = Y.T.ravel()
        est = CLASSIFIERS[name]().set_params(task_column=0)
    else:
        est = CLASSIFIERS[name]()
    m = _fit(est, X, Y)
    wrong = m.predict(X) != Y
    if wrong.ndim == 2:
        wrong = wrong.any(axis=1)
    assert 0 < wrong.sum() < len(wrong)
    plain = m.score(X, Y)
    assert m.score(X, Y, sample_weight=np.ones(len(X))) == pytest.approx(plain)
    heavy = m.score(X, Y, sample_weight=np.where(wrong, 10.0, 1.0))
    light = m.score(X, Y, sample_weight=np.where(wrong, 0.1, 1.0))
    assert heavy < plain < light


@pytest.mark.parametrize("name", ["L21Regressor", "ReducedRankRegressor", "IndependentRegressor"])
def test_regressor_score_honours_sample_weight(name):
    X, Y = _problem()
    est = {"L21Regressor": lambda: L21Regressor(alpha=0.01),
           "ReducedRankRegressor": lambda: ReducedRankRegressor(rank=2),
           "IndependentRegressor": lambda: IndependentRegressor()}[name]()
    m = _fit(est, X, Y)
    err = ((m.predict(X) - Y) ** 2).sum(axis=1)
    worst = err > np.quantile(err, 0.8)
    plain = m.score(X, Y)
    assert m.score(X, Y, sample_weight=np.where(worst, 10.0, 1.0)) < plain
