"""Synthetic multi-task data sets with known task structure."""

from ._synthetic import make_multitask_regression

__all__ = ["make_multitask_regression"]
