"""MixtureSameFamily: a finite mixture whose components come from one batched distribution."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import constraints
from ..discrete.categorical import Categorical
from ..distribution import Distribution, validate_sample
from ..utils import EMPTY, ShapeLike

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    r"""A mixture of :math:`K` components that share one family: the rightmost batch dimension of
    ``component_distribution`` indexes the components, ``mixture_distribution`` (a
    :class:`~torchprob.Categorical` over :math:`K` classes) weighs them:

    .. math:: p(x) = \sum_{k=1}^{K} \pi_k\, p_k(x), \qquad
        \log p(x) = \operatorname{logsumexp}_k \big(\log \pi_k + \log p_k(x)\big).

    ``mean`` and ``variance`` follow from the laws of total expectation and total variance;
    ``cdf`` is the weighted sum of the components' cdfs (univariate components); ``sample`` draws
    every component once and gathers the chosen one, batched, with no Python loop.

    Args:
        mixture_distribution: a ``Categorical`` with batch shape broadcastable to the
            components' batch shape without its last dimension, over :math:`K` classes.
        component_distribution: any distribution with batch shape ``batch_shape + (K,)``.
        validate_args: check values passed to ``log_prob``/``cdf``.

    Example::

        >>> from torchprob import Categorical, Normal
        >>> mix = MixtureSameFamily(Categorical(logits=torch.zeros(2)),
        ...                         Normal(torch.tensor([-1.0, 1.0]), torch.ones(2)))
        >>> mix.mean
        tensor(0.)
    """

    arg_constraints: dict[str, constraints.Constraint] = {}
    has_rsample = False

    def __init__(
        self,
        mixture_distribution: Categorical,
        component_distribution: Distribution,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(
                "The Mixture distribution needs to be an instance of torchprob.Categorical, got "
                f"{type(mixture_distribution).__name__}"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                "The Component distribution needs to be an instance of torchprob.Distribution, "
                f"got {type(component_distribution).__name__}"
            )
        mixture_batch = mixture_distribution.batch_shape
        component_batch = component_distribution.batch_shape[:-1]
        for m, c in zip(reversed(mixture_batch), reversed(component_batch)):
            if m != 1 and c != 1 and m != c:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({tuple(mixture_batch)}) is not "
                    "compatible with `component_distribution.batch_shape` "
                    f"({tuple(component_batch)})"
                )
        k_mixture = mixture_distribution.logits.shape[-1]
        k_component = component_distribution.batch_shape[-1]
        if k_mixture != k_component:
            raise ValueError(
                f"`mixture_distribution` component number ({k_mixture}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({k_component})"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = k_mixture
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(
            component_batch, component_distribution.event_shape, validate_args=validate_args
        )

    @property
    def mixture_distribution(self) -> Categorical:
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        return self._component_distribution

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    def _weights(self) -> Tensor:
        """Mixture probabilities shaped to broadcast against component quantities: one trailing
        singleton per event dimension, batch dimensions lined up."""
        probs = self._mixture_distribution.probs
        pad = len(self._batch_shape) - len(self._mixture_distribution.batch_shape)
        if len(self._mixture_distribution.batch_shape) == 0:
            pad = 0
        shape = probs.shape[:-1] + (1,) * pad + probs.shape[-1:] + (1,) * self._event_ndims
        return probs.reshape(shape)

    @property
    def mean(self) -> Tensor:
        return (self._weights() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        weights = self._weights()
        dim = -1 - self._event_ndims
        component_mean = self._component_distribution.mean
        mean = (weights * component_mean).sum(dim)
        within = (weights * self._component_distribution.variance).sum(dim)
        between = (weights * (component_mean - mean.unsqueeze(dim)).square()).sum(dim)
        return within + between

    def _pad(self, value: Tensor) -> Tensor:
        return value.unsqueeze(-1 - self._event_ndims)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        log_components = self._component_distribution.log_prob(self._pad(value))
        log_weights = self._mixture_distribution._log_probs()  # normalized already
        return torch.logsumexp(log_components + log_weights, dim=-1)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        components = self._component_distribution.cdf(self._pad(value))
        return (components * self._mixture_distribution.probs).sum(-1)

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        # both draws come from sample(), without a graph: the gather records none either
        mixture, component = self._mixture_distribution, self._component_distribution
        if generator is None:
            choice = mixture.sample(sample_shape)
            draws = component.sample(sample_shape)
        else:
            choice = mixture.sample(sample_shape, generator=generator)
            draws = component.sample(sample_shape, generator=generator)
        # choice: sample + mixture batch -> sample + batch + (1,) + event, to gather from
        # draws: sample + batch + (K,) + event
        sample_shape = choice.shape[: choice.dim() - len(mixture.batch_shape)]
        if mixture.batch_shape != self._batch_shape:
            pad = (1,) * (len(self._batch_shape) - len(mixture.batch_shape))
            choice = choice.reshape(sample_shape + pad + mixture.batch_shape)
            choice = choice.expand(sample_shape + self._batch_shape)
        dim = -1 - self._event_ndims
        if not self._event_ndims:
            return draws.gather(-1, choice.unsqueeze(-1)).squeeze(-1)
        index = choice.reshape(choice.shape + (1,) * (1 + self._event_ndims))
        index = index.expand(choice.shape + (1,) + self._event_shape)
        return draws.gather(dim, index).squeeze(dim)

    def expand(self, batch_shape: ShapeLike, _instance: Any = None) -> MixtureSameFamily:
        batch_shape = torch.Size(batch_shape)
        new = MixtureSameFamily(
            self._mixture_distribution.expand(batch_shape),  # type: ignore[arg-type]
            self._component_distribution.expand(batch_shape + (self._num_component,)),
            validate_args=False,
        )
        new._validate_args = self._validate_args
        if _instance is not None:
            _instance.__dict__.update(new.__dict__)
            return _instance
        return new

    def _rewrap(self, mixture: Distribution, component: Distribution) -> MixtureSameFamily:
        new = MixtureSameFamily(mixture, component, validate_args=False)  # type: ignore[arg-type]
        new._validate_args = self._validate_args
        return new

    def __getitem__(self, index: Any) -> MixtureSameFamily:
        index = self._batch_index(index)
        component_index = index
        if any(item is Ellipsis for item in index):
            component_index = index + (slice(None),)  # keep the component dimension whole
        mixture = self._mixture_distribution.expand(self._batch_shape)
        return self._rewrap(mixture[index], self._component_distribution[component_index])

    def to(self, device: Any = None, dtype: torch.dtype | None = None) -> MixtureSameFamily:
        return self._rewrap(
            self._mixture_distribution.to(device=device, dtype=dtype),
            self._component_distribution.to(device=device, dtype=dtype),
        )

    def __repr__(self) -> str:
        return (
            f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n"
            f"  {self._component_distribution!r})"
        )
