"""Bayesian multi-task linear models.

* :class:`BayesianMultiTaskRegressor`: task weights drawn from a shared
  Gaussian ``N(mu, Sigma)``, fitted by empirical Bayes (EM) or by a Gibbs
  sampler; calibrated predictive intervals, unseen tasks from the population,
  new tasks without refitting.
* :class:`MultiTaskARDRegressor`: relevance (ARD) variances shared across
  tasks, multi-task sparse Bayesian learning with a joint support.
* :func:`rhat`, :func:`ess_bulk`, :func:`ess_tail`: MCMC convergence
  diagnostics (rank-normalized split R-hat, bulk and tail effective sample
  sizes of Vehtari et al. 2021), as ArviZ computes them.
"""

from ._ard import MultiTaskARDRegressor
from ._diagnostics import ess_bulk, ess_tail, rhat
from ._hierarchical import BayesianMultiTaskRegressor, MCMCConvergenceWarning, TaskPosterior

__all__ = ["BayesianMultiTaskRegressor", "MultiTaskARDRegressor", "MCMCConvergenceWarning", "TaskPosterior",
           "rhat", "ess_bulk", "ess_tail"]
