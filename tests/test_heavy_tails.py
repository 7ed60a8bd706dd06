"""StudentT, FisherSnedecor, Cauchy, HalfCauchy, Laplace, Gumbel, Weibull: accuracy grids against
mpmath (extreme parameters, far tails, float64 and float32), the implicit reparameterization
gradients, goodness of fit where there is no cdf yet, the transformed-distribution view of
Gumbel/Weibull/HalfCauchy, and the KL rules (parity with torch, nearly equal distributions)."""

from __future__ import annotations

import itertools
import math

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sc
import scipy.stats as st
import torch
import torch.distributions as td

from torchprob.composite.transformed_distribution import TransformedDistribution
from torchprob.continuous.cauchy import Cauchy
from torchprob.continuous.exponential import Exponential
from torchprob.continuous.fisher_snedecor import FisherSnedecor
from torchprob.continuous.gumbel import Gumbel
from torchprob.continuous.half_cauchy import HalfCauchy
from torchprob.continuous.laplace import Laplace
from torchprob.continuous.normal import Normal
from torchprob.continuous.student_t import StudentT
from torchprob.continuous.uniform import Uniform
from torchprob.continuous.weibull import Weibull
from torchprob.kl import kl_divergence
from torchprob.transforms import AbsTransform

F64, F32 = torch.float64, torch.float32
RTOL = {F64: 1e-12, F32: 1e-5}
TAILS = ("log_prob", "cdf", "log_cdf", "survival_function", "log_survival_function")
QUANTILES = [1e-300, 1e-100, 1e-12, 1e-3, 0.1, 0.5, 0.7, 0.999, 1 - 1e-12]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def mpf(x) -> mp.mpf:
    return mp.mpf(float(x))


def assert_close_to(actual: torch.Tensor, expected: list, rtol, what: str = "") -> None:
    """Relative agreement (``rtol`` a number or one per value), exact agreement for infinities,
    absolute 1e-300 (float64) or the smallest normal (float32) for values that underflow."""
    tiny = 1e-300 if actual.dtype == F64 else torch.finfo(actual.dtype).tiny
    values = actual.reshape(-1).tolist()
    rtols = rtol if isinstance(rtol, list) else [rtol] * len(values)
    for i, (a, e, rtol) in enumerate(zip(values, expected, rtols)):
        with np.errstate(over="ignore"):
            e = float(e) if actual.dtype == F64 else float(np.float32(float(e)))
        ok = a == e or abs(a - e) <= rtol * abs(e) + tiny
        assert ok, f"{what}[{i}]: {a!r} vs {e!r} (rel {abs(a - e) / abs(e) if e else a})"


def check_methods(d, refs: dict, x: torch.Tensor, rtol: float) -> None:
    """``refs[name]`` is a function of the (float) evaluation point giving the mpmath value."""
    with mp.workdps(50):
        for name, ref in refs.items():
            expected = [ref(mpf(v)) for v in x.reshape(-1).tolist()]
            assert_close_to(getattr(d, name)(x), expected, rtol, name)


def check_icdf(d, ref, rtol: float, quantiles=QUANTILES) -> None:
    dtype = d.scale.dtype
    tiny = torch.finfo(dtype).tiny
    qs = [q for q in quantiles if q >= tiny and float(np.array(q, dtype=np.float64)) < 1]
    u = torch.tensor(qs, dtype=dtype)
    with mp.workdps(60):
        expected = [ref(mpf(v)) for v in u.tolist()]
    assert_close_to(d.icdf(u), expected, rtol, "icdf")


# ------------------------------------------------------------------------------------------------
# Cauchy and HalfCauchy
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_cauchy_grid(dtype, scale):
    loc = 1.5
    d = Cauchy(torch.tensor(loc, dtype=dtype), torch.tensor(scale, dtype=dtype))
    z = [-1e30, -1e10, -40.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 40.0, 1e10, 1e30]
    x = torch.tensor([loc + v * scale for v in z], dtype=dtype)
    s, m = mpf(scale), mpf(loc)

    def angle(v):  # P(X > v) * pi, exact in both tails
        w = (v - m) / s
        return mp.acot(w) if w > 0 else mp.pi / 2 - mp.atan(w)

    refs = {
        "log_prob": lambda v: -mp.log(mp.pi * s * (1 + ((v - m) / s) ** 2)),
        "cdf": lambda v: 1 - angle(v) / mp.pi,
        "log_cdf": lambda v: mp.log(1 - angle(v) / mp.pi),
        "survival_function": lambda v: angle(v) / mp.pi,
        "log_survival_function": lambda v: mp.log(angle(v) / mp.pi),
    }
    check_methods(d, refs, x, RTOL[dtype])
    check_icdf(d, lambda u: m - s / mp.tan(mp.pi * u), RTOL[dtype])
    with mp.workdps(30):
        assert_close_to(d.entropy(), [mp.log(4 * mp.pi * s)], RTOL[dtype])


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_half_cauchy_grid(dtype, scale):
    d = HalfCauchy(torch.tensor(scale, dtype=dtype))
    x = torch.tensor(
        [v * scale for v in [0.0, 1e-30, 1e-8, 0.5, 1.0, 40.0, 1e10, 1e30]], dtype=dtype
    )
    s = mpf(scale)
    refs = {
        "log_prob": lambda v: mp.log(2 / (mp.pi * s * (1 + (v / s) ** 2))),
        "cdf": lambda v: 2 * mp.atan(v / s) / mp.pi,
        "log_cdf": lambda v: mp.log(2 * mp.atan(v / s) / mp.pi) if v > 0 else -mp.inf,
        "survival_function": lambda v: 1 - 2 * mp.atan(v / s) / mp.pi,
        "log_survival_function": lambda v: mp.log(1 - 2 * mp.atan(v / s) / mp.pi),
    }
    check_methods(d, refs, x, RTOL[dtype])
    check_icdf(d, lambda u: s * mp.tan(mp.pi * u / 2), RTOL[dtype])
    with mp.workdps(30):
        assert_close_to(d.entropy(), [mp.log(2 * mp.pi * s)], RTOL[dtype])


# ------------------------------------------------------------------------------------------------
# Laplace and Gumbel
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_laplace_grid(dtype, scale):
    loc = -2.0
    d = Laplace(torch.tensor(loc, dtype=dtype), torch.tensor(scale, dtype=dtype))
    z = [-700.0, -80.0, -40.0, -1.0, -1e-10, 0.0, 1e-10, 1.0, 40.0, 80.0, 700.0]
    if dtype == F32:
        z = [v for v in z if abs(v) < 80]
    x = torch.tensor([loc + v * scale for v in z], dtype=dtype)
    s, m = mpf(scale), mpf(loc)

    def cdf(v):
        w = (v - m) / s
        return mp.exp(w) / 2 if w < 0 else 1 - mp.exp(-w) / 2

    refs = {
        "log_prob": lambda v: -mp.log(2 * s) - abs(v - m) / s,
        "cdf": cdf,
        "log_cdf": lambda v: mp.log(cdf(v)),
        "survival_function": lambda v: 1 - cdf(v),
        "log_survival_function": lambda v: mp.log(1 - cdf(v)),
    }
    check_methods(d, refs, x, RTOL[dtype])
    check_icdf(d, lambda u: m + s * (mp.log(2 * u) if u < 0.5 else -mp.log(2 - 2 * u)), RTOL[dtype])


def log_sf(t):
    """``log(1 - exp(-t))`` at 50 digits whatever the size of ``t``."""
    return mp.log(-mp.expm1(-t)) if t < 1 else mp.log1p(-mp.exp(-t))


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_gumbel_grid(dtype, scale):
    loc = 3.0
    d = Gumbel(torch.tensor(loc, dtype=dtype), torch.tensor(scale, dtype=dtype))
    z = [-6.5, -3.0, -1.0, -1e-10, 0.0, 1.0, 40.0, 700.0]
    if dtype == F32:
        z = [-2.5, -1.0, 0.0, 1.0, 40.0, 80.0]  # cdf's condition number z e^-z stays below 30
    x = torch.tensor([loc + v * scale for v in z], dtype=dtype)
    s, m = mpf(scale), mpf(loc)
    refs = {
        "log_prob": lambda v: -mp.log(s) - (v - m) / s - mp.exp(-(v - m) / s),
        "cdf": lambda v: mp.exp(-mp.exp(-(v - m) / s)),
        "log_cdf": lambda v: -mp.exp(-(v - m) / s),
        "survival_function": lambda v: -mp.expm1(-mp.exp(-(v - m) / s)),
        "log_survival_function": lambda v: log_sf(mp.exp(-(v - m) / s)),
    }
    check_methods(d, refs, x, RTOL[dtype])
    check_icdf(d, lambda u: m - s * mp.log(-mp.log(u)), 4 * RTOL[dtype])
    with mp.workdps(30):
        assert_close_to(d.entropy(), [mp.log(s) + 1 + mp.euler], RTOL[dtype])
        assert_close_to(d.mean, [m + s * mp.euler], RTOL[dtype])
        assert_close_to(d.variance, [(mp.pi * s) ** 2 / 6], RTOL[dtype])


# ------------------------------------------------------------------------------------------------
# Weibull
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize(
    "scale,k",
    list(itertools.product([1e-4, 1.0, 1e6], [1e-4, 0.05, 0.5, 1.0, 3.0, 100.0, 1e6])),
)
def test_weibull_grid(dtype, scale, k):
    if dtype == F32 and not 0.05 <= k <= 100:
        pytest.skip("float32 cannot represent the quantiles of such concentrations")
    d = Weibull(torch.tensor(scale, dtype=dtype), torch.tensor(k, dtype=dtype))
    # points at given values of t = (x / scale)^k, as far as they are representable
    finfo = torch.finfo(dtype)
    t_values = [1e-300, 1e-20, 1e-3, 0.5, 1.0, 5.0, 40.0, 700.0]
    if dtype == F32:
        t_values = [1e-30, 1e-20, 1e-3, 0.5, 1.0, 5.0, 40.0, 80.0]
    points, t_kept = [], []
    for t_value in t_values:
        if abs(math.log(t_value) / k) < 700:
            v = scale * t_value ** (1 / k)
            if finfo.tiny < v < finfo.max:
                points.append(v)
                t_kept.append(t_value)
    x = torch.tensor(points, dtype=dtype)
    s, c = mpf(scale), mpf(k)

    def power(v):
        return (v / s) ** c

    refs = {
        "log_prob": lambda v: mp.log(c / s) + (c - 1) * mp.log(v / s) - power(v),
        "cdf": lambda v: -mp.expm1(-power(v)),
        "log_cdf": lambda v: log_sf(power(v)),
        "survival_function": lambda v: mp.exp(-power(v)),
        "log_survival_function": lambda v: -power(v),
    }
    # Condition numbers: t = (x/scale)^k inherits k times the rounding of x/scale, and the
    # upper tail of the cdf (exp(-t)) t times that of t; pow rounds log(t) absolutely.
    eps = finfo.eps
    rtol = [RTOL[dtype] + 4 * eps * (k + abs(math.log(tv))) * (1 + tv) for tv in t_kept]
    check_methods(d, refs, x, rtol)

    def icdf(u):
        return s * (-mp.log1p(-u)) ** (1 / c)

    # pow(y, 1/k) = exp(log(y)/k) turns the rounding of the exponent into a relative error
    # of |log(y)/k| eps: the condition number of the quantile itself.
    q = [u for u in QUANTILES if abs(math.log(-math.log1p(-u))) / k < 700]
    exponent = max([abs(math.log(-math.log1p(-u))) / k for u in q] + [0.0])
    check_icdf(d, icdf, RTOL[dtype] + 4 * torch.finfo(dtype).eps * exponent, q)
    with mp.workdps(40):
        a = 1 / c
        mean = s * mp.gamma(1 + a)
        var = s**2 * (mp.gamma(1 + 2 * a) - mp.gamma(1 + a) ** 2)
        entropy = mp.euler * (1 - a) + mp.log(s * a) + 1
        rtol = RTOL[dtype] * (1 if dtype == F64 else 10)
        assert_close_to(d.mean, [mean], rtol, "mean")
        assert_close_to(d.variance, [var], rtol, "variance")
        assert_close_to(d.entropy(), [entropy], rtol, "entropy")
        mode = s * ((c - 1) / c) ** a if c > 1 else 0
        assert_close_to(d.mode, [mode], rtol, "mode")


# ------------------------------------------------------------------------------------------------
# StudentT
# ------------------------------------------------------------------------------------------------


def mp_t_logpdf(v, df, loc, scale):
    y = (v - loc) / scale
    return (
        mp.loggamma((df + 1) / 2)
        - mp.loggamma(df / 2)
        - mp.log(df * mp.pi) / 2
        - mp.log(scale)
        - (df + 1) / 2 * mp.log1p(y * y / df)
    )


def mp_t_entropy(df, scale):
    digammas = (df + 1) / 2 * (mp.digamma((df + 1) / 2) - mp.digamma(df / 2))
    return mp.log(scale) + digammas + mp.log(df) / 2 + mp.log(mp.beta(df / 2, mp.mpf(1) / 2))


DFS = [0.1, 1.0, 2.5, 30.0, 99.0, 101.0, 1e3, 1e5, 1e8, 1e12]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("batched", [False, True], ids=["scalar", "batched"])
def test_student_t_grid(dtype, batched):
    loc, scale = 0.5, 2.0
    z = [-1e150 if dtype == F64 else -1e30, -1e10, -40.0, -3.0, 0.0, 1e-5, 1.0, 40.0, 1e20]
    x = torch.tensor([loc + v * scale for v in z], dtype=dtype)
    m, s = mpf(loc), mpf(scale)
    for df in DFS:
        shape = (1,) if batched else ()
        params = [torch.full(shape, v, dtype=dtype) for v in (df, loc, scale)]
        d = StudentT(*params)
        xb = x.reshape(-1, *shape)
        nu = mpf(np.float32(df)) if dtype == F32 else mpf(df)
        with mp.workdps(50):
            expected = [mp_t_logpdf(mpf(v), nu, m, s) for v in xb.reshape(-1).tolist()]
            assert_close_to(d.log_prob(xb), expected, RTOL[dtype], f"log_prob df={df}")
            assert_close_to(d.entropy(), [mp_t_entropy(nu, s)], RTOL[dtype], f"entropy df={df}")
        mean = loc if df > 1 else math.nan
        var = scale**2 * df / (df - 2) if df > 2 else (math.inf if df > 1 else math.nan)
        torch.testing.assert_close(d.mean, torch.full(shape, mean, dtype=dtype), equal_nan=True)
        torch.testing.assert_close(d.variance, torch.full(shape, var, dtype=dtype), equal_nan=True)


def test_student_t_number_and_tensor_paths_agree():
    df = torch.tensor([0.3, 4.0, 49.0, 50.0, 51.0, 1e4, 1e8], dtype=F64)
    x = torch.linspace(-30, 30, 13, dtype=F64).unsqueeze(-1)
    batched = StudentT(df, 0.0, 1.0).log_prob(x)
    single = torch.stack([StudentT(v, 0.0, 1.0).log_prob(x[:, 0]) for v in df], -1)
    torch.testing.assert_close(single, batched, rtol=1e-13, atol=0)
    grad_df = df.clone().requires_grad_()  # a df that requires grad takes the tensor path
    torch.testing.assert_close(StudentT(grad_df).log_prob(x).detach(), batched, rtol=1e-13, atol=0)


# ------------------------------------------------------------------------------------------------
# FisherSnedecor
# ------------------------------------------------------------------------------------------------


def mp_f_logpdf(v, d1, d2):
    a, b = d1 / 2, d2 / 2
    return (
        a * mp.log(d1 / d2)
        + (a - 1) * mp.log(v)
        - (a + b) * mp.log1p(d1 * v / d2)
        - mp.log(mp.beta(a, b))
    )


def mp_f_entropy(d1, d2):
    a, b = d1 / 2, d2 / 2
    digammas = (1 - a) * mp.digamma(a) - (1 + b) * mp.digamma(b) + (a + b) * mp.digamma(a + b)
    return mp.log(d2 / d1) + mp.log(mp.beta(a, b)) + digammas


F_DFS = [0.1, 1.0, 3.0, 30.0, 1e4, 1e8]


@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("batched", [False, True], ids=["scalar", "batched"])
def test_fisher_snedecor_grid(dtype, batched):
    x = torch.tensor([1e-30, 1e-5, 0.5, 0.999, 1.0, 1.001, 10.0, 1e10], dtype=dtype)
    shape = (1,) if batched else ()
    for df1, df2 in itertools.product(F_DFS, F_DFS):
        d = FisherSnedecor(torch.full(shape, df1, dtype=dtype), torch.full(shape, df2, dtype=dtype))
        xb = x.reshape(-1, *shape)
        with mp.workdps(50):
            a, b = mpf(df1), mpf(df2)
            expected = [mp_f_logpdf(mpf(v), a, b) for v in xb.reshape(-1).tolist()]
            what = f"log_prob df1={df1} df2={df2}"
            assert_close_to(d.log_prob(xb), expected, RTOL[dtype], what)
            # float32 entropy: the inputs' rounding alone moves it by ~1e-7 relative
            rtol = RTOL[dtype] * (1 if dtype == F64 else 4)
            assert_close_to(d.entropy(), [mp_f_entropy(a, b)], rtol, f"entropy {df1} {df2}")
        mean = df2 / (df2 - 2) if df2 > 2 else math.inf
        var = (
            2 * df2**2 * (df1 + df2 - 2) / (df1 * (df2 - 2) ** 2 * (df2 - 4))
            if df2 > 4
            else math.inf
        )
        mode = (df1 - 2) / df1 * df2 / (df2 + 2) if df1 > 2 else 0.0
        for name, value in (("mean", mean), ("variance", var), ("mode", mode)):
            expected_t = torch.full(shape, value, dtype=dtype)
            torch.testing.assert_close(getattr(d, name), expected_t, rtol=10 * RTOL[dtype], atol=0)


# ------------------------------------------------------------------------------------------------
# Sampling: implicit gradients, goodness of fit without a cdf
# ------------------------------------------------------------------------------------------------


def implicit_gamma_grad(alpha: np.ndarray, g: np.ndarray) -> np.ndarray:
    """dG/dalpha at fixed cdf level: -(dP/dalpha) / p(G), dP/dalpha by central differences."""
    h = 1e-6 * alpha
    dp = (sc.gammainc(alpha + h, g) - sc.gammainc(alpha - h, g)) / (2 * h)
    return -dp / st.gamma(alpha).pdf(g)


def replay_gammas(alphas: list[torch.Tensor], seed: int, normal_first: bool = False):
    """The draws of an rsample with ``gen(seed)``, replayed: ``(z, [G_i], [dG_i/dalpha_i])``
    with torch's implicit gradient of each gamma variable."""
    g = gen(seed)
    z = torch.empty(alphas[0].shape, dtype=F64).normal_(generator=g) if normal_first else None
    draws, grads = [], []
    for alpha in alphas:
        leaf = alpha.detach().clone().requires_grad_()
        draw = torch._standard_gamma(leaf, generator=g)
        grads.append(torch.autograd.grad(draw.sum(), leaf)[0])
        draws.append(draw.detach())
    return z, draws, grads


def test_student_t_rsample_gradients():
    """Pathwise in loc and scale; in df the chain rule through the implicit gradient of the
    gamma draw (torch's, itself within 1e-3 of the exact one from the gamma cdf)."""
    shape = (5, 3)
    df = torch.tensor([0.7, 3.0, 40.0], dtype=F64).expand(shape).clone().requires_grad_()
    loc = torch.tensor(0.5, dtype=F64, requires_grad=True)
    scale = torch.tensor(2.0, dtype=F64, requires_grad=True)
    x = StudentT(df, loc, scale).rsample(generator=gen(3))
    g_df, g_loc, g_scale = torch.autograd.grad(x.sum(), [df, loc, scale])
    half = df.detach() / 2
    z, (gamma,), (dgamma,) = replay_gammas([half], 3, normal_first=True)
    root = (half / gamma).sqrt()
    torch.testing.assert_close(x.detach(), 0.5 + 2.0 * z * root, rtol=1e-14, atol=0)
    # x = loc + scale z sqrt(h / G(h)), h = df / 2
    expected = 0.5 * 2.0 * z * 0.5 / root * (gamma - half * dgamma) / gamma.square()
    torch.testing.assert_close(g_df, expected, rtol=1e-12, atol=1e-15)
    exact = implicit_gamma_grad(half.numpy(), gamma.numpy())
    np.testing.assert_allclose(dgamma.numpy(), exact, rtol=1e-3)
    assert g_loc.item() == 15.0
    torch.testing.assert_close(g_scale, (z * root).sum(), rtol=1e-12, atol=0)


def test_fisher_snedecor_rsample_gradients():
    shape = (4, 3)
    df1 = torch.tensor([0.8, 5.0, 30.0], dtype=F64).expand(shape).clone().requires_grad_()
    df2 = torch.tensor([3.0, 0.9, 60.0], dtype=F64).expand(shape).clone().requires_grad_()
    x = FisherSnedecor(df1, df2).rsample(generator=gen(5))
    grad1, grad2 = torch.autograd.grad(x.sum(), [df1, df2])
    a, b = df1.detach() / 2, df2.detach() / 2
    _, (g1, g2), (dg1, dg2) = replay_gammas([a, b], 5)
    xv = (g1 / a) / (g2 / b)
    torch.testing.assert_close(x.detach(), xv, rtol=1e-14, atol=0)
    torch.testing.assert_close(grad1, 0.5 * xv * (dg1 / g1 - 1 / a), rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(grad2, 0.5 * xv * (1 / b - dg2 / g2), rtol=1e-12, atol=1e-15)


@pytest.mark.slow
@pytest.mark.parametrize(
    "d,cdfs",
    [
        (
            StudentT(torch.tensor([0.3, 2.5, 1e3], dtype=F64), 1.0, 2.0),
            [st.t(v, 1.0, 2.0).cdf for v in (0.3, 2.5, 1e3)],
        ),
        (
            FisherSnedecor(
                torch.tensor([0.5, 3.0, 1e3], dtype=F64), torch.tensor([2.0, 0.7, 1e3], dtype=F64)
            ),
            [st.f(a, b).cdf for a, b in ((0.5, 2.0), (3.0, 0.7), (1e3, 1e3))],
        ),
    ],
    ids=["StudentT", "FisherSnedecor"],
)
def test_goodness_of_fit_against_scipy_cdf(d, cdfs):
    """KS on 20000 draws against SciPy's cdf (we have no cdf yet), p > 1e-6 as in the suite."""
    draws = d.sample((20000,), generator=gen(123)).numpy()
    for j, cdf in enumerate(cdfs):
        result = st.kstest(draws[:, j], cdf)
        assert result.pvalue > 1e-6, (j, result)


# ------------------------------------------------------------------------------------------------
# The transformed-distribution view
# ------------------------------------------------------------------------------------------------


CASES_TD = [
    (
        Gumbel,
        {"loc": torch.tensor([0.5, -2.0], dtype=F64), "scale": torch.tensor([2.0, 0.3], dtype=F64)},
    ),
    (
        Weibull,
        {
            "scale": torch.tensor([2.0, 0.3], dtype=F64),
            "concentration": torch.tensor([0.7, 3.0], dtype=F64),
        },
    ),
]


@pytest.mark.parametrize("cls,params", CASES_TD, ids=["Gumbel", "Weibull"])
def test_transformed_view_agrees_with_direct_math(cls, params):
    d = cls(**params)
    assert isinstance(d, TransformedDistribution)
    assert "base_dist" not in d.__dict__ and "transforms" not in d.__dict__  # built lazily
    x = d.sample((6,), generator=gen(2))
    generic = TransformedDistribution(d.base_dist, d.transforms)
    torch.testing.assert_close(generic.log_prob(x), d.log_prob(x), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(generic.cdf(x), d.cdf(x), rtol=1e-10, atol=1e-12)
    twin = getattr(td, cls.__name__)(**params)
    torch.testing.assert_close(twin.log_prob(x), d.log_prob(x), rtol=1e-10, atol=1e-12)
    e = d.expand((3, 2))
    assert type(e) is cls and e.batch_shape == (3, 2)
    assert type(d[1]) is cls and d[1].batch_shape == ()


def test_weibull_and_half_cauchy_attributes():
    w = Weibull(torch.tensor([2.0, 3.0]), torch.tensor([0.5, 4.0]))
    torch.testing.assert_close(w.concentration_reciprocal, torch.tensor([2.0, 0.25]))
    h = HalfCauchy(torch.tensor([2.0, 3.0]))
    assert isinstance(h, TransformedDistribution) and isinstance(h.base_dist, Cauchy)
    torch.testing.assert_close(h.base_dist.scale, h.scale)
    assert h.transforms == [AbsTransform()]
    assert h.support.check(h.rsample((50,), generator=gen())).all()


def test_half_cauchy_log_prob_negative_is_minus_inf():
    h = HalfCauchy(torch.tensor([2.0, 3.0]), validate_args=False)
    lp = h.log_prob(torch.tensor([-1.0, 1.0]))
    assert lp[0].item() == -math.inf and math.isfinite(lp[1].item())


def test_boundaries_and_gradients_at_the_centre():
    loc = torch.tensor(0.5, dtype=F64, requires_grad=True)
    scale = torch.tensor(2.0, dtype=F64, requires_grad=True)
    for d in (Cauchy(loc, scale), StudentT(3.0, loc, scale)):
        (g_loc, g_scale) = torch.autograd.grad(d.log_prob(loc.detach()), [loc, scale])
        assert g_loc.item() == 0.0 and g_scale.item() == pytest.approx(-0.5)
    c = Cauchy(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    assert c.icdf(torch.tensor([0.0, 1.0], dtype=F64)).tolist() == [-math.inf, math.inf]
    expected = -math.log(math.pi) - 2 * math.log(1e300)  # no overflow of z^2
    assert c.log_prob(torch.tensor(1e300, dtype=F64)).item() == pytest.approx(expected, rel=1e-14)
    w = Weibull(torch.tensor(1.0, dtype=F64), torch.tensor(2.0, dtype=F64), validate_args=False)
    assert w.log_cdf(torch.tensor(0.0, dtype=F64)).item() == -math.inf
    g = Gumbel(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    assert g.log_cdf(torch.tensor(-800.0, dtype=F64)).item() == -math.inf  # -exp(800)
    assert g.icdf(torch.tensor([0.0, 1.0], dtype=F64)).tolist() == [-math.inf, math.inf]


# ------------------------------------------------------------------------------------------------
# KL divergences
# ------------------------------------------------------------------------------------------------


def _params(name: str, shape, seed: int) -> dict:
    g = gen(seed)

    def randn():
        return torch.randn(shape, generator=g, dtype=F64)

    if name == "Uniform":
        low = randn()
        return {"low": low, "high": low + randn().exp()}
    if name == "Exponential":
        return {"rate": randn().exp()}
    return {"loc": randn(), "scale": randn().exp()}


OURS = {c.__name__: c for c in (Normal, Uniform, Exponential, Cauchy, Laplace, Gumbel)}
KL_PAIRS = [
    ("Cauchy", "Cauchy"),
    ("Laplace", "Laplace"),
    ("Laplace", "Normal"),
    ("Normal", "Laplace"),
    ("Laplace", "Uniform"),
    ("Laplace", "Exponential"),
    ("Gumbel", "Gumbel"),
    ("Gumbel", "Normal"),
    ("Normal", "Gumbel"),
    ("Exponential", "Gumbel"),
    ("Uniform", "Gumbel"),
    ("Gumbel", "Uniform"),
    ("Gumbel", "Exponential"),
]


def test_kl_pairs_are_torchs():
    families = set(OURS) | {"HalfCauchy", "StudentT", "FisherSnedecor", "Weibull"}
    theirs = {
        (p.__name__, q.__name__)
        for p, q in td.kl._KL_REGISTRY
        if p.__name__ in families
        and q.__name__ in families
        and {p.__name__, q.__name__} - {"Normal", "Uniform", "Exponential"}
    }
    assert theirs == set(KL_PAIRS)


@pytest.mark.parametrize("p_name,q_name", KL_PAIRS, ids=[f"{p}-{q}" for p, q in KL_PAIRS])
def test_kl_matches_torch(p_name, q_name):
    p_params, q_params = _params(p_name, (3, 1), 1), _params(q_name, (4,), 2)
    actual = kl_divergence(OURS[p_name](**p_params), OURS[q_name](**q_params))
    assert actual.shape == (3, 4)
    full_p = {k: v.expand(3, 4) for k, v in p_params.items()}
    full_q = {k: v.expand(3, 4) for k, v in q_params.items()}
    expected = td.kl_divergence(getattr(td, p_name)(**full_p), getattr(td, q_name)(**full_q))
    torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-12)


def mp_kl(p_name, p, q):
    """The closed forms at 50 digits (the mathematics, not our arrangement of it)."""
    with mp.workdps(50):
        (lp, sp), (lq, sq) = (mpf(p["loc"]), mpf(p["scale"])), (mpf(q["loc"]), mpf(q["scale"]))
        if p_name == "Cauchy":
            return mp.log(((sp + sq) ** 2 + (lp - lq) ** 2) / (4 * sp * sq))
        if p_name == "Laplace":
            dist = abs(lp - lq)
            return mp.log(sq / sp) + dist / sq + sp / sq * mp.exp(-dist / sp) - 1
        r, delta = sp / sq, (lp - lq) / sq
        return -mp.log(r) + delta + mp.euler * (r - 1) + mp.exp(-delta) * mp.gamma(1 + r) - 1


@pytest.mark.parametrize("name", ["Cauchy", "Laplace", "Gumbel"])
@pytest.mark.parametrize("shift", [0.0, 1e-9, 1e-4, 0.5])
def test_kl_nearly_equal(name, shift):
    cls = OURS[name]
    p = {"loc": torch.tensor(0.3, dtype=F64), "scale": torch.tensor(1.7, dtype=F64)}
    q = {"loc": p["loc"] + shift, "scale": p["scale"] * (1 + shift)}
    actual = kl_divergence(cls(**p), cls(**q))
    expected = float(mp_kl(name, p, q))
    if shift == 0:
        assert actual.item() == 0.0
    else:
        assert actual.item() == pytest.approx(expected, rel=1e-6 if shift < 1e-8 else 1e-9)


# ------------------------------------------------------------------------------------------------
# The in-place (no graph) and autograd routes of log_prob agree
# ------------------------------------------------------------------------------------------------

ROUTE_CASES = [
    (Cauchy, {"loc": 0.5, "scale": 2.0}),
    (HalfCauchy, {"scale": 2.0}),
    (Laplace, {"loc": 0.5, "scale": 2.0}),
    (Gumbel, {"loc": 0.5, "scale": 2.0}),
    (Weibull, {"scale": 2.0, "concentration": 0.7}),
    (StudentT, {"df": 3.0, "loc": 0.5, "scale": 2.0}),
    (FisherSnedecor, {"df1": 3.0, "df2": 5.0}),
    (FisherSnedecor, {"df1": 300.0, "df2": 5e4}),
]


@pytest.mark.parametrize("cls,params", ROUTE_CASES, ids=[c.__name__ for c, _ in ROUTE_CASES])
@pytest.mark.parametrize("batched", [False, True], ids=["scalar", "batched"])
def test_log_prob_routes_agree(cls, params, batched):
    shape = (3,) if batched else ()
    tensors = {k: torch.full(shape, v, dtype=F64) for k, v in params.items()}
    x = cls(**tensors).sample((50,), generator=gen(4))
    x0 = x.clone()
    with torch.no_grad():
        plain = cls(**tensors).log_prob(x)
    leaves = {k: v.clone().requires_grad_() for k, v in tensors.items()}
    tracked = cls(**leaves).log_prob(x)
    torch.testing.assert_close(tracked.detach(), plain, rtol=1e-13, atol=1e-13)
    grads = torch.autograd.grad(tracked.sum(), list(leaves.values()))
    assert all(torch.isfinite(g).all() for g in grads)
    assert torch.equal(x, x0)  # the value is never written to
