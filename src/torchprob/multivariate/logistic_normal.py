"""The logistic-normal distribution: a stick-breaking map of a diagonal normal onto the simplex."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import constraints
from ..composite.independent import Independent
from ..composite.transformed_distribution import DirectTransformedDistribution
from ..continuous.normal import Normal
from ..distribution import Distribution, validate_sample
from ..transforms import StickBreakingTransform, Transform, _offsets
from ..utils import EMPTY, ShapeLike, broadcast_all, lazy_property

__all__ = ["LogisticNormal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class LogisticNormal(DirectTransformedDistribution):
    r"""The distribution of :math:`y = \mathrm{StickBreaking}(x)` for :math:`x \sim
    \mathcal{N}(\mu, \operatorname{diag}\sigma^2)` in :math:`\mathbb{R}^{K-1}`, a distribution on
    the :math:`K`-simplex:

    .. math:: x_k = \log\frac{y_k}{\sum_{j>k} y_j} + \log(K - 1 - k), \qquad
        \log p(y) = \sum_{k<K-1} \log \mathcal{N}(x_k; \mu_k, \sigma_k) - \sum_{k<K} \log y_k,

    the log-determinant of the stick-breaking Jacobian being :math:`\sum_k \log y_k`. Computed
    directly, in log space (``base_dist`` and ``transforms`` are built only when read): the
    stick left after :math:`y_k` is the sum of the later entries, not :math:`1` minus the
    earlier ones, so small entries keep their relative accuracy.

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
        loc, scale = broadcast_all(loc, scale)
        if not loc.dim():  # one logit: two classes
            loc, scale = loc.reshape(1), scale.reshape(1)
        self.loc, self.scale = loc, scale
        shape = loc.shape
        Distribution.__init__(self, shape[:-1], (shape[-1] + 1,), validate_args=validate_args)

    @lazy_property
    def base_dist(self) -> Independent:  # type: ignore[override]
        return Independent(Normal(self.loc, self.scale, validate_args=False), 1, False)

    @lazy_property
    def transforms(self) -> list[Transform]:  # type: ignore[override]
        return [StickBreakingTransform()]

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        loc = self.loc
        shape = self._extended_shape(sample_shape)[:-1] + loc.shape[-1:]
        eps = loc.new_empty(shape).normal_(generator=generator)
        # u = x - log(K - 1 - k); log y_k = u_k - sum_{j <= k} softplus(u_j), the last entry
        # (u = 0) being the stick left
        u = torch.addcmul(loc - _offsets(loc).log_(), eps, self.scale)
        log_rest = F.pad(F.softplus(u, threshold=40), (0, 1)).cumsum(-1)
        return F.pad(u, (0, 1)).sub_(log_rest).exp_()

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        log_y = value.log()
        rest = value.flip(-1).cumsum(-1).flip(-1)[..., 1:]  # sum_{j > k} y_j
        shift = torch.sub(_offsets(self.loc).log_(), self.loc)  # log(K - 1 - k) - mu
        z = (log_y[..., :-1] - rest.log() + shift) / self.scale
        terms = torch.addcmul(self.scale.log(), z, z, value=0.5).sum(-1) + log_y.sum(-1)
        log_p = torch.rsub(terms, -_HALF_LOG_2PI * self.loc.shape[-1])
        # an empty entry makes both sums infinite: the density is zero there
        return torch.nan_to_num(log_p, nan=-math.inf, posinf=math.inf, neginf=-math.inf)
