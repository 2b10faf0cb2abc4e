"""Run the Examples sections of the public API as doctests.

Every public estimator has an ``Examples`` section (small, deterministic, printing shapes
or rounded numbers); this runs them, and those of the other public classes and functions,
with :mod:`doctest`. The Gaussian-process examples are skipped without torch and gpytorch.
"""

import doctest
import importlib
import importlib.util
import inspect

import pytest
from sklearn.base import BaseEstimator

MODULES = [
    "skmtl",
    "skmtl.linear",
    "skmtl.factorization",
    "skmtl.bayes",
    "skmtl.gaussian_process",
    "skmtl.model_selection",
    "skmtl.datasets",
    "skmtl.metrics",
    "skmtl.plotting",
]
_HAS_GP = all(importlib.util.find_spec(name) is not None for name in ("torch", "gpytorch"))
_FINDER = doctest.DocTestFinder()
_FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _public(module_name):
    module = importlib.import_module(module_name)
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield name, obj


def _cases():
    for module_name in MODULES:
        if module_name == "skmtl.gaussian_process" and not _HAS_GP:
            yield pytest.param(module_name, None, marks=pytest.mark.skip(reason="needs torch and gpytorch"))
            continue
        for name, obj in _public(module_name):
            # every estimator (it must have examples), and whatever else has examples
            if _is_estimator(obj) or _doctests(obj, name):
                yield pytest.param(module_name, name, id=f"{module_name}.{name}")


def _is_estimator(obj):
    return inspect.isclass(obj) and issubclass(obj, BaseEstimator)


def _doctests(obj, name):
    return [t for t in _FINDER.find(obj, name) if t.examples]


_CASES = list(_cases())


@pytest.mark.parametrize("module_name, name", _CASES)
def test_doctest(module_name, name):
    obj = getattr(importlib.import_module(module_name), name)
    tests = _doctests(obj, f"{module_name}.{name}")
    assert tests, f"{module_name}.{name} is a public estimator without an Examples section."
    runner = doctest.DocTestRunner(optionflags=_FLAGS)
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 0
    assert failed == 0, "".join(report)
