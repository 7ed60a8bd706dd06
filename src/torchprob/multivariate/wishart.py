"""The Wishart distribution over positive-definite matrices."""

from __future__ import annotations

import functools
import math
import warnings

import torch
from torch import Tensor

from .. import constraints
from ..distribution import validate_sample
from ..exp_family import ExponentialFamily
from ..kl import register_kl
from ..utils import EMPTY, ShapeLike, constant_like, is_tracing, lazy_property
from .multivariate_normal import (
    RowOp,
    _empty,
    _half_logdet_of,
    _one_matrix,
    _scale_tril,
    _whitened_norm,
)
from .multivariate_normal import _whitening as _whitening_of

__all__ = ["Wishart"]

_LOG_2 = math.log(2)
_LOG_PI = math.log(math.pi)


@functools.lru_cache(maxsize=64)
def _constraints(p: int | None) -> dict[str, constraints.Constraint]:
    """The parameter table for ``p x p`` matrices, ``df > p - 1``, built once per size; with
    ``p`` unknown (read on the class) ``df`` is a dependent constraint."""
    df = constraints.dependent(is_discrete=False, event_dim=0) if p is None else None
    return {
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
        "df": df or constraints.greater_than(p - 1),  # type: ignore[operator]
    }


class _ParamTable:
    """``Wishart.arg_constraints``: a table on the class too (torch's is a bare property there),
    exact on an instance."""

    def __get__(self, instance: Wishart | None, owner: type | None = None) -> dict:
        return _constraints(None if instance is None else instance._event_shape[-1])


class Wishart(ExponentialFamily):
    r"""Wishart distribution with ``df`` :math:`\nu > p - 1` degrees of freedom and scale
    :math:`\Sigma = L L^\top` (exactly one of ``covariance_matrix``, ``precision_matrix``,
    ``scale_tril``), over positive-definite ``p x p`` matrices :math:`X`:

    .. math:: p(X) = \frac{|X|^{(\nu - p - 1)/2} e^{-\operatorname{tr}(\Sigma^{-1} X)/2}}
        {2^{\nu p/2} |\Sigma|^{\nu/2} \Gamma_p(\nu/2)}.

    Sampling uses the Bartlett decomposition :math:`X = (LA)(LA)^\top`, :math:`A` lower
    triangular with :math:`A_{ii}^2 \sim \chi^2_{\nu - i}` and standard normals below the
    diagonal; it is reparameterized in :math:`\Sigma` and :math:`\nu`.

    Args:
        df: degrees of freedom :math:`\nu`, a number or a tensor of batch shape.
        covariance_matrix: positive-definite :math:`\Sigma`.
        precision_matrix: positive-definite :math:`\Sigma^{-1}`.
        scale_tril: lower-triangular :math:`L` with positive diagonal.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> Wishart(torch.tensor(4.0), covariance_matrix=torch.eye(2)).mean
        tensor([[4., 0.],
                [0., 4.]])
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    arg_constraints = _ParamTable()  # type: ignore[assignment]

    def __init__(
        self,
        df: Tensor | float,
        covariance_matrix: Tensor | None = None,
        precision_matrix: Tensor | None = None,
        scale_tril: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        name, matrix = _one_matrix(covariance_matrix, precision_matrix, scale_tril)
        if matrix.dim() < 2 or matrix.shape[-1] != matrix.shape[-2]:
            raise ValueError(
                f"{name} must be a batch of square matrices, got {tuple(matrix.shape)}"
            )
        batch_shape = matrix.shape[:-2]
        nu = df if isinstance(df, Tensor) else matrix.new_tensor(df)
        if nu.shape != batch_shape:
            try:
                batch_shape = torch.broadcast_shapes(batch_shape, nu.shape)
            except RuntimeError as err:
                raise ValueError(
                    f"Incompatible batch shapes: df {tuple(nu.shape)}, {name} {tuple(matrix.shape)}"
                ) from err
            nu = nu.expand(batch_shape)
            matrix = matrix.expand(batch_shape + matrix.shape[-2:])
        self.df: Tensor = nu
        setattr(self, name, matrix)
        self._given = name
        super().__init__(batch_shape, matrix.shape[-2:], validate_args=validate_args)
        self._checked = self._validate_args  # the matrix was found positive definite

    @lazy_property
    def _whitening(self) -> tuple[Tensor, RowOp]:
        return _whitening_of(self._given, self.__dict__[self._given], self._checked)

    @lazy_property
    def _unbroadcasted_scale_tril(self) -> Tensor:
        return _scale_tril(self._whitening)

    @lazy_property
    def _half_dfs(self) -> Tensor:
        """:math:`(\\nu - i)/2` for :math:`i = 0, \\dots, p-1`: the Bartlett chi-square halves,
        and the arguments of the multivariate gamma and digamma at :math:`\\nu/2`."""
        p = self._event_shape[-1]
        steps = constant_like(self.df, torch.arange(p, dtype=self.df.dtype, device=self.df.device))
        return (self.df.unsqueeze(-1) - steps) / 2

    @lazy_property
    def _mvlgamma(self) -> Tensor:
        """:math:`\\log\\Gamma_p(\\nu/2)` (no domain check, so no host synchronization)."""
        p = self._event_shape[-1]
        return torch.lgamma(self._half_dfs).sum(-1) + (p * (p - 1) / 4 * _LOG_PI)

    @lazy_property
    def _half_log_det(self) -> Tensor:
        return _half_logdet_of(self._whitening)

    @lazy_property
    def _log_norm(self) -> Tensor:
        """:math:`-\\tfrac{\\nu}{2}(p \\log 2 + \\log|\\Sigma|) - \\log\\Gamma_p(\\nu/2)`."""
        p = self._event_shape[-1]
        return -self.df * (p * _LOG_2 / 2 + self._half_log_det) - self._mvlgamma

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._batch_shape + self._event_shape)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        inverse = torch.cholesky_inverse(self._unbroadcasted_scale_tril)
        return inverse.expand(self._batch_shape + self._event_shape)

    @property
    def mean(self) -> Tensor:
        return self.df[..., None, None] * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        """:math:`(\\nu - p - 1)\\Sigma` where :math:`\\nu > p + 1`, else NaN (as torch)."""
        factor = self.df - (self._event_shape[-1] + 1)
        factor = factor.masked_fill(factor <= 0, math.nan)
        return factor[..., None, None] * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        cov = self.covariance_matrix
        diag = cov.diagonal(dim1=-2, dim2=-1)
        return self.df[..., None, None] * (cov.square() + diag.unsqueeze(-1) * diag.unsqueeze(-2))

    def _bartlett(self, shape: torch.Size, generator: torch.Generator | None) -> Tensor:
        L = self._unbroadcasted_scale_tril
        half_dfs = self._half_dfs.expand(shape[:-1])
        chi = (2 * torch._standard_gamma(half_dfs, generator=generator)).sqrt()
        A = _empty(self._half_dfs, shape, 1).normal_(generator=generator).tril_(-1)
        A = A + torch.diag_embed(chi.clamp(min=torch.finfo(chi.dtype).eps))
        if type(A) is Tensor:
            LA = L @ A
            return LA @ LA.mT
        # DTensor draws: a batched matmul would flatten (sample, batch) into one dim that
        # DTensor cannot shard; products and sums keep the batch sharding
        LA = (L.unsqueeze(-1) * A.unsqueeze(-3)).sum(-2)
        return (LA.unsqueeze(-2) * LA.unsqueeze(-3)).sum(-1)

    def rsample(
        self,
        sample_shape: ShapeLike = EMPTY,
        max_try_correction: int | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Bartlett draws; a draw that is numerically singular (no Cholesky factor, so
        ``log_prob`` would be ``-inf``) is redrawn, up to ``max_try_correction`` times (default
        10; 3 when tracing), with a warning."""
        if max_try_correction is None:
            max_try_correction = 3 if torch._C._get_tracing_state() or is_tracing() else 10
        shape = self._extended_shape(sample_shape)
        sample = self._bartlett(shape, generator)
        if max_try_correction <= 0:
            return sample
        singular = torch.linalg.cholesky_ex(sample.detach()).info != 0
        if is_tracing() or not sample.is_cpu:  # no host read: fixed masked redraws, no warning
            for _ in range(max_try_correction):
                redraw = self._bartlett(shape, generator)
                sample = torch.where(singular[..., None, None], redraw, sample)
                singular = torch.linalg.cholesky_ex(sample.detach()).info != 0
            return sample
        if singular.any():
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                redraw = self._bartlett(shape, generator)
                sample = torch.where(singular[..., None, None], redraw, sample)
                singular = torch.linalg.cholesky_ex(sample.detach()).info != 0
                if not singular.any():
                    break
        return sample

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        """From one Cholesky factor :math:`X = L_X L_X^\\top`: :math:`\\log|X|` from its diagonal,
        :math:`\\operatorname{tr}(\\Sigma^{-1} X) = \\|L^{-1} L_X\\|_F^2`; ``-inf`` off the
        positive-definite cone."""
        p = self._event_shape[-1]
        chol, info = torch.linalg.cholesky_ex(value)
        log_det = chol.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        trace = _whitened_norm(self._whitening, chol)
        result = self._log_norm + (self.df - (p + 1)) * log_det - trace / 2
        return result.masked_fill(info != 0, -math.inf)

    def entropy(self) -> Tensor:
        p = self._event_shape[-1]
        mvdigamma = torch.digamma(self._half_dfs).sum(-1)
        return (
            (p + 1) * (p * _LOG_2 / 2 + self._half_log_det)
            + self._mvlgamma
            - (self.df - (p + 1)) / 2 * mvdigamma
            + self.df * (p / 2)
        )


@register_kl(Wishart, Wishart)
def _kl_wishart_wishart(p: Wishart, q: Wishart) -> Tensor:
    r""":math:`\tfrac{\nu_q}{2}\log\frac{|\Sigma_q|}{|\Sigma_p|}
    + \tfrac{\nu_p}{2}\big(\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) - p\big)
    + \log\frac{\Gamma_p(\nu_q/2)}{\Gamma_p(\nu_p/2)}
    + \tfrac{\nu_p - \nu_q}{2}\psi_p(\nu_p/2)`."""
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two Wisharts with different event shapes cannot be computed"
        )
    trace = _whitened_norm(q._whitening, p._unbroadcasted_scale_tril) - p.event_shape[-1]
    mvdigamma = torch.digamma(p._half_dfs).sum(-1)
    return (
        q.df * (q._half_log_det - p._half_log_det)
        + p.df / 2 * trace
        + (q._mvlgamma - p._mvlgamma)
        + (p.df - q.df) / 2 * mvdigamma
    )
