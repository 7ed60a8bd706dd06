"""THE table of example instances: every distribution registers its parameter sets here.

Each :class:`Example` is one parametrized case of the generic suite (``test_generic.py``):
ordinary and extreme parameters, the SciPy oracle to compare against, and per-test skips with
their reasons (``skip={"test_name": "why"}``), so that no test needs an ``if`` on the family.

Parameters are float64 tensors; the suite casts where it needs another dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.stats as st
import torch
from scipy.special import expit

import torchprob as tp


def t(x: Any) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


@dataclass
class Example:
    """One parameter set of one distribution.

    Attributes:
        cls: the torchprob class.
        params: constructor keywords (float64 tensors).
        label: readable id of the case, e.g. ``"tiny-scale"``.
        scipy: maps numpy parameters to a frozen SciPy distribution with the same batch shape
            (``None``: no SciPy counterpart; parity with torch.distributions still runs).
        invalid: per-parameter invalid values, overriding the ones derived from the constraint.
        skip: ``{test_name: reason}`` for tests that do not apply to this case.
        atol: absolute tolerance for comparisons against references (``rtol`` is 1e-9 in float64).
        torch_params: builds the torch.distributions twin's constructor keywords (composites
            whose parameters are distributions); default: ``params`` as they are.
    """

    cls: type
    params: dict[str, torch.Tensor]
    label: str
    scipy: Callable[[dict[str, np.ndarray]], Any] | None = None
    invalid: dict[str, Any] = field(default_factory=dict)
    skip: dict[str, str] = field(default_factory=dict)
    atol: float = 1e-12
    rtol: float = 1e-9
    torch_params: Callable[[], dict[str, Any]] | None = None

    @property
    def id(self) -> str:
        return f"{self.cls.__name__}-{self.label}"

    def build(self, dtype: torch.dtype = torch.float64, **kwargs: Any) -> tp.Distribution:
        params = {
            k: v.to(dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v
            for k, v in self.params.items()
        }
        return self.cls(**params, **kwargs)

    def numpy_params(self) -> dict[str, np.ndarray]:
        return {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in self.params.items()}


def _norm(p):
    return st.norm(loc=p["loc"], scale=p["scale"])


def _uniform(p):
    return st.uniform(loc=p["low"], scale=p["high"] - p["low"])


def _expon(p):
    return st.expon(scale=1 / p["rate"])


def _bernoulli(p):
    probs = p["probs"] if "probs" in p else expit(p["logits"])
    return st.bernoulli(probs)


NO_DISCRETE_RSAMPLE = {"test_rsample_grad": "no rsample"}
EXTREME = {
    "test_rsample_grad": "finite differences are meaningless at 1e30 scales",
    "test_log_prob_gradcheck": "finite differences are meaningless at 1e30 scales",
}
BOUNDARY = {
    **NO_DISCRETE_RSAMPLE,
    "test_log_prob_gradcheck": "the gradient is infinite at probability 0",
    "test_to_pickle_copy": "float32 cannot hold 1e-300",
}

EXAMPLES: list[Example] = [
    # ---- Normal ---------------------------------------------------------------------------
    Example(tp.Normal, {"loc": t(0.0), "scale": t(1.0)}, "standard", _norm),
    Example(tp.Normal, {"loc": t([-1.0, 0.5, 3.0]), "scale": t([0.5, 1.0, 2.0])}, "batch", _norm),
    Example(
        tp.Normal,
        {"loc": t([[1e10], [-3.0]]), "scale": t([[1e-30, 1e30]])},
        "extreme",
        _norm,
        skip={**EXTREME, "test_goodness_of_fit": "draws collapse onto loc=1e10 in float64"},
    ),
    # ---- Uniform --------------------------------------------------------------------------
    Example(tp.Uniform, {"low": t(0.0), "high": t(1.0)}, "unit", _uniform),
    Example(
        tp.Uniform,
        {"low": t([-2.0, 1e-10, 5.0]), "high": t([3.0, 2e-10, 5.5])},
        "batch",
        _uniform,
        invalid={"high": t([-3.0, 0.0, 5.5])},
        skip={"test_log_prob_gradcheck": "a width of 1e-10 is narrower than gradcheck's step"},
    ),
    # ---- Exponential ----------------------------------------------------------------------
    Example(tp.Exponential, {"rate": t(1.0)}, "unit", _expon),
    Example(tp.Exponential, {"rate": t([0.1, 2.0, 50.0])}, "batch", _expon),
    Example(
        tp.Exponential,
        {"rate": t([1e-30, 1e30])},
        "extreme",
        _expon,
        skip=EXTREME,
    ),
    # ---- Bernoulli ------------------------------------------------------------------------
    Example(tp.Bernoulli, {"probs": t(0.3)}, "probs", _bernoulli, skip=NO_DISCRETE_RSAMPLE),
    Example(
        tp.Bernoulli,
        {"probs": t([0.0, 1e-300, 0.5, 1.0 - 1e-16, 1.0])},
        "probs-boundary",
        _bernoulli,
        skip={**BOUNDARY, "test_torch_parity": "torch clamps probs; we are exact at 0 and 1"},
    ),
    Example(
        tp.Bernoulli,
        {"logits": t([[-3.0, -1.0], [0.0, 2.0]])},
        "logits",
        _bernoulli,
        skip=NO_DISCRETE_RSAMPLE,
    ),
    Example(
        tp.Bernoulli,
        {"logits": t([-50.0, 30.0, 700.0])},
        "logits-extreme",
        _bernoulli,
        skip={
            **NO_DISCRETE_RSAMPLE,
            "test_scipy": "expit(50) rounds to 1 in SciPy; mpmath reference in test_discrete.py",
            "test_torch_parity": "torch's BCE-with-logits loses the 1e-22 terms we keep",
        },
    ),
    # ---- Categorical ----------------------------------------------------------------------
    Example(tp.Categorical, {"probs": t([0.2, 0.3, 0.5])}, "probs", skip=NO_DISCRETE_RSAMPLE),
    Example(
        tp.Categorical,
        {"logits": t([[0.0, -math.inf, 1.0, 2.0], [50.0, -50.0, 0.0, 1.0]])},
        "logits-inf",
        skip=BOUNDARY,
    ),
    Example(
        tp.Categorical,
        {"probs": t([[0.0, 1.0], [1e-300, 1.0]])},
        "probs-boundary",
        skip={**BOUNDARY, "test_torch_parity": "torch clamps probs to eps; we are exact"},
    ),
]

# Areas keep their entries in their own modules (one per family group, so that parallel work does
# not collide); they are part of this one table.
from . import (  # noqa: E402
    examples_composite,
    examples_counts,
    examples_gamma_beta,
    examples_heavy_tails,
    examples_multivariate,
    examples_onehot,
    examples_positive,
)

for _area in (
    examples_composite,
    examples_counts,
    examples_onehot,
    examples_gamma_beta,
    examples_heavy_tails,
    examples_multivariate,
    examples_positive,
):
    EXAMPLES += _area.EXAMPLES
