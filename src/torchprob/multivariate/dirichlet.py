"""The Dirichlet distribution on the probability simplex."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import constraints
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    r"""Dirichlet distribution with concentration :math:`\alpha \in (0, \infty)^K` on the simplex
    :math:`\{x : x_k \ge 0, \sum_k x_k = 1\}`:

    .. math:: p(x) = \frac{\Gamma(\alpha_0)}{\prod_k \Gamma(\alpha_k)} \prod_k x_k^{\alpha_k - 1},
        \qquad \alpha_0 = \sum_k \alpha_k.

    ``rsample`` normalizes independent :math:`\mathrm{Gamma}(\alpha_k, 1)` draws; their implicit
    reparameterization gradient (built into ``torch._standard_gamma``) carries through the
    normalization, so samples are differentiable in :math:`\alpha`. Where no gradient is
    needed, one fused kernel (``torch._sample_dirichlet``) draws the same values from the same
    random stream.

    Args:
        concentration: :math:`\alpha`, shape ``batch_shape + (K,)``.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Dirichlet(torch.tensor([1.0, 1.0, 2.0])).mean
        tensor([0.2500, 0.2500, 0.5000])
    """

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        """The interior maximum :math:`(\\alpha_k - 1)/(\\alpha_0 - K)` where it exists; where
        every :math:`\\alpha_k < 1` the density is unbounded at the vertices and the vertex of
        the largest :math:`\\alpha_k` is returned (torch's convention)."""
        excess = (self.concentration - 1).clamp(min=0.0)
        mode = excess / excess.sum(-1, keepdim=True)
        below_one = (self.concentration < 1).all(-1, keepdim=True)
        vertex = F.one_hot(self.concentration.argmax(-1), excess.shape[-1]).to(mode)
        return torch.where(below_one, vertex, mode)

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total.square() * (total + 1))

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        alpha = self.concentration
        if sample_shape:
            alpha = alpha.expand(self._extended_shape(sample_shape))
        if not (alpha.requires_grad and torch.is_grad_enabled()):
            return torch._sample_dirichlet(alpha, generator=generator)
        gammas = torch._standard_gamma(alpha, generator=generator)
        # tiny concentrations underflow every draw to 0: keep them at the smallest normal number
        gammas = gammas.clamp(min=torch.finfo(gammas.dtype).tiny)
        return gammas / gammas.sum(-1, keepdim=True)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        alpha = self.concentration
        terms = torch.special.xlogy(alpha - 1, value).sub_(torch.lgamma(alpha))
        return terms.sum(-1) + torch.lgamma(alpha.sum(-1))

    def entropy(self) -> Tensor:
        r""":math:`\log B(\alpha) + (\alpha_0 - K)\psi(\alpha_0)
        - \sum_k (\alpha_k - 1)\psi(\alpha_k)`."""
        alpha = self.concentration
        k = alpha.shape[-1]
        total = alpha.sum(-1)
        return (
            torch.lgamma(alpha).sum(-1)
            - torch.lgamma(total)
            + (total - k) * torch.digamma(total)
            - ((alpha - 1) * torch.digamma(alpha)).sum(-1)
        )

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return torch.lgamma(x).sum(-1) - torch.lgamma(x.sum(-1))


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    r""":math:`\log\frac{\Gamma(\alpha_0)}{\Gamma(\beta_0)} - \sum_k \log\frac{\Gamma(\alpha_k)}
    {\Gamma(\beta_k)} + \sum_k (\alpha_k - \beta_k)(\psi(\alpha_k) - \psi(\alpha_0))`."""
    a, b = p.concentration, q.concentration
    a0 = a.sum(-1)
    return (
        torch.lgamma(a0)
        - torch.lgamma(b.sum(-1))
        - (torch.lgamma(a) - torch.lgamma(b)).sum(-1)
        + ((a - b) * (torch.digamma(a) - torch.digamma(a0).unsqueeze(-1))).sum(-1)
    )
