"""benchmarks/bench_real.py --quick runs, prints one table per data set, and skips absent data cleanly."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_real.py"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _load():
    spec = importlib.util.spec_from_file_location("bench_real", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_real_quick_without_data(tmp_path, capsys):
    assert _load().main(["--quick", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ["parkinsons", "computer_survey", "enb", "slump"]:
        assert f"{name}: skipped" in out


@pytest.mark.data
@pytest.mark.skipif(not DATA.exists(), reason="../shared/data is absent")
def test_bench_real_quick_with_data(capsys):
    assert _load().main(["--quick", "--data-dir", str(DATA)]) == 0
    out = capsys.readouterr().out
    assert "## parkinsons: 8 tasks" in out
    assert "## computer_survey: 30 tasks" in out
    assert "## enb:" in out and "## slump:" in out
    assert "| Independent(Ridge) |" in out and "| TaskRelationship (ours) |" in out
    assert "## summary" in out
    # every skmtl model on every data set: 6 ours rows per table
    for name in ["parkinsons", "parkinsons_15pct", "computer_survey", "enb", "slump"]:
        table = out.split(f"## {name}:")[1].split("Best skmtl model")[0]
        assert table.count("(ours)") == 6, name
        assert "| TaskGrouping(L21RegressorCV) (ours) |" in table
        assert "| GraphRegularized" in table and "| Clustered (ours)" in table
    assert "n_clusters=1" in out.split("## enb:")[1].split("## slump:")[0]
    assert "(target-correlation graph)" in out
    assert out.count('Target "best skmtl model beats both baselines": ') == 5
    assert 'Target "test RMSE at least 3% below IndependentRegressor(Ridge)' in out
    assert "Targets met on " in out
