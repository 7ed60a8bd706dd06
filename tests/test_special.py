"""torchprob.special against mpmath (hard points: tails, huge and tiny shapes) and SciPy (large
vectorized grids where SciPy itself is exact), plus inverses, gradients, dtypes and compile.

The mpmath references evaluate the same continued fractions and series as textbooks, to
convergence at 40 digits (``mpmath.betainc``/``gammainc`` give up for shapes near 10^6), and take
each tail directly, so that both tails are exact down to 10^-300.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sc
import torch

from torchprob import special
from torchprob.special import (
    betainc,
    betaincc,
    betainccinv,
    betaincinv,
    gammainc,
    gammaincc,
    gammainccinv,
    gammaincinv,
)

mp.mp.dps = 40
F64 = torch.float64
TINY = 2.2250738585072014e-308  # below this, results are subnormal: absolute comparison

# ----------------------------------------------------------------------------------------------
# mpmath references


def _mp_cf_beta(a, b, x):
    """Numerical Recipes' continued fraction of I_x(a, b) (without prefactor), modified Lentz."""
    tiny = mp.mpf(10) ** -300
    c, d = mp.mpf(1), 1 - (a + b) * x / (a + 1)
    d = 1 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, 10**6):
        for aa in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + aa * d
            c = 1 + aa / c
            d = 1 / (tiny if abs(d) < tiny else d)
            c = tiny if abs(c) < tiny else c
            h *= d * c
        if abs(d * c - 1) < mp.eps * 4:
            return h
    raise RuntimeError("no convergence")


def mp_beta(a, b, x):
    """(I_x(a, b), 1 - I_x(a, b)) for double a, b, x, each tail directly."""
    a, b, x = mp.mpf(a), mp.mpf(b), mp.mpf(x)
    y = 1 - x

    def pre(a, b, x, y):
        return mp.exp(a * mp.log(x) + b * mp.log(y) - mp.log(a) - mp.log(mp.beta(a, b)))

    if x < (a + 1) / (a + b + 2):
        v = pre(a, b, x, y) * _mp_cf_beta(a, b, x)
        return v, 1 - v
    v = pre(b, a, y, x) * _mp_cf_beta(b, a, y)
    return 1 - v, v


def mp_gamma(a, x):
    """(P(a, x), Q(a, x)) for double a, x: the series below a + 1, Legendre's fraction above."""
    a, x = mp.mpf(a), mp.mpf(x)
    eps = mp.eps * 4
    log_pre = a * mp.log(x) - x - mp.loggamma(a)
    if x < a + 1:
        s = t = 1 / a
        ap = a
        while t > s * eps:
            ap += 1
            t *= x / ap
            s += t
        p = mp.exp(log_pre) * s
        return p, 1 - p
    tiny = mp.mpf(10) ** -300
    bb, c, d = x + 1 - a, 1 / tiny, 1 / (x + 1 - a)
    h, i = d, 0
    while True:
        i += 1
        an = -i * (i - a)
        bb += 2
        d = an * d + bb
        d = 1 / (tiny if abs(d) < tiny else d)
        c = bb + an / c
        c = tiny if abs(c) < tiny else c
        h *= d * c
        if abs(d * c - 1) < eps:
            break
    q = mp.exp(log_pre) * h
    return 1 - q, q


def assert_close(actual: torch.Tensor, expected, rtol: float, what: str = "") -> float:
    """Relative error (absolute below the normal range); returns the largest."""
    act = actual.detach().double().reshape(-1).numpy()
    exp = np.asarray([float(v) for v in expected], dtype=np.float64).reshape(-1)
    assert np.isfinite(act).all(), f"{what}: non-finite values"
    scale = np.maximum(np.abs(exp), TINY)
    err = np.abs(act - exp) / scale
    worst = int(np.argmax(err))
    assert err[worst] <= rtol, f"{what}: relative error {err[worst]:.3g} at index {worst}"
    return float(err.max())


def t64(*values):
    return [torch.tensor(v, dtype=F64) for v in values]


# ----------------------------------------------------------------------------------------------
# Points: shapes from 1e-3 to 1e6, and the x where the tails are 1e-300 ... 1/2 (placed with
# SciPy's inverses; the references are mpmath's)

BETA_SHAPES = [1e-3, 0.05, 1.0, 7.5, 300.0, 1e6]
GAMMA_SHAPES = [1e-3, 0.05, 1.0, 7.5, 300.0, 1e4, 1e6]
TAILS = [1e-300, 1e-100, 1e-10, 0.02, 0.5]


def _beta_points():
    pts = []
    for a in BETA_SHAPES:
        for b in BETA_SHAPES:
            xs = list(sc.betaincinv(a, b, TAILS)) + list(sc.betainccinv(a, b, TAILS[:-1]))
            xs.append((a + 1) / (a + b + 2))  # the switch of the continued fraction
            pts += [(a, b, x) for x in sorted(set(xs)) if 0 < x < 1]
    return pts


def _gamma_points():
    pts = []
    for a in GAMMA_SHAPES:
        xs = list(sc.gammaincinv(a, TAILS)) + list(sc.gammainccinv(a, TAILS[:-1]))
        xs += [a + 1.0, 1e-300, 2.0]
        pts += [(a, x) for x in sorted(set(xs)) if 0 < x < math.inf]
    return pts


@pytest.fixture(scope="module")
def beta_refs():
    pts = _beta_points()
    return np.array(pts), [mp_beta(*pt) for pt in pts]


@pytest.fixture(scope="module")
def gamma_refs():
    pts = _gamma_points()
    return np.array(pts), [mp_gamma(*pt) for pt in pts]


# ----------------------------------------------------------------------------------------------
# Values


def test_betainc_against_mpmath(beta_refs):
    pts, refs = beta_refs
    a, b, x = t64(pts[:, 0], pts[:, 1], pts[:, 2])
    assert_close(betainc(a, b, x), [r[0] for r in refs], 1e-12, "betainc")
    assert_close(betaincc(a, b, x), [r[1] for r in refs], 1e-12, "betaincc")


def test_gammainc_against_mpmath(gamma_refs):
    pts, refs = gamma_refs
    a, x = t64(pts[:, 0], pts[:, 1])
    assert_close(gammainc(a, x), [r[0] for r in refs], 1e-12, "gammainc")
    assert_close(gammaincc(a, x), [r[1] for r in refs], 1e-12, "gammaincc")


def test_gammainc_large_shape_where_torch_is_wrong():
    # torch.special.gammainc (Cephes' series, capped at 2000 terms) is off by 3e-7 here
    a, x = 1e6, 993651.8087766353
    p, _ = mp_gamma(a, x)
    assert_close(gammainc(*t64(a, x)), [p], 1e-12)
    assert abs(torch.special.gammainc(*t64(a, x)).item() / float(p) - 1) > 1e-8


def test_against_scipy_random_grid():
    # Where SciPy is exact (moderate shapes, normal results): a large vectorized comparison.
    rng = np.random.default_rng(0)
    n = 10000
    a = 10 ** rng.uniform(-3, 2, n)
    b = 10 ** rng.uniform(-3, 2, n)
    x = np.where(rng.random(n) < 0.5, rng.random(n), 10 ** rng.uniform(-30, 0, n))
    for ours, theirs in ((betainc, sc.betainc), (betaincc, sc.betaincc)):
        ref = theirs(a, b, x)
        keep = ref > 1e-300
        got = ours(*t64(a[keep], b[keep], x[keep]))
        assert_close(got, ref[keep], 1e-12, ours.__name__)
    a = 10 ** rng.uniform(-3, 2, n)  # beyond, SciPy's own error exceeds 1e-12 (e.g. a = 800)
    x = a * 10 ** rng.uniform(-3, 0.7, n)
    for ours, theirs in ((gammainc, sc.gammainc), (gammaincc, sc.gammaincc)):
        ref = theirs(a, x)
        keep = ref > 1e-300
        assert_close(ours(*t64(a[keep], x[keep])), ref[keep], 1e-12, ours.__name__)


def test_no_nan_where_finite():
    rng = np.random.default_rng(1)
    n = 6000
    a, b = 10 ** rng.uniform(-4, 7, (2, n))
    x = np.concatenate([rng.random(n // 2), 10 ** rng.uniform(-320, 0, n - n // 2)])
    for fn in (betainc, betaincc):
        v = fn(*t64(a, b, x))
        assert torch.isfinite(v).all() and ((v >= 0) & (v <= 1)).all(), fn.__name__
    xg = a * 10 ** rng.uniform(-5, 1, n)
    for fn in (gammainc, gammaincc):
        v = fn(*t64(a, xg))
        assert torch.isfinite(v).all() and ((v >= 0) & (v <= 1)).all(), fn.__name__
    a, b = a[:2000], b[:2000]
    p = np.concatenate([rng.random(1000), 10 ** rng.uniform(-300, 0, 1000)])
    for fn, args in ((betaincinv, (a, b, p)), (gammaincinv, (a, p)), (gammainccinv, (a, p))):
        assert torch.isfinite(fn(*t64(*args))).all(), fn.__name__


def test_special_values():
    nan, inf = math.nan, math.inf
    a = torch.tensor([0.0, 1.0, 0.0, -1.0, 2.0, 2.0, 2.0, inf, 1.0, nan, 2.0, 2.0], dtype=F64)
    b = torch.tensor([1.0, 0.0, 0.0, 1.0, 3.0, 3.0, 3.0, 1.0, inf, 1.0, 3.0, 3.0], dtype=F64)
    x = torch.tensor([0.5, 0.5, 0.5, 0.5, 0.0, 1.0, 1.1, 0.5, 0.5, 0.5, -0.1, nan], dtype=F64)
    expected = sc.betainc(a.numpy(), b.numpy(), x.numpy())
    torch.testing.assert_close(betainc(a, b, x), torch.from_numpy(expected), equal_nan=True)
    torch.testing.assert_close(betaincc(a, b, x), torch.from_numpy(1 - expected), equal_nan=True)
    a = torch.tensor([0.0, 0.0, 1.0, 1.0, inf, -1.0, 1.0, 2.0], dtype=F64)
    x = torch.tensor([0.5, 0.0, 0.0, inf, 1.0, 1.0, -1.0, nan], dtype=F64)
    expected = torch.from_numpy(sc.gammainc(a.numpy(), x.numpy()))
    torch.testing.assert_close(gammainc(a, x), expected, equal_nan=True)
    torch.testing.assert_close(gammaincc(a, x), 1 - expected, equal_nan=True)
    a, b = torch.tensor([2.0, 2.0, 2.0, -1.0, inf], dtype=F64), torch.tensor(3.0, dtype=F64)
    p = torch.tensor([0.0, 1.0, 1.5, 0.5, 0.5], dtype=F64)
    expected = torch.tensor([0.0, 1.0, nan, nan, 1.0], dtype=F64)
    torch.testing.assert_close(betaincinv(a, b, p), expected, equal_nan=True)
    expected = torch.tensor([1.0, 0.0, nan, nan, 1.0], dtype=F64)
    torch.testing.assert_close(betainccinv(a, b, p), expected, equal_nan=True)
    expected = torch.tensor([0.0, inf, nan, nan, nan], dtype=F64)
    torch.testing.assert_close(gammaincinv(a, p), expected, equal_nan=True)


# ----------------------------------------------------------------------------------------------
# Inverses


def _rel_x_error_beta(a, b, y, x, upper):
    """|x - root| / root to first order, from mpmath: |tail(x) - y| / (x f(x))."""
    i, j = mp_beta(a, b, x)
    tail = j if upper else i
    a_, b_, x_ = mp.mpf(a), mp.mpf(b), mp.mpf(x)
    log_dens = (a_ - 1) * mp.log(x_) + (b_ - 1) * mp.log(1 - x_) - mp.log(mp.beta(a_, b_))
    return float(abs(tail - y) / (x_ * mp.exp(log_dens)))


def _rel_x_error_gamma(a, y, x, upper):
    p, q = mp_gamma(a, x)
    tail = q if upper else p
    a_, x_ = mp.mpf(a), mp.mpf(x)
    return float(abs(tail - y) / mp.exp(a_ * mp.log(x_) - x_ - mp.loggamma(a_)))


INV_TAILS = [1e-300, 1e-30, 1e-3, 0.4, 1 - 1e-16]


@pytest.mark.parametrize("upper", [False, True])
def test_betaincinv_against_mpmath(upper):
    shapes = [1e-3, 0.5, 20.0, 1e6]
    pts = [(a, b, y) for a in shapes for b in shapes for y in INV_TAILS]
    a, b, y = t64(*np.array(pts).T)
    x = (betainccinv if upper else betaincinv)(a, b, y)
    worst = 0.0
    for (a_, b_, y_), x_ in zip(pts, x.tolist()):
        if TINY < x_ < 1:  # otherwise the root is below the normal range or rounds to 1
            worst = max(worst, _rel_x_error_beta(a_, b_, y_, x_, upper))
    assert worst <= 1e-10


@pytest.mark.parametrize("upper", [False, True])
def test_gammaincinv_against_mpmath(upper):
    pts = [(a, y) for a in GAMMA_SHAPES for y in INV_TAILS]
    a, y = t64(*np.array(pts).T)
    x = (gammainccinv if upper else gammaincinv)(a, y)
    worst = 0.0
    for (a_, y_), x_ in zip(pts, x.tolist()):
        if x_ > TINY:
            worst = max(worst, _rel_x_error_gamma(a_, y_, x_, upper))
    assert worst <= 1e-10


def test_inverses_round_trip():
    rng = np.random.default_rng(2)
    n = 3000
    a, b = 10 ** rng.uniform(-3, 6, (2, n))
    p = np.where(rng.random(n) < 0.5, rng.random(n), 10 ** rng.uniform(-300, 0, n))
    a_, b_, p_ = t64(a, b, p)
    for inv, fwd in ((betaincinv, betainc), (betainccinv, betaincc)):
        x = inv(a_, b_, p_)
        # relative error in x from the residual: |tail(x) - p| / (x f(x))
        dens = torch.exp(special._beta_log_density(a_, b_, x))
        inner = (x > TINY) & (x < 1)
        err = ((fwd(a_, b_, x) - p_).abs() / (x * dens))[inner]
        assert err.max() <= 1e-10, inv.__name__
    for inv, fwd in ((gammaincinv, gammainc), (gammainccinv, gammaincc)):
        x = inv(a_, p_)
        dens = torch.exp(special._gamma_log_density(a_, x))
        inner = x > TINY
        err = ((fwd(a_, x) - p_).abs() / (x * dens))[inner]
        assert err.max() <= 1e-10, inv.__name__


def test_inverses_against_scipy():
    rng = np.random.default_rng(3)
    n = 5000
    a, b = 10 ** rng.uniform(-1, 3, (2, n))
    p = rng.random(n)
    assert_close(betaincinv(*t64(a, b, p)), sc.betaincinv(a, b, p), 1e-10, "betaincinv")
    assert_close(gammaincinv(*t64(a, p)), sc.gammaincinv(a, p), 1e-10, "gammaincinv")
    assert_close(gammainccinv(*t64(a, p)), sc.gammainccinv(a, p), 1e-10, "gammainccinv")


# ----------------------------------------------------------------------------------------------
# Gradients


def test_gradcheck_forward_functions():
    a = torch.tensor([0.3, 2.0, 30.0, 250.0], dtype=F64, requires_grad=True)
    b = torch.tensor([0.7, 3.0, 0.4, 300.0], dtype=F64, requires_grad=True)
    x = torch.tensor([0.3, 0.6, 0.97, 0.45], dtype=F64, requires_grad=True)
    xg = torch.tensor([0.2, 2.5, 27.0, 260.0], dtype=F64, requires_grad=True)
    for fn in (betainc, betaincc):
        assert torch.autograd.gradcheck(fn, (a, b, x), fast_mode=True)
    for fn in (gammainc, gammaincc):
        assert torch.autograd.gradcheck(fn, (a, xg), fast_mode=True)


def test_gradcheck_inverses():
    a = torch.tensor([0.3, 2.0, 30.0, 250.0], dtype=F64, requires_grad=True)
    b = torch.tensor([0.7, 3.0, 0.4, 300.0], dtype=F64, requires_grad=True)
    p = torch.tensor([0.3, 0.6, 0.05, 0.9], dtype=F64, requires_grad=True)
    for fn in (betaincinv, betainccinv):
        assert torch.autograd.gradcheck(fn, (a, b, p), fast_mode=True)
    for fn in (gammaincinv, gammainccinv):
        assert torch.autograd.gradcheck(fn, (a, p), fast_mode=True)


@pytest.mark.parametrize(
    "a, b, x", [(0.01, 5.0, 0.2), (2.5, 0.3, 0.9), (40.0, 60.0, 0.35), (2e4, 3e4, 0.41)]
)
def test_beta_shape_gradients_against_mpmath(a, b, x):
    # the four regimes: small-shape series, continued fraction, Temme's expansion
    a_, b_, x_ = (torch.tensor(v, dtype=F64, requires_grad=True) for v in (a, b, x))
    da, db = torch.autograd.grad(betainc(a_, b_, x_), (a_, b_))
    with mp.workdps(30):
        ea = mp.diff(lambda s: mp_beta(s, b, x)[0], mp.mpf(a))
        eb = mp.diff(lambda s: mp_beta(a, s, x)[0], mp.mpf(b))
    assert_close(da, [ea], 1e-9, "d/da")
    assert_close(db, [eb], 1e-9, "d/db")


@pytest.mark.parametrize("a, x", [(0.01, 0.5), (3.0, 1.0), (3.0, 9.0), (400.0, 420.0)])
def test_gamma_shape_gradient_against_mpmath(a, x):
    a_ = torch.tensor(a, dtype=F64, requires_grad=True)
    (da,) = torch.autograd.grad(gammaincc(a_, torch.tensor(x, dtype=F64)), a_)
    with mp.workdps(30):
        expected = mp.diff(lambda s: mp_gamma(s, x)[1], mp.mpf(a))
    assert_close(da, [expected], 1e-9)


def test_gradients_through_broadcasting_and_float32():
    a = torch.tensor([1.5, 4.0], requires_grad=True)  # float32, broadcast against x
    x = torch.tensor([[0.2], [0.7]], dtype=F64, requires_grad=True)
    out = betainc(a, torch.tensor(2.0), x)
    assert out.shape == (2, 2) and out.dtype == F64
    out.sum().backward()
    assert a.grad.shape == (2,) and a.grad.dtype == torch.float32 and x.grad.shape == (2, 1)


# ----------------------------------------------------------------------------------------------
# Dtypes, shapes, execution paths


def test_float32_matches_float64():
    rng = np.random.default_rng(4)
    a, b = 10 ** rng.uniform(-2, 4, (2, 2000))
    x = rng.random(2000)
    for fn, args in (
        (betainc, (a, b, x)),
        (betaincc, (a, b, x)),
        (gammainc, (a, a * x * 2)),
        (betaincinv, (a, b, x)),
        (gammaincinv, (a, x)),
    ):
        args32 = [torch.tensor(v, dtype=torch.float32) for v in args]
        got = fn(*args32)
        assert got.dtype == torch.float32
        ref = fn(*(v.double() for v in args32))  # the same (rounded) inputs in float64
        keep = ref.abs() > 1e-30  # representable in float32 with full precision
        assert_close(got.double()[keep], ref[keep].numpy(), 1e-7, fn.__name__)


def test_python_numbers_and_shapes():
    assert betainc(2.0, 3.0, 0.5).dtype == torch.get_default_dtype()
    out = gammainc(torch.ones(3, 1, dtype=F64), torch.tensor([0.5, 1.0], dtype=F64))
    assert out.shape == (3, 2)
    assert betainc(torch.empty(0), 1.0, 0.5).shape == (0,)


def test_masked_path_equals_subset_path(monkeypatch, beta_refs, gamma_refs):
    # torch.compile / CUDA evaluate every regime on every element (masked); eager CPU code on
    # the subsets: the same values.
    pts, _ = beta_refs
    a, b, x = t64(pts[:, 0], pts[:, 1], pts[:, 2])
    gp, _ = gamma_refs
    ga, gx = t64(gp[:, 0], gp[:, 1])
    p = torch.linspace(0.01, 0.99, len(pts), dtype=F64)
    compact = [
        betainc(a, b, x),
        betaincc(a, b, x),
        gammainc(ga, gx),
        betaincinv(a, b, p),
        gammaincinv(a, p),
    ]
    monkeypatch.setattr(special, "_compact", lambda t: False)
    masked = [
        betainc(a, b, x),
        betaincc(a, b, x),
        gammainc(ga, gx),
        betaincinv(a, b, p),
        gammaincinv(a, p),
    ]
    for c, m in zip(compact, masked):
        torch.testing.assert_close(c, m, rtol=1e-13, atol=0)


def test_blocks_equal_one_pass(monkeypatch):
    rng = np.random.default_rng(5)
    a, b = 10 ** rng.uniform(-3, 6, (2, 5000))
    x = rng.random(5000)
    args = t64(a, b, x)
    whole = betainc(*args)
    monkeypatch.setattr(special, "_BLOCK", 700)
    torch.testing.assert_close(betainc(*args), whole, rtol=0, atol=0)
    # the rarer regimes (series, Temme), gathered from all blocks, land where the masked
    # evaluation puts them
    assert special._compact(args[0])
    monkeypatch.setattr(special, "_compact", lambda t: False)
    torch.testing.assert_close(betaincc(*args), 1 - whole, rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(betainc(*args), whole, rtol=1e-13, atol=0)


def test_inverses_stop_early_without_losing_digits(monkeypatch):
    # eager CPU code stops updating an element after a small Halley (or tiny Newton) step; every
    # step on every element (the torch.compile / CUDA path) gives the same roots
    rng = np.random.default_rng(6)
    n = 4000
    a, b = 10 ** rng.uniform(-1, 6, (2, n))
    p = np.where(rng.random(n) < 0.5, rng.random(n), 10 ** rng.uniform(-300, 0, n))
    args = t64(a, b, p)
    early = [betaincinv(*args), betainccinv(*args), gammaincinv(args[0], args[2])]
    monkeypatch.setattr(special, "_compact", lambda t: False)
    full = [betaincinv(*args), betainccinv(*args), gammaincinv(args[0], args[2])]
    for e, f in zip(early, full):
        # the iterate is t = ln x: for x near 1e-240, one unit in the last place of t is 1e-13
        torch.testing.assert_close(e, f, rtol=3e-13, atol=0)


@pytest.mark.slow
def test_torch_compile_fullgraph():
    a, b, x = t64([0.5, 2.0, 300.0], [0.7, 3.0, 400.0], [0.3, 0.6, 0.43])
    for fn, args in ((betainc, (a, b, x)), (gammaincc, (a, x * 10))):
        compiled = torch.compile(fn, fullgraph=True, backend="eager")
        torch.testing.assert_close(compiled(*args), fn(*args), rtol=1e-15, atol=0)
