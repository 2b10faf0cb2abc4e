"""
Joint feature selection on genomics-shaped data
===============================================

Several traits measured on the same individuals are often driven by the same
few genetic loci. Here 150 individuals are genotyped at 500 SNPs (dosages 0, 1
or 2) and 6 traits each depend on the same 12 causal SNPs, with trait-specific
effect sizes. The L2,1 penalty of :class:`skmtl.linear.L21Regressor` selects a
SNP for all traits or for none; a Lasso per trait selects each trait's SNPs
alone, from a sixth of the information.
"""

# %%
# Genotypes and traits
# --------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import Lasso
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(0)
n, p, T, k = 150, 500, 6, 12
maf = rng.uniform(0.05, 0.5, p)                      # minor allele frequencies
X = rng.binomial(2, maf, size=(n, p)).astype(float)  # SNP dosages 0/1/2
causal = rng.choice(p, k, replace=False)
W = np.zeros((p, T))
W[causal] = rng.normal(0, 1, (k, T)) * rng.uniform(0.5, 1.5, (k, 1))
Z = StandardScaler().fit_transform(X)
Y = Z @ W + rng.normal(0, 3.0, (n, T))

# %%
# Models
# ------
from skmtl import IndependentRegressor
from skmtl.linear import L21Regressor, l21_alpha_max

# alpha_max: the smallest alpha for which every coefficient is zero
alpha_max = l21_alpha_max(Z, Y)
Yc = Y - Y.mean(axis=0)
lasso_max = np.max(np.abs(Z.T @ Yc), axis=0) / n

per_task = IndependentRegressor(Lasso(alpha=0.3 * lasso_max.mean(), max_iter=5000)).fit(Z, Y)
coef_lasso = np.vstack([est.coef_ for est in per_task.estimators_]).T

show = np.r_[np.sort(causal), np.setdiff1d(np.arange(p), causal)[:28]]  # causal first
l21 = L21Regressor(alpha=0.3 * alpha_max).fit(Z, Y)
panels = [("true effects", W), ("L21Regressor (joint)", l21.coef_.T),
          ("Lasso per trait", coef_lasso)]


def support_scores(B):
    """Precision and recall of the selected (SNP, trait) pairs."""
    hit = (B != 0) & (W != 0)
    return hit.sum() / max((B != 0).sum(), 1), hit.sum() / (W != 0).sum()


for name, B in panels[1:]:
    prec, rec = support_scores(B)
    print(f"{name:24s} selected (SNP, trait) pairs: precision {prec:.2f}, recall {rec:.2f}")

# %%
# Which SNPs each trait uses
# --------------------------
# Rows: the 12 causal SNPs, then 28 others; columns: traits. The joint model
# selects whole rows; the per-trait Lasso scatters its choices.
fig, axes = plt.subplots(1, 3, figsize=(9, 5), sharey=True)
for ax, (name, B) in zip(axes, panels):
    ax.imshow(np.abs(B[show]), aspect="auto", cmap="viridis", interpolation="nearest")
    ax.axhline(k - 0.5, color="w", lw=1)
    ax.set_title(name, fontsize=10)
    ax.set_xlabel("trait")
axes[0].set_ylabel("SNP (causal above the line)")
fig.tight_layout()
plt.show()
