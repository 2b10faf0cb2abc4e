"""
Wide and long input give the same model
=======================================

The same multi-task data can be given as a wide target matrix with ``NaN``
for unobserved targets, or as long data with a task column. skmtl turns both
into one internal form, so the fits agree. This example fits
:class:`skmtl.IndependentRegressor` both ways and compares the coefficients.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from skmtl import IndependentRegressor

rng = np.random.default_rng(10)
n, d, T = 30, 4, 5
X = rng.normal(size=(n, d))
Y = X @ rng.normal(size=(d, T)) + rng.normal(0, 0.3, (n, T))
Y[rng.random((n, T)) < 0.4] = np.nan          # 40% of targets unobserved

# wide -> long: one row per observed (sample, task) pair, task label first
rows, tasks = np.nonzero(~np.isnan(Y))
X_long = np.column_stack([tasks, X[rows]])
y_long = Y[rows, tasks]

wide = IndependentRegressor().fit(X, Y)
long = IndependentRegressor(task_column=0).fit(X_long, y_long)
coef_wide = np.vstack([e.coef_ for e in wide.estimators_])
coef_long = np.vstack([e.coef_ for e in long.estimators_])
print("same coefficients:", np.allclose(coef_wide, coef_long))
print("long predict shape:", long.predict(X_long).shape, " wide predict shape:", wide.predict(X).shape)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
ax1.imshow(~np.isnan(Y), aspect="auto", cmap="Greys", interpolation="nearest")
ax1.set_title("wide Y: observed entries (black)", fontsize=10)
ax1.set_xlabel("task")
ax1.set_ylabel("sample")
ax2.scatter(coef_wide.ravel(), coef_long.ravel())
ax2.set_xlabel("coefficients, wide fit")
ax2.set_ylabel("coefficients, long fit")
ax2.set_title(f"{len(y_long)} long rows, one per observed target", fontsize=10)
fig.tight_layout()
plt.show()
