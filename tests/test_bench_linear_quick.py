"""The L2,1 benchmark runs end to end in --quick mode."""

import os
import subprocess
import sys

import pytest

BENCH = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "bench_linear.py")


@pytest.mark.skipif(not os.path.exists(BENCH), reason="benchmarks/ not present")
def test_bench_linear_quick():
    pytest.importorskip("skglm")
    proc = subprocess.run([sys.executable, BENCH, "--quick", "--cases", "a,b,e,f,g"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "| case" in out and "(a) dense p>>n" in out and "(b) CV path" in out
    assert "alpha_ same" in out
    assert "(f) elastic-net CV" in out and "(alpha_, l1_ratio_) same" in out
    assert "(g) group_mcp" in out and "(g) group_scad" in out
