"""The multivariate normal distribution, and the triangular-factor helpers shared with the
low-rank normal and the Wishart."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .. import _distributed, constraints
from ..distribution import Distribution, _holds, validate_sample
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, constant_like, lazy_property

__all__ = ["MultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)
RowOp = Callable[[Tensor, Tensor], Tensor]


def _compact(t: Tensor, event_dim: int = 2) -> Tensor:
    """``t`` without the copies an ``expand`` made: batch dims of stride 0 narrowed to one entry
    (equal along them), leading unit dims dropped, so a factorization runs once per distinct
    matrix. Not for an expanded leaf that requires grad (its per-copy gradient would move)."""
    batch_dims = t.dim() - event_dim
    if batch_dims <= 0 or (t.requires_grad and t.is_leaf):
        return t
    for i in range(batch_dims):
        if t.stride(i) == 0 and t.shape[i] > 1:
            t = t.narrow(i, 0, 1)
    while t.dim() > event_dim and t.shape[0] == 1:
        t = t[0]
    return t


def _empty(ref: Tensor, shape: torch.Size, extra: int = 0) -> Tensor:
    """An uninitialized ``shape`` tensor for noise: ``ref.new_empty(shape)``. For a DTensor
    ``ref`` (broadcastable to ``shape`` once given ``extra`` trailing unit dims, other sizes
    narrowed to one) it is sharded like ``ref``: a fresh tensor of another shape would be
    replicated, every rank drawing all of it."""
    if type(ref) is Tensor or not _distributed.is_dtensor(ref):
        return ref.new_empty(shape)
    ref = ref.reshape(ref.shape + (1,) * extra)
    lead = len(shape) - ref.dim()
    for i, n in enumerate(ref.shape):
        if n != 1 and n != shape[lead + i]:
            ref = ref.narrow(i, 0, 1)
    return torch.empty_like(ref.expand(shape), memory_format=torch.contiguous_format)


def _rowwise(x: Tensor, factor: Tensor, op: RowOp) -> Tensor:
    """``op(F, X)`` for every factor matrix ``F`` of ``factor`` (``(*fb, d, d')``), ``X`` the rows
    of ``x`` (``(..., d)``) that share ``F``: sample dims become rows of one matrix, not copies
    of ``F``. Returns ``(..., d'')`` in the layout of ``x``."""
    fb, d = factor.shape[:-2], x.shape[-1]
    if not fb:
        if x.dim() > 1 and type(x) is not Tensor:  # DTensor rows stay sharded: no flattening
            return op(factor, x)
        return op(factor, x.reshape(-1, d)).reshape(x.shape[:-1] + (-1,))
    if x.shape[:-1] == fb:
        return op(factor, x.unsqueeze(-2)).squeeze(-2)
    full = torch.broadcast_shapes(x.shape[:-1], fb)
    x = x.expand(full + (d,))
    n = len(full)
    padded = (1,) * (n - len(fb)) + tuple(fb)
    keep = [i for i in range(n) if padded[i] != 1]
    rows = [i for i in range(n) if padded[i] == 1]
    kept = [full[i] for i in keep]
    y = op(
        factor.reshape(kept + list(factor.shape[-2:])),
        x.permute(keep + rows + [n]).reshape(kept + [-1, d]),
    )
    y = y.reshape(kept + [full[i] for i in rows] + [y.shape[-1]])
    order = keep + rows
    return y.permute([order.index(i) for i in range(n)] + [n])


def _solve(L: Tensor, X: Tensor) -> Tensor:
    """Rows of ``X`` times ``L^{-T}``: each row ``x`` becomes ``L^{-1} x``."""
    if L.dim() == 2 and type(X) is not Tensor:  # DTensor rows: a batch of vectors, as sharded
        return torch.linalg.solve_triangular(L, X.unsqueeze(-1), upper=False).squeeze(-1)
    return torch.linalg.solve_triangular(L, X.mT, upper=False).mT


def _times(U: Tensor, X: Tensor) -> Tensor:
    """Rows of ``X`` times ``U``: each row ``x`` becomes ``U^T x``."""
    return X @ U


def _apply(L: Tensor, X: Tensor) -> Tensor:
    """Rows of ``X`` times ``L^T``: each row ``x`` becomes ``L x``."""
    return X @ L.mT


def _lower_symmetric(matrix: Tensor) -> Tensor:
    """The symmetric matrix whose lower triangle ``matrix`` holds: what LAPACK reads, made
    explicit only where a gradient flows (so that it agrees with finite differences in any
    entry); without one the values are the same and the three passes are skipped."""
    if matrix.requires_grad:
        return matrix.tril() + matrix.tril(-1).mT
    return matrix


def _cholesky(matrix: Tensor, checked: bool) -> Tensor:
    """Lower Cholesky factor of the symmetric matrix whose lower triangle ``matrix`` holds. A
    matrix validation already found positive definite skips the error check; otherwise torch's
    error is raised."""
    matrix = _lower_symmetric(matrix)
    return torch.linalg.cholesky_ex(matrix).L if checked else torch.linalg.cholesky(matrix)


def _whitening(given: str, matrix: Tensor, checked: bool) -> tuple[Tensor, RowOp]:
    """``(F, op)`` with ``op(F, rows)`` mapping each row ``x`` to ``L^{-1} x``: a triangular solve
    with ``L``, or from a precision matrix :math:`P = U U^\\top` (``U`` upper triangular, from a
    Cholesky of the reversed matrix) a product with ``U``: no inverse at all."""
    matrix = _compact(matrix)
    if given == "precision_matrix":
        return _cholesky(matrix.flip(-2, -1), checked).flip(-2, -1), _times
    if given == "covariance_matrix":
        return _cholesky(matrix, checked), _solve
    return matrix, _solve


def _scale_tril(whitening: tuple[Tensor, RowOp]) -> Tensor:
    """``L`` itself, or ``U^{-T}`` (one triangular solve) where the factor is a precision's."""
    factor, op = whitening
    if op is _solve:
        return factor
    eye = torch.eye(factor.shape[-1], dtype=factor.dtype, device=factor.device)
    if type(factor) is not Tensor:  # DTensor's batch rule would shard a broadcast identity
        eye = constant_like(factor, eye.expand(factor.shape))
    return torch.linalg.solve_triangular(factor, eye, upper=True).mT


def _half_logdet_of(whitening: tuple[Tensor, RowOp]) -> Tensor:
    r""":math:`\log|L|` from the factor's diagonal."""
    factor, op = whitening
    half = factor.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    return half if op is _solve else -half


def _whitened_norm(whitening: tuple[Tensor, RowOp], matrix: Tensor) -> Tensor:
    r""":math:`\|L^{-1} M\|_F^2` for ``M`` of shape ``(..., d, k)``: its columns as rows."""
    factor, op = whitening
    batch = torch.broadcast_shapes(matrix.shape[:-2], factor.shape[:-2])
    columns = matrix.expand(batch + matrix.shape[-2:]).mT.movedim(-2, 0)
    return _rowwise(columns, factor, op).square().sum((0, -1))


def _one_matrix(
    covariance_matrix: Tensor | None, precision_matrix: Tensor | None, scale_tril: Tensor | None
) -> tuple[str, Tensor]:
    """The name and value of the one matrix parameterization given."""
    if (covariance_matrix is not None) + (precision_matrix is not None) + (
        scale_tril is not None
    ) != 1:
        raise ValueError(
            "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."
        )
    if scale_tril is not None:
        return "scale_tril", scale_tril
    if covariance_matrix is not None:
        return "covariance_matrix", covariance_matrix
    return "precision_matrix", precision_matrix  # type: ignore[return-value]


class MultivariateNormal(Distribution):
    r"""Multivariate normal distribution with mean :math:`\mu` (``loc``) and covariance
    :math:`\Sigma = L L^\top`, given as exactly one of ``covariance_matrix``,
    ``precision_matrix`` (:math:`\Sigma^{-1}`) or ``scale_tril`` (:math:`L`):

    .. math:: p(x) = (2\pi)^{-d/2} |\Sigma|^{-1/2}
        \exp\big(-\tfrac12 (x-\mu)^\top \Sigma^{-1} (x-\mu)\big), \qquad x \in \mathbb{R}^d.

    The matrix is factorized once, on first use (or, for a ``covariance_matrix`` checked at
    construction, by the check itself); densities use triangular solves (or, from a precision
    matrix, products with its factor), never an inverse.

    Args:
        loc: mean :math:`\mu`, shape ``batch_shape + (d,)``.
        covariance_matrix: positive-definite :math:`\Sigma`, shape ``(..., d, d)``.
        precision_matrix: positive-definite :math:`\Sigma^{-1}`, shape ``(..., d, d)``.
        scale_tril: lower-triangular :math:`L` with positive diagonal, shape ``(..., d, d)``.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> d = MultivariateNormal(torch.zeros(2), scale_tril=torch.eye(2))
        >>> d.log_prob(torch.zeros(2))
        tensor(-1.8379)
    """

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc: Tensor,
        covariance_matrix: Tensor | None = None,
        precision_matrix: Tensor | None = None,
        scale_tril: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        name, matrix = _one_matrix(covariance_matrix, precision_matrix, scale_tril)
        if matrix.dim() < 2 or matrix.shape[-1] != loc.shape[-1]:
            raise ValueError(
                f"{name} must be at least two-dimensional, of shape (..., {loc.shape[-1]}, "
                f"{loc.shape[-1]}) to match loc; got {tuple(matrix.shape)}"
            )
        batch_shape = loc.shape[:-1]
        if matrix.shape[:-2] != batch_shape:
            try:
                batch_shape = torch.broadcast_shapes(matrix.shape[:-2], batch_shape)
            except RuntimeError as err:
                raise ValueError(
                    f"Incompatible batch shapes: loc {tuple(loc.shape)}, {name} "
                    f"{tuple(matrix.shape)}"
                ) from err
            matrix = matrix.expand(batch_shape + matrix.shape[-2:])
            loc = loc.expand(batch_shape + loc.shape[-1:])
        self.loc = loc
        setattr(self, name, matrix)
        self._given = name
        super().__init__(batch_shape, loc.shape[-1:], validate_args=validate_args)
        self._checked = self._validate_args  # the matrix was found positive definite

    def _validate_params(self) -> None:
        """The base class's checks, with one Cholesky factorization of a ``covariance_matrix``
        serving both its positive-definite test and, kept, as the factor (checking it apart
        would factorize the matrix twice). Elsewhere (other parameterizations, tracing, off
        the CPU) the base class validates."""
        matrix = self.__dict__[self._given]
        if self._given != "covariance_matrix" or not matrix.is_cpu or torch.compiler.is_compiling():
            super()._validate_params()
            return
        matrix = _compact(matrix)  # the copies of an expanded matrix are one matrix
        with torch.enable_grad():  # the factor is kept: it carries the graph as lazily built
            factor, info = torch.linalg.cholesky_ex(_lower_symmetric(matrix))
        ok = constraints.real_vector.check(self.loc).all() & (info == 0).all()
        if not _holds(ok & constraints.symmetric.check(matrix).all()):
            self._raise_invalid_params()
        self._whitening = (factor, _solve)

    @lazy_property
    def _whitening(self) -> tuple[Tensor, RowOp]:
        return _whitening(self._given, self.__dict__[self._given], self._checked)

    @lazy_property
    def _unbroadcasted_scale_tril(self) -> Tensor:
        return _scale_tril(self._whitening)

    @lazy_property
    def _half_log_det(self) -> Tensor:
        return _half_logdet_of(self._whitening)

    @lazy_property
    def _log_norm(self) -> Tensor:
        """:math:`-\\tfrac d2 \\log 2\\pi - \\tfrac12 \\log|\\Sigma|`."""
        return torch.rsub(_half_logdet_of(self._whitening), -0.5 * self._event_shape[0] * _LOG_2PI)

    def _matrix_shape(self) -> torch.Size:
        return self._batch_shape + self._event_shape + self._event_shape

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        return torch.cholesky_inverse(self._unbroadcasted_scale_tril).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        variance = self._unbroadcasted_scale_tril.square().sum(-1)
        return variance.expand(self._batch_shape + self._event_shape)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        eps = _empty(self.loc, self._extended_shape(sample_shape)).normal_(generator=generator)
        factor, op = self._whitening
        L = factor if op is _solve else self._unbroadcasted_scale_tril
        if eps.dim() == 1 and L.dim() == 2:  # one draw of one distribution: a single BLAS call
            return torch.addmv(self.loc, L, eps)
        return self.loc + _rowwise(eps, L, _apply)

    def _mahalanobis(self, diff: Tensor) -> Tensor:
        """:math:`x^\\top \\Sigma^{-1} x` for the rows of ``diff``: a sum of squares."""
        factor, op = self._whitening
        if diff.dim() == 1 and factor.dim() == 2 and op is _solve:  # one vector, one matrix
            z = torch.linalg.solve_triangular(factor, diff.unsqueeze(-1), upper=False)
            return torch.linalg.vecdot(z, z, dim=-2).squeeze(-1)
        z = _rowwise(diff, factor, op)
        return torch.linalg.vecdot(z, z)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        return torch.add(self._log_norm, self._mahalanobis(value - self.loc), alpha=-0.5)

    def entropy(self) -> Tensor:
        entropy = (0.5 * self._event_shape[0]) - self._log_norm
        return entropy.expand(self._batch_shape)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(
    p: MultivariateNormal, q: MultivariateNormal
) -> Tensor:
    r""":math:`\log\frac{|L_q|}{|L_p|} + \tfrac12\big(\|L_q^{-1} L_p\|_F^2
    + \|L_q^{-1}(\mu_q - \mu_p)\|^2 - d\big)`."""
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two Multivariate Normals with different event shapes cannot "
            "be computed"
        )
    trace = _whitened_norm(q._whitening, p._unbroadcasted_scale_tril)
    rest = trace + q._mahalanobis(q.loc - p.loc) - p.event_shape[0]
    return (q._half_log_det - p._half_log_det) + 0.5 * rest
