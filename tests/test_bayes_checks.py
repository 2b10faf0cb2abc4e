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


# EM to tol=1e-4 rather than the default 1e-6: the checks test the API contract, not the optimum.
# On their small random data the default tolerance takes ~400-1200 EM iterations per fit, each
# refitting the hyperpriors (the module took about 7x as long). The same code paths run; fits at
# the default tolerance are tested in test_bayes.py.
_EM_CHECK_TOL = 1e-4


@parametrize_with_checks(
    [
        BayesianMultiTaskRegressor(tol=_EM_CHECK_TOL),
        BayesianMultiTaskRegressor(covariance="low_rank", n_components=1, tol=_EM_CHECK_TOL),
        BayesianMultiTaskRegressor(method="gibbs", n_chains=2, n_samples=50, burn_in=50, random_state=0),
        MultiTaskARDRegressor(),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_contract(estimator, check):
    check(estimator)
