import numpy as np
import pytest

from skmtl.datasets import make_multitask_regression


def test_default_wide_tuple_and_noiseless_model():
    X, Y, coef = make_multitask_regression(random_state=0)
    assert X.shape == (100, 20) and Y.shape == (100, 5) and coef.shape == (5, 20)
    X, Y, coef = make_multitask_regression(30, 6, 3, structure="independent", noise=0.0, bias=2.0, random_state=0)
    assert np.allclose(Y, X @ coef.T + 2.0)


def test_reproducible():
    a = make_multitask_regression(structure="graph", missing_rate=0.3, random_state=3, as_bunch=True)
    b = make_multitask_regression(structure="graph", missing_rate=0.3, random_state=3, as_bunch=True)
    c = make_multitask_regression(structure="graph", missing_rate=0.3, random_state=4, as_bunch=True)
    for key in ("X", "y", "coef", "adjacency"):
        assert np.array_equal(a[key], b[key], equal_nan=True)
    assert not np.array_equal(a.coef, c.coef)


def test_row_sparse_support():
    d = make_multitask_regression(n_features=30, n_tasks=6, n_informative=4, random_state=0, as_bunch=True)
    nonzero = np.any(d.coef != 0, axis=0)
    assert nonzero.sum() == 4
    assert np.all(d.coef[:, nonzero] != 0)  # shared by every task
    assert np.array_equal(d.support, np.broadcast_to(nonzero, d.coef.shape))


def test_row_sparse_partly_shared():
    d = make_multitask_regression(
        n_features=40, n_tasks=5, n_informative=6, shared_fraction=0.5, random_state=1, as_bunch=True
    )
    assert np.all((d.coef != 0).sum(axis=1) == 6)
    assert np.sum(np.all(d.coef != 0, axis=0)) >= 3
    assert np.sum(np.any(d.coef != 0, axis=0)) > 6


@pytest.mark.parametrize("rank", [1, 3])
def test_low_rank(rank):
    _, _, coef = make_multitask_regression(n_features=15, n_tasks=8, structure="low_rank", rank=rank, random_state=0)
    assert np.linalg.matrix_rank(coef) == rank
    assert 0.2 < np.std(coef) < 5


def test_clustered_separation():
    d = make_multitask_regression(
        n_features=30, n_tasks=9, structure="clustered", n_clusters=3, random_state=0, as_bunch=True
    )
    assert np.array_equal(np.bincount(d.clusters), [3, 3, 3])
    dist = np.linalg.norm(d.coef[:, None] - d.coef[None], axis=2)
    same = d.clusters[:, None] == d.clusters[None]
    off_diag = ~np.eye(9, dtype=bool)
    assert dist[same & off_diag].max() < dist[~same].min()
    assert np.allclose(d.centers[d.clusters], d.coef, atol=5 * 0.3)


def test_mean_structure():
    d = make_multitask_regression(n_features=50, n_tasks=6, structure="mean", task_std=0.1, random_state=0, as_bunch=True)
    spread = np.linalg.norm(d.coef - d.centers[0], axis=1)
    assert np.all(spread < 0.2 * np.linalg.norm(d.centers[0]))


def test_graph_neighbours_similar():
    d = make_multitask_regression(n_features=50, n_tasks=12, structure="graph", random_state=0, as_bunch=True)
    A = d.adjacency
    assert np.array_equal(A, A.T) and np.all(np.diag(A) == 0)
    assert A.sum() / 2 == 11  # a tree: connected with n_tasks - 1 edges
    dist = np.linalg.norm(d.coef[:, None] - d.coef[None], axis=2)
    non_edges = (A == 0) & ~np.eye(12, dtype=bool)
    assert dist[A == 1].mean() < 0.6 * dist[non_edges].mean()


@pytest.mark.parametrize("rate", [0.3, 0.97])
def test_missing_wide(rate):
    _, Y, _ = make_multitask_regression(50, 5, 4, missing_rate=rate, random_state=0)
    assert np.isnan(Y).sum() == min(round(rate * 200), 200 - 4)
    assert np.all((~np.isnan(Y)).sum(axis=0) >= 1)


def test_long_layout_sizes_and_missing():
    X, y, task, coef = make_multitask_regression(
        n_features=6, task_sizes=[3, 10, 25], missing_rate=0.5, random_state=0
    )
    assert coef.shape == (3, 6) and X.shape == (38, 6) and y.shape == (38,)
    assert np.array_equal(np.bincount(task), [3, 10, 25])
    assert np.isnan(y).sum() == 19
    assert np.all(np.bincount(task[~np.isnan(y)], minlength=3) >= 1)
    X, y, task, coef = make_multitask_regression(10, 4, 2, layout="long", noise=0.0, n_informative=2, random_state=0)
    assert np.array_equal(np.bincount(task), [10, 10])
    assert np.allclose(y, np.sum(X * coef[task], axis=1))


def test_bunch_keys():
    d = make_multitask_regression(structure="low_rank", random_state=0, as_bunch=True)
    assert d.task is None and d.clusters is None and d.adjacency is None and d.layout == "wide"
    assert d.y.shape == (100, 5) and d.intercept.shape == (5,)


def test_errors():
    with pytest.raises(ValueError, match="structure must be one of"):
        make_multitask_regression(structure="sparse")
    with pytest.raises(ValueError, match=r"rank=6 must be at most min\(n_tasks, n_features\) = 5"):
        make_multitask_regression(structure="low_rank", rank=6)
    with pytest.raises(ValueError, match="n_clusters=6 is larger than n_tasks=5"):
        make_multitask_regression(structure="clustered", n_clusters=6)
    with pytest.raises(ValueError, match="n_informative=30 is larger than n_features=20"):
        make_multitask_regression(n_informative=30)
    with pytest.raises(ValueError, match=r"missing_rate must be a number in \[0.0, 1.0\)"):
        make_multitask_regression(missing_rate=1.0)
    with pytest.raises(ValueError, match="task_sizes has 2 entries but n_tasks=3"):
        make_multitask_regression(n_tasks=3, task_sizes=[4, 5])
    with pytest.raises(ValueError, match="needs layout='long'"):
        make_multitask_regression(task_sizes=[4, 5], layout="wide")
    with pytest.raises(ValueError, match="positive integers"):
        make_multitask_regression(task_sizes=[4, 0])
