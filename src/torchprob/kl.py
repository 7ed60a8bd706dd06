"""The KL-divergence registry: :func:`register_kl` and :func:`kl_divergence`.

Closed forms live at the bottom of each family's file; this module holds the dispatch and the
generic rules that are not tied to one family (exponential families, via their Bregman divergence).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import total_ordering

import torch
from torch import Tensor

from .distribution import Distribution
from .exp_family import ExponentialFamily
from .kl_monte_carlo import monte_carlo_kl

__all__ = ["kl_divergence", "monte_carlo_kl", "register_kl"]

KLFunction = Callable[..., Tensor]

_KL_REGISTRY: dict[tuple[type, type], KLFunction] = {}  # the rules users register
_KL_MEMOIZE: dict[tuple[type, type], KLFunction] = {}  # resolved lookups, cleared on register


def register_kl(type_p: type, type_q: type) -> Callable[[KLFunction], KLFunction]:
    """Decorator registering ``fn(p, q)`` as ``KL(p || q)`` for ``p: type_p``, ``q: type_q``.

    Lookup picks the most specific registered pair (by method resolution order); when two pairs
    are equally specific, a ``RuntimeWarning`` is raised and the one first in sort order is used.
    Register the more specific pair to settle the tie::

        @register_kl(Normal, Normal)
        def kl_normal_normal(p, q): ...
    """
    if not (isinstance(type_p, type) and issubclass(type_p, Distribution)):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not (isinstance(type_q, type) and issubclass(type_q, Distribution)):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fn: KLFunction) -> KLFunction:
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMOIZE.clear()
        return fn

    return decorator


@total_ordering
class _Match:
    """A registered pair ordered by specificity: lexicographic on MRO positions."""

    __slots__ = ("types",)

    def __init__(self, *types: type) -> None:
        self.types = types

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Match) and self.types == other.types

    def __le__(self, other: _Match) -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch(type_p: type, type_q: type) -> KLFunction | None:
    matches = [
        (super_p, super_q)
        for super_p, super_q in _KL_REGISTRY
        if issubclass(type_p, super_p) and issubclass(type_q, super_q)
    ]
    if not matches:
        return None
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fn = _KL_REGISTRY[left_p, left_q]
    right_fn = _KL_REGISTRY[right_p, right_q]
    if left_fn is not right_fn:
        warnings.warn(
            f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please register_kl"
            f"({left_p.__name__}, {right_q.__name__})",
            RuntimeWarning,
            stacklevel=3,
        )
    return left_fn


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    r"""Kullback-Leibler divergence :math:`KL(p \| q) = \int p(x) \log \frac{p(x)}{q(x)} dx`.

    Batched over the broadcast of both batch shapes. Raises ``NotImplementedError`` naming both
    types when no rule is registered for them.
    """
    key = (type(p), type(q))
    fn = _KL_MEMOIZE.get(key)
    if fn is None:
        fn = _dispatch(*key)
        if fn is None:
            raise NotImplementedError(
                f"No KL(p || q) is implemented for p of type {type(p).__name__} and q of type "
                f"{type(q).__name__}; register one with torchprob.kl.register_kl"
            )
        _KL_MEMOIZE[key] = fn
    return fn(p, q)


def _infinite_like(tensor: Tensor) -> Tensor:
    """``inf`` with the shape, dtype and device of ``tensor`` (for pairs with disjoint supports)."""
    return torch.full_like(tensor, float("inf"))


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p: ExponentialFamily, q: ExponentialFamily) -> Tensor:
    r"""Bregman divergence of the log-normalizer :math:`A` between the natural parameters:

    .. math:: KL(p \| q) = A(\eta_q) - A(\eta_p) - \langle \eta_q - \eta_p, \nabla A(\eta_p) \rangle
    """
    if type(p) is not type(q):
        raise NotImplementedError(
            "The cross KL-divergence between different exponential families cannot be computed "
            f"through their Bregman divergence ({type(p).__name__} vs {type(q).__name__})"
        )
    eta_p, a_p, grads, tracked = p._log_normalizer_and_grad()
    eta_q = q._natural_params
    result = q._log_normalizer(*eta_q) - a_p
    batch_ndim = result.dim()
    for ep, eq, g in zip(eta_p, eta_q, grads):
        term = (eq - ep) * g
        result = result - term.reshape(term.shape[:batch_ndim] + (-1,)).sum(-1)
    if tracked or any(t.requires_grad for t in eta_q):
        return result
    return result.detach()
