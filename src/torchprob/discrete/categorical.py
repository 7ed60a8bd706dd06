"""The categorical distribution over ``{0, ..., K-1}``."""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor

from .. import _distributed, constraints
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, kl_term, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


_RACE_LIMIT = 4096  # draws x classes up to which the exponential race is the cheaper sampler


@functools.lru_cache(maxsize=64)
def _classes(num_events: int) -> constraints.Constraint:
    """The support ``{0, ..., num_events - 1}``, built once per size (it is immutable)."""
    return constraints.integer_interval(0, num_events - 1)


class Categorical(Distribution):
    r"""Categorical distribution over :math:`\{0, \dots, K-1\}` with class probabilities
    :math:`p_k` along the last dimension of the parameter:

    .. math:: P(x = k) = p_k = \frac{e^{\ell_k}}{\sum_j e^{\ell_j}}.

    Exactly one of ``probs`` (non-negative, normalized here along the last dim) or ``logits``
    (any reals, ``-inf`` allowed for impossible classes; normalized here) is given.

    Args:
        probs: event probabilities :math:`p`, shape ``batch_shape + (K,)``.
        logits: unnormalized log probabilities :math:`\ell`, shape ``batch_shape + (K,)``.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Categorical(probs=torch.tensor([0.25, 0.75])).log_prob(torch.tensor(1)).exp()
        tensor(0.7500)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(
        self,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
            self._from_probs = True
        elif logits is not None:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            if type(logits) is Tensor:
                self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            else:  # a DTensor may be sharded along the classes: no gather
                self.logits = logits - _distributed.logsumexp(logits, -1, keepdim=True)
            self._param = self.logits
            self._from_probs = False
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        if type(self.logits) is not Tensor and _distributed.is_dtensor(self.logits):
            return self.logits.exp()  # normalized already; softmax would gather the classes
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> torch.Size:
        return self._param.size()

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return _classes(self._num_events)

    @property
    def mean(self) -> Tensor:
        return torch.full_like(self._param[..., 0], math.nan)

    @property
    def mode(self) -> Tensor:
        return self._param.argmax(dim=-1)

    @property
    def variance(self) -> Tensor:
        return torch.full_like(self._param[..., 0], math.nan)

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Exact draws, by whichever of two methods costs less memory traffic.

        Few draws from few classes: an exponential race, :math:`\\arg\\max_k p_k / E_k` with
        :math:`E_k \\sim \\mathrm{Exp}(1)` i.i.d. (elementwise ops and an ``argmax``, no
        ``multinomial``; draws are clamped away from 0 so a zero-probability class never wins).
        Many draws times classes: inversion, one uniform per draw searched in the cumulative
        probabilities (normalized so that the last entry is exactly 1 and zero-probability
        classes can never be returned).
        """
        probs = self.probs
        shape = self._extended_shape(sample_shape)
        if type(probs) is not Tensor and _distributed.is_dtensor(probs):
            return self._sample_distributed(shape, generator)
        num_draws = shape.numel() // max(1, self._batch_shape.numel())
        with torch.no_grad():
            if num_draws * self._num_events <= _RACE_LIMIT:
                race = probs.new_empty(shape + probs.shape[-1:]).exponential_(generator=generator)
                race.clamp_(min=torch.finfo(race.dtype).tiny)
                return torch.div(probs, race, out=race).argmax(-1)
            cumulative = probs.cumsum(-1)
            cumulative = cumulative / cumulative[..., -1:]
            cumulative = cumulative.expand(self._batch_shape + probs.shape[-1:]).contiguous()
            u = probs.new_empty(self._batch_shape + (num_draws,)).uniform_(generator=generator)
            draws = torch.searchsorted(cumulative, u, right=True)
            return draws.movedim(-1, 0).reshape(shape)

    def _sample_distributed(self, shape: torch.Size, generator: torch.Generator | None) -> Tensor:
        """Gumbel-max on DTensor parameters, ``argmax(log p_k - log E_k)``: noise drawn like the
        (possibly class-sharded) log-probabilities and a sharded argmax (no gather)."""
        with torch.no_grad():
            log_probs = self._log_probs().expand(shape + (self._num_events,))
            race = torch.empty_like(log_probs)
            race = race.exponential_(generator=generator) if generator else race.exponential_()
            return _distributed.argmax(log_probs - race.log(), -1)

    def _log_probs(self) -> Tensor:
        """Exact log-probabilities: ``logits`` when given, else ``log(probs)`` unclamped (the
        public ``logits`` clamps probabilities to eps, as torch's does)."""
        return self.probs.log() if self._from_probs else self.logits

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        index = value.long().unsqueeze(-1)
        logits = self._log_probs()
        if type(logits) is not Tensor and _distributed.is_dtensor(logits):
            if not _distributed.is_dtensor(index):
                index = _distributed.replicate_like(logits, index)
            chosen = _distributed.class_index(logits) == index
            return torch.where(chosen, logits, 0.0).sum(-1)  # a sum, not a gather of classes
        if index.shape[:-1] != logits.shape[:-1]:
            index, logits = torch.broadcast_tensors(index, logits)
            index = index[..., :1]
        return logits.gather(-1, index).squeeze(-1)

    def _at_class(self, table: Tensor, value: Tensor, below: float, above: float) -> Tensor:
        """``table[..., floor(x)]`` per batch member: ``below`` for x < 0, ``above`` past K-1."""
        index = value.floor().clamp(-1, self._num_events).long().unsqueeze(-1)
        if index.shape[:-1] != table.shape[:-1]:
            index, table = torch.broadcast_tensors(index, table)
            index = index[..., :1]
        picked = table.gather(-1, index.clamp(0, self._num_events - 1))
        picked = picked.masked_fill(index < 0, below).masked_fill(index >= self._num_events, above)
        return picked.squeeze(-1)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        """:math:`P(X \\le x) = \\sum_{k \\le x} p_k`."""
        return self._at_class(self.probs.cumsum(-1).clamp(max=1), value, 0.0, 1.0)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        """:math:`\\sum_{k > x} p_k`, summed from the top class down (no ``1 - cdf``)."""
        above = self.probs.flip(-1).cumsum(-1).flip(-1)  # above[k] = P(X >= k)
        above = torch.cat([above[..., 1:], torch.zeros_like(above[..., :1])], -1)
        return self._at_class(above, value, 1.0, 0.0)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return self._at_class(self._log_probs().logcumsumexp(-1), value, -math.inf, 0.0)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        log_above = self._log_probs().flip(-1).logcumsumexp(-1).flip(-1)
        log_above = torch.cat(
            [log_above[..., 1:], torch.full_like(log_above[..., :1], -math.inf)], -1
        )
        return self._at_class(log_above, value, 0.0, -math.inf)

    def icdf(self, value: Tensor) -> Tensor:
        """The smallest class :math:`k` with :math:`P(X \\le k) \\ge u`."""
        cumulative = self.probs.cumsum(-1)
        below = (cumulative < value.unsqueeze(-1)).sum(-1)
        return below.clamp(max=self._num_events - 1)

    def entropy(self) -> Tensor:
        if self._from_probs:
            return torch.special.entr(self.probs).sum(-1)
        logits = self.logits.clamp(min=torch.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = torch.arange(self._num_events, dtype=torch.long, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    r""":math:`\sum_k p_k (\log p_k - \log q_k)` from exact log-probabilities: 0 terms where
    :math:`p_k = 0`, ``inf`` where :math:`q_k = 0 < p_k`. Summed as non-negative shares
    (``kl_term``), exact for nearly equal distributions; the masses come from the logs where
    needed, so no softmax and no buffer that lives through the whole computation."""
    return kl_term(None, None, p._log_probs(), q._log_probs()).sum(-1)
