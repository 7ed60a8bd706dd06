"""Examples of Dirichlet and the composite distributions (Independent, MixtureSameFamily)."""

from __future__ import annotations

import scipy.stats as st
import torch.distributions as torch_dists

import torchprob as tp
from torchprob.composite.independent import Independent
from torchprob.composite.mixture_same_family import MixtureSameFamily
from torchprob.multivariate.dirichlet import Dirichlet
from torchprob.multivariate.logistic_normal import LogisticNormal

from .examples import Example, t

NO_TENSOR_PARAMS = {
    "test_rsample_grad": "the parameters are distributions (checked through their own examples)",
    "test_log_prob_gradcheck": "the parameters are distributions",
    "test_invalid_values": "the inner distributions validate values by themselves, as in torch",
}
VECTOR_EVENTS = {"test_goodness_of_fit": "no cdf for vector events; moments are checked"}


def _dirichlet(p):
    return st.dirichlet(p["concentration"]) if p["concentration"].ndim == 1 else None


_LOC = t([[0.0, 1.0, -2.0], [3.0, 0.5, 1e3]])
_SCALE = t([[1.0, 0.1, 2.0], [1e-3, 5.0, 1.0]])
_MIX_LOGITS = t([[0.0, -1.0, 2.0], [0.5, 0.5, -30.0]])

EXAMPLES: list[Example] = [
    Example(
        Dirichlet,
        {"concentration": t([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])},
        "batch",
        skip={**VECTOR_EVENTS, "test_scipy": "SciPy's dirichlet is not batched"},
    ),
    Example(
        Dirichlet,
        {"concentration": t([1e-3, 5.0, 1e4])},
        "extreme",
        skip={
            "test_rsample_grad": "draws of concentration 1e-3 sit at the smallest float",
            "test_log_prob_gradcheck": "values at 1e-300 make finite differences meaningless",
            "test_to_pickle_copy": "float32 draws of concentration 1e-3 underflow to 0",
            **VECTOR_EVENTS,
        },
    ),
    Example(
        Independent,
        {"base_distribution": tp.Normal(_LOC, _SCALE), "reinterpreted_batch_ndims": 1},
        "normal-1",
        torch_params=lambda: {
            "base_distribution": torch_dists.Normal(_LOC, _SCALE),
            "reinterpreted_batch_ndims": 1,
        },
        skip={**NO_TENSOR_PARAMS, **VECTOR_EVENTS},
    ),
    Example(
        Independent,
        {
            "base_distribution": tp.Bernoulli(logits=_LOC),
            "reinterpreted_batch_ndims": 2,
        },
        "bernoulli-2",
        torch_params=lambda: {
            "base_distribution": torch_dists.Bernoulli(logits=_LOC),
            "reinterpreted_batch_ndims": 2,
        },
        skip={**NO_TENSOR_PARAMS, **VECTOR_EVENTS},
    ),
    Example(
        MixtureSameFamily,
        {
            "mixture_distribution": tp.Categorical(logits=_MIX_LOGITS),
            "component_distribution": tp.Normal(_LOC, _SCALE),
        },
        "normal",
        torch_params=lambda: {
            "mixture_distribution": torch_dists.Categorical(logits=_MIX_LOGITS),
            "component_distribution": torch_dists.Normal(_LOC, _SCALE),
        },
        skip=NO_TENSOR_PARAMS,
    ),
    Example(
        LogisticNormal,
        {"loc": t([[0.0, 1.0, -2.0], [3.0, 0.5, -10.0]]), "scale": t([[1.0, 0.1, 2.0]])},
        "batch",
        skip=VECTOR_EVENTS,
    ),
    Example(LogisticNormal, {"loc": t(0.5), "scale": t(2.0)}, "two-classes", skip=VECTOR_EVENTS),
]
