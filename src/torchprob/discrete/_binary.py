"""The ``probs``/``logits`` parameterization shared by the binary-outcome families."""

from __future__ import annotations

import torch
from torch import Tensor

from ..utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["BinaryParameterized", "require_one"]


def require_one(probs: object, logits: object) -> None:
    """Raise ``ValueError`` unless exactly one of ``probs`` and ``logits`` is given."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class BinaryParameterized:
    """Mixin for families parameterized by a success probability :math:`p` (``probs``) or its
    log-odds :math:`\\log\\frac{p}{1-p}` (``logits``): the family stores the one given (and
    ``_param``); the other is computed on first use and cached, as in torch."""

    _param: Tensor
    _from_probs: bool

    def _store_binary(self, probs: Tensor | float | None, logits: Tensor | float | None) -> Tensor:
        """Keep the one of ``probs``/``logits`` given (as a tensor) and return it."""
        require_one(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            self._param = self.probs
        else:
            (self.logits,) = broadcast_all(logits)
            self._param = self.logits
        self._from_probs = probs is not None
        return self._param

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> torch.Size:
        return self._param.size()
