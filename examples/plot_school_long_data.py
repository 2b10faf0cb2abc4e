"""
School-style long data: one task per school
===========================================

In the School data (the ILEA exam scores) every pupil belongs to one school,
and the schools differ in size. Such data come *long*: one row per pupil, a
column naming the school. Every skmtl estimator takes it through
``task_column``. Here 40 simulated schools have 6 to 120 pupils; each school's
model is a common model plus a small school-specific deviation. Small schools
gain most from sharing.
"""

# %%
# Long data with a task column
# ----------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

rng = np.random.default_rng(2)
n_schools, d = 40, 5
sizes = np.clip(rng.lognormal(3.3, 0.8, n_schools).astype(int), 6, 120)
w0 = rng.normal(0, 1, d)
rows = []
for s, m in enumerate(sizes):
    w = w0 + rng.normal(0, 0.3, d)
    Xs = rng.normal(size=(m, d))
    ys = Xs @ w + rng.normal(0, 1.0) + rng.normal(0, 1.5, m)
    rows.append(pd.DataFrame(Xs, columns=[f"x{j}" for j in range(d)]).assign(school=f"S{s:02d}", score=ys))
df = pd.concat(rows, ignore_index=True)
print(df.head())
print(f"{len(df)} pupils in {n_schools} schools")

train, test = train_test_split(df, test_size=0.3, stratify=df["school"], random_state=0)
features = ["school"] + [f"x{j}" for j in range(d)]

# %%
# Models on long input
# --------------------
# The baselines fit each school alone or all schools as one; the hierarchical
# Bayesian model and :class:`skmtl.linear.MeanRegularizedRegressor` pull each
# school's model towards a common one.
from sklearn.linear_model import Ridge

from skmtl import IndependentRegressor, PooledRegressor
from skmtl.bayes import BayesianMultiTaskRegressor
from skmtl.linear import MeanRegularizedRegressor

models = {
    "independent": IndependentRegressor(Ridge(alpha=1.0), task_column="school"),
    "pooled": PooledRegressor(task_column="school"),
    "hierarchical Bayes": BayesianMultiTaskRegressor(task_column="school"),
    "mean-regularized": MeanRegularizedRegressor(task_column="school"),
}

n_train = train.groupby("school").size()
results = {}
for name, model in models.items():
    model.fit(train[features], train["score"])
    pred = model.predict(test[features])          # 1-D: each pupil by their school's model
    err = (test["score"] - pred) ** 2
    results[name] = err.groupby(test["school"]).mean()
    ev = 1 - err.mean() / test["score"].var()
    print(f"{name:20s} explained variance on held-out pupils: {ev:.3f}")

# %%
# Test error per school against the school's training size
# --------------------------------------------------------
fig, ax = plt.subplots(figsize=(7, 4))
for name, mse in results.items():
    ax.scatter(n_train[mse.index], mse, s=18, label=name, alpha=0.8)
ax.set_xscale("log")
ax.set_xlabel("pupils of the school in the training set")
ax.set_ylabel("test MSE of the school")
ax.axhline(1.5 ** 2, color="grey", ls=":", lw=1, label="noise level")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
