"""The continuous uniform distribution on an interval."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all, host_number
from ._passes import host_span
from .exponential import Exponential
from .normal import Normal

__all__ = ["Uniform"]


class Uniform(Distribution):
    r"""Uniform distribution on the half-open interval :math:`[a, b)` (``low``, ``high``):

    .. math:: p(x) = \frac{1}{b - a}, \qquad a \le x < b.

    Args:
        low: lower bound :math:`a` (inclusive).
        high: upper bound :math:`b > a` (exclusive).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Uniform(0.0, 4.0).cdf(torch.tensor(1.0))
        tensor(0.2500)
    """

    arg_constraints = {
        "low": constraints.dependent(is_discrete=False, event_dim=0),
        "high": constraints.dependent(is_discrete=False, event_dim=0),
    }
    has_rsample = True

    def __init__(
        self, low: Tensor | float, high: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    def _extra_param_checks(self) -> list:
        """``low < high`` (false for NaN too), reported against ``high``."""
        low, high = self.low, self.high
        lo = host_number(low)
        ok: Tensor | bool = high.item() > lo if lo is not None else high > low
        return [("high", "GreaterThan(lower_bound=low)", high, ok)]

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.low + self.high) / 2

    @property
    def mode(self) -> Tensor:
        return torch.full_like(self.low, math.nan)

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / math.sqrt(12)

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).square() / 12

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = self.low.new_empty(shape).uniform_(generator=generator)
        return torch.lerp(self.low, self.high, u)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        low, high = self.low, self.high
        span = host_span(value)
        if span is not None and high.numel() == 1:  # big value, scalar bounds: read on the host
            lo, hi = low.item(), high.item()
            if lo <= span[0] and span[1] < hi:  # every value inside: no mask (one pass)
                shape = torch.broadcast_shapes(value.shape, low.shape)
                return (-(high - low).log()).expand(shape).clone()
        outside = (value < low).logical_or_(value >= high)
        # masked_fill takes -inf as an op argument: no Python scalar wrapped into a tensor.
        return (-(high - low).log()).masked_fill(outside, -math.inf)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return ((self.high - value) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Tensor) -> Tensor:
        return torch.lerp(self.low, self.high, value)

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


def _second_moment_about(p: Uniform, point: Tensor) -> Tensor:
    """:math:`E_p[(x - c)^2]` for the uniform :math:`p`."""
    return p.variance + (p.mean - point).square()


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    r""":math:`\log\frac{b_q - a_q}{b_p - a_p}`, infinite unless :math:`[a_p, b_p] \subseteq
    [a_q, b_q]`."""
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low > p.low) | (q.high < p.high)
    return result.masked_fill(outside, math.inf)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Uniform, q: Normal) -> Tensor:
    r""":math:`-\log(b-a) + \log(\sigma\sqrt{2\pi}) + E_p[(x-\mu)^2] / (2\sigma^2)`."""
    return (
        q.scale.log()
        - (p.high - p.low).log()
        + 0.5 * math.log(2 * math.pi)
        + _second_moment_about(p, q.loc) / (2 * q.scale.square())
    )


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Uniform, q: Exponential) -> Tensor:
    r""":math:`-\log(b-a) - \log\lambda + \lambda (a+b)/2`, infinite when :math:`a < 0`."""
    result = q.rate * p.mean - q.rate.log() - (p.high - p.low).log()
    return result.masked_fill(p.low < 0, math.inf)


@register_kl(Normal, Uniform)
def _kl_normal_uniform(p: Normal, q: Uniform) -> Tensor:
    """Infinite: the normal's support is the whole line."""
    return torch.full_like(p.loc + q.low, math.inf)


@register_kl(Exponential, Uniform)
def _kl_exponential_uniform(p: Exponential, q: Uniform) -> Tensor:
    """Infinite: the exponential's support is unbounded."""
    return torch.full_like(p.rate + q.low, math.inf)
