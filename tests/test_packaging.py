"""What pyproject.toml declares: license, LICENSE file, URLs and dependencies."""

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _name(requirement):
    return re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0)


def test_license_is_an_spdx_string_and_the_file_ships(project):
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "BSD 3-Clause License" in text and "skmtl developers" in text


def test_urls_and_classifiers(project):
    assert set(project["urls"]) >= {"Documentation", "Source", "Issues"}
    versions = [c for c in project["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions
    minimum = project["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {minimum}" in project["classifiers"]


def test_every_dependency_is_installed_or_optional(project):
    """Core dependencies are installed here; the others are in an optional extra."""
    optional = {_name(r).lower() for reqs in project["optional-dependencies"].values() for r in reqs}
    for req in project["dependencies"]:
        name = _name(req)
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            assert name.lower() in optional, f"core dependency {name} is not installed"
    assert "scikit-learn>=1.6" in project["dependencies"]
    assert "pandas" not in {_name(r) for r in project["dependencies"]}
    assert "pandas" in {_name(r) for r in project["optional-dependencies"]["pandas"]}


def test_no_unused_optional_dependency(project):
    """Every package of the ``gp`` extra is imported somewhere in skmtl."""
    source = "\n".join(p.read_text() for p in (ROOT / "skmtl").rglob("*.py"))
    for req in project["optional-dependencies"]["gp"]:
        module = _name(req).replace("-", "_")
        assert re.search(rf"^\s*(import|from) {module}\b", source, re.M), f"{module} is never imported"


def test_pandas_is_asked_for_by_name_when_missing():
    """transfer_report without pandas: an ImportError that says pip install skmtl[pandas]."""
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "import numpy as np\n"
        "from skmtl.model_selection import transfer_report\n"
        "from skmtl import PooledRegressor\n"
        "try:\n"
        "    transfer_report(PooledRegressor(), np.zeros((6, 2)), np.zeros((6, 2)), cv=2)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert "pip install skmtl[pandas]" in out.stdout, out.stderr
