"""Defaults that learn: alpha=None is a tenth of alpha_max; an all-zero fit warns and says why."""

import warnings

import numpy as np
import pytest

from skmtl.linear import (
    ClusteredRegressor,
    DirtyRegressor,
    GraphRegularizedRegressor,
    L21Classifier,
    L21Regressor,
    MeanRegularizedRegressor,
    RobustMultiTaskRegressor,
    SparseGroupRegressor,
    SparseLowRankRegressor,
    TaskRelationshipRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
    ZeroModelWarning,
    l21_alpha_max,
    trace_norm_alpha_max,
)


def make_data(n=150, p=20, T=4, seed=0):
    W = np.zeros((p, T))
    W[:5] = np.random.default_rng(42).standard_normal((5, T))  # the same tasks for every seed
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    Y = X @ W + 0.5 * rng.standard_normal((n, T))
    return X, Y


def held_out():
    return make_data(seed=1)


@pytest.mark.parametrize("Model", [L21Regressor, SparseGroupRegressor, TraceNormRegressor])
def test_regressor_defaults_learn(Model):
    X, Y = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZeroModelWarning)
        model = Model().fit(X, Y)
    Xt, Yt = held_out()
    assert model.score(Xt, Yt) > 0.8
    assert np.any(model.coef_ != 0)


@pytest.mark.parametrize("Model", [L21Classifier, TraceNormClassifier])
def test_classifier_defaults_learn(Model):
    X, Y = make_data()
    Xt, Yt = held_out()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZeroModelWarning)
        model = Model().fit(X, (Y > 0).astype(int))
    assert model.score(Xt, (Yt > 0).astype(int)) > 0.8


def test_default_alpha_is_a_tenth_of_alpha_max():
    X, Y = make_data()
    assert L21Regressor().fit(X, Y).alpha_ == pytest.approx(0.1 * l21_alpha_max(X, Y), rel=1e-10)
    assert TraceNormRegressor().fit(X, Y).alpha_ == pytest.approx(0.1 * trace_norm_alpha_max(X, Y), rel=1e-10)
    assert L21Regressor(alpha=0.3).fit(X, Y).alpha_ == 0.3
    sg = SparseGroupRegressor().fit(X, Y)
    assert sg.alpha_ == pytest.approx(sg.beta_)
    # at the total strength 10 x (alpha_ + beta_) with the same split, everything is zero
    with pytest.warns(ZeroModelWarning):
        SparseGroupRegressor(alpha=10 * sg.alpha_ * (1 + 1e-9), beta=10 * sg.beta_ * (1 + 1e-9)).fit(X, Y)


def test_all_zero_fit_warns_with_alpha_max():
    X, Y = make_data()
    amax = l21_alpha_max(X, Y)
    with pytest.warns(ZeroModelWarning, match=r"L21Regressor learned nothing.*alpha_max=" + f"{amax:.4g}"):
        model = L21Regressor(alpha=1.01 * amax).fit(X, Y)
    assert np.all(model.coef_ == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZeroModelWarning)
        L21Regressor(alpha=0.9 * amax).fit(X, Y)  # below alpha_max: a row enters, no warning


@pytest.mark.parametrize("model", [
    TraceNormRegressor(alpha=1e4),
    DirtyRegressor(alpha=1e4, beta=1e4),
    L21Classifier(alpha=1e4),
    TraceNormClassifier(alpha=1e4),
])
def test_all_zero_fit_warns_for_every_penalized_family(model):
    X, Y = make_data()
    y = (Y > 0).astype(int) if "Classifier" in type(model).__name__ else Y
    with pytest.warns(ZeroModelWarning, match=f"{type(model).__name__} learned nothing"):
        model.fit(X, y)


def test_sparse_group_one_strength_none_equals_the_other():
    X, Y = make_data()
    a = SparseGroupRegressor(alpha=0.1).fit(X, Y)
    b = SparseGroupRegressor(alpha=0.1, beta=0.1).fit(X, Y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.alpha_ == pytest.approx(0.1) and a.beta_ == pytest.approx(0.1)


@pytest.mark.parametrize("Model", [
    DirtyRegressor, SparseLowRankRegressor, RobustMultiTaskRegressor, MeanRegularizedRegressor,
    GraphRegularizedRegressor, TaskRelationshipRegressor, ClusteredRegressor,
], ids=lambda m: m.__name__)
def test_two_strength_defaults_learn(Model):
    # before the data-scaled defaults: held-out R^2 0.28 (sparse + low rank, robust)
    # to 0.74 (mean, graph) on data where independent ridge reaches 0.9
    X, Y = make_data()
    Xt, Yt = held_out()
    model = Model().fit(X, Y)
    assert model.score(Xt, Yt) > 0.85
    assert model.alpha_ > 0 and model.beta_ > 0


def test_quadratic_defaults_follow_the_curvature_scale():
    X, Y = make_data()
    Xc = X - X.mean(axis=0)
    s = np.mean(np.sum(Xc**2, axis=0) / len(X))  # mean eigenvalue of X^T X / n
    m = MeanRegularizedRegressor().fit(X, Y)
    assert (m.alpha_, m.beta_) == pytest.approx((0.1 * s, 0.01 * s), rel=1e-10)
    t = TaskRelationshipRegressor().fit(3 * X, Y)
    assert (t.alpha_, t.beta_) == pytest.approx((0.9 * s / 4, 0.09 * s), rel=1e-10)
    assert MeanRegularizedRegressor(alpha=2.0).fit(X, Y).alpha_ == 2.0
    # the composite models: a tenth of each part's alpha_max
    G0 = Xc.T @ (Y - Y.mean(axis=0)) / len(X)
    d = DirtyRegressor().fit(X, Y)
    assert (d.alpha_, d.beta_) == pytest.approx((0.1 * np.abs(G0).sum(axis=1).max(), 0.1 * np.abs(G0).max()))
    r = RobustMultiTaskRegressor().fit(X, Y)
    assert (r.alpha_, r.beta_) == pytest.approx((0.1 * np.linalg.norm(G0, 2),
                                                 0.1 * np.linalg.norm(G0, axis=0).max()))


def test_sparse_gp_default_epochs_reach_a_step_budget(monkeypatch):
    pytest.importorskip("gpytorch")
    from skmtl.gaussian_process import SparseMultiTaskGPRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 2))
    Y = np.column_stack([np.sin(X[:, 0]), X[:, 1]]) + 0.1 * rng.standard_normal((16, 2))
    assert SparseMultiTaskGPRegressor._min_steps == 300
    monkeypatch.setattr(SparseMultiTaskGPRegressor, "_min_steps", 24)  # the rule, at a tenth of the cost
    m = SparseMultiTaskGPRegressor(n_inducing=4, batch_size=8, random_state=0).fit(X, Y)
    assert m.n_epochs_ == 12 and m.n_iter_ == 24  # 2 mini-batches per pass
    m = SparseMultiTaskGPRegressor(n_inducing=4, batch_size=8, n_epochs=3, random_state=0).fit(X, Y)
    assert m.n_epochs_ == 3 and len(m.loss_curve_) == 3
    monkeypatch.setattr(SparseMultiTaskGPRegressor, "_min_steps", 2)
    m = SparseMultiTaskGPRegressor(n_inducing=4, batch_size=8, random_state=0).fit(X, Y)
    assert m.n_epochs_ == 10  # at least 10 passes
