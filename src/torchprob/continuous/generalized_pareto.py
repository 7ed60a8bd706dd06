"""The generalized Pareto distribution."""

from __future__ import annotations

import functools
import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, _log1mexp, validate_sample
from ..utils import EMPTY, ShapeLike, broadcast_all
from ._passes import LARGE, host_min, scalars

__all__ = ["GeneralizedPareto"]


@functools.cache
def _series_cut(dtype: torch.dtype) -> float:
    """Below this ``|w|`` the three-term series is exact to rounding (and so is its gradient,
    where the closed forms cancel)."""
    return torch.finfo(dtype).eps ** (1 / 3)


@functools.cache
def _one_tiny(dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """1 and the smallest normal number as 0-dim tensors (a Python number operand costs a
    tensor creation per op); below ``tiny`` the ratios are 1 to rounding."""
    return torch.tensor(1.0, dtype=dtype), torch.tensor(torch.finfo(dtype).tiny, dtype=dtype)


def _tracked(t: Tensor) -> bool:
    return torch.is_grad_enabled() and t.requires_grad


def _log1p_ratio(w: Tensor) -> Tensor:
    r""":math:`\operatorname{log1p}(w) / w`, 1 at :math:`w = 0`; smooth through 0 when tracked."""
    if not _tracked(w):
        return torch.log1p(w).div_(w).masked_fill_(w.abs() < _one_tiny(w.dtype)[1], 1.0)
    small = w.abs() < _series_cut(w.dtype)
    safe = w.masked_fill(small, 1.0)
    series = (w * (1 / 3) - 0.5).mul(w).add(1)  # 1 - w/2 + w^2/3
    return torch.where(small, series, torch.log1p(safe) / safe)


def _expm1_ratio(xi: Tensor, y: Tensor) -> Tensor:
    r""":math:`\operatorname{expm1}(\xi y) / \xi`, :math:`y` at :math:`\xi = 0`, for finite
    :math:`y`; smooth through 0 when tracked."""
    v = xi * y
    if not _tracked(v):  # y expm1(v)/v: exact for subnormal v too (expm1(v) = v there)
        return y * (torch.expm1(v) / v).nan_to_num_(nan=1.0)
    small = v.abs() < _series_cut(v.dtype)
    safe = torch.where(small, 1.0, xi)
    series = torch.addcmul(y, y * v, v * (1 / 6) + 0.5)  # y (1 + v/2 + v^2/6)
    return torch.where(small, series, torch.expm1(v) / safe)


class GeneralizedPareto(Distribution):
    r"""Generalized Pareto distribution with location :math:`\mu` (``loc``), scale :math:`\sigma`
    (``scale``) and shape :math:`\xi` (``concentration``): with :math:`z = (x - \mu)/\sigma`,

    .. math:: p(x) = \frac1\sigma (1 + \xi z)^{-1/\xi - 1}, \qquad z \ge 0,\ 1 + \xi z \ge 0.

    :math:`\xi = 0` is the exponential distribution, :math:`\xi > 0` a Pareto tail, :math:`\xi < 0`
    a bounded support. Every formula goes through :math:`\operatorname{log1p}(\xi z)/\xi` and
    :math:`\operatorname{expm1}(\xi y)/\xi`, which tend smoothly (values and gradients) to the
    exponential forms as :math:`\xi \to 0`: :math:`\log S(x) = -\operatorname{log1p}(\xi z)/\xi`.

    Args:
        loc: location :math:`\mu`, the lower end of the support.
        scale: scale :math:`\sigma > 0`.
        concentration: shape :math:`\xi` (any real number).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> GeneralizedPareto(0.0, 1.0, 0.0).cdf(torch.tensor(1.0))  # the exponential
        tensor(0.6321)
    """

    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(
        self,
        loc: Tensor | float,
        scale: Tensor | float,
        concentration: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        xi = self.concentration  # loc - scale/xi for xi < 0, else inf; |xi| - xi is +0 at 0
        return constraints.interval(
            self.loc, torch.addcdiv(self.loc, self.scale, xi.abs() - xi, value=2)
        )

    @property
    def mean(self) -> Tensor:
        return self.loc + self.scale / (1 - self.concentration).clamp_min(0)  # inf for xi >= 1

    @property
    def mode(self) -> Tensor:
        # The density is unbounded at the upper end for xi < -1, decreasing otherwise.
        xi = self.concentration
        return torch.where(xi < -1, self.loc - self.scale / xi, self.loc)

    @property
    def variance(self) -> Tensor:
        xi = self.concentration
        return (self.scale / (1 - xi)).square() / (1 - 2 * xi).clamp_min(0)  # inf for xi >= 1/2

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        y = self.loc.new_empty(shape).exponential_(generator=generator)
        return torch.addcmul(self.loc, self.scale, _expm1_ratio(self.concentration, y))

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        # -log(sigma) - (1 + xi) h, h = log1p(xi z)/xi the cumulative hazard
        xi = self.concentration
        if value.numel() >= LARGE and (fast := self._log_prob_big(value)) is not None:
            return fast
        z = (value - self.loc).div_(self.scale)
        h = _log1p_ratio(xi * z).mul_(z)  # nan above a bounded support, and at x = inf
        outside = z.signbit().logical_or_(h.isnan())
        # 0 * inf at the upper end of the uniform (xi = -1) is 0: the density is 1/sigma there
        term = h.mul_(xi + _one_tiny(xi.dtype)[0])
        term = term.nan_to_num_(nan=0.0, posinf=math.inf, neginf=-math.inf)
        return term.add_(self.scale.log()).neg_().masked_fill_(outside, -math.inf)

    def _log_prob_big(self, value: Tensor) -> Tensor | None:
        r"""Big, no graph, one-element parameters, :math:`\xi > 0` and every value in the
        support with :math:`\xi z` normal (a host read of the minimum):
        :math:`-\log\sigma - (1 + 1/\xi)\operatorname{log1p}(\xi z)` in three to five
        passes over one buffer (at :math:`x = \infty` it is ``-inf``)."""
        numbers = scalars(value, self.loc, self.scale, self.concentration)
        if numbers is None or not (numbers[1] > 0 and numbers[2] > 0):
            return None
        loc, sigma, xi = numbers
        low = host_min(value)
        if low is None or not (low - loc) / sigma * xi >= torch.finfo(value.dtype).tiny:
            return None  # (also NaN)
        rate = xi / sigma
        if rate <= 1:  # xi z = (x - mu) xi/sigma: no overflow that x - mu has not
            w = torch.mul(value, rate) if loc == 0 else torch.sub(value, self.loc).mul_(rate)
        else:
            w = torch.sub(value, self.loc).div_(self.scale).mul_(self.concentration)
        head = torch.tensor(-math.log(sigma), dtype=value.dtype)
        return torch.add(head, w.log1p_(), alpha=-(1 + 1 / xi), out=w)

    def _hazard(self, value: Tensor) -> Tensor:
        """:math:`h = -\\log S(x) = \\operatorname{log1p}(\\xi z)/\\xi`, 0 below the support and
        ``inf`` above it."""
        z = ((value - self.loc) / self.scale).clamp_min(0)
        h = z * _log1p_ratio((self.concentration * z).clamp_min(-1))
        return h.masked_fill_(z == math.inf, math.inf)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return torch.expm1(-self._hazard(value)).neg()

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return _log1mexp(-self._hazard(value))

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return torch.exp(-self._hazard(value))

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return -self._hazard(value)

    def icdf(self, value: Tensor) -> Tensor:
        y = torch.log1p(-value).neg_()  # the exponential quantile
        x = torch.addcmul(self.loc, self.scale, _expm1_ratio(self.concentration, y))
        return torch.where(value == 1, self.support.upper_bound, x)

    def entropy(self) -> Tensor:
        return self.scale.log() + self.concentration + 1
