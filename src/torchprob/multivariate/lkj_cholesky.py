"""The LKJ distribution over Cholesky factors of correlation matrices."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..utils import EMPTY, ShapeLike, broadcast_all, constant_like, lazy_property
from .multivariate_normal import _empty

__all__ = ["LKJCholesky"]

_LOG_PI = math.log(math.pi)


class LKJCholesky(Distribution):
    r"""LKJ distribution over lower Cholesky factors :math:`L` of ``dim x dim`` correlation
    matrices, with concentration :math:`\eta` (``concentration``): the correlation matrix
    :math:`M = L L^\top` has density proportional to :math:`|M|^{\eta - 1}`, so
    :math:`\eta = 1` is uniform over correlation matrices. Over the strictly lower entries,

    .. math:: p(L) = \frac{1}{Z(\eta)} \prod_{i=1}^{n-1} L_{ii}^{2(\eta - 1) + n - 1 - i},
        \qquad Z = \prod_{i=1}^{n-1} \frac{\pi^{i/2}\,\Gamma(b_i)}{\Gamma(\alpha)},

    with :math:`b_i = \eta + (n - 1 - i)/2` and :math:`\alpha = \eta + (n-1)/2`. Rows are
    independent; row :math:`i` has squared off-diagonal norm :math:`y_i \sim
    \mathrm{Beta}(i/2, b_i)` in a uniform direction (the onion method of Lewandowski, Kurowicka
    and Joe, 2009). Sampling draws it exactly as a normalized row
    :math:`(z_1, \dots, z_i, c) / \|(z, c)\|`, :math:`z_j \sim N(0, 1)`,
    :math:`c^2 \sim \chi^2_{2 b_i}`.

    Args:
        dim: matrix size :math:`n \ge 2`.
        concentration: :math:`\eta > 0`, a number or a tensor of batch shape.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> LKJCholesky(2, 1.0).log_prob(torch.eye(2))
        tensor(-0.6931)
    """

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(
        self, dim: int, concentration: Tensor | float = 1.0, validate_args: bool | None = None
    ) -> None:
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}."
            )
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        super().__init__(self.concentration.shape, (dim, dim), validate_args=validate_args)

    def _init_kwargs(self) -> dict[str, Any]:
        return {"dim": self.dim, **super()._init_kwargs()}

    @lazy_property
    def _row_shapes(self) -> Tensor:
        """:math:`b_i = \\eta + (n - 1 - i)/2` for rows :math:`i = 0, \\dots, n-1`."""
        eta = self.concentration
        steps = torch.arange(self.dim - 1, -1, -1, dtype=eta.dtype, device=eta.device)
        steps = constant_like(eta, steps)
        return eta.unsqueeze(-1) + steps / 2

    @lazy_property
    def _orders(self) -> Tensor:
        """The powers :math:`2(b_i - 1) = 2(\\eta - 1) + n - 1 - i` of :math:`L_{ii}`, i >= 1."""
        return 2 * (self._row_shapes[..., 1:] - 1)

    @lazy_property
    def _log_normalizer(self) -> Tensor:
        """:math:`\\log Z = \\tfrac{n(n-1)}{4}\\log\\pi + \\sum_{i \\ge 1} \\log\\Gamma(b_i)
        - (n-1)\\log\\Gamma(\\alpha)`."""
        n = self.dim
        shapes = self._row_shapes
        alpha = shapes[..., 0]  # b_0 = alpha
        lgamma = torch.lgamma(shapes[..., 1:]).sum(-1)
        return (n * (n - 1) / 4 * _LOG_PI) + lgamma - (n - 1) * torch.lgamma(alpha)

    def _diag_moments(self) -> tuple[Tensor, Tensor]:
        """:math:`E[L_{ii}]` and :math:`E[L_{ii}^2] = b_i / \\alpha` (:math:`1 - L_{ii}^2 \\sim
        \\mathrm{Beta}(i/2, b_i)`)."""
        shapes = self._row_shapes
        alpha = shapes[..., :1]
        ratio = (torch.lgamma(shapes + 0.5) - torch.lgamma(alpha + 0.5)) + (
            torch.lgamma(alpha) - torch.lgamma(shapes)
        )
        return ratio.exp(), shapes / alpha

    @property
    def mean(self) -> Tensor:
        """Zero off the diagonal (symmetry); :math:`\\Gamma(b_i + \\frac12)\\Gamma(\\alpha) /
        (\\Gamma(b_i)\\Gamma(\\alpha + \\frac12))` on it."""
        return torch.diag_embed(self._diag_moments()[0])

    @property
    def variance(self) -> Tensor:
        """:math:`1/(2\\alpha)` below the diagonal, :math:`b_i/\\alpha - E[L_{ii}]^2` on it."""
        first, second = self._diag_moments()
        n = self.dim
        below = (0.5 / (self.concentration + (n - 1) / 2))[..., None, None]
        lower = torch.ones(n, n, dtype=torch.bool, device=below.device).tril(-1)
        lower = constant_like(below, lower)
        return torch.diag_embed(second - first.square()) + below * lower

    @property
    def mode(self) -> Tensor:
        """The identity where :math:`\\eta > 1`; NaN where the density is flat along or unbounded
        towards a boundary (:math:`\\eta \\le 1`)."""
        eta = self.concentration
        eye = constant_like(eta, torch.eye(self.dim, dtype=eta.dtype, device=eta.device))
        return eye.masked_fill((eta <= 1)[..., None, None], math.nan)

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            gamma = torch._standard_gamma(self._row_shapes.expand(shape[:-1]), generator=generator)
            rows = _empty(self.concentration, shape, 2).normal_(generator=generator).tril_(-1)
            tiny = torch.finfo(gamma.dtype).tiny
            rows.diagonal(dim1=-2, dim2=-1).copy_(gamma.clamp_(min=tiny).mul_(2).sqrt_())
            return rows.div_(torch.linalg.vector_norm(rows, dim=-1, keepdim=True))

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        diag = value.diagonal(dim1=-2, dim2=-1)[..., 1:]
        return torch.xlogy(self._orders, diag).sum(-1) - self._log_normalizer

    def entropy(self) -> Tensor:
        """:math:`\\log Z - \\sum_{i \\ge 1} (b_i - 1)(\\psi(b_i) - \\psi(\\alpha))`, from
        :math:`E[\\log L_{ii}] = \\tfrac12(\\psi(b_i) - \\psi(\\alpha))`."""
        shapes = self._row_shapes
        digamma = torch.digamma(shapes)
        rows = (shapes[..., 1:] - 1) * (digamma[..., 1:] - digamma[..., :1])
        return self._log_normalizer - rows.sum(-1)
