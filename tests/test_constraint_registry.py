"""torchprob.constraint_registry: biject_to / transform_to land in their constraint, are
bijective where promised, agree with torch.distributions, and dispatch like torch."""

from __future__ import annotations

import pytest
import torch
import torch.distributions.constraint_registry as TR
import torch.distributions.constraints as TC
import torch.distributions.transforms as TT

import torchprob.constraints as C
import torchprob.transforms as PT
from torchprob.constraint_registry import ConstraintRegistry, biject_to, transform_to

F64 = torch.float64


def t64(x):
    return torch.as_tensor(x, dtype=F64)


# (label, constraint builder taking the constraints module, unconstrained input shape)
CONSTRAINTS = [
    ("real", lambda m: m.real, (4, 3)),
    ("real_vector", lambda m: m.real_vector, (4, 3)),
    ("positive", lambda m: m.positive, (4, 3)),
    ("nonnegative", lambda m: m.nonnegative, (4, 3)),
    ("greater_than", lambda m: m.greater_than(-1.5), (4, 3)),
    ("greater_than-tensor", lambda m: m.greater_than(t64([0.0, 1.0, 2.0])), (4, 3)),
    ("greater_than_eq", lambda m: m.greater_than_eq(2.0), (4, 3)),
    ("less_than", lambda m: m.less_than(3.0), (4, 3)),
    ("less_than-tensor", lambda m: m.less_than(t64([-1.0, 0.0, 5.0])), (4, 3)),
    ("interval", lambda m: m.interval(-2.0, 5.0), (4, 3)),
    ("interval-tensor", lambda m: m.interval(t64([0.0, -1.0, 2.0]), t64([1.0, 1.0, 9.0])), (4, 3)),
    ("half_open_interval", lambda m: m.half_open_interval(0.0, 2.0), (4, 3)),
    ("unit_interval", lambda m: m.unit_interval, (4, 3)),
    ("simplex", lambda m: m.simplex, (4, 3)),
    ("lower_cholesky", lambda m: m.lower_cholesky, (2, 3, 3)),
    ("positive_definite", lambda m: m.positive_definite, (2, 3, 3)),
    ("positive_semidefinite", lambda m: m.positive_semidefinite, (2, 3, 3)),
    ("corr_cholesky", lambda m: m.corr_cholesky, (2, 6)),
    ("independent", lambda m: m.independent(m.positive, 1), (4, 3)),
    ("independent-interval", lambda m: m.independent(m.interval(-1.0, 1.0), 2), (4, 3)),
    (
        "cat",
        lambda m: m.cat([m.positive, m.real, m.unit_interval], dim=-1, lengths=[1, 1, 1]),
        (4, 3),
    ),
    (
        "cat-dim0",
        lambda m: m.cat([m.less_than(0.0), m.greater_than(1.0)], dim=0, lengths=[2, 2]),
        (4, 3),
    ),
    ("stack", lambda m: m.stack([m.positive, m.real, m.interval(0.0, 3.0)], dim=1), (4, 3)),
]

REGISTRIES = {
    "biject_to": (biject_to, TR.biject_to),
    "transform_to": (transform_to, TR.transform_to),
}


def _cases():
    out = []
    for name, (_, theirs) in REGISTRIES.items():
        for label, build, shape in CONSTRAINTS:
            try:
                theirs(build(TC))
            except NotImplementedError:
                continue  # torch has no transform for it: checked in test_same_coverage_as_torch
            out.append(pytest.param(name, build, shape, id=f"{name}-{label}"))
    return out


def _x(shape, scale=3.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(shape, generator=gen, dtype=F64)


@pytest.mark.parametrize("registry, build, shape", _cases())
def test_lands_in_constraint_and_matches_torch(registry, build, shape):
    ours, theirs = REGISTRIES[registry]
    c = build(C)
    t = ours(c)
    assert isinstance(t, PT.Transform)
    for seed in range(3):
        x = _x(shape, seed=seed)
        y = t(x)
        assert y.dtype == F64
        ok = c.check(y)
        assert bool(ok.all()), (c, y)
        ref = theirs(build(TC))(x)
        torch.testing.assert_close(y, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "registry, build, shape", [p for p in _cases() if p.values[0] == "biject_to"]
)
def test_biject_to_is_bijective_with_a_log_det(registry, build, shape):
    t = biject_to(build(C))
    assert t.bijective
    x = _x(shape, scale=1.0)
    y = t(x)
    torch.testing.assert_close(t.inv(y), x, rtol=1e-9, atol=1e-10)
    ldj = t.log_abs_det_jacobian(x, y)
    assert torch.isfinite(ldj).all()
    assert ldj.shape == x.shape[: x.dim() - t.domain.event_dim]


@pytest.mark.parametrize(
    "registry, build, shape", [p for p in _cases() if p.values[0] == "transform_to"]
)
def test_transform_to_pseudo_inverse(registry, build, shape):
    t = transform_to(build(C))
    y = t(_x(shape, scale=1.0))
    torch.testing.assert_close(t(t.inv(y)), y, rtol=1e-9, atol=1e-10)


def _public_constraints(module):
    """One instance of every public constraint of ``module`` (factories called with sample
    arguments), keyed by name."""
    out = {}
    for name in TC.__all__:
        obj = getattr(module, name)
        if name in (
            "Constraint",
            "MixtureSameFamilyConstraint",
            "dependent_property",
            "is_dependent",
        ):
            continue
        if name in (
            "greater_than",
            "greater_than_eq",
            "less_than",
            "integer_interval",
            "interval",
            "half_open_interval",
            "multinomial",
        ):
            args = {
                "integer_interval": (0, 3),
                "interval": (0.0, 2.0),
                "half_open_interval": (0.0, 2.0),
            }
            obj = obj(*args.get(name, (1.0,)))
        elif name == "independent":
            obj = obj(module.positive, 1)
        elif name in ("cat", "stack"):
            obj = obj([module.positive, module.real])
        out[name] = obj
    return out


@pytest.mark.parametrize("registry", list(REGISTRIES))
def test_same_coverage_as_torch(registry):
    ours, theirs = REGISTRIES[registry]
    ours_c, theirs_c = _public_constraints(C), _public_constraints(TC)
    for name in ours_c:
        try:
            theirs(theirs_c[name])
        except NotImplementedError:
            with pytest.raises(NotImplementedError, match="Cannot transform"):
                ours(ours_c[name])
        else:
            assert isinstance(ours(ours_c[name]), PT.Transform), name


def test_positive_is_a_single_exp():
    assert isinstance(biject_to(C.positive), PT.ExpTransform)
    assert isinstance(transform_to(C.nonnegative), PT.ExpTransform)
    assert isinstance(biject_to(C.greater_than(1.0)), PT.ComposeTransform)
    assert isinstance(biject_to(C.unit_interval), PT.SigmoidTransform)
    assert isinstance(biject_to(C.simplex), PT.StickBreakingTransform)
    assert isinstance(transform_to(C.simplex), PT.SoftmaxTransform)
    assert biject_to(C.real) is PT.identity_transform


def test_register_forms_and_dispatch():
    registry = ConstraintRegistry()

    class MyConstraint(C.Constraint):
        def check(self, value):
            return value > 0

    class Narrower(MyConstraint):
        pass

    @registry.register(MyConstraint)
    def factory(constraint):
        return PT.ExpTransform()

    assert factory.__name__ == "factory"  # the decorator returns the factory
    assert isinstance(registry(MyConstraint()), PT.ExpTransform)
    assert isinstance(registry(Narrower()), PT.ExpTransform)  # found through the class hierarchy
    # a more specific registration wins, even after a lookup was cached
    registry.register(Narrower(), lambda c: PT.SoftplusTransform())
    assert isinstance(registry(Narrower()), PT.SoftplusTransform)
    assert isinstance(registry(MyConstraint()), PT.ExpTransform)
    with pytest.raises(NotImplementedError, match="Cannot transform _Real constraints"):
        registry(C.real)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        registry.register(int, factory)
    with pytest.raises(TypeError):
        registry.register(TC.positive, factory)  # torch's constraints are not ours


def test_global_registration_is_visible():
    class Odd(C.Constraint):
        def check(self, value):
            return value % 2 == 1

    transform_to.register(Odd, lambda c: PT.AffineTransform(1.0, 2.0))
    try:
        assert isinstance(transform_to(Odd()), PT.AffineTransform)
    finally:
        del transform_to._registry[Odd]
        transform_to._resolved.clear()
    with pytest.raises(NotImplementedError):
        biject_to(Odd())


def test_torch_constraint_objects_are_served():
    t = biject_to(TC.greater_than(2.0))
    y = t(_x((5,)))
    assert bool((y > 2.0).all())
    t = transform_to(TC.independent(TC.interval(0.0, 3.0), 1))
    assert isinstance(t, PT.IndependentTransform)
    assert bool(C.independent(C.interval(0.0, 3.0), 1).check(t(_x((2, 4)))).all())
    with pytest.raises(NotImplementedError):
        biject_to(TC.boolean)


def test_parameters_flow_through_with_gradients():
    low = t64(1.0).requires_grad_()
    y = transform_to(C.greater_than(low))(t64([0.0, 1.0]))
    (grad,) = torch.autograd.grad(y.sum(), low)
    assert grad.item() == 2.0
    t = biject_to(C.interval(t64(0.0), t64(2.0)))
    assert isinstance(t.parts[1], PT.AffineTransform)
    assert TT  # torch's transforms module stays importable alongside ours
