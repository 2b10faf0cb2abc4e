"""skmtl.factorization: low-rank multi-task models and matrix completion."""

from ._reduced_rank import ReducedRankRegressor, ReducedRankRegressorCV, reduced_rank_path

__all__ = ["ReducedRankRegressor", "ReducedRankRegressorCV", "reduced_rank_path"]
from ._soft_impute import SoftImputer, soft_impute

__all__ += ["SoftImputer", "soft_impute"]
from ._factorized import FactorizedRegressor, sparse_to_long

__all__ += ["FactorizedRegressor", "sparse_to_long"]
