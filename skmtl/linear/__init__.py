"""Regularized multi-task linear models: the engine and its estimators.

Engine (small parts that the solvers talk to, through the contract of
:class:`Datafit` and :class:`Penalty`):

* datafits: :class:`SquaredLoss`, :class:`LogisticLoss`, :class:`MultinomialLoss`
  (per-task rows, NaN masks, sample and task weights, intercepts);
* penalties: :class:`L1`, :class:`L21`, :class:`WeightedL21`, :class:`L1Inf`, :class:`TraceNorm`,
  :class:`Ridge`, :class:`SplitPenalty` (sums on ``W = P + Q``);
* solvers: :class:`L21Solver` (Numba block coordinate descent with working sets
  and Anderson acceleration) and :func:`fista` (accelerated proximal gradient
  with backtracking and adaptive restart).

Estimators:

* joint feature selection and shared low rank: :class:`L21Regressor`,
  :class:`SparseGroupRegressor` (L2,1 + L1),
  :class:`TraceNormRegressor`, :class:`DirtyRegressor`,
  :class:`SparseLowRankRegressor`, :class:`L21Classifier`,
  :class:`TraceNormClassifier` and the ``*CV`` versions;
* task relationships: :class:`MeanRegularizedRegressor`,
  :class:`GraphRegularizedRegressor`, :class:`ClusteredRegressor`,
  :class:`TaskRelationshipRegressor`, :class:`RobustMultiTaskRegressor` and the
  classifiers of the first, second and fourth; every one has a ``*CV`` version
  choosing its strengths (and ``n_clusters``) by cross-validation.

Paths: :func:`l21_path`, :func:`trace_norm_path` with :func:`l21_alpha_max`,
:func:`trace_norm_alpha_max` and :func:`alpha_grid`.
"""

from ._base import ZeroModelWarning
from ._bcd import L21Solver
from ._classifiers import L21Classifier, L21ClassifierCV, TraceNormClassifier, TraceNormClassifierCV
from ._clustered import ClusteredRegressor
from ._composite import DirtyRegressor, SparseLowRankRegressor
from ._composite_cv import DirtyRegressorCV, RobustMultiTaskRegressorCV, SparseLowRankRegressorCV
from ._contract import Datafit, Penalty
from ._datafits import LogisticLoss, MultinomialLoss, SquaredLoss
from ._fista import FistaResult, fista
from ._l21 import L21Regressor, L21RegressorCV
from ._path import alpha_grid, l21_alpha_max, l21_path, trace_norm_alpha_max, trace_norm_path
from ._penalties import L1, L21, L1Inf, Ridge, SplitPenalty, TraceNorm, WeightedL21
from ._relationship import (
    GraphRegularizedClassifier,
    GraphRegularizedRegressor,
    MeanRegularizedClassifier,
    MeanRegularizedRegressor,
    TaskRelationshipClassifier,
    TaskRelationshipRegressor,
)
from ._relationship_cv import (
    ClusteredRegressorCV,
    GraphRegularizedClassifierCV,
    GraphRegularizedRegressorCV,
    MeanRegularizedClassifierCV,
    MeanRegularizedRegressorCV,
    TaskRelationshipClassifierCV,
    TaskRelationshipRegressorCV,
)
from ._robust import RobustMultiTaskRegressor
from ._sparse_group import SparseGroupRegressor, SparseGroupRegressorCV
from ._trace import TraceNormRegressor, TraceNormRegressorCV

__all__ = [
    # estimators
    "L21Regressor",
    "L21RegressorCV",
    "SparseGroupRegressor",
    "SparseGroupRegressorCV",
    "L21Classifier",
    "L21ClassifierCV",
    "TraceNormRegressor",
    "TraceNormRegressorCV",
    "TraceNormClassifier",
    "TraceNormClassifierCV",
    "DirtyRegressor",
    "DirtyRegressorCV",
    "SparseLowRankRegressor",
    "SparseLowRankRegressorCV",
    "MeanRegularizedRegressor",
    "MeanRegularizedRegressorCV",
    "MeanRegularizedClassifier",
    "MeanRegularizedClassifierCV",
    "GraphRegularizedRegressor",
    "GraphRegularizedRegressorCV",
    "GraphRegularizedClassifier",
    "GraphRegularizedClassifierCV",
    "ClusteredRegressor",
    "ClusteredRegressorCV",
    "TaskRelationshipRegressor",
    "TaskRelationshipRegressorCV",
    "TaskRelationshipClassifier",
    "TaskRelationshipClassifierCV",
    "RobustMultiTaskRegressor",
    "RobustMultiTaskRegressorCV",
    # warnings
    "ZeroModelWarning",
    # paths
    "l21_path",
    "l21_alpha_max",
    "trace_norm_path",
    "trace_norm_alpha_max",
    "alpha_grid",
    # engine
    "Datafit",
    "Penalty",
    "SquaredLoss",
    "LogisticLoss",
    "MultinomialLoss",
    "L1",
    "L21",
    "WeightedL21",
    "L1Inf",
    "TraceNorm",
    "Ridge",
    "SplitPenalty",
    "L21Solver",
    "fista",
    "FistaResult",
]
