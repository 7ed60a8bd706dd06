"""Example instances for one family group; concatenated into ``tests/examples.py``'s table.

The heavy-tailed and extreme-value families: StudentT, FisherSnedecor, Cauchy, HalfCauchy,
Laplace, Gumbel, Weibull. Where SciPy is inexact (quantiles near 1, the F density at 1e8
degrees of freedom) or follows another convention than torch (the mean of StudentT for
df <= 1), the reference replaces those methods (``_Patched``); the tails at extreme parameters
are checked against mpmath in ``test_heavy_tails.py``.
"""

from __future__ import annotations

from typing import Any

import mpmath as mp
import numpy as np
import scipy.stats as st

from torchprob.continuous.cauchy import Cauchy
from torchprob.continuous.fisher_snedecor import FisherSnedecor
from torchprob.continuous.gumbel import Gumbel
from torchprob.continuous.half_cauchy import HalfCauchy
from torchprob.continuous.laplace import Laplace
from torchprob.continuous.student_t import StudentT
from torchprob.continuous.weibull import Weibull

from .examples import EXTREME, Example, t


class _Patched:
    """A frozen SciPy distribution with some methods replaced."""

    def __init__(self, frozen: Any, **methods: Any) -> None:
        self._frozen, self._methods = frozen, methods

    def __getattr__(self, name: str) -> Any:
        return self._methods.get(name) or getattr(self._frozen, name)


def _mp_vectorized(fn: Any, *arrays: np.ndarray) -> np.ndarray:
    with mp.workdps(40):
        return np.vectorize(lambda *a: float(fn(*(mp.mpf(float(v)) for v in a))))(*arrays)


def _cauchy(p):
    # SciPy's variance is nan; torch's (and ours) is inf.
    frozen = st.cauchy(loc=p["loc"], scale=p["scale"])
    inf = np.full(np.broadcast_shapes(p["loc"].shape, p["scale"].shape), np.inf)
    return _Patched(frozen, var=lambda: inf, std=lambda: inf)


def _halfcauchy(p):
    # SciPy's ppf is tan(pi q / 2): 3e-5 off at q = 1 - 1e-12.
    scale = p["scale"]
    frozen = st.halfcauchy(scale=scale)
    return _Patched(
        frozen, ppf=lambda q: _mp_vectorized(lambda u, s: s * mp.tan(mp.pi * u / 2), q, scale)
    )


def _laplace(p):
    return st.laplace(loc=p["loc"], scale=p["scale"])


def _gumbel(p):
    return st.gumbel_r(loc=p["loc"], scale=p["scale"])


def _mp_weibull_var(k, scale):
    return scale**2 * (mp.gamma(1 + 2 / k) - mp.gamma(1 + 1 / k) ** 2)


def _weibull(p):
    # SciPy's variance Gamma(1 + 2/k) - Gamma(1 + 1/k)^2 cancels: 2e-4 off at k = 1e6.
    k, scale = p["concentration"], p["scale"]
    frozen = st.weibull_min(k, scale=scale)
    var = _mp_vectorized(_mp_weibull_var, k, scale)
    return _Patched(frozen, var=lambda: var, std=lambda: np.sqrt(var))


def _student_t(p):
    # SciPy reports an infinite mean for df <= 1; torch (and we) say undefined (nan).
    df, loc, scale = np.broadcast_arrays(p["df"], p["loc"], p["scale"])
    frozen = st.t(df, loc=loc, scale=scale)
    return _Patched(frozen, mean=lambda: np.where(df > 1, loc, np.nan))


def _mp_f_logpdf(x, d1, d2):
    a, b = d1 / 2, d2 / 2
    return (
        a * mp.log(d1 / d2)
        + (a - 1) * mp.log(x)
        - (a + b) * mp.log1p(d1 * x / d2)
        - mp.log(mp.beta(a, b))
    )


def _fisher(p):
    return st.f(p["df1"], p["df2"])


def _mp_f_entropy(d1, d2):
    a, b = d1 / 2, d2 / 2
    digammas = (1 - a) * mp.digamma(a) - (1 + b) * mp.digamma(b) + (a + b) * mp.digamma(a + b)
    return mp.log(d2 / d1) + mp.log(mp.beta(a, b)) + digammas


def _fisher_mp(p):
    # SciPy's textbook logpdf and entropy cancel terms of size df: 1e-9 off at 1e8 degrees of
    # freedom.
    d1, d2 = p["df1"], p["df2"]
    entropy = _mp_vectorized(_mp_f_entropy, d1, d2)
    return _Patched(
        st.f(d1, d2),
        logpdf=lambda x: _mp_vectorized(_mp_f_logpdf, x, d1, d2),
        entropy=lambda: entropy,
    )


GAMMA_GRAD = {
    "test_rsample_grad": "the gradient in df is the implicit one of the gamma draw, not the "
    "derivative at fixed noise of the rejection sampler; checked against the cdf in "
    "test_heavy_tails.py",
}
FLOAT32_EXTREME = "float32 cannot hold these parameters"

EXAMPLES: list[Example] = [
    # ---- Cauchy ---------------------------------------------------------------------------
    Example(Cauchy, {"loc": t(0.0), "scale": t(1.0)}, "standard", _cauchy),
    Example(Cauchy, {"loc": t([-1.0, 0.5, 3.0]), "scale": t([0.5, 1.0, 2.0])}, "batch", _cauchy),
    Example(
        Cauchy,
        {"loc": t([[1e10], [-3.0]]), "scale": t([[1e-20, 1e30]])},
        "extreme",
        _cauchy,
        skip={**EXTREME, "test_goodness_of_fit": "draws collapse onto loc=1e10 in float64"},
    ),
    # ---- HalfCauchy -----------------------------------------------------------------------
    Example(HalfCauchy, {"scale": t(1.0)}, "unit", _halfcauchy),
    Example(HalfCauchy, {"scale": t([0.1, 1.0, 50.0])}, "batch", _halfcauchy),
    Example(HalfCauchy, {"scale": t([1e-30, 1e30])}, "extreme", _halfcauchy, skip=EXTREME),
    # ---- Laplace --------------------------------------------------------------------------
    Example(Laplace, {"loc": t(0.0), "scale": t(1.0)}, "standard", _laplace),
    Example(Laplace, {"loc": t([-1.0, 0.5, 3.0]), "scale": t([0.5, 1.0, 2.0])}, "batch", _laplace),
    Example(
        Laplace,
        {"loc": t([[1e10], [-3.0]]), "scale": t([[1e-20, 1e30]])},
        "extreme",
        _laplace,
        skip={**EXTREME, "test_goodness_of_fit": "draws collapse onto loc=1e10 in float64"},
    ),
    # ---- Gumbel ---------------------------------------------------------------------------
    Example(Gumbel, {"loc": t(0.0), "scale": t(1.0)}, "standard", _gumbel),
    Example(Gumbel, {"loc": t([-1.0, 0.5, 3.0]), "scale": t([0.5, 1.0, 2.0])}, "batch", _gumbel),
    Example(
        Gumbel,
        {"loc": t([[1e10], [-3.0]]), "scale": t([[1e-20, 1e30]])},
        "extreme",
        _gumbel,
        skip={**EXTREME, "test_goodness_of_fit": "draws collapse onto loc=1e10 in float64"},
    ),
    # ---- Weibull --------------------------------------------------------------------------
    Example(Weibull, {"scale": t(1.0), "concentration": t(1.0)}, "exponential", _weibull),
    Example(
        Weibull,
        {"scale": t([0.5, 1.0, 3.0]), "concentration": t([1.5, 2.0, 10.0])},
        "batch",
        _weibull,
    ),
    Example(
        Weibull,
        {"scale": t([2.0, 0.5]), "concentration": t([0.3, 0.8])},
        "decreasing",
        _weibull,
        skip={"test_torch_parity": "torch's mode is nan for concentration < 1; it is 0"},
    ),
    Example(
        Weibull,
        {"scale": t([[1e-4], [1e6]]), "concentration": t([[0.05, 1e3, 1e6]])},
        "extreme",
        _weibull,
        skip={
            **EXTREME,
            "test_torch_parity": "torch's mode is nan for concentration < 1; it is 0",
            "test_to_pickle_copy": FLOAT32_EXTREME,
        },
    ),
    # ---- StudentT -------------------------------------------------------------------------
    Example(
        StudentT,
        {"df": t(4.0), "loc": t(0.0), "scale": t(1.0)},
        "standard",
        _student_t,
        skip=GAMMA_GRAD,
    ),
    Example(
        StudentT,
        {
            "df": t([0.5, 1.5, 2.5, 30.0]),
            "loc": t([-1.0, 0.5, 3.0, 0.0]),
            "scale": t([0.5, 1.0, 2.0, 3.0]),
        },
        "batch",
        _student_t,
        skip=GAMMA_GRAD,
    ),
    Example(
        StudentT,
        {"df": t([[0.1], [1e3], [1e8]]), "loc": t([[0.0, 1e10]]), "scale": t([[1e-20, 1e20]])},
        "extreme",
        _student_t,
        skip={
            **GAMMA_GRAD,
            **EXTREME,
            "test_to_pickle_copy": "draws at df = 0.1 reach 1e300, beyond float32",
        },
    ),
    # ---- FisherSnedecor -------------------------------------------------------------------
    Example(FisherSnedecor, {"df1": t(3.0), "df2": t(5.0)}, "standard", _fisher, skip=GAMMA_GRAD),
    Example(
        FisherSnedecor,
        {"df1": t([3.0, 4.0, 30.0]), "df2": t([6.0, 12.0, 100.0])},
        "batch",
        _fisher,
        skip=GAMMA_GRAD,
    ),
    Example(
        FisherSnedecor,
        {"df1": t([0.5, 2.0, 1.0]), "df2": t([1.5, 3.0, 4.0])},
        "heavy",
        _fisher,
        skip={
            **GAMMA_GRAD,
            "test_torch_parity": "torch's mean and variance are nan where they are infinite, "
            "its mode nan where it is 0",
        },
    ),
    Example(
        FisherSnedecor,
        {"df1": t([[0.1], [1e4], [1e8]]), "df2": t([[0.5, 1e3, 1e8]])},
        "extreme",
        _fisher_mp,
        skip={
            **GAMMA_GRAD,
            **EXTREME,
            "test_torch_parity": "torch's log_prob loses 1e-9 at 1e8 degrees of freedom; its "
            "mean and variance are nan where they are infinite, its mode nan where it is 0",
            "test_to_pickle_copy": FLOAT32_EXTREME,
        },
    ),
]
