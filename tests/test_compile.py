"""Every distribution traces under ``torch.compile(fullgraph=True)``: a function that builds it
from tensors, evaluates ``log_prob`` and draws a sample has no graph break, with validation off
and on, and returns what eager mode returns."""

from __future__ import annotations

import pytest
import torch

import torchprob as tp

from .examples import EXAMPLES, Example
from .rebuild import first_per_class, flatten


def _first_per_class() -> list:
    return [pytest.param(ex, id=ex.cls.__name__) for ex in first_per_class(EXAMPLES)]


def _step(ex: Example, validate: bool):
    leaves, rebuild = flatten(ex.cls, ex.params)

    def step(value: torch.Tensor, *tensors: torch.Tensor):
        d = rebuild(list(tensors), validate)
        draw = d.rsample() if d.has_rsample else d.sample()
        return d.log_prob(value), draw

    return leaves, rebuild, step


@pytest.mark.slow
@pytest.mark.parametrize("validate", [False, True], ids=["validate-off", "validate-on"])
@pytest.mark.parametrize("ex", _first_per_class())
def test_fullgraph(ex: Example, validate: bool):
    leaves, rebuild, step = _step(ex, validate)
    eager = rebuild(leaves, validate)
    value = eager.sample(generator=torch.Generator().manual_seed(0))
    torch._dynamo.reset()
    compiled = torch.compile(step, fullgraph=True, backend="eager")  # raises on a graph break
    log_prob, draw = compiled(value, *leaves)
    torch.testing.assert_close(log_prob, eager.log_prob(value), rtol=1e-12, atol=1e-12)
    assert draw.shape == eager._extended_shape()


def test_transformed_distribution_fullgraph():
    transforms = [tp.transforms.AffineTransform(1.0, 2.0), tp.transforms.ExpTransform()]

    def step(loc, scale, value):
        d = tp.TransformedDistribution(tp.Normal(loc, scale), transforms, validate_args=True)
        return d.log_prob(value), d.rsample()

    torch._dynamo.reset()
    compiled = torch.compile(step, fullgraph=True, backend="eager")
    args = (torch.zeros(3), torch.ones(3), torch.full((3,), 2.0))
    log_prob, _ = compiled(*args)
    torch.testing.assert_close(log_prob, step(*args)[0])


def test_compiled_validation_raises_and_stays_on():
    def step(scale):
        return tp.Normal(0.0, scale, validate_args=True).log_prob(torch.zeros(()))

    torch._dynamo.reset()
    compiled = torch.compile(step, fullgraph=True, backend="eager")
    assert torch.isfinite(compiled(torch.tensor(2.0)))
    with pytest.raises(RuntimeError, match="parameter scale .* Normal .* GreaterThan"):
        compiled(torch.tensor(-1.0))
    # compiling changed no process-wide default: eager validation still raises ValueError
    assert tp.Distribution._validate_args
    with pytest.raises(ValueError, match="scale"):
        tp.Normal(0.0, -1.0)


@pytest.mark.slow
def test_inductor_matches_eager():
    def step(loc, scale, value):
        return tp.Normal(loc, scale, validate_args=True).log_prob(value)

    torch._dynamo.reset()
    compiled = torch.compile(step, fullgraph=True)
    args = (torch.zeros(100), torch.full((100,), 2.0), torch.linspace(-3, 3, 100))
    torch.testing.assert_close(compiled(*args), step(*args))
