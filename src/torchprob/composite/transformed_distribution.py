r"""The distribution of ``f(X)`` for ``X`` from a base distribution and ``f`` a chain of
:class:`~torchprob.transforms.Transform`\ s."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import constraints
from ..distribution import Distribution, validate_sample
from ..transforms import AffineTransform, Transform, _chain_event_dims, _sum_rightmost
from ..utils import EMPTY, ShapeLike
from .independent import Independent

__all__ = ["TransformedDistribution"]


class TransformedDistribution(Distribution):
    r"""The distribution of :math:`Y = f(X)`, :math:`X` drawn from ``base_distribution`` and
    :math:`f = f_n \circ \dots \circ f_1` the ``transforms`` applied in order:

    .. math:: \log p_Y(y) = \log p_X(x) - \sum_k \log\Big|\det \frac{\partial f_k}{\partial
        x_{k-1}}\Big|, \qquad x = f^{-1}(y).

    The event shape is the largest the base and the transforms need (transforms may couple
    dimensions the base treats as independent); the base is expanded or reinterpreted to match.
    ``cdf``/``icdf`` and the tail functions need monotone transforms (a ``sign``): through a
    decreasing chain the cdf of ``Y`` is the survival function of ``X``.

    Args:
        base_distribution: the distribution of :math:`X`.
        transforms: a :class:`~torchprob.transforms.Transform` or a list of them.
        validate_args: check values passed to ``log_prob``/``cdf`` (default: the process-wide
            setting).

    Example::

        >>> from torchprob.continuous.normal import Normal
        >>> from torchprob.transforms import ExpTransform
        >>> d = TransformedDistribution(Normal(0.0, 1.0), [ExpTransform()])  # log-normal
        >>> d.cdf(torch.tensor(1.0))
        tensor(0.5000)

    Subclasses may skip this ``__init__`` and provide ``base_dist`` and ``transforms`` as
    (lazy) properties instead; every method here reads only those two attributes and the shapes.
    """

    arg_constraints: dict[str, constraints.Constraint] = {}

    def __init__(
        self,
        base_distribution: Distribution,
        transforms: Transform | list[Transform],
        validate_args: bool | None = None,
    ) -> None:
        if isinstance(transforms, Transform):
            transforms = [transforms]
        elif isinstance(transforms, (list, tuple)):
            if not all(isinstance(t, Transform) for t in transforms):
                raise ValueError("transforms must be a Transform or a list of Transforms")
            if isinstance(transforms, tuple):
                transforms = list(transforms)
        else:
            raise ValueError(f"transforms must be a Transform or a list, but was {transforms!r}")
        self.transforms = transforms

        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        base_event_dim = len(base_distribution.event_shape)
        domain_dim, codomain_dim = _chain_event_dims(transforms)
        if len(base_shape) < domain_dim:
            raise ValueError(
                f"base_distribution needs a shape of at least {domain_dim} dimensions for these "
                f"transforms, but has shape {tuple(base_shape)}"
            )
        forward_shape: Any = base_shape
        for t in transforms:
            forward_shape = t.forward_shape(forward_shape)
        expanded_shape = forward_shape
        for t in reversed(transforms):
            expanded_shape = t.inverse_shape(expanded_shape)
        if expanded_shape != base_shape:  # transform parameters broadcast the batch
            base_distribution = base_distribution.expand(
                expanded_shape[: len(expanded_shape) - base_event_dim]
            )
        if domain_dim > base_event_dim:
            # the wrapper checks nothing itself: the base and this distribution validate
            base_distribution = Independent(
                base_distribution, domain_dim - base_event_dim, validate_args=False
            )
        self.base_dist = base_distribution

        event_dim = max(codomain_dim, base_event_dim + codomain_dim - domain_dim)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args=validate_args)

    # ----------------------------------------------------------------------------------------
    # Rebuilding: expand, indexing, to
    # ----------------------------------------------------------------------------------------

    def expand(
        self, batch_shape: ShapeLike, _instance: Distribution | None = None
    ) -> TransformedDistribution:
        """A view with the base distribution expanded (no copy) to give ``batch_shape``."""
        if _instance is None and self._init_kwargs():  # a subclass with a parameter table
            return super().expand(batch_shape)  # type: ignore[return-value]
        new = self._get_checked_instance(TransformedDistribution, _instance)
        batch_shape = torch.Size(batch_shape)
        shape: Any = batch_shape + self.event_shape
        transforms = self.transforms
        for t in reversed(transforms):
            shape = t.inverse_shape(shape)
        base = self.base_dist
        new.base_dist = base.expand(shape[: len(shape) - len(base.event_shape)])
        new.transforms = transforms
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _batch_free(self) -> bool:
        """Whether the transforms hold no batch-shaped parameters (the chain maps one event of
        the base to one event of ours), so that the batch lives in the base alone."""
        shape: Any = self.base_dist.event_shape
        for t in self.transforms:
            shape = t.forward_shape(shape)
        return tuple(shape) == tuple(self.event_shape)

    def _with_base(self, base: Distribution, transforms: list[Transform]) -> Distribution:
        new = self.__new__(type(self))
        new.base_dist = base
        new.transforms = transforms
        Distribution.__init__(new, base.batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def __getitem__(self, index: Any) -> Distribution:
        """The distribution of the indexed batch (indexes the base distribution).

        Raises ``NotImplementedError`` when a transform has batch-shaped parameters (an
        ``AffineTransform`` whose ``loc`` varies along the batch): index the base and rebuild.
        """
        if self._init_kwargs():
            return super().__getitem__(index)
        if not self._batch_free():
            raise NotImplementedError(
                f"cannot index a {type(self).__name__} whose transforms have batch-shaped "
                "parameters; index the base distribution and the parameters, then rebuild"
            )
        return self._with_base(self.base_dist[index], self.transforms)

    def to(
        self,
        device: torch.device | str | torch.dtype | None = None,
        dtype: torch.dtype | None = None,
    ) -> Distribution:
        """The same distribution with the base and the transforms' tensors moved."""
        if isinstance(device, torch.dtype):
            device, dtype = None, device
        if self._init_kwargs():
            return super().to(device, dtype)
        moved = [t._to(device, dtype) for t in self.transforms]
        return self._with_base(self.base_dist.to(device=device, dtype=dtype), moved)

    # ----------------------------------------------------------------------------------------
    # Properties
    # ----------------------------------------------------------------------------------------

    @constraints.dependent_property(is_discrete=False)
    def support(self) -> constraints.Constraint | None:
        transforms = self.transforms
        if not transforms:
            return self.base_dist.support
        support = transforms[-1].codomain
        extra = len(self.event_shape) - support.event_dim
        return constraints.independent(support, extra) if extra > 0 else support

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    # ----------------------------------------------------------------------------------------
    # Sampling
    # ----------------------------------------------------------------------------------------

    def sample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        with torch.no_grad():
            if generator is None:
                x = self.base_dist.sample(sample_shape)
            else:
                x = self.base_dist.sample(sample_shape, generator=generator)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        if generator is None:
            x = self.base_dist.rsample(sample_shape)
        else:
            x = self.base_dist.rsample(sample_shape, generator=generator)
        for t in self.transforms:
            x = t(x)
        return x

    # ----------------------------------------------------------------------------------------
    # Densities
    # ----------------------------------------------------------------------------------------

    def _log_prob_plan(self) -> tuple[list[tuple[Transform, int]], int]:
        """``[(transform, dims to sum out of its log-det-Jacobian)]`` from the last transform to
        the first, and the dims to sum out of the base log-density; computed once."""
        plan = self.__dict__.get("_tp_plan")
        if plan is None:
            steps, event_dim = [], len(self.event_shape)
            for t in reversed(self.transforms):
                domain_dim = t.domain.event_dim
                event_dim += domain_dim - t.codomain.event_dim
                steps.append((t, event_dim - domain_dim))
            plan = self.__dict__["_tp_plan"] = (steps, event_dim - len(self.base_dist.event_shape))
        return plan

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        steps, base_dims = self._log_prob_plan()
        y = value
        log_det: Any = None
        for t, dims in steps:
            x = t.inv(y)
            if not dims and type(t) is AffineTransform and not t._event_dim:
                # log|scale| unexpanded: the base log-density carries the full shape
                term = t._log_abs_scale()
            else:
                term = t.log_abs_det_jacobian(x, y)
                if dims:
                    term = _sum_rightmost(term, dims)
            log_det = term if log_det is None else log_det + term
            y = x
        log_prob = self.base_dist.log_prob(y)
        if base_dims:
            log_prob = _sum_rightmost(log_prob, base_dims)
        return log_prob if log_det is None else log_prob - log_det

    # ----------------------------------------------------------------------------------------
    # The cdf family (monotone transforms)
    # ----------------------------------------------------------------------------------------

    def _sign(self) -> int | Tensor:
        sign: int | Tensor = 1
        for t in self.transforms:
            sign = sign * t.sign
        return sign

    def _tail(self, value: Tensor, same: str, flipped: str) -> Tensor:
        """Base tail function ``same`` at ``x = f^{-1}(value)`` through an increasing chain,
        ``flipped`` through a decreasing one."""
        for t in reversed(self.transforms):
            value = t.inv(value)
        sign = self._sign()
        base = self.base_dist
        if not isinstance(sign, Tensor):
            return getattr(base, same if sign > 0 else flipped)(value)
        return torch.where(sign > 0, getattr(base, same)(value), getattr(base, flipped)(value))

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return self._tail(value, "cdf", "survival_function")

    @validate_sample
    def log_cdf(self, value: Tensor) -> Tensor:
        return self._tail(value, "log_cdf", "log_survival_function")

    @validate_sample
    def survival_function(self, value: Tensor) -> Tensor:
        return self._tail(value, "survival_function", "cdf")

    @validate_sample
    def log_survival_function(self, value: Tensor) -> Tensor:
        return self._tail(value, "log_survival_function", "log_cdf")

    def icdf(self, value: Tensor) -> Tensor:
        sign = self._sign()
        if not isinstance(sign, Tensor):
            if sign < 0:
                value = 1 - value
        else:
            value = torch.where(sign > 0, value, 1 - value)
        x = self.base_dist.icdf(value)
        for t in self.transforms:
            x = t(x)
        return x


class DirectTransformedDistribution(TransformedDistribution):
    """Base of the families that torch builds as a ``TransformedDistribution`` but that
    torchprob computes directly: they skip ``TransformedDistribution.__init__``, store their own
    parameters (so the generic parameter-table machinery of :class:`Distribution` rebuilds them)
    and provide ``base_dist``/``transforms`` lazily, only for users who read them."""

    expand = Distribution.expand  # type: ignore[assignment]
    __getitem__ = Distribution.__getitem__
    to = Distribution.to
    sample = Distribution.sample
