"""Count families (Binomial, Geometric, NegativeBinomial, Poisson): accuracy against SciPy and
mpmath at extreme parameters, boundary values, the saddle-point/plain split, tails and
quantiles, sampling (goodness of fit, generators, huge parameters) and KL divergences."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as st
import torch
import torch.distributions as td

from torchprob.discrete.bernoulli import Bernoulli
from torchprob.discrete.binomial import Binomial
from torchprob.discrete.geometric import Geometric
from torchprob.discrete.negative_binomial import NegativeBinomial
from torchprob.discrete.poisson import Poisson, _table_log_pmf
from torchprob.kl import kl_divergence

F64 = torch.float64
mp.mp.dps = 40
PROBS = [1e-12, 1e-3, 0.3, 0.5, 0.97, 1 - 1e-12]
LOGITS = [-50.0, -3.0, 0.0, 3.0, 50.0]
RATES = [1e-8, 1e-3, 0.5, 3.0, 63.9, 64.5, 100.0, 1e3, 1e4, 1e6, 1e8]


def t(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=F64)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def assert_rel(actual, expected, rtol: float = 1e-12) -> None:
    """Relative agreement, with infinities equal and no NaN where the reference is finite."""
    a = np.asarray(actual.detach() if isinstance(actual, torch.Tensor) else actual, float)
    e = np.broadcast_to(np.asarray(expected, float), a.shape)
    assert not np.isnan(a[np.isfinite(e)]).any(), "NaN where the value is finite"
    inf = np.isinf(e)
    assert (a[inf] == e[inf]).all(), (a[inf], e[inf])
    finite = ~inf
    diff = np.abs(a[finite] - e[finite])
    err = np.where(diff <= 1e-290, 0.0, diff / np.maximum(np.abs(e[finite]), 1e-300))
    assert err.max(initial=0) <= rtol, (err.max(), a[finite][err.argmax()], e[finite][err.argmax()])


# --------------------------------------------------------------------------------------------
# mpmath references (parameters taken exactly as the float64 numbers the tests pass)
# --------------------------------------------------------------------------------------------


def mp_pq(probs=None, logits=None):
    if logits is not None:
        lg = mp.mpf(logits)
        return 1 / (1 + mp.exp(-lg)), 1 / (1 + mp.exp(lg))
    p = mp.mpf(probs)
    return p, 1 - p


def mp_xlog(a, x):
    return mp.mpf(0) if a == 0 else (-mp.inf if x == 0 else a * mp.log(x))


def mp_binom(k, n, p, q):
    if k < 0 or k > n:
        return -mp.inf
    choose = mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)
    return choose + mp_xlog(k, p) + mp_xlog(n - k, q)


def mp_nbinom(k, r, p, q):
    r = mp.mpf(r)
    if r == 0:
        return mp.mpf(0) if k == 0 else -mp.inf
    return mp.loggamma(k + r) - mp.loggamma(r) - mp.loggamma(k + 1) + mp_xlog(k, p) + r * mp.log(q)


def mp_poisson(k, rate):
    rate = mp.mpf(rate)
    if rate == 0:
        return mp.mpf(0) if k == 0 else -mp.inf
    return k * mp.log(rate) - rate - mp.loggamma(k + 1)


def mp_entropy(log_pmf, ks) -> float:
    total = mp.mpf(0)
    for k in ks:
        lp = log_pmf(k)
        if lp != -mp.inf:
            total -= mp.exp(lp) * lp
    return float(total)


def spread_points(mean: float, sd: float, top: float = math.inf) -> list[int]:
    """Counts at the ends, around the mean and far in both tails."""
    raw = [0, 1, 2, 5, mean, mean + 1, mean - 3 * sd, mean + 3 * sd, mean - 12 * sd]
    raw += [mean + 12 * sd, mean + 40 * sd + 10, top - 1, top]
    return sorted({int(x) for x in raw if 0 <= x <= top and math.isfinite(x)})


# --------------------------------------------------------------------------------------------
# log_prob, entropy, mean, variance over grids of extreme parameters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 10, 64, 65, 1000, 10**6, 10**8])
@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_binomial_log_prob_grid(n, kind):
    for par in PROBS if kind == "probs" else LOGITS:
        d = Binomial(t(n), **{kind: t(par)})
        p, q = mp_pq(**{kind: par})
        mean, sd = float(n * p), float(mp.sqrt(n * p * q))
        ks = spread_points(mean, sd, n)
        expected = [float(mp_binom(k, n, p, q)) for k in ks]
        assert_rel(d.log_prob(t(ks)), expected, 1e-12)
        if kind == "probs" and n <= 10**6:  # SciPy's binom pmf (Boost) is exact here too
            ref = st.binom(n, par).pmf(ks)
            ok = (ref > 1e-300) & (ref < 0.5)  # log(pmf) of a pmf near 1 loses digits
            assert_rel(d.log_prob(t(ks))[torch.as_tensor(ok)], np.log(ref[ok]), 1e-12)


@pytest.mark.parametrize("r", [0.0, 1e-3, 0.5, 3.0, 60.0, 1e3, 1e6, 1e8])
@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_negative_binomial_log_prob_grid(r, kind):
    values = [0.0, 1e-12, 0.3, 0.5, 0.97] if kind == "probs" else [-50.0, -3.0, 0.0, 3.0, 20.0]
    for par in values:
        d = NegativeBinomial(t(r), **{kind: t(par)})
        p, q = mp_pq(**{kind: par})
        mean, sd = float(r * p / q), float(mp.sqrt(r * p) / q)
        ks = spread_points(mean, sd)
        # The inputs' rounding (p and 1 - p are separate floats) bounds agreement at r = 1e8.
        rtol = 1e-12 if r < 1e8 else 1e-11
        assert_rel(d.log_prob(t(ks)), [float(mp_nbinom(k, r, p, q)) for k in ks], rtol)


def test_poisson_log_prob_grid():
    for rate in RATES + [0.0]:
        sd = math.sqrt(rate)
        ks = spread_points(rate, sd)
        got = Poisson(t(rate)).log_prob(t(ks))
        assert_rel(got, [float(mp_poisson(k, rate)) for k in ks], 1e-12)
        if rate <= 1e3:  # SciPy's logpmf is exact up to here
            assert_rel(got, st.poisson(rate).logpmf(ks), 1e-12)


def test_geometric_log_prob_grid():
    ks = [0, 1, 2, 10, 1000, 10**6, 10**12]
    for p in PROBS + [1.0]:
        ref = [float(mp_xlog(k, 1 - mp.mpf(p)) + mp.log(p)) for k in ks]
        assert_rel(Geometric(t(p)).log_prob(t(ks)), ref, 1e-12)
        if p < 1:
            assert_rel(Geometric(t(p)).log_prob(t(ks)), st.geom(p, loc=-1).logpmf(ks), 1e-12)
    for lg in LOGITS + [-700.0, 700.0]:
        p, q = mp_pq(logits=lg)
        ref = [float(k * mp.log(q) + mp.log(p)) for k in ks]
        assert_rel(Geometric(logits=t(lg)).log_prob(t(ks)), ref, 1e-12)


def test_entropy_mean_variance_grid():
    # Binomial: SciPy's entropy sums entr(pmf) over the support, exact unless a pmf is near 1
    # (entr(1 - d) ~ d is ill-conditioned there): mpmath for the extreme probabilities.
    for n in (1, 10, 1000, 10**5):
        for p in PROBS:
            d = Binomial(t(n), t(p))
            exact_p = mp.mpf(p)
            if 1e-3 <= p <= 0.97:
                assert_rel(d.entropy(), st.binom(n, p).entropy(), 1e-12)
            else:
                mean, sd = float(n * exact_p), math.sqrt(n * p * (1 - p))
                ks = range(max(0, int(mean - 20 * sd - 20)), min(n, int(mean + 20 * sd + 20)) + 1)
                ref = mp_entropy(lambda k, n=n, p=exact_p: mp_binom(k, n, p, 1 - p), ks)
                assert_rel(d.entropy(), ref, 1e-12)
            assert_rel(d.mean, float(n * exact_p), 1e-15)
            assert_rel(d.variance, float(n * exact_p * (1 - exact_p)), 1e-14)
    for lg in LOGITS:
        p, q = mp_pq(logits=lg)
        d = Binomial(t(1000), logits=t(lg))
        assert_rel(d.variance, float(1000 * p * q), 1e-14)
        sd = math.sqrt(1000 * p * q)
        ks = range(
            max(0, int(1000 * p - 20 * sd - 20)), min(1000, int(1000 * p + 20 * sd + 20)) + 1
        )
        assert_rel(d.entropy(), mp_entropy(lambda k, p=p, q=q: mp_binom(k, 1000, p, q), ks), 1e-12)
    # Geometric: closed forms.
    for p in PROBS + [1.0]:
        exact_p = mp.mpf(p)
        d = Geometric(t(p))
        h = -(mp_xlog(exact_p, exact_p) + mp_xlog(1 - exact_p, 1 - exact_p)) / exact_p
        assert_rel(d.entropy(), float(h), 1e-12)
        assert_rel(d.mean, float((1 - exact_p) / exact_p), 1e-15)
        assert_rel(d.variance, float((1 - exact_p) / exact_p**2), 1e-15)
    for lg in LOGITS + [-800.0, 800.0]:
        p, q = mp_pq(logits=lg)
        d = Geometric(logits=t(lg))
        log_p, log_q = -mp.log1p(mp.exp(-mp.mpf(lg))), -mp.log1p(mp.exp(mp.mpf(lg)))
        assert_rel(d.entropy(), float(-log_p - mp.exp(-mp.mpf(lg)) * log_q), 1e-12)
        assert_rel(d.mean, float(q / p), 1e-14)
    # Poisson: exact sums below rate 60, the asymptotic series above (checked at both sides).
    for rate in [1e-8, 0.5, 10.0, 59.9, 60.0, 60.1, 200.0, 1e3]:
        lo, hi = (
            max(0, int(rate - 40 * math.sqrt(rate) - 40)),
            int(rate + 40 * math.sqrt(rate) + 40),
        )
        ref = mp_entropy(lambda k, rate=rate: mp_poisson(k, rate), range(lo, hi + 1))
        assert_rel(Poisson(t(rate)).entropy(), ref, 1e-13)
    for rate in [1e4, 1e8]:
        x = mp.mpf(rate)
        ref = mp.log(2 * mp.pi * mp.e * x) / 2 - 1 / (12 * x) - 1 / (24 * x**2) - 19 / (360 * x**3)
        assert_rel(Poisson(t(rate)).entropy(), float(ref), 1e-15)
    assert Poisson(t(0.0)).entropy().item() == 0.0
    # NegativeBinomial: exact sums (torch has no entropy).
    for r, p in [(1e-3, 0.99), (0.5, 0.3), (3.0, 1e-12), (20.0, 0.9), (1e4, 0.5)]:
        exact_p = mp.mpf(p)
        d = NegativeBinomial(t(r), t(p))
        mean, sd = float(r * exact_p / (1 - exact_p)), float(mp.sqrt(r * exact_p) / (1 - exact_p))
        ks = range(max(0, int(mean - 15 * sd)), int(mean + 15 * sd + 80 / (1 - p)) + 40)
        ref = mp_entropy(lambda k, r=r, p=exact_p: mp_nbinom(k, r, p, 1 - p), ks)
        assert_rel(d.entropy(), ref, 1e-12)
        assert_rel(d.mean, float(r * exact_p / (1 - exact_p)), 1e-15)
        assert_rel(d.variance, float(r * exact_p / (1 - exact_p) ** 2), 1e-15)


def test_per_element_formula_choice():
    """The plain and saddle-point log-pmfs are chosen per element: a value does not depend on
    which other rates, counts or values share the batch."""
    k = t([0.0, 3.0, 50.0])
    alone = Poisson(t(3.0)).log_prob(k)
    mixed = Poisson(t([3.0, 1e3])).log_prob(k[:, None])[:, 0]
    assert torch.equal(alone, mixed)
    alone = Binomial(t(10), t(0.3)).log_prob(t([0.0, 3.0, 10.0]))
    mixed = Binomial(t([10, 1000]), t(0.3)).log_prob(t([[0.0], [3.0], [10.0]]))[:, 0]
    assert torch.equal(alone, mixed)
    alone = NegativeBinomial(t(2.0), t(0.3)).log_prob(t([0.0, 3.0]))
    mixed = NegativeBinomial(t(2.0), t(0.3)).log_prob(t([0.0, 3.0, 1e4]))[:2]
    assert torch.equal(alone, mixed)


# --------------------------------------------------------------------------------------------
# Boundaries and validation
# --------------------------------------------------------------------------------------------


def test_boundary_values_are_exact():
    inf = -math.inf
    assert Binomial(t(5), t(0.0)).log_prob(t([0.0, 1.0, 5.0])).tolist() == [0.0, inf, inf]
    assert Binomial(t(5), t(1.0)).log_prob(t([0.0, 4.0, 5.0])).tolist() == [inf, inf, 0.0]
    assert Binomial(t(0), t(0.3)).log_prob(t(0.0)).item() == 0.0
    assert Binomial(t(500), t(0.0)).log_prob(t([0.0, 7.0])).tolist() == [0.0, inf]
    assert Binomial(t(500), t(1.0)).log_prob(t([499.0, 500.0])).tolist() == [inf, 0.0]
    assert Geometric(t(1.0)).log_prob(t([0.0, 1.0])).tolist() == [0.0, inf]
    assert Geometric(t(1.0)).entropy().item() == 0.0
    nb = NegativeBinomial(t([0.0, 3.0, 300.0]), t([0.5, 0.0, 0.0]))
    assert nb.log_prob(t([[0.0], [2.0]])).tolist() == [[0.0, 0.0, 0.0], [inf, inf, inf]]
    assert Poisson(t(0.0)).log_prob(t([0.0, 1.0, 100.0])).tolist() == [0.0, inf, inf]
    # Out of the support with validation off: -inf, never NaN.
    b = Binomial(t([5, 500]), t(0.3), validate_args=False)
    assert (b.log_prob(t([[-1.0], [501.0]])) == inf).all()
    assert Poisson(t(1e3), validate_args=False).log_prob(t(-1.0)).item() == inf


def test_validation_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"parameter probs .*GreaterThan"):
        Geometric(t(0.0), validate_args=True)
    with pytest.raises(ValueError, match=r"parameter total_count .*IntegerGreaterThan"):
        Binomial(t(2.5), t(0.5), validate_args=True)
    with pytest.raises(ValueError, match=r"parameter probs .*HalfOpenInterval"):
        NegativeBinomial(t(2.0), t(1.0), validate_args=True)
    with pytest.raises(ValueError, match="value argument.*support"):
        Binomial(t(5), t(0.5), validate_args=True).log_prob(t(6.0))
    with pytest.raises(ValueError, match="either|Either"):
        Binomial(t(5))
    Geometric(t(0.0), validate_args=False)  # no error when validation is off


def test_integer_total_count_and_number_probs():
    """torch casts probs=0.3 to the integer 0 next to an integer total_count; we do not."""
    assert Binomial(torch.tensor(10), 0.3).probs.item() == pytest.approx(0.3)
    assert NegativeBinomial(torch.tensor(4), 0.25).mean.item() == pytest.approx(4 / 3)


def test_gradients_of_the_saddle_point_form():
    """Differentiable in every parameter, finite at k = 0 and k = n (the one-term ends)."""
    k = t([0.0, 1.0, 300.0, 999.0, 1000.0])
    probs = t([0.2, 0.7]).requires_grad_()
    torch.autograd.gradcheck(lambda p: Binomial(t(1000), p[:, None]).log_prob(k), (probs,))
    logits = t([-4.0, 2.0]).requires_grad_()
    torch.autograd.gradcheck(
        lambda lg: Binomial(t(1000), logits=lg[:, None]).log_prob(k), (logits,)
    )
    rate = t([80.0, 1e3]).requires_grad_()
    torch.autograd.gradcheck(lambda r: Poisson(r[:, None]).log_prob(k), (rate,))
    count = t([0.7, 250.0]).requires_grad_()
    nb_probs = t([0.3, 0.8]).requires_grad_()
    torch.autograd.gradcheck(
        lambda r, p: NegativeBinomial(r[:, None], p[:, None]).log_prob(k), (count, nb_probs)
    )
    # The gradient of a mixed batch (plain and saddle-point elements) is finite everywhere.
    n = t([0.0, 10.0, 1000.0]).requires_grad_()
    p = t([0.3, 0.3, 0.3]).requires_grad_()
    lp = Binomial(n, p, validate_args=False).log_prob(t([0.0, 10.0, 1000.0]))
    grads = torch.autograd.grad(lp.sum(), (n, p))
    assert all(torch.isfinite(g).all() for g in grads)


# --------------------------------------------------------------------------------------------
# cdf, tail functions, icdf
# --------------------------------------------------------------------------------------------

QUANTILES = t([0.0, 1e-300, 1e-12, 1e-3, 0.1, 0.5, 0.9, 0.999, 1 - 1e-12, 1.0])


def check_tails(d, ref, ks, rtol=1e-12, cdf_rtol=None):
    k = t(ks)
    assert_rel(d.cdf(k), ref.cdf(ks), cdf_rtol or rtol)
    assert_rel(d.survival_function(k), ref.sf(ks), cdf_rtol or rtol)
    # SciPy's logcdf/logsf are log(cdf)/log(sf): use each only where it is not near 0 (and
    # log1p(-other tail) there), and only where the tail does not underflow.
    ks = np.asarray(ks)
    cdf, sf = ref.cdf(ks), ref.sf(ks)
    keep = (cdf > 1e-300) & (sf > 1e-300)
    with np.errstate(divide="ignore"):
        log_cdf = np.where(cdf < 0.5, np.log(cdf), np.log1p(-sf))
        log_sf = np.where(sf < 0.5, np.log(sf), np.log1p(-cdf))
    kt = t(ks[keep])
    assert_rel(d.log_cdf(kt), log_cdf[keep], cdf_rtol or 1e-11)
    assert_rel(d.log_survival_function(kt), log_sf[keep], cdf_rtol or 1e-11)


def check_icdf(d, ref):
    """Against SciPy's ppf, and against the definition on the computed cdf (SciPy's ppf is off
    by one at u = 1e-300 for Binomial(1000, 1/2): P(X <= 0) = 9e-302 < u)."""
    u = QUANTILES[:-1]  # u = 1 is checked by the callers
    k = d.icdf(u)
    below = torch.where(k > 0, d.cdf((k - 1).clamp(min=0)), 0.0)
    assert (d.cdf(k) >= u).all()
    # where the float cdf resolves the step at k (not where it is flat at 1 - 1e-12)
    resolved = (d.cdf(k) > below) & (u > 0)
    assert (below[resolved] < u[resolved]).all()
    expected = ref.ppf(u.numpy())
    expected[0] = 0.0  # the smallest value of the support (SciPy says -1)
    assert k[2:].tolist() == expected[2:].tolist()


@pytest.mark.parametrize(
    "n, p", [(10, 0.3), (1000, 1e-12), (1000, 0.5), (1000, 1 - 1e-12), (10**6, 0.3)]
)
def test_binomial_tails_and_quantiles(n, p):
    d, ref = Binomial(t(n), t(p)), st.binom(n, p)
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    check_tails(d, ref, spread_points(mean, sd, n))
    check_icdf(d, ref)
    assert d.icdf(t(1.0)).item() <= n


@pytest.mark.parametrize("r, p", [(0.5, 0.3), (3.0, 0.5), (1e-3, 0.99), (100.0, 0.999), (1e6, 0.3)])
def test_negative_binomial_tails_and_quantiles(r, p):
    d, ref = NegativeBinomial(t(r), t(p)), st.nbinom(r, 1 - p)
    check_tails(d, ref, spread_points(ref.mean(), ref.std()), rtol=1e-11)
    check_icdf(d, ref)
    assert d.icdf(t(1.0)).item() == math.inf


@pytest.mark.parametrize("rate", [1e-8, 0.5, 10.0, 1e3, 1e6])
def test_poisson_tails_and_quantiles(rate):
    d, ref = Poisson(t(rate)), st.poisson(rate)
    # torch.special.gammaincc/gammainc lose digits at large arguments (~1e-10 at 1e3)
    check_tails(d, ref, spread_points(rate, math.sqrt(rate)), cdf_rtol=1e-9)
    check_icdf(d, ref)
    assert d.icdf(t(1.0)).item() == math.inf


@pytest.mark.parametrize("p", [1e-12, 0.3, 1 - 1e-12])
def test_geometric_tails_and_quantiles(p):
    d, ref = Geometric(t(p)), st.geom(p, loc=-1)
    check_tails(d, ref, [0, 1, 2, 5, 100, 10**6, 10**13])
    check_icdf(d, ref)
    zero = Geometric(logits=t(20.0)).icdf(t(0.3))
    assert zero.item() == 0 and math.copysign(1.0, zero.item()) == 1.0  # +0, never -0


@pytest.mark.parametrize(
    "d",
    [
        Geometric(t([1e-3, 0.3, 0.97])),
        Geometric(logits=t([-6.0, 0.0, 4.0])),
        Poisson(t([1e-3, 2.5, 80.0, 3000.0])),
        NegativeBinomial(t([0.5, 4.0, 60.0]), t([0.2, 0.6, 0.95])),
        NegativeBinomial(t(2.0), logits=t([-3.0, 2.0])),
        Binomial(t([3, 70, 2000]), t([0.2, 0.5, 0.999])),  # inhomogeneous counts
    ],
    ids=lambda d: type(d).__name__,
)
def test_cdf_icdf_roundtrip(d):
    """``icdf(cdf(k)) == k`` wherever the computed cdf steps up, over a range of integers that
    covers each batch member's mass."""
    hi = float((d.mean + 15 * d.stddev + 50).max())
    k = torch.arange(0.0, hi, dtype=F64).reshape((-1,) + (1,) * len(d.batch_shape))
    k = torch.minimum(k, d.support.upper_bound) if hasattr(d.support, "upper_bound") else k
    cdf = d.cdf(k.expand((-1,) + d.batch_shape))
    steps = cdf > torch.cat([torch.zeros_like(cdf[:1]), cdf[:-1]])
    if not d.has_enumerate_support:  # an unbounded support: icdf(1) = inf, not where cdf rounds
        steps &= cdf < 1
    assert torch.equal(d.icdf(cdf)[steps], k.expand_as(cdf)[steps])


def test_binomial_inhomogeneous_total_count():
    n = t([5, 40, 700])
    d = Binomial(n, t([0.3, 0.6, 0.01]))
    with pytest.raises(NotImplementedError, match="Inhomogeneous"):
        d.enumerate_support()
    ref = st.binom(n.numpy(), [0.3, 0.6, 0.01])
    assert_rel(d.entropy(), ref.entropy(), 1e-12)
    ks = t([[0.0], [3.0], [5.0]])
    assert_rel(d.cdf(ks), ref.cdf(ks.numpy()), 1e-12)
    assert_rel(d.log_prob(ks), np.log(ref.pmf(ks.numpy())), 1e-12)


def test_binomial_huge_count():
    """n = 1e8: log_prob against mpmath, cdf against SciPy (Boost), quantiles."""
    n, p = 10**8, 0.3
    d, ref = Binomial(t(n), t(p)), st.binom(n, p)
    ks = [0, 1, 29_990_000, 30_000_000, 30_004_000, n - 1, n]
    exact = [float(mp_binom(k, n, mp.mpf(p), 1 - mp.mpf(p))) for k in ks]
    assert_rel(d.log_prob(t(ks)), exact, 1e-12)
    # cdf rtol: the condition number of the cdf in p is ~1e4 here
    assert_rel(d.cdf(t(ks[2:5])), ref.cdf(ks[2:5]), 1e-10)
    assert d.icdf(t([0.5])).item() == ref.ppf(0.5)


# --------------------------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------------------------


def chi_square_pvalue(draws: np.ndarray, cdf, cuts: np.ndarray) -> float:
    """Chi-square over the bins ``[0, c_1), [c_1, c_2), ..., [c_m, inf)`` of integers, with
    their exact masses."""
    cuts = cuts[cuts > 0]
    observed = np.bincount(np.searchsorted(cuts, draws, side="right"), minlength=len(cuts) + 1)
    expected = np.diff(np.concatenate([[0.0], cdf(cuts - 1), [1.0]])) * len(draws)
    return st.chisquare(observed, expected).pvalue


@pytest.mark.slow
@pytest.mark.parametrize(
    "d, ref",
    [
        (Poisson(t(0.7)), st.poisson(0.7)),
        (Poisson(t(40.0)), st.poisson(40.0)),
        (Poisson(t(1e7)), st.poisson(1e7)),
        (Geometric(t(0.2)), st.geom(0.2, loc=-1)),
        (Geometric(logits=t(-9.0)), st.geom(1 / (1 + math.exp(9.0)), loc=-1)),
        (NegativeBinomial(t(3.0), t(0.4)), st.nbinom(3.0, 0.6)),
        (NegativeBinomial(t(1e-2), t(0.999)), st.nbinom(1e-2, 1e-3)),
        (NegativeBinomial(t(5e5), logits=t(1.0)), st.nbinom(5e5, 1 / (1 + math.e))),
        (Binomial(t(10**8), t(0.3)), st.binom(10**8, 0.3)),
    ],
    ids=lambda x: type(x).__name__ if not hasattr(x, "dist") else "",
)
def test_goodness_of_fit(d, ref):
    """20000 draws, fixed seed, 40 equiprobable-ish bins; p > 1e-6 never flakes."""
    draws = d.sample((20000,), generator=gen(11)).numpy()
    bins = np.unique(ref.ppf(np.linspace(0.0, 1.0, 41)[1:-1]))
    assert chi_square_pvalue(draws, ref.cdf, bins) > 1e-6


def test_huge_parameters_sample():
    """Rates beyond torch.poisson's int64 range, NegativeBinomial means of 1e21, counts of
    1e8: no overflow, the right mean and spread."""
    n = 4000
    for rate in (1e8, 1e20):
        x = Poisson(t(rate)).sample((n,), generator=gen(3))
        z = (x.mean() - rate) / math.sqrt(rate / n)
        assert abs(z) < 6 and abs(x.var() / rate - 1) < 0.2
    d = NegativeBinomial(t(1.0), logits=t(49.0))  # mean e^49 = 1.9e21
    x = d.sample((n,), generator=gen(4))
    assert torch.isfinite(x).all() and (x >= 0).all()
    assert abs(x.mean() / d.mean - 1) < 6 / math.sqrt(n)
    assert NegativeBinomial(t(0.0), t(0.5)).sample((5,)).eq(0).all()
    x = Binomial(t(10**8), logits=t(-50.0)).sample((n,), generator=gen(5))
    assert x.eq(0).all()


def test_sample_shapes_dtypes_and_generator():
    for d in (
        Binomial(t([[5], [9]]), t([0.2, 0.9])),
        Geometric(logits=t([[1.0, -1.0]])),
        NegativeBinomial(t([2.0, 0.5]), t(0.3)),
        Poisson(t([1.0, 1e20])),
    ):
        a = d.sample((3, 2), generator=gen(9))
        assert a.shape == (3, 2) + d.batch_shape and a.dtype == F64
        assert torch.equal(a, d.sample((3, 2), generator=gen(9)))
        assert d.support.check(a).all()


# --------------------------------------------------------------------------------------------
# KL divergences
# --------------------------------------------------------------------------------------------


def test_kl_pairs_match_torch():
    g = gen(2)
    probs = torch.rand(6, generator=g, dtype=F64) * 0.9 + 0.05
    other = torch.rand(6, generator=g, dtype=F64) * 0.9 + 0.05
    rate, rate_q = probs * 7, other * 3
    n = torch.full((6,), 12.0, dtype=F64)
    pairs = [
        (Binomial(n, probs), Binomial(n, other), td.Binomial(n, probs), td.Binomial(n, other)),
        (Geometric(probs), Geometric(other), td.Geometric(probs), td.Geometric(other)),
        (Poisson(rate), Poisson(rate_q), td.Poisson(rate), td.Poisson(rate_q)),
        (Bernoulli(probs), Poisson(rate), td.Bernoulli(probs), td.Poisson(rate)),
        (Poisson(rate), Binomial(n, other), td.Poisson(rate), td.Binomial(n, other)),
        (Poisson(rate), Bernoulli(other), td.Poisson(rate), td.Bernoulli(other)),
        (
            Binomial(n + 1, probs),
            Binomial(n, other),
            td.Binomial(n + 1, probs),
            td.Binomial(n, other),
        ),
    ]
    for p, q, tp, tq in pairs:
        ours, theirs = kl_divergence(p, q), td.kl_divergence(tp, tq)
        assert_rel(ours, theirs.numpy(), 1e-12)


def test_kl_exact_cases():
    # Nearly equal parameters: no cancellation (torch loses most digits here).
    lam = mp.mpf(3.0)
    lam_q = mp.mpf(3.0 * (1 + 1e-9))
    ref = lam * mp.log(lam / lam_q) + lam_q - lam
    assert_rel(kl_divergence(Poisson(t(3.0)), Poisson(t(3.0 * (1 + 1e-9)))), float(ref), 1e-9)
    p, q = mp.mpf(0.3), mp.mpf(0.3 * (1 + 1e-9))
    bern = p * mp.log(p / q) + (1 - p) * mp.log((1 - p) / (1 - q))
    got = kl_divergence(Geometric(t(0.3)), Geometric(t(float(q))))
    assert_rel(got, float(bern / p), 1e-6)
    got = kl_divergence(Binomial(t(50), t(0.3)), Binomial(t(50), t(float(q))))
    assert_rel(got, float(50 * bern), 1e-6)
    # Boundaries: point masses and impossible outcomes.
    assert kl_divergence(Poisson(t(0.0)), Poisson(t(2.0))).item() == 2.0
    assert kl_divergence(Poisson(t(0.0)), Poisson(t(0.0))).item() == 0.0
    assert kl_divergence(Poisson(t(1.0)), Poisson(t(0.0))).item() == math.inf
    assert kl_divergence(Geometric(t(1.0)), Geometric(t(0.5))).item() == pytest.approx(math.log(2))
    assert kl_divergence(Geometric(t(0.5)), Geometric(t(1.0))).item() == math.inf
    assert kl_divergence(Poisson(t(2.0)), Binomial(t(5), t(0.5))).item() == math.inf
    point = kl_divergence(Poisson(t(0.0)), Binomial(t(5), t(0.5))).item()
    assert point == pytest.approx(5 * math.log(2))
    assert kl_divergence(Binomial(t(6), t(0.0)), Binomial(t(5), t(0.5))).item() == pytest.approx(
        5 * math.log(2)
    )
    assert kl_divergence(Bernoulli(t(0.5)), Poisson(t(0.0))).item() == math.inf


def test_kl_binomial_fewer_trials():
    """n_p < n_q, where torch raises: the exact sum over p's support."""
    p, q = Binomial(t([4, 30]), t([0.3, 0.7])), Binomial(t([9, 31]), t([0.5, 0.6]))
    k = torch.arange(31, dtype=F64)[:, None]
    lp = Binomial(p.total_count, p.probs, validate_args=False).log_prob(k)
    lq = Binomial(q.total_count, q.probs, validate_args=False).log_prob(k)
    ref = torch.where(lp > -math.inf, lp.exp() * (lp - lq), 0.0).sum(0)
    assert_rel(kl_divergence(p, q), ref.numpy(), 1e-12)
    with pytest.raises(NotImplementedError):
        td.kl_divergence(td.Binomial(t(4), t(0.3)), td.Binomial(t(9), t(0.5)))


# --------------------------------------------------------------------------------------------
# The device paths (no host reads), exercised on the CPU
# --------------------------------------------------------------------------------------------


def test_device_paths_give_the_same_values(monkeypatch):
    """Off the CPU nothing is read on the host: every elementwise choice is a ``where`` over
    both branches. Forcing that path here must give the same values bit for bit (the cdf: to
    1e-12, as off the CPU it always takes the incomplete beta function, not the window)."""
    import torchprob.discrete.poisson as poisson_module

    cases = [
        (Poisson(t([0.0, 3.0, 80.0, 1e6])), t([[0.0], [2.0], [75.0], [1e6]])),
        (Binomial(t([5, 70, 10**6]), t([0.0, 0.3, 0.999])), t([[0.0], [5.0], [3.0]])),
        (Binomial(t([5, 70, 10**6]), logits=t([-40.0, 0.5, 3.0])), t([[0.0], [5.0], [3.0]])),
        (NegativeBinomial(t([0.0, 2.0, 300.0]), t([0.3, 0.0, 0.9])), t([[0.0], [1.0], [40.0]])),
    ]
    expected = []
    for d, k in cases:
        expected.append((d.log_prob(k), d.cdf(k), d.entropy()))
    rates = t([3.0, 1e20])
    draws = Poisson(rates).sample((4,), generator=gen(8))
    monkeypatch.setattr(poisson_module, "_ordinary_cpu", lambda tensor: False)
    for (d, k), (lp, cdf, entropy) in zip(cases, expected):
        assert torch.equal(d.log_prob(k), lp)
        assert_rel(d.cdf(k), cdf.numpy(), 1e-12)
        assert torch.equal(d.entropy(), entropy)
    assert torch.equal(Poisson(rates).sample((4,), generator=gen(8)), draws)
    x = NegativeBinomial(t([3.0, 0.01]), t(0.5)).sample((20000,), generator=gen(6))
    assert abs(x[:, 0].mean().item() - 3.0) < 6 * math.sqrt(6.0 / 20000)


# --------------------------------------------------------------------------------------------
# The routes for many values (a log-pmf table, one fused pass), against the formulas
# --------------------------------------------------------------------------------------------


def _big_cases(dtype):
    scalar = lambda x: torch.tensor(x, dtype=dtype)  # noqa: E731
    return [
        Poisson(scalar(3.0)),
        Poisson(scalar(500.0)),
        Binomial(scalar(10.0), scalar(0.3)),
        Binomial(scalar(200.0), logits=scalar(-1.0)),
        NegativeBinomial(scalar(5.0), scalar(0.3)),
        NegativeBinomial(scalar(0.5), logits=scalar(2.0)),
        Geometric(scalar(0.3)),
        Geometric(logits=scalar(-2.0)),
    ]


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_many_values_match_the_formulas(dtype):
    """From 2**16 values on, ``log_prob`` with one-element parameters looks the log-pmf up in a
    table over ``0..max`` (or takes one fused pass, Geometric): the same values as the
    formulas (which smaller tensors take) to an ulp, non-integers (validation off), negative
    counts, NaN and out-of-support counts included; with a graph to keep, the formulas."""
    g = gen(3)
    n = 5 * 2**15 + 123  # several lookup steps and a short last one
    counts = torch.poisson(torch.full((n,), 3.0, dtype=dtype), generator=g)
    odd = counts.clone()
    odd[7] = 2.5  # a non-integer in the first step only
    with_nan = counts.clone()
    with_nan[2**15 + 1] = math.nan
    shifted = counts.clone()
    shifted[-1] = -1.0
    wide = torch.poisson(torch.full((n,), 480.0, dtype=dtype), generator=g)
    eps = torch.finfo(dtype).eps
    for d in _big_cases(dtype):
        d._validate_args = False
        strided = counts[: 5 * 2**15].reshape(5, -1)[:, 1:]
        for value in (counts, odd, with_nan, shifted, wide, strided):
            got = d.log_prob(value)
            parts = value.reshape(-1).split(2**14)  # below 2**16: the formulas
            ref = torch.cat([d.log_prob(part) for part in parts]).reshape(got.shape)
            assert got.dtype == ref.dtype and got.shape == ref.shape
            assert torch.equal(got.isnan(), ref.isnan())
            finite = torch.isfinite(ref)
            assert torch.equal(got[~finite & ~ref.isnan()], ref[~finite & ~ref.isnan()])
            err = (got - ref)[finite].abs() / ref[finite].abs().clamp(min=1)
            assert err.numel() == 0 or err.max().item() <= 4 * eps, (d, err.max().item())
        d._validate_args = True
        valid = counts.clamp(max=10)
        torch.testing.assert_close(
            d.log_prob(valid), torch.cat([d.log_prob(part) for part in valid.split(2**14)])
        )
    rate = torch.tensor(3.0, dtype=dtype)
    table = _table_log_pmf(counts, lambda k: Poisson(rate).log_prob(k), (rate,), False)
    assert table is not None  # the route the comparisons above exercise
    p = torch.tensor(0.3, dtype=dtype, requires_grad=True)
    d = Binomial(torch.tensor(10.0, dtype=dtype), p)
    lp = d.log_prob(counts.clamp(max=10))
    assert lp.requires_grad
    with torch.no_grad():
        torch.testing.assert_close(d.log_prob(counts.clamp(max=10)), lp.detach())
