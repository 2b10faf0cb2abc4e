"""The documentation builds with warnings as errors.

The full build (marked ``docs``: ``python -m pytest -m docs``, run by
``.ci/run`` after the default suite) runs Sphinx as the README says, into a
temporary folder, then checks the result: every public name has an API page,
no ``:model:`` reference is left *planned*. The quick tests check the page
generator of ``docs/_ext/skmtl_docs.py``.
"""

import importlib
import inspect
import os
import re
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
    assert "bench_linear\n~~~" in text  # no title of its own: the file name is its title
    (tmp_path / "benchmarks" / "results" / "bench_trace.md").write_text("# Trace norm\n\n| a |\n|---|\n| 1 |\n")
    assert skmtl_docs.write_benchmarks(tmp_path) == ["bench_linear.md", "bench_trace.md"]
    text = (tmp_path / "benchmarks" / "_results.inc.rst").read_text()
    assert "results/bench_trace.md" in text and "bench_trace\n~~~" not in text


#: Every module whose ``__all__`` must be in the API reference.
PUBLIC_MODULES = ["skmtl", "skmtl.linear", "skmtl.factorization", "skmtl.bayes",
                  "skmtl.gaussian_process", "skmtl.model_selection", "skmtl.datasets",
                  "skmtl.plotting", "skmtl.metrics"]


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory):
    """Build the HTML once for the tests below, exactly as the README says (``-W``)."""
    tmp = tmp_path_factory.mktemp("docs")
    out = tmp / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "-b", "html", "-d", str(tmp / "doctrees"),
           str(DOCS), str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1500,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stdout[-4000:] + "\n" + proc.stderr[-8000:]
    return out


@pytest.mark.docs
def test_sphinx_build_passes_with_warnings_as_errors(built_docs):
    out = built_docs
    for page in ("index", "api/index", "auto_examples/index", "benchmarks/index",
                 "user_guide/models", "user_guide/choosing", "user_guide/data"):
        assert (out / f"{page}.html").is_file(), page
    examples = sorted((out / "auto_examples").glob("plot_*.html"))
    assert len(examples) >= 10
    images = {p.name for p in (out / "_images").glob("sphx_glr_plot_*_001.png")}
    missing = [p.stem for p in examples if f"sphx_glr_{p.stem}_001.png" not in images]
    assert not missing, f"examples without a figure: {missing}"


@pytest.mark.docs
def test_every_public_name_is_in_the_api_reference(built_docs):
    generated = built_docs / "api" / "generated"
    pages = {p.stem: p for p in generated.glob("*.html")}
    by_short = {}
    for stem in pages:
        by_short.setdefault(stem.rsplit(".", 1)[-1], []).append(stem)
    missing = []
    for modname in PUBLIC_MODULES:
        mod = importlib.import_module(modname)
        listing = (built_docs / "api" / f"{modname}.html").read_text(encoding="utf-8")
        assert "not available in this build" not in listing, modname
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.ismodule(obj):
                continue
            # documented once, where the object lives; a re-export points to that page
            stems = [st for st in by_short.get(name, [])
                     if getattr(importlib.import_module(st.rsplit(".", 1)[0]), name, None) is obj]
            if not stems:
                missing.append(f"{modname}.{name}: no page")
                continue
            html = pages[stems[0]].read_text(encoding="utf-8")
            if f'id="{stems[0]}"' not in html:
                missing.append(f"{modname}.{name}: page {stems[0]} does not document it")
    assert not missing, "\n".join(missing)


@pytest.mark.docs
def test_no_model_reference_renders_as_planned(built_docs):
    planned = []
    for page in built_docs.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if "skmtl-planned" in text or "(planned)" in text:
            found = re.findall(r"<code[^>]*>(?:<span[^>]*>)?([\w.]+)(?:</span>)?</code>"
                               r"<em> \(planned\)</em>", text)
            planned.append(f"{page.relative_to(built_docs)}: {found or '(planned)'}")
    assert not planned, "\n".join(planned)
