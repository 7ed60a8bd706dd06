"""The half-normal distribution: the absolute value of a centred normal variable."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..transforms import AbsTransform, Transform
from ..utils import EMPTY, ShapeLike, broadcast_all, lazy_property
from ._passes import host_min, untracked
from .normal import Normal, _expm1_minus_identity

__all__ = ["HalfNormal"]

_HALF_LOG_PI_OVER_2 = 0.5 * math.log(math.pi / 2)
_LOG_2 = math.log(2)
_SQRT_2 = math.sqrt(2)
_SQRT_HALF = math.sqrt(0.5)


class HalfNormal(DirectTransformedDistribution):
    r"""Half-normal distribution with scale :math:`\sigma` (``scale``), the law of :math:`|X|` for
    :math:`X \sim \mathrm{Normal}(0, \sigma)`:

    .. math:: p(x) = \frac{\sqrt2}{\sigma\sqrt{\pi}} e^{-x^2 / (2\sigma^2)}, \qquad x \ge 0.

    Computed directly (not through the base distribution): :math:`F(x) = \operatorname{erf}
    (x / \sigma\sqrt2)` and :math:`S(x) = \operatorname{erfc}(x / \sigma\sqrt2)`, exact near 0 and
    in the far right tail (``log_ndtr`` there); the quantile through ``erfinv`` at full precision
    for small probabilities.

    Args:
        scale: scale :math:`\sigma > 0` of the full normal distribution.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> HalfNormal(torch.tensor(1.0)).cdf(torch.tensor(1.0))
        tensor(0.6827)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale: Tensor | float, validate_args: bool | None = None) -> None:
        (self.scale,) = broadcast_all(scale)
        Distribution.__init__(self, self.scale.shape, validate_args=validate_args)

    @lazy_property
    def base_dist(self) -> Normal:  # type: ignore[override]
        return Normal(torch.zeros_like(self.scale), self.scale, validate_args=False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [AbsTransform()]

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self) -> Tensor:
        return torch.zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return self.scale.square() * (1 - 2 / math.pi)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = self.scale.new_empty(shape).normal_(generator=generator).abs_()
        return eps * self.scale

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        z = value / self.scale
        log_norm = self.scale.log().add_(_HALF_LOG_PI_OVER_2).neg_()
        if untracked(z):  # no graph to keep: reuse z's buffer
            result = torch.addcmul(log_norm, z, z, value=-0.5, out=z)
        else:
            result = torch.addcmul(log_norm, z, z, value=-0.5)
        low = host_min(value)
        if low is not None and low >= 0:  # a big value, all in the support: no mask
            return result
        return result.masked_fill_(value < 0, -math.inf)

    def _w(self, value: Tensor) -> Tensor:
        """``x / (sigma sqrt 2)``, with values below the support moved to 0."""
        return (value.clamp_min(0) / self.scale).mul_(_SQRT_HALF)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return torch.erf(self._w(value))

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        w = self._w(value)
        return torch.where(w < 0.5, torch.erf(w).log(), torch.log1p(-torch.erfc(w)))

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return torch.erfc(self._w(value))

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        # log(2 Phi(-z)): log_ndtr keeps the far tail, where erfc underflows.
        z = (value.clamp_min(0) / self.scale).neg_()
        return torch.special.log_ndtr(z) + _LOG_2

    def icdf(self, value: Tensor) -> Tensor:
        return torch.erfinv(value) * (self.scale * _SQRT_2)

    def entropy(self) -> Tensor:
        return self.scale.log().add_(0.5 + _HALF_LOG_PI_OVER_2)


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> Tensor:
    r""":math:`\log\frac{\sigma_q}{\sigma_p} + \frac{\sigma_p^2}{2\sigma_q^2} - \frac12`, the KL of
    the underlying centred normals (the fold maps both alike)."""
    return 0.5 * _expm1_minus_identity(2 * (p.scale.log() - q.scale.log()))
