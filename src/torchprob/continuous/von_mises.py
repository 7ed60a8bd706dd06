"""The von Mises distribution on the circle."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all, lazy_property

__all__ = ["VonMises"]

_TWO_PI = 2 * math.pi
# 1 - I1(k)/I0(k) ~ sum_n b_n k^-n for k >= _ASYMPTOTIC (relative error < 1e-17 with these 14
# terms); below it 1 - i1e/i0e loses at most 2e-14 to cancellation. b_n from the Riccati
# equation A' = 1 - A/k - A^2 that the ratio A = I1/I0 satisfies.
_ASYMPTOTIC = 50.0
_B = [0.5, 0.125, 0.125, 0.1953125, 0.40625, 1.0478515625, 3.21875, 11.466461181640625,
      46.478515625, 211.27614974975586, 1064.67822265625, 5892.0457146167755,
      35528.87744140625, 231884.63595631719]  # fmt: skip
# Best-Fisher rejection: every round accepts with probability >= 0.657 whatever k, so 36
# rounds leave an element undecided with probability < 2e-17. Big draws run 4 rounds on all
# elements, then 36 more on the few still undecided (gathered into a buffer of static size).
_ROUNDS, _FIRST, _BLOCK, _FAIL_FIRST = 36, 4, 4096, 0.0138


def _one_minus_bessel_ratio(k: Tensor) -> Tensor:
    """``1 - I1(k) / I0(k)``, the circular variance, without cancellation for large ``k``."""
    r = k.clamp_min(_ASYMPTOTIC).reciprocal()
    series = r * _B[-1]
    for b in reversed(_B[:-1]):
        series = series.add_(b).mul_(r)
    direct = 1 - torch.special.i1e(k) / torch.special.i0e(k)
    return torch.where(k < _ASYMPTOTIC, direct, series)


def _rounds(
    k: Tensor, a: Tensor, c0: Tensor, shape: tuple, n: int, generator: torch.Generator | None
) -> tuple[Tensor, Tensor]:
    """``n`` vectorized Best-Fisher rounds over ``shape``: the angle of the first accepted
    proposal, and which rounds accepted. The wrapped-Cauchy proposal is ``2 atan(t)``,
    ``t = a tan(pi u / 2)``; it is accepted when ``u' <= c exp(1 - c)``, ``c = c0 + 2 k t^2 /
    (1 + t^2)`` (``k (r - cos theta)`` in the paper)."""
    shape = (n, *shape)
    t = k.new_empty(shape).uniform_(-1, 1, generator=generator).mul_(math.pi / 2).tan_().mul_(a)
    t2 = t.square()
    c = torch.addcmul(c0, k, t2.div_(t2 + 1), value=2)
    e = k.new_empty(shape).exponential_(generator=generator)
    accept = e.add_(c.log()) >= c.sub_(1)
    first = accept.to(torch.uint8).argmax(0, keepdim=True)
    return t.gather(0, first).squeeze(0).atan_().mul_(2), accept


class VonMises(Distribution):
    r"""Von Mises distribution on the circle with mean direction :math:`\mu` (``loc``) and
    concentration :math:`\kappa` (``concentration``):

    .. math:: p(x) = \frac{e^{\kappa\cos(x - \mu)}}{2\pi I_0(\kappa)}
        = \frac{e^{-2\kappa\sin^2((x - \mu)/2)}}{2\pi\, e^{-\kappa} I_0(\kappa)}.

    The second form (with the scaled Bessel function ``i0e``) is exact for every
    :math:`\kappa`; ``loc`` and values are angles in radians (any real number, read modulo
    :math:`2\pi`); samples lie in :math:`[-\pi, \pi]`. ``mean`` and ``variance`` are the circular
    ones, as in torch.

    Args:
        loc: mean direction :math:`\mu`.
        concentration: concentration :math:`\kappa > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> VonMises(torch.tensor(0.0), torch.tensor(1.0)).log_prob(torch.tensor(0.0))
        tensor(-1.0738)
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(
        self, loc: Tensor | float, concentration: Tensor | float, validate_args: bool | None = None
    ) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        """The circular mean."""
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """The circular variance :math:`1 - I_1(\\kappa)/I_0(\\kappa)`."""
        return _one_minus_bessel_ratio(self.concentration)

    @lazy_property
    def _proposal(self) -> tuple[Tensor, Tensor]:
        """Best-Fisher's constants without cancellation for small or large ``k``: with
        ``s = sqrt(1 + 4k^2)``, ``g = 1 + 1/(s + 2k)`` (that is ``1 + s - 2k``) and ``v =
        sqrt(2 (1 + s))``, the wrapped-Cauchy slope ``(1 - rho)/(1 + rho) = g / v`` and ``k (r -
        1) = g / 2``."""
        k2 = 2 * self.concentration
        s = torch.hypot(k2, k2.new_ones(()))
        g = (s + k2).reciprocal_().add_(1)
        return g / s.add_(1).mul_(2).sqrt_(), g.mul_(0.5)

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with torch.no_grad():
            k = self.concentration
            a, c0 = self._proposal
            n = shape.numel()
            theta, ok = _rounds(k, a, c0, shape, _ROUNDS if n <= _BLOCK else _FIRST, generator)
            if n > _BLOCK:  # the few undecided elements, gathered without a host sync
                lam = n * _FAIL_FIRST
                size = min(n, math.ceil(lam + 12 * math.sqrt(lam) + 30))
                idx = torch.nonzero_static(~ok.any(0).reshape(-1), size=size, fill_value=n)[:, 0]
                batch = idx.remainder(max(k.numel(), 1))
                k2, a2, c2 = (p.expand(self._batch_shape).reshape(-1)[batch] for p in (k, a, c0))
                redo, _ = _rounds(k2, a2, c2, (size,), _ROUNDS, generator)
                flat = torch.cat([theta.reshape(-1), theta.new_zeros(1)])
                theta = flat.index_put_((idx,), redo)[:n].view(shape)
            x = theta.add_(self.loc)  # to [-pi, pi], exact where |x| < pi already
            return torch.add(x, torch.round(x * (1 / _TWO_PI)), alpha=-_TWO_PI)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        k = self.concentration
        s2 = (value - self.loc).mul_(0.5).sin_().square_()
        log_norm = torch.log(torch.special.i0e(k) * _TWO_PI)
        return torch.addcmul(log_norm.neg_(), k, s2, value=-2)

    def entropy(self) -> Tensor:
        k = self.concentration
        log_norm = torch.log(torch.special.i0e(k) * _TWO_PI)
        return torch.addcmul(log_norm, k, _one_minus_bessel_ratio(k))


@register_kl(VonMises, VonMises)
def _kl_vonmises_vonmises(p: VonMises, q: VonMises) -> Tensor:
    r""":math:`\log\frac{I_0(\kappa_q)}{I_0(\kappa_p)} + A_p(\kappa_p - \kappa_q\cos\Delta)`, with
    :math:`A_p = I_1(\kappa_p)/I_0(\kappa_p) = 1 - B_p`, written as
    :math:`\log\frac{i_0e(\kappa_q)}{i_0e(\kappa_p)} + (\kappa_q - \kappa_p) B_p
    + 2\kappa_q A_p \sin^2(\Delta/2)`."""
    kp, kq = p.concentration, q.concentration
    b = _one_minus_bessel_ratio(kp)
    s = torch.sin((p.loc - q.loc) * 0.5)
    log_ratio = (torch.special.i0e(kq) / torch.special.i0e(kp)).log()
    return log_ratio + (kq - kp) * b + 2 * kq * (1 - b) * s.square()
