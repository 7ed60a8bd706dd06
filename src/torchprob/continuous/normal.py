"""The normal (Gaussian) distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..special import ndtr
from ..utils import EMPTY, ShapeLike, broadcast_all

__all__ = ["Normal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Normal(ExponentialFamily):
    r"""Normal distribution with mean :math:`\mu` (``loc``) and standard deviation :math:`\sigma`
    (``scale``):

    .. math:: p(x) = \frac{1}{\sigma\sqrt{2\pi}} \exp\Big(-\frac{(x-\mu)^2}{2\sigma^2}\Big),
        \qquad x \in \mathbb{R}.

    Args:
        loc: mean :math:`\mu`.
        scale: standard deviation :math:`\sigma > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> d = Normal(torch.tensor([0.0]), torch.tensor([1.0]))
        >>> d.cdf(torch.tensor([0.0]))
        tensor([0.5000])
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _mean_carrier_measure = 0

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
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.square()

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        # Noise drawn from the parameters (never a fresh tensor), so DTensor parameters work.
        eps = self.loc.new_empty(shape).normal_(generator=generator)
        return torch.addcmul(self.loc, eps, self.scale)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        loc, scale = self.loc, self.scale
        log_norm = (-_HALF_LOG_2PI) - scale.log()
        z = value - loc
        if torch.is_grad_enabled() and (z.requires_grad or scale.requires_grad):
            z = z / scale
            return torch.addcmul(log_norm, z, z, value=-0.5)
        # No graph to keep: reuse the fresh intermediate (its shape already covers the batch),
        # one memory pass per op.
        z.div_(scale)
        return torch.addcmul(log_norm, z, z, value=-0.5, out=z)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return ndtr((value - self.loc) / self.scale)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return torch.special.log_ndtr((value - self.loc) / self.scale)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return ndtr((self.loc - value) / self.scale)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return torch.special.log_ndtr((self.loc - value) / self.scale)

    def icdf(self, value: Tensor) -> Tensor:
        return torch.addcmul(self.loc, torch.special.ndtri(value), self.scale)

    def entropy(self) -> Tensor:
        return (0.5 + _HALF_LOG_2PI) + self.scale.log()

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        precision = self.scale.square().reciprocal()
        return (self.loc * precision, -0.5 * precision)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:  # type: ignore[override]
        return -0.25 * x.square() / y + 0.5 * torch.log(-math.pi / y)


def _expm1_minus_identity(u: Tensor) -> Tensor:
    """``exp(u) - 1 - u``, the non-negative term shared by several KL closed forms."""
    return torch.expm1(u) - u


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    r""":math:`\log\frac{\sigma_q}{\sigma_p} + \frac{\sigma_p^2 + (\mu_p-\mu_q)^2}{2\sigma_q^2}
    - \frac12`."""
    log_var_ratio = 2 * (p.scale.log() - q.scale.log())
    t = (p.loc - q.loc) / q.scale
    return 0.5 * (_expm1_minus_identity(log_var_ratio) + t.square())
