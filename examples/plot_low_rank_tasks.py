"""
Tasks that share a low-dimensional subspace
===========================================

Thirty tasks whose weight vectors are combinations of only three latent
directions: :math:`W = U V^\\top` with rank 3. The trace norm
(:class:`skmtl.linear.TraceNormRegressor`) and reduced-rank regression
(:class:`skmtl.factorization.ReducedRankRegressor`) recover the subspace from
all tasks at once; independent ridge regressions cannot.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV

rng = np.random.default_rng(1)
n, d, T, r = 60, 40, 30, 3
W = rng.normal(size=(d, r)) @ rng.normal(size=(r, T))
X = rng.normal(size=(2 * n, d))
Y = X @ W + rng.normal(0, 3.0, (2 * n, T))
X_train, X_test, Y_train, Y_test = X[:n], X[n:], Y[:n], Y[n:]

# %%
# Models
# ------
from skmtl import IndependentRegressor
from skmtl.factorization import ReducedRankRegressor
from skmtl.linear import TraceNormRegressor

Yc = Y_train - Y_train.mean(axis=0)
alpha_max = np.linalg.norm((X_train - X_train.mean(axis=0)).T @ Yc, 2) / n
models = {
    "independent ridge": IndependentRegressor(RidgeCV(alphas=np.logspace(-2, 3, 12))),
    "trace norm": TraceNormRegressor(alpha=0.02 * alpha_max, max_iter=3000),
    "reduced rank (r=3)": ReducedRankRegressor(rank=3, alpha=0.1),
}

scores, spectra = {}, {"truth": np.linalg.svd(W, compute_uv=False)}
for name, model in models.items():
    model.fit(X_train, Y_train)
    scores[name] = model.score(X_test, Y_test)
    coef = model.coef_ if hasattr(model, "coef_") else np.vstack(
        [est.coef_ for est in model.estimators_])
    spectra[name] = np.linalg.svd(coef, compute_uv=False)
    print(f"{name:20s} test R^2 averaged over tasks: {scores[name]:.3f}")

# %%
# Singular values of the fitted weight matrices and test accuracy
# ---------------------------------------------------------------
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
for name, s in spectra.items():
    ax1.semilogy(np.arange(1, len(s) + 1), np.maximum(s, 1e-3), "o-", ms=3, label=name)
ax1.set_xlabel("index")
ax1.set_ylabel("singular value")
ax1.set_title("spectrum of W")
ax1.legend(fontsize=8)
ax2.barh(list(scores), list(scores.values()), color="C0")
ax2.set_xlabel("test R² (mean over tasks)")
ax2.set_xlim(min(0, *scores.values()), 1)
fig.tight_layout()
plt.show()
