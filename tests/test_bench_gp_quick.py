"""benchmarks/bench_gp.py --quick runs end to end at tiny sizes and prints its table."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("gpytorch")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bench_gp_quick():
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "bench_gp.py"), "--quick", "--threads", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "| case |" in text
    for part in ("a. synthetic", "c. exact Kronecker", "c. sparse variational", "d. ",
                 "e. inverse-dynamics style", "f. OILMM Q=2, n=80, T=16", "f. ICM (Kronecker)"):
        assert part in text
    assert "skipped, no CUDA" in text or "d. exact Kronecker" in text
    assert "hyperparameters searched on" in text
    targets = text.split("Targets", 1)[1]
    for part in ("a. >= 5x faster", "b. lower average SMSE", "c. exact n=5000", "e. OILMM mean SMSE", "f. OILMM fit time"):
        line = next(ln for ln in targets.splitlines() if ln.startswith(f"- {part}"))
        assert line.endswith(("MET", "NOT MET", "not measured", "NOT MEASURED (a data set is missing)")), line
