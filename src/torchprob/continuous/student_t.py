"""Student's t distribution."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..special import betainc, betaincc, betainccinv, betaincinv
from ..utils import EMPTY, ShapeLike, broadcast_all, lazy_property
from ._passes import LARGE, host_span, scalars

__all__ = ["StudentT"]

_is_compiling = torch.compiler.is_compiling
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_HALF_LOG_2PIE = 0.5 * math.log(2 * math.pi * math.e)
_FLOOR = 1e-30  # |y| below this adds nothing to log1p(y^2); keeps log|y| and its gradient finite
# Beyond |y| = 1e100 (z = 1/(1 + y^2) < 1e-200, y^2 near overflow) the small tail is the leading
# term z^(df/2) / ((df/2) B(df/2, 1/2)) of its series, exact (next term relatively ~ z).
_FAR = 1e100
# |y| below which y^2 is finite (with a margin for the rounding of y), by precision.
_SQUARE_MAX = {
    dt: 0.25 * torch.finfo(dt).max ** 0.5
    for dt in (torch.float64, torch.float32, torch.float16, torch.bfloat16)
}

# Asymptotic series in 1/x (x = df/2), from the Bernoulli numbers B_2n:
#   S(x) = lgamma(x + 1/2) - lgamma(x) - log(x)/2
#        = sum_n (2^(1-2n) - 2) B_2n / (2n (2n - 1)) x^(1-2n) = -1/(8x) + 1/(192x^3) - ...
# and the entropy's -S(x) + (x + 1/2)(digamma(x + 1/2) - digamma(x)) - 1/2 = 1/(2x) + ...
_S_SERIES = (-1 / 8, 1 / 192, -1 / 640)
_H_SERIES = (1 / 2, 1 / 16, -1 / 48, -1 / 128, 3 / 320, 1 / 256, -17 / 1792, -17 / 4096)


def _series_start(dtype: torch.dtype) -> float:
    """Where the series take over from the lgamma/digamma differences: those lose
    ``eps * lgamma(x)`` absolutely, the series' first dropped term is below ``eps`` beyond."""
    return 50.0 if dtype == torch.float64 else 8.0


def _lgamma_half_ratio(x: Tensor) -> Tensor:
    r""":math:`S(x) = \log\Gamma(x + \frac12) - \log\Gamma(x) - \frac12\log x`, without the
    cancellation of the two lgamma values for large :math:`x` (``df`` up to 1e8 and beyond)."""
    start = _series_start(x.dtype)
    direct = torch.sub(torch.lgamma(x + 0.5) - torch.lgamma(x), x.log(), alpha=0.5)
    r = x.clamp_min(start).reciprocal()
    u = r.square()
    c1, c2, c3 = _S_SERIES
    series = torch.add(torch.add(r, r * u, alpha=c2 / c1), r * u.square(), alpha=c3 / c1)
    return torch.where(x < start, direct, series.mul_(c1))


def _lgamma_half_ratio_number(x: float) -> float:
    """:func:`_lgamma_half_ratio` of a Python number (in double precision)."""
    if x < 50.0:
        return math.lgamma(x + 0.5) - math.lgamma(x) - 0.5 * math.log(x)
    u = 1 / (x * x)
    c1, c2, c3 = _S_SERIES
    return (c1 + u * (c2 + u * c3)) / x


class StudentT(Distribution):
    r"""Student's t distribution with :math:`\nu` degrees of freedom (``df``), location
    :math:`\mu` (``loc``) and scale :math:`\sigma` (``scale``):

    .. math:: p(x) = \frac{\Gamma(\frac{\nu+1}{2})}{\Gamma(\frac{\nu}{2})\sqrt{\nu\pi}\,\sigma}
        \Big(1 + \frac{z^2}{\nu}\Big)^{-\frac{\nu+1}{2}}, \quad z = \frac{x - \mu}{\sigma},
        \qquad x \in \mathbb{R}.

    The normalizer and the entropy switch to asymptotic series for large :math:`\nu`, so they
    stay exact up to :math:`\nu = 10^8` and beyond (where the Gamma-function differences
    cancel). The cdf and icdf use the incomplete beta function and its inverse on whichever of
    :math:`z = \nu/(\nu + t^2)` and :math:`1 - z` is small, so both tails are exact.

    Args:
        df: degrees of freedom :math:`\nu > 0`.
        loc: location :math:`\mu` (default 0).
        scale: scale :math:`\sigma > 0` (default 1).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> StudentT(torch.tensor(1.0)).log_prob(torch.tensor(0.0))  # Cauchy: -log(pi)
        tensor(-1.1447)
    """

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(
        self,
        df: Tensor | float,
        loc: Tensor | float = 0.0,
        scale: Tensor | float = 1.0,
        validate_args: bool | None = None,
    ) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.loc.masked_fill(self.df <= 1, math.nan)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        df = self.df
        var = self.scale.square() * df / (df - 2)
        return var.masked_fill_(df <= 2, math.inf).masked_fill_(df <= 1, math.nan)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        # z / sqrt(G / h) with z standard normal and G ~ Gamma(h), h = df / 2 (chi-square / df);
        # the gamma draw carries its implicit reparameterization gradient in df.
        shape = self._extended_shape(sample_shape)
        half_df = 0.5 * self.df
        z = self.loc.new_empty(shape).normal_(generator=generator)
        alpha = half_df.expand(shape) if sample_shape else half_df
        ratio = torch._standard_gamma(alpha, generator=generator) / half_df
        ratio.detach().clamp_(min=torch.finfo(ratio.dtype).tiny)  # a gamma draw may underflow
        return torch.addcmul(self.loc, self.scale, z * ratio.rsqrt())

    @lazy_property
    def _df_term_tensor(self) -> Tensor:
        return _lgamma_half_ratio(0.5 * self.df).sub_(_HALF_LOG_2PI)

    def _df_term(self) -> Tensor | float:
        r""":math:`\log\Gamma(\frac{\nu+1}{2}) - \log\Gamma(\frac{\nu}{2})
        - \frac12\log(2\pi)`: a Python number for one ``df`` on the CPU without gradient
        (no tensor op at all), else a tensor computed once."""
        df = self.df
        if df.numel() == 1 and df.is_cpu and not df.requires_grad and not _is_compiling():
            return _lgamma_half_ratio_number(0.5 * df.item()) - _HALF_LOG_2PI
        return self._df_term_tensor

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        df, scale = self.df, self.scale
        if value.numel() >= LARGE and (fast := self._log_prob_big(value)) is not None:
            return fast
        y = value - self.loc
        # (df + 1)/2 log1p(y^2) = (df + 1) softplus_2(log|y|): no overflow of y^2.
        if torch.is_grad_enabled() and (y.requires_grad or df.requires_grad or scale.requires_grad):
            y = y / (scale * df.sqrt())
            t = F.softplus(y.abs().clamp_min_(_FLOOR).log_(), beta=2, threshold=40)
            return self._df_term() - torch.addcmul(t, df, t).add_(scale.log())
        # No graph to keep: one buffer for the whole chain.
        y.div_(scale * df.sqrt()).abs_().clamp_min_(_FLOOR).log_()
        t = torch._C._nn.softplus(y, 2, 40, out=y)  # type: ignore[call-arg]
        t = torch.addcmul(t, df, t, out=t)  # (df + 1) t
        df_term = self._df_term()
        shift = scale.log().sub_(df_term) if isinstance(df_term, float) else scale.log() - df_term
        return t.add_(shift).neg_()

    def _log_prob_big(self, value: Tensor) -> Tensor | None:
        """Big, no graph, one-element parameters and no ``y^2`` overflow (a host read of the
        value range): ``-(df + 1)/2 log1p(y^2)``, four or five passes over one buffer."""
        numbers = scalars(value, self.df, self.loc, self.scale)
        valid = numbers is not None and numbers[0] > 0 and numbers[2] > 0
        span = host_span(value) if valid else None
        if numbers is None or span is None:
            return None
        df, loc, scale = numbers
        far = max(abs(span[0] - loc), abs(span[1] - loc)) / (scale * math.sqrt(df))
        if not far < _SQUARE_MAX.get(value.dtype, 0.0):  # also NaN and inf values
            return None
        ratio = self.scale * self.df.sqrt()
        y = torch.div(value, ratio) if loc == 0 else torch.sub(value, self.loc).div_(ratio)
        head = _lgamma_half_ratio_number(0.5 * df) - _HALF_LOG_2PI - math.log(scale)
        const = torch.tensor(head, dtype=value.dtype)
        return torch.add(const, y.square_().log1p_(), alpha=-0.5 * (df + 1), out=y)

    def _tails(self, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(small, large, negative)``: the tail beyond ``|t|`` (at most 1/2), the rest, and
        whether ``t < 0``, for ``t = (value - loc)/scale``."""
        a = 0.5 * self.df
        y = (value - self.loc) / (self.scale * self.df.sqrt())
        y2 = y.square()
        # 2 P(T > |t|) = I_z(a, 1/2) with z = 1/(1 + y^2), = 1 - I_w(1/2, a) with w = 1 - z:
        # through z where it is small (|y| >= 1), through w (exact) where z is next to 1.
        near = y2 < 1
        w = y2.clamp_max(1.0)
        w = w / (1 + w)
        z = y2.clamp(1.0, _FAR**2).add_(1).reciprocal_()
        small = torch.where(near, betaincc(0.5, a, w), betainc(a, 0.5, z))
        large = torch.where(near, betainc(0.5, a, w), betaincc(a, 0.5, z))
        far = y.abs() > _FAR
        if far.any():
            log_y = y.abs().clamp_min(_FAR).log()
            log_beta = torch.lgamma(a) - torch.lgamma(a + 0.5) + 0.5 * math.log(math.pi)
            lead = torch.exp(-2 * a * log_y - a.log() - log_beta)
            small, large = torch.where(far, lead, small), torch.where(far, 1 - lead, large)
        return 0.5 * small, torch.add(large, 1.0).mul_(0.5), y < 0

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        small, large, negative = self._tails(value)
        return torch.where(negative, small, large)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        small, large, negative = self._tails(value)
        return torch.where(negative, large, small)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        small, _, negative = self._tails(value)
        return torch.where(negative, small.log(), torch.log1p(-small))

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        small, _, negative = self._tails(value)
        return torch.where(negative, torch.log1p(-small), small.log())

    def icdf(self, value: Tensor) -> Tensor:
        # For s = min(u, 1 - u) (exact): z = 1/(1 + y^2) solves I_z(a, 1/2) = 2s and its
        # complement w = 1 - z solves 1 - I_w(1/2, a) = 2s; y^2 = w / z from whichever is small.
        a = 0.5 * self.df
        s = torch.minimum(value, 1 - value)
        z = betaincinv(a, 0.5, 2 * s)
        w = betainccinv(0.5, a, 2 * s)
        y = torch.where(z < 0.5, (1 - z) / z, w / (1 - w)).sqrt_()
        far = z < _FAR**-2  # z underflows: invert the leading term of the small tail
        if far.any():
            log_beta = torch.lgamma(a) - torch.lgamma(a + 0.5) + 0.5 * math.log(math.pi)
            log_y = ((2 * s).log() + a.log() + log_beta) / (-2 * a)
            y = torch.where(far, log_y.exp(), y)
        t = y * self.df.sqrt()
        return torch.addcmul(self.loc, self.scale, torch.where(value < 0.5, -t, t))

    def entropy(self) -> Tensor:
        x = 0.5 * self.df
        start = _series_start(x.dtype)
        direct = (x + 0.5) * (torch.digamma(x + 0.5) - torch.digamma(x)) - _lgamma_half_ratio(x)
        r = x.clamp_min(start).reciprocal()
        series = torch.full_like(r, _H_SERIES[-1])
        for c in reversed(_H_SERIES[:-1]):
            series = series * r + c
        excess = torch.where(x < start, direct.sub_(0.5), series * r)
        return excess + self.scale.log() + _HALF_LOG_2PIE
