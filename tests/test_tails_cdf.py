"""cdf, survival function and icdf of StudentT and FisherSnedecor against SciPy and mpmath, at
ordinary and extreme parameters (float64, rtol 1e-10), and icdf(cdf(x)) round trips."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.stats as st
import torch

from torchprob.continuous.fisher_snedecor import FisherSnedecor
from torchprob.continuous.student_t import StudentT

RTOL = 1e-10
DFS = [0.1, 0.5, 1.0, 2.0, 4.0, 30.0, 1e3, 1e8]
F_DFS = [(0.1, 0.5), (1.0, 4.0), (3.0, 5.0), (30.0, 1e3), (1e4, 0.5), (1e8, 1e8), (0.5, 1e8)]


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def mp_t_small_tail(x: float, df: float) -> float:
    """P(T > |x|) by mpmath, with z = df/(df + x^2) formed exactly."""
    with mp.workdps(60):
        x, df = mp.mpf(x), mp.mpf(df)
        z = df / (df + x * x)
        return float(mp.betainc(df / 2, mp.mpf(0.5), 0, z, regularized=True) / 2)


def close(actual: torch.Tensor, expected, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(actual.numpy(), expected, rtol=rtol, atol=0)


@pytest.mark.parametrize("df", DFS)
def test_student_t_cdf_sf(df: float):
    d = StudentT(t(df), t(0.0), t(1.0))
    x = t([-1e3, -30.0, -3.0, -1.0, -1e-3, -1e-12, 0.0, 1e-12, 0.5, 2.0, 10.0, 1e4])
    close(d.cdf(x), st.t.cdf(x.numpy(), df))
    close(d.survival_function(x), st.t.sf(x.numpy(), df))
    close(d.log_cdf(x), st.t.logcdf(x.numpy(), df))


@pytest.mark.parametrize("df", [0.1, 1.0, 4.0])
def test_student_t_far_tails(df: float):
    """Far beyond SciPy's range (it returns 0 where x^2 overflows): against mpmath."""
    d = StudentT(t(df))
    x = t([-1e200, -1e120, -1e50, -1e10])
    expected = [mp_t_small_tail(v, df) for v in x.tolist()]
    close(d.cdf(x), expected)
    close(d.survival_function(-x), expected)
    assert torch.equal(d.cdf(t([-np.inf, 0.0, np.inf])), t([0.0, 0.5, 1.0]))


@pytest.mark.parametrize("df", DFS)
def test_student_t_icdf(df: float):
    d = StudentT(t(df), t(1.0), t(2.0))
    u = t([1e-10, 1e-5, 0.01, 0.3, 0.4999, 0.5, 0.5001, 0.7, 0.99, 0.9999])
    close(d.icdf(u), st.t.ppf(u.numpy(), df, loc=1.0, scale=2.0))
    # deep lower tail against the cdf (SciPy's ppf is inexact there)
    u = t([1e-300, 1e-100, 1e-30])
    x = d.icdf(u)
    finite = x.isfinite()
    close(d.cdf(x[finite]), u[finite].numpy(), rtol=1e-9)


@pytest.mark.parametrize("df", DFS)
def test_student_t_roundtrip(df: float):
    d = StudentT(t(df))
    x = t(np.linspace(-20, 20, 41))
    u = d.cdf(x)
    inner = (u > 1e-8) & (u < 1 - 1e-8)
    close(d.icdf(u)[inner], x[inner].numpy(), rtol=1e-7)
    small = t([-1e-3, -5.0, -30.0])
    close(d.icdf(d.cdf(small)), small.numpy(), rtol=1e-9)


@pytest.mark.parametrize(("df1", "df2"), F_DFS)
def test_fisher_cdf_sf(df1: float, df2: float):
    d = FisherSnedecor(t(df1), t(df2))
    x = t([1e-20, 1e-3, 0.5, 0.999, 1.0, 1.001, 2.0, 100.0, 1e6])
    close(d.cdf(x), st.f.cdf(x.numpy(), df1, df2))
    close(d.survival_function(x), st.f.sf(x.numpy(), df1, df2))
    close(d.log_survival_function(x), st.f.logsf(x.numpy(), df1, df2))


@pytest.mark.parametrize(("df1", "df2"), F_DFS)
def test_fisher_icdf(df1: float, df2: float):
    d = FisherSnedecor(t(df1), t(df2))
    u = t([1e-10, 0.01, 0.3, 0.5, 0.9, 0.9999])
    x = d.icdf(u)
    close(x, st.f.ppf(u.numpy(), df1, df2), rtol=1e-9)
    close(d.cdf(x), u.numpy())
    upper = t([1e-12, 1e-50])  # upper tail through the survival function
    close(d.survival_function(d.icdf(1 - upper)), (1 - (1 - upper)).numpy(), rtol=1e-9)


@pytest.mark.parametrize(("df1", "df2"), F_DFS)
def test_fisher_roundtrip(df1: float, df2: float):
    d = FisherSnedecor(t(df1), t(df2))
    x = t([1e-3, 0.1, 0.7, 1.0, 1.3, 5.0])
    u = d.cdf(x)
    inner = (u > 1e-8) & (u < 1 - 1e-8)
    close(d.icdf(u)[inner], x[inner].numpy(), rtol=1e-7)


def test_gradients_finite():
    df = t([0.7, 5.0]).requires_grad_()
    x = t([-3.0, 2.0]).requires_grad_()
    StudentT(df).cdf(x).sum().backward()
    assert df.grad is not None and x.grad is not None
    assert torch.isfinite(df.grad).all() and torch.isfinite(x.grad).all()
    d1 = t([0.7, 5.0]).requires_grad_()
    y = t([0.3, 2.0]).requires_grad_()
    FisherSnedecor(d1, t(3.0)).cdf(y).sum().backward()
    assert torch.isfinite(d1.grad).all() and torch.isfinite(y.grad).all()
