"""scikit-learn's estimator contract, run against every public skmtl estimator.

Most families are checked here; some keep their checks next to their other tests
(``CHECK_MODULES``). :func:`test_every_public_estimator_is_checked` walks the
public ``__all__`` lists and fails when an estimator class is checked nowhere,
or only in a test that the default suite deselects (``slow`` / ``gpu``).
"""

import importlib
import inspect
import warnings

import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.baselines import IndependentClassifier, IndependentRegressor, IndependentRidgeCV, PooledRegressor
from skmtl.linear import (
    DirtyRegressor,
    L21Classifier,
    L21ClassifierCV,
    SparseLowRankRegressor,
    TraceNormClassifier,
    TraceNormClassifierCV,
    TraceNormRegressor,
    TraceNormRegressorCV,
)

# Modules whose ``__all__`` lists public estimators.
PUBLIC_MODULES = ["skmtl", "skmtl.linear", "skmtl.factorization", "skmtl.bayes", "skmtl.gaussian_process"]

# Test modules holding a ``test_sklearn_contract`` built by ``parametrize_with_checks``.
CHECK_MODULES = [
    "test_estimator_checks",
    "test_linear_l21_checks",
    "test_relationship",
    "test_clustered",
    "test_robust",
    "test_strength_cv",
    "test_factorization_checks",
    "test_bayes_checks",
    "test_gaussian_process_checks",
]

# The multi-task classifiers follow scikit-learn's multi-output convention
# (MultiOutputClassifier, forests): ``classes_`` is a list with one label array
# per task. check_classifier_multioutput instead indexes ONE ``classes_`` array
# with the thresholded decision function (``classes_[decision > 0]``), which a
# list cannot do; everything else in that check (shapes, dtypes, per-task
# predict_proba) is what these classifiers return.
_PER_TASK_CLASSES = {
    "check_classifier_multioutput": "classes_ is a list of per-task label arrays; "
    "the check indexes a single classes_ array with the decision function",
}


def public_estimators():
    """One instance of each estimator checked here, with settings that fit fast."""
    return [
        IndependentRegressor(),
        IndependentRidgeCV(),
        IndependentRidgeCV(alpha_per_task=True),
        IndependentClassifier(),
        PooledRegressor(),
        PooledRegressor(task_intercept=False),
        TraceNormRegressor(),  # the default alpha (a tenth of alpha_max)
        TraceNormRegressorCV(n_alphas=4, cv=2, tol=1e-4),
        DirtyRegressor(),
        SparseLowRankRegressor(),
        L21Classifier(),
        L21Classifier(alpha=0.1, penalty="group_mcp", tol=1e-4),
        L21ClassifierCV(n_alphas=2, cv=2, tol=1e-4, max_iter=300),
        TraceNormClassifier(),
        TraceNormClassifierCV(n_alphas=2, cv=2, tol=1e-4, max_iter=300),
    ]


# Leave-one-out errors weight a row by its sample weight; repeating the row instead
# adds copies that stay in the training part when one copy is left out.
_LOO_WEIGHTS = {
    "check_sample_weight_equivalence_on_dense_data": "leave-one-out: a repeated row is not left out with its copies",
    "check_sample_weight_equivalence_on_sparse_data": "leave-one-out: a repeated row is not left out with its copies",
}


def _expected_failures(estimator):
    if isinstance(estimator, IndependentRidgeCV):
        return _LOO_WEIGHTS
    if isinstance(estimator, (L21Classifier, L21ClassifierCV, TraceNormClassifier, TraceNormClassifierCV)):
        return _PER_TASK_CLASSES
    return {}


@parametrize_with_checks(public_estimators(), expected_failed_checks=_expected_failures)
def test_sklearn_contract(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _public_estimator_classes():
    found = {}
    for name in PUBLIC_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # only the GP module has optional dependencies
            assert name == "skmtl.gaussian_process", exc
            continue
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found[f"{name}.{attr}"] = obj
    return found


def _deselected_by_default(marks):
    return {m.name for m in marks} & {"slow", "gpu", "skip"}


def _checked_classes():
    """Estimator classes checked by the default suite, from the checks' pytest marks."""
    checked = set()
    for name in CHECK_MODULES:
        try:
            module = importlib.import_module(name)
        except pytest.skip.Exception:  # optional dependency absent (torch for the GPs)
            continue
        test = module.test_sklearn_contract
        module_marks = getattr(module, "pytestmark", [])
        module_marks = module_marks if isinstance(module_marks, list) else [module_marks]
        marks = list(getattr(test, "pytestmark", [])) + module_marks
        assert not _deselected_by_default(marks), f"{name}.test_sklearn_contract does not run by default"
        for mark in marks:
            if mark.name == "parametrize" and mark.args[0] == "estimator, check":
                for param in mark.args[1]:
                    values = param.values if hasattr(param, "values") else param
                    checked.add(type(values[0]))
    return checked


def _sklearn_before_1_7():
    import sklearn
    from packaging.version import Version

    return Version(sklearn.__version__) < Version("1.7")


@pytest.mark.skipif(_sklearn_before_1_7(), reason="scikit-learn 1.6's parametrize_with_checks hands pytest a "
                    "generator, consumed at collection: the marks no longer list the estimators")
def test_every_public_estimator_is_checked():
    public = _public_estimator_classes()
    assert len(public) >= 26  # the walk itself works
    checked = _checked_classes()
    missing = sorted(name for name, cls in public.items() if cls not in checked)
    assert missing == [], f"public estimators without scikit-learn estimator checks: {missing}"
