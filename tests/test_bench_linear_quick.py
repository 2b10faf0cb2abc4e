"""The L2,1 benchmark runs end to end in --quick mode."""

import os
import subprocess
import sys

import pytest

BENCH = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "bench_linear.py")


def _run_quick(cases):
    pytest.importorskip("skglm")
    proc = subprocess.run([sys.executable, BENCH, "--quick", "--cases", cases],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.skipif(not os.path.exists(BENCH), reason="benchmarks/ not present")
def test_bench_linear_quick():
    out = _run_quick("a,b,f,g")
    assert "| case" in out and "(a) dense p>>n" in out and "(b) CV path" in out
    assert "alpha_ same" in out
    assert "(f) elastic-net CV" in out and "(alpha_, l1_ratio_) same" in out
    assert "(g) group_mcp" in out and "(g) group_scad" in out


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(BENCH), reason="benchmarks/ not present")
def test_bench_linear_quick_startup():
    """Case (e): at least seven new processes (import + first fit). Slow; test_cold_start.py
    times a new process's import and first fit in the default suite."""
    out = _run_quick("e")
    assert "(e) new process: import + first fit (Numba cache warm)" in out
