"""Multi-task Gaussian processes on GPyTorch (imports torch; ``import skmtl`` does not).

* :class:`MultiTaskGPRegressor`: exact ICM / LMC, Kronecker and masked paths.
* :class:`SparseMultiTaskGPRegressor`: sparse variational LMC with mini-batches.
"""

from ._exact import NotPositiveDefiniteError
from ._gp import MultiTaskGPRegressor
from ._sparse import SparseMultiTaskGPRegressor

__all__ = ["MultiTaskGPRegressor", "SparseMultiTaskGPRegressor", "NotPositiveDefiniteError"]
