"""The exponential distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all
from .normal import Normal, _expm1_minus_identity, _log_ratio

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    r"""Exponential distribution with rate :math:`\lambda` (``rate``):

    .. math:: p(x) = \lambda e^{-\lambda x}, \qquad x \ge 0.

    Args:
        rate: rate :math:`\lambda > 0` (the inverse of the mean).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Exponential(torch.tensor([2.0])).icdf(torch.tensor([0.5]))
        tensor([0.3466])
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate: Tensor | float, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return torch.zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.square().reciprocal()

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.rate.new_empty(shape).exponential_(generator=generator) / self.rate

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        rate = self.rate
        return torch.addcmul(rate.log(), rate, value, value=-1)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return -torch.expm1(-self.rate * value)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return torch.exp(-self.rate * value)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return -self.rate * value

    def icdf(self, value: Tensor) -> Tensor:
        return -torch.log1p(-value) / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (-self.rate,)

    def _log_normalizer(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return -torch.log(-x)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    r""":math:`\frac{\lambda_q}{\lambda_p} - 1 - \log\frac{\lambda_q}{\lambda_p}`, as
    :math:`e^u - 1 - u` with :math:`u = \ln(\lambda_q/\lambda_p)` from the relative difference of
    the rates: no cancellation for nearly equal rates."""
    return _expm1_minus_identity(_log_ratio(q.rate, p.rate))


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p: Exponential, q: Normal) -> Tensor:
    r""":math:`\log\lambda - 1 + \log(\sigma\sqrt{2\pi})
    + \frac{1/\lambda^2 + (1/\lambda - \mu)^2}{2\sigma^2}`."""
    mean = p.rate.reciprocal()
    second_moment = mean.square() + (mean - q.loc).square()
    return (
        p.rate.log()
        - 1
        + q.scale.log()
        + 0.5 * math.log(2 * math.pi)
        + second_moment / (2 * q.scale.square())
    )


@register_kl(Normal, Exponential)
def _kl_normal_exponential(p: Normal, q: Exponential) -> Tensor:
    """Infinite: the normal puts mass on negative numbers, where the exponential has none."""
    return torch.full_like(p.loc + q.rate, math.inf)
