"""The two-parameter Weibull distribution."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import constraints
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..distribution import Distribution, _log1mexp, validate_sample
from ..transforms import AffineTransform, PowerTransform, Transform
from ..utils import EMPTY, ShapeLike, broadcast_all, euler_constant, host_number, lazy_property
from ._passes import LARGE, scalars, untracked
from .exponential import Exponential

__all__ = ["Weibull"]

# lgamma(1 + 2a) - 2 lgamma(1 + a) = sum_n (-1)^n zeta(n) (2^n - 2) / n a^n (no constant or
# linear term): the series, for a < 0.05, avoids the cancellation of the two lgamma values.
_ZETA = [
    1.6449340668482264,
    1.2020569031595943,
    1.0823232337111382,
    1.0369277551433699,
    1.0173430619844491,
    1.0083492773819228,
    1.0040773561979443,
    1.0020083928260822,
    1.0009945751278181,
    1.0004941886041195,
    1.0002460865533080,
    1.0001227133475785,
    1.0000612481350587,
    1.0000305882363070,
    1.0000152822594087,
    1.0000076371976379,
]  # zeta(2), ..., zeta(17)
_VAR_SERIES = [(-1) ** n * z * (2**n - 2) / n for n, z in enumerate(_ZETA, start=2)]


def _log_gamma_ratio(a: Tensor) -> Tensor:
    r""":math:`D(a) = \log\Gamma(1 + 2a) - 2\log\Gamma(1 + a) \ge 0`, exact for small ``a``."""
    direct = torch.lgamma(2 * a + 1) - 2 * torch.lgamma(a + 1)
    small = a.clamp_max(0.05)
    acc = small * _VAR_SERIES[-1]
    for c in reversed(_VAR_SERIES[1:-1]):
        acc = acc.add_(c) * small
    return torch.where(a < 0.05, acc.add_(_VAR_SERIES[0]) * small.square(), direct)


class Weibull(DirectTransformedDistribution):
    r"""Weibull distribution with scale :math:`\lambda` (``scale``) and shape :math:`k`
    (``concentration``):

    .. math:: p(x) = \frac{k}{\lambda}\Big(\frac{x}{\lambda}\Big)^{k-1}
        e^{-(x/\lambda)^k}, \qquad x > 0.

    Computed directly (not through the base distribution): :math:`\log S(x) = -(x/\lambda)^k`
    exactly, the cdf through ``expm1``, the variance without cancellation for large :math:`k`.

    Args:
        scale: scale :math:`\lambda > 0`.
        concentration: shape :math:`k > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Weibull(torch.tensor(1.0), torch.tensor(1.0)).cdf(torch.tensor(1.0))
        tensor(0.6321)
    """

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(
        self,
        scale: Tensor | float,
        concentration: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.scale, self.concentration = broadcast_all(scale, concentration)
        Distribution.__init__(self, self.scale.shape, validate_args=validate_args)

    @lazy_property
    def concentration_reciprocal(self) -> Tensor:
        return self.concentration.reciprocal()

    @lazy_property
    def base_dist(self) -> Exponential:  # type: ignore[override]
        return Exponential(torch.ones_like(self.scale), validate_args=False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [
            PowerTransform(exponent=self.concentration_reciprocal),
            AffineTransform(loc=0, scale=self.scale),
        ]

    @property
    def mean(self) -> Tensor:
        return self.scale * torch.lgamma(self.concentration_reciprocal + 1).exp()

    @property
    def mode(self) -> Tensor:
        # scale ((k - 1) / k)^(1/k) = scale exp(a log1p(-a)) with a = 1/k; 0 for k <= 1.
        a = self.concentration_reciprocal
        mode = self.scale * torch.exp(a * torch.log1p(-a.clamp_max(1)))
        return mode.masked_fill(a >= 1, 0.0)

    @property
    def variance(self) -> Tensor:
        # scale^2 (G(1 + 2a) - G(1 + a)^2) = scale^2 G(1 + 2a) (1 - exp(-D(a)))
        a = self.concentration_reciprocal
        d = _log_gamma_ratio(a)
        return self.scale.square() * torch.lgamma(2 * a + 1).exp() * torch.expm1(-d).neg()

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        e = self.scale.new_empty(shape).exponential_(generator=generator)
        x = self.scale * e.pow(self.concentration_reciprocal)
        return x.clamp_min(torch.finfo(x.dtype).tiny)  # underflow stays in the support

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        k, scale = self.concentration, self.scale
        plain = value.numel() >= LARGE and scalars(value) is not None and untracked(k, scale)
        power = host_number(k) if plain else None
        if power is not None:  # big, no graph: log then in-place ops, xlogy's mask not needed
            unit = (scalars(value, scale) or [0.0])[0] == 1
            z = value if unit else value / scale  # (not overwritten where it is the value)
            log_norm = (k / scale).log()
            if power == 1:
                return torch.sub(log_norm, z, out=None if unit else z)
            # log 0 gives the right infinity; a number exponent: pow's fast cases (0.5, ...)
            log_z = z.log()
            result = torch.add(log_norm, log_z, alpha=power - 1, out=log_z)
            if power == 2:  # the Rayleigh case: one pass for z^2
                return result.addcmul_(z, z, value=-1)
            return result.sub_(z.pow(power) if unit else z.pow_(power))
        z = value / scale
        log_norm = (k / scale).log()
        result = torch.special.xlogy(k - 1, z).add_(log_norm)
        if torch.is_grad_enabled() and (z.requires_grad or k.requires_grad):
            return result.sub_(z.pow(k))
        return result.sub_(z.pow_(k))  # no graph to keep: reuse z's buffer

    def _t(self, value: Tensor) -> Tensor:
        """:math:`(x/\\lambda)^k = -\\log S(x)`."""
        return (value / self.scale).clamp_min(0).pow(self.concentration)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return torch.expm1(self._t(value).neg_()).neg_()

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return _log1mexp(self._t(value).neg_())

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return self._t(value).neg_().exp_()

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return self._t(value).neg_()

    def icdf(self, value: Tensor) -> Tensor:
        return self.scale * torch.log1p(-value).neg_().pow(self.concentration_reciprocal)

    def entropy(self) -> Tensor:
        a = self.concentration_reciprocal
        return torch.log(self.scale * a) + euler_constant * (1 - a) + 1
