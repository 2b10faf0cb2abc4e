"""Validation of estimator hyperparameters against declared constraints.

skmtl's own small replacement for scikit-learn's private ``_param_validation``
module (we use public scikit-learn APIs only). An estimator declares

    _parameter_constraints = {"alpha": [Interval(Real, 0, None, closed="left")],
                              "solver": [StrOptions({"auto", "svd"})],
                              "task_column": [None, str, Integral]}

and calls :func:`validate_params(self) <validate_params>` at the start of
``fit``. A value is valid when it satisfies at least one constraint of its
list. A constraint is one of

* ``None``: the value ``None``;
* a class: an instance of it (``bool`` is not accepted for numeric classes);
* :class:`Interval` / :class:`StrOptions` / :class:`HasMethods`, or any
  object with ``is_satisfied_by(value)`` whose ``str`` says what it allows;
* a string: ``"boolean"``, ``"array-like"``, ``"sparse matrix"``,
  ``"callable"``, ``"random_state"``, ``"verbose"`` or ``"cv_object"``.

Parameters absent from ``_parameter_constraints`` are not checked.
"""

import math
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

__all__ = ["Interval", "StrOptions", "HasMethods", "InvalidParameterError", "validate_params"]


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter has a value its estimator does not allow.

    Subclasses both ``ValueError`` and ``TypeError`` (as in scikit-learn), so
    either may be caught.
    """


def _is_number(val):
    return isinstance(val, Real) and not isinstance(val, (bool, np.bool_))


class Interval:
    """Numbers of type ``type`` in the interval from ``left`` to ``right``.

    Parameters
    ----------
    type : {numbers.Integral, numbers.Real}
        ``Integral`` accepts Python and NumPy integers; ``Real`` accepts any
        real number (integers included) except NaN. Booleans never match.
    left, right : number or None
        Bounds; ``None`` means unbounded on that side.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds belong to the interval.
    """

    def __init__(self, type, left, right, *, closed="both"):
        if type not in (Integral, Real):
            raise ValueError(f"Interval type must be numbers.Integral or numbers.Real, got {type!r}")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be 'both', 'left', 'right' or 'neither', got {closed!r}")
        if left is not None and right is not None and right < left:
            raise ValueError(f"Interval right bound {right} is below the left bound {left}")
        self.type = type
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, val):
        if not _is_number(val) or not isinstance(val, self.type):
            return False
        if math.isnan(val):
            return False
        left_closed = self.closed in ("both", "left")
        right_closed = self.closed in ("both", "right")
        if self.left is not None and (val < self.left or (val == self.left and not left_closed)):
            return False
        if self.right is not None and (val > self.right or (val == self.right and not right_closed)):
            return False
        return True

    def __str__(self):
        kind = "an int" if self.type is Integral else "a float"
        lo = "-inf" if self.left is None else self.left
        hi = "inf" if self.right is None else self.right
        lb = "[" if self.closed in ("both", "left") and self.left is not None else "("
        rb = "]" if self.closed in ("both", "right") and self.right is not None else ")"
        return f"{kind} in the range {lb}{lo}, {hi}{rb}"

    def __repr__(self):
        return f"Interval({self.type.__name__}, {self.left!r}, {self.right!r}, closed={self.closed!r})"


class StrOptions:
    """One of a set of strings.

    Parameters
    ----------
    options : set of str
    """

    def __init__(self, options):
        options = set(options)
        if not all(isinstance(o, str) for o in options):
            raise ValueError(f"StrOptions takes a set of strings, got {options!r}")
        self.options = options

    def is_satisfied_by(self, val):
        return isinstance(val, str) and val in self.options

    def __str__(self):
        return f"a str among {sorted(self.options)}"

    def __repr__(self):
        return f"StrOptions({sorted(self.options)!r})"


class HasMethods:
    """An object with callable attributes of the given names (a duck-typed estimator).

    Parameters
    ----------
    methods : str or list of str
        Names of the methods the value must have (``["fit", "predict"]``).
    """

    def __init__(self, methods):
        self.methods = [methods] if isinstance(methods, str) else list(methods)

    def is_satisfied_by(self, val):
        return all(callable(getattr(val, m, None)) for m in self.methods)

    def __str__(self):
        names = [repr(m) for m in self.methods]
        text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"an object implementing {text}"

    def __repr__(self):
        return f"HasMethods({self.methods!r})"


def _is_array_like(val):
    if isinstance(val, (str, bytes)) or sp.issparse(val):
        return False
    if hasattr(val, "__array__") or hasattr(val, "shape"):
        return np.ndim(val) > 0 if not hasattr(val, "shape") else len(val.shape) > 0
    return hasattr(val, "__len__") and hasattr(val, "__getitem__")


def _is_random_state(val):
    if val is None or isinstance(val, np.random.RandomState):
        return True
    return Interval(Integral, 0, 2**32 - 1).is_satisfied_by(val)


def _is_cv_object(val):
    if val is None or Interval(Integral, 2, None).is_satisfied_by(val):
        return True
    if callable(getattr(val, "split", None)) and callable(getattr(val, "get_n_splits", None)):
        return True
    return hasattr(val, "__iter__") and not isinstance(val, (str, bytes))


_NAMED = {
    "boolean": (lambda v: isinstance(v, (bool, np.bool_)), "a bool"),
    "array-like": (_is_array_like, "an array-like"),
    "sparse matrix": (sp.issparse, "a sparse matrix"),
    "callable": (callable, "a callable"),
    "random_state": (_is_random_state, "an int in the range [0, 4294967295], a numpy RandomState or None"),
    "verbose": (
        lambda v: isinstance(v, (bool, np.bool_)) or Interval(Integral, 0, None).is_satisfied_by(v),
        "a bool or an int in the range [0, inf)",
    ),
    "cv_object": (_is_cv_object, "a cross-validation object (an int >= 2, a splitter, an iterable of splits or None)"),
}


def _satisfied(constraint, val):
    if constraint is None:
        return val is None
    if isinstance(constraint, str):
        if constraint not in _NAMED:
            raise ValueError(f"Unknown parameter constraint {constraint!r}")
        return bool(_NAMED[constraint][0](val))
    if isinstance(constraint, type):
        if constraint in (Integral, Real, int, float) and isinstance(val, (bool, np.bool_)):
            return False
        return isinstance(val, constraint)
    return constraint.is_satisfied_by(val)


def _describe(constraint):
    if constraint is None:
        return "None"
    if isinstance(constraint, str):
        return _NAMED[constraint][1]
    if isinstance(constraint, type):
        return f"an instance of {constraint.__qualname__!r}"
    return str(constraint)


def validate_params(estimator):
    """Check ``estimator``'s hyperparameters against its class's constraints.

    Reads ``estimator.get_params(deep=False)`` and
    ``type(estimator)._parameter_constraints``.

    Raises
    ------
    InvalidParameterError
        (a ``ValueError`` and a ``TypeError``) naming the parameter, the
        estimator class, what is allowed and the value received.
    """
    constraints = getattr(type(estimator), "_parameter_constraints", {})
    params = estimator.get_params(deep=False)
    for name, allowed in constraints.items():
        if name not in params:
            continue
        val = params[name]
        if any(_satisfied(c, val) for c in allowed):
            continue
        described = [_describe(c) for c in allowed]
        if len(described) == 1:
            text = described[0]
        else:
            text = ", ".join(described[:-1]) + " or " + described[-1]
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be {text}. Got {val!r} instead."
        )
