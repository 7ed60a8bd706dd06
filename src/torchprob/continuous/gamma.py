"""The gamma distribution, and the Stirling-series helpers its relatives share."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints, special
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all, constant_like, host_number
from ._passes import LARGE, untracked
from .exponential import Exponential
from .normal import Normal, _expm1_minus_identity, _log_ratio, _may_hold
from .uniform import Uniform

__all__ = ["Gamma"]

# From this shape on, differences of lgamma/digamma values (of size a log a) are replaced by
# their Stirling series (of size log a): below it they lose at most a few units in 1e-14.
SERIES_FROM = 32.0
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_HALF_LOG_2PIE = 0.5 * math.log(2 * math.pi * math.e)


_ONES: dict[torch.dtype, Tensor] = {}  # for shifted()


def bounds(t: Tensor) -> tuple[float, float] | None:
    """``(min, max)`` of a CPU tensor, so that a method may pick its formula in Python (on the
    CPU, reading a value costs no device synchronization); ``None`` on other devices, under
    ``torch.compile`` and inside ``vmap``: then every formula is evaluated and ``torch.where``
    picks per element."""
    if not t.is_cpu or torch.compiler.is_compiling() or t.numel() == 0:
        return None
    try:
        if t.numel() == 1:
            value = t.item()
            return value, value
        low, high = torch.aminmax(t.detach())
        return low.item(), high.item()
    except Exception:  # a functorch-batched or distributed tensor: decide per element
        return None


def shifted(t: Tensor, shift: int) -> Tensor:
    """``t + shift`` for ``shift`` = 1 or -1; for a one-element CPU tensor without wrapping the
    Python number into a tensor first (which costs as much as the addition)."""
    if not (t.is_cpu and t.numel() == 1):
        return t + shift
    one = _ONES.get(t.dtype)
    if one is None:
        one = _ONES[t.dtype] = torch.ones((), dtype=t.dtype)
    return t + one if shift > 0 else t - one


def log_gammainc(a: Tensor, z: Tensor) -> Tensor:
    r""":math:`\ln P(a, z)`, also where :math:`P` underflows: for :math:`z \le 10^{-4}(a+1)`
    from its series :math:`\frac{z^a e^{-z}}{\Gamma(a+1)}\big(1 + \frac{z}{a+1} +
    \frac{z^2}{(a+1)(a+2)} + \dots\big)` (to :math:`z^3`; the next term is below
    :math:`10^{-16}`)."""
    a1 = a + 1
    u = z / a1
    tail = torch.log1p(u * (1 + z / (a1 + 1) * (1 + z / (a1 + 2))))
    series = (torch.xlogy(a, z) - z - torch.lgamma(a1)) + tail
    return torch.where(u <= 1e-4, series, special.gammainc(a, z).log())


def stirling_delta(x: Tensor) -> Tensor:
    r""":math:`\delta(x) = \ln\Gamma(x) - (x-\frac12)\ln x + x - \ln\sqrt{2\pi}` for
    :math:`x \ge 32` (4 terms of its series; the next is below :math:`3\cdot10^{-17}`)."""
    r = x.reciprocal()
    r2 = r * r
    return r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680))))


def log_norm(a: Tensor) -> Tensor:
    r""":math:`C(a) = a\ln a - a - \ln\Gamma(a) = \ln\sqrt{a/2\pi} - \delta(a)`, without the
    cancellation of the first form for large :math:`a`."""
    big = a >= SERIES_FROM
    small = a.clamp(max=SERIES_FROM)  # keep the unused branch (and its gradient) finite
    large = a.clamp(min=SERIES_FROM)
    direct = torch.xlogy(small, small) - small - torch.lgamma(small)
    series = 0.5 * torch.log(large) - _HALF_LOG_2PI - stirling_delta(large)
    return torch.where(big, series, direct)


def entropy_core(a: Tensor) -> Tensor:
    r""":math:`\Phi(a) = a + \ln\Gamma(a) + (1-a)\psi(a)`, the entropy of ``Gamma(a, 1)``;
    for large :math:`a` as :math:`\ln\sqrt{2\pi e a} + \sum_k B_{2k}\big(\frac{a^{1-2k}}{2k-1}
    - \frac{a^{-2k}}{2k}\big) - \frac1{2a}` (terms to :math:`a^{-8}`)."""
    small = a.clamp(max=SERIES_FROM)
    large = a.clamp(min=SERIES_FROM)
    direct = small + torch.lgamma(small) + (1 - small) * torch.digamma(small)
    r = large.reciprocal()
    poly = r * (1 / 240)
    for c in (-1 / 210, -1 / 252, 1 / 210, 1 / 120, -1 / 90, -1 / 12, -1 / 3):
        poly = (poly + c) * r
    series = 0.5 * torch.log(large) + _HALF_LOG_2PIE + poly
    return torch.where(a >= SERIES_FROM, series, direct)


def gamma_log_prob(a: Tensor, rate: Tensor, x: Tensor, power: int) -> Tensor:
    r""":math:`\log` of :math:`\frac{\beta^a}{\Gamma(a)} y^{\,a-1} e^{-\beta y}` with
    :math:`y = x^{\rm power}` (``power`` 1: the gamma density; -1: the density of
    :math:`1/y`, the inverse gamma, Jacobian included).

    Small :math:`a`: the direct sum of logarithms. From :math:`a = 32`, Loader's saddle-point
    form :math:`C(a) \mp \ln q + a(1-r) + (a \mp 1)\ln r`, :math:`q = \beta/a`, :math:`r =
    q y`: every term is small near the mode, where the direct sum cancels to :math:`a \ln a`
    rounding errors; it needs :math:`r` and :math:`1/r` normal numbers (elsewhere
    :math:`|\ln p|` is huge and the direct sum exact).
    """
    span = bounds(a)
    if span is not None and span[1] < SERIES_FROM:
        return _direct(a, rate, x, power)
    q = rate / a
    r = x * q if power > 0 else q / x
    tiny = torch.finfo(r.dtype).tiny
    pure = span is not None and span[0] >= SERIES_FROM
    log_q = q.log()
    const = log_norm(a) + (log_q if power > 0 else -log_q)
    if pure and _within(bounds(x), bounds(q), power, tiny):  # no fallback needed
        log_r = r.log()
        if not (torch.is_grad_enabled() and r.requires_grad):
            # No graph to keep: reuse r (it has the full shape), fewer memory passes.
            r = torch.addcmul(const, a, r.sub_(1), value=-1, out=r)
            return r.addcmul_(shifted(a, -power), log_r)
        return torch.addcmul(torch.addcmul(const, a, 1 - r), shifted(a, -power), log_r)
    safe = r.clamp(tiny, 1 / tiny)
    saddle = torch.addcmul(const, a, 1 - safe)
    saddle = torch.addcmul(saddle, shifted(a, -power), safe.log())
    use = r == safe if pure else (r == safe) & (a >= SERIES_FROM)
    return torch.where(use, saddle, _direct(a, rate, x, power))


def _within(
    x: tuple[float, float] | None, q: tuple[float, float] | None, power: int, tiny: float
) -> bool:
    """Whether every :math:`r = qx` (``power`` 1) or :math:`q/x` (-1) is a normal number."""
    if x is None or q is None or not x[0] > 0 or not q[0] > 0:
        return False
    low, high = (x[0] * q[0], x[1] * q[1]) if power > 0 else (q[0] / x[1], q[1] / x[0])
    return tiny <= low and high <= 1 / tiny


def _direct(a: Tensor, rate: Tensor, x: Tensor, power: int) -> Tensor:
    """The sum of logarithms."""
    const = torch.xlogy(a, rate) - torch.lgamma(a)
    shape = host_number(a) if x.numel() >= LARGE and untracked(a, rate, x) else None
    if shape == 1 and power > 0:  # the exponential: no logarithm at all
        return torch.addcmul(const, rate, x, value=-1)
    if shape is not None and shape != power:  # big, no graph: one buffer, no xlogy mask
        # log 0 times a - 1 (or -(a + 1)) gives the right infinity once the factor is nonzero
        # (add with a number factor: addcmul with two scalar operands is not vectorized)
        log_x = x.log()
        factor = shape - 1 if power > 0 else -(shape + 1)
        result = torch.add(const, log_x, alpha=factor, out=log_x)
        if power > 0:
            return result.addcmul_(rate, x, value=-1)
        return result.addcdiv_(rate, x, value=-1)
    if power > 0:
        return torch.addcmul(const, rate, x, value=-1) + torch.xlogy(shifted(a, -1), x)
    return (const - rate / x) - torch.xlogy(shifted(a, 1), x)


class Gamma(ExponentialFamily):
    r"""Gamma distribution with shape :math:`a` (``concentration``) and rate :math:`\beta`
    (``rate``):

    .. math:: p(x) = \frac{\beta^a}{\Gamma(a)} x^{a-1} e^{-\beta x}, \qquad x \ge 0.

    ``log_prob`` and ``entropy`` stay exact for shapes up to :math:`10^{8}` and beyond (no
    cancellation of :math:`a\ln a`-sized terms); the cdf and survival function are the
    regularized incomplete gamma functions, each tail computed directly, and ``icdf`` their
    inverse (exact in both tails).

    Args:
        concentration: shape :math:`a > 0`.
        rate: rate :math:`\beta > 0` (the inverse of the scale).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Gamma(torch.tensor([2.0]), torch.tensor([1.0])).mean
        tensor([2.])
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(
        self,
        concentration: Tensor | float,
        rate: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return (self.concentration - 1).clamp(min=0) / self.rate

    @property
    def stddev(self) -> Tensor:
        return self.concentration.sqrt() / self.rate

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.square()

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Implicitly reparameterized: the gradient in ``concentration`` is
        :math:`-\\partial_a F(x) / p(x)`."""
        shape = self._extended_shape(sample_shape)
        a = self.concentration
        if a.shape != shape:
            a = a.expand(shape)
        # torch._standard_gamma returns at least the smallest normal float, so the draws stay
        # positive (subnormal at worst) for any rate below 2**52.
        return torch._standard_gamma(a, generator=generator) / self.rate

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return gamma_log_prob(self.concentration, self.rate, value, 1)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return special.gammainc(self.concentration, self.rate * value)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return log_gammainc(self.concentration, self.rate * value)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return special.gammaincc(self.concentration, self.rate * value)

    def icdf(self, value: Tensor) -> Tensor:
        return special.gammaincinv(self.concentration, value) / self.rate

    def entropy(self) -> Tensor:
        return entropy_core(self.concentration) - self.rate.log()

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:  # type: ignore[override]
        return torch.lgamma(x + 1) - (x + 1) * torch.log(-y)


# ------------------------------------------------------------------------------------------------
# KL: the Bregman divergence of lgamma, D(x, d) = lnG(x + d) - lnG(x) - d psi(x), without the
# cancellation of its three terms (of size x ln x) when d is small or x large.
# ------------------------------------------------------------------------------------------------

_SHIFT = 24  # shapes below this are shifted up by it before Stirling's series is used
# c_m = B_2m / (2m (2m - 1)), delta(x) = sum_m c_m x^(1-2m); from x = 24 the next term of the
# Bregman divergence of delta is below 1e-15 of the divergence of lgamma.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188)
# [l, m] = c_m (k - l)_+ with k = 2m + 1: the coefficient of y^l (x^-2)^m in _stirling_bregman.
_STIRLING_TABLE = [[c * max(2 * m + 1 - l, 0) for m, c in enumerate(_STIRLING)] for l in range(9)]
_ROWS = 1 << 15  # elements times shift steps evaluated at once (above, in chunks of steps)
_TRUST = 1 / 64  # the textbook forms are kept where they cancel by less than this
_CONSTANTS: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor, Tensor, Tensor]] = {}


def _constants(ref: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The tables of :func:`lgamma_bregman` with ``ref``'s dtype and device: the powers 0..8
    and 0..4, the Stirling table, the shift steps 0..24."""
    key = (ref.dtype, ref.device)
    found = _CONSTANTS.get(key)
    if found is None:
        steps = torch.arange(_SHIFT + 1, dtype=ref.dtype, device=ref.device)
        table = torch.tensor(_STIRLING_TABLE, dtype=ref.dtype, device=ref.device)
        found = _CONSTANTS[key] = (steps[:9], steps[:5], table, steps)
    return found


def _stirling_bregman(x: Tensor, u: Tensor) -> Tensor:
    r""":math:`\delta(x(1+u)) - \delta(x) - xu\,\delta'(x)` for :math:`x, x(1+u) \ge 24`: with
    :math:`y = 1/(1+u)`, each :math:`c_m x^{-k}` of :math:`\delta` (:math:`k = 2m - 1`) adds
    :math:`c_m x^{-k} u^2 y\,T_k(y)`, :math:`T_k(y) = \sum_{l<k} (k - l) y^l > 0`."""
    y_pow, r_pow, table, _ = (constant_like(x, c) for c in _constants(x))
    y = (1 + u).reciprocal()
    r = x.reciprocal()
    poly = ((y.unsqueeze(-1).pow(y_pow) @ table) * r.square().unsqueeze(-1).pow(r_pow)).sum(-1)
    return poly * (u.square() * y * r)


def _shift_rows(x: Tensor, d: Tensor, on: Tensor, steps: Tensor) -> tuple[Tensor, ...]:
    """``(X, w, v, e)`` on rows ``X = x + i on`` (``steps`` i), ``w = d/X``, ``v = ln(1 + w)``,
    ``e = exp(v) - 1 - v``."""
    big_x = x + steps.reshape((-1,) + (1,) * x.dim()) * on
    w = d / big_x
    v = torch.log1p(w)
    return big_x, w, v, _expm1_minus_identity(v)


def lgamma_bregman(x: Tensor, d: Tensor) -> tuple[Tensor, Tensor]:
    r""":math:`(v, \text{rest})` with :math:`v = \ln(1 + d/x)` and :math:`D(x, d) = x h(d/x) +
    \text{rest}`, :math:`h(u) = (1 + u)\ln(1 + u) - u`, both parts non-negative and to a few ulps.

    Stirling's series gives :math:`\text{rest} = \frac12\varphi(v) + \delta(x+d) - \delta(x) -
    d\delta'(x)` for :math:`x, x + d \ge 24`, :math:`\varphi(s) = e^s - 1 - s`. Below, with
    :math:`X = x + 24`, :math:`D(x, d) = D(X, d) + \sum_{i<24} \varphi(\ln(1 + \frac{d}{x+i}))`
    (from :math:`\ln\Gamma(x) = \ln\Gamma(x+n) - \sum_{i<n}\ln(x+i)`), so that rest also holds
    :math:`X h(d/X) - x h(d/x)` (the sum cancels by at most a factor 50)."""
    small = torch.minimum(x, x + d) < _SHIFT
    if not _may_hold(small):
        u = d / x
        v = torch.log1p(u)
        return v, 0.5 * _expm1_minus_identity(v) + _stirling_bregman(x, u)
    on = small.to(x.dtype)
    steps = constant_like(x, _constants(x)[3])
    chunk = _ROWS // max(x.numel(), 1)
    if chunk > _SHIFT:  # every step at once
        big_x, w, v, excess = _shift_rows(x, d, on, steps)
        total = excess[:-1].sum(0)
        big_x, w, v, excess = big_x[::_SHIFT], w[::_SHIFT], v[::_SHIFT], excess[::_SHIFT]
    else:  # rows 0 and 24, then the others a few at a time
        big_x, w, v, excess = _shift_rows(x, d, on, steps[::_SHIFT])
        total = excess[0]
        for start in range(1, _SHIFT, max(chunk, 1)):
            part = steps[start : min(start + max(chunk, 1), _SHIFT)]
            total = total + _shift_rows(x, d, on, part)[3].sum(0)
    h = torch.where(v.abs() <= 1, v.square() + (v - 1) * excess, (1 + w) * v - w)
    lead = big_x * h  # x h(d/x) and X h(d/X)
    rest = 0.5 * excess[1] + _stirling_bregman(big_x[1], w[1]) + (lead[1] - lead[0])
    return v[0], rest + total * on


def gamma_kl(a_p: Tensor, rate_p: Tensor, a_q: Tensor, rate_q: Tensor) -> Tensor:
    r""":math:`KL(\Gamma(a_p, \beta_p) \| \Gamma(a_q, \beta_q)) = a_p\varphi(L) + (a_p - a_q)L +
    \ln\frac{\Gamma(a_q)}{\Gamma(a_p)} - (a_q - a_p)\psi(a_p)`, :math:`L = \ln(\beta_q/\beta_p)`,
    :math:`\varphi(s) = e^s - 1 - s`. Where these terms cancel (nearly equal shapes, or large
    ones), as :math:`a_q\varphi(L - v) + \text{rest}` with :math:`(v, \text{rest})` from
    :func:`lgamma_bregman`: :math:`L - v` is the log of the ratio of the means, and no term
    cancels (relative error about :math:`10^{-16}\sqrt{a}` at worst)."""
    log_ratio = _log_ratio(rate_q, rate_p)
    d = a_q - a_p
    if a_p.is_cpu and not torch.compiler.is_compiling():  # the textbook form, if it is exact
        lg_p, lg_q, psi = torch.lgamma(a_p), torch.lgamma(a_q), torch.digamma(a_p)
        head = a_p * _expm1_minus_identity(log_ratio)
        kl = head - d * log_ratio + (lg_q - lg_p - d * psi)
        size = head + d.abs() * (log_ratio.abs() + psi.abs() + 1) + lg_p.abs() + lg_q.abs()
        if not _may_hold(~((kl >= size * _TRUST) | (d == 0))):
            return kl
    v, rest = lgamma_bregman(a_p, d)
    return a_q * _expm1_minus_identity(log_ratio - v) + rest


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    """See :func:`gamma_kl`."""
    return gamma_kl(p.concentration, p.rate, q.concentration, q.rate)


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p: Gamma, q: Exponential) -> Tensor:
    return q.rate * p.mean - q.rate.log() - p.entropy()


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p: Exponential, q: Gamma) -> Tensor:
    r""":math:`\rho - 1 - a\ln\rho + \ln\Gamma(a) + \gamma(a - 1)`, :math:`\rho = \beta/\lambda`."""
    ratio = q.rate / p.rate
    a = q.concentration
    euler = 0.57721566490153286061
    return ratio - 1 - a * ratio.log() + torch.lgamma(a) + euler * (a - 1)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p: Gamma, q: Normal) -> Tensor:
    r""":math:`-H(p) + \ln(\sigma\sqrt{2\pi}) + E_p[(x-\mu)^2] / (2\sigma^2)`."""
    second = p.variance + (p.mean - q.loc).square()
    return q.scale.log() + _HALF_LOG_2PI + second / (2 * q.scale.square()) - p.entropy()


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Uniform, q: Gamma) -> Tensor:
    r""":math:`-\ln(h-l) - E_p[\ln q(x)]`, infinite when :math:`l < 0`."""
    width = p.high - p.low
    mean_log = (torch.xlogy(p.high, p.high) - torch.xlogy(p.low, p.low)) / width - 1
    log_norm_q = torch.xlogy(q.concentration, q.rate) - torch.lgamma(q.concentration)
    result = q.rate * p.mean - (q.concentration - 1) * mean_log - log_norm_q - width.log()
    return result.masked_fill(p.low < 0, math.inf)


@register_kl(Gamma, Uniform)
def _kl_gamma_uniform(p: Gamma, q: Uniform) -> Tensor:
    """Infinite: the gamma's support is unbounded."""
    return torch.full_like(p.concentration + q.low, math.inf)


@register_kl(Normal, Gamma)
def _kl_normal_gamma(p: Normal, q: Gamma) -> Tensor:
    """Infinite: the normal puts mass on negative numbers."""
    return torch.full_like(p.loc + q.rate, math.inf)
