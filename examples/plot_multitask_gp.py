"""
Multi-task Gaussian process with uncertainty bands
==================================================

Two related signals measured on the same inputs; the second is missing over a
whole stretch (4 < x < 7, ``NaN`` in the wide target matrix). An independent
GP for the second signal can only revert to its mean there, with a wide band.
:class:`skmtl.gaussian_process.MultiTaskGPRegressor` (intrinsic
coregionalization, Bonilla, Chai & Williams 2008) learns that the two signals
are correlated and fills the gap from the first one, with a narrower band.
"""

# %%
# Two correlated signals, one with a gap
# --------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel

rng = np.random.default_rng(6)
x = np.sort(rng.uniform(0, 10, 40))[:, None]
f1 = np.sin(x[:, 0])
f2 = 0.8 * np.sin(x[:, 0] + 0.3) + 0.3
Y = np.column_stack([f1, f2]) + rng.normal(0, 0.1, (40, 2))
gap = (x[:, 0] > 4) & (x[:, 0] < 7)
Y[gap, 1] = np.nan                            # task 2 not observed in the gap
x_grid = np.linspace(0, 10, 200)[:, None]

# %%
# An independent GP for task 2 (scikit-learn)
# -------------------------------------------
seen = ~np.isnan(Y[:, 1])
gp2 = GaussianProcessRegressor(RBF(1.0) + WhiteKernel(0.01), normalize_y=True)
gp2.fit(x[seen], Y[seen, 1])
mean_ind, std_ind = gp2.predict(x_grid, return_std=True)

# %%
# The multi-task GP (needs torch and gpytorch: the ``gp`` extra)
# --------------------------------------------------------------
from skmtl.gaussian_process import MultiTaskGPRegressor

mtgp = MultiTaskGPRegressor(kernel="rbf", rank=1, random_state=0).fit(x, Y)
mean_mt, std_mt = mtgp.predict(x_grid, return_std=True)
print("learned task correlation:", np.round(mtgp.task_correlation_[0, 1], 2))

# %%
# Predictions with 2-standard-deviation bands
# -------------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
axes[0].plot(x, Y[:, 0], "k.", label="observed")
axes[1].plot(x[seen], Y[seen, 1], "k.", label="observed")
axes[1].axvspan(4, 7, color="grey", alpha=0.15, label="no data for task 2")
axes[1].plot(x_grid, 0.8 * np.sin(x_grid[:, 0] + 0.3) + 0.3, "k--", lw=0.8, label="truth")
axes[1].plot(x_grid, mean_ind, "C1", label="independent GP")
axes[1].fill_between(x_grid[:, 0], mean_ind - 2 * std_ind, mean_ind + 2 * std_ind, color="C1", alpha=0.2)
for t, ax in enumerate(axes):
    ax.plot(x_grid, mean_mt[:, t], "C0", label="multi-task GP")
    ax.fill_between(x_grid[:, 0], mean_mt[:, t] - 2 * std_mt[:, t],
                    mean_mt[:, t] + 2 * std_mt[:, t], color="C0", alpha=0.2)
for t, ax in enumerate(axes):
    ax.set_title(f"task {t + 1}")
    ax.set_xlabel("x")
    ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()
