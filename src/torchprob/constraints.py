"""Constraint objects: the sets a parameter or a sample must lie in.

A constraint answers one question, ``check(value)``: which events of ``value`` lie in the set. The
answer is a boolean tensor with one entry per event, i.e. of shape
``value.shape[:value.dim() - event_dim]``.

The public names and the private class names match :mod:`torch.distributions.constraints`, so that
``isinstance`` tests and registries keyed on constraint types keep working. Checks use only
elementwise ops and standard reductions; none of them synchronizes with the host or turns a tensor
into a Python bool, so they work on any device, under ``torch.compile`` and on DTensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "Constraint",
    "boolean",
    "cat",
    "corr_cholesky",
    "dependent",
    "dependent_property",
    "greater_than",
    "greater_than_eq",
    "independent",
    "integer_interval",
    "interval",
    "half_open_interval",
    "is_dependent",
    "less_than",
    "lower_cholesky",
    "lower_triangular",
    "MixtureSameFamilyConstraint",
    "multinomial",
    "nonnegative",
    "nonnegative_integer",
    "one_hot",
    "positive",
    "positive_semidefinite",
    "positive_definite",
    "positive_integer",
    "real",
    "real_vector",
    "simplex",
    "square",
    "stack",
    "symmetric",
    "unit_interval",
]

Bound = float | int | Tensor

# Absolute tolerance on |sum - 1| for the simplex, and on |A - A^T| for symmetric matrices.
_SIMPLEX_ATOL = 1e-6
_SYMMETRIC_ATOL = 1e-6
# corr_cholesky accepts row norms within eps * n * _CORR_FUDGE of one.
_CORR_FUDGE = 10


def _fmt(x: Any) -> str:
    """Short text for a bound in a repr: numbers as they are, tiny tensors by value."""
    if not isinstance(x, Tensor):
        return str(x)
    if x.dim() <= 1 and x.numel() <= 4 and x.device.type != "meta":
        try:
            values = x.detach().cpu().reshape(-1).tolist()
        except Exception:  # fake or distributed tensors with no readable data
            values = None
        if values is not None:
            text = ", ".join(_fmt_number(v) for v in values)
            return f"tensor({text})" if x.dim() == 0 else f"tensor([{text}])"
    return f"tensor(shape={list(x.shape)})"


def _fmt_number(v: float | int | bool) -> str:
    if not isinstance(v, float):
        return str(v)
    text = f"{v:.6g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


def _as_number(bound: Any) -> Any:
    """``bound`` as a Python number, or ``None`` where it is not a single CPU value."""
    if not isinstance(bound, Tensor):
        return bound
    if bound.is_cpu and bound.numel() == 1 and not torch.compiler.is_compiling():
        return bound.item()
    return None


def _name(obj: object) -> str:
    return type(obj).__name__.lstrip("_")


class Constraint:
    """Base class of all constraints: a region in which a variable is valid.

    Attributes:
        is_discrete: whether the region is a discrete set (default ``False``).
        event_dim: how many rightmost dimensions of a value form one event; :meth:`check`
            reduces over them (default ``0``).
    """

    is_discrete: bool = False
    event_dim: int = 0
    #: The same test as :meth:`check` on one Python number, or ``None`` where there is none.
    #: Validation uses it on single-element CPU tensors, where it is ten times cheaper than a
    #: tensor op; scalar constraints with number bounds define it.
    check_number: Callable[[Any], bool] | None = None
    #: For event constraints: ``True`` when a small CPU tensor surely satisfies the constraint,
    #: decided from its entries as Python numbers; ``False`` sends validation to :meth:`check`
    #: (which also decides every case near a tolerance edge).
    check_small: Callable[[Tensor], bool] | None = None
    _lower_bound: Any  # number forms of the bounds, set by _number_bounds
    _upper_bound: Any

    def _number_bounds(self) -> None:
        """Read ``lower_bound``/``upper_bound`` as Python numbers for :attr:`check_number`;
        a bound with more than one element (or off the CPU) disables it."""
        for name in ("lower_bound", "upper_bound"):
            bound = getattr(self, name, None)
            if bound is None:
                continue
            number = _as_number(bound)
            if number is None:
                self.check_number = None
                return
            setattr(self, "_" + name, number)

    def check(self, value: Tensor) -> Tensor:
        """Return a bool tensor of shape ``value.shape[:value.dim() - event_dim]`` that is
        ``True`` where the event satisfies the constraint."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return _name(self) + "()"


# ----------------------------------------------------------------------------------------------
# Dependent constraints
# ----------------------------------------------------------------------------------------------


class _Dependent(Constraint):
    """Placeholder for a variable whose valid region depends on other variables.

    ``is_discrete`` and ``event_dim`` are known only when given; reading one that was not given
    raises ``NotImplementedError``. Calling the object with keywords returns a copy with those
    attributes set: ``dependent(is_discrete=True, event_dim=1)``.
    """

    def __init__(self, *, is_discrete: Any = NotImplemented, event_dim: Any = NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(
        self, *, is_discrete: Any = NotImplemented, event_dim: Any = NotImplemented
    ) -> _Dependent:
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x: Tensor) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint")

    def __repr__(self) -> str:
        known = []
        if self._is_discrete is not NotImplemented:
            known.append(f"is_discrete={self._is_discrete}")
        if self._event_dim is not NotImplemented:
            known.append(f"event_dim={self._event_dim}")
        return f"{_name(self)}({', '.join(known)})"


def is_dependent(constraint: Any) -> bool:
    """Whether ``constraint`` is a dependent placeholder (``dependent`` or a
    ``dependent_property``), i.e. one that cannot be checked on its own."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A ``property`` that, read on the class, is a dependent constraint.

    Read on an instance it computes the actual constraint; read on the class it is a
    :class:`_Dependent` placeholder, so that code inspecting ``Dist.support`` without an
    instance still sees a constraint. Usable bare or with static attributes::

        @constraints.dependent_property
        def support(self): ...

        @constraints.dependent_property(is_discrete=False, event_dim=0)
        def support(self):
            return constraints.interval(self.low, self.high)
    """

    def __init__(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        is_discrete: Any = NotImplemented,
        event_dim: Any = NotImplemented,
    ) -> None:
        property.__init__(self, fn)
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    def __call__(self, fn: Callable[..., Any]) -> _DependentProperty:  # type: ignore[override]
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


# ----------------------------------------------------------------------------------------------
# Wrappers
# ----------------------------------------------------------------------------------------------


class _IndependentConstraint(Constraint):
    """Treat the ``reinterpreted_batch_ndims`` rightmost batch dimensions of a base constraint as
    event dimensions: an event is valid when every entry in it is valid."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        if not isinstance(base_constraint, Constraint):
            raise TypeError(
                f"base_constraint must be a Constraint, got {type(base_constraint).__name__}"
            )
        if not isinstance(reinterpreted_batch_ndims, int) or reinterpreted_batch_ndims < 0:
            raise ValueError(
                "reinterpreted_batch_ndims must be a non-negative int, got "
                f"{reinterpreted_batch_ndims!r}"
            )
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    @property
    def check_number(self) -> Callable[[Any], bool] | None:  # type: ignore[override]
        """The base's test: a one-element value is one event of one valid entry."""
        return self.base_constraint.check_number

    def check(self, value: Tensor) -> Tensor:
        ok = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        if n == 0:
            return ok
        if ok.dim() < n:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.dim()}")
        return ok.all(-1) if n == 1 else ok.all(dim=tuple(range(-n, 0)))

    def __repr__(self) -> str:
        return f"{_name(self)}({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class MixtureSameFamilyConstraint(Constraint):
    """Support of a ``MixtureSameFamily``: a value is valid when the component constraint holds
    for it in every component (the component dimension is inserted before the event and
    reduced away)."""

    def __init__(self, base_constraint: Constraint) -> None:
        if not isinstance(base_constraint, Constraint):
            raise TypeError(
                f"base_constraint must be a Constraint, got {type(base_constraint).__name__}"
            )
        self.base_constraint = base_constraint

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim

    @property
    def check_number(self) -> Callable[[Any], bool] | None:  # type: ignore[override]
        """The base's test: a one-element value is valid for every component alike."""
        return self.base_constraint.check_number

    def check(self, value: Tensor) -> Tensor:
        event_dim = self.base_constraint.event_dim
        if value.dim() < event_dim:
            raise ValueError(f"Expected value.dim() >= {event_dim} but got {value.dim()}")
        ok = self.base_constraint.check(value.unsqueeze(-1 - event_dim))
        keep = value.dim() - event_dim
        if ok.dim() > keep + 1:
            ok = ok.flatten(keep)
        return ok.all(-1)

    def __repr__(self) -> str:
        return f"{_name(self)}({self.base_constraint!r})"


# ----------------------------------------------------------------------------------------------
# Discrete constraints
# ----------------------------------------------------------------------------------------------


class _Boolean(Constraint):
    """The two values ``{0, 1}``."""

    is_discrete = True

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return v == 0 or v == 1

    def check(self, value: Tensor) -> Tensor:
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    """Vectors with a single one and zeros elsewhere."""

    is_discrete = True
    event_dim = 1

    def check(self, value: Tensor) -> Tensor:
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _IntegerInterval(Constraint):
    """Integers in the closed interval ``[lower_bound, upper_bound]``."""

    is_discrete = True

    def __init__(self, lower_bound: Bound, upper_bound: Bound) -> None:
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self._number_bounds()

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return v % 1 == 0 and self._lower_bound <= v <= self._upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return (
            f"{_name(self)}(lower_bound={_fmt(self.lower_bound)}, "
            f"upper_bound={_fmt(self.upper_bound)})"
        )


class _IntegerLessThan(Constraint):
    """Integers ``<= upper_bound``."""

    is_discrete = True

    def __init__(self, upper_bound: Bound) -> None:
        self.upper_bound = upper_bound
        self._number_bounds()

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return v % 1 == 0 and v <= self._upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return f"{_name(self)}(upper_bound={_fmt(self.upper_bound)})"


class _IntegerGreaterThan(Constraint):
    """Integers ``>= lower_bound``."""

    is_discrete = True

    def __init__(self, lower_bound: Bound) -> None:
        self.lower_bound = lower_bound
        self._number_bounds()

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return v % 1 == 0 and v >= self._lower_bound

    def check(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & (value >= self.lower_bound)

    def __repr__(self) -> str:
        return f"{_name(self)}(lower_bound={_fmt(self.lower_bound)})"


class _Multinomial(Constraint):
    """Count vectors: nonnegative entries whose sum is at most ``upper_bound``.

    Like torch, only ``sum <= upper_bound`` is checked (not equality) and integrality is not.
    """

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Bound) -> None:
        self.upper_bound = upper_bound

    def check(self, x: Tensor) -> Tensor:
        return (x >= 0).all(-1) & (x.sum(-1) <= self.upper_bound)

    def __repr__(self) -> str:
        return f"{_name(self)}(upper_bound={_fmt(self.upper_bound)})"


# ----------------------------------------------------------------------------------------------
# Real-valued scalar constraints
# ----------------------------------------------------------------------------------------------


class _Real(Constraint):
    """The extended real line ``[-inf, inf]``: everything except NaN."""

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return v == v

    def check(self, value: Tensor) -> Tensor:
        return value == value  # NaN is the only value unequal to itself


class _GreaterThan(Constraint):
    """The open half line ``(lower_bound, inf]``."""

    def __init__(self, lower_bound: Bound) -> None:
        self.lower_bound = lower_bound
        self._number_bounds()

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return v > self._lower_bound

    def check(self, value: Tensor) -> Tensor:
        return value > self.lower_bound

    def __repr__(self) -> str:
        return f"{_name(self)}(lower_bound={_fmt(self.lower_bound)})"


class _GreaterThanEq(Constraint):
    """The closed half line ``[lower_bound, inf]``."""

    def __init__(self, lower_bound: Bound) -> None:
        self.lower_bound = lower_bound
        self._number_bounds()

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return v >= self._lower_bound

    def check(self, value: Tensor) -> Tensor:
        return value >= self.lower_bound

    def __repr__(self) -> str:
        return f"{_name(self)}(lower_bound={_fmt(self.lower_bound)})"


class _LessThan(Constraint):
    """The open half line ``[-inf, upper_bound)``."""

    def __init__(self, upper_bound: Bound) -> None:
        self.upper_bound = upper_bound
        self._number_bounds()

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return v < self._upper_bound

    def check(self, value: Tensor) -> Tensor:
        return value < self.upper_bound

    def __repr__(self) -> str:
        return f"{_name(self)}(upper_bound={_fmt(self.upper_bound)})"


class _Interval(Constraint):
    """The closed interval ``[lower_bound, upper_bound]``."""

    def __init__(self, lower_bound: Bound, upper_bound: Bound) -> None:
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self._number_bounds()

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return self._lower_bound <= v <= self._upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return (
            f"{_name(self)}(lower_bound={_fmt(self.lower_bound)}, "
            f"upper_bound={_fmt(self.upper_bound)})"
        )


class _HalfOpenInterval(Constraint):
    """The half-open interval ``[lower_bound, upper_bound)``."""

    def __init__(self, lower_bound: Bound, upper_bound: Bound) -> None:
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound
        self._number_bounds()

    def check_number(self, v: Any) -> bool:  # type: ignore[override]
        return self._lower_bound <= v < self._upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value >= self.lower_bound) & (value < self.upper_bound)

    def __repr__(self) -> str:
        return (
            f"{_name(self)}(lower_bound={_fmt(self.lower_bound)}, "
            f"upper_bound={_fmt(self.upper_bound)})"
        )


# ----------------------------------------------------------------------------------------------
# Vector and matrix constraints
# ----------------------------------------------------------------------------------------------


class _Simplex(Constraint):
    """Probability vectors along the last dimension: entries ``>= 0`` summing to one
    (within an absolute tolerance of 1e-6, as in torch)."""

    event_dim = 1

    def check_small(self, value: Tensor) -> bool:  # type: ignore[override]
        """Every row non-negative and summing to one, well inside the tolerance (a row within a
        factor two of the edge is left to :meth:`check`, whose rounding decides it)."""
        if value.dim() == 0:
            return False
        for row in value.reshape(-1, value.shape[-1]).tolist():
            if not all(v >= 0 for v in row) or not abs(math.fsum(row) - 1) < _SIMPLEX_ATOL / 2:
                return False
        return True

    def check(self, value: Tensor) -> Tensor:
        # a negative (or NaN) entry makes the sum NaN, which fails the comparison: one test
        total = torch.where(value >= 0, value, math.nan).sum(-1)
        return (
            torch.sub(total, 1).abs_() < _SIMPLEX_ATOL
        )  # (not in place: a DTensor sum may be pending)


def _is_lower_triangular(value: Tensor) -> Tensor:
    return (value.tril() == value).all(dim=(-2, -1))


class _LowerTriangular(Constraint):
    """Lower-triangular matrices."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        return _is_lower_triangular(value)


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal (Cholesky factors)."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        diag_ok = (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)
        return _is_lower_triangular(value) & diag_ok


class _CorrCholesky(Constraint):
    """Cholesky factors of correlation matrices: lower Cholesky with rows of unit Euclidean
    norm (within ``eps * n * 10``, as in torch)."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        tol = torch.finfo(value.dtype).eps * value.size(-1) * _CORR_FUDGE
        row_norm = torch.linalg.vector_norm(value.detach(), dim=-1)
        unit_rows = ((row_norm - 1).abs() <= tol).all(-1)
        diag_ok = (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)
        return _is_lower_triangular(value) & diag_ok & unit_rows


def _not_square(value: Tensor) -> Tensor:
    return value.new_zeros(value.shape[:-2], dtype=torch.bool)


class _Square(Constraint):
    """Square matrices (a property of the shape alone)."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        is_square = value.shape[-2] == value.shape[-1]
        return value.new_full(value.shape[:-2], is_square, dtype=torch.bool)


# Matrices of a batch are checked for symmetry in blocks of at most this many entries, so that
# the intermediates stay in cache instead of costing a pass over memory (and fresh pages) each;
# below torch's parallel grain size (32768), so that no block waits on a thread pool barrier.
_SYMMETRIC_BLOCK = 30000


def _is_symmetric(value: Tensor) -> Tensor:
    if not value.is_floating_point():
        return torch.isclose(value, value.mT, atol=_SYMMETRIC_ATOL).all(dim=(-2, -1))
    if value.requires_grad:
        value = value.detach()
    n = value.numel()
    if n > 2 * _SYMMETRIC_BLOCK and value.dim() > 2 and type(value) is Tensor and value.is_cpu:
        per = max(1, _SYMMETRIC_BLOCK * value.shape[0] // n)
        if per < value.shape[0] and not torch.compiler.is_compiling():
            return torch.cat([_is_symmetric_block(v) for v in value.split(per)])
    return _is_symmetric_block(value)


def _is_symmetric_block(value: Tensor) -> Tensor:
    """``isclose(value, value^T, rtol=1e-5, atol=1e-6)`` for every entry, as torch computes it
    (the same roundings), in fewer passes: ``|a - b| <= atol + |rtol b|`` with the allowance
    clamped to the largest finite number stands for torch's extra ``isfinite(|a - b|)``."""
    other = value.mT
    error = (value - other).abs_()
    allowed = torch.mul(other, 1e-5).abs_().add_(_SYMMETRIC_ATOL)
    allowed.clamp_(max=torch.finfo(allowed.dtype).max)
    return ((error <= allowed) | (value == other)).all(dim=(-2, -1))


class _Symmetric(_Square):
    """Symmetric matrices: ``isclose(A, A^T, atol=1e-6)`` entrywise, as in torch."""

    def check(self, value: Tensor) -> Tensor:
        if value.shape[-2] != value.shape[-1]:
            return _not_square(value)
        return _is_symmetric(value)


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices with all eigenvalues ``>= 0``."""

    def check(self, value: Tensor) -> Tensor:
        if value.shape[-2] != value.shape[-1]:
            return _not_square(value)
        sym = _is_symmetric(value)
        # Hand eigvalsh only symmetric (hence NaN-free) matrices; some backends raise on NaN.
        safe = torch.where(sym[..., None, None], value, 0)
        return sym & (torch.linalg.eigvalsh(safe) >= 0).all(-1)


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices with a Cholesky factorization (all eigenvalues ``> 0``)."""

    def check(self, value: Tensor) -> Tensor:
        if value.shape[-2] != value.shape[-1]:
            return _not_square(value)
        return _is_symmetric(value) & (torch.linalg.cholesky_ex(value).info == 0)


# ----------------------------------------------------------------------------------------------
# Functors over pieces of a tensor
# ----------------------------------------------------------------------------------------------


def _check_constraints(cseq: Sequence[Constraint]) -> list[Constraint]:
    cseq = list(cseq)
    if not all(isinstance(c, Constraint) for c in cseq):
        raise TypeError("every element of cseq must be a Constraint")
    return cseq


def _check_dim(dim: int, value: Tensor) -> None:
    if not -value.dim() <= dim < value.dim():
        raise ValueError(f"dim {dim} out of range for a value with {value.dim()} dimensions")


class _Cat(Constraint):
    """Apply ``cseq[i]`` to the ``i``-th block of ``lengths[i]`` entries along ``dim``, the
    blocks laid out as :func:`torch.cat` would join them."""

    def __init__(
        self, cseq: Sequence[Constraint], dim: int = 0, lengths: Sequence[int] | None = None
    ) -> None:
        self.cseq = _check_constraints(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(
                f"lengths has {len(self.lengths)} entries but cseq has {len(self.cseq)}"
            )
        self.dim = dim

    @property
    def _cseq(self) -> list[Constraint]:
        return self.cseq

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(c.event_dim for c in self.cseq)

    def check(self, value: Tensor) -> Tensor:
        _check_dim(self.dim, value)
        pieces = value.split(self.lengths, self.dim)
        return torch.cat([c.check(v) for c, v in zip(self.cseq, pieces)], self.dim)

    def __repr__(self) -> str:
        return f"{_name(self)}({self.cseq!r}, dim={self.dim}, lengths={self.lengths})"


class _Stack(Constraint):
    """Apply ``cseq[i]`` to the ``i``-th slice along ``dim``, the slices laid out as
    :func:`torch.stack` would join them."""

    def __init__(self, cseq: Sequence[Constraint], dim: int = 0) -> None:
        self.cseq = _check_constraints(cseq)
        self.dim = dim

    @property
    def _cseq(self) -> list[Constraint]:
        return self.cseq

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value: Tensor) -> Tensor:
        _check_dim(self.dim, value)
        # select() rather than unbind(): DTensor can select along a sharded dim, not unbind.
        n = value.size(self.dim)
        checks = [c.check(value.select(self.dim, i)) for i, c in zip(range(n), self.cseq)]
        return torch.stack(checks, self.dim)

    def __repr__(self) -> str:
        return f"{_name(self)}({self.cseq!r}, dim={self.dim})"


# ----------------------------------------------------------------------------------------------
# Public objects
# ----------------------------------------------------------------------------------------------

dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = _IndependentConstraint(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
