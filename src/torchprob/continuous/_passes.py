"""Helpers for log-densities of big tensors: fewer memory passes where no graph is needed.

On a tensor of millions of elements each elementwise op costs a pass over memory, and each fresh
result an allocation (page faults included): a ``log_prob`` that reuses one fresh buffer with
in-place ops, and skips a support mask that a single host read shows to be all true, runs within
a few copies of its input.  These helpers decide when that is safe.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..utils import is_tracing

__all__ = ["LARGE", "host_min", "host_span", "scalars", "untracked"]

# From this many elements a host read (a reduction, about 1 µs of overhead) pays for the passes
# it saves; below it the formulas take their few-op route, which matters at batch shape ().
LARGE = 1 << 16


def untracked(*tensors: Tensor) -> bool:
    """Whether autograd needs none of ``tensors``: then fresh intermediates may be overwritten."""
    return not torch.is_grad_enabled() or not any(t.requires_grad for t in tensors)


def _in_functorch() -> bool:
    """Whether a torch.func transform (vmap, grad, jvp...) is active: no host reads and no
    ``out=`` ops there."""
    peek = getattr(getattr(torch._C, "_functorch", None), "peek_interpreter_stack", None)
    return peek is not None and peek() is not None


def _readable(t: Tensor) -> bool:
    """A large plain CPU tensor (not a DTensor, a fake or traced tensor, an accelerator tensor,
    a functorch-wrapped tensor), whose extremes can be read on the host without a device
    synchronization."""
    return (
        t.numel() >= LARGE
        and type(t) in (Tensor, torch.nn.Parameter)
        and t.is_cpu
        and not is_tracing()
        and not _in_functorch()
    )


def host_min(t: Tensor) -> float | None:
    """The minimum of a large plain CPU tensor (NaN if it holds one, so that every comparison
    with it is false), or ``None`` where that is not a cheap host read."""
    if not _readable(t):
        return None
    try:
        return t.detach().min().item()
    except RuntimeError:  # a functorch-batched tensor (inside vmap): decide per element
        return None


def host_span(t: Tensor) -> tuple[float, float] | None:
    """``(min, max)`` of a large plain CPU tensor in one pass (NaN if it holds one), or
    ``None`` where that is not a cheap host read."""
    if not _readable(t):
        return None
    try:
        low, high = torch.aminmax(t.detach())
        return low.item(), high.item()
    except RuntimeError:  # a functorch-batched tensor (inside vmap): decide per element
        return None


def scalars(value: Tensor, *params: Tensor) -> list[float] | None:
    """The one-element ``params`` as Python numbers where ``value`` is a large plain floating
    CPU tensor that no graph needs and the parameters broadcast to its shape (so that a chain of
    in-place ops on a fresh buffer gives the shape and dtype of the per-element formulas), else
    ``None``."""
    if not (_readable(value) and value.is_floating_point() and untracked(value, *params)):
        return None
    dim = value.dim()
    for p in params:
        if p.numel() != 1 or p.dim() > dim or type(p) not in (Tensor, torch.nn.Parameter):
            return None
        if not p.is_cpu or (p.dim() and p.dtype != value.dtype):  # (type promotion)
            return None
    try:
        return [p.item() for p in params]
    except RuntimeError:  # a functorch-batched parameter (inside vmap)
        return None
