"""
Task clusters and task correlations
===================================

Twelve tasks fall into three groups: within a group the weight vectors are
close, across groups they are unrelated (and one group is the mirror image of
another, a negative correlation). :class:`skmtl.linear.ClusteredRegressor`
recovers the groups and :class:`skmtl.linear.TaskRelationshipRegressor` the
task correlations; independent ridge estimates show the structure only through
their noise.
"""

# %%
# Data with planted clusters
# --------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import adjusted_rand_score

from skmtl import IndependentRegressor
from skmtl.linear import ClusteredRegressor, TaskRelationshipRegressor

rng = np.random.default_rng(3)
n, d, T = 25, 15, 12
labels = np.repeat([0, 1, 2], 4)
centres = rng.normal(0, 1, (3, d))
centres[2] = -centres[0]                      # group 2 mirrors group 0
W = centres[labels].T + rng.normal(0, 0.4, (d, T))
X = rng.normal(size=(n, d))
Y = X @ W + rng.normal(0, 2.0, (n, T))

true_corr = np.corrcoef(W.T)
ridge = IndependentRegressor(Ridge(alpha=1.0)).fit(X, Y)
ridge_corr = np.corrcoef(np.vstack([e.coef_ for e in ridge.estimators_]))
panels = [("true weights", true_corr), ("independent ridge", ridge_corr)]

# %%
# Models that learn the relationships
# -----------------------------------
mtrl = TaskRelationshipRegressor().fit(X, Y)
panels.append(("TaskRelationshipRegressor", mtrl.task_correlation_))

cmtl = ClusteredRegressor(n_clusters=3).fit(X, Y)
print("clusters found:", cmtl.task_clusters_,
      "ARI:", round(adjusted_rand_score(labels, cmtl.task_clusters_), 2))
clustered_corr = np.corrcoef(cmtl.coef_)
panels.append(("ClusteredRegressor", clustered_corr))

# a simple look at the data: clustering the ridge estimates
from scipy.cluster.hierarchy import fcluster, linkage

est = fcluster(linkage(ridge_corr, "average"), 3, "maxclust")
print("clusters of the independent ridge estimates, ARI:",
      round(adjusted_rand_score(labels, est), 2))

# %%
# Task-by-task correlation of the weight vectors
# ----------------------------------------------
fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.4))
for ax, (name, C) in zip(np.atleast_1d(axes), panels):
    im = ax.imshow(C, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_title(name, fontsize=10)
    ax.set_xticks(range(T))
    ax.set_yticks(range(T))
    ax.tick_params(labelsize=6)
fig.colorbar(im, ax=axes, shrink=0.8)
plt.show()
