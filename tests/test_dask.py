"""Folds spread over a Dask cluster (127.0.0.1 only) give the serial results."""

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")
pd = pytest.importorskip("pandas")

import joblib  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skmtl import PooledRegressor  # noqa: E402
from skmtl.model_selection._pareto import pareto_front  # noqa: E402
from skmtl.model_selection._transfer import transfer_report  # noqa: E402

try:
    from skmtl.linear._l21 import L21Regressor
except ImportError:  # the linear family has not landed
    L21Regressor = None


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp",
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
    if L21Regressor is not None:
        return L21Regressor(), {"alpha": [0.01, 0.1, 0.5]}
    return PooledRegressor(Ridge()), {"estimator__alpha": [0.1, 1.0, 10.0]}


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
