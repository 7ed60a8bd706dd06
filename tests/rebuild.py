"""Rebuild an example's distribution from a flat list of tensors.

``compile`` and ``distributed`` tests need the parameters as plain function arguments (traced
inputs, or DTensors sharded over a mesh) and the distribution rebuilt from them: composite
examples hold distributions as parameters, whose own tensors are flattened recursively.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from torchprob import Independent, MixtureSameFamily, TransformedDistribution
from torchprob.distribution import Distribution

Builder = Callable[[list[Tensor], "bool | None"], Distribution]


def first_per_class(examples: list) -> list:
    """The first example of each distribution class, in table order."""
    seen: set[type] = set()
    firsts = []
    for ex in examples:
        if ex.cls not in seen:
            seen.add(ex.cls)
            firsts.append(ex)
    return firsts


def constructor_kwargs(d: Distribution) -> dict[str, Any]:
    """The keywords that rebuild ``d``: its parameter table, or for the composites (which have
    none) the distributions and settings they wrap."""
    kwargs = d._init_kwargs()
    if kwargs:
        return kwargs
    if isinstance(d, Independent):
        return {
            "base_distribution": d.base_dist,
            "reinterpreted_batch_ndims": d.reinterpreted_batch_ndims,
        }
    if isinstance(d, MixtureSameFamily):
        return {
            "mixture_distribution": d.mixture_distribution,
            "component_distribution": d.component_distribution,
        }
    if isinstance(d, TransformedDistribution):
        return {"base_distribution": d.base_dist, "transforms": d.transforms}
    return {}


def flatten(cls: type, params: dict[str, Any]) -> tuple[list[Tensor], Builder]:
    """The tensors in ``params`` (recursing into distributions) and a function that rebuilds
    ``cls(**params)`` from replacements for them, passing ``validate_args`` to every level."""
    leaves: list[Tensor] = []
    parts: list[tuple[str, str, Any]] = []
    for name, value in params.items():
        if isinstance(value, Tensor):
            parts.append((name, "tensor", len(leaves)))
            leaves.append(value)
        elif isinstance(value, Distribution):
            inner, build = flatten(type(value), constructor_kwargs(value))
            parts.append((name, "dist", (len(leaves), len(inner), build)))
            leaves.extend(inner)
        else:
            parts.append((name, "const", value))

    def rebuild(new: list[Tensor], validate_args: bool | None = None) -> Distribution:
        kwargs: dict[str, Any] = {}
        for name, kind, spec in parts:
            if kind == "tensor":
                kwargs[name] = new[spec]
            elif kind == "dist":
                start, count, build = spec
                kwargs[name] = build(new[start : start + count], validate_args)
            else:
                kwargs[name] = spec
        return cls(**kwargs, validate_args=validate_args)

    return leaves, rebuild
