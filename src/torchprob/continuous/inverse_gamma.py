"""The inverse gamma distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints, special
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..distribution import Distribution, validate_sample
from ..transforms import PowerTransform, Transform
from ..utils import EMPTY, ShapeLike, broadcast_all, lazy_property
from .gamma import Gamma, entropy_core, gamma_log_prob, log_gammainc

__all__ = ["InverseGamma"]


class InverseGamma(DirectTransformedDistribution):
    r"""Inverse gamma distribution with shape :math:`a` (``concentration``) and scale
    :math:`\beta` (``rate``): :math:`Y = 1/X` for :math:`X \sim \mathrm{Gamma}(a, \beta)`,

    .. math:: p(y) = \frac{\beta^a}{\Gamma(a)} y^{-a-1} e^{-\beta/y}, \qquad y > 0.

    Computed directly (``base_dist`` and ``transforms`` are there for compatibility): the
    density exact for large :math:`a`, the cdf :math:`Q(a, \beta/y)` and survival function
    :math:`P(a, \beta/y)` each exact in its own tail, and ``icdf`` their inverse.

    Args:
        concentration: shape :math:`a > 0`.
        rate: :math:`\beta > 0`, the rate of :math:`X` (the scale of :math:`Y`).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> InverseGamma(torch.tensor([3.0]), torch.tensor([4.0])).mean
        tensor([2.])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(
        self,
        concentration: Tensor | float,
        rate: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        Distribution.__init__(self, self.concentration.shape, validate_args=validate_args)

    @lazy_property
    def base_dist(self) -> Gamma:  # type: ignore[override]
        return Gamma(self.concentration, self.rate, validate_args=False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [PowerTransform(-self.rate.new_ones(()))]

    @property
    def mean(self) -> Tensor:
        a = self.concentration
        return (self.rate / (a - 1)).masked_fill(a <= 1, math.inf)

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        a = self.concentration
        var = self.rate.square() / ((a - 1).square() * (a - 2))
        return var.masked_fill(a <= 2, math.inf)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        a = self.concentration
        if a.shape != shape:
            a = a.expand(shape)
        value = self.rate / torch._standard_gamma(a, generator=generator)
        value.detach().clamp_(max=1 / torch.finfo(value.dtype).tiny)  # overflow stays finite
        return value

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return gamma_log_prob(self.concentration, self.rate, value, -1)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return special.gammaincc(self.concentration, self.rate / value)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return special.gammaincc(self.concentration, self.rate / value).log()

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return special.gammainc(self.concentration, self.rate / value)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        """Exact in the heavy right tail, also beyond the underflow of the survival function."""
        return log_gammainc(self.concentration, self.rate / value)

    def icdf(self, value: Tensor) -> Tensor:
        return self.rate / special.gammainccinv(self.concentration, value)

    def entropy(self) -> Tensor:
        a = self.concentration
        return entropy_core(a) - 2 * torch.digamma(a) + self.rate.log()
