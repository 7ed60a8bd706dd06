"""The continuous Bernoulli distribution on [0, 1]."""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
from torch import Tensor

from .. import constraints
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import _infinite_like, register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all, lazy_property
from .exponential import Exponential
from .normal import Normal
from .pareto import Pareto
from .uniform import Uniform

__all__ = ["ContinuousBernoulli"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# A(eta) = log(expm1(eta)/eta) = eta/2 + sum_k c_k eta^(2k), c_k = B_2k / (2k (2k)!); for
# |eta| < 1 the mean, variance and entropy use this series (12 terms: exact to 1e-17).
_C = [4.1666666666666667e-2, -3.4722222222222222e-4, 5.5114638447971781e-6,
      -1.0333994708994709e-7, 2.0876756987868099e-9, -4.4034917822395777e-11,
      9.5589546647747706e-13, -2.1185501852016143e-14, 4.7700344757099136e-16,
      -1.0874343492790309e-17, 2.5040921947091952e-19, -5.8143602857552181e-21]  # fmt: skip
_MEAN = [2 * k * c for k, c in enumerate(_C, 1)]  # A' - 1/2 = eta * P(eta^2)
_VAR = [2 * k * (2 * k - 1) * c for k, c in enumerate(_C, 1)]  # A'' = P(eta^2)
_ENT = [(1 - 2 * k) * c for k, c in enumerate(_C, 1)]  # A - eta A' = eta^2 P(eta^2)


@functools.cache
def _cuts(dtype: torch.dtype) -> tuple[float, float, float, float]:
    """``|eta|`` below which the short series of A (3 terms) and of the quantile (2 terms) are
    exact to rounding, and the clamping bounds of ``probs``."""
    info = torch.finfo(dtype)
    return (90720 * info.eps) ** 0.2, info.eps**0.5, info.tiny, 1 - info.eps / 2


def _poly(x: Tensor, coeffs: list[float]) -> Tensor:
    result = x * coeffs[-1]
    for c in reversed(coeffs[1:-1]):
        result = result.add_(c).mul_(x)
    return result.add_(coeffs[0])


def _log_exprel(eta: Tensor, expm1_eta: Tensor | None = None) -> Tensor:
    r""":math:`A(\eta) = \log\frac{e^\eta - 1}{\eta}`, exact for every :math:`\eta` (no overflow,
    no cancellation near 0) and smooth through 0. ``expm1_eta``, when the caller has it, saves
    work (it must be exact, and :math:`\eta < 709`)."""
    cut = _cuts(eta.dtype)[0]
    a = eta.abs()
    small = a < cut
    if expm1_eta is None:
        na = a.clamp_min(cut).neg_()  # the unused branch (and its gradient) stays finite
        direct = torch.log(torch.expm1(na) / na) + eta.relu()
    elif eta.requires_grad and torch.is_grad_enabled():
        ratio = (expm1_eta / eta.masked_fill(small, 1.0)).masked_fill_(small, 1.0)
        direct = torch.log(ratio)
    else:
        direct = torch.log(expm1_eta / eta)  # nan at 0, not selected
    e2 = eta.square()
    series = torch.addcmul(eta * 0.5, e2, e2 * (-1 / 2880) + 1 / 24)
    return torch.where(small, series, direct)


def _logit_expm1(probs: Tensor) -> tuple[Tensor, Tensor]:
    """``eta = log(p / (1 - p))`` and ``expm1(eta) = (2p - 1) / (1 - p)``, both at full relative
    precision (``2p - 1`` is exact from ``p = 1/4`` on)."""
    _, _, tiny, top = _cuts(probs.dtype)
    p = probs.clamp(tiny, top)  # 0 and 1 are the nearest interior points
    q = 1 - p
    c = (p - 0.5).mul_(2) / q
    safe = c.clamp_min(-0.75) if p.requires_grad and torch.is_grad_enabled() else c
    return torch.where(p < 0.25, torch.log(p / q), torch.log1p(safe)), c


class ContinuousBernoulli(ExponentialFamily):
    r"""Continuous Bernoulli distribution on :math:`[0, 1]` with parameter :math:`\lambda`
    (``probs``) or :math:`\eta = \log\frac{\lambda}{1-\lambda}` (``logits``):

    .. math:: p(x) = C(\lambda)\,\lambda^x (1-\lambda)^{1-x} = \frac{\eta\, e^{\eta x}}{e^\eta - 1},
        \qquad x \in [0, 1].

    Computed in :math:`\eta` with :math:`A(\eta) = \log\frac{e^\eta-1}{\eta}`, exact for every
    :math:`\eta` (series near :math:`\lambda = 1/2`, no overflow for large :math:`|\eta|`), so no
    unstable region: ``lims`` is accepted for compatibility and unused. The cdf
    :math:`\operatorname{expm1}(\eta x)/\operatorname{expm1}(\eta)`, its tails and quantile are in
    closed form. ``probs`` of exactly 0 or 1 stand for the nearest interior values.

    Args:
        probs: :math:`\lambda \in [0, 1]` (not a probability).
        logits: :math:`\eta`, any real number.
        lims: torch's Taylor-switch interval (unused).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> ContinuousBernoulli(probs=torch.tensor(0.5)).cdf(torch.tensor(0.25))
        tensor(0.2500)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(
        self,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        lims: tuple[float, float] = (0.499, 0.501),
        validate_args: bool | None = None,
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            self._param = self.probs
        else:
            (self.logits,) = broadcast_all(logits)
            self._param = self.logits
        self._lims = lims
        self._from_probs = probs is not None
        super().__init__(self._param.shape, validate_args=validate_args)

    def _init_kwargs(self) -> dict[str, Any]:
        return {**super()._init_kwargs(), "lims": self._lims}

    @lazy_property
    def logits(self) -> Tensor:
        return self._logit_expm1[0]

    @lazy_property
    def _logit_expm1(self) -> tuple[Tensor, Tensor]:
        return _logit_expm1(self.probs)

    def _eta_expm1(self) -> tuple[Tensor, Tensor | None]:
        """``eta`` and, built from ``probs``, the exact ``expm1(eta)`` that comes with it."""
        if self._from_probs:
            return self._logit_expm1
        return self.logits, None

    @lazy_property
    def probs(self) -> Tensor:
        return torch.sigmoid(self.logits)

    @lazy_property
    def _log_norm(self) -> Tensor:
        """:math:`A(\\eta)`, shared by ``log_prob``, ``entropy`` and the KL divergences."""
        return _log_exprel(*self._eta_expm1())

    @property
    def param_shape(self) -> torch.Size:
        return self._param.size()

    def _small(self) -> tuple[Tensor, Tensor, Tensor]:
        """``eta``, where ``|eta| < 1`` (the series region), and ``eta`` kept away from 0."""
        eta = self.logits
        small = eta.abs() < 1
        return eta, small, eta.masked_fill(small, 1.0)

    @property
    def mean(self) -> Tensor:
        eta, small, safe = self._small()
        direct = torch.expm1(-safe).neg().reciprocal_() - safe.reciprocal()
        series = torch.addcmul(torch.full_like(eta, 0.5), eta, _poly(eta.square(), _MEAN))
        return torch.where(small, series, direct)

    @property
    def mode(self) -> Tensor:
        eta = self.logits
        return (eta > 0).to(eta.dtype).masked_fill_(eta == 0, math.nan)

    @property
    def variance(self) -> Tensor:
        eta, small, safe = self._small()
        direct = safe.square().reciprocal() - (torch.sinh(safe * 0.5) * 2).square().reciprocal_()
        return torch.where(small, _poly(eta.square(), _VAR), direct)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.icdf(self._param.new_empty(shape).uniform_(generator=generator))

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        eta, c = self._eta_expm1()
        return torch.addcmul(_log_exprel(eta, c), eta, value, value=-1).neg_()

    def _log_tail(self, value: Tensor, upper: bool) -> Tensor:
        r""":math:`\log F(x) = \log x + A(-|\eta| x) - A(-|\eta|) - \eta^+ (1 - x)`, and
        :math:`\log S(x)` by the symmetry :math:`x \to 1 - x`, :math:`\eta \to -\eta`."""
        eta = self.logits
        x = value.clamp(0, 1)
        a = eta.abs().neg_()
        if upper:
            y, lead, tilt = 1 - x, torch.log1p(-x), (-eta).relu() * x
        else:
            y, lead, tilt = x, x.log(), eta.relu() * (1 - x)
        return lead + _log_exprel(a * y) - _log_exprel(a) - tilt

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return self._log_tail(value, upper=False).exp_()

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return self._log_tail(value, upper=False)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return self._log_tail(value, upper=True).exp_()

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return self._log_tail(value, upper=True)

    def icdf(self, value: Tensor) -> Tensor:
        r""":math:`x = \log(1 + u(e^\eta - 1)) / \eta`, as ``log1p`` except where :math:`u
        (e^\eta - 1) < -1/2` (:math:`\eta < 0`, :math:`u > 1/2`): there :math:`\log((1 - u) + u
        e^\eta)`, free of cancellation (:math:`1 - u` is exact). No overflow for large
        :math:`\eta`, and :math:`u + u(1-u)\eta/2` (values and gradients) near :math:`\eta = 0`."""
        eta, c = self._eta_expm1()
        tracked = torch.is_grad_enabled() and eta.requires_grad
        if c is None:  # from logits: beyond 700, eta + log(u + (1 - u) e^-eta) (no overflow)
            p = value * torch.expm1(eta.clamp_max(700))
            e = torch.exp(-eta.abs())
            m = torch.where(eta > 0, value, 1 - value)
            far = torch.log(torch.addcmul(e, m, 1 - e)) + eta.relu()
            use_far = (p < -0.5) | (eta > 700)
        else:  # from probs: eta <= 37
            p = value * c
            far = torch.log(torch.addcmul(1 - value, value, torch.exp(eta.clamp_max(0))))
            use_far = p < -0.5
        w = torch.where(use_far, far, torch.log1p(p.clamp_min(-0.5) if tracked else p))
        if tracked:
            small = eta.abs() < _cuts(eta.dtype)[1]
            x = w / eta.masked_fill(small, 1.0)
            x = torch.where(small, torch.addcmul(value, value * (1 - value), eta, value=0.5), x)
        else:
            x = torch.where(eta == 0, value, w / eta)
        return x.clamp(0, 1)

    def entropy(self) -> Tensor:
        eta, small, safe = self._small()
        direct = _log_exprel(safe) - safe * self.mean
        return torch.where(small, eta.square() * _poly(eta.square(), _ENT), direct)

    def _cont_bern_log_norm(self) -> Tensor:
        """torch's name: :math:`\\log C(\\lambda) = \\operatorname{softplus}(\\eta) - A(\\eta)`."""
        return torch.nn.functional.softplus(self.logits, threshold=40) - self._log_norm

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return _log_exprel(x)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p: ContinuousBernoulli, q: ContinuousBernoulli) -> Tensor:
    r""":math:`(\eta_p - \eta_q)\,\mu_p - A(\eta_p) + A(\eta_q)`."""
    return (p.logits - q.logits) * p.mean - p._log_norm + q._log_norm


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p: ContinuousBernoulli, q: Uniform) -> Tensor:
    r""":math:`-H(p) + \log(b - a)`; infinite unless :math:`[0, 1] \subseteq [a, b]`."""
    result = (q.high - q.low).log() - p.entropy()
    return result.masked_fill((q.low > 0) | (q.high < 1), math.inf)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p: Uniform, q: ContinuousBernoulli) -> Tensor:
    r""":math:`-\log(b - a) - \eta_q (a + b)/2 + A(\eta_q)`; infinite unless :math:`[a, b]
    \subseteq [0, 1]`."""
    result = q._log_norm - (p.high - p.low).log() - q.logits * p.mean
    return result.masked_fill((p.low < 0) | (p.high > 1), math.inf)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p: ContinuousBernoulli, q: Exponential) -> Tensor:
    r""":math:`-H(p) - \log\lambda + \lambda\mu_p`."""
    return q.rate * p.mean - q.rate.log() - p.entropy()


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p: ContinuousBernoulli, q: Normal) -> Tensor:
    r""":math:`-H(p) + \log(\sigma\sqrt{2\pi}) + E_p[(x-\mu)^2]/(2\sigma^2)`."""
    second_moment = p.variance + (p.mean - q.loc).square()
    return q.scale.log() + _HALF_LOG_2PI - p.entropy() + second_moment / (2 * q.scale.square())


@register_kl(ContinuousBernoulli, Pareto)
def _kl_cb_pareto(p: ContinuousBernoulli, q: Pareto) -> Tensor:
    """Infinite: the continuous Bernoulli puts mass below any Pareto scale near 0."""
    return _infinite_like(p._param + q.scale)


@register_kl(Pareto, ContinuousBernoulli)
@register_kl(Exponential, ContinuousBernoulli)
@register_kl(Normal, ContinuousBernoulli)
def _kl_unbounded_cb(p: Any, q: ContinuousBernoulli) -> Tensor:
    """Infinite: ``p`` puts mass outside [0, 1]."""
    return _infinite_like(p.mean + q._param)
