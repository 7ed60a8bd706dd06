"""The gamma distribution, and the Stirling-series helpers its relatives share."""

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
from .normal import Normal, _expm1_minus_identity
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


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    r""":math:`a_p(\rho - 1 - \ln\rho) + (a_p - a_q)\ln\rho + \ln\Gamma(a_q) - \ln\Gamma(a_p)
    - (a_q - a_p)\psi(a_p)`, :math:`\rho = \beta_q/\beta_p`."""
    log_ratio = q.rate.log() - p.rate.log()
    a_p, a_q = p.concentration, q.concentration
    gamma_part = torch.lgamma(a_q) - torch.lgamma(a_p) - (a_q - a_p) * torch.digamma(a_p)
    return a_p * _expm1_minus_identity(log_ratio) + (a_p - a_q) * log_ratio + gamma_part


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
