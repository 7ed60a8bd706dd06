"""MultivariateNormal, LowRankMultivariateNormal, Wishart, LKJCholesky: what the generic suite
does not cover (mpmath references for ill-conditioned matrices, sample covariances, pathwise
gradients by finite differences, KL pairs, LKJ normalization and marginals)."""

from __future__ import annotations

import copy
import math
import pickle
import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st
import torch
import torch.distributions as td

from torchprob import constraints
from torchprob.kl import kl_divergence
from torchprob.multivariate.lkj_cholesky import LKJCholesky
from torchprob.multivariate.low_rank_multivariate_normal import LowRankMultivariateNormal
from torchprob.multivariate.multivariate_normal import MultivariateNormal
from torchprob.multivariate.wishart import Wishart

from . import examples  # noqa: F401  (the table first: area modules import it at load time)
from .examples_multivariate import badly_scaled, spd

F64 = torch.float64


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=F64)


# --------------------------------------------------------------------------------------------
# mpmath references (50 digits, from the exact float64 entries)
# --------------------------------------------------------------------------------------------


def mp_mvn_logpdf(cov: mp.matrix, loc: torch.Tensor, x: torch.Tensor) -> np.ndarray:
    """Call under ``mp.workdps(50)``, with ``cov`` built there too."""
    with mp.workdps(50):
        chol = mp.cholesky(cov)
        d = cov.rows
        half_log_det = sum(mp.log(chol[i, i]) for i in range(d))
        out = []
        for row in x.tolist():
            diff = mp.matrix([mp.mpf(a) - mp.mpf(b) for a, b in zip(row, loc.tolist())])
            z = mp.lu_solve(chol, diff)
            out.append(-sum(v**2 for v in z) / 2 - half_log_det - d * mp.log(2 * mp.pi) / 2)
        return np.array([float(v) for v in out])


def mp_matrix(a: torch.Tensor) -> mp.matrix:
    return mp.matrix(a.tolist())


def mp_wishart_logpdf(df: float, scale: torch.Tensor, xs: torch.Tensor) -> np.ndarray:
    with mp.workdps(50):
        p, nu, sigma = scale.shape[-1], mp.mpf(df), mp_matrix(scale)
        inv = sigma**-1
        log_gamma_p = p * (p - 1) / 4 * mp.log(mp.pi) + sum(
            mp.loggamma(nu / 2 - mp.mpf(j) / 2) for j in range(p)
        )
        out = []
        for x in xs:
            xm = mp_matrix(x)
            trace = sum((inv * xm)[i, i] for i in range(p))
            out.append(
                (nu - p - 1) / 2 * mp.log(mp.det(xm))
                - trace / 2
                - nu * p / 2 * mp.log(2)
                - nu / 2 * mp.log(mp.det(sigma))
                - log_gamma_p
            )
        return np.array([float(v) for v in out])


def rel_err(actual: torch.Tensor, expected: np.ndarray) -> float:
    return float(np.max(np.abs(actual.detach().numpy() - expected) / np.abs(expected)))


@pytest.mark.parametrize(
    "name, cov, tol",
    [  # up to cond * eps is inherent in the quadratic form, whatever the algorithm
        ("cond-1e8", spd(10, 1e8, 2), 1e-8),
        ("cond-1e12", spd(8, 1e12, 7), 1e-4),
        ("badly-scaled-1e16", badly_scaled(6, 1e4, 4), 1e-14),  # Cholesky is scale invariant
    ],
)
def test_mvn_log_prob_mpmath(name, cov, tol):
    d = cov.shape[-1]
    loc = torch.linspace(-1, 1, d, dtype=F64)
    with mp.workdps(50):
        for kind in ("covariance_matrix", "precision_matrix"):
            dist = MultivariateNormal(loc, **{kind: cov})
            x = dist.sample((4,), generator=gen(1))
            ref_cov = mp_matrix(cov) if kind == "covariance_matrix" else mp_matrix(cov) ** -1
            assert rel_err(dist.log_prob(x), mp_mvn_logpdf(ref_cov, loc, x)) < tol, kind
        dist = MultivariateNormal(loc, scale_tril=torch.linalg.cholesky(cov))
        x = dist.sample((4,), generator=gen(2))
        ref = mp_mvn_logpdf(mp_matrix(dist.scale_tril) * mp_matrix(dist.scale_tril).T, loc, x)
    assert rel_err(dist.log_prob(x), ref) < tol  # solves with L itself: cond(L) * eps


def test_lowrank_low_noise_mpmath():
    """Woodbury as a least-squares value keeps full precision where torch's difference of two
    large terms loses half the digits (cov_diag 1e-8 under a unit factor)."""
    W = t([[3.0, 0.5], [1.0, -1.0], [-2.0, 0.0], [1.0, 2.0], [0.0, 1.0]])
    D = t([1e-8, 2e-8, 1e-8, 3e-8, 1e-8])
    loc = t([0.0, 1.0, -1.0, 0.5, 0.0])
    dist = LowRankMultivariateNormal(loc, W, D)
    x = dist.sample((5,), generator=gen(3))
    x = torch.cat([x, x + 1e-4])  # on and off the factor's span
    with mp.workdps(50):
        cov = mp_matrix(W) * mp_matrix(W).T + mp.diag([mp.mpf(v) for v in D.tolist()])
        ref = mp_mvn_logpdf(cov, loc, x)
    assert rel_err(dist.log_prob(x), ref) < 1e-12
    assert rel_err(td.LowRankMultivariateNormal(loc, W, D).log_prob(x), ref) > 1e-10  # torch


@pytest.mark.parametrize(
    "df, scale",
    [(4.0, torch.eye(3, dtype=F64)), (6.0, spd(4, 1e6, 6)), (8.0, badly_scaled(5, 1e3, 1))],
)
def test_wishart_log_prob_mpmath(df, scale):
    dist = Wishart(t(df), covariance_matrix=scale)
    x = dist.sample((4,), generator=gen(4))
    x = (x + x.mT) / 2
    assert rel_err(dist.log_prob(x), mp_wishart_logpdf(df, scale, x)) < 1e-11
    precision = Wishart(
        t(df), precision_matrix=torch.cholesky_inverse(torch.linalg.cholesky(scale))
    )
    close = np.testing.assert_allclose
    close(precision.log_prob(x).numpy(), dist.log_prob(x).numpy(), rtol=1e-7)


def test_wishart_scipy_entropy_and_outside_cone():
    scale = spd(3, 30.0, 8)
    dist = Wishart(t([3.5, 9.0]), covariance_matrix=scale)
    expected = [st.wishart(df, scale.numpy()).entropy() for df in (3.5, 9.0)]
    np.testing.assert_allclose(dist.entropy().numpy(), expected, rtol=1e-12)
    not_pd = torch.diag(t([1.0, -1.0, 1.0]))
    d = Wishart(t(5.0), covariance_matrix=scale, validate_args=False)
    assert d.log_prob(not_pd).item() == -math.inf  # density 0 off the cone, not a finite number


# --------------------------------------------------------------------------------------------
# Construction: validation before factorization, lazy factors, broadcasting, expand/indexing
# --------------------------------------------------------------------------------------------


NOT_PD = t([[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("name", ["covariance_matrix", "precision_matrix"])
def test_non_positive_definite_names_parameter(name):
    with pytest.raises(ValueError, match=rf"parameter {name} .*PositiveDefinite"):
        MultivariateNormal(torch.zeros(2, dtype=F64), **{name: NOT_PD}, validate_args=True)
    with pytest.raises(ValueError, match=rf"parameter {name} .*PositiveDefinite"):
        Wishart(t(3.0), **{name: NOT_PD}, validate_args=True)
    lazy = MultivariateNormal(torch.zeros(2, dtype=F64), **{name: NOT_PD}, validate_args=False)
    with pytest.raises(torch.linalg.LinAlgError):  # torch's own error, on first use
        lazy.log_prob(torch.zeros(2, dtype=F64))


def test_no_factorization_at_construction():
    d = MultivariateNormal(torch.zeros(3), covariance_matrix=torch.eye(3), validate_args=False)
    lr = LowRankMultivariateNormal(torch.zeros(3), torch.ones(3, 1), torch.ones(3))
    w = Wishart(4.0, covariance_matrix=torch.eye(3))
    assert "_whitening" not in d.__dict__ and "_woodbury" not in lr.__dict__
    assert "_whitening" not in w.__dict__
    # validation factorizes a covariance matrix to check it: that factor is the one kept
    cov = spd(4, 10.0, 3)
    checked = MultivariateNormal(torch.zeros(4, dtype=F64), cov, validate_args=True)
    assert "_whitening" in checked.__dict__
    torch.testing.assert_close(checked._whitening[0], torch.linalg.cholesky(cov))
    x = torch.randn(5, 4, generator=gen(), dtype=F64)
    lazy = MultivariateNormal(torch.zeros(4, dtype=F64), cov, validate_args=False)
    torch.testing.assert_close(checked.log_prob(x), lazy.log_prob(x))
    with pytest.raises(ValueError, match="Exactly one"):
        MultivariateNormal(torch.zeros(2), torch.eye(2), scale_tril=torch.eye(2))
    with pytest.raises(ValueError, match="Incompatible batch shapes"):
        MultivariateNormal(torch.zeros(3, 2), torch.eye(2).expand(4, 2, 2))


def test_mvn_broadcasting_expand_indexing():
    """A matrix with fewer batch dims than loc is factorized once, also after expand/indexing."""
    cov = spd(3, 10.0, 9)
    loc = torch.randn(4, 2, 3, generator=gen(), dtype=F64)
    d = MultivariateNormal(loc, precision_matrix=cov)
    theirs = td.MultivariateNormal(loc, precision_matrix=cov)
    assert d.batch_shape == (4, 2) and d.precision_matrix.shape == (4, 2, 3, 3)
    x = d.sample((5,), generator=gen(1))
    np.testing.assert_allclose(d.log_prob(x), theirs.log_prob(x), rtol=1e-12)
    e = d.expand((6, 4, 2))
    assert e._whitening[0].shape == (3, 3)  # the expand's copies were not factorized
    np.testing.assert_allclose(e.log_prob(x[:, None]), d.log_prob(x)[:, None].expand(5, 6, 4, 2))
    np.testing.assert_allclose(d[1:3, 0].log_prob(x[:, 1:3, 0]), d.log_prob(x)[:, 1:3, 0])
    assert d[1:3, 0]._whitening[0].shape == (3, 3)
    # the other way round: a batch of matrices, one loc
    d2 = MultivariateNormal(loc[0, 0], scale_tril=torch.linalg.cholesky(spd(3, 5.0, 1, (4,))))
    assert d2.loc.shape == (4, 3) and d2.batch_shape == (4,)
    np.testing.assert_allclose(d2[2].log_prob(x[:, 0, 0]), d2.log_prob(x[:, :1, 0])[:, 2])


def test_lowrank_shapes_and_lazy_matrices():
    W = torch.randn(2, 5, 2, generator=gen(), dtype=F64)
    D = torch.rand(5, generator=gen(1), dtype=F64) + 0.5
    loc = torch.randn(3, 1, 5, generator=gen(2), dtype=F64)
    ours, theirs = LowRankMultivariateNormal(loc, W, D), td.LowRankMultivariateNormal(loc, W, D)
    assert ours.batch_shape == theirs.batch_shape == (3, 2)
    assert ours._capacitance_tril.shape == (2, 2, 2)  # m x m only
    for name in ("covariance_matrix", "precision_matrix", "scale_tril", "variance", "entropy"):
        a, b = getattr(ours, name), getattr(theirs, name)
        a, b = (a(), b()) if callable(a) else (a, b)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
    big = LowRankMultivariateNormal(torch.zeros(4000), torch.ones(4000, 2), torch.ones(4000))
    assert big.log_prob(torch.zeros(4000)).isfinite()  # no dense 4000 x 4000 anywhere


# --------------------------------------------------------------------------------------------
# Samples: means and covariances
# --------------------------------------------------------------------------------------------


def assert_covariance(draws: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor) -> None:
    """Sample mean and covariance within 6 standard errors (normal theory)."""
    n = draws.shape[0]
    var = cov.diagonal(dim1=-2, dim2=-1)
    z = (draws.mean(0) - mean) / (var / n).sqrt()
    assert z.abs().max() < 6, z
    centred = draws - mean
    sample_cov = torch.einsum("n...i,n...j->...ij", centred, centred) / n
    se = ((var[..., :, None] * var[..., None, :] + cov.square()) / n).sqrt()
    z = (sample_cov - cov) / se
    assert z.abs().max() < 6, z


def test_sample_mean_and_covariance():
    loc = t([[1.0, -1.0, 0.0], [0.0, 2.0, 5.0]])
    cov = spd(3, 50.0, 10, (2,)) * 3
    n = 40000
    for kind, value in (
        ("covariance_matrix", cov),
        ("precision_matrix", torch.cholesky_inverse(torch.linalg.cholesky(cov))),
        ("scale_tril", torch.linalg.cholesky(cov)),
    ):
        d = MultivariateNormal(loc, **{kind: value})
        assert_covariance(d.rsample((n,), generator=gen(11)), loc, cov)
    W, D = t([[1.0, 0.0], [0.5, 1.0], [-1.0, 2.0]]), t([0.2, 0.5, 1.0])
    lr = LowRankMultivariateNormal(loc, W, D)
    assert_covariance(lr.rsample((n,), generator=gen(12)), loc, lr.covariance_matrix)


def test_wishart_sample_mean_and_variance():
    scale = spd(3, 20.0, 13)
    df = t([2.5, 4.0, 30.0])
    d = Wishart(df, covariance_matrix=scale)
    n = 20000
    draws = d.sample((n,), generator=gen(14))
    assert constraints.positive_definite.check(draws).all()
    z = (draws.mean(0) - df[:, None, None] * scale) / (d.variance / n).sqrt()
    assert z.abs().max() < 6, z
    np.testing.assert_allclose(draws.var(0) / d.variance, np.ones((3, 3, 3)), atol=0.15)


# --------------------------------------------------------------------------------------------
# Pathwise gradients: finite differences of same-seed draws
# --------------------------------------------------------------------------------------------


def fd_check(build, params: dict[str, torch.Tensor], mask: dict[str, torch.Tensor]) -> None:
    """Pathwise gradients of ``build(**params).rsample`` against central differences over the
    entries ``mask`` selects, the draws seeded alike."""

    def draws(p):
        return build(**p).rsample((3,), generator=gen(21))

    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
    grads = torch.autograd.grad(draws(leaves).sum(), list(leaves.values()))
    for (name, base), grad in zip(params.items(), grads):
        for i in mask[name].flatten().nonzero().flatten().tolist():
            h = 1e-6 * max(abs(base.flatten()[i].item()), 1.0)
            plus, minus = base.clone(), base.clone()
            plus.view(-1)[i] += h
            minus.view(-1)[i] -= h
            fd = ((draws({**params, name: plus}) - draws({**params, name: minus})) / (2 * h)).sum()
            assert abs(grad.flatten()[i].item() - fd.item()) < 1e-6 * (1 + abs(fd.item())), (
                name,
                i,
            )


def test_rsample_gradients():
    loc = t([[0.5, -1.0, 2.0]])
    cov = spd(3, 20.0, 15)
    tril = torch.linalg.cholesky(cov).contiguous()
    everywhere = torch.ones(3, 3, dtype=torch.bool)
    lower = torch.ones(3, 3, dtype=torch.bool).tril()
    for kind, value, mask in (
        ("covariance_matrix", cov, everywhere),
        ("precision_matrix", cov, everywhere),
        ("scale_tril", tril, lower),  # an upper entry leaves the constraint
    ):
        fd_check(
            lambda loc, m, kind=kind: MultivariateNormal(loc, **{kind: m}),
            {"loc": loc, "m": value},
            {"loc": torch.ones(1, 3, dtype=torch.bool), "m": mask},
        )
    for kind, value, mask in (("precision_matrix", cov, everywhere), ("scale_tril", tril, lower)):
        # df fixed: the gamma draws' implicit gradient is not a same-seed derivative
        fd_check(lambda m, kind=kind: Wishart(t(5.0), **{kind: m}), {"m": value}, {"m": mask})
    W, D = t([[1.0, 0.0], [0.5, 1.0], [-1.0, 2.0]]), t([0.2, 0.5, 1.0])
    fd_check(
        lambda W, D: LowRankMultivariateNormal(loc, W, D),
        {"W": W, "D": D},
        {"W": torch.ones(3, 2, dtype=torch.bool), "D": torch.ones(3, dtype=torch.bool)},
    )


def test_wishart_df_gradient_in_expectation():
    """d/d(df) E[tr X] = tr(Sigma): the mean of the pathwise gradients."""
    scale = spd(3, 10.0, 16)
    df = t(4.5).requires_grad_()
    draws = Wishart(df, covariance_matrix=scale).rsample((40000,), generator=gen(17))
    (grad,) = torch.autograd.grad(draws.diagonal(dim1=-2, dim2=-1).sum() / 40000, df)
    assert abs(grad.item() / scale.trace().item() - 1) < 0.03


# --------------------------------------------------------------------------------------------
# KL divergences
# --------------------------------------------------------------------------------------------


def test_kl_pairs_match_torch():
    g = gen(18)
    loc_p, loc_q = torch.randn(4, 3, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64)
    cov_p, cov_q = spd(3, 10.0, 19, (4,)), spd(3, 30.0, 20)
    W_p, D_p = (
        torch.randn(4, 3, 2, generator=g, dtype=F64),
        torch.rand(4, 3, generator=g, dtype=F64),
    )
    W_q, D_q = torch.randn(2, 1, 3, 1, generator=g, dtype=F64), torch.rand(3, dtype=F64) + 0.1
    ours = {
        "mvn_p": MultivariateNormal(loc_p, cov_p),
        "mvn_q": MultivariateNormal(loc_q, precision_matrix=cov_q),
        "lr_p": LowRankMultivariateNormal(loc_p, W_p, D_p + 0.1),
        "lr_q": LowRankMultivariateNormal(loc_q, W_q, D_q),
    }
    theirs = {
        "mvn_p": td.MultivariateNormal(loc_p, cov_p),
        "mvn_q": td.MultivariateNormal(loc_q, precision_matrix=cov_q),
        "lr_p": td.LowRankMultivariateNormal(loc_p, W_p, D_p + 0.1),
        "lr_q": td.LowRankMultivariateNormal(loc_q, W_q, D_q),
    }
    for p in ("mvn_p", "lr_p"):
        for q in ("mvn_q", "lr_q"):
            expected = td.kl_divergence(theirs[p], theirs[q])
            actual = kl_divergence(ours[p], ours[q])
            assert actual.shape == expected.shape, (p, q)
            np.testing.assert_allclose(actual, expected.detach(), rtol=1e-10, err_msg=f"{p}|{q}")
    # a cov_diag with more batch dims than cov_factor (torch's LowRank-MVN KL fails on it)
    lr = LowRankMultivariateNormal(loc_p, W_p[0], D_p + 0.1)
    twin = td.LowRankMultivariateNormal(loc_p, W_p[0].expand(4, 3, 2), D_p + 0.1)
    expected = td.kl_divergence(twin, theirs["mvn_q"])
    np.testing.assert_allclose(kl_divergence(lr, ours["mvn_q"]), expected.detach(), rtol=1e-10)
    same = kl_divergence(
        ours["mvn_p"], MultivariateNormal(loc_p, scale_tril=ours["mvn_p"].scale_tril)
    )
    assert same.abs().max() < 1e-13
    with pytest.raises(ValueError, match="different event shapes"):
        kl_divergence(ours["mvn_p"], MultivariateNormal(torch.zeros(2), torch.eye(2)))


def test_kl_wishart_monte_carlo():
    """Closed form, batched (torch's exponential-family route returns negative values for a
    batch of Wisharts)."""
    scale = spd(3, 10.0, 22, (2,))
    p = Wishart(t([4.0, 7.0]), covariance_matrix=scale)
    q = Wishart(t([5.0, 6.0]), precision_matrix=scale * 0.5)
    x = p.sample((20000,), generator=gen(23))
    log_ratio = p.log_prob(x) - q.log_prob(x)
    se = log_ratio.std(0) / math.sqrt(x.shape[0])
    assert ((kl_divergence(p, q) - log_ratio.mean(0)).abs() < 6 * se).all()
    single = td.kl_divergence(td.Wishart(t(4.0), scale[0]), td.Wishart(t(5.0), scale[1]))
    ours = kl_divergence(Wishart(t(4.0), scale[0]), Wishart(t(5.0), scale[1]))
    np.testing.assert_allclose(ours, single.detach(), rtol=1e-10)


# --------------------------------------------------------------------------------------------
# Wishart singular-sample correction
# --------------------------------------------------------------------------------------------


def test_wishart_singular_correction():
    d = Wishart(t(4.0), covariance_matrix=torch.eye(3, dtype=F64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for ordinary draws (torch always warns)
        d.rsample((100,), generator=gen(24))
    near = Wishart(t(2.0 + 1e-12), covariance_matrix=torch.eye(3, dtype=F64), validate_args=False)
    with pytest.warns(UserWarning, match="Singular sample detected"):
        near.rsample((50,), max_try_correction=2, generator=gen(25))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        near.rsample((50,), max_try_correction=0, generator=gen(25))  # no check, no warning


# --------------------------------------------------------------------------------------------
# LKJCholesky
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("eta", [0.3, 1.0, 4.0])
def test_lkj_normalization_dim2(eta):
    """dim 2: the density of L_10 on (-1, 1) integrates to one (quad with the algebraic weight
    (1 - x^2)^(eta - 1) at both ends)."""
    d = LKJCholesky(2, t(eta))

    def density_over_weight(x: float) -> float:
        x = min(max(x, -1 + 1e-12), 1 - 1e-12)  # QUADPACK may ask for the end points
        value = torch.tensor([[1.0, 0.0], [x, math.sqrt(1 - x * x)]], dtype=F64)
        return math.exp(d.log_prob(value).item()) / (1 - x * x) ** (eta - 1)

    total, _ = si.quad(density_over_weight, -1, 1, weight="alg", wvar=(eta - 1, eta - 1))
    assert abs(total - 1) < 1e-10


@pytest.mark.parametrize("eta", [0.8, 1.0, 3.0])
def test_lkj_normalization_dim3_monte_carlo(eta):
    """dim 3: uniform points over the domain (L_10 in (-1, 1), (L_20, L_21) in the unit disk,
    volume 2 pi); the mean density times the volume is one."""
    n = 200000
    g = gen(26)
    u = torch.rand(n, 3, generator=g, dtype=F64)
    l10 = 2 * u[:, 0] - 1
    r, theta = u[:, 1].sqrt(), 2 * math.pi * u[:, 2]
    L = torch.zeros(n, 3, 3, dtype=F64)
    L[:, 0, 0] = 1
    L[:, 1, 0], L[:, 1, 1] = l10, (1 - l10**2).sqrt()
    L[:, 2, 0], L[:, 2, 1], L[:, 2, 2] = r * theta.cos(), r * theta.sin(), (1 - r**2).sqrt()
    weights = LKJCholesky(3, t(eta), validate_args=False).log_prob(L).exp() * (2 * math.pi)
    se = weights.std() / math.sqrt(n)
    assert se < 0.01 and abs(weights.mean() - 1) < 6 * se


@pytest.mark.parametrize("dim, eta", [(3, 1.0), (4, 0.5), (5, 3.0)])
def test_lkj_samples(dim, eta):
    """Valid Cholesky factors of correlation matrices, whose off-diagonal correlations have the
    LKJ marginal Beta(eta - 1 + dim/2, same) on (-1, 1) (torch's sampler fails this for dim > 2:
    its onion Beta parameters are off by a half for rows beyond the second)."""
    d = LKJCholesky(dim, t(eta))
    L = d.sample((20000,), generator=gen(27))
    assert constraints.corr_cholesky.check(L).all()
    corr = L @ L.mT
    np.testing.assert_allclose(corr.diagonal(dim1=-2, dim2=-1), 1.0, atol=1e-14)
    a = eta - 1 + dim / 2
    rows, cols = torch.tril_indices(dim, dim, -1)
    for i, j in zip(rows.tolist(), cols.tolist()):
        sample = (corr[:, i, j].numpy() + 1) / 2
        assert st.kstest(sample, st.beta(a, a).cdf).pvalue > 1e-6, (i, j)


def test_lkj_entropy_moments_and_to():
    d = LKJCholesky(4, t([0.5, 2.0]))
    L = d.sample((50000,), generator=gen(28))
    log_p = d.log_prob(L)
    se = log_p.std(0) / math.sqrt(L.shape[0])
    assert ((d.entropy() + log_p.mean(0)).abs() < 6 * se).all()
    z = (L.mean(0) - d.mean)[d.variance > 0] / (d.variance[d.variance > 0] / L.shape[0]).sqrt()
    assert z.abs().max() < 6
    assert torch.equal(d.mode[1], torch.eye(4, dtype=F64)) and d.mode[0].isnan().all()
    single = d.to(dtype=torch.float32)
    assert single.dim == 4 and single.concentration.dtype == torch.float32
    for twin in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d), d.expand((3, 2))[1]):
        np.testing.assert_array_equal(twin.log_prob(L[:3]), log_p[:3])
    with pytest.raises(ValueError, match="parameter concentration .*constraint"):
        LKJCholesky(3, t(-1.0), validate_args=True)
    with pytest.raises(ValueError, match="dim"):
        LKJCholesky(1, t(1.0))
    theirs = td.LKJCholesky(4, t([0.5, 2.0]))
    np.testing.assert_allclose(d.log_prob(L[:5]), theirs.log_prob(L[:5]), rtol=1e-13)
