"""The shared checks, run over every example of ``tests/examples.py``."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import scipy.stats as st
import torch
import torch.distributions as torch_dists

import torchprob as tp
from torchprob import constraints

from .examples import EXAMPLES, Example

QUANTILES = [1e-12, 1e-3, 0.1, 0.5, 0.9, 0.999, 1 - 1e-12]
METHODS = ("log_prob", "cdf", "icdf", "entropy", "mean", "variance", "mode", "stddev")


def examples(test_name: str) -> list:
    """The examples as pytest params, each with its own id and the skips its table entry says."""
    cases = []
    for ex in EXAMPLES:
        marks = [pytest.mark.skip(reason=ex.skip[test_name])] if test_name in ex.skip else []
        cases.append(pytest.param(ex, id=ex.id, marks=marks))
    return cases


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def implemented(fn, *args):
    """``fn(*args)``, or ``None`` where the distribution does not implement it."""
    try:
        return fn(*args)
    except NotImplementedError:
        return None


def points(d: tp.Distribution, n: int = 7) -> torch.Tensor:
    """Values to evaluate densities at: the whole support when it is enumerable, else samples."""
    if d.has_enumerate_support:
        return d.enumerate_support()
    return d.sample((n,), generator=gen(1))


def close(actual, expected, ex: Example, rtol: float | None = None, atol: float | None = None):
    actual = actual.detach().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual)
    np.testing.assert_allclose(
        actual,
        np.broadcast_to(np.asarray(expected, dtype=float), actual.shape),
        rtol=ex.rtol if rtol is None else rtol,
        atol=ex.atol if atol is None else atol,
        equal_nan=True,
    )


# --------------------------------------------------------------------------------------------
# Shapes and support
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ex", examples("test_shapes"))
@pytest.mark.parametrize("sample_shape", [(), (2,), (2, 3)])
def test_shapes(ex: Example, sample_shape):
    d = ex.build()
    full = torch.Size(sample_shape) + d.batch_shape + d.event_shape
    x = d.sample(sample_shape)
    assert x.shape == full
    assert d.log_prob(x).shape == torch.Size(sample_shape) + d.batch_shape
    if d.has_rsample:
        assert d.rsample(sample_shape).shape == full
    for name in ("mean", "variance", "mode", "stddev"):
        value = implemented(getattr, d, name)
        if value is not None:
            assert value.shape == d.batch_shape + d.event_shape, name
    entropy = implemented(d.entropy)
    if entropy is not None:
        assert entropy.shape == d.batch_shape


@pytest.mark.parametrize("ex", examples("test_support"))
def test_support(ex: Example):
    d = ex.build()
    x = d.sample((200,), generator=gen())
    assert d.support.check(x).all()
    if d.has_rsample:
        assert d.support.check(d.rsample((200,), generator=gen())).all()


# --------------------------------------------------------------------------------------------
# Values against SciPy and torch.distributions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ex", [e for e in examples("test_scipy") if e.values[0].scipy])
def test_scipy(ex: Example):
    d = ex.build()
    ref = ex.scipy(ex.numpy_params())
    x = points(d)
    xs = x.numpy()
    logpdf = ref.logpmf if d.support.is_discrete else ref.logpdf
    close(d.log_prob(x), logpdf(xs), ex)
    cdf = implemented(d.cdf, x)
    if cdf is not None:
        close(cdf, ref.cdf(xs), ex)
    q = torch.tensor(QUANTILES, dtype=torch.float64).reshape((-1,) + (1,) * len(d.batch_shape))
    icdf = implemented(d.icdf, q)
    if icdf is not None:
        close(icdf, ref.ppf(q.numpy()), ex)
    for name, expected in (("mean", ref.mean), ("variance", ref.var), ("stddev", ref.std)):
        value = implemented(getattr, d, name)
        if value is not None:
            close(value, expected(), ex)
    entropy = implemented(d.entropy)
    if entropy is not None:
        close(entropy, ref.entropy(), ex)


def torch_twin(ex: Example) -> torch_dists.Distribution:
    params = ex.torch_params() if ex.torch_params is not None else ex.params
    return getattr(torch_dists, ex.cls.__name__)(**params, validate_args=False)


@pytest.mark.parametrize("ex", examples("test_torch_parity"))
def test_torch_parity(ex: Example):
    """Where torch.distributions is right, we agree with it (where it is not, see the skips)."""
    ours, theirs = ex.build(), torch_twin(ex)
    assert ours.batch_shape == theirs.batch_shape
    assert ours.event_shape == theirs.event_shape
    assert ours.has_rsample == theirs.has_rsample
    assert ours.has_enumerate_support == theirs.has_enumerate_support
    assert type(ours.support).__name__ == type(theirs.support).__name__
    x = points(ours)
    close(ours.log_prob(x), theirs.log_prob(x), ex, rtol=1e-7, atol=1e-10)
    for name in ("mean", "variance", "mode", "stddev"):
        expected = implemented(getattr, theirs, name)
        if expected is not None:
            close(getattr(ours, name), expected, ex, rtol=1e-7, atol=1e-10)
    expected = implemented(theirs.entropy)
    if expected is not None:
        close(ours.entropy(), expected, ex, rtol=1e-7, atol=1e-10)
    for method, arg in (("cdf", x), ("icdf", torch.tensor(0.3, dtype=torch.float64))):
        expected = implemented(getattr(theirs, method), arg)
        if expected is not None:
            close(getattr(ours, method)(arg), expected, ex, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("ex", examples("test_tail_functions"))
def test_tail_functions(ex: Example):
    """log_cdf, survival_function and log_survival_function (closed forms or the base class's
    derived routes) agree with the cdf wherever the cdf does not round them away."""
    d = ex.build()
    x = points(d)
    cdf = implemented(d.cdf, x)
    if cdf is None:
        pytest.skip("no cdf")
    log_cdf, sf, log_sf = d.log_cdf(x), d.survival_function(x), d.log_survival_function(x)
    close(sf, (1 - cdf).numpy(), ex, rtol=1e-12, atol=1e-15)
    close(log_cdf.exp(), cdf.numpy(), ex, rtol=1e-12, atol=1e-300)
    close(log_sf.exp(), sf.numpy(), ex, rtol=1e-12, atol=1e-300)
    if ex.scipy is not None and "test_scipy" not in ex.skip:
        ref = ex.scipy(ex.numpy_params())
        xs = x.numpy()
        close(sf, ref.sf(xs), ex)
        with np.errstate(divide="ignore"):
            close(log_cdf, ref.logcdf(xs), ex)
            close(log_sf, ref.logsf(xs), ex)


@pytest.mark.parametrize("ex", examples("test_cdf_icdf_roundtrip"))
def test_cdf_icdf_roundtrip(ex: Example):
    d = ex.build()
    if implemented(d.cdf, d.sample()) is None:
        pytest.skip("no cdf")
    if d.support.is_discrete:
        # icdf is the smallest value whose cdf reaches u: icdf(cdf(k)) == k wherever the
        # computed cdf steps up at k (p(k) > 0 and not lost to rounding).
        k = d.enumerate_support()
        cdf = implemented(d.cdf, k)
        if cdf is None:
            pytest.skip("no cdf")
        steps = cdf > torch.cat([torch.zeros_like(cdf[:1]), cdf[:-1]])
        assert torch.equal(d.icdf(cdf)[steps].to(k.dtype), k[steps])
        return
    x = d.sample((50,), generator=gen())
    u = implemented(d.cdf, x)
    inverse = implemented(d.icdf, u) if u is not None else None
    if inverse is None:
        pytest.skip("no cdf/icdf")
    inner = (u > 1e-8) & (u < 1 - 1e-8)
    close(inverse[inner], x[inner].numpy(), ex, rtol=1e-7, atol=0)


# --------------------------------------------------------------------------------------------
# Sampling: statistics, generator, gradients
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("ex", examples("test_goodness_of_fit"))
def test_goodness_of_fit(ex: Example):
    """KS (continuous) or per-class binomial z-scores (discrete) on 20000 draws, fixed seed.

    The thresholds (p > 1e-6, |z| < 6) put the false-alarm rate near 1e-6 per case; with a
    fixed seed a case that passes once passes forever.
    """
    d = ex.build(validate_args=False)  # the KS grid crosses other batch members' supports
    n = 20000
    draws = d.sample((n,), generator=gen(123))
    if d.support.is_discrete:
        # every support value (a whole event) against its probability, per batch member
        support = d.enumerate_support(expand=True)
        probs = d.log_prob(support).exp().reshape(support.shape[0], -1)
        event = max(1, d.event_shape.numel())
        values = support.reshape(support.shape[0], -1, event)
        flat = draws.reshape(n, -1, event)
        for j in range(flat.shape[1]):
            hits = (flat[:, None, j, :] == values[None, :, j, :]).all(-1)
            counts = hits.sum(0).double()
            p = probs[:, j]
            z = (counts - n * p) / torch.sqrt(n * p * (1 - p)).clamp(min=1e-12)
            assert (z.abs() < 6).all(), (j, counts, p)
        return
    if implemented(d.cdf, draws[:1]) is None:
        pytest.skip("no cdf for the KS test")
    flat = draws.reshape(n, -1)
    batch = d.batch_shape + d.event_shape

    def column_cdf(v, j):
        grid = torch.as_tensor(v, dtype=torch.float64).reshape((-1,) + (1,) * len(batch))
        return d.cdf(grid.expand((-1,) + batch)).reshape(len(v), -1)[:, j].numpy()

    for j in range(flat.shape[1]):
        result = st.kstest(flat[:, j].numpy(), lambda v, j=j: column_cdf(v, j))
        assert result.pvalue > 1e-6, (j, result)


@pytest.mark.slow
@pytest.mark.parametrize("ex", examples("test_sample_moments"))
def test_sample_moments(ex: Example):
    d = ex.build()
    n = 20000
    draws = d.sample((n,), generator=gen(7)).double()
    mean, var = implemented(getattr, d, "mean"), implemented(getattr, d, "variance")
    if mean is None or var is None:
        pytest.skip("no closed-form moments")
    finite = torch.isfinite(mean) & torch.isfinite(var)
    se = (var / n).sqrt()
    z = ((draws.mean(0) - mean) / se.clamp(min=1e-300))[finite & (var > 0)]
    assert (z.abs() < 6).all(), z


@pytest.mark.parametrize("ex", examples("test_generator"))
def test_generator(ex: Example):
    d = ex.build()
    state = torch.get_rng_state()
    a = d.sample((3,), generator=gen(5))
    b = d.sample((3,), generator=gen(5))
    assert torch.equal(torch.get_rng_state(), state), "generator= must not touch the global RNG"
    assert torch.equal(a, b)
    if d.has_rsample:
        assert torch.equal(d.rsample((3,), generator=gen(5)), d.rsample((3,), generator=gen(5)))


def float_params(ex: Example) -> list[str]:
    return [
        k for k, v in ex.params.items() if isinstance(v, torch.Tensor) and v.is_floating_point()
    ]


@pytest.mark.parametrize("ex", examples("test_rsample_grad"))
def test_rsample_grad(ex: Example):
    """Pathwise gradients equal central finite differences of the same (seeded) draws."""
    names = float_params(ex)
    params = {k: v.clone().requires_grad_(k in names) for k, v in ex.params.items()}
    out = ex.cls(**params).rsample((4,), generator=gen(3)).sum()
    grads = torch.autograd.grad(out, [params[k] for k in names])
    for name, grad in zip(names, grads):
        base = ex.params[name]
        fd = torch.empty_like(base)
        for i in range(base.numel()):
            h = 1e-6 * (abs(base.reshape(-1)[i].item()) or 1.0)
            values = []
            for sign in (1, -1):
                shifted = base.clone(memory_format=torch.contiguous_format)
                shifted.view(-1)[i] += sign * h
                kwargs = dict(ex.params, **{name: shifted})
                values.append(ex.cls(**kwargs).rsample((4,), generator=gen(3)))
            # difference elementwise, then sum: no cancellation across batch members
            fd.reshape(-1)[i] = ((values[0] - values[1]) / (2 * h)).sum()
        close(grad, fd.numpy(), ex, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ex", examples("test_log_prob_gradcheck"))
def test_log_prob_gradcheck(ex: Example):
    names = float_params(ex)
    x = points(ex.build())

    def log_prob(*values):
        kwargs = dict(ex.params, **dict(zip(names, values)))
        return ex.cls(**kwargs, validate_args=False).log_prob(x)

    inputs = tuple(ex.params[k].clone().requires_grad_() for k in names)
    assert torch.autograd.gradcheck(log_prob, inputs)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def invalid_like(constraint, value: torch.Tensor) -> torch.Tensor:
    """A copy of ``value`` whose first entry (or first event) violates ``constraint``."""
    bad = value.clone(memory_format=torch.contiguous_format)
    flat = bad.view(-1)
    if isinstance(constraint, constraints._IndependentConstraint):
        flat[0] = torch.nan
    elif isinstance(constraint, constraints._Simplex):
        flat[0] = -0.5
    elif isinstance(constraint, (constraints._GreaterThan, constraints._GreaterThanEq)):
        flat[0] = constraint.lower_bound - 1
    elif isinstance(constraint, constraints._Interval):
        flat[0] = constraint.upper_bound + 0.5
    else:
        flat[0] = torch.nan
    return bad


def outside_support(d: tp.Distribution) -> torch.Tensor:
    """A value of the right shape lying outside ``d.support``."""
    x = d.sample()
    support = d.support
    if isinstance(support, constraints._Boolean):
        return torch.full_like(x, 0.5)
    if isinstance(support, constraints._IntegerInterval):
        return torch.full_like(x, -1)
    if isinstance(support, (constraints._GreaterThan, constraints._GreaterThanEq)):
        return torch.full_like(x, -1.0) + support.lower_bound
    if isinstance(support, (constraints._Interval, constraints._HalfOpenInterval)):
        return x.new_ones(x.shape) + support.upper_bound
    return torch.full_like(x, torch.nan)


@pytest.mark.parametrize("ex", examples("test_invalid_params"))
def test_invalid_params(ex: Example):
    table = ex.cls.arg_constraints
    for name, value in ex.params.items():
        bad = ex.invalid.get(name)
        if bad is None:
            if name not in table or constraints.is_dependent(table[name]):
                continue
            bad = invalid_like(table[name], value)
        kwargs = dict(ex.params, **{name: bad})
        with pytest.raises(ValueError, match=rf"parameter {name} .*constraint"):
            ex.cls(**kwargs, validate_args=True)
        ex.cls(**kwargs, validate_args=False)  # no error when validation is off


@pytest.mark.parametrize("ex", examples("test_invalid_values"))
def test_invalid_values(ex: Example):
    d = ex.build(validate_args=True)
    bad = outside_support(d)
    with pytest.raises(ValueError, match="value argument.*support"):
        d.log_prob(bad)
    if implemented(d.cdf, d.sample()) is not None:
        with pytest.raises(ValueError, match="value argument.*support"):
            d.cdf(bad)
    if not d.support.is_discrete:  # an integer out of range cannot index a table
        ex.build(validate_args=False).log_prob(bad)  # no error when validation is off


# --------------------------------------------------------------------------------------------
# The generic rebuild machinery: expand, indexing, to, pickle, copy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ex", examples("test_expand"))
def test_expand(ex: Example):
    d = ex.build()
    x = points(d)
    new_batch = torch.Size((2,)) + d.batch_shape
    e = d.expand(new_batch)
    assert type(e) is type(d) and e.batch_shape == new_batch
    x_new = x.unsqueeze(-1 - len(d.batch_shape) - len(d.event_shape))
    expected = d.log_prob(x).unsqueeze(-1 - len(d.batch_shape)).expand(x.shape[:1] + new_batch)
    # a rebuilt Categorical renormalizes its logits: equal up to one rounding
    close(e.log_prob(x_new), expected.numpy(), ex, rtol=1e-15, atol=1e-14)
    assert e.sample((3,)).shape == (3,) + new_batch + d.event_shape


@pytest.mark.parametrize(
    "ex", [e for e in examples("test_indexing") if e.values[0].build().batch_shape]
)
def test_indexing(ex: Example):
    d = ex.build()
    x = d.sample(generator=gen())
    full = d.log_prob(x)
    for index in (0, -1, slice(0, 1), (Ellipsis, 0)):
        sub = d[index]
        tail = (slice(None),) * len(d.event_shape)
        x_index = (index,) + tail if not isinstance(index, tuple) else index + tail
        assert sub.batch_shape == full[index].shape
        close(sub.log_prob(x[x_index]), full[index].numpy(), ex, rtol=1e-15, atol=1e-14)
    with pytest.raises(IndexError):
        d[(0,) * (len(d.batch_shape) + 1)]


@pytest.mark.parametrize("ex", examples("test_to_pickle_copy"))
def test_to_pickle_copy(ex: Example):
    d = ex.build()
    x = points(d)
    expected = d.log_prob(x)
    single = d.to(dtype=torch.float32)
    for name in float_params(ex):
        assert getattr(single, name).dtype == torch.float32
    close(single.log_prob(x.float()), expected.numpy(), ex, rtol=1e-4, atol=1e-4)
    for twin in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d)):
        close(twin.log_prob(x), expected.numpy(), ex, rtol=0, atol=0)
    assert d.to("cpu").batch_shape == d.batch_shape
