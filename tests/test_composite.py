"""Dirichlet against SciPy, and what is specific to Independent, MixtureSameFamily and
LogisticNormal."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st
import torch
import torch.distributions as torch_dists

import torchprob as tp

F64 = torch.float64


@pytest.mark.parametrize("k", [2, 5, 256])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e4])
def test_dirichlet_against_scipy(k, scale):
    gen = torch.Generator().manual_seed(k)
    alpha = (torch.rand(k, dtype=F64, generator=gen) + 0.5) * scale
    d = tp.Dirichlet(alpha)
    ref = st.dirichlet(alpha.numpy())
    x = d.sample((4,), generator=gen).clamp(min=1e-300)
    x = x / x.sum(-1, keepdim=True)
    for i in range(4):
        expected = ref.logpdf(x[i].numpy())
        if np.isfinite(expected):
            assert d.log_prob(x[i]).item() == pytest.approx(expected, rel=1e-10, abs=1e-10)
    assert d.entropy().item() == pytest.approx(ref.entropy(), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(d.mean.numpy(), ref.mean(), rtol=1e-12)
    np.testing.assert_allclose(d.variance.numpy(), ref.var(), rtol=1e-10)


def test_dirichlet_rsample_is_differentiable_and_normalized():
    alpha = torch.tensor([0.7, 2.0, 5.0], dtype=F64, requires_grad=True)
    x = tp.Dirichlet(alpha).rsample((1000,), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(x.sum(-1), torch.ones(1000, dtype=F64))
    (x[:, 0].mean()).backward()
    # d E[x_0] / d alpha = (alpha_0 - alpha_0 ... ) analytic: (a0 - a_0) / a0^2 for k = 0
    total = alpha.detach().sum()
    expected = (total - alpha.detach()[0]) / total**2
    assert alpha.grad[0].item() == pytest.approx(expected.item(), rel=0.1)


def test_dirichlet_kl_matches_torch():
    a = torch.rand(4, 3, dtype=F64) + 0.2
    b = torch.rand(4, 3, dtype=F64) + 0.2
    ours = tp.kl_divergence(tp.Dirichlet(a), tp.Dirichlet(b))
    theirs = torch_dists.kl_divergence(torch_dists.Dirichlet(a), torch_dists.Dirichlet(b))
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_independent_shapes_and_kl():
    base = tp.Normal(torch.zeros(4, 3, 2), torch.ones(4, 3, 2))
    d = tp.Independent(base, 2)
    assert d.batch_shape == (4,) and d.event_shape == (3, 2)
    x = d.sample((5,))
    torch.testing.assert_close(d.log_prob(x), base.log_prob(x).sum((-1, -2)))
    q = tp.Independent(tp.Normal(torch.ones(4, 3, 2), torch.ones(4, 3, 2)), 2)
    torch.testing.assert_close(tp.kl_divergence(d, q), torch.full((4,), 3.0))
    with pytest.raises(NotImplementedError):
        tp.kl_divergence(d, tp.Independent(base, 1))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        tp.Independent(base, 4)


def test_mixture_same_family_moments_and_cdf():
    logits = torch.tensor([0.0, 1.0, -1.0], dtype=F64)
    loc = torch.tensor([-3.0, 0.0, 4.0], dtype=F64)
    scale = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    mix = tp.MixtureSameFamily(tp.Categorical(logits=logits), tp.Normal(loc, scale))
    draws = mix.sample((200_000,), generator=torch.Generator().manual_seed(0))
    assert abs(draws.mean() - mix.mean) < 6 * (mix.variance / 200_000).sqrt()
    assert draws.var().item() == pytest.approx(mix.variance.item(), rel=0.02)
    grid = torch.tensor([-5.0, 0.0, 3.0], dtype=F64)
    empirical = (draws[:, None] <= grid).double().mean(0)
    torch.testing.assert_close(mix.cdf(grid), empirical, atol=5e-3, rtol=0)
    probs = logits.softmax(-1)
    expected = (probs * torch.distributions.Normal(loc, scale).cdf(grid[:, None])).sum(-1)
    torch.testing.assert_close(mix.cdf(grid), expected)


def test_mixture_rejects_mismatched_components():
    with pytest.raises(ValueError, match="component number"):
        tp.MixtureSameFamily(tp.Categorical(logits=torch.zeros(2)), tp.Normal(torch.zeros(3), 1.0))
    with pytest.raises(ValueError, match="Categorical"):
        tp.MixtureSameFamily(tp.Normal(0.0, 1.0), tp.Normal(torch.zeros(3), 1.0))  # type: ignore[arg-type]


def test_logistic_normal_matches_torch():
    loc = torch.randn(4, 3, dtype=F64)
    scale = torch.rand(4, 3, dtype=F64) + 0.3
    ours, theirs = tp.LogisticNormal(loc, scale), torch_dists.LogisticNormal(loc, scale)
    x = theirs.sample((6,))
    torch.testing.assert_close(ours.log_prob(x), theirs.log_prob(x), rtol=1e-12, atol=1e-12)
    assert isinstance(ours, tp.TransformedDistribution)
    assert ours.expand((2, 4)).batch_shape == (2, 4)


def test_dirichlet_sample_paths_draw_the_same_values():
    """Without a gradient one fused kernel draws; with one, normalized gammas: same stream."""
    alpha = torch.tensor([0.3, 2.0, 40.0], dtype=F64)
    fused = tp.Dirichlet(alpha).rsample((50,), generator=torch.Generator().manual_seed(4))
    graph = tp.Dirichlet(alpha.clone().requires_grad_()).rsample(
        (50,), generator=torch.Generator().manual_seed(4)
    )
    assert graph.requires_grad and not fused.requires_grad
    torch.testing.assert_close(fused, graph.detach(), rtol=1e-14, atol=1e-300)


def test_independent_checks_the_value_once():
    base_checks = tp.Normal(torch.zeros(3), torch.ones(3), validate_args=True)
    quiet_base = tp.Normal(torch.zeros(3), torch.ones(3), validate_args=False)
    bad = torch.tensor([0.0, float("nan"), 1.0])
    for base in (base_checks, quiet_base):  # whichever validates, the value is refused
        with pytest.raises(ValueError, match="support"):
            tp.Independent(base, 1, validate_args=True).log_prob(bad)
    with pytest.raises(ValueError, match="support"):  # a validating base still checks
        tp.Independent(base_checks, 1, validate_args=False).log_prob(bad)
    assert tp.Independent(quiet_base, 1, validate_args=False).log_prob(bad).isnan()


def test_mixture_scalar_value_check():
    mix = tp.MixtureSameFamily(
        tp.Categorical(logits=torch.zeros(2)),
        tp.Normal(torch.zeros(2), torch.ones(2), validate_args=False),
        validate_args=True,
    )
    with pytest.raises(ValueError, match="support"):
        mix.log_prob(torch.tensor(float("nan")))
    assert torch.isfinite(mix.log_prob(torch.tensor(0.5)))


def test_logistic_normal_direct_formulas():
    loc = torch.tensor([[0.5, -1.0, 2.0], [0.0, 3.0, -4.0]], dtype=F64)
    scale = torch.tensor([0.5, 1.0, 2.0], dtype=F64)
    ours, theirs = tp.LogisticNormal(loc, scale), torch_dists.LogisticNormal(loc, scale)
    x = ours.sample((5,), generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(x.sum(-1), torch.ones(5, 2, dtype=F64))
    torch.testing.assert_close(ours.log_prob(x), theirs.log_prob(x), rtol=1e-12, atol=1e-12)
    # the lazily built base and transform describe the same distribution
    via_base = ours.base_dist.log_prob(ours.transforms[0].inv(x)) - ours.transforms[
        0
    ].log_abs_det_jacobian(ours.transforms[0].inv(x), x)
    torch.testing.assert_close(ours.log_prob(x), via_base, rtol=1e-12, atol=1e-12)
    # an empty entry has density zero (torch: NaN)
    edge = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=F64)
    assert (ours.log_prob(edge) == -float("inf")).all()
    # one logit: two classes, and the rebuild machinery keeps the parameters
    two = tp.LogisticNormal(torch.tensor(0.5), torch.tensor(2.0))
    assert two.event_shape == (2,) and two.loc.shape == (1,)
    assert two.expand((3,)).sample().shape == (3, 2)
