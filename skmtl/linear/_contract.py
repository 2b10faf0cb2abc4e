r"""The engine contract: what the proximal-gradient solvers ask of their parts.

:func:`~skmtl.linear.fista` minimizes ``f(W, b) + g(W)`` where ``f`` is a
:class:`Datafit` (smooth; ``b`` the unpenalized intercepts) and ``g`` a
:class:`Penalty` (prox-friendly). The two base classes list every method
and attribute a solver may use; the optional capabilities have a default in
the base, so a solver never probes a part with ``hasattr``. Each solver
declares the methods it needs without a default (``FISTA_DATAFIT_REQUIRED``,
``FISTA_PENALTY_REQUIRED`` in :mod:`skmtl.linear._fista`) and checks its parts
once at entry with :func:`check_parts`, as skglm's solvers check their
``_datafit_required_attr`` / ``_penalty_required_attr``.
"""

__all__ = ["Datafit", "Penalty", "check_parts"]


class Datafit:
    r"""Base of the smooth parts ``f(W, b)`` of the FISTA engine.

    ``W`` has shape (n_features, n_columns) (or the stacked shape of
    :class:`~skmtl.linear._datafits.SplitDatafit`) and ``b`` (n_columns,).
    ``f`` is evaluated through affine "predictions" ``z = A(W, b)``, so that
    the solver can extrapolate ``z`` instead of recomputing it:
    ``f(W, b) = F(A(W, b))`` and ``grad f = A^*(grad F(z))``.

    Methods without a default (the base raises ``NotImplementedError``; a
    solver declares which of them it calls, e.g. ``FISTA_DATAFIT_REQUIRED``):

    * ``forward(W, b) -> z``: the predictions ``A(W, b)`` (affine in ``(W, b)``);
    * ``adjoint(R) -> (G, g)``: ``A^* R``, the gradients w.r.t. ``W`` and ``b``
      for ``R = grad F(z)``;
    * ``value_z(z) -> float``: ``F(z)``;
    * ``value_grad_z(z) -> (float, R)``: ``F(z)`` and ``R = grad F(z)``;
    * ``lipschitz() -> float``: an estimate of the Lipschitz constant ``L`` of
      ``grad f`` (the solver's backtracking corrects an underestimate);
    * ``init_coef() -> (W0, b0)``: the starting point, ``W = 0`` with the
      optimal intercepts for ``W = 0``;
    * ``mean_loss(W, b) -> float``: the loss per unit of observation weight
      (the held-out score of cross-validation; not used by :func:`fista`);
    * ``hessian_diag_z(z) -> H``: the diagonal of the Hessian of ``F`` at
      ``z`` (same shape as ``z``; the weights of the proximal Newton steps,
      :func:`~skmtl.linear._prox_newton.prox_newton`).

    Methods with a default in the base:

    * ``value(W, b) = value_z(forward(W, b))``;
    * ``value_grad(W, b) -> (f, G, g)``: value and both gradients;
    * ``null_value() = value(*init_coef())``: ``f`` at ``W = 0`` with optimal
      intercepts, the scale of the relative duality gap;
    * ``model_intercept(W, b) = b``: the model's intercepts at the solver's
      point; a datafit that profiles them out returns the optimal ones for ``W``;
    * ``same_predictions(W) = W``: a ``W'`` with the same predictions and no
      larger row norms (the multinomial loss centres each row's class columns);
      proximal Newton moves there after each step when the penalty does not grow;
    * ``duality_gap(W, b, penalty) -> None or (gap, primal, b_opt)``: ``None``
      (no cheap dual, the solver stops on the KKT residual). A datafit with a
      cheap dual returns the gap of ``f + penalty`` at ``W``, the primal value,
      and ``b_opt``, the optimal intercepts for ``W`` (the solver returns them
      when ``fits_intercept``). It relies on ``penalty.dual_norm_ratio``, and
      returns ``None`` when that is ``None``.

    Attributes
    ----------
    fits_intercept : bool, default=False
        Whether the model has intercepts, fitted as solver variables or
        profiled out (:class:`~skmtl.linear._datafits.SquaredLossGram`).
    intercept_is_variable : bool, default=False
        Whether the solver updates ``b``: ``forward`` uses it and ``adjoint``
        returns its gradient ``g``. False when there are no intercepts or
        when they are profiled out.
    design : object
        Set by subclasses: ``n_features``, ``n_columns`` and ``col_ptr`` (the
        columns of ``W`` owned by each task; read by the estimators).
    """

    fits_intercept = False
    intercept_is_variable = False

    def forward(self, W, b):
        """Predictions ``A(W, b)`` (affine)."""
        raise NotImplementedError

    def adjoint(self, R):
        """``(G, g) = A^* R``: gradients w.r.t. ``W`` and ``b``."""
        raise NotImplementedError

    def value_z(self, z):
        """``F(z)``."""
        raise NotImplementedError

    def value_grad_z(self, z):
        """``(F(z), grad F(z))``."""
        raise NotImplementedError

    def lipschitz(self):
        """Lipschitz constant of ``grad f`` (an estimate)."""
        raise NotImplementedError

    def init_coef(self):
        """``(W0, b0)``: zero coefficients, optimal intercepts for them."""
        raise NotImplementedError

    def mean_loss(self, W, b):
        """Loss per unit of observation weight (cross-validation score)."""
        raise NotImplementedError

    def hessian_diag_z(self, z):
        """Diagonal of the Hessian of ``F`` at ``z``."""
        raise NotImplementedError

    def value(self, W, b):
        """``f(W, b)``."""
        return self.value_z(self.forward(W, b))

    def value_grad(self, W, b):
        """``(f, G, g)``: value and gradients w.r.t. ``W`` and ``b``."""
        f, R = self.value_grad_z(self.forward(W, b))
        G, g = self.adjoint(R)
        return f, G, g

    def null_value(self):
        """``f`` at ``W = 0`` with optimal intercepts (scale of the relative gap)."""
        W, b = self.init_coef()
        return self.value(W, b)

    def model_intercept(self, W, b):
        """The model's intercepts at ``(W, b)``: ``b`` by default."""
        return b

    def same_predictions(self, W):
        """A ``W'`` with the predictions of ``W`` and no larger row norms: ``W`` by default.

        Over-parametrized losses (the multinomial: adding ``c`` to every class
        column of a row changes no probability) return the representative that
        the row-norm penalties prefer; proximal Newton moves there after each step.
        """
        return W

    def duality_gap(self, W, b, penalty):
        """``(gap, primal, b_opt)`` where the dual is cheap; ``None`` by default."""
        return None


class Penalty:
    r"""Base of the prox-friendly parts ``g(W)`` of the FISTA engine.

    Methods without a default (the base raises ``NotImplementedError``; a
    solver declares which of them it calls, e.g. ``FISTA_PENALTY_REQUIRED``):

    * ``value(W) -> float``: ``g(W)``;
    * ``prox(W, step) -> U``: ``argmin_U 1/2 ||U - W||_F^2 + step g(U)``;
    * ``alpha_max(G0) -> float, tuple or None``: the smallest strength for
      which ``W = 0`` is optimal, ``G0`` being the datafit gradient at the
      unpenalized model (for a norm ``alpha N(W)``: the dual norm ``N*(G0)``);
      ``None`` when no finite strength zeroes ``W`` (ridge, quadratics). Used
      by the cross-validation grids, not by :func:`fista`.

    Capabilities with a default in the base:

    * ``dual_norm_ratio(G) -> float or None``: ``N*(G) / alpha``, the factor
      that rescales a residual into the dual ball (duality gaps). Default
      ``None``: no duality gap, the solver stops on the KKT residual;
    * ``combine(W) -> W``: the coefficients the datafit sees. Default the
      identity; :class:`~skmtl.linear.SplitPenalty` sums its stacked parts,
      ``combine([P, Q]) = P + Q``.

    Attributes
    ----------
    is_convex : bool, default=True
        Class attribute. A non-convex penalty (``False``) gets no duality gap
        (the solver stops on the KKT residual, a stationary point).
    n_unpenalized : int, default=0
        Number of rows of ``W`` the penalty leaves free (penalty factor 0);
        the cross-validation grid then starts from the model of those rows.
    """

    is_convex = True
    n_unpenalized = 0

    def value(self, W):
        """``g(W)``."""
        raise NotImplementedError

    def prox(self, W, step):
        """Proximal operator of ``step * g`` at ``W``."""
        raise NotImplementedError

    def alpha_max(self, G0):
        """Smallest strength for which ``W = 0`` is optimal (None: no such strength)."""
        raise NotImplementedError

    def dual_norm_ratio(self, G):
        """``N*(G) / alpha`` for a norm; ``None`` by default (no duality gap)."""
        return None

    def combine(self, W):
        """Coefficients seen by the datafit; the identity by default."""
        return W


def _missing(part, base, required):
    """Names of ``required`` that ``type(part)`` leaves as the ``base`` raises-only function."""
    cls = type(part)
    return [name for name in required if getattr(cls, name) is getattr(base, name)]


def check_parts(solver_name, datafit, penalty, datafit_required=(), penalty_required=()):
    """Check that the parts handed to a solver fulfil its declared contract.

    Parameters
    ----------
    solver_name : str
        Name of the solver, for the error messages.
    datafit : Datafit or None
        None skips the datafit.
    penalty : Penalty or None
        None skips the penalty.
    datafit_required, penalty_required : tuple of str
        Methods of :class:`Datafit` / :class:`Penalty` the solver calls and
        that have no default in the base.

    Raises
    ------
    TypeError
        When a part is not a :class:`Datafit` / :class:`Penalty`, or leaves a
        required method as the base's (not overridden). The message names the
        solver, the part's class and the missing methods.
    """
    for kind, part, base, required in (("datafit", datafit, Datafit, datafit_required),
                                       ("penalty", penalty, Penalty, penalty_required)):
        if part is None:
            continue
        unknown = [name for name in required if name not in vars(base)]
        if unknown:
            raise ValueError(f"{solver_name}: {unknown} are not methods of the {base.__name__} contract.")
        if not isinstance(part, base):
            raise TypeError(
                f"{solver_name}: the {kind} must be an instance of a subclass of "
                f"skmtl.linear.{base.__name__}; got {type(part).__name__}.")
        missing = _missing(part, base, required)
        if missing:
            raise TypeError(
                f"{solver_name}: {kind} {type(part).__name__} does not implement "
                f"{', '.join(missing)} (required by {solver_name}; see skmtl.linear.{base.__name__}).")
