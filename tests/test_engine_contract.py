"""The engine contract: Datafit / Penalty bases, solver declarations, defaults."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import skmtl.linear
from skmtl._data import validate_fit_data
from skmtl.linear import L1, Datafit, Penalty, Ridge, SplitPenalty, SquaredLoss, TraceNorm, fista
from skmtl.linear._classifiers import FISTA_CV_DATAFIT_REQUIRED, FISTA_CV_PENALTY_REQUIRED
from skmtl.linear._contract import check_parts
from skmtl.linear._datafits import SplitDatafit, make_squared_loss
from skmtl.linear._fista import FISTA_DATAFIT_REQUIRED, FISTA_PENALTY_REQUIRED, fista_path

#: modules that hold the parts of the FISTA engine, and their helpers that are not parts
PART_MODULES = ["skmtl.linear._datafits", "skmtl.linear._penalties", "skmtl.linear._relationship_penalties"]
NOT_PARTS = {"LinearDesign", "_GramDesign"}


class _Holder(BaseEstimator):
    pass


def _data(seed=0, n=40, p=6, T=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((p, T)) * (rng.random((p, 1)) < 0.5)
    Y = X @ W + 0.3 * rng.standard_normal((n, T)) + rng.standard_normal(T)
    return validate_fit_data(_Holder(), X, Y, None)


def _classes_of(modname):
    mod = importlib.import_module(modname)
    return [c for _, c in inspect.getmembers(mod, inspect.isclass) if c.__module__ == modname]


def _linear_classes():
    out = []
    for info in pkgutil.iter_modules(skmtl.linear.__path__):
        out += _classes_of(f"skmtl.linear.{info.name}")
    return out


def _concrete(classes):
    """Classes that no other listed class derives from (``_Datafit`` is an intermediate base)."""
    return [c for c in classes if not any(o is not c and issubclass(o, c) for o in classes)]


class _NoProx(Penalty):
    def value(self, W):
        return 0.0

    def alpha_max(self, G0):
        return None


class _DuckL1:
    """Has value/prox like a penalty, but does not declare the contract."""

    def __init__(self, alpha):
        self._l1 = L1(alpha)

    def value(self, W):
        return self._l1.value(W)

    def prox(self, W, step):
        return self._l1.prox(W, step)


class _L1WithoutGap(Penalty):
    """L1 without ``dual_norm_ratio``: the base default (no duality gap)."""

    def __init__(self, alpha):
        self._l1 = L1(alpha)

    def value(self, W):
        return self._l1.value(W)

    def prox(self, W, step):
        return self._l1.prox(W, step)

    def alpha_max(self, G0):
        return self._l1.alpha_max(G0)


class _NonconvexFlaggedL1(L1):
    is_convex = False


# ----------------------------------------------------------------- refusals
def test_fista_refuses_penalty_without_prox():
    with pytest.raises(TypeError, match=r"fista: penalty _NoProx does not implement prox"):
        fista(SquaredLoss(_data()), _NoProx())


def test_fista_refuses_object_that_is_not_a_penalty():
    with pytest.raises(TypeError, match=r"fista: the penalty must be .*Penalty; got _DuckL1"):
        fista(SquaredLoss(_data()), _DuckL1(0.1))


def test_fista_refuses_object_that_is_not_a_datafit():
    class DuckDatafit:
        pass

    with pytest.raises(TypeError, match=r"fista: the datafit must be .*Datafit; got DuckDatafit"):
        fista(DuckDatafit(), L1(0.1))


def test_fista_refuses_datafit_missing_several_methods():
    class Half(Datafit):
        def forward(self, W, b):
            return W

    with pytest.raises(TypeError, match=r"datafit Half does not implement adjoint, value_z, value_grad_z, "
                                        r"lipschitz, init_coef"):
        fista(Half(), L1(0.1))


def test_fista_path_checks_its_parts_at_entry():
    d = _data()
    with pytest.raises(TypeError, match=r"fista_path: penalty _NoProx does not implement prox"):
        fista_path(SquaredLoss(d), lambda a: _NoProx(), [1.0, 0.5])
    with pytest.raises(TypeError, match=r"fista_path: the penalty must be"):
        fista_path(SquaredLoss(d), _DuckL1, [1.0])


def test_check_parts_rejects_names_outside_the_contract():
    with pytest.raises(ValueError, match="not methods of the Penalty contract"):
        check_parts("mysolver", None, L1(1.0), (), ("value", "dual_norm"))


# ------------------------------------------------- every part declares the contract
def test_every_part_class_subclasses_the_base():
    found = []
    for modname in PART_MODULES:
        for cls in _classes_of(modname):
            if cls.__name__ in NOT_PARTS:
                continue
            found.append(cls.__name__)
            assert issubclass(cls, (Datafit, Penalty)), f"{modname}.{cls.__name__} is not a Datafit or Penalty"
    assert {"SquaredLoss", "LogisticLoss", "MultinomialLoss", "SplitDatafit", "SquaredLossGram", "L1", "L21",
            "WeightedL21", "L1Inf", "TraceNorm", "Ridge", "SplitPenalty", "TaskQuadratic", "ColumnL21",
            "QuadraticDatafit"} <= set(found)


def test_no_duck_typed_part_anywhere_in_linear():
    """A class of skmtl.linear with a prox or a loss on predictions declares the contract."""
    for cls in _linear_classes():
        if "prox" in vars(cls):
            assert issubclass(cls, Penalty), cls
        if "value_grad_z" in vars(cls) or "value_z" in vars(cls):
            assert issubclass(cls, Datafit), cls


def _parts(base):
    classes = [c for c in _linear_classes() if issubclass(c, base) and c is not base]
    return _concrete(classes)


@pytest.mark.parametrize("cls", _parts(Datafit), ids=lambda c: c.__name__)
def test_datafits_implement_what_the_solvers_declare(cls):
    part = cls.__new__(cls)  # check_parts looks at the class only
    check_parts("fista", part, None, FISTA_DATAFIT_REQUIRED, ())
    check_parts("fista cross-validation", part, None, FISTA_CV_DATAFIT_REQUIRED, ())


@pytest.mark.parametrize("cls", _parts(Penalty), ids=lambda c: c.__name__)
def test_penalties_implement_what_the_solvers_declare(cls):
    part = cls.__new__(cls)
    check_parts("fista", None, part, (), FISTA_PENALTY_REQUIRED)
    check_parts("fista cross-validation", None, part, (), FISTA_CV_PENALTY_REQUIRED)


def test_concrete_parts_are_found():
    assert {"SquaredLoss", "SquaredLossGram", "SplitDatafit", "QuadraticDatafit"} <= {
        c.__name__ for c in _parts(Datafit)}
    assert {"L1", "TraceNorm", "SplitPenalty", "TaskQuadratic", "ColumnL21"} <= {
        c.__name__ for c in _parts(Penalty)}


# ---------------------------------------------------------------- defaults
def test_base_defaults():
    pen = _L1WithoutGap(1.0)
    G = np.ones((3, 2))
    assert pen.dual_norm_ratio(G) is None
    assert pen.combine(G) is G
    assert pen.n_unpenalized == 0 and pen.is_convex
    assert Datafit.fits_intercept is False and Datafit.intercept_is_variable is False
    df = SquaredLoss(_data())
    W, b = df.init_coef()
    assert Datafit.duality_gap(df, W, b, pen) is None
    f, G0, g0 = df.value_grad(W, b)
    assert f == pytest.approx(df.null_value()) and f == pytest.approx(df.value(W, b))
    np.testing.assert_allclose(g0, 0.0, atol=1e-10)  # intercepts optimal for W = 0


@pytest.mark.parametrize("gram", [False, True])  # the Gram datafit profiles the intercepts out
def test_penalty_without_dual_norm_converges_without_gap(gram):
    d = _data()
    df = make_squared_loss(d) if gram else SquaredLoss(d)
    assert type(df).__name__ == ("SquaredLossGram" if gram else "SquaredLoss")
    _, G0, _ = df.value_grad(*df.init_coef())
    alpha = 0.2 * L1(1.0).alpha_max(G0)
    with_gap = fista(df, L1(alpha), tol=1e-12, max_iter=20000)
    without = fista(df, _L1WithoutGap(alpha), tol=1e-12, max_iter=20000)
    assert with_gap.dual_gap is not None and with_gap.converged
    assert without.dual_gap is None and without.converged
    np.testing.assert_allclose(without.coef, with_gap.coef, atol=1e-6)
    np.testing.assert_allclose(without.intercept, with_gap.intercept, atol=1e-6)
    assert without.objective == pytest.approx(with_gap.objective, rel=1e-9)
    assert np.count_nonzero(with_gap.coef) < with_gap.coef.size  # a sparse, non-trivial solution


def test_nonconvex_flag_disables_the_gap():
    df = SquaredLoss(_data())
    res = fista(df, _NonconvexFlaggedL1(0.05), tol=1e-10, max_iter=5000)
    ref = fista(df, L1(0.05), tol=1e-10, max_iter=5000)
    assert res.dual_gap is None and ref.dual_gap is not None
    np.testing.assert_allclose(res.coef, ref.coef, atol=1e-6)


def test_split_penalty_gap_needs_both_parts():
    d = _data()
    df = SplitDatafit(SquaredLoss(d))
    G = np.random.default_rng(0).standard_normal((6, 3))
    assert SplitPenalty(TraceNorm(1.0), Ridge(1.0)).dual_norm_ratio(G) is None
    assert SplitPenalty(TraceNorm(1.0), L1(2.0)).dual_norm_ratio(G) == pytest.approx(
        max(TraceNorm(1.0).dual_norm_ratio(G), L1(2.0).dual_norm_ratio(G)))
    assert fista(df, SplitPenalty(TraceNorm(0.5), Ridge(0.5)), max_iter=3000).dual_gap is None
    assert fista(df, SplitPenalty(TraceNorm(0.5), L1(0.5)), max_iter=3000).dual_gap is not None
