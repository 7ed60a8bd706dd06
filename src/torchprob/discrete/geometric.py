"""The geometric distribution (failures before the first success)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import constraints
from ..continuous._passes import LARGE, untracked
from ..distribution import Distribution, _log1mexp, validate_sample
from ..kl import register_kl
from ..utils import (
    EMPTY,
    ShapeLike,
    host_number,
    kl_term,
)
from ._binary import BinaryParameterized
from .bernoulli import _softplus

__all__ = ["Geometric"]


class Geometric(BinaryParameterized, Distribution):
    r"""Geometric distribution: the number of failures before the first success in
    independent trials that each succeed with probability :math:`p` (torch's convention,
    support :math:`\{0, 1, \dots\}`; SciPy's ``geom`` counts the trials, ``loc=-1`` maps them),

    .. math:: P(x = k) = (1-p)^k\, p, \qquad k = 0, 1, 2, \dots

    Args:
        probs: success probability :math:`p \in (0, 1]`.
        logits: log-odds :math:`\log\frac{p}{1-p}`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Geometric(torch.tensor(0.5)).cdf(torch.tensor(2.0))
        tensor(0.8750)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(
        self,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        self._store_binary(probs, logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    def _extra_param_checks(self) -> list:
        """``probs > 0``: with no success the first one never comes."""
        if not self._from_probs:
            return []
        p = self.probs
        number = host_number(p)
        ok: Tensor | bool = number > 0 if number is not None else p > 0
        return [("probs", "GreaterThan(lower_bound=0.0)", p, ok)]

    @property
    def mean(self) -> Tensor:
        if self._from_probs:
            return (1 - self.probs) / self.probs
        return torch.exp(-self.logits)

    @property
    def mode(self) -> Tensor:
        return torch.zeros_like(self._param)

    @property
    def variance(self) -> Tensor:
        if self._from_probs:
            return (1 - self.probs) / self.probs.square()
        return torch.exp(-self.logits) / torch.sigmoid(self.logits)

    def _log_q(self) -> Tensor:
        """:math:`\\log(1-p)`, exact near 0 and 1."""
        if self._from_probs:
            return torch.log1p(-self.probs)
        return F.logsigmoid(-self.logits)

    def _pq(self) -> tuple[Tensor, Tensor]:
        """:math:`(p, 1-p)`, each to full relative precision."""
        if self._from_probs:
            return self.probs, 1 - self.probs
        return torch.sigmoid(self.logits), torch.sigmoid(-self.logits)

    def _log_pq(self) -> tuple[Tensor, Tensor]:
        if self._from_probs:
            return self.probs.log(), torch.log1p(-self.probs)
        return F.logsigmoid(self.logits), F.logsigmoid(-self.logits)

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Inversion: :math:`\\lfloor \\log U / \\log(1-p) \\rfloor` with :math:`U` uniform
        on :math:`[\\text{tiny}, 1)`."""
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            tiny = torch.finfo(self._param.dtype).tiny
            draws = self._param.new_empty(shape).uniform_(tiny, 1, generator=generator)
            return draws.log_().div_(self._log_q()).floor_()

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        if value.numel() >= LARGE and value.is_floating_point() and untracked(value, self._param):
            slope = self._slope()
            if slope is not None:  # one fused pass: log p + k log(1-p), the log once
                head = self.probs.log() if self._from_probs else F.logsigmoid(self.logits)
                return torch.add(head, value, alpha=slope)
        if self._from_probs:
            return self.probs.log() + torch.special.xlog1py(value, -self.probs)
        logits = self.logits
        return torch.addcmul(F.logsigmoid(logits), value, _softplus(logits), value=-1)

    def _slope(self) -> float | None:
        """:math:`\\log(1-p)` as a Python number, for a one-element CPU parameter with
        :math:`0 < p < 1` (elsewhere ``xlog1py``'s zero at :math:`k = 0, p = 1` matters);
        ``None`` where it is not one host read."""
        param = self._param
        number = host_number(param) if type(param) in (Tensor, torch.nn.Parameter) else None
        if number is None:
            return None
        if not self._from_probs:
            slope = -_softplus(param).item()
            return slope if math.isfinite(slope) else None
        return math.log1p(-number) if 0 < number < 1 else None

    def _log_sf(self, value: Tensor) -> Tensor:
        """:math:`\\log P(X > x) = (\\lfloor x \\rfloor + 1) \\log(1-p)`, 0 below 0."""
        k = value.floor()
        return ((k + 1) * self._log_q()).masked_fill(k < 0, 0.0)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        """:math:`1 - (1-p)^{\\lfloor x \\rfloor + 1}`."""
        return -torch.expm1(self._log_sf(value))

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return self._log_sf(value).exp()

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return _log1mexp(self._log_sf(value))

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return self._log_sf(value)

    def icdf(self, value: Tensor) -> Tensor:
        """:math:`\\lceil \\log(1-u) / \\log(1-p) \\rceil - 1`, then one step either way against
        the computed cdf so that ``icdf(cdf(k)) == k`` holds exactly."""
        k = ((torch.log1p(-value) / self._log_q()).ceil() - 1).clamp(min=0)  # never -0
        k = torch.where((k > 0) & (-torch.expm1(self._log_sf(k - 1)) >= value), k - 1, k)
        return torch.where(-torch.expm1(self._log_sf(k)) < value, k + 1, k)

    def entropy(self) -> Tensor:
        """:math:`-[p \\log p + (1-p)\\log(1-p)] / p`."""
        if self._from_probs:
            p = self.probs
            return -(torch.special.xlogy(p, p) + torch.special.xlog1py(1 - p, -p)) / p
        # -log p + ((1-p)/p) (-log(1-p)); the second factor pair is log1p(x)/x, x = e^l, whose
        # pieces overflow/underflow separately below l = -700, where it equals 1.
        logits = self.logits
        low = logits.clamp(min=-700)
        return _softplus(-logits) + torch.exp(-low) * _softplus(low)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    r""":math:`KL(\mathrm{Bern}(p) \| \mathrm{Bern}(q)) / p`, i.e.
    :math:`\log\frac{p}{q} + \frac{1-p}{p}\log\frac{1-p}{1-q}`, through ``kl_term`` (no
    cancellation when :math:`p \approx q`; ``inf`` when :math:`q = 1 > p`)."""
    (p1, p0), (q1, q0) = p._pq(), q._pq()
    (lp1, lp0), (lq1, lq0) = p._log_pq(), q._log_pq()
    return (kl_term(p1, q1, lp1, lq1) + kl_term(p0, q0, lp0, lq0)) / p1
