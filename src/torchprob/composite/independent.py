"""Independent: reinterpret batch dimensions of a distribution as event dimensions."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution
from ..kl import kl_divergence, register_kl
from ..transforms import _sum_rightmost
from ..utils import EMPTY, ShapeLike

__all__ = ["Independent"]


class Independent(Distribution):
    r"""The product of the base distribution over its ``reinterpreted_batch_ndims`` rightmost batch
    dimensions, which become event dimensions:

    .. math:: \log p(x) = \sum_{i \in \text{reinterpreted dims}} \log p_{\text{base}}(x_i).

    ``Independent(Normal(loc, scale), 1)`` with ``loc`` of shape ``(B, D)`` is a diagonal
    multivariate normal with batch shape ``(B,)`` and event shape ``(D,)``.

    Args:
        base_distribution: the distribution whose batch dimensions are reinterpreted.
        reinterpreted_batch_ndims: how many rightmost batch dimensions become event dimensions.
        validate_args: check values passed to ``log_prob`` (default: the process-wide setting).

    Example::

        >>> from torchprob import Normal
        >>> d = Independent(Normal(torch.zeros(4, 3), torch.ones(4, 3)), 1)
        >>> d.batch_shape, d.event_shape
        (torch.Size([4]), torch.Size([3]))
    """

    arg_constraints: dict[str, constraints.Constraint] = {}

    def __init__(
        self,
        base_distribution: Distribution,
        reinterpreted_batch_ndims: int,
        validate_args: bool | None = None,
    ) -> None:
        base_batch = base_distribution.batch_shape
        if reinterpreted_batch_ndims > len(base_batch):
            raise ValueError(
                "Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), "
                f"actual {reinterpreted_batch_ndims} vs {len(base_batch)}"
            )
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        split = len(base_batch) - reinterpreted_batch_ndims
        event_shape = base_batch[split:] + base_distribution.event_shape
        super().__init__(base_batch[:split], event_shape, validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self) -> bool:  # type: ignore[override]
        if self.reinterpreted_batch_ndims > 0:
            return False
        return self.base_dist.has_enumerate_support

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        support = self.base_dist.support
        if self.reinterpreted_batch_ndims:
            return constraints.independent(support, self.reinterpreted_batch_ndims)
        return support

    @property
    def mean(self) -> Tensor:
        return self.base_dist.mean

    @property
    def mode(self) -> Tensor:
        return self.base_dist.mode

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance

    def _rewrap(self, base: Distribution) -> Independent:
        new = Independent(base, self.reinterpreted_batch_ndims, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def expand(self, batch_shape: ShapeLike, _instance: Any = None) -> Independent:
        extra = self.event_shape[: self.reinterpreted_batch_ndims]
        new = self._rewrap(self.base_dist.expand(torch.Size(batch_shape) + extra))
        if _instance is not None:
            _instance.__dict__.update(new.__dict__)
            return _instance
        return new

    def __getitem__(self, index: Any) -> Independent:
        index = self._batch_index(index)
        if any(item is Ellipsis for item in index):
            index = index + (slice(None),) * self.reinterpreted_batch_ndims
        return self._rewrap(self.base_dist[index])

    def to(self, device: Any = None, dtype: torch.dtype | None = None) -> Independent:
        return self._rewrap(self.base_dist.to(device=device, dtype=dtype))

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        if generator is None:
            return self.base_dist.sample(sample_shape)
        return self.base_dist.sample(sample_shape, generator=generator)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        if generator is None:
            return self.base_dist.rsample(sample_shape)
        return self.base_dist.rsample(sample_shape, generator=generator)

    def log_prob(self, value: Tensor) -> Tensor:
        # A validating base checks the same value against the same support (reinterpreted
        # dimensions included): the value is checked once, here only if the base does not.
        base = self.base_dist
        if self._validate_args and not base._validate_args:
            self._validate_sample(value)
        return _sum_rightmost(base.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return _sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Enumeration over cartesian product is not implemented")
        return self.base_dist.enumerate_support(expand=expand)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    """The base distributions' KL summed over the reinterpreted dimensions."""
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(
            "KL between Independent distributions with different reinterpreted_batch_ndims"
        )
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)
