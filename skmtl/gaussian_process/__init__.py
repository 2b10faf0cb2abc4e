"""Multi-task Gaussian processes on GPyTorch (imports torch; ``import skmtl`` does not).

* :class:`MultiTaskGPRegressor`: exact ICM / LMC, Kronecker and masked paths.
* :class:`SparseMultiTaskGPRegressor`: sparse variational LMC with mini-batches.
* :class:`OILMMRegressor`: orthogonal mixing of independent latent GPs, exact in O(Q n^3).
"""

from ._exact import NotPositiveDefiniteError
from ._gp import MultiTaskGPRegressor
from ._oilmm import OILMMRegressor
from ._sparse import SparseMultiTaskGPRegressor

__all__ = ["MultiTaskGPRegressor", "OILMMRegressor", "SparseMultiTaskGPRegressor", "NotPositiveDefiniteError"]
