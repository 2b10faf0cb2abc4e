"""The row-penalty contract of the block coordinate descent, checked for every registered penalty.

A new penalty file in ``skmtl/linear/_row_penalties`` is picked up here
without a new test: its prox must be the minimum of the prox problem, its
subdifferential distance must vanish at the prox (the optimality condition),
its margin must say when the prox is zero, its dual scaling must land on
the boundary of ``d rho(0)`` and its ``alpha_max`` must zero every row.
"""

import numpy as np
import pytest
from numba import njit

from skmtl.linear import L21Solver
from skmtl.linear._row_penalties import ROW_PENALTIES, RowPenalty, make_row_penalty
from skmtl.linear._row_penalties._base import (
    row_distance,
    row_dual_scale,
    row_margin,
    row_penalized,
    row_prox,
    row_value,
)


@njit
def _value(pen, j, w):
    wn = np.sqrt(np.sum(w * w))
    return row_value(pen, j, w, wn) if wn > 0 else 0.0


@njit
def _prox(pen, j, z, step):
    z = z.copy()
    zn = np.sqrt(np.sum(z * z))
    s = row_prox(pen, j, z, zn, step) if zn > 0 else 0.0
    return s * z


@njit
def _margin(pen, j, g):
    return row_margin(pen, j, g, np.sqrt(np.sum(g * g)))


@njit
def _distance(pen, j, v, w):
    return row_distance(pen, j, v, w, np.sqrt(np.sum(w * w)))


@njit
def _dual_scale(pen, j, v):
    return row_dual_scale(pen, j, v, np.sqrt(np.sum(v * v)))


@njit
def _penalized(pen, j):
    return row_penalized(pen, j)


def _penalties():
    out = [cls.from_options() for cls in ROW_PENALTIES.values()]
    out += [make_row_penalty("group_mcp", gamma=1.5), make_row_penalty("group_scad", gamma=2.5),
            make_row_penalty("sparse_group", l1_share=0.9)]
    return out


PENALTIES = _penalties()
IDS = [f"{p.name}-{i}" for i, p in enumerate(PENALTIES)]


def _rows(penalty, T=4):
    lam = np.array([0.0, 0.5, 1.0, 2.0])
    return penalty.rows(lam, np.zeros(4))


def test_every_penalty_file_is_registered():
    assert {"group_lasso", "group_mcp", "group_scad", "sparse_group"} <= set(ROW_PENALTIES)
    for cls in ROW_PENALTIES.values():
        assert issubclass(cls, RowPenalty)
        assert isinstance(cls.is_convex, bool)


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
def test_prox_is_the_minimum_and_meets_the_optimality_condition(penalty):
    rng = np.random.default_rng(0)
    pen = _rows(penalty)
    T = 4
    for j in range(4):
        for step in (0.05, 0.5, 2.0, 5.0):
            for _ in range(8):
                z = rng.normal(scale=rng.choice([0.1, 1.0, 4.0]), size=T)
                w = _prox(pen, j, z, step)

                def obj(x):
                    return step * _value(pen, j, x) + 0.5 * np.sum((x - z) ** 2)

                f = obj(w)
                # against zero, z, radial scalings of z and random points nearby
                cands = [np.zeros(T), z] + [s * z for s in np.linspace(0, 1.5, 151)]
                cands += [w + rng.normal(scale=sc, size=T) for sc in (1e-3, 1e-2, 0.1) for _ in range(20)]
                if penalty.name == "sparse_group":  # entrywise zeros
                    cands += [np.where(rng.random(T) < 0.5, 0.0, w) for _ in range(20)]
                assert f <= min(obj(c) for c in cands) + 1e-10
                # optimality: (z - w) / step lies in d rho(w)
                if np.any(w != 0):
                    assert _distance(pen, j, (z - w) / step, w) <= 1e-8 * max(1.0, np.abs(z).max() / step)
                else:
                    assert _margin(pen, j, z / step) <= 1e-8 * max(1.0, np.abs(z).max() / step)


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
def test_margin_decides_a_zero_prox_and_the_dual_scale_reaches_the_ball(penalty):
    rng = np.random.default_rng(1)
    pen = _rows(penalty)
    assert not _penalized(pen, 0) and _penalized(pen, 1)
    for j in range(1, 4):
        for _ in range(30):
            g = rng.normal(scale=rng.choice([0.2, 1.0, 3.0]), size=4)
            m = _margin(pen, j, g)
            # a small step: zero is the prox of step * g exactly when g is in d rho(0)
            assert (np.all(_prox(pen, j, 0.01 * g, 0.01) == 0)) == (m <= 0)
            s = _dual_scale(pen, j, g)
            assert 0.0 <= s <= 1.0
            assert _margin(pen, j, s * g) <= 1e-9
            if s < 1.0:
                assert _margin(pen, j, min(1.0, s * (1 + 1e-6)) * g) > 0


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
def test_alpha_max_zeroes_every_row(penalty):
    rng = np.random.default_rng(2)
    G = rng.normal(size=(6, 3))
    weights = rng.uniform(0.5, 2.0, size=6)
    amax = penalty.alpha_max(G, weights)
    margins = [_margin(penalty.rows(amax * weights * (1 + 1e-9), np.zeros(6)), j, G[j]) for j in range(6)]
    assert max(margins) <= 1e-9
    below = penalty.rows(amax * weights * (1 - 1e-3), np.zeros(6))
    assert max(_margin(below, j, G[j]) for j in range(6)) > 0


def test_a_penalty_instance_runs_in_the_solver():
    """``L21Solver(penalty=<RowPenalty>)`` and the registered name give the same fit."""
    from sklearn.base import BaseEstimator

    from skmtl._data import validate_fit_data

    class _Owner(BaseEstimator):
        pass

    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 12))
    Y = X[:, :2] @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(40, 3))
    data = validate_fit_data(_Owner(), X, Y)
    a = L21Solver(data, penalty=make_row_penalty("sparse_group", l1_share=0.3))
    b = L21Solver(data, penalty="sparse_group", l1_share=0.3)
    alpha = 0.3 * a.alpha_max()
    a.solve(alpha, tol=1e-10)
    b.solve(alpha, tol=1e-10)
    np.testing.assert_allclose(a.W, b.W, atol=1e-10)
    with pytest.raises(ValueError, match="penalty must be one of"):
        L21Solver(data, penalty="lasso")


# ---------------------------------------------------------------- the NumPy side (radial penalties)

def _kernel_statistics(G, W, pen, L):
    from skmtl.linear._bcd_kernels import _kkt_scores

    p, T = G.shape
    prio, gn, wn = np.empty(p), np.empty(p), np.empty(p)
    kkt, n_supp, pval, smax, ridge, conj, free, uw = _kkt_scores(G, W, pen, L, prio, np.empty(T), gn, wn, False)
    return kkt, prio, wn, n_supp, pval, smax, ridge, conj, free, uw


RADIAL = [p for p in PENALTIES if type(p).radial_value is not RowPenalty.radial_value]


def test_the_radial_penalties_have_a_numpy_side():
    from skmtl.linear._row_penalties import RADIAL_ROWS

    assert {type(p).name for p in RADIAL} == {"group_lasso", "group_mcp", "group_scad"}
    assert set(RADIAL_ROWS.values()) == {type(p) for p in RADIAL}
    assert all(cls.ball_at_zero for cls in RADIAL_ROWS.values())


@pytest.mark.parametrize("penalty", RADIAL, ids=[p.name + str(i) for i, p in enumerate(RADIAL)])
def test_numpy_kkt_statistics_equal_the_kernel(penalty):
    """Every statistic of the NumPy path equals the kernel's: zero and nonzero rows, ridge,
    unpenalized rows, constant features (L_j = 0), row norms given or not."""
    from skmtl.linear._kkt import kkt_scores

    rng = np.random.default_rng(4)
    names = ["kkt", "prio", "wnorm", "n_supp", "pval", "smax", "ridge", "conj", "free", "uw"]
    for trial in range(150):
        p, T = int(rng.integers(1, 25)), int(rng.integers(1, 6))
        G = rng.normal(size=(p, T)) * rng.uniform(0.1, 3.0)
        W = rng.normal(size=(p, T)) * (rng.random(p) < 0.5)[:, None]
        lam = rng.uniform(0.1, 3.0, p) * (rng.random(p) < 0.8)
        ridge = rng.uniform(0.0, 1.0, p) * (rng.random(p) < 0.5) * (trial % 3 > 0)
        L = rng.uniform(0.1, 2.0, p) * (rng.random(p) < 0.9)
        pen = penalty.rows(lam, ridge)
        norms = (np.sqrt((G ** 2).sum(1)), np.sqrt((W ** 2).sum(1))) if trial % 2 else None
        want = _kernel_statistics(G, W, pen, L)
        got = kkt_scores(G, W, pen, L, norms, numpy=True)
        for name, a, b in zip(names, want, got):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=f"{name}, trial {trial}")


def test_numpy_statistics_only_where_asked_and_possible(monkeypatch):
    """``numpy=False``, a penalty without a NumPy side (sparse group) and large problems use the kernel."""
    from skmtl.linear import _kkt

    rng = np.random.default_rng(5)
    G, W, L = rng.normal(size=(6, 3)), np.zeros((6, 3)), np.ones(6)
    calls = []
    real = _kkt._kkt_scores_numpy
    monkeypatch.setattr(_kkt, "_kkt_scores_numpy", lambda *args: calls.append(args) or real(*args))
    _kkt.kkt_scores(G, W, make_row_penalty("group_lasso").rows(np.ones(6), np.zeros(6)), L)
    _kkt.kkt_scores(G, W, make_row_penalty("sparse_group").rows(np.ones(6), np.zeros(6)), L, numpy=True)
    big = _kkt.NUMPY_MAX_ENTRIES // 3 + 1
    Gb = rng.normal(size=(big, 3))
    _kkt.kkt_scores(Gb, np.zeros_like(Gb), make_row_penalty("group_lasso").rows(np.ones(big), np.zeros(big)),
                    np.ones(big), numpy=True)
    assert calls == []
    _kkt.kkt_scores(G, W, make_row_penalty("group_mcp").rows(np.ones(6), np.zeros(6)), L, numpy=True)
    assert len(calls) == 1


@pytest.mark.parametrize("name", ["group_lasso", "group_mcp", "group_scad"])
def test_one_off_fit_with_numpy_statistics_equals_the_kernel_fit(name):
    """The same solve with the KKT statistics from NumPy and from the kernel: the same model, to rounding,
    with an elastic-net ridge, an unpenalized feature and a constant feature."""
    from sklearn.base import BaseEstimator

    from skmtl._data import validate_fit_data

    class _Owner(BaseEstimator):
        pass

    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 15))
    X[:, 4] = 1.0
    Y = X[:, :3] @ rng.normal(size=(3, 4)) + 0.3 * rng.normal(size=(60, 4))
    data = validate_fit_data(_Owner(), X, Y)
    f = np.ones(15)
    f[0] = 0.0
    fits = []
    for numpy in (False, True):
        s = L21Solver(data, penalty=name, l1_ratio=0.7, penalty_factor=f)
        gap, n_iter, conv = s.solve(0.2 * s.alpha_max(), tol=1e-8, kkt_numpy=numpy)
        assert conv
        fits.append((s.W.copy(), n_iter, gap))
    np.testing.assert_allclose(fits[1][0], fits[0][0], rtol=1e-9, atol=1e-12)
    assert fits[1][1] == fits[0][1]
    assert np.count_nonzero(np.abs(fits[0][0]).sum(1)) > 1
