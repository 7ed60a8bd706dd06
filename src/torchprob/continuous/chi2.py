"""The chi-squared distribution."""

from __future__ import annotations

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution
from ..utils import EMPTY, ShapeLike, broadcast_all
from .gamma import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    r"""Chi-squared distribution with :math:`k` (``df``) degrees of freedom, the gamma
    distribution with shape :math:`k/2` and rate :math:`1/2`:

    .. math:: p(x) = \frac{x^{k/2-1} e^{-x/2}}{2^{k/2}\,\Gamma(k/2)}, \qquad x \ge 0.

    Every method is the gamma's (exact for :math:`k` up to :math:`10^8` and beyond).

    Args:
        df: degrees of freedom :math:`k > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Chi2(torch.tensor([4.0])).mode
        tensor([2.])
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Tensor | float, validate_args: bool | None = None) -> None:
        (self.df,) = broadcast_all(df)
        self.concentration = self.df * 0.5
        self.rate = torch.full_like(self.df, 0.5)
        Distribution.__init__(self, self.df.shape, validate_args=validate_args)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        a = self.concentration
        g = torch._standard_gamma(a if a.shape == shape else a.expand(shape), generator=generator)
        return g + g  # exactly 2 g: no rounding, and no underflow below the smallest normal

    @property
    def mean(self) -> Tensor:
        return self.df

    @property
    def mode(self) -> Tensor:
        return (self.df - 2).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return 2 * self.df
