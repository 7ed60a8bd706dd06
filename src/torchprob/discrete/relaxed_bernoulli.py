"""The relaxed (Concrete) Bernoulli distribution and its logit, ``LogitRelaxedBernoulli``."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import constraints
from ..continuous._passes import LARGE, host_span, scalars
from ..distribution import Distribution, validate_sample
from ..utils import EMPTY, ShapeLike, host_number, lazy_property
from ._binary import BinaryParameterized

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


class _Tempered(Distribution):
    """A ``temperature`` beside the parameters of ``arg_constraints``: positive, and broadcast
    with the parameters' batch shape (leading size-1 dimensions beyond that shape are dropped,
    so torch's ``temperature=torch.tensor([2.2])`` keeps the batch shape of the probabilities)."""

    temperature: Tensor
    _temperature: Tensor  # the same values, of a shape that broadcasts to batch_shape

    def _set_temperature(
        self, temperature: Tensor | float, like: Tensor, batch: torch.Size
    ) -> torch.Size:
        """Store ``temperature`` (a number becomes a tensor like ``like``); return the batch
        shape: the parameters' ``batch`` broadcast with the temperature's shape."""
        if not isinstance(temperature, Tensor):
            temperature = torch.tensor(temperature, dtype=like.dtype, device=like.device)
        self.temperature = self._temperature = temperature
        shape = temperature.shape
        if not shape or shape == batch:
            return batch
        extra = len(shape) - len(batch)
        if extra > 0 and all(s == 1 for s in shape[:extra]):
            self._temperature = temperature.reshape(shape[extra:])
        try:
            return torch.broadcast_shapes(self._temperature.shape, batch)
        except RuntimeError:
            raise ValueError(
                f"temperature of shape {tuple(shape)} does not broadcast with the batch shape "
                f"{tuple(batch)} of the parameters of {type(self).__name__}"
            ) from None

    def _init_kwargs(self) -> dict[str, Any]:
        kwargs = super()._init_kwargs()
        kwargs["temperature"] = self._temperature
        return kwargs

    def _extra_param_checks(self) -> list:
        t = self._temperature
        number = host_number(t)
        ok: Tensor | bool = number > 0 if number is not None else t > 0
        return [("temperature", constraints.positive, t, ok)]


class _RelaxedBinary(BinaryParameterized, _Tempered):
    """``temperature`` plus exactly one of ``probs``/``logits`` (the other lazy), as Bernoulli."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    has_rsample = True

    def __init__(
        self,
        temperature: Tensor | float,
        probs: Tensor | float | None = None,
        logits: Tensor | float | None = None,
        validate_args: bool | None = None,
    ) -> None:
        self._store_binary(probs, logits)
        batch = self._set_temperature(temperature, self._param, self._param.shape)
        super().__init__(batch, validate_args=validate_args)

    def _logit_draw(self, sample_shape: ShapeLike, generator: torch.Generator | None) -> Tensor:
        """:math:`(\\ell + L) / \\lambda` with logistic noise :math:`L = \\mathrm{logit}(U)`, the
        uniform clamped to :math:`[\\epsilon, 1 - \\epsilon]` as in torch."""
        logits = self.logits
        u = logits.new_empty(self._extended_shape(sample_shape)).uniform_(generator=generator)
        noise = u.logit_(torch.finfo(u.dtype).eps)
        return (noise + logits) / self._temperature


class LogitRelaxedBernoulli(_RelaxedBinary):
    r"""The logit :math:`x = \log\frac{y}{1-y}` of a :class:`RelaxedBernoulli` variable: a
    logistic distribution with location :math:`\ell/\lambda` and scale :math:`1/\lambda`,

    .. math:: p(x) = \lambda\, \frac{e^{\ell - \lambda x}}{(1 + e^{\ell - \lambda x})^2}.

    Args:
        temperature: :math:`\lambda > 0`, broadcastable with the parameters.
        probs: :math:`p = \sigma(\ell)`.
        logits: log-odds :math:`\ell`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> d = LogitRelaxedBernoulli(torch.tensor(1.0), logits=torch.tensor(0.0))
        >>> d.cdf(torch.tensor(0.0))
        tensor(0.5000)
    """

    support = constraints.real

    @property
    def mean(self) -> Tensor:
        return self.logits / self._temperature

    @property
    def mode(self) -> Tensor:
        return self.logits / self._temperature

    @property
    def variance(self) -> Tensor:
        return (math.pi**2 / 3 / self._temperature.square()).expand(self._batch_shape)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        return self._logit_draw(sample_shape, generator)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        lam = self._temperature
        d = torch.addcmul(self.logits, lam, value, value=-1)  # l - lam x
        return torch.sub(d, F.softplus(d, threshold=40), alpha=2) + lam.log()

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return torch.sigmoid(torch.addcmul(-self.logits, self._temperature, value))

    def icdf(self, value: Tensor) -> Tensor:
        return (torch.logit(value) + self.logits) / self._temperature

    def entropy(self) -> Tensor:
        return (2 - self._temperature.log()).expand(self._batch_shape)


class RelaxedBernoulli(_RelaxedBinary):
    r"""Relaxed Bernoulli (binary Concrete) distribution on :math:`(0, 1)`: the sigmoid of a
    :class:`LogitRelaxedBernoulli` variable; as :math:`\lambda \to 0` it tends to
    Bernoulli(:math:`p`). With :math:`\alpha = e^\ell`,

    .. math:: p(y) = \frac{\lambda \alpha\, y^{-\lambda-1} (1-y)^{-\lambda-1}}
        {\left(\alpha y^{-\lambda} + (1-y)^{-\lambda}\right)^2}.

    Samples are clamped into :math:`[\text{tiny}, 1-\epsilon]` as in torch.

    Args:
        temperature: :math:`\lambda > 0`, broadcastable with the parameters.
        probs: :math:`p = \sigma(\ell)`.
        logits: log-odds :math:`\ell`.
        validate_args: check parameters and values (default: the process-wide setting).

    Example::

        >>> RelaxedBernoulli(torch.tensor(0.5), probs=torch.tensor(0.3)).cdf(torch.tensor(0.5))
        tensor(0.7000)
    """

    support = constraints.unit_interval

    @lazy_property
    def base_dist(self) -> LogitRelaxedBernoulli:
        """The :class:`LogitRelaxedBernoulli` whose sigmoid this is."""
        name = "probs" if self._from_probs else "logits"
        param = {name: self.__dict__[name]}
        return LogitRelaxedBernoulli(self.temperature, **param, validate_args=False)

    def rsample(
        self, sample_shape: ShapeLike = EMPTY, *, generator: torch.Generator | None = None
    ) -> Tensor:
        finfo = torch.finfo(self._param.dtype)
        y = torch.sigmoid(self._logit_draw(sample_shape, generator))
        return y.clamp(min=finfo.tiny, max=1 - finfo.eps)

    @validate_sample
    def log_prob(self, value: Tensor) -> Tensor:
        """:math:`\\log\\lambda - |d| - 2\\log(1 + e^{-|d|}) - \\log y - \\log(1-y)` with
        :math:`d = \\ell - \\lambda\\,\\mathrm{logit}(y)`, written as a minimum of two sides
        that stay exact (``0``, ``inf`` or finite) at :math:`y \\in \\{0, 1\\}`."""
        lam, logits = self._temperature, self.logits
        if value.numel() >= LARGE and (fast := self._log_prob_big(value)) is not None:
            return fast
        log_y, log_1my = value.log(), torch.log1p(-value)
        d = torch.addcmul(logits, lam, log_1my - log_y)
        up, down = lam + 1, lam - 1
        low_side = torch.addcmul(torch.special.xlogy(down, value) - logits, up, log_1my, value=-1)
        high_side = torch.addcmul(torch.special.xlog1py(down, -value) + logits, up, log_y, value=-1)
        tail = F.softplus(-d.abs(), threshold=40)
        return torch.sub(torch.minimum(low_side, high_side), tail, alpha=2) + lam.log()

    def _log_prob_big(self, value: Tensor) -> Tensor | None:
        r"""Big, no graph, one-element parameters, values inside :math:`(0, 1)` (a host read):
        the two sides of :meth:`log_prob` in three buffers, with :math:`2|d|` their difference
        and ``softplus`` at ``beta = -1/2`` giving :math:`-2\log(1 + e^{-|d|})` in one pass."""
        numbers = scalars(value, self._temperature, self.logits)
        valid = numbers is not None and numbers[0] > 0 and math.isfinite(numbers[1])
        span = host_span(value) if valid else None
        if numbers is None or span is None or not (0 < span[0] and span[1] < 1):
            return None
        lam, logit = numbers
        shift = math.log(lam)
        log_y, log_1my = torch.log(value), torch.neg(value).log1p_()
        high = torch.add(torch.tensor(shift + logit, dtype=value.dtype), log_1my, alpha=lam - 1)
        high.sub_(log_y, alpha=lam + 1)  # log lam + l - (lam + 1) log y + (lam - 1) log(1 - y)
        low = torch.add(
            torch.tensor(shift - logit, dtype=value.dtype), log_y, alpha=lam - 1, out=log_y
        )
        low.sub_(log_1my, alpha=lam + 1)
        tail = torch.sub(high, low, out=log_1my).abs_()  # 2 |d|
        tail = torch._C._nn.softplus(tail, -0.5, 40, out=tail)  # type: ignore[call-arg]
        return torch.minimum(high, low, out=high).add_(tail)

    @validate_sample
    def cdf(self, value: Tensor) -> Tensor:
        return torch.sigmoid(torch.addcmul(-self.logits, self._temperature, torch.logit(value)))

    def icdf(self, value: Tensor) -> Tensor:
        return torch.sigmoid((torch.logit(value) + self.logits) / self._temperature)
