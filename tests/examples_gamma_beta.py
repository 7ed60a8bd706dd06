"""Example instances for one family group; concatenated into ``tests/examples.py``'s table."""

from __future__ import annotations

import scipy.stats as st

from torchprob.continuous.beta import Beta
from torchprob.continuous.chi2 import Chi2
from torchprob.continuous.gamma import Gamma
from torchprob.continuous.inverse_gamma import InverseGamma
from torchprob.continuous.kumaraswamy import Kumaraswamy

from .examples import Example, t


def _gamma(p):
    return st.gamma(p["concentration"], scale=1 / p["rate"])


def _chi2(p):
    return st.chi2(p["df"])


def _invgamma(p):
    return st.invgamma(p["concentration"], scale=p["rate"])


def _beta(p):
    return st.beta(p["concentration1"], p["concentration0"])


IMPLICIT = {
    "test_rsample_grad": "implicit reparameterization: the gradient is -dF/da / p, not the "
    "derivative of the gamma sampler's map of its noise; test_gamma_beta.py checks it"
}
EXTREME = {
    **IMPLICIT,
    "test_log_prob_gradcheck": "finite differences are meaningless at shapes and rates of 1e6",
}
SCIPY_CANCELS = {
    "test_scipy": "SciPy's logpdf, xlogy(a - 1, x) - x - gammaln(a), cancels to 1e-9 at a = 1e6; "
    "test_gamma_beta.py compares with mpmath"
}
FLOAT32_TINY = {"test_to_pickle_copy": "float32 cannot hold the 1e-300 draws of tiny shapes"}
FLOAT32_EXTREME = {
    "test_to_pickle_copy": "float32 cannot hold these draws: 1e-300 and 1e307 overflow, and at "
    "shapes of 1e6 and more one float32 rounding of x moves log p by shape * 6e-8"
}
CLAMPED = "samples below the smallest normal float are clamped to it: a point mass KS rejects"
TORCH_MODE = {
    "test_torch_parity": "torch's Kumaraswamy.mode is NaN (log1p(-b)); parity of the "
    "rest in test_gamma_beta.py"
}

EXAMPLES: list[Example] = [
    # ---- Gamma ----------------------------------------------------------------------------
    Example(Gamma, {"concentration": t(2.0), "rate": t(1.0)}, "standard", _gamma, skip=IMPLICIT),
    Example(
        Gamma,
        {"concentration": t([0.5, 1.0, 3.0, 10.0]), "rate": t([2.0, 1.0, 0.5, 0.1])},
        "batch",
        _gamma,
        skip=IMPLICIT,
    ),
    Example(
        Gamma,
        {"concentration": t([[1e-2], [1e6]]), "rate": t([[1e-4, 1.0, 1e6]])},
        "extreme",
        _gamma,
        skip={**EXTREME, **SCIPY_CANCELS, **FLOAT32_EXTREME},
    ),
    Example(
        Gamma,
        {"concentration": t([1e-4, 0.05]), "rate": t([1.0, 1e6])},
        "tiny-shape",
        _gamma,
        skip={**EXTREME, **FLOAT32_TINY, "test_goodness_of_fit": CLAMPED},
    ),
    # ---- Chi2 -----------------------------------------------------------------------------
    Example(Chi2, {"df": t(3.0)}, "standard", _chi2, skip=IMPLICIT),
    Example(Chi2, {"df": t([0.1, 1.0, 2.0, 10.0, 100.0])}, "batch", _chi2, skip=IMPLICIT),
    Example(
        Chi2,
        {"df": t([0.05, 1e8])},
        "extreme",
        _chi2,
        skip={**EXTREME, **SCIPY_CANCELS, **FLOAT32_EXTREME},
    ),
    # ---- InverseGamma ---------------------------------------------------------------------
    Example(
        InverseGamma,
        {"concentration": t(3.0), "rate": t(2.0)},
        "standard",
        _invgamma,
        skip=IMPLICIT,
    ),
    Example(
        InverseGamma,
        {"concentration": t([0.5, 2.5, 10.0]), "rate": t([1.0, 0.1, 5.0])},
        "batch",
        _invgamma,
        skip=IMPLICIT,
    ),
    Example(
        InverseGamma,
        {"concentration": t([[1e-2], [1e6]]), "rate": t([[1e-4, 1.0, 1e6]])},
        "extreme",
        _invgamma,
        skip={
            **EXTREME,
            **FLOAT32_EXTREME,
            "test_torch_parity": "torch's log_prob is -inf at the largest draws (4.5e307, its "
            "Jacobian overflows); ours is finite and matches mpmath",
        },
    ),
    # ---- Beta -----------------------------------------------------------------------------
    Example(
        Beta,
        {"concentration1": t(2.0), "concentration0": t(3.0)},
        "standard",
        _beta,
        skip=IMPLICIT,
    ),
    Example(
        Beta,
        {"concentration1": t([0.5, 1.0, 2.0, 5.0]), "concentration0": t([0.5, 3.0, 1.0, 20.0])},
        "batch",
        _beta,
        skip=IMPLICIT,
    ),
    Example(
        Beta,
        {
            "concentration1": t([1e-3, 1e5, 1e-3, 50.0, 1e5, 0.2]),
            "concentration0": t([1e-3, 1e5, 1e5, 1e-3, 40.0, 1e4]),
        },
        "extreme",
        _beta,
        skip={
            **EXTREME,
            **FLOAT32_TINY,
            "test_goodness_of_fit": "at shapes (1e-3, 1e-3) about 48% of the mass lies within "
            "1e-16 of 1, so float64 draws round to exactly 1: a point mass KS rejects; "
            "test_gamma_beta.py runs KS at the other shapes",
        },
    ),
    # ---- Kumaraswamy ----------------------------------------------------------------------
    Example(
        Kumaraswamy,
        {"concentration1": t(2.0), "concentration0": t(3.0)},
        "standard",
        skip=TORCH_MODE,
    ),
    Example(
        Kumaraswamy,
        {"concentration1": t([0.5, 1.0, 2.0, 5.0]), "concentration0": t([0.5, 1.0, 3.0, 10.0])},
        "batch",
        skip=TORCH_MODE,
    ),
    Example(
        Kumaraswamy,
        {"concentration1": t([1e-2, 1e3, 1.0, 30.0]), "concentration0": t([1e3, 1e-2, 1e5, 0.1])},
        "extreme",
        skip={
            **TORCH_MODE,
            "test_rsample_grad": "finite differences are meaningless at shapes of 1e3 and 1e5",
            "test_log_prob_gradcheck": "finite differences are meaningless at shapes of 1e5",
            "test_goodness_of_fit": CLAMPED,
            **FLOAT32_TINY,
        },
    ),
]
