r"""A Monte-Carlo estimate of :math:`KL(p \| q)` for pairs without a closed form."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .distribution import Distribution

__all__ = ["monte_carlo_kl"]


def _log_prob_anywhere(q: Distribution, x: Tensor, num_samples: int) -> Tensor:
    r""":math:`\log q(x)`, ``-inf`` where ``x`` is outside ``q``'s support (there the density is
    not evaluated, so that neither validation nor the formulas see those values)."""
    support = q.support
    inside = support.check(x) if support is not None else None
    if inside is None or bool(inside.all()):
        return q.log_prob(x)
    # Put a draw of q in place of each value outside its support (one host read above).
    event = q.event_shape
    full = torch.Size((num_samples,)) + torch.broadcast_shapes(
        x.shape[1 : x.dim() - len(event)], q.batch_shape
    )
    with torch.no_grad():
        filler = q.sample((num_samples,)).to(x.dtype)
        missing = len(full) - 1 - len(q.batch_shape)  # batch dims of p that q lacks
        filler = filler.reshape((num_samples,) + (1,) * missing + filler.shape[1:])
        filler = filler.expand(full + event)
    inside = inside.expand(full)
    keep = inside.reshape(full + (1,) * len(event))
    log_q = q.log_prob(torch.where(keep, x, filler))
    return log_q.masked_fill(~inside, -math.inf)


def monte_carlo_kl(
    p: Distribution,
    q: Distribution,
    num_samples: int,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""An unbiased Monte-Carlo estimate of :math:`KL(p \| q)` and its standard error.

    .. math:: \widehat{KL} = \frac1n \sum_{i=1}^n \big(\log p(x_i) - \log q(x_i)\big),
        \qquad x_i \sim p,

    with standard error :math:`s / \sqrt n`, :math:`s` the sample standard deviation of the
    log-ratios. The draws are ``p.rsample`` when ``p.has_rsample`` (so the estimate is
    differentiable in ``p``'s parameters, by the pathwise estimator), else ``p.sample``; the
    estimate is always differentiable in ``q``'s. A draw where ``q`` has no density makes the
    estimate ``inf`` (the KL is infinite), with standard error 0.

    This is the fallback for pairs that :func:`~torchprob.kl.kl_divergence` has no closed form
    for; it is never used silently.

    Args:
        p: the distribution the expectation is over.
        q: the reference distribution; its batch shape broadcasts with ``p``'s.
        num_samples: number of draws :math:`n \ge 2`.
        generator: the random number generator of the draws.

    Returns:
        ``(estimate, standard_error)``, each of the broadcast batch shape of ``p`` and ``q``.

    Example::

        >>> from torchprob import Normal
        >>> g = torch.Generator().manual_seed(0)
        >>> kl, se = monte_carlo_kl(Normal(0.0, 1.0), Normal(1.0, 1.0), 100_000, generator=g)
        >>> bool(abs(kl - 0.5) < 5 * se)
        True
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 2:
        raise ValueError(f"num_samples must be an int >= 2, got {num_samples!r}")
    shape = (num_samples,)
    kwargs = {} if generator is None else {"generator": generator}
    if p.has_rsample:
        x = p.rsample(shape, **kwargs)
    else:
        x = p.sample(shape, **kwargs)
    log_ratio = p.log_prob(x) - _log_prob_anywhere(q, x, num_samples)
    estimate = log_ratio.mean(0)
    with torch.no_grad():
        standard_error = log_ratio.std(0) / math.sqrt(num_samples)
        standard_error = standard_error.masked_fill(estimate.detach() == math.inf, 0.0)
    return estimate, standard_error
