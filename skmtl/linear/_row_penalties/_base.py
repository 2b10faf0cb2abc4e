r"""The contract of a row penalty of the block coordinate descent (:class:`~skmtl.linear.L21Solver`).

A row penalty is a sum over the rows ``W_j`` of ``W`` (one feature across
tasks)::

    P(W) = sum_j h_j(W_j),    h_j(w) = rho_j(w) + r_j / 2 ||w||_2^2,

``rho_j`` the non-smooth part of strength ``lam_j = alpha l1_ratio f_j`` and
``r_j = alpha (1 - l1_ratio) f_j`` the ridge (``f_j`` the penalty factors).
The solver handles the ridge itself; a penalty supplies ``rho``: one
:class:`RowPenalty` subclass in one file of this package (files are imported
automatically and registered under the class's ``name``) that holds

* the Python side, called once per ``alpha``: :meth:`RowPenalty.rows`
  (the kernel parameters, a ``NamedTuple`` with the field ``ridge``),
  :meth:`RowPenalty.alpha_max`, ``is_convex`` and ``name``;
* the Numba side: an implementation of each of the six kernel functions of
  this module for the type of its ``rows`` tuple, registered with
  ``numba.extending.overload(..., jit_options=OVERLOAD_OPTIONS)`` and selected
  by :func:`is_rows` (so a kernel is compiled for each penalty it meets, with
  no branch on the penalty kind);
* optionally, for a function of the row norm ``rho_j(w) = phi_j(||w||)``, its
  NumPy side: :meth:`RowPenalty.radial_value` and :meth:`RowPenalty.radial_slope`
  (``phi_j`` and ``phi_j'``, vectorized over rows). With them the estimators'
  one-off fits compute the KKT statistics in NumPy (:mod:`skmtl.linear._kkt`),
  and a process's first fit compiles no KKT kernel.

The overloads are not ``inline="always"``: Numba compiles such an overload
anyway, then inlines its IR at every call site and types it again there (more
compilation for the first fit of a process); LLVM inlines these small
functions into the kernels when it optimizes them. ``OVERLOAD_OPTIONS`` leaves
out the wrappers that would make them callable from Python or C (half the
compilation of such a small function, about a third).

Numba's cache is keyed on the file of the cached kernel, not on the files of
the functions it inlines: after editing a penalty, delete the ``__pycache__``
folders of ``skmtl/linear`` (or set ``NUMBA_CACHE_DIR`` to an empty folder).
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

__all__ = ["RowPenalty", "ROW_PENALTIES", "RADIAL_ROWS", "OVERLOAD_OPTIONS", "make_row_penalty", "is_rows",
           "row_value", "row_prox", "row_margin", "row_distance", "row_dual_scale", "row_penalized", "radial_distance",
           "ball_dual_scale"]

# The options of the penalties' overloads: cached, and called from the kernels only (no
# wrappers callable from Python or C: less to compile).
OVERLOAD_OPTIONS = {"cache": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}

ROW_PENALTIES = {}  # name -> RowPenalty subclass
RADIAL_ROWS = {}  # rows type -> RowPenalty subclass with a NumPy side (radial_value, radial_slope)
_BALL_ROWS = set()  # rows types of the penalties whose d rho_j(0) is the ball of radius lam_j


class RowPenalty:
    """Base of the row penalties of :class:`~skmtl.linear.L21Solver`.

    Attributes
    ----------
    name : str
        The ``penalty=`` string of the estimators (registered on subclassing).
    is_convex : bool
        Convex: the solver stops on the duality gap, built from
        :func:`row_margin` and :func:`row_dual_scale`. Not convex: it stops on
        the largest distance of minus the gradient to the subdifferential
        (:func:`row_distance`), relative to the largest row gradient at zero.
    """

    name = None
    is_convex = True
    #: The ``NamedTuple`` class that :meth:`rows` returns.
    rows_type = None
    #: True for a function of the row norm with slope ``lam_j`` at zero (group lasso,
    #: MCP, SCAD): ``d rho_j(0)`` is the ball of radius ``lam_j``, and this module then
    #: supplies ``row_margin``, ``row_dual_scale``, ``row_penalized`` and ``alpha_max``.
    ball_at_zero = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name is not None:
            ROW_PENALTIES[cls.name] = cls
        if cls.ball_at_zero and cls.rows_type is not None:
            _BALL_ROWS.add(cls.rows_type)
        if cls.radial_value is not RowPenalty.radial_value and cls.rows_type is not None:
            if not cls.ball_at_zero:
                raise TypeError(f"{cls.__name__}: a radial penalty has slope lam_j at zero (ball_at_zero).")
            RADIAL_ROWS[cls.rows_type] = cls

    @classmethod
    def from_options(cls, **options):
        """The penalty built from the estimators' options (``gamma``, ``l1_share``); the base takes none."""
        return cls()

    def rows(self, lam, ridge):
        """Kernel parameters: a ``NamedTuple`` of this penalty's type with the field ``ridge``.

        Parameters
        ----------
        lam : ndarray of shape (n_features,)
            Strength of ``rho_j`` (``alpha l1_ratio f_j``).
        ridge : ndarray of shape (n_features,)
            Ridge strengths ``r_j``.
        """
        raise NotImplementedError

    @staticmethod
    def radial_value(rows, idx, x):
        """NumPy side (optional): ``phi_j(x)`` for ``rho_j(w) = phi_j(||w||)``.

        Parameters
        ----------
        rows : NamedTuple
            The kernel parameters (:meth:`rows`).
        idx : ndarray of shape (m,)
            Row indices.
        x : ndarray of shape (m,)
            Positive row norms.

        Returns
        -------
        ndarray of shape (m,)
        """
        raise NotImplementedError

    @staticmethod
    def radial_slope(rows, idx, x):
        """NumPy side (optional): ``phi_j'(x)``, so that ``d rho_j(w) = {phi_j'(||w||) w / ||w||}`` for ``w != 0``.

        The parameters and the result as :meth:`radial_value`.
        """
        raise NotImplementedError

    def alpha_max(self, G, weights):
        """Smallest ``alpha`` at which ``W = 0`` is optimal for these rows.

        Parameters
        ----------
        G : ndarray of shape (n_rows, n_tasks)
            Minus the gradient at the null model, penalized rows only.
        weights : ndarray of shape (n_rows,)
            ``lam_j / alpha`` (positive).
        """
        z = self.zero_alphas(G, weights)
        return float(z.max()) if len(z) else 0.0

    def zero_alphas(self, G, weights):
        """For each row, the smallest ``alpha`` at which ``W_j = 0`` meets its optimality condition.

        A row at zero with minus gradient ``G_j`` is optimal iff its value is at
        most ``alpha`` (the screened solvers' KKT check of the rows outside
        their working set, and the strong rule, use it row by row).

        Parameters
        ----------
        G : ndarray of shape (n_rows, n_tasks)
        weights : ndarray of shape (n_rows,)
            ``lam_j / alpha`` (positive).

        Returns
        -------
        ndarray of shape (n_rows,)
        """
        if not self.ball_at_zero:
            raise NotImplementedError
        # W_j = 0 is optimal iff ||G_j|| <= alpha w_j
        return row_norms(G) / weights if len(weights) else np.zeros(0)


def make_row_penalty(penalty, **options):
    """A :class:`RowPenalty` from an instance or a registered name (options: ``gamma``, ``l1_share``)."""
    if isinstance(penalty, RowPenalty):
        return penalty
    if penalty not in ROW_PENALTIES:
        raise ValueError(f"penalty must be one of {sorted(ROW_PENALTIES)} or a RowPenalty; got {penalty!r}.")
    return ROW_PENALTIES[penalty].from_options(**options)


def is_rows(pen, rows_type):
    """Typing-time test, in an overload, that ``pen`` is the Numba type of ``rows_type`` tuples."""
    return isinstance(pen, types.BaseNamedTuple) and pen.instance_class is rows_type


# The six kernel functions. Each penalty file overloads them for its rows type;
# these Python bodies never run inside the kernels.

def row_value(pen, j, w, wn):
    """``rho_j(w)`` for a nonzero row ``w`` of norm ``wn``."""
    raise NotImplementedError


def row_prox(pen, j, z, zn, step):
    """The prox of ``step rho_j`` at ``z`` (norm ``zn``), as a scale: the result is ``s z``.

    Returns ``s``; a penalty that acts on entries (soft-thresholding) first
    rewrites ``z`` in place. The exact minimizer even where the scaled
    one-dimensional problem is not convex (MCP, SCAD).
    """
    raise NotImplementedError


def row_margin(pen, j, g, gn):
    """How far ``g`` (norm ``gn``) lies outside ``d rho_j(0)``: positive, the distance; else at most 0.

    The kernels use it for zero rows: the KKT violation ``max(margin, 0)``, the
    working-set priority (violators first, then the rows closest to entering)
    and, for a convex penalty (``d rho_j(0)`` its dual ball), the conjugate
    ``h_j^*(g) = max(margin, 0)^2 / (2 r_j)``.
    """
    raise NotImplementedError


def row_distance(pen, j, v, w, wn):
    """Distance of ``v`` to ``d rho_j(w)`` for a nonzero row ``w`` of norm ``wn``."""
    raise NotImplementedError


def row_dual_scale(pen, j, v, vn):
    """Largest ``s`` in [0, 1] with ``s v`` in ``d rho_j(0)`` (``vn = ||v||``): the dual rescaling."""
    raise NotImplementedError


def row_penalized(pen, j):
    """Whether ``rho_j`` is not zero (an unpenalized row has no dual constraint)."""
    raise NotImplementedError


@njit(cache=True, nogil=True, inline="always")
def radial_distance(v, w, f):
    """``||v - f w||_2``: the distance to ``d rho(w) = {f w}`` of a function of the row norm (``f = rho'(||w||) / ||w||``)."""
    acc = 0.0
    for t in range(v.shape[0]):
        d = v[t] - f * w[t]
        acc += d * d
    return np.sqrt(acc)


@njit(cache=True, nogil=True, inline="always")
def ball_dual_scale(a, vn):
    """Largest ``s <= 1`` with ``s ||v|| <= a``: the dual scaling for ``d rho(0)`` the ball of radius ``a``."""
    return a / vn if vn > a else 1.0


def row_norms(G):
    """Euclidean norms of the rows of ``G`` (numpy)."""
    return np.sqrt((np.asarray(G) ** 2).sum(axis=1))


# The parts of the penalties whose subdifferential at zero is the ball of radius lam_j.

def _is_ball_rows(pen):
    return isinstance(pen, types.BaseNamedTuple) and pen.instance_class in _BALL_ROWS


@overload(row_margin, jit_options=OVERLOAD_OPTIONS)
def _ball_margin(pen, j, g, gn):
    if _is_ball_rows(pen):
        def impl(pen, j, g, gn):
            return gn - pen.lam[j]
        return impl


@overload(row_dual_scale, jit_options=OVERLOAD_OPTIONS)
def _ball_dual_scale(pen, j, v, vn):
    if _is_ball_rows(pen):
        def impl(pen, j, v, vn):
            return ball_dual_scale(pen.lam[j], vn)
        return impl


@overload(row_penalized, jit_options=OVERLOAD_OPTIONS)
def _ball_penalized(pen, j):
    if _is_ball_rows(pen):
        def impl(pen, j):
            return pen.lam[j] > 0.0
        return impl
