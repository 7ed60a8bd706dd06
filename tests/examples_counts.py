"""Example instances for one family group; concatenated into ``tests/examples.py``'s table.

The count families: Binomial, Geometric, NegativeBinomial, Poisson. Their extreme parameters
beyond what SciPy computes exactly (logits of +-50, rates of 1e8, counts of 1e8) are checked
against mpmath in ``test_counts.py``.
"""

from __future__ import annotations

import scipy.stats as st
import torch
from scipy.special import expit

from torchprob.discrete.binomial import Binomial
from torchprob.discrete.geometric import Geometric
from torchprob.discrete.negative_binomial import NegativeBinomial
from torchprob.discrete.poisson import Poisson

from .examples import BOUNDARY, EXTREME, NO_DISCRETE_RSAMPLE, Example, t


def count(x: object) -> torch.Tensor:
    """An integer ``total_count``: not a float parameter, so finite differences leave it be."""
    return torch.tensor(x)


def _probs(p: dict):
    return p["probs"] if "probs" in p else expit(p["logits"])


def _binom(p: dict):
    return st.binom(p["total_count"], _probs(p))


def _geom(p: dict):
    return st.geom(_probs(p), loc=-1)  # SciPy counts trials, torch counts failures


def _nbinom(p: dict):
    return st.nbinom(p["total_count"], 1 - _probs(p))  # SciPy's p is torch's 1 - p


def _poisson(p: dict):
    return st.poisson(p["rate"])


UNBOUNDED = {
    **NO_DISCRETE_RSAMPLE,
    "test_goodness_of_fit": "no enumerate_support (as in torch); chi-square against the exact "
    "pmf over a truncated support in test_counts.py",
    "test_cdf_icdf_roundtrip": "no enumerate_support (as in torch); the round trip over a range "
    "of integers is in test_counts.py",
}
EXPIT_ROUNDS = "expit(+-50) rounds to 0 or 1 in SciPy; mpmath reference in test_counts.py"
FLOAT32_ROUNDS = "float32 rounds 1 - 1e-12 to 1, which changes the support"
SCIPY_LOG_TAILS = (
    "SciPy's logsf/logcdf are log(sf)/log(cdf): -inf where those underflow (we keep e.g. "
    "-1.4e4); the log tails are checked against mpmath in test_counts.py"
)
TORCH_GEOMETRIC_ENTROPY = (
    "torch's entropy, BCE from clamped logits over p, is off by 1e-4 at p = 1e-12 and is 0 "
    "instead of 51 at logit -50"
)
COUNT = {"total_count": count(-1)}  # an integer tensor cannot hold the NaN the suite would use

EXAMPLES: list[Example] = [
    # ---- Binomial -------------------------------------------------------------------------
    Example(
        Binomial,
        {"total_count": count(10), "probs": t(0.3)},
        "probs",
        _binom,
        invalid=COUNT,
        skip=NO_DISCRETE_RSAMPLE,
    ),
    Example(
        Binomial,
        {"total_count": count(20), "logits": t([[-2.0, 0.5], [1.5, 3.0]])},
        "logits-batch",
        _binom,
        invalid=COUNT,
        skip=NO_DISCRETE_RSAMPLE,
    ),
    Example(
        Binomial,
        # SciPy's binomial variance is n p - n p^2 (4 digits lost at p = 1 - 1e-12): that
        # probability is checked against n p (1 - p) in test_counts.py.
        {"total_count": count(1000), "probs": t([0.0, 1e-12, 0.5, 1 - 1e-6, 1.0])},
        "probs-boundary",
        _binom,
        invalid=COUNT,
        skip={
            **BOUNDARY,
            "test_torch_parity": "torch clamps probs; we are exact at 0 and 1",
            "test_tail_functions": SCIPY_LOG_TAILS,
        },
    ),
    Example(
        Binomial,
        {"total_count": count(1000), "logits": t([-50.0, -5.0, 5.0, 50.0])},
        "logits-extreme",
        _binom,
        invalid=COUNT,
        skip={
            **NO_DISCRETE_RSAMPLE,
            "test_scipy": EXPIT_ROUNDS,
            "test_torch_parity": "torch's 1 - sigmoid(50) rounds to 0: variance 0, not 4.4e-10",
        },
    ),
    # ---- Geometric ------------------------------------------------------------------------
    Example(Geometric, {"probs": t(0.3)}, "probs", _geom, skip=UNBOUNDED),
    Example(
        Geometric,
        {"probs": t([1e-12, 0.5, 1 - 1e-12])},
        "probs-extreme",
        _geom,
        skip={
            **UNBOUNDED,
            **EXTREME,
            "test_to_pickle_copy": FLOAT32_ROUNDS,
            "test_torch_parity": TORCH_GEOMETRIC_ENTROPY,
        },
    ),
    Example(
        Geometric,
        {"probs": t([0.25, 1.0])},
        "probs-one",
        skip={**UNBOUNDED, **BOUNDARY},  # SciPy's geom is NaN at p = 1
    ),
    Example(Geometric, {"logits": t([[-2.0, 0.0], [0.5, 3.0]])}, "logits", _geom, skip=UNBOUNDED),
    Example(
        Geometric,
        {"logits": t([-50.0, 50.0])},
        "logits-extreme",
        _geom,
        skip={
            **UNBOUNDED,
            "test_scipy": EXPIT_ROUNDS,
            "test_torch_parity": TORCH_GEOMETRIC_ENTROPY,
        },
    ),
    # ---- NegativeBinomial -----------------------------------------------------------------
    Example(
        NegativeBinomial,
        {"total_count": t(3.0), "probs": t(0.4)},
        "probs",
        _nbinom,
        skip=UNBOUNDED,
    ),
    Example(
        NegativeBinomial,
        {"total_count": t([[0.5], [7.25]]), "probs": t([0.1, 0.6, 0.9])},
        "real-count-batch",
        _nbinom,
        skip=UNBOUNDED,
    ),
    Example(
        NegativeBinomial,
        {"total_count": t(2.5), "logits": t([-3.0, 0.0, 2.0])},
        "logits",
        _nbinom,
        skip=UNBOUNDED,
    ),
    Example(
        NegativeBinomial,
        {"total_count": t([0.0, 1e-3, 1e4]), "probs": t([0.0, 0.5, 0.99])},
        "boundary",
        skip={  # SciPy's nbinom needs n > 0
            **UNBOUNDED,
            **BOUNDARY,
            "test_torch_parity": "torch clamps probs; we are exact at 0",
        },
    ),
    # ---- Poisson --------------------------------------------------------------------------
    Example(Poisson, {"rate": t(3.0)}, "unit", _poisson, skip=UNBOUNDED),
    Example(
        Poisson,
        {"rate": t([[1e-8, 0.5], [10.0, 1000.0]])},
        "batch",
        _poisson,
        skip={**UNBOUNDED, "test_log_prob_gradcheck": "a rate of 1e-8 is below gradcheck's step"},
    ),
    Example(
        Poisson, {"rate": t([0.0, 2.5])}, "zero-rate", _poisson, skip={**UNBOUNDED, **BOUNDARY}
    ),
    Example(
        Poisson,
        {"rate": t([1e4, 1e8])},
        "large",
        _poisson,
        skip={
            **UNBOUNDED,
            **EXTREME,
            "test_scipy": "SciPy's logpmf loses 8 digits at rate 1e8; mpmath in test_counts.py",
        },
    ),
]
