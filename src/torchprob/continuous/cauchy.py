"""The Cauchy (Lorentz) distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all
from ._passes import LARGE, scalars

__all__ = ["Cauchy"]

_LOG_PI = math.log(math.pi)
_LOG_4PI = math.log(4 * math.pi)
_INV_PI = 1 / math.pi


def _log_pi_density(scale: Tensor, d: Tensor) -> Tensor:
    r""":math:`\log\frac{\gamma}{\gamma^2 + d^2} = \log\gamma - 2\log\operatorname{hypot}(\gamma,
    d)`: ``hypot`` neither overflows nor loses the small :math:`d` (gradients finite at 0)."""
    return torch.sub(scale.log(), torch.hypot(scale, d).log(), alpha=2)


def _log_angle(scale: Tensor, d: Tensor) -> Tensor:
    r""":math:`\log(\operatorname{atan2}(\gamma, d) / \pi)`, through ``log1p`` of the other tail
    where the angle is near :math:`\pi` (so that a tail of 1e-300 is kept)."""
    near = torch.atan2(scale, d).mul_(_INV_PI).log_()
    far = torch.atan2(scale, d.neg()).mul_(-_INV_PI).log1p_()
    return torch.where(d > 0, near, far)


class Cauchy(Distribution):
    r"""Cauchy distribution with median :math:`x_0` (``loc``) and half width at half maximum
    :math:`\gamma` (``scale``):

    .. math:: p(x) = \frac{1}{\pi\gamma\,\big(1 + ((x - x_0)/\gamma)^2\big)},
        \qquad x \in \mathbb{R}.

    The cdf and the tail functions are computed as angles (``atan2``), exact in both tails;
    ``icdf`` is exact for probabilities near 0 and 1.

    Args:
        loc: median (and mode) :math:`x_0`.
        scale: half width at half maximum :math:`\gamma > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Cauchy(torch.tensor(0.0), torch.tensor(1.0)).cdf(torch.tensor(1.0))
        tensor(0.7500)
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
        return torch.full_like(self.loc, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return torch.full_like(self.loc, math.inf)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = self.loc.new_empty(shape).cauchy_(generator=generator)
        return torch.addcmul(self.loc, eps, self.scale)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        scale = self.scale
        numbers = scalars(value, self.loc, scale) if value.numel() >= LARGE else None
        if numbers is not None and numbers[1] > 0:  # big, no graph: three or four passes
            loc, gamma = numbers
            h = torch.hypot(value, scale) if loc == 0 else torch.sub(value, self.loc)
            h = (h if loc == 0 else torch.hypot(h, scale, out=h)).log_()
            head = torch.tensor(math.log(gamma) - _LOG_PI, dtype=value.dtype)
            return torch.sub(head, h, alpha=2, out=h)
        d = value - self.loc
        if torch.is_grad_enabled() and (d.requires_grad or scale.requires_grad):
            return _log_pi_density(scale, d).sub_(_LOG_PI)
        # No graph to keep: one buffer for the whole chain.
        h = torch.hypot(d, scale, out=d).log_()
        return torch.sub(scale.log(), h, alpha=2, out=h).sub_(_LOG_PI)

    # P(X <= x) is the angle atan2(scale, loc - x) / pi: no cancellation in either tail.
    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return torch.atan2(self.scale, self.loc - value).mul_(_INV_PI)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return _log_angle(self.scale, self.loc - value)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return torch.atan2(self.scale, value - self.loc).mul_(_INV_PI)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return _log_angle(self.scale, value - self.loc)

    def icdf(self, value: Tensor) -> Tensor:
        # tan(pi (u - 1/2)) where u - 1/2 is exact (1/4 <= u <= 3/4); in the tails
        # cot(pi w) = -cot(pi u) with w = -u or w = 1 - u, both exact, so that tiny tail
        # probabilities keep their digits (and u = 0, 1 give -inf, +inf through w = -0, +0).
        w = torch.where(value > 0.5, 1 - value, value.neg())
        tail = torch.tan(w * math.pi).reciprocal()
        centre = torch.tan((value - 0.5) * math.pi)
        z = torch.where(w.abs() < 0.25, tail, centre)
        return torch.addcmul(self.loc, z, self.scale)

    def entropy(self) -> Tensor:
        return self.scale.log() + _LOG_4PI


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    r""":math:`\log\frac{(\gamma_p + \gamma_q)^2 + (x_p - x_q)^2}{4\gamma_p\gamma_q}`, computed as
    ``log1p`` of :math:`\frac{(\gamma_p - \gamma_q)^2 + (x_p - x_q)^2}{4\gamma_p\gamma_q}` (exact
    for nearly equal distributions)."""
    num = (p.scale - q.scale).square() + (p.loc - q.loc).square()
    return torch.log1p(num / (4 * p.scale * q.scale))
