"""The optional progress bar helper."""

import pytest

from skmtl._progress import progress


def test_silent_by_default_returns_the_iterable():
    items = range(3)
    assert progress(items, False) is items
    assert progress(items, 0, desc="x") is items


def test_verbose_wraps_in_tqdm(capsys):
    tqdm = pytest.importorskip("tqdm")
    bar = progress((i for i in range(4)), True, desc="fits", total=4)
    assert isinstance(bar, tqdm.tqdm)
    assert list(bar) == [0, 1, 2, 3]
    assert "fits" in capsys.readouterr().err


# --------------------------------------------------------------------------
# estimators: verbose=1 draws a bar on stderr, verbose=0 (the default) nothing
# --------------------------------------------------------------------------

import numpy as np  # noqa: E402

from skmtl.datasets import make_multitask_regression  # noqa: E402


def _reg_data():
    X, Y, _ = make_multitask_regression(40, 5, 3, structure="low_rank", rank=1, random_state=0)
    return X, Y


def _cls_data():
    X, Y = _reg_data()
    return X, (Y > np.median(Y, axis=0)).astype(int)


def _estimators():
    from skmtl.bayes import BayesianMultiTaskRegressor
    from skmtl.factorization import ReducedRankRegressorCV
    from skmtl.linear import L21ClassifierCV, L21RegressorCV, TraceNormClassifierCV, TraceNormRegressorCV

    return [
        (lambda v: L21RegressorCV(n_alphas=4, cv=3, verbose=v), _reg_data, "L21RegressorCV"),
        (lambda v: TraceNormRegressorCV(n_alphas=4, cv=3, verbose=v), _reg_data, "TraceNormRegressorCV"),
        (lambda v: L21ClassifierCV(n_alphas=3, cv=3, max_iter=50, verbose=v), _cls_data, "L21ClassifierCV"),
        (lambda v: TraceNormClassifierCV(n_alphas=3, cv=3, max_iter=50, verbose=v), _cls_data,
         "TraceNormClassifierCV"),
        (lambda v: ReducedRankRegressorCV(cv=3, verbose=v), _reg_data, "ReducedRankRegressorCV"),
        (lambda v: BayesianMultiTaskRegressor("gibbs", n_chains=2, n_samples=20, burn_in=10,
                                              random_state=0, verbose=v), _reg_data, "Gibbs chains"),
    ]


@pytest.mark.parametrize("case", range(6), ids=[
    "l21cv", "tracecv", "l21clfcv", "traceclfcv", "rrrcv", "gibbs"])
def test_estimator_verbose_bar(case, capsys):
    pytest.importorskip("tqdm")
    import warnings

    make, data, desc = _estimators()[case]
    X, Y = data()
    assert make(0).get_params()["verbose"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(0).fit(X, Y)
        assert capsys.readouterr().err == ""
        make(1).fit(X, Y)
    err = capsys.readouterr().err
    assert desc in err and "100%" in err


@pytest.mark.parametrize("path", ["l21", "trace"])
def test_path_verbose_bar(path, capsys):
    pytest.importorskip("tqdm")
    from skmtl.linear import l21_path, trace_norm_path

    X, Y = _reg_data()
    alphas = [1.0, 0.5, 0.1]
    path_func = l21_path if path == "l21" else trace_norm_path
    run = lambda v: path_func(X, Y, alphas=alphas, verbose=v)  # noqa: E731
    run(0)
    assert capsys.readouterr().err == ""
    run(1)
    assert "3/3" in capsys.readouterr().err


def test_reduced_rank_cv_n_jobs_same_result():
    from skmtl.factorization import ReducedRankRegressorCV

    X, Y = _reg_data()
    a = ReducedRankRegressorCV(cv=3).fit(X, Y)
    b = ReducedRankRegressorCV(cv=3, n_jobs=2).fit(X, Y)
    assert np.allclose(a.cv_scores_, b.cv_scores_) and a.rank_ == b.rank_
    assert np.allclose(a.coef_, b.coef_)


@pytest.mark.parametrize("which", ["exact", "sparse"])
def test_gp_verbose_bar(which, capsys):
    pytest.importorskip("tqdm")
    pytest.importorskip("gpytorch")
    from skmtl.gaussian_process import MultiTaskGPRegressor, SparseMultiTaskGPRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(30, 2))
    Y = np.column_stack([np.sin(4 * X[:, 0]), np.cos(4 * X[:, 0])]) + 0.05 * rng.normal(size=(30, 2))
    if which == "exact":
        make = lambda v: MultiTaskGPRegressor(max_iter=5, n_restarts_optimizer=1, random_state=0, verbose=v)  # noqa: E731
        done = "2/2"
    else:
        make = lambda v: SparseMultiTaskGPRegressor(n_inducing=8, n_epochs=3, random_state=0, verbose=v)  # noqa: E731
        done = "3/3"
    make(0).fit(X, Y)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    make(1).fit(X, Y)
    assert done in capsys.readouterr().err
