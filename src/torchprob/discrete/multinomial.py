"""The multinomial distribution: counts of ``total_count`` categorical draws."""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import torch
from torch import Tensor

from .. import _distributed, constraints
from ..distribution import validate_sample
from ..utils import EMPTY, ShapeLike, constant_like
from .one_hot_categorical import _CategoricalParams, _complement
from .poisson import _bd0, _stirlerr  # Loader's saddle-point pieces, one copy

__all__ = ["Multinomial"]

# A binomial draw costs about three categorical draws: sample() counts categorical draws when
# there are more than a third as many classes as trials (torch.multinomial takes up to 2^24).
_MAX_MULTINOMIAL_CLASSES = 1 << 24
_WIDTH_SDS = 40  # entropy sums each binomial marginal over mean +- 40 sd (+ 40): mass < 1e-300


@functools.lru_cache(maxsize=64)
def _counts(total_count: int) -> constraints.Constraint:
    return constraints.multinomial(total_count)


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _binomial_log_pmf(x: Tensor, n: int, p: Tensor, q: Tensor) -> Tensor:
    """:math:`\\log\\binom{n}{x} p^x q^{n-x}` (``q = 1 - p`` given separately) in Loader's
    saddle-point form, exact to rounding for any :math:`n` (lgamma differences are not)."""
    inner = (x > 0) & (x < n)
    xi = x.clamp(1, max(n - 1, 1))
    yi = (n - xi).clamp(min=1)
    log_c = (
        _stirlerr(x.new_full((), float(n)))
        - _stirlerr(xi)
        - _stirlerr(yi)
        - _bd0(xi, n * p)
        - _bd0(yi, n * q)
        + 0.5 * (math.log(n) - xi.log() - yi.log())
        - _HALF_LOG_2PI
    )
    ends = torch.where(x == 0, torch.special.xlogy(n, q), torch.special.xlogy(n, p))
    return torch.where(inner, log_c, ends)


def _draw(probs: Tensor, shape: torch.Size, n: int, generator: torch.Generator | None) -> Tensor:
    """``shape`` (sample + ``probs.shape``) counts of ``n`` trials, plain tensors."""
    k = shape[-1]
    if n == 0 or k == 1:
        return probs.new_full(shape, float(n))
    if 3 * (k - 1) >= n and k <= _MAX_MULTINOMIAL_CLASSES:
        return _count_draws(probs, shape, n, generator)
    return _chain(probs, shape, probs.new_full(shape[:-1], float(n)), generator)


def _chain(
    probs: Tensor, shape: torch.Size, left: Tensor, generator: torch.Generator | None
) -> Tensor:
    """Sequential conditional binomials over the classes: ``left`` (``shape[:-1]``, consumed)
    trials split with the (unnormalized) weights ``probs``."""
    k = shape[-1]
    counts = probs.new_empty(shape)
    if k == 0:
        return counts
    tail = probs.flip(-1).cumsum(-1).flip(-1)
    cond = (probs / tail).nan_to_num_(0.0).clamp_(max=1).expand(shape)
    for i in range(k - 1):
        drawn = torch.binomial(left, cond[..., i], generator=generator)
        counts[..., i] = drawn
        left.sub_(drawn)
    counts[..., k - 1] = left
    return counts


def _count_draws(
    probs: Tensor, shape: torch.Size, n: int, generator: torch.Generator | None
) -> Tensor:
    """``n`` categorical draws per sample, counted with ``scatter_add``."""
    k = shape[-1]
    rows = probs.reshape(-1, k)
    draws_per_row = (shape.numel() // max(rows.numel(), 1)) * n
    index = torch.multinomial(rows, draws_per_row, True, generator=generator)
    index = index.view(rows.shape[0], -1, n)  # (rows, samples, n)
    counts = probs.new_zeros(index.shape[:2] + (k,))
    counts.scatter_add_(-1, index, probs.new_ones(()).expand(index.shape))
    return counts.transpose(0, 1).reshape(shape)


def _sample_dtensor(
    probs: Any, shape: torch.Size, n: int, generator: torch.Generator | None
) -> Tensor:
    """Draws from DTensor probabilities, each shard from its local probabilities (no gather).
    Along a mesh dimension that shards the classes, a two-level draw, exact: the shards' masses
    (an all-reduce of batch x shards), the split of the ``n`` trials over the shards (drawn on
    the first shard, shared by a second all-reduce), then each shard's counts of its share."""
    from torch.distributed.tensor import DTensor, Replicate, Shard

    mesh, placements, last = probs.device_mesh, probs.placements, probs.dim() - 1
    if any(type(p) not in (Shard, Replicate) for p in placements):
        raise NotImplementedError(f"Multinomial.sample: unsupported placements {placements}")
    split_dims = [m for m, p in enumerate(placements) if p.is_shard(last)]
    if len(split_dims) > 1:
        raise NotImplementedError("Multinomial.sample: classes sharded over several mesh dims")
    local = probs.to_local()
    extra = len(shape) - probs.dim()
    local_shape = shape[:extra] + local.shape
    if not split_dims:
        counts = _draw(local, local_shape, n, generator)
    else:
        import torch.distributed._functional_collectives as funcol

        group = (mesh, split_dims[0])
        width, at = mesh.size(split_dims[0]), mesh.get_local_rank(split_dims[0])
        masses = local.new_zeros((width,) + local.shape[:-1])
        masses[at] = local.sum(-1)
        masses = funcol.all_reduce(masses, "sum", group).movedim(0, -1)  # batch x shards
        share = masses.new_zeros(local_shape[:-1] + (width,))
        if at == 0:
            share = _draw(masses, local_shape[:-1] + (width,), n, generator)
        share = funcol.all_reduce(share, "sum", group)[..., at].contiguous()
        counts = _chain(local, local_shape, share, generator)
    placements = [Shard(p.dim + extra) if p.is_shard() else p for p in placements]
    stride = [1] * len(shape)  # contiguous strides of the global shape
    for d in range(len(shape) - 2, -1, -1):
        stride[d] = stride[d + 1] * shape[d + 1]
    return DTensor.from_local(counts, mesh, placements, shape=shape, stride=tuple(stride))


class Multinomial(_CategoricalParams):
    r"""Multinomial distribution: the class counts of ``total_count`` (:math:`n`) independent
    categorical draws with class probabilities :math:`p`,

    .. math:: P(x) = \frac{n!}{\prod_k x_k!} \prod_k p_k^{x_k}, \qquad \sum_k x_k = n.

    As in torch, :meth:`log_prob` takes :math:`n` from the value (``value.sum(-1)``), so it also
    scores counts of other totals; ``sample`` needs ``total_count``.

    Args:
        total_count: number of trials :math:`n` (a Python int).
        probs: event probabilities :math:`p` (non-negative, non-zero sum), ``batch + (K,)``.
        logits: unnormalized log probabilities (``-inf`` allowed).
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Multinomial(4, torch.tensor([0.5, 0.5])).log_prob(torch.tensor([2.0, 2.0])).exp()
        tensor(0.3750)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    total_count: int

    def __init__(
        self,
        total_count: int = 1,
        probs: Tensor | None = None,
        logits: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if not isinstance(total_count, numbers.Integral) or isinstance(total_count, bool):
            raise NotImplementedError(
                f"total_count must be a Python int (inhomogeneous total_count is not "
                f"supported), got {type(total_count).__name__}"
            )
        self.total_count = int(total_count)
        param = self._set_categorical(probs, logits)._param
        super().__init__(param.shape[:-1], param.shape[-1:], validate_args=validate_args)

    def _init_kwargs(self) -> dict[str, Any]:
        kwargs = super()._init_kwargs()
        kwargs["total_count"] = self.total_count
        return kwargs

    def _extra_param_checks(self) -> list:
        n = self.total_count
        value = torch.tensor(n) if n < 0 else None  # only read to describe an error
        return [("total_count", constraints.nonnegative_integer, value, n >= 0)]

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:
        return _counts(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        probs = self.probs
        return self.total_count * probs * _complement(probs)

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Sequential conditional binomials, one vectorized draw per class:
        :math:`x_k \\sim \\mathrm{Bin}(n - \\sum_{j<k} x_j,\\; p_k / \\sum_{j \\ge k} p_j)`.

        The cost does not grow with ``total_count``; with many classes and few trials
        (``3 (K - 1) >= n``) it draws the trials instead (``torch.multinomial``) and counts them.
        """
        probs = self.probs
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            if type(probs) is not Tensor and _distributed.is_dtensor(probs):
                return _sample_dtensor(probs, shape, self.total_count, generator)
            return _draw(probs, shape, self.total_count, generator)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        if self._from_probs:
            powers = torch.special.xlogy(value, self.probs)  # 0 log 0 = 0
        else:  # from logits, without forming probs: 0 * -inf counts 0
            powers = torch.nan_to_num(
                value * self.logits, nan=0.0, posinf=math.inf, neginf=-math.inf
            )
        terms = (powers - torch.lgamma(value + 1)).sum(-1)
        return terms + torch.lgamma(value.sum(-1) + 1)

    def entropy(self) -> Tensor:
        """Exact (torch sums lgamma-based binomial pmfs and loses up to 1e-4 at n = 1000).

        With :math:`\\mu_k = n p_k` and :math:`R_k(x) = \\log x! - \\log \\mu_k! - (x - \\mu_k)
        \\log\\mu_k`, Stirling's formula turns :math:`H = -\\log n! - n\\sum_k p_k\\log p_k +
        \\sum_k E\\log x_k!` into a sum of terms of size :math:`\\log n`, free of cancellation:

        .. math:: H = \\sum_{p_k > 0} \\left[\\tfrac12 \\log(2\\pi\\mu_k) + \\delta(\\mu_k)
            + E R_k(x_k)\\right] - \\tfrac12\\log(2\\pi n) - \\delta(n),

        :math:`\\delta` Stirling's remainder, each expectation summed over the binomial marginal
        :math:`x_k \\sim \\mathrm{Bin}(n, p_k)` (Loader's pmf) where its mass exceeds 1e-300.
        """
        n = self.total_count
        probs = self.probs
        if n == 0:
            return probs.new_zeros(self._batch_shape)
        rest = _complement(probs)
        mean, sd = n * probs, (n * probs * rest).sqrt()
        width = min(n + 1, int(2 * _WIDTH_SDS * (sd.max().item() + 1)) + 1)
        start = (mean - _WIDTH_SDS * (sd + 1)).floor().clamp(0, n + 1 - width)
        grid = torch.arange(width, dtype=probs.dtype, device=probs.device)
        x = start + constant_like(probs, grid.view((-1,) + (1,) * probs.dim()))
        live = probs > 0
        mu = torch.where(live, mean, 1.0)
        log_mu = mu.log()
        xi = x.clamp(min=1)
        r = _bd0(xi, mu) + 0.5 * (xi.log() - log_mu) + _stirlerr(xi) - _stirlerr(mu)
        r = torch.where(x == 0, torch.special.xlogy(mu, mu) - torch.lgamma(mu + 1), r)
        expected_r = (_binomial_log_pmf(x, n, probs, rest).exp() * r).sum(0)
        per_class = 0.5 * log_mu + _stirlerr(mu) + expected_r + _HALF_LOG_2PI
        total = torch.where(live, per_class, 0.0).sum(-1)
        return total - (0.5 * math.log(2 * math.pi * n) + _stirlerr(probs.new_full((), float(n))))
