"""KL divergence: parity with torch, independent references, extremes, the Bregman rule,
gradients and the dispatch of the registry."""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import pytest
import scipy.integrate as si
import scipy.stats as st
import torch
import torch.distributions as td

import torchprob as tp
from torchprob import kl as tpkl

F64 = torch.float64
INF = math.inf
K = 5  # number of classes of the batched Categorical examples

FAMILIES = ("Normal", "Uniform", "Exponential", "Bernoulli", "Categorical")
CONTINUOUS = ("Normal", "Uniform", "Exponential")
# The parameterizations each family can be built from (the discrete ones have two).
KINDS = {
    "Normal": ("default",),
    "Uniform": ("default",),
    "Exponential": ("default",),
    "Bernoulli": ("probs", "logits"),
    "Categorical": ("probs", "logits"),
}


def t(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=F64)


def registered_pairs(registry, module) -> set[tuple[str, str]]:
    """The ``(p, q)`` names of the registered pairs among the five families of ``module``."""
    classes = {getattr(module, name): name for name in FAMILIES}
    return {(classes[p], classes[q]) for p, q in registry if p in classes and q in classes}


# Read at import time, before any test registers a rule of its own.
PAIRS = sorted(registered_pairs(tpkl._KL_REGISTRY, tp))


def batched_params(name: str, kind: str, shape: tuple[int, ...], seed: int) -> dict:
    """Ordinary random float64 parameters of the family ``name`` with batch ``shape``."""
    g = torch.Generator().manual_seed(seed)

    def randn(*extra: int) -> torch.Tensor:
        return torch.randn(shape + extra, generator=g, dtype=F64)

    if name == "Normal":
        return {"loc": randn(), "scale": randn().exp()}
    if name == "Uniform":
        low = randn()
        return {"low": low, "high": low + randn().exp()}
    if name == "Exponential":
        return {"rate": randn().exp()}
    if name == "Bernoulli":
        logits = 2 * randn()
        return {"logits": logits} if kind == "logits" else {"probs": torch.sigmoid(logits)}
    logits = randn(K)
    return {"logits": logits} if kind == "logits" else {"probs": torch.softmax(logits, -1)}


def parity_cases() -> list:
    cases = []
    for p_name, q_name in PAIRS:
        for p_kind in KINDS[p_name]:
            for q_kind in KINDS[q_name]:
                case_id = f"{p_name}[{p_kind}]-{q_name}[{q_kind}]"
                cases.append(pytest.param(p_name, p_kind, q_name, q_kind, id=case_id))
    return cases


# ------------------------------------------------------------------------------------------------
# 1. Parity with torch.distributions
# ------------------------------------------------------------------------------------------------


def test_registered_pairs_match_torch():
    assert set(PAIRS) == registered_pairs(td.kl._KL_REGISTRY, td)
    # Every family has its self-pair.
    assert {(name, name) for name in FAMILIES} <= set(PAIRS)


@pytest.mark.parametrize("p_name,p_kind,q_name,q_kind", parity_cases())
def test_matches_torch(p_name, p_kind, q_name, q_kind):
    p_params = batched_params(p_name, p_kind, (3, 1), seed=1)
    q_params = batched_params(q_name, q_kind, (4,), seed=2)
    actual = tp.kl_divergence(getattr(tp, p_name)(**p_params), getattr(tp, q_name)(**q_params))
    assert actual.shape == (3, 4) and actual.dtype == F64
    assert not actual.isnan().any()
    # Several torch rules (Bernoulli, and those with an infinite branch) fail or return the wrong
    # shape when the two batch shapes broadcast, so torch gets parameters expanded to (3, 4).
    p_full, q_full = expand_params(p_params, 2), expand_params(q_params, 1)
    expected = td.kl_divergence(getattr(td, p_name)(**p_full), getattr(td, q_name)(**q_full))
    torch.testing.assert_close(actual, expected, rtol=1e-10, atol=0)
    # Broadcasting gives the same values as the expanded parameters.
    full = tp.kl_divergence(getattr(tp, p_name)(**p_full), getattr(tp, q_name)(**q_full))
    torch.testing.assert_close(actual, full, rtol=0, atol=0)


def expand_params(params: dict, batch_ndim: int) -> dict:
    """``params`` with their batch dims (the first ``batch_ndim``) expanded to (3, 4)."""
    return {k: v.expand((3, 4) + v.shape[batch_ndim:]) for k, v in params.items()}


def test_parity_cases_cover_infinite_and_finite_uniform():
    """The random Uniform parameters above do exercise both branches of Uniform || Uniform."""
    p = tp.Uniform(**batched_params("Uniform", "default", (3, 1), seed=1))
    q = tp.Uniform(**batched_params("Uniform", "default", (4,), seed=2))
    kl = tp.kl_divergence(p, q)
    assert kl.isinf().any() and kl.isfinite().any()


# ------------------------------------------------------------------------------------------------
# 2. Independent references: quadrature for continuous pairs, exact sums for discrete ones
# ------------------------------------------------------------------------------------------------


def build(name: str, *args) -> tp.Distribution:
    return getattr(tp, name)(*(t(a) for a in args))


def frozen(d: tp.Distribution):
    """The SciPy twin of a scalar continuous torchprob distribution."""
    if isinstance(d, tp.Normal):
        return st.norm(d.loc.item(), d.scale.item())
    if isinstance(d, tp.Uniform):
        return st.uniform(d.low.item(), d.high.item() - d.low.item())
    return st.expon(scale=1 / d.rate.item())


def quad_kl(p: tp.Distribution, q: tp.Distribution) -> float:
    r""":math:`\int p \log(p/q)` by quadrature over p's support; ``inf`` when p puts mass
    where q has no density."""
    sp, sq = frozen(p), frozen(q)
    q_low, q_high = sq.support()
    if sp.cdf(q_low) > 0 or sp.sf(q_high) > 0:
        return INF
    if isinstance(p, tp.Normal):
        low, high = sp.mean() - 40 * sp.std(), sp.mean() + 40 * sp.std()
    elif isinstance(p, tp.Uniform):
        low, high = sp.support()
    else:
        low, high = 0.0, 800 * sp.mean()

    def integrand(x: float) -> float:
        log_p = sp.logpdf(x)
        return math.exp(log_p) * (log_p - sq.logpdf(x))

    points = [sp.mean()] if isinstance(p, tp.Normal) else None
    value, _ = si.quad(integrand, low, high, points=points, epsabs=1e-14, epsrel=1e-12, limit=500)
    return value


CONTINUOUS_CASES = [
    # (p family, p params, q family, q params)
    ("Normal", (0.0, 1.0), "Normal", (0.0, 1.0)),
    ("Normal", (0.3, 0.7), "Normal", (-1.2, 2.5)),
    ("Normal", (2.0, 3.0), "Normal", (1.9, 0.2)),
    ("Normal", (0.0, 1.0), "Uniform", (-5.0, 5.0)),
    ("Normal", (3.0, 0.1), "Exponential", (2.0,)),
    ("Uniform", (0.0, 1.0), "Uniform", (0.0, 1.0)),
    ("Uniform", (0.2, 0.7), "Uniform", (-1.0, 3.0)),
    ("Uniform", (0.0, 1.0), "Uniform", (0.0, 3.0)),  # shared lower end: finite
    ("Uniform", (0.0, 1.0), "Uniform", (0.5, 3.0)),  # sticks out below
    ("Uniform", (0.0, 1.0), "Uniform", (-1.0, 0.9)),  # sticks out above
    ("Uniform", (-1.0, 2.0), "Uniform", (0.0, 1.0)),  # sticks out on both sides
    ("Uniform", (0.0, 1.0), "Uniform", (2.0, 3.0)),  # disjoint
    ("Uniform", (-1.0, 2.0), "Normal", (0.5, 1.5)),
    ("Uniform", (10.0, 10.5), "Normal", (0.0, 1.0)),
    ("Uniform", (0.0, 2.0), "Exponential", (1.5,)),  # starts at the exponential's 0: finite
    ("Uniform", (0.5, 3.0), "Exponential", (0.3,)),
    ("Uniform", (-0.1, 1.0), "Exponential", (1.0,)),  # mass below 0
    ("Exponential", (1.0,), "Exponential", (1.0,)),
    ("Exponential", (0.5,), "Exponential", (3.0,)),
    ("Exponential", (4.0,), "Exponential", (0.25,)),
    ("Exponential", (2.0,), "Normal", (0.0, 1.0)),
    ("Exponential", (0.3,), "Normal", (-1.0, 5.0)),
    ("Exponential", (1.0,), "Uniform", (0.0, 100.0)),
]


def case_id(case) -> str:
    p_name, p_args, q_name, q_args = case
    return f"{p_name}{p_args}-{q_name}{q_args}".replace(" ", "")


@pytest.mark.parametrize("case", CONTINUOUS_CASES, ids=case_id)
def test_continuous_against_quadrature(case):
    p_name, p_args, q_name, q_args = case
    p, q = build(p_name, *p_args), build(q_name, *q_args)
    expected = quad_kl(p, q)
    actual = tp.kl_divergence(p, q)
    assert actual.dtype == F64 and actual.shape == ()
    if math.isinf(expected):
        assert actual.item() == INF
    else:
        assert math.isfinite(actual.item())
        assert actual.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)


def exact_kl(p_masses, q_masses) -> float:
    """:math:`\\sum_k p_k \\log(p_k / q_k)` in 50-digit arithmetic, ``0 log 0 = 0``."""
    with mp.workdps(50):
        total = mp.mpf(0)
        for a, b in zip(p_masses, q_masses):
            if a == 0:
                continue
            if b == 0:
                return INF
            total += a * mp.log(a / b)
        return float(total)


def bernoulli_masses(kind: str, value: float) -> list:
    """``[P(0), P(1)]`` in 50-digit arithmetic, from the parameter as given."""
    with mp.workdps(50):
        x = mp.mpf(value)
        if kind == "probs":
            return [1 - x, x]
        if value == INF:
            return [mp.mpf(0), mp.mpf(1)]
        if value == -INF:
            return [mp.mpf(1), mp.mpf(0)]
        return [1 / (1 + mp.exp(x)), 1 / (1 + mp.exp(-x))]


def categorical_masses(kind: str, values) -> list:
    """The normalized class probabilities, in 50-digit arithmetic."""
    with mp.workdps(50):
        if kind == "probs":
            weights = [mp.mpf(v) for v in values]
        else:
            weights = [mp.mpf(0) if v == -INF else mp.exp(mp.mpf(v)) for v in values]
        total = sum(weights)
        return [w / total for w in weights]


def make_discrete(name: str, kind: str, value) -> tp.Distribution:
    return getattr(tp, name)(**{kind: t(value)})


def masses(name: str, kind: str, value) -> list:
    return (bernoulli_masses if name == "Bernoulli" else categorical_masses)(kind, value)


DISCRETE_CASES = [
    # (family, p kind, p value, q kind, q value)
    ("Bernoulli", "probs", 0.3, "probs", 0.6),
    ("Bernoulli", "probs", 0.3, "probs", 0.3),
    ("Bernoulli", "probs", 0.0, "probs", 0.5),
    ("Bernoulli", "probs", 1.0, "probs", 0.5),
    ("Bernoulli", "probs", 0.0, "probs", 0.0),
    ("Bernoulli", "probs", 1.0, "probs", 1.0),
    ("Bernoulli", "probs", 0.0, "probs", 1e-300),
    ("Bernoulli", "probs", 0.5, "probs", 0.0),  # p has mass on 1, q none
    ("Bernoulli", "probs", 0.5, "probs", 1.0),  # p has mass on 0, q none
    ("Bernoulli", "probs", 1.0, "probs", 0.0),
    ("Bernoulli", "probs", 0.0, "probs", 1.0),
    ("Bernoulli", "probs", 1e-300, "probs", 0.0),
    ("Bernoulli", "probs", 0.2, "probs", 1e-300),
    ("Bernoulli", "logits", 0.7, "logits", -1.3),
    ("Bernoulli", "logits", 0.0, "logits", -50.0),
    ("Bernoulli", "logits", 50.0, "logits", -50.0),
    ("Bernoulli", "logits", 50.0, "logits", 50.0),
    ("Bernoulli", "logits", -50.0, "logits", -50.0),
    ("Bernoulli", "logits", 0.0, "logits", -INF),  # q impossible-one
    ("Bernoulli", "logits", -INF, "logits", 3.0),
    ("Bernoulli", "probs", 0.25, "logits", -2.0),
    ("Bernoulli", "logits", 1.5, "probs", 0.0),
    ("Bernoulli", "probs", 0.0, "logits", -30.0),
    ("Categorical", "probs", [0.2, 0.3, 0.5], "probs", [0.1, 0.1, 0.8]),
    ("Categorical", "probs", [0.0, 0.4, 0.6], "probs", [0.3, 0.3, 0.4]),
    ("Categorical", "probs", [0.2, 0.3, 0.5], "probs", [0.0, 0.5, 0.5]),  # q lacks class 0
    ("Categorical", "probs", [0.0, 0.5, 0.5], "probs", [0.0, 0.2, 0.8]),
    ("Categorical", "probs", [1.0, 0.0, 0.0], "probs", [1.0, 0.0, 0.0]),
    ("Categorical", "probs", [2.0, 3.0, 5.0], "probs", [1.0, 1.0, 1.0]),  # unnormalized
    ("Categorical", "logits", [0.3, -1.0, 2.0], "logits", [1.0, 0.0, -0.5]),
    ("Categorical", "logits", [-INF, 0.0, 1.0], "logits", [-INF, 2.0, 0.0]),
    ("Categorical", "logits", [0.0, 0.0, 0.0], "logits", [-INF, 0.0, 0.0]),
    ("Categorical", "logits", [-INF, 0.0, 0.0], "logits", [0.0, -INF, 0.0]),
    ("Categorical", "logits", [-INF, -INF, 4.0], "logits", [-INF, -INF, -7.0]),
    ("Categorical", "logits", [-INF, 0.0, 0.0], "probs", [0.0, 0.5, 0.5]),
    ("Categorical", "probs", [0.0, 0.5, 0.5], "logits", [1.0, -INF, 0.0]),
    ("Categorical", "logits", [30.0, -30.0, 0.0], "logits", [-30.0, 30.0, 0.0]),
]

# Finite KL reported as infinite: q's mass underflows to exactly 0 (sigmoid/softmax of a finite
# logit) and the rules then treat the outcome as impossible under q.
UNDERFLOW_BUG = (
    "KL finite but returned inf: the Bernoulli/Categorical rules test q.probs == 0 (or == 1), "
    "which also holds for a finite logit whose probability underflows (logits >= 37 in float64, "
    ">= 17 in float32); the impossible-outcome mask should come from q's log-mass (-inf)"
)
UNDERFLOW_CASES = [
    ("Bernoulli", "logits", 0.0, "logits", 50.0),
    ("Bernoulli", "logits", -50.0, "logits", 50.0),
    ("Bernoulli", "logits", 0.0, "logits", -800.0),
    ("Bernoulli", "probs", 0.5, "logits", 40.0),
    ("Categorical", "logits", [0.0, 0.0], "logits", [0.0, -800.0]),
]

# Categorical built from probs computes its logits as log(clamp(probs, eps, 1 - eps)), so a
# class probability below eps gets log(eps) = -36.04 instead of its true log (-46.05 for 1e-20).
CLAMP_BUG = (
    "Categorical KL uses logits = log(clamp(probs, eps)) for a probs-built Categorical, off by "
    "5 nats when a class probability is 1e-20; use the unclamped log of the probs"
)
CLAMP_CASES = [
    ("Categorical", "probs", [0.5, 0.5], "probs", [1 - 1e-20, 1e-20]),
    ("Categorical", "probs", [0.2, 0.8], "probs", [1e-18, 1 - 1e-18]),
]


def discrete_id(case) -> str:
    name, p_kind, p_value, q_kind, q_value = case
    return f"{name}-{p_kind}{p_value}-{q_kind}{q_value}".replace(" ", "")


def discrete_params() -> list:
    cases = DISCRETE_CASES + UNDERFLOW_CASES + CLAMP_CASES
    return [pytest.param(c, id=discrete_id(c)) for c in cases]


@pytest.mark.parametrize("case", discrete_params())
def test_discrete_against_exact_sum(case):
    name, p_kind, p_value, q_kind, q_value = case
    p, q = make_discrete(name, p_kind, p_value), make_discrete(name, q_kind, q_value)
    expected = exact_kl(masses(name, p_kind, p_value), masses(name, q_kind, q_value))
    actual = tp.kl_divergence(p, q)
    assert actual.dtype == F64 and actual.shape == ()
    if math.isinf(expected):
        assert actual.item() == INF
    else:
        assert math.isfinite(actual.item())
        assert actual.item() == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_references_cover_every_registered_pair():
    covered = {(c[0], c[2]) for c in CONTINUOUS_CASES} | {(c[0], c[0]) for c in DISCRETE_CASES}
    assert covered == set(PAIRS)


def test_infinite_cases_batched():
    """Batched, with broadcasting: ``inf`` exactly in the infinite entries, finite elsewhere."""
    p = tp.Uniform(t([[0.0], [-1.0]]), t([[1.0], [0.5]]))  # batch (2, 1)
    q = tp.Uniform(t([-2.0, 0.0, -1.0]), t([2.0, 1.0, 0.5]))  # batch (3,)
    kl = tp.kl_divergence(p, q)
    expected = torch.tensor([[math.log(4.0), 0.0, INF], [math.log(4.0 / 1.5), INF, 0.0]], dtype=F64)
    torch.testing.assert_close(kl, expected, rtol=1e-15, atol=0)

    p = tp.Bernoulli(probs=t([[0.0], [0.5], [1.0]]))
    q = tp.Bernoulli(probs=t([0.0, 0.5, 1.0]))
    kl = tp.kl_divergence(p, q)
    log2 = math.log(2.0)
    expected = torch.tensor([[0.0, log2, INF], [INF, 0.0, INF], [INF, log2, 0.0]], dtype=F64)
    torch.testing.assert_close(kl, expected, rtol=1e-15, atol=0)


# ------------------------------------------------------------------------------------------------
# 3. Extreme parameters
# ------------------------------------------------------------------------------------------------


def mp_kl_normal(p_loc, p_scale, q_loc, q_scale):
    with mp.workdps(60):
        mu_p, s_p, mu_q, s_q = (mp.mpf(x) for x in (p_loc, p_scale, q_loc, q_scale))
        return float(mp.log(s_q / s_p) + (s_p**2 + (mu_p - mu_q) ** 2) / (2 * s_q**2) - 0.5)


def mp_kl_exponential(p_rate, q_rate):
    with mp.workdps(60):
        ratio = mp.mpf(q_rate) / mp.mpf(p_rate)
        return float(ratio - 1 - mp.log(ratio))


def mp_kl_uniform(p_low, p_high, q_low, q_high):
    with mp.workdps(60):
        width_p = mp.mpf(p_high) - mp.mpf(p_low)
        return float(mp.log((mp.mpf(q_high) - mp.mpf(q_low)) / width_p))


def near(x: float, eps: float = 1e-8) -> float:
    return x * (1 + eps)


NEARLY_EQUAL = [
    pytest.param(
        build("Normal", 0.0, 1.0),
        build("Normal", 0.0, near(1.0)),
        mp_kl_normal(0, 1, 0, near(1)),
        id="Normal-scale",
    ),
    pytest.param(
        build("Normal", 0.0, 1.0),
        build("Normal", 1e-8, 1.0),
        mp_kl_normal(0, 1, 1e-8, 1),
        id="Normal-loc",
    ),
    pytest.param(
        build("Normal", 3.0, 1e-3),
        build("Normal", 3.0 + 1e-11, near(1e-3, -1e-8)),
        mp_kl_normal(3.0, 1e-3, 3.0 + 1e-11, near(1e-3, -1e-8)),
        id="Normal-both",
    ),
    pytest.param(
        build("Exponential", 2.0),
        build("Exponential", near(2.0)),
        mp_kl_exponential(2.0, near(2.0)),
        id="Exponential",
    ),
    pytest.param(
        build("Exponential", 7.0),
        build("Exponential", near(7.0, -1e-8)),
        mp_kl_exponential(7.0, near(7.0, -1e-8)),
        id="Exponential-below",
    ),
    pytest.param(
        build("Uniform", 0.0, 1.0),
        build("Uniform", 0.0, near(1.0)),
        mp_kl_uniform(0.0, 1.0, 0.0, near(1.0)),
        id="Uniform",
    ),
]


@pytest.mark.parametrize("p,q,expected", NEARLY_EQUAL)
def test_nearly_equal_continuous(p, q, expected):
    actual = tp.kl_divergence(p, q).item()
    assert 0 < expected < 1e-8
    assert actual == pytest.approx(expected, rel=1e-6, abs=0)


NEAR_DISCRETE_BUG = (
    "KL of nearly equal Bernoulli/Categorical loses its relative accuracy (2.6% off for probs "
    "0.3 vs 0.3 + 1e-8, 45% for a Categorical, negative for logits 49 vs 50): the rules add "
    "p * (log p - log q) terms that cancel; 1 - p for the 0-side mass also loses the tail"
)


@pytest.mark.parametrize(
    "name,p_kind,p_value,q_kind,q_value",
    [
        ("Bernoulli", "probs", 0.3, "probs", 0.3 + 1e-8),
        ("Bernoulli", "logits", 49.0, "logits", 50.0),
        ("Categorical", "probs", [0.3, 0.7], "probs", [0.3 + 1e-8, 0.7 - 1e-8]),
    ],
)
def test_nearly_equal_discrete(name, p_kind, p_value, q_kind, q_value):
    p, q = make_discrete(name, p_kind, p_value), make_discrete(name, q_kind, q_value)
    expected = exact_kl(masses(name, p_kind, p_value), masses(name, q_kind, q_value))
    assert 0 < expected < 1e-12
    assert tp.kl_divergence(p, q).item() == pytest.approx(expected, rel=1e-6, abs=0)


def self_kl_cases() -> list:
    """Ordinary batched parameters of every family plus the extreme ones."""
    cases = []
    for name in FAMILIES:
        for kind in KINDS[name]:
            params = batched_params(name, kind, (6,), seed=3)
            cases.append(pytest.param(getattr(tp, name)(**params), id=f"{name}[{kind}]"))
    extreme = {
        "Bernoulli-probs-0-1": tp.Bernoulli(probs=t([0.0, 1.0, 1e-300, 1 - 1e-16])),
        "Bernoulli-logits-50": tp.Bernoulli(logits=t([-50.0, 50.0, -800.0, 800.0])),
        "Bernoulli-logits-inf": tp.Bernoulli(logits=t([-INF, INF])),
        "Categorical-neg-inf": tp.Categorical(logits=t([[-INF, 0.0, 1.0], [-INF, -INF, 3.0]])),
        "Categorical-zero-probs": tp.Categorical(probs=t([[0.0, 0.2, 0.8], [0.0, 0.0, 1.0]])),
        "Categorical-huge-logits": tp.Categorical(logits=t([[800.0, -800.0, 0.0]])),
        "Normal-tiny-huge": tp.Normal(t([0.0, 1e300, -5.0]), t([1e-300, 1e300, 1e-8])),
        "Exponential-tiny-huge": tp.Exponential(t([1e-300, 1e300])),
        "Uniform-tiny-huge": tp.Uniform(t([0.0, -1e300, 1.0]), t([1e-300, 1e300, 1.0 + 1e-15])),
    }
    cases += [pytest.param(d, id=case) for case, d in extreme.items()]
    return cases


@pytest.mark.parametrize("d", self_kl_cases())
def test_kl_to_itself_is_zero(d):
    kl = tp.kl_divergence(d, d)
    assert kl.shape == d.batch_shape
    assert (kl.abs() <= 1e-15).all(), kl


def test_kl_to_equal_copy_is_zero():
    """Two distinct instances with the same parameters (no shared cached attributes)."""
    for name in FAMILIES:
        for kind in KINDS[name]:
            params = batched_params(name, kind, (2, 3), seed=4)
            p, q = getattr(tp, name)(**params), getattr(tp, name)(**params)
            kl = tp.kl_divergence(p, q)
            assert (kl.abs() <= 1e-15).all(), (name, kind, kl)


def test_bernoulli_extreme_logits_against_mpmath():
    """Logits +-50 given as logits (float64 sigmoid rounds 50 to probability 1 exactly)."""
    values = [-50.0, -20.0, 0.0, 20.0]  # q's logits stay where the rule is exact
    p = tp.Bernoulli(logits=t([-50.0, 50.0]).unsqueeze(-1))
    q = tp.Bernoulli(logits=t(values))
    kl = tp.kl_divergence(p, q)
    for i, a in enumerate([-50.0, 50.0]):
        for j, b in enumerate(values):
            expected = exact_kl(bernoulli_masses("logits", a), bernoulli_masses("logits", b))
            # rel 1e-10, not 1e-12: the rule drops the 0-side term e^-50 (b - 50) (1 - sigmoid(50)
            # rounds to 0), a relative 3e-12 of the KL for b = 20.
            assert kl[i, j].item() == pytest.approx(expected, rel=1e-10, abs=1e-300), (a, b)


def kl_from_log_masses(log_p, log_q) -> float:
    """:math:`\\sum_k p_k \\log(p_k/q_k) - p_k + q_k` with the float log-masses taken as exact:
    the KL of two distributions, each normalized up to its rounding (the :math:`q_k - p_k` make
    the sum independent of that rounding to first order, as the exact KL is)."""
    with mp.workdps(50):
        total = mp.mpf(0)
        for a, b in zip(log_p, log_q):
            if a != -INF and b == -INF:
                return INF
            p = mp.exp(mp.mpf(a)) if a != -INF else mp.mpf(0)
            q = mp.exp(mp.mpf(b)) if b != -INF else mp.mpf(0)
            total += q - p + (p * (mp.mpf(a) - mp.mpf(b)) if a != -INF else 0)
        return float(total)


CATEGORICAL_GAPS = [1e-13, 1e-8, 1e-4, 1e-2, 0.3, 0.6, 3.0, 30.0]


@pytest.mark.parametrize("gap", CATEGORICAL_GAPS, ids=[f"gap{g}" for g in CATEGORICAL_GAPS])
@pytest.mark.parametrize("grad", [False, True], ids=["nograd", "grad"])
def test_categorical_exact_for_its_log_masses(gap, grad):
    """No cancellation at any distance: the KL of the log-probabilities the two distributions
    hold (taken as exact) to a few ulps, from 1e-26 (logits 1e-13 apart) up; both the in-place
    route (no grad) and the autograd one."""
    g = torch.Generator().manual_seed(11)
    logits_p = 2 * torch.randn(3, 100, generator=g, dtype=F64)
    logits_q = logits_p + gap * torch.randn(3, 100, generator=g, dtype=F64)
    logits_q[0, :3] = -INF  # classes q lacks ...
    logits_p[0, :3] = -INF  # ... and so does p: 0 contributions
    p = tp.Categorical(logits=logits_p.requires_grad_(grad))
    q = tp.Categorical(logits=logits_q)
    kl = tp.kl_divergence(p, q)
    for i in range(3):
        expected = kl_from_log_masses(p.logits[i].tolist(), q.logits[i].tolist())
        assert 0 < expected < INF
        assert kl[i].item() == pytest.approx(expected, rel=1e-14, abs=0), i


@pytest.mark.parametrize("gap", [1e-6, 1e-3, 0.3, 3.0, 30.0])
def test_categorical_float32_exact_for_its_log_masses(gap):
    g = torch.Generator().manual_seed(12)
    logits_p = 2 * torch.randn(4, 100, generator=g)
    logits_q = logits_p + gap * torch.randn(4, 100, generator=g)
    p, q = tp.Categorical(logits=logits_p), tp.Categorical(logits=logits_q)
    kl = tp.kl_divergence(p, q)
    assert kl.dtype == torch.float32
    for i in range(4):
        expected = kl_from_log_masses(p.logits[i].tolist(), q.logits[i].tolist())
        assert kl[i].item() == pytest.approx(expected, rel=4e-6, abs=0), i  # 34 ulps


def test_categorical_nearly_equal_logits_against_mpmath():
    """From the logits as given (the normalization by logsumexp rounds each log-probability by
    about 1e-16 absolute: the floor for logits 1e-6 apart is a relative 1e-9)."""
    g = torch.Generator().manual_seed(13)
    logits_p = torch.randn(2, 50, generator=g, dtype=F64)
    for gap in (1e-6, 1e-3):
        logits_q = logits_p + gap * torch.randn(2, 50, generator=g, dtype=F64)
        kl = tp.kl_divergence(tp.Categorical(logits=logits_p), tp.Categorical(logits=logits_q))
        for i in range(2):
            expected = exact_kl(
                categorical_masses("logits", logits_p[i].tolist()),
                categorical_masses("logits", logits_q[i].tolist()),
            )
            assert kl[i].item() == pytest.approx(expected, rel=1e-8 if gap < 1e-4 else 1e-11)


@pytest.mark.parametrize(
    "dtype,logits_p,logits_q,expected",
    [
        # p's class 1 underflows to probability 0 but is possible; q lacks it: infinite
        (F64, [0.0, -800.0], [0.0, -INF], INF),
        (torch.float32, [0.0, -200.0], [0.0, -INF], INF),
        (F64, [0.0, -INF, 1.0], [-INF, 0.0, 1.0], INF),
        # p lacks a class q has (even one whose mass underflows): finite
        (F64, [0.0, -INF], [0.0, -800.0], 0.0),  # log(1 + e^-800), below the smallest float
        (F64, [0.0, -INF], [0.0, -2.0], math.log1p(math.exp(-2.0))),
        (torch.float32, [0.0, -INF], [0.0, -200.0], 0.0),
        (F64, [-INF, 0.0], [-INF, 0.0], 0.0),
        (F64, [0.0, -745.0], [0.0, -744.0], 0.0),  # shares of 1e-323: 0 to the last bit
        (F64, [0.0, 0.0], [0.0, -800.0], 400.0 - math.log(2.0)),  # q's mass underflows
        (torch.float32, [0.0, 0.0], [0.0, -120.0], 60.0 - math.log(2.0)),
        (F64, [50.0, -50.0], [-50.0, 50.0], 100.0 * math.tanh(50.0)),
    ],
)
def test_categorical_underflow_and_impossible_classes(dtype, logits_p, logits_q, expected):
    p = tp.Categorical(logits=torch.tensor(logits_p, dtype=dtype))
    q = tp.Categorical(logits=torch.tensor(logits_q, dtype=dtype))
    kl = tp.kl_divergence(p, q).item()
    if expected == INF:
        assert kl == INF
    else:
        rel = 1e-14 if dtype == F64 else 1e-6
        assert kl == pytest.approx(expected, rel=rel, abs=1e-300), kl


def test_categorical_gradient_finite_with_impossible_classes():
    """torch's rule gives NaN gradients here (0 * -inf); ours the exact ones."""
    logits_p = t([[0.1, -0.4, 1.0, -INF]]).requires_grad_()
    logits_q = t([[0.3, -0.4, 1.0, 2.0]]).requires_grad_()
    kl = tp.kl_divergence(tp.Categorical(logits=logits_p), tp.Categorical(logits=logits_q))
    grad_p, grad_q = torch.autograd.grad(kl.sum(), (logits_p, logits_q))
    p, q = torch.softmax(logits_p.detach(), -1), torch.softmax(logits_q.detach(), -1)
    log_ratio = torch.log_softmax(logits_p.detach(), -1) - torch.log_softmax(logits_q, -1).detach()
    terms = torch.where(p > 0, p * log_ratio, 0.0)
    expected_p = terms - p * terms.sum(-1, keepdim=True)  # d KL / d logits_p
    torch.testing.assert_close(grad_p, expected_p, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(grad_q, q - p, rtol=1e-12, atol=1e-15)
    same = tp.kl_divergence(tp.Categorical(logits=logits_p), tp.Categorical(logits=logits_p))
    grad_same = torch.autograd.grad(same.sum(), logits_p)[0]
    assert (grad_same == 0).all()


# ------------------------------------------------------------------------------------------------
# 4. The generic exponential-family (Bregman) rule
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,kind",
    [("Normal", "default"), ("Exponential", "default")]
    + [("Bernoulli", "probs"), ("Bernoulli", "logits")],
)
def test_bregman_rule_matches_closed_form(name, kind):
    cls = getattr(tp, name)
    p = cls(**batched_params(name, kind, (3, 1), seed=5))
    q = cls(**batched_params(name, kind, (4,), seed=6))
    generic = tpkl._kl_expfamily_expfamily(p, q)
    closed = tp.kl_divergence(p, q)
    assert tpkl._KL_MEMOIZE[cls, cls] is not tpkl._kl_expfamily_expfamily
    assert generic.shape == closed.shape == (3, 4)
    assert not generic.requires_grad
    torch.testing.assert_close(generic, closed, rtol=1e-9, atol=1e-13)


def test_bregman_rule_gradients_match_closed_form():
    loc_p, scale_p = t([0.3, -1.0]).requires_grad_(), t([0.5, 2.0]).requires_grad_()
    loc_q, scale_q = t([1.0, 0.0]).requires_grad_(), t([1.5, 0.7]).requires_grad_()
    leaves = (loc_p, scale_p, loc_q, scale_q)
    p, q = tp.Normal(loc_p, scale_p), tp.Normal(loc_q, scale_q)
    generic = torch.autograd.grad(tpkl._kl_expfamily_expfamily(p, q).sum(), leaves)
    closed = torch.autograd.grad(tp.kl_divergence(p, q).sum(), leaves)
    for g, c in zip(generic, closed):
        torch.testing.assert_close(g, c, rtol=1e-10, atol=1e-12)


def test_bregman_rule_gradcheck():
    def fn(loc_p, scale_p, loc_q, scale_q):
        return tpkl._kl_expfamily_expfamily(tp.Normal(loc_p, scale_p), tp.Normal(loc_q, scale_q))

    inputs = (t([0.3, -1.0]), t([0.5, 2.0]), t([1.0, 0.0]), t([1.5, 0.7]))
    assert torch.autograd.gradcheck(fn, tuple(x.requires_grad_() for x in inputs))


@pytest.mark.parametrize(
    "p,q",
    [
        (tp.Normal(t(0.0), t(1.0)), tp.Exponential(t(1.0))),
        (tp.Exponential(t(1.0)), tp.Normal(t(0.0), t(1.0))),
        (tp.Bernoulli(probs=t(0.5)), tp.Normal(t(0.0), t(1.0))),
    ],
    ids=["Normal-Exponential", "Exponential-Normal", "Bernoulli-Normal"],
)
def test_bregman_rule_rejects_different_families(p, q):
    with pytest.raises(NotImplementedError, match=type(p).__name__):
        tpkl._kl_expfamily_expfamily(p, q)


def test_unregistered_exponential_family_pair_dispatches_to_bregman_rule():
    with pytest.raises(NotImplementedError, match="Bernoulli vs Normal"):
        tp.kl_divergence(tp.Bernoulli(probs=t(0.5)), tp.Normal(t(0.0), t(1.0)))


# ------------------------------------------------------------------------------------------------
# 5. Gradients
# ------------------------------------------------------------------------------------------------


def test_gradcheck_normal_normal():
    def fn(loc_p, scale_p, loc_q, scale_q):
        return tp.kl_divergence(tp.Normal(loc_p, scale_p), tp.Normal(loc_q, scale_q))

    inputs = (t([[0.3], [-1.0]]), t([[0.5], [2.0]]), t([1.0, 0.0, 0.2]), t([1.5, 0.7, 1.0]))
    assert torch.autograd.gradcheck(fn, tuple(x.requires_grad_() for x in inputs))


def test_gradcheck_bernoulli_bernoulli_logits():
    def fn(logits_p, logits_q):
        return tp.kl_divergence(tp.Bernoulli(logits=logits_p), tp.Bernoulli(logits=logits_q))

    inputs = (t([[0.3], [-2.0], [4.0]]), t([1.0, -0.5]))
    assert torch.autograd.gradcheck(fn, tuple(x.requires_grad_() for x in inputs))


def test_gradcheck_other_pairs():
    def exponential(rate_p, rate_q):
        return tp.kl_divergence(tp.Exponential(rate_p), tp.Exponential(rate_q))

    def categorical(logits_p, logits_q):
        return tp.kl_divergence(tp.Categorical(logits=logits_p), tp.Categorical(logits=logits_q))

    def uniform_normal(low, high, loc, scale):
        return tp.kl_divergence(tp.Uniform(low, high), tp.Normal(loc, scale))

    def exponential_normal(rate, loc, scale):
        return tp.kl_divergence(tp.Exponential(rate), tp.Normal(loc, scale))

    checks = [
        (exponential, (t([0.5, 2.0]), t([1.5, 0.3]))),
        (categorical, (t([[0.1, -0.4, 1.0]]), t([[0.0, 0.5, -1.0], [2.0, 0.0, 0.3]]))),
        (uniform_normal, (t([0.0, -1.0]), t([1.0, 0.5]), t([0.3, 0.0]), t([1.2, 2.0]))),
        (exponential_normal, (t([0.5, 2.0]), t([0.3, 0.0]), t([1.2, 2.0]))),
    ]
    for fn, inputs in checks:
        assert torch.autograd.gradcheck(fn, tuple(x.requires_grad_() for x in inputs))


def test_bernoulli_gradient_from_probs_at_ordinary_values():
    """From probs (not logits): d KL / d p = log(p/(1-p)) - log(q/(1-q)) and so on."""
    probs_p, probs_q = t([0.2, 0.7]).requires_grad_(), t([0.5, 0.1]).requires_grad_()
    kl = tp.kl_divergence(tp.Bernoulli(probs=probs_p), tp.Bernoulli(probs=probs_q))
    grad_p, grad_q = torch.autograd.grad(kl.sum(), (probs_p, probs_q))
    p, q = probs_p.detach(), probs_q.detach()
    torch.testing.assert_close(grad_p, torch.logit(p) - torch.logit(q), rtol=1e-12, atol=0)
    torch.testing.assert_close(grad_q, (q - p) / (q * (1 - q)), rtol=1e-12, atol=0)


# ------------------------------------------------------------------------------------------------
# 6. Dispatch
# ------------------------------------------------------------------------------------------------


class Normal1(tp.Normal):
    pass


class Normal2(Normal1):
    pass


def rule(value: float):
    """A registrable KL rule returning a recognizable constant."""

    def fn(p, q):
        return torch.full_like(p.loc, value)

    return fn


def std(cls: type = tp.Normal) -> tp.Normal:
    return cls(t(0.0), t(1.0))


@pytest.fixture
def registry():
    """The registry, restored (and the lookup cache cleared) after the test."""
    saved = dict(tpkl._KL_REGISTRY)
    tpkl._KL_MEMOIZE.clear()
    yield tpkl._KL_REGISTRY
    tpkl._KL_REGISTRY.clear()
    tpkl._KL_REGISTRY.update(saved)
    tpkl._KL_MEMOIZE.clear()


def test_most_specific_pair_wins(registry):
    tp.register_kl(Normal1, tp.Normal)(rule(1.0))
    tp.register_kl(Normal2, Normal1)(rule(2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tp.kl_divergence(std(Normal2), std(Normal2)).item() == 2.0
        assert tp.kl_divergence(std(Normal2), std(Normal1)).item() == 2.0
        assert tp.kl_divergence(std(Normal2), std()).item() == 1.0
        assert tp.kl_divergence(std(Normal1), std(Normal2)).item() == 1.0
        assert tp.kl_divergence(std(Normal1), std()).item() == 1.0
        # Nothing more specific than Normal for p: the closed form.
        assert tp.kl_divergence(std(), std(Normal2)).item() == 0.0
        far = tp.Normal(t(1.0), t(1.0))
        assert tp.kl_divergence(far, std(Normal1)).item() == pytest.approx(0.5, rel=1e-15)


def test_ambiguous_pair_warns(registry):
    tp.register_kl(Normal1, tp.Normal)(rule(1.0))
    tp.register_kl(tp.Normal, Normal1)(rule(2.0))
    with pytest.warns(RuntimeWarning, match="Ambiguous"):
        value = tp.kl_divergence(std(Normal1), std(Normal1))
    assert value.item() == 1.0  # the left-lexicographic choice, as torch makes it
    # Registering the specific pair settles it.
    tp.register_kl(Normal1, Normal1)(rule(3.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tp.kl_divergence(std(Normal1), std(Normal1)).item() == 3.0


def test_unambiguous_lookup_does_not_warn(registry):
    tp.register_kl(Normal1, tp.Normal)(rule(1.0))
    tp.register_kl(tp.Normal, Normal1)(rule(2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tp.kl_divergence(std(Normal1), std()).item() == 1.0
        assert tp.kl_divergence(std(), std(Normal1)).item() == 2.0


def test_register_invalidates_cache(registry):
    p, q = tp.Normal(t(1.0), t(1.0)), std(Normal1)
    assert tp.kl_divergence(p, q).item() == pytest.approx(0.5, rel=1e-15)
    assert (tp.Normal, Normal1) in tpkl._KL_MEMOIZE
    tp.register_kl(tp.Normal, Normal1)(rule(7.0))
    assert not tpkl._KL_MEMOIZE
    assert tp.kl_divergence(p, q).item() == 7.0
    # And again once the new lookup is cached.
    tp.register_kl(tp.Normal, Normal1)(rule(8.0))
    assert tp.kl_divergence(p, q).item() == 8.0


def test_register_kl_returns_the_function(registry):
    fn = rule(1.0)
    assert tp.register_kl(Normal1, Normal2)(fn) is fn
    assert registry[Normal1, Normal2] is fn


class Lonely(tp.Distribution):
    arg_constraints: dict = {}


@pytest.mark.parametrize(
    "p,q",
    [
        (tp.Categorical(probs=t([0.5, 0.5])), tp.Normal(t(0.0), t(1.0))),
        (tp.Uniform(t(0.0), t(1.0)), tp.Bernoulli(probs=t(0.5))),
        (Lonely(), tp.Normal(t(0.0), t(1.0))),
        (tp.Exponential(t(1.0)), Lonely()),
    ],
    ids=["Categorical-Normal", "Uniform-Bernoulli", "Lonely-Normal", "Exponential-Lonely"],
)
def test_no_rule_raises_naming_both_types(p, q):
    with pytest.raises(NotImplementedError) as info:
        tp.kl_divergence(p, q)
    message = str(info.value)
    assert type(p).__name__ in message and type(q).__name__ in message
    assert (type(p), type(q)) not in tpkl._KL_MEMOIZE


@pytest.mark.parametrize(
    "type_p,type_q",
    [
        (int, tp.Normal),
        (tp.Normal, object),
        (tp.Normal, "Normal"),
        (std(), tp.Normal),
        (None, tp.Normal),
    ],
    ids=["int", "object", "str", "instance", "None"],
)
def test_register_non_distribution_raises(registry, type_p, type_q):
    before = dict(registry)
    with pytest.raises(TypeError):
        tp.register_kl(type_p, type_q)
    assert registry == before
