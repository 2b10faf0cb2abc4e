"""Bayesian multi-task linear models.

* :class:`BayesianMultiTaskRegressor`: task weights drawn from a shared
  Gaussian ``N(mu, Sigma)``, fitted by empirical Bayes (EM) or by a Gibbs
  sampler; calibrated predictive intervals, unseen tasks from the population,
  new tasks without refitting.
* :class:`MultiTaskARDRegressor`: relevance (ARD) variances shared across
  tasks, multi-task sparse Bayesian learning with a joint support.
"""

from ._ard import MultiTaskARDRegressor
from ._hierarchical import BayesianMultiTaskRegressor, MCMCConvergenceWarning, TaskPosterior

__all__ = ["BayesianMultiTaskRegressor", "MultiTaskARDRegressor", "MCMCConvergenceWarning", "TaskPosterior"]
