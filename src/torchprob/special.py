r"""Special functions that torch lacks or gets wrong, in torch ops (differentiable, batched)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["ndtr"]

_SQRT_HALF = math.sqrt(0.5)


def ndtr(z: Tensor) -> Tensor:
    r"""Standard normal cdf :math:`\Phi(z) = \tfrac12 \operatorname{erfc}(-z/\sqrt2)`.

    Through ``erfc`` it keeps full relative precision in the lower tail down to the smallest
    subnormal (:math:`z \approx -38.5` in float64), where ``torch.special.ndtr`` (computed as
    :math:`\tfrac12(1 + \operatorname{erf})`) returns 0 already at :math:`z = -8.3`.
    """
    return 0.5 * torch.special.erfc(z * -_SQRT_HALF)
