"""skmtl: classical multi-task learning with scikit-learn estimators.

Families live in subpackages (``skmtl.linear``, ``skmtl.factorization``,
``skmtl.gaussian_process``, ``skmtl.bayes``, ``skmtl.model_selection``,
``skmtl.datasets``). Importing ``skmtl`` never imports torch: the Gaussian
process module is loaded on first use.
"""

import importlib

from ._data import TaskColumnWarning
from .baselines import IndependentClassifier, IndependentRegressor, IndependentRidgeCV, PooledRegressor

__version__ = "0.1.0.dev0"

_SUBMODULES = {
    "linear",
    "factorization",
    "gaussian_process",
    "bayes",
    "model_selection",
    "datasets",
    "metrics",
    "plotting",
}

__all__ = [
    "IndependentRegressor",
    "IndependentRidgeCV",
    "IndependentClassifier",
    "PooledRegressor",
    "TaskColumnWarning",
    *sorted(_SUBMODULES),
]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'skmtl' has no attribute {name!r}")
