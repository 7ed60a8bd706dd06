r"""torchprob: probability distributions for PyTorch, a drop-in replacement for
``torch.distributions`` that is faster, more accurate and more complete.

Distributions are parameterized by tensors and support two gradient estimators:

* the **score function** (REINFORCE)::

      probs = policy_network(state)
      m = torchprob.Categorical(probs)
      action = m.sample()
      next_state, reward = env.step(action)
      loss = -m.log_prob(action) * reward
      loss.backward()

* the **pathwise** estimator (reparameterization)::

      params = policy_network(state)
      m = torchprob.Normal(*params)
      action = m.rsample()
      next_state, reward = env.step(action)  # a differentiable environment
      loss = -reward
      loss.backward()

Beyond torch.distributions: ``sample(..., generator=g)``, ``d.to(device)``, batch indexing
``d[idx]``, ``cdf``/``icdf`` where a closed form exists, and validation errors that name the
offending argument, its constraint and the bad values.
"""

import sys as _sys

from . import (
    _distributed,
    constraint_registry,
    constraints,
    kl,
    kl_pairs,  # noqa: F401  (registers the cross-family KL rules)
    special,
    transforms,
    utils,
)
from .composite.independent import Independent
from .composite.mixture_same_family import MixtureSameFamily
from .composite.transformed_distribution import TransformedDistribution
from .constraint_registry import biject_to, transform_to
from .continuous.beta import Beta
from .continuous.cauchy import Cauchy
from .continuous.chi2 import Chi2
from .continuous.continuous_bernoulli import ContinuousBernoulli
from .continuous.exponential import Exponential
from .continuous.fisher_snedecor import FisherSnedecor
from .continuous.gamma import Gamma
from .continuous.generalized_pareto import GeneralizedPareto
from .continuous.gumbel import Gumbel
from .continuous.half_cauchy import HalfCauchy
from .continuous.half_normal import HalfNormal
from .continuous.inverse_gamma import InverseGamma
from .continuous.kumaraswamy import Kumaraswamy
from .continuous.laplace import Laplace
from .continuous.log_normal import LogNormal
from .continuous.normal import Normal
from .continuous.pareto import Pareto
from .continuous.student_t import StudentT
from .continuous.uniform import Uniform
from .continuous.von_mises import VonMises
from .continuous.weibull import Weibull
from .discrete.bernoulli import Bernoulli
from .discrete.binomial import Binomial
from .discrete.categorical import Categorical
from .discrete.geometric import Geometric
from .discrete.multinomial import Multinomial
from .discrete.negative_binomial import NegativeBinomial
from .discrete.one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .discrete.poisson import Poisson
from .discrete.relaxed_bernoulli import RelaxedBernoulli
from .discrete.relaxed_categorical import RelaxedOneHotCategorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .kl import kl_divergence, register_kl
from .multivariate.dirichlet import Dirichlet
from .multivariate.lkj_cholesky import LKJCholesky
from .multivariate.logistic_normal import LogisticNormal
from .multivariate.low_rank_multivariate_normal import LowRankMultivariateNormal
from .multivariate.multivariate_normal import MultivariateNormal
from .multivariate.wishart import Wishart
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)

__version__ = "0.1.0"

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "CatTransform",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "ContinuousBernoulli",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "Dirichlet",
    "Distribution",
    "ExpTransform",
    "Exponential",
    "ExponentialFamily",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "IndependentTransform",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "Laplace",
    "LogNormal",
    "LogisticNormal",
    "LowRankMultivariateNormal",
    "LowerCholeskyTransform",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
    "biject_to",
    "constraint_registry",
    "constraints",
    "identity_transform",
    "kl",
    "kl_divergence",
    "register_kl",
    "special",
    "transform_to",
    "transforms",
    "utils",
]

if "torch.distributed.tensor" in _sys.modules:  # DTensors may already exist: be ready for them
    _distributed.enable()
