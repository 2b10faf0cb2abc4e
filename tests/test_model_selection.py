import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skmtl import IndependentRegressor
from skmtl.metrics import arrmse, explained_variance_pooled, normalized_mse, per_task_r2, task_averaged_r2
from skmtl.model_selection import (
    LeaveTasksOut,
    TaskStratifiedKFold,
    explained_variance_scorer,
    get_scorer,
    get_scorer_names,
    make_task_scorer,
    neg_arrmse_scorer,
    neg_nmse_scorer,
    per_task_scores,
    task_r2_scorer,
)

pd = pytest.importorskip("pandas")


@pytest.fixture
def long_data():
    rng = np.random.default_rng(0)
    sizes = [7, 12, 20, 31]
    task = np.repeat(["a", "b", "c", "d"], sizes)
    rng.shuffle(task)
    n, p = len(task), 3
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(4, p))
    codes = np.unique(task, return_inverse=True)[1]
    y = np.einsum("ij,ij->i", X, W[codes]) + 0.3 * rng.normal(size=n)
    df = pd.DataFrame(X, columns=["x0", "x1", "x2"])
    df.insert(1, "task", task)
    return df, y, task


@pytest.fixture
def wide_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4))
    Y = X @ rng.normal(size=(4, 3)) + 0.3 * rng.normal(size=(40, 3))
    Y[rng.random(Y.shape) < 0.2] = np.nan
    return X, Y


# ---------------------------------------------------------------- splitters


def _check_partition(splits, n):
    tests = np.concatenate([te for _, te in splits])
    assert np.array_equal(np.sort(tests), np.arange(n))
    for tr, te in splits:
        assert len(np.intersect1d(tr, te)) == 0
        assert len(tr) + len(te) == n


@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 0)])
def test_task_stratified_kfold_long(long_data, shuffle, seed):
    df, y, task = long_data
    cv = TaskStratifiedKFold(5, shuffle=shuffle, random_state=seed, task_column="task")
    splits = list(cv.split(df, y))
    assert len(splits) == cv.get_n_splits() == 5
    _check_partition(splits, len(df))
    sizes = [len(te) for _, te in splits]
    assert max(sizes) - min(sizes) <= 1
    for tr, te in splits:
        for t, n_t in zip(*np.unique(task, return_counts=True)):
            n_test = np.sum(task[te] == t)
            assert n_t // 5 <= n_test <= n_t // 5 + 1
            assert np.sum(task[tr] == t) > 0


def test_task_stratified_kfold_sources_agree(long_data):
    df, y, task = long_data
    by_name = list(TaskStratifiedKFold(3, task_column="task").split(df))
    by_pos = list(TaskStratifiedKFold(3, task_column=1).split(df.to_numpy()))
    by_groups = list(TaskStratifiedKFold(3).split(df, groups=task))
    for a, b, c in zip(by_name, by_pos, by_groups):
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[1], c[1])


def test_task_stratified_kfold_shuffle_reproducible(long_data):
    df, _, _ = long_data
    a = [te for _, te in TaskStratifiedKFold(3, shuffle=True, random_state=2, task_column="task").split(df)]
    b = [te for _, te in TaskStratifiedKFold(3, shuffle=True, random_state=2, task_column="task").split(df)]
    c = [te for _, te in TaskStratifiedKFold(3, task_column="task").split(df)]
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))


def test_task_stratified_kfold_wide_is_kfold(wide_data):
    X, Y = wide_data
    ours = list(TaskStratifiedKFold(4, shuffle=True, random_state=0).split(X, Y))
    ref = list(KFold(4, shuffle=True, random_state=0).split(X, Y))
    for (a, b), (c, d) in zip(ours, ref):
        assert np.array_equal(a, c) and np.array_equal(b, d)


def test_task_stratified_kfold_small_tasks():
    task = np.repeat([0, 1, 2], [1, 2, 6])
    X = np.zeros((9, 1))
    with pytest.raises(ValueError, match=r"larger than the number of rows with an observed target of task\(s\) 0 \(1 rows\), 1 \(2 rows\)"):
        list(TaskStratifiedKFold(3).split(X, groups=task))
    splits = list(TaskStratifiedKFold(3, small_tasks="spread").split(X, groups=task))
    for tr, te in splits:  # every task stays in every training set
        assert set(task[tr]) == {0, 1, 2}
        assert np.sum(task[te] == 2) == 2
    assert sorted(np.sum(task[te] == 1) for _, te in splits) == [0, 1, 1]
    assert 0 not in np.concatenate([task[te] for _, te in splits])


def test_task_stratified_kfold_spreads_observed_targets():
    task = np.repeat([0, 1], [12, 9])
    y = np.arange(21, dtype=float)
    y[:9] = np.nan  # task 0: 3 observed targets, at the end of its rows
    splits = list(TaskStratifiedKFold(3).split(np.zeros((21, 1)), y, groups=task))
    _check_partition(splits, 21)
    for tr, te in splits:
        assert np.sum((task[te] == 0) & ~np.isnan(y[te])) == 1
        assert np.sum((task[tr] == 0) & ~np.isnan(y[tr])) == 2
    with pytest.raises(ValueError, match=r"rows with an observed target of task\(s\) 0 \(3 rows\)"):
        list(TaskStratifiedKFold(4).split(np.zeros((21, 1)), y, groups=task))


def test_task_stratified_kfold_errors(long_data):
    df, _, _ = long_data
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        list(TaskStratifiedKFold(1, task_column="task").split(df))
    with pytest.raises(ValueError, match="random_state has no effect"):
        list(TaskStratifiedKFold(3, random_state=0, task_column="task").split(df))
    with pytest.raises(ValueError, match="is not a column of X"):
        list(TaskStratifiedKFold(3, task_column="nope").split(df))
    with pytest.raises(ValueError, match="groups has 3 labels but X has"):
        list(TaskStratifiedKFold(3).split(df, groups=[0, 1, 2]))
    with pytest.raises(ValueError, match="small_tasks must be"):
        list(TaskStratifiedKFold(3, small_tasks="drop", task_column="task").split(df))


def test_leave_one_task_out(long_data):
    df, _, task = long_data
    cv = LeaveTasksOut(task_column="task")
    splits = list(cv.split(df))
    assert len(splits) == cv.get_n_splits(df) == 4
    _check_partition(splits, len(df))
    for (tr, te), t in zip(splits, ["a", "b", "c", "d"]):
        assert set(task[te]) == {t} and t not in set(task[tr])


def test_leave_tasks_out_combinations_and_partition(long_data):
    df, _, task = long_data
    splits = list(LeaveTasksOut(2).split(df, groups=task))
    assert len(splits) == LeaveTasksOut(2).get_n_splits(groups=task) == 6
    assert {frozenset(task[te]) for _, te in splits} == {
        frozenset(c) for c in [("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d")]
    }
    for tr, te in splits:
        assert not set(task[tr]) & set(task[te])
    cv = LeaveTasksOut(n_splits=3, shuffle=True, random_state=0, task_column="task")
    splits = list(cv.split(df))
    assert len(splits) == cv.get_n_splits() == 3
    _check_partition(splits, len(df))
    left_out = [set(task[te]) for _, te in splits]
    assert sorted(len(s) for s in left_out) == [1, 1, 2]
    for (tr, _), out in zip(splits, left_out):
        assert not set(task[tr]) & out


def test_leave_tasks_out_errors(long_data, wide_data):
    df, _, _ = long_data
    with pytest.raises(ValueError, match="needs task labels"):
        list(LeaveTasksOut().split(wide_data[0]))
    with pytest.raises(ValueError, match="not both"):
        list(LeaveTasksOut(1, n_splits=2, task_column="task").split(df))
    with pytest.raises(ValueError, match="leaves no task for training"):
        list(LeaveTasksOut(4, task_column="task").split(df))
    with pytest.raises(ValueError, match="larger than the number of tasks"):
        list(LeaveTasksOut(n_splits=5, task_column="task").split(df))
    with pytest.raises(ValueError, match="needs groups or X"):
        LeaveTasksOut().get_n_splits()


# ---------------------------------------------------------------- scorers


SCORERS = [
    (task_r2_scorer, task_averaged_r2, 1),
    (explained_variance_scorer, explained_variance_pooled, 1),
    (neg_nmse_scorer, normalized_mse, -1),
    (neg_arrmse_scorer, arrmse, -1),
]


@pytest.mark.parametrize("scorer, metric, sign", SCORERS)
def test_scorers_long(long_data, scorer, metric, sign):
    df, y, task = long_data
    est = IndependentRegressor(task_column="task").fit(df, y)
    expected = sign * metric(y, est.predict(df), task)
    assert scorer(est, df, y) == pytest.approx(expected)
    # a task-blind computation differs: the scorer really works task by task
    if metric in (task_averaged_r2, arrmse):
        assert scorer(est, df, y) != pytest.approx(sign * metric(y, est.predict(df)))


@pytest.mark.parametrize("scorer, metric, sign", SCORERS)
def test_scorers_wide_nan(wide_data, scorer, metric, sign):
    X, Y = wide_data
    est = IndependentRegressor().fit(X, Y)
    pred = est.predict(X)
    assert scorer(est, X, Y) == pytest.approx(sign * metric(Y, pred))
    assert np.isfinite(scorer(est, X, Y))
    # NaN entries are skipped: same as scoring only the observed entries of each task
    if metric is task_averaged_r2:
        direct = np.mean([per_task_r2(Y[~np.isnan(Y[:, t]), t], pred[~np.isnan(Y[:, t]), t]) for t in range(3)])
        assert scorer(est, X, Y) == pytest.approx(direct)


def test_scorer_single_task():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=30)
    est = IndependentRegressor().fit(X, y)
    assert task_r2_scorer(est, X, y) == pytest.approx(est.score(X, y))


def test_get_scorer():
    assert get_scorer_names() == ["explained_variance", "neg_arrmse", "neg_nmse", "task_r2"]
    assert get_scorer("task_r2") is task_r2_scorer
    assert get_scorer("neg_nmse") is neg_nmse_scorer
    assert get_scorer(task_r2_scorer) is task_r2_scorer
    with pytest.raises(ValueError, match="'r2' is not a skmtl scorer; use one of"):
        get_scorer("r2")
    with pytest.raises(TypeError, match="metric must be callable"):
        make_task_scorer("r2")


def test_scorer_rejects_sample_weight(wide_data):
    X, Y = wide_data
    est = IndependentRegressor().fit(X, Y)
    with pytest.raises(ValueError, match="does not support sample_weight"):
        task_r2_scorer(est, X, Y, sample_weight=np.ones(len(X)))


def test_make_task_scorer_explicit_column(long_data):
    df, y, task = long_data
    est = IndependentRegressor(task_column="task").fit(df, y)
    scorer = make_task_scorer(arrmse, greater_is_better=False, task_column="task")
    assert scorer(est, df, y) == pytest.approx(-arrmse(y, est.predict(df), task))


# ---------------------------------------------------------------- model search


def test_grid_search_long_dataframe(long_data):
    df, y, task = long_data
    search = GridSearchCV(
        IndependentRegressor(Ridge(), task_column="task"),
        {"estimator__alpha": [0.01, 1e4]},
        scoring=get_scorer("task_r2"),
        cv=TaskStratifiedKFold(3, task_column="task"),
    ).fit(df, y)
    assert search.best_params_ == {"estimator__alpha": 0.01}
    # the CV score is the mean over folds of the task-averaged R^2 of each fold
    cv = TaskStratifiedKFold(3, task_column="task")
    folds = []
    for tr, te in cv.split(df):
        est = IndependentRegressor(Ridge(alpha=0.01), task_column="task").fit(df.iloc[tr], y[tr])
        folds.append(task_averaged_r2(y[te], est.predict(df.iloc[te]), task[te]))
    assert search.best_score_ == pytest.approx(np.mean(folds))


def test_grid_search_wide_nan_multimetric(wide_data):
    X, Y = wide_data
    search = GridSearchCV(
        IndependentRegressor(Ridge()),
        {"estimator__alpha": [0.01, 1e4]},
        scoring={"r2": task_r2_scorer, "nmse": neg_nmse_scorer},
        refit="nmse",
        cv=TaskStratifiedKFold(4),
    ).fit(X, Y)
    assert search.best_params_ == {"estimator__alpha": 0.01}
    assert np.all(np.isfinite(search.cv_results_["mean_test_r2"]))
    scores = cross_val_score(IndependentRegressor(), X, Y, scoring=neg_arrmse_scorer, cv=TaskStratifiedKFold(4))
    assert scores.shape == (4,) and np.all(scores < 0)


# ---------------------------------------------------------------- reports


def test_per_task_scores_long(long_data):
    df, y, task = long_data
    y = y.copy()
    y[np.flatnonzero(task == "b")[:2]] = np.nan
    est = IndependentRegressor(task_column="task").fit(df, y)
    pred = est.predict(df)
    table = per_task_scores(est, df, y, metrics=("r2", "mse", "rmse", "mae", "nmse", "rrmse"))
    assert list(table.index) == ["a", "b", "c", "d"] and table.index.name == "task"
    assert list(table.columns) == ["n_obs", "r2", "mse", "rmse", "mae", "nmse", "rrmse"]
    assert table.loc["b", "n_obs"] == 10
    for t in "abcd":
        m = (task == t) & ~np.isnan(y)
        err = y[m] - pred[m]
        assert table.loc[t, "mse"] == pytest.approx(np.mean(err**2))
        assert table.loc[t, "mae"] == pytest.approx(np.mean(np.abs(err)))
        assert table.loc[t, "nmse"] == pytest.approx(np.mean(err**2) / np.var(y[m]))
        assert table.loc[t, "r2"] == pytest.approx(1 - np.mean(err**2) / np.var(y[m]))
    assert np.allclose(table["rrmse"] ** 2, table["nmse"])


def test_per_task_scores_wide_dict_and_callable(wide_data):
    X, Y = wide_data
    est = IndependentRegressor().fit(X, Y)
    pred = est.predict(X)

    def max_error(a, b):
        return np.max(np.abs(a - b))

    out = per_task_scores(est, X, Y, metrics=("r2", max_error), as_frame=False)
    assert set(out) == {"task", "n_obs", "r2", "max_error"}
    assert np.array_equal(out["task"], [0, 1, 2])
    assert np.array_equal(out["n_obs"], (~np.isnan(Y)).sum(axis=0))
    assert np.allclose(out["r2"], per_task_r2(Y, pred))
    obs = ~np.isnan(Y[:, 1])
    assert out["max_error"][1] == pytest.approx(max_error(Y[obs, 1], pred[obs, 1]))
    with pytest.raises(ValueError, match="Unknown metric 'auc'"):
        per_task_scores(est, X, Y, metrics=("auc",))


def test_cross_val_score_long_missing_targets(long_data):
    df, y, task = long_data
    y = y.copy()
    y[np.flatnonzero(task == "a")[:4]] = np.nan  # task "a": 3 observed targets left
    cv = TaskStratifiedKFold(3, task_column="task")
    scores = cross_val_score(IndependentRegressor(task_column="task"), df, y, scoring=neg_nmse_scorer, cv=cv)
    assert np.all(np.isfinite(scores))
