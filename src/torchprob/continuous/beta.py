"""The beta distribution, and the log-beta function its relatives share."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints, special
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all, host_number
from ._passes import LARGE, untracked
from .exponential import Exponential
from .gamma import (
    _TRUST,
    SERIES_FROM,
    Gamma,
    bounds,
    entropy_core,
    lgamma_bregman,
    shifted,
    stirling_delta,
)
from .normal import Normal, _expm1_minus_identity, _may_hold
from .uniform import Uniform

__all__ = ["Beta"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def lgamma_diff(y: Tensor, x: Tensor) -> Tensor:
    r""":math:`\ln\Gamma(y) - \ln\Gamma(y + x)` for :math:`x \ge 0`; from :math:`y = 32` as
    :math:`-(y-\frac12)\operatorname{log1p}(x/y) - x\ln(y+x) + x + \delta(y) - \delta(y+x)`,
    whose absolute error is about :math:`\epsilon\, x \ln y` instead of
    :math:`\epsilon\, y \ln y`."""
    small = y.clamp(max=SERIES_FROM)
    large = y.clamp(min=SERIES_FROM)
    direct = torch.lgamma(small) - torch.lgamma(small + x)
    total = large + x
    series = (x - (large - 0.5) * torch.log1p(x / large)) - x * torch.log(total)
    series = series + (stirling_delta(large) - stirling_delta(total))
    return torch.where(y >= SERIES_FROM, series, direct)


def log_beta(a: Tensor, b: Tensor) -> Tensor:
    r""":math:`\ln B(a, b) = \ln\Gamma(\min) + [\ln\Gamma(\max) - \ln\Gamma(a + b)]`, the
    bracket from :func:`lgamma_diff`: exact when either argument is large."""
    lo, hi = torch.minimum(a, b), torch.maximum(a, b)
    return torch.lgamma(lo) + lgamma_diff(hi, lo)


def _saddle(a: Tensor, b: Tensor, x: Tensor) -> Tensor:
    r"""Loader's form of the log-density for :math:`a, b \ge 32`: with :math:`c = a+b`,
    :math:`r_1 = cx/a`, :math:`r_2 = c(1-x)/b`, :math:`\frac12\ln\frac{c^3}{2\pi ab} -
    \delta(a) - \delta(b) + \delta(c) + \sum a(1-r_1) + (a-1)\ln r_1`: no term cancels."""
    c = a + b
    r1 = x * (c / a)
    r2 = (1 - x) * (c / b)
    const = 0.5 * torch.log(c.square() * (c / (a * b))) - _HALF_LOG_2PI
    const = const - (stirling_delta(a) + stirling_delta(b) - stirling_delta(c))
    first = torch.addcmul(torch.addcmul(const, a, 1 - r1), a - 1, r1.log())
    return torch.addcmul(torch.addcmul(first, b, 1 - r2), b - 1, r2.log())


class Beta(ExponentialFamily):
    r"""Beta distribution with shapes :math:`a` (``concentration1``) and :math:`b`
    (``concentration0``):

    .. math:: p(x) = \frac{x^{a-1}(1-x)^{b-1}}{B(a, b)}, \qquad 0 \le x \le 1.

    ``log_prob``, ``entropy`` and the log-normalizer stay exact for shapes from
    :math:`10^{-3}` to :math:`10^{5}` and beyond; samples are drawn in log space, so that tiny
    shapes give the tiny values they should (not 0/0 of two underflowed gammas). The cdf and
    survival function are the regularized incomplete beta function and its complement, each
    tail computed directly; ``icdf`` is its inverse.

    Args:
        concentration1: :math:`a > 0` (often called alpha).
        concentration0: :math:`b > 0` (often called beta).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Beta(torch.tensor([2.0]), torch.tensor([6.0])).mean
        tensor([0.2500])
    """

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self,
        concentration1: Tensor | float,
        concentration0: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        """:math:`(a-1)/(a+b-2)`; 0 or 1 when one shape is at most 1; when both are below 1
        the density is unbounded at both ends: 1, as torch (NaN when one of them is 1)."""
        a, b = self.concentration1, self.concentration0
        am1 = (a - 1).clamp(min=0)
        mode = am1 / (am1 + (b - 1).clamp(min=0))
        return mode.masked_fill((a < 1) & (b < 1), 1.0)

    @property
    def variance(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total.square() * (total + 1))

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """:math:`X/(X+Y)` for independent gammas (implicitly reparameterized); below shape 1,
        from their logarithms :math:`\\ln G(a+1) - E/a` (:math:`E` exponential), which do not
        underflow."""
        shape = self._extended_shape(sample_shape)
        a, b = self.concentration1, self.concentration0
        span_a, span_b = bounds(a), bounds(b)
        if span_a is not None and span_b is not None and min(span_a[0], span_b[0]) >= 1:
            if a.shape != shape:
                a, b = a.expand(shape), b.expand(shape)
            x = torch._standard_gamma(a, generator=generator)
            return x / (x + torch._standard_gamma(b, generator=generator))
        shapes = torch.stack((a, b), -1).expand(shape + (2,))
        g = torch._standard_gamma(shapes + 1, generator=generator)
        e = shapes.new_empty(shapes.shape).exponential_(generator=generator)
        log_g = torch.addcdiv(g.log(), e, shapes, value=-1)
        x = torch.sigmoid(log_g[..., 0] - log_g[..., 1])
        return x.clamp(min=torch.finfo(x.dtype).tiny)  # as torch: no draw is exactly 0

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        a, b = self.concentration1, self.concentration0
        span_a, span_b = bounds(a), bounds(b)
        if span_a is not None and span_b is not None:
            if min(span_a[0], span_b[0]) >= SERIES_FROM:
                return _saddle(a, b, value)
            if max(span_a[1], span_b[1]) < SERIES_FROM:  # log_beta's sums, without its branches
                lo, hi = torch.minimum(a, b), torch.maximum(a, b)
                log_norm = torch.lgamma(lo) + (torch.lgamma(hi) - torch.lgamma(hi + lo))
                return _direct(a, b, value, log_norm)
        big = torch.minimum(a, b) >= SERIES_FROM
        saddle = _saddle(a.clamp(min=SERIES_FROM), b.clamp(min=SERIES_FROM), value)
        return torch.where(big, saddle, _direct(a, b, value, log_beta(a, b)))

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return special.betainc(self.concentration1, self.concentration0, value)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return special.betaincc(self.concentration1, self.concentration0, value)

    def icdf(self, value: Tensor) -> Tensor:
        return special.betaincinv(self.concentration1, self.concentration0, value)

    def entropy(self) -> Tensor:
        r""":math:`\Phi(a) + \Phi(b) - \Phi(a+b) - \psi(a+b)`, with :math:`\Phi` the gamma
        entropy (so that the :math:`a\ln a`-sized terms cancel analytically)."""
        a, b = self.concentration1, self.concentration0
        total = a + b
        return entropy_core(a) + entropy_core(b) - entropy_core(total) - torch.digamma(total)

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.concentration1, self.concentration0)

    @property
    def _mean_carrier_measure(self) -> Tensor:  # type: ignore[override]
        """:math:`E[\\ln h(x)] = -E[\\ln x] - E[\\ln(1-x)]` for :math:`h = 1/(x(1-x))`."""
        log_x, log_1mx = _mean_log(self)
        return -(log_x + log_1mx)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:  # type: ignore[override]
        return log_beta(x, y)


def _direct(a: Tensor, b: Tensor, x: Tensor, log_norm: Tensor) -> Tensor:
    big = x.numel() >= LARGE and untracked(a, b, x, log_norm)
    a_number, b_number = (host_number(a), host_number(b)) if big else (None, None)
    if a_number is not None and b_number is not None and a_number != 1 and b_number != 1:
        # Big, no graph: log and log1p in two buffers, no xlogy masks (log 0 times a nonzero
        # factor is the right infinity).
        # (add with a number factor: addcmul with two scalar operands is not vectorized)
        log_x = x.log()
        result = torch.add(log_norm.neg(), log_x, alpha=a_number - 1, out=log_x)
        return result.add_(torch.neg(x).log1p_(), alpha=b_number - 1)
    log_kernel = torch.xlogy(shifted(a, -1), x) + torch.special.xlog1py(shifted(b, -1), -x)
    return log_kernel - log_norm


def _mean_log(p: Beta) -> tuple[Tensor, Tensor]:
    r""":math:`(E[\ln x], E[\ln(1-x)]) = (\psi(a) - \psi(a+b), \psi(b) - \psi(a+b))`."""
    a, b = p.concentration1, p.concentration0
    psi_total = torch.digamma(a + b)
    return torch.digamma(a) - psi_total, torch.digamma(b) - psi_total


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    r""":math:`\ln\frac{B(a_q, b_q)}{B(a_p, b_p)} + (a_p - a_q)E_p[\ln x] + (b_p - b_q)
    E_p[\ln(1-x)] = D(a, \Delta a) + D(b, \Delta b) - D(c, \Delta c)`, :math:`c = a + b`,
    :math:`D` the Bregman divergence of lgamma. Where the textbook form cancels (nearly equal or
    large shapes), each :math:`D(x, \Delta)` as :math:`x h(\Delta/x) + \text{rest}` (see
    :func:`~torchprob.continuous.gamma.lgamma_bregman`): the three leading parts add up to
    :math:`a_q\varphi(\ln\frac{\pi_p}{\pi_q}) + b_q\varphi(\ln\frac{1-\pi_p}{1-\pi_q})`,
    :math:`\pi = a/c`, :math:`\varphi(s) = e^s - 1 - s`, where no term cancels."""
    a_p, b_p, a_q, b_q = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    d_a, d_b = a_q - a_p, b_q - b_p
    if a_p.is_cpu and not torch.compiler.is_compiling():
        log_x, log_1mx = _mean_log(p)
        lb_p, lb_q = log_beta(a_p, b_p), log_beta(a_q, b_q)
        kl = (lb_q - lb_p) - d_a * log_x - d_b * log_1mx
        size = lb_p.abs() + lb_q.abs() + d_a.abs() * (log_x.abs() + 1)
        size = size + d_b.abs() * (log_1mx.abs() + 1)
        if not _may_hold(~((kl >= size * _TRUST) | ((d_a == 0) & (d_b == 0)))):
            return kl
    c_p = a_p + b_p
    _, rest = lgamma_bregman(torch.stack((a_p, b_p, c_p)), torch.stack((d_a, d_b, d_a + d_b)))
    cross = a_p * d_b - b_p * d_a  # c_q a_p - c_p a_q
    kl = a_q * _expm1_minus_identity(torch.log1p(cross / (c_p * a_q)))
    kl = kl + b_q * _expm1_minus_identity(torch.log1p(-cross / (c_p * b_q)))
    return kl + (rest[0] + rest[1] - rest[2])


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p: Beta, q: Exponential) -> Tensor:
    return q.rate * p.mean - q.rate.log() - p.entropy()


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p: Beta, q: Gamma) -> Tensor:
    log_x, _ = _mean_log(p)
    a, rate = q.concentration, q.rate
    log_q = torch.xlogy(a, rate) - torch.lgamma(a) + (a - 1) * log_x - rate * p.mean
    return -p.entropy() - log_q


@register_kl(Beta, Normal)
def _kl_beta_normal(p: Beta, q: Normal) -> Tensor:
    second = p.variance + (p.mean - q.loc).square()
    return q.scale.log() + _HALF_LOG_2PI + second / (2 * q.scale.square()) - p.entropy()


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Beta, q: Uniform) -> Tensor:
    result = (q.high - q.low).log() - p.entropy()
    return result.masked_fill((q.low > 0) | (q.high < 1), math.inf)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Uniform, q: Beta) -> Tensor:
    r""":math:`-\ln(h-l) + \ln B(a,b) - (a-1)E_p[\ln x] - (b-1)E_p[\ln(1-x)]`, infinite
    unless :math:`[l, h] \subseteq [0, 1]`."""
    low, high = p.low, p.high
    width = high - low
    mean_log = (torch.xlogy(high, high) - torch.xlogy(low, low)) / width - 1
    mean_log1m = (torch.xlogy(1 - low, 1 - low) - torch.xlogy(1 - high, 1 - high)) / width - 1
    a, b = q.concentration1, q.concentration0
    result = log_beta(a, b) - width.log() - (a - 1) * mean_log - (b - 1) * mean_log1m
    return result.masked_fill((low < 0) | (high > 1), math.inf)


@register_kl(Gamma, Beta)
@register_kl(Exponential, Beta)
@register_kl(Normal, Beta)
def _kl_infinite_beta(p: Gamma | Exponential | Normal, q: Beta) -> Tensor:
    """Infinite: ``p`` puts mass outside the unit interval."""
    return torch.full_like(p.mean + q.concentration1, math.inf)
