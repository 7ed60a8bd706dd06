"""The binomial distribution, and what it shares with the negative binomial: the parameters,
tail functions and quantiles (exact windowed sums of the pmf for narrow laws, the regularized
incomplete beta function for wide ones) and the windowed entropy."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..continuous._passes import LARGE
from ..distribution import Distribution, _log1mexp, validate_sample
from ..kl import register_kl
from ..special import betainc, betaincc
from ..utils import (
    EMPTY,
    ShapeLike,
    broadcast_all,
    constant_like,
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
    _bisect,
    _host_max,
    _log_cf,
    _log_of_tail,
    _select,
    _stirlerr,
    _table_log_pmf,
    _xlogy,
)

__all__ = ["Binomial"]

_MAX_WINDOW = 1 << 22  # terms per batch element in a windowed sum (entropy, KL)
# The tail functions and quantiles sum at most this many pmf terms per value (exact to ~1e-14,
# and faster than the incomplete beta function there); wider laws take that function.
_CDF_WINDOW = 1024


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


_SPLIT = 134217729.0  # 2^27 + 1, Dekker's splitter for float64


def _two_prod(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """``(hi, lo)`` with ``hi = fl(a b)`` and ``hi + lo = a b`` exactly (Dekker; no FMA)."""
    hi = a * b
    a_big, b_big = a * _SPLIT, b * _SPLIT
    a_hi, b_hi = a_big - (a_big - a), b_big - (b_big - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    return hi, ((a_hi * b_hi - hi) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _cdf_window(spread: Tensor) -> int | None:
    """The one host read that picks how the tail functions and quantiles are computed: the
    window half-width when every element's is at most ``_CDF_WINDOW`` (exact sums), ``None``
    for the incomplete beta function (also off the CPU, where nothing is read). It depends on
    the parameters only, so that ``cdf`` and ``icdf`` always agree."""
    width = _host_max(spread) if spread.numel() else 1.0
    if width is None or width > _CDF_WINDOW:
        return None
    return max(math.ceil(width), 1)


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
    return start + constant_like(start, j.reshape((-1,) + (1,) * start.dim()))


class _CountTails(Distribution):
    """What the binomial and negative binomial share: the parameters, :math:`p` and
    :math:`1-p` from either of ``probs``/``logits``, the tail functions and quantiles, and the
    entropy. With :math:`(s, t)` from ``_beta_shapes`` (:math:`(k+1, n-k)` and
    :math:`(k+1, r)`), :math:`P(X \\le k) = I_{1-p}(t, s) = 1 - I_p(s, t)`. A family provides
    ``_masked_log_pmf``, ``_spread``, ``_beta_shapes``, ``_deep_factor``, ``_bracket`` and
    ``mean``/``mode``.

    Tail functions and quantiles take one of two routes, chosen per call from the parameters
    (one host read, :func:`_cdf_window`):

    * narrow laws (every window at most ``_CDF_WINDOW`` terms): exact sums of the pmf over a
      window of the support (12 standard deviations and more: the terms left out are below
      1e-26 of those kept), in log space, so that ``log_cdf`` is finite wherever the pmf is;
    * wide laws: the regularized incomplete beta function (:mod:`torchprob.special`, relative
      error ~1e-13 in both tails, differentiable in :math:`p`) at :math:`x = p`, exact as given
      (from logits, at the smaller of :math:`p, 1-p`); where a tail is below 1e-300 its log
      comes from the continued fraction of :math:`I_x` in log space; quantiles by bisection
      on that cdf between Bernstein/Chernoff bounds.
    """

    _from_probs: bool
    _param: Tensor
    total_count: Tensor
    probs: Tensor
    logits: Tensor

    def _store_count(
        self,
        total_count: Tensor | float,
        probs: Tensor | float | None,
        logits: Tensor | float | None,
    ) -> torch.Size:
        """Broadcast ``total_count`` with the one of ``probs``/``logits`` given (a float
        tensor even next to an integer count), store them, and return the batch shape."""
        require_one(probs, logits)
        self._from_probs = probs is not None
        given = probs if self._from_probs else logits
        self.total_count, param = broadcast_all(total_count, _as_float(given, total_count))
        if self._from_probs:
            self.probs = param
        else:
            self.logits = param
        if self.total_count.dtype != param.dtype:
            self.total_count = self.total_count.to(param.dtype)
        self._param = param
        return param.shape

    def _pq(self) -> tuple[Tensor, Tensor]:
        """:math:`(p, 1-p)`, each to full relative precision."""
        if self._from_probs:
            return self.probs, 1 - self.probs
        return torch.sigmoid(self.logits), torch.sigmoid(-self.logits)

    def _means(self, a: Tensor, exact: bool) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor] | None]:
        """``(a p, a (1-p), low parts or None)``; with ``exact``, the low parts are what makes
        each product exact: Dekker's error of the product and, from ``probs``, the rounding
        of ``q = 1 - probs``, ``(1 - q) - p`` (itself exact, Sterbenz). Used by the log-pmf of the
        deep tails, where :math:`|k - np|` is ~1e7 and a rounded mean would cost 1e-9."""
        p, q = self._pq()
        if not exact:
            return a * p, a * q, None
        ap, ap_lo = _two_prod(a, p)
        aq, aq_lo = _two_prod(a, q)
        if self._from_probs:
            aq_lo = aq_lo + a * ((1 - q) - p)
        return ap, aq, (ap_lo, aq_lo)

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

    def _masked_log_pmf(self, k: Tensor, exact: bool = False) -> Tensor:
        """The log-pmf at any integers, ``-inf`` outside the support (no NaN); ``exact``: with
        exact means (see :meth:`_means`)."""
        raise NotImplementedError

    def _spread(self) -> Tensor:
        """Per element, how far from the centre the pmf stays above ~1e-26 of its peak."""
        raise NotImplementedError

    def _beta_shapes(self, k: Tensor) -> tuple[Tensor, Tensor]:
        """:math:`(s, t)` with :math:`P(X \\le k) = 1 - I_p(s, t)`, for ``k >= 0`` inside the
        support (and harmless positive shapes elsewhere)."""
        raise NotImplementedError

    def _deep_factor(self, k: Tensor, upper: bool) -> Tensor:
        """The log of the prefactor of :math:`I_x` over :math:`p_{k+1}` (upper) or
        :math:`p_k` (lower)."""
        raise NotImplementedError

    def _bracket(self) -> tuple[Tensor, Tensor]:
        """``(lo, hi)`` with ``cdf(lo)`` below the smallest float and ``cdf(hi)`` rounding
        to 1."""
        raise NotImplementedError

    def _support_top(self) -> Tensor | float:
        """The largest value of the support."""
        return math.inf

    def _half_width(self) -> int:
        """The half-width of a window over every element's mass (entropy, KL; one host
        read); ``NotImplementedError`` beyond ``_MAX_WINDOW`` terms."""
        return _half_width(self._spread())

    def _icdf_half_width(self, half: int) -> int:
        """Half-width of the quantile window: where the cdf window keeps terms above 1e-26,
        this one (4x wider) keeps every term above the smallest float."""
        return 4 * half

    # ---- exact windowed sums -----------------------------------------------------------

    def _tails(self, value: Tensor, width: int) -> tuple[Tensor, Tensor]:
        """``(below, s)``: ``below`` where ``k < mean``, and ``s`` the log of the shorter tail,
        :math:`\\log P(X \\le k)` where ``below``, :math:`\\log P(X > k)` elsewhere: the
        sum over ``width`` terms next to each ``k``, or, for many values per batch member, a
        lookup in cumulative sums over one wider window (identical sums up to rounding)."""
        k, mean = torch.broadcast_tensors(value.floor(), self.mean)
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

    def _window_tail(self, k: Tensor, width: int, upper: bool = False) -> Tensor:
        below, s = self._tails(k, width)
        if upper:
            return torch.where(below, -torch.expm1(s), s.exp())
        return torch.where(below, s.exp(), -torch.expm1(s))

    # ---- the incomplete beta function --------------------------------------------------

    def _beta_tail(self, value: Tensor, upper: bool) -> Tensor:
        """:math:`P(X > k)` (``upper``) or :math:`P(X \\le k)` as :math:`I_p(s, t)` or its
        complement, each computed directly (no cancellation in either tail)."""
        k = value.floor()
        s, t = self._beta_shapes(k.clamp(min=0))
        if self._from_probs:
            out = (betainc if upper else betaincc)(s, t, self.probs)
        else:  # x = the smaller of p, 1 - p: the other is formed exactly inside
            p, q = self._pq()
            out = _select(
                p <= 0.5,
                lambda: (betainc if upper else betaincc)(s, t, p),
                lambda: (betaincc if upper else betainc)(t, s, q),
            )
        top = self._support_top()
        if isinstance(top, Tensor):
            out = torch.where(k >= top, 0.0 if upper else 1.0, out)
        return out.masked_fill(k < 0, 1.0 if upper else 0.0)

    def _log_deep(self, value: Tensor, upper: bool) -> Tensor:
        """The log of a tail below 1e-300 (``_TINY_TAIL``): the log-pmf at its first term,
        ``_deep_factor``, and the continued fraction of :math:`I_x` in log space."""
        k = value.floor().clamp(min=0)
        top = self._support_top()
        if isinstance(top, Tensor):
            k = torch.minimum(k, (top - 1).clamp(min=0))
        s, t = self._beta_shapes(k)
        p, q = self._pq()
        if upper:
            lead = self._masked_log_pmf(k + 1, exact=True) + self._deep_factor(k, True)
            out = lead + _log_cf(s, t * p, p, s - (s + t) * p, q)
            return out if top is math.inf else torch.where(value >= top, -math.inf, out)
        lead = self._masked_log_pmf(k, exact=True) + self._deep_factor(k, False)
        out = lead + _log_cf(t, s * q, q, (s + t) * p - s, p)
        return out.masked_fill(value < 0, -math.inf)

    # ---- tail functions ------------------------------------------------------------------

    def _cdf_width(self) -> int | None:
        return _cdf_window(self._spread())

    def _tail(self, value: Tensor, upper: bool) -> Tensor:
        width = self._cdf_width()
        if width is None:
            return self._beta_tail(value, upper)
        return self._window_tail(value, width, upper)

    def _log_tail(self, value: Tensor, upper: bool) -> Tensor:
        width = self._cdf_width()
        if width is not None:
            below, s = self._tails(value, width)
            summed = below != upper  # s is the log of the requested tail there
            return torch.where(summed, s, _log1mexp(s))
        return _log_of_tail(
            self._beta_tail(value, upper),
            lambda: self._beta_tail(value, not upper),
            lambda: self._log_deep(value, upper),
        )

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        """:math:`P(X \\le k)`: an exact sum of the pmf over the shorter tail (narrow laws), or
        the regularized incomplete beta function (wide ones); see the class docstring."""
        return self._tail(value, upper=False)

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return self._tail(value, upper=True)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return self._log_tail(value, upper=False)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return self._log_tail(value, upper=True)

    def icdf(self, value: Tensor) -> Tensor:
        """The smallest :math:`k` with ``cdf(k) >= u``, exact against ``cdf`` as computed.
        Narrow laws: a ``searchsorted`` in cumulative sums over a window four times wider than
        the cdf's (every float ``u`` falls inside it), on the side the cdf itself sums (below
        the mean or above it), then one step either way against that cdf. Wide laws: bisection
        on the incomplete-beta cdf between ``_bracket``'s bounds (about 25-45 steps)."""
        half = self._cdf_width()
        if half is None:
            lo, hi = self._bracket()
            lo, hi, u = torch.broadcast_tensors(lo, hi, value)
            k = _bisect(lambda j: self._beta_tail(j, upper=False), u, lo, hi)
            return k.masked_fill(u <= 0, 0.0)
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
        on_low = u <= self._window_tail(last_low.expand_as(u), half)
        k = torch.where(on_low, found[0], found[1]).to(start.dtype) + start
        k = torch.where(self._window_tail(k - 1, half) >= u, k - 1, k)
        k = torch.where(self._window_tail(k, half) < u, k + 1, k)
        return k.masked_fill(u <= 0, 0.0)

    def entropy(self) -> Tensor:
        """Exact :math:`-\\sum_k p_k \\log p_k` over a window around the mode (all terms
        are non-negative)."""
        half = self._half_width()
        lp = self._masked_log_pmf(_window((self.mode - half).clamp(min=0), 2 * half + 1))
        lp = lp.clamp(min=torch.finfo(lp.dtype).min)  # 0 * -inf -> 0 * finite
        return -(lp.exp() * lp).sum(0)


class Binomial(BinaryParameterized, _CountTails):
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
        batch_shape = self._store_count(total_count, probs, logits)
        super().__init__(batch_shape, validate_args=validate_args)

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
        if value.numel() >= LARGE:  # many values: a table of the log-pmf, if it applies
            params = (self.total_count, self._param)
            pmf = _table_log_pmf(value, self._log_pmf, params, bool(self._validate_args))
            if pmf is not None:
                return pmf
        return self._log_pmf(value)

    def _log_pmf(self, k: Tensor, exact: bool = False) -> Tensor:
        """The plain formula where :math:`n \\le 64` (exact there), else Loader's (2000)
        saddle-point form, chosen per element (no value depends on the rest of the batch);
        ``exact``: with exact means (see :meth:`_means`)."""
        n = self.total_count

        def plain() -> Tensor:
            log_choose = torch.lgamma(n + 1) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
            return log_choose + self._xlog_p(k) + self._xlog_q(n - k)

        def saddle() -> Tensor:
            # stirlerr and deviance terms instead of cancelling lgammas; k = 0 and k = n are
            # the one-term ends. The clamps keep every unused branch finite (gradients too).
            big = n.clamp(min=_PLAIN_MAX)
            kk, jj = torch.broadcast_tensors(k.clamp(min=0.5), (big - k).clamp(min=0.5))
            st = _stirlerr(torch.stack([kk, jj]))
            mean_p, mean_q, low = self._means(big, exact)
            means = torch.stack([mean_p.expand_as(kk), mean_q.expand_as(kk)])
            lows = None if low is None else torch.stack([v.expand_as(kk) for v in low])
            bd = _bd0(torch.stack([kk, jj]), means, lows)
            spread = 0.5 * torch.log(kk * (jj / big)) + _HALF_LOG_2PI
            inner = _stirlerr(big) - st[0] - st[1] - bd[0] - bd[1] - spread
            lp = torch.where(k == n, self._xlog_p(n), inner)
            lp = torch.where(k == 0, self._xlog_q(n), lp)
            return lp.masked_fill((k < 0) | (k > n), -math.inf)

        if _all_small(n):
            return plain()
        return _select(n <= _PLAIN_MAX, plain, saddle)

    def _masked_log_pmf(self, k: Tensor, exact: bool = False) -> Tensor:
        """The log-pmf at any integers, ``-inf`` outside ``0..n`` (no NaN from the formulas)."""
        n = self.total_count
        return self._log_pmf(torch.minimum(k.clamp(min=0), n), exact).masked_fill(
            (k < 0) | (k > n), -math.inf
        )

    def _spread(self) -> Tensor:
        p, q = self._pq()
        sd = (self.total_count * p * q).sqrt()
        return torch.minimum(12 * sd + 40, self.total_count + 1)

    def _beta_shapes(self, k: Tensor) -> tuple[Tensor, Tensor]:
        n = self.total_count
        k = torch.minimum(k, n - 1).clamp(min=0)
        return k + 1, (n - k).clamp(min=1)

    def _deep_factor(self, k: Tensor, upper: bool) -> Tensor:
        """The prefactor of :math:`I_x` is :math:`(1-p)\\,p_{k+1}` (upper), :math:`p\\,p_k`
        (lower)."""
        one = torch.ones_like(k)
        return self._xlog_q(one) if upper else self._xlog_p(one)

    def _bracket(self) -> tuple[Tensor, Tensor]:
        """Bernstein's inequality, :math:`P(|X - np| \\ge t) \\le
        e^{-t^2/(2(\\sigma^2 + t/3))}`: below :math:`e^{-750}` at
        :math:`t = 500 + \\sqrt{1500\\sigma^2}`, below :math:`2^{-54}` at
        :math:`t = 27 + \\sqrt{76\\sigma^2}`."""
        n = self.total_count
        mean, var = self.mean, self.variance
        lo = (mean - 500 - (1500 * var).sqrt()).floor().clamp(min=-1)
        hi = torch.minimum((mean + 27 + (76 * var).sqrt()).ceil(), n)
        return lo, hi

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
