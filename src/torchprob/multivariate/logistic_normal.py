"""The logistic-normal distribution: a stick-breaking map of a diagonal normal onto the simplex."""

from __future__ import annotations

from torch import Tensor

from .. import constraints
from ..composite.transformed_distribution import TransformedDistribution
from ..continuous.normal import Normal
from ..transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    r"""The distribution of :math:`y = \mathrm{StickBreaking}(x)` for :math:`x \sim
    \mathcal{N}(\mu, \operatorname{diag}\sigma^2)` in :math:`\mathbb{R}^{K-1}`, a distribution on
    the :math:`K`-simplex:

    .. math:: x_k = \log\frac{y_k}{1 - \sum_{j<k} y_j} + \log(K - k), \qquad
        \log p(y) = \log \mathcal{N}(x; \mu, \sigma) - \log\Big|\det\frac{\partial y}
        {\partial x}\Big|.

    Args:
        loc: :math:`\mu`, shape ``batch_shape + (K - 1,)`` (a scalar gives :math:`K = 2`).
        scale: :math:`\sigma > 0`, broadcastable with ``loc``.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> LogisticNormal(torch.zeros(2), torch.ones(2)).sample().sum()
        tensor(1.)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True
    _param_event_dims = {"loc": 1, "scale": 1}

    def __init__(
        self, loc: Tensor | float, scale: Tensor | float, validate_args: bool | None = None
    ) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))  # type: ignore[assignment]
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.base_dist.loc  # type: ignore[attr-defined]

    @property
    def scale(self) -> Tensor:
        return self.base_dist.base_dist.scale  # type: ignore[attr-defined]
