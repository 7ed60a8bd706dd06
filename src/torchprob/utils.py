"""Small helpers shared by the distributions (the names of ``torch.distributions.utils``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Number
from typing import Any, Generic, TypeVar, overload

import torch
import torch.nn.functional as F
from torch import Tensor

from . import _distributed

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


is_tracing = torch.compiler.is_compiling
"""Whether the code runs under ``torch.compile`` tracing (host reads would break the graph)."""


def host_number(t: Tensor) -> float | None:
    """The value of a one-element CPU tensor as a Python number, or ``None`` where reading it
    is not a cheap host read: several elements, an accelerator tensor, tracing under
    ``torch.compile``."""
    if t.is_cpu and t.numel() == 1 and not is_tracing():
        return t.item()
    return None


def constant_like(ref: Tensor, t: Tensor) -> Tensor:
    """A constant ``t`` (built with ``ref``'s dtype and device) ready to combine with ``ref``:
    ``t`` itself, or ``t`` replicated over ``ref``'s mesh when ``ref`` is a DTensor."""
    if type(ref) is Tensor or not _distributed.is_dtensor(ref):
        return t
    return _distributed.replicate_like(ref, t)


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Broadcast tensors and Python numbers to one shape.

    Numbers become tensors with the dtype and device of the first tensor argument (the default
    dtype when there is none). Tensors that already share a shape are returned untouched, without
    a broadcasting op: the common case on the hot path of every constructor.
    """
    first = None
    same_shape = True
    subclass = False
    for v in values:
        if isinstance(v, Tensor):
            if first is None:
                first = v
            elif same_shape and v.shape != first.shape:
                same_shape = False
            if type(v) is not Tensor:
                subclass = True
        elif not isinstance(v, Number) and not hasattr(v, "__torch_function__"):
            raise ValueError(
                "Input arguments must all be instances of numbers.Number, torch.Tensor or "
                f"objects implementing __torch_function__; got {type(v).__name__}."
            )
    distributed = None
    if subclass:
        distributed = next((v for v in values if _distributed.is_dtensor(v)), None)
        if distributed is not None:
            _distributed.enable()
    if first is not None and same_shape and all(isinstance(v, Tensor) for v in values):
        if distributed is None or all(_distributed.is_dtensor(v) for v in values):
            return values
    if first is None:
        options: dict[str, Any] = {"dtype": torch.get_default_dtype()}
    else:
        options = {"dtype": first.dtype, "device": first.device}
    tensors = [torch.tensor(v, **options) if isinstance(v, Number) else v for v in values]
    if distributed is not None:  # numbers and plain tensors join the mesh, replicated
        tensors = [
            v if _distributed.is_dtensor(v) else _distributed.replicate_like(distributed, v)
            for v in tensors
        ]
    return tuple(torch.broadcast_tensors(*tensors))


# 1/(k+2)!: the Taylor coefficients of (e^x - 1 - x) / x^2, for kl_term.
_KL_SERIES = tuple(1 / math.factorial(k + 2) for k in range(14))


def kl_term(p: Tensor | None, q: Tensor | None, log_p: Tensor, log_q: Tensor) -> Tensor:
    r"""One outcome's share of a discrete KL divergence, :math:`p \log\frac{p}{q} - p + q`.

    Summed over all outcomes this is :math:`KL(p \| q)` (the added :math:`q - p` terms sum to
    zero), but each share is non-negative and free of the cancellation that ruins nearly equal
    distributions. With :math:`x = \log q - \log p` the share is :math:`p\,g(x)`,
    :math:`g(x) = e^x - 1 - x`, evaluated to a few ulps from the logs alone (no ``where``, no
    ``expm1``: cheap elementwise ops on a few fresh buffers):

    - :math:`|x| \le \frac12`: :math:`g(x) = x^2 \sum_{k=0}^{d} x^k/(k+2)!`, with the degree
      :math:`d` (13 in float64, 6 in float32) that puts the truncation
      :math:`< 2^{-d-1}/(d+3)!` below half an ulp of :math:`g(x)/x^2 \ge 0.42`;
    - :math:`|x| > \frac12`, with :math:`s = \pm\frac12` and :math:`r = x - s`:
      :math:`p\,g(x) = p\,g(s) + q - p\,(e^s + r)`, which cancels by at most a factor of 30.

    Takes the masses and their exact logs (a logit of 50 is not an impossible outcome); either
    mass may be ``None``, and is then taken as the exp of its log where it is needed (the
    cheapest route for big tensors). 0 log 0 counts as 0, and the share is ``inf`` where
    :math:`q = 0 < p` (``log_q`` is ``-inf``, ``log_p`` finite, even where ``p`` underflows).
    """
    finfo = torch.finfo(log_p.dtype)
    fresh = not (torch.is_grad_enabled() and (log_p.requires_grad or log_q.requires_grad))
    # x; 0 where both logs are -inf (0 log 0); a p = 0 < q outcome has x = +inf, capped at 50
    # where e^-49.5 is below every dtype's ulp of 1, so that the share is exactly q.
    x = (log_q - log_p).nan_to_num_(nan=0.0, posinf=50.0, neginf=-math.inf)
    s = x.clamp(-0.5, 0.5)
    r = x.sub_(s) if fresh else x - s  # 0 unless |x| > 1/2
    degree = 13 if finfo.eps < 1e-15 else 6 if finfo.eps < 1e-6 else 3
    coefs = _KL_SERIES[: degree + 1]
    g = s * coefs[-1]
    for c in reversed(coefs[:-1]):
        g.add_(c).mul_(s)
    g.mul_(s)  # g(s)
    far = s.exp_().add_(r) if fresh else s.exp() + r
    # 1 where r != 0 (|r| >= ulp(1/2) there), 0 where r == 0: the far part is then exactly 0.
    on = r.abs_().mul_(4.0 / finfo.eps).clamp_(max=1.0)
    g.sub_(far.mul_(on))  # g(s) - (e^s + r) on the far side; +inf where log_q = -inf
    del x, s, r, far  # free the buffers now (only `on` is still needed)
    # p > 0 wherever log_p is finite (an underflowing p must still make p * inf = inf).
    if p is None:
        g.mul_(log_p.clamp(min=math.log(finfo.tiny) + math.log(finfo.eps) + 1.0).exp_())
    else:
        g.mul_(p.clamp(min=finfo.tiny * finfo.eps))
    g.addcmul_(on, log_q.exp() if q is None else q)
    return g.clamp_(min=0.0)  # a share is >= 0; this also drops the p-floor's -1e-43 at x = 50


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
        if torch.is_grad_enabled():
            value = self.wrapped(instance)
        else:
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
