"""The trace-norm benchmark runs in quick mode and prints its tables."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("cvxpy")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_trace.py"


def test_bench_trace_quick(capsys):
    spec = importlib.util.spec_from_file_location("bench_trace", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "| skmtl FISTA (tol 1e-8) |" in out
    assert "cvxpy + SCS" in out and "cvxpy + Clarabel" in out
    assert "n=100, d=20, T=8" in out
    # ours reaches the best objective found (suboptimality printed as 0 or tiny)
    row = next(line for line in out.splitlines() if line.startswith("| skmtl FISTA") and "ratio" not in line)
    assert float(row.split("|")[8]) < 1e-6
