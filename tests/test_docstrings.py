"""numpydoc validation of the public API (in the manner of scikit-learn's test_docstring_parameters.py).

Every class and function in the ``__all__`` of the public modules must have a docstring
(GL08) whose Parameters section matches its signature (PR01: a parameter not documented,
PR02: a documented parameter that does not exist). The public methods of the estimators
(``fit``, ``predict``, ...) must also document their parameters and have a Returns section
(RT01). Methods inherited from scikit-learn are not checked; methods inherited from a skmtl
mixin are checked once per estimator, and fixed once in the mixin.
"""

import importlib
import inspect

import pytest
from sklearn.base import BaseEstimator

validate = pytest.importorskip("numpydoc.validate").validate

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
#: the error codes checked on every public class and function
OBJECT_CODES = {"GL08", "PR01", "PR02"}
#: the estimator methods checked, and their error codes (all of them return something)
METHODS = ["fit", "predict", "predict_proba", "transform", "score", "fit_transform", "decision_function"]
METHOD_CODES = {"GL08", "PR01", "PR02", "RT01"}


def _import(module_name):
    if module_name == "skmtl.gaussian_process":
        pytest.importorskip("torch")
        pytest.importorskip("gpytorch")
    return importlib.import_module(module_name)


def _errors(import_path, codes):
    return [f"{import_path}: {code} {msg}" for code, msg in validate(import_path)["errors"] if code in codes]


def _public_objects(module):
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield name, obj


def _checked_methods(cls):
    for meth in METHODS:
        if not hasattr(cls, meth):
            continue
        owner = next(k for k in cls.__mro__ if meth in vars(k))
        if owner.__module__.split(".")[0] == "skmtl":
            yield meth


@pytest.mark.parametrize("module_name", MODULES)
def test_docstrings(module_name):
    module = _import(module_name)
    errors = []
    checked = 0
    for name, obj in _public_objects(module):
        path = f"{module_name}.{name}"
        errors += _errors(path, OBJECT_CODES)
        checked += 1
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            for meth in _checked_methods(obj):
                errors += _errors(f"{path}.{meth}", METHOD_CODES)
                checked += 1
    assert checked > 0
    assert not errors, "numpydoc validation errors:\n" + "\n".join(errors)
