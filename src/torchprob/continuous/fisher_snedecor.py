"""The Fisher-Snedecor (F) distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..special import betainc, betaincc, betainccinv, betaincinv
from ..utils import EMPTY, ShapeLike, broadcast_all
from ._passes import LARGE, scalars

__all__ = ["FisherSnedecor"]

_is_compiling = torch.compiler.is_compiling
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Stirling series of lgamma(z) - ((z - 1/2) log z - z + log(2 pi)/2) and of
# digamma(z) - log z + 1/(2z): coefficients B_2k / (2k (2k - 1)) and -B_2k / (2k).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680)
_DIGAMMA = (-1 / 12, 1 / 120, -1 / 252, 1 / 240)
# e - log1p(e) = t e - (2/3)(t^3 + 3/5 t^5 + 3/7 t^7 + 1/3 t^9 + ...), t = e / (2 + e)
_LOG1PMX = (3 / 5, 3 / 7, 1 / 3)
# Below which d1 + d2 the textbook log-density is exact enough (its terms of size d1 + d2
# cancel): the saddle-point form takes over above.
_TEXTBOOK = {torch.float64: 100.0, torch.float32: 16.0, torch.float16: 0.0, torch.bfloat16: 0.0}


def _start(dtype: torch.dtype) -> tuple[float, float]:
    """Where the series take over: (Stirling argument, |e| of the deviance), by precision."""
    return (50.0, 0.01) if dtype == torch.float64 else (8.0, 0.1)


def _odd_series(r: Tensor, coefs: tuple[float, ...], step: Tensor) -> Tensor:
    """``c0 r + c1 r step + c2 r step^2 + ...`` through ``add(alpha=)`` (no scalar tensors)."""
    acc, term = r * coefs[0], r
    for c in coefs[1:]:
        term = term * step
        acc = torch.add(acc, term, alpha=c)
    return acc


def _stirling_error(z: Tensor) -> Tensor:
    r""":math:`\delta(z) = \log\Gamma(z) - (z - \frac12)\log z + z - \frac12\log 2\pi`."""
    start = _start(z.dtype)[0]
    direct = torch.lgamma(z) - (z - 0.5) * z.log() + z - _HALF_LOG_2PI
    r = z.clamp_min(start).reciprocal()
    return torch.where(z < start, direct, _odd_series(r, _STIRLING, r.square()))


def _stirling_error_number(z: float) -> float:
    if z < 50.0:
        return math.lgamma(z) - (z - 0.5) * math.log(z) + z - _HALF_LOG_2PI
    u = 1 / (z * z)
    return sum(c * u**k for k, c in enumerate(_STIRLING)) / z


def _deviance(e: Tensor, log1pe: Tensor) -> Tensor:
    r""":math:`e - \log(1 + e) \ge 0`, given both, without cancellation for small :math:`e`."""
    t = e / (e + 2)
    t2 = t.square()
    series = torch.sub(t * e, _odd_series(t * t2, (1.0,) + _LOG1PMX, t2), alpha=2 / 3)
    return torch.where(e.abs() < _start(e.dtype)[1], series, e - log1pe)


class FisherSnedecor(Distribution):
    r"""Fisher-Snedecor (F) distribution with :math:`d_1` (``df1``) and :math:`d_2` (``df2``)
    degrees of freedom, the law of :math:`(U_1/d_1)/(U_2/d_2)` for independent chi-square
    :math:`U_i` with :math:`d_i` degrees of freedom:

    .. math:: p(x) = \frac{1}{x\,B(\frac{d_1}{2}, \frac{d_2}{2})}
        \sqrt{\frac{(d_1 x)^{d_1} d_2^{d_2}}{(d_1 x + d_2)^{d_1 + d_2}}}, \qquad x > 0.

    The density is evaluated in the saddle-point form of Loader (binomial deviances plus
    Stirling errors) wherever the degrees of freedom are large, exact up to :math:`10^8` and
    beyond. The cdf is :math:`I_v(\frac{d_1}{2}, \frac{d_2}{2})` with
    :math:`v = d_1 x/(d_1 x + d_2)`, evaluated through whichever of :math:`v` and
    :math:`1 - v = d_2/(d_1 x + d_2)` is small (both computed without cancellation).

    Args:
        df1: numerator degrees of freedom :math:`d_1 > 0`.
        df2: denominator degrees of freedom :math:`d_2 > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> FisherSnedecor(torch.tensor(2.0), torch.tensor(2.0)).log_prob(torch.tensor(1.0))
        tensor(-1.3863)
    """

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(
        self, df1: Tensor | float, df2: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.df1, self.df2 = broadcast_all(df1, df2)
        super().__init__(self.df1.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        df2 = self.df2
        return (df2 / (df2 - 2)).masked_fill_(df2 <= 2, math.inf)

    @property
    def mode(self) -> Tensor:
        df1, df2 = self.df1, self.df2
        mode = (df1 - 2) / df1 * df2 / (df2 + 2)
        return mode.masked_fill_(df1 <= 2, 0.0)

    @property
    def variance(self) -> Tensor:
        df1, df2 = self.df1, self.df2
        var = 2 * df2.square() * (df1 + df2 - 2) / (df1 * (df2 - 2).square() * (df2 - 4))
        return var.masked_fill_(df2 <= 4, math.inf)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        # (G1 / a) / (G2 / b) with G1 ~ Gamma(a), G2 ~ Gamma(b), a = df1/2, b = df2/2.
        shape = self._extended_shape(sample_shape)
        a, b = 0.5 * self.df1, 0.5 * self.df2
        if sample_shape:
            a, b = a.expand(shape), b.expand(shape)
        tiny = torch.finfo(a.dtype).tiny
        g1 = torch._standard_gamma(a, generator=generator)
        g2 = torch._standard_gamma(b, generator=generator)
        denominator = g2 * a
        denominator.detach().clamp_(min=tiny)  # gamma draws may underflow
        x = (g1 * b) / denominator
        x.detach().clamp_(min=tiny)
        return x

    def _numbers(self) -> tuple[float, float] | None:
        """``(df1, df2)`` as Python numbers for one CPU parameter pair without gradient."""
        df1, df2 = self.df1, self.df2
        if df1.numel() != 1 or not df1.is_cpu or df1.requires_grad or df2.requires_grad:
            return None
        return None if _is_compiling() else (df1.item(), df2.item())

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        numbers = self._numbers()
        df1 = self.df1  # numbers give the value's shape and dtype: not those of a df of more dims
        as_value = df1.dim() == 0 or (df1.dim() <= value.dim() and df1.dtype == value.dtype)
        if as_value and numbers is not None and sum(numbers) < _TEXTBOOK.get(value.dtype, 100):
            return _log_prob_textbook(value, *numbers)
        df1, df2 = self.df1, self.df2
        # -bd0(a, n p) - bd0(b, n q) with n = a + b, p = d1 x / r, q = d2 / r, r = d2 + d1 x:
        # the deviances are a (e_a - log1p(e_a)) with e_a = d2 (x - 1) / r, and likewise for b.
        r = torch.addcmul(df2, df1, value)
        w = (value - 1) / r
        total = (df1 + df2) / r
        dev_a = _deviance(df2 * w, (total * value).log())
        dev_b = _deviance(-df1 * w, total.log())
        deviance = torch.add(df1 * dev_a, df2 * dev_b).mul_(0.5)
        if numbers is not None:
            stirling: Tensor | float = _stirling_terms_number(*numbers)
        else:
            stirling = _stirling_terms(df1, df2)
        return stirling - deviance - value.log()

    def _tails(self, value: Tensor) -> tuple[Tensor, Tensor]:
        """``(cdf, survival)``: I_v(a, b) = 1 - I_c(b, a), through v if v <= 1/2, else c."""
        a, b = 0.5 * self.df1, 0.5 * self.df2
        ratio = (self.df1 * value) / self.df2
        v = 1 / (1 + 1 / ratio)  # d1 x / (d1 x + d2): 1 at x = inf
        c = 1 / (1 + ratio)  # d2 / (d1 x + d2)
        low = v <= 0.5
        v, c = v.clamp_max(0.5), c.clamp_max(0.5)  # the unused side stays well-defined
        cdf = torch.where(low, betainc(a, b, v), betaincc(b, a, c))
        sf = torch.where(low, betaincc(a, b, v), betainc(b, a, c))
        return cdf, sf

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return self._tails(value)[0]

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return self._tails(value)[1]

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        cdf, sf = self._tails(value)
        return torch.where(sf < 0.5, torch.log1p(-sf), cdf.log())

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        cdf, sf = self._tails(value)
        return torch.where(cdf < 0.5, torch.log1p(-cdf), sf.log())

    def icdf(self, value: Tensor) -> Tensor:
        # v = I^-1_u(a, b) and its complement c = 1 - v (I_c(b, a) = 1 - u); x = d2 v / (d1 c)
        # from whichever was solved for directly where it is small.
        a, b = 0.5 * self.df1, 0.5 * self.df2
        v = betaincinv(a, b, value)
        c = betainccinv(b, a, value)
        odds = torch.where(v <= 0.5, v / (1 - v), (1 - c) / c)
        return odds * self.df2 / self.df1

    def entropy(self) -> Tensor:
        # Stirling and digamma series around log: no cancellation of n log n size terms.
        a, b = 0.5 * self.df1, 0.5 * self.df2
        n = a + b
        head = 0.5 * (n / (a * b)).log() + (_HALF_LOG_2PI + 0.5) - 0.5 / a + 0.5 / b
        delta = _stirling_error(a) + _stirling_error(b) - _stirling_error(n)
        digamma = (1 - a) * _digamma_excess(a) - (1 + b) * _digamma_excess(b)
        return head + delta + digamma + n * _digamma_excess(n)


def _log_prob_textbook(value: Tensor, df1: float, df2: float) -> Tensor:
    """The textbook log-density for degrees of freedom given as numbers: it loses about
    ``eps (d1 + d2)`` absolutely (see ``_TEXTBOOK``)."""
    a, b = 0.5 * df1, 0.5 * df2
    c = a * math.log(df1 / df2) - math.lgamma(a) - math.lgamma(b) + math.lgamma(a + b)
    log1p = torch.mul(value, df1 / df2).log1p_()
    if value.numel() >= LARGE and scalars(value) is not None:  # one pass fewer (a 0-dim tensor)
        log_x = value.log()
        result = torch.add(torch.tensor(c, dtype=log_x.dtype), log_x, alpha=a - 1, out=log_x)
        return result.sub_(log1p, alpha=a + b)
    return value.log().mul_(a - 1).sub_(log1p, alpha=a + b).add_(c)  # two buffers in all


def _stirling_terms(df1: Tensor, df2: Tensor) -> Tensor:
    r""":math:`\frac12\log\frac{ab}{2\pi n} + \delta(n) - \delta(a) - \delta(b)`, with
    :math:`a = d_1/2`, :math:`b = d_2/2`, :math:`n = a + b`."""
    a, b = 0.5 * df1, 0.5 * df2
    n = a + b
    delta = _stirling_error(n) - _stirling_error(a) - _stirling_error(b)
    return torch.add(delta, (a * b / n).log(), alpha=0.5).sub_(_HALF_LOG_2PI)


def _stirling_terms_number(df1: float, df2: float) -> float:
    """:func:`_stirling_terms` of Python numbers."""
    a, b = 0.5 * df1, 0.5 * df2
    n = a + b
    delta = _stirling_error_number
    return 0.5 * math.log(a * b / n) - _HALF_LOG_2PI + delta(n) - delta(a) - delta(b)


def _digamma_excess(z: Tensor) -> Tensor:
    r""":math:`\psi(z) - \log z + \frac{1}{2z}` (about :math:`-1/(12z^2)` for large :math:`z`)."""
    start = _start(z.dtype)[0]
    direct = torch.digamma(z) - z.log() + 0.5 / z
    r2 = z.clamp_min(start).reciprocal().square()
    return torch.where(z < start, direct, _odd_series(r2, _DIGAMMA, r2))
