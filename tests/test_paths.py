"""One path API for the linear families: l21_path and trace_norm_path take the same inputs and return the same tuple."""

import numpy as np
import pytest

from skmtl.linear import (
    TraceNormRegressor,
    TraceNormRegressorCV,
    l21_alpha_max,
    l21_path,
    trace_norm_alpha_max,
    trace_norm_path,
)


def _problem(seed=0, n=60, p=8, T=4, nan_frac=0.2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, 2)) @ rng.standard_normal((2, T))  # rank 2
    Y = X @ W + 0.5 * rng.standard_normal((n, T))
    Y[rng.random(Y.shape) < nan_frac] = np.nan
    Y[0] = 1.0
    return X, Y


@pytest.mark.parametrize("path, alpha_max", [(l21_path, l21_alpha_max), (trace_norm_path, trace_norm_alpha_max)])
def test_same_signature_and_outputs(path, alpha_max):
    X, Y = _problem(0)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    out = path(X, Y, n_alphas=5, eps=0.01, sample_weight=sw, task_weight="balanced",
               return_intercept=True, return_n_iter=True)
    alphas, coefs, gaps, intercepts, n_iters = out
    assert alphas.shape == (5,) and coefs.shape == (5, 4, 8) and gaps.shape == (5,)
    assert intercepts.shape == (5, 4) and n_iters.shape == (5,)
    assert alphas[0] == pytest.approx(alpha_max(X, Y, sample_weight=sw, task_weight="balanced"))
    assert np.abs(coefs[0]).max() < 1e-10 and np.abs(coefs[-1]).max() > 1e-3
    assert np.all(np.isfinite(gaps)) and np.all(gaps >= -1e-12)
    assert len(path(X, Y, alphas=[0.5, 0.1])) == 3


def test_trace_norm_path_equals_single_fits_wide_and_long():
    X, Y = _problem(1)
    alphas, coefs, gaps, intercepts = trace_norm_path(X, Y, n_alphas=6, eps=0.05, tol=1e-10, max_iter=20000,
                                                      return_intercept=True)
    for k in (2, 5):
        m = TraceNormRegressor(alphas[k], tol=1e-10, max_iter=20000).fit(X, Y)
        np.testing.assert_allclose(coefs[k], m.coef_, atol=1e-6)
        np.testing.assert_allclose(intercepts[k], m.intercept_, atol=1e-6)
    # long input, the task in column 0: the same observations, the same path
    rows, tasks = np.nonzero(~np.isnan(Y))
    Xl = np.column_stack([tasks, X[rows]])
    sw = np.full(len(rows), len(rows) / len(X))  # long weights as the wide ones (omega = 1/n)
    _, coefs_l, _ = trace_norm_path(Xl, Y[rows, tasks], alphas=alphas, task_column=0, sample_weight=sw,
                                    tol=1e-10, max_iter=20000)
    np.testing.assert_allclose(coefs_l, coefs, atol=1e-6)


def test_trace_norm_cv_grid_starts_at_alpha_max():
    X, Y = _problem(2, nan_frac=0.0)
    cv = TraceNormRegressorCV(n_alphas=4, cv=3).fit(X, Y)
    assert cv.alphas_[0] == pytest.approx(trace_norm_alpha_max(X, Y))


def test_trace_norm_path_bad_alphas():
    X, Y = _problem(3)
    with pytest.raises(ValueError, match="non-negative"):
        trace_norm_path(X, Y, alphas=[0.1, -1.0])
