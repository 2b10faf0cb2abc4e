"""
Matrix completion with Soft-Impute
==================================

Tasks as columns, items as rows, most entries missing: the recommender-system
view of multi-task learning. A 150 x 60 matrix of rank 4 is observed on 30% of
its entries with noise. :class:`skmtl.factorization.SoftImputer` fills it by
nuclear-norm regularized completion (Mazumder, Hastie & Tibshirani 2010) and
is compared with filling each column by its mean.
"""

# %%
# A low-rank matrix, 70% missing
# ------------------------------
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(5)
m, T, r = 150, 60, 4
M = rng.normal(size=(m, r)) @ rng.normal(size=(r, T))
observed = rng.random((m, T)) < 0.3
Z = np.where(observed, M + rng.normal(0, 0.5, M.shape), np.nan)
print(f"observed entries: {observed.mean():.0%}")

col_mean = np.where(observed, Z, np.nanmean(Z, axis=0))


def rmse_missing(A):
    return np.sqrt(np.mean((A - M)[~observed] ** 2))


panels = [("observed (white: missing)", Z), ("column means", col_mean)]
print(f"column-mean fill RMSE on missing entries: {rmse_missing(col_mean):.3f}")

# %%
# Completion
# ----------
from skmtl.factorization import SoftImputer

lam_max = np.linalg.norm(np.nan_to_num(Z), 2)
completed = SoftImputer(alpha=0.05 * lam_max, n_shrinkages=3, svd_solver="full",
                        tol=1e-3, random_state=0).fit_transform(Z)
panels.append(("SoftImputer", completed))
print(f"SoftImputer RMSE on missing entries: {rmse_missing(completed):.3f}")
panels.append(("truth", M))

# %%
fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 4.2), sharey=True)
vmax = np.abs(M).max()
for ax, (name, A) in zip(axes, panels):
    ax.imshow(A, aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("task")
axes[0].set_ylabel("item")
fig.tight_layout()
plt.show()
