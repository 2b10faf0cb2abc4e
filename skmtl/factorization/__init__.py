"""skmtl.factorization: low-rank multi-task models and matrix completion.

* :class:`ReducedRankRegressor`, :class:`ReducedRankRegressorCV`: linear
  multi-task regression with a rank-constrained (optionally ridge) coefficient
  matrix; closed form on complete targets, EM with missing ones.
* :class:`SoftImputer`: scikit-learn transformer completing a matrix with
  missing entries (dense with NaN, or scipy.sparse of observed entries) by
  nuclear-norm regularization (Soft-Impute), never forming the dense
  completed matrix for sparse input.
* :class:`FactorizedRegressor`: ``Y ~ X U V^T`` + intercepts with missing
  targets by alternating least squares (inductive matrix completion); with a
  row-identity column (``row_column``) plain matrix factorization with row and
  task biases. :func:`sparse_to_long` turns a sparse matrix of observed
  entries into its long input.
"""

from ._factorized import FactorizedRegressor, sparse_to_long
from ._reduced_rank import ReducedRankRegressor, ReducedRankRegressorCV, reduced_rank_path
from ._soft_impute import SoftImputer, soft_impute, soft_impute_als

__all__ = [
    "ReducedRankRegressor",
    "ReducedRankRegressorCV",
    "SoftImputer",
    "FactorizedRegressor",
    "sparse_to_long",
    "reduced_rank_path",
    "soft_impute",
    "soft_impute_als",
]
