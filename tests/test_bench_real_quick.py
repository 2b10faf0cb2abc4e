"""benchmarks/bench_real.py --quick runs, prints one table per data set, and skips absent data cleanly."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_real.py"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CV_FAMILIES = ["MeanRegularizedRegressorCV", "L21RegressorCV", "TraceNormRegressorCV", "GraphRegularizedRegressorCV",
               "TaskRelationshipRegressorCV", "ClusteredRegressorCV", "DirtyRegressorCV", "SparseLowRankRegressorCV",
               "RobustMultiTaskRegressorCV", "SparseGroupRegressorCV"]


def _load():
    spec = importlib.util.spec_from_file_location("bench_real", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_real_quick_without_data(tmp_path, capsys):
    assert _load().main(["--quick", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ["parkinsons", "computer_survey", "enb", "slump", "edm"]:
        assert f"{name}: skipped" in out


def test_bench_real_unknown_data_set(tmp_path):
    with pytest.raises(SystemExit, match="unknown data set"):
        _load().main(["--quick", "--data-dir", str(tmp_path), "--datasets", "nope"])


def test_repeated_outer_folds():
    """Each seed's shuffled K-fold, concatenated; seed 0 alone and the split sets are left as they are."""
    import numpy as np
    from sklearn.model_selection import KFold

    bench = _load()
    X = np.zeros((23, 2))
    ds = bench._shared_input("toy", X, np.zeros((23, 2)), "toy", 5)
    assert bench.repeat_outer_folds(ds, [0]) is ds
    rep = bench.repeat_outer_folds(ds, range(3))
    assert len(rep["folds"]) == 15 and "seeds 0..2" in rep["desc"]
    for seed in range(3):
        for (tr, te), (tr2, te2) in zip(rep["folds"][5 * seed:5 * seed + 5],
                                        KFold(5, shuffle=True, random_state=seed).split(X)):
            np.testing.assert_array_equal(te, te2)
            np.testing.assert_array_equal(tr, tr2)
    split = {"layout": "long"}
    assert bench.repeat_outer_folds(split, range(3)) is split
    assert bench.repeat_outer_folds(None, range(3)) is None


def _table(out, name):
    return out.split(f"## {name}:")[1].split("\nSummary (")[0]


@pytest.mark.data
@pytest.mark.skipif(not DATA.exists(), reason="../shared/data is absent")
def test_bench_real_quick_with_data(capsys):
    # the five original sets (edm, the sixth of the default quick run, is test_bench_real_quick_mulan's)
    sets = "parkinsons,parkinsons_15pct,computer_survey,enb,slump"
    assert _load().main(["--quick", "--data-dir", str(DATA), "--datasets", sets]) == 0
    out = capsys.readouterr().out
    assert "## parkinsons: 8 tasks" in out
    assert "## computer_survey: 30 tasks" in out
    assert "## enb:" in out and "## slump:" in out
    assert "| Independent(Ridge) | GridSearchCV |" in out and "| Independent(RidgeCV) | own LOO |" in out
    assert "| TaskRelationship (ours) | GridSearchCV |" in out
    assert "## summary" in out
    # every grid-searched skmtl model, every CV estimator and the grouping on every original data set
    for name in ["parkinsons", "parkinsons_15pct", "computer_survey", "enb", "slump"]:
        table = _table(out, name)
        assert table.count("(ours) | GridSearchCV |") == 5, name
        assert table.count("(ours) | own CV |") == len(CV_FAMILIES) + 1, name
        for fam in CV_FAMILIES:
            assert f"| {fam}" in table, (name, fam)
        assert "| TaskGrouping(best fast CV family) (ours) | own CV |" in table
        assert "| GraphRegularized" in table and "| Clustered (ours)" in table
    assert "n_clusters=1" in out.split("## enb:")[1].split("## slump:")[0]
    assert "(target-correlation graph)" in out
    assert out.count("\nSummary (") == 5
    assert out.count('Target "grouping at most 0.5% above Independent(RidgeCV)') == 5
    assert 'Target "best CV estimator at least 6% below Independent(Ridge)' in out
    assert 'Target "TaskGrouping(best fast CV family) never more than 0.5% worse' in out


@pytest.mark.data
@pytest.mark.skipif(not (DATA / "mulan_mtr" / "edm.arff").exists(), reason="../shared/data/mulan_mtr is absent")
def test_bench_real_quick_mulan(capsys):
    """A MULAN set: outer CV, aRRMSE only, the baselines, every CV estimator and the grouping."""
    assert _load().main(["--quick", "--data-dir", str(DATA), "--datasets", "edm", "--folds", "2"]) == 0
    out = capsys.readouterr().out
    assert "## edm: MULAN, 2 targets, 154 rows, 16 features, 2-fold outer CV" in out
    table = _table(out, "edm")
    assert "| test aRRMSE |" in table and "test RMSE" not in table
    assert "| Independent(Ridge) | GridSearchCV |" in table and "| Pooled(Ridge) | GridSearchCV |" in table
    assert "GridSearchCV |" in table and "(ours) | GridSearchCV" not in table  # no grid-searched families on MULAN
    assert table.count("(ours) | own CV |") == len(CV_FAMILIES) + 1
    assert "| edm | aRRMSE |" in out


def test_bench_real_missing_values():
    """Missing inputs are imputed, missing targets stay NaN and are left out of the aRRMSE."""
    import numpy as np

    mod = _load()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    Y = X @ rng.standard_normal((4, 3)) + 0.3 * rng.standard_normal((60, 3))
    X[rng.random(X.shape) < 0.1] = np.nan
    Y[rng.random(Y.shape) < 0.2] = np.nan
    ds = mod._shared_input("synthetic", X, Y, "synthetic", 2, mulan=True)
    ds["n_tasks"] = 3
    rows, _ = mod.run_outer_cv(ds, quick=True, n_jobs=1, budget=1e9)
    scores = {r["label"]: mod._score(r, "aRRMSE") for r in rows}
    assert set(mod.BASELINES) <= set(scores) and mod.GROUPING in scores
    assert all(np.isfinite(v) and 0 < v < 1 for v in scores.values()), scores


@pytest.mark.data
@pytest.mark.skipif(not (DATA / "mulan_mtr" / "edm.arff").exists(), reason="../shared/data/mulan_mtr is absent")
def test_bench_real_quick_fast_families(capsys):
    """--families fast: the three fast CV estimators, the grouping model and the baselines only."""
    assert _load().main(["--quick", "--data-dir", str(DATA), "--datasets", "edm", "--families", "fast"]) == 0
    table = _table(capsys.readouterr().out, "edm")
    assert table.count("(ours) | own CV |") == 4
    assert "Note: --families fast" in table
