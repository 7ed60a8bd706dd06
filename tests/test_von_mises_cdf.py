"""VonMises cdf, tail functions and icdf.

References: mpmath quadrature of the density at 30 digits (SciPy's ``vonmises.cdf`` loses up to
six digits in the tails, so it is used only where it is accurate, and for its convention
outside the window). Checked: relative accuracy in both tails (float64, kappa from 1e-3 to
1e4), log_cdf where the cdf underflows, SciPy's periodic extension, monotonicity, icdf round
trips, gradients, float32, and no nan at extreme parameters.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as st
import torch

from torchprob.continuous.von_mises import VonMises

KAPPAS = [1e-3, 0.1, 1.0, 4.0, 10.5, 30.0, 300.0, 1e4]


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def mp_log_lower(kappa: float, theta: float) -> mp.mpf:
    """``log P(loc - pi <= X <= loc + theta)`` for ``theta`` in [-pi, 0] (exact inputs):
    quadrature of ``exp(kappa (cos s - cos theta))`` over [-pi, theta], cut at geometric
    distances from ``theta`` where the integrand is peaked."""
    with mp.workdps(30):
        k, th = mp.mpf(kappa), mp.mpf(theta)
        if th <= -mp.pi:
            return mp.mpf("-inf")
        c = mp.cos(th)
        width = th + mp.pi
        scale = min(width, 1 / mp.sqrt(k)) if k > 1 else width
        cuts = {th - min(width, scale * 2.0**j / 64) for j in range(14)}
        points = sorted({-mp.pi, th} | {v for v in cuts if v > -mp.pi})
        area = mp.quad(lambda s: mp.exp(k * (mp.cos(s) - c)), points)
        return mp.log(area) + k * (c - 1) - mp.log(2 * mp.pi * mp.besseli(0, k) * mp.exp(-k))


def window_thetas(kappa: float) -> list[float]:
    """Angles in [-pi, 0]: next to -pi, across the window, and on the scale 1/sqrt(kappa)."""
    near_end = [-math.pi + d for d in (1e-12, 1e-6, 1e-3, 0.1)]
    across = [-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, -1e-9, 0.0]
    scaled = [-z / math.sqrt(kappa) for z in (0.1, 0.5, 1, 2, 4, 8, 16, 30)]
    return sorted({v for v in near_end + across + scaled if -math.pi < v <= 0})


@pytest.mark.parametrize("kappa", KAPPAS)
def test_accuracy_against_mpmath(kappa):
    """cdf, sf, log_cdf and log_sf at loc = 0, both halves of the window (sf(-theta) =
    cdf(theta) by symmetry). The tolerance is 1e-12 relative, widened by A / 50 where the
    exponent A = 2 kappa sin^2(theta / 2) exceeds 50: d log F / d log kappa is about A, so one
    rounding of an input moves the true value by A * 1e-16."""
    theta = window_thetas(kappa)
    ref = np.array([float(mp_log_lower(kappa, v)) for v in theta])
    exponent = np.array([2 * kappa * math.sin(v / 2) ** 2 for v in theta])
    rtol = 1e-12 * np.maximum(1.0, exponent / 50)
    d = VonMises(t(0.0), t(kappa))
    x = t(theta)

    log_cdf, log_sf = d.log_cdf(x).numpy(), d.log_survival_function(-x).numpy()
    for got in (log_cdf, log_sf):
        assert np.all(np.abs(got - ref) <= rtol * np.maximum(1.0, np.abs(ref))), (got, ref)
    value = np.exp(ref)
    normal = value > 1e-300
    for got in (d.cdf(x).numpy(), d.survival_function(-x).numpy()):
        assert np.all(np.abs(got - value)[normal] <= (rtol * value)[normal]), (got, value)
    # the other half: 1 - F, absolutely accurate
    np.testing.assert_allclose(d.cdf(-x).numpy(), 1 - value, rtol=0, atol=5e-16)
    np.testing.assert_allclose(d.survival_function(x).numpy(), 1 - value, rtol=0, atol=5e-16)


def test_log_cdf_where_the_cdf_underflows():
    kappa = [1e4, 1e4, 1e6, 3e3]
    theta = [-2.0, -math.pi + 1e-3, -0.5, -3.0]
    ref = np.array([float(mp_log_lower(k, v)) for k, v in zip(kappa, theta)])
    d = VonMises(t([0.0] * 4), t(kappa))
    assert (d.cdf(t(theta)) == 0).all()  # underflows, as it should
    np.testing.assert_allclose(d.log_cdf(t(theta)).numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(d.log_survival_function(-t(theta)).numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize("kappa", [0.01, 0.7, 3.0, 12.0, 40.0])
def test_scipy_convention(kappa):
    """SciPy's cdf (accurate to ~1e-11 in the bulk for kappa <= 50) over three periods: 0 and
    1 at the ends of the window, cdf(x + 2 pi) = cdf(x) + 1 outside."""
    loc = 0.7
    x = np.linspace(loc - 3 * math.pi + 0.05, loc + 3 * math.pi - 0.05, 61)
    ours = VonMises(t(loc), t(kappa)).cdf(t(x)).numpy()
    np.testing.assert_allclose(ours, st.vonmises(kappa, loc=loc).cdf(x), rtol=1e-9, atol=1e-12)


def test_periodic_extension_and_window_ends():
    d = VonMises(t([0.0, 0.0, 0.0]), t([0.05, 2.0, 400.0]))
    x = torch.linspace(-math.pi, math.pi, 41, dtype=torch.float64).unsqueeze(-1)
    cdf = d.cdf(x)
    for m in (-3, -1, 1, 2):
        shifted = d.cdf(x + 2 * math.pi * m)
        torch.testing.assert_close(shifted, cdf + m, rtol=0, atol=1e-14 * (1 + abs(m)))
        torch.testing.assert_close(
            d.survival_function(x + 2 * math.pi * m), 1 - cdf - m, rtol=0, atol=1e-14 * abs(m)
        )
    # float(pi) is 1.2e-16 short of pi: the mass between the true end and the double
    ends = t([-math.pi, math.pi]).unsqueeze(-1)
    edge = 1.2246467991473532e-16 * d.log_prob(ends[0]).exp()
    torch.testing.assert_close(d.cdf(ends)[0], edge, rtol=1e-9, atol=0)
    torch.testing.assert_close(d.survival_function(ends)[1], edge, rtol=1e-9, atol=0)
    log_edge = d.log_prob(ends[0]) + math.log(1.2246467991473532e-16)
    torch.testing.assert_close(d.log_cdf(ends)[0], log_edge, rtol=1e-9, atol=0)
    assert (d.cdf(ends)[1] == 1).all()
    # outside the window the cdf leaves [0, 1]: its log is nan on the side where it is
    # negative (as SciPy's), finite on the other; the same for the survival function
    left, right = t(-4.0).expand(3), t(4.0).expand(3)
    assert d.log_cdf(left).isnan().all() and d.log_cdf(right).isfinite().all()
    assert d.log_survival_function(right).isnan().all()
    assert d.log_survival_function(left).isfinite().all()
    assert (d.cdf(left) < 0).all() and (d.survival_function(right) < 0).all()


@pytest.mark.parametrize("kappa", [1e-3, 1.0, 20.0, 5e3])
def test_monotone_and_continuous(kappa):
    d = VonMises(t(1.3), t(kappa))
    x = torch.linspace(1.3 - 3 * math.pi, 1.3 + 3 * math.pi, 60001, dtype=torch.float64)
    cdf = d.cdf(x)
    steps = cdf.diff()
    assert (steps >= 0).all()
    # no jump: each step is at most the largest density times the spacing
    peak = d.log_prob(t(1.3)).exp()
    assert (steps <= peak * (x[1] - x[0]) * (1 + 1e-9) + 1e-15).all()


def test_round_trip_icdf_cdf():
    n = 20000
    k = 10 ** (torch.rand(n, generator=gen(1), dtype=torch.float64) * 7 - 3)
    loc = torch.randn(n, generator=gen(2), dtype=torch.float64) * 3
    theta = (torch.rand(n, generator=gen(3), dtype=torch.float64) * 2 - 1) * math.pi
    d = VonMises(loc, k)
    x = loc + theta
    u = d.cdf(x)
    # above 1/2 the cdf is held to an absolute 1e-16: x to 1e-16 / p(x) at best; subnormal
    # values of the cdf have lost their digits
    usable = (u > 1e-300) & ((u <= 0.5) | (d.log_prob(x).exp() > 1e-4))
    back = d.icdf(u)
    err = (back - x).abs() / x.abs().clamp(min=1.0)
    assert usable.float().mean() > 0.6
    assert err[usable].max() < 1e-10, err[usable].max()


def test_round_trip_cdf_icdf_log_scale():
    """log cdf(icdf(q)) = log q down to q = 1e-300, up to the spacing of the doubles near
    icdf(q) (loc = 0: the window's left end is -pi to the last digit)."""
    n = 20000
    k = 10 ** (torch.rand(n, generator=gen(4), dtype=torch.float64) * 7 - 3)
    tiny = 10 ** (-300 * torch.rand(n, generator=gen(5), dtype=torch.float64))
    q = torch.where(torch.arange(n) % 2 == 0, tiny, torch.rand(n, generator=gen(6)).double())
    d = VonMises(torch.zeros(n, dtype=torch.float64), k)
    x = d.icdf(q)
    assert x.isfinite().all()
    lower = q <= 0.5
    log_f = torch.where(lower, d.log_cdf(x), d.log_survival_function(x))
    target = torch.where(lower, q.log(), torch.log1p(-q))
    spacing = torch.from_numpy(np.spacing(np.abs(x.numpy())))
    slack = 2 * spacing * d.log_prob(x).exp() / torch.where(lower, q, 1 - q)
    tol = 1e-12 * target.abs().clamp(min=1.0) + slack
    assert ((log_f - target).abs() <= tol).all()


@pytest.mark.parametrize("kappa", [1e-3, 0.5, 6.0, 80.0, 1e4])
def test_icdf_against_mpmath(kappa):
    """The mpmath cdf at the computed quantiles (an independent check of the root)."""
    q = [1e-200, 1e-30, 1e-8, 1e-3, 0.1, 0.35, 0.499]
    x = VonMises(t(0.0), t(kappa)).icdf(t(q)).numpy()
    for qi, xi in zip(q, x):
        got = float(mp_log_lower(kappa, xi))
        spacing = np.spacing(abs(xi)) * math.exp(-2 * kappa * math.sin(xi / 2) ** 2)
        slack = 2 * spacing / (2 * math.pi * float(mp.besseli(0, kappa) * mp.exp(-kappa))) / qi
        assert abs(got - math.log(qi)) <= 1e-12 * abs(math.log(qi)) + slack, (qi, xi)


def test_icdf_special_values():
    loc = t([0.4, -2.0, 3.0])
    d = VonMises(loc, t([0.3, 7.0, 2e4]))
    torch.testing.assert_close(d.icdf(t(0.0).expand(3)), loc - math.pi, rtol=0, atol=0)
    torch.testing.assert_close(d.icdf(t(1.0).expand(3)), loc + math.pi, rtol=0, atol=0)
    torch.testing.assert_close(d.icdf(t(0.5).expand(3)), loc, rtol=0, atol=0)
    q = t([[0.01], [0.3], [0.8]])
    for m in (-2, 1, 3):
        torch.testing.assert_close(d.icdf(q + m), d.icdf(q) + 2 * math.pi * m, rtol=1e-14, atol=0)
    assert d.icdf(t(math.nan).expand(3)).isnan().all()
    # icdf(q) lies in the window for q in [0, 1]
    qs = torch.linspace(0, 1, 101, dtype=torch.float64).unsqueeze(-1)
    x = d.icdf(qs)
    assert ((x >= loc - math.pi) & (x <= loc + math.pi)).all()
    assert (x.diff(dim=0) >= 0).all()


@pytest.mark.parametrize("kappa", [1e-3, 0.7, 5.0, 60.0, 3e3])
def test_gradcheck(kappa):
    def leaf(values):
        return t(values).requires_grad_()

    s = min(1.0, 2 / math.sqrt(kappa))
    loc, k = leaf([0.3, -1.0, 2.0]), leaf([kappa, kappa * 1.3, kappa * 0.8])
    x = leaf([0.3 + 0.2 * s, -1.0 + 1.5 * s, 2.0 - 2.5 * s])
    for method in ("cdf", "log_cdf", "survival_function", "log_survival_function"):

        def f(x, loc, k, method=method):
            return getattr(VonMises(loc, k, validate_args=False), method)(x)

        assert torch.autograd.gradcheck(f, (x, loc, k), rtol=1e-6, atol=1e-9), method
    q = leaf([0.01, 0.5, 0.93])

    def icdf(q, loc, k):
        return VonMises(loc, k, validate_args=False).icdf(q)

    assert torch.autograd.gradcheck(icdf, (q, loc, k), rtol=1e-6, atol=1e-9)


def test_gradient_is_the_density():
    """d cdf / dx = p(x), also at the mode (where |theta| has a kink) and at the window ends;
    d icdf / dq = 1 / p(icdf(q))."""
    d = VonMises(t(0.4), t(3.0))
    x = t([0.4, 0.4 + math.pi, 0.4 - math.pi, -2.0, 1.0, 10.0]).requires_grad_()
    (grad,) = torch.autograd.grad(d.cdf(x).sum(), x)
    torch.testing.assert_close(grad, d.log_prob(x.detach()).exp(), rtol=1e-13, atol=0)
    q = t([1e-9, 0.2, 0.5, 0.7, 1 - 1e-9]).requires_grad_()
    y = d.icdf(q)
    (grad,) = torch.autograd.grad(y.sum(), q)
    torch.testing.assert_close(grad, d.log_prob(y.detach()).exp().reciprocal(), rtol=1e-10, atol=0)


def test_float32():
    """float32 inputs give the float64 values rounded (the work is done in float64)."""
    n = 20000
    k = (10 ** (torch.rand(n, generator=gen(7), dtype=torch.float64) * 7 - 3)).float()
    theta = ((torch.rand(n, generator=gen(8), dtype=torch.float64) * 2 - 1) * math.pi).float()
    d32 = VonMises(torch.zeros(n), k)
    d64 = VonMises(torch.zeros(n, dtype=torch.float64), k.double())
    for method in ("cdf", "survival_function", "log_cdf", "log_survival_function"):
        got, ref = getattr(d32, method)(theta), getattr(d64, method)(theta.double())
        assert got.dtype == torch.float32
        big = ref.abs() > 1e-37
        rel = (got.double() - ref).abs() / ref.abs()
        assert rel[big].max() < 1e-6, method
    q = torch.rand(n, generator=gen(9))
    x32, x64 = d32.icdf(q), d64.icdf(q.double())
    assert x32.dtype == torch.float32
    assert ((x32.double() - x64).abs() / x64.abs().clamp(min=1.0)).max() < 1e-6


def test_no_nan_at_extreme_parameters():
    kappa = t([1e-300, 1e-8, 1e-3, 1.0, 1e6, 1e12, 1e300]).unsqueeze(-1)
    d = VonMises(t(0.25), kappa)
    x = 0.25 + t([0.0, 1e-300, -1e-300, 1e-8, -1e-8, 3.0, -3.0, math.pi, -math.pi])
    x = torch.cat([x, t([1e10, -1e10, 0.25 + math.pi * (1 - 1e-15)])])
    for method in ("cdf", "survival_function"):
        assert getattr(d, method)(x).isfinite().all(), method
    inside = x[:-3]
    for method in ("log_cdf", "log_survival_function"):
        value = getattr(d, method)(inside)
        assert not value.isnan().any(), method
    q = t([0.0, 5e-324, 1e-300, 1e-20, 0.3, 0.5, 0.7, 1 - 1e-16, 1.0])
    assert d.icdf(q).isfinite().all()
    tiny = d.log_cdf(d.icdf(t(1e-300)))  # finite where the density is not negligible
    assert tiny[:4].isfinite().all()


@pytest.mark.slow
def test_goodness_of_fit_in_the_window():
    """KS of samples moved into [loc - pi, loc + pi] against the cdf (loc far from 0, where
    the samples, wrapped to [-pi, pi], straddle the window)."""
    loc = t([-2.0, 0.5, 3.0, 2.5])
    d = VonMises(loc, t([0.01, 2.0, 50.0, 1e4]))
    x = d.sample((20000,), generator=gen(123))
    inside = loc + torch.remainder(x - loc + math.pi, 2 * math.pi) - math.pi
    for j in range(loc.numel()):
        one = VonMises(loc[j], d.concentration[j])
        result = st.kstest(inside[:, j].numpy(), lambda v, one=one: one.cdf(t(v)).numpy())
        assert result.pvalue > 1e-6, (j, result)
