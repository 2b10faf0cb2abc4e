"""
Bayesian transfer to a new task
===============================

Thirty tasks teach :class:`skmtl.bayes.BayesianMultiTaskRegressor` what task
weights look like: a population mean and covariance (Bakker & Heskes 2003).
A new task then arrives with only a handful of samples. ``fit_new_task``
starts from the learned prior and needs far fewer samples than a model fitted
on the new task alone.
"""

# %%
# Thirty training tasks drawn around a common model
# -------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV

rng = np.random.default_rng(7)
d, T, n_t, noise = 8, 30, 30, 1.0
mu = rng.normal(0, 1.5, d)
W = mu[:, None] + rng.normal(0, 0.4, (d, T))
X = rng.normal(size=(n_t * T, d))
task = np.repeat(np.arange(T), n_t)
y = np.einsum("ij,ji->i", X, W[:, task]) + rng.normal(0, noise, len(task))
X_long = np.column_stack([task, X])           # task labels in column 0

# %%
# Fit, then transfer to new tasks with k samples
# ----------------------------------------------
from skmtl.bayes import BayesianMultiTaskRegressor

ks = [2, 4, 8, 16, 32]
n_new_tasks = 20
err_bayes, err_alone = np.zeros(len(ks)), np.zeros(len(ks))
model = BayesianMultiTaskRegressor(task_column=0, random_state=0).fit(X_long, y)
for rep in range(n_new_tasks):
    w_new = mu + rng.normal(0, 0.4, d)
    X_te = rng.normal(size=(200, d))
    y_te = X_te @ w_new
    for i, k in enumerate(ks):
        X_k = rng.normal(size=(k, d))
        y_k = X_k @ w_new + rng.normal(0, noise, k)
        post = model.fit_new_task(X_k, y_k)
        err_bayes[i] += np.mean((post.predict(X_te) - y_te) ** 2) / n_new_tasks
        alone = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(X_k, y_k)
        err_alone[i] += np.mean((alone.predict(X_te) - y_te) ** 2) / n_new_tasks
for k, a, b in zip(ks, err_alone, err_bayes):
    print(f"k={k:2d}: new task alone MSE {a:6.2f}   transfer MSE {b:6.2f}")

# %%
# Error on the new task against its number of samples
# ---------------------------------------------------
fig, ax = plt.subplots(figsize=(6, 3.8))
ax.loglog(ks, err_alone, "o-", label="ridge on the new task alone")
ax.loglog(ks, err_bayes, "o-", label="fit_new_task (learned prior)")
ax.set_xticks(ks, [str(k) for k in ks])
ax.minorticks_off()
ax.set_xlabel("samples of the new task")
ax.set_ylabel("test MSE (noise-free targets)")
ax.legend()
fig.tight_layout()
plt.show()
