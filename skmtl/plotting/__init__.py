"""skmtl.plotting: what a multi-task model learned, and how it compares.

Needs matplotlib (``pip install skmtl[plot]``), imported only when a plot is
drawn. Every function takes arrays or a fitted estimator and returns the
matplotlib Axes or Figure it drew on.
"""

from ._plots import (
    plot_gp_predictions,
    plot_pareto_front,
    plot_regularization_path,
    plot_singular_values,
    plot_support_heatmap,
    plot_task_correlation,
    plot_transfer_report,
)

__all__ = [
    "plot_regularization_path",
    "plot_support_heatmap",
    "plot_task_correlation",
    "plot_singular_values",
    "plot_gp_predictions",
    "plot_transfer_report",
    "plot_pareto_front",
]
