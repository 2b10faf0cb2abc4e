"""
Detecting negative transfer
===========================

Sharing helps related tasks and can hurt a task that is not related to the
others: *negative transfer*. Here seven tasks share one direction of their
weight vectors and three are unrelated, and a strongly regularized low-rank
model forces all ten towards that direction.
:func:`skmtl.model_selection.transfer_report` cross-validates it beside the
per-task and pooled baselines on the same folds and flags, task by task, where
sharing made things significantly worse: the shrinkage costs the related
tasks a little, the unrelated tasks a lot.
"""

# %%
# Seven related tasks and three unrelated ones
# --------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(8)
n, d, T = 50, 20, 10
unrelated = np.array([7, 8, 9])
u = rng.normal(0, 1, d)
W = np.outer(u, rng.normal(1, 0.3, T))       # related tasks: multiples of one direction
W[:, unrelated] = rng.normal(0, 1, (d, len(unrelated)))
X = rng.normal(size=(n, d))
Y = X @ W + rng.normal(0, 1.5, (n, T))

# %%
# The report
# ----------
# A strongly regularized trace-norm model is nearly rank one: it pushes every
# task towards the shared direction.
from skmtl import IndependentRegressor, PooledRegressor
from skmtl.linear import TraceNormRegressor
from skmtl.model_selection import transfer_report

Yc = Y - Y.mean(0)
model = TraceNormRegressor(alpha=0.3 * np.linalg.norm(X.T @ Yc, 2) / n, max_iter=3000)
baselines = {"independent": IndependentRegressor(), "pooled": PooledRegressor()}
report = transfer_report(model, X, Y, cv=5, baselines=baselines)
print(report[["model", "independent", "diff_independent", "negative_transfer"]].round(3))

# %%
# Score difference with the per-task baseline, with confidence intervals
# ----------------------------------------------------------------------
fig, ax = plt.subplots(figsize=(7, 3.8))
diff = report["diff_independent"].to_numpy()
lo = diff - report["ci_low_independent"].to_numpy()
hi = report["ci_high_independent"].to_numpy() - diff
colors = np.where(report["negative_transfer"], "C3", "C0")
ax.bar(range(T), diff, color=colors)
ax.errorbar(range(T), diff, yerr=[lo, hi], fmt="none", ecolor="k", capsize=3)
ax.axhline(0, color="k", lw=0.8)
ax.set_ylabel(f"R² of {type(model).__name__}\nminus R² of per-task ridge")
ax.set_title("red: negative transfer flagged", fontsize=10)
ax.set_xlabel("task (7, 8, 9 are unrelated)")
fig.tight_layout()
plt.show()
