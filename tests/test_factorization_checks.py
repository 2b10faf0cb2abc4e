"""scikit-learn's estimator contract for the factorization estimators.

(Kept here until they are added to tests/test_estimator_checks.py.)
"""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.factorization import (
    FactorizedRegressor,
    ReducedRankRegressor,
    ReducedRankRegressorCV,
    SoftImputer,
)


@parametrize_with_checks(
    [
        ReducedRankRegressor(),
        ReducedRankRegressorCV(cv=2),
        FactorizedRegressor(rank=2, max_iter=20, random_state=0),
        SoftImputer(random_state=0),
    ],
    expected_failed_checks=lambda est: (
        {"check_sample_weight_equivalence_on_dense_data": "CV folds differ between weights and repeats"}
        if isinstance(est, ReducedRankRegressorCV)
        else {}
    ),
)
def test_sklearn_contract(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
