"""The von Mises distribution on the circle."""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _distributed, constraints
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, broadcast_all, constant_like, lazy_property

__all__ = ["VonMises"]

_TWO_PI = 2 * math.pi
_PI_LO = 1.2246467991473532e-16  # pi - float(pi): (pi - w) + _PI_LO keeps the digits near pi
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
    if type(k) is Tensor or not _distributed.is_dtensor(k):
        u, e = k.new_empty(shape), k.new_empty(shape)
    else:  # noise sharded like the parameters (new_empty would replicate it)
        u, e = torch.empty_like(k.expand(shape)), torch.empty_like(k.expand(shape))
    t = u.uniform_(-1, 1, generator=generator).mul_(math.pi / 2).tan_().mul_(a)
    t2 = t.square()
    c = torch.addcmul(c0, k, t2.div_(t2 + 1), value=2)
    e = e.exponential_(generator=generator)
    accept = e.add_(c.log()) >= c.sub_(1)
    first = accept.to(torch.uint8).argmax(0, keepdim=True)
    return t.gather(0, first).squeeze(0).atan_().mul_(2), accept


# ---- The cdf: one integral for every kappa ---------------------------------------------------
# Per result dtype (the work is always float64): Gauss-Legendre nodes of the piece next to theta
# and of the piece next to -pi, the exponent L past which the integrand is dropped (e^-L below
# the precision), and the width D (in units of the exponent) of the piece next to -pi.
# Measured against mpmath over kappa in [1e-8, 1e6] and the whole window: relative error below
# 6e-15 for the float64 rule (22 and 14 nodes already reach it), 7e-9 for the float32 one.
_QUADRATURE = {torch.float64: (24, 16, 40.0, 16.0), torch.float32: (12, 8, 20.0, 8.0)}
# Newton steps of icdf after its initial guess: over kappa in [1e-5, 1e7] and q from 1e-300 to
# 1/2, 4 suffice for 99% of the cases and 6 reach the rounding noise of F in every one (not so
# with the cheaper float32 rule in the first steps: near q = 1/2 its error swamps 1/2 - q).
_NEWTON = 6


@functools.lru_cache(maxsize=16)
def _gauss_legendre(n: int, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    """Nodes and weights of the ``n``-point Gauss-Legendre rule on [0, 1], in float64 by
    Golub-Welsch (the eigenvalues of the Jacobi matrix) polished by Newton steps on the
    Legendre polynomial, then cast."""
    j = torch.arange(1, n, dtype=torch.float64)
    off = j / torch.sqrt(4 * j * j - 1)
    x = torch.linalg.eigvalsh(torch.diag(off, 1) + torch.diag(off, -1))
    for _ in range(3):
        p_prev, p = torch.ones_like(x), x
        for m in range(2, n + 1):
            p_prev, p = p, ((2 * m - 1) * x * p - (m - 1) * p_prev) / m
        dp = n * (x * p - p_prev) / (x * x - 1)
        x = x - p / dp
    w = 1 / ((1 - x * x) * dp * dp)  # half the weight on [-1, 1]
    return ((x + 1) / 2).to(dtype=dtype, device=device), w.to(dtype=dtype, device=device)


def _scaled_ratio(k2: Tensor, sa: Tensor, sb: Tensor, dtype: torch.dtype) -> Tensor:
    r"""``R / sb``, where :math:`R = F(\theta)/p(\theta)` is the lower tail over the density at
    :math:`\theta \in [-\pi, 0]` (``sa`` :math:`= \sin(-\theta/2)`, ``sb`` :math:`=
    \cos(\theta/2)`, ``k2`` :math:`= 2\kappa`).

    With :math:`t = \sin^2(s/2) - a` the integral :math:`\int_{-\pi}^{\theta}
    e^{\kappa\cos s}\,ds` becomes :math:`e^{\kappa\cos\theta}R` with

    .. math:: R = \int_0^b \frac{e^{-2\kappa t}\,dt}{\sqrt{(a + t)(b - t)}},
        \qquad a = \sin^2(\theta/2),\ b = \cos^2(\theta/2),

    a positive integrand, so no cancellation anywhere. Its two inverse-square-root ends are
    removed by two substitutions, each on its own Gauss-Legendre piece: :math:`t = y^2 +
    2\sqrt a\,y` on :math:`[0, t_1]` and :math:`t = b - d v^2` on :math:`[b - d, b]`, with
    :math:`d = \min(b/2, D/2\kappa)`, :math:`t_1 = \min(b - d, L/2\kappa)`; what lies between
    (when :math:`t_1 < b - d`) weighs less than :math:`e^{-L}`. Lengths are in units of
    :math:`b` so that nothing underflows next to :math:`-\pi`. The rule is the one for
    ``dtype``, the precision the caller will round to.
    """
    n1, n2, big, width = _QUADRATURE.get(dtype, _QUADRATURE[torch.float32])
    x1, w1 = _gauss_legendre(n1, sb.dtype, sb.device)
    x2, w2 = _gauss_legendre(n2, sb.dtype, sb.device)
    view = (-1,) + (1,) * sb.dim()
    x1, w1, x2, w2 = x1.view(view), w1.view(view), x2.view(view), w2.view(view)
    if type(sb) is not Tensor:  # a DTensor's nodes: replicated over its mesh
        x1, w1, x2, w2 = (constant_like(sb, v) for v in (x1, w1, x2, w2))
    # a and b below 1e-100 only ever add to O(1) terms: flushed to 0 so that no product in
    # the node loop is subnormal (subnormal arithmetic runs 10x slower on CPUs)
    a = torch.where(sa > 1e-50, sa, 0).square()
    b = torch.where(sb > 1e-50, sb, 0).square()
    kb = k2 * b  # the exponent across the whole interval
    d = torch.clamp(width / kb, max=0.5)  # d / b
    t1 = torch.minimum(1 - d, big / kb)  # t1 / b
    y_end = t1 / (torch.sqrt(torch.addcmul(a, b, t1)) + sa)  # y_end / b
    y = x1 * y_end
    t = y * torch.addcmul(2 * sa, b, y)  # t / b
    first = (torch.exp(-kb * t) * torch.rsqrt(1 - t) * w1).sum(0) * y_end
    tv = 1 - d * x2.square()  # t / b
    # (clamped: where it would matter the exponent is below L + D; e^-600 avoids subnormals)
    second = torch.exp((-kb * tv).clamp_(min=-600.0)) * torch.rsqrt(torch.addcmul(a, b, tv))
    second = (second * w2).sum(0) * d.sqrt()
    return 2 * (first + second)


def _lower_tail(
    k: Tensor, sa: Tensor, sb: Tensor, dtype: torch.dtype, log_sb: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    r"""``(R, log p, log F)`` at :math:`\theta \in [-\pi, 0]` (see :func:`_scaled_ratio`), with
    :math:`\log p = -2\kappa a - \log(2\pi\,i_0e(\kappa))` and :math:`F = R\,p` (form
    ``R * exp(log p)`` where the value is wanted: no digits lost to ``exp(log F)``)."""
    ratio = _scaled_ratio(2 * k, sa, sb, dtype)
    log_p = torch.addcmul(torch.log(torch.special.i0e(k) * _TWO_PI), k, sa.square(), value=2)
    log_p = log_p.neg_()
    if log_sb is None:
        log_sb = torch.log(sb)
    return ratio * sb, log_p, log_sb + torch.log(ratio) + log_p


def _icdf_start(k: Tensor, q: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""Initial :math:`\psi = \log\tan(\phi/2)` for :math:`F(\phi - \pi) = q < 1/2`, and a
    bracket. :math:`F` is convex on :math:`[-\pi, 0]` (below its chord: :math:`\phi \ge 2\pi
    q`), at least :math:`\phi\,p(-\pi)` (:math:`\phi \le q / p(-\pi)`), and within
    :math:`|\theta|\,p(0)` of 1/2 (:math:`|\theta| \ge (1/2 - q) / p(0)`). The guess is the
    normal approximation :math:`2\sqrt\kappa\sin(\theta/2) = \Phi^{-1}(q)`, moved into the
    bracket (where it lands on the chord bound for small :math:`\kappa`)."""
    log_norm = torch.log(torch.special.i0e(k) * _TWO_PI)
    lo = torch.log(torch.tan(q * math.pi))
    # (angles kept below 3 so that no tangent crosses pi/2: each change loosens a bound)
    tail = torch.exp(torch.log(q) + 2 * k + log_norm)  # phi at most
    near = ((0.5 - q) * torch.exp(log_norm)).clamp(max=3.0)  # |theta| at least
    hi = -torch.log(torch.tan(near * 0.5))
    hi = torch.where(tail < 3.0, torch.minimum(hi, torch.log(torch.tan(tail * 0.5))), hi)
    s = (torch.special.ndtri(q) * -0.5 * torch.rsqrt(k)).clamp(0, 1)  # sin(|theta| / 2)
    guess = 0.5 * torch.log1p(-s.square()) - torch.log(s)
    # widened by 0.1% (in phi, or theta near the mode): the bounds are tight for small kappa,
    # where rounding noise in F would put Newton's root just outside them
    lo, hi = lo - 1e-3, hi + 1e-3
    return torch.minimum(torch.maximum(guess, lo), hi), lo, hi


def _newton_step(
    k: Tensor, q: Tensor, psi: Tensor, lo: Tensor, hi: Tensor, dtype: torch.dtype
) -> tuple[Tensor, Tensor, Tensor]:
    r"""One Newton step in :math:`\psi` and the updated bracket ``lo, hi`` (a step that leaves
    it is replaced by bisection). The equation is :math:`\log F = \log q` for :math:`q \le
    1/4` and :math:`\log(1/2 - F) = \log(1/2 - q)` above: the mass between the root and the
    nearer reference point (antimode or mode), nearly linear in :math:`\psi` on both sides
    (:math:`\psi \approx \log(\phi/2)` at the antimode, :math:`\log(2/|\theta|)` at the
    mode), so that Newton converges from anywhere in the bracket. :math:`dF/d\psi = p
    \sin\phi`."""
    half = -0.5 * F.softplus(2 * psi, threshold=40)
    sb = torch.exp(half + psi)  # sin(phi / 2) = cos(theta / 2), without underflow to 1e-308
    sa = torch.exp(half)  # cos(phi / 2) = sin(-theta / 2)
    r, log_p, log_f = _lower_tail(k, sa, sb, dtype, half + psi)
    near_mode = q > 0.25
    # 1/2 - F: absolute error 1e-16, all that a q next to 1/2 holds anyway (1/2 - q is exact)
    rest = 0.5 - r * log_p.exp()
    g = torch.where(near_mode, torch.log(0.5 - q) - torch.log(rest), log_f - torch.log(q))
    mass = torch.where(near_mode, rest * torch.exp(-log_p), r)  # (1/2 - F) / p or F / p
    new = psi - g * mass / (2 * sa * sb)
    lo = torch.where(g < 0, psi, lo)
    hi = torch.where(g > 0, psi, hi)
    # within 0.1% of the mass Newton is safe: trusted even where rounding noise in g (for q
    # next to 1/2) has put the root just outside the bracket, where bisection would wander
    trusted = (new >= lo) & (new <= hi) | (g.abs() < 1e-3)
    return torch.where(trusted, new, (lo + hi) * 0.5), lo, hi


class VonMises(Distribution):
    r"""Von Mises distribution on the circle with mean direction :math:`\mu` (``loc``) and
    concentration :math:`\kappa` (``concentration``):

    .. math:: p(x) = \frac{e^{\kappa\cos(x - \mu)}}{2\pi I_0(\kappa)}
        = \frac{e^{-2\kappa\sin^2((x - \mu)/2)}}{2\pi\, e^{-\kappa} I_0(\kappa)}.

    The second form (with the scaled Bessel function ``i0e``) is exact for every
    :math:`\kappa`; ``loc`` and values are angles in radians (any real number, read modulo
    :math:`2\pi`); samples lie in :math:`[-\pi, \pi]`. ``mean`` and ``variance`` are the circular
    ones, as in torch.

    ``cdf``, ``icdf`` and the tail functions (which torch lacks) follow SciPy: the cdf runs from
    0 to 1 over the window :math:`[\mu - \pi, \mu + \pi]` and continues by :math:`F(x + 2\pi)
    = F(x) + 1`, so it is increasing on the whole line and ``icdf`` inverts it everywhere. They
    evaluate one integral of positive terms for every :math:`\kappa` (no series to switch
    between), relatively accurate in both tails, ``log_cdf`` beyond the underflow of the cdf.

    Args:
        loc: mean direction :math:`\mu`.
        concentration: concentration :math:`\kappa > 0`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> d = VonMises(torch.tensor(0.0), torch.tensor(1.0))
        >>> d.log_prob(torch.tensor(0.0))
        tensor(-1.0738)
        >>> d.cdf(torch.tensor([0.0, 1.0, 7.0]))
        tensor([0.5000, 0.7944, 1.7259])
        >>> d.icdf(torch.tensor([0.0, 0.25, 1.0]))
        tensor([-3.1416, -0.8098,  3.1416])
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
            # (on a DTensor every round runs on every element: no gather across shards)
            big = n > _BLOCK and (type(k) is Tensor or not _distributed.is_dtensor(k))
            theta, ok = _rounds(k, a, c0, shape, _FIRST if big else _ROUNDS, generator)
            if big:  # the few undecided elements, gathered without a host sync
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

    # The cdf family computes in float64 whatever the dtype (float32 values are the float64
    # ones rounded), with the quadrature rule of the result's dtype.

    def _window(self, value: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, torch.dtype]:
        """``(n, upper, F, log F, dtype)``: ``value - loc = theta + 2 pi n`` with ``theta`` in
        ``[-pi, pi]``, whether ``theta > 0``, the lower tail at ``-|theta|`` (float64), and the
        result's dtype."""
        dtype = torch.promote_types(value.dtype, self.loc.dtype)
        x = value.to(torch.float64) - self.loc.to(torch.float64)  # exact for float32 inputs
        n = torch.round(x * (1 / _TWO_PI))
        theta = torch.add(x, n, alpha=-_TWO_PI) - n * (2 * _PI_LO)
        upper = theta > 0
        w = torch.where(upper, theta, -theta)  # |theta|, with the gradient of either side at 0
        sa = torch.sin(w * 0.5)
        sb = torch.sin(((math.pi - w) + _PI_LO) * 0.5)
        r, log_p, log_f = _lower_tail(self.concentration.to(torch.float64), sa, sb, dtype)
        return n, upper, r * log_p.exp(), log_f, dtype

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        r""":math:`P(\mu - \pi \le X \le x)`: SciPy's convention. It is the usual cdf on the
        window :math:`[\mu - \pi, \mu + \pi]` (0 at the left end, 1 at the right end) and
        extends to the whole line by :math:`F(x + 2\pi) = F(x) + 1`, so it is continuous and
        increasing everywhere (negative left of the window, above 1 right of it). Relative
        error below 2e-14 in both tails (float64; times A/50 where the exponent :math:`A =
        2\kappa\sin^2((x - \mu)/2)` exceeds 50, as the value's sensitivity to the last digit
        of its inputs does)."""
        n, upper, f, _, dtype = self._window(value)
        return torch.where(upper, (n + 1) - f, f + n).to(dtype)  # -f exactly at n = -1

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        """``1 - cdf``, the lower tail by symmetry where it is small."""
        n, upper, f, _, dtype = self._window(value)
        return torch.where(upper, f - n, (1 - n) - f).to(dtype)

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        """``log(cdf)``, computed in log space in the left tail (finite where the cdf itself
        underflows); ``nan`` left of the window, where the cdf is negative (as in SciPy)."""
        n, upper, f, log_f, dtype = self._window(value)
        inside = torch.where(upper, torch.log1p(-f), log_f)
        outside = torch.where(n > 0, torch.log(torch.where(upper, (n + 1) - f, f + n)), math.nan)
        return torch.where(n == 0, inside, outside).to(dtype)

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        """``log(1 - cdf)``, in log space in the right tail; ``nan`` right of the window."""
        n, upper, f, log_f, dtype = self._window(value)
        inside = torch.where(upper, log_f, torch.log1p(-f))
        outside = torch.where(n < 0, torch.log(torch.where(upper, f - n, (1 - n) - f)), math.nan)
        return torch.where(n == 0, inside, outside).to(dtype)

    def icdf(self, value: Tensor) -> Tensor:
        r"""The inverse of :meth:`cdf`: for :math:`q \in [0, 1]` a value in
        :math:`[\mu - \pi, \mu + \pi]` (the ends at 0 and 1), and :math:`x + 2\pi n` at
        :math:`q + n`. Safeguarded Newton steps on :math:`\log F` in :math:`\psi =
        \log\tan(\phi/2)`, :math:`\phi` the distance from the antimode (a variable that keeps
        every digit next to both ends). Gradients by the implicit function theorem (:math:`1/p`
        in ``value``, :math:`-\partial_\kappa F / p` in the concentration)."""
        dtype = torch.promote_types(value.dtype, self.loc.dtype)
        k = self.concentration.to(torch.float64)
        value = value.to(torch.float64)
        n = torch.floor(value)
        r = value - n
        upper = r > 0.5
        q = torch.where(upper, 1 - r, r)  # exact for r >= 1/2
        with torch.no_grad():
            kd, qd = torch.broadcast_tensors(k.detach(), q.detach())
            ends = (qd == 0) | (qd == 0.5)
            inner = torch.where(ends, 0.25, qd)
            psi, lo, hi = _icdf_start(kd, inner)
            for _ in range(_NEWTON):
                psi, lo, hi = _newton_step(kd, inner, psi, lo, hi, dtype)
            u = torch.atan(torch.exp(-psi)).mul_(-2)  # theta in [-pi, 0]
            u = torch.where(qd == 0, -math.pi, torch.where(qd == 0.5, 0.0, u))
            # sin(-theta / 2), cos(theta / 2) from psi, not from u (which has lost the digits
            # of the distance to -pi)
            half = -0.5 * F.softplus(2 * psi, threshold=40)
            sa = torch.where(ends, torch.sin(u * -0.5), torch.exp(half))
            sb = torch.where(ends, torch.sin(((u + math.pi) + _PI_LO) * 0.5), torch.exp(half + psi))
        if torch.is_grad_enabled() and (k.requires_grad or q.requires_grad):
            # u + (log q - log F(u)) R(u): the value of u, the gradient of a Newton step
            ratio, _, log_f = _lower_tail(k, sa, sb, dtype)
            zero = q == 0
            log_q = torch.where(zero, log_f.detach(), torch.log(torch.where(zero, 1.0, q)))
            step = (log_q - log_f) * ratio
            u = u + (step - step.detach())
        theta = torch.where(upper, -u, u) + n * _TWO_PI
        return (self.loc.to(torch.float64) + theta).to(dtype)

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
