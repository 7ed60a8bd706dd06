"""Small helpers shared by the distributions (the names of ``torch.distributions.utils``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Number
from typing import Any, Generic, TypeVar, overload

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "euler_constant",
    "kl_term",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant

ShapeLike = torch.Size | tuple[int, ...]
EMPTY = torch.Size()  # the default sample_shape

T = TypeVar("T")
R = TypeVar("R")

# Name of the instance attribute that records which lazy properties were computed (not given).
LAZY_COMPUTED = "_lazy_computed"


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Broadcast tensors and Python numbers to one shape.

    Numbers become tensors with the dtype and device of the first tensor argument (the default
    dtype when there is none). Tensors that already share a shape are returned untouched, without
    a broadcasting op: the common case on the hot path of every constructor.
    """
    first = None
    same_shape = True
    for v in values:
        if isinstance(v, Tensor):
            if first is None:
                first = v
            elif same_shape and v.shape != first.shape:
                same_shape = False
        elif not isinstance(v, Number) and not hasattr(v, "__torch_function__"):
            raise ValueError(
                "Input arguments must all be instances of numbers.Number, torch.Tensor or "
                f"objects implementing __torch_function__; got {type(v).__name__}."
            )
    if first is not None and same_shape and all(isinstance(v, Tensor) for v in values):
        return values
    if first is None:
        options: dict[str, Any] = {"dtype": torch.get_default_dtype()}
    else:
        options = {"dtype": first.dtype, "device": first.device}
    tensors = [torch.tensor(v, **options) if isinstance(v, Number) else v for v in values]
    return tuple(torch.broadcast_tensors(*tensors))


def kl_term(p: Tensor, q: Tensor, log_p: Tensor, log_q: Tensor) -> Tensor:
    r"""One outcome's share of a discrete KL divergence, :math:`p \log\frac{p}{q} - p + q`.

    Summed over all outcomes this is :math:`KL(p \| q)` (the added :math:`q - p` terms sum to
    zero), but each share is non-negative and free of the cancellation that ruins nearly equal
    distributions: where :math:`p/q = 1 + \delta` with small :math:`\delta` it is evaluated as
    :math:`q\,[(1+\delta)\operatorname{log1p}(\delta) - \delta] \approx q\delta^2/2`.
    Takes the masses and their exact logs (a logit of 50 is not an impossible outcome): 0 log 0
    counts as 0, and the share is ``inf`` where :math:`q = 0 < p`.
    """
    diff = p - q
    close = diff.abs() < 0.5 * q
    delta = diff / torch.where(close, q, 1.0)  # the unused branch (and its gradient) stays finite
    near = q * ((1 + delta) * torch.log1p(delta) - delta)
    far = torch.where(torch.isneginf(log_p), q, p * (log_p - log_q) - diff)
    term = torch.where(close, near, far)
    return torch.where(torch.isneginf(log_q) & ~torch.isneginf(log_p), math.inf, term)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: a sigmoid if ``is_binary``, else a softmax over the last dim."""
    if is_binary:
        return torch.sigmoid(logits)
    return F.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamp probabilities into ``[eps, 1 - eps]`` with ``eps`` the dtype's machine epsilon."""
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (clamped away from 0 and 1, as torch does).

    Binary: ``log(p) - log1p(-p)``; categorical: ``log(p)`` (unnormalized logits).
    """
    clamped = clamp_probs(probs)
    if is_binary:
        return torch.log(clamped) - torch.log1p(-clamped)
    return torch.log(clamped)


class lazy_property(Generic[T, R]):
    """A property computed on first access and then cached in the instance ``__dict__``.

    The value is computed with grad enabled (so a cached ``probs`` carries the graph of the
    ``logits`` it came from), and the name is recorded as *computed* so that the generic rebuild
    machinery of :class:`~torchprob.distribution.Distribution` passes only the parameters the user
    gave, never a derived one.
    """

    def __init__(self, wrapped: Callable[[T], R]) -> None:
        self.wrapped = wrapped
        self.__name__ = wrapped.__name__
        self.__doc__ = wrapped.__doc__

    @overload
    def __get__(self, instance: None, obj_type: Any = None) -> _lazy_property_and_property: ...

    @overload
    def __get__(self, instance: T, obj_type: Any = None) -> R: ...

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with torch.enable_grad():
            value = self.wrapped(instance)
        state = instance.__dict__
        state[self.__name__] = value
        computed = state.get(LAZY_COMPUTED)
        if computed is None:
            state[LAZY_COMPUTED] = {self.__name__}
        else:
            computed.add(self.__name__)
        return value


class _lazy_property_and_property(lazy_property, property):  # type: ignore[misc]
    """What a lazy property looks like on the class: usable where a ``property`` is expected."""

    def __init__(self, wrapped: Callable) -> None:
        property.__init__(self, wrapped)
        self.wrapped = wrapped


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """Row-major vector of the lower triangle of ``mat`` (diagonals up to ``diag``), batched."""
    n = mat.shape[-1]
    if not torch._C._get_tracing_state() and (diag < -n or diag >= n):
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = torch.tril_indices(n, n, offset=diag, device=mat.device).unbind(0)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """Inverse of :func:`tril_matrix_to_vec`: a (batched) lower-triangular matrix from a vector."""
    length = vec.shape[-1]
    # n (n + 1) / 2 entries for diag = 0; the general count is solved for n and then verified.
    root = math.sqrt((1 + 2 * diag) ** 2 + 8 * length + 4 * abs(diag) * (diag + 1))
    n = round((root - (1 + 2 * diag)) / 2)
    if sum(max(min(i + diag, n - 1) + 1, 0) for i in range(n)) != length:
        raise ValueError(f"The last dimension ({length}) is not a triangular number of entries.")
    mat = vec.new_zeros(vec.shape[:-1] + (n, n))
    rows, cols = torch.tril_indices(n, n, offset=diag, device=vec.device).unbind(0)
    mat[..., rows, cols] = vec
    return mat
