"""Model selection for multi-task learning: task-aware splitters, scorers, reports.

The splitters and scorers plug into scikit-learn's ``GridSearchCV`` and
``cross_val_score`` for both input shapes (wide ``Y`` with NaN, or long input
with a task column). ``transfer_report`` and ``pareto_front`` compare
multi-task models with the per-task and pooled baselines.
"""

from ._grouping import TaskGroupingClassifier, TaskGroupingRegressor
from ._pareto import is_pareto_efficient, pareto_front
from ._report import per_task_scores
from ._scorers import (
    explained_variance_scorer,
    get_scorer,
    get_scorer_names,
    make_task_scorer,
    neg_arrmse_scorer,
    neg_nmse_scorer,
    task_r2_scorer,
)
from ._split import LeaveTasksOut, TaskStratifiedKFold
from ._transfer import transfer_report

__all__ = [
    "TaskGroupingRegressor",
    "TaskGroupingClassifier",
    "TaskStratifiedKFold",
    "LeaveTasksOut",
    "make_task_scorer",
    "task_r2_scorer",
    "explained_variance_scorer",
    "neg_nmse_scorer",
    "neg_arrmse_scorer",
    "get_scorer",
    "get_scorer_names",
    "per_task_scores",
    "transfer_report",
    "pareto_front",
    "is_pareto_efficient",
]
