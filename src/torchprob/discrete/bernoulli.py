"""The Bernoulli distribution."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import constraints
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..utils import (
    EMPTY,
    ShapeLike,
    kl_term,
)
from ._binary import BinaryParameterized

__all__ = ["Bernoulli"]


def _softplus(x: Tensor) -> Tensor:
    """``log(1 + e^x)`` to full precision (torch's default threshold of 20 loses digits)."""
    return F.softplus(x, threshold=40)


_LARGE = 1 << 16  # values from which log_prob takes the one-pass route


def _interior(p: Tensor) -> bool:
    """Whether every probability lies strictly inside (0, 1): read on the host, so only asked
    for CPU parameters that are much smaller than the value tensor."""
    if not p.is_cpu:
        return False
    if p.numel() == 1:
        return 0 < p.item() < 1
    return bool(((p > 0) & (p < 1)).all())


def _step(value: Tensor, middle: Tensor, below: float, above: float) -> Tensor:
    """A tail function of {0, 1}: ``below`` for x < 0, ``middle`` on [0, 1), ``above`` from 1."""
    inner = torch.where(value < 1, middle, above)
    return torch.where(value < 0, below, inner).to(middle.dtype)


class Bernoulli(BinaryParameterized, ExponentialFamily):
    r"""Bernoulli distribution: :math:`P(x = 1) = p`, :math:`P(x = 0) = 1 - p`,

    .. math:: P(x) = p^x (1-p)^{1-x}, \qquad x \in \{0, 1\},

    parameterized by exactly one of ``probs`` (:math:`p`) or ``logits``
    (:math:`\log\frac{p}{1-p}`); the other is computed on first use. Built from ``probs``,
    boundary values are exact: ``Bernoulli(probs=0).log_prob(1)`` is ``-inf``.

    Args:
        probs: :math:`p \in [0, 1]`.
        logits: log-odds, any real number.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Bernoulli(probs=torch.tensor(0.25)).log_prob(torch.tensor(1.0))
        tensor(-1.3863)
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(
        self,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        self._store_binary(probs, logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        probs = self.probs
        return (probs >= 0.5).to(probs).masked_fill(probs == 0.5, math.nan)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            return torch.bernoulli(self.probs.expand(shape), generator=generator)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        if self._from_probs:
            p = self.probs
            if value.numel() > _LARGE and p.numel() * 64 <= value.numel() and _interior(p):
                # One pass instead of four: lerp is exact at v = 0, 1 when both logs are finite.
                return torch.lerp(torch.log1p(-p), p.log(), value.to(p.dtype))
            return torch.special.xlogy(value, p) + torch.special.xlog1py(1 - value, -p)
        # v l - softplus(l) = -[v softplus(-l) + (1 - v) softplus(l)]; lerp is exact at v = 0, 1.
        logits = self.logits
        return -torch.lerp(_softplus(logits), _softplus(-logits), value.to(logits.dtype))

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        """:math:`P(X \\le x)`: 0 below 0, :math:`1-p` on :math:`[0, 1)`, 1 from 1 on."""
        return _step(value, self._mass_pair()[1], 0.0, 1.0)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return _step(value, self._mass_pair()[0], 1.0, 0.0)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return _step(value, self._log_mass_pair()[1], -math.inf, 0.0)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return _step(value, self._log_mass_pair()[0], 0.0, -math.inf)

    def icdf(self, value: Tensor) -> Tensor:
        """The smallest :math:`x \\in \\{0, 1\\}` with ``cdf(x) >= u`` (the computed cdf, so that
        ``icdf(cdf(x)) == x`` wherever the cdf steps up)."""
        return (value > self._mass_pair()[1]).to(self._param.dtype)

    def _mass_pair(self) -> tuple[Tensor, Tensor]:
        """``(p, 1 - p)``, each to full relative precision (``1 - p`` from logits would round)."""
        if self._from_probs:
            return self.probs, 1 - self.probs
        return torch.sigmoid(self.logits), torch.sigmoid(-self.logits)

    def _log_mass_pair(self) -> tuple[Tensor, Tensor]:
        """``(log p, log(1 - p))`` from the parameter the user gave, exact near 0 and 1."""
        if self._from_probs:
            return self.probs.log(), torch.log1p(-self.probs)
        return F.logsigmoid(self.logits), F.logsigmoid(-self.logits)

    def entropy(self) -> Tensor:
        if self._from_probs:
            p = self.probs
            return -(torch.special.xlogy(p, p) + torch.special.xlog1py(1 - p, -p))
        # p log p + q log q with q = sigmoid(-l) directly: 1 - p would cancel for large l.
        logits = self.logits
        log_p, log_q = self._log_mass_pair()
        return -(torch.sigmoid(logits) * log_p + torch.sigmoid(-logits) * log_q)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = torch.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return _softplus(x)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    r""":math:`p \log\frac{p}{q} + (1-p)\log\frac{1-p}{1-q}`, from exact log-masses (a logit
    of 50 is not an impossible outcome), with :math:`0 \log 0 = 0` and ``inf`` where :math:`q`
    gives zero mass to an outcome :math:`p` can produce."""
    p1, p0 = p._mass_pair()
    q1, q0 = q._mass_pair()
    log_p1, log_p0 = p._log_mass_pair()
    log_q1, log_q0 = q._log_mass_pair()
    return kl_term(p1, q1, log_p1, log_q1) + kl_term(p0, q0, log_p0, log_q0)
