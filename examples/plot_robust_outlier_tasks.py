"""
Robust multi-task learning with outlier tasks
=============================================

Fifteen tasks: twelve share a two-dimensional subspace of weight vectors,
three are unrelated to it. A low-rank model forces the three outliers into the
shared subspace and fits them badly.
:class:`skmtl.linear.RobustMultiTaskRegressor` (low rank plus a column-sparse
part, Chen, Zhou & Ye 2011) gives the outlier tasks their own correction and
names them in ``outlier_tasks_``.
"""

# %%
# Data with three outlier tasks
# -----------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge

from skmtl import IndependentRegressor
from skmtl.linear import RobustMultiTaskRegressor, TraceNormRegressor

rng = np.random.default_rng(4)
n, d, T = 50, 30, 15
outliers = np.array([3, 8, 12])
W = rng.normal(size=(d, 2)) @ rng.normal(size=(2, T))
W[:, outliers] = rng.normal(0, 2.0, (d, len(outliers)))
X = rng.normal(size=(2 * n, d))
Y = X @ W + rng.normal(0, 2.0, (2 * n, T))
Xtr, Xte, Ytr, Yte = X[:n], X[n:], Y[:n], Y[n:]


def r2_per_task(model):
    P = model.predict(Xte)
    return 1 - ((Yte - P) ** 2).sum(0) / ((Yte - Yte.mean(0)) ** 2).sum(0)


models = {
    "independent ridge": IndependentRegressor(Ridge(alpha=1.0)),
    "trace norm": TraceNormRegressor(alpha=3.0, max_iter=3000),
    # same trace-norm strength; beta sets how costly it is to declare a task an outlier
    "robust (low rank + outlier tasks)": RobustMultiTaskRegressor(alpha=3.0, beta=2.6,
                                                                  max_iter=3000),
}

scores = {}
for name, model in models.items():
    scores[name] = r2_per_task(model.fit(Xtr, Ytr))
    print(f"{name:34s} mean test R^2: {scores[name].mean():.3f}, "
          f"on outlier tasks: {scores[name][outliers].mean():.3f}")
    if hasattr(model, "outlier_tasks_"):
        print("  outlier tasks found:", model.outlier_tasks_, "true:", outliers)

# %%
# Distance of each task from the shared subspace, and per-task accuracy
# ---------------------------------------------------------------------
ridge_W = np.vstack([e.coef_ for e in models["independent ridge"].estimators_]).T
U = np.linalg.svd(ridge_W, full_matrices=False)[0][:, :2]
resid = np.linalg.norm(ridge_W - U @ (U.T @ ridge_W), axis=0) / np.linalg.norm(ridge_W, axis=0)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
colors = np.where(np.isin(np.arange(T), outliers), "C3", "C0")
ax1.bar(range(T), resid, color=colors)
found = models["robust (low rank + outlier tasks)"].outlier_tasks_
ax1.plot(found, resid[found] + 0.06, "kv", label="outlier_tasks_ of the robust model")
ax1.set_ylim(0, 1.25)
ax1.legend(fontsize=7, loc="upper left")
ax1.set_xlabel("task (red: planted outliers)")
ax1.set_ylabel("relative distance from rank-2 subspace")
ax1.set_title("ridge estimates (the data's view)", fontsize=10)
width = 0.8 / len(scores)
for k, (name, s) in enumerate(scores.items()):
    ax2.bar(np.arange(T) + k * width, s, width, label=name)
ax2.set_xlabel("task")
ax2.set_ylabel("test R²")
ax2.set_ylim(0, 1.25)
ax2.legend(fontsize=7, ncol=2, loc="upper center")
fig.tight_layout()
plt.show()
