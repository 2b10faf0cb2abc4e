"""Validation scores, early stopping and checkpoints along an L2,1 path.

A long path (genotypes: minutes per ``alpha``) should stop once held-out
samples stop gaining (snpnet stops on a validation set the same way) and
should survive an interrupted job. :class:`PathMonitor` does both for
:func:`~skmtl.linear.l21_path`:

* after each ``alpha``, the mean per-task R^2 of the held-out samples
  (``validation=(X_val, Y_val[, C_val])``); with ``patience=k`` the path stops
  after ``k`` alphas in a row without a better score than its best;
* after each ``alpha``, a checkpoint file (``checkpoint="path.npz"``, written
  to a temporary file and renamed, so a crash leaves the last complete one)
  holds the fitted part of the path (coefficients stored by support rows),
  the validation scores and the solver's state (its coefficients and, for
  the screened solver, the working set and the last screening values). A
  path started with an existing checkpoint of the same grid continues from
  it and gives what the uninterrupted path gives.
"""

import os

import numpy as np

from ..metrics import per_task_r2

__all__ = ["PathMonitor"]


class PathMonitor:
    """Validation scoring, early stopping and checkpoints of a path (see the module docstring).

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
    n_covariates : int
        The first ``n_covariates`` features of the path's design are covariates.
    validation : tuple (X_val, Y_val) or (X_val, Y_val, C_val), optional
        Held-out samples, wide targets (NaN: missing).
    patience : int, optional
        Stop after this many alphas without a better validation score.
    checkpoint : str or path, optional
        ``.npz`` file written after every ``alpha`` and read at the start.
    """

    def __init__(self, alphas, *, n_covariates=0, validation=None, patience=None, checkpoint=None,
                 n_features=None, n_tasks=None):
        self.alphas = None if alphas is None else np.asarray(alphas, dtype=np.float64)
        self.stopped = False  # set by restore when the checkpointed path had stopped early
        self.q = int(n_covariates)
        self.checkpoint = None if checkpoint is None else os.fspath(checkpoint)
        if patience is not None and (isinstance(patience, bool) or not isinstance(patience, (int, np.integer))
                                     or patience < 1):
            raise ValueError(f"l21_path: patience must be a positive integer (alphas without a better validation "
                             f"score before the path stops); got {patience!r}.")
        self.patience = patience
        self.scores = []
        self._val = None
        if patience is not None and validation is None:
            raise ValueError("l21_path: patience needs validation=(X_val, Y_val).")
        if validation is not None:
            self._val = self._check_validation(validation)
            X, Y, C = self._val
            if C is not None and C.shape != (X.shape[0], self.q):
                raise ValueError(f"l21_path: covariates_val must have shape ({X.shape[0]}, {self.q}); "
                                 f"got {C.shape}.")
            if n_features is not None and X.shape[1] != n_features:
                raise ValueError(f"l21_path: X_val has {X.shape[1]} features; the path's X has {n_features}.")
            if n_tasks is not None and Y.shape[1] != n_tasks:
                raise ValueError(f"l21_path: Y_val has {Y.shape[1]} tasks; the path's Y has {n_tasks}.")

    def _check_validation(self, validation):
        from .._design import as_design

        if not isinstance(validation, tuple) or len(validation) not in (2, 3):
            raise ValueError("l21_path: validation must be (X_val, Y_val) or (X_val, Y_val, covariates_val).")
        X, Y = validation[0], np.asarray(validation[1], dtype=np.float64)
        C = validation[2] if len(validation) == 3 else None
        if (C is None) != (self.q == 0):
            raise ValueError("l21_path: give covariates in validation=(X_val, Y_val, C_val) exactly when the "
                             "path has covariates.")
        design = as_design(X)
        X = design if design is not None else np.asarray(X, dtype=np.float64)
        Y = Y[:, None] if Y.ndim == 1 else Y
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"l21_path: X_val has {X.shape[0]} rows and Y_val {Y.shape[0]}.")
        if C is not None:
            C = np.asarray(C, dtype=np.float64)
            C = C[:, None] if C.ndim == 1 else C
        return X, Y, C

    def score(self, W, b):
        """Mean per-task R^2 on the validation samples of coefficients ``W`` (p, T) and intercepts ``b``."""
        X, Y, C = self._val
        Wx = W[self.q:]
        F = X.matmat(Wx) if hasattr(X, "matmat") else X @ Wx
        if C is not None:
            F = F + C @ W[:self.q]
        return float(np.nanmean(per_task_r2(Y, F + b)))

    # ------------------------------------------------------------ the loop
    def restore(self, solver, coefs, intercepts, gaps, n_iters):
        """Load the checkpoint (if any) into the outputs and the solver; returns the next alpha's index."""
        if self.checkpoint is None or not os.path.exists(self.checkpoint):
            return 0
        with np.load(self.checkpoint, allow_pickle=False) as z:
            saved = z["alphas"]
            if saved.shape != self.alphas.shape or not np.allclose(saved, self.alphas, rtol=1e-12, atol=0):
                raise ValueError(f"l21_path: the checkpoint {self.checkpoint} was written for another alpha grid; "
                                 f"delete it or give the same alphas.")
            if tuple(z["shape"]) != tuple(coefs.shape[1:]):
                raise ValueError(f"l21_path: the checkpoint {self.checkpoint} was written for coefficients of "
                                 f"shape {tuple(z['shape'])}, not {coefs.shape[1:]}.")
            k0 = int(z["n_done"])
            ptr, rows, vals = z["coef_ptr"], z["coef_rows"], z["coef_vals"]
            for k in range(k0):
                coefs.set_rows(k, rows[ptr[k]:ptr[k + 1]], vals[ptr[k]:ptr[k + 1]])
            intercepts[:k0] = z["intercepts"]
            gaps[:k0] = z["gaps"]
            n_iters[:k0] = z["n_iters"]
            self.scores = list(z["scores"])
            state = {key[len("state_"):]: z[key] for key in z.files if key.startswith("state_")}
        self.stopped = self._patience_spent()
        if k0:
            solver.restore_state(coefs.get(k0 - 1), state)
        return k0

    def after(self, k, solver, coefs, intercepts, gaps, n_iters):
        """Score and checkpoint after alpha ``k``; True when the path should stop."""
        if self._val is not None:
            self.scores.append(self.score(solver.W, solver.intercept))
        stop = self._patience_spent()
        if self.checkpoint is not None:
            self._save(k + 1, solver, coefs, intercepts, gaps, n_iters)
        return stop

    def _patience_spent(self):
        """True when the last ``patience`` scores brought nothing better than the best before them."""
        if self.patience is None or not self.scores:
            return False
        return len(self.scores) - 1 - int(np.argmax(self.scores)) >= self.patience

    def _save(self, n_done, solver, coefs, intercepts, gaps, n_iters):
        parts = [coefs.rows(k) for k in range(n_done)]
        ptr = np.concatenate([[0], np.cumsum([len(r) for r, _ in parts])]).astype(np.int64)
        T = coefs.shape[1]
        rows = np.concatenate([r for r, _ in parts]) if parts else np.zeros(0, dtype=np.int64)
        vals = np.concatenate([v for _, v in parts]) if parts else np.zeros((0, T))
        state = {f"state_{key}": value for key, value in solver.checkpoint_state().items()}
        tmp = self.checkpoint + ".tmp.npz"
        np.savez(tmp, alphas=self.alphas, shape=np.array(coefs.shape[1:]), n_done=n_done, coef_ptr=ptr,
                 coef_rows=rows, coef_vals=vals, intercepts=intercepts[:n_done], gaps=gaps[:n_done],
                 n_iters=n_iters[:n_done], scores=np.asarray(self.scores, dtype=np.float64), **state)
        os.replace(tmp, self.checkpoint)
