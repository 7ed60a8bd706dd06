"""OneHotCategorical(StraightThrough), Multinomial, RelaxedBernoulli, RelaxedOneHotCategorical
(and LogitRelaxedBernoulli, ExpRelaxedCategorical): what the generic suite cannot check."""

from __future__ import annotations

import copy
import itertools
import math
import pickle

import mpmath as mp
import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st
import torch
import torch.distributions as D
from scipy.special import expit, logit
from torch.distributions.relaxed_bernoulli import LogitRelaxedBernoulli as TorchLogitRB
from torch.distributions.relaxed_categorical import ExpRelaxedCategorical as TorchExpRC

from torchprob import kl_divergence
from torchprob.discrete.categorical import Categorical
from torchprob.discrete.multinomial import Multinomial
from torchprob.discrete.one_hot_categorical import (
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from torchprob.discrete.relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
from torchprob.discrete.relaxed_categorical import (
    ExpRelaxedCategorical,
    RelaxedOneHotCategorical,
    _concrete_edges,
    _concrete_log_prob,
)

INF = math.inf


def t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def close(actual, expected, rtol=1e-12, atol=0.0):
    actual = actual.detach().numpy() if isinstance(actual, torch.Tensor) else actual
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------------------------
# Parity with torch.distributions on ordinary parameters
# --------------------------------------------------------------------------------------------

ONE_HOT_PARAMS = [
    {"probs": t([0.2, 0.3, 0.5])},
    {"logits": t([[0.0, 1.0, -2.0, 0.5], [3.0, -1.0, 0.0, 0.0]])},
]


@pytest.mark.parametrize("cls", [OneHotCategorical, OneHotCategoricalStraightThrough])
@pytest.mark.parametrize("params", ONE_HOT_PARAMS)
def test_one_hot_torch_parity(cls, params):
    ours, theirs = cls(**params), getattr(D, cls.__name__)(**params)
    assert (ours.batch_shape, ours.event_shape) == (theirs.batch_shape, theirs.event_shape)
    for expand in (True, False):
        assert torch.equal(ours.enumerate_support(expand), theirs.enumerate_support(expand))
    x = ours.enumerate_support()
    close(ours.log_prob(x), theirs.log_prob(x), rtol=1e-14)
    for name in ("mean", "variance", "mode", "stddev"):
        close(getattr(ours, name), getattr(theirs, name), rtol=1e-14)
    close(ours.entropy(), theirs.entropy(), rtol=1e-14)
    for name in ("probs", "logits", "param_shape", "_param"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b


MULTINOMIAL_PARAMS = [
    (10, {"probs": t([0.2, 0.3, 0.5])}),
    (7, {"logits": t([[0.0, -INF, 1.0, 2.0], [2.0, 0.0, -1.0, 0.5]])}),
    (1000, {"probs": t([[0.1, 0.9], [0.5, 0.5], [1e-3, 1 - 1e-3]])}),
]


@pytest.mark.parametrize(("n", "params"), MULTINOMIAL_PARAMS)
def test_multinomial_torch_parity(n, params):
    ours, theirs = Multinomial(n, **params), D.Multinomial(n, **params)
    assert (ours.batch_shape, ours.event_shape) == (theirs.batch_shape, theirs.event_shape)
    assert ours.total_count == theirs.total_count
    x = ours.sample((50,), generator=gen())
    close(ours.log_prob(x), theirs.log_prob(x), rtol=1e-12, atol=1e-12)
    close(ours.mean, theirs.mean, rtol=1e-14)
    close(ours.variance, theirs.variance, rtol=1e-12)
    # torch's entropy is off (1e-7 relative at n = 10, 6e-5 at n = 1000): SciPy's is exact
    probs = ours.probs.numpy()
    close(ours.entropy(), st.multinomial(n, probs).entropy(), rtol=1e-12)


TEMPERED = [
    (RelaxedBernoulli, D.RelaxedBernoulli, {"temperature": t(0.5), "probs": t(0.3)}),
    (
        RelaxedBernoulli,
        D.RelaxedBernoulli,
        {"temperature": t([0.1, 1.5, 3.0]), "logits": t([-3.0, 0.5, 5.0])},
    ),
    (LogitRelaxedBernoulli, TorchLogitRB, {"temperature": t(0.7), "probs": t([0.1, 0.5, 0.99])}),
    (
        RelaxedOneHotCategorical,
        D.RelaxedOneHotCategorical,
        {"temperature": t(0.5), "probs": t([0.2, 0.3, 0.5])},
    ),
    (
        RelaxedOneHotCategorical,
        D.RelaxedOneHotCategorical,
        {"temperature": t(2.0), "logits": t([[0.0, 1.0, -2.0, 0.5], [3.0, -1.0, 0.0, 0.0]])},
    ),
    (ExpRelaxedCategorical, TorchExpRC, {"temperature": t(0.5), "logits": t([0.0, 1.0, -2.0])}),
]


@pytest.mark.parametrize(("cls", "torch_cls", "params"), TEMPERED)
def test_relaxed_torch_parity(cls, torch_cls, params):
    ours, theirs = cls(**params), torch_cls(**params)
    assert (ours.batch_shape, ours.event_shape) == (theirs.batch_shape, theirs.event_shape)
    x = ours.sample((20,), generator=gen())
    assert x.shape == theirs.sample((20,)).shape
    # torch loses up to 1e-11 relative near y = 0 (ours agrees with mpmath, see below)
    close(ours.log_prob(x), theirs.log_prob(x), rtol=1e-9, atol=1e-12)
    assert torch.equal(ours.temperature, theirs.temperature)
    close(ours.probs, theirs.probs, rtol=1e-14)
    close(ours.logits, theirs.logits, rtol=1e-14)
    if hasattr(theirs, "base_dist"):
        assert type(ours.base_dist).__name__ == type(theirs.base_dist).__name__
        close(ours.base_dist.logits, theirs.base_dist.logits, rtol=1e-14)


def test_torch_docstring_examples_keep_their_shapes():
    """torch's examples pass ``temperature=tensor([2.2])``: the batch shape stays that of probs."""
    for cls, torch_cls, probs in (
        (RelaxedBernoulli, D.RelaxedBernoulli, torch.tensor([0.1, 0.2, 0.3, 0.99])),
        (RelaxedOneHotCategorical, D.RelaxedOneHotCategorical, torch.tensor([0.1, 0.2, 0.3, 0.4])),
    ):
        ours, theirs = cls(torch.tensor([2.2]), probs), torch_cls(torch.tensor([2.2]), probs)
        assert (ours.batch_shape, ours.event_shape) == (theirs.batch_shape, theirs.event_shape)
        assert ours.sample().shape == theirs.sample().shape == probs.shape
        assert torch.equal(ours.temperature, torch.tensor([2.2]))


# --------------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------------


def test_straight_through_gradient_from_logits():
    logits = torch.randn(2, 3, dtype=torch.float64, generator=gen(1)).requires_grad_()
    d = OneHotCategoricalStraightThrough(logits=logits)
    x = d.rsample((5,), generator=gen(2))
    # the forward value is the one-hot draw, the same one OneHotCategorical makes from the seed
    assert torch.equal(x.detach(), OneHotCategorical(logits=logits).sample((5,), generator=gen(2)))
    w = torch.randn(5, 2, 3, dtype=torch.float64, generator=gen(3))
    (grad_x,) = torch.autograd.grad((w * x).sum(), logits)
    probs = torch.softmax(logits, -1)
    (grad_p,) = torch.autograd.grad((w * probs).sum(), logits)
    close(grad_x, grad_p, rtol=1e-14)


def test_straight_through_gradient_from_probs_is_identity_like():
    """With normalized probs, d(w . x)/dp = w - (w . p): the identity projected on the simplex."""
    p = t([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]).requires_grad_()
    x = OneHotCategoricalStraightThrough(probs=p).rsample((4,), generator=gen())
    w = torch.randn(4, 2, 3, dtype=torch.float64, generator=gen(5))
    (grad,) = torch.autograd.grad((w * x).sum(), p)
    ws = w.sum(0)
    close(grad, ws - (ws * p.detach()).sum(-1, keepdim=True), rtol=1e-13, atol=1e-15)


def fd_check(build, params: dict[str, torch.Tensor], rtol=1e-5):
    """Pathwise gradients of a seeded draw equal central finite differences of the same draw."""
    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
    w = build(**params).rsample((3,), generator=gen(9))
    w = torch.linspace(-1.0, 2.0, w.numel(), dtype=torch.float64).reshape(w.shape)
    out = (w * build(**leaves).rsample((3,), generator=gen(9))).sum()
    grads = torch.autograd.grad(out, list(leaves.values()))
    for (name, base), grad in zip(params.items(), grads):
        fd = torch.empty_like(base)
        for i in range(base.numel()):
            h = 1e-6 * max(abs(base.reshape(-1)[i].item()), 1.0)
            values = []
            for sign in (1, -1):
                shifted = base.clone()
                shifted.reshape(-1)[i] += sign * h
                draw = build(**dict(params, **{name: shifted})).rsample((3,), generator=gen(9))
                values.append((w * draw).sum())
            fd.reshape(-1)[i] = (values[0] - values[1]) / (2 * h)
        close(grad, fd, rtol=rtol, atol=1e-7)


def test_relaxed_bernoulli_rsample_gradient_per_element_temperature():
    fd_check(RelaxedBernoulli, {"temperature": t([0.3, 1.0, 2.5]), "logits": t([-1.0, 0.2, 2.0])})
    fd_check(LogitRelaxedBernoulli, {"temperature": t([0.3, 1.0]), "probs": t([0.2, 0.9])})


def test_relaxed_one_hot_rsample_gradient_per_batch_temperature():
    params = {"temperature": t([0.4, 2.0]), "logits": t([[0.0, 1.0, -1.0], [0.5, 0.0, 2.0]])}
    fd_check(RelaxedOneHotCategorical, params)
    fd_check(ExpRelaxedCategorical, params)
    fd_check(RelaxedOneHotCategorical, {"temperature": t(0.7), "probs": t([0.2, 0.3, 0.5])})


def test_relaxed_log_prob_gradcheck_with_batch_temperature():
    lam = t([0.4, 2.0]).requires_grad_()
    logits = t([[0.0, 1.0, -1.0], [0.5, 0.0, 2.0]]).requires_grad_()
    y = RelaxedOneHotCategorical(lam, logits=logits).sample((3,), generator=gen())
    assert torch.autograd.gradcheck(
        lambda a, b: RelaxedOneHotCategorical(a, logits=b).log_prob(y), (lam, logits)
    )
    y = RelaxedBernoulli(lam, logits=logits[:, 0]).sample((3,), generator=gen())
    assert torch.autograd.gradcheck(
        lambda a, b: RelaxedBernoulli(a, logits=b).log_prob(y), (lam, logits[:, 0].detach())
    )


# --------------------------------------------------------------------------------------------
# Sample statistics (fixed seeds, 6 sigma)
# --------------------------------------------------------------------------------------------


def assert_z(estimate, expected, se):
    z = (estimate - expected) / se
    assert (z.abs() < 6).all(), z


@pytest.mark.parametrize(
    ("n", "probs"),
    [
        (50, [0.2, 0.3, 0.5]),  # conditional binomials
        (5, [0.01] * 40 + [0.6]),  # many classes, few trials: counted categorical draws
        (10**6, [1e-6, 0.25, 0.0, 0.75 - 1e-6]),  # large total_count
    ],
)
def test_multinomial_sample_moments(n, probs):
    p = t(probs)
    p = p / p.sum()
    d = Multinomial(n, probs=p)
    m = 20000
    x = d.sample((m,), generator=gen(11))
    assert torch.equal(x.sum(-1), torch.full((m,), float(n), dtype=torch.float64))
    assert (x[:, p == 0] == 0).all()
    var = d.variance
    live = var > 0
    assert_z(x.mean(0)[live], d.mean[live], (var / m).sqrt()[live])
    # the sample variance: Var(s^2) ~ sigma^4 (2 / (m - 1) + excess_kurtosis / m)
    q = p * (1 - p)
    kurt = (1 - 6 * q) / (n * q)
    se = var * (2 / (m - 1) + kurt / m).sqrt()
    assert_z(x.var(0)[live], var[live], se[live])
    # covariance of the two largest classes: -n p_i p_j
    i, j = p.argsort()[-2:].tolist()
    c = torch.cov(x[:, [i, j]].T)[0, 1]
    assert_z(c, -n * p[i] * p[j], (var[i] * var[j] / m).sqrt())


def test_multinomial_sample_batch_and_generator():
    d = Multinomial(30, logits=t([[0.0, -INF, 1.0], [2.0, 0.0, -1.0]]))
    state = torch.get_rng_state()
    a, b = d.sample((4, 5), generator=gen(3)), d.sample((4, 5), generator=gen(3))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b) and a.shape == (4, 5, 2, 3)
    assert (a[..., 0, 1] == 0).all() and (a.sum(-1) == 30).all()
    # few trials, many classes: the counted-draws route, batched
    d = Multinomial(2, logits=t([[0.0, -INF, 1.0, 0.5], [2.0, 0.0, -1.0, 0.0]]))
    a, b = d.sample((4, 5), generator=gen(3)), d.sample((4, 5), generator=gen(3))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b) and a.shape == (4, 5, 2, 4)
    assert (a[..., 0, 1] == 0).all() and (a.sum(-1) == 2).all()
    assert torch.equal(Multinomial(0, probs=t([0.5, 0.5])).sample((2,)), torch.zeros(2, 2).double())


def test_one_hot_class_frequencies():
    p = t([[0.1, 0.0, 0.9], [0.25, 0.25, 0.5]])
    m = 20000
    x = OneHotCategorical(probs=p).sample((m,), generator=gen(4))
    assert (x.sum(-1) == 1).all() and ((x == 0) | (x == 1)).all()
    counts = x.sum(0)
    live = p > 0
    assert (counts[~live] == 0).all()
    assert_z(counts[live], m * p[live], (m * p * (1 - p)).sqrt()[live])
    # the same seed gives the one-hot code of the Categorical draw
    idx = Categorical(probs=p).sample((7,), generator=gen(8))
    y = OneHotCategorical(probs=p).sample((7,), generator=gen(8))
    assert torch.equal(y.argmax(-1), idx)


def _relaxed_bernoulli_moments(lam: float, logit_p: float) -> list[float]:
    """E[Y^k] = int_0^1 sigmoid((l + logit(u)) / lam)^k du, k = 1..4: from the sampler's
    definition, independent of the density."""

    def moment(k):
        return si.quad(lambda u: expit((logit_p + logit(u)) / lam) ** k, 0, 1, limit=200)[0]

    return [moment(k) for k in range(1, 5)]


@pytest.mark.parametrize(("lam", "logit_p"), [(0.5, -0.8), (2.0, 1.5), (0.1, 0.0)])
def test_relaxed_bernoulli_sample_moments_and_density(lam, logit_p):
    d = RelaxedBernoulli(t(lam), logits=t(logit_p))
    m1, m2, m3, m4 = _relaxed_bernoulli_moments(lam, logit_p)
    var = m2 - m1**2
    mu4 = m4 - 4 * m3 * m1 + 6 * m2 * m1**2 - 3 * m1**4
    m = 20000
    y = d.sample((m,), generator=gen(6))
    assert_z(y.mean(), m1, math.sqrt(var / m))
    assert_z(y.var(), var, math.sqrt((mu4 - var**2) / m))

    # the density integrates, in logit space over |x| < 15 (where 1 - y is still represented to
    # 1e-9), to the logistic mass there, and its
    # first moment there is the sampler's (u-integral over the same event)
    ref = st.logistic(loc=logit_p / lam, scale=1 / lam)
    lo, hi = ref.cdf(-15.0), ref.cdf(15.0)

    def density(x):
        return d.log_prob(t(expit(x))).exp().item() * expit(x) * expit(-x)

    total = si.quad(density, -15, 15, limit=400, epsabs=1e-12)[0]
    mean = si.quad(lambda x: expit(x) * density(x), -15, 15, limit=400, epsabs=1e-12)[0]
    part = si.quad(lambda v: expit((logit_p + logit(v)) / lam), lo, hi, limit=400, epsabs=1e-12)
    assert abs(total - (hi - lo)) < 1e-9 and abs(mean - part[0]) < 1e-9


def test_relaxed_bernoulli_quantiles():
    """cdf and icdf against the logistic law of the logit, and as inverses."""
    lam, logits = t([0.3, 1.0, 4.0]), t([-2.0, 0.0, 1.0])
    d = RelaxedBernoulli(lam, logits=logits)
    ref = st.logistic(loc=(logits / lam).numpy(), scale=(1 / lam).numpy())
    u = t([[1e-12], [0.1], [0.5], [0.9], [1 - 1e-9]])
    close(LogitRelaxedBernoulli(lam, logits=logits).icdf(u), ref.ppf(u.numpy()), rtol=1e-12)
    y = d.icdf(u)
    close(y, expit(ref.ppf(u.numpy())), rtol=1e-12)
    inside = y < 1  # where the quantile rounds to 1 the cdf cannot give u back
    close(d.cdf(y)[inside], u.expand(y.shape)[inside], rtol=1e-9)
    assert torch.equal(d.cdf(t([0.0, 0.0, 1.0])), t([0.0, 0.0, 1.0]))
    samples = d.sample((20000,), generator=gen(2))
    for j in range(3):
        col = samples[:, j]
        cdf = lambda v, j=j: d.cdf(t(v)[:, None]).numpy()[:, j]  # noqa: E731
        assert st.kstest(col.numpy(), cdf).pvalue > 1e-6


def test_relaxed_one_hot_two_classes_is_relaxed_bernoulli():
    lam, logits = t(0.6), t([0.7, -0.4])
    y0 = RelaxedBernoulli(lam, logits=logits[0] - logits[1]).sample((9,), generator=gen())
    y = torch.stack([y0, 1 - y0], -1)
    close(
        RelaxedOneHotCategorical(lam, logits=logits).log_prob(y),
        RelaxedBernoulli(lam, logits=logits[0] - logits[1]).log_prob(y0),
        rtol=1e-10,
        atol=1e-12,
    )


def _simplex_moments(d: RelaxedOneHotCategorical) -> tuple[float, list[float]]:
    """Total mass and mean of a 3-class density, by quadrature over the simplex."""

    def density(y1, y0):
        if y0 <= 0 or y1 <= 0 or y0 + y1 >= 1:
            return 0.0
        return d.log_prob(t([y0, y1, 1 - y0 - y1])).exp().item()

    total = si.dblquad(density, 0, 1, 0, lambda y0: 1 - y0, epsabs=1e-10)[0]
    m0 = si.dblquad(lambda y1, y0: y0 * density(y1, y0), 0, 1, 0, lambda y0: 1 - y0)[0]
    m1 = si.dblquad(lambda y1, y0: y1 * density(y1, y0), 0, 1, 0, lambda y0: 1 - y0)[0]
    return total, [m0, m1, 1 - m0 - m1]


@pytest.mark.slow
def test_relaxed_one_hot_sample_moments_and_density():
    p = t([0.2, 0.3, 0.5])
    d = RelaxedOneHotCategorical(t(1.0), probs=p)  # lam (K-1) > 1: the density vanishes at faces
    total, mean = _simplex_moments(d)
    assert abs(total - 1) < 1e-6
    m = 20000
    y = d.sample((m,), generator=gen(12))
    assert_z(y.mean(0), t(mean), y.std(0) / math.sqrt(m))
    # P(argmax y = k) = p_k at every temperature
    for lam in (0.1, 1.0, 5.0):
        y = RelaxedOneHotCategorical(t(lam), probs=p).sample((m,), generator=gen(13))
        counts = torch.bincount(y.argmax(-1), minlength=3).double()
        assert_z(counts, m * p, (m * p * (1 - p)).sqrt())


def test_relaxed_one_hot_sample_variance():
    """Var(y_k) of the sampler, against the density's own second moment at K = 2."""
    lam, logits = 0.8, t([0.3, -0.2])
    d = RelaxedOneHotCategorical(t(lam), logits=logits)
    m1, m2, _, m4 = _relaxed_bernoulli_moments(lam, 0.5)
    y = d.sample((20000,), generator=gen(21))[:, 0]
    assert_z(y.mean(), m1, math.sqrt((m2 - m1**2) / 20000))
    assert_z(y.var(), m2 - m1**2, math.sqrt(m4 / 20000))


# --------------------------------------------------------------------------------------------
# Accuracy: Multinomial against SciPy and mpmath
# --------------------------------------------------------------------------------------------


def _mp_multinomial_log_pmf(x: list[int], p: list[float]) -> mp.mpf:
    with mp.workdps(50):
        total = mp.fsum(mp.mpf(v) for v in p)
        n = sum(x)
        out = mp.loggamma(n + 1)
        for xi, pi in zip(x, p):
            out -= mp.loggamma(xi + 1)
            if xi:
                out += xi * mp.log(mp.mpf(pi) / total) if pi else -mp.inf
        return out


EXTREME_MULTINOMIAL = [
    ([1e-12, 0.5, 0.5 - 1e-12], [[0, 500000, 500000], [1, 499999, 500000], [3, 500100, 499897]]),
    ([0.0, 0.3, 0.7], [[0, 300000, 700000], [0, 300700, 699300], [1, 300000, 699999]]),
    ([1e-300, 1.0, 0.0], [[0, 10**6, 0], [1, 999999, 0], [0, 0, 10**6]]),
]


@pytest.mark.parametrize(("probs", "values"), EXTREME_MULTINOMIAL)
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_multinomial_log_prob_extreme(probs, values, param):
    """n = 1e6 with probabilities 1e-12, 1e-300 and 0: lgamma differences of numbers near 1.4e7
    leave about 1e-10 relative error, as in SciPy."""
    p = t(probs)
    given = p if param == "probs" else p.log()
    d = Multinomial(10**6, **{param: given})
    x = t(values)
    ours = d.log_prob(x)
    expected = [float(_mp_multinomial_log_pmf(v, probs)) for v in values]
    close(ours, expected, rtol=2e-10)
    if probs[0] != 1e-300:  # scipy normalizes 1e-300 away
        ref = st.multinomial(10**6, np.array(probs) / sum(probs)).logpmf(np.array(values))
        close(ours, ref, rtol=2e-10)


def test_multinomial_log_prob_zero_probability_classes():
    d = Multinomial(3, probs=t([0.0, 0.5, 0.5]))
    dl = Multinomial(3, logits=t([-INF, 0.0, 0.0]))
    x = t([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    expected = t([math.log(3 / 8), -INF])
    for dist in (d, dl):
        close(dist.log_prob(x), expected, rtol=1e-15)
        assert dist.log_prob(x)[1] == -INF


def _mp_multinomial_entropy(n: int, p: list[float]) -> float:
    with mp.workdps(40):
        total = mp.fsum(mp.mpf(v) for v in p)
        h = mp.mpf(0)
        for x in itertools.product(range(n + 1), repeat=len(p) - 1):
            rest = n - sum(x)
            if rest < 0:
                continue
            log_pmf = _mp_multinomial_log_pmf([*x, rest], [float(mp.mpf(v) / total) for v in p])
            if log_pmf != -mp.inf:
                h -= mp.exp(log_pmf) * log_pmf
        return float(h)


@pytest.mark.parametrize(
    ("n", "probs"),
    [(10, [0.2, 0.3, 0.5]), (12, [0.0, 0.4, 0.6]), (9, [1e-12, 0.5, 0.5 - 1e-12]), (1, [0.3, 0.7])],
)
def test_multinomial_entropy_exact(n, probs):
    expected = _mp_multinomial_entropy(n, probs)
    close(Multinomial(n, probs=t(probs)).entropy(), expected, rtol=1e-13, atol=1e-15)
    close(Multinomial(n, logits=t(probs).log()).entropy(), expected, rtol=1e-13, atol=1e-15)


def test_multinomial_entropy_large_count():
    """n = 1e6 against mpmath (50 digits, binomial marginals summed over +-30 sd); SciPy is off by
    3e-10 and 1e-9 relative here, torch.distributions by more."""
    probs = t([[0.2, 0.3, 0.5], [1e-6, 0.5, 0.5 - 1e-6]])
    expected = [14.900108397934915791, 8.9383881368318208201]
    close(Multinomial(10**6, probs=probs).entropy(), expected, rtol=1e-13)
    close(Multinomial(10**6, logits=probs.log()).entropy(), expected, rtol=1e-13)
    assert torch.equal(Multinomial(0, probs=t([0.5, 0.5])).entropy(), t(0.0))


def test_multinomial_entropy_gradient():
    probs = t([0.2, 0.3, 0.5]).requires_grad_()
    assert torch.autograd.gradcheck(lambda p: Multinomial(6, probs=p).entropy(), (probs,))


def test_variances_keep_precision_near_one():
    """1 - p for p near 1 is taken as the mass of the other classes."""
    p = t([1e-13, 1 - 1e-13])
    expected = 1e-13 * (1 - 1e-13)
    close(OneHotCategorical(probs=p).variance, [expected, expected], rtol=1e-13)
    close(Multinomial(5, logits=p.log()).variance, [5 * expected] * 2, rtol=1e-13)


# --------------------------------------------------------------------------------------------
# Accuracy and boundaries of the relaxed families
# --------------------------------------------------------------------------------------------


def _mp_relaxed_bernoulli_log_density(y: float, lam: float, logit_p: float) -> float:
    with mp.workdps(50):
        y, lam, a = mp.mpf(y), mp.mpf(lam), mp.e ** mp.mpf(logit_p)
        num = lam * a * y ** (-lam - 1) * (1 - y) ** (-lam - 1)
        return float(mp.log(num / (a * y ** (-lam) + (1 - y) ** (-lam)) ** 2))


@pytest.mark.parametrize("lam", [0.05, 0.5, 1.0, 3.0])
@pytest.mark.parametrize("logit_p", [-20.0, 0.0, 3.0])
def test_relaxed_bernoulli_log_prob_vs_mpmath(lam, logit_p):
    ys = [1e-300, 1e-20, 1e-3, 0.5, 0.999, 1 - 2**-52]
    ours = RelaxedBernoulli(t(lam), logits=t(logit_p)).log_prob(t(ys))
    expected = [_mp_relaxed_bernoulli_log_density(y, lam, logit_p) for y in ys]
    close(ours, expected, rtol=1e-13, atol=1e-13)


def test_relaxed_bernoulli_boundary_values_are_limits():
    """At y = 0 the density behaves like (lam / alpha) y^(lam - 1): inf, lam/alpha or 0."""
    lam = t([0.5, 1.0, 2.0])
    d = RelaxedBernoulli(lam, logits=t(0.7))
    assert torch.equal(d.log_prob(t(0.0)), t([INF, -0.7, -INF]))
    assert torch.equal(d.log_prob(t(1.0)), t([INF, 0.7, -INF]))


def test_relaxed_bernoulli_low_temperature_samples_are_scored_finitely():
    d = RelaxedBernoulli(t(0.01), probs=t(0.3))
    y = d.sample((1000,), generator=gen())
    assert ((y > 0) & (y < 1)).all()  # clamped into [tiny, 1 - eps], as in torch
    assert torch.isfinite(d.log_prob(y)).all()


def test_logit_relaxed_bernoulli_is_logistic():
    lam, logits = t([0.5, 2.0]), t([1.0, -3.0])
    d = LogitRelaxedBernoulli(lam, logits=logits)
    ref = st.logistic(loc=(logits / lam).numpy(), scale=(1 / lam).numpy())
    x = t([[-1e3], [-5.0], [0.0], [2.0], [800.0]])
    close(d.log_prob(x), ref.logpdf(x.numpy()), rtol=1e-13)  # torch overflows at large |x|
    close(d.cdf(x), ref.cdf(x.numpy()), rtol=1e-13)
    close(d.entropy(), ref.entropy(), rtol=1e-14)
    close(d.variance, ref.var(), rtol=1e-14)
    close(d.mean, ref.mean(), rtol=1e-14)


def test_change_of_variables_matches_base_dist():
    rb = RelaxedBernoulli(t([0.4, 2.0]), probs=t([0.3, 0.8]))
    y = rb.sample((6,), generator=gen())
    via_base = rb.base_dist.log_prob(torch.logit(y)) - y.log() - torch.log1p(-y)
    close(rb.log_prob(y), via_base, rtol=1e-11, atol=1e-12)
    rc = RelaxedOneHotCategorical(t([0.4, 2.0]), logits=t([[0.0, 1.0, 2.0], [1.0, -1.0, 0.0]]))
    y = rc.sample((6,), generator=gen())
    via_base = rc.base_dist.log_prob(y.log()) - y.log().sum(-1)
    close(rc.log_prob(y), via_base, rtol=1e-11, atol=1e-12)
    assert isinstance(rc.base_dist, ExpRelaxedCategorical)
    assert isinstance(rb.base_dist, LogitRelaxedBernoulli)


def test_masked_classes_drop_out_of_the_relaxed_density():
    """A class with logit -inf (and value 0) is out of play: the density is that of the others
    (torch returns NaN here)."""
    lam = t(0.7)
    masked = RelaxedOneHotCategorical(lam, logits=t([0.5, -INF, -1.0, 0.0]))
    reduced = RelaxedOneHotCategorical(lam, logits=t([0.5, -1.0, 0.0]))
    y = masked.rsample((8,), generator=gen())
    assert (y[:, 1] == 0).all()
    close(masked.log_prob(y), reduced.log_prob(y[:, [0, 2, 3]]), rtol=1e-12)
    x = ExpRelaxedCategorical(lam, logits=t([0.5, -INF, -1.0, 0.0])).rsample((8,), generator=gen())
    close(
        ExpRelaxedCategorical(lam, logits=t([0.5, -INF, -1.0, 0.0])).log_prob(x),
        ExpRelaxedCategorical(lam, logits=t([0.5, -1.0, 0.0])).log_prob(x[:, [0, 2, 3]]),
        rtol=1e-12,
    )
    # a value off the masked class's point has probability 0
    assert masked.log_prob(t([0.25, 0.25, 0.25, 0.25])) == -INF


def test_relaxed_one_hot_values_on_faces():
    """Classes in play at y = 0: the limit, by the sign of lam (K - Z) - Z."""
    logits = t([1.0, 0.0])
    for lam, expected in ((0.5, INF), (1.0, -1.0), (2.0, -INF)):  # K = 2: finite at lam = 1
        d = RelaxedOneHotCategorical(t(lam), logits=logits)
        assert d.log_prob(t([0.0, 1.0])).item() == expected
        rb = RelaxedBernoulli(t(lam), logits=logits[0] - logits[1])
        assert rb.log_prob(t(0.0)).item() == expected
    d = RelaxedOneHotCategorical(t([0.2, 3.0]), logits=t([0.0, 1.0, 2.0]))
    assert torch.equal(d.log_prob(t([0.0, 0.0, 1.0])), t([INF, -INF]))
    assert torch.equal(d.log_prob(t([0.0, 0.5, 0.5])), t([INF, -INF]))
    e = ExpRelaxedCategorical(t(0.5), logits=t([0.0, 1.0, 2.0]))
    assert e.log_prob(t([-INF, 0.0, -INF])) == -INF


def test_device_route_of_the_concrete_density_agrees():
    """Off the CPU the edge-aware route always runs (no host check): same values."""
    logits = torch.randn(5, 4, dtype=torch.float64, generator=gen(1))
    lam = torch.rand(5, dtype=torch.float64, generator=gen(2)) + 0.3
    y = torch.softmax(torch.randn(5, 4, dtype=torch.float64, generator=gen(3)), -1)
    z = torch.addcmul(logits, lam[:, None], y.log(), value=-1)
    for on_simplex in (True, False):
        terms = z - y.log() if on_simplex else z
        close(
            _concrete_edges(logits, lam, z, terms, on_simplex),
            _concrete_log_prob(logits, lam, y.log(), on_simplex),
            rtol=1e-14,
        )


def test_low_temperature_relaxed_one_hot_has_no_nan():
    d = RelaxedOneHotCategorical(t(0.01), logits=t([0.0, 1.0, 2.0, -INF]))
    y = d.sample((200,), generator=gen())
    assert torch.isclose(y.sum(-1), t(1.0)).all()
    assert not d.log_prob(y).isnan().any()


# --------------------------------------------------------------------------------------------
# Construction, validation and the rebuild machinery
# --------------------------------------------------------------------------------------------


def test_multinomial_total_count_travels():
    d = Multinomial(9, probs=t([[0.2, 0.8], [0.5, 0.5]]))
    x = d.sample((3,), generator=gen())
    expected = d.log_prob(x)
    for other in (
        d.expand((4, 2)),
        d[1:],
        d.to(dtype=torch.float32),
        pickle.loads(pickle.dumps(d)),
    ):
        assert other.total_count == 9 and other.support.upper_bound == 9
    close(d.expand((4, 2)).log_prob(x.unsqueeze(1)), expected.unsqueeze(1).expand(3, 4, 2))
    close(d[1].log_prob(x[:, 1]), expected[:, 1])
    close(copy.deepcopy(d).log_prob(x), expected)
    single = d.to(dtype=torch.float32)
    assert single.probs.dtype == torch.float32
    close(single.log_prob(x.float()), expected, rtol=1e-5)


def test_temperature_travels():
    d = RelaxedOneHotCategorical(t([0.5, 2.0]), logits=t([[0.0, 1.0, -1.0], [1.0, 0.0, 0.0]]))
    y = d.sample((3,), generator=gen())
    lp = d.log_prob(y)
    e = d.expand((4, 2))
    assert torch.equal(e.temperature, t([0.5, 2.0]).expand(4, 2))
    close(e.log_prob(y.unsqueeze(1)), lp.unsqueeze(1).expand(3, 4, 2))
    assert d[1].temperature == 2.0
    close(d[1].log_prob(y[:, 1]), lp[:, 1])
    assert d.to(dtype=torch.float32).temperature.dtype == torch.float32
    r = RelaxedBernoulli(t([[2.2]]), probs=t([0.1, 0.5]))  # leading size-1 dims are dropped
    assert r.batch_shape == (2,) and r[0].temperature == 2.2


def test_validation_errors():
    with pytest.raises(ValueError, match="parameter total_count .*constraint"):
        Multinomial(-1, probs=t([0.5, 0.5]), validate_args=True)
    Multinomial(-1, probs=t([0.5, 0.5]), validate_args=False)
    with pytest.raises(NotImplementedError, match="total_count"):
        Multinomial(t(3.0), probs=t([0.5, 0.5]))  # type: ignore[arg-type]
    assert Multinomial(np.int64(3), probs=t([0.5, 0.5])).total_count == 3
    with pytest.raises(ValueError, match="parameter probs"):
        Multinomial(3, probs=t([-0.5, 1.5]), validate_args=True)
    with pytest.raises(ValueError, match="value argument"):
        Multinomial(3, probs=t([0.5, 0.5]), validate_args=True).log_prob(t([3.0, 1.0]))
    with pytest.raises(ValueError, match="value argument"):
        OneHotCategorical(probs=t([0.5, 0.5]), validate_args=True).log_prob(t([0.5, 0.5]))
    for cls in (RelaxedBernoulli, LogitRelaxedBernoulli):
        with pytest.raises(ValueError, match="parameter temperature .*constraint"):
            cls(t([1.0, 0.0]), probs=t([0.5, 0.5]), validate_args=True)
    for cls in (RelaxedOneHotCategorical, ExpRelaxedCategorical):
        with pytest.raises(ValueError, match="parameter temperature .*constraint"):
            cls(t(math.nan), probs=t([0.5, 0.5]), validate_args=True)
        with pytest.raises(ValueError, match="temperature of shape"):
            cls(t([1.0, 2.0, 3.0]), probs=t([[0.5, 0.5], [0.1, 0.9]]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        RelaxedBernoulli(t(1.0))
    with pytest.raises(ValueError, match="value argument"):
        RelaxedBernoulli(t(1.0), probs=t(0.5), validate_args=True).log_prob(t(1.5))


def test_float_temperature_and_numbers():
    d = RelaxedBernoulli(0.5, probs=0.3)
    assert d.batch_shape == () and d.temperature.dtype == torch.get_default_dtype()
    assert torch.isfinite(d.log_prob(d.rsample()))
    c = RelaxedOneHotCategorical(2.0, logits=t([0.0, 1.0]))
    assert c.temperature.dtype == torch.float64


def test_kl_of_one_hot_is_the_categorical_kl():
    p = OneHotCategorical(logits=t([[0.0, 1.0, -1.0], [0.5, 0.5, 0.0]]))
    q = OneHotCategorical(probs=t([0.2, 0.3, 0.5]))
    expected = kl_divergence(Categorical(logits=p.logits), Categorical(probs=q.probs))
    close(kl_divergence(p, q), expected, rtol=1e-15)
    close(
        kl_divergence(p, q),
        D.kl_divergence(D.OneHotCategorical(logits=p.logits), D.OneHotCategorical(q.probs)),
        rtol=1e-12,
    )
