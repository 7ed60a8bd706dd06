"""The binomial distribution, and the exact windowed sums (tail functions, quantiles, entropy)
it shares with the negative binomial."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, _log1mexp, validate_sample
from ..kl import register_kl
from ..utils import (
    EMPTY,
    ShapeLike,
    broadcast_all,
    kl_term,
)
from ._binary import BinaryParameterized, require_one
from .bernoulli import _interior, _softplus
from .poisson import (
    _HALF_LOG_2PI,
    _PLAIN_MAX,
    Poisson,
    _all_small,
    _bd0,
    _select,
    _stirlerr,
    _xlogy,
)

__all__ = ["Binomial"]

_MAX_WINDOW = 1 << 22  # terms per batch element in a windowed sum


def _half_width(spread: Tensor) -> int:
    """The window half-width (one host read): ``spread`` holds, per element, how far from the
    centre the pmf stays above ~1e-26 of its peak (12 standard deviations and more)."""
    width = math.ceil(float(spread.max())) if spread.numel() else 1
    if width > _MAX_WINDOW:
        raise NotImplementedError(
            f"an exact windowed sum over {width} terms per element is too large; these "
            "parameters need the regularized incomplete beta function"
        )
    return max(width, 1)


def _as_float(param: Tensor | float | None, total_count: Tensor | float) -> Tensor | float | None:
    """A number ``probs``/``logits`` next to an integer ``total_count`` tensor becomes a tensor
    of the default float dtype (torch would cast 0.3 to the integer 0)."""
    if isinstance(param, Tensor) or not isinstance(total_count, Tensor):
        return param
    if total_count.is_floating_point():
        return param
    return torch.tensor(param, dtype=torch.get_default_dtype(), device=total_count.device)


def _window(start: Tensor, width: int) -> Tensor:
    """``start + j`` for ``j = 0, ..., width - 1`` along a new leading dimension."""
    j = torch.arange(width, dtype=start.dtype, device=start.device)
    return start + j.reshape((-1,) + (1,) * start.dim())


class _WindowSums(Distribution):
    """What the binomial and negative binomial share: :math:`p` and :math:`1-p` from either
    parameter, and tail functions, quantiles and entropy by exact sums of the pmf over a
    window of the support (12 standard deviations and more: the terms left out are below
    1e-26 of those kept). A family provides ``_masked_log_pmf``, ``_half_width`` (one host
    read) and ``mean``/``mode``."""

    _from_probs: bool
    probs: Tensor
    logits: Tensor

    def _pq(self) -> tuple[Tensor, Tensor]:
        """:math:`(p, 1-p)`, each to full relative precision."""
        if self._from_probs:
            return self.probs, 1 - self.probs
        return torch.sigmoid(self.logits), torch.sigmoid(-self.logits)

    def _xlog_p(self, a: Tensor) -> Tensor:
        """:math:`a \\log p` with :math:`0 \\log 0 = 0`."""
        if not self._from_probs:
            return -a * _softplus(-self.logits)
        return _xlogy(a, self.probs)

    def _xlog_q(self, b: Tensor) -> Tensor:
        """:math:`b \\log(1-p)` with :math:`0 \\log 0 = 0`."""
        if not self._from_probs:
            return -b * _softplus(self.logits)
        if b.numel() > 64 * self.probs.numel() and _interior(self.probs):
            return b * torch.log1p(-self.probs)  # the log once per parameter, not per value
        return torch.special.xlog1py(b, -self.probs)

    def _masked_log_pmf(self, k: Tensor) -> Tensor:
        raise NotImplementedError

    def _half_width(self) -> int:
        raise NotImplementedError

    def _icdf_half_width(self, half: int) -> int:
        """Half-width of the quantile window: where the cdf window keeps terms above 1e-26,
        this one (4x wider) keeps every term above the smallest float."""
        return 4 * half

    def _tails(self, value: Tensor, width: int | None = None) -> tuple[Tensor, Tensor]:
        """``(below, s)``: ``below`` where ``k < mean``, and ``s`` the log of the shorter tail,
        :math:`\\log P(X \\le k)` where ``below``, :math:`\\log P(X > k)` elsewhere: the
        sum over ``width`` terms next to each ``k``, or, for many values per batch member, a
        lookup in cumulative sums over one wider window (identical sums up to rounding)."""
        k, mean = torch.broadcast_tensors(value.floor(), self.mean)
        width = self._half_width() if width is None else width
        below = k < mean
        if k.numel() >= 16 * max(self._batch_shape.numel(), 1):
            s = self._table_tails(k, below, width)
            if s is not None:
                return below, s
        j = _window(torch.zeros_like(k), width)
        s = self._masked_log_pmf(torch.where(below, k - j, k + 1 + j)).logsumexp(0)
        return below, s

    def _table(self, width: int) -> tuple[Tensor, Tensor, Tensor]:
        """``(start, lower, upper)``: over ``start + j`` for ``j < 2 * wide + 1`` (a window four
        times wider than the cdf's, every term above the smallest float), the logs of
        :math:`P(\\text{start} \\le X \\le \\text{start} + j)` and
        :math:`P(X \\ge \\text{start} + j)`."""
        wide = self._icdf_half_width(width)
        start = (self.mean.floor() - wide).clamp(min=0)
        lp = self._masked_log_pmf(_window(start, 2 * wide + 1))
        return start, lp.logcumsumexp(0), lp.flip(0).logcumsumexp(0).flip(0)

    def _table_tails(self, k: Tensor, below: Tensor, width: int) -> Tensor | None:
        """``s`` of :meth:`_tails` read from :meth:`_table`, or ``None`` where some ``k`` has
        fewer than ``width`` table terms on its summed side (one host read)."""
        start, lower, upper = self._table(width)
        last = lower.shape[0] - 1
        batch = start.shape
        pos = (k - start).reshape((-1,) + batch)
        at_low = lower.gather(0, pos.clamp(0, last).long())
        at_up = upper.gather(0, (pos + 1).clamp(0, last).long())
        top = self._support_top()
        complete_low = start == 0
        complete_up = start + last >= top
        at_low = at_low.masked_fill(pos < 0, -math.inf)
        at_up = at_up.masked_fill(pos + 1 > last, -math.inf)
        flat_below = below.reshape(pos.shape)
        unsafe = torch.where(
            flat_below, (pos < width - 1) & ~complete_low, (pos + width > last) & ~complete_up
        )
        if bool(unsafe.any()):
            return None
        return torch.where(flat_below, at_low, at_up).reshape(k.shape)

    def _support_top(self) -> Tensor | float:
        """The largest value of the support."""
        return math.inf

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        """:math:`P(X \\le k)`, an exact sum of the pmf over the shorter tail."""
        below, s = self._tails(value)
        return torch.where(below, s.exp(), -torch.expm1(s))

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        below, s = self._tails(value)
        return torch.where(below, -torch.expm1(s), s.exp())

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        below, s = self._tails(value)
        return torch.where(below, s, _log1mexp(s))

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        below, s = self._tails(value)
        return torch.where(below, _log1mexp(s), s)

    def _cdf(self, k: Tensor, width: int) -> Tensor:
        below, s = self._tails(k, width)
        return torch.where(below, s.exp(), -torch.expm1(s))

    def icdf(self, value: Tensor) -> Tensor:
        """The smallest :math:`k` with ``cdf(k) >= u``: a ``searchsorted`` in cumulative sums
        over a window four times wider than the cdf's (every float ``u`` falls inside it), on
        the side the cdf itself sums (below the mean or above it), then one step either way
        against that cdf, so that ``icdf(cdf(k)) == k`` holds exactly."""
        half = self._half_width()
        mean = self.mean
        start, lower, upper = self._table(half)
        # The cdf as computed below the mean (lower sums) and above it (one minus upper sums),
        # both non-decreasing in k; compared with u as the cdf compares them (not in logs).
        below = lower.exp().movedim(0, -1).contiguous()  # cdf(start + j)
        above = (-torch.expm1(upper)).movedim(0, -1).contiguous()  # cdf(start + j - 1)
        batch = start.shape
        u = value.expand(torch.broadcast_shapes(value.shape, batch))
        flat = u.reshape((-1,) + batch).movedim(0, -1).contiguous()
        at_low = torch.searchsorted(below, flat)
        at_up = torch.searchsorted(above, flat) - 1
        found = torch.stack([at_low, at_up]).movedim(-1, 1).reshape((2,) + u.shape)
        # The cdf sums the lower tail for k < mean: its last such k says which side u is on.
        last_low = mean.ceil() - 1
        on_low = u <= self._cdf(last_low.expand_as(u), half)
        k = torch.where(on_low, found[0], found[1]).to(start.dtype) + start
        k = torch.where(self._cdf(k - 1, half) >= u, k - 1, k)
        k = torch.where(self._cdf(k, half) < u, k + 1, k)
        return k.masked_fill(u <= 0, 0.0)

    def entropy(self) -> Tensor:
        """Exact :math:`-\\sum_k p_k \\log p_k` over a window around the mode (all terms
        are non-negative)."""
        half = self._half_width()
        lp = self._masked_log_pmf(_window((self.mode - half).clamp(min=0), 2 * half + 1))
        lp = lp.clamp(min=torch.finfo(lp.dtype).min)  # 0 * -inf -> 0 * finite
        return -(lp.exp() * lp).sum(0)


class Binomial(BinaryParameterized, _WindowSums):
    r"""Binomial distribution: the number of successes in :math:`n` (``total_count``)
    independent trials that each succeed with probability :math:`p`,

    .. math:: P(x = k) = \binom{n}{k} p^k (1-p)^{n-k}, \qquad k = 0, \dots, n.

    ``log_prob`` is exact to a few ulps for every count (Loader's saddle-point form above
    :math:`n = 64`) and, from ``logits``, free of the cancellation in
    :math:`k \ell - n\,\mathrm{softplus}(\ell)`; built from ``probs``, :math:`p = 0` and
    :math:`p = 1` give exact ``0``/``-inf``.

    Args:
        total_count: number of trials :math:`n` (a non-negative integer; tensor or number).
        probs: success probability :math:`p \in [0, 1]`.
        logits: log-odds :math:`\log\frac{p}{1-p}`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Binomial(10, torch.tensor(0.5)).cdf(torch.tensor(5.0))
        tensor(0.6230)
    """

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(
        self,
        total_count: Tensor | int = 1,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        require_one(probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, _as_float(probs, total_count))
            self._param = self.probs
        else:
            self.total_count, self.logits = broadcast_all(
                total_count, _as_float(logits, total_count)
            )
            self._param = self.logits
        if self.total_count.dtype != self._param.dtype:
            self.total_count = self.total_count.to(self._param.dtype)
        self._from_probs = probs is not None
        super().__init__(self._param.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        n = self.total_count
        return ((n + 1) * self.probs).floor().clamp(max=n)

    @property
    def variance(self) -> Tensor:
        p, q = self._pq()
        return self.total_count * p * q

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            n, p = self.total_count.expand(shape), self.probs.expand(shape)
            return torch.binomial(n, p, generator=generator)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return self._log_pmf(value)

    def _log_pmf(self, k: Tensor) -> Tensor:
        """The plain formula where :math:`n \\le 64` (exact there), else Loader's (2000)
        saddle-point form, chosen per element (no value depends on the rest of the batch)."""
        n = self.total_count

        def plain() -> Tensor:
            log_choose = torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
            return log_choose + self._xlog_p(k) + self._xlog_q(n - k)

        def saddle() -> Tensor:
            # stirlerr and deviance terms instead of cancelling lgammas; k = 0 and k = n are
            # the one-term ends. The clamps keep every unused branch finite (gradients too).
            p, q = self._pq()
            big = n.clamp(min=_PLAIN_MAX)
            kk, jj = torch.broadcast_tensors(k.clamp(min=0.5), (big - k).clamp(min=0.5))
            st = _stirlerr(torch.stack([kk, jj]))
            means = torch.stack([(big * p).expand_as(kk), (big * q).expand_as(kk)])
            bd = _bd0(torch.stack([kk, jj]), means)
            spread = 0.5 * torch.log(kk * (jj / big)) + _HALF_LOG_2PI
            inner = _stirlerr(big) - st[0] - st[1] - bd[0] - bd[1] - spread
            lp = torch.where(k == n, self._xlog_p(n), inner)
            lp = torch.where(k == 0, self._xlog_q(n), lp)
            return lp.masked_fill((k < 0) | (k > n), -math.inf)

        if _all_small(n):
            return plain()
        return _select(n <= _PLAIN_MAX, plain, saddle)

    def _masked_log_pmf(self, k: Tensor) -> Tensor:
        """The log-pmf at any integers, ``-inf`` outside ``0..n`` (no NaN from the formulas)."""
        n = self.total_count
        return self._log_pmf(torch.minimum(k.clamp(min=0), n)).masked_fill(
            (k < 0) | (k > n), -math.inf
        )

    def _half_width(self) -> int:
        p, q = self._pq()
        sd = (self.total_count * p * q).sqrt()
        return _half_width(torch.minimum(12 * sd + 40, self.total_count + 1))

    def _icdf_half_width(self, half: int) -> int:
        return min(4 * half, math.ceil(float(self.total_count.max())) + 1)

    def _support_top(self) -> Tensor:
        return self.total_count

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total = int(self.total_count.max()) if self.total_count.numel() else 0
        if self.total_count.numel() and not bool((self.total_count == total).all()):
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`."
            )
        values = torch.arange(1 + total, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


def _kl_per_trial(p: Binomial, q: Binomial) -> Tensor:
    """KL between one trial of each (exact for nearly equal probabilities, via ``kl_term``)."""
    (p1, p0), (q1, q0) = p._pq(), q._pq()
    one_p, one_q = torch.ones_like(p1), torch.ones_like(q1)
    success = kl_term(p1, q1, p._xlog_p(one_p), q._xlog_p(one_q))
    return success + kl_term(p0, q0, p._xlog_q(one_p), q._xlog_q(one_q))


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    r"""Equal counts: :math:`n\,KL(\mathrm{Bern}(p) \| \mathrm{Bern}(q))`. :math:`n_p > n_q`:
    ``inf``, unless :math:`p` is the point mass at 0. :math:`n_p < n_q` (where torch raises):
    the exact sum over :math:`p`'s support."""
    n_p, n_q = p.total_count, q.total_count
    kl = torch.where(n_p == 0, 0.0, n_p * _kl_per_trial(p, q))
    more, fewer = n_p > n_q, n_p < n_q
    if not bool((more | fewer).any()):
        return kl
    point_mass = -q._xlog_q(n_q)  # KL(delta_0 || q) = -log q(0)
    kl = torch.where(more, torch.where(p._pq()[0] == 0, point_mass, math.inf), kl)
    if bool(fewer.any()):
        half = p._half_width()
        k = _window((p.mode - half).clamp(min=0), 2 * half + 1)
        log_p, log_q = p._masked_log_pmf(k), q._masked_log_pmf(k)
        term = torch.where(log_p == -math.inf, 0.0, log_p.exp() * (log_p - log_q))
        kl = torch.where(fewer, term.sum(0), kl)
    return kl


@register_kl(Poisson, Binomial)
def _kl_poisson_binomial(p: Poisson, q: Binomial) -> Tensor:
    """``inf`` (a Poisson with rate > 0 has unbounded support); at rate 0, the point mass at 0:
    :math:`-n \\log(1 - q)`."""
    rate, point_mass = torch.broadcast_tensors(p.rate, -q._xlog_q(q.total_count))
    return torch.where(rate == 0, point_mass, math.inf)
