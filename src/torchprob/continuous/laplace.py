"""The Laplace (double exponential) distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all
from .exponential import Exponential
from .normal import Normal, _expm1_minus_identity
from .uniform import Uniform

__all__ = ["Laplace"]

_LOG2 = math.log(2)
_SQRT2 = math.sqrt(2)


class Laplace(Distribution):
    r"""Laplace distribution with location :math:`\mu` (``loc``) and scale :math:`b` (``scale``):

    .. math:: p(x) = \frac{1}{2b} \exp\Big(-\frac{|x - \mu|}{b}\Big), \qquad x \in \mathbb{R}.

    Each tail function is computed from the side where it is small (``exp``, ``log1p``), so
    both tails are exact.

    Args:
        loc: location (mean, median and mode) :math:`\mu`.
        scale: scale :math:`b > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Laplace(torch.tensor(0.0), torch.tensor(1.0)).cdf(torch.tensor(0.0))
        tensor(0.5000)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(
        self, loc: Tensor | float, scale: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.square()

    @property
    def stddev(self) -> Tensor:
        return _SQRT2 * self.scale

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        # The difference of two independent standard exponentials is a standard Laplace variable.
        e = self.loc.new_empty((2,) + shape).exponential_(generator=generator)
        return torch.addcmul(self.loc, self.scale, e[0].sub_(e[1]))

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        scale = self.scale
        dist = (value - self.loc).abs_()
        if torch.is_grad_enabled() and (dist.requires_grad or scale.requires_grad):
            return torch.addcdiv((scale + scale).log(), dist, scale).neg_()
        return dist.div_(scale).add_((scale + scale).log()).neg_()  # one buffer, no graph

    # With z = (x - mu) / b and e = exp(-|z|) / 2, the tail on z's side is e, the other 1 - e.
    def _z_e(self, value: Tensor) -> tuple[Tensor, Tensor]:
        z = (value - self.loc) / self.scale
        return z, z.abs().neg_().exp_().mul_(0.5)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        z, e = self._z_e(value)
        return torch.where(z < 0, e, 1 - e)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        z, e = self._z_e(value)
        return torch.where(z > 0, e, 1 - e)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        z, e = self._z_e(value)
        return torch.where(z < 0, z - _LOG2, torch.log1p(-e))

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        z, e = self._z_e(value)
        return torch.where(z > 0, (-_LOG2) - z, torch.log1p(-e))

    def icdf(self, value: Tensor) -> Tensor:
        # log(2u) below the median, -log(2(1 - u)) above: both arguments exact.
        upper = value > 0.5
        t = torch.where(upper, 1 - value, value).mul(2).log()
        return torch.addcmul(self.loc, torch.where(upper, -t, t), self.scale)

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + _LOG2)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    r""":math:`\log\frac{b_q}{b_p} + \frac{|\Delta|}{b_q} + \frac{b_p}{b_q} e^{-|\Delta|/b_p} - 1`
    with :math:`\Delta = \mu_p - \mu_q`, arranged as ``expm1(u) - u`` plus the rest so that
    nearly equal distributions give a small, accurate value."""
    dist = (p.loc - q.loc).abs()
    u = p.scale.log() - q.scale.log() - dist / p.scale
    return _expm1_minus_identity(u) + dist * (1 / q.scale - 1 / p.scale)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p: Laplace, q: Normal) -> Tensor:
    r""":math:`\log\frac{\sigma\sqrt{2\pi}}{2b} - 1
    + \frac{2b^2 + (\mu_p - \mu_q)^2}{2\sigma^2}`."""
    second_moment = 2 * p.scale.square() + (p.loc - q.loc).square()
    return (
        q.scale.log()
        - p.scale.log()
        + (0.5 * math.log(2 * math.pi) - _LOG2 - 1)
        + second_moment / (2 * q.scale.square())
    )


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Normal, q: Laplace) -> Tensor:
    r""":math:`\log\frac{2b}{\sigma\sqrt{2\pi e}} + E_p|x - \mu_q| / b` with
    :math:`E_p|x - \mu_q| = \sigma\sqrt{2/\pi}\, e^{-\Delta^2/2\sigma^2}
    + \Delta \operatorname{erf}(\Delta / \sigma\sqrt2)`."""
    diff = p.loc - q.loc
    t = diff / p.scale
    mean_abs = math.sqrt(2 / math.pi) * p.scale * torch.exp(-0.5 * t.square()) + diff * torch.erf(
        t / _SQRT2
    )
    return (
        q.scale.log()
        - p.scale.log()
        + mean_abs / q.scale
        + (_LOG2 - 0.5 * math.log(2 * math.pi * math.e))
    )


@register_kl(Laplace, Uniform)
def _kl_laplace_uniform(p: Laplace, q: Uniform) -> Tensor:
    """Infinite: the Laplace distribution puts mass on the whole line."""
    return torch.full_like(p.loc + q.low, math.inf)


@register_kl(Laplace, Exponential)
def _kl_laplace_exponential(p: Laplace, q: Exponential) -> Tensor:
    """Infinite: the Laplace distribution puts mass on negative numbers."""
    return torch.full_like(p.loc + q.rate, math.inf)
