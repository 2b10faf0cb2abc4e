"""DataFrames in, the scikit-learn / pandas contract (issue 19): task names of a
wide ``Y``, pandas nullable targets and features, polars input, the
``task_column`` hint for long data passed without it, and ``set_output`` on
``SoftImputer``."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from skmtl import IndependentRegressor, TaskColumnWarning
from skmtl.factorization import SoftImputer
from skmtl.linear import L21Regressor
from skmtl.model_selection import per_task_scores

pd = pytest.importorskip("pandas")


def _wide(seed=0, n=40, d=3, names=("a", "b")):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = X @ rng.normal(size=(d, len(names))) + 0.1 * rng.normal(size=(n, len(names)))
    return X, pd.DataFrame(Y, columns=list(names))


def _long(seed=0, n_tasks=4, n_per=30, d=2):
    """Long data: a string task column 'school' and features x0, x1."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n_tasks, d))
    task = np.repeat(np.arange(n_tasks), n_per)
    X = rng.normal(size=(len(task), d))
    y = np.einsum("ij,ij->i", X, W[task]) + 0.1 * rng.normal(size=len(task))
    df = pd.DataFrame({"school": [f"s{t}" for t in task], "x0": X[:, 0], "x1": X[:, 1]})
    return df, y


# --------------------------------------------------------------------------
# 1. task names of a wide Y
# --------------------------------------------------------------------------


def test_wide_dataframe_targets_keep_their_column_names():
    X, Y = _wide()
    est = L21Regressor(alpha=0.01).fit(X, Y)
    assert est.tasks_.dtype == object
    np.testing.assert_array_equal(est.tasks_, np.array(["a", "b"], dtype=object))
    # predictions stay numpy, as scikit-learn regressors return
    P = est.predict(X)
    assert type(P) is np.ndarray and P.shape == (40, 2)
    # same fit as the array
    np.testing.assert_allclose(est.coef_, L21Regressor(alpha=0.01).fit(X, Y.to_numpy()).coef_)


def test_non_string_columns_and_arrays_keep_integer_tasks():
    X, Y = _wide()
    assert L21Regressor(alpha=0.01).fit(X, Y.to_numpy()).tasks_.tolist() == [0, 1]
    assert L21Regressor(alpha=0.01).fit(X, pd.DataFrame(Y.to_numpy())).tasks_.tolist() == [0, 1]


def test_string_task_names_reach_per_task_scores_and_plots():
    X, Y = _wide(names=("north", "south", "east"))
    est = L21Regressor(alpha=0.01).fit(X, Y)
    table = per_task_scores(est, X, Y)
    assert table.index.tolist() == ["north", "south", "east"]
    # an array y falls back on the fitted task names
    assert per_task_scores(est, X, Y.to_numpy()).index.tolist() == ["north", "south", "east"]
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skmtl.plotting import plot_support_heatmap

    ax = plot_support_heatmap(est)
    assert [t.get_text() for t in ax.get_xticklabels()] + [t.get_text() for t in ax.get_yticklabels()]
    labels = {t.get_text() for t in ax.get_xticklabels()} | {t.get_text() for t in ax.get_yticklabels()}
    assert {"north", "south", "east"} <= labels
    plt.close("all")


# --------------------------------------------------------------------------
# 2. pandas nullable dtypes
# --------------------------------------------------------------------------


def test_nullable_wide_targets_with_pd_na_are_missing_targets():
    X, Y = _wide()
    Y_nan = Y.copy()
    Y_nan.iloc[[0, 5], 0] = np.nan
    Y_nan.iloc[3, 1] = np.nan
    Y_na = Y.astype("Float64")
    Y_na.iloc[[0, 5], 0] = pd.NA
    Y_na.iloc[3, 1] = pd.NA
    before = Y_na.copy()
    a = L21Regressor(alpha=0.01).fit(X, Y_na)
    b = L21Regressor(alpha=0.01).fit(X, Y_nan)
    np.testing.assert_allclose(a.coef_, b.coef_)
    np.testing.assert_allclose(a.intercept_, b.intercept_)
    assert a.tasks_.tolist() == ["a", "b"]
    pd.testing.assert_frame_equal(Y_na, before)  # the caller's frame is untouched
    assert str(Y_na.dtypes.iloc[0]) == "Float64"


def test_nullable_long_target_series_with_pd_na_is_missing():
    df, y = _long()
    y_nan = pd.Series(y)
    y_nan.iloc[[2, 40]] = np.nan
    y_na = pd.Series(y, dtype="Float64")
    y_na.iloc[[2, 40]] = pd.NA
    before = y_na.copy()
    a = L21Regressor(alpha=0.01, task_column="school").fit(df, y_na)
    b = L21Regressor(alpha=0.01, task_column="school").fit(df, y_nan)
    np.testing.assert_allclose(a.coef_, b.coef_)
    pd.testing.assert_series_equal(y_na, before)


def test_nullable_integer_targets_without_na_are_read_as_numbers():
    X, Y = _wide()
    Yi = (Y * 10).round().astype("Int64")
    a = L21Regressor(alpha=0.01).fit(X, Yi)
    b = L21Regressor(alpha=0.01).fit(X, Yi.to_numpy(dtype=np.float64))
    np.testing.assert_allclose(a.coef_, b.coef_)


@pytest.mark.parametrize("dtype,values", [
    ("Int64", [1, None, 3]),
    ("boolean", [True, None, False]),
    ("Float64", [0.5, None, 1.5]),
])
def test_nullable_feature_with_na_raises_naming_estimator_and_column(dtype, values):
    X, Y = _wide(n=30)
    df = pd.DataFrame(X, columns=["x", "y", "z"])
    df["flag"] = pd.array(values * 10, dtype=dtype)
    before = df.copy()
    with pytest.raises(ValueError, match=r"L21Regressor does not accept missing values in X: nullable "
                                         r"column\(s\) 'flag'"):
        L21Regressor().fit(df, Y)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("dtype,values", [("Int64", [1, 2, 3]), ("boolean", [True, False, True])])
def test_nullable_feature_without_na_is_converted(dtype, values):
    X, Y = _wide(n=30)
    df = pd.DataFrame(X, columns=["x", "y", "z"])
    df["flag"] = pd.array(values * 10, dtype=dtype)
    before = df.copy()
    a = L21Regressor(alpha=0.01).fit(df, Y)
    dense = df.astype({"flag": np.float64})
    b = L21Regressor(alpha=0.01).fit(dense, Y)
    np.testing.assert_allclose(a.coef_, b.coef_)
    np.testing.assert_allclose(a.predict(df), b.predict(dense))
    pd.testing.assert_frame_equal(df, before)


# --------------------------------------------------------------------------
# 3. polars
# --------------------------------------------------------------------------


def test_polars_wide_features_and_targets_match_pandas():
    pl = pytest.importorskip("polars")
    X, Y = _wide()
    Xpd = pd.DataFrame(X, columns=["u", "v", "w"])
    Xpl = pl.DataFrame({c: Xpd[c].to_numpy() for c in Xpd.columns})
    Ypl = pl.DataFrame({c: Y[c].to_numpy() for c in Y.columns})
    a = L21Regressor(alpha=0.01).fit(Xpl, Ypl)
    b = L21Regressor(alpha=0.01).fit(Xpd, Y)
    np.testing.assert_allclose(a.coef_, b.coef_)
    assert a.tasks_.tolist() == ["a", "b"]
    assert a.feature_names_in_.tolist() == ["u", "v", "w"]
    np.testing.assert_allclose(a.predict(Xpl), b.predict(Xpd))
    # a polars Series as the single-task target, with a null read as missing
    y = Y["a"].to_numpy().copy()
    y_pl = pl.Series("a", y.tolist()[:3] + [None] + y.tolist()[4:])
    y[3] = np.nan
    np.testing.assert_allclose(L21Regressor(alpha=0.01).fit(Xpl, y_pl).coef_,
                               L21Regressor(alpha=0.01).fit(Xpd, y).coef_)


def test_polars_long_frame_with_named_task_column_matches_pandas():
    pl = pytest.importorskip("polars")
    df, y = _long()
    df_pl = pl.DataFrame({"school": df["school"].tolist(), "x0": df["x0"].to_numpy(), "x1": df["x1"].to_numpy()})
    a = L21Regressor(alpha=0.01, task_column="school").fit(df_pl, pl.Series("y", y))
    b = L21Regressor(alpha=0.01, task_column="school").fit(df, pd.Series(y))
    np.testing.assert_allclose(a.coef_, b.coef_)
    assert a.tasks_.tolist() == b.tasks_.tolist() == ["s0", "s1", "s2", "s3"]
    np.testing.assert_allclose(a.predict(df_pl), b.predict(df))


# --------------------------------------------------------------------------
# 4. long data without task_column
# --------------------------------------------------------------------------


def test_string_column_without_task_column_points_at_task_column():
    df, y = _long()
    with pytest.raises(ValueError, match=r"OneHotEncoder.*If this column identifies the task, "
                                         r"pass task_column='school'"):
        L21Regressor().fit(df, y)
    with pytest.raises(ValueError, match=r"pass task_column=0"):
        L21Regressor().fit(df.to_numpy(dtype=object), y)
    # a categorical column too
    with pytest.raises(ValueError, match=r"pass task_column='school'"):
        L21Regressor().fit(df.astype({"school": "category"}), y)


def test_integer_task_id_column_warns():
    df, y = _long(n_tasks=5)
    X = df.assign(school=df["school"].str[1:].astype(int))
    with pytest.warns(TaskColumnWarning, match=r"Column 'school' of X looks like a task identifier.*"
                                               r"pass task_column='school'"):
        L21Regressor(alpha=0.01).fit(X, y)
    # an array, ids 1..k in the last column
    A = np.column_stack([df[["x0", "x1"]].to_numpy(), X["school"].to_numpy() + 1.0])
    with pytest.warns(TaskColumnWarning, match=r"Column 2 of X .*integers 1\.\.5.*pass task_column=2"):
        IndependentRegressor(LinearRegression()).fit(A, y)
    assert issubclass(TaskColumnWarning, UserWarning)


def test_integer_categorical_column_warns():
    df, y = _long()
    X = df.assign(school=df["school"].str[1:].astype(int).astype("category"))
    with pytest.warns(TaskColumnWarning, match=r"Column 'school' of X is categorical"):
        L21Regressor(alpha=0.01).fit(X, y)


def test_task_column_given_or_wide_targets_do_not_warn():
    df, y = _long(n_tasks=5)
    X = df.assign(school=df["school"].str[1:].astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TaskColumnWarning)
        L21Regressor(alpha=0.01, task_column="school").fit(X, y)
        # 2-D targets: wide data, the column is a feature
        L21Regressor(alpha=0.01).fit(X, np.column_stack([y, y]))


def test_ordinary_features_do_not_warn():
    rng = np.random.default_rng(0)
    X, y = make_regression(n_samples=400, n_features=10, random_state=0)
    dummies = np.column_stack([
        rng.integers(0, 2, 400),          # 0/1 dummy: two values only
        rng.integers(0, 3, 400) * 2,      # 0, 2, 4: not consecutive
        rng.integers(3, 8, 400),          # counts starting above 1
        rng.integers(0, 60, 400),         # too many levels (60 > 5% of 400)
    ]).astype(float)
    Xd = np.column_stack([X, dummies])
    with warnings.catch_warnings():
        warnings.simplefilter("error", TaskColumnWarning)
        L21Regressor(alpha=0.1).fit(X, y)
        L21Regressor(alpha=0.1).fit(Xd, y)
        IndependentRegressor(LinearRegression()).fit(Xd, y)
        # few rows: 3 levels over 40 rows is more than 5% of the rows
        L21Regressor(alpha=0.1).fit(np.column_stack([X[:40], np.arange(40) % 3]), y[:40])


# --------------------------------------------------------------------------
# 5. SoftImputer and set_output
# --------------------------------------------------------------------------


def _incomplete_frame(seed=0):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(30, 2)) @ rng.normal(size=(2, 6))
    M[rng.random(M.shape) < 0.2] = np.nan
    return pd.DataFrame(M, columns=[f"task_{j}" for j in range(6)], index=np.arange(100, 130))


def test_soft_imputer_set_output_pandas_keeps_columns_and_index():
    df = _incomplete_frame()
    before = df.copy()
    out = SoftImputer(random_state=0).set_output(transform="pandas").fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == df.columns.tolist()
    assert out.index.equals(df.index)
    assert not out.isna().any().any()
    observed = df.notna().to_numpy()
    np.testing.assert_allclose(out.to_numpy()[observed], df.to_numpy()[observed])
    pd.testing.assert_frame_equal(df, before)
    est = SoftImputer(random_state=0).fit(df)
    assert est.get_feature_names_out().tolist() == df.columns.tolist()
    assert isinstance(est.set_output(transform="pandas").transform(df), pd.DataFrame)


def test_soft_imputer_feature_names_out():
    df = _incomplete_frame()
    est = SoftImputer(random_state=0).fit(df.to_numpy())
    assert est.get_feature_names_out().tolist() == [f"x{j}" for j in range(6)]
    with pytest.raises(ValueError):
        SoftImputer(random_state=0).fit(df).get_feature_names_out(["wrong"] * 6)
    sp = pytest.importorskip("scipy.sparse")
    S = sp.csr_matrix(np.nan_to_num(df.to_numpy()))
    est = SoftImputer(random_state=0).fit(S)
    names = est.get_feature_names_out()
    assert len(names) == est.rank_ == est.transform(S).shape[1]
    assert names[0] == "softimputer0"


@pytest.mark.parametrize("check_name", [
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
    "check_set_output_transform_polars",
    "check_global_set_output_transform_polars",
])
def test_soft_imputer_passes_scikit_learn_set_output_checks(check_name):
    # scikit-learn runs these on its own transformers; parametrize_with_checks does not yield them
    from sklearn.utils import estimator_checks

    check = getattr(estimator_checks, check_name, None)
    if check is None:
        pytest.skip(f"{check_name} is not in this scikit-learn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check("SoftImputer", SoftImputer(random_state=0))


def test_score_reads_nullable_targets():
    X, Y = _wide()
    Y_na = Y.astype("Float64")
    Y_na.iloc[0, 0] = pd.NA
    Y_nan = Y.copy()
    Y_nan.iloc[0, 0] = np.nan
    est = L21Regressor(alpha=0.01).fit(X, Y_na)
    assert np.isclose(est.score(X, Y_na), est.score(X, Y_nan))
    assert np.allclose(per_task_scores(est, X, Y_na)["r2"], per_task_scores(est, X, Y_nan)["r2"])
