"""Float64 accuracy in the tails, against mpmath at 50 digits (where SciPy is not exact enough)."""

from __future__ import annotations

import mpmath as mp
import pytest
import torch

import torchprob as tp

mp.mp.dps = 50
RTOL = 1e-13


def t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def assert_rel(actual: torch.Tensor, expected: list, rtol: float = RTOL) -> None:
    for a, e in zip(actual.reshape(-1).tolist(), expected):
        e = float(e)
        assert a == e or abs(a - e) <= rtol * abs(e), (a, e)


def mp_norm_logpdf(x, mu, s):
    x, mu, s = mp.mpf(x), mp.mpf(mu), mp.mpf(s)
    return -(((x - mu) / s) ** 2) / 2 - mp.log(s) - mp.log(2 * mp.pi) / 2


def mp_norm_cdf(x, mu, s):
    return mp.ncdf((mp.mpf(x) - mu) / s)


@pytest.mark.parametrize("z", [-38.0, -30.0, -10.0, -1e-8, 0.0, 3.0, 8.0, 40.0])
def test_normal_tails(z):
    loc, scale = 2.5, 1e-3
    x = t(loc + z * scale)
    d = tp.Normal(t(loc), t(scale))
    xv = x.item()
    assert_rel(d.log_prob(x), [mp_norm_logpdf(xv, loc, scale)])
    # The cdf is exact in the lower tail (torch's 0.5 * (1 + erf) underflows below z = -8).
    assert_rel(d.cdf(x), [mp_norm_cdf(xv, loc, scale)], rtol=1e-11)


@pytest.mark.parametrize("p", [1e-300, 1e-100, 1e-20, 1e-5, 0.3, 0.5, 0.999])
def test_normal_icdf_tails(p):
    d = tp.Normal(t(0.0), t(1.0))
    with mp.workdps(400):  # 2p - 1 must keep p's digits next to -1
        expected = mp.sqrt(2) * mp.erfinv(2 * mp.mpf(p) - 1)
    assert_rel(d.icdf(t(p)), [expected], rtol=1e-12)


@pytest.mark.parametrize("x", [1e-300, 1e-20, 1e-8, 0.5, 30.0, 700.0])
def test_exponential_cdf_small_and_large(x):
    rate = 1.5
    d = tp.Exponential(t(rate))
    expected = -mp.expm1(-rate * mp.mpf(x))
    assert_rel(d.cdf(t(x)), [expected])
    if float(expected) < 1:
        assert_rel(d.icdf(d.cdf(t(x))), [x], rtol=1e-12)


@pytest.mark.parametrize("logit", [-700.0, -50.0, -1e-10, 0.0, 1e-10, 36.0, 50.0, 700.0])
def test_bernoulli_logits_log_prob_and_entropy(logit):
    d = tp.Bernoulli(logits=t(logit))
    lg = mp.mpf(logit)
    log_p1 = -mp.log1p(mp.exp(-lg))
    log_p0 = -mp.log1p(mp.exp(lg))
    assert_rel(d.log_prob(t(1.0)), [log_p1])
    assert_rel(d.log_prob(t(0.0)), [log_p0])
    entropy = -(mp.exp(log_p1) * log_p1 + mp.exp(log_p0) * log_p0)
    assert_rel(d.entropy(), [entropy], rtol=1e-12)


def test_bernoulli_soft_targets_match_torch():
    """log_prob at values in (0, 1) (a VAE's grayscale pixels) keeps torch's formula."""
    logits = torch.randn(50, dtype=torch.float64) * 5
    x = torch.rand(50, dtype=torch.float64)
    ours = tp.Bernoulli(logits=logits, validate_args=False).log_prob(x)
    theirs = torch.distributions.Bernoulli(logits=logits, validate_args=False).log_prob(x)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [1e-300, 1e-16, 0.25, 1 - 1e-16])
def test_bernoulli_probs_exact(p):
    d = tp.Bernoulli(probs=t(p))
    assert_rel(d.log_prob(t(1.0)), [mp.log(mp.mpf(p))])
    assert_rel(d.log_prob(t(0.0)), [mp.log1p(-mp.mpf(p))])


def test_categorical_extreme_logits():
    logits = t([50.0, -50.0, 0.0, -700.0])
    d = tp.Categorical(logits=logits)
    norm = mp.log(sum(mp.exp(mp.mpf(v)) for v in logits.tolist()))
    expected = [mp.mpf(v) - norm for v in logits.tolist()]
    # Logits are normalized once at construction (as torch does): log p for p near 1 is exact
    # to an absolute 1e-15, not relatively (log p_0 = -1.9e-22 comes out as 0).
    actual = d.log_prob(torch.arange(4))
    assert abs(actual[0].item() - float(expected[0])) < 1e-15
    assert_rel(actual[1:], expected[1:])
    probs = [mp.exp(e) for e in expected]
    entropy = -sum(p * e for p, e in zip(probs, expected))
    assert abs(d.entropy().item() - float(entropy)) < 1e-15  # absolute, for the reason above


def test_float32_normal_log_prob_large_tensor_path():
    """The in-place (no-grad) and autograd paths of Normal.log_prob agree."""
    x = torch.randn(1000) * 10
    loc, scale = torch.tensor(1.0), torch.tensor(2.0, requires_grad=True)
    with_grad = tp.Normal(loc, scale).log_prob(x)
    with torch.no_grad():
        no_grad = tp.Normal(loc, scale).log_prob(x)
    torch.testing.assert_close(with_grad.detach(), no_grad)
    with_grad.sum().backward()
    assert scale.grad is not None and torch.isfinite(scale.grad)


@pytest.mark.parametrize("p", [0.0, 1e-300, 0.3, 1.0])
def test_bernoulli_large_value_route_matches_small(p):
    """The one-pass route for big value tensors equals the exact xlogy route, boundaries too."""
    d = tp.Bernoulli(probs=t(p), validate_args=False)
    x = torch.rand(1 << 17, dtype=torch.float64)
    x[:1000] = 0.0
    x[1000:2000] = 1.0
    big = d.log_prob(x)
    small = torch.cat([d.log_prob(chunk) for chunk in x.split(1000)])
    torch.testing.assert_close(big, small, rtol=1e-15, atol=0)
