"""Every plot renders to a non-blank PNG with the Agg backend."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from skmtl import PooledRegressor  # noqa: E402
from skmtl.model_selection._pareto import pareto_front  # noqa: E402
from skmtl.model_selection._transfer import transfer_report  # noqa: E402
from skmtl.plotting import (  # noqa: E402
    plot_gp_predictions,
    plot_pareto_front,
    plot_regularization_path,
    plot_singular_values,
    plot_support_heatmap,
    plot_task_correlation,
    plot_transfer_report,
)


def _check_png(obj, path):
    fig = obj.figure if hasattr(obj, "figure") and not hasattr(obj, "savefig") else obj
    fig.savefig(path, dpi=50)
    plt.close(fig)
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 10
    assert img[..., :3].var() > 0


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    W = np.zeros((3, 6))
    W[:, :2] = rng.normal(size=(3, 2))
    Y = X @ W.T + 0.3 * rng.normal(size=(60, 3))
    return X, Y, W


def test_regularization_path(problem, tmp_path):
    alphas = np.logspace(0, -2, 8)
    coefs = np.array([problem[2] * (1 - np.exp(-1 / a)) for a in alphas])
    _check_png(plot_regularization_path(alphas, coefs), tmp_path / "a.png")
    # scikit-learn path layout (n_tasks, n_features, n_alphas)
    _check_png(plot_regularization_path(alphas, np.moveaxis(coefs, 0, -1)), tmp_path / "b.png")


def test_regularization_path_of_l21_path(problem, tmp_path):
    l21 = pytest.importorskip("skmtl.linear._path")
    X, Y, _ = problem
    alphas, coefs = l21.l21_path(X, Y, n_alphas=10)[:2]
    ax = plot_regularization_path(alphas, coefs, alpha=alphas[5])
    assert len(ax.lines) == X.shape[1] + 1
    _check_png(ax, tmp_path / "l21.png")
    # the sparse path (one matrix per alpha, as on genotypes): the selected features only
    _, sparse_coefs = l21.l21_path(X, Y, alphas=alphas, coef_format="sparse")[:2]
    selected = np.flatnonzero(np.any(coefs != 0, axis=(0, 1)))
    ax = plot_regularization_path(alphas, sparse_coefs)
    assert len(ax.lines) == len(selected)
    np.testing.assert_allclose(ax.lines[0].get_ydata(),
                               np.linalg.norm(coefs[:, :, selected[0]], axis=1)[np.argsort(alphas)])


def test_support_heatmap_from_estimator(problem, tmp_path):
    X, Y, W = problem
    est = PooledRegressor().fit(X, Y)
    est.coef_ = W  # stand-in for a fitted linear model
    _check_png(plot_support_heatmap(est), tmp_path / "s.png")


def test_task_correlation(problem, tmp_path):
    W = problem[2]
    _check_png(plot_task_correlation(W), tmp_path / "c1.png")
    _check_png(plot_task_correlation(np.corrcoef(W)), tmp_path / "c2.png")


def test_singular_values(problem, tmp_path):
    _check_png(plot_singular_values(problem[2]), tmp_path / "sv.png")


def test_gp_predictions(tmp_path):
    x = np.linspace(0, 1, 30)
    mean = np.column_stack([np.sin(6 * x), np.cos(6 * x)])
    Y = mean + 0.1
    Y[::3, 1] = np.nan
    fig = plot_gp_predictions(x, mean, 0.1 * np.ones_like(mean), X_train=x, Y_train=Y)
    assert len([a for a in fig.axes if a.get_visible()]) == 2
    _check_png(fig, tmp_path / "gp.png")


def test_transfer_report_and_pareto(problem, tmp_path):
    X, Y, _ = problem
    report = transfer_report(PooledRegressor(), X, Y, cv=3)
    _check_png(plot_transfer_report(report), tmp_path / "t.png")
    res = pareto_front(PooledRegressor(), X, Y[:, :2], n_weights=5)
    _check_png(plot_pareto_front(res), tmp_path / "p.png")


def test_plotting_bad_input():
    with pytest.raises(ValueError, match="do not match"):
        plot_regularization_path(np.ones(3), np.ones((4, 2, 5)))
