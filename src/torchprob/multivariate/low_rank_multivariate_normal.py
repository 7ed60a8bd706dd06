"""The multivariate normal distribution with a low-rank-plus-diagonal covariance."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, lazy_property
from .multivariate_normal import (
    MultivariateNormal,
    _apply,
    _compact,
    _empty,
    _rowwise,
    _solve,
    _times,
    _whitened_norm,
)

__all__ = ["LowRankMultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


def _cholesky_solve(C: Tensor, X: Tensor) -> Tensor:
    """Rows of ``X`` through ``(C C^T)^{-1}``: two triangular solves."""
    if C.dim() == 2 and type(X) is not Tensor:  # DTensor rows: a batch of vectors, as sharded
        return torch.linalg.solve_triangular(C.mT, _solve(C, X).unsqueeze(-1), upper=True)[..., 0]
    return torch.linalg.solve_triangular(C, _solve(C, X), upper=False, left=False)


class LowRankMultivariateNormal(Distribution):
    r"""Multivariate normal distribution with mean :math:`\mu` (``loc``) and covariance
    :math:`\Sigma = W W^\top + D` of low-rank-plus-diagonal form (``cov_factor`` :math:`W`,
    ``d x m``; ``cov_diag`` the diagonal of :math:`D`):

    .. math:: p(x) = (2\pi)^{-d/2} |\Sigma|^{-1/2}
        \exp\big(-\tfrac12 (x-\mu)^\top \Sigma^{-1} (x-\mu)\big), \qquad x \in \mathbb{R}^d.

    Only the ``m x m`` capacitance :math:`C = I + W^\top D^{-1} W` is factorized (once, on first
    use): the determinant by the matrix determinant lemma, :math:`|\Sigma| = |C|\,|D|`, and the
    quadratic form by the Woodbury identity, evaluated as the least-squares value
    :math:`\min_z \|x - W z\|_{D^{-1}}^2 + \|z\|^2`, a sum of squares without cancellation.

    Args:
        loc: mean :math:`\mu`, shape ``batch_shape + (d,)``.
        cov_factor: :math:`W`, shape ``batch_shape + (d, m)``.
        cov_diag: diagonal of :math:`D` (positive), shape ``batch_shape + (d,)``.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> d = LowRankMultivariateNormal(torch.zeros(2), torch.tensor([[1.0], [0.0]]),
        ...                               torch.ones(2))
        >>> d.variance
        tensor([2., 1.])
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc: Tensor,
        cov_factor: Tensor,
        cov_diag: Tensor,
        validate_args: bool | None = None,
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = loc.shape[-1:]
        if cov_factor.dim() < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional leading batch "
                "dimensions"
            )
        if cov_factor.shape[-2:-1] != event_shape:
            raise ValueError(
                f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m"
            )
        if cov_diag.shape[-1:] != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        batch_shape = loc.shape[:-1]
        if not batch_shape == cov_factor.shape[:-2] == cov_diag.shape[:-1]:
            try:
                batch_shape = torch.broadcast_shapes(
                    batch_shape, cov_factor.shape[:-2], cov_diag.shape[:-1]
                )
            except RuntimeError as err:
                raise ValueError(
                    f"Incompatible batch shapes: loc {tuple(loc.shape)}, cov_factor "
                    f"{tuple(cov_factor.shape)}, cov_diag {tuple(cov_diag.shape)}"
                ) from err
            loc = loc.expand(batch_shape + event_shape)
            cov_factor = cov_factor.expand(batch_shape + cov_factor.shape[-2:])
            cov_diag = cov_diag.expand(batch_shape + event_shape)
        self.loc, self.cov_factor, self.cov_diag = loc, cov_factor, cov_diag
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    @lazy_property
    def _sqrt_diag(self) -> Tensor:
        return _compact(self._unbroadcasted_cov_diag, 1).sqrt()

    @lazy_property
    def _woodbury(self) -> tuple[Tensor, Tensor, Tensor]:
        """What a density needs, built together on first use: :math:`V = D^{-1/2} W`, the
        Cholesky factor :math:`L_C` of :math:`C = I + V^\\top V` (eigenvalues at least one), and
        :math:`-\\tfrac d2 \\log 2\\pi - \\log|L_C| - \\sum_i \\log D_{ii}^{1/2}` (the
        determinant lemma, :math:`|\\Sigma| = |C|\\,|D|`)."""
        sqrt_diag = self._sqrt_diag
        V = _compact(self._unbroadcasted_cov_factor) / sqrt_diag.unsqueeze(-1)
        capacitance = V.mT @ V
        capacitance.diagonal(dim1=-2, dim2=-1).add_(1)
        L = torch.linalg.cholesky_ex(capacitance).L
        diag = L.diagonal(dim1=-2, dim2=-1)
        if diag.shape[:-1] == sqrt_diag.shape[:-1]:  # one log and one sum for both
            half_log_det = torch.cat((diag, sqrt_diag), -1).log().sum(-1)
        else:
            half_log_det = diag.log().sum(-1) + sqrt_diag.log().sum(-1)
        log_norm = torch.rsub(half_log_det, -0.5 * self._event_shape[0] * _LOG_2PI)
        return V, L, log_norm

    @property
    def _whitened_factor(self) -> Tensor:
        return self._woodbury[0]

    @property
    def _capacitance_tril(self) -> Tensor:
        return self._woodbury[1]

    @property
    def _log_norm(self) -> Tensor:
        return self._woodbury[2]

    @lazy_property
    def _log_det(self) -> Tensor:
        """:math:`\\log|\\Sigma| = 2\\log|L_C| + \\sum_i \\log D_{ii}`."""
        log_diag = _compact(self._unbroadcasted_cov_diag, 1).log().sum(-1)
        return 2 * self._capacitance_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + log_diag

    def _matrix_shape(self) -> torch.Size:
        return self._batch_shape + self._event_shape + self._event_shape

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:  # type: ignore[override]
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (W.square().sum(-1) + D).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        """:math:`D^{1/2} \\operatorname{chol}(I + V V^\\top)`, well conditioned (eigenvalues
        at least one)."""
        V = self._whitened_factor
        inner = V @ V.mT
        inner.diagonal(dim1=-2, dim2=-1).add_(1)
        factor = self._sqrt_diag.unsqueeze(-1) * torch.linalg.cholesky_ex(inner).L
        return factor.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        W = self._unbroadcasted_cov_factor
        cov = W @ W.mT + torch.diag_embed(self._unbroadcasted_cov_diag)
        return cov.expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """Woodbury: :math:`D^{-1/2}(I - B^\\top B) D^{-1/2}`, :math:`B = L_C^{-1} V^\\top`."""
        B = torch.linalg.solve_triangular(
            self._capacitance_tril, self._whitened_factor.mT, upper=False
        )
        inner = -(B.mT @ B)
        inner.diagonal(dim1=-2, dim2=-1).add_(1)
        scale = self._sqrt_diag.reciprocal()
        return (scale.unsqueeze(-1) * inner * scale.unsqueeze(-2)).expand(self._matrix_shape())

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        shape = self._extended_shape(sample_shape)
        W = _compact(self._unbroadcasted_cov_factor)
        m = W.shape[-1]
        eps = _empty(self.loc, shape[:-1] + (m + shape[-1],)).normal_(generator=generator)
        eps_factor, eps_diag = eps.narrow(-1, 0, m), eps.narrow(-1, m, shape[-1])
        if eps.dim() == 1 and W.dim() == 2:  # one draw of one distribution
            low_rank = torch.addmv(self.loc, W, eps_factor)
        else:
            low_rank = self.loc + _rowwise(eps_factor, W, _apply)
        return torch.addcmul(low_rank, self._sqrt_diag, eps_diag)

    def _mahalanobis(self, diff: Tensor) -> Tensor:
        """:math:`y^\\top (I + V V^\\top)^{-1} y` with :math:`y = D^{-1/2} x`, as
        :math:`\\|y - V z\\|^2 + \\|z\\|^2` at :math:`z = C^{-1} V^\\top y`."""
        V, C, _ = self._woodbury
        y = diff / self._sqrt_diag
        if y.dim() == 1 and V.dim() == 2:  # one vector, one matrix
            z = torch.cholesky_solve((y @ V).unsqueeze(-1), C).squeeze(-1)
            residual = torch.addmv(y, V, z, alpha=-1)
            return torch.dot(residual, residual) + torch.dot(z, z)
        z = _rowwise(_rowwise(y, V, _times), C, _cholesky_solve)
        residual = y - _rowwise(z, V, _apply)
        return torch.linalg.vecdot(residual, residual) + torch.linalg.vecdot(z, z)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return torch.add(self._log_norm, self._mahalanobis(value - self.loc), alpha=-0.5)

    def entropy(self) -> Tensor:
        entropy = (0.5 * self._event_shape[0]) - self._log_norm
        return entropy.expand(self._batch_shape)


def _check_events(p: Distribution, q: Distribution) -> None:
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two (Low Rank) Multivariate Normals with different event "
            "shapes cannot be computed"
        )


def _trace_lowrank_q(
    q: LowRankMultivariateNormal, factor: Tensor, sqrt_diag: Tensor | None = None
) -> Tensor:
    r""":math:`\operatorname{tr}(\Sigma_q^{-1} \Sigma_p) = \|G\|_F^2 - \|B_q G\|_F^2` for
    :math:`\Sigma_p = F F^\top (+ D_p)`, with :math:`G = D_q^{-1/2} F` (and the columns
    :math:`D_q^{-1/2} D_p^{1/2}`) and :math:`B_q = L_C^{-1} V_q^\top` (Woodbury)."""
    G = factor / q._sqrt_diag.unsqueeze(-1)
    B = torch.linalg.solve_triangular(q._capacitance_tril, q._whitened_factor.mT, upper=False)
    trace = G.square().sum((-2, -1)) - (B @ G).square().sum((-2, -1))
    if sqrt_diag is not None:
        ratio = sqrt_diag / q._sqrt_diag
        trace = trace + (ratio.square().sum(-1) - (B * ratio.unsqueeze(-2)).square().sum((-2, -1)))
    return trace


def _kl(
    p: Distribution, q: Distribution, log_det_p: Tensor, log_det_q: Tensor, trace: Tensor
) -> Tensor:
    mahalanobis = q._mahalanobis(q.loc - p.loc)  # type: ignore[attr-defined]
    return 0.5 * (log_det_q - log_det_p + trace + mahalanobis - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrankmultivariatenormal_lowrankmultivariatenormal(
    p: LowRankMultivariateNormal, q: LowRankMultivariateNormal
) -> Tensor:
    _check_events(p, q)
    trace = _trace_lowrank_q(q, _compact(p._unbroadcasted_cov_factor), p._sqrt_diag)
    return _kl(p, q, p._log_det, q._log_det, trace)


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_multivariatenormal_lowrankmultivariatenormal(
    p: MultivariateNormal, q: LowRankMultivariateNormal
) -> Tensor:
    _check_events(p, q)
    trace = _trace_lowrank_q(q, p._unbroadcasted_scale_tril)
    return _kl(p, q, 2 * p._half_log_det, q._log_det, trace)


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrankmultivariatenormal_multivariatenormal(
    p: LowRankMultivariateNormal, q: MultivariateNormal
) -> Tensor:
    _check_events(p, q)
    trace = _whitened_norm(q._whitening, _compact(p._unbroadcasted_cov_factor))
    trace = trace + _whitened_norm(q._whitening, torch.diag_embed(p._sqrt_diag))
    return _kl(p, q, p._log_det, 2 * q._half_log_det, trace)
