"""TaskGroupingRegressor: groups chosen by cross-validation never lower a task's CV score."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmtl.linear import L21Regressor
from skmtl.model_selection import TaskGroupingRegressor


def make_data(n=60, seed=0):
    """Tasks 0-3 share a sparse support (sharing helps); tasks 4-5 are dense and unrelated."""
    rng = np.random.default_rng(seed)
    p = 40
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:3] = [1.5, -1.0, 1.0]
    W = np.column_stack([w + 0.05 * rng.standard_normal(p) for _ in range(4)]
                        + [rng.standard_normal(p) for _ in range(2)])
    Y = X @ W + 1.0 * rng.standard_normal((n, 6))
    return X, Y


def cv_mse(make, X, Y, folds):
    """Per-task CV mean squared error of a model fitted on the columns of Y together."""
    sse = np.zeros(Y.shape[1])
    for tr, te in folds:
        P = np.asarray(make().fit(X[tr], Y[tr] if Y.shape[1] > 1 else Y[tr, 0]).predict(X[te]))
        sse += ((Y[te] - P.reshape(len(te), -1)) ** 2).sum(0)
    return sse / len(X)


def test_groups_never_lower_a_tasks_cv_score_recomputed_independently():
    X, Y = make_data()
    est = L21Regressor(alpha=0.2)
    model = TaskGroupingRegressor(est, blend=False, cv=3, min_evidence=0.0).fit(X, Y)  # no margin: any decrease
    folds = list(KFold(3).split(X))
    res = model.cv_results_
    baseline = lambda: RidgeCV(alphas=np.logspace(-3, 3, 13))  # noqa: E731
    ind = np.array([cv_mse(baseline, X, Y[:, [t]], folds)[0] for t in range(6)])
    np.testing.assert_allclose(res["mse_independent"], ind, rtol=1e-10)
    assert len(model.task_groups_) == 1
    group = list(model.task_groups_[0])
    shared = cv_mse(lambda: clone(est), X, Y[:, group], folds)
    np.testing.assert_allclose(res["mse_shared"][group], shared, rtol=1e-10)
    assert np.all(shared <= ind[group])  # the guarantee, on numbers computed here
    assert set(group) == {0, 1, 2, 3}  # the related tasks are pooled, the unrelated ones are not
    assert set(model.independent_tasks_) == {4, 5}


def cv_errors(make, X, Y, folds):
    """Held-out squared errors (n_samples, n_tasks), each row predicted by the fold that left it out."""
    E = np.empty_like(Y)
    for tr, te in folds:
        P = np.asarray(make().fit(X[tr], Y[tr] if Y.shape[1] > 1 else Y[tr, 0]).predict(X[te]))
        E[te] = (Y[te] - P.reshape(len(te), -1)) ** 2
    return E


def test_a_shared_task_gains_by_at_least_min_evidence_standard_errors():
    # the paired test recomputed here: per observation, error alone minus error shared
    X, Y = make_data(n=120)
    est = L21Regressor(alpha=0.2)
    folds = list(KFold(3).split(X))
    model = TaskGroupingRegressor(est, blend=False, cv=3).fit(X, Y)
    group = list(model.task_groups_[0])
    assert len(group) >= 2 and not set(group) & {4, 5}
    baseline = lambda: RidgeCV(alphas=np.logspace(-3, 3, 13))  # noqa: E731
    alone = np.column_stack([cv_errors(baseline, X, Y[:, [t]], folds)[:, 0] for t in group])
    d = alone - cv_errors(lambda: clone(est), X, Y[:, group], folds)
    assert np.all(d.mean(0) >= d.std(0, ddof=1) / np.sqrt(len(X)))


def test_fold_noise_is_not_taken_for_a_gain():
    # unrelated dense tasks: sharing cannot help, yet without a margin some tasks' CV errors
    # come out a little lower shared; with the default one-standard-error margin none is shared
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 8))
    Y = X @ rng.standard_normal((8, 8)) + rng.standard_normal((150, 8))
    est = L21Regressor(alpha=0.01)
    loose = TaskGroupingRegressor(est, blend=False, cv=3, min_evidence=0.0).fit(X, Y)
    strict = TaskGroupingRegressor(est, blend=False, cv=3).fit(X, Y)
    assert sum(len(g) for g in loose.task_groups_) == 8
    assert strict.task_groups_ == [] and len(strict.independent_tasks_) == 8


def test_predictions_are_those_of_the_group_model_and_the_baselines():
    X, Y = make_data()
    model = TaskGroupingRegressor(L21Regressor(alpha=0.2), blend=False, cv=3).fit(X, Y)
    group = list(model.task_groups_[0])
    P = model.predict(X)
    joint = L21Regressor(alpha=0.2).fit(X, Y[:, group])
    np.testing.assert_allclose(P[:, group], joint.predict(X), rtol=1e-10)
    for t in model.independent_tasks_:
        alone = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(X, Y[:, t])
        np.testing.assert_allclose(P[:, t], alone.predict(X), rtol=1e-10)


def test_never_worse_than_independent_on_held_out_data_when_sharing_hurts():
    # every task unrelated: the grouping model must fall back to the baseline everywhere
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 8))
    Y = X @ rng.standard_normal((8, 4)) * 3 + 0.1 * rng.standard_normal((100, 4))
    model = TaskGroupingRegressor(L21Regressor(alpha=0.5), blend=False, cv=3).fit(X, Y)
    assert model.task_groups_ == []
    assert list(model.independent_tasks_) == [0, 1, 2, 3]


def test_long_input_matches_wide():
    X, Y = make_data()
    T = Y.shape[1]
    XL = np.column_stack([np.tile(X, (T, 1)), np.repeat(np.arange(T), len(X))])
    yL = Y.T.ravel()
    wide = TaskGroupingRegressor(L21Regressor(alpha=0.2), cv=3).fit(X, Y)
    folds = list(KFold(3).split(X))
    long_folds = [(np.concatenate([tr + t * len(X) for t in range(T)]),
                   np.concatenate([te + t * len(X) for t in range(T)])) for tr, te in folds]
    long = TaskGroupingRegressor(L21Regressor(alpha=0.2), cv=long_folds, task_column=-1).fit(XL, yL)
    assert [list(g) for g in long.task_groups_] == [[float(t) for t in g] for g in wide.task_groups_]
    np.testing.assert_allclose(long.cv_results_["mse_independent"], wide.cv_results_["mse_independent"], rtol=1e-8)
    np.testing.assert_allclose(long.predict(XL), wide.predict(X).T.ravel(), rtol=1e-6, atol=1e-8)


def test_explicit_candidate_groups_and_bad_labels():
    X, Y = make_data()
    model = TaskGroupingRegressor(L21Regressor(alpha=0.2), groups=[[0, 1], [4, 5]], cv=3).fit(X, Y)
    assert all(set(g) <= {0, 1} or set(g) <= {4, 5} for g in model.task_groups_)
    assert set(model.independent_tasks_) >= {2, 3}
    with pytest.raises(ValueError, match="TaskGroupingRegressor: groups must list task labels"):
        TaskGroupingRegressor(L21Regressor(), groups=[[0, 9]]).fit(X, Y)


@parametrize_with_checks([TaskGroupingRegressor(L21Regressor(alpha=0.1), cv=2)])
def test_sklearn_contract(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_classifier_groups_related_tasks_and_predicts_labels():
    from sklearn.linear_model import LogisticRegression

    from skmtl.linear import L21Classifier
    from skmtl.model_selection import TaskGroupingClassifier

    X, Y = make_data(n=120)
    labels = np.where(Y > 0, "up", "down")
    model = TaskGroupingClassifier(L21Classifier(alpha=0.02), cv=3).fit(X, labels)
    res = model.cv_results_
    shared = res["shared"]
    assert np.all(res["error_shared"][shared] <= res["error_independent"][shared])
    P = model.predict(X)
    assert P.shape == labels.shape and set(np.unique(P)) <= {"up", "down"}
    for t in model.independent_tasks_:
        alone = LogisticRegression(max_iter=1000).fit(X, labels[:, t])
        np.testing.assert_array_equal(P[:, t], alone.predict(X))
    assert model.score(X, labels) > 0.7


@parametrize_with_checks([__import__("skmtl.model_selection", fromlist=["x"]).TaskGroupingClassifier(
    __import__("skmtl.linear", fromlist=["x"]).L21Classifier(alpha=0.1), cv=2)])
def test_sklearn_contract_classifier(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_a_group_still_losing_tasks_after_max_rounds_warns_and_is_dropped():
    X, Y = make_data()
    with pytest.warns(UserWarning, match="TaskGroupingRegressor: the candidate group .* max_rounds=1"):
        model = TaskGroupingRegressor(L21Regressor(alpha=0.2), blend=False, cv=3, max_rounds=1).fit(X, Y)
    assert model.task_groups_ == [] and len(model.independent_tasks_) == 6


def test_wide_input_with_missing_targets():
    # the per-task baselines (RidgeCV) are fitted on each task's observed rows only
    X, Y = make_data(seed=3)
    Y = Y.copy()
    Y[::7, 1] = np.nan
    Y[::5, 4] = np.nan
    model = TaskGroupingRegressor(L21Regressor(alpha=0.1), cv=3).fit(X, Y)
    assert model.predict(X).shape == Y.shape
    assert np.all(np.isfinite(model.cv_results_["mse_independent"]))


def cv_predictions(make, X, Y, folds):
    """Held-out predictions (n_samples, n_tasks) of a model fitted on the columns of Y together."""
    P = np.empty_like(Y)
    for tr, te in folds:
        P[te] = np.asarray(make().fit(X[tr], Y[tr] if Y.shape[1] > 1 else Y[tr, 0]).predict(X[te])).reshape(len(te), -1)
    return P


def test_blend_weights_minimize_the_held_out_error_recomputed_independently():
    X, Y = make_data()
    est = L21Regressor(alpha=0.2)
    model = TaskGroupingRegressor(est, cv=3, blend="least_squares").fit(X, Y)  # w shared + (1 - w) alone
    folds = list(KFold(3).split(X))
    group = list(model.task_groups_[0])
    shared = cv_predictions(lambda: clone(est), X, Y[:, group], folds)
    alone = np.column_stack([cv_predictions(lambda: RidgeCV(alphas=np.logspace(-3, 3, 13)), X, Y[:, [t]], folds)[:, 0]
                             for t in group])
    D = shared - alone
    w = np.clip(((Y[:, group] - alone) * D).sum(0) / (D ** 2).sum(0), 0, 1)
    np.testing.assert_allclose(model.shared_weight_[group], w, rtol=1e-8)
    assert np.all(w > 0) and np.any(w < 1)
    blended = ((Y[:, group] - alone - w * D) ** 2).mean(0)
    np.testing.assert_allclose(model.cv_results_["mse_shared"][group], blended, rtol=1e-8)
    # the guarantee, on numbers computed here: the blend's held-out error is at most the alone error
    assert np.all(blended <= ((Y[:, group] - alone) ** 2).mean(0))
    # predictions: the same blend of the group model and each member's own baseline
    P = model.predict(X)
    joint = clone(est).fit(X, Y[:, group]).predict(X)
    own = np.column_stack([RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(X, Y[:, t]).predict(X) for t in group])
    np.testing.assert_allclose(P[:, group], w * joint + (1 - w) * own, rtol=1e-10)
    assert model.shared_weight_[list(model._alone_codes)].tolist() == [0.0] * len(model._alone_codes)


def test_huber_blend_weights_solve_the_huber_estimating_equation():
    """The default weight: sum_i psi((r_i - w D_i) / s) D_i = 0 (psi = clip(., -1.345, 1.345), s the MAD
    scale of the least-squares residuals), checked on held-out predictions recomputed here; heavy-tailed
    noise, so that some residuals are clipped and the weight differs from the least-squares one."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((240, 6))
    W = np.column_stack([np.r_[1.0, -1.0, 0.5, 0, 0, 0]] * 4) + 0.3 * rng.standard_normal((6, 4))
    Y = X @ W + rng.standard_t(1.5, size=(240, 4))
    est = L21Regressor(alpha=0.05)
    model = TaskGroupingRegressor(est, cv=3).fit(X, Y)
    ls = TaskGroupingRegressor(est, cv=3, blend="least_squares").fit(X, Y)
    folds = list(KFold(3).split(X))
    group = list(model.task_groups_[0])  # the weights of the last round: this group's held-out predictions
    shared = cv_predictions(lambda: clone(est), X, Y[:, group], folds)
    alone = np.column_stack([cv_predictions(lambda: RidgeCV(alphas=np.logspace(-3, 3, 13)), X, Y[:, [t]], folds)[:, 0]
                             for t in group])
    inside = 0
    for k, t in enumerate(group):
        w = model.shared_weight_[t]
        D, r = shared[:, k] - alone[:, k], Y[:, t] - alone[:, k]
        w_ls = np.clip(r @ D / (D @ D), 0, 1)
        e_ls = r - w_ls * D  # the scale: the MAD of the least-squares residuals
        s = 1.4826 * np.median(np.abs(e_ls - np.median(e_ls)))
        score = np.sum(np.clip((r - w * D) / s, -1.345, 1.345) * D)
        assert 0 < w  # a member
        if w < 1:
            inside += 1
            assert abs(score) <= 1e-6 * np.sum(np.abs(D)), (t, w, score)
        else:
            assert score >= 0  # clipped at 1: the estimating function pushes above
    assert inside >= 1
    assert not np.allclose(model.cv_results_["weight_shared"], ls.cv_results_["weight_shared"])
    # a kept task's blended held-out squared error is still at most its error alone
    kept = model.cv_results_["shared"]
    assert np.all(model.cv_results_["mse_shared"][kept] <= model.cv_results_["mse_independent"][kept])


def test_blend_options():
    X, Y = make_data()
    est = L21Regressor(alpha=0.2)
    a = TaskGroupingRegressor(est, cv=3).fit(X, Y)
    b = TaskGroupingRegressor(est, cv=3, blend=True).fit(X, Y)
    np.testing.assert_array_equal(a.shared_weight_, b.shared_weight_)
    off = TaskGroupingRegressor(est, cv=3, blend=False).fit(X, Y)
    assert set(np.unique(off.shared_weight_)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="blend"):
        TaskGroupingRegressor(est, blend="median").fit(X, Y)


def test_blending_unrelated_tasks_costs_little_on_fresh_data():
    # sharing cannot help: the fitted weights stay small, and fresh-data error stays near independent fits
    rng = np.random.default_rng(0)
    W = rng.standard_normal((8, 8))
    X, Xt = rng.standard_normal((150, 8)), rng.standard_normal((2000, 8))
    Y, Yt = X @ W + rng.standard_normal((150, 8)), Xt @ W + rng.standard_normal((2000, 8))
    model = TaskGroupingRegressor(L21Regressor(alpha=0.01), cv=3).fit(X, Y)
    alone = np.column_stack([RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(X, Y[:, t]).predict(Xt) for t in range(8)])
    ratio = ((model.predict(Xt) - Yt) ** 2).mean() / ((alone - Yt) ** 2).mean()
    assert ratio < 1.005
