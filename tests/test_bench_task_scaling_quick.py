"""benchmarks/bench_task_scaling.py --quick runs end to end and prints its table."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bench_task_scaling_quick():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "bench_task_scaling.py"), "--quick"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "| TaskRelationshipRegressor | 40 |" in out.stdout
    assert "Target: School-shaped TaskRelationshipRegressor fit < 2 s" in out.stdout
    assert "| TaskRelationshipRegressorCV |" in out.stdout
