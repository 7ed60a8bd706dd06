"""The negative binomial distribution."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..continuous._passes import LARGE
from ..distribution import validate_sample
from ..utils import EMPTY, ShapeLike
from ._binary import BinaryParameterized
from .binomial import _CountTails
from .poisson import (
    _HALF_LOG_2PI,
    _PLAIN_MAX,
    _all_small,
    _bd0,
    _host_max,
    _poisson_draws,
    _select,
    _stirlerr,
    _table_log_pmf,
)

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryParameterized, _CountTails):
    r"""Negative binomial distribution: the number of successes before the :math:`r`-th
    failure (``total_count``) in independent trials that each succeed with probability
    :math:`p` (``probs``), as in torch:

    .. math:: P(x = k) = \frac{\Gamma(k + r)}{\Gamma(r)\, k!}\, p^k (1-p)^r,
        \qquad k = 0, 1, 2, \dots

    (SciPy's ``nbinom(n=r, p=1-p)``). :math:`r` may be any non-negative real; :math:`r = 0` is
    the point mass at 0. ``log_prob`` is exact for every :math:`r` and :math:`k` (Loader's
    saddle-point form once :math:`k + r > 64`).

    Args:
        total_count: :math:`r \ge 0`.
        probs: success probability :math:`p \in [0, 1)`.
        logits: log-odds :math:`\log\frac{p}{1-p}`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> NegativeBinomial(3.0, probs=torch.tensor(0.5)).log_prob(torch.tensor(0.0)).exp()
        tensor(0.1250)
    """

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(
        self,
        total_count: Tensor | float,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        batch_shape = self._store_count(total_count, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

    def _odds(self) -> Tensor:
        """:math:`p / (1-p)` (exact from either parameter, unlike torch's clamped logits)."""
        if self._from_probs:
            return self.probs / (1 - self.probs)
        return self.logits.exp()

    @property
    def mean(self) -> Tensor:
        return self.total_count * self._odds()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self._odds()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / self._pq()[1]

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Gamma-Poisson mixture: Poisson draws at rate :math:`G\\,p/(1-p)`,
        :math:`G \\sim \\mathrm{Gamma}(r)`; unless every :math:`r \\ge 1` (CPU), built in log
        space as :math:`\\log G_{r+1} + \\log(U)/r`, exact for tiny and zero :math:`r` (where
        :math:`G` itself underflows)."""
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            r = self.total_count.expand(shape)
            smallest = _host_max(-self.total_count)
            if smallest is not None and smallest <= -1:  # every r >= 1: no underflow to fear
                rate = torch._standard_gamma(r, generator=generator).mul_(self._odds())
            else:
                rate = torch._standard_gamma(r + 1, generator=generator).log_()
                u = r.new_empty(shape).uniform_(generator=generator)
                log_odds = self.logits if not self._from_probs else self._odds().log()
                rate.add_(u.log_().div_(r)).add_(log_odds).exp_()
            return _poisson_draws(rate, generator)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        if value.numel() >= LARGE:  # many values: a table of the log-pmf, if it applies
            params = (self.total_count, self._param)
            pmf = _table_log_pmf(value, self._log_pmf, params, bool(self._validate_args))
            if pmf is not None:
                return pmf
        return self._log_pmf(value)

    def _log_pmf(self, k: Tensor, exact: bool = False) -> Tensor:
        """The plain formula where :math:`k + r \\le 64` (exact there), else the saddle-point
        form of R's ``dnbinom``: :math:`\\frac{r}{k+r}` times the binomial pmf of :math:`r`
        successes in :math:`k + r` trials (Loader 2000), chosen per element."""
        r = self.total_count

        def plain() -> Tensor:
            lp = torch.lgamma(k + r) - torch.lgamma(r) - torch.lgamma(k + 1)
            return lp + self._xlog_p(k) + self._xlog_q(r)

        def saddle() -> Tensor:
            kk = k.clamp(min=0.5)  # k = 0 is set below; this keeps its branch finite
            n, kk = torch.broadcast_tensors(kk + r, kk)
            st = _stirlerr(torch.stack([n, kk]))
            rr = r.expand_as(kk)
            mean_p, mean_q, low = self._means(n, exact)
            lows = None if low is None else torch.stack([low[1], low[0]])
            bd = _bd0(torch.stack([rr, kk]), torch.stack([mean_q, mean_p]), lows)
            spread = 0.5 * (torch.log1p(kk / rr) + kk.log()) + _HALF_LOG_2PI
            return st[0] - _stirlerr(r) - st[1] - bd[0] - bd[1] - spread

        if _all_small(r, k):
            lowest_k, lowest_r = _host_max(-k), _host_max(-r)
            if lowest_k is not None and lowest_r is not None and lowest_k <= -1 and lowest_r < 0:
                return plain()  # every k >= 1 and r > 0 (read on the host): nothing to patch
            lp = plain()
        else:
            lp = _select(k + r <= _PLAIN_MAX, plain, saddle)
        lp = torch.where(k == 0, self._xlog_q(r), lp)
        return lp.masked_fill(k < 0, -math.inf)

    def _masked_log_pmf(self, k: Tensor, exact: bool = False) -> Tensor:
        return self._log_pmf(k.clamp(min=0), exact).masked_fill(k < 0, -math.inf)

    def _spread(self) -> Tensor:
        """12 standard deviations plus 40 of the geometric tail's scale :math:`1/(1-p)` (the
        pmf's ratio of successive terms tends to :math:`p`)."""
        p, q = self._pq()
        sd = (self.total_count * p).sqrt() / q
        return 12 * sd + 40 / q + 40

    def _beta_shapes(self, k: Tensor) -> tuple[Tensor, Tensor]:
        return k + 1, self.total_count

    def _deep_factor(self, k: Tensor, upper: bool) -> Tensor:
        """The prefactor of :math:`I_x` is :math:`p_{k+1}` (upper), :math:`p\\,p_k\\,(r+k)/r`
        (lower)."""
        if upper:
            return torch.zeros_like(k)
        return self._xlog_p(torch.ones_like(k)) + torch.log1p(k / self.total_count)

    def _bracket(self) -> tuple[Tensor, Tensor]:
        """``(-1, hi)``: Chernoff's bound with :math:`pe^\\theta = (1+p)/2`,
        :math:`P(X \\ge k) \\le 2^r (2p/(1+p))^k`, is below :math:`e^{-38}` from
        :math:`k = (r\\log 2 + 38)/\\log(1 + (1-p)/2p)` on."""
        p, q = self._pq()
        hi = ((self.total_count * math.log(2) + 38) / torch.log1p(q / (2 * p))).ceil()
        return -torch.ones_like(hi), hi

    def icdf(self, value: Tensor) -> Tensor:
        """The smallest :math:`k` with ``cdf(k) >= u`` (see ``_CountTails.icdf``); ``inf`` at
        :math:`u = 1`."""
        return super().icdf(value).masked_fill(value >= 1, math.inf)
