"""scikit-learn's estimator contract, run against every public skmtl estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.baselines import IndependentClassifier, IndependentRegressor, PooledRegressor


def public_estimators():
    """One instance of every public estimator, with settings that fit fast."""
    return [
        IndependentRegressor(),
        IndependentClassifier(),
        PooledRegressor(),
        PooledRegressor(task_intercept=False),
    ]


@parametrize_with_checks(public_estimators())
def test_sklearn_contract(estimator, check):
    check(estimator)
