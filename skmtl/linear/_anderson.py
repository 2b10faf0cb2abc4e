r"""Anderson acceleration of a fixed-point map, for the alternating (MM) models.

The alternating models (task relationship, clustered) iterate a map
``x_{k+1} = G(x_k)`` (the weights after one covariance step and one exact
weight step) that decreases the objective but converges linearly, slowly when
the learned task structure is near singular. Anderson mixing (type II, Walker &
Ni 2011) extrapolates from the last ``m`` pairs ``(x_j, G(x_j))``:

.. math::

    \gamma = \arg\min_\gamma \|r_k - \Delta R \gamma\|_2, \qquad
    x_{AA} = G(x_k) - \Delta G \gamma,

with ``r_j = G(x_j) - x_j`` and ``Delta R``, ``Delta G`` the differences of
consecutive residuals and images. The caller keeps the candidate only when it
lowers the objective below that of ``G(x_k)`` (a safeguard that keeps the
monotone decrease of the plain iteration), as in the BCD solver's extrapolation.
"""

from collections import deque

import numpy as np

__all__ = ["AndersonMixer"]


class AndersonMixer:
    """History of ``(x, G(x))`` pairs and the Anderson extrapolation.

    Parameters
    ----------
    memory : int, default=5
        Number of past pairs used.
    """

    def __init__(self, memory=5):
        self._x = deque(maxlen=memory + 1)
        self._g = deque(maxlen=memory + 1)

    def push(self, x, gx):
        """Record the flattened point ``x`` and its image ``G(x)``."""
        self._x.append(np.ravel(x).copy())
        self._g.append(np.ravel(gx).copy())

    def reset(self):
        """Forget the history (after a rejected extrapolation)."""
        self._x.clear()
        self._g.clear()

    def extrapolate(self):
        """The Anderson point (flat array), or None with fewer than two pairs or a degenerate fit."""
        if len(self._x) < 2:
            return None
        X = np.array(self._x)
        G = np.array(self._g)
        R = G - X
        dR = np.diff(R, axis=0).T  # (dim, m)
        dG = np.diff(G, axis=0).T
        scale = np.linalg.norm(dR, axis=0)
        if not np.all(scale > 0):
            return None
        gamma, *_ = np.linalg.lstsq(dR / scale, R[-1], rcond=1e-10)
        x_new = G[-1] - dG @ (gamma / scale)
        return x_new if np.all(np.isfinite(x_new)) else None
