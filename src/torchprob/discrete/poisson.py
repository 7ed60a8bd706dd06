"""The Poisson distribution, and the saddle-point helpers the count families share."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .. import constraints
from ..continuous._passes import LARGE, host_span, untracked
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..special import gammainc, gammaincc
from ..utils import EMPTY, ShapeLike, broadcast_all, constant_like, is_tracing
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
# Up to this rate torch's (Cephes) incomplete gamma functions are exact to ~1e-13 for every
# count and cheap; above it they lose up to 4 digits near the mean: torchprob.special there.
_CEPHES_MAX_RATE = 10.0
# Below this a tail probability's log comes from its continued fraction, in log space (the tail
# itself is subnormal or 0 there).
_TINY_TAIL = 1e-300
_CF_PAIRS = 12  # levels (in pairs) of the tail continued fractions; ~37+ sd out, 8 suffice
# A log-pmf over many counts is looked up in a table of its values over min..max (see
# _table_log_pmf) in steps of this many values: torch's parallel grain, so that each step is one
# cache-resident kernel call on one thread (larger steps wake the thread pool at every call,
# which on a busy 2-core machine cost 5-70x more than they saved).
_TABLE_STEP = 1 << 15
_TABLE_SHARE = 64  # the table has at most 1/64 as many entries as there are values
_TABLE_TOP = 2.0**24  # counts up to this are exact in float32 and int32


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


def _bd0(x: Tensor, m: Tensor, m_lo: Tensor | None = None) -> Tensor:
    r"""Deviance term :math:`x \log(x/m) + m - x \ge 0`, accurate when :math:`x \approx m`
    (a series in :math:`v = (x-m)/(x+m)` there, ``log1p`` elsewhere). ``m_lo``: the low part
    of a mean known exactly as ``m + m_lo`` (a product's rounding error), for huge ``x``
    where the rounding of ``m`` alone would cost ``eps |x - m|`` absolutely."""
    d = x - m if m_lo is None else (x - m) - m_lo
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


def _table_log_pmf(
    k: Tensor, log_pmf: Callable[[Tensor], Tensor], params: tuple[Tensor, ...], checked: bool
) -> Tensor | None:
    """``log_pmf(k)`` for many counts ``k`` (a large plain CPU tensor) and one-element
    parameters, with no graph to keep: ``log_pmf`` once per count from ``min(k)`` to ``max(k)``
    (one host read), then one lookup per value, in cache-sized steps that read ``k`` once and
    write the result once (the formulas take a pass over memory per op). Every value is what
    ``log_pmf`` gives it: a step holding a non-integer (possible only where ``checked``, the
    support check of validation, did not run) takes ``log_pmf`` itself. ``None`` where this
    route does not apply (small tensors, negative or far-spread counts, NaN, a graph, other
    devices, tracing)."""
    if k.dtype not in (torch.float32, torch.float64) or not k.is_contiguous():
        return None
    if any(p.numel() != 1 or p.dim() > k.dim() for p in params) or not untracked(k, *params):
        return None
    span = host_span(k)
    if span is None or not 0 <= span[0] <= span[1] <= _TABLE_TOP:  # NaN fails too
        return None
    low, high = int(span[0]), int(span[1])
    if high - low >= k.numel() // _TABLE_SHARE:
        return None
    grid = torch.arange(low, high + 1, dtype=k.dtype, device=k.device)
    table = log_pmf(grid).reshape(-1)
    out = torch.empty(k.shape, dtype=table.dtype, device=k.device)
    counts, dest = k.view(-1), out.view(-1)
    step = min(_TABLE_STEP, counts.numel())
    index = torch.empty(step, dtype=torch.int32, device=k.device)
    back = None if checked else torch.empty(step, dtype=k.dtype, device=k.device)
    for start in range(0, counts.numel(), step):
        part = counts[start : start + step]
        size = part.numel()
        at, target = index[:size], dest[start : start + size]
        at.copy_(part)  # truncation, exact for integers below _TABLE_TOP
        if back is not None and not torch.equal(back[:size].copy_(at), part):
            target.copy_(log_pmf(part).reshape(-1))  # a non-integer count in this step
            continue
        if low:
            at.sub_(low)
        torch.index_select(table, 0, at, out=target)
    return out


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
    bracket (one host read on the CPU; 64, enough for any float64 integer, elsewhere),
    independent of ``u``."""
    lo, hi = torch.broadcast_tensors(lo, hi)
    width = _host_max(hi - lo) if hi.numel() else 1.0
    steps = 64 if width is None else max(1, math.ceil(math.log2(max(width, 1.0))))
    for _ in range(steps):
        mid = ((lo + hi) * 0.5).floor()
        reached = cdf(mid) >= u
        hi = torch.where(reached, mid, hi)
        lo = torch.where(reached, lo, mid)
    return hi


def _log_of_tail(tail: Tensor, other: Callable[[], Tensor], deep: Callable[[], Tensor]) -> Tensor:
    """The log of a tail probability: ``log(tail)`` below 1/2, ``log1p(-other())`` above (the
    other tail, computed only if needed), ``deep()`` below 1e-300 (where ``tail`` has lost
    digits or underflowed). Each formula sees only values for which it is used (clamps), so
    that no branch that ``where`` discards sends NaN into the gradients."""
    small = tail < 0.5
    logs = tail.clamp(min=_TINY_TAIL).log()
    out = _select(
        small, lambda: logs, lambda: torch.where(small, logs, torch.log1p(-other().clamp(max=0.5)))
    )
    return _select(tail < _TINY_TAIL, deep, lambda: out)


def _log_cf(a: Tensor, e: Tensor, x: Tensor | float, lam: Tensor, w: Tensor | float) -> Tensor:
    r"""The log of the continued fraction of :math:`I_x(a, b) = \frac{x^a (1-x)^b}{a B(a, b)}
    \cdot \mathrm{CF}` below the mean, :math:`\mathrm{CF} = a/f_0` with
    :math:`f_n = (a + n) + u_{n+1}/f_{n+1}`, :math:`u_{2m+1} = -(a+m)(a+b+m)x`,
    :math:`u_{2m} = m(b-m)x`; arguments :math:`e = bx`, :math:`\lambda = a - (a+b)x > -1`
    and :math:`w = 1 - x`, each formed without cancellation by the caller. With :math:`x = 0`,
    :math:`e = y`, :math:`w = 1` it is the limit :math:`b \to \infty`:
    :math:`P(a, y) = \frac{y^a e^{-y}}{\Gamma(a+1)} \cdot \mathrm{CF}`.

    The even levels are summed from positive terms, :math:`f_{2m} f_{2m+1} = A_m + (a+2m)
    \epsilon_{2m+2}`, :math:`A_m = (a+m)(\lambda + 1 + m(2+w)) + m(m+1)`,
    :math:`\epsilon_n = u_n/f_n`, so that nothing cancels where :math:`(a+b)x \approx a` (a tail
    37 standard deviations out of a count of 1e12 is still within 1e-7 of it), and
    :math:`\mathrm{CF} = f_1/(\lambda + 1 + \epsilon_2)`. Evaluated backwards over
    ``_CF_PAIRS`` pairs of levels: used only for tails below 1e-300, where it has converged."""
    f_even = a + (2 * _CF_PAIRS + 2)
    for m in range(_CF_PAIRS, -1, -1):
        eps = (m + 1) * (e - (m + 1) * x) / f_even  # epsilon_{2m+2}
        f_odd = (a + (2 * m + 1)) + eps
        if m == 0:
            break
        a_m = (a + m) * (lam + 1 + m * (2 + w)) + m * (m + 1)
        f_even = ((a_m + (a + 2 * m) * eps) / f_odd).clamp(min=1e-300)
    return torch.log(f_odd.clamp(min=1e-300)) - torch.log((lam + 1 + eps).clamp(min=1e-300))


def _log_legendre(a: Tensor, y: Tensor) -> Tensor:
    r""":math:`-\log` of Legendre's continued fraction :math:`y + 1 - a - \frac{1(1-a)}{y + 3 - a
    - \frac{2(2-a)}{y + 5 - a - \cdots}}`: :math:`Q(a, y) = \frac{y^a e^{-y}}{\Gamma(a)}
    \cdot e^{\text{this}}`, for :math:`y` far above :math:`a` (see :func:`_log_cf`)."""
    d = y - a
    t = d + (2 * _CF_PAIRS + 1)
    for i in range(_CF_PAIRS, 0, -1):
        t = (d + (2 * i - 1) - i * (i - a) / t).clamp(min=1e-300)
    return -t.log()


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
        if value.numel() >= LARGE:
            rate = self.rate
            pmf = _table_log_pmf(
                value, lambda k: _poisson_log_pmf(k, rate), (rate,), bool(self._validate_args)
            )
            if pmf is not None:
                return pmf
        return _poisson_log_pmf(value, self.rate)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        r""":math:`P(X \le k) = Q(\lfloor k \rfloor + 1, \lambda)`, the regularized upper
        incomplete gamma function: torch's up to rate 10 (exact there, and cheap), else
        :func:`torchprob.special.gammaincc` (relative error ~1e-13 up to rates of 1e15, both
        tails to 1e-300); differentiable in the rate."""
        return self._tail(value, upper=False)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        """:math:`P(X > k) = P(\\lfloor k \\rfloor + 1, \\lambda)`, the regularized lower
        incomplete gamma function (no ``1 - cdf`` cancellation in the upper tail)."""
        return self._tail(value, upper=True)

    def _tail(self, value: Tensor, upper: bool) -> Tensor:
        k = value.floor()
        largest = _host_max(self.rate)  # the one host read: which implementation
        if largest is not None and largest <= _CEPHES_MAX_RATE:
            fn = torch.special.gammainc if upper else torch.special.gammaincc
        else:
            fn = gammainc if upper else gammaincc
        out = fn((k + 1).clamp(min=1), self.rate)
        return out.masked_fill(k < 0, 1.0 if upper else 0.0)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        """``log(cdf)`` in the lower tail, ``log1p(-sf)`` in the upper (exact near 0); below
        1e-300, Legendre's continued fraction in log space (e.g. ``-1000`` at rate 1000, k 0)."""
        return self._log_tail(value, upper=False)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return self._log_tail(value, upper=True)

    def _log_tail(self, value: Tensor, upper: bool) -> Tensor:
        return _log_of_tail(
            self._tail(value, upper),
            lambda: self._tail(value, not upper),
            lambda: self._log_deep(value, upper),
        )

    def _log_deep(self, value: Tensor, upper: bool) -> Tensor:
        """The log of a tail below 1e-300 through its continued fraction: the lower
        :math:`\\lambda p_k \\cdot` Legendre's, the upper :math:`p_{k+1} \\cdot` that of
        :math:`P(k+1, \\lambda)` (``-inf`` below the support and at rate 0)."""
        k = value.floor().clamp(min=0)
        rate = self.rate
        if upper:
            return _poisson_log_pmf(k + 1, rate) + _log_cf(k + 1, rate, 0.0, k + 1 - rate, 1.0)
        out = _poisson_log_pmf(k, rate) + torch.log(rate) + _log_legendre(k + 1, rate)
        return out.masked_fill(value < 0, -math.inf)

    def icdf(self, value: Tensor) -> Tensor:
        r"""The smallest :math:`k` with ``cdf(k) >= u``: bisection between Bernstein bounds
        :math:`\lambda - 500 - \sqrt{1500\lambda}` (lower; cdf below the smallest float there)
        and :math:`\lambda + 27 + \sqrt{76\lambda}` (upper; the cdf rounds to 1 there), on the
        cdf as computed, ``inf`` at :math:`u = 1`."""
        rate = self.rate
        lo = (rate - 500 - (1500 * rate).sqrt()).floor().clamp(min=-1)
        hi = (rate + 27 + (76 * rate).sqrt()).ceil()
        lo, hi, u = torch.broadcast_tensors(lo, hi, value)
        k = _bisect(lambda j: self._tail(j, upper=False), u, lo, hi)
        return k.masked_fill(u >= 1, math.inf).masked_fill(u <= 0, 0.0)

    def entropy(self) -> Tensor:
        r"""Below rate 60, :math:`-\sum_k p_k \log p_k` over :math:`k < 170` (all terms
        positive); above, the asymptotic series :math:`\tfrac12\log(2\pi e\lambda) - \frac{1}{12
        \lambda} - \frac{1}{24\lambda^2} - \frac{19}{360\lambda^3} - \dots` to 12 terms (error
        below 1e-17 there)."""
        rate = self.rate
        low = rate.clamp(max=_ENTROPY_SUM_BELOW)
        k = torch.arange(_ENTROPY_TERMS, dtype=rate.dtype, device=rate.device)
        k = constant_like(rate, k.reshape((-1,) + (1,) * rate.dim()))
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
