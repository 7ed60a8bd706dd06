"""Example instances for one family group; concatenated into ``tests/examples.py``'s table.

OneHotCategorical (and its straight-through variant), Multinomial, RelaxedBernoulli with its
logit LogitRelaxedBernoulli, RelaxedOneHotCategorical with its log ExpRelaxedCategorical.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats as st

from torchprob.discrete.multinomial import Multinomial
from torchprob.discrete.one_hot_categorical import (
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from torchprob.discrete.relaxed_bernoulli import LogitRelaxedBernoulli, RelaxedBernoulli
from torchprob.discrete.relaxed_categorical import ExpRelaxedCategorical, RelaxedOneHotCategorical

from .examples import BOUNDARY, NO_DISCRETE_RSAMPLE, Example, t


class _OneTrial:
    """``scipy.stats.multinomial(1, p)`` with the per-class ``var``/``std`` the suite reads."""

    def __init__(self, probs: np.ndarray) -> None:
        self.frozen = st.multinomial(1, probs)
        self.p = probs

    def logpmf(self, x: np.ndarray) -> np.ndarray:
        return self.frozen.logpmf(x)

    def mean(self) -> np.ndarray:
        return self.p

    def var(self) -> np.ndarray:
        return self.p * (1 - self.p)

    def std(self) -> np.ndarray:
        return np.sqrt(self.var())

    def entropy(self) -> np.ndarray:
        return self.frozen.entropy()


def _one_trial(p: dict) -> _OneTrial:
    probs = p["probs"] if "probs" in p else np.exp(p["logits"])
    return _OneTrial(probs / probs.sum(-1, keepdims=True))


def _logistic(p: dict):
    logits = p["logits"] if "logits" in p else np.log(p["probs"]) - np.log1p(-p["probs"])
    return st.logistic(loc=logits / p["temperature"], scale=1 / p["temperature"])


NO_CDF = {"test_goodness_of_fit": "a vector-valued distribution has no cdf for the KS test"}
NOT_IN_TORCH_ROOT = {
    "test_torch_parity": "not exported by torch.distributions' root; parity in "
    "test_onehot_relaxed.py",
}
ONE_HOT: dict[str, str] = {}
MULTINOMIAL = {
    **NO_DISCRETE_RSAMPLE,
    "test_torch_parity": "torch's entropy is off by 1e-7 (ours matches mpmath); the rest of the "
    "parity is in test_onehot_relaxed.py",
    "test_goodness_of_fit": "no enumerate_support or cdf; binomial marginals are tested in "
    "test_onehot_relaxed.py",
    "test_cdf_icdf_roundtrip": "no enumerate_support (as in torch) and no cdf",
}
BAD_TEMPERATURE = {"temperature": t(-1.0)}

EXAMPLES: list[Example] = [
    # ---- OneHotCategorical ----------------------------------------------------------------
    Example(
        OneHotCategorical,
        {"probs": t([0.2, 0.3, 0.5])},
        "probs",
        _one_trial,
        skip={**NO_DISCRETE_RSAMPLE, **ONE_HOT},
    ),
    Example(
        OneHotCategorical,
        {"logits": t([[0.0, 1.0, -2.0, 0.5], [3.0, -1.0, 0.0, 0.0]])},
        "logits",
        _one_trial,
        skip={**NO_DISCRETE_RSAMPLE, **ONE_HOT},
    ),
    Example(
        OneHotCategorical,
        {"logits": t([[0.0, -math.inf, 1.0], [50.0, -50.0, 0.0]])},
        "logits-inf",
        skip={**BOUNDARY, **ONE_HOT},
    ),
    Example(
        OneHotCategorical,
        {"probs": t([[0.0, 1.0], [1e-300, 1.0]])},
        "probs-boundary",
        skip={**BOUNDARY, **ONE_HOT, "test_torch_parity": "torch clamps probs; we are exact at 0"},
    ),
    # ---- OneHotCategoricalStraightThrough ---------------------------------------------------
    Example(
        OneHotCategoricalStraightThrough,
        {"probs": t([0.2, 0.3, 0.5])},
        "probs",
        _one_trial,
        skip=ONE_HOT,
    ),
    Example(
        OneHotCategoricalStraightThrough,
        {"logits": t([[0.0, 1.0, -2.0], [3.0, -1.0, 0.0]])},
        "logits",
        _one_trial,
        skip=ONE_HOT,
    ),
    # ---- Multinomial ----------------------------------------------------------------------
    Example(
        Multinomial,
        {"total_count": 10, "probs": t([0.2, 0.3, 0.5])},
        "probs",
        invalid={"total_count": -1},
        skip=MULTINOMIAL,
    ),
    Example(
        Multinomial,
        {"total_count": 7, "logits": t([[0.0, -math.inf, 1.0, 2.0], [2.0, 0.0, -1.0, 0.5]])},
        "logits-inf",
        invalid={"total_count": -1},
        skip=MULTINOMIAL,
    ),
    Example(
        Multinomial,
        {"total_count": 10**6, "probs": t([[1e-12, 0.5, 0.5 - 1e-12], [0.0, 0.3, 0.7]])},
        "extreme",
        invalid={"total_count": -1},
        skip={
            **MULTINOMIAL,
            "test_log_prob_gradcheck": "the gradient is 0/0 at probability 0",
            "test_to_pickle_copy": "float32 lgamma(1e6) = 1.3e7 carries an absolute error of 1",
        },
    ),
    # ---- RelaxedBernoulli -------------------------------------------------------------------
    Example(
        RelaxedBernoulli,
        {"temperature": t(0.5), "probs": t(0.3)},
        "probs",
        invalid=BAD_TEMPERATURE,
    ),
    Example(
        RelaxedBernoulli,
        {"temperature": t([0.1, 1.5, 3.0]), "logits": t([-3.0, 0.5, 5.0])},
        "logits",
        invalid={"temperature": t([1.0, 0.0, 1.0])},
    ),
    # ---- LogitRelaxedBernoulli ------------------------------------------------------------
    Example(
        LogitRelaxedBernoulli,
        {"temperature": t([0.5, 1.0, 2.0]), "logits": t([-1.0, 0.0, 3.0])},
        "logits",
        _logistic,
        invalid=BAD_TEMPERATURE,
        skip=NOT_IN_TORCH_ROOT,
    ),
    Example(
        LogitRelaxedBernoulli,
        {"temperature": t(0.7), "probs": t([0.1, 0.5, 0.99])},
        "probs",
        _logistic,
        invalid=BAD_TEMPERATURE,
        skip=NOT_IN_TORCH_ROOT,
    ),
    # ---- RelaxedOneHotCategorical -----------------------------------------------------------
    Example(
        RelaxedOneHotCategorical,
        {"temperature": t(0.5), "probs": t([0.2, 0.3, 0.5])},
        "probs",
        invalid=BAD_TEMPERATURE,
        skip=NO_CDF,
    ),
    Example(
        RelaxedOneHotCategorical,
        {"temperature": t(2.0), "logits": t([[0.0, 1.0, -2.0, 0.5], [3.0, -1.0, 0.0, 0.0]])},
        "logits",
        invalid=BAD_TEMPERATURE,
        skip=NO_CDF,
    ),
    # ---- ExpRelaxedCategorical --------------------------------------------------------------
    Example(
        ExpRelaxedCategorical,
        {"temperature": t(0.5), "logits": t([[0.0, 1.0, -2.0], [3.0, -1.0, 0.0]])},
        "logits",
        invalid=BAD_TEMPERATURE,
        skip={**NO_CDF, **NOT_IN_TORCH_ROOT},
    ),
]
