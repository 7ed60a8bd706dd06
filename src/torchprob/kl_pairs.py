r"""KL-divergence rules between families, beyond those registered in the family files.

Two groups, both registered on import (``torchprob`` imports this module last):

* the pairs of ``torch.distributions.kl`` that no family file registers: the cross-family pairs
  whose classes live in different files (e.g. ``Gamma``-``Gumbel``, ``Pareto``-``Gamma``), the
  infinite ones (``p`` puts mass where ``q`` has none: ``inf`` with the broadcast batch shape),
  and ``TransformedDistribution``-``TransformedDistribution``;
* closed forms that torch lacks (``Weibull``-``Weibull``, ``Independent(Normal)``-
  ``MultivariateNormal``, ``Multinomial``-``Multinomial``, ...).

Every formula is :math:`KL(p \| q) = -H(p) - E_p[\log q]` with the expectations in closed form,
written so that the terms that vanish at :math:`p = q` are computed without cancellation where
that is cheap (:math:`e^u - 1 - u`, :math:`\ln\Gamma(\rho) + \gamma(\rho - 1)` by its series).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .composite.independent import Independent
from .composite.transformed_distribution import TransformedDistribution
from .continuous.beta import Beta, lgamma_diff
from .continuous.cauchy import Cauchy
from .continuous.chi2 import Chi2
from .continuous.continuous_bernoulli import ContinuousBernoulli
from .continuous.exponential import Exponential
from .continuous.gamma import SERIES_FROM, Gamma, entropy_core, gamma_kl
from .continuous.gumbel import Gumbel
from .continuous.half_cauchy import HalfCauchy
from .continuous.half_normal import HalfNormal
from .continuous.inverse_gamma import InverseGamma
from .continuous.kumaraswamy import Kumaraswamy
from .continuous.laplace import Laplace
from .continuous.log_normal import LogNormal
from .continuous.normal import Normal, _expm1_minus_identity, _may_hold
from .continuous.pareto import Pareto
from .continuous.student_t import StudentT
from .continuous.uniform import Uniform
from .continuous.weibull import Weibull
from .discrete.multinomial import Multinomial
from .discrete.negative_binomial import NegativeBinomial
from .distribution import Distribution
from .kl import _infinite_like, kl_divergence, register_kl
from .multivariate.low_rank_multivariate_normal import LowRankMultivariateNormal
from .multivariate.multivariate_normal import MultivariateNormal, _whitened_norm
from .utils import euler_constant, kl_term

__all__: list[str] = []

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_LOG_2 = math.log(2)
_LOG_4PI = math.log(4 * math.pi)
_EULER = euler_constant
# Below this |rho - 1|, ln G(rho) + gamma (rho - 1) is summed as its Taylor series
# sum_{n=2}^{7} (-1)^n zeta(n) (rho - 1)^n / n (the next term is below 1e-18 of the sum);
# above it the direct form loses at most ~1e-13 relative to the cancellation.
_BREGMAN_RADIUS = 1e-3
_ZETA = (1.6449340668482264, 1.2020569031595942, 1.0823232337111381, 1.03692775514337,
         1.0173430619844492, 1.008349277381923)  # zeta(n) = zeta(n, 1), n = 2..7  # fmt: skip


_exp_excess = _expm1_minus_identity  # e^u - 1 - u >= 0, to a few ulps also near u = 0


def _bregman_series(d: Tensor, zetas: Tensor | tuple[float, ...]) -> Tensor:
    r""":math:`\sum_{n=2}^{7} (-d)^n \zeta_n / n` (Horner), :math:`\zeta_n` a tensor of shape
    ``(6, ...)`` or six numbers."""
    x = -d
    acc = zetas[5] / 7 * x
    for n in range(6, 2, -1):
        acc = (acc + zetas[n - 2] / n) * x
    return (acc + zetas[0] / 2) * x.square()


def _lgamma_excess(rho: Tensor) -> Tensor:
    r""":math:`g(\rho) = \ln\Gamma(\rho) + \gamma(\rho - 1) \ge 0` (the lgamma Bregman term at
    1), zero at :math:`\rho = 1`, by its series near 1 where the two terms cancel."""
    e = rho - 1
    direct = torch.lgamma(rho) + _EULER * e
    near = e.abs() < _BREGMAN_RADIUS
    if not _may_hold(near):
        return direct
    return torch.where(near, _bregman_series(torch.where(near, e, 0.0), _ZETA), direct)


def _gamma_entropy(a: Tensor) -> Tensor:
    r"""The entropy of :math:`\Gamma(a, 1)`, :math:`a + \ln\Gamma(a) + (1 - a)\psi(a)`: the
    direct form where every shape is below the gamma module's series threshold (decided on the
    host for CPU tensors), else its ``entropy_core`` (exact for large shapes)."""
    if not _may_hold(a >= SERIES_FROM):
        return a + torch.lgamma(a) + (1 - a) * torch.digamma(a)
    return entropy_core(a)


def _infinite(p: Distribution, q: Distribution) -> Tensor:
    """``inf`` with the broadcast batch shape of ``p`` and ``q`` (disjoint supports), and the
    dtype and device of ``p``'s first parameter."""
    param_p = getattr(p, next(iter(p.arg_constraints)))
    param_q = getattr(q, next(iter(q.arg_constraints)))
    return _infinite_like(param_p + param_q)


# ------------------------------------------------------------------------------------------------
# The pairs of torch.distributions.kl that no family file registers
# ------------------------------------------------------------------------------------------------


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: TransformedDistribution, q: TransformedDistribution) -> Tensor:
    """The KL of the base distributions, when both apply the same transforms to events of the
    same shape (as in torch: the transforms must compare equal, parameters included)."""
    if p.event_shape != q.event_shape:
        raise NotImplementedError(
            "KL between transformed distributions with different event shapes "
            f"({tuple(p.event_shape)} vs {tuple(q.event_shape)}) is not implemented"
        )
    if p.transforms != q.transforms:
        raise NotImplementedError(
            f"KL between transformed distributions ({type(p).__name__}, {type(q).__name__}) "
            "with different transforms is not implemented"
        )
    return kl_divergence(p.base_dist, q.base_dist)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p: Beta, q: ContinuousBernoulli) -> Tensor:
    r""":math:`-H(p) - \eta_q E_p[x] + A(\eta_q)`, the continuous Bernoulli's log-density being
    :math:`\eta x - A(\eta)`."""
    return q._log_norm - p.entropy() - q.logits * p.mean


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p: Gamma, q: Gumbel) -> Tensor:
    r""":math:`-H(p) + \ln s + \frac{E_p[x] - \mu}{s} + e^{\mu/s}\,(1 + \frac{1}{s\beta})^{-a}`
    for :math:`p = \Gamma(a, \beta)`, :math:`q = \mathrm{Gumbel}(\mu, s)`."""
    a, rate, loc, scale = p.concentration, p.rate, q.loc, q.scale
    neg_entropy = rate.log() - _gamma_entropy(a)
    mgf = torch.exp(loc / scale - a * torch.log1p((scale * rate).reciprocal()))
    return neg_entropy + scale.log() + (p.mean - loc) / scale + mgf


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> Tensor:
    r""":math:`\ln\alpha - a\ln(b s) - 1 - \frac a\alpha + \ln\Gamma(a) + \frac{b s\alpha}
    {\alpha - 1}` for :math:`p = \mathrm{Pareto}(s, \alpha)`, :math:`q = \Gamma(a, b)`; infinite
    for :math:`\alpha \le 1` (infinite mean)."""
    alpha, a = p.alpha, q.concentration
    rate_scale = q.rate * p.scale
    finite = alpha > 1
    safe = torch.where(finite, alpha, 2.0)
    result = safe.log() - a * rate_scale.log() - 1 - a / safe + torch.lgamma(a)
    result = result + rate_scale * safe / (safe - 1)
    return result.masked_fill(~finite, math.inf)


@register_kl(Beta, Pareto)
@register_kl(Gamma, ContinuousBernoulli)
@register_kl(Gamma, Pareto)
@register_kl(Gumbel, Beta)
@register_kl(Gumbel, ContinuousBernoulli)
@register_kl(Gumbel, Gamma)
@register_kl(Gumbel, Pareto)
@register_kl(Laplace, Beta)
@register_kl(Laplace, ContinuousBernoulli)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Pareto)
@register_kl(Pareto, Beta)
def _kl_infinity(p: Distribution, q: Distribution) -> Tensor:
    """Infinite: ``p`` puts mass where ``q`` has none (below a Pareto scale, outside [0, 1], on
    negative numbers, or an unbounded support against a bounded one)."""
    return _infinite(p, q)


# ------------------------------------------------------------------------------------------------
# Closed forms torch lacks: one family against itself
# ------------------------------------------------------------------------------------------------


@register_kl(Chi2, Chi2)
def _kl_chi2_chi2(p: Chi2, q: Chi2) -> Tensor:
    r""":math:`\ln\Gamma(a_q) - \ln\Gamma(a_p) - (a_q - a_p)\psi(a_p)` with :math:`a = k/2`
    (equal rates), without cancellation for nearly equal degrees of freedom (see
    :func:`~torchprob.continuous.gamma.gamma_kl`)."""
    return gamma_kl(p.concentration, p.rate, q.concentration, q.rate)


@register_kl(InverseGamma, InverseGamma)
def _kl_inversegamma_inversegamma(p: InverseGamma, q: InverseGamma) -> Tensor:
    r"""The KL of the gammas of :math:`1/x` (a bijection leaves the KL unchanged)."""
    return gamma_kl(p.concentration, p.rate, q.concentration, q.rate)


@register_kl(HalfCauchy, HalfCauchy)
def _kl_halfcauchy_halfcauchy(p: HalfCauchy, q: HalfCauchy) -> Tensor:
    r""":math:`\ln\frac{(s_p + s_q)^2}{4 s_p s_q} = -\ln(1 - r^2)`, :math:`r = \frac{s_p - s_q}
    {s_p + s_q}`: the KL of the centred Cauchy distributions (folding maps both alike)."""
    r = (p.scale - q.scale) / (p.scale + q.scale)
    return torch.log1p(-r.square()).neg()


@register_kl(Weibull, Weibull)
def _kl_weibull_weibull(p: Weibull, q: Weibull) -> Tensor:
    r""":math:`(e^u - 1 - u) + \ln\Gamma(\rho) + \gamma(\rho - 1)` with :math:`\rho = k_q/k_p`,
    :math:`u = k_q\ln\frac{\lambda_p}{\lambda_q} + \ln\Gamma(1 + \rho)` (both terms
    non-negative; :math:`E_p[(x/\lambda_q)^{k_q}] = e^u`)."""
    rho = q.concentration / p.concentration
    u = q.concentration * (p.scale.log() - q.scale.log()) + torch.lgamma(1 + rho)
    return _exp_excess(u) + _lgamma_excess(rho)


@register_kl(Multinomial, Multinomial)
def _kl_multinomial_multinomial(p: Multinomial, q: Multinomial) -> Tensor:
    r""":math:`n\,KL(\mathrm{Cat}(p) \| \mathrm{Cat}(q))` for equal total counts :math:`n`;
    infinite for different ones (the supports, counts summing to :math:`n`, are disjoint)."""
    per_trial = kl_divergence(p._categorical, q._categorical)
    if p.total_count != q.total_count:
        return torch.full_like(per_trial, math.inf)
    if p.total_count == 0:
        return torch.zeros_like(per_trial)
    return p.total_count * per_trial


@register_kl(NegativeBinomial, NegativeBinomial)
def _kl_negativebinomial_negativebinomial(p: NegativeBinomial, q: NegativeBinomial) -> Tensor:
    r"""Equal :math:`r`: :math:`\frac{r}{1 - p}\,KL(\mathrm{Bern}(p) \| \mathrm{Bern}(q))` (the
    counts of successes before the :math:`r`-th failure). :math:`r_p = 0`: :math:`-\ln q(0)`.
    Different :math:`r > 0`: the exact sum over :math:`p`'s support, on the window of its pmf
    that holds all but :math:`10^{-26}` of its mass (one host read). Differentiable in the
    probabilities; at equal counts, the gradient in ``total_count`` is the derivative along
    :math:`r_p = r_q` (the partial derivatives have no closed form)."""
    r_p, r_q = p.total_count, q.total_count
    (p1, p0), (q1, q0) = p._pq(), q._pq()
    one_p, one_q = torch.ones_like(p1), torch.ones_like(q1)
    per_trial = kl_term(p1, q1, p._xlog_p(one_p), q._xlog_p(one_q))
    per_trial = per_trial + kl_term(p0, q0, p._xlog_q(one_p), q._xlog_q(one_q))
    point_mass = -q._xlog_q(r_q)  # p = delta_0: -log q(0)
    kl = torch.where(r_p == 0, point_mass, r_p * per_trial / p0)
    different = (r_p != r_q) & (r_p > 0)
    if not bool(different.any()):
        return kl
    with torch.no_grad():
        half = p._half_width()
    start = (p.mode - half).clamp(min=0)
    steps = torch.arange(2 * half + 1, dtype=start.dtype, device=start.device)
    k = start + steps.reshape((-1,) + (1,) * start.dim())
    log_p, log_q = p._masked_log_pmf(k), q._masked_log_pmf(k)
    term = torch.where(log_p == -math.inf, 0.0, log_p.exp() * (log_p - log_q))
    term = term.masked_fill((log_q == -math.inf) & (log_p > -math.inf), math.inf)
    return torch.where(different, term.sum(0), kl)


# ------------------------------------------------------------------------------------------------
# Closed forms torch lacks: positive families against each other
# ------------------------------------------------------------------------------------------------


@register_kl(Weibull, Gamma)
def _kl_weibull_gamma(p: Weibull, q: Gamma) -> Tensor:
    r""":math:`(e^u - 1 - u) + g(c) + \ln\Gamma(a) + (a - 1)(\gamma c - s)` for
    :math:`p = \mathrm{Weibull}(\lambda, k)`, :math:`q = \Gamma(a, \beta)`, with :math:`c = 1/k`,
    :math:`s = \ln(\beta\lambda)`, :math:`u = s + \ln\Gamma(1 + c)` and
    :math:`g(c) = \ln\Gamma(c) + \gamma(c - 1)`."""
    c = p.concentration_reciprocal
    a = q.concentration
    s = (q.rate * p.scale).log()
    u = s + torch.lgamma(1 + c)
    return _exp_excess(u) + _lgamma_excess(c) + torch.lgamma(a) + (a - 1) * (_EULER * c - s)


@register_kl(Gamma, Weibull)
def _kl_gamma_weibull(p: Gamma, q: Weibull) -> Tensor:
    r""":math:`(e^u - 1 - u) + 1 + \ln\frac{\Gamma(a + k)}{\Gamma(a)} - \Phi(a) - \ln k
    - (k - 1)\psi(a)` for :math:`p = \Gamma(a, \beta)`, :math:`q = \mathrm{Weibull}(\lambda, k)`,
    with :math:`u = \ln\frac{\Gamma(a + k)}{\Gamma(a)} - k\ln(\beta\lambda)` and :math:`\Phi(a)`
    the entropy of :math:`\Gamma(a, 1)`."""
    a, k = p.concentration, q.concentration
    log_rising = -lgamma_diff(a, k)  # ln Gamma(a + k) - ln Gamma(a), exact for large a
    u = log_rising - k * (p.rate * q.scale).log()
    rest = 1 + log_rising - _gamma_entropy(a) - k.log() - (k - 1) * torch.digamma(a)
    return _exp_excess(u) + rest


@register_kl(Exponential, Weibull)
def _kl_exponential_weibull(p: Exponential, q: Weibull) -> Tensor:
    r""":math:`(e^u - 1 - u) + \ln\Gamma(k) + \gamma(k - 1)` with :math:`u = \ln\Gamma(1 + k)
    - k\ln(\theta\lambda)`, :math:`\theta` the exponential's rate."""
    k = q.concentration
    u = torch.lgamma(1 + k) - k * (p.rate * q.scale).log()
    return _exp_excess(u) + _lgamma_excess(k)


@register_kl(Weibull, Exponential)
def _kl_weibull_exponential(p: Weibull, q: Exponential) -> Tensor:
    r""":math:`(e^u - 1 - u) + \ln\Gamma(c) + \gamma(c - 1)` with :math:`c = 1/k`,
    :math:`u = \ln(\theta\lambda) + \ln\Gamma(1 + c)`."""
    c = p.concentration_reciprocal
    u = (q.rate * p.scale).log() + torch.lgamma(1 + c)
    return _exp_excess(u) + _lgamma_excess(c)


@register_kl(LogNormal, Gamma)
def _kl_lognormal_gamma(p: LogNormal, q: Gamma) -> Tensor:
    r""":math:`(e^u - 1 - u) + (1 - a)s + \ln\Gamma(a) + \frac{1 + \sigma^2}{2} - \ln\sigma
    - \ln\sqrt{2\pi}` with :math:`s = \mu + \ln\beta`, :math:`u = s + \sigma^2/2`."""
    a, sigma = q.concentration, p.scale
    s = p.loc + q.rate.log()
    half_var = 0.5 * sigma.square()
    rest = (1 - a) * s + torch.lgamma(a) + (0.5 + half_var) - sigma.log() - _HALF_LOG_2PI
    return _exp_excess(s + half_var) + rest


@register_kl(Gamma, LogNormal)
def _kl_gamma_lognormal(p: Gamma, q: LogNormal) -> Tensor:
    r""":math:`\psi(a) - \Phi(a) + \ln(\sigma\sqrt{2\pi}) + \frac{\psi'(a) + (m - \mu)^2}
    {2\sigma^2}`, :math:`m = E_p[\ln x] = \psi(a) - \ln\beta`, :math:`\Phi(a)` the entropy of
    :math:`\Gamma(a, 1)`."""
    a = p.concentration
    digamma = torch.digamma(a)
    second = torch.polygamma(1, a) + (digamma - p.rate.log() - q.loc).square()
    return digamma - _gamma_entropy(a) + q.scale.log() + _HALF_LOG_2PI + second / (2 * q.scale**2)


def _gamma_inversegamma(a_p: Tensor, rate_p: Tensor, a_q: Tensor, rate_q: Tensor) -> Tensor:
    r""":math:`KL(\Gamma(a_p, \beta_p) \| \Gamma^{-1}(a_q, \beta_q)) = (e^u - 1 - u) + 1
    + (1 - a_q)s - \ln(a_p - 1) - \Phi(a_p) + \ln\Gamma(a_q) + (a_q + 1)\psi(a_p)` with
    :math:`s = \ln\beta_p\beta_q`, :math:`u = s - \ln(a_p - 1)` (:math:`E_p[1/x] = e^u`);
    infinite for :math:`a_p \le 1`, where :math:`E_p[1/x]` is."""
    finite = a_p > 1
    a = torch.where(finite, a_p, 2.0)
    log_am1 = (a - 1).log()
    s = (rate_p * rate_q).log()
    rest = 1 + (1 - a_q) * s - log_am1 - _gamma_entropy(a) + torch.lgamma(a_q)
    result = _exp_excess(s - log_am1) + rest + (a_q + 1) * torch.digamma(a)
    return result.masked_fill(~finite, math.inf)


@register_kl(Gamma, InverseGamma)
def _kl_gamma_inversegamma(p: Gamma, q: InverseGamma) -> Tensor:
    r"""See :func:`_gamma_inversegamma`; infinite for :math:`a_p \le 1`."""
    return _gamma_inversegamma(p.concentration, p.rate, q.concentration, q.rate)


@register_kl(InverseGamma, Gamma)
def _kl_inversegamma_gamma(p: InverseGamma, q: Gamma) -> Tensor:
    r"""Through :math:`y = 1/x`: :math:`KL(\Gamma^{-1}(a_p, \beta_p) \| \Gamma(a_q, \beta_q)) =
    KL(\Gamma(a_p, \beta_p) \| \Gamma^{-1}(a_q, \beta_q))`; infinite for :math:`a_p \le 1`."""
    return _gamma_inversegamma(p.concentration, p.rate, q.concentration, q.rate)


@register_kl(HalfNormal, Exponential)
def _kl_halfnormal_exponential(p: HalfNormal, q: Exponential) -> Tensor:
    r""":math:`(e^s - 1 - s) + \frac12 + \ln\frac2\pi` with :math:`e^s = \lambda E_p[x]
    = \lambda\sigma\sqrt{2/\pi}`."""
    s = (p.scale * q.rate).log() + 0.5 * math.log(2 / math.pi)
    return _exp_excess(s) + (0.5 + math.log(2 / math.pi))


@register_kl(Exponential, HalfNormal)
def _kl_exponential_halfnormal(p: Exponential, q: HalfNormal) -> Tensor:
    r""":math:`\frac12(e^z - 1 - z) + \frac12(\ln\pi - 1)` with :math:`z = \ln 2
    - 2\ln(\lambda\sigma)` (:math:`E_p[x^2] = 2/\lambda^2`)."""
    z = _LOG_2 - 2 * (p.rate * q.scale).log()
    return 0.5 * _exp_excess(z) + 0.5 * (math.log(math.pi) - 1)


@register_kl(Kumaraswamy, Uniform)
def _kl_kumaraswamy_uniform(p: Kumaraswamy, q: Uniform) -> Tensor:
    r""":math:`\ln(b - a) - H(p)`; infinite unless :math:`[0, 1] \subseteq [a, b]`."""
    result = (q.high - q.low).log() - p.entropy()
    return result.masked_fill((q.low > 0) | (q.high < 1), math.inf)


# ------------------------------------------------------------------------------------------------
# Closed forms torch lacks: heavy tails
# ------------------------------------------------------------------------------------------------


@register_kl(StudentT, Normal)
def _kl_studentt_normal(p: StudentT, q: Normal) -> Tensor:
    r""":math:`-H(p) + \ln(\sigma\sqrt{2\pi}) + \frac{s^2\nu/(\nu - 2) + (\mu_p - \mu_q)^2}
    {2\sigma^2}`; infinite for :math:`\nu \le 2` (infinite variance)."""
    df = p.df
    finite = df > 2
    safe = torch.where(finite, df, 3.0)
    second = p.scale.square() * (safe / (safe - 2)) + (p.loc - q.loc).square()
    result = q.scale.log() + _HALF_LOG_2PI + second / (2 * q.scale.square()) - p.entropy()
    return result.masked_fill(~finite, math.inf)


@register_kl(Cauchy, StudentT)
def _kl_cauchy_studentt(p: Cauchy, q: StudentT) -> Tensor:
    r""":math:`-\ln(4\pi s_p) - \ln\frac{\Gamma((\nu+1)/2)}{\Gamma(\nu/2)\sqrt{\nu\pi}\,s_q}
    + \frac{\nu + 1}{2}\ln\frac{(\mu_p - \mu_q)^2 + (s_p + \sqrt\nu s_q)^2}{\nu s_q^2}`, from
    :math:`E_p[\ln((x - m)^2 + b^2)] = \ln((\mu_p - m)^2 + (s_p + b)^2)` (Cauchy :math:`p`,
    :math:`b > 0`)."""
    df, s_q = q.df, q.scale
    half = 0.5 * df
    log_norm_q = -lgamma_diff(half, torch.full_like(half, 0.5)) - 0.5 * torch.log(df * math.pi)
    b = df.sqrt() * s_q
    t = (p.loc - q.loc) / (p.scale + b)
    log_ratio = 2 * (torch.log1p(p.scale / b)) + torch.log1p(t.square())
    return (half + 0.5) * log_ratio - log_norm_q + s_q.log() - p.scale.log() - _LOG_4PI


@register_kl(Cauchy, Gumbel)
@register_kl(Cauchy, Laplace)
@register_kl(Cauchy, Normal)
@register_kl(StudentT, Gumbel)
def _kl_heavy_light(p: Distribution, q: Distribution) -> Tensor:
    """Infinite: ``p``'s polynomial tails make :math:`E_p[-\\ln q]` diverge (``q``'s log-density
    falls linearly, quadratically or exponentially)."""
    loc = p.loc  # type: ignore[attr-defined]
    return _infinite_like(loc + q.loc)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------------
# Closed forms torch lacks: diagonal against full Gaussians
# ------------------------------------------------------------------------------------------------


def _diagonal_normal(d: Independent, other: Distribution) -> Normal:
    """The base ``Normal`` of ``Independent(Normal, 1)`` (a diagonal Gaussian), or raise."""
    base = d.base_dist
    if not isinstance(base, Normal) or d.reinterpreted_batch_ndims != 1:
        raise NotImplementedError(
            "KL between Independent and a (low-rank) multivariate normal is implemented for "
            "Independent(Normal, 1) only, not Independent("
            f"{type(base).__name__}, {d.reinterpreted_batch_ndims})"
        )
    if d.event_shape != other.event_shape:
        raise ValueError(
            "KL-divergence between Gaussians with different event shapes cannot be computed: "
            f"{tuple(d.event_shape)} vs {tuple(other.event_shape)}"
        )
    return base


def _as_low_rank(base: Normal) -> LowRankMultivariateNormal:
    """The diagonal Gaussian as a low-rank one with a zero factor."""
    zero = base.scale.new_zeros(()).expand(base.scale.shape + (1,))
    return LowRankMultivariateNormal(base.loc, zero, base.scale.square(), validate_args=False)


@register_kl(Independent, MultivariateNormal)
def _kl_independent_multivariatenormal(p: Independent, q: MultivariateNormal) -> Tensor:
    r""":math:`\ln\frac{|L_q|}{\prod\sigma_i} + \frac12\big(\|L_q^{-1}\operatorname{diag}\sigma\|
    _F^2 + \|L_q^{-1}(\mu_q - \mu_p)\|^2 - d\big)` for :math:`p = \prod_i N(\mu_i, \sigma_i)`."""
    base = _diagonal_normal(p, q)
    trace = _whitened_norm(q._whitening, torch.diag_embed(base.scale))
    rest = trace + q._mahalanobis(q.loc - base.loc) - p.event_shape[0]
    return (q._half_log_det - base.scale.log().sum(-1)) + 0.5 * rest


@register_kl(MultivariateNormal, Independent)
def _kl_multivariatenormal_independent(p: MultivariateNormal, q: Independent) -> Tensor:
    r""":math:`\ln\frac{\prod\sigma_i}{|L_p|} + \frac12\sum_i\frac{\Sigma_{p,ii} + (\mu_{p,i}
    - \mu_i)^2}{\sigma_i^2} - \frac d2` for :math:`q = \prod_i N(\mu_i, \sigma_i)`."""
    base = _diagonal_normal(q, p)
    z = ((p.variance + (p.loc - base.loc).square()) / base.scale.square()).sum(-1)
    return (base.scale.log().sum(-1) - p._half_log_det) + 0.5 * (z - p.event_shape[0])


@register_kl(Independent, LowRankMultivariateNormal)
def _kl_independent_lowrankmultivariatenormal(
    p: Independent, q: LowRankMultivariateNormal
) -> Tensor:
    """The low-rank rule, with ``p`` as a low-rank Gaussian of zero factor."""
    return kl_divergence(_as_low_rank(_diagonal_normal(p, q)), q)


@register_kl(LowRankMultivariateNormal, Independent)
def _kl_lowrankmultivariatenormal_independent(
    p: LowRankMultivariateNormal, q: Independent
) -> Tensor:
    r""":math:`\frac12\big(\ln\frac{\prod\sigma_i^2}{|\Sigma_p|} + \sum_i\frac{\Sigma_{p,ii}
    + (\mu_{p,i} - \mu_i)^2}{\sigma_i^2} - d\big)` for :math:`q = \prod_i N(\mu_i, \sigma_i)`."""
    base = _diagonal_normal(q, p)
    z = ((p.variance + (p.loc - base.loc).square()) / base.scale.square()).sum(-1)
    return 0.5 * (2 * base.scale.log().sum(-1) - p._log_det + z - p.event_shape[0])
