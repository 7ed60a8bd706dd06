"""The Gumbel (type I extreme value) distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..distribution import Distribution, _log1mexp, validate_sample
from ..kl import register_kl
from ..transforms import AffineTransform, ExpTransform, Transform
from ..utils import EMPTY, ShapeLike, broadcast_all, euler_constant, lazy_property
from ._passes import LARGE, scalars
from .exponential import Exponential
from .normal import Normal, _expm1_minus_identity
from .uniform import Uniform

__all__ = ["Gumbel"]

_PI_OVER_SQRT6 = math.pi / math.sqrt(6)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Gumbel(DirectTransformedDistribution):
    r"""Gumbel distribution with location :math:`\mu` (``loc``) and scale :math:`\beta`
    (``scale``):

    .. math:: p(x) = \frac{1}{\beta} e^{-(z + e^{-z})}, \quad z = \frac{x - \mu}{\beta},
        \qquad x \in \mathbb{R}.

    Computed directly (not through the base distribution): :math:`F(x) = e^{-e^{-z}}`,
    :math:`\log F(x) = -e^{-z}` exactly, the survival function through ``expm1``.

    Args:
        loc: location (mode) :math:`\mu`.
        scale: scale :math:`\beta > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Gumbel(torch.tensor(0.0), torch.tensor(1.0)).log_cdf(torch.tensor(0.0))
        tensor(-1.)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(
        self, loc: Tensor | float, scale: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        Distribution.__init__(self, self.loc.shape, validate_args=validate_args)

    @lazy_property
    def base_dist(self) -> Uniform:  # type: ignore[override]
        finfo = torch.finfo(self.loc.dtype)
        low = torch.full_like(self.loc, finfo.tiny)
        return Uniform(low, torch.full_like(self.loc, 1 - finfo.eps), validate_args=False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [
            ExpTransform().inv,
            AffineTransform(loc=0, scale=-torch.ones_like(self.scale)),
            ExpTransform().inv,
            AffineTransform(loc=self.loc, scale=-self.scale),
        ]

    @property
    def mean(self) -> Tensor:
        return torch.add(self.loc, self.scale, alpha=euler_constant)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return _PI_OVER_SQRT6 * self.scale

    @property
    def variance(self) -> Tensor:
        return (math.pi**2 / 6) * self.scale.square()

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        # -log E for a standard exponential E is a standard Gumbel variable.
        tiny = torch.finfo(self.loc.dtype).tiny
        e = self.loc.new_empty(shape).exponential_(generator=generator).clamp_min_(tiny).log_()
        return torch.addcmul(self.loc, self.scale, e, value=-1)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        scale = self.scale
        numbers = scalars(value, self.loc, scale) if value.numel() >= LARGE else None
        if numbers is not None and numbers[1] > 0:  # big, no graph: two buffers, no division by 1
            # or subtraction of 0
            loc, beta = numbers
            if loc == 0:
                y = torch.neg(value) if beta == 1 else torch.div(value, scale.neg())
            else:
                y = torch.sub(self.loc, value)
                y = y if beta == 1 else y.div_(scale)
            y = y.sub_(torch.exp(y))
            return y if beta == 1 else y.sub_(math.log(beta))
        y = self.loc - value
        if torch.is_grad_enabled() and (y.requires_grad or scale.requires_grad):
            y = y / scale
            return (y - y.exp()).sub_(scale.log())
        y.div_(scale)  # no graph to keep: reuse the buffers
        return y.sub_(y.exp()).sub_(scale.log())

    def _exp_neg_z(self, value: Tensor) -> Tensor:
        """:math:`e^{-z} = -\\log F(x)`."""
        return ((self.loc - value) / self.scale).exp()

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return self._exp_neg_z(value).neg_().exp_()

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return self._exp_neg_z(value).neg_()

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return torch.expm1(self._exp_neg_z(value).neg_()).neg_()

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return _log1mexp(self._exp_neg_z(value).neg_())

    def icdf(self, value: Tensor) -> Tensor:
        return torch.addcmul(self.loc, self.scale, value.log().neg_().log_(), value=-1)

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + euler_constant)


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Gumbel, q: Gumbel) -> Tensor:
    r"""With :math:`r = \beta_p/\beta_q` and :math:`\delta = (\mu_p - \mu_q)/\beta_q`:
    :math:`-\log r + \delta + \gamma(r - 1) + e^{-\delta}\Gamma(1 + r) - 1`, arranged as
    ``expm1(u) - u`` plus the rest so that nearly equal distributions give a small value."""
    r = p.scale / q.scale
    delta = (p.loc - q.loc) / q.scale
    u = torch.lgamma(1 + r) - delta
    return _expm1_minus_identity(u) + torch.lgamma(r) + euler_constant * (r - 1)


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p: Gumbel, q: Normal) -> Tensor:
    r""":math:`\log\frac{\sigma\sqrt{2\pi}}{\beta} - 1 - \gamma + \frac{\pi^2\beta^2/6 +
    (\mu_p + \gamma\beta - \mu_q)^2}{2\sigma^2}`."""
    r = p.scale / q.scale
    t = (p.mean - q.loc) / q.scale
    return (
        (math.pi**2 / 12) * r.square()
        + 0.5 * t.square()
        - r.log()
        + (_HALF_LOG_2PI - 1 - euler_constant)
    )


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p: Normal, q: Gumbel) -> Tensor:
    r""":math:`\log\frac{\beta}{\sigma} + \delta + e^{-\delta + r^2/2} - \frac12(1 + \log 2\pi)`
    with :math:`r = \sigma/\beta`, :math:`\delta = (\mu_p - \mu_q)/\beta`."""
    r = p.scale / q.scale
    delta = (p.loc - q.loc) / q.scale
    return delta + torch.exp(0.5 * r.square() - delta) - r.log() - 0.5 * (1 + math.log(2 * math.pi))


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p: Exponential, q: Gumbel) -> Tensor:
    r""":math:`\log(\lambda\beta) - 1 + \frac{1}{\lambda\beta} - \frac{\mu}{\beta}
    + e^{\mu/\beta}\frac{\lambda\beta}{\lambda\beta + 1}`."""
    rs = p.rate * q.scale
    m = q.loc / q.scale
    return rs.log() - 1 + rs.reciprocal() - m + m.exp() * rs / (rs + 1)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p: Uniform, q: Gumbel) -> Tensor:
    r""":math:`\log\frac{\beta}{b - a} + \frac{(a + b)/2 - \mu}{\beta}
    + \frac{\beta}{b - a}\big(e^{-(a-\mu)/\beta} - e^{-(b-\mu)/\beta}\big)`, the difference of
    exponentials through ``expm1`` (exact for narrow intervals)."""
    width = (p.high - p.low) / q.scale
    low = (p.low - q.loc) / q.scale
    tail = torch.exp(-low) * torch.expm1(-width).neg() / width
    return tail - width.log() + low + 0.5 * width


@register_kl(Gumbel, Uniform)
def _kl_gumbel_uniform(p: Gumbel, q: Uniform) -> Tensor:
    """Infinite: the Gumbel distribution puts mass on the whole line."""
    return torch.full_like(p.loc + q.low, math.inf)


@register_kl(Gumbel, Exponential)
def _kl_gumbel_exponential(p: Gumbel, q: Exponential) -> Tensor:
    """Infinite: the Gumbel distribution puts mass on negative numbers."""
    return torch.full_like(p.loc + q.rate, math.inf)
