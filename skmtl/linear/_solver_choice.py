"""Which solver fits a linear classifier: proximal Newton on the block coordinate descent, or FISTA.

Both minimize the same objective (the log-losses plus a row penalty); they
differ in cost. A FISTA iteration is two BLAS products over the whole design;
a proximal Newton step is a weighted least-squares problem solved by the
working-set coordinate descent, whose epochs cost in proportion to the working
set. Measured in ``benchmarks/bench_linear.py`` (case i), Newton steps win on
binary tasks with at least as many features as rows at strong penalties (small
supports); FISTA wins on tall data, at weak penalties and on multinomial tasks.
"""

import numpy as np

from ._datafits import MultinomialLoss

__all__ = ["choose_solver", "NEWTON_STRONG_RATIO"]

#: ``solver="auto"`` (the group lasso on binary tasks with at least as many
#: features as rows per task): proximal Newton when ``alpha`` is at least
#: ``alpha_max`` divided by this (the default ``alpha`` is ``alpha_max / 10``).
NEWTON_STRONG_RATIO = 10


def choose_solver(solver, newton, datafit, alpha, alpha_max):
    """The solver of one fit: ``"prox_newton"`` or ``"fista"``.

    ``solver`` is the estimator's option; ``newton`` its row-penalty options
    (None: the trace norm, FISTA only); ``alpha_max`` a callable, evaluated
    only when the rule needs it. ``"auto"``: proximal Newton for group MCP/SCAD
    (FISTA has no prox for them); for the group lasso and elastic net on binary
    tasks with at least as many features as rows per task, proximal Newton at
    ``alpha >= alpha_max / NEWTON_STRONG_RATIO`` (small supports: short working
    sets; 1.2-8x faster than FISTA at ``alpha_max / 10`` in
    ``benchmarks/bench_linear.py``, case i, but up to 3x slower at
    ``alpha_max / 100``); FISTA otherwise: tall data, weaker penalties, and
    tasks with three or more classes (the diagonal Hessian model of the
    multinomial loss needs 12-16 Newton steps; no faster than FISTA there).
    """
    if newton is None:
        return "fista"
    if solver != "auto":
        return solver
    if newton["penalty"] != "group_lasso":
        return "prox_newton"
    if isinstance(datafit, MultinomialLoss) and np.any(datafit.n_classes > 2):
        return "fista"
    d = datafit.design
    rows = d.n_obs / max(len(d.slices), 1)  # observations per task
    if d.n_features >= rows and alpha * NEWTON_STRONG_RATIO >= alpha_max() * (1.0 - 1e-9):
        return "prox_newton"
    return "fista"
