"""The relaxed one-hot categorical (Concrete / Gumbel-softmax) distribution and its log,
``ExpRelaxedCategorical``."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .. import _distributed, constraints
from ..distribution import validate_sample
from ..utils import EMPTY, ShapeLike, is_tracing, lazy_property
from .one_hot_categorical import _CategoricalParams
from .relaxed_bernoulli import _Tempered

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


def _event_aligned(temperature: Tensor) -> Tensor:
    """A batch-shaped temperature with a trailing dimension, to broadcast over the classes."""
    return temperature.unsqueeze(-1) if temperature.dim() else temperature


def _plain(t: Tensor) -> bool:
    return type(t) is Tensor or not _distributed.is_dtensor(t)


def _class_sum(t: Tensor, dtype: torch.dtype | None = None) -> Tensor:
    """``t.sum(-1)``; for a DTensor sharded along the classes, all-reduced (a pending sum
    would not combine safely with the constants added to it)."""
    total: Any = t.sum(-1, dtype=dtype)
    if _plain(total):
        return total
    from torch.distributed.tensor import Replicate

    placements = [Replicate() if p.is_partial() else p for p in total.placements]
    return total.redistribute(total.device_mesh, placements)


def _log_normalized(scores: Tensor) -> Tensor:
    """``log_softmax(scores, -1)``; along sharded classes of a DTensor as ``scores -
    logsumexp(scores)`` with a sharded logsumexp (no gather)."""
    if _plain(scores):
        return torch.log_softmax(scores, -1)
    return scores - _distributed.logsumexp(scores, -1, keepdim=True)


def _concrete_log_prob(logits: Tensor, lam: Tensor, log_y: Tensor, on_simplex: bool) -> Tensor:
    r"""Log density of the Concrete distribution at :math:`x = \log y`,

    .. math:: \log\Gamma(K) + (K-1)\log\lambda + \sum_k (\ell_k - \lambda x_k - [x_k])
        - K \log\sum_k e^{\ell_k - \lambda x_k},

    the bracket (the Jacobian of :math:`y = e^x`) only ``on_simplex``. Where every term is finite
    (checked on the host for CPU tensors) this is all; otherwise :func:`_concrete_edges`.
    """
    z = torch.addcmul(logits, _event_aligned(lam), log_y, value=-1)
    terms = z - log_y if on_simplex else z
    if z.is_cpu and not is_tracing() and _plain(z) and bool(terms.isfinite().all()):
        n = z.shape[-1]
        result = torch.sub(terms.sum(-1), z.logsumexp(-1), alpha=n)
        return torch.add(result, lam.log(), alpha=n - 1) + math.lgamma(n)
    return _concrete_edges(logits, lam, z, terms, on_simplex)


def _concrete_edges(
    logits: Tensor, lam: Tensor, z: Tensor, terms: Tensor, on_simplex: bool
) -> Tensor:
    r"""The Concrete log density where classes sit at :math:`y_k = 0`.

    A class with :math:`\ell_k = -\infty` there is out of play (:math:`K` counts the others),
    so masked logits give the density of the remaining classes. For :math:`Z` classes in play
    at :math:`y = 0` (:math:`z_k = +\infty`) the density is the limit as they approach 0
    together: :math:`\pm\infty` by the sign of the exponent :math:`\lambda(K - Z) - Z`
    (:math:`\lambda(K - Z)` in log space), finite where it is zero (e.g. :math:`K = 2`,
    :math:`\lambda = 1`); for :math:`Z \ge 2` that finite value depends on the direction of
    approach, and the one returned is the limit along equal :math:`y_k`.
    """
    out, zero = z.isnan(), z == math.inf
    k = z.shape[-1] - _class_sum(out, z.dtype)
    n_zero = _class_sum(zero, z.dtype)
    total = _class_sum(terms.nan_to_num(nan=0.0, posinf=0.0, neginf=-math.inf))
    regular = total - k * _distributed.logsumexp(z.nan_to_num(nan=-math.inf), -1)
    zero_logits = torch.where(zero, logits, -math.inf)
    growth = (k - n_zero) * lam - (n_zero if on_simplex else 0)
    edge = (
        total
        + _class_sum(zero_logits.nan_to_num(neginf=0.0))
        - k * _distributed.logsumexp(zero_logits, -1)
        + torch.special.xlogy(growth, 0.0)
    )
    scale = torch.lgamma(k) + torch.special.xlogy(k - 1, lam)
    return torch.where(n_zero > 0, edge, regular) + scale


class _RelaxedCategorical(_Tempered, _CategoricalParams):
    """``temperature`` plus exactly one of ``probs``/``logits``, held as in OneHotCategorical."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_rsample = True

    def __init__(
        self,
        temperature: Tensor | float,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        param = self._set_categorical(probs, logits)._param
        batch = self._set_temperature(temperature, param, param.shape[:-1])
        super().__init__(batch, param.shape[-1:], validate_args=validate_args)

    def _scores(self, sample_shape: ShapeLike, generator: torch.Generator | None) -> Tensor:
        """:math:`(\\ell + G) / \\lambda` with Gumbel noise :math:`G = -\\log E`,
        :math:`E \\sim \\mathrm{Exp}(1)` (clamped away from 0)."""
        logits = self.logits
        shape = self._extended_shape(sample_shape)
        if _plain(logits):
            e = logits.new_empty(shape).exponential_(generator=generator)
        else:  # noise sharded like the logits
            e = torch.empty_like(logits.expand(shape)).exponential_(generator=generator)
        gumbel = e.clamp_(min=torch.finfo(e.dtype).tiny).log_().neg_()
        return (gumbel + logits) / _event_aligned(self._temperature)


class ExpRelaxedCategorical(_RelaxedCategorical):
    r"""The log :math:`x = \log y` of a :class:`RelaxedOneHotCategorical` variable: a point of
    :math:`\{x : \sum_k e^{x_k} = 1\}`, drawn as ``log_softmax((logits + gumbel) / temperature)``;

    .. math:: p(x) = (K-1)!\, \lambda^{K-1} \frac{\prod_k e^{\ell_k - \lambda x_k}}
        {\left(\sum_k e^{\ell_k - \lambda x_k}\right)^K}.

    Args:
        temperature: :math:`\lambda > 0`, broadcastable with the parameters' batch shape.
        probs: event probabilities :math:`p` (normalized here), ``batch + (K,)``.
        logits: unnormalized log probabilities :math:`\ell`, ``batch + (K,)``.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> d = ExpRelaxedCategorical(torch.tensor(1.0), logits=torch.zeros(2))
        >>> d.log_prob(torch.tensor([0.5, 0.5]).log()).exp()
        tensor(0.2500)
    """

    support = constraints.real_vector  # the true support is a submanifold of it

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        return _log_normalized(self._scores(sample_shape, generator))

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return _concrete_log_prob(self.logits, self._temperature, value, on_simplex=False)


class RelaxedOneHotCategorical(_RelaxedCategorical):
    r"""Relaxed one-hot categorical (Concrete, Gumbel-softmax) distribution on the simplex:
    ``softmax((logits + gumbel) / temperature)``; as :math:`\lambda \to 0` it tends to
    :class:`~torchprob.discrete.one_hot_categorical.OneHotCategorical`. With
    :math:`\alpha_k = e^{\ell_k}`,

    .. math:: p(y) = (K-1)!\, \lambda^{K-1} \prod_k \frac{\alpha_k y_k^{-\lambda-1}}
        {\sum_i \alpha_i y_i^{-\lambda}}.

    Args:
        temperature: :math:`\lambda > 0`, broadcastable with the parameters' batch shape.
        probs: event probabilities :math:`p` (normalized here), ``batch + (K,)``.
        logits: unnormalized log probabilities :math:`\ell` (``-inf`` masks a class).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> d = RelaxedOneHotCategorical(torch.tensor(1.0), probs=torch.tensor([0.5, 0.5]))
        >>> d.log_prob(torch.tensor([0.5, 0.5])).exp()
        tensor(1.)
    """

    support = constraints.simplex

    @lazy_property
    def base_dist(self) -> ExpRelaxedCategorical:
        """The :class:`ExpRelaxedCategorical` whose exponential this is."""
        name = "probs" if self._from_probs else "logits"
        param = {name: self.__dict__[name]}
        return ExpRelaxedCategorical(self.temperature, **param, validate_args=False)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        scores = self._scores(sample_shape, generator)
        return torch.softmax(scores, -1) if _plain(scores) else _log_normalized(scores).exp()

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return _concrete_log_prob(self.logits, self._temperature, value.log(), on_simplex=True)
