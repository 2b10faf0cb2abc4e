"""Which solver fits a linear classifier: proximal Newton on the block coordinate descent, or FISTA.

Both minimize the same objective (the log-losses plus a row penalty); they
differ in cost. A FISTA iteration is two BLAS products over the whole design;
a proximal Newton step is a weighted least-squares problem solved by the
working-set coordinate descent, whose epochs cost in proportion to the working
set. Measured in ``benchmarks/bench_linear.py`` (case i), Newton steps win when
the features outnumber the rows of a task several times over (p >> n) and, on
binary tasks, at strong penalties (small supports); FISTA wins on tall data at
weak penalties.
"""

import numpy as np

from ._datafits import MultinomialLoss

__all__ = ["choose_solver", "NEWTON_WIDE_RATIO", "NEWTON_STRONG_RATIO"]

#: ``solver="auto"`` (the group lasso on binary tasks): proximal Newton when the
#: features number at least this many times the rows per task ...
NEWTON_WIDE_RATIO = 8
#: ... or, with at least as many features as rows per task, when ``alpha`` is at
#: least ``alpha_max`` divided by this (small supports: short working sets).
NEWTON_STRONG_RATIO = 8


def choose_solver(solver, newton, datafit, alpha, alpha_max):
    """The solver of one fit: ``"prox_newton"`` or ``"fista"``.

    ``solver`` is the estimator's option; ``newton`` its row-penalty options
    (None: the trace norm, FISTA only); ``alpha_max`` a callable, evaluated
    only when the rule needs it. ``"auto"``: proximal Newton for group MCP/SCAD
    (FISTA has no prox for them); for the group lasso and elastic net,
    proximal Newton where its working sets pay, measured in
    ``benchmarks/bench_linear.py`` (case i): at least ``NEWTON_WIDE_RATIO``
    features per row of a task, or, on binary tasks, at least one feature per
    row and ``alpha >= alpha_max / NEWTON_STRONG_RATIO``; FISTA otherwise (the
    diagonal Hessian model of the multinomial loss takes more Newton steps).
    """
    if newton is None:
        return "fista"
    if solver != "auto":
        return solver
    if newton["penalty"] != "group_lasso":
        return "prox_newton"
    d = datafit.design
    rows = d.n_obs / max(len(d.slices), 1)  # observations per task
    if d.n_features >= NEWTON_WIDE_RATIO * rows:
        return "prox_newton"
    if isinstance(datafit, MultinomialLoss) and np.any(datafit.n_classes > 2):
        return "fista"
    if d.n_features >= rows and alpha >= alpha_max() / NEWTON_STRONG_RATIO:
        return "prox_newton"
    return "fista"
