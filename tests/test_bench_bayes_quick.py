"""benchmarks/bench_bayes.py --quick runs, prints its tables, and skips absent real data cleanly."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_bayes.py"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _load():
    spec = importlib.util.spec_from_file_location("bench_bayes", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_bayes_quick_without_real_data(tmp_path, capsys):
    assert _load().main(["--quick", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "## synthetic:" in out and "| BayesianMTR em full (ours) |" in out
    assert "computer_survey: skipped" in out and "parkinsons: skipped" in out
    assert "## Gibbs speed" in out
    targets = out.split("## Targets", 1)[1]
    assert "- Gibbs >= 1000 effective samples/s" in targets
    assert "coverage 87-93% where well specified: " in targets
    assert "on real data: not measured (real data absent)" in targets
    assert "per-task BayesianRidge on computer survey and Parkinson's: not measured" in targets


@pytest.mark.data
@pytest.mark.skipif(not DATA.exists(), reason="../shared/data is absent")
def test_bench_bayes_quick_with_real_data(capsys):
    assert _load().main(["--quick", "--data-dir", str(DATA)]) == 0
    out = capsys.readouterr().out
    assert "## computer_survey: 40 tasks" in out
    assert "## parkinsons: 10 tasks" in out
    targets = out.split("## Targets", 1)[1]
    assert "per-task BayesianRidge on computer survey and Parkinson's: MET" in targets or "NOT MET" in targets
