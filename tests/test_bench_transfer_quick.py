"""benchmarks/bench_transfer.py --quick runs in a subprocess and prints its table."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_transfer.py"


def test_bench_transfer_quick():
    proc = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "## new-task RMSE" in out and "sklearn" in out
    for name in ["L21RegressorCV", "TraceNormRegressorCV", "MeanRegularizedRegressor",
                 "TaskRelationshipRegressor", "MultiTaskARDRegressor", "BayesianMultiTaskRegressor"]:
        assert f"| {name} " in out
    assert "ours/RidgeCV" in out and "ours/LassoCV" in out
