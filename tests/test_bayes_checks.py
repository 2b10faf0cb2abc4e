"""scikit-learn's estimator contract for the Bayesian estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.bayes import BayesianMultiTaskRegressor, MultiTaskARDRegressor


def _expected_failures(estimator):
    if (isinstance(estimator, BayesianMultiTaskRegressor) and estimator.method == "em"
            and (estimator.covariance_prior is None or estimator.covariance != "full")):
        # Without the inverse-Wishart prior on a full Sigma, the check fits ONE task with more features than rows: the evidence of a
        # hierarchical model with a single task is unbounded (mu interpolates, Sigma and
        # the noise go to zero), so EM stops at max_iter wherever it is. Weighted and
        # repeated data follow the same iterates up to rounding, which that path amplifies.
        return {
            "check_sample_weight_equivalence_on_dense_data": (
                "one task with n < d: evidence unbounded, EM does not converge"
            )
        }
    return {}


@parametrize_with_checks(
    [
        BayesianMultiTaskRegressor(),
        BayesianMultiTaskRegressor(covariance="low_rank", n_components=1),
        BayesianMultiTaskRegressor(method="gibbs", n_chains=2, n_samples=50, burn_in=50, random_state=0),
        MultiTaskARDRegressor(),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_contract(estimator, check):
    check(estimator)
