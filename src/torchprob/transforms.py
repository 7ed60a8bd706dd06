r"""Invertible transforms with computable log-det-Jacobians (the names of
``torch.distributions.transforms``).

A :class:`Transform` maps ``x`` in its :attr:`~Transform.domain` to ``y`` in its
:attr:`~Transform.codomain`; bijective ones also give :meth:`~Transform.log_abs_det_jacobian`,
:math:`\log|\det \partial y / \partial x|`, summed over the transform's event dimensions.
They are the building blocks of ``TransformedDistribution`` and of the
:mod:`~torchprob.constraint_registry`.

Numerics: log-det-Jacobians are computed from ``x`` in log space (softplus/logsigmoid forms), so
that they stay finite and accurate where ``y`` has rounded to a boundary (``tanh(100)`` is ``1``
in float32); inverses clamp only where the exact inverse would be infinite (``atanh(1)``,
``logit(0)``), to the nearest float inside (the smallest normal one near zero).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, overload

import torch
import torch.nn.functional as F
from torch import Tensor

from . import constraints
from .utils import broadcast_all, constant_like, tril_matrix_to_vec

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftplusTransform",
    "TanhTransform",
    "SoftmaxTransform",
    "StackTransform",
    "StickBreakingTransform",
    "Transform",
    "identity_transform",
]

_LOG4 = math.log(4.0)
_SOFTPLUS_EXACT = 40.0  # softplus threshold beyond which log1p(exp(x)) == x in float64
_is_compiling = torch.compiler.is_compiling
R = TypeVar("R")


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum out the ``dim`` rightmost dimensions of ``value``."""
    if dim <= 0:
        return value
    return value.sum(-1) if dim == 1 else value.sum(tuple(range(-dim, 0)))


# Small caches in plain dicts (torch.compile traces a dict lookup; it warns on lru_cache).
_REAL_EVENT: dict[int, constraints.Constraint] = {0: constraints.real}
_BOUNDS: dict[torch.dtype, tuple[float, float]] = {}


def _real_event(event_dim: int) -> constraints.Constraint:
    """``real`` with ``event_dim`` event dimensions, built once per ``event_dim``."""
    c = _REAL_EVENT.get(event_dim)
    if c is None:
        c = _REAL_EVENT[event_dim] = constraints.independent(constraints.real, event_dim)
    return c


def _bounds(dtype: torch.dtype) -> tuple[float, float]:
    """``(tiny, largest float below one)`` of a floating ``dtype``."""
    b = _BOUNDS.get(dtype)
    if b is None:
        info = torch.finfo(dtype)
        b = _BOUNDS[dtype] = (info.tiny, 1.0 - info.eps / 2)
    return b


class _cached(Generic[R]):
    """A property computed once per instance and then kept in its ``__dict__`` (unlike
    ``functools.cached_property``, it takes no lock, so ``torch.compile`` traces it)."""

    def __init__(self, fn: Callable[[Any], R]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    @overload
    def __get__(self, obj: None, cls: Any = None) -> _cached[R]: ...

    @overload
    def __get__(self, obj: object, cls: Any = None) -> R: ...

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


def _shape_of(p: Any) -> tuple[int, ...]:
    return p.shape if isinstance(p, Tensor) else ()


def _same(a: Any, b: Any) -> bool:
    """Equality of two parameters (numbers or tensors) without raising on shape mismatch."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        a, b = torch.as_tensor(a), torch.as_tensor(b)
        try:
            return bool((a == b).all())
        except RuntimeError:
            return False
    return a == b


class Transform:
    r"""Base class of invertible maps with computable log-det-Jacobians.

    Subclasses implement :meth:`_call` and/or :meth:`_inverse`, and bijective ones
    :meth:`log_abs_det_jacobian`; they set :attr:`domain`, :attr:`codomain`, :attr:`bijective`
    and, for monotone univariate maps, :attr:`sign`.

    Args:
        cache_size: ``0`` (no caching) or ``1``: remember the latest ``(x, y)`` pair, so that
            ``t.inv(t(x))`` returns ``x`` itself (exact, and with the autograd graph of ``x``)
            and ``t(t.inv(y))`` returns ``y``.

    Attributes:
        domain: the :class:`~torchprob.constraints.Constraint` of valid inputs.
        codomain: the constraint of valid outputs (inputs of the inverse).
        bijective: whether ``t.inv(t(x)) == x`` and ``t(t.inv(y)) == y``; otherwise only the
            pseudo-inverse properties ``t(t.inv(t(x))) == t(x)`` hold.
        sign: ``+1``/``-1`` (or a tensor of them) for increasing/decreasing univariate maps.
    """

    bijective: bool = False
    domain: constraints.Constraint
    codomain: constraints.Constraint
    _cache_size = 0
    _inv: Transform | None = None

    def __init__(self, cache_size: int = 0) -> None:
        if cache_size == 1:
            self._cached_x_y: tuple[Any, Any] = (None, None)
        elif cache_size != 0:
            raise ValueError(f"cache_size must be 0 or 1, got {cache_size!r}")
        self._cache_size = cache_size
        self._inv = None
        super().__init__()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_inv"] = None
        state.pop("_memo", None)
        return state

    @property
    def event_dim(self) -> int:
        """Number of rightmost dimensions forming one event (when domain and codomain agree)."""
        if self.domain.event_dim == self.codomain.event_dim:
            return self.domain.event_dim
        raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")

    @property
    def inv(self) -> Transform:
        """The inverse transform, built once and kept (``t.inv.inv is t``)."""
        inv = self._inv
        if inv is None:
            inv = _InverseTransform(self)
            self._inv = inv
        return inv

    @property
    def sign(self) -> int | Tensor:
        """Sign of the derivative of a monotone univariate transform."""
        raise NotImplementedError(f"{type(self).__name__} has no sign")

    def with_cache(self, cache_size: int = 1) -> Transform:
        """This transform with ``cache_size`` (``self`` when it already has it)."""
        if self._cache_size == cache_size:
            return self
        if type(self).__init__ is Transform.__init__:
            return type(self)(cache_size=cache_size)
        raise NotImplementedError(f"{type(self)}.with_cache is not implemented")

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __call__(self, x: Tensor) -> Tensor:
        """``y = t(x)``."""
        if self._cache_size == 0:
            return self._call(x)
        x_old, y_old = self._cached_x_y
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached_x_y = x, y
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        """``x = t^{-1}(y)``, through the cache when there is one."""
        if self._cache_size == 0:
            return self._inverse(y)
        x_old, y_old = self._cached_x_y
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached_x_y = x, y
        return x

    def _call(self, x: Tensor) -> Tensor:
        """The forward map (subclasses implement it)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _call")

    def _inverse(self, y: Tensor) -> Tensor:
        """The inverse map (subclasses implement it)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _inverse")

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        """:math:`\\log|\\det \\partial y/\\partial x|`, one entry per event of ``x``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_abs_det_jacobian")

    def forward_shape(self, shape: Sequence[int]) -> Sequence[int]:
        """Shape of ``t(x)`` for ``x`` of ``shape`` (unchanged by default)."""
        return shape

    def inverse_shape(self, shape: Sequence[int]) -> Sequence[int]:
        """Shape of ``t.inv(y)`` for ``y`` of ``shape`` (unchanged by default)."""
        return shape

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        """This transform with its tensor parameters moved (``self`` when it has none)."""
        for name, value in self.__dict__.items():
            if isinstance(value, Tensor) and name not in ("_cached_x_y", "_memo"):
                raise NotImplementedError(
                    f"{type(self).__name__} holds the tensor {name!r} and does not implement _to"
                )
        return self

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


def _move(t: Any, device: Any, dtype: torch.dtype | None) -> Any:
    """A tensor parameter moved to ``device`` (and floating ``dtype``); numbers unchanged."""
    if not isinstance(t, Tensor):
        return t
    if dtype is not None and t.is_floating_point():
        return t.to(device=device, dtype=dtype)
    return t.to(device=device)


class _InverseTransform(Transform):
    """The inverse of a transform; use :attr:`Transform.inv` rather than this class."""

    def __init__(self, transform: Transform) -> None:
        super().__init__(cache_size=transform._cache_size)
        self._inv = transform

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_inv"] = self._inv  # the transform this inverts (torch loses it when pickling)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        forward = self._inv
        if forward is not None and forward._inv is None:
            forward._inv = self

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return self._inv.codomain  # type: ignore[union-attr]

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return self._inv.domain  # type: ignore[union-attr]

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self._inv.bijective  # type: ignore[union-attr]

    @property
    def sign(self) -> int | Tensor:
        return self._inv.sign  # type: ignore[union-attr]

    @property
    def inv(self) -> Transform:
        return self._inv  # type: ignore[return-value]

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self._inv.with_cache(cache_size).inv  # type: ignore[union-attr]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._inv!r})"

    def __call__(self, x: Tensor) -> Tensor:
        return self._inv._inv_call(x)  # type: ignore[union-attr]

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)  # type: ignore[union-attr]

    def forward_shape(self, shape: Sequence[int]) -> Sequence[int]:
        return self._inv.inverse_shape(shape)  # type: ignore[union-attr]

    def inverse_shape(self, shape: Sequence[int]) -> Sequence[int]:
        return self._inv.forward_shape(shape)  # type: ignore[union-attr]

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        moved = self._inv._to(device, dtype)  # type: ignore[union-attr]
        return self if moved is self._inv else moved.inv


# ----------------------------------------------------------------------------------------------
# Composition and functors
# ----------------------------------------------------------------------------------------------


def _chain_event_dims(parts: Sequence[Transform]) -> tuple[int, int]:
    """Event dims ``(domain, codomain)`` of the composition of ``parts``: each part may couple
    more dimensions than the previous ones, so both ends take the largest event dim needed."""
    if not parts:
        return 0, 0
    dom = parts[-1].codomain.event_dim
    for part in reversed(parts):
        dom = max(dom + part.domain.event_dim - part.codomain.event_dim, part.domain.event_dim)
    cod = parts[0].domain.event_dim
    for part in parts:
        cod = max(cod + part.codomain.event_dim - part.domain.event_dim, part.codomain.event_dim)
    return dom, cod


class ComposeTransform(Transform):
    """The composition ``parts[-1] o ... o parts[0]`` (``parts[0]`` applied first).

    The parts do their own caching. Between a call and :meth:`log_abs_det_jacobian` on the same
    ``(x, y)`` (or the inverse call and it, as in ``TransformedDistribution.log_prob``), the
    intermediate values are reused instead of recomputed: they are kept while ``y`` is alive and
    released at the first use, and never reused after an in-place change of ``x`` or ``y``.

    Args:
        parts: the transforms to compose.
        cache_size: ``0`` or ``1``, applied to every part.
    """

    _memo: tuple | None = None

    def __init__(self, parts: Sequence[Transform], cache_size: int = 0) -> None:
        if cache_size:
            parts = [part.with_cache(cache_size) for part in parts]
        super().__init__(cache_size=cache_size)
        self.parts = list(parts)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    @_cached
    def _event_dims(self) -> tuple[int, int]:
        return _chain_event_dims(self.parts)

    @_cached
    def _ldj_plan(self) -> list[int]:
        """How many rightmost dims of each part's log-det-Jacobian to sum out."""
        plan, event_dim = [], self._event_dims[0]
        for part in self.parts:
            plan.append(event_dim - part.domain.event_dim)
            event_dim += part.codomain.event_dim - part.domain.event_dim
        return plan

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        extra = self._event_dims[0] - domain.event_dim
        return constraints.independent(domain, extra) if extra > 0 else domain

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        extra = self._event_dims[1] - codomain.event_dim
        return constraints.independent(codomain, extra) if extra > 0 else codomain

    @_cached
    def bijective(self) -> bool:  # type: ignore[override]
        return all(p.bijective for p in self.parts)

    @_cached
    def sign(self) -> int | Tensor:  # type: ignore[override]
        sign: int | Tensor = 1
        for p in self.parts:
            sign = sign * p.sign
        return sign

    @property
    def inv(self) -> Transform:
        inv = self._inv
        if inv is None:
            inv = ComposeTransform([p.inv for p in reversed(self.parts)])
            self._inv = inv
            inv._inv = self
        return inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ComposeTransform(self.parts, cache_size=cache_size)

    def __call__(self, x: Tensor) -> Tensor:
        parts = self.parts
        if len(parts) < 2:
            return parts[0](x) if parts else x
        y, mids = x, []
        for part in parts:
            y = part(y)
            mids.append(y)
        mids.pop()
        if not _is_compiling():
            self._remember(x, y, mids)
        return y

    def _remember(self, x: Tensor, y: Tensor, mids: list[Tensor]) -> None:
        try:
            ref_y = weakref.ref(y, self._forget)
            versions = (x._version, y._version)
        except (TypeError, RuntimeError):  # not a tensor, or one without a version counter
            self._memo = None
            return
        self._memo = (weakref.ref(x), ref_y, versions, mids, torch.is_grad_enabled())

    def _forget(self, ref: weakref.ref) -> None:
        memo = self._memo
        if memo is not None and memo[1] is ref:
            self._memo = None

    def _recall(self, x: Tensor, y: Tensor) -> list[Tensor] | None:
        """The intermediates of the latest call on exactly ``x`` giving ``y``, if still valid."""
        memo = self._memo
        if memo is None or memo[0]() is not x or memo[1]() is not y:
            return None
        self._memo = None  # one use: do not hold the intermediates any longer
        if (x._version, y._version) != memo[2]:
            return None
        if torch.is_grad_enabled() and not memo[4]:
            return None  # computed without a graph; recompute with one
        return memo[3]

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        parts = self.parts
        if not parts:
            return torch.zeros_like(x)
        plan = self._ldj_plan
        if len(parts) == 1:
            return _sum_rightmost(parts[0].log_abs_det_jacobian(x, y), plan[0])
        mids = self._recall(x, y)
        if mids is None:
            inv = self._inv
            if isinstance(inv, ComposeTransform):
                mids = inv._recall(y, x)
                if mids is not None:
                    mids = mids[::-1]
        if mids is None:
            mids, z = [], x
            for part in parts[:-1]:
                z = part(z)
                mids.append(z)
        total: Any = None
        a, compact = x, False
        for part, b, n in zip(parts, mids + [y], plan):
            if not n and type(part) is AffineTransform and not part._event_dim:
                compact = True  # log|scale| broadcasts against the other terms
                term = part._log_abs_scale()
            else:
                term = part.log_abs_det_jacobian(a, b)
                if n:
                    term = _sum_rightmost(term, n)
            total = term if total is None else total + term
            a = b
        if compact:  # an affine term was left unexpanded: make sure of the shape
            dom, cod = self._event_dims
            if not dom and not cod and x.shape == y.shape:
                shape = x.shape
            else:
                shape = torch.broadcast_shapes(x.shape[: x.dim() - dom], y.shape[: y.dim() - cod])
            if not isinstance(total, Tensor):
                return x.new_full(shape, total)
            if total.shape != shape:
                return total.expand(shape)
        return total  # type: ignore[return-value]

    def forward_shape(self, shape: Sequence[int]) -> Sequence[int]:
        for part in self.parts:
            shape = part.forward_shape(shape)
        return shape

    def inverse_shape(self, shape: Sequence[int]) -> Sequence[int]:
        for part in reversed(self.parts):
            shape = part.inverse_shape(shape)
        return shape

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        moved = [p._to(device, dtype) for p in self.parts]
        if all(m is p for m, p in zip(moved, self.parts)):
            return self
        return ComposeTransform(moved, cache_size=self._cache_size)

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"{type(self).__name__}(\n    {inner}\n)"


identity_transform = ComposeTransform([])


class IndependentTransform(Transform):
    """Treat ``reinterpreted_batch_ndims`` more rightmost dimensions of ``base_transform`` as
    event dimensions: the map is unchanged, the log-det-Jacobian is summed over them.

    Args:
        base_transform: the transform to wrap.
        reinterpreted_batch_ndims: how many extra rightmost dims form the event.
        cache_size: ``0`` or ``1``.
    """

    def __init__(
        self, base_transform: Transform, reinterpreted_batch_ndims: int, cache_size: int = 0
    ) -> None:
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(
            self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size
        )

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base_transform.bijective

    @property
    def sign(self) -> int | Tensor:
        return self.base_transform.sign

    def _call(self, x: Tensor) -> Tensor:
        if x.dim() < self.domain.event_dim:
            raise ValueError(f"Too few dimensions on input: {x.dim()} < {self.domain.event_dim}")
        return self.base_transform(x)

    def _inverse(self, y: Tensor) -> Tensor:
        if y.dim() < self.codomain.event_dim:
            raise ValueError(f"Too few dimensions on input: {y.dim()} < {self.codomain.event_dim}")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        result = self.base_transform.log_abs_det_jacobian(x, y)
        return _sum_rightmost(result, self.reinterpreted_batch_ndims)

    def forward_shape(self, shape: Sequence[int]) -> Sequence[int]:
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape: Sequence[int]) -> Sequence[int]:
        return self.base_transform.inverse_shape(shape)

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        moved = self.base_transform._to(device, dtype)
        if moved is self.base_transform:
            return self
        return IndependentTransform(moved, self.reinterpreted_batch_ndims, self._cache_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class ReshapeTransform(Transform):
    """Reshape the rightmost ``in_shape`` dimensions into ``out_shape`` (unit Jacobian).

    Args:
        in_shape: the input event shape.
        out_shape: the output event shape, with as many elements.
        cache_size: ``0`` or ``1``.
    """

    bijective = True

    def __init__(
        self, in_shape: Sequence[int], out_shape: Sequence[int], cache_size: int = 0
    ) -> None:
        self.in_shape = torch.Size(in_shape)
        self.out_shape = torch.Size(out_shape)
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError(
                f"in_shape {tuple(self.in_shape)} and out_shape {tuple(self.out_shape)} have "
                "different numbers of elements"
            )
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return _real_event(len(self.in_shape))

    @constraints.dependent_property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return _real_event(len(self.out_shape))

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[: x.dim() - len(self.in_shape)] + self.out_shape)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.reshape(y.shape[: y.dim() - len(self.out_shape)] + self.in_shape)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x.new_zeros(x.shape[: x.dim() - len(self.in_shape)])

    @staticmethod
    def _swap(shape: Sequence[int], old: torch.Size, new: torch.Size) -> torch.Size:
        cut = len(shape) - len(old)
        if cut < 0 or torch.Size(shape[cut:]) != old:
            raise ValueError(
                f"Shape mismatch: expected a shape ending in {tuple(old)}, got {tuple(shape)}"
            )
        return torch.Size(shape[:cut]) + new

    def forward_shape(self, shape: Sequence[int]) -> torch.Size:
        return self._swap(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape: Sequence[int]) -> torch.Size:
        return self._swap(shape, self.out_shape, self.in_shape)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ReshapeTransform)
            and self.in_shape == other.in_shape
            and self.out_shape == other.out_shape
        )


# ----------------------------------------------------------------------------------------------
# Elementwise transforms
# ----------------------------------------------------------------------------------------------


class ExpTransform(Transform):
    r""":math:`y = e^x`."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExpTransform)

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class PowerTransform(Transform):
    r""":math:`y = x^{a}` on the positive reals, :math:`a` = ``exponent``.

    The log-det-Jacobian :math:`\log|a| + (a - 1)\log x` is computed from ``x``, so it stays
    finite where ``y`` overflows or underflows.

    Args:
        exponent: the power :math:`a \ne 0` (tensor or number).
        cache_size: ``0`` or ``1``.
    """

    domain = constraints.positive
    codomain = constraints.positive
    bijective = True

    def __init__(self, exponent: Tensor | float, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @property
    def sign(self) -> Tensor:  # type: ignore[override]
        return self.exponent.sign()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PowerTransform) and _same(self.exponent, other.exponent)

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(self.exponent.reciprocal())

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        a = self.exponent
        return torch.addcmul(a.abs().log(), a - 1, x.log())

    def forward_shape(self, shape: Sequence[int]) -> torch.Size:
        return torch.broadcast_shapes(shape, self.exponent.shape)

    def inverse_shape(self, shape: Sequence[int]) -> torch.Size:
        return torch.broadcast_shapes(shape, self.exponent.shape)

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        return PowerTransform(_move(self.exponent, device, dtype), self._cache_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(exponent={self.exponent})"


class SigmoidTransform(Transform):
    r""":math:`y = 1/(1 + e^{-x})`, :math:`x = \operatorname{logit}(y)`.

    ``y`` is kept strictly inside ``(0, 1)`` (between the smallest normal float and the largest
    float below one) so that ``log(y)`` and ``log1p(-y)`` downstream stay finite; the inverse
    clamps the same way. The log-det-Jacobian :math:`-x - 2\log(1 + e^{-x})` is computed
    from ``x``: finite for every finite ``x``.
    """

    domain = constraints.real
    codomain = constraints.unit_interval
    bijective = True
    sign = +1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigmoidTransform)

    def _call(self, x: Tensor) -> Tensor:
        tiny, top = _bounds(x.dtype)
        return torch.sigmoid(x).clamp(tiny, top)

    def _inverse(self, y: Tensor) -> Tensor:
        tiny, top = _bounds(y.dtype)
        return torch.logit(y.clamp(tiny, top))

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        # log sigmoid(x) + log sigmoid(-x) = -x - 2 softplus(-x)
        v = x.neg()
        return torch.add(v, F.softplus(v, threshold=_SOFTPLUS_EXACT), alpha=-2)


class SoftplusTransform(Transform):
    r""":math:`y = \log(1 + e^x)`, :math:`x = y + \log(1 - e^{-y})` (exact for every ``x``: no
    switch to the identity at ``x > 20``)."""

    domain = constraints.real
    codomain = constraints.positive
    bijective = True
    sign = +1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftplusTransform)

    def _call(self, x: Tensor) -> Tensor:
        return F.softplus(x, threshold=_SOFTPLUS_EXACT)

    def _inverse(self, y: Tensor) -> Tensor:
        return torch.expm1(-y).neg().log() + y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return F.logsigmoid(x)


class TanhTransform(Transform):
    r""":math:`y = \tanh(x)`.

    The log-det-Jacobian :math:`2(\log 2 - x - \log(1 + e^{-2x}))` is computed from ``x``
    (finite for every finite ``x``). The inverse clamps ``y = \pm 1`` to the nearest float
    inside, so a saturated sample maps back to a finite ``x``; every ``y`` strictly inside is
    inverted exactly. Use ``cache_size=1`` to get the original ``x`` back.
    """

    domain = constraints.real
    codomain = constraints.interval(-1.0, 1.0)
    bijective = True
    sign = +1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TanhTransform)

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        top = _bounds(y.dtype)[1]
        return torch.atanh(y.clamp(-top, top))

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return _log_sech2(x)


class AbsTransform(Transform):
    r""":math:`y = |x|` (not bijective; the inverse returns the non-negative root)."""

    domain = constraints.real
    codomain = constraints.positive

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbsTransform)

    def _call(self, x: Tensor) -> Tensor:
        return x.abs()

    def _inverse(self, y: Tensor) -> Tensor:
        return y


class AffineTransform(Transform):
    r""":math:`y = \mathrm{loc} + \mathrm{scale} \cdot x`, elementwise.

    Args:
        loc: location (tensor or number).
        scale: scale (tensor or number).
        event_dim: size of the event shape (0 for scalars, 1 for vectors, ...); the
            log-det-Jacobian is summed over that many rightmost dimensions.
        cache_size: ``0`` or ``1``.
    """

    bijective = True

    def __init__(
        self, loc: Tensor | float, scale: Tensor | float, event_dim: int = 0, cache_size: int = 0
    ) -> None:
        super().__init__(cache_size=cache_size)
        self.loc = loc
        self.scale = scale
        self._event_dim = event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return _real_event(self._event_dim)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return _real_event(self._event_dim)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self._event_dim, cache_size=cache_size)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AffineTransform)
            and _same(self.loc, other.loc)
            and _same(self.scale, other.scale)
        )

    @property
    def sign(self) -> int | Tensor:
        scale = self.scale
        if isinstance(scale, Tensor):
            return scale.sign()
        return 1 if scale > 0 else -1 if scale < 0 else 0  # type: ignore[operator]

    def _call(self, x: Tensor) -> Tensor:
        loc, scale = self.loc, self.scale
        if isinstance(loc, Tensor):
            if isinstance(scale, Tensor):
                return torch.addcmul(loc, scale, x)
            return torch.add(loc, x, alpha=scale)  # type: ignore[arg-type]
        if not isinstance(scale, Tensor) and scale == 1:
            return x + loc
        y = x * scale
        if loc == 0:
            return y
        # The product is a fresh tensor that autograd does not keep: shift it in place.
        return y.add_(loc) if y.is_floating_point() else y + loc

    def _inverse(self, y: Tensor) -> Tensor:
        loc, scale = self.loc, self.scale
        x = y - loc if isinstance(loc, Tensor) or loc != 0 else y
        if x is y or isinstance(scale, Tensor) or not x.is_floating_point():
            return x / scale
        return x.div_(scale)  # a fresh difference that autograd does not keep

    def _log_abs_scale(self) -> Tensor | float:
        """``log|scale|`` unexpanded: what a sum of log-det-Jacobian terms needs."""
        scale = self.scale
        if isinstance(scale, Tensor):
            return scale.abs().log()
        return math.log(abs(scale))  # type: ignore[arg-type]

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        shape = x.shape if x.shape == y.shape else torch.broadcast_shapes(x.shape, y.shape)
        scale, n = self.scale, self._event_dim
        if not isinstance(scale, Tensor):
            value = math.log(abs(scale))  # type: ignore[arg-type]
            if n:
                value *= math.prod(shape[len(shape) - n :])
                shape = shape[: len(shape) - n]
            return x.new_full(shape, value)
        result = scale.abs().log()
        if n:
            # Sum over the event dims of the broadcast scale without materializing the batch.
            if result.dim() < n:
                result = result.reshape((1,) * (n - result.dim()) + result.shape)
            own = result.shape[result.dim() - n :]
            event = shape[len(shape) - n :]
            repeat = math.prod(e for e, o in zip(event, own) if o == 1)
            result = _sum_rightmost(result, n)
            if repeat != 1:
                result = result * repeat
            shape = shape[: len(shape) - n]
        return result if result.shape == shape else result.expand(shape)

    def forward_shape(self, shape: Sequence[int]) -> torch.Size:
        return torch.broadcast_shapes(shape, _shape_of(self.loc), _shape_of(self.scale))

    def inverse_shape(self, shape: Sequence[int]) -> torch.Size:
        return torch.broadcast_shapes(shape, _shape_of(self.loc), _shape_of(self.scale))

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        if not isinstance(self.loc, Tensor) and not isinstance(self.scale, Tensor):
            return self
        return AffineTransform(
            _move(self.loc, device, dtype),
            _move(self.scale, device, dtype),
            self._event_dim,
            self._cache_size,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(loc={self.loc}, scale={self.scale}, "
            f"event_dim={self._event_dim})"
        )


# ----------------------------------------------------------------------------------------------
# Vector and matrix transforms
# ----------------------------------------------------------------------------------------------


def _tril_scatter(vec: Tensor, n: int, fill: float) -> Tensor:
    """An ``n x n`` matrix holding ``vec`` (row-major) below the diagonal, ``fill`` elsewhere."""
    mat = vec.new_full(vec.shape[:-1] + (n, n), fill)
    rows, cols = torch.tril_indices(n, n, offset=-1, device=vec.device)
    mat[..., rows, cols] = vec
    return mat


def _tri_side(length: int) -> int:
    """``D`` with ``D (D - 1) / 2 == length``; ``ValueError`` when there is none."""
    d = round((0.25 + 2 * length) ** 0.5 + 0.5)
    if d * (d - 1) // 2 != length:
        raise ValueError(f"Input size {length} is not a flattened lower-diagonal number")
    return d


def _log_sech2(x: Tensor) -> Tensor:
    r""":math:`\log(1 - \tanh^2 x) = \log 4 + v - 2\,\mathrm{softplus}(v)`, :math:`v = -2x`
    (finite and accurate for every finite ``x``)."""
    v = x * -2.0
    return torch.add(v, F.softplus(v, threshold=_SOFTPLUS_EXACT), alpha=-2).add_(_LOG4)


class CorrCholeskyTransform(Transform):
    r"""Unconstrained vectors of length :math:`D(D-1)/2` to Cholesky factors of ``D x D``
    correlation matrices (lower triangular, positive diagonal, rows of unit norm).

    Row ``i`` is a signed stick-breaking of :math:`r_{ij} = \tanh(x_{ij})`:
    :math:`y_{ij} = r_{ij}\prod_{k<j}\operatorname{sech}(x_{ik})` below the diagonal and
    :math:`y_{ii} = \prod_{k<i}\operatorname{sech}(x_{ik})`. The secants are computed as
    :math:`1/\cosh x` rather than :math:`\sqrt{1 - r^2}` (no cancellation), and the
    log-det-Jacobian of ``x`` and the flattened lower triangle of ``y`` is the weighted sum
    :math:`\tfrac12\sum_{i>j}(i - j + 1)\log\operatorname{sech}^2 x_{ij}`, computed from ``x``.
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CorrCholeskyTransform)

    def _call(self, x: Tensor) -> Tensor:
        d = _tri_side(x.shape[-1])
        tiny = _bounds(x.dtype)[0]
        r = _tril_scatter(x.tanh(), d, 0.0)
        sech = _tril_scatter(x.cosh().reciprocal().clamp(min=tiny), d, 1.0)
        stick = F.pad(sech[..., :-1].cumprod(-1), [1, 0], value=1.0)
        return (r + torch.eye(d, dtype=x.dtype, device=x.device)) * stick

    def _inverse(self, y: Tensor) -> Tensor:
        # The stick left before column j is the squared norm of the row from j on (sums of
        # positives: no cancellation against 1).
        tail = (y * y).flip(-1).cumsum(-1).flip(-1)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(tail, diag=-1).sqrt()
        top = _bounds(y.dtype)[1]
        return torch.atanh(t.clamp(-top, top))

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        d = _tri_side(x.shape[-1])
        rows, cols = torch.tril_indices(d, d, offset=-1, device=x.device)
        weight = (rows - cols + 1).to(x.dtype).mul_(0.5)
        return _log_sech2(x) @ weight

    def forward_shape(self, shape: Sequence[int]) -> torch.Size:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        d = _tri_side(shape[-1])
        return torch.Size(shape[:-1]) + (d, d)

    def inverse_shape(self, shape: Sequence[int]) -> torch.Size:
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError(f"Input is not square: {tuple(shape)}")
        d = shape[-1]
        return torch.Size(shape[:-2]) + (d * (d - 1) // 2,)


class SoftmaxTransform(Transform):
    r"""Unconstrained vectors to the simplex: :math:`y = e^x / \sum_k e^{x_k}`.

    Not bijective (adding a constant to ``x`` leaves ``y`` unchanged): appropriate for
    coordinate-wise optimization, not for HMC. The inverse is :math:`\log y`.
    """

    domain = constraints.real_vector
    codomain = constraints.simplex

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftmaxTransform)

    def _call(self, x: Tensor) -> Tensor:
        return F.softmax(x, dim=-1)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def forward_shape(self, shape: Sequence[int]) -> Sequence[int]:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape

    def inverse_shape(self, shape: Sequence[int]) -> Sequence[int]:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape


def _offsets(x: Tensor) -> Tensor:
    """``K - k`` for ``k = 0..K-1``, ``K = x.shape[-1]``: stick breaking centres ``x_k`` at
    ``log(K - k)`` so that ``x = 0`` maps to the centre of the simplex."""
    k = x.shape[-1]
    return constant_like(x, torch.arange(k, 0, -1, dtype=x.dtype, device=x.device))


class StickBreakingTransform(Transform):
    r"""Unconstrained vectors of length ``K`` to the simplex of ``K + 1`` entries by stick
    breaking: with :math:`z_k = \sigma(x_k - \log(K - k))`,
    :math:`y_k = z_k \prod_{j<k}(1 - z_j)` and :math:`y_K = \prod_j (1 - z_j)`.

    Computed in log space (:math:`\log z = \log\sigma(u)`, :math:`\log(1 - z) = \log\sigma(-u)`),
    so each ``y_k`` keeps its relative accuracy, tiny ones included; the log-det-Jacobian
    :math:`\sum_k \log\sigma(u_k) + (K - k)\log\sigma(-u_k)` is computed from ``x``. The inverse
    measures the stick left as a sum of the remaining entries (no cancellation against 1).
    Bijective and suitable for HMC, but it mixes coordinates.
    """

    domain = constraints.real_vector
    codomain = constraints.simplex
    bijective = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StickBreakingTransform)

    def _call(self, x: Tensor) -> Tensor:
        u = x - _offsets(x).log_()
        log_rest = F.logsigmoid(-u).cumsum(-1)
        log_y = F.pad(F.logsigmoid(u), [0, 1], value=0.0) + F.pad(log_rest, [1, 0], value=0.0)
        return log_y.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        rest = y.flip(-1).cumsum(-1).flip(-1)[..., 1:]  # sum_{j > k} y_j
        tiny = _bounds(y.dtype)[0]
        x = y[..., :-1].log() - rest.clamp(min=tiny).log()
        return x + _offsets(x).log_()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        offsets = _offsets(x)
        u = x - offsets.log()
        return F.logsigmoid(u).sum(-1) + F.logsigmoid(-u) @ offsets

    def forward_shape(self, shape: Sequence[int]) -> torch.Size:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return torch.Size(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape: Sequence[int]) -> torch.Size:
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return torch.Size(shape[:-1]) + (shape[-1] - 1,)


def _map_diagonal(x: Tensor, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """The strict lower triangle of ``x`` with ``fn`` applied to its diagonal."""
    return x.tril(-1) + fn(x.diagonal(dim1=-2, dim2=-1)).diag_embed()


class LowerCholeskyTransform(Transform):
    """Unconstrained square matrices to lower-triangular matrices with a positive diagonal:
    the strict lower triangle is kept and the diagonal exponentiated (the upper triangle is
    dropped, so not bijective)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LowerCholeskyTransform)

    def _call(self, x: Tensor) -> Tensor:
        return _map_diagonal(x, torch.exp)

    def _inverse(self, y: Tensor) -> Tensor:
        return _map_diagonal(y, torch.log)


class PositiveDefiniteTransform(Transform):
    """Unconstrained square matrices to positive-definite ones: :math:`L L^T` with ``L`` from
    :class:`LowerCholeskyTransform`; the inverse goes through the Cholesky factor."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PositiveDefiniteTransform)

    def _call(self, x: Tensor) -> Tensor:
        lower = _map_diagonal(x, torch.exp)
        return lower @ lower.mT

    def _inverse(self, y: Tensor) -> Tensor:
        return _map_diagonal(torch.linalg.cholesky(y), torch.log)


def _check_transforms(tseq: Sequence[Transform]) -> None:
    if not all(isinstance(t, Transform) for t in tseq):
        raise ValueError("every element of tseq must be a Transform")


def _check_piece_dim(dim: int, value: Tensor, size: int, name: str) -> None:
    if not -value.dim() <= dim < value.dim():
        raise ValueError(f"dim {dim} out of range for {name} with {value.dim()} dimensions")
    if value.size(dim) != size:
        raise ValueError(f"{name}.size({dim}) = {value.size(dim)} must equal {size}")


class CatTransform(Transform):
    """Apply ``tseq[i]`` to the ``i``-th block of ``lengths[i]`` entries along ``dim``, the
    blocks laid out as :func:`torch.cat` joins them.

    Example::

        >>> t = CatTransform([ExpTransform(), identity_transform], dim=0, lengths=[2, 2])
        >>> t(torch.zeros(4))
        tensor([1., 1., 0., 0.])

    Args:
        tseq: the transforms, one per block.
        dim: the dimension along which the blocks lie.
        lengths: block sizes (default: 1 each).
        cache_size: ``0`` or ``1``, applied to every transform.
    """

    transforms: list[Transform]

    def __init__(
        self,
        tseq: Sequence[Transform],
        dim: int = 0,
        lengths: Sequence[int] | None = None,
        cache_size: int = 0,
    ) -> None:
        _check_transforms(tseq)
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.lengths = [1] * len(self.transforms) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(
                f"lengths has {len(self.lengths)} entries but tseq has {len(self.transforms)}"
            )
        self.dim = dim

    @_cached
    def event_dim(self) -> int:  # type: ignore[override]
        return max(t.event_dim for t in self.transforms)

    @_cached
    def length(self) -> int:
        return sum(self.lengths)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _map(self, value: Tensor, inverse: bool) -> Tensor:
        _check_piece_dim(self.dim, value, self.length, "y" if inverse else "x")
        pieces = value.split(self.lengths, self.dim)
        out = [t.inv(v) if inverse else t(v) for t, v in zip(self.transforms, pieces)]
        return torch.cat(out, dim=self.dim)

    def _call(self, x: Tensor) -> Tensor:
        return self._map(x, False)

    def _inverse(self, y: Tensor) -> Tensor:
        return self._map(y, True)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        _check_piece_dim(self.dim, x, self.length, "x")
        _check_piece_dim(self.dim, y, self.length, "y")
        event_dim = self.event_dim
        terms = []
        for t, a, b in zip(
            self.transforms, x.split(self.lengths, self.dim), y.split(self.lengths, self.dim)
        ):
            terms.append(_sum_rightmost(t.log_abs_det_jacobian(a, b), event_dim - t.event_dim))
        dim = (self.dim - x.dim() if self.dim >= 0 else self.dim) + event_dim
        if dim < 0:  # the blocks lie along a batch dimension: join them
            return torch.cat(terms, dim=dim)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        moved = [t._to(device, dtype) for t in self.transforms]
        if all(m is t for m, t in zip(moved, self.transforms)):
            return self
        return CatTransform(moved, self.dim, self.lengths, self._cache_size)


class StackTransform(Transform):
    """Apply ``tseq[i]`` to the ``i``-th slice along ``dim``, the slices laid out as
    :func:`torch.stack` joins them.

    Example::

        >>> t = StackTransform([ExpTransform(), identity_transform], dim=1)
        >>> t(torch.zeros(3, 2))[0]
        tensor([1., 0.])

    Args:
        tseq: the transforms, one per slice.
        dim: the dimension along which the slices lie.
        cache_size: ``0`` or ``1``, applied to every transform.
    """

    transforms: list[Transform]

    def __init__(self, tseq: Sequence[Transform], dim: int = 0, cache_size: int = 0) -> None:
        _check_transforms(tseq)
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slice(self, z: Tensor, name: str) -> list[Tensor]:
        n = len(self.transforms)
        _check_piece_dim(self.dim, z, n, name)
        return [z.select(self.dim, i) for i in range(n)]

    def _call(self, x: Tensor) -> Tensor:
        out = [t(v) for t, v in zip(self.transforms, self._slice(x, "x"))]
        return torch.stack(out, dim=self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        out = [t.inv(v) for t, v in zip(self.transforms, self._slice(y, "y"))]
        return torch.stack(out, dim=self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        pairs = zip(self.transforms, self._slice(x, "x"), self._slice(y, "y"))
        return torch.stack([t.log_abs_det_jacobian(a, b) for t, a, b in pairs], dim=self.dim)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.stack([t.codomain for t in self.transforms], self.dim)

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        moved = [t._to(device, dtype) for t in self.transforms]
        if all(m is t for m, t in zip(moved, self.transforms)):
            return self
        return StackTransform(moved, self.dim, self._cache_size)


class CumulativeDistributionTransform(Transform):
    """The cumulative distribution function of a (univariate) distribution: ``y = F(x)``,
    ``x = F^{-1}(y)``, with log-det-Jacobian ``log_prob(x)``.

    Example::

        >>> from torchprob.continuous.normal import Normal
        >>> CumulativeDistributionTransform(Normal(0.0, 1.0))(torch.tensor(0.0))
        tensor(0.5000)

    Args:
        distribution: the distribution whose ``cdf``/``icdf``/``log_prob`` to use.
        cache_size: ``0`` or ``1``.
    """

    bijective = True
    codomain = constraints.unit_interval
    sign = +1

    def __init__(self, distribution: Any, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self) -> constraints.Constraint:  # type: ignore[override]
        return self.distribution.support

    def _call(self, x: Tensor) -> Tensor:
        return self.distribution.cdf(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)

    def _to(self, device: Any = None, dtype: torch.dtype | None = None) -> Transform:
        move: Callable[..., Any] | None = getattr(self.distribution, "to", None)
        if move is None:
            raise NotImplementedError(
                f"{type(self.distribution).__name__} cannot be moved: it has no .to()"
            )
        return CumulativeDistributionTransform(move(device=device, dtype=dtype), self._cache_size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.distribution!r})"
