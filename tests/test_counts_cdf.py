"""Tail functions and quantiles of the count families (Binomial, NegativeBinomial, Poisson) at
every scale: against mpmath to 1e-12 (float64) for counts and rates up to 1e12 and tails down
to 1e-300 (and their logs far beyond), exact integer quantiles consistent with the cdf, the
agreement of the two routes (exact window sums, special functions), boundary values and
gradients.

The mpmath references integrate the incomplete beta/gamma integrands in 40 digits (tanh-sinh
quadrature from the argument away from the peak, on breakpoints at the integrand's scale), with
the parameters taken exactly as the float64 numbers the tests pass. SciPy is not the oracle
here: its ``binom``/``nbinom`` lose up to 1e-11 at counts of 1e12 and its ``poisson.sf`` is off
by factors of 10 at rates of 1e9 and more.
"""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as st
import torch

import torchprob.discrete.binomial as binomial_module
import torchprob.discrete.poisson as poisson_module
from torchprob.discrete.binomial import Binomial
from torchprob.discrete.negative_binomial import NegativeBinomial
from torchprob.discrete.poisson import Poisson

F64 = torch.float64
RTOL = 1e-12
Z_POINTS = (-45.0, -37.0, -10.0, -1.0, 0.0, 1.0, 10.0, 37.0, 45.0)


def t(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=F64)


# --------------------------------------------------------------------------------------------
# mpmath references
# --------------------------------------------------------------------------------------------


def _quad_from(logf, length, scale):
    """exp(logf(0)) times the integral of exp(logf(s) - logf(0)) over [0, length]."""
    points, w = [mp.mpf(0)], scale
    while w < length and len(points) < 30:
        points.append(w)
        w *= 4
    points.append(length)
    f0 = logf(mp.mpf(0))
    return mp.exp(f0) * mp.quad(lambda s: mp.exp(logf(s) - f0), points)


def mp_beta(a, b, x):
    """(I_x(a, b), 1 - I_x(a, b)): the side of x away from the integrand's peak by
    quadrature, the other as one minus it."""
    a, b, x = mp.mpf(a), mp.mpf(b), mp.mpf(x)
    if x == 0 or x == 1:
        return (mp.mpf(0), mp.mpf(1)) if x == 0 else (mp.mpf(1), mp.mpf(0))
    if a == 1 or b == 1:  # I_x(1, b) = 1 - (1-x)^b, I_x(a, 1) = x^a
        power = mp.exp(b * mp.log1p(-x)) if a == 1 else mp.exp(a * mp.log(x))
        return (1 - power, power) if a == 1 else (power, 1 - power)
    if a < 2 or b < 2:  # small shapes: mpmath's hypergeometric series converges
        low = mp.betainc(a, b, 0, x, regularized=True)
        return low, mp.betainc(a, b, x, 1, regularized=True)
    log_beta = mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
    peak = (a - 1) / (a + b - 2)

    def h(u):
        return (a - 1) * mp.log(u) + (b - 1) * mp.log(1 - u) - log_beta

    slope = abs((a - 1) / x - (b - 1) / (1 - x))
    scale = min(mp.sqrt(peak * (1 - peak) / (a + b)), x / 4, (1 - x) / 4)
    scale = min(scale, 1 / slope) if slope > 0 else scale
    if x <= peak:
        low = _quad_from(lambda s: h(x - s), x, scale)
        return low, 1 - low
    high = _quad_from(lambda s: h(x + s), 1 - x, scale)
    return 1 - high, high


def mp_gamma(a, x):
    """(P(a, x), Q(a, x)), as :func:`mp_beta`."""
    a, x = mp.mpf(a), mp.mpf(x)
    if x == 0:
        return mp.mpf(0), mp.mpf(1)
    if a < 2 or x < 1:
        return mp.gammainc(a, 0, x, regularized=True), mp.gammainc(a, x, mp.inf, regularized=True)
    log_gamma = mp.loggamma(a)

    def h(u):
        return (a - 1) * mp.log(u) - u - log_gamma

    slope = abs((a - 1) / x - 1)
    scale = min(mp.sqrt(a), x / 4)
    scale = min(scale, 1 / slope) if slope > 0 else scale
    if x <= a - 1:
        low = _quad_from(lambda s: h(x - s), x, scale)
        return low, 1 - low
    high = _quad_from(lambda s: h(x + s), mp.inf, scale)
    return 1 - high, high


def mp_p(probs=None, logits=None):
    """The success probability: ``probs`` exactly; from ``logits``, the smaller of
    :math:`p, 1-p` rounded once to float64, as the incomplete beta function receives it (the
    cdf's condition number in :math:`p`, :math:`|k - np|/(1-p)`, ~1e5 at a count of 1e9,
    turns that one rounding into ~1e-11: inherent to a float64 argument)."""
    if probs is not None:
        return mp.mpf(probs)
    smaller = torch.sigmoid(-abs(t(logits))).item()
    return mp.mpf(smaller) if logits <= 0 else 1 - mp.mpf(smaller)


@functools.cache
def mp_tails(family: str, count: float, param: float, is_logits: bool, k: float):
    """``(cdf, sf, log_cdf, log_sf)`` at ``k`` as floats from mpmath; ``param``: probs, logits
    or the rate. The smaller tail is the one integrated; the other's log is ``log1p(-small)``."""
    with mp.workdps(40):
        if k < 0 or (family == "Binomial" and k >= count):
            return (0.0, 1.0, -math.inf, 0.0) if k < 0 else (1.0, 0.0, 0.0, -math.inf)
        if family == "Poisson":
            upper, lower = mp_gamma(k + 1, param)  # P(X > k) = P(k + 1, rate)
        else:
            p = mp_p(logits=param) if is_logits else mp_p(probs=param)
            shape = count - k if family == "Binomial" else count
            upper, lower = mp_beta(k + 1, shape, p)  # P(X > k) = I_p(k + 1, shape)
        small = min(lower, upper)
        logs = [mp.log(small) if small > 0 else -mp.inf, mp.log1p(-small)]
        log_lower, log_upper = logs if lower <= upper else logs[::-1]
        return float(lower), float(upper), float(log_lower), float(log_upper)


# --------------------------------------------------------------------------------------------
# The parameter grid: both routes, every regime of the special functions
# --------------------------------------------------------------------------------------------

# (family, total_count or None, parameter, is_logits)
CASES = [
    ("Binomial", 1e12, 0.3, False),
    ("Binomial", 1e12, 2.0**-20, False),
    ("Binomial", 1e9, 0.8, True),
    ("Binomial", 1e7, 1 - 1e-9, False),
    ("Binomial", 1e5, 0.5, False),  # special functions (window of 1937 terms)
    ("Binomial", 3000.0, 0.25, False),  # exact window
    ("Binomial", 2000.0, -30.0, True),
    ("NegativeBinomial", 1e9, 0.5, False),
    ("NegativeBinomial", 1e12, 0.3, False),
    ("NegativeBinomial", 0.5, 0.99999, False),
    ("NegativeBinomial", 1e-3, 13.0, True),
    ("NegativeBinomial", 1e5, 2.0, True),
    ("NegativeBinomial", 4.0, 0.3, False),  # exact window
    ("Poisson", None, 1e12, False),
    ("Poisson", None, 1e9, False),
    ("Poisson", None, 1e5, False),
    ("Poisson", None, 500.0, False),
    ("Poisson", None, 30.0, False),
    ("Poisson", None, 3.0, False),  # torch's incomplete gamma
    ("Poisson", None, 1e-3, False),
]


def build(family, count, param, is_logits, validate_args=None):
    if family == "Poisson":
        return Poisson(t(param), validate_args=validate_args)
    cls = Binomial if family == "Binomial" else NegativeBinomial
    key = "logits" if is_logits else "probs"
    return cls(t(count), **{key: t(param)}, validate_args=validate_args)


def grid(d, family, count) -> list[float]:
    """Counts at the ends of the support and at Z_POINTS standard deviations."""
    mean, sd = d.mean.item(), d.stddev.item()
    top = count if family == "Binomial" else math.inf
    raw = [0.0, 1.0, 2.0, top - 1, top] + [math.floor(mean + z * sd) for z in Z_POINTS]
    return sorted({x for x in raw if 0 <= x <= top and math.isfinite(x)})


def case_id(case) -> str:
    family, count, param, is_logits = case
    name = "logits" if is_logits else ("rate" if family == "Poisson" else "p")
    return f"{family}-{'' if count is None else f'{count:g}-'}{name}={param:g}"


def assert_rel(actual: torch.Tensor, expected, rtol: float = RTOL, tiny: float = 0.0) -> None:
    """Relative agreement (infinities equal); below ``tiny`` an absolute tolerance ``tiny``."""
    a = actual.detach().numpy()
    e = np.asarray([float(v) for v in expected])
    assert not np.isnan(a).any()
    inf = np.isinf(e)
    assert (a[inf] == e[inf]).all(), (a[inf], e[inf])
    diff = np.abs(a[~inf] - e[~inf])
    err = np.where(diff <= tiny, 0.0, diff / np.maximum(np.abs(e[~inf]), 1e-300))
    assert err.max(initial=0.0) <= rtol, (err.max(), a[~inf][err.argmax()], e[~inf][err.argmax()])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_tails_against_mpmath(case):
    """cdf and survival function to 1e-12 down to 1e-300 (below: to 1e-300 absolutely), their
    logs to 1e-12 everywhere, 45 standard deviations out included (tails of e^-1000)."""
    family, count, param, is_logits = case
    d = build(*case)
    ks = grid(d, family, count)
    refs = [mp_tails(family, count, param, is_logits, k) for k in ks]
    k = t(ks)
    assert_rel(d.cdf(k), [r[0] for r in refs], tiny=1e-300)
    assert_rel(d.survival_function(k), [r[1] for r in refs], tiny=1e-300)
    assert_rel(d.log_cdf(k), [r[2] for r in refs])
    assert_rel(d.log_survival_function(k), [r[3] for r in refs])


# --------------------------------------------------------------------------------------------
# Quantiles
# --------------------------------------------------------------------------------------------

QUANTILES = t([0.0, 1e-300, 1e-100, 1e-12, 0.01, 0.5, 0.99, 1 - 1e-12, 1 - 2.0**-53, 1.0])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_icdf_is_the_smallest_count_reaching_u(case):
    """Integers with ``cdf(k) >= u > cdf(k - 1)``, the cdf as computed; ``inf`` at u = 1 for
    an unbounded support; and the round trip ``icdf(cdf(k)) == k`` around the mean."""
    family, count, _, _ = case
    d = build(*case, validate_args=False)
    u = QUANTILES
    k = d.icdf(u)
    finite = torch.isfinite(k)
    assert torch.equal(k[finite], k[finite].floor()) and (k[finite] >= 0).all()
    assert k[0].item() == 0
    if family == "Binomial":
        assert finite.all() and (k <= count).all()
    else:
        assert k[-1].item() == math.inf and finite[:-1].all()
    kf, uf = k[finite], u[finite]
    assert (d.cdf(kf) >= uf).all()
    below = d.cdf((kf - 1).clamp(min=0))
    assert ((kf == 0) | (below < uf)).all()
    mean, sd = d.mean.item(), d.stddev.item()
    ks = t(sorted({max(0.0, math.floor(mean + z * sd)) for z in (-8, -2, -0.3, 0, 0.4, 3, 8)}))
    if family == "Binomial":
        ks = ks.clamp(max=count)
    cdf = d.cdf(ks)
    steps = (cdf > d.cdf(ks - 1)) & (cdf < 1)
    assert torch.equal(d.icdf(cdf)[steps], ks[steps])


def test_icdf_against_scipy_and_mpmath():
    """The quantiles themselves: SciPy's where it is exact, mpmath's cdf on both sides of each
    quantile at a count of 1e12."""
    for d, ref in [
        (Binomial(t(10**5), t(0.5)), st.binom(10**5, 0.5)),
        (NegativeBinomial(t(1e5), t(0.75)), st.nbinom(1e5, 0.25)),
        (Poisson(t(1e5)), st.poisson(1e5)),
    ]:
        u = t([1e-12, 0.01, 0.3, 0.5, 0.9, 1 - 1e-9])
        assert d.icdf(u).tolist() == ref.ppf(u.numpy()).tolist()
    d = Binomial(t(1e12), t(0.3))
    u = [1e-200, 0.25, 0.5, 1 - 1e-10]
    for k, ui in zip(d.icdf(t(u)).tolist(), u):
        assert mp_tails("Binomial", 1e12, 0.3, False, k)[0] >= ui
        assert mp_tails("Binomial", 1e12, 0.3, False, k - 1)[0] < ui


# --------------------------------------------------------------------------------------------
# Routes, boundaries, no NotImplementedError
# --------------------------------------------------------------------------------------------

SMALL = [
    Binomial(t([0, 1, 7, 60, 500]), t([0.3, 0.0, 1.0, 0.25, 0.999]), validate_args=False),
    Binomial(t([5, 40, 300]), logits=t([-40.0, 0.3, 6.0]), validate_args=False),
    NegativeBinomial(t([0.0, 2.0, 0.5, 30.0]), t([0.4, 0.0, 0.9, 0.2]), validate_args=False),
    NegativeBinomial(t([3.0, 0.1]), logits=t([-3.0, 4.0]), validate_args=False),
]


@pytest.mark.parametrize("d", SMALL, ids=lambda d: type(d).__name__)
def test_special_route_matches_the_window(d, monkeypatch):
    """Narrow laws forced onto the incomplete beta function (``_CDF_WINDOW = 0``) give the
    window's values, boundaries included: k < 0, k >= n, p = 0 and 1, n = 0, r = 0."""
    k = t([-1.0, 0.0, 1.0, 2.0, 4.0, 6.0, 7.0, 30.0, 59.0, 60.0, 61.0, 200.0, 499.0, 500.0])
    k = k.reshape((-1,) + (1,) * len(d.batch_shape))
    names = ("cdf", "survival_function", "log_cdf", "log_survival_function")
    window = [getattr(d, name)(k) for name in names]
    u = t([0.0, 1e-300, 1e-9, 0.2, 0.5, 0.9, 1 - 1e-9, 1.0])
    u = u.reshape((-1,) + (1,) * len(d.batch_shape))
    window_icdf = d.icdf(u)
    monkeypatch.setattr(binomial_module, "_CDF_WINDOW", 0)
    for name, expected in zip(names, window):
        got = getattr(d, name)(k)
        assert torch.equal(got.isinf(), expected.isinf()), name
        finite = expected.isfinite()
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-300)
    special_icdf = d.icdf(u)
    # the two cdfs differ by ~1e-13: a quantile may differ by one where u sits on a step
    assert torch.equal(special_icdf.isinf(), window_icdf.isinf())
    finite = window_icdf.isfinite()
    assert ((special_icdf - window_icdf)[finite].abs() <= 1).all()
    assert torch.equal(special_icdf[:2], window_icdf[:2])


def test_exact_boundaries_of_the_special_route():
    big = dict(validate_args=False)
    d = Binomial(t([1e9, 1e9, 1e9]), t([0.0, 0.5, 1.0]), **big)
    k = t([[-1.0], [0.0], [1e9 - 1], [1e9], [2e9]])
    assert d.cdf(k).tolist() == [
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [1.0, 1.0, 0.0],
        [1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0],
    ]
    sf = d.survival_function(k)
    assert torch.equal(sf, 1 - d.cdf(k))
    assert d.log_survival_function(k)[3:].tolist() == [[-math.inf] * 3] * 2
    assert d.log_cdf(k)[0].tolist() == [-math.inf] * 3
    nb = NegativeBinomial(t([0.0, 1e9, 1e9]), t([0.5, 0.0, 0.5]), **big)
    assert nb.cdf(t([[-1.0], [0.0]])).tolist() == [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    assert nb.log_survival_function(t(0.0))[:2].tolist() == [-math.inf, -math.inf]
    assert nb.icdf(t([0.5, 1.0])[:, None])[:, :2].tolist() == [[0.0, 0.0], [math.inf, math.inf]]
    p = Poisson(t([0.0, 1e12]), **big)
    assert p.cdf(t([[-1.0], [0.0]])).tolist() == [[0.0, 0.0], [1.0, 0.0]]
    assert p.log_survival_function(t(5.0))[0].item() == -math.inf
    assert p.log_cdf(t(0.0))[1].item() == -1e12


def test_huge_parameters_work():
    """No NotImplementedError anywhere in the cdf family (the windows would need 1e6-1e8
    terms per value)."""
    nb_mean = 1e9
    for d, k in [
        (Binomial(t(1e9), t(0.3)), 3e8),
        (Binomial(torch.tensor(10**12), t(1e-3)), 1e9),
        (Poisson(t(1e12)), 1e12),
        (NegativeBinomial(t(1e9), t(0.5)), nb_mean),
    ]:
        for name in ("cdf", "survival_function", "log_cdf", "log_survival_function"):
            value = getattr(d, name)(t(k))
            assert math.isfinite(value.item()), name
        u = t([1e-300, 0.5, 1 - 1e-12])
        q = d.icdf(u)
        assert (d.cdf(q) >= u).all() and (d.cdf(q - 1) < u).all()


def test_poisson_routes_agree(monkeypatch):
    """torch's incomplete gamma (rates up to 10) and torchprob's agree to 1e-13."""
    d = Poisson(t([1e-8, 0.5, 3.0, 10.0]))
    k = t([0.0, 1.0, 3.0, 9.0, 20.0, 60.0, 150.0])[:, None]
    names = ("cdf", "survival_function", "log_cdf", "log_survival_function")
    expected = [getattr(d, name)(k) for name in names]
    monkeypatch.setattr(poisson_module, "_CEPHES_MAX_RATE", -1.0)
    for name, e in zip(names, expected):
        np.testing.assert_allclose(getattr(d, name)(k), e, rtol=1e-13, atol=1e-300)


def test_off_cpu_path_takes_the_special_functions(monkeypatch):
    """Off the CPU nothing is read on the host: the route is the special functions, the
    bisection runs 64 halvings; same values as on the CPU."""
    cases = [
        (Binomial(t([10, 2000]), t([0.3, 0.6]), validate_args=False), t([[0.0], [3.0], [1100.0]])),
        (NegativeBinomial(t([2.5, 1e6]), t([0.3, 0.5])), t([[0.0], [1.0], [1e6]])),
        (Poisson(t([3.0, 1e9])), t([[0.0], [2.0], [1e9]])),
    ]
    u = t([1e-300, 0.3, 0.999])[:, None]
    expected = [(d.cdf(k), d.log_survival_function(k), d.icdf(u)) for d, k in cases]
    monkeypatch.setattr(poisson_module, "_ordinary_cpu", lambda tensor: False)
    for (d, k), (cdf, log_sf, q) in zip(cases, expected):
        np.testing.assert_allclose(d.cdf(k), cdf, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(d.log_survival_function(k), log_sf, rtol=1e-12)
        assert ((d.icdf(u) - q).abs() <= 1).all()


# --------------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------------


def test_gradients_through_the_special_functions():
    """cdf, survival function and their logs are differentiable in probs, logits and the rate
    on the special-function route (the x-derivative of I_x and P(a, x) in closed form)."""
    k = t([29_000.0, 30_000.0, 31_000.0])
    probs = t([0.3]).requires_grad_()
    torch.autograd.gradcheck(lambda p: Binomial(t(1e5), p).cdf(k), (probs,))
    torch.autograd.gradcheck(lambda p: Binomial(t(1e5), p).log_survival_function(k), (probs,))
    logits = t([-0.8]).requires_grad_()
    torch.autograd.gradcheck(lambda lg: Binomial(t(1e5), logits=lg).log_cdf(k), (logits,))
    nb_probs = t([0.7]).requires_grad_()
    kn = t([1e3, 2.3e4, 5e4])
    torch.autograd.gradcheck(lambda p: NegativeBinomial(t(1e4), p).cdf(kn), (nb_probs,))
    rate = t([1e3, 5.0]).requires_grad_()
    kp = t([[900.0], [1000.0], [1100.0]])
    torch.autograd.gradcheck(lambda r: Poisson(r).cdf(kp), (rate,))
    torch.autograd.gradcheck(lambda r: Poisson(r).log_survival_function(kp), (rate,))
    # d/dp P(X <= k) = -n pmf_{n-1}(k): against the closed form
    p = t(0.3).requires_grad_()
    (grad,) = torch.autograd.grad(Binomial(t(1e5), p).cdf(t(29_900.0)), p)
    expected = -1e5 * st.binom.pmf(29_900, 1e5 - 1, 0.3)
    assert grad.item() == pytest.approx(expected, rel=1e-10)


def test_deep_tail_gradients():
    """Below 1e-300 the logs come from continued fractions in log space: finite gradients
    (d log P(X <= 0) / d rate = -1 for the Poisson)."""
    rate = t(1e3).requires_grad_()
    (grad,) = torch.autograd.grad(Poisson(rate).log_cdf(t(0.0)), rate)
    assert grad.item() == pytest.approx(-1.0, rel=1e-12)
    probs = t(0.5).requires_grad_()
    lc = Binomial(t(1e6), probs).log_cdf(t([0.0, 1e5, 5e5]))
    (grad,) = torch.autograd.grad(lc.sum(), probs)
    assert torch.isfinite(grad)
