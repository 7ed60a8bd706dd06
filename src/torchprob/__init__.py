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

from . import constraints, kl, utils
from .continuous.exponential import Exponential
from .continuous.normal import Normal
from .continuous.uniform import Uniform
from .discrete.bernoulli import Bernoulli
from .discrete.categorical import Categorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .kl import kl_divergence, register_kl

__version__ = "0.1.0"

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Exponential",
    "ExponentialFamily",
    "Normal",
    "Uniform",
    "constraints",
    "kl",
    "kl_divergence",
    "register_kl",
    "utils",
]
