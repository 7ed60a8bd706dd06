"""The Pareto (type I) distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..distribution import Distribution, _log1mexp, validate_sample
from ..kl import _infinite_like, register_kl
from ..transforms import AffineTransform, ExpTransform, Transform
from ..utils import EMPTY, ShapeLike, broadcast_all, host_number, lazy_property
from ._passes import host_min, scalars, untracked
from .exponential import Exponential
from .normal import Normal, _expm1_minus_identity
from .uniform import Uniform

__all__ = ["Pareto"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _log_ratio(x: Tensor, scale: Tensor) -> Tensor:
    """``log(x / scale)``: exact near ``x = scale`` (``log1p``), and no overflow of the ratio."""
    d = (x - scale).div_(scale)
    number = host_number(scale)
    if number is not None and number >= 1:  # x / scale <= x
        return d.log1p_()
    return torch.where(d.isinf(), x.log() - scale.log(), torch.log1p(d))


class Pareto(DirectTransformedDistribution):
    r"""Pareto (type I) distribution with scale :math:`s` (``scale``) and shape :math:`\alpha`
    (``alpha``):

    .. math:: p(x) = \frac{\alpha\, s^\alpha}{x^{\alpha + 1}}, \qquad x \ge s.

    Computed directly (not through the base distribution), with :math:`t = \log(x / s)` taken
    as ``log1p((x - s) / s)``: :math:`\log S(x) = -\alpha t` exactly and :math:`F(x) =
    -\operatorname{expm1}(-\alpha t)`, exact at both ends of the support.

    Args:
        scale: scale :math:`s > 0`, the lower end of the support.
        alpha: shape (tail index) :math:`\alpha > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Pareto(torch.tensor(1.0), torch.tensor(2.0)).cdf(torch.tensor(2.0))
        tensor(0.7500)
    """

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(
        self, scale: Tensor | float, alpha: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        Distribution.__init__(self, self.scale.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.greater_than_eq(self.scale)

    @lazy_property
    def base_dist(self) -> Exponential:  # type: ignore[override]
        return Exponential(self.alpha, validate_args=False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp_min(1)  # infinite for alpha <= 1
        return a * self.scale / (a - 1)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp_min(2)
        result = (self.scale / (a - 1)).square() * (a / (a - 2))
        return result.masked_fill_(self.alpha <= 2, math.inf)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        e = self.alpha.new_empty(shape).exponential_(generator=generator)
        return (e / self.alpha).exp_() * self.scale

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        # log(alpha / s) - (alpha + 1) t
        scale, alpha = scalars(value, self.scale, self.alpha) or (math.nan, math.nan)
        low = host_min(value) if scale > 0 and alpha > 0 else None
        if low is not None and low >= scale:  # big, no graph, all in the support
            t = torch.log(value) if scale == 1 else _log_ratio(value, self.scale)  # (log is exact)
            head = torch.tensor(math.log(alpha) - math.log(scale), dtype=value.dtype)
            return torch.add(head, t, alpha=-(alpha + 1), out=t)
        t = _log_ratio(value, self.scale)
        head = self.alpha.log() - self.scale.log()
        if untracked(t, head):  # no graph to keep: reuse t's buffer
            result = torch.addcmul(head, self.alpha + 1, t, value=-1, out=t)
        else:
            result = torch.addcmul(head, self.alpha + 1, t, value=-1)
        return result.masked_fill_(value < self.scale, -math.inf)

    def _t(self, value: Tensor) -> Tensor:
        return _log_ratio(torch.maximum(value, self.scale), self.scale)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return torch.expm1(-self.alpha * self._t(value)).neg()

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return _log1mexp(-self.alpha * self._t(value))

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return torch.exp(-self.alpha * self._t(value))

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return -self.alpha * self._t(value)

    def icdf(self, value: Tensor) -> Tensor:
        return (torch.log1p(-value) / self.alpha).neg_().exp_() * self.scale

    def entropy(self) -> Tensor:
        return (self.scale.log() - self.alpha.log()).add_(1) + self.alpha.reciprocal()


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Pareto, q: Pareto) -> Tensor:
    r""":math:`\alpha_q \log\frac{s_p}{s_q} + r - 1 - \log r` with :math:`r = \alpha_q /
    \alpha_p`; infinite when :math:`s_p < s_q`."""
    result = q.alpha * (p.scale / q.scale).log() + _expm1_minus_identity(
        q.alpha.log() - p.alpha.log()
    )
    return result.masked_fill(p.scale < q.scale, math.inf)


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> Tensor:
    r""":math:`\log\frac{\alpha}{s\lambda} - 1 - \frac1\alpha + \frac{\lambda\alpha s}{\alpha-1}`;
    infinite for :math:`\alpha \le 1`."""
    result = (p.alpha / (q.rate * p.scale)).log() - 1 - p.alpha.reciprocal() + q.rate * p.mean
    return result.masked_fill(p.alpha <= 1, math.inf)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> Tensor:
    r""":math:`-H(p) + \log(\sigma\sqrt{2\pi}) + E_p[(x-\mu)^2]/(2\sigma^2)`; infinite for
    :math:`\alpha \le 2`."""
    second_moment = p.variance + (p.mean - q.loc).square()
    result = q.scale.log() + _HALF_LOG_2PI - p.entropy() + second_moment / (2 * q.scale.square())
    return result.masked_fill(p.alpha <= 2, math.inf)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Uniform, q: Pareto) -> Tensor:
    r""":math:`-\log(b-a) - \log\alpha - \alpha\log s + (\alpha+1) E_p[\log x]`; infinite when
    :math:`a < s`. :math:`E_p[\log x] = \log b - 1 + \operatorname{log1p}(d)/d`, :math:`d =
    (b-a)/a`, stays exact for narrow intervals."""
    width = p.high - p.low
    d = width / p.low
    ratio = torch.where(d == 0, 1.0, torch.log1p(d) / d)  # log1p(d)/d, 1 at d = 0
    mean_log = p.high.log() - 1 + ratio
    result = (q.alpha + 1) * mean_log - width.log() - q.alpha.log() - q.alpha * q.scale.log()
    return result.masked_fill(p.low < q.scale, math.inf)


@register_kl(Pareto, Uniform)
def _kl_pareto_uniform(p: Pareto, q: Uniform) -> Tensor:
    """Infinite: the Pareto's support is unbounded."""
    return _infinite_like(p.scale + q.low)


@register_kl(Exponential, Pareto)
def _kl_exponential_pareto(p: Exponential, q: Pareto) -> Tensor:
    """Infinite: the exponential puts mass below any Pareto scale."""
    return _infinite_like(p.rate + q.scale)


@register_kl(Normal, Pareto)
def _kl_normal_pareto(p: Normal, q: Pareto) -> Tensor:
    """Infinite: the normal puts mass below any Pareto scale."""
    return _infinite_like(p.loc + q.scale)
