"""The base-class contract: what every distribution inherits from ``Distribution``."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
import torch.distributions as torch_dists

import torchprob as tp
from torchprob import constraints
from torchprob.distribution import Distribution

PUBLIC = [
    "batch_shape", "event_shape", "arg_constraints", "support", "has_rsample",
    "has_enumerate_support", "sample", "rsample", "sample_n", "log_prob", "cdf", "icdf",
    "entropy", "mean", "mode", "variance", "stddev", "perplexity", "enumerate_support",
    "expand", "_extended_shape", "_validate_sample", "set_default_validate_args",
    "_get_checked_instance", "to", "__getitem__",
]  # fmt: skip


@pytest.mark.parametrize("name", PUBLIC)
def test_public_surface(name):
    assert hasattr(Distribution, name)


def test_default_validation_switch_is_process_wide_and_restorable():
    assert Distribution._validate_args is True
    try:
        Distribution.set_default_validate_args(False)
        tp.Normal(0.0, -1.0)  # no error
        with pytest.raises(ValueError):
            tp.Normal(0.0, -1.0, validate_args=True)
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        tp.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        Distribution.set_default_validate_args("yes")  # type: ignore[arg-type]


def test_torch_validation_default_untouched():
    """Importing or configuring torchprob never changes torch.distributions' own default."""
    before = torch_dists.Distribution._validate_args
    Distribution.set_default_validate_args(False)
    Distribution.set_default_validate_args(True)
    assert torch_dists.Distribution._validate_args == before


def test_error_names_parameter_constraint_and_values():
    scale = torch.tensor([1.0, -2.0, 3.0, math.nan])
    with pytest.raises(ValueError) as info:
        tp.Normal(torch.zeros(4), scale)
    text = str(info.value)
    assert "parameter scale" in text and "GreaterThan(lower_bound=0.0)" in text
    assert "scale[1] = -2" in text and "scale[3] = nan" in text
    assert "scale[0]" not in text


def test_error_lists_at_most_a_few_entries():
    with pytest.raises(ValueError, match=r"first 4 of 100 invalid"):
        tp.Exponential(-torch.ones(100))


def test_value_error_names_value_and_support():
    d = tp.Exponential(torch.ones(3))
    with pytest.raises(ValueError, match=r"GreaterThanEq.*value\[2\] = -1"):
        d.log_prob(torch.tensor([1.0, 2.0, -1.0]))
    with pytest.raises(ValueError, match="must be a Tensor"):
        d.log_prob(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not broadcastable"):
        d.log_prob(torch.ones(2))


def test_event_shape_mismatch_is_value_error():
    class Vector(Distribution):
        arg_constraints: dict = {}
        support = constraints.real_vector

        def __init__(self):
            super().__init__(torch.Size([2]), torch.Size([3]), validate_args=True)

    with pytest.raises(ValueError, match="event_shape"):
        Vector()._validate_sample(torch.zeros(2, 4))


def test_one_host_sync_per_validation(monkeypatch):
    """Multi-element parameters are folded into one boolean before a single read."""
    reads = []
    original = torch.Tensor.__bool__

    def counting(self):
        reads.append(self.shape)
        return original(self)

    monkeypatch.setattr(torch.Tensor, "__bool__", counting)
    tp.Normal(torch.zeros(50), torch.ones(50), validate_args=True)
    assert len(reads) == 1
    reads.clear()
    tp.Normal(torch.zeros(50), torch.ones(50), validate_args=False)
    assert reads == []
    tp.Normal(torch.zeros(5), torch.ones(5), validate_args=True)  # small: read as numbers
    assert reads == []


@pytest.mark.parametrize("size", [1, 5, 16, 17, 50])
def test_small_and_large_parameters_validate_alike(size):
    """The Python-number path for small CPU tensors and the tensor path agree."""
    scale = torch.ones(size)
    scale[-1] = -2.0
    with pytest.raises(ValueError, match=r"scale.* = -2"):
        tp.Normal(torch.zeros(size), scale, validate_args=True)
    scale[-1] = math.nan
    with pytest.raises(ValueError, match="scale"):
        tp.Normal(torch.zeros(size), scale, validate_args=True)
    d = tp.Normal(torch.zeros(size), torch.ones(size), validate_args=True)
    with pytest.raises(ValueError, match="support"):
        tp.Exponential(torch.ones(size), validate_args=True).log_prob(-torch.ones(size))
    assert d.log_prob(torch.zeros(size)).shape == (size,)


def test_no_validation_work_when_off(monkeypatch):
    calls = []
    monkeypatch.setattr(Distribution, "_validate_sample", lambda self, v: calls.append(v))
    d = tp.Normal(0.0, 1.0, validate_args=False)
    d.log_prob(torch.tensor(0.5))
    d.cdf(torch.tensor(0.5))
    assert calls == []


def test_sample_n_warns():
    with pytest.warns(UserWarning):
        assert tp.Normal(0.0, 1.0).sample_n(4).shape == (4,)


def test_not_implemented_methods():
    class Bare(Distribution):
        arg_constraints: dict = {}

    d = Bare()
    for method in (d.entropy, d.rsample, lambda: d.log_prob(torch.zeros(())), d.enumerate_support):
        with pytest.raises(NotImplementedError):
            method()
    for name in ("mean", "mode", "variance"):
        with pytest.raises(NotImplementedError):
            getattr(d, name)
    with pytest.raises(NotImplementedError):
        d.expand((2,))


def test_missing_arg_constraints_warns_like_torch():
    class NoTable(Distribution):
        pass

    with pytest.warns(UserWarning, match="arg_constraints"):
        NoTable(validate_args=True)


def test_user_subclass_written_for_torch_keeps_working():
    """A torch-style subclass with its own __init__ and expand, calling the torch helpers."""

    class Shifted(tp.Normal):
        def __init__(self, loc, scale, shift, validate_args=None):
            self.shift = shift
            super().__init__(loc + shift, scale, validate_args=validate_args)

        def expand(self, batch_shape, _instance=None):
            new = self._get_checked_instance(Shifted, _instance)
            new = super().expand(batch_shape, _instance=new)
            new.shift = self.shift
            return new

    d = Shifted(torch.zeros(3), torch.ones(3), 2.0)
    e = d.expand((4, 3))
    assert type(e) is Shifted and e.batch_shape == (4, 3) and e.shift == 2.0
    assert torch.equal(e.loc, torch.full((4, 3), 2.0))
    assert e._validate_args == d._validate_args

    class NoExpand(tp.Normal):
        def __init__(self, loc):
            super().__init__(loc, 1.0)

    with pytest.raises(NotImplementedError, match="custom .expand"):
        NoExpand(torch.zeros(2))._get_checked_instance(tp.Normal)


def test_lazy_parameters_rebuild_from_what_was_given():
    d = tp.Bernoulli(logits=torch.tensor([0.5, -1.0]))
    _ = d.probs  # computed lazily, cached
    assert "probs" in d.__dict__
    e = d.expand((3, 2))
    assert "logits" in e.__dict__ and "probs" not in e.__dict__
    assert d._init_kwargs().keys() == {"logits"}


def test_expand_is_a_view_and_rejects_bad_shapes():
    d = tp.Normal(torch.zeros(3), torch.ones(3))
    e = d.expand((1000, 3))
    assert e.loc.data_ptr() == d.loc.data_ptr() and e.loc.stride(0) == 0
    with pytest.raises(ValueError, match="Cannot expand"):
        d.expand((4,))


def test_indexing_with_masks_and_none():
    d = tp.Normal(torch.randn(4, 3), torch.rand(4, 3) + 0.5)
    x = torch.randn(4, 3)
    mask = torch.tensor([True, False, True, True])
    assert torch.equal(d[mask].log_prob(x[mask]), d.log_prob(x)[mask])
    assert d[None].batch_shape == (1, 4, 3)
    assert d[:, 1].batch_shape == (4,)
    c = tp.Categorical(logits=torch.randn(4, 3, 5))
    assert c[1:3, 0].batch_shape == (2,) and c[1:3, 0].logits.shape == (2, 5)


def test_repr():
    assert repr(tp.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(tp.Categorical(probs=torch.ones(2, 3))) == (
        "Categorical(probs: torch.Size([2, 3]))"
    )


def test_generator_on_every_sampler_keyword_only():
    g = torch.Generator().manual_seed(0)
    with pytest.raises(TypeError):
        tp.Normal(0.0, 1.0).sample((2,), g)  # type: ignore[misc]
    tp.Normal(0.0, 1.0).sample((2,), generator=g)


def test_bernoulli_boundaries_exact():
    d = tp.Bernoulli(probs=torch.tensor([0.0, 1.0]))
    assert torch.equal(d.log_prob(torch.tensor([1.0, 0.0])), torch.tensor([-math.inf] * 2))
    assert torch.equal(d.log_prob(torch.tensor([0.0, 1.0])), torch.zeros(2))
    assert torch.equal(d.entropy(), torch.zeros(2))


def test_kl_to_self_is_zero():
    for d in (
        tp.Normal(torch.randn(3), torch.rand(3) + 0.1),
        tp.Exponential(torch.rand(3) + 0.1),
        tp.Bernoulli(logits=torch.randn(3)),
        tp.Categorical(logits=torch.randn(3, 4)),
        tp.Uniform(torch.zeros(3), torch.ones(3)),
    ):
        assert torch.allclose(tp.kl_divergence(d, d), torch.zeros(3), atol=1e-6)


def test_no_warnings_on_ordinary_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = tp.Categorical(logits=torch.randn(3))
        d.log_prob(d.sample())
        tp.Normal(0.0, 1.0).rsample()


def test_tail_function_routes_are_chosen_per_class():
    class OnlyLogSf(Distribution):
        arg_constraints: dict = {}

        def log_survival_function(self, value):
            return -value  # Exp(1)

    class OnlyCdf(Distribution):
        arg_constraints: dict = {}

        def cdf(self, value):
            return -torch.expm1(-value)

    x = torch.tensor([1e-10, 0.5, 3.0, 40.0], dtype=torch.float64)
    for cls in (OnlyLogSf, OnlyCdf):
        d = cls()
        torch.testing.assert_close(d.cdf(x), -torch.expm1(-x), rtol=1e-12, atol=0)
        # (from the cdf, 1 - cdf cancels in the upper tail: an absolute error of eps)
        atol = 0 if cls is OnlyLogSf else 1e-16
        torch.testing.assert_close(d.survival_function(x), torch.exp(-x), rtol=1e-12, atol=atol)
        expected = torch.where(x < 0.5, torch.log(-torch.expm1(-x)), torch.log1p(-torch.exp(-x)))
        torch.testing.assert_close(d.log_cdf(x), expected, rtol=1e-12, atol=atol)
    # from the log survival function the upper tail stays exact where 1 - cdf would round to 0
    assert OnlyLogSf().log_survival_function(torch.tensor(40.0)) == -40.0

    class Nothing(Distribution):
        arg_constraints: dict = {}

    for name in ("cdf", "log_cdf", "survival_function", "log_survival_function"):
        with pytest.raises(NotImplementedError):
            getattr(Nothing(), name)(x)


@pytest.mark.parametrize("num_classes,draws", [(3, 10), (1000, 20000)])
def test_categorical_samplers_both_routes(num_classes, draws):
    """The exponential race (few draws) and inversion (many) both honour zero-probability
    classes and the class frequencies."""
    probs = torch.rand(
        2, num_classes, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    probs[:, 0] = 0.0
    probs[1, -1] = 0.0
    d = tp.Categorical(probs=probs)
    x = d.sample((draws,), generator=torch.Generator().manual_seed(0))
    assert x.shape == (draws, 2)
    assert not (x == 0).any() and not (x[:, 1] == num_classes - 1).any()
    if num_classes == 3:
        return
    counts = torch.stack([torch.bincount(x[:, i], minlength=num_classes) for i in range(2)])
    expected = draws * d.probs
    z = (counts - expected) / expected.clamp(min=1e-12).sqrt()
    assert z[expected > 0].abs().max() < 6


def test_normal_log_norm_cache_follows_the_scale():
    """A reused Normal keeps its normalizer, but not across an in-place change of the scale or
    when the scale needs a gradient."""
    scale = torch.ones(3)
    d = tp.Normal(torch.zeros(3), scale)
    x = torch.tensor([0.0, 1.0, 2.0])
    first = d.log_prob(x)
    assert torch.equal(d.log_prob(x), first)
    scale.mul_(2.0)
    torch.testing.assert_close(d.log_prob(x), torch.distributions.Normal(0.0, 2.0).log_prob(x))
    grad_scale = torch.ones(3, requires_grad=True)
    g = tp.Normal(torch.zeros(3), grad_scale)
    for _ in range(2):  # a cached graph would fail the second backward
        g.log_prob(x).sum().backward()
    assert grad_scale.grad is not None
