"""TransformedDistribution: the log-normal built by hand against SciPy, tails through decreasing
chains, shapes and parity with torch.distributions, sampling, rebuilding (expand, indexing, to,
pickle) and subclasses that provide ``base_dist``/``transforms`` lazily."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import scipy.stats as st
import torch
import torch.distributions as td

import torchprob.transforms as PT
from torchprob import constraints
from torchprob.composite.transformed_distribution import TransformedDistribution
from torchprob.continuous.normal import Normal
from torchprob.continuous.uniform import Uniform
from torchprob.discrete.bernoulli import Bernoulli
from torchprob.distribution import Distribution
from torchprob.utils import broadcast_all, lazy_property

F64 = torch.float64


def t64(x):
    return torch.as_tensor(x, dtype=F64)


LOC = t64([-3.0, 0.0, 5.0])
SCALE = t64([0.1, 1.0, 4.0])
# probabilities from the far lower tail to the upper one
QUANTILES = np.array([1e-300, 1e-40, 1e-6, 0.01, 0.5, 0.99, 1 - 1e-9])


def lognormal_values(loc: torch.Tensor, scale: torch.Tensor):
    ref = st.lognorm(s=scale.numpy()[None], scale=np.exp(loc.numpy())[None])
    y = ref.ppf(QUANTILES[:, None])
    return ref, t64(y)


# ----------------------------------------------------------------------------------------------
# The log-normal built by hand, against SciPy in float64
# ----------------------------------------------------------------------------------------------


def test_exp_of_normal_is_lognormal():
    d = TransformedDistribution(Normal(LOC, SCALE), [PT.ExpTransform()])
    ref, y = lognormal_values(LOC, SCALE)
    rtol = 1e-12
    torch.testing.assert_close(d.log_prob(y), t64(ref.logpdf(y.numpy())), rtol=rtol, atol=0)
    torch.testing.assert_close(d.cdf(y), t64(ref.cdf(y.numpy())), rtol=rtol, atol=0)
    torch.testing.assert_close(d.log_cdf(y), t64(ref.logcdf(y.numpy())), rtol=rtol, atol=0)
    torch.testing.assert_close(d.survival_function(y), t64(ref.sf(y.numpy())), rtol=rtol, atol=0)
    torch.testing.assert_close(
        d.log_survival_function(y), t64(ref.logsf(y.numpy())), rtol=rtol, atol=0
    )
    q = t64(np.broadcast_to(QUANTILES[:, None], y.shape).copy())
    torch.testing.assert_close(d.icdf(q), y, rtol=1e-11, atol=0)


def test_decreasing_chain_uses_the_base_survival_function():
    # Y = exp(-Z) = 1 / exp(Z): decreasing, so P(Y <= y) = P(Z >= -log y), exact in the tail
    # where 1 - cdf would round to 0.
    for chain in (
        [PT.ExpTransform(), PT.PowerTransform(t64(-1.0))],  # tensor sign
        [PT.AffineTransform(0.0, -1.0), PT.ExpTransform()],  # number sign
    ):
        d = TransformedDistribution(Normal(LOC, SCALE), chain)
        ref, y = lognormal_values(-LOC, SCALE)
        torch.testing.assert_close(d.cdf(y), t64(ref.cdf(y.numpy())), rtol=1e-11, atol=0)
        torch.testing.assert_close(d.log_cdf(y), t64(ref.logcdf(y.numpy())), rtol=1e-11, atol=0)
        torch.testing.assert_close(
            d.survival_function(y), t64(ref.sf(y.numpy())), rtol=1e-11, atol=0
        )
        torch.testing.assert_close(d.log_prob(y), t64(ref.logpdf(y.numpy())), rtol=1e-11, atol=0)
        q = t64([0.01, 0.5, 0.99])[:, None].expand(3, 3)
        torch.testing.assert_close(d.icdf(q), t64(ref.ppf(q.numpy())), rtol=1e-11, atol=0)
    theirs = td.TransformedDistribution(
        td.Normal(LOC, SCALE), [td.ExpTransform(), td.PowerTransform(t64(-1.0))]
    )
    assert (theirs.cdf(y[:2]) == 0).any()  # what torch gives in that tail


def test_cdf_needs_monotone_transforms():
    d = TransformedDistribution(
        Normal(torch.zeros(3, dtype=F64), 1.0), [PT.StickBreakingTransform()]
    )
    with pytest.raises(NotImplementedError):
        d.cdf(d.sample())


def test_saturated_tanh_normal_has_a_finite_log_prob():
    # SAC: actions tanh(u) that rounded to +-1 in float32
    d = TransformedDistribution(Normal(torch.zeros(2), torch.ones(2)), [PT.TanhTransform()])
    lp = d.log_prob(torch.tensor([1.0, -1.0]))
    assert torch.isfinite(lp).all()


# ----------------------------------------------------------------------------------------------
# Shapes and parity with torch.distributions
# ----------------------------------------------------------------------------------------------

Z23 = torch.zeros(2, 3, dtype=F64)
O23 = torch.ones(2, 3, dtype=F64)

BUILDS = {
    "exp": lambda D, T: (D.Normal(LOC, SCALE), [T.ExpTransform()]),
    "logistic": lambda D, T: (
        D.Uniform(t64(0.0), t64(1.0)),
        [T.SigmoidTransform().inv, T.AffineTransform(t64(1.0), t64(2.0))],
    ),
    "compose": lambda D, T: (
        D.Normal(LOC, SCALE),
        T.ComposeTransform([T.AffineTransform(1.0, 0.5), T.ExpTransform()]),
    ),
    "affine-broadcasts-base": lambda D, T: (
        D.Normal(t64(0.0), t64(1.0)),
        [T.AffineTransform(LOC, SCALE[:, None])],
    ),
    "stick-breaking": lambda D, T: (D.Normal(Z23, O23), [T.StickBreakingTransform()]),
    "corr-cholesky": lambda D, T: (
        D.Normal(torch.zeros(2, 3, dtype=F64), 1.0),
        [T.CorrCholeskyTransform()],
    ),
    "reshape": lambda D, T: (
        D.Normal(Z23, O23),
        [T.ReshapeTransform((2, 3), (3, 2)), T.ExpTransform()],
    ),
    "independent-affine": lambda D, T: (
        D.Normal(Z23, O23),
        [T.AffineTransform(LOC, 2.0, event_dim=1)],
    ),
    "empty": lambda D, T: (D.Normal(LOC, SCALE), []),
}


class _OursD:
    Normal = Normal
    Uniform = Uniform


def build(name: str, lib: str = "torchprob", **kwargs):
    if lib == "torch":
        base, transforms = BUILDS[name](td, td.transforms)
        return td.TransformedDistribution(base, transforms, **kwargs)
    base, transforms = BUILDS[name](_OursD, PT)
    return TransformedDistribution(base, transforms, **kwargs)


@pytest.mark.parametrize("name", list(BUILDS))
def test_shapes_and_parity_with_torch(name):
    ours, theirs = build(name), build(name, "torch")
    assert ours.batch_shape == theirs.batch_shape
    assert ours.event_shape == theirs.event_shape
    assert ours.base_dist.batch_shape == theirs.base_dist.batch_shape
    assert ours.base_dist.event_shape == theirs.base_dist.event_shape
    assert type(ours.support).__name__ == type(theirs.support).__name__
    assert ours.support.event_dim == theirs.support.event_dim
    y = theirs.sample((4,))
    assert bool(ours.support.check(y).all())
    torch.testing.assert_close(ours.log_prob(y), theirs.log_prob(y), rtol=1e-10, atol=1e-10)
    s = ours.sample((5,))
    assert s.shape == (5,) + ours.batch_shape + ours.event_shape
    assert bool(ours.support.check(s).all())
    assert ours.log_prob(s).shape == (5,) + ours.batch_shape


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Transform"):
        TransformedDistribution(Normal(0.0, 1.0), "exp")
    with pytest.raises(ValueError, match="list of Transforms"):
        TransformedDistribution(Normal(0.0, 1.0), [PT.ExpTransform(), "exp"])
    with pytest.raises(ValueError, match="at least 1 dimensions"):
        TransformedDistribution(Normal(0.0, 1.0), [PT.StickBreakingTransform()])
    d = TransformedDistribution(Normal(0.0, 1.0), PT.ExpTransform())
    assert isinstance(d.transforms, list) and len(d.transforms) == 1
    assert TransformedDistribution.arg_constraints == {}


def test_validation_of_values():
    d = TransformedDistribution(Normal(LOC, SCALE), [PT.ExpTransform()], validate_args=True)
    with pytest.raises(ValueError, match="support"):
        d.log_prob(t64([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="support"):
        d.cdf(t64([1.0, -1.0, 1.0]))
    base = Normal(LOC, SCALE, validate_args=False)  # the base validates its own values
    quiet = TransformedDistribution(base, [PT.ExpTransform()], validate_args=False)
    assert torch.isnan(quiet.log_prob(t64([1.0, -1.0, 1.0]))[1])


def test_has_rsample_follows_the_base():
    assert TransformedDistribution(Normal(0.0, 1.0), [PT.ExpTransform()]).has_rsample
    d = TransformedDistribution(Bernoulli(t64(0.3)), [PT.AffineTransform(1.0, 2.0)])
    assert not d.has_rsample
    assert set(d.sample((200,)).unique().tolist()) <= {1.0, 3.0}


# ----------------------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------------------


def test_sample_and_rsample_with_generator():
    loc = LOC.clone().requires_grad_()
    d = TransformedDistribution(
        Normal(loc, SCALE), [PT.AffineTransform(1.0, 2.0), PT.ExpTransform()]
    )
    a = d.sample((4,), generator=torch.Generator().manual_seed(3))
    b = d.sample((4,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not a.requires_grad and a.shape == (4, 3)
    r = d.rsample((4,), generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(r.detach(), a)
    (grad,) = torch.autograd.grad(r.sum(), loc)
    torch.testing.assert_close(grad, 2 * a.sum(0))
    torch.manual_seed(0)
    assert d.rsample().shape == (3,)


def test_base_without_generator_keyword_is_called_without_it():
    class Plain(Normal):
        def rsample(self, sample_shape=()):  # an old-style override
            return super().rsample(sample_shape)

        def sample(self, sample_shape=()):
            return super().sample(sample_shape)

    d = TransformedDistribution(Plain(0.0, 1.0), [PT.ExpTransform()])
    assert d.sample((2,)).shape == (2,) and d.rsample().shape == ()


# ----------------------------------------------------------------------------------------------
# expand, indexing, to, pickling
# ----------------------------------------------------------------------------------------------


def test_expand():
    d = build("exp")
    e = d.expand((4, 3))
    assert type(e) is TransformedDistribution and e.batch_shape == (4, 3)
    y = d.sample((4,))
    torch.testing.assert_close(e.log_prob(y), d.log_prob(y))
    assert e.transforms is d.transforms
    a = build("affine-broadcasts-base")  # transforms with batch-shaped parameters
    assert a.batch_shape == (3, 3)
    e = a.expand((2, 3, 3))
    y = a.sample()
    torch.testing.assert_close(e.log_prob(y), a.log_prob(y).expand(2, 3, 3))
    s = build("stick-breaking").expand((5, 2))
    assert s.batch_shape == (5, 2) and s.event_shape == (4,)
    with pytest.raises((ValueError, RuntimeError)):
        d.expand((2,))


def test_indexing_batch_free():
    d = build("stick-breaking")
    y = d.sample((3,))
    torch.testing.assert_close(d[1].log_prob(y[:, 1]), d.log_prob(y)[:, 1])
    assert d[1].event_shape == (4,) and d[1].batch_shape == ()
    e = build("exp")
    torch.testing.assert_close(
        e[1:].log_prob(t64([1.0, 2.0])), e.log_prob(t64([0.5, 1.0, 2.0]))[1:]
    )
    with pytest.raises(NotImplementedError, match="batch-shaped parameters"):
        build("affine-broadcasts-base")[0]


def test_to_moves_base_and_transforms():
    d = TransformedDistribution(
        Normal(LOC, SCALE), [PT.AffineTransform(t64(1.0), t64(2.0)), PT.ExpTransform()]
    )
    f = d.to(dtype=torch.float32)
    assert f.base_dist.loc.dtype == torch.float32
    assert f.transforms[0].loc.dtype == torch.float32 and f.transforms[1] is d.transforms[1]
    y = d.sample()
    torch.testing.assert_close(f.log_prob(y.float()), d.log_prob(y).float())


def test_pickle_and_copy():
    d = build("compose")
    y = d.sample((2,))
    d.log_prob(y)
    for clone in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), copy.copy(d)):
        torch.testing.assert_close(clone.log_prob(y), d.log_prob(y))


# ----------------------------------------------------------------------------------------------
# Subclasses
# ----------------------------------------------------------------------------------------------


class LazyLogNormal(TransformedDistribution):
    """A family with its own parameters that never calls ``TransformedDistribution.__init__``."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        Distribution.__init__(self, self.loc.shape, validate_args=validate_args)

    @lazy_property
    def base_dist(self):
        return Normal(self.loc, self.scale)

    @lazy_property
    def transforms(self):
        return [PT.ExpTransform()]

    @property
    def mean(self):
        return (self.loc + self.scale.square() / 2).exp()


def test_lazy_subclass_without_transformed_init():
    d = LazyLogNormal(LOC, SCALE)
    assert isinstance(d, TransformedDistribution)
    assert "base_dist" not in d.__dict__  # nothing built at construction
    ref, y = lognormal_values(LOC, SCALE)
    torch.testing.assert_close(d.log_prob(y), t64(ref.logpdf(y.numpy())), rtol=1e-12, atol=0)
    torch.testing.assert_close(d.cdf(y), t64(ref.cdf(y.numpy())), rtol=1e-12, atol=0)
    assert d.support.check(d.sample((2,), generator=torch.Generator().manual_seed(0))).all()
    e = d.expand((2, 3))
    assert type(e) is LazyLogNormal and e.batch_shape == (2, 3) and e.loc.shape == (2, 3)
    torch.testing.assert_close(d[1:].log_prob(y[:, 1:]), d.log_prob(y)[:, 1:])
    assert d.to(dtype=torch.float32).loc.dtype == torch.float32
    assert pickle.loads(pickle.dumps(d)).log_prob(y).allclose(d.log_prob(y))
    with pytest.raises(ValueError, match="scale"):
        LazyLogNormal(0.0, -1.0, validate_args=True)


class TorchStyle(TransformedDistribution):
    """The torch pattern: ``super().__init__`` and an ``expand`` through ``_instance``."""

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(Normal(loc, scale), PT.ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(TorchStyle, _instance)
        return super().expand(batch_shape, _instance=new)


def test_torch_style_subclass():
    d = TorchStyle(LOC, SCALE)
    e = d.expand((2, 3))
    assert type(e) is TorchStyle and e.batch_shape == (2, 3)
    y = d.sample()
    torch.testing.assert_close(e.log_prob(y), d.log_prob(y).expand(2, 3))
    assert type(d[0]) is TorchStyle and d[0].batch_shape == ()
    assert math.isclose(d[0].log_prob(y[0]).item(), d.log_prob(y)[0].item())
