"""The :class:`Distribution` base class: shapes, validation, sampling keywords, and the generic
"rebuild from parameters" machinery behind ``expand``, ``d[idx]`` and ``to``.

A family declares ``arg_constraints`` (its parameter table), ``support``, ``has_rsample`` and the
mathematics it knows. Everything generic lives here, once.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor

from . import _distributed, constraints
from .utils import LAZY_COMPUTED, is_tracing, lazy_property

__all__ = ["Distribution", "validate_sample"]

_size = torch.Size
_EMPTY = torch.Size()
_MAX_SHOWN = 4  # offending entries quoted in a validation error

M = TypeVar("M", bound=Callable[..., Any])


def validate_sample(method: M) -> M:
    """Decorate ``log_prob``/``cdf``: check ``value`` against the support when validation is on.

    The check is one attribute test when validation is off.
    """

    @functools.wraps(method)
    def checked(self: Distribution, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return method(self, value)

    return checked  # type: ignore[return-value]


def _param_entries(cls: type, table: dict) -> tuple[tuple[str, Any, bool], ...]:
    """``(name, constraint, is_lazy)`` for each checkable parameter of ``table``.

    Dependent constraints are left out (a family checks those relations itself); ``lazy``
    parameters (a ``probs`` built from ``logits``, say) count only when the user gave them.
    """
    return tuple(
        (name, c, isinstance(getattr(cls, name, None), lazy_property))
        for name, c in table.items()
        if not constraints.is_dependent(c)
    )


def _log1mexp(x: Tensor) -> Tensor:
    """``log(1 - exp(x))`` for ``x <= 0`` without cancellation (Maechler's switch at -log 2)."""
    return torch.where(x > -0.6931471805599453, torch.log(-torch.expm1(x)), torch.log1p(-x.exp()))


_NUMBER_PATH_MAX = 16  # CPU tensors up to this size are checked as Python numbers


def _numbers_pass(check: Callable[[Any], bool], value: Tensor) -> bool:
    """``check`` on every entry of a small CPU tensor, read once as Python numbers (cheaper
    than a tensor check, a reduction and a host read for up to a few dozen entries)."""
    dim = value.dim()
    if dim == 0:
        return check(value.item())
    return all(map(check, value.tolist() if dim == 1 else value.reshape(-1).tolist()))


def _holds(flag: Tensor) -> bool:
    """Read a boolean result on the host; a DTensor reduction (a ``Partial`` placement, whose
    local value is only this rank's share) is all-reduced first, so every rank agrees."""
    if type(flag) is not Tensor and hasattr(flag, "full_tensor"):
        flag = flag.full_tensor()
    return bool(flag)


def _constraint_text(constraint: Any) -> str:
    """The constraint's repr, or only its class name while tracing under ``torch.compile`` (a
    constraint built from traced tensors has no printable bounds then)."""
    return type(constraint).__name__.lstrip("_") if is_tracing() else repr(constraint)


def _param_message(d: Any, name: str, constraint: Any, value: Tensor) -> str:
    """The text of a failed parameter check, for an asynchronous assertion."""
    return (
        f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of distribution "
        f"{type(d).__name__} to satisfy the constraint {_constraint_text(constraint)}"
    )


def _value_message(d: Any, support: Any, value: Tensor) -> str:
    """The text of a failed support check, for an asynchronous assertion."""
    return (
        f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within the "
        f"support ({_constraint_text(support)}) of the distribution {type(d).__name__}"
    )


def _route(body: Callable[[Any, Tensor], Tensor], doc: str) -> Callable[[Any, Tensor], Tensor]:
    body.__doc__ = doc
    body._tail_route = True  # type: ignore[attr-defined]
    return body


def _defines(cls: type, name: str) -> bool:
    """Whether ``cls`` (or a family between it and Distribution) implements ``name`` itself."""
    method = getattr(cls, name, None)
    return (
        method is not None
        and method is not getattr(Distribution, name, None)
        and not getattr(method, "_tail_route", False)
    )


_TAIL_ROUTES: dict[str, list[tuple[str, Callable[[Any, Tensor], Tensor]]]] = {
    "cdf": [
        ("log_cdf", _route(lambda d, x: d.log_cdf(x).exp(), "``exp(log_cdf)``.")),
        ("survival_function", _route(lambda d, x: 1 - d.survival_function(x), "``1 - sf``.")),
        (
            "log_survival_function",
            _route(lambda d, x: -torch.expm1(d.log_survival_function(x)), "``-expm1(log_sf)``."),
        ),
    ],
    "log_cdf": [
        ("cdf", _route(lambda d, x: d.cdf(x).log(), "``log(cdf)``.")),
        (
            "log_survival_function",
            _route(lambda d, x: _log1mexp(d.log_survival_function(x)), "``log1mexp(log_sf)``."),
        ),
        ("survival_function", _route(lambda d, x: torch.log1p(-d.survival_function(x)), "")),
    ],
    "survival_function": [
        (
            "log_survival_function",
            _route(lambda d, x: d.log_survival_function(x).exp(), "``exp(log_sf)``."),
        ),
        ("cdf", _route(lambda d, x: 1 - d.cdf(x), "``1 - cdf``.")),
        ("log_cdf", _route(lambda d, x: -torch.expm1(d.log_cdf(x)), "``-expm1(log_cdf)``.")),
    ],
    "log_survival_function": [
        ("survival_function", _route(lambda d, x: d.survival_function(x).log(), "``log(sf)``.")),
        ("cdf", _route(lambda d, x: torch.log1p(-d.cdf(x)), "``log1p(-cdf)``.")),
        ("log_cdf", _route(lambda d, x: _log1mexp(d.log_cdf(x)), "``log1mexp(log_cdf)``.")),
    ],
}


class Distribution:
    r"""Base class of every probability distribution (the ``torch.distributions`` contract).

    Args:
        batch_shape: shape over which parameters are batched.
        event_shape: shape of a single sample.
        validate_args: check parameters now and values passed to ``log_prob``/``cdf`` later;
            ``None`` takes the process-wide default (see :meth:`set_default_validate_args`).
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__
    #: Event dimensions of parameters whose constraint understates them (torch's metadata for
    #: LogisticNormal says ``real`` for a vector ``loc``); the rebuild machinery reads this first.
    _param_event_dims: dict[str, int] = {}

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn validation on or off for every distribution built afterwards (default: on)."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args expects True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(
        self,
        batch_shape: torch.Size | tuple[int, ...] = _EMPTY,
        event_shape: torch.Size | tuple[int, ...] = _EMPTY,
        validate_args: bool | None = None,
    ) -> None:
        self._batch_shape = batch_shape if type(batch_shape) is _size else _size(batch_shape)
        self._event_shape = event_shape if type(event_shape) is _size else _size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._validate_params()

    # ----------------------------------------------------------------------------------------
    # Shapes and the contract a family fills in
    # ----------------------------------------------------------------------------------------

    @property
    def batch_shape(self) -> torch.Size:
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> torch.Size:
        """The shape of a single sample (without batching)."""
        return self._event_shape

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """Map from parameter name to the :class:`~torchprob.constraints.Constraint` it obeys."""
        raise NotImplementedError

    @property
    def support(self) -> constraints.Constraint:
        """The :class:`~torchprob.constraints.Constraint` that samples satisfy."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        """Standard deviation, the square root of :attr:`variance`."""
        return self.variance.sqrt()

    def _extended_shape(self, sample_shape: torch.Size | tuple[int, ...] = _EMPTY) -> torch.Size:
        """``sample_shape + batch_shape + event_shape``."""
        if not sample_shape:
            return self._batch_shape + self._event_shape
        if type(sample_shape) is not _size:
            sample_shape = _size(sample_shape)
        return sample_shape + self._batch_shape + self._event_shape

    def sample(
        self,
        sample_shape: torch.Size | tuple[int, ...] = _EMPTY,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Draw ``sample_shape`` samples (no gradient), from ``generator`` if given."""
        with torch.no_grad():
            if generator is None:
                return self.rsample(sample_shape)
            return self.rsample(sample_shape, generator=generator)  # type: ignore[call-arg]

    def rsample(
        self,
        sample_shape: torch.Size | tuple[int, ...] = _EMPTY,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Draw reparameterized samples, differentiable in the parameters."""
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample")

    def sample_n(self, n: int) -> Tensor:
        """Deprecated alias of ``sample((n,))``, kept for torch compatibility."""
        warnings.warn(
            "sample_n will be deprecated. Use .sample((n,)) instead", UserWarning, stacklevel=2
        )
        return self.sample(_size((n,)))

    def log_prob(self, value: Tensor) -> Tensor:
        """Log of the density or mass function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value: Tensor) -> Tensor:
        """Cumulative distribution function at ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value: Tensor) -> Tensor:
        """Inverse of :meth:`cdf` (the quantile function) at probability ``value``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def log_cdf(self, value: Tensor) -> Tensor:
        """:math:`\\log P(X \\le x)`; derived from whichever tail function the family defines."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_cdf")

    def survival_function(self, value: Tensor) -> Tensor:
        """:math:`P(X > x) = 1 - F(x)`; derived from whichever tail function the family defines."""
        raise NotImplementedError(f"{type(self).__name__} does not implement survival_function")

    def log_survival_function(self, value: Tensor) -> Tensor:
        """:math:`\\log P(X > x)`; derived from whichever tail function the family defines."""
        raise NotImplementedError(f"{type(self).__name__} does not implement log_survival_function")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Route the four tail functions once per class: each one a family does not define is
        derived from one it does (preferring the route without cancellation), so there is no
        mutual recursion and no per-call dispatch."""
        super().__init_subclass__(**kwargs)
        table = next(
            (b.__dict__["arg_constraints"] for b in cls.__mro__ if "arg_constraints" in b.__dict__),
            None,
        )
        if isinstance(table, dict):  # derive the validation entries now, not while tracing
            cls._tp_entries = _param_entries(cls, table)  # type: ignore[attr-defined]
        if _distributed.enabled():
            _distributed.wrap_class(cls)
        for name, candidates in _TAIL_ROUTES.items():
            if _defines(cls, name):
                continue
            for source, route in candidates:
                if _defines(cls, source):
                    setattr(cls, name, route)
                    break
            else:
                if name in cls.__dict__:
                    continue
                setattr(cls, name, getattr(Distribution, name))

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """All values of a discrete support, along a new leading dimension."""
        raise NotImplementedError(f"{type(self).__name__} does not implement enumerate_support")

    def entropy(self) -> Tensor:
        """Differential (or Shannon) entropy, in nats, with shape ``batch_shape``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self) -> Tensor:
        """``exp(entropy)``."""
        return torch.exp(self.entropy())

    # ----------------------------------------------------------------------------------------
    # Validation
    # ----------------------------------------------------------------------------------------

    def _entries(self) -> tuple[tuple[str, Any, bool], ...]:
        """The checkable parameters, derived once per class from ``arg_constraints``."""
        cls = type(self)
        cached = cls.__dict__.get("_tp_entries")
        if cached is not None:
            return cached
        table = None
        for base in cls.__mro__:
            if "arg_constraints" in base.__dict__:
                table = base.__dict__["arg_constraints"]
                break
        if isinstance(table, dict):
            entries = _param_entries(cls, table)
            cls._tp_entries = entries  # type: ignore[attr-defined]
            return entries
        try:  # arg_constraints is a property: read it per instance
            table = self.arg_constraints
        except NotImplementedError:
            warnings.warn(
                f"{cls} does not define `arg_constraints`. Please set `arg_constraints = {{}}` "
                "or initialize the distribution with `validate_args=False` to turn off "
                "validation.",
                stacklevel=4,
            )
            table = {}
        return _param_entries(cls, table)

    def _param_checks(self) -> list[tuple[str, Any, Tensor, Tensor]]:
        """``(name, constraint, value, ok)`` for every parameter the instance holds, ``ok`` the
        elementwise result of the constraint's check, plus :meth:`_extra_param_checks`."""
        state = self.__dict__
        checks = []
        for name, constraint, lazy in self._entries():
            value = state.get(name)
            if value is None:
                if lazy:
                    continue
                value = getattr(self, name)
            if not isinstance(value, Tensor):
                value = torch.as_tensor(value)
            checks.append((name, constraint, value, constraint.check(value)))
        checks.extend(self._extra_param_checks())
        return checks

    def _extra_param_checks(self) -> list[tuple[str, Any, Tensor, Tensor | bool]]:
        """Checks that relate parameters to each other (``low < high``); none by default.

        ``ok`` may be a Python bool where the family decided it without a tensor op.
        """
        return []

    def _validate_params(self) -> None:
        """Check every parameter with at most one host synchronization.

        Single-element CPU parameters are checked as Python numbers (no tensor op at all); the
        rest are folded into one boolean tensor and read once. Only on failure are the checks
        run again to say which parameter, which constraint and which entries are wrong.

        Where reading a result on the host is not possible or not wanted (tracing under
        ``torch.compile``, parameters on an accelerator), the checks become asynchronous
        assertions instead: see :meth:`_assert_params`.
        """
        if is_tracing():
            self._assert_params()
            return
        state = self.__dict__
        ok: Tensor | None = None
        for name, constraint, lazy in self._entries():
            value = state.get(name)
            if value is None:
                if lazy:
                    continue
                value = getattr(self, name)
            if not value.is_cpu:
                self._assert_params()
                return
            number_check = constraint.check_number
            if type(value) is not Tensor and _distributed.is_dtensor(value):
                _distributed.enable()
                number_check = None
            if number_check is not None and value.numel() <= _NUMBER_PATH_MAX:
                if _numbers_pass(number_check, value):
                    continue
                self._raise_invalid_params()
            good = constraint.check(value)
            if good.dim():
                good = good.all()
            ok = good if ok is None else ok & good
        for _, _, _, good in self._extra_param_checks():
            if isinstance(good, bool):
                if not good:
                    self._raise_invalid_params()
                continue
            if good.dim():
                good = good.all()
            ok = good if ok is None else ok & good
        if ok is not None and not (ok if type(ok) is Tensor else _holds(ok)):
            self._raise_invalid_params()

    def _assert_params(self) -> None:
        """Validation without a host read: one ``torch._assert_async`` per parameter.

        Used while tracing under ``torch.compile`` (no graph break) and for accelerator tensors
        (no synchronization). A failing check raises when the device executes it, as a
        ``RuntimeError`` carrying the same text as the eager ``ValueError`` minus the offending
        entries (which would need the host read this path avoids).
        """
        for name, constraint, value, good in self._param_checks():
            if isinstance(good, bool):
                if not good:
                    self._raise_invalid_params()
                continue
            torch._assert_async(good.all(), _param_message(self, name, constraint, value))

    def _raise_invalid_params(self) -> None:
        for name, constraint, value, good in self._param_checks():
            if isinstance(good, bool):
                good = torch.tensor(good)
            if not _holds(good.all()):
                raise ValueError(self._describe_invalid("parameter", name, constraint, value, good))

    def _validate_sample(self, value: Tensor) -> None:
        """Raise ``ValueError`` for a non-tensor ``value``, a wrong shape, or a value outside the
        support."""
        if not isinstance(value, Tensor):
            raise ValueError(
                f"The value argument to {type(self).__name__}.log_prob/cdf must be a Tensor, "
                f"got {type(value).__name__}."
            )
        shape = value.shape
        expected = self._batch_shape + self._event_shape if self._event_shape else self._batch_shape
        if shape != expected:
            n_event = len(self._event_shape)
            if n_event and shape[len(shape) - n_event :] != self._event_shape:
                raise ValueError(
                    f"The right-most size of value must match event_shape: {tuple(shape)} vs "
                    f"{tuple(self._event_shape)}."
                )
            for i, j in zip(reversed(shape), reversed(expected)):
                if i != 1 and j != 1 and i != j:
                    raise ValueError(
                        f"Value of shape {tuple(shape)} is not broadcastable with "
                        f"batch_shape+event_shape {tuple(expected)}."
                    )
        support = self.support
        if support is None:
            return
        if not value.is_cpu or is_tracing():
            torch._assert_async(support.check(value).all(), _value_message(self, support, value))
            return
        if value.numel() <= _NUMBER_PATH_MAX and not _distributed.is_dtensor(value):
            number_check = support.check_number
            if number_check is not None:
                if _numbers_pass(number_check, value):
                    return
            else:
                small_check = support.check_small
                if small_check is not None and small_check(value):
                    return
        good = support.check(value)
        if not _holds(good.all() if good.dim() else good):
            raise ValueError(self._describe_invalid("value", "value", support, value, good))

    def _describe_invalid(
        self, kind: str, name: str, constraint: Any, value: Tensor, good: Tensor
    ) -> str:
        """Error text naming the argument, the constraint and the first offending entries."""
        value = value.detach()
        good = good.detach()
        gather = getattr(value, "full_tensor", None)
        if gather is not None:  # a DTensor: the error path may gather
            value = gather()  # (gloo cannot gather bool tensors: gather bytes)
            good = good.to(torch.uint8).full_tensor().bool()  # type: ignore[attr-defined]
        good = good.expand(torch.broadcast_shapes(good.shape, value.shape[: good.dim()]))
        bad_idx = (~good).nonzero().tolist()
        shown = []
        for idx in bad_idx[:_MAX_SHOWN]:
            entry = value.expand(good.shape + value.shape[good.dim() :])[tuple(idx)]
            text = f"{entry.item():.6g}" if entry.numel() == 1 else str(entry.tolist())
            label = f"{name}[{', '.join(map(str, idx))}]" if idx else name
            shown.append(f"{label} = {text}")
        more = (
            f" (first {_MAX_SHOWN} of {len(bad_idx)} invalid)" if len(bad_idx) > _MAX_SHOWN else ""
        )
        if kind == "parameter":
            head = (
                f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of distribution "
                f"{type(self).__name__} to satisfy the constraint {constraint}"
            )
        else:
            head = (
                f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within the "
                f"support ({constraint}) of the distribution {type(self).__name__}"
            )
        return f"{head}, but found invalid values: {'; '.join(shown)}{more}"

    # ----------------------------------------------------------------------------------------
    # Rebuilding from transformed parameters: expand, indexing, to
    # ----------------------------------------------------------------------------------------

    def _init_kwargs(self) -> dict[str, Any]:
        """Constructor keywords that rebuild this instance: the parameters the user gave.

        A family with constructor arguments outside ``arg_constraints`` (a ``temperature``,
        say) extends this.
        """
        state = self.__dict__
        computed = state.get(LAZY_COMPUTED, ())
        kwargs = {}
        for name in self.arg_constraints:
            if name in computed:
                continue
            if name in state:
                kwargs[name] = state[name]
            elif not isinstance(getattr(type(self), name, None), lazy_property):
                kwargs[name] = getattr(self, name)
        return kwargs

    def _rebuild(
        self, transform: Callable[[Tensor, int], Tensor], _instance: Distribution | None = None
    ) -> Distribution:
        """A new instance whose tensor parameters are ``transform(tensor, event_dim)``."""
        table = self.arg_constraints
        if not table:
            raise NotImplementedError(
                f"{type(self).__name__} has no parameter table to rebuild from; it must define "
                "expand, __getitem__ and to itself"
            )
        kwargs = {}
        for name, value in self._init_kwargs().items():
            if isinstance(value, Tensor):
                event_dim = self._param_event_dims.get(name)
                if event_dim is None:
                    constraint = table.get(name)
                    event_dim = constraint.event_dim if constraint is not None else 0
                value = transform(value, event_dim)
            kwargs[name] = value
        cls = type(self)
        if _instance is not None:
            # A subclass with its own __init__ asked us to fill its instance: build the nearest
            # torchprob class and copy its state over.
            cls = next(c for c in cls.__mro__ if c.__module__.startswith("torchprob."))
        new = cls(**kwargs, validate_args=False)
        new._validate_args = self._validate_args
        if _instance is not None:
            _instance.__dict__.update(new.__dict__)
            return _instance
        return new

    def _get_checked_instance(self, cls: type, _instance: Distribution | None = None) -> Any:
        """torch's helper for subclasses' ``expand``: an empty instance of ``type(self)``."""
        if _instance is None and type(self).__init__ != cls.__init__:  # type: ignore[misc]
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom __init__ "
                "method must also define a custom .expand() method."
            )
        return self.__new__(type(self)) if _instance is None else _instance

    def expand(
        self, batch_shape: torch.Size | tuple[int, ...], _instance: Distribution | None = None
    ) -> Distribution:
        """A view of this distribution with parameters expanded to ``batch_shape`` (no copy)."""
        batch_shape = _size(batch_shape)
        if not self._init_kwargs():
            raise NotImplementedError(f"{type(self).__name__} has no parameters to expand")
        try:
            torch.broadcast_shapes(batch_shape, self._batch_shape)
        except RuntimeError as err:
            raise ValueError(
                f"Cannot expand batch_shape {tuple(self._batch_shape)} to {tuple(batch_shape)}"
            ) from err

        def expand(t: Tensor, event_dim: int) -> Tensor:
            return t.expand(batch_shape + t.shape[t.dim() - event_dim :])

        return self._rebuild(expand, _instance)

    def __getitem__(self, index: Any) -> Distribution:
        """The distribution of the indexed batch:
        ``d[idx].log_prob(x[idx]) == d.log_prob(x)[idx]``."""
        index = self._batch_index(index)
        batch_shape = self._batch_shape

        def select(t: Tensor, event_dim: int) -> Tensor:
            full = t.expand(batch_shape + t.shape[t.dim() - event_dim :])
            return full[index + (slice(None),) * event_dim]

        return self._rebuild(select)

    def _batch_index(self, index: Any) -> tuple:
        """``index`` as a tuple, checked to address batch dimensions only (``IndexError``)."""
        index = index if isinstance(index, tuple) else (index,)
        used = 0
        for item in index:
            if item is None or item is Ellipsis:
                continue
            if isinstance(item, Tensor) and item.dtype == torch.bool:
                used += item.dim()
            else:
                used += 1
        if used > len(self._batch_shape):
            raise IndexError(
                f"too many indices for batch_shape {tuple(self._batch_shape)}: {used} given"
            )
        return index

    def to(
        self,
        device: torch.device | str | torch.dtype | None = None,
        dtype: torch.dtype | None = None,
    ) -> Distribution:
        """The same distribution with parameters on ``device`` and/or of floating ``dtype``
        (``d.to(torch.float64)`` works too, as for tensors)."""
        if isinstance(device, torch.dtype):
            device, dtype = None, device

        def move(t: Tensor, event_dim: int) -> Tensor:
            if dtype is not None and t.is_floating_point():
                return t.to(device=device, dtype=dtype)
            return t.to(device=device)

        return self._rebuild(move)

    def __repr__(self) -> str:
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        parts = []
        for name in names:
            value = self.__dict__[name]
            if isinstance(value, Tensor) and value.numel() != 1:
                parts.append(f"{name}: {value.size()}")
            else:
                parts.append(f"{name}: {value}")
        return f"{type(self).__name__}({', '.join(parts)})"
