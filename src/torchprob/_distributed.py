"""Support for ``torch.distributed`` DTensor parameters, through PyTorch's own engine.

A distribution whose parameters are DTensors runs every tensor op through DTensor's sharding
propagation; torchprob adds only what that engine lacks:

* sharding rules (``register_sharding``) for the elementwise random ops DTensor has none for
  (``_standard_gamma``, ``poisson``, ``binomial`` and the gamma/Dirichlet gradient ops);
* a per-shard random stream: on a CPU mesh DTensor runs random ops on each rank's local shard
  with that rank's generator, so ranks seeded alike would draw the same noise for different
  shards. ``sample``/``rsample`` therefore draw from a generator derived from the given one (or
  the default one) and the shard's mesh coordinates: every shard gets its own stream, a fixed
  seed reproduces a run, and replicated placements keep identical draws;
* reductions along a sharded class dimension (``logsumexp``, ``argmax``) composed from local
  reductions and one all-reduce of a batch-sized tensor, where DTensor's own would gather the
  whole class dimension.

Nothing here runs, and nothing is imported from ``torch.distributed``, until a DTensor is seen
(or :func:`enable` is called).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

__all__ = ["enable", "is_dtensor"]

_enabled = False
_DTensor: Any = None  # the DTensor class, once torch.distributed.tensor is imported

_RANDOM_OPS = (
    "_standard_gamma",
    "_standard_gamma_grad",
    "_dirichlet_grad",
    "_sample_dirichlet",
    "poisson",
    "binomial",
)
_INPLACE_RANDOM_OPS = ("exponential_", "cauchy_", "geometric_", "log_normal_")
_EMPTY = torch.Size()
_MIX = 0x9E3779B97F4A7C15  # odd 64-bit constant mixing a shard coordinate into a seed
_SEED_SPAN = 2**62


def is_dtensor(t: Any) -> bool:
    """Whether ``t`` is a ``torch.distributed.tensor.DTensor`` (without importing it)."""
    if type(t) is Tensor:
        return False
    if _DTensor is None:
        module = sys.modules.get("torch.distributed.tensor")
        if module is None:
            return False
        _load(module)
    return isinstance(t, _DTensor)


def _load(module: Any) -> None:
    global _DTensor
    _DTensor = module.DTensor


def enable() -> None:
    """Register the missing sharding rules and the per-shard random streams (idempotent).

    Called automatically when a distribution sees a DTensor; call it yourself before building
    distributions from DTensors with validation off in a process that imported torchprob before
    ``torch.distributed.tensor``.
    """
    global _enabled
    if _enabled:
        return
    import torch.distributed.tensor as dt

    _load(dt)
    _register_rules()
    from .distribution import Distribution

    _wrap_sampling(Distribution)
    _enabled = True


def _register_rules() -> None:
    from torch.distributed.tensor import Replicate, Shard
    from torch.distributed.tensor.experimental import register_sharding

    def pointwise(*args: Any, **kwargs: Any) -> list:
        """Elementwise ops: all inputs replicated, or all sharded alike along one dimension."""
        specs = [a if hasattr(a, "placements") else None for a in args]
        ndim = max(len(s.shape) for s in specs if s is not None)
        choices: list[tuple[list[Any], list[Any]]] = [
            ([Replicate()], [Replicate() if s is not None else None for s in specs])
        ]
        for dim in range(ndim):
            inputs = [
                None if s is None else Shard(dim) if len(s.shape) == ndim else Replicate()
                for s in specs
            ]
            choices.append(([Shard(dim)], inputs))
        return choices

    def in_place(matrix_dims: int) -> Callable[..., list]:
        """In-place ops: the output keeps the input's placement, sharded along any dimension
        but the last ``matrix_dims`` (2 for ``tril_``/``triu_``, 0 for elementwise fills)."""

        def rule(target: Any, *args: Any, **kwargs: Any) -> list:
            extra = [None] * len(args)
            shardable = range(len(target.shape) - matrix_dims)
            choices: list[tuple[list[Any], list[Any]]] = [([Replicate()], [Replicate(), *extra])]
            choices += [([Shard(d)], [Shard(d), *extra]) for d in shardable]
            return choices

        return rule

    aten = torch.ops.aten
    for name in _RANDOM_OPS:
        register_sharding(getattr(aten, name).default)(pointwise)
    for name in _INPLACE_RANDOM_OPS:
        register_sharding(getattr(aten, name).default)(in_place(0))
    register_sharding([aten.tril_.default, aten.triu_.default])(in_place(2))

    # DTensor replicates these matrix ops outright (a gather of the whole batch; and an in-place
    # write through a replicated ``diagonal`` view is lost): shard them along batch dimensions.
    def batch_choices(ndim: int, matrix: tuple[int, ...], out: Callable[[int], int]) -> list:
        choices: list[tuple[list[Any], list[Any]]] = [([Replicate()], [Replicate()])]
        batch = [d for d in range(ndim) if d not in matrix]
        choices += [([Shard(out(i))], [Shard(d)]) for i, d in enumerate(batch)]
        return choices

    def triangle_out(x: Any, diagonal: int = 0) -> list:
        n = len(x.shape)
        return [(o, i + [None]) for o, i in batch_choices(n, (n - 2, n - 1), lambda i: i)]

    def diagonal(x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> list:
        n = len(x.shape)
        matrix = (dim1 % n, dim2 % n)
        return [(o, i + [None] * 3) for o, i in batch_choices(n, matrix, lambda i: i)]

    def diag_embed(x: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> list:
        n = len(x.shape)
        matrix = (dim1 % (n + 1), dim2 % (n + 1))
        places = [d for d in range(n + 1) if d not in matrix]  # where x's batch dims land
        choices = batch_choices(n, (n - 1,), places.__getitem__)
        return [(o, i + [None] * 3) for o, i in choices]

    register_sharding([aten.tril.default, aten.triu.default])(triangle_out)
    register_sharding(aten.diagonal.default)(diagonal)
    register_sharding(aten.diag_embed.default)(diag_embed)


# ----------------------------------------------------------------------------------------------
# Per-shard random streams
# ----------------------------------------------------------------------------------------------


def _dtensors(obj: Any, found: list) -> None:
    for value in vars(obj).values():
        if type(value) is not Tensor and is_dtensor(value):
            found.append(value)
        elif hasattr(value, "_batch_shape") and hasattr(value, "__dict__"):  # inner distribution
            _dtensors(value, found)


_depth = 0  # > 0 while a shard stream is active (nested sample -> rsample calls reuse it)


@contextlib.contextmanager
def _shard_stream(mesh: Any, sharded: set[int], generator: torch.Generator | None) -> Any:
    """Run the body on the default CPU generator reseeded for this shard, then put it back.

    The seed is one draw from ``generator`` (or the default generator; every rank draws the
    same number, so streams stay in step across ranks) mixed with this rank's coordinates along
    the mesh dimensions on which a parameter is sharded (replicated placements keep identical
    draws). The family's ops then run without a generator, as DTensor needs for ``exponential_``
    and friends.
    """
    global _depth
    coordinate = mesh.get_coordinate() or []
    seed = int(torch.randint(_SEED_SPAN, (1,), generator=generator))
    for mesh_dim in sorted(sharded):
        seed = (seed * _MIX + coordinate[mesh_dim] + 1) % _SEED_SPAN
    default = torch.default_generator
    saved = default.get_state()
    default.manual_seed(seed)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        default.set_state(saved)


def _stream_for(d: Any) -> tuple[Any, set[int]] | None:
    """The mesh and sharded mesh dimensions of ``d``'s DTensor parameters on a CPU mesh."""
    found: list = []
    _dtensors(d, found)
    if not found:
        return None
    mesh = found[0].device_mesh
    if mesh.device_type != "cpu":  # DTensor's own offset-based tracker runs accelerator meshes
        return None
    sharded = {i for t in found for i, p in enumerate(t.placements) if p.is_shard()}
    return mesh, sharded


def _shard_aware(method: Callable) -> Callable:
    @functools.wraps(method)
    def draw(self: Any, sample_shape: Any = _EMPTY, *args: Any, **kwargs: Any) -> Tensor:
        stream = None if _depth else _stream_for(self)
        if stream is None:
            return method(self, sample_shape, *args, **kwargs)
        with _shard_stream(*stream, kwargs.pop("generator", None)):
            return method(self, sample_shape, *args, **kwargs)

    draw._shard_aware = True  # type: ignore[attr-defined]
    return draw


def wrap_class(cls: type) -> None:
    """Give ``cls``'s own ``sample``/``rsample`` the per-shard generator step."""
    for name in ("sample", "rsample"):
        method = cls.__dict__.get(name)
        if method is not None and not getattr(method, "_shard_aware", False):
            setattr(cls, name, _shard_aware(method))


def _wrap_sampling(root: type) -> None:
    stack = [root]
    while stack:
        cls = stack.pop()
        wrap_class(cls)
        stack.extend(cls.__subclasses__())


def enabled() -> bool:
    return _enabled


# ----------------------------------------------------------------------------------------------
# Reductions along a sharded dimension
# ----------------------------------------------------------------------------------------------


def _sharded_on(t: Any, dim: int) -> bool:
    """Whether DTensor ``t`` is sharded along tensor dimension ``dim``."""
    dim = dim % t.dim()
    return any(p.is_shard(dim) for p in t.placements)


def logsumexp(x: Tensor, dim: int, keepdim: bool = False) -> Tensor:
    """``x.logsumexp(dim)``; along a sharded dimension of a DTensor, from a local maximum and a
    local sum of exponentials (two all-reduces of the reduced shape, no gather)."""
    if type(x) is Tensor or not is_dtensor(x) or not _sharded_on(x, dim):
        return x.logsumexp(dim, keepdim=keepdim)
    top = x.detach().amax(dim, keepdim=True)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    total = (x - top).exp().sum(dim, keepdim=True).log() + top
    return total if keepdim else total.squeeze(dim)


def argmax(x: Tensor, dim: int = -1) -> Tensor:
    """``x.argmax(dim)`` (the first maximum); along a sharded dimension of a DTensor, from a
    global maximum and the smallest index attaining it (two all-reduces, no gather)."""
    if type(x) is Tensor or not is_dtensor(x) or not _sharded_on(x, dim):
        return x.argmax(dim)
    dim = dim % x.dim()
    index = class_index(x, dim)
    top = x.amax(dim, keepdim=True)
    size = x.shape[dim]
    return torch.where(x == top, index, size).amin(dim)


def class_index(x: Any, dim: int = -1) -> Tensor:
    """``0, 1, ..., n-1`` along ``dim`` of ``x``, shaped to broadcast against it: a replicated
    DTensor for a DTensor ``x`` (DTensor slices it locally to ``x``'s sharding)."""
    dim = dim % x.dim()
    shape = [1] * x.dim()
    shape[dim] = x.shape[dim]
    local = torch.arange(x.shape[dim], device=x.device).view(shape)
    if type(x) is Tensor or not is_dtensor(x):
        return local
    return replicate_like(x, local)


def replicate_like(ref: Any, t: Tensor) -> Tensor:
    """A plain tensor ``t`` as a replicated DTensor on ``ref``'s mesh."""
    from torch.distributed.tensor import Replicate

    placements = [Replicate()] * ref.device_mesh.ndim
    return _DTensor.from_local(t, ref.device_mesh, placements, run_check=False)
