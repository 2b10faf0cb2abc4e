"""scikit-learn's estimator contract for the L2,1 estimators."""

import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.linear import L21Regressor, L21RegressorCV, SparseGroupRegressor, SparseGroupRegressorCV

_CV_FOLDS = "CV folds differ between weights and repeated rows"


@parametrize_with_checks(
    [L21Regressor(), L21RegressorCV(n_alphas=5, cv=3),
     L21Regressor(alpha=0.1, penalty="group_mcp"), SparseGroupRegressor(),
     SparseGroupRegressorCV(l1_ratio=[0.3, 0.7], n_alphas=5, cv=3)],
    expected_failed_checks=lambda est: (
        {"check_sample_weight_equivalence_on_dense_data": _CV_FOLDS,
         "check_sample_weight_equivalence_on_sparse_data": _CV_FOLDS}
        if isinstance(est, (L21RegressorCV, SparseGroupRegressorCV)) else {}
    ),
)
def test_sklearn_contract(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
