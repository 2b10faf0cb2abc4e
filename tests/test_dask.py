"""Folds spread over a Dask cluster (127.0.0.1 only) give the serial results.

The cluster has two workers: with one, joblib's effective ``n_jobs`` is 1 and it runs
the calls in the calling thread, so nothing would reach the cluster.
"""

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")
pd = pytest.importorskip("pandas")

import joblib  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skmtl import PooledRegressor  # noqa: E402
from skmtl.linear import L21ClassifierCV, L21Regressor, L21RegressorCV, TraceNormRegressorCV  # noqa: E402
from skmtl.model_selection._pareto import pareto_front  # noqa: E402
from skmtl.model_selection._transfer import transfer_report  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8))
    W = np.zeros((8, 3))
    W[:3] = rng.normal(size=(3, 3))
    Y = X @ W + 0.5 * rng.normal(size=(60, 3))
    Y[::7, 1] = np.nan
    return X, Y


def _grid():
    return L21Regressor(), {"alpha": [0.01, 0.1, 0.5]}


def test_grid_search_on_dask_equals_serial(client, data):
    X, Y = data
    est, grid = _grid()
    serial = GridSearchCV(est, grid, cv=3).fit(X, Y)
    with joblib.parallel_backend("dask"):
        dist = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X, Y)
    np.testing.assert_allclose(dist.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert dist.best_params_ == serial.best_params_


def test_transfer_report_and_pareto_on_dask_equal_serial(client, data):
    X, Y = data
    est = _grid()[0]
    serial = transfer_report(est, X, Y, cv=3)
    with joblib.parallel_backend("dask"):
        dist = transfer_report(est, X, Y, cv=3, n_jobs=-1)
    pd.testing.assert_frame_equal(dist, serial)
    front = pareto_front(PooledRegressor(), X, Y[:, :2], n_weights=4)
    with joblib.parallel_backend("dask"):
        dfront = pareto_front(PooledRegressor(), X, Y[:, :2], n_weights=4, n_jobs=-1)
    np.testing.assert_allclose(dfront.all_losses, front.all_losses)


def test_reduced_rank_cv_folds_on_dask_equal_serial(client, data):
    from skmtl.factorization import ReducedRankRegressorCV

    X, Y = data[0], data[1]
    serial = ReducedRankRegressorCV(cv=3).fit(X, Y)
    with joblib.parallel_backend("dask"):
        spread = ReducedRankRegressorCV(cv=3, n_jobs=-1).fit(X, Y)
    assert np.allclose(serial.cv_scores_, spread.cv_scores_)
    assert serial.rank_ == spread.rank_


@pytest.mark.parametrize("make, fold_module, fold_func", [
    (lambda n_jobs: L21RegressorCV(cv=3, n_alphas=8, n_jobs=n_jobs), "skmtl.linear._cv", "_fold_scores"),
    (lambda n_jobs: TraceNormRegressorCV(cv=3, n_alphas=6, n_jobs=n_jobs), "skmtl.linear._cv", "_fold_scores"),
    (lambda n_jobs: L21ClassifierCV(cv=3, n_alphas=4, n_jobs=n_jobs, tol=1e-4), "skmtl.linear._cv", "_fold_scores"),
], ids=["L21RegressorCV", "TraceNormRegressorCV", "L21ClassifierCV"])
def test_cv_estimator_folds_on_dask_equal_serial(client, data, make, fold_module, fold_func, monkeypatch):
    import importlib

    X, Y = data
    if "Classifier" in type(make(None)).__name__:
        Y = np.where(np.isnan(Y), np.nan, (Y > 0).astype(float))
    serial = make(None).fit(X, Y)
    module = importlib.import_module(fold_module)
    original = getattr(module, fold_func)
    # Dask pickles the task: record through the module (pickled by reference), not a closure
    monkeypatch.setattr(module, "_on_dask_worker", [], raising=False)

    def recording(*args, **kwargs):
        try:
            distributed.get_worker()
            module._on_dask_worker.append(True)
        except ValueError:  # not inside a Dask worker
            module._on_dask_worker.append(False)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, fold_func, recording)
    with joblib.parallel_backend("dask"):
        spread = make(-1).fit(X, Y)
    assert module._on_dask_worker == [True] * 3  # every fold ran on the cluster
    assert serial.alpha_ == spread.alpha_
    np.testing.assert_allclose(spread.coef_, serial.coef_, rtol=1e-10, atol=1e-12)
