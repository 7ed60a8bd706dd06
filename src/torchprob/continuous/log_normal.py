"""The log-normal distribution: the exponential of a normal variable."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..special import ndtr
from ..transforms import ExpTransform, Transform
from ..utils import EMPTY, ShapeLike, broadcast_all, lazy_property
from ._passes import LARGE, host_min, scalars, untracked
from .normal import Normal, _kl_normal_normal

__all__ = ["LogNormal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Scales for which log_prob of a big value completes the square (as exact as the textbook form:
# a few more roundings on the square below, a large sigma^2/2 cancelling above).
_SQUARE_SCALES = (0.125, 2.0)


class LogNormal(DirectTransformedDistribution):
    r"""Log-normal distribution: :math:`Y = e^X` for :math:`X \sim \mathrm{Normal}(\mu, \sigma)`,

    .. math:: p(y) = \frac{1}{y\,\sigma\sqrt{2\pi}}
        \exp\Big(-\frac{(\log y - \mu)^2}{2\sigma^2}\Big), \qquad y > 0.

    Computed directly (not through the base distribution): the tail functions through the
    normal cdf in ``erfc``/``log_ndtr`` form, exact far out in both tails; the variance without
    overflow of :math:`e^{\sigma^2}`.

    Args:
        loc: mean :math:`\mu` of :math:`\log Y`.
        scale: standard deviation :math:`\sigma > 0` of :math:`\log Y`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> LogNormal(torch.tensor(0.0), torch.tensor(1.0)).cdf(torch.tensor(1.0))
        tensor(0.5000)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(
        self, loc: Tensor | float, scale: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        Distribution.__init__(self, self.loc.shape, validate_args=validate_args)

    @lazy_property
    def base_dist(self) -> Normal:  # type: ignore[override]
        return Normal(self.loc, self.scale, validate_args=False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [ExpTransform()]

    @property
    def mean(self) -> Tensor:
        return torch.addcmul(self.loc, self.scale, self.scale, value=0.5).exp()

    @property
    def mode(self) -> Tensor:
        return torch.addcmul(self.loc, self.scale, self.scale, value=-1).exp()

    @property
    def variance(self) -> Tensor:
        # e^{2 mu + 2 s^2} (1 - e^{-s^2}): no overflow of expm1(s^2) when the product is finite
        s2 = self.scale.square()
        return torch.exp(2 * (self.loc + s2)) * torch.expm1(-s2).neg()

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = self.loc.new_empty(shape).normal_(generator=generator)
        return torch.addcmul(self.loc, eps, self.scale).exp_()

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        numbers = scalars(value, self.loc, self.scale) if value.numel() >= LARGE else None
        if numbers is not None and _SQUARE_SCALES[0] <= numbers[1] <= _SQUARE_SCALES[1]:
            low = host_min(value)
            if low is not None and low > 0:  # big, in the support, no graph: one buffer
                return self._log_prob_square(value, *numbers)
        y = value.log()
        if value.numel() >= LARGE and scalars(value, self.loc) == [0.0]:  # one pass fewer
            z = y / self.scale
        else:
            z = (y - self.loc).div_(self.scale)
        low = host_min(value)
        same = y.shape == z.shape and y.dtype == z.dtype  # (no broadcasting, no promotion)
        if low is not None and low > 0 and untracked(y, z) and same:  # big, in the support
            neg_norm = self.scale.log().add_(_HALF_LOG_2PI).neg_()
            return torch.sub(neg_norm, y, out=y).addcmul_(z, z, value=-0.5)
        t = self.scale.log().add_(_HALF_LOG_2PI) + y  # log(x sigma sqrt(2 pi)), full shape
        return t.addcmul_(z, z, value=0.5).neg_().masked_fill_(value <= 0, -math.inf)

    def _log_prob_square(self, value: Tensor, mu: float, sigma: float) -> Tensor:
        r"""The square completed: with :math:`t = \log x - \mu + \sigma^2`,
        :math:`\log p = \sigma^2/2 - \mu - \log(\sigma\sqrt{2\pi}) - t^2/(2\sigma^2)`, three
        passes over one buffer; as exact as the textbook form for the scales of
        ``_SQUARE_SCALES`` (beyond, :math:`\sigma^2/2` cancels against the square)."""
        t = torch.log(value)
        t = t if mu == 0 else t.sub_(self.loc)  # (mu - sigma^2 in one constant is not exact)
        t = t.add_(sigma * sigma)
        head = 0.5 * sigma * sigma - mu - math.log(sigma) - _HALF_LOG_2PI
        head_t = torch.tensor(head, dtype=value.dtype)
        return torch.addcmul(head_t, t, t, value=-0.5 / (sigma * sigma), out=t)

    def _z(self, value: Tensor) -> Tensor:
        return (value.clamp_min(0).log() - self.loc) / self.scale

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return ndtr(self._z(value))

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return torch.special.log_ndtr(self._z(value))

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return ndtr(self._z(value).neg_())

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return torch.special.log_ndtr(self._z(value).neg_())

    def icdf(self, value: Tensor) -> Tensor:
        return torch.addcmul(self.loc, torch.special.ndtri(value), self.scale).exp_()

    def entropy(self) -> Tensor:
        return self.scale.log().add_(0.5 + _HALF_LOG_2PI) + self.loc


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p: LogNormal, q: LogNormal) -> Tensor:
    """The KL divergence of the underlying normals (``exp`` is a bijection)."""
    return _kl_normal_normal(p, q)  # type: ignore[arg-type]
