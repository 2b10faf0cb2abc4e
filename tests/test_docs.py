"""The documentation builds with warnings as errors, whatever families have landed.

The full build (``-m slow``) runs Sphinx exactly as CI does, into a temporary
folder. The quick tests check the generator that makes the build robust: a
module that fails to import gets a page that says so instead of failing.
"""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("sphinx_gallery")
pytest.importorskip("numpydoc")
pytest.importorskip("myst_parser")
pytest.importorskip("pydata_sphinx_theme")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture
def skmtl_docs():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        yield importlib.import_module("skmtl_docs")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


def test_api_scan_survives_a_module_that_fails_to_import(skmtl_docs, monkeypatch, tmp_path):
    real_import = importlib.import_module

    def failing_import(name, *args, **kwargs):
        if name == "skmtl.gaussian_process":
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(skmtl_docs.importlib, "import_module", failing_import)
    public, dev = skmtl_docs.scan_api()
    by_name = {info.name: info for info in public}
    gp = by_name["skmtl.gaussian_process"]
    assert not gp.ok and "torch" in gp.error
    assert by_name["skmtl"].ok
    assert "IndependentRegressor" in by_name["skmtl"].sections["Estimators and transformers"]

    skmtl_docs.write_api(tmp_path, public, dev)
    page = (tmp_path / "api" / "skmtl.gaussian_process.rst").read_text()
    assert "not available in this build" in page and "torch" in page
    assert "autosummary" not in page
    index = (tmp_path / "api" / "index.rst").read_text()
    assert "skmtl.gaussian_process" in index and "skmtl-availability" in index
    assert "autosummary" in (tmp_path / "api" / "skmtl.rst").read_text()


def test_every_public_name_is_listed_once(skmtl_docs):
    public, dev = skmtl_docs.scan_api()
    listed = [f"{i.name}.{n}" for i in public + dev for names in i.sections.values() for n in names]
    assert len(listed) == len(set(listed))
    import skmtl

    for name in ("IndependentRegressor", "PooledRegressor", "IndependentClassifier"):
        assert f"skmtl.{name}" in listed
    assert not any(n.split(".")[-1] in skmtl._SUBMODULES for n in listed)


def test_benchmark_page_says_not_yet_run_without_results(skmtl_docs, tmp_path):
    assert skmtl_docs.write_benchmarks(tmp_path) == []
    assert "not yet run" in (tmp_path / "benchmarks" / "_results.inc.rst").read_text()
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "bench_linear.md").write_text("| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert skmtl_docs.write_benchmarks(tmp_path) == ["bench_linear.md"]
    text = (tmp_path / "benchmarks" / "results" / ".." / "_results.inc.rst").read_text()
    assert "results/bench_linear.md" in text and "myst_parser" in text


@pytest.mark.slow
def test_sphinx_build_passes_with_warnings_as_errors(tmp_path):
    out = tmp_path / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "-b", "html", "-d", str(tmp_path / "doctrees"),
           str(DOCS), str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1500,
                          env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-4000:] + "\n" + proc.stderr[-8000:]
    for page in ("index", "api/index", "auto_examples/index", "benchmarks/index",
                 "user_guide/models", "user_guide/choosing", "user_guide/data"):
        assert (out / f"{page}.html").is_file(), page
    examples = sorted((out / "auto_examples").glob("plot_*.html"))
    assert len(examples) >= 10
    images = list((out / "_images").glob("sphx_glr_plot_*_001.png"))
    assert len(images) >= 10, "every example draws a figure"
