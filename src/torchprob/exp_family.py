"""ExponentialFamily: :math:`p(x) = h(x) \\exp(\\langle \\eta, T(x) \\rangle - A(\\eta))`."""

from __future__ import annotations

import torch
from torch import Tensor

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    r"""Base class of exponential families,

    .. math:: p_\eta(x) = h(x) \exp\big(\langle \eta, T(x) \rangle - A(\eta)\big),

    with natural parameters :math:`\eta` (``_natural_params``), log-normalizer :math:`A`
    (``_log_normalizer``) and carrier measure :math:`h` (``_mean_carrier_measure`` is
    :math:`E[\log h(x)]`). From these alone, :meth:`entropy` and the KL divergence between two
    members of one family follow through the Bregman divergence of :math:`A`, with
    :math:`\nabla A` by autograd.
    """

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float | Tensor:
        raise NotImplementedError

    def _log_normalizer_and_grad(
        self,
    ) -> tuple[list[Tensor], Tensor, tuple[Tensor, ...], bool]:
        r"""Natural parameters, :math:`A(\eta)`, :math:`\nabla A(\eta)`, and whether any
        parameter requires grad (then the results stay differentiable in them)."""
        natural = self._natural_params
        tracked = torch.is_grad_enabled() and any(t.requires_grad for t in natural)
        with torch.enable_grad():
            eta = [t if t.requires_grad else t.detach().requires_grad_() for t in natural]
            a = self._log_normalizer(*eta)
            grads = torch.autograd.grad(a.sum(), eta, create_graph=tracked)
        return eta, a, grads, tracked

    def entropy(self) -> Tensor:
        r""":math:`H = A(\eta) - \langle \eta, \nabla A(\eta) \rangle - E[\log h(x)]`."""
        eta, a, grads, tracked = self._log_normalizer_and_grad()
        result = a - self._mean_carrier_measure
        batch_ndim = len(self._batch_shape)
        for e, g in zip(eta, grads):
            term = e * g
            result = result - term.reshape(term.shape[:batch_ndim] + (-1,)).sum(-1)
        return result if tracked else result.detach()
