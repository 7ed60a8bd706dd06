"""LogNormal, HalfNormal, Pareto, GeneralizedPareto, VonMises, ContinuousBernoulli: accuracy grids
against mpmath (extreme parameters, far tails), sampling, gradients and KL divergences.

The grids compare each method with the exact value at the exact (double or single) inputs. The
tolerance is ``rtol`` (1e-12 in float64, 1e-5 in float32) plus the error that rounding the
inputs by a few ulps would cause, ``4 eps sum_i |a_i df/da_i|`` (mpmath derivatives): a value
like the log-normal cdf at ``loc = 300``, ``scale = 1e-4`` cannot be closer than that in any
floating-point evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as st
import torch
import torch.distributions as torch_dists

from torchprob.continuous.continuous_bernoulli import ContinuousBernoulli
from torchprob.continuous.exponential import Exponential
from torchprob.continuous.generalized_pareto import GeneralizedPareto
from torchprob.continuous.half_normal import HalfNormal
from torchprob.continuous.log_normal import LogNormal
from torchprob.continuous.normal import Normal
from torchprob.continuous.pareto import Pareto
from torchprob.continuous.uniform import Uniform
from torchprob.continuous.von_mises import VonMises
from torchprob.kl import kl_divergence

mp.mp.dps = 40
DTYPES = [(torch.float64, 1e-12), (torch.float32, 1e-5)]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _sensitivity(f: Callable[..., mp.mpf], args: Sequence[mp.mpf]) -> mp.mpf:
    """``sum_i |a_i df/da_i|``: how much a relative perturbation of the inputs moves ``f``."""
    total = mp.mpf(0)
    for i, a in enumerate(args):
        if a == 0 or mp.isinf(a):
            continue

        def moved(s: mp.mpf, i: int = i) -> mp.mpf:
            return f(*[b * (1 + s) if j == i else b for j, b in enumerate(args)])

        total += abs(mp.diff(moved, 0, h=mp.mpf(10) ** -15))
    return total


def check(
    name: str,
    method: Callable[[torch.dtype], torch.Tensor],
    f: Callable[..., mp.mpf],
    points: Sequence[Sequence[float]],
    log: bool = False,
) -> None:
    """``method(dtype)`` (one value per point) against ``f(*point)`` in both dtypes.

    ``log``: the values are logarithms, compared with the absolute error ``rtol max(|f|, 1)``.
    Points whose inputs round to 0 or overflow in a dtype are left out of that dtype.
    """
    for dtype, rtol in DTYPES:
        eps, tiny, big = torch.finfo(dtype).eps, torch.finfo(dtype).tiny, torch.finfo(dtype).max
        actual = method(dtype).detach().reshape(-1).tolist()
        for value, point in zip(actual, points):
            rounded = torch.tensor(point, dtype=dtype).tolist()
            if any(p != 0 and not tiny <= abs(r) <= big for p, r in zip(point, rounded)):
                continue  # the input is not representable in this dtype
            args = [mp.mpf(p) for p in rounded]
            try:
                expected = f(*args)
            except ZeroDivisionError:  # a parameter rounded onto a pole (probs 1 in float32)
                continue
            if mp.isnan(expected):
                assert math.isnan(value), (name, dtype, point, value)
                continue
            if abs(expected) > big:  # overflows in this dtype
                assert value == (math.inf if expected > 0 else -math.inf), (name, point, value)
                continue
            scale = max(abs(expected), 1) if log else abs(expected)
            tol = rtol * scale + 4 * eps * _sensitivity(f, args) + (0 if log else tiny)
            assert abs(mp.mpf(value) - expected) <= tol, (
                name,
                str(dtype),
                point,
                value,
                float(expected),
                float(abs(mp.mpf(value) - expected) / max(abs(expected), mp.mpf(tiny))),
            )


def batched(cls: type, names: Sequence[str], points: Sequence[Sequence[float]]) -> Callable:
    """Build ``cls`` with one batch entry per point (parameters first, the value last)."""

    def build(dtype: torch.dtype) -> tuple:
        columns = torch.tensor(points, dtype=torch.float64).to(dtype).T
        d = cls(**dict(zip(names, columns)), validate_args=False)
        return d, columns[len(names)] if len(columns) > len(names) else None

    return build


def run_grid(
    cls: type,
    names: Sequence[str],
    params: Sequence[Sequence[float]],
    values: Callable[[Sequence[float]], Sequence[float]],
    refs: dict[str, Callable[..., mp.mpf]],
) -> None:
    """``refs[method](*params, x)`` for every parameter set and every ``x`` in ``values``."""
    points = [(*p, x) for p in params for x in values(p)]
    build = batched(cls, names, points)
    for method, ref in refs.items():
        log = method.startswith("log")

        def call(dtype: torch.dtype, method: str = method) -> torch.Tensor:
            d, x = build(dtype)
            return getattr(d, method)(x)

        check(f"{cls.__name__}.{method}", call, ref, points, log=log)


def run_moments(
    cls: type,
    names: Sequence[str],
    params: Sequence[Sequence[float]],
    refs: dict[str, Callable[..., mp.mpf]],
) -> None:
    build = batched(cls, names, params)
    for name, ref in refs.items():

        def call(dtype: torch.dtype, name: str = name) -> torch.Tensor:
            value = getattr(build(dtype)[0], name)
            return value() if callable(value) else value

        check(f"{cls.__name__}.{name}", call, ref, params, log=name == "entropy")


QUANTILES = [1e-300, 1e-100, 1e-10, 0.3, 0.5, 0.9, 1 - 1e-10]


def mp_ndtri(u: mp.mpf) -> mp.mpf:
    """The standard normal quantile: Newton on ``log Phi(z) = log u`` (both tails exact)."""
    if u > 0.5:
        return -mp_ndtri(1 - u)
    start = torch.special.ndtri(torch.tensor(float(u), dtype=torch.float64)).item()
    return mp.findroot(lambda z: mp.log(mp.ncdf(z) / u), mp.mpf(start))


# ----------------------------------------------------------------------------------------------
# LogNormal and HalfNormal
# ----------------------------------------------------------------------------------------------

LN_PARAMS = [(0.0, 1.0), (3.0, 0.3), (-50.0, 1e-3), (20.0, 10.0), (300.0, 30.0), (0.0, 1e-4)]


def _ln_values(p: Sequence[float]) -> list[float]:
    mu, s = p
    out = []
    for z in (-40, -10, -1, 0, 1e-8, 3, 10, 40):
        if -700 < mu + z * s < 700:
            out.append(math.exp(mu + z * s))
    return out


def _ln_z(mu: mp.mpf, s: mp.mpf, x: mp.mpf) -> mp.mpf:
    return (mp.log(x) - mu) / s


def test_lognormal_grid():
    refs = {
        "log_prob": lambda m, s, x: -mp.log(x * s * mp.sqrt(2 * mp.pi)) - _ln_z(m, s, x) ** 2 / 2,
        "cdf": lambda m, s, x: mp.ncdf(_ln_z(m, s, x)),
        "survival_function": lambda m, s, x: mp.ncdf(-_ln_z(m, s, x)),
        "log_cdf": lambda m, s, x: mp.log(mp.ncdf(_ln_z(m, s, x))),
        "log_survival_function": lambda m, s, x: mp.log(mp.ncdf(-_ln_z(m, s, x))),
        "icdf": lambda m, s, u: mp.exp(m + s * mp_ndtri(u)),
    }
    icdf = refs.pop("icdf")
    run_grid(LogNormal, ["loc", "scale"], LN_PARAMS, _ln_values, refs)
    run_grid(LogNormal, ["loc", "scale"], LN_PARAMS, lambda p: QUANTILES, {"icdf": icdf})
    run_moments(
        LogNormal,
        ["loc", "scale"],
        LN_PARAMS,
        {
            "mean": lambda m, s: mp.exp(m + s**2 / 2),
            "variance": lambda m, s: mp.expm1(s**2) * mp.exp(2 * m + s**2),
            "mode": lambda m, s: mp.exp(m - s**2),
            "entropy": lambda m, s: m + mp.mpf(1) / 2 + mp.log(2 * mp.pi) / 2 + mp.log(s),
        },
    )


HN_PARAMS = [(1e-150,), (1e-4,), (1.0,), (3e5,), (1e150,)]


def _hn_values(p: Sequence[float]) -> list[float]:
    return [z * p[0] for z in (1e-140, 1e-20, 1e-8, 0.1, 0.5, 1, 3, 10, 26, 38, 40)]


def test_halfnormal_grid():
    def w(s: mp.mpf, x: mp.mpf) -> mp.mpf:
        return x / (s * mp.sqrt(2))

    refs = {
        "log_prob": lambda s, x: mp.log(mp.sqrt(2 / mp.pi) / s) - w(s, x) ** 2,
        "cdf": lambda s, x: mp.erf(w(s, x)),
        "survival_function": lambda s, x: mp.erfc(w(s, x)),
        "log_cdf": lambda s, x: mp.log(mp.erf(w(s, x))),
        "log_survival_function": lambda s, x: mp.log(mp.erfc(w(s, x))),
    }
    run_grid(HalfNormal, ["scale"], HN_PARAMS, _hn_values, refs)
    quantiles = [*QUANTILES, 1 - 2**-52]
    run_grid(
        HalfNormal,
        ["scale"],
        HN_PARAMS,
        lambda p: quantiles,
        {"icdf": lambda s, u: s * mp.sqrt(2) * mp.erfinv(u) if u < 1 else mp.inf},
    )
    run_moments(
        HalfNormal,
        ["scale"],
        HN_PARAMS,
        {
            "mean": lambda s: s * mp.sqrt(2 / mp.pi),
            "variance": lambda s: s**2 * (1 - 2 / mp.pi),
            "entropy": lambda s: mp.log(mp.pi * mp.e / 2) / 2 + mp.log(s),
        },
    )


def test_halfnormal_fixes_torch_tails():
    """torch's ``2 Phi(x) - 1`` and ``Phi^-1((1 + u)/2)`` lose everything near 0."""
    d = HalfNormal(torch.tensor(1.0, dtype=torch.float64))
    x = torch.tensor(1e-20, dtype=torch.float64)
    assert d.cdf(x).item() == pytest.approx(float(mp.erf(mp.mpf(1e-20) / mp.sqrt(2))), rel=1e-15)
    assert torch_dists.HalfNormal(d.scale).cdf(x).item() == 0.0
    assert d.icdf(torch.tensor(1e-30, dtype=torch.float64)).item() == pytest.approx(
        float(mp.sqrt(2) * mp.erfinv(mp.mpf(1e-30))), rel=1e-15
    )


# ----------------------------------------------------------------------------------------------
# Pareto and GeneralizedPareto
# ----------------------------------------------------------------------------------------------

PARETO_PARAMS = [(1.0, 3.0), (1e-100, 0.01), (1e100, 1e6), (2.0, 1e-4), (0.5, 1e6), (1e-300, 1e-4)]


def _pareto_values(p: Sequence[float]) -> list[float]:
    return [p[0] * (1 + d) for d in (0.0, 1e-12, 1e-6, 0.5, 1, 40, 1e6, 1e100)]


def test_pareto_grid():
    def t(s: mp.mpf, x: mp.mpf) -> mp.mpf:
        return mp.log(x / s)

    refs = {
        "log_prob": lambda s, a, x: mp.log(a / s) - (a + 1) * t(s, x),
        "cdf": lambda s, a, x: -mp.expm1(-a * t(s, x)),
        "survival_function": lambda s, a, x: mp.exp(-a * t(s, x)),
        "log_cdf": lambda s, a, x: mp.log(-mp.expm1(-a * t(s, x))),
        "log_survival_function": lambda s, a, x: -a * t(s, x),
    }
    points = [(s, a) for s, a in PARETO_PARAMS]
    run_grid(Pareto, ["scale", "alpha"], points, _pareto_values, refs)
    run_grid(
        Pareto,
        ["scale", "alpha"],
        points,
        lambda p: QUANTILES,
        {"icdf": lambda s, a, u: s * mp.exp(-mp.log1p(-u) / a)},
    )
    inf = mp.inf
    run_moments(
        Pareto,
        ["scale", "alpha"],
        points,
        {
            "mean": lambda s, a: a * s / (a - 1) if a > 1 else inf,
            "variance": lambda s, a: s**2 * a / ((a - 1) ** 2 * (a - 2)) if a > 2 else inf,
            "entropy": lambda s, a: mp.log(s / a) + 1 + 1 / a,
        },
    )


GPD_PARAMS = [
    (0.0, 1.0, 0.0),
    (0.0, 1.0, 1e-12),
    (0.0, 1.0, -1e-12),
    (1.0, 2.0, 0.3),
    (-1.0, 0.5, -0.4),
    (0.0, 1.0, -1.0),
    (0.0, 1.0, -5.0),
    (0.0, 1.0, 20.0),
    (1e10, 1e5, 1e-4),
    (0.0, 1e-10, 1e-300),
]


def _gpd_values(p: Sequence[float]) -> list[float]:
    loc, scale, xi = p
    zs = (1e-300, 1e-10, 0.15, 0.5, 1, 10, 40, 1e6)
    return [loc + z * scale for z in zs if xi >= 0 or z * xi > -1]


def _gpd_h(m: mp.mpf, s: mp.mpf, xi: mp.mpf, x: mp.mpf) -> mp.mpf:
    z = (x - m) / s
    return z if xi == 0 else mp.log1p(xi * z) / xi


def test_generalized_pareto_grid():
    names = ["loc", "scale", "concentration"]

    def log_prob(m, s, xi, x):
        z = (x - m) / s
        return -mp.log(s) - (z if xi == 0 else (1 / xi + 1) * mp.log1p(xi * z))

    refs = {
        "log_prob": log_prob,
        "cdf": lambda m, s, xi, x: -mp.expm1(-_gpd_h(m, s, xi, x)),
        "survival_function": lambda m, s, xi, x: mp.exp(-_gpd_h(m, s, xi, x)),
        "log_cdf": lambda m, s, xi, x: mp.log(-mp.expm1(-_gpd_h(m, s, xi, x))),
        "log_survival_function": lambda m, s, xi, x: -_gpd_h(m, s, xi, x),
    }
    run_grid(GeneralizedPareto, names, GPD_PARAMS, _gpd_values, refs)

    def icdf(m, s, xi, u):
        y = -mp.log1p(-u)
        return m + s * (y if xi == 0 else mp.expm1(xi * y) / xi)

    run_grid(GeneralizedPareto, names, GPD_PARAMS, lambda p: QUANTILES, {"icdf": icdf})
    inf = mp.inf
    run_moments(
        GeneralizedPareto,
        names,
        GPD_PARAMS,
        {
            "mean": lambda m, s, xi: m + s / (1 - xi) if xi < 1 else inf,
            "variance": lambda m, s, xi: s**2 / ((1 - xi) ** 2 * (1 - 2 * xi)) if xi < 0.5 else inf,
            "entropy": lambda m, s, xi: mp.log(s) + xi + 1,
        },
    )


def test_generalized_pareto_boundaries():
    d = GeneralizedPareto(0.0, 1.0, torch.tensor([-1.0, -0.5, -2.0, 0.5], dtype=torch.float64))
    upper = d.support.upper_bound
    assert torch.equal(upper[:3], torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64))
    assert torch.isinf(upper[3])
    lp = d.log_prob(torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64))
    assert lp[0] == 0.0 and lp[1] == -math.inf and lp[2] == math.inf  # uniform, zero, pole
    assert torch.equal(d.icdf(torch.ones(4, dtype=torch.float64)), upper)
    assert torch.equal(d.cdf(upper), torch.ones(4, dtype=torch.float64))
    outside = GeneralizedPareto(0.0, 1.0, -0.5, validate_args=False)
    assert outside.log_prob(torch.tensor([-1.0, 2.5])).eq(-math.inf).all()
    assert torch.equal(outside.cdf(torch.tensor([-1.0, 2.5])), torch.tensor([0.0, 1.0]))
    assert d.mode[2] == 0.5 and d.mode[1] == 0.0  # a pole at the upper end for xi < -1


def test_generalized_pareto_gradient_through_zero_concentration():
    """Sample paths and log-densities are smooth in xi at 0: the gradients equal the
    derivatives of the exponential limit (y^2/2 for the quantile of E = y)."""
    for xi0 in (0.0, 1e-9, -1e-9):
        xi = torch.tensor(xi0, dtype=torch.float64, requires_grad=True)
        d = GeneralizedPareto(torch.tensor(0.5, dtype=torch.float64), 2.0, xi)
        x = d.rsample((5,), generator=gen())
        (grad,) = torch.autograd.grad(x.sum(), xi)
        y = (x.detach() - 0.5) / 2
        assert grad.item() == pytest.approx((2 * y.square() / 2).sum().item(), rel=1e-6)
        v = torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)
        (g2,) = torch.autograd.grad(d.log_prob(v).sum(), xi)
        z = (v - 0.5) / 2
        assert g2.item() == pytest.approx((z.square() / 2 - z).sum().item(), rel=1e-6, abs=1e-9)


# ----------------------------------------------------------------------------------------------
# VonMises
# ----------------------------------------------------------------------------------------------

VM_PARAMS = [(0.0, 1e-4), (1.0, 0.5), (-2.0, 3.75), (0.0, 50.0), (0.5, 1e3), (0.0, 1e6)]


def _vm_values(p: Sequence[float]) -> list[float]:
    return [p[0] + d for d in (0.0, 1e-8, 1e-3, 0.1, 1.0, 3.0, -3.1, 10.0)]


def _log_i0(k: mp.mpf) -> mp.mpf:
    return mp.log(mp.besseli(0, k))


def test_vonmises_grid():
    refs = {
        "log_prob": lambda m, k, x: k * mp.cos(x - m) - mp.log(2 * mp.pi) - _log_i0(k),
    }
    run_grid(VonMises, ["loc", "concentration"], VM_PARAMS, _vm_values, refs)

    def ratio(k: mp.mpf) -> mp.mpf:
        return mp.besseli(1, k) / mp.besseli(0, k)

    run_moments(
        VonMises,
        ["loc", "concentration"],
        VM_PARAMS,
        {
            "variance": lambda m, k: 1 - ratio(k),
            "entropy": lambda m, k: mp.log(2 * mp.pi) + _log_i0(k) - k * ratio(k),
        },
    )


def test_vonmises_torch_parity():
    loc = torch.tensor([0.0, 1.0, -2.0], dtype=torch.float64)
    k = torch.tensor([0.3, 2.0, 20.0], dtype=torch.float64)
    ours, theirs = VonMises(loc, k), torch_dists.VonMises(loc, k)
    x = torch.linspace(-3, 3, 7, dtype=torch.float64).unsqueeze(-1)
    torch.testing.assert_close(ours.log_prob(x), theirs.log_prob(x), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.variance, theirs.variance, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("kappa", [1e-6, 0.05, 0.7, 4.0, 60.0, 1e5])
def test_vonmises_sampling_ks(kappa):
    """KS against SciPy's cdf, through both sampling paths (one block, and the big draw that
    redoes the undecided elements)."""
    for n in (3000, 20000):
        d = VonMises(
            torch.tensor(0.4, dtype=torch.float64), torch.tensor(kappa, dtype=torch.float64)
        )
        x = d.sample((n,), generator=gen(n))
        assert x.abs().max() <= math.pi
        ref = st.vonmises(kappa, loc=0.4)
        # compare on the circle: rotate so that the cut at -pi is far from the mass
        shifted = torch.remainder(x - 0.4 + math.pi, 2 * math.pi) - math.pi
        cdf = st.vonmises(kappa).cdf
        assert st.kstest(shifted.numpy(), cdf).pvalue > 1e-6, (kappa, n)
        assert ref.logpdf(0.4) > -math.inf


@pytest.mark.slow
def test_vonmises_big_batched_draw():
    """The big-draw path (4 rounds for all, 36 more for the undecided few, gathered by index)
    maps each redone element back to its own batch member."""
    kappa = torch.tensor([0.3, 3.0, 1e3], dtype=torch.float64)
    loc = torch.tensor([3.0, -1.0, 0.5], dtype=torch.float64)
    x = VonMises(loc, kappa).sample((8000,), generator=gen(11))
    for j in range(3):
        shifted = torch.remainder(x[:, j] - loc[j] + math.pi, 2 * math.pi) - math.pi
        p = st.kstest(shifted.numpy(), st.vonmises(kappa[j].item()).cdf).pvalue
        assert p > 1e-6, (j, p)


def test_vonmises_sampling_float32_and_batches():
    d = VonMises(torch.zeros(3), torch.tensor([1e-3, 5.0, 1e7]))
    x = d.sample((5000,), generator=gen())
    assert x.dtype == torch.float32 and x.shape == (5000, 3)
    circular_var = 1 - torch.cos(x).mean(0)  # close to 1 - I1/I0 for large n
    torch.testing.assert_close(circular_var, d.variance, rtol=0.05, atol=0.02)
    assert (x[:, 2].abs() < 0.01).all()  # kappa = 1e7: within a few 1/sqrt(kappa)


def test_vonmises_circular_moments():
    loc = torch.tensor([2.5, -1.0], dtype=torch.float64)
    d = VonMises(loc, torch.tensor([0.8, 12.0], dtype=torch.float64))
    x = d.sample((40000,), generator=gen(3))
    resultant = torch.stack([torch.cos(x).mean(0), torch.sin(x).mean(0)])
    mean_dir = torch.atan2(resultant[1], resultant[0])
    torch.testing.assert_close(mean_dir, loc, rtol=0, atol=0.03)
    torch.testing.assert_close(1 - resultant.norm(dim=0), d.variance, rtol=0.03, atol=0.01)


# ----------------------------------------------------------------------------------------------
# ContinuousBernoulli
# ----------------------------------------------------------------------------------------------

CB_PROBS = [1e-300, 1e-20, 0.01, 0.3, 0.5 - 1e-9, 0.5, 0.5 + 2**-30, 0.7, 1 - 1e-12]
CB_LOGITS = [-1000.0, -30.0, -1.0, -1e-5, 0.0, 1e-8, 0.5, 3.0, 40.0, 1000.0]
CB_VALUES = [1e-300, 1e-10, 0.3, 0.5, 0.99, 1 - 1e-12]


def _eta(p: mp.mpf) -> mp.mpf:
    return mp.log(p / (1 - p))


def _cb_log_norm(eta: mp.mpf) -> mp.mpf:
    return mp.mpf(0) if eta == 0 else mp.log(mp.expm1(eta) / eta)


def _cb_cdf(eta: mp.mpf, x: mp.mpf) -> mp.mpf:
    return x if eta == 0 else mp.expm1(eta * x) / mp.expm1(eta)


def _cb_sf(eta: mp.mpf, x: mp.mpf) -> mp.mpf:
    return 1 - x if eta == 0 else mp.exp(eta * x) * mp.expm1(eta * (1 - x)) / mp.expm1(eta)


def _cb_mean(eta: mp.mpf) -> mp.mpf:
    return mp.mpf(1) / 2 if eta == 0 else 1 / (-mp.expm1(-eta)) - 1 / eta


def _cb_var(eta: mp.mpf) -> mp.mpf:
    return mp.mpf(1) / 12 if eta == 0 else 1 / eta**2 - 1 / (4 * mp.sinh(eta / 2) ** 2)


def _cb_refs(to_eta: Callable[[mp.mpf], mp.mpf]) -> dict[str, Callable[..., mp.mpf]]:
    return {
        "log_prob": lambda p, x: to_eta(p) * x - _cb_log_norm(to_eta(p)),
        "cdf": lambda p, x: _cb_cdf(to_eta(p), x),
        "survival_function": lambda p, x: _cb_sf(to_eta(p), x),
        "log_cdf": lambda p, x: mp.log(_cb_cdf(to_eta(p), x)),
        "log_survival_function": lambda p, x: mp.log(_cb_sf(to_eta(p), x)),
    }


def _cb_icdf(eta: mp.mpf, u: mp.mpf) -> mp.mpf:
    with mp.workdps(1000):  # u expm1(eta) next to -1 keeps u's digits
        return u if eta == 0 else mp.log1p(u * mp.expm1(eta)) / eta


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_continuous_bernoulli_grid(param):
    to_eta = _eta if param == "probs" else (lambda e: e)
    grid = [(p,) for p in (CB_PROBS if param == "probs" else CB_LOGITS)]
    run_grid(ContinuousBernoulli, [param], grid, lambda p: CB_VALUES, _cb_refs(to_eta))
    quantiles = [1e-300, 1e-10, 0.3, 0.5, 0.9, 1 - 1e-12]
    icdf = {"icdf": lambda p, u: _cb_icdf(to_eta(p), u)}
    run_grid(ContinuousBernoulli, [param], grid, lambda p: quantiles, icdf)
    run_moments(
        ContinuousBernoulli,
        [param],
        grid,
        {
            "mean": lambda p: _cb_mean(to_eta(p)),
            "variance": lambda p: _cb_var(to_eta(p)),
            "entropy": lambda p: _cb_log_norm(to_eta(p)) - to_eta(p) * _cb_mean(to_eta(p)),
        },
    )


def test_continuous_bernoulli_smooth_at_half():
    """Values and gradients are continuous through probs = 1/2 (torch switches formulas at
    lims); the pathwise gradient there is u (1 - u) / 2 per unit of logits."""
    for e0 in (0.0, 1e-12, -3e-7, 2e-5):
        logits = torch.tensor(e0, dtype=torch.float64, requires_grad=True)
        d = ContinuousBernoulli(logits=logits)
        u = torch.rand(6, dtype=torch.float64, generator=gen())
        (g,) = torch.autograd.grad(d.icdf(u).sum(), logits)
        assert g.item() == pytest.approx((u * (1 - u) / 2).sum().item(), rel=1e-5)
        (g,) = torch.autograd.grad(d.mean, logits)
        assert g.item() == pytest.approx(1 / 12, rel=1e-6)
    probs = torch.tensor([0.5 - 2**-40, 0.5, 0.5 + 2**-40], dtype=torch.float64)
    mean = ContinuousBernoulli(probs).mean
    assert (mean[1] - mean[0]).item() == pytest.approx((mean[2] - mean[1]).item(), rel=1e-3)


def test_continuous_bernoulli_mode_and_lims():
    d = ContinuousBernoulli(logits=torch.tensor([-2.0, 0.0, 3.0]), lims=(0.4, 0.6))
    assert torch.equal(d.mode[[0, 2]], torch.tensor([0.0, 1.0])) and d.mode[1].isnan()
    assert d.expand((2, 3))._lims == (0.4, 0.6)
    assert d[1:]._lims == (0.4, 0.6)


def test_continuous_bernoulli_validation_of_raw_probs():
    with pytest.raises(ValueError, match="probs"):
        ContinuousBernoulli(probs=torch.tensor(1.5))
    d = ContinuousBernoulli(probs=torch.tensor(0.0, dtype=torch.float64))  # stands for tiny
    assert torch.isfinite(d.log_prob(torch.tensor(1e-3, dtype=torch.float64)))
    assert d.logits.item() == pytest.approx(math.log(torch.finfo(torch.float64).tiny), rel=1e-12)


# ----------------------------------------------------------------------------------------------
# KL divergences
# ----------------------------------------------------------------------------------------------


def t64(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


KL_PAIRS = [
    (LogNormal(t64([0.0, 1.0]), t64([1.0, 0.5])), LogNormal(t64([0.5, 1.0]), t64([2.0, 0.7]))),
    (HalfNormal(t64([1.0, 3.0])), HalfNormal(t64([2.0, 0.5]))),
    (Pareto(t64([1.0, 2.0]), t64([3.0, 2.5])), Pareto(t64([0.5, 3.0]), t64([2.0, 4.0]))),
    (Pareto(t64([1.0, 2.0, 0.3]), t64([3.0, 0.5, 1.7])), Exponential(t64([0.7, 2.0, 5.0]))),
    (
        Pareto(t64([1.0, 2.0, 3.0]), t64([3.0, 1.5, 2.5])),
        Normal(t64([0.0, 1.0, -1.0]), t64([2.0, 1.0, 3.0])),
    ),
    (Uniform(t64([1.0, 2.0]), t64([3.0, 2.5])), Pareto(t64([0.5, 3.0]), t64([2.0, 4.0]))),
    (
        ContinuousBernoulli(t64([0.2, 0.7, 0.5])),
        ContinuousBernoulli(logits=t64([1.0, -0.3, 2.0])),
    ),
    (ContinuousBernoulli(t64([0.2, 0.7])), Uniform(t64([-1.0, 0.5]), t64([2.0, 3.0]))),
    (Uniform(t64([0.2, -0.1]), t64([0.7, 0.5])), ContinuousBernoulli(t64([0.3, 0.8]))),
    (ContinuousBernoulli(t64([0.2, 0.7])), Exponential(t64([0.5, 3.0]))),
    (ContinuousBernoulli(t64([0.2, 0.7])), Normal(t64([0.0, 1.0]), t64([0.3, 2.0]))),
    (Exponential(t64([1.0])), Pareto(t64([1.0]), t64([2.0]))),
    (Normal(t64([0.0]), t64([1.0])), ContinuousBernoulli(t64([0.4]))),
    (Pareto(t64([1.0]), t64([2.0])), ContinuousBernoulli(t64([0.4]))),
]


def _torch_twin(d):
    if isinstance(d, ContinuousBernoulli):
        return torch_dists.ContinuousBernoulli(logits=d.logits)
    return getattr(torch_dists, type(d).__name__)(**d._init_kwargs())


@pytest.mark.parametrize("p, q", KL_PAIRS, ids=lambda d: type(d).__name__)
def test_kl_matches_torch(p, q):
    expected = torch_dists.kl_divergence(_torch_twin(p), _torch_twin(q))
    torch.testing.assert_close(kl_divergence(p, q), expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("p, q", KL_PAIRS, ids=lambda d: type(d).__name__)
def test_kl_broadcasts(p, q):
    """Batch shapes (n, 1) and (m,) give (n, m), equal to the pairs built expanded."""

    def rebuild(d, fn):
        kwargs = {
            k: fn(v) if isinstance(v, torch.Tensor) else v for k, v in d._init_kwargs().items()
        }
        return type(d)(**kwargs)

    column = rebuild(p, lambda v: v.unsqueeze(-1))
    n, m = p.batch_shape[0], q.batch_shape[0]
    actual = kl_divergence(column, q)
    assert actual.shape == (n, m)
    expected = kl_divergence(column.expand((n, m)), q.expand((n, m)))
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)


def _kl_quadrature(p, q, lo: float, hi: float) -> float:
    def integrand(x):
        xt = t64(float(x))
        lp, lq = p.log_prob(xt).item(), q.log_prob(xt).item()
        return mp.exp(lp) * (lp - lq)

    return float(mp.quad(integrand, [lo, (lo + hi) / 2, hi]))


def test_kl_fixes_torch_at_support_edges():
    """torch returns inf for KL(CB || Uniform(0, 1)) and KL(Uniform(0, 1) || CB): both finite."""
    p = ContinuousBernoulli(t64(0.3))
    q = Uniform(t64(0.0), t64(1.0))
    eta = _eta(mp.mpf(0.3))

    def log_density(x):
        return mp.log(eta / mp.expm1(eta)) + eta * x

    expected = mp.quad(lambda x: mp.exp(log_density(x)) * log_density(x), [0, 1])
    assert kl_divergence(p, q).item() == pytest.approx(float(expected), rel=1e-12)
    expected = -mp.quad(log_density, [0, 1])
    assert kl_divergence(q, p).item() == pytest.approx(float(expected), rel=1e-12)
    assert torch_dists.kl_divergence(_torch_twin(p), _torch_twin(q)).isinf()


def test_kl_vonmises():
    p = VonMises(t64([0.3, 1.0, 0.0]), t64([2.0, 0.1, 500.0]))
    q = VonMises(t64([-0.5, 1.0, 0.01]), t64([0.7, 3.0, 400.0]))
    kl = kl_divergence(p, q)
    for i in range(3):
        pi, qi = p[i], q[i]
        expected = _kl_quadrature(pi, qi, pi.loc.item() - math.pi, pi.loc.item() + math.pi)
        assert kl[i].item() == pytest.approx(expected, rel=1e-8, abs=1e-12)
    assert kl_divergence(p, p).abs().max() < 1e-15


# ----------------------------------------------------------------------------------------------
# Generic checks this area adds
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "d",
    [
        LogNormal(t64(0.0), t64(1.0)),
        HalfNormal(t64(2.0)),
        Pareto(t64(1.0), t64(3.0)),
        GeneralizedPareto(t64(0.0), t64(1.0), t64(0.2)),
        VonMises(t64(0.0), t64(1.0)),
        ContinuousBernoulli(t64(0.3)),
    ],
    ids=lambda d: type(d).__name__,
)
def test_generator_and_transformed_attributes(d):
    state = torch.get_rng_state()
    a, b = d.sample((4,), generator=gen(9)), d.sample((4,), generator=gen(9))
    assert torch.equal(a, b) and torch.equal(torch.get_rng_state(), state)
    base = getattr(d, "base_dist", None)
    if base is not None and not isinstance(d, HalfNormal):  # |x| has no Jacobian: torch too
        # the TransformedDistribution view agrees with the direct formulas
        from torchprob.composite.transformed_distribution import TransformedDistribution

        assert isinstance(d, TransformedDistribution)
        x = d.sample((5,), generator=gen(1))
        via = TransformedDistribution(base, d.transforms)
        torch.testing.assert_close(via.log_prob(x), d.log_prob(x), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(via.cdf(x), d.cdf(x), rtol=1e-12, atol=1e-12)


def test_float32_sampling_stays_in_support():
    g = gen(4)
    assert (Pareto(torch.tensor(1.0), torch.tensor(50.0)).sample((1000,), generator=g) >= 1).all()
    gp = GeneralizedPareto(torch.tensor(0.0), torch.tensor(1.0), torch.tensor(-0.7))
    x = gp.sample((1000,), generator=g)
    assert ((x >= 0) & (x <= 1 / 0.7)).all()
    cb = ContinuousBernoulli(logits=torch.tensor([-80.0, 0.0, 80.0]))
    x = cb.sample((1000,), generator=g)
    assert ((x >= 0) & (x <= 1)).all()
    assert np.isfinite(cb.log_prob(x).numpy()).all()
