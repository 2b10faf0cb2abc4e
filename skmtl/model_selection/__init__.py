"""Model selection for multi-task learning: task-aware splitters, scorers, reports.

The splitters and scorers plug into scikit-learn's ``GridSearchCV`` and
``cross_val_score`` for both input shapes (wide ``Y`` with NaN, or long input
with a task column).
"""

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

__all__ = [
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
]
