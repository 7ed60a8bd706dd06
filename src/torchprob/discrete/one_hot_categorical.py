"""The one-hot categorical distribution, and its straight-through reparameterized variant."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import _distributed, constraints
from ..distribution import Distribution, validate_sample
from ..kl import kl_divergence, register_kl
from ..utils import EMPTY, ShapeLike, lazy_property
from .categorical import Categorical

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


def _complement(probs: Tensor) -> Tensor:
    """:math:`1 - p_k` as the sum of the other classes' mass where :math:`p_k > 1/2`, so that it
    keeps full relative precision when one class holds almost all the mass."""
    big = probs > 0.5
    others = probs.masked_fill(big, 0).sum(-1, keepdim=True)
    return torch.where(big, others, 1 - probs)


class _CategoricalParams(Distribution):
    """``probs``/``logits`` held by an inner :class:`Categorical` (``_categorical``, as in torch).

    The parameter the user gave is also kept in the instance (normalized), so that validation
    sees it; the other one is computed lazily by the categorical. Rebuilding (``expand``,
    indexing, ``to``) starts from the tensor as given, so it normalizes exactly as the original.
    """

    _categorical: Categorical

    def _set_categorical(self, probs: Tensor | None, logits: Tensor | None) -> Categorical:
        categorical = Categorical(probs, logits, validate_args=False)
        self._categorical = categorical
        self._from_probs = probs is not None
        if probs is not None:
            self.probs = categorical.probs
            self._given = probs
        else:
            assert logits is not None  # the categorical checked that exactly one was given
            self.logits = categorical.logits
            self._given = logits
        return categorical

    def _init_kwargs(self) -> dict[str, Any]:
        kwargs = super()._init_kwargs()
        kwargs["probs" if self._from_probs else "logits"] = self._given
        return kwargs

    @lazy_property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @lazy_property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def _param(self) -> Tensor:
        return self._categorical._param

    @property
    def param_shape(self) -> torch.Size:
        return self._categorical._param.size()


class OneHotCategorical(_CategoricalParams):
    r"""Categorical distribution over the one-hot vectors :math:`e_1, \dots, e_K`:

    .. math:: P(x = e_k) = p_k = \frac{e^{\ell_k}}{\sum_j e^{\ell_j}}.

    Exactly one of ``probs`` or ``logits`` is given; both are normalized along the last
    dimension, as in :class:`~torchprob.discrete.categorical.Categorical`.

    Args:
        probs: event probabilities :math:`p` (non-negative, non-zero sum), ``batch + (K,)``.
        logits: unnormalized log probabilities :math:`\ell` (``-inf`` allowed).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> OneHotCategorical(torch.tensor([0.25, 0.75])).log_prob(torch.tensor([0.0, 1.0]))
        tensor(-0.2877)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(
        self,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        param = self._set_categorical(probs, logits)._param
        super().__init__(param.shape[:-1], param.shape[-1:], validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        probs = self.probs
        return torch.zeros_like(probs).scatter_(-1, probs.argmax(-1, keepdim=True), 1.0)

    @property
    def variance(self) -> Tensor:
        probs = self.probs
        return probs * _complement(probs)

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """The one-hot code of a :class:`Categorical` draw (the same draw for the same seed)."""
        index = self._categorical.sample(sample_shape, generator=generator).unsqueeze(-1)
        probs = self.probs
        if type(probs) is not Tensor and _distributed.is_dtensor(probs):  # no scatter on shards
            with torch.no_grad():
                return (_distributed.class_index(probs) == index).to(probs.dtype)
        with torch.no_grad():
            out = probs.new_zeros(index.shape[:-1] + probs.shape[-1:])
            return out.scatter_(-1, index, 1.0)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return self._categorical.log_prob(_distributed.argmax(value, -1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self._event_shape[0]
        values = torch.eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.view((n,) + (1,) * len(self._batch_shape) + (n,))
        return values.expand((n,) + self._batch_shape + (n,)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    r""":class:`OneHotCategorical` with the straight-through gradient estimator (Bengio et al.,
    2013): :meth:`rsample` returns the one-hot draw :math:`x` whose gradient is that of
    :math:`p`, i.e. :math:`x + (p - \operatorname{stop\_gradient}(p))`.

    Example::

        >>> logits = torch.zeros(3, requires_grad=True)
        >>> OneHotCategoricalStraightThrough(logits=logits).rsample().requires_grad
        True
    """

    has_rsample = True

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        samples = self.sample(sample_shape, generator=generator)
        probs = self.probs
        return samples + (probs - probs.detach())


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    """The KL divergence of the underlying categoricals."""
    return kl_divergence(p._categorical, q._categorical)
