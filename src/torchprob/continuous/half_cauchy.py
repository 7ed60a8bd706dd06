"""The half-Cauchy distribution: the absolute value of a centred Cauchy variable."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..distribution import Distribution, validate_sample
from ..transforms import AbsTransform, Transform
from ..utils import EMPTY, ShapeLike, broadcast_all, lazy_property
from ._passes import host_min, scalars
from .cauchy import Cauchy, _log_pi_density

__all__ = ["HalfCauchy"]

_LOG_2_OVER_PI = math.log(2 / math.pi)
_LOG_2PI = math.log(2 * math.pi)
_TWO_OVER_PI = 2 / math.pi
_HALF_PI = math.pi / 2


class HalfCauchy(DirectTransformedDistribution):
    r"""Half-Cauchy distribution with scale :math:`\gamma` (``scale``), the law of :math:`|X|` for
    :math:`X \sim \mathrm{Cauchy}(0, \gamma)`:

    .. math:: p(x) = \frac{2}{\pi\gamma\,\big(1 + (x/\gamma)^2\big)}, \qquad x \ge 0.

    Computed directly (not through the base distribution): the tail functions are angles,
    exact near 0 and in the far right tail.

    Args:
        scale: scale :math:`\gamma > 0` of the full Cauchy distribution.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> HalfCauchy(torch.tensor(1.0)).icdf(torch.tensor(0.5))
        tensor(1.)
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale: Tensor | float, validate_args: bool | None = None) -> None:
        (self.scale,) = broadcast_all(scale)
        Distribution.__init__(self, self.scale.shape, validate_args=validate_args)

    @lazy_property
    def base_dist(self) -> Cauchy:  # type: ignore[override]
        return Cauchy(torch.zeros_like(self.scale), self.scale, validate_args=False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [AbsTransform()]

    @property
    def mean(self) -> Tensor:
        return torch.full_like(self.scale, math.inf)

    @property
    def mode(self) -> Tensor:
        return torch.zeros_like(self.scale)

    @property
    def variance(self) -> Tensor:
        return torch.full_like(self.scale, math.inf)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = self.scale.new_empty(shape).cauchy_(generator=generator).abs_()
        return eps * self.scale

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        scale = self.scale
        gamma = (scalars(value, scale) or [math.nan])[0]
        low = host_min(value) if gamma > 0 else None
        if low is not None and low >= 0:  # big, no graph, all in the support: three passes
            head = torch.tensor(math.log(gamma) + _LOG_2_OVER_PI, dtype=value.dtype)
            h = torch.hypot(value, scale).log_()
            return torch.sub(head, h, alpha=2, out=h)
        if torch.is_grad_enabled() and (value.requires_grad or scale.requires_grad):
            result = _log_pi_density(scale, value).add_(_LOG_2_OVER_PI)
        else:  # no graph to keep: one buffer for the whole chain
            h = torch.hypot(value, scale).log_()
            result = torch.sub(scale.log(), h, alpha=2, out=h).add_(_LOG_2_OVER_PI)
        low = host_min(value)
        if low is not None and low >= 0:  # a big value, all in the support: no mask
            return result
        return result.masked_fill_(value < 0, -math.inf)

    # P(X <= x) = (2/pi) atan(x/scale) and P(X > x) = (2/pi) atan2(scale, x): exact at both ends.
    def _z(self, value: Tensor) -> Tensor:
        return (value / self.scale).clamp_min(0)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return torch.atan(self._z(value)).mul_(_TWO_OVER_PI)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        z = self._z(value)
        near = torch.atan(z).mul_(_TWO_OVER_PI).log_()
        far = torch.atan(z.reciprocal()).mul_(-_TWO_OVER_PI).log1p_()
        return torch.where(z < 1, near, far)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return torch.atan(self._z(value).reciprocal()).mul_(_TWO_OVER_PI)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        z = self._z(value)
        near = torch.atan(z).mul_(-_TWO_OVER_PI).log1p_()
        far = torch.atan(z.reciprocal()).mul_(_TWO_OVER_PI).log_()
        return torch.where(z < 1, near, far)

    def icdf(self, value: Tensor) -> Tensor:
        # tan(pi u / 2) below the median; 1 / tan(pi (1 - u) / 2) above it (1 - u exact there).
        upper = value > 0.5
        t = torch.tan(torch.where(upper, 1 - value, value) * _HALF_PI)
        return torch.where(upper, t.reciprocal(), t) * self.scale

    def entropy(self) -> Tensor:
        return self.scale.log() + _LOG_2PI
