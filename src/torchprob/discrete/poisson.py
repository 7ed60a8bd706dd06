"""The Poisson distribution, and the saddle-point helpers the count families share."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .. import constraints
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all, is_tracing
from .bernoulli import Bernoulli

__all__ = ["Poisson"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Below this, log n! = lgamma(n + 1) and the other large terms of a log-pmf are small enough
# that the plain formula is exact to ~1e-14; above it the saddle-point (Loader) form is used.
_PLAIN_MAX = 64.0
# stirlerr(n) = 1/(12n) - 1/(360n^3) + ... for n > 15, in powers of 1/n^2 (Loader 2000).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188)
# (atanh(v) - v) / v^3 = sum_j v^(2j) / (2j + 3), enough terms for |v| < 0.05.
_ATANH = tuple(1 / (2 * j + 3) for j in range(6))
# Asymptotic entropy H(rate) - log(2 pi e rate)/2 in powers of 1/rate (fitted in mpmath to 60
# digits against the exact sum; the first four are -1/12, -1/24, -19/360, -9/80).
_ENTROPY = (-1 / 12, -1 / 24, -19 / 360, -9 / 80, -863 / 2520, -1.3640873015873,
            -6.7367063492063, -39.778472222222, -273.60547138, -2149.7215909, -19002.9125,
            -186710.73)  # fmt: skip
_ENTROPY_SUM_BELOW = 60.0  # rates below this sum -p log p over k < _ENTROPY_TERMS
_ENTROPY_TERMS = 170
# torch.poisson's variance is 1.5x too large from rates ~1e16 on (and its int64 count overflows
# at 9.2e18): larger rates rescale a draw at this one.
_POISSON_MAX = 2.0**48


def _ordinary_cpu(t: Tensor) -> bool:
    """A plain CPU tensor, whose entries can be read on the host at once (CPU ops are
    synchronous); not a DTensor, a fake tensor, another device, or a tensor traced by
    ``torch.compile``."""
    return type(t) in (Tensor, torch.nn.Parameter) and t.is_cpu and not is_tracing()


def _select(cond: Tensor, if_true: Callable[[], Tensor], if_false: Callable[[], Tensor]) -> Tensor:
    """``torch.where(cond, if_true(), if_false())``, but on the CPU, where ``cond`` is all
    true (or all false) and can be read at once, only the branch needed is computed. Each
    element gets the same formula either way, so no value depends on the rest of the batch.
    The branches' results must already have the full broadcast shape."""
    if _ordinary_cpu(cond):
        if bool(cond.all()):
            return if_true()
        if not bool(cond.any()):
            return if_false()
    return torch.where(cond, if_true(), if_false())


def _horner(w: Tensor, coeffs: tuple[float, ...]) -> Tensor:
    """``c0 + c1 w + c2 w^2 + ...`` (in place on its own buffer when ``w`` carries no
    gradient)."""
    acc = w * coeffs[-1]
    if w.requires_grad and torch.is_grad_enabled():
        for c in coeffs[-2:0:-1]:
            acc = (acc + c) * w
        return acc + coeffs[0]
    for c in coeffs[-2:0:-1]:
        acc.add_(c).mul_(w)
    return acc.add_(coeffs[0])


def _stirlerr(n: Tensor) -> Tensor:
    r"""Stirling's error :math:`\log n! - \log(\sqrt{2\pi n}\,(n/e)^n)` for real
    :math:`n > 0`: the asymptotic series above 15, the cancelling ``lgamma`` form below (where
    its terms are small enough to be exact to ~1e-14)."""

    def series() -> Tensor:
        big = n.clamp(min=15)
        return _horner((big * big).reciprocal(), _STIRLING) / big

    def direct() -> Tensor:
        small = n.clamp(max=15)
        return torch.lgamma(small + 1) - (small + 0.5) * small.log() + small - _HALF_LOG_2PI

    return _select(n > 15, series, direct)


def _bd0(x: Tensor, m: Tensor) -> Tensor:
    r"""Deviance term :math:`x \log(x/m) + m - x \ge 0`, accurate when :math:`x \approx m`
    (a series in :math:`v = (x-m)/(x+m)` there, ``log1p`` elsewhere)."""
    d = x - m
    v = d / (x + m)

    def series() -> Tensor:
        w = v * v
        return v * (d + 2 * x * w * _horner(w, _ATANH))

    return _select(v.abs() < 0.05, series, lambda: torch.special.xlog1py(x, d / m) - d)


def _host_max(t: Tensor) -> float | None:
    """The largest entry of an ordinary CPU tensor as a Python number; ``None`` for other
    devices, DTensors and fake tensors."""
    if not _ordinary_cpu(t):
        return None
    if t.numel() == 1:
        return t.item()
    return t.max().item() if t.numel() else -math.inf


def _xlogy(a: Tensor, x: Tensor) -> Tensor:
    """``xlogy(a, x)`` (0 where ``a = 0``); for many values per parameter, the plain product
    ``a * log(x)`` when ``x`` is a CPU parameter known to be positive, so that the log is
    taken once per parameter, not once per value."""
    if a.numel() > 64 * x.numel() and _ordinary_cpu(x):  # worth a host read
        if x.item() > 0 if x.numel() == 1 else bool((x > 0).all()):
            return a * x.log()
    return torch.special.xlogy(a, x)


def _all_small(*tensors: Tensor) -> bool:
    """Whether the largest entries of ``tensors`` sum to at most ``_PLAIN_MAX``, read on the
    host for CPU tensors (``False`` elsewhere, which then takes the elementwise choice)."""
    total = 0.0
    for t in tensors:
        largest = _host_max(t)
        if largest is None:
            return False
        total += largest
    return total <= _PLAIN_MAX


def _poisson_log_pmf(k: Tensor, rate: Tensor) -> Tensor:
    """Log-pmf: the plain formula where the rate is at most 64 (exact there), else the
    saddle-point form of Loader (2000), chosen per element (no value depends on the rest of
    the batch)."""

    def plain() -> Tensor:
        return _xlogy(k, rate) - rate - torch.lgamma(k + 1)

    def saddle() -> Tensor:
        big = rate.clamp(min=_PLAIN_MAX)  # small rates take the plain branch: keep this tame
        kk = k.clamp(min=0.5)  # k = 0 and k < 0 are set below; this keeps their branch finite
        inner = _stirlerr(kk) + _bd0(kk, big) + 0.5 * kk.log() + _HALF_LOG_2PI
        return torch.where(k == 0, -big, -inner).masked_fill(k < 0, -math.inf)

    if _all_small(rate):
        return plain()
    return _select(rate <= _PLAIN_MAX, plain, saddle)


def _poisson_draws(
    rate: Tensor, generator: torch.Generator | None, param: Tensor | None = None
) -> Tensor:
    """``torch.poisson``, made right for rates beyond ``_POISSON_MAX`` (2.8e14): there a draw
    at that rate is rescaled to the mean and variance of the rate (the law is normal to a
    skewness of 6e-8 at that scale). ``param``: the unexpanded rates, cheaper to inspect."""
    largest = _host_max(rate if param is None else param)
    if largest is not None and largest <= _POISSON_MAX:
        return torch.poisson(rate, generator=generator)
    draws = torch.poisson(rate.clamp(max=_POISSON_MAX), generator=generator)
    rescaled = rate + (draws - _POISSON_MAX) * (rate / _POISSON_MAX).sqrt()
    return torch.where(rate > _POISSON_MAX, rescaled.round(), draws)


def _bisect(cdf: Callable[[Tensor], Tensor], u: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
    """The smallest integer ``k`` in ``(lo, hi]`` with ``cdf(k) >= u``, assuming
    ``cdf(lo) < u <= cdf(hi)``: a fixed number of vectorized halvings, set by the widest
    bracket (one host read), independent of ``u``."""
    width = float((hi - lo).max()) if hi.numel() else 1.0
    lo, hi = torch.broadcast_tensors(lo, hi)
    for _ in range(max(1, math.ceil(math.log2(max(width, 1.0))))):
        mid = ((lo + hi) * 0.5).floor()
        reached = cdf(mid) >= u
        hi = torch.where(reached, mid, hi)
        lo = torch.where(reached, lo, mid)
    return hi


class Poisson(ExponentialFamily):
    r"""Poisson distribution with rate :math:`\lambda` (``rate``):

    .. math:: P(x = k) = \frac{\lambda^k e^{-\lambda}}{k!}, \qquad k = 0, 1, 2, \dots

    ``log_prob`` is exact to a few ulps for every rate and count: above rate 64 it uses the
    saddle-point form of Loader (2000), :math:`-\mathrm{stirlerr}(k) - \mathrm{bd0}(k, \lambda)
    - \tfrac12\log(2\pi k)`, where the textbook formula loses up to 8 digits at :math:`10^8`.

    Args:
        rate: :math:`\lambda \ge 0` (rate 0 is the point mass at 0).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Poisson(torch.tensor(4.0)).cdf(torch.tensor(4.0))
        tensor(0.6288)
    """

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Tensor | float, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            return _poisson_draws(self.rate.expand(shape), generator, self.rate)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return _poisson_log_pmf(value, self.rate)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        r""":math:`P(X \le k) = Q(\lfloor k \rfloor + 1, \lambda)`, the regularized upper
        incomplete gamma function (``torch.special.gammaincc``: relative error up to ~1e-10
        for rates and counts beyond ~1e3)."""
        return self._cdf(value)

    def _cdf(self, value: Tensor) -> Tensor:
        k = value.floor()
        upper = torch.special.gammaincc((k + 1).clamp(min=1), self.rate)
        return upper.masked_fill(k < 0, 0.0)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        """:math:`P(X > k) = P(\\lfloor k \\rfloor + 1, \\lambda)`, the regularized lower
        incomplete gamma function (no ``1 - cdf`` cancellation in the upper tail)."""
        return self._sf(value)

    def _sf(self, value: Tensor) -> Tensor:
        k = value.floor()
        lower = torch.special.gammainc((k + 1).clamp(min=1), self.rate)
        return lower.masked_fill(k < 0, 1.0)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        """``log(cdf)`` in the lower tail, ``log1p(-sf)`` in the upper (exact near 0)."""
        cdf, sf = self._cdf(value), self._sf(value)
        return torch.where(cdf < 0.5, cdf.log(), torch.log1p(-sf))

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        cdf, sf = self._cdf(value), self._sf(value)
        return torch.where(sf < 0.5, sf.log(), torch.log1p(-cdf))

    def icdf(self, value: Tensor) -> Tensor:
        r"""The smallest :math:`k` with ``cdf(k) >= u``: bisection between Chernoff bounds
        :math:`\lambda \mp \sqrt{1488\lambda}` (lower) and :math:`\lambda + \sqrt{74\lambda} + 25`
        (upper; every float64 :math:`u < 1` lies within), ``inf`` at :math:`u = 1`."""
        rate = self.rate
        spread = (1488 * rate).sqrt()
        lo = ((rate - spread).floor() - 1).clamp(min=-1)
        hi = (rate + (74 * rate).sqrt() + 25).ceil()
        lo, hi, u = torch.broadcast_tensors(lo, hi, value)
        k = _bisect(self._cdf, u, lo, hi).masked_fill(u >= 1, math.inf)
        return k.masked_fill(u <= 0, 0.0)

    def entropy(self) -> Tensor:
        r"""Below rate 60, :math:`-\sum_k p_k \log p_k` over :math:`k < 170` (all terms
        positive); above, the asymptotic series :math:`\tfrac12\log(2\pi e\lambda) - \frac{1}{12
        \lambda} - \frac{1}{24\lambda^2} - \frac{19}{360\lambda^3} - \dots` to 12 terms (error
        below 1e-17 there)."""
        rate = self.rate
        low = rate.clamp(max=_ENTROPY_SUM_BELOW)
        k = torch.arange(_ENTROPY_TERMS, dtype=rate.dtype, device=rate.device)
        k = k.reshape((-1,) + (1,) * rate.dim())
        lp = torch.special.xlogy(k, low) - low - torch.lgamma(k + 1)
        lp = lp.clamp(min=torch.finfo(lp.dtype).min)
        exact = -(lp.exp() * lp).sum(0)
        high = rate.clamp(min=_ENTROPY_SUM_BELOW)
        w = high.reciprocal()
        series = 0.5 * torch.log(2 * math.pi * math.e * high) + w * _horner(w, _ENTROPY)
        return torch.where(rate < _ENTROPY_SUM_BELOW, exact, series)

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.rate.log(),)

    def _log_normalizer(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return x.exp()


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    r""":math:`\lambda_p \log\frac{\lambda_p}{\lambda_q} + \lambda_q - \lambda_p`, the deviance
    term, exact when the rates are close; :math:`\lambda_q` where :math:`\lambda_p = 0`."""
    rp, rq = torch.broadcast_tensors(p.rate, q.rate)
    return torch.where(rp == 0, rq, _bd0(rp, rq))


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Bernoulli, q: Poisson) -> Tensor:
    r""":math:`-H(p) + \lambda - p \log \lambda` (``inf`` where :math:`\lambda = 0 < p`)."""
    return q.rate - torch.special.xlogy(p.probs, q.rate) - p.entropy()


@register_kl(Poisson, Bernoulli)
def _kl_poisson_bernoulli(p: Poisson, q: Bernoulli) -> Tensor:
    r"""``inf`` (a Poisson with rate > 0 puts mass on 2, 3, ...); at rate 0, the point mass at
    0: :math:`-\log(1 - q)`."""
    zero_rate = -q._log_mass_pair()[1]
    rate, zero_rate = torch.broadcast_tensors(p.rate, zero_rate)
    return torch.where(rate == 0, zero_rate, math.inf)
