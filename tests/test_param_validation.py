"""skmtl._param_validation: our replacement for scikit-learn's private one."""

import re
from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.model_selection import KFold

from skmtl._param_validation import Interval, InvalidParameterError, StrOptions, validate_params


class _Est(BaseEstimator):
    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "rank": [None, Interval(Integral, 1, 10, closed="both")],
        "solver": [StrOptions({"svd", "als"})],
        "task_weight": [None, StrOptions({"balanced"}), "array-like"],
        "fit_intercept": ["boolean"],
        "task_column": [None, str, Integral],
        "cv": ["cv_object"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha=1.0, rank=None, solver="svd", task_weight=None, fit_intercept=True,
                 task_column=None, cv=5, random_state=None, verbose=0, unchecked=None):
        self.alpha = alpha
        self.rank = rank
        self.solver = solver
        self.task_weight = task_weight
        self.fit_intercept = fit_intercept
        self.task_column = task_column
        self.cv = cv
        self.random_state = random_state
        self.verbose = verbose
        self.unchecked = unchecked


@pytest.mark.parametrize("params", [
    {},
    {"alpha": 0, "rank": 10, "solver": "als", "task_weight": "balanced"},
    {"alpha": np.float32(2.5), "rank": np.int64(3), "task_weight": np.ones(3), "fit_intercept": np.bool_(False)},
    {"task_weight": [1.0, 2.0], "task_column": "task", "cv": KFold(3), "random_state": 0, "verbose": True},
    {"task_column": 0, "cv": [([0, 1], [2])], "random_state": np.random.RandomState(0), "verbose": 2},
    {"unchecked": object()},
])
def test_valid_values_pass(params):
    validate_params(_Est(**params))


@pytest.mark.parametrize("name, value, allowed", [
    ("alpha", -0.1, "a float in the range [0, inf)"),
    ("alpha", float("nan"), "a float in the range [0, inf)"),
    ("alpha", "1.0", "a float in the range [0, inf)"),
    ("alpha", True, "a float in the range [0, inf)"),
    ("rank", 0, "None or an int in the range [1, 10]"),
    ("rank", 11, "None or an int in the range [1, 10]"),
    ("rank", 2.0, "None or an int in the range [1, 10]"),
    ("solver", "qr", "a str among ['als', 'svd']"),
    ("task_weight", "balance", "None, a str among ['balanced'] or an array-like"),
    ("fit_intercept", 1, "a bool"),
    ("task_column", 1.5, "None, an instance of 'str' or an instance of 'Integral'"),
    ("cv", 1, "cross-validation"),
    ("random_state", -1, "RandomState"),
    ("verbose", -1, "a bool or an int in the range [0, inf)"),
])
def test_error_names_parameter_class_allowed_and_got(name, value, allowed):
    with pytest.raises(ValueError) as info:
        validate_params(_Est(**{name: value}))
    msg = str(info.value)
    assert isinstance(info.value, InvalidParameterError) and isinstance(info.value, TypeError)
    assert msg.startswith(f"The {name!r} parameter of _Est must be ")
    assert allowed in msg
    assert msg.endswith(f"Got {value!r} instead.")


def test_open_and_closed_bounds():
    assert not Interval(Real, 0, 1, closed="neither").is_satisfied_by(0)
    assert not Interval(Real, 0, 1, closed="left").is_satisfied_by(1)
    assert Interval(Real, 0, 1, closed="right").is_satisfied_by(1)
    assert Interval(Real, 0, 1, closed="both").is_satisfied_by(0)
    assert str(Interval(Real, 0, None, closed="neither")) == "a float in the range (0, inf)"
    with pytest.raises(ValueError, match="closed"):
        Interval(Real, 0, 1, closed="open")


def test_unknown_string_constraint_is_an_error():
    class Bad(BaseEstimator):
        _parameter_constraints = {"a": ["positive"]}

        def __init__(self, a=1):
            self.a = a

    with pytest.raises(ValueError, match="Unknown parameter constraint 'positive'"):
        validate_params(Bad())


def test_estimators_raise_it_from_fit():
    from skmtl.factorization import SoftImputer
    from skmtl.linear import L21Regressor

    X, Y = np.random.default_rng(0).standard_normal((2, 10, 3))
    with pytest.raises(ValueError, match=re.escape(
            "The 'alpha' parameter of L21Regressor must be None or a float in the range [0, inf). Got -1 instead.")):
        L21Regressor(alpha=-1).fit(X, Y)
    with pytest.raises(ValueError, match=r"'svd_solver' parameter of SoftImputer .* Got 'lu' instead"):
        SoftImputer(svd_solver="lu").fit(X)


def test_no_private_sklearn_imports_in_skmtl():
    from pathlib import Path

    import skmtl

    root = Path(skmtl.__file__).parent
    pattern = re.compile(r"sklearn[a-z_.]*\._|from sklearn[\w.]* import .*\b_\w")
    offenders = [f"{p.relative_to(root)}:{i}" for p in root.rglob("*.py")
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
