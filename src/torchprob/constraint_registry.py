r"""Registries from constraints to transforms: :data:`biject_to` and :data:`transform_to`.

Both take a :class:`~torchprob.constraints.Constraint` and return a
:class:`~torchprob.transforms.Transform` from unconstrained reals onto it:

* ``biject_to(constraint)`` is bijective (``.bijective`` is true and
  ``log_abs_det_jacobian`` is implemented): for HMC and other samplers that move in the
  unconstrained space;
* ``transform_to(constraint)`` need not be bijective and may overparameterize (e.g. a softmax
  onto the simplex): for unconstrained optimization of constrained parameters::

      unconstrained = torch.zeros(100, requires_grad=True)
      scale = transform_to(Normal.arg_constraints["scale"])(unconstrained)

Extend them with ``register``, on a constraint object or class, directly or as a decorator::

    transform_to.register(my_constraint, my_transform_factory)

    @biject_to.register(MyConstraintClass)
    def my_factory(constraint):
        return MyTransform(constraint.param)

Lookup walks the constraint's class hierarchy, so a subclass of a registered constraint class
is served by its parent's factory unless it has its own. Constraint objects from
``torch.distributions.constraints`` are served by the factory of the torchprob class with the
same name.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Number
from typing import Any

from . import constraints, transforms
from .transforms import Transform

__all__ = ["ConstraintRegistry", "biject_to", "transform_to"]

Factory = Callable[[Any], Transform]


class ConstraintRegistry:
    """A map from constraint classes to factories ``constraint -> Transform``."""

    def __init__(self) -> None:
        self._registry: dict[type, Factory] = {}
        self._resolved: dict[type, Factory] = {}
        super().__init__()

    def register(self, constraint: Any, factory: Factory | None = None) -> Any:
        """Register ``factory`` for a :class:`~torchprob.constraints.Constraint` subclass (or
        the class of a constraint object); without ``factory``, return a decorator.

        Args:
            constraint: a ``Constraint`` subclass, or an instance standing for its class.
            factory: a callable taking a constraint object and returning a ``Transform``.
        """
        if factory is None:
            return lambda factory: self.register(constraint, factory)
        if isinstance(constraint, constraints.Constraint):
            constraint = type(constraint)
        if not isinstance(constraint, type) or not issubclass(constraint, constraints.Constraint):
            raise TypeError(
                "Expected constraint to be either a Constraint subclass or instance, but got "
                f"{constraint!r}"
            )
        self._registry[constraint] = factory
        self._resolved.clear()
        return factory

    def _factory(self, cls: type) -> Factory:
        factory = self._resolved.get(cls)
        if factory is not None:
            return factory
        for base in cls.__mro__:
            factory = self._registry.get(base)
            if factory is not None:
                break
        else:
            ours = _torchprob_twin(cls)
            if ours is None or ours not in self._registry:
                raise NotImplementedError(f"Cannot transform {cls.__name__} constraints")
            factory = self._registry[ours]
        self._resolved[cls] = factory
        return factory

    def __call__(self, constraint: Any) -> Transform:
        """The transform from unconstrained reals onto ``constraint``.

        Raises:
            NotImplementedError: when no factory is registered for the constraint's class.
        """
        return self._factory(type(constraint))(constraint)


def _torchprob_twin(cls: type) -> type | None:
    """The torchprob constraint class named like a ``torch.distributions`` one, if any."""
    if cls.__module__ != "torch.distributions.constraints":
        return None
    twin = getattr(constraints, cls.__name__, None)
    return twin if isinstance(twin, type) else None


biject_to = ConstraintRegistry()
transform_to = ConstraintRegistry()


# ----------------------------------------------------------------------------------------------
# Registrations
# ----------------------------------------------------------------------------------------------


@biject_to.register(constraints.real)
@transform_to.register(constraints.real)
def _transform_to_real(constraint: Any) -> Transform:
    return transforms.identity_transform


@biject_to.register(constraints.independent)
def _biject_to_independent(constraint: Any) -> Transform:
    base = biject_to(constraint.base_constraint)
    return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


@transform_to.register(constraints.independent)
def _transform_to_independent(constraint: Any) -> Transform:
    base = transform_to(constraint.base_constraint)
    return transforms.IndependentTransform(base, constraint.reinterpreted_batch_ndims)


@biject_to.register(constraints.greater_than)
@biject_to.register(constraints.greater_than_eq)
@transform_to.register(constraints.greater_than)
@transform_to.register(constraints.greater_than_eq)
def _transform_to_greater_than(constraint: Any) -> Transform:
    """``lower_bound + exp(x)``; just ``exp`` for ``positive`` and ``nonnegative`` (instances of
    these classes with bound 0)."""
    low = constraint.lower_bound
    if isinstance(low, Number) and low == 0:
        return transforms.ExpTransform()
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.lower_bound, 1)]
    )


@biject_to.register(constraints.less_than)
@transform_to.register(constraints.less_than)
def _transform_to_less_than(constraint: Any) -> Transform:
    return transforms.ComposeTransform(
        [transforms.ExpTransform(), transforms.AffineTransform(constraint.upper_bound, -1)]
    )


@biject_to.register(constraints.interval)
@biject_to.register(constraints.half_open_interval)
@transform_to.register(constraints.interval)
@transform_to.register(constraints.half_open_interval)
def _transform_to_interval(constraint: Any) -> Transform:
    low, high = constraint.lower_bound, constraint.upper_bound
    if isinstance(low, Number) and isinstance(high, Number) and low == 0 and high == 1:
        return transforms.SigmoidTransform()
    return transforms.ComposeTransform(
        [transforms.SigmoidTransform(), transforms.AffineTransform(low, high - low)]
    )


@biject_to.register(constraints.simplex)
def _biject_to_simplex(constraint: Any) -> Transform:
    return transforms.StickBreakingTransform()


@transform_to.register(constraints.simplex)
def _transform_to_simplex(constraint: Any) -> Transform:
    return transforms.SoftmaxTransform()


@transform_to.register(constraints.lower_cholesky)
def _transform_to_lower_cholesky(constraint: Any) -> Transform:
    return transforms.LowerCholeskyTransform()


@transform_to.register(constraints.positive_definite)
@transform_to.register(constraints.positive_semidefinite)
def _transform_to_positive_definite(constraint: Any) -> Transform:
    return transforms.PositiveDefiniteTransform()


@biject_to.register(constraints.corr_cholesky)
@transform_to.register(constraints.corr_cholesky)
def _transform_to_corr_cholesky(constraint: Any) -> Transform:
    return transforms.CorrCholeskyTransform()


@biject_to.register(constraints.cat)
def _biject_to_cat(constraint: Any) -> Transform:
    parts = [biject_to(c) for c in constraint.cseq]
    return transforms.CatTransform(parts, constraint.dim, constraint.lengths)


@transform_to.register(constraints.cat)
def _transform_to_cat(constraint: Any) -> Transform:
    parts = [transform_to(c) for c in constraint.cseq]
    return transforms.CatTransform(parts, constraint.dim, constraint.lengths)


@biject_to.register(constraints.stack)
def _biject_to_stack(constraint: Any) -> Transform:
    return transforms.StackTransform([biject_to(c) for c in constraint.cseq], constraint.dim)


@transform_to.register(constraints.stack)
def _transform_to_stack(constraint: Any) -> Transform:
    return transforms.StackTransform([transform_to(c) for c in constraint.cseq], constraint.dim)
