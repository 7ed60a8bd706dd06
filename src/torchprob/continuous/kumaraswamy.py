"""The Kumaraswamy distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..distribution import Distribution, _log1mexp, validate_sample
from ..transforms import AffineTransform, PowerTransform, Transform
from ..utils import EMPTY, ShapeLike, broadcast_all, euler_constant, lazy_property
from ._passes import LARGE, host_span, scalars
from .beta import lgamma_diff
from .uniform import Uniform

__all__ = ["Kumaraswamy"]

_LOG_HALF = -math.log(2)
_SERIES_STEP = 0.05  # 1/a below this: the variance from its polygamma series
# (s, coefficient) of the terms h^(2k) [zeta(s, 1+h) - zeta(s, b+1+h)] of that series, s = 2k
_SECOND_DIFF = [(2.0 * k, 1.0 / k) for k in range(1, 7)]


def _log1m_pow(u: Tensor) -> Tensor:
    r""":math:`\ln(1 - e^u)` for :math:`u \le 0` (Maechler's switch)."""
    return torch.where(u > _LOG_HALF, torch.log(-torch.expm1(u)), torch.log1p(-torch.exp(u)))


class Kumaraswamy(DirectTransformedDistribution):
    r"""Kumaraswamy distribution with shapes :math:`a` (``concentration1``) and :math:`b`
    (``concentration0``):

    .. math:: p(x) = a b\, x^{a-1} (1 - x^a)^{b-1}, \qquad 0 \le x \le 1.

    Computed directly (``base_dist`` and ``transforms`` are there for compatibility), with
    :math:`\ln(1 - x^a)` from ``expm1``/``log1p``: the cdf :math:`1 - (1-x^a)^b`, its tails and
    the quantile function stay exact near 0 and 1; mean and variance from log-gamma differences
    that do not cancel for extreme shapes.

    Args:
        concentration1: :math:`a > 0`.
        concentration0: :math:`b > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Kumaraswamy(torch.tensor([1.0]), torch.tensor([2.0])).cdf(torch.tensor([0.5]))
        tensor([0.7500])
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self,
        concentration1: Tensor | float,
        concentration0: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        Distribution.__init__(self, self.concentration1.shape, validate_args=validate_args)

    @lazy_property
    def base_dist(self) -> Uniform:  # type: ignore[override]
        b = self.concentration0
        return Uniform(torch.zeros_like(b), torch.ones_like(b), validate_args=False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [
            PowerTransform(self.concentration0.reciprocal()),
            AffineTransform(1.0, -1.0),
            PowerTransform(self.concentration1.reciprocal()),
        ]

    def _log_moment(self, h: Tensor) -> Tensor:
        """:math:`\\ln E[X^{ah}] = \\ln\\Gamma(1+h) + \\ln\\Gamma(1+b) - \\ln\\Gamma(1+b+h)`,
        symmetric in :math:`h, b`: the difference is taken next to the larger one."""
        lo, hi = torch.minimum(h, self.concentration0), torch.maximum(h, self.concentration0)
        return torch.lgamma(lo + 1) + lgamma_diff(hi + 1, lo)

    @property
    def mean(self) -> Tensor:
        return self._log_moment(self.concentration1.reciprocal()).exp()

    @property
    def mode(self) -> Tensor:
        """:math:`((a-1)/(ab-1))^{1/a}` where :math:`a, b \\ge 1`, else NaN."""
        a, b = self.concentration1, self.concentration0
        am1 = a - 1
        log_mode = (am1.log() - torch.addcmul(b - 1, am1, b).log()) / a
        return log_mode.exp().masked_fill((a < 1) | (b < 1), math.nan)

    @property
    def variance(self) -> Tensor:
        r""":math:`m_1^2 (e^{D} - 1)`, :math:`D = \ln m_2 - 2\ln m_1` a second difference of
        :math:`\ln\Gamma`: for small :math:`h = 1/a` its series
        :math:`\sum_k \frac{2h^{2k}}{(2k)!}[\psi^{(2k-1)}(1+h) - \psi^{(2k-1)}(b+1+h)]`, with
        :math:`\psi^{(2k-1)}(x) = (2k-1)!\,\zeta(2k, x)` (``polygamma(1, x)`` is only good to
        :math:`10^{-9}`)."""
        h = self.concentration1.reciprocal()
        b1 = self.concentration0 + 1
        log_m1 = self._log_moment(h)
        direct = self._log_moment(2 * h) - 2 * log_m1
        hs = h.clamp(max=_SERIES_STEP)
        h2 = hs.square()
        series = torch.zeros_like(direct)
        power = h2
        for order, coef in _SECOND_DIFF:
            diff = torch.special.zeta(order, hs + 1) - torch.special.zeta(order, b1 + hs)
            series = series + coef * power * diff
            power = power * h2
        d = torch.where(h <= _SERIES_STEP, series, direct)
        return torch.exp(2 * log_m1 + d + torch.log(-torch.expm1(-d)))

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """:math:`(1 - U^{1/b})^{1/a}` with :math:`U^{1/b} = e^{-E/b}`, :math:`E`
        exponential."""
        shape = self._extended_shape(sample_shape)
        b = self.concentration0
        e = b.new_empty(shape).exponential_(generator=generator)
        x = torch.exp(torch.log(-torch.expm1(-e / b)) / self.concentration1)
        finfo = torch.finfo(x.dtype)
        return x.clamp(finfo.tiny, 1 - finfo.eps / 2)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        a, b = self.concentration1, self.concentration0
        if value.numel() >= LARGE and (fast := self._log_prob_big(value)) is not None:
            return fast
        u = a * value.log()  # log x^a
        near = u > _LOG_HALF
        # xlogy gives 0 at x = 1 when b = 1
        log_tail = torch.where(
            near, torch.xlogy(b - 1, -torch.expm1(u)), (b - 1) * torch.log1p(-torch.exp(u))
        )
        return ((a * b).log() + torch.xlogy(a - 1, value)) + log_tail

    def _log_prob_big(self, value: Tensor) -> Tensor | None:
        r"""Big, no graph, one-element parameters, values in :math:`(0, 1]` (a host read) and
        :math:`x^{-a}` finite: :math:`-\ln(1 - x^a) = \operatorname{log1p}(1/r)` with
        :math:`r = x^{-a} - 1 = \operatorname{expm1}(-a \ln x)`, exact on both sides of
        :math:`x^a = 1/2` without a switch (``inf`` at :math:`x = 1`), in two buffers."""
        numbers = scalars(value, self.concentration1, self.concentration0)
        valid = numbers is not None and numbers[0] > 0 and numbers[1] > 0
        span = host_span(value) if valid else None
        if numbers is None or span is None or not (0 < span[0] and span[1] <= 1):
            return None
        a, b = numbers
        finfo = torch.finfo(value.dtype)
        # -a ln x <= ln(max) (r finite) and a eps/2 normal (the smallest |a ln x| below x = 1)
        if not (-a * math.log(span[0]) < math.log(finfo.max) and a * finfo.eps >= finfo.tiny):
            return None
        head = torch.tensor(math.log(a) + math.log(b), dtype=value.dtype)
        if a == 1:  # ln(1 - x) directly
            log_tail = torch.neg(value).log1p_()
            return torch.add(head, log_tail, alpha=b - 1, out=log_tail)
        log_x = torch.log(value)
        if b == 1:
            return torch.add(head, log_x, alpha=a - 1, out=log_x)
        result = torch.add(head, log_x, alpha=a - 1)
        neg_log_tail = torch.mul(log_x, -a, out=log_x).expm1_().reciprocal_().log1p_()
        return result.sub_(neg_log_tail, alpha=b - 1)

    def _log_sf(self, value: Tensor) -> Tensor:
        """:math:`\\ln(1-F(x)) = b\\ln(1 - x^a)`."""
        return self.concentration0 * _log1m_pow(self.concentration1 * value.log())

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return -torch.expm1(self._log_sf(value))

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return _log1mexp(self._log_sf(value))

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return self._log_sf(value).exp()

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return self._log_sf(value)

    def icdf(self, value: Tensor) -> Tensor:
        inner = -torch.expm1(torch.log1p(-value) / self.concentration0)  # 1 - (1-u)^(1/b)
        return torch.exp(inner.log() / self.concentration1)

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        harmonic = torch.digamma(b + 1) + euler_constant
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic - (a * b).log()
