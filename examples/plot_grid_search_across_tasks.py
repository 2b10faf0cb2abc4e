"""
Grid search across tasks on long data
=====================================

Choosing a regularization strength for a multi-task model needs folds that
keep every task in every training set. :class:`skmtl.model_selection.TaskStratifiedKFold`
cuts each task's rows into folds, and the multi-task scorers of
:mod:`skmtl.model_selection` score both input shapes; both plug into
scikit-learn's ``GridSearchCV``. Here 25 tasks of unequal sizes in long form
share 6 of 40 features.
"""

# %%
# Long data: 25 tasks sharing a sparse support
# --------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

rng = np.random.default_rng(9)
T, d = 25, 40
sizes = rng.integers(15, 60, T)
support = rng.choice(d, 6, replace=False)
W = np.zeros((d, T))
W[support] = rng.normal(0, 1, (6, T))
task = np.repeat(np.arange(T), sizes)
X = rng.normal(size=(len(task), d))
y = np.einsum("ij,ji->i", X, W[:, task]) + rng.normal(0, 1.0, len(task))
X_long = np.column_stack([task, X])           # task labels in column 0

# %%
# Folds and scorer
# ----------------
from skmtl import IndependentRegressor
from skmtl.linear import L21Regressor, l21_alpha_max
from skmtl.model_selection import TaskStratifiedKFold, get_scorer

cv = TaskStratifiedKFold(5, shuffle=True, random_state=0, task_column=0)
scoring = get_scorer("task_r2")               # mean over tasks of the per-task R^2

# %%
# Grid searches
# -------------
curves = {}
search = GridSearchCV(IndependentRegressor(Ridge(), task_column=0),
                      {"estimator__alpha": np.logspace(-2, 3, 8)}, cv=cv, scoring=scoring)
search.fit(X_long, y)
curves["per-task ridge"] = (np.logspace(-2, 3, 8), search.cv_results_["mean_test_score"],
                            search.cv_results_["std_test_score"])
print("per-task ridge: best alpha", search.best_params_, "score", round(search.best_score_, 3))

# a grid below alpha_max, the strength at which every coefficient is zero
alphas = l21_alpha_max(X_long, y, task_column=0) * np.logspace(-2.5, 0, 8)
search = GridSearchCV(L21Regressor(task_column=0), {"alpha": alphas}, cv=cv, scoring=scoring)
search.fit(X_long, y)
curves["L21Regressor"] = (alphas, search.cv_results_["mean_test_score"],
                          search.cv_results_["std_test_score"])
print("L21Regressor: best alpha", search.best_params_, "score", round(search.best_score_, 3))

# %%
# Cross-validated score against the regularization strength
# ---------------------------------------------------------
fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 3.6), squeeze=False)
for ax, (name, (a, mean, std)) in zip(axes[0], curves.items()):
    ax.semilogx(a, mean, "o-")
    ax.fill_between(a, mean - std, mean + std, alpha=0.2)
    ax.set_title(name)
    ax.set_xlabel("alpha")
    ax.set_ylabel("CV score (mean per-task R²)")
fig.tight_layout()
plt.show()
