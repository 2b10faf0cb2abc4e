"""The data layer: wide and long input, one internal form, clear errors."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import Ridge

from skmtl import IndependentClassifier, IndependentRegressor, PooledRegressor
from skmtl._data import validate_fit_data


@pytest.fixture
def wide():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    Y = X @ rng.normal(size=(5, 3)) + 0.1 * rng.normal(size=(40, 3))
    Y[[1, 5, 9], 0] = np.nan
    Y[[2, 3], 2] = np.nan
    return X, Y


def to_long(X, Y):
    """The same observations as long input: one row per observed (sample, task)."""
    i, t = np.nonzero(~np.isnan(Y))
    return np.column_stack([X[i], t]), Y[i, t]


def test_internal_form_wide(wide):
    X, Y = wide
    data = validate_fit_data(IndependentRegressor(), X, Y)
    assert data.n_tasks == 3 and data.n_samples == 40 and not data.complete
    for t in range(3):
        Xt, yt, _ = data.task_data(t)
        obs = ~np.isnan(Y[:, t])
        np.testing.assert_array_equal(Xt, X[obs])
        np.testing.assert_array_equal(yt, Y[obs, t])


def test_complete_wide_exposes_Y_and_sklearn_weights(wide):
    X, Y = wide
    Yc = np.nan_to_num(Y)
    data = validate_fit_data(IndependentRegressor(), X, Yc)
    assert data.complete
    np.testing.assert_array_equal(data.Y, Yc)
    np.testing.assert_allclose(data.observation_weights(), 1 / 40)


def test_balanced_task_weights_sum_to_one_per_task(wide):
    X, Y = wide
    data = validate_fit_data(IndependentRegressor(), X, Y)
    omega = data.observation_weights("balanced")
    np.testing.assert_allclose(np.add.reduceat(omega, data.task_ptr[:-1]), 1.0)
    with pytest.raises(ValueError, match="task_weight"):
        data.observation_weights(np.ones(2))


def test_wide_and_long_give_same_fit(wide):
    X, Y = wide
    Xl, yl = to_long(X, Y)
    for est in (IndependentRegressor(Ridge(alpha=0.3)), PooledRegressor()):
        w = est.fit(X, Y).predict(X)
        long_est = type(est)(**{**est.get_params(deep=False), "task_column": 5}).fit(Xl, yl)
        for t in range(3):
            Xq = np.column_stack([X, np.full(len(X), t)])
            np.testing.assert_allclose(long_est.predict(Xq), w[:, t], rtol=1e-10, atol=1e-10)


def _masked_estimators():
    from skmtl.factorization import ReducedRankRegressor
    from skmtl.linear import L21Regressor, MeanRegularizedRegressor, TraceNormRegressor

    return [
        IndependentRegressor(Ridge(alpha=0.3)),
        PooledRegressor(),
        L21Regressor(alpha=0.05, tol=1e-12, max_iter=20000),
        TraceNormRegressor(alpha=0.05, tol=1e-12, max_iter=20000),
        ReducedRankRegressor(rank=2, alpha=0.1, tol=0.0, max_iter=5000),  # EM until no decrease
        MeanRegularizedRegressor(alpha=0.5, beta=0.1, tol=1e-12, max_iter=20000),
    ]


def _wide_predictions(est, X, n_tasks):
    if est.get_params().get("task_column") is None:
        return est.predict(X)
    return np.column_stack([est.predict(np.column_stack([X, np.full(len(X), t)])) for t in range(n_tasks)])


@pytest.mark.parametrize("est", _masked_estimators(), ids=lambda e: type(e).__name__)
def test_masked_target_value_never_changes_fit(wide, est):
    """A NaN-masked target is absent: the wide fit with mask M equals the fit on
    the long data from which the masked (row, task) pairs are removed."""
    X, Y = wide
    Y = Y.copy()
    rng = np.random.default_rng(5)
    Y[rng.random(Y.shape) < 0.2] = np.nan  # ~20% more masked entries, every task keeps rows
    sw = rng.uniform(0.5, 2.0, len(X))
    Xl, yl = to_long(X, Y)
    rows = np.nonzero(~np.isnan(Y))[0]
    kw = {"sample_weight": sw}
    wide_fit = clone(est).fit(X, Y, **kw)
    long_fit = clone(est).set_params(task_column=5).fit(Xl, yl, sample_weight=sw[rows])
    ref = _wide_predictions(wide_fit, X, 3)
    np.testing.assert_allclose(_wide_predictions(long_fit, X, 3), ref, rtol=1e-6, atol=1e-6)
    if hasattr(wide_fit, "coef_"):
        np.testing.assert_allclose(long_fit.coef_, wide_fit.coef_, rtol=1e-6, atol=1e-6)
    # the test has teeth: a value under the mask (here 0) instead of NaN changes the fit
    filled = clone(est).fit(X, np.nan_to_num(Y, nan=0.0), **kw)
    assert not np.allclose(_wide_predictions(filled, X, 3), ref, rtol=1e-3, atol=1e-3)


def test_pandas_long_input_with_string_tasks():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    df["school"] = rng.choice(["north", "south", "east"], 30)
    y = df["a"] * 2 + (df["school"] == "north") * 5.0
    est = PooledRegressor(task_column="school").fit(df, y)
    assert list(est.tasks_) == ["east", "north", "south"]
    assert list(est.feature_names_in_) == ["a", "b", "c"]
    assert est.n_features_in_ == 3 and est.n_tasks_ == 3
    assert est.predict(df).shape == (30,)
    assert est.score(df, y) > 0.99


def test_sparse_and_float32_are_kept():
    rng = np.random.default_rng(2)
    X = sp.random(30, 6, density=0.3, format="csc", random_state=0, dtype=np.float32)
    Y = rng.normal(size=(30, 2))
    data = validate_fit_data(PooledRegressor(), X, Y, accept_sparse=("csc",), dtype=(np.float64, np.float32))
    assert sp.issparse(data.X) and data.X.dtype == np.float32


def test_caller_arrays_are_never_modified(wide):
    X, Y = wide
    X0, Y0 = X.copy(), Y.copy()
    sw = np.ones(40)
    PooledRegressor().fit(X, Y, sample_weight=sw)
    IndependentRegressor().fit(X, Y).predict(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    np.testing.assert_array_equal(sw, 1.0)


def test_one_dimensional_y_is_one_task(wide):
    X, Y = wide
    est = IndependentRegressor().fit(X, Y[:, 1])
    assert est.n_tasks_ == 1 and est.predict(X).shape == (40,)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda X, Y: (np.where(np.arange(5) == 3, np.nan, X), Y),
         r"X contains NaN or infinity in column\(s\) at position\(s\) \[3\]"),
        (lambda X, Y: (np.where(np.isin(np.arange(5), [1, 4]), np.inf, X), Y), r"position\(s\) \[1, 4\]"),
        (lambda X, Y: (X, np.column_stack([Y[:, :2], np.full(40, np.nan)])), r"Task\(s\) \[2\] have no observed target"),
        (lambda X, Y: (X, Y[:30]), "X has 40 rows but y has 30"),
        (lambda X, Y: (X[:0], Y[:0]), r"Found array with 0 sample\(s\)"),
        (lambda X, Y: (X[:, :0], Y), r"Found array with 0 feature\(s\)"),
        (lambda X, Y: (X, None), "requires y to be passed"),
        (lambda X, Y: (np.where(np.arange(5) == 0, "x", X.astype(str)).astype(object), Y),
         r"X must contain only numeric features \(non-numeric column\(s\) \[0\]\); could not convert "
         r"string to float: 'x'.*If this column identifies the task, pass task_column=0"),
        (lambda X, Y: (X + 1j, Y), r"Complex data not supported: X must contain only real numeric features; got an array of complex dtype \(complex128\)"),
        (lambda X, Y: (X.astype(str), Y), r"real numeric features; got an array of string dtype \(<U"),
        (lambda X, Y: (X.astype("datetime64[D]"), Y), "real numeric features; got an array of datetime dtype"),
        (lambda X, Y: (X, np.where(Y > 0, "hi", "lo")), "y must be numeric for a regressor; could not convert"),
        (lambda X, Y: (X, np.where(np.isnan(Y), np.inf, Y)), "inf"),
        (lambda X, Y: (X, Y[:, :, None]), "1-D or 2-D"),
    ],
)
def test_bad_input_errors_name_the_problem(wide, make, match):
    X, Y = make(*wide)
    with pytest.raises(ValueError, match=match):
        IndependentRegressor().fit(X, Y)


def test_non_finite_features_are_named(wide):
    X, _ = wide
    Y = X @ np.ones((5, 2))
    df = pd.DataFrame(X.copy(), columns=["age", "bmi", "bp", "s1", "s2"])  # pandas 2 shares X's memory
    df.loc[3, "age"] = np.nan
    df.loc[7, "s1"] = -np.inf
    with pytest.raises(ValueError, match=r"X contains NaN or infinity in column\(s\) \['age', 's1'\];"):
        IndependentRegressor().fit(df, Y)
    est = IndependentRegressor().fit(df.fillna(0.0).replace(-np.inf, 0.0), Y)
    with pytest.raises(ValueError, match=r"column\(s\) \['age', 's1'\]"):
        est.predict(df)
    # long input: names of the feature columns, the task column excluded
    long_df = df.assign(task=np.arange(40) % 2)
    with pytest.raises(ValueError, match=r"column\(s\) \['age', 's1'\];"):
        PooledRegressor(task_column="task").fit(long_df, Y[:, 0])
    # sparse: positions of the stored non-finite entries
    Xs = sp.csr_matrix(np.where(np.arange(5) == 2, np.nan, X))
    with pytest.raises(ValueError, match=r"at position\(s\) \[2\]"):
        PooledRegressor().fit(Xs, Y)
    many = np.full((40, 12), np.nan)
    with pytest.raises(ValueError, match=r"\[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, \.\.\.\] \(12 columns\)"):
        PooledRegressor().fit(many, Y)


def test_non_numeric_dataframe_columns_are_named(wide):
    X, Y = wide
    df = pd.DataFrame(X, columns=["age", "bmi", "bp", "s1", "s2"])
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['sex'\]"):
        IndependentRegressor().fit(df.assign(sex=np.where(X[:, 0] > 0, "m", "f")), Y)
    with pytest.raises(ValueError, match=r"column\(s\) 'when' \(datetime\), 'z' \(complex\) are not"):
        IndependentRegressor().fit(df.assign(when=pd.Timestamp("2020-01-01"), z=X[:, 0] + 1j), Y)
    # object columns holding numbers convert, as in scikit-learn
    IndependentRegressor().fit(df.astype(object), Y)


def test_sample_weight_errors(wide):
    X, Y = wide
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(40,\)"):
        PooledRegressor().fit(X, Y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        PooledRegressor().fit(X, Y, sample_weight=-np.ones(40))


def test_long_input_errors(wide):
    X, Y = wide
    Xl, yl = to_long(X, Y)
    est = PooledRegressor(task_column=5).fit(Xl, yl)
    Xq = Xl.copy()
    Xq[0, 5] = 7
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) at predict: 7\.0\. The model was fitted on tasks \[0\.0, 1\.0, 2\.0\]"):
        est.predict(Xq)
    df = pd.DataFrame(Xl[:, :5], columns=list("abcde")).assign(school=np.array(["n", "s", "e"])[Xl[:, 5].astype(int)])
    est = PooledRegressor(task_column="school").fit(df, yl)
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) at predict: 'west', 'up'\."):
        est.predict(df.assign(school=np.resize(["n", "west", "up"], len(df))))
    with pytest.raises(ValueError, match="out of range"):
        PooledRegressor(task_column=9).fit(Xl, yl)
    with pytest.raises(ValueError, match="integer position"):
        PooledRegressor(task_column="school").fit(Xl, yl)
    df = pd.DataFrame(Xl[:, :5], columns=list("abcde"))
    with pytest.raises(ValueError, match="is not a column of X"):
        PooledRegressor(task_column="school").fit(df, yl)
    y_nan = yl.copy()
    y_nan[Xl[:, 5] == 1] = np.nan
    with pytest.raises(ValueError, match=r"Task\(s\) \[1\.0\] have no observed target"):
        PooledRegressor(task_column=5).fit(Xl, y_nan)
    Xbad = Xl.copy()
    Xbad[3, 5] = np.nan
    with pytest.raises(ValueError, match="missing labels"):
        PooledRegressor(task_column=5).fit(Xbad, yl)
    with pytest.raises(ValueError, match="must be 1-D"):
        PooledRegressor(task_column=5).fit(Xl, np.column_stack([yl, yl]))


def test_feature_mismatch_at_predict(wide):
    X, Y = wide
    est = IndependentRegressor().fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])


def test_classifier_per_task_labels():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 3))
    Y = np.empty((60, 2), dtype=object)
    Y[:, 0] = (X[:, 0] > 0).astype(int)
    Y[:, 1] = np.where(X[:, 1] > 0, "yes", "no")
    Y[4, 1] = None
    est = IndependentClassifier().fit(X, Y)
    assert list(est.classes_[1]) == ["no", "yes"]
    pred = est.predict(X)
    assert pred.shape == (60, 2) and set(pred[:, 1]) <= {"no", "yes"}
    assert est.score(X, Y) > 0.9
    with pytest.raises(ValueError, match="continuous"):
        IndependentClassifier().fit(X, rng.normal(size=60))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_subset_rows_keeps_layout_and_values(order, dtype):
    from sklearn.base import BaseEstimator

    rng = np.random.default_rng(0)
    X = np.asarray(rng.standard_normal((12, 5)), dtype=dtype, order=order)
    Y = rng.standard_normal((12, 2))
    Y[3, 1] = np.nan
    data = validate_fit_data(BaseEstimator(), X, Y, dtype=(np.float64, np.float32))
    rows = np.array([0, 2, 3, 7, 11])
    sub = data.subset_rows(rows)
    np.testing.assert_array_equal(sub.X, data.X[rows])
    assert sub.X.dtype == data.X.dtype
    if order == "F":
        assert data.X.flags.f_contiguous and sub.X.flags.f_contiguous  # the solvers' layout, one copy
    assert sub.n_obs == 2 * len(rows) - 1 and not sub.complete
